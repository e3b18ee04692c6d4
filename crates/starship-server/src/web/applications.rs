//! The Applications tab: for each application the viewer admins, every
//! user of the partner with their roles in it, a page at a time.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;

use super::account::{production_labels, Choice};
use super::{page, url_encode, Layout, Section, WebResult, WebUser};
use crate::ops::access::{self, PageQuery};
use crate::problem::ApiError;
use crate::state::AppState;

struct AppLink {
    key: String,
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
    partner_id: Option<String>,
}

struct Row {
    id: String,
    name: String,
    email: String,
    roles: Vec<String>,
}

#[derive(Template)]
#[template(path = "application_users.html")]
struct UsersPage {
    layout: Layout,
    applications: Vec<AppLink>,
    key: String,
    name: String,
    q: String,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    partners: Vec<Choice>,
}

const PAGE_SIZE: i64 = 25;

pub async fn users_of(
    State(state): State<AppState>,
    viewer: WebUser,
    Path(key): Path<String>,
    Query(query): Query<UsersQuery>,
) -> WebResult {
    let app = state.catalogue.application(&key).ok_or(ApiError::NotFound)?;
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
    let page_query = PageQuery {
        partner_id: partner_id.clone(),
        after: query.after.clone().filter(|a| !a.is_empty()),
        name_prefix: Some(q.clone()).filter(|q| !q.is_empty()),
        limit: PAGE_SIZE,
    };
    let result = access::application_page(&state, &viewer.principal, &app.key, &page_query).await?;
    let rows = result
        .rows
        .into_iter()
        .map(|(user, held)| Row {
            name: user.full_name(),
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
    let mut link = format!("/applications/{}?q={}", url_encode(&app.key), url_encode(&q));
    if let Some(p) = &partner_id {
        if viewer.principal.operator {
            link.push_str(&format!("&partner_id={}", url_encode(p)));
        }
    }
    page(&UsersPage {
        layout: viewer.layout(&state, format!("{}: users", app.name), Section::Applications),
        applications: visible_applications(&state, &viewer),
        key: app.key.clone(),
        name: app.name.clone(),
        q,
        rows,
        next: result.next.map(|n| format!("{link}&after={}", url_encode(&n))),
        first: page_query.after.is_some().then(|| link.clone()),
        partners: partner_list
            .into_iter()
            .map(|p| Choice {
                selected: Some(&p.id) == partner_id.as_ref(),
                value: p.id,
                name: p.name,
                description: String::new(),
            })
            .collect(),
    })
}
