//! One's own two-step sign-in and password, and resetting another
//! person's two-step sign-in.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use starship_core::ids::UserId;
use starship_store::history::Source;
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller};
use crate::ops;
use crate::ops::session::OtherSignIns;
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct MfaEnrolment {
    /// The shared secret, base32, for typing into an authenticator app.
    pub secret: String,
    /// otpauth:// URI (RFC 6238 TOTP, SHA-1, 6 digits, 30 s).
    pub provisioning_uri: String,
}

/// Starts TOTP enrolment for the signed-in user.
#[utoipa::path(post, path = "/api/v1/me/mfa", tag = "session",
    responses((status = 200, body = MfaEnrolment), (status = 409, body = Problem)))]
pub async fn begin_mfa(State(state): State<AppState>, caller: Caller) -> OperationResult<axum::Json<MfaEnrolment>> {
    let enrolment = ops::session::begin_mfa(&state, &caller.user).await?;
    Ok(axum::Json(MfaEnrolment { secret: enrolment.secret, provisioning_uri: enrolment.provisioning_uri }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    pub code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmMfa {
    pub code: String,
    /// Also end every other session and every API token of yours, in the
    /// same step (false when left out).
    #[serde(default)]
    pub end_other_sessions: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Each works once in place of a code; shown this once.
    pub recovery_codes: Vec<String>,
    /// Sessions other than this request's that ended (`end_other_sessions`).
    pub sessions_ended: u64,
    /// API tokens that ended (`end_other_sessions`).
    pub tokens_ended: u64,
}

/// Confirms enrolment with the authenticator's current code; optionally
/// ends every other session and every API token at the same time.
#[utoipa::path(post, path = "/api/v1/me/mfa/confirm", tag = "session", request_body = ConfirmMfa,
    responses((status = 200, body = RecoveryCodes), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn confirm_mfa(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ConfirmMfa>,
) -> OperationResult<axum::Json<RecoveryCodes>> {
    let others =
        if body.end_other_sessions { OtherSignIns::End { current: caller.session_hash() } } else { OtherSignIns::Keep };
    let enrolled = ops::session::confirm_mfa(&state, &caller.user, &body.code, others, Source::Api).await?;
    Ok(axum::Json(RecoveryCodes {
        recovery_codes: enrolled.recovery_codes,
        sessions_ended: enrolled.ended.sessions,
        tokens_ended: enrolled.ended.tokens,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
    /// Also end every other session and every API token of yours, in the
    /// same step (false when left out).
    #[serde(default)]
    pub end_other_sessions: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// Sessions other than this request's that ended (`end_other_sessions`).
    pub sessions_ended: u64,
    /// API tokens that ended (`end_other_sessions`).
    pub tokens_ended: u64,
}

/// Changes one's own password, proven with the current one (a wrong one
/// counts as a failed sign-in); only from a signed-in session, not a token.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "session", request_body = ChangePassword,
    responses((status = 200, body = PasswordChanged), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ChangePassword>,
) -> OperationResult<axum::Json<PasswordChanged>> {
    let ended = ops::session::change_password(
        &state,
        &caller.user,
        caller.session_hash(),
        body.current_password,
        &body.new_password,
        body.end_other_sessions,
        Source::Api,
    )
    .await?;
    Ok(axum::Json(PasswordChanged { sessions_ended: ended.sessions, tokens_ended: ended.tokens }))
}

/// Turns off one's own MFA: only with a current code or a recovery code.
#[utoipa::path(post, path = "/api/v1/me/mfa/disable", tag = "session", request_body = CodeBody,
    responses((status = 204, description = "Turned off"), (status = 409, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem)))]
pub async fn disable_mfa(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CodeBody>,
) -> OperationResult<StatusCode> {
    ops::session::disable_own_mfa(&state, &caller.user, &body.code, Source::Api).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets another user's MFA (a lost phone), under the user-administration
/// rule. One's own is turned off with `POST /api/v1/me/mfa/disable`.
#[utoipa::path(delete, path = "/api/v1/users/{id}/mfa", tag = "portal", params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Reset"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> OperationResult<StatusCode> {
    ops::session::reset_mfa(&state, &caller.principal, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
