//! The Applications tab: shared by the API and the web pages.

use starship_core::authz::{self, AdminReach, Principal};
use starship_core::ids::{ApplicationKey, PartnerId, UserId};
use starship_core::FieldError;
use starship_store::grants::{self, Grant};
use starship_store::users::{self, AppUsersFilter, PageFrom, StatusFilter, User};

use crate::ops::users::target_partner;
use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

#[derive(Default)]
pub struct PageQuery {
    /// Operators: whose users to list.
    pub partner_id: Option<PartnerId>,
    /// The last user id of the previous page.
    pub after: Option<String>,
    /// The first user id of the next page (reading back).
    pub before: Option<String>,
    pub name_prefix: Option<String>,
    /// Everyone of the partner, not only the application's role holders.
    pub everyone: bool,
    /// Only holders of this role of the application.
    pub role: Option<String>,
    /// Only holders of a role on this production.
    pub production: Option<i64>,
    pub status: Option<StatusFilter>,
    pub limit: i64,
}

pub struct ApplicationPage {
    pub application: ApplicationKey,
    /// Every user of the page with their grants in the application.
    pub rows: Vec<(User, Vec<Grant>)>,
    /// How many users the query lists in all.
    pub total: i64,
    /// Where the previous page ends (pass as `before`); `None` on the first.
    pub previous: Option<String>,
    /// Where the next page starts (pass as `after`); `None` on the last.
    pub next: Option<String>,
}

/// One page of a partner's users in name order with their roles in one
/// application, for the application's admins: the role holders (filtered
/// by role, production and status), or everyone of the partner.
pub async fn application_page(
    state: &AppState,
    caller: &Principal,
    key: &str,
    query: &PageQuery,
) -> OperationResult<ApplicationPage> {
    let app = state.catalogue.application(key).ok_or(OperationError::NotFound)?;
    authz::applications_tab(caller, &app.key)?;
    let partner_id = target_partner(caller, query.partner_id.as_ref())?;
    if let Some(role) = &query.role {
        if app.role(role).is_none() {
            return Err(FieldError::new("role", format!("is not a role of {}", app.name)).into());
        }
    }
    let limit = query.limit.clamp(1, users::LIST_LIMIT_MAX);
    // A production's admin is shown the people and grants of their productions only.
    let productions: Option<Vec<i64>> = match caller.admin_reach(&app.key) {
        AdminReach::Productions(ps) if !caller.operator => Some(ps.iter().map(|p| p.get()).collect()),
        _ => None,
    };
    let filter = AppUsersFilter {
        everyone: query.everyone,
        role: query.role.as_deref(),
        production: query.production,
        reach: productions.as_deref(),
        status: query.status,
        name_prefix: query.name_prefix.as_deref(),
    };
    let from = match (query.after.as_deref(), query.before.as_deref()) {
        (Some(id), _) => PageFrom::After(id),
        (None, Some(id)) => PageFrom::Before(id),
        (None, None) => PageFrom::Top,
    };
    let mut conn = state.store.conn().await?;
    let (page, more, total) = users::application_users(&mut conn, &partner_id, &app.key, &filter, from, limit).await?;
    let (more_before, more_after) = match from {
        PageFrom::Top => (false, more),
        PageFrom::After(_) => (true, more),
        PageFrom::Before(_) => (more, true),
    };
    let ids: Vec<UserId> = page.iter().map(|u| u.id.clone()).collect();
    let mut held = grants::of_users_in_application(&mut conn, &ids, &app.key).await?;
    if let Some(productions) = &productions {
        held.retain(|g| g.role.production.is_some_and(|p| productions.contains(&p.get())));
    }
    let previous = page.first().filter(|_| more_before).map(|u| u.id.to_string());
    let next = page.last().filter(|_| more_after).map(|u| u.id.to_string());
    let rows = page
        .into_iter()
        .map(|u| {
            let (mine, rest): (Vec<Grant>, Vec<Grant>) = held.drain(..).partition(|g| g.user_id == u.id);
            held = rest;
            (u, mine)
        })
        .collect();
    Ok(ApplicationPage { application: app.key.clone(), rows, total, previous, next })
}

/// Someone named in an explanation.
#[derive(Debug, Clone)]
pub struct Named {
    pub id: UserId,
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
) -> OperationResult<(Vec<Allowing>, Vec<WouldAllow>)> {
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
    let Some(partner_id) = person.partner_id.as_ref() else {
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
    pub user_id: &'a UserId,
    pub application: &'a str,
    pub capability: &'a str,
    pub production: Option<starship_core::domain::ProductionId>,
}

pub enum CheckAnswer {
    /// Asked to explain about a deactivated person: their roles do not count.
    Deactivated,
    Explained {
        allowing: Vec<Allowing>,
        would: Vec<WouldAllow>,
    },
}

/// The check with `explain`: the grants behind the answer or the roles that
/// would allow it, read afresh (checks without it: [`decide`]).
pub async fn explain_check(
    state: &AppState,
    caller: &Principal,
    caller_user: Option<&User>,
    caller_application: Option<&str>,
    asked: &Asked<'_>,
) -> OperationResult<CheckAnswer> {
    if let Some(own) = caller_application {
        authz::service_check(own, asked.application)?;
    }
    let mut conn = state.store.conn().await?;
    let person = if let Some(own) = caller_user.filter(|u| u.id == *asked.user_id) {
        own.clone()
    } else {
        crate::ops::users::visible_user(&mut conn, caller, asked.user_id).await?
    };
    if !crate::ops::session::may_sign_in(&person) {
        return Ok(CheckAnswer::Deactivated);
    }
    let held = grants::of_user(&mut conn, &person.id).await?;
    let (allowing, would) =
        explain(&mut conn, &state.catalogue, &person, held, asked.application, asked.capability, asked.production)
            .await?;
    Ok(CheckAnswer::Explained { allowing, would })
}

/// One person as the check's cache knows them at `generation`, read (and
/// remembered) when it does not; a connection is taken only then.
pub async fn known_person(
    state: &AppState,
    generation: i64,
    id: &str,
) -> OperationResult<Option<std::sync::Arc<starship_store::access::Person>>> {
    let (mut known, missing) = state.decisions.people(generation, &[id]);
    if missing.is_empty() {
        return Ok(known.remove(id));
    }
    let mut conn = state.store.conn().await?;
    Ok(load_people(state, &mut conn, generation, &missing).await?.into_iter().map(|(_, p)| p).next())
}

async fn load_people(
    state: &AppState,
    conn: &mut starship_store::Conn,
    generation: i64,
    ids: &[UserId],
) -> OperationResult<Vec<(UserId, std::sync::Arc<starship_store::access::Person>)>> {
    let loaded: Vec<_> =
        starship_store::access::people(conn, ids).await?.into_iter().map(std::sync::Arc::new).collect();
    state.decisions.remember_people(generation, &loaded);
    Ok(loaded.into_iter().map(|p| (p.user.id.clone(), p)).collect())
}

/// The most checks one batch may ask.
pub const BATCH_LIMIT: usize = 1_000;

/// Decides checks without explanation, in order, each exactly as a single
/// check would. An application's own token (`caller_application`) asks
/// about its own application only, and about anyone's access to it; about oneself from the caller's roles, about anyone else
/// the caller may see (another partner's person, or an unknown id: 404 for
/// the whole request) from their roles now; a deactivated person's roles do
/// not count. The people come from the check's cache at the generation the
/// caller was read at; the ones it lacks are read together, so a batch
/// takes as many queries as a single check.
pub async fn decide(
    state: &AppState,
    caller: &Principal,
    caller_application: Option<&str>,
    generation: i64,
    asked: &[Asked<'_>],
) -> OperationResult<Vec<bool>> {
    if let Some(own) = caller_application {
        for a in asked {
            authz::service_check(own, a.application)?;
        }
    }
    let others: Vec<&str> = asked
        .iter()
        .map(|a| a.user_id.as_str())
        .filter(|id| caller.acting_user().map(UserId::as_str) != Some(*id))
        .collect();
    let (mut people, missing) = state.decisions.people(generation, &others);
    if !missing.is_empty() {
        let mut conn = state.store.conn().await?;
        people.extend(load_people(state, &mut conn, generation, &missing).await?);
    }
    let now = starship_store::now_millis();
    asked
        .iter()
        .map(|a| {
            let allowed = |roles: &[starship_core::catalogue::RoleRef]| {
                authz::roles_allow(&state.catalogue, roles, a.application, a.capability, a.production)
            };
            if caller.acting_user().is_some_and(|me| me.as_str() == a.user_id.as_str()) {
                return Ok(allowed(&caller.roles));
            }
            let person = people.get(a.user_id).ok_or(OperationError::NotFound)?;
            let partner = person.user.partner_id.as_ref().ok_or(OperationError::NotFound)?;
            authz::see_partner_resource(caller, partner)?;
            // A deactivated person's roles do not count until reactivation.
            if !crate::ops::session::may_sign_in(&person.user) {
                return Ok(false);
            }
            Ok(allowed(&person.roles_at(now)))
        })
        .collect()
}
