//! The Applications tab: for each application the viewer admins, the
//! partner's people holding a role in it (or, toggled, everyone) with
//! their roles and status, filtered by role, production and status, with
//! the total and previous and next pages.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::ids::{ApplicationKey, PartnerId, UserId};

use super::page::{ApplicationFilter, Cursor};
use super::widgets::{production_labels, Choice};
use super::{page, Action, Layout, Page, Section, WebResult, WebUser};
use crate::ops::access::{self, PageQuery};
use crate::ops::OperationError;
use crate::state::AppState;
use starship_store::users::StatusFilter;

struct AppLink {
    key: ApplicationKey,
    name: String,
    description: String,
}

fn visible_applications(state: &AppState, viewer: &WebUser) -> Vec<AppLink> {
    state
        .catalogue
        .applications
        .iter()
        .filter(|a| authz::applications_tab(&viewer.principal, &a.key).is_ok())
        .map(|a| AppLink { key: a.key.clone(), name: a.name.clone(), description: a.description.clone() })
        .collect()
}

#[derive(Template)]
#[template(path = "applications.html")]
struct IndexPage {
    layout: Layout,
    applications: Vec<AppLink>,
}

pub async fn index(State(state): State<AppState>, viewer: WebUser) -> WebResult {
    let applications = visible_applications(&state, &viewer);
    page(&IndexPage { layout: viewer.layout(&state, "Applications", Section::Applications), applications })
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    partner_id: Option<PartnerId>,
    #[serde(default)]
    everyone: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    production: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

struct Row {
    id: UserId,
    name: String,
    email: String,
    status: &'static str,
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "application_users.html")]
struct UsersPage {
    layout: Layout,
    applications: Vec<AppLink>,
    key: ApplicationKey,
    name: String,
    q: String,
    rows: Vec<Row>,
    total: i64,
    everyone: bool,
    previous: Option<String>,
    next: Option<String>,
    partners: Vec<Choice>,
    roles: Vec<Choice>,
    productions: Vec<Choice>,
    statuses: Vec<Choice>,
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

const PAGE_SIZE: i64 = 25;

pub async fn users_of(
    State(state): State<AppState>,
    viewer: WebUser,
    Path(key): Path<String>,
    Query(query): Query<UsersQuery>,
) -> WebResult {
    let app = state.catalogue.application(&key).ok_or(OperationError::NotFound)?;
    authz::applications_tab(&viewer.principal, &app.key)?;
    let productions = crate::ops::platform::productions(&state).await?;
    let partner_list = if viewer.principal.operator {
        crate::ops::platform::partners(&state, &viewer.principal).await?
    } else {
        vec![]
    };
    let partner_id = match (&query.partner_id, viewer.principal.operator) {
        (Some(p), true) if !p.is_empty() => Some(p.clone()),
        (_, true) => partner_list.first().map(|p| p.id.clone()),
        (_, false) => None,
    };
    let labels = production_labels(&productions);
    let q = query.q.trim().to_string();
    let everyone = query.everyone.as_deref().is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    let role = non_empty(&query.role).filter(|r| app.role(r).is_some());
    let production = non_empty(&query.production).and_then(|p| p.parse::<i64>().ok());
    let status = non_empty(&query.status).as_deref().and_then(StatusFilter::parse);
    let page_query = PageQuery {
        partner_id: partner_id.clone(),
        after: non_empty(&query.after),
        before: non_empty(&query.before),
        name_prefix: Some(q.clone()).filter(|q| !q.is_empty()),
        everyone,
        role: role.clone(),
        production,
        status,
        limit: PAGE_SIZE,
    };
    let result = access::application_page(&state, &viewer.principal, &app.key, &page_query).await?;
    let rows = result
        .rows
        .into_iter()
        .map(|(user, held)| Row {
            name: user.full_name(),
            status: StatusFilter::of(&user).map_or(user.status.as_str(), StatusFilter::as_str),
            roles: held
                .iter()
                .map(|g| {
                    let role = app.role(&g.role.role).map_or(g.role.role.as_str(), |r| r.name.as_str());
                    let label = match g.role.production {
                        Some(p) => {
                            format!("{role} · {}", labels.get(&p.get()).cloned().unwrap_or_else(|| p.to_string()))
                        }
                        None => role.to_string(),
                    };
                    match g.expires_at {
                        Some(end) => format!("{label} · until {}", starship_core::time_fmt::last_day(end)),
                        None => label,
                    }
                })
                .collect(),
            id: user.id,
            email: user.email,
        })
        .collect();
    let filter = ApplicationFilter {
        q: q.clone(),
        partner: partner_id.clone().filter(|_| viewer.principal.operator),
        everyone,
        role: role.clone(),
        production,
        status: status.map(StatusFilter::as_str),
        cursor: None,
    };
    let link = |cursor: Cursor| {
        Page::ApplicationUsers {
            key: app.key.clone(),
            filter: ApplicationFilter { cursor: Some(cursor), ..filter.clone() },
        }
        .to_string()
    };
    let choice =
        |value: String, name: String, selected: bool| Choice { value, name, description: String::new(), selected };
    page(&UsersPage {
        layout: viewer.layout(&state, format!("{}: users", app.name), Section::Applications),
        applications: visible_applications(&state, &viewer),
        key: app.key.clone(),
        name: app.name.clone(),
        q,
        rows,
        total: result.total,
        everyone,
        previous: result.previous.map(|p| link(Cursor::Before(p))),
        next: result.next.map(|n| link(Cursor::After(n))),
        partners: partner_list
            .into_iter()
            .map(|p| {
                let selected = Some(&p.id) == partner_id.as_ref();
                choice(p.id.into_string(), p.name, selected)
            })
            .collect(),
        roles: app
            .roles
            .iter()
            .map(|r| choice(r.key.to_string(), r.name.clone(), role.as_deref() == Some(r.key.as_str())))
            .collect(),
        productions: productions
            .iter()
            .map(|p| {
                choice(
                    p.id.get().to_string(),
                    labels.get(&p.id.get()).cloned().unwrap_or_default(),
                    production == Some(p.id.get()),
                )
            })
            .collect(),
        statuses: StatusFilter::ALL
            .into_iter()
            .map(|s| choice(s.as_str().to_string(), s.as_str().to_string(), status == Some(s)))
            .collect(),
    })
}
