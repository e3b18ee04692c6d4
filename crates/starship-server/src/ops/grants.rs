//! Roles and admin privileges: granting (several requests in one
//! transaction, end dates, a production's end), revoking, setting a role's
//! end, adding and removing admin privileges, each under the rule that
//! grants it, with History; and the caller's own last admin path kept.

use serde_json::json;
use starship_core::authz::{self, Permit, Principal};
use starship_core::catalogue::{AdminScope, Catalogue, RequestedRole, RoleRef};
use starship_core::history::Kind;
use starship_core::ids::{AdminPrivilegeId, GrantId, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::{FieldError, Invalid};
use starship_store::history::{self, Actor};
use starship_store::users::{self, User};
use starship_store::{grants, now_millis, partners, Conn};

use crate::ops::users::{visible_user, visible_users};
use crate::ops::{future_end, role_details, OperationError, OperationResult};
use crate::state::AppState;

/// One line of a grant confirmation: who got which role.
#[derive(Debug, Clone)]
pub struct Granted {
    pub grant: grants::Grant,
    pub user: User,
    /// False when the user already held the role.
    pub new: bool,
    pub outcome: grants::Granting,
}

/// Grants every role, each with its end date (`None`: no end), to every
/// user, all or nothing: each pair is checked against the rules before
/// anything is written. A role already held takes the end date asked:
/// changing or removing an end date is a grant under the same rule.
pub async fn grant_roles(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    people: &[User],
    roles: &[(RoleRef, Option<i64>)],
) -> OperationResult<Vec<Granted>> {
    // The rule does not look at the person beyond their partner: one
    // permit per role serves everyone it was checked for.
    let mut permits = Vec::with_capacity(roles.len());
    for (i, user) in people.iter().enumerate() {
        for (role, _) in roles {
            let permit = authz::grant_role(caller, user.partner(), role)?;
            if i == 0 {
                permits.push(permit);
            }
        }
    }
    let ends = with_production_ends(conn, roles).await?;
    let permitted: Vec<(Permit<RoleRef>, Option<i64>)> =
        permits.into_iter().zip(ends).map(|(permit, (_, end))| (permit, end)).collect();
    let user_ids: Vec<&UserId> = people.iter().map(|u| &u.id).collect();
    let granted = grants::grant_many(conn, &user_ids, &permitted, caller.acting_user()).await?;
    let entries = granted
        .iter()
        .filter_map(|(grant, outcome)| match outcome {
            grants::Granting::New => Some((grant.user_id.clone(), Kind::RoleGranted, grant_details(grant, None))),
            grants::Granting::ExpiryChanged { from } => {
                Some((grant.user_id.clone(), Kind::RoleExpiryChanged, grant_details(grant, Some(*from))))
            }
            grants::Granting::Held => None,
        })
        .collect();
    history::append_many(conn, actor, entries).await?;
    // grant_many answers users outer, roles inner: the people's order.
    let owners = people.iter().flat_map(|user| std::iter::repeat_n(user, roles.len()));
    Ok(granted
        .into_iter()
        .zip(owners)
        .map(|((grant, outcome), user)| Granted { grant, user: user.clone(), new: outcome.is_new(), outcome })
        .collect())
}

/// Grants each person the roles asked for them (no end unless their
/// production ends), in the caller's transaction: people asking the same
/// roles are granted together, under the rules `grant_roles` checks.
pub async fn grant_each(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    people: &[User],
    roles_per_person: &[Vec<RoleRef>],
) -> OperationResult<usize> {
    let mut alike: std::collections::HashMap<&[RoleRef], Vec<User>> = std::collections::HashMap::new();
    for (person, roles) in people.iter().zip(roles_per_person) {
        if !roles.is_empty() {
            alike.entry(roles.as_slice()).or_default().push(person.clone());
        }
    }
    let mut granted = 0;
    for (roles, people) in alike {
        let roles: Vec<(RoleRef, Option<i64>)> = roles.iter().map(|role| (role.clone(), None)).collect();
        granted += grant_roles(conn, caller, actor, &people, &roles).await?.len();
    }
    Ok(granted)
}

/// A production role asked for without an end ends with its production,
/// when the production has a (future) end.
async fn with_production_ends(
    conn: &mut Conn,
    roles: &[(RoleRef, Option<i64>)],
) -> OperationResult<Vec<(RoleRef, Option<i64>)>> {
    let unended: Vec<i64> =
        roles.iter().filter(|(_, end)| end.is_none()).filter_map(|(r, _)| r.production.map(|p| p.get())).collect();
    if unended.is_empty() {
        return Ok(roles.to_vec());
    }
    let ends = starship_store::partners::production_ends(conn, &unended).await?;
    let now = starship_store::now_millis();
    Ok(roles
        .iter()
        .map(|(role, end)| {
            let by_production = role.production.and_then(|p| ends.get(&p.get()).copied()).filter(|at| *at > now);
            (role.clone(), end.or(by_production))
        })
        .collect())
}

/// Checks requested end dates (RFC 3339, in the future), each named by its
/// role's index; `None` where no end was asked.
pub fn parse_expiries(requested: &[Option<&str>], now: i64) -> Result<Vec<Option<i64>>, Invalid> {
    let mut errors = Vec::new();
    let parsed = requested
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let text = (*text)?;
            future_end(format!("roles[{i}].expires_at"), text, now).map_err(|e| errors.push(e)).ok()
        })
        .collect();
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(Invalid(errors))
    }
}

/// Pairs resolved roles with the end dates asked for them: a role asked
/// twice takes its first end date.
pub fn with_expiries(
    catalogue: &Catalogue,
    requested: &[RequestedRole],
    expiries: &[Option<i64>],
    roles: Vec<RoleRef>,
) -> Vec<(RoleRef, Option<i64>)> {
    roles
        .into_iter()
        .map(|role| {
            let at = requested.iter().zip(expiries).find_map(|(asked, at)| {
                let same = catalogue
                    .resolve_role(
                        "",
                        &asked.application,
                        &asked.role,
                        asked.production.and_then(|p| starship_core::domain::ProductionId::parse("", p).ok()),
                    )
                    .is_ok_and(|r| r == role);
                same.then_some(*at)
            });
            (role, at.flatten())
        })
        .collect()
}

/// A grant's History details with its end date, and the one it replaced
/// when `previous` is given (an end date changed).
pub fn grant_details(grant: &grants::Grant, previous: Option<Option<i64>>) -> serde_json::Value {
    let mut details = role_details(&grant.id, &grant.role);
    if grant.expires_at.is_some() || previous.is_some() {
        details["expires_at"] = json!(grant.expires_at.map(rfc3339_from_millis));
    }
    if let Some(previous) = previous {
        details["previous_expires_at"] = json!(previous.map(rfc3339_from_millis));
    }
    details
}

/// Resolves requested roles against the catalogue and checks productions
/// exist, naming every bad entry.
pub async fn resolve_roles(
    conn: &mut Conn,
    catalogue: &Catalogue,
    requested: &[RequestedRole],
) -> OperationResult<Vec<RoleRef>> {
    let mut errors = Vec::new();
    let mut roles: Vec<RoleRef> = Vec::new();
    for (i, RequestedRole { application, role, production }) in requested.iter().enumerate() {
        let field = format!("roles[{i}]");
        let production =
            match production.map(|p| starship_core::domain::ProductionId::parse(&format!("{field}.production"), p)) {
                Some(Ok(p)) => Some(p),
                Some(Err(e)) => {
                    errors.push(e);
                    continue;
                }
                None => None,
            };
        match catalogue.resolve_role(&field, application, role, production) {
            Ok(resolved) => {
                if let Some(p) = resolved.production {
                    if !partners::production_exists(conn, p).await? {
                        errors.push(FieldError::new(format!("{field}.production"), format!("no production {p}")));
                        continue;
                    }
                }
                if !roles.contains(&resolved) {
                    roles.push(resolved);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(roles)
    } else {
        Err(Invalid(errors).into())
    }
}

/// Checks an admin privilege names a known application and production.
pub async fn resolve_admin_scope(
    conn: &mut Conn,
    catalogue: &Catalogue,
    application: &str,
    production: Option<i64>,
) -> OperationResult<AdminScope> {
    let Some(app) = catalogue.application(application) else {
        return Err(FieldError::new("application", format!("unknown application '{application}'")).into());
    };
    let production = production.map(|p| starship_core::domain::ProductionId::parse("production", p)).transpose()?;
    if let Some(p) = production {
        if !partners::production_exists(conn, p).await? {
            return Err(FieldError::new("production", format!("no production {p}")).into());
        }
    }
    Ok(AdminScope { application: app.key.clone(), production })
}

pub async fn add_admin_privilege(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    user: &User,
    scope: &AdminScope,
) -> OperationResult<(grants::AdminPrivilege, bool)> {
    let permit = authz::grant_admin(caller, user.partner(), scope)?;
    let (privilege, new) = grants::add_admin(conn, &user.id, &permit, caller.acting_user()).await?;
    if new {
        history::append(
            conn,
            &user.id,
            actor,
            Kind::AdminPrivilegeAdded,
            json!({"privilege_id": privilege.id, "application": scope.application, "production": scope.production.map(|p| p.get())}),
        )
        .await?;
    }
    Ok((privilege, new))
}

/// Revokes one grant, under the rule that grants it. With `of_user`, the
/// grant must be that person's. Returns whose grant it was, and the grant.
pub async fn revoke_role(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    grant_id: &GrantId,
    of_user: Option<&UserId>,
) -> OperationResult<(User, grants::Grant)> {
    let grant = grants::get(conn, grant_id)
        .await?
        .filter(|g| of_user.is_none_or(|u| g.user_id == *u))
        .ok_or(OperationError::NotFound)?;
    let user = visible_user(conn, caller, &grant.user_id).await?;
    let permit = authz::grant_role(caller, user.partner(), &grant.role)?;
    // Two revokes racing: the second deletes nothing and must say so.
    if !grants::revoke(conn, &grant.id, &permit).await? {
        return Err(OperationError::NotFound);
    }
    history::append(conn, &user.id, actor, Kind::RoleRevoked, role_details(&grant.id, &grant.role)).await?;
    Ok((user, grant))
}

/// After removing one of the caller's own roles or admin privileges, in
/// the same transaction: refuses it when it ended the caller's last admin
/// path and no other active admin of the partner has one
/// (`authz::remove_own_admin_path`).
pub async fn keep_own_admin_path(
    conn: &mut Conn,
    catalogue: &Catalogue,
    caller: &Principal,
    user: &User,
) -> OperationResult<()> {
    if !caller.is(&user.id) {
        return Ok(());
    }
    let after = users::principal(conn, user).await?;
    if authz::remove_own_admin_path(catalogue, caller, &after, false).is_ok() {
        return Ok(());
    }
    let mut another_admin_remains = false;
    let partner = user.partner();
    for other in grants::other_admins(conn, partner, &user.id).await? {
        if authz::has_admin_path(catalogue, &users::principal(conn, &other).await?) {
            another_admin_remains = true;
            break;
        }
    }
    authz::remove_own_admin_path(catalogue, caller, &after, another_admin_remains)?;
    Ok(())
}

/// Removes one of a person's admin privileges, under the rule that grants it.
pub async fn remove_admin_privilege(
    conn: &mut Conn,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    privilege_id: &AdminPrivilegeId,
) -> OperationResult<(User, AdminScope)> {
    let user = visible_user(conn, caller, user_id).await?;
    let privilege = grants::get_admin(conn, privilege_id)
        .await?
        .filter(|p| p.user_id == user.id)
        .ok_or(OperationError::NotFound)?;
    let permit = authz::grant_admin(caller, user.partner(), &privilege.scope)?;
    if !grants::remove_admin(conn, &privilege.id, &permit).await? {
        return Err(OperationError::NotFound);
    }
    history::append(
        conn,
        &user.id,
        actor,
        Kind::AdminPrivilegeRemoved,
        json!({"privilege_id": privilege.id, "application": privilege.scope.application, "production": privilege.scope.production.map(|p| p.get())}),
    )
    .await?;
    Ok((user, privilege.scope))
}

/// Sets, changes or removes (`None`) the end of one of a person's roles
/// that still counts: a grant of the same role, under the rule that
/// grants it.
pub async fn set_role_end(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    grant_id: &GrantId,
    end: Option<i64>,
) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let grant = grants::get(&mut tx, grant_id)
        .await?
        .filter(|g| g.user_id == *user_id && !g.expired_at(now_millis()))
        .ok_or(OperationError::NotFound)?;
    let people = visible_users(&mut tx, caller, std::slice::from_ref(user_id)).await?;
    grant_roles(&mut tx, caller, actor, &people, &[(grant.role, end)]).await?;
    tx.commit().await?;
    Ok(())
}

/// Roles asked for some people, each with its end (`None`: no end).
pub struct GrantRequest<'a> {
    pub user_ids: &'a [UserId],
    pub requested: &'a [RequestedRole],
    pub expiries: &'a [Option<i64>],
}

/// Grants every request, all in one transaction: each role of each
/// request to each of its people, under the rules `grant_roles` checks.
pub async fn grant(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    requests: &[GrantRequest<'_>],
) -> OperationResult<Vec<Granted>> {
    let mut tx = state.store.begin().await?;
    let mut granted = Vec::new();
    for request in requests {
        let roles = resolve_roles(&mut tx, &state.catalogue, request.requested).await?;
        let roles = with_expiries(&state.catalogue, request.requested, request.expiries, roles);
        let people = visible_users(&mut tx, caller, request.user_ids).await?;
        granted.extend(grant_roles(&mut tx, caller, actor, &people, &roles).await?);
    }
    tx.commit().await?;
    Ok(granted)
}

/// Checks roles asked by name against the catalogue and the productions.
pub async fn resolve(state: &AppState, requested: &[RequestedRole]) -> OperationResult<Vec<RoleRef>> {
    let mut conn = state.store.conn().await?;
    resolve_roles(&mut conn, &state.catalogue, requested).await
}

/// Revokes one grant in its own transaction (see `revoke_role`), unless
/// it was the caller's own last admin path (`keep_own_admin_path`).
pub async fn revoke(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    grant_id: &GrantId,
    of_user: Option<&UserId>,
) -> OperationResult<(User, grants::Grant)> {
    let mut tx = state.store.begin().await?;
    let (user, grant) = revoke_role(&mut tx, caller, actor, grant_id, of_user).await?;
    keep_own_admin_path(&mut tx, &state.catalogue, caller, &user).await?;
    tx.commit().await?;
    Ok((user, grant))
}

/// Grants a person an admin privilege named by application (and
/// production), in its own transaction; answers the person, the
/// privilege, and whether it is new.
pub async fn grant_admin(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    application: &str,
    production: Option<i64>,
) -> OperationResult<(User, grants::AdminPrivilege, bool)> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let scope = resolve_admin_scope(&mut tx, &state.catalogue, application, production).await?;
    let (privilege, new) = add_admin_privilege(&mut tx, caller, actor, &user, &scope).await?;
    tx.commit().await?;
    Ok((user, privilege, new))
}

/// Removes an admin privilege in its own transaction (see
/// `remove_admin_privilege`), unless it was the caller's own last admin
/// path (`keep_own_admin_path`); answers what was removed.
pub async fn remove_admin(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    privilege_id: &AdminPrivilegeId,
) -> OperationResult<AdminScope> {
    let mut tx = state.store.begin().await?;
    let (user, scope) = remove_admin_privilege(&mut tx, caller, actor, user_id, privilege_id).await?;
    keep_own_admin_path(&mut tx, &state.catalogue, caller, &user).await?;
    tx.commit().await?;
    Ok(scope)
}
