//! The Users tab: search by name or email (the page's script suggests as
//! you type, through `GET /api/v1/users?q=`), and Create and Onboard.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use starship_core::authz;

use super::{page, Layout, Section, WebResult, WebUser};
use crate::ops::people;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

struct UserRow {
    id: String,
    name: String,
    email: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    q: String,
    results: Vec<UserRow>,
    can_create: bool,
}

pub async fn users_tab(State(state): State<AppState>, viewer: WebUser, Query(query): Query<SearchQuery>) -> WebResult {
    let q = query.q.trim().to_string();
    let results = if q.is_empty() {
        vec![]
    } else {
        people::search(&state, &viewer.principal, &q, 50)
            .await?
            .into_iter()
            .map(|u| UserRow { name: u.full_name(), status: u.status.as_str(), id: u.id, email: u.email })
            .collect()
    };
    let own = viewer.principal.partner_id.as_deref().unwrap_or_default();
    let can_create = authz::create_user(&viewer.principal, &state.catalogue, own).is_ok();
    page(&UsersPage { layout: viewer.layout(&state, "Users", Section::Users), q, results, can_create })
}
