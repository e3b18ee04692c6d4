//! The Notifications and Application Metadata tabs, and notifications
//! applications send through Starship.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use starship_core::authz;
use starship_core::preferences::{self, CustomChoice, NotificationSetting};
use starship_core::{FieldError, Invalid};
use starship_store::outbox::{self, NewMessage};
use starship_store::preferences as prefs;
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller};
use crate::ops::{self, preferences::ChoiceChange};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

/// A user's notification settings, every type they may receive.
#[utoipa::path(get, path = "/api/v1/users/{id}/notifications", tag = "preferences",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Vec<NotificationSetting>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_notifications(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<NotificationSetting>>> {
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
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Vec<NotificationChoice>>,
) -> ApiResult<axum::Json<Vec<NotificationSetting>>> {
    let mut errors = Vec::new();
    let changes: Vec<ChoiceChange> = body
        .into_iter()
        .enumerate()
        .filter_map(|(i, c)| match c.source.as_deref() {
            Some("default") => {
                Some(ChoiceChange::Reset { application: c.application, notification_type: c.notification_type })
            }
            None | Some("custom") => Some(ChoiceChange::Set(CustomChoice {
                application: c.application,
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
    Path((id, application)): Path<(String, String)>,
) -> ApiResult<axum::Json<MetadataView>> {
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
    Path((id, application)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<axum::Json<MetadataView>> {
    let values =
        ops::preferences::save_metadata(&state, &caller.principal, &caller.actor(), &id, &application, &body).await?;
    Ok(axum::Json(MetadataView { application, values }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    pub application: String,
    #[serde(rename = "type")]
    pub notification_type: String,
    /// Whose users to notify.
    pub partner_id: String,
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
) -> ApiResult<axum::Json<NotificationSent>> {
    authz::manage_platform(&caller.principal)?;
    let Some(app) = state.catalogue.application(&body.application) else {
        return Err(FieldError::new("application", format!("unknown application '{}'", body.application)).into());
    };
    let mut errors = Vec::new();
    if !app.notification_types.iter().any(|t| t.key == body.notification_type) {
        errors.push(FieldError::new(
            "type",
            format!("{} has no notification type '{}'", app.name, body.notification_type),
        ));
    }
    let subject = starship_core::domain::Title::parse("subject", &body.subject).map_err(|e| errors.push(e)).ok();
    if body.body.trim().is_empty() || body.body.len() > 100_000 {
        errors.push(FieldError::new("body", "must be between 1 and 100000 bytes"));
    }
    let Some(subject) = subject.filter(|_| errors.is_empty()) else {
        return Err(Invalid(errors).into());
    };
    let mut tx = state.store.begin().await?;
    starship_store::partners::get(&mut tx, &body.partner_id).await?.ok_or(ApiError::NotFound)?;
    let audience = prefs::audience(&mut tx, &body.partner_id, &app.key).await?;
    let recipients: Vec<_> = audience
        .iter()
        .filter(|person| {
            preferences::notification_settings(&state.catalogue, &person.roles, &person.choices)
                .iter()
                .any(|s| s.notification_type == body.notification_type && s.enabled)
        })
        .collect();
    let kind = format!("notification:{}/{}", app.key, body.notification_type);
    let messages: Vec<NewMessage> = recipients
        .iter()
        .map(|p| NewMessage {
            recipient: &p.email,
            user_id: Some(&p.user_id),
            kind: &kind,
            subject: subject.as_str(),
            body: &body.body,
        })
        .collect();
    outbox::enqueue_many(&mut tx, &messages).await?;
    tx.commit().await?;
    Ok(axum::Json(NotificationSent { recipients: messages.len() }))
}
