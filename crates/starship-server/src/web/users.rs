//! The Users tab: everyone the viewer may find, a page at a time and
//! sortable, before anything is typed; search by any part of a name or
//! email (the page's script suggests as you type, through
//! `GET /api/v1/users?q=`); and Create and Onboard.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::ids::{UserId, NO_PARTNER};

use super::page::Cursor;
use super::{page, Action, Layout, Page, Section, WebResult, WebUser};
use crate::ops::users;
use crate::state::AppState;
use starship_store::users::{ListOrder, PageFrom, User};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    before: Option<String>,
}

/// A column header of the list: a link that sorts by it.
struct SortLink {
    label: &'static str,
    href: String,
    /// `ascending`/`descending` on the column the list is sorted by.
    current: Option<&'static str>,
}

struct UserRow {
    id: UserId,
    name: String,
    email: String,
    status: &'static str,
    changed: String,
}

impl From<User> for UserRow {
    fn from(u: User) -> Self {
        UserRow {
            name: u.full_name(),
            status: if u.deactivated_at.is_some() { "deactivated" } else { u.status.as_str() },
            changed: starship_core::time_fmt::day(u.updated_at),
            id: u.id,
            email: u.email,
        }
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    q: String,
    results: Vec<UserRow>,
    can_create: bool,
    /// Before anything is typed: everyone, a page at a time.
    everyone: Vec<UserRow>,
    sorts: Vec<SortLink>,
    previous: Option<String>,
    next: Option<String>,
}

const PAGE_SIZE: i64 = 25;

pub async fn users_tab(State(state): State<AppState>, viewer: WebUser, Query(query): Query<SearchQuery>) -> WebResult {
    let q = query.q.trim().to_string();
    let order = query.sort.as_deref().and_then(ListOrder::parse).unwrap_or_default();
    let (mut results, mut everyone, mut previous, mut next) = (vec![], vec![], None, None);
    if q.is_empty() {
        let from = match (query.after.as_deref(), query.before.as_deref()) {
            (Some(id), _) if !id.is_empty() => PageFrom::After(id),
            (_, Some(id)) if !id.is_empty() => PageFrom::Before(id),
            _ => PageFrom::Top,
        };
        let page = users::list(&state, &viewer.principal, order, from, PAGE_SIZE).await?;
        let link = |cursor: Cursor| Page::Users { sort: Some(order), cursor: Some(cursor) }.to_string();
        previous = page.before.clone().map(|id| link(Cursor::Before(id.into_string())));
        next = page.after.clone().map(|id| link(Cursor::After(id.into_string())));
        everyone = page.people.into_iter().map(UserRow::from).collect();
    } else {
        results = users::search(&state, &viewer.principal, &q, 50).await?.into_iter().map(UserRow::from).collect();
    }
    let sorts = [("Name", ListOrder::Name), ("Email", ListOrder::Email), ("Last change", ListOrder::Changed)]
        .into_iter()
        .map(|(label, o)| SortLink {
            label,
            href: Page::Users { sort: Some(o), cursor: None }.to_string(),
            current: (o == order).then_some(if o == ListOrder::Changed { "descending" } else { "ascending" }),
        })
        .collect();
    let own = viewer.principal.partner_id.as_ref().unwrap_or(&NO_PARTNER);
    let can_create = authz::create_user(&viewer.principal, &state.catalogue, own).is_ok();
    page(&UsersPage {
        layout: viewer.layout(&state, "Users", Section::Users),
        q,
        results,
        can_create,
        everyone,
        sorts,
        previous,
        next,
    })
}
