//! Activation of accounts, and the outbox operators read.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::history::Source;
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ops;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The token from the emailed link.
    pub token: String,
    /// At least 12 characters.
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Activated {
    pub user_id: String,
    pub email: String,
}

/// Sets the password from a single-use activation link and turns sign-in on.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "session", request_body = AcceptBody, security(()),
    responses((status = 200, body = Activated), (status = 503, description = "The database is not answering", body = Problem),
        (status = 422, description = "A weak password, or a link that was used, replaced or has expired", body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> ApiResult<axum::Json<Activated>> {
    let user = ops::session::accept_link(&state, &body.token, &body.password, Source::Api).await?;
    Ok(axum::Json(Activated { user_id: user.id, email: user.email }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// Only messages to this address.
    #[serde(default)]
    pub recipient: Option<String>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxMessage {
    pub id: String,
    pub recipient: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// queued, sent, or failed (given up after permanent errors or many attempts)
    pub status: &'static str,
    pub attempts: i64,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Every email queued or sent, newest first (operators).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "platform", params(OutboxParams),
    responses((status = 200, body = Vec<OutboxMessage>), (status = 403, body = Problem)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> ApiResult<axum::Json<Vec<OutboxMessage>>> {
    let messages = ops::platform::outbox(
        &state,
        &caller.principal,
        params.recipient.as_deref(),
        params.limit.unwrap_or(100).clamp(1, 1000),
    )
    .await?;
    Ok(axum::Json(
        messages
            .into_iter()
            .map(|m| OutboxMessage {
                status: match (m.sent_at, m.failed_at) {
                    (Some(_), _) => "sent",
                    (None, Some(_)) => "failed",
                    (None, None) => "queued",
                },
                id: m.id,
                recipient: m.recipient,
                user_id: m.user_id,
                kind: m.kind,
                subject: m.subject,
                body: m.body,
                attempts: m.attempts,
                created_at: rfc3339_from_millis(m.created_at),
                sent_at: m.sent_at.map(rfc3339_from_millis),
                last_error: m.last_error,
            })
            .collect(),
    ))
}
