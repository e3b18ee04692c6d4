//! The Partner Portal's sites with their people, added and edited by
//! operators (who choose the partner) and the partner's portal admins.

use askama::Template;
use axum::extract::{Path, Query, State};
use starship_core::authz;
use starship_core::portal::PortalLevel;

use super::portal::{choices, level_name, own_partner, PartnerQuery};
use super::widgets::Choice;
use super::{page, refused, see_other, url_encode, Fields, FormErrors, Layout, Section, WebPost, WebResult, WebUser};
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;

struct SiteRow {
    id: String,
    name: String,
    location: String,
    contacts: Vec<SiteContactRow>,
    /// The edit form, open when refused.
    values: Fields,
    errors: FormErrors,
}

struct SiteContactRow {
    name: String,
    email: String,
    on_survey: bool,
}

impl SiteRow {
    fn value<'a>(&'a self, name: &str, stored: &'a str) -> &'a str {
        self.values.opt(name).unwrap_or(stored)
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
    values: Fields,
    errors: FormErrors,
    notice: Option<&'static str>,
}

impl SitesPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name)
    }
}

enum SiteRefusal<'a> {
    Create(FormErrors, &'a Fields),
    Edit(&'a str, FormErrors, &'a Fields),
}

fn sites_url(viewer: &WebUser, partner: &str, done: &str) -> String {
    if viewer.principal.operator {
        format!("/portal/sites?partner_id={}&done={done}", url_encode(partner))
    } else {
        format!("/portal/sites?done={done}")
    }
}

async fn sites_page(
    state: &AppState,
    viewer: &WebUser,
    partner: Option<&str>,
    done: Option<&str>,
    refusal: Option<SiteRefusal<'_>>,
) -> WebResult {
    let operator = viewer.principal.operator;
    let partner = match partner.filter(|p| !p.is_empty()) {
        Some(p) if operator => Some(p.to_string()),
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
            let (values, errors) = match &refusal {
                Some(SiteRefusal::Edit(id, errors, fields)) if *id == site.id => ((*fields).clone(), errors.clone()),
                _ => (Fields::default(), FormErrors::default()),
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
                values,
                errors,
            }
        })
        .collect();
    let (values, errors) = match &refusal {
        Some(SiteRefusal::Create(errors, fields)) => ((*fields).clone(), errors.clone()),
        _ => (Fields::default(), FormErrors::default()),
    };
    let view = SitesPage {
        layout: viewer.layout(state, "Partner Portal: Sites", Section::Portal),
        csrf: viewer.csrf.clone(),
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
        partners,
        partner_id: partner.unwrap_or_default(),
        sites,
        may_manage,
        values,
        errors,
        notice: match done {
            Some("added") => Some("Site added."),
            Some("saved") => Some("Site saved."),
            _ => None,
        },
    };
    if refusal.is_some() {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn sites(State(state): State<AppState>, viewer: WebUser, Query(query): Query<PartnerQuery>) -> WebResult {
    sites_page(&state, &viewer, query.partner_id.as_deref(), query.done.as_deref(), None).await
}

pub async fn add_site(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner = form.opt("partner_id").filter(|p| !p.is_empty());
    match ops::sites::add_site(&state, &viewer.principal, partner, form.get("name"), form.get("location")).await {
        Ok(site) => see_other(&sites_url(viewer, &site.partner_id, "added")),
        Err(e @ (OperationError::Invalid(_) | OperationError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["name", "location"])?;
            sites_page(&state, viewer, partner, None, Some(SiteRefusal::Create(errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_site(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    match ops::sites::edit_site(&state, &viewer.principal, &id, form.get("name"), form.get("location")).await {
        Ok(site) => see_other(&sites_url(viewer, &site.partner_id, "saved")),
        Err(e @ (OperationError::Invalid(_) | OperationError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["name", "location"])?;
            let partner = form.opt("partner_id").filter(|p| !p.is_empty());
            sites_page(&state, viewer, partner, None, Some(SiteRefusal::Edit(&id, errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}
