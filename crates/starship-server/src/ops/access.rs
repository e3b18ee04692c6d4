//! The Applications tab: shared by the API and the web pages.

use starship_core::authz::{self, AdminReach, Principal};
use starship_store::grants::{self, Grant};
use starship_store::users::{self, User};

use crate::ops::people::target_partner;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

pub struct PageQuery {
    /// Operators: whose users to list.
    pub partner_id: Option<String>,
    /// The last user id of the previous page.
    pub after: Option<String>,
    pub name_prefix: Option<String>,
    pub limit: i64,
}

pub struct ApplicationPage {
    pub application: String,
    /// Every user of the page with their grants in the application.
    pub rows: Vec<(User, Vec<Grant>)>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<String>,
}

/// One page of a partner's users in name order with their roles in one
/// application, for the application's admins.
pub async fn application_page(
    state: &AppState,
    caller: &Principal,
    key: &str,
    query: &PageQuery,
) -> ApiResult<ApplicationPage> {
    let app = state.catalogue.application(key).ok_or(ApiError::NotFound)?;
    authz::applications_tab(caller, &app.key)?;
    let partner_id = target_partner(caller, query.partner_id.as_deref())?;
    let limit = query.limit.clamp(1, 200);
    // A production's admin is shown the people and grants of their productions only.
    let productions: Option<Vec<i64>> = match caller.admin_reach(&app.key) {
        AdminReach::Productions(ps) if !caller.operator => Some(ps.iter().map(|p| p.get()).collect()),
        _ => None,
    };
    let holding = productions.as_deref().map(|ps| (app.key.as_str(), ps));
    let mut conn = state.store.conn().await?;
    let page = users::page_of_partner_holding(
        &mut conn,
        &partner_id,
        query.after.as_deref(),
        query.name_prefix.as_deref(),
        holding,
        limit + 1,
    )
    .await?;
    let more = page.len() as i64 > limit;
    let page: Vec<User> = page.into_iter().take(limit as usize).collect();
    let ids: Vec<String> = page.iter().map(|u| u.id.clone()).collect();
    let mut held = grants::of_users_in_application(&mut conn, &ids, &app.key).await?;
    if let Some(productions) = &productions {
        held.retain(|g| g.role.production.is_some_and(|p| productions.contains(&p.get())));
    }
    let next = if more { page.last().map(|u| u.id.clone()) } else { None };
    let rows = page
        .into_iter()
        .map(|u| {
            let (mine, rest): (Vec<Grant>, Vec<Grant>) = held.drain(..).partition(|g| g.user_id == u.id);
            held = rest;
            (u, mine)
        })
        .collect();
    Ok(ApplicationPage { application: app.key.clone(), rows, next })
}
