//! Roles, admin privileges, the Applications tab and the check API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::catalogue::RequestedRole;
use starship_core::domain::ProductionId;
use starship_core::ids::{AdminPrivilegeId, ApplicationKey, GrantId, PartnerId, RoleKey, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::FieldError;
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiJson, ApiQuery, Caller, CheckCaller};
use crate::ops;
use crate::ops::users::PersonRef;
use crate::ops::{OperationError, OperationResult};
use crate::problem::Problem;
use crate::state::AppState;
use starship_store::users::StatusFilter;

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// Application key, e.g. backlot.
    pub application: String,
    /// Role key, e.g. content-partner-operations.
    pub role: String,
    /// The production, for production-scoped roles (academy-user).
    #[serde(default)]
    pub production: Option<i64>,
    /// When the role ends (RFC 3339, in the future); absent for no end. It
    /// stops counting at once at that moment. Granting a role already held
    /// sets its end to this one (absent removes it): under the same rule as
    /// granting.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    #[schema(min_items = 1, max_items = 1000)]
    pub user_ids: Vec<UserId>,
    #[schema(min_items = 1, max_items = 50)]
    pub roles: Vec<RoleRequest>,
}

/// One line of the confirmation: a user and a role they now hold.
#[derive(Serialize, ToSchema)]
pub struct GrantConfirmation {
    pub grant_id: GrantId,
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub application: ApplicationKey,
    pub application_name: String,
    pub role: RoleKey,
    pub role_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    /// When the role ends; absent for no end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// False when the user already held the role.
    pub newly_granted: bool,
    /// True when the user held the role and its end date changed.
    pub expiry_changed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct GrantResult {
    pub granted: Vec<GrantConfirmation>,
}

const MAX_GRANT_USERS: usize = 1_000;
const MAX_GRANT_ROLES: usize = 50;

/// Grants every role to every user, all or none; returns the confirmation
/// of every user and role. A role may end (`expires_at`); re-granting a
/// held role with another end date (or none) changes it.
#[utoipa::path(post, path = "/api/v1/grants", tag = "access", request_body = GrantBody,
    responses((status = 200, body = GrantResult), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "A bad field, among them an `expires_at` that is not in the future", body = Problem)))]
pub async fn grant_roles(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<GrantBody>,
) -> OperationResult<axum::Json<GrantResult>> {
    let mut errors = Vec::new();
    if body.user_ids.is_empty() || body.user_ids.len() > MAX_GRANT_USERS {
        errors.push(FieldError::new("user_ids", format!("name between 1 and {MAX_GRANT_USERS} users")));
    }
    if body.roles.is_empty() || body.roles.len() > MAX_GRANT_ROLES {
        errors.push(FieldError::new("roles", format!("name between 1 and {MAX_GRANT_ROLES} roles")));
    }
    if !errors.is_empty() {
        return Err(starship_core::Invalid(errors).into());
    }
    let asked: Vec<Option<&str>> = body.roles.iter().map(|r| r.expires_at.as_deref()).collect();
    let expiries = ops::grants::parse_expiries(&asked, starship_store::now_millis())?;
    let requested: Vec<RequestedRole> = body
        .roles
        .iter()
        .map(|r| RequestedRole { application: r.application.clone(), role: r.role.clone(), production: r.production })
        .collect();
    let request = ops::grants::GrantRequest { user_ids: &body.user_ids, requested: &requested, expiries: &expiries };
    let granted = ops::grants::grant(&state, &caller.principal, &caller.actor(), &[request]).await?;
    let granted = granted
        .into_iter()
        .map(|g| {
            let app = state.catalogue.application(&g.grant.role.application);
            let role = state.catalogue.role(&g.grant.role.application, &g.grant.role.role);
            GrantConfirmation {
                grant_id: g.grant.id,
                user_id: g.user.id.clone(),
                email: g.user.email.clone(),
                name: g.user.full_name(),
                application_name: app.map_or_else(String::new, |a| a.name.clone()),
                role_name: role.map_or_else(String::new, |r| r.name.clone()),
                application: g.grant.role.application,
                role: g.grant.role.role,
                production: g.grant.role.production.map(ProductionId::get),
                expires_at: g.grant.expires_at.map(rfc3339_from_millis),
                newly_granted: g.new,
                expiry_changed: matches!(g.outcome, starship_store::grants::Granting::ExpiryChanged { .. }),
            }
        })
        .collect();
    Ok(axum::Json(GrantResult { granted }))
}

/// Revokes one grant, under the same rule as granting it. Revoking one's
/// own last way to onboard people (the Master Content Partner Operations
/// role of an admin) is refused with 409 while no other admin of the
/// partner has one.
#[utoipa::path(delete, path = "/api/v1/grants/{id}", tag = "access", params(("id" = String, Path, description = "Grant id")),
    responses((status = 204, description = "Revoked"), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "It was the caller's own last admin path and no other admin of the partner remains", body = Problem)))]
pub async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<GrantId>,
) -> OperationResult<StatusCode> {
    ops::grants::revoke(&state, &caller.principal, &caller.actor(), &id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminPrivilegeBody {
    pub application: String,
    /// For a production's admin privilege.
    #[serde(default)]
    pub production: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminPrivilegeResult {
    pub id: AdminPrivilegeId,
    pub user_id: UserId,
    pub application: ApplicationKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    /// False when the user already held it.
    pub newly_granted: bool,
}

/// Grants admin privileges for an application (or production).
#[utoipa::path(post, path = "/api/v1/users/{id}/admin-privileges", tag = "access",
    params(("id" = String, Path, description = "User id")), request_body = AdminPrivilegeBody,
    responses((status = 201, body = AdminPrivilegeResult), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_admin_privilege(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    ApiJson(body): ApiJson<AdminPrivilegeBody>,
) -> OperationResult<(StatusCode, axum::Json<AdminPrivilegeResult>)> {
    let (user, privilege, new) =
        ops::grants::grant_admin(&state, &caller.principal, &caller.actor(), &id, &body.application, body.production)
            .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AdminPrivilegeResult {
            id: privilege.id,
            user_id: user.id,
            application: privilege.scope.application,
            production: privilege.scope.production.map(ProductionId::get),
            newly_granted: new,
        }),
    ))
}

/// Removes one admin privilege, under the same rule as granting it.
/// Removing one's own last admin privilege while holding the Master
/// Content Partner Operations role is refused with 409 while no other
/// admin of the partner can onboard.
#[utoipa::path(delete, path = "/api/v1/users/{id}/admin-privileges/{pid}", tag = "access",
    params(("id" = String, Path, description = "User id"), ("pid" = String, Path, description = "Admin privilege id")),
    responses((status = 204, description = "Removed"), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "It was the caller's own last admin path and no other admin of the partner remains", body = Problem)))]
pub async fn remove_admin_privilege(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, pid)): Path<(UserId, AdminPrivilegeId)>,
) -> OperationResult<StatusCode> {
    ops::grants::remove_admin(&state, &caller.principal, &caller.actor(), &id, &pid).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplicationUsersParams {
    /// The `next` value of the previous page.
    #[serde(default)]
    pub after: Option<String>,
    /// The `previous` value of the next page: reads the page before it.
    #[serde(default)]
    pub before: Option<String>,
    /// Page size (default 50, at most 200).
    #[serde(default)]
    pub limit: Option<i64>,
    /// Only users whose "first last" name starts with this.
    #[serde(default)]
    pub q: Option<String>,
    /// Operators: whose users to list.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
    /// `true`: everyone of the partner, with or without a role in the
    /// application. By default only those holding one.
    #[serde(default)]
    pub everyone: Option<bool>,
    /// Only holders of this role of the application (its key).
    #[serde(default)]
    pub role: Option<String>,
    /// Only holders of a role on this production.
    #[serde(default)]
    pub production: Option<i64>,
    /// Only users in this state.
    #[serde(default)]
    #[param(inline)]
    pub status: Option<PersonStatus>,
}

/// Where a person stands: waiting for their activation, able to sign in,
/// or deactivated (and, listed with everyone, a contact without sign-in or
/// someone whose sign-in was switched off).
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub enum PersonStatus {
    Pending,
    Active,
    Deactivated,
    Contact,
    Disabled,
}

impl PersonStatus {
    fn of(user: &starship_store::users::User) -> PersonStatus {
        use starship_core::domain::UserStatus;
        match (user.deactivated_at, user.status) {
            (Some(_), _) => PersonStatus::Deactivated,
            (None, UserStatus::Pending) => PersonStatus::Pending,
            (None, UserStatus::Active) => PersonStatus::Active,
            (None, UserStatus::Contact) => PersonStatus::Contact,
            (None, UserStatus::Disabled) => PersonStatus::Disabled,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationRole {
    pub grant_id: GrantId,
    pub role: RoleKey,
    pub role_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    /// When the role ends; absent for no end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationUser {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: PersonStatus,
    /// The user's roles in this application (may be none).
    pub roles: Vec<ApplicationRole>,
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationUsersPage {
    pub application: ApplicationKey,
    pub users: Vec<ApplicationUser>,
    /// How many users the query lists in all, over every page.
    pub total: i64,
    /// Pass as `before` for the previous page; absent on the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The Applications tab: the users of the caller's partner holding a role
/// in this application (or, with `everyone`, every user of the partner)
/// with their roles in it, filtered by role, production and status, a
/// page at a time with the total; for its admins.
#[utoipa::path(get, path = "/api/v1/applications/{key}/users", tag = "access",
    params(("key" = String, Path, description = "Application key"), ApplicationUsersParams),
    responses((status = 200, body = ApplicationUsersPage), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "An operator did not name the partner (`partner_id`), the role is not one of the application, or the status is not one to filter by", body = Problem)))]
pub async fn application_users(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    ApiQuery(params): ApiQuery<ApplicationUsersParams>,
) -> OperationResult<axum::Json<ApplicationUsersPage>> {
    let status = match params.status {
        None => None,
        Some(PersonStatus::Pending) => Some(StatusFilter::Pending),
        Some(PersonStatus::Active) => Some(StatusFilter::Active),
        Some(PersonStatus::Deactivated) => Some(StatusFilter::Deactivated),
        Some(other) => {
            return Err(FieldError::new(
                "status",
                format!("filter by pending, active or deactivated, not {}", serde_json::json!(other)),
            )
            .into())
        }
    };
    let query = ops::access::PageQuery {
        partner_id: params.partner_id,
        after: params.after,
        before: params.before,
        name_prefix: params.q,
        everyone: params.everyone.unwrap_or(false),
        role: params.role,
        production: params.production,
        status,
        limit: params.limit.unwrap_or(50),
    };
    let page = ops::access::application_page(&state, &caller.principal, &key, &query).await?;
    let app = state.catalogue.application(&page.application).ok_or(OperationError::NotFound)?;
    let users = page
        .rows
        .into_iter()
        .map(|(u, held)| ApplicationUser {
            roles: held
                .into_iter()
                .map(|g| ApplicationRole {
                    role_name: app.role(&g.role.role).map_or_else(String::new, |r| r.name.clone()),
                    grant_id: g.id,
                    role: g.role.role,
                    production: g.role.production.map(ProductionId::get),
                    expires_at: g.expires_at.map(rfc3339_from_millis),
                })
                .collect(),
            status: PersonStatus::of(&u),
            id: u.id,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
        })
        .collect();
    Ok(axum::Json(ApplicationUsersPage {
        application: page.application,
        users,
        total: page.total,
        previous: page.previous,
        next: page.next,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    pub user_id: UserId,
    pub application: String,
    pub capability: String,
    #[serde(default)]
    pub production: Option<i64>,
    /// Also say why: the grants that allow it, or the roles that would and
    /// who may grant them.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CheckResult {
    pub allowed: bool,
    /// Present when `explain` was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Why a check answered as it did.
#[derive(Serialize, ToSchema)]
pub struct Explanation {
    /// Allowed: the person's grants that allow it (an expired grant never
    /// does). Empty when denied.
    pub allowed_by: Vec<AllowingGrant>,
    /// Denied: the roles of the application that would allow it, and who
    /// may grant each. Empty when allowed.
    pub would_allow: Vec<WouldAllowRole>,
    /// Denied for a reason no role changes (a deactivated person).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AllowingGrant {
    pub grant_id: GrantId,
    pub application: ApplicationKey,
    pub role: RoleKey,
    pub role_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    /// Who granted it; absent when the system did (import, demo, portal set-up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_by: Option<PersonRef>,
    #[schema(format = DateTime)]
    pub granted_at: String,
    /// When it ends; absent for no end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WouldAllowRole {
    pub application: ApplicationKey,
    pub role: RoleKey,
    pub role_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production: Option<i64>,
    /// Who may grant it, in words: "admins of Backlot in Acme Studios".
    pub who_may_grant: String,
    /// Some of the person's partner's people who may grant it (at most five);
    /// platform operators may too.
    pub admins: Vec<PersonRef>,
}

/// What a check names, checked against the catalogue: the application's
/// key and the production. `at` prefixes the fields an error names.
fn asked_of(
    state: &AppState,
    at: &str,
    application: &str,
    capability: &str,
    production: Option<i64>,
) -> OperationResult<(ApplicationKey, Option<ProductionId>)> {
    let Some(app) = state.catalogue.application(application) else {
        return Err(FieldError::new(format!("{at}application"), format!("unknown application '{application}'")).into());
    };
    if !app.capabilities.iter().any(|c| c.key == capability) {
        return Err(FieldError::new(
            format!("{at}capability"),
            format!("'{capability}' is not a capability of {}", app.name),
        )
        .into());
    }
    let production = production.map(|p| ProductionId::parse(&format!("{at}production"), p)).transpose()?;
    Ok((app.key.clone(), production))
}

/// May this user use this capability (on this production)? The same rules
/// the API enforces; with `explain`, why. Besides a person's session or
/// token, an application's own access token (OpenID Connect
/// `client_credentials` at `/oauth2/token`) may ask, about anyone's access
/// to its own application only (another application: 403).
#[utoipa::path(post, path = "/api/v1/check", tag = "access", request_body = CheckBody,
    responses((status = 200, body = CheckResult), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn check(
    State(state): State<AppState>,
    caller: CheckCaller,
    ApiJson(body): ApiJson<CheckBody>,
) -> OperationResult<axum::Json<CheckResult>> {
    let (application, production) = asked_of(&state, "", &body.application, &body.capability, body.production)?;
    let asked = ops::access::Asked {
        user_id: &body.user_id,
        application: &application,
        capability: &body.capability,
        production,
    };
    if !body.explain {
        let allowed =
            ops::access::decide(&state, &caller.principal, caller.application.as_deref(), caller.generation, &[asked])
                .await?[0];
        state.metrics.check(&application, allowed);
        return Ok(axum::Json(CheckResult { allowed, explanation: None }));
    }
    let answer = ops::access::explain_check(
        &state,
        &caller.principal,
        caller.user.as_ref(),
        caller.application.as_deref(),
        &asked,
    )
    .await?;
    let (allowing, would) = match answer {
        ops::access::CheckAnswer::Deactivated => {
            let explanation = Explanation {
                allowed_by: vec![],
                would_allow: vec![],
                reason: Some("this person is deactivated: their roles do not count until reactivation".into()),
            };
            return Ok(axum::Json(CheckResult { allowed: false, explanation: Some(explanation) }));
        }
        ops::access::CheckAnswer::Explained { allowing, would } => (allowing, would),
    };
    let role_name = |application: &str, role: &str| {
        state.catalogue.role(application, role).map_or_else(String::new, |r| r.name.clone())
    };
    let explanation = Explanation {
        allowed_by: allowing
            .into_iter()
            .map(|a| AllowingGrant {
                role_name: role_name(&a.grant.role.application, &a.grant.role.role),
                grant_id: a.grant.id,
                application: a.grant.role.application,
                role: a.grant.role.role,
                production: a.grant.role.production.map(ProductionId::get),
                granted_by: a.granted_by.map(|n| PersonRef { id: n.id, name: n.name }),
                granted_at: rfc3339_from_millis(a.grant.created_at),
                expires_at: a.grant.expires_at.map(rfc3339_from_millis),
            })
            .collect(),
        would_allow: would
            .into_iter()
            .map(|w| WouldAllowRole {
                role_name: role_name(&w.role.application, &w.role.role),
                application: w.role.application,
                role: w.role.role,
                production: w.role.production.map(ProductionId::get),
                who_may_grant: w.who_may_grant,
                admins: w.admins.into_iter().map(|n| PersonRef { id: n.id, name: n.name }).collect(),
            })
            .collect(),
        reason: None,
    };
    let allowed = !explanation.allowed_by.is_empty();
    Ok(axum::Json(CheckResult { allowed, explanation: Some(explanation) }))
}

/// One check of a batch: a check without `explain`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheck {
    pub user_id: UserId,
    pub application: String,
    pub capability: String,
    #[serde(default)]
    pub production: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCheckBody {
    /// At most 1,000 checks.
    pub checks: Vec<BatchCheck>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchAnswer {
    pub allowed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BatchCheckResults {
    /// One answer per check, in the order asked.
    pub results: Vec<BatchAnswer>,
}

/// Many checks at once (at most 1,000), each answered exactly as
/// `POST /api/v1/check` would answer it, in order. A check naming an unknown
/// application or capability answers 422 naming it (`checks[3].capability`);
/// one about a person the caller may not see, 404: for the whole request;
/// an application's token asking about another application, 403.
#[utoipa::path(post, path = "/api/v1/check/batch", tag = "access", request_body = BatchCheckBody,
    responses((status = 200, body = BatchCheckResults), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn check_batch(
    State(state): State<AppState>,
    caller: CheckCaller,
    ApiJson(body): ApiJson<BatchCheckBody>,
) -> OperationResult<axum::Json<BatchCheckResults>> {
    if body.checks.len() > ops::access::BATCH_LIMIT {
        return Err(FieldError::new(
            "checks",
            format!("at most {} checks per request, not {}", ops::access::BATCH_LIMIT, body.checks.len()),
        )
        .into());
    }
    let named = body
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| asked_of(&state, &format!("checks[{i}]."), &c.application, &c.capability, c.production))
        .collect::<OperationResult<Vec<_>>>()?;
    let asked: Vec<ops::access::Asked> = body
        .checks
        .iter()
        .zip(&named)
        .map(|(c, (application, production))| ops::access::Asked {
            user_id: &c.user_id,
            application,
            capability: &c.capability,
            production: *production,
        })
        .collect();
    let decided =
        ops::access::decide(&state, &caller.principal, caller.application.as_deref(), caller.generation, &asked)
            .await?;
    for ((application, _), allowed) in named.iter().zip(&decided) {
        state.metrics.check(application, *allowed);
    }
    Ok(axum::Json(BatchCheckResults { results: decided.into_iter().map(|allowed| BatchAnswer { allowed }).collect() }))
}
