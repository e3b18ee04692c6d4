//! The Notifications and Application Metadata tabs, and notifications
//! applications send through Starship.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use starship_core::ids::{ApplicationKey, PartnerId, UserId};
use starship_core::preferences::{CustomChoice, NotificationSetting};
use starship_core::{FieldError, Invalid};
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller};
use crate::ops::OperationResult;
use crate::ops::{self, preferences::ChoiceChange};
use crate::problem::Problem;
use crate::state::AppState;

/// A user's notification settings, every type they may receive.
#[utoipa::path(get, path = "/api/v1/users/{id}/notifications", tag = "preferences",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Vec<NotificationSetting>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
) -> OperationResult<axum::Json<Vec<NotificationSetting>>> {
    Ok(axum::Json(ops::preferences::notification_settings(&state, &caller.principal, &id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationChoice {
    pub application: String,
    #[serde(rename = "type")]
    pub notification_type: String,
    pub enabled: bool,
    /// `default` forgets the custom choice so the roles decide again;
    /// `custom` (or nothing) records `enabled` as the user's choice.
    #[serde(default)]
    pub source: Option<String>,
}

/// Changes custom choices: opt in to a type the roles allow but do not
/// default, opt out of a default, or go back to the default.
#[utoipa::path(put, path = "/api/v1/users/{id}/notifications", tag = "preferences",
    params(("id" = String, Path, description = "User id")), request_body = Vec<NotificationChoice>,
    responses((status = 200, body = Vec<NotificationSetting>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "A type of an application the user has no role in, or unknown", body = Problem)))]
pub async fn put_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<UserId>,
    ApiJson(body): ApiJson<Vec<NotificationChoice>>,
) -> OperationResult<axum::Json<Vec<NotificationSetting>>> {
    let mut errors = Vec::new();
    let changes: Vec<ChoiceChange> = body
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| match c.source.as_deref() {
            Some("default") => Some(ChoiceChange::Reset {
                application: ApplicationKey::from(c.application),
                notification_type: c.notification_type,
            }),
            None | Some("custom") => Some(ChoiceChange::Set(CustomChoice {
                application: ApplicationKey::from(c.application),
                notification_type: c.notification_type,
                enabled: c.enabled,
            })),
            Some(_) => {
                errors.push(FieldError::new(format!("[{i}].source"), "must be custom or default"));
                None
            }
        })
        .collect();
    if !errors.is_empty() {
        return Err(Invalid(errors).into());
    }
    let settings =
        ops::preferences::change_notifications(&state, &caller.principal, &caller.actor(), &id, &changes).await?;
    Ok(axum::Json(settings))
}

#[derive(Serialize, ToSchema)]
pub struct MetadataView {
    pub application: String,
    /// The saved values, by field key (empty until saved).
    #[schema(value_type = Object)]
    pub values: Map<String, Value>,
}

/// A user's metadata for one application.
#[utoipa::path(get, path = "/api/v1/users/{id}/metadata/{application}", tag = "preferences",
    params(("id" = String, Path, description = "User id"), ("application" = String, Path, description = "Application key")),
    responses((status = 200, body = MetadataView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, application)): Path<(UserId, String)>,
) -> OperationResult<axum::Json<MetadataView>> {
    let values = ops::preferences::metadata(&state, &caller.principal, &id, &application).await?;
    Ok(axum::Json(MetadataView { application, values }))
}

/// Saves a user's metadata for one application, checked against its
/// schema: every bad field named, nothing saved.
#[utoipa::path(put, path = "/api/v1/users/{id}/metadata/{application}", tag = "preferences",
    params(("id" = String, Path, description = "User id"), ("application" = String, Path, description = "Application key")),
    request_body(content = Object, description = "Values by field key, per the application's metadata schema"),
    responses((status = 200, body = MetadataView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_metadata(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, application)): Path<(UserId, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> OperationResult<axum::Json<MetadataView>> {
    let saved =
        ops::preferences::save_metadata(&state, &caller.principal, &caller.actor(), &id, &application, &body).await?;
    Ok(axum::Json(MetadataView { application, values: saved.values }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    pub application: String,
    #[serde(rename = "type")]
    pub notification_type: String,
    /// Whose users to notify.
    pub partner_id: PartnerId,
    pub subject: String,
    pub body: String,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationSent {
    /// How many users receive it: those whose settings turn the type on.
    pub recipients: usize,
}

/// An application sends a notification to a partner's users: Starship
/// queues it for everyone whose settings turn the type on (operators).
#[utoipa::path(post, path = "/api/v1/notifications", tag = "preferences", request_body = NotificationBody,
    responses((status = 200, body = NotificationSent), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn send_notification(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NotificationBody>,
) -> OperationResult<axum::Json<NotificationSent>> {
    let notification = ops::preferences::Notification {
        application: &body.application,
        notification_type: &body.notification_type,
        partner_id: &body.partner_id,
        subject: &body.subject,
        body: &body.body,
    };
    let recipients = ops::preferences::send_notification(&state, &caller.principal, &notification).await?;
    Ok(axum::Json(NotificationSent { recipients }))
}
