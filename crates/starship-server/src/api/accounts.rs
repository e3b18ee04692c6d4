//! Activation of accounts, and the outbox operators read.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use starship_core::authz;
use starship_core::domain::Password;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::FieldError;
use starship_store::history::{self, Actor, Source};
use starship_store::{outbox, users};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ops::ACTIVATION;
use crate::problem::{ApiResult, Problem};
use crate::security::{hash_password, secret_hash};
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
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "session", request_body = AcceptBody,
    responses((status = 200, body = Activated),
        (status = 422, description = "A weak password, or a link that was used, replaced or has expired", body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> ApiResult<axum::Json<Activated>> {
    let password = Password::parse("password", &body.password)?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| crate::problem::ApiError::Internal(e.to_string()))?;
    let mut tx = state.store.begin().await?;
    let invalid = || FieldError::new("token", "this link is not valid: it was used or replaced, or it has expired");
    let user_id = outbox::use_link(&mut tx, &secret_hash(body.token.trim()), ACTIVATION).await?.ok_or_else(invalid)?;
    let user = users::get(&mut tx, &user_id).await?.ok_or_else(invalid)?;
    if user.status == starship_core::domain::UserStatus::Disabled {
        return Err(invalid().into());
    }
    users::set_password(&mut tx, &user.id, &hash).await?;
    history::append(
        &mut tx,
        &user.id,
        &Actor::user(&user.id, &user.email, Source::Api),
        "account.activated",
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(Activated { user_id: user.id, email: user.email }))
}

#[derive(Deserialize, IntoParams)]
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
    authz::manage_platform(&caller.principal)?;
    let mut conn = state.store.conn().await?;
    let messages =
        outbox::list(&mut conn, params.recipient.as_deref(), params.limit.unwrap_or(100).clamp(1, 1000)).await?;
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
