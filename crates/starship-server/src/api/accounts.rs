//! Activation of accounts, and the outbox operators read.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use starship_core::domain::DeliveryStatus;
use starship_core::ids::{MessageId, UserId};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::{FieldError, Invalid};
use starship_store::history::Source;
use starship_store::outbox::{Filter, Message, Page};
use utoipa::{IntoParams, ToSchema};

use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::ops;
use crate::ops::OperationResult;
use crate::problem::Problem;
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
    pub user_id: UserId,
    pub email: String,
}

/// Sets the password from a single-use activation link and turns sign-in on.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "session", request_body = AcceptBody, security(()),
    responses((status = 200, body = Activated), (status = 503, description = "The database is not answering", body = Problem),
        (status = 422, description = "A weak password, or a link that was used, replaced or has expired", body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> OperationResult<axum::Json<Activated>> {
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
    /// Only messages whose address contains this text (any case).
    #[serde(default)]
    pub q: Option<String>,
    /// Only messages in this state: queued (no attempt yet), retrying
    /// (attempts failed, another is due), sent, or failed (given up).
    #[serde(default)]
    pub status: Option<String>,
    /// The page of messages older than this message id.
    #[serde(default)]
    pub before: Option<MessageId>,
    /// The page of messages newer than this message id (shown newest first).
    #[serde(default)]
    pub after: Option<MessageId>,
    /// At most this many (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub recipient: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    pub kind: String,
    pub subject: String,
    pub body: String,
    /// queued (no attempt yet), retrying (attempts failed, another is due),
    /// sent, or failed (given up after a permanent error or many attempts)
    pub status: &'static str,
    pub attempts: i64,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl From<Message> for OutboxMessage {
    fn from(m: Message) -> Self {
        Self {
            status: m.status().as_str(),
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
        }
    }
}

/// Every email queued or sent, newest first (operators): by address, part
/// of an address or status, a page at a time.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "platform", params(OutboxParams),
    responses((status = 200, body = Vec<OutboxMessage>), (status = 403, body = Problem),
        (status = 422, description = "An unknown status, or both before and after", body = Problem)))]
pub async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> OperationResult<axum::Json<Vec<OutboxMessage>>> {
    let status = params
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| DeliveryStatus::parse("status", s))
        .transpose()
        .map_err(|e| Invalid(vec![e]))?;
    let page = match (params.before.as_ref(), params.after.as_ref()) {
        (Some(_), Some(_)) => {
            return Err(Invalid(vec![FieldError::new("after", "give before or after, not both")]).into());
        }
        (Some(id), None) => Page::Before(id),
        (None, Some(id)) => Page::After(id),
        (None, None) => Page::Newest,
    };
    let filter = Filter {
        recipient: params.recipient.as_deref(),
        search: params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()),
        status,
        page,
        limit: params.limit.unwrap_or(100).clamp(1, 1000),
    };
    let messages = ops::platform::outbox(&state, &caller.principal, &filter).await?;
    Ok(axum::Json(messages.into_iter().map(OutboxMessage::from).collect()))
}

/// Queues a failed email again, as new: the dispatcher tries it at once
/// (operators). History records it in the operator's History.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/resend", tag = "platform",
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, description = "The message, queued again", body = OutboxMessage),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The message has not failed: it is queued, retrying or sent", body = Problem)))]
pub async fn resend_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<MessageId>,
) -> OperationResult<axum::Json<OutboxMessage>> {
    let message = ops::platform::resend(&state, &caller.principal, &caller.actor(), &id).await?;
    Ok(axum::Json(message.into()))
}
