//! A person's email address changes and deactivation, beside the profile
//! handlers of `users.rs`; the operations are `ops::people`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use starship_store::history::Source;
use utoipa::ToSchema;

use super::contacts::AccessView;
use crate::extract::{ApiJson, Caller};
use crate::ops;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

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
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EmailChangeBody>,
) -> ApiResult<StatusCode> {
    ops::people::request_email_change(&state, &caller.principal, &caller.actor(), &id, &body.email).await?;
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
) -> ApiResult<axum::Json<AccessView>> {
    let user = ops::people::confirm_email(&state, &body.token, Source::Api).await?;
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
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    ops::people::set_deactivated(&state, &caller.principal, &caller.actor(), &id, true).await?;
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
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    ops::people::set_deactivated(&state, &caller.principal, &caller.actor(), &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
