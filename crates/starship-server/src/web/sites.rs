//! The Partner Portal's sites with their people, added and edited by
//! operators (who choose the partner) and the partner's portal admins.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::ids::{PartnerId, SiteId};
use starship_core::portal::PortalLevel;

use super::page::SitesDone;
use super::portal::{choices, level_name, own_partner, PartnerQuery};
use super::widgets::Choice;
use super::{page, refused, see_other, Action, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;

struct SiteRow {
    id: SiteId,
    name: String,
    location: String,
    contacts: Vec<SiteContactRow>,
    /// The edit form as submitted, open when refused.
    submitted: Option<SiteForm>,
    errors: FormErrors,
}

struct SiteContactRow {
    name: String,
    email: String,
    on_survey: bool,
}

impl SiteRow {
    fn name_shown(&self) -> &str {
        self.submitted.as_ref().map_or(&self.name, |f| &f.name)
    }

    fn location_shown(&self) -> &str {
        self.submitted.as_ref().map_or(&self.location, |f| &f.location)
    }
}

/// A site added or edited; operators also say whose.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SiteForm {
    partner_id: String,
    name: String,
    location: String,
}

impl SiteForm {
    fn partner(&self) -> Option<PartnerId> {
        Some(PartnerId::from(self.partner_id.as_str())).filter(|p| !p.is_empty())
    }
}

#[derive(Template)]
#[template(path = "portal_sites.html")]
struct SitesPage {
    layout: Layout,
    csrf: String,
    level: String,
    partners: Vec<Choice>,
    partner_id: String,
    sites: Vec<SiteRow>,
    may_manage: bool,
    /// The new site form as submitted, when refused.
    values: SiteForm,
    errors: FormErrors,
    notice: Option<&'static str>,
}

enum SiteRefusal<'a> {
    Create(FormErrors, &'a SiteForm),
    Edit(&'a str, FormErrors, &'a SiteForm),
}

/// The sites page of a partner: operators name it, others see their own.
fn sites_page_of(viewer: &WebUser, partner: &PartnerId, done: SitesDone) -> Page {
    Page::Sites { partner: viewer.principal.operator.then(|| partner.clone()), done: Some(done) }
}

async fn sites_page(
    state: &AppState,
    viewer: &WebUser,
    partner: Option<&PartnerId>,
    done: Option<SitesDone>,
    refusal: Option<SiteRefusal<'_>>,
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
    let listed = match &partner {
        Some(p) => ops::sites::sites_with_contacts(state, &viewer.principal, p).await?,
        None => Vec::new(),
    };
    let may_manage = partner.as_ref().is_some_and(|p| authz::add_site(&viewer.principal, p).is_ok());
    let sites = listed
        .into_iter()
        .map(|(site, people)| {
            let (submitted, errors) = match &refusal {
                Some(SiteRefusal::Edit(id, errors, form)) if *id == site.id => (Some((*form).clone()), errors.clone()),
                _ => (None, FormErrors::default()),
            };
            SiteRow {
                contacts: people
                    .into_iter()
                    .map(|c| SiteContactRow {
                        name: format!("{} {}", c.first_name, c.last_name),
                        email: c.email,
                        on_survey: c.on_survey,
                    })
                    .collect(),
                id: site.id,
                name: site.name,
                location: site.location,
                submitted,
                errors,
            }
        })
        .collect();
    let (values, errors) = match &refusal {
        Some(SiteRefusal::Create(errors, form)) => ((*form).clone(), errors.clone()),
        _ => (SiteForm::default(), FormErrors::default()),
    };
    let view = SitesPage {
        layout: viewer.layout(state, "Partner Portal: Sites", Section::Portal),
        csrf: viewer.csrf.clone(),
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
        partners,
        partner_id: partner.map(PartnerId::into_string).unwrap_or_default(),
        sites,
        may_manage,
        values,
        errors,
        notice: done.map(|done| match done {
            SitesDone::Added => "Site added.",
            SitesDone::Saved => "Site saved.",
        }),
    };
    if refusal.is_some() {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn sites(State(state): State<AppState>, viewer: WebUser, Query(query): Query<PartnerQuery>) -> WebResult {
    sites_page(&state, &viewer, query.partner_id.as_ref(), query.done.as_deref().and_then(|d| d.parse().ok()), None)
        .await
}

pub async fn add_site(State(state): State<AppState>, post: WebPost<SiteForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner = form.partner();
    let partner = partner.as_ref();
    match ops::sites::add_site(&state, &viewer.principal, partner, &form.name, &form.location).await {
        Ok(site) => see_other(sites_page_of(viewer, &site.partner_id, SitesDone::Added)),
        Err(e @ (OperationError::Invalid(_) | OperationError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["name", "location"])?;
            sites_page(&state, viewer, partner, None, Some(SiteRefusal::Create(errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_site(State(state): State<AppState>, Path(id): Path<SiteId>, post: WebPost<SiteForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    match ops::sites::edit_site(&state, &viewer.principal, &id, &form.name, &form.location).await {
        Ok(site) => see_other(sites_page_of(viewer, &site.partner_id, SitesDone::Saved)),
        Err(e @ (OperationError::Invalid(_) | OperationError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["name", "location"])?;
            sites_page(&state, viewer, form.partner().as_ref(), None, Some(SiteRefusal::Edit(&id, errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}
