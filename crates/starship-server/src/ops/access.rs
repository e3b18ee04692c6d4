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

/// Someone named in an explanation.
#[derive(Debug, Clone)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A grant behind an allowed answer, with who gave it.
#[derive(Debug, Clone)]
pub struct Allowing {
    pub grant: Grant,
    pub granted_by: Option<Named>,
}

/// A role that would allow a denied answer, and who may grant it.
#[derive(Debug, Clone)]
pub struct WouldAllow {
    pub role: starship_core::catalogue::RoleRef,
    /// In words: "admins of Backlot in Acme Studios".
    pub who_may_grant: String,
    /// The person's partner's people holding that admin privilege, at most
    /// [`NAMED_ADMINS`]; operators may grant it too.
    pub admins: Vec<Named>,
}

/// The admins named per role in an explanation: it answers "whom do I
/// ask", not "list everyone".
pub const NAMED_ADMINS: i64 = 5;

/// Why a check answers as it does: the grants that allow it, or the roles
/// that would and who may grant them. `grants` are the person's grants that
/// count (an expired one never does); the rule is `authz::role_allows`.
pub async fn explain(
    conn: &mut starship_store::Conn,
    catalogue: &starship_core::catalogue::Catalogue,
    person: &User,
    grants: Vec<Grant>,
    application: &str,
    capability: &str,
    production: Option<starship_core::domain::ProductionId>,
) -> ApiResult<(Vec<Allowing>, Vec<WouldAllow>)> {
    let mut allowing = Vec::new();
    for grant in grants {
        if authz::role_allows(catalogue, &grant.role, application, capability, production) {
            let granted_by = match &grant.granted_by {
                Some(id) => users::get(conn, id).await?.map(|u| Named { name: u.full_name(), id: u.id }),
                None => None,
            };
            allowing.push(Allowing { grant, granted_by });
        }
    }
    if !allowing.is_empty() {
        return Ok((allowing, vec![]));
    }
    let Some(partner_id) = person.partner_id.as_deref() else {
        return Ok((vec![], vec![]));
    };
    let partner_name = starship_store::partners::get(conn, partner_id).await?.map_or_else(String::new, |p| p.name);
    let app_name = catalogue.application(application).map_or_else(|| application.to_string(), |a| a.name.clone());
    let mut would = Vec::new();
    for role in authz::roles_that_would_allow(catalogue, application, capability, production) {
        let scope = authz::scope_granting(&role);
        let who_may_grant = if role.application == starship_core::catalogue::keys::PARTNER_PORTAL {
            format!("those who may set portal levels in {partner_name}")
        } else {
            match scope.production {
                Some(p) => format!("admins of {app_name} for production {p} in {partner_name}"),
                None => format!("admins of {app_name} in {partner_name}"),
            }
        };
        let admins = grants::admins_of_scope(conn, partner_id, &scope, NAMED_ADMINS)
            .await?
            .into_iter()
            .map(|u| Named { name: u.full_name(), id: u.id })
            .collect();
        would.push(WouldAllow { role, who_may_grant, admins });
    }
    Ok((vec![], would))
}

/// What a check asks: may this person use this capability (on this
/// production)?
pub struct Asked<'a> {
    pub user_id: &'a str,
    pub application: &'a str,
    pub capability: &'a str,
    pub production: Option<starship_core::domain::ProductionId>,
}

pub enum CheckAnswer {
    Decided(bool),
    /// Asked to explain about a deactivated person: their roles do not count.
    Deactivated,
    Explained {
        allowing: Vec<Allowing>,
        would: Vec<WouldAllow>,
    },
}

/// The check: about oneself from the roles one signed in with, about
/// anyone else the caller may see from their roles now; with `explain`,
/// the grants behind the answer or the roles that would allow it.
pub async fn check(
    state: &AppState,
    caller: &Principal,
    caller_user: &User,
    asked: &Asked<'_>,
    with_explanation: bool,
) -> ApiResult<CheckAnswer> {
    let mut conn = state.store.conn().await?;
    if with_explanation {
        let person = if asked.user_id == caller_user.id {
            caller_user.clone()
        } else {
            crate::ops::people::visible_user(&mut conn, caller, asked.user_id).await?
        };
        if !crate::ops::session::may_sign_in(&person) {
            return Ok(CheckAnswer::Deactivated);
        }
        let held = grants::of_user(&mut conn, &person.id).await?;
        let (allowing, would) =
            explain(&mut conn, &state.catalogue, &person, held, asked.application, asked.capability, asked.production)
                .await?;
        return Ok(CheckAnswer::Explained { allowing, would });
    }
    let roles = if asked.user_id == caller_user.id {
        caller.roles.clone()
    } else {
        let user = crate::ops::people::visible_user(&mut conn, caller, asked.user_id).await?;
        // A deactivated person's roles do not count until reactivation.
        if !crate::ops::session::may_sign_in(&user) {
            return Ok(CheckAnswer::Decided(false));
        }
        users::roles_of(&mut conn, &user.id).await?
    };
    Ok(CheckAnswer::Decided(authz::roles_allow(
        &state.catalogue,
        &roles,
        asked.application,
        asked.capability,
        asked.production,
    )))
}
