//! The Partner Portal's appliances: drain and BGP edit for the partner's
//! people; registration (one, or a CSV) and retirement for operators, who
//! choose the partner.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::ids::{ApplianceId, PartnerId};
use starship_core::portal::ApplianceStatus;
use starship_core::portal::{PortalAction, PortalLevel};

use super::page::AppliancesDone;
use super::portal::{choices, level_name, own_partner, PartnerQuery};
use super::widgets::Choice;
use super::{
    capitalised, page, refused, see_other, when, Action, Button, FormErrors, Layout, Page, Section, WebPost, WebResult,
    WebUser,
};
use crate::ops::appliances::BgpInput;
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;

struct ApplianceRow {
    id: ApplianceId,
    serial: String,
    model: String,
    site: String,
    drained: bool,
    retired: bool,
    changed: String,
    bgp: Option<BgpRow>,
    versions: usize,
    /// Registered, drained, back in service, retired: oldest first.
    history: Vec<EventRow>,
    form: BgpForm,
}

struct EventRow {
    what: &'static str,
    by: String,
    at: String,
}

struct BgpRow {
    version: i64,
    peer_asn: i64,
    ipv4: String,
    ipv6: String,
    at: String,
}

struct BgpForm {
    peer_asn: String,
    ipv4: String,
    ipv6: String,
    errors: FormErrors,
    open: bool,
}

/// What operators see besides the list: the partner chosen, and the forms
/// that register appliances one by one or from a CSV.
struct Registration {
    partners: Vec<Choice>,
    sites: Vec<Choice>,
    /// The register form as submitted, when refused.
    values: RegisterForm,
    errors: FormErrors,
    csv: String,
    csv_errors: FormErrors,
}

/// One appliance to register at a partner's site (operators).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct RegisterForm {
    partner_id: String,
    site_id: String,
    serial: String,
    model: String,
}

/// An appliance's BGP session: the peer's AS number as typed, and the
/// neighbour addresses.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BgpSessionForm {
    peer_asn: String,
    neighbor_ipv4: String,
    neighbor_ipv6: String,
}

#[derive(Template)]
#[template(path = "portal_appliances.html")]
struct AppliancesPage {
    layout: Layout,
    csrf: String,
    appliances: Vec<ApplianceRow>,
    self_service: bool,
    level: String,
    notice: Option<String>,
    /// The partner shown, in the forms' addresses (operators).
    partner_id: String,
    registration: Option<Registration>,
}

/// A form of the page the operation refused, shown again with its errors.
enum Refused<'a> {
    Bgp(&'a str, FormErrors, &'a BgpSessionForm),
    Register(FormErrors, &'a RegisterForm),
    Import(FormErrors, &'a str),
}

/// The appliances page of a partner: operators name it, others see their own.
fn appliances_page_of(viewer: &WebUser, partner: &PartnerId, done: AppliancesDone) -> Page {
    Page::Appliances { partner: viewer.principal.operator.then(|| partner.clone()), done: Some(done) }
}

fn event_name(event: &str) -> &'static str {
    match event {
        "registered" => "Registered",
        "drained" => "Drained",
        "undrained" => "Back in service",
        "retired" => "Retired",
        _ => "Changed",
    }
}

async fn appliances_page(
    state: &AppState,
    viewer: &WebUser,
    partner: Option<&PartnerId>,
    done: Option<AppliancesDone>,
    refused_on: Option<Refused<'_>>,
) -> WebResult {
    let operator = viewer.principal.operator;
    let partner = match partner.filter(|p| !p.is_empty()) {
        Some(p) if operator => Some(p.clone()),
        _ if operator => None,
        _ => Some(own_partner(viewer)?),
    };
    let partners = if operator {
        let all = ops::platform::partners(state, &viewer.principal).await?;
        choices(all.into_iter().map(|p| (p.id, p.name)), &[partner.as_deref().unwrap_or_default()])
    } else {
        Vec::new()
    };
    let (sites, listed) = match &partner {
        Some(p) => (
            ops::sites::sites(state, &viewer.principal, p).await?,
            ops::appliances::appliances(state, &viewer.principal, p).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let self_service = partner
        .as_ref()
        .is_some_and(|p| authz::portal(&viewer.principal, PortalAction::ApplianceSelfService, p, None).is_ok());
    let bgp_refusal = match &refused_on {
        Some(Refused::Bgp(id, errors, fields)) => Some((*id, errors.clone(), *fields)),
        _ => None,
    };
    let appliances = listed
        .into_iter()
        .map(|listed| {
            let a = listed.appliance;
            let versions = listed.versions;
            let bgp = versions.first().map(|c| BgpRow {
                version: c.version,
                peer_asn: c.peer_asn,
                ipv4: c.neighbor_ipv4.clone().unwrap_or_default(),
                ipv6: c.neighbor_ipv6.clone().unwrap_or_default(),
                at: when(c.created_at),
            });
            let form = match bgp_refusal.as_ref().filter(|(id, _, _)| *id == a.id) {
                Some((_, errors, submitted)) => BgpForm {
                    peer_asn: submitted.peer_asn.clone(),
                    ipv4: submitted.neighbor_ipv4.clone(),
                    ipv6: submitted.neighbor_ipv6.clone(),
                    errors: errors.clone(),
                    open: true,
                },
                None => BgpForm {
                    peer_asn: bgp.as_ref().map(|b| b.peer_asn.to_string()).unwrap_or_default(),
                    ipv4: bgp.as_ref().map(|b| b.ipv4.clone()).unwrap_or_default(),
                    ipv6: bgp.as_ref().map(|b| b.ipv6.clone()).unwrap_or_default(),
                    errors: FormErrors::default(),
                    open: false,
                },
            };
            ApplianceRow {
                site: sites.iter().find(|s| s.id == a.site_id).map_or_else(String::new, |s| s.name.clone()),
                drained: a.status == ApplianceStatus::Drained,
                retired: a.retired_at.is_some(),
                changed: a.retired_at.or(a.status_changed_at).map(when).unwrap_or_default(),
                versions: versions.len(),
                history: listed
                    .events
                    .into_iter()
                    .map(|e| EventRow { what: event_name(&e.event), by: e.by.unwrap_or_default(), at: when(e.at) })
                    .collect(),
                id: a.id,
                serial: a.serial,
                model: a.model,
                bgp,
                form,
            }
        })
        .collect();
    let refused_now = refused_on.is_some();
    let registration = (operator).then(|| {
        let (values, errors) = match &refused_on {
            Some(Refused::Register(errors, form)) => ((*form).clone(), errors.clone()),
            _ => (RegisterForm::default(), FormErrors::default()),
        };
        let (csv, csv_errors) = match &refused_on {
            Some(Refused::Import(errors, csv)) => (csv.to_string(), errors.clone()),
            _ => (String::new(), FormErrors::default()),
        };
        Registration {
            sites: choices(
                sites.iter().map(|s| (s.id.clone(), format!("{} ({})", s.name, s.location))),
                &[values.site_id.as_str()],
            ),
            partners,
            values,
            errors,
            csv,
            csv_errors,
        }
    });
    let view = AppliancesPage {
        layout: viewer.layout(state, "Partner Portal: Appliances", Section::Portal),
        csrf: viewer.csrf.clone(),
        appliances,
        self_service,
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
        notice: done.map(|done| match done {
            AppliancesDone::Drained => "The appliance is drained for maintenance.".into(),
            AppliancesDone::Serving => "The appliance is back in service.".into(),
            AppliancesDone::Bgp => "BGP configuration saved as a new version.".into(),
            AppliancesDone::Registered => "Appliance registered.".into(),
            AppliancesDone::Retired => "Appliance retired.".into(),
            AppliancesDone::Imported(count) => format!("{count} appliances registered from the CSV."),
        }),
        partner_id: partner.map(PartnerId::into_string).unwrap_or_default(),
        registration,
    };
    if refused_now {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn appliances(
    State(state): State<AppState>,
    viewer: WebUser,
    Query(query): Query<PartnerQuery>,
) -> WebResult {
    appliances_page(
        &state,
        &viewer,
        query.partner_id.as_ref(),
        query.done.as_deref().and_then(|d| d.parse().ok()),
        None,
    )
    .await
}

/// The partner an appliance belongs to, for the address to return to.
async fn partner_of_appliance(
    state: &AppState,
    viewer: &WebUser,
    id: &ApplianceId,
) -> Result<PartnerId, OperationError> {
    Ok(ops::appliances::appliance(state, &viewer.principal, id).await?.partner_id)
}

/// Drain, or put back in service.
#[derive(Deserialize)]
pub struct DrainForm {
    action: DrainAction,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum DrainAction {
    Drain,
    Undrain,
}

pub async fn drain(State(state): State<AppState>, Path(id): Path<ApplianceId>, post: WebPost<DrainForm>) -> WebResult {
    let viewer = &post.user;
    let drained = post.form.action == DrainAction::Drain;
    let appliance = ops::appliances::set_drained(&state, &viewer.principal, &viewer.actor(), &id, drained).await?;
    let done = if drained { AppliancesDone::Drained } else { AppliancesDone::Serving };
    see_other(appliances_page_of(viewer, &appliance.partner_id, done))
}

pub async fn bgp(
    State(state): State<AppState>,
    Path(id): Path<ApplianceId>,
    post: WebPost<BgpSessionForm>,
) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let outcome = match form.peer_asn.trim().parse::<i64>() {
        Ok(peer_asn) => {
            let input = BgpInput {
                peer_asn,
                neighbor_ipv4: Some(form.neighbor_ipv4.clone()),
                neighbor_ipv6: Some(form.neighbor_ipv6.clone()),
            };
            ops::appliances::update_bgp(&state, &viewer.principal, &viewer.actor(), &id, &input).await.map(|_| ())
        }
        Err(_) => Err(starship_core::FieldError::new("peer_asn", "must be a number, e.g. 64512").into()),
    };
    match outcome {
        Ok(()) => {
            let partner = partner_of_appliance(&state, viewer, &id).await?;
            see_other(appliances_page_of(viewer, &partner, AppliancesDone::Bgp))
        }
        Err(e @ OperationError::Invalid(_)) => {
            let errors = FormErrors::from_error(e, &["peer_asn", "neighbor_ipv4", "neighbor_ipv6"])?;
            let partner = partner_of_appliance(&state, viewer, &id).await?;
            appliances_page(&state, viewer, Some(&partner), None, Some(Refused::Bgp(&id, errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn register(State(state): State<AppState>, post: WebPost<RegisterForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let input = ops::appliances::ApplianceInput {
        site_id: form.site_id.clone(),
        serial: form.serial.clone(),
        model: form.model.clone(),
    };
    let partner = &PartnerId::from(form.partner_id.as_str());
    if input.site_id.is_empty() {
        let errors = FormErrors::field("site_id", "choose the site");
        return appliances_page(&state, viewer, Some(partner), None, Some(Refused::Register(errors, form))).await;
    }
    match ops::appliances::register_appliance(&state, &viewer.principal, &viewer.actor(), &input).await {
        Ok(appliance) => see_other(appliances_page_of(viewer, &appliance.partner_id, AppliancesDone::Registered)),
        Err(e @ (OperationError::Invalid(_) | OperationError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["site_id", "serial", "model"])?;
            appliances_page(&state, viewer, Some(partner), None, Some(Refused::Register(errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Appliances from a CSV, at a partner's sites.
#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    csv: String,
}

pub async fn import(State(state): State<AppState>, post: WebPost<ImportForm>) -> WebResult {
    let viewer = &post.user;
    let partner = &PartnerId::from(post.form.partner_id.as_str());
    let csv = post.form.csv.as_str();
    match ops::appliances::import_appliances(&state, &viewer.principal, &viewer.actor(), Some(partner), csv).await {
        Ok(done) => see_other(appliances_page_of(viewer, partner, AppliancesDone::Imported(done.len()))),
        Err(OperationError::Invalid(invalid)) => {
            // Every row's problem, in the file's order, as "Line N, column: …".
            let errors = FormErrors { fields: Vec::new(), general: invalid.0.iter().map(import_error_line).collect() };
            appliances_page(&state, viewer, Some(partner), None, Some(Refused::Import(errors, csv))).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `rows[3].serial` "must be …" → "Line 3, serial: must be …".
fn import_error_line(e: &starship_core::FieldError) -> String {
    match e.field.strip_prefix("rows[").and_then(|rest| rest.split_once(']')) {
        Some((line, rest)) => {
            let column = rest.trim_start_matches('.');
            if column.is_empty() {
                format!("Line {line}: {}", e.reason)
            } else {
                format!("Line {line}, {column}: {}", e.reason)
            }
        }
        None => capitalised(&e.reason),
    }
}

pub async fn retire(State(state): State<AppState>, Path(id): Path<ApplianceId>, post: WebPost<Button>) -> WebResult {
    let viewer = &post.user;
    let appliance = ops::appliances::retire_appliance(&state, &viewer.principal, &viewer.actor(), &id).await?;
    see_other(appliances_page_of(viewer, &appliance.partner_id, AppliancesDone::Retired))
}
