use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::domain::{Email, Locale, PersonName, UserStatus};
use starship_core::history::Kind;
use starship_core::ids::{PartnerId, UserId};
use starship_core::portal::PortalLevel;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::{FieldError, Invalid};
use starship_store::history::Source;
use starship_store::users::{self, ListOrder, PageFrom, User};
use utoipa::{IntoParams, ToSchema};

use crate::api::contacts::AccessView;
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ops::users::{profile_view, BulkRow, PersonInput, ProfileEdit, UserProfile};
use crate::ops::{self, OperationError, OperationResult};
use crate::problem::Problem;
use crate::state::AppState;

/// The signed-in user's own profile (My Account).
#[utoipa::path(get, path = "/api/v1/me", tag = "users",
    responses((status = 200, body = UserProfile), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> OperationResult<axum::Json<UserProfile>> {
    Ok(axum::Json(profile_view(&state, &caller.principal, &caller.user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    #[schema(value_type = Email)]
    pub email: String,
    #[schema(value_type = PersonName)]
    pub first_name: String,
    #[schema(value_type = PersonName)]
    pub last_name: String,
    /// A BCP 47 tag from the supported list, e.g. en-US.
    #[schema(value_type = Locale)]
    pub locale: String,
    /// Operators name the partner; partner users add to their own.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
    /// Whether the person may sign in (an activation link is emailed);
    /// `false` adds a contact without sign-in. Default `true`.
    #[serde(default)]
    pub portal_access: Option<bool>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Contact role keys (engineering, noc, logistics, …).
    #[serde(default)]
    pub contact_roles: Vec<String>,
    /// Ids of the partner's sites to associate.
    #[serde(default)]
    pub sites: Vec<String>,
    /// For a portal user: admin, engineering or read-only (the portal's
    /// administrators' default: read-only).
    #[serde(default)]
    pub portal_level: Option<PortalLevel>,
}

/// Creates one user (emailed an activation link) or contact.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserBody,
    responses((status = 201, body = UserProfile), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The email is taken", body = Problem), (status = 422, body = Problem),
        (status = 429, description = "Too many answers about addresses of other partners this hour", body = Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUserBody>,
) -> OperationResult<(StatusCode, axum::Json<UserProfile>)> {
    let partner_id = ops::users::target_partner(&caller.principal, body.partner_id.as_ref())?;
    let input = PersonInput {
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
        locale: body.locale,
        phone: body.phone,
        portal_access: body.portal_access.unwrap_or(true),
        contact_roles: body.contact_roles,
        sites: body.sites,
        portal_level: body.portal_level,
        scim: None,
    };
    let user = ops::users::create_person(&state, &caller.principal, &caller.actor(), &partner_id, &input).await?;
    let profile = profile_view(&state, &caller.principal, &user).await?;
    Ok((StatusCode::CREATED, axum::Json(profile)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub rows: Vec<BulkRow>,
    /// Check only: report every bad row and write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Operators name the partner; partner users add to their own.
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedUser {
    pub row: usize,
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub locale: String,
}

#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    pub dry_run: bool,
    /// Rows that passed every check.
    pub valid: usize,
    /// Every bad row with its row number, field and reason.
    pub errors: Vec<FieldError>,
    /// The users created (empty for a dry run).
    pub created: Vec<CreatedUser>,
}

/// Bulk add users: every row checked; a dry run reports, a commit writes
/// all rows or, with any bad row, nothing (422).
#[utoipa::path(post, path = "/api/v1/users/bulk", tag = "users", request_body = BulkBody,
    responses((status = 200, description = "Dry run: the check", body = BulkResult),
        (status = 201, description = "Every row created", body = BulkResult),
        (status = 403, body = Problem),
        (status = 404, description = "A partner user named another partner, or an operator one that does not exist", body = Problem),
        (status = 413, body = Problem),
        (status = 422, description = "Bad rows; nothing written", body = Problem),
        (status = 429, description = "Too many answers about addresses of other partners this hour", body = Problem)))]
pub async fn bulk_add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<BulkBody>,
) -> OperationResult<(StatusCode, axum::Json<BulkResult>)> {
    let partner_id = ops::users::target_partner(&caller.principal, body.partner_id.as_ref())?;
    let outcome =
        ops::users::bulk_add(&state, &caller.principal, &caller.actor(), &partner_id, &body.rows, body.dry_run).await?;
    let status = if body.dry_run { StatusCode::OK } else { StatusCode::CREATED };
    let created = outcome
        .created
        .into_iter()
        .enumerate()
        .map(|(i, u)| CreatedUser {
            row: i + 1,
            id: u.id,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            locale: u.locale,
        })
        .collect();
    Ok((
        status,
        axum::Json(BulkResult { dry_run: body.dry_run, valid: outcome.valid, errors: outcome.errors, created }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Part of the first name, last name, "first last" or email: from three
    /// characters anywhere inside them, shorter only at their start. Without
    /// it (or blank), everyone one may find, a page at a time.
    #[serde(default)]
    pub q: Option<String>,
    /// The list's order without `q`: `name` (the default), `email`, or
    /// `changed` (the last changed first).
    #[serde(default)]
    pub sort: Option<String>,
    /// Without `q`: the page after this person (the last one of a page).
    #[serde(default)]
    pub after: Option<String>,
    /// Without `q`: the page before this person (the first one of a page).
    #[serde(default)]
    pub before: Option<String>,
    /// At most this many (default 20; at most 100 with `q`, 200 without).
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub status: UserStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
}

impl From<User> for UserSummary {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            status: u.status,
            partner_id: u.partner_id,
        }
    }
}

/// Search users by any part of their name or email, best matches first
/// (an exact match, then names and emails starting with `q`, then the
/// closest matches inside them): one's own partner (operators: everyone).
/// Without `q`, the same people listed in `sort` order, keyset-paged by
/// `after` and `before`.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(SearchParams),
    responses((status = 200, body = Vec<UserSummary>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, description = "An unknown sort, both before and after, or paging given with `q`", body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> OperationResult<axum::Json<Vec<UserSummary>>> {
    let q = params.q.as_deref().map(str::trim).unwrap_or_default();
    let found = if q.is_empty() {
        let order = match params.sort.as_deref().filter(|s| !s.is_empty()) {
            None => ListOrder::default(),
            Some(text) => ListOrder::parse(text)
                .ok_or_else(|| Invalid(vec![FieldError::new("sort", "sort by name, email or changed")]))?,
        };
        let from = match (params.before.as_deref(), params.after.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(Invalid(vec![FieldError::new("after", "give before or after, not both")]).into())
            }
            (Some(id), None) => PageFrom::Before(id),
            (None, Some(id)) => PageFrom::After(id),
            (None, None) => PageFrom::Top,
        };
        let limit = params.limit.unwrap_or(20).clamp(1, users::LIST_LIMIT_MAX);
        ops::users::list(&state, &caller.principal, order, from, limit).await?.people
    } else {
        if let Some(field) = [("sort", &params.sort), ("after", &params.after), ("before", &params.before)]
            .into_iter()
            .find_map(|(name, value)| value.is_some().then_some(name))
        {
            return Err(Invalid(vec![FieldError::new(
                field,
                "a search answers its best matches first; sort and pages apply to the list without q",
            )])
            .into());
        }
        ops::users::search(&state, &caller.principal, q, params.limit.unwrap_or(20)).await?
    };
    Ok(axum::Json(found.into_iter().map(UserSummary::from).collect()))
}

/// A user's profile.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserProfile), (status = 404, body = Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> OperationResult<axum::Json<UserProfile>> {
    let user = if id == caller.user.id {
        caller.user.clone()
    } else {
        ops::users::person(&state, &caller.principal, &id).await?
    };
    Ok(axum::Json(profile_view(&state, &caller.principal, &user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    #[serde(default)]
    #[schema(value_type = Option<PersonName>)]
    pub first_name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<PersonName>)]
    pub last_name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Locale>)]
    pub locale: Option<String>,
    /// A phone number; an empty string removes it.
    #[serde(default)]
    pub phone: Option<String>,
}

/// Changes a profile's names, locale or phone.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path, description = "User id")),
    request_body = ProfilePatch,
    responses((status = 200, body = UserProfile), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    ApiJson(body): ApiJson<ProfilePatch>,
) -> OperationResult<axum::Json<UserProfile>> {
    let edit =
        ProfileEdit { first_name: body.first_name, last_name: body.last_name, locale: body.locale, phone: body.phone };
    let updated = ops::users::edit_profile(&state, &caller.principal, &caller.actor(), &id, &edit).await?;
    Ok(axum::Json(profile_view(&state, &caller.principal, &updated).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// At most this many entries (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<i64>,
    /// The `cursor` of the last entry of the previous page.
    #[serde(default)]
    pub before: Option<String>,
    /// Only these kinds of entry, comma-separated (for example
    /// `role.granted,role.revoked`); every kind when absent.
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub id: String,
    pub at: String,
    /// Who made the change: an email, or `system`.
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    /// Where the change came from: api, web, cli, system.
    pub source: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// Pass as `before` to read on.
    pub cursor: String,
}

/// A user's History, newest first.
#[utoipa::path(get, path = "/api/v1/users/{id}/history", tag = "users",
    params(("id" = String, Path, description = "User id"), HistoryParams),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "A `kind` that is no kind of History entry")))]
pub async fn user_history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> OperationResult<axum::Json<Vec<HistoryEntry>>> {
    let before = match params.before.as_deref() {
        None => None,
        Some(cursor) => {
            let parsed = cursor.split_once('.').and_then(|(at, id)| at.parse::<i64>().ok().map(|at| (at, id)));
            Some(parsed.ok_or_else(|| OperationError::BadRequest("before: not a cursor from this list".into()))?)
        }
    };
    let kinds = match params.kind.as_deref() {
        None => vec![],
        Some(list) => list
            .split(',')
            .map(|name| {
                Kind::parse(name.trim())
                    .ok_or_else(|| FieldError::new("kind", format!("'{}' is not a kind of History entry", name.trim())))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let (_, entries) =
        ops::users::user_history(&state, &caller.principal, &id, before, &kinds, params.limit.unwrap_or(100)).await?;
    Ok(axum::Json(
        entries
            .into_iter()
            .map(|e| HistoryEntry {
                cursor: format!("{}.{}", e.at, e.id),
                id: e.id,
                at: rfc3339_from_millis(e.at),
                actor: e.actor,
                actor_id: e.actor_id,
                source: e.source,
                action: e.action,
                details: e.details,
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryExportParams {
    /// The partner whose History chain to export. A partner's admin may
    /// leave it out for their own; an operator who leaves it out exports
    /// the chain of accounts of no partner (operators).
    #[serde(default)]
    pub partner_id: Option<PartnerId>,
    /// Only entries after this `seq` (a whole number: carry on from the
    /// last line you hold), or written at or after this RFC 3339 time.
    #[serde(default)]
    pub since: Option<String>,
}

/// One line of a History export: an entry with its place in its chain.
#[derive(Serialize, ToSchema)]
pub struct HistoryExportLine {
    pub id: String,
    /// The partner whose chain the entry is in; absent for the chain of
    /// accounts of no partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<PartnerId>,
    /// 1, 2, 3 … within the chain, without gaps.
    pub seq: i64,
    /// The account the entry is about.
    pub user_id: UserId,
    pub at: String,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    pub source: String,
    pub action: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The previous entry's `hash` (64 zeros for the chain's first entry).
    pub prev_hash: String,
    /// SHA-256 (hex) over this entry's canonical encoding and `prev_hash`.
    pub hash: String,
}

/// A partner's History as one hash chain, oldest first, as JSON Lines
/// (operators, and the partner's admins who see all of its History).
#[utoipa::path(get, path = "/api/v1/history/export", tag = "users", params(HistoryExportParams),
    responses(
        (status = 200, body = HistoryExportLine, content_type = "application/x-ndjson",
            description = "One entry per line, in seq order"),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "A `since` that is neither a seq nor an RFC 3339 time")))]
pub async fn export_history(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<HistoryExportParams>,
) -> OperationResult<axum::response::Response> {
    let since = params.since.as_deref().map(ops::users::Since::parse).transpose()?;
    let lines = ops::users::history_export(&state, &caller.principal, params.partner_id.as_ref(), since, |e| {
        HistoryExportLine {
            id: e.entry.id,
            partner_id: (!e.chain.is_empty()).then(|| PartnerId::from(e.chain)),
            seq: e.seq,
            user_id: e.entry.user_id,
            at: rfc3339_from_millis(e.entry.at),
            actor: e.entry.actor,
            actor_id: e.entry.actor_id,
            source: e.entry.source,
            action: e.entry.action,
            details: e.entry.details,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    })
    .await?;
    Ok(axum::response::Response::builder()
        .header(axum::http::header::CONTENT_TYPE, "application/x-ndjson")
        .body(axum::body::Body::from_stream(lines))
        .expect("a valid response"))
}

// A person's email address changes and deactivation; the operations are
// `ops::users`'s.

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailChangeBody {
    pub email: String,
}

/// Asks to change an email address: a confirmation link goes to the new
/// address, a notice to the old one; nothing changes until confirmed.
#[utoipa::path(post, path = "/api/v1/users/{id}/email-change", tag = "portal", params(("id" = String, Path, description = "User id")),
    request_body = EmailChangeBody,
    responses((status = 202, description = "Confirmation sent"), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_email_change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    ApiJson(body): ApiJson<EmailChangeBody>,
) -> OperationResult<StatusCode> {
    ops::users::request_email_change(&state, &caller.principal, &caller.actor(), &id, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub token: String,
}

/// Confirms a new email address with the token from the link sent to it.
#[utoipa::path(post, path = "/api/v1/email-confirmations", tag = "portal", request_body = TokenBody, security(()),
    responses((status = 200, body = AccessView), (status = 503, description = "The database is not answering", body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm_email(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenBody>,
) -> OperationResult<axum::Json<AccessView>> {
    let user = ops::users::confirm_email(&state, &body.token, Source::Api).await?;
    Ok(axum::Json(AccessView { user_id: user.id, status: user.status }))
}

/// Deactivates a person: they cannot sign in, every session and token of
/// theirs ends at once and their roles stop counting; everything they hold
/// stays for reactivation. Under the rule for acting on a person.
#[utoipa::path(post, path = "/api/v1/users/{id}/deactivation", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Deactivated"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Deactivated already", body = Problem)))]
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> OperationResult<StatusCode> {
    ops::users::set_deactivated(&state, &caller.principal, &caller.actor(), &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reactivates a deactivated person: sign-in (with the same password) and
/// every role come back.
#[utoipa::path(delete, path = "/api/v1/users/{id}/deactivation", tag = "users", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Reactivated"), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not deactivated", body = Problem)))]
pub async fn reactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> OperationResult<StatusCode> {
    ops::users::set_deactivated(&state, &caller.principal, &caller.actor(), &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
