//! The Notifications and Application Metadata tabs, and notifications
//! applications send through Starship.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use starship_core::authz;
use starship_core::catalogue::keys;
use starship_core::preferences::{self, CustomChoice, NotificationSetting};
use starship_core::{FieldError, Invalid};
use starship_store::outbox::{self, NewMessage};
use starship_store::preferences as prefs;
use starship_store::{history, users};
use utoipa::ToSchema;

use crate::api::users::visible_user;
use crate::email;
use crate::extract::{ApiJson, Caller};
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
    let mut conn = state.store.conn().await?;
    let user = visible_user(&mut conn, &caller.principal, &id).await?;
    authz::see_notifications(&caller.principal, &user.id, user.partner_id.as_deref().unwrap_or(""))?;
    let roles = users::roles_of(&mut conn, &user.id).await?;
    let choices = prefs::choices_of(&mut conn, &user.id).await?;
    Ok(axum::Json(preferences::notification_settings(&state.catalogue, &roles, &choices)))
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
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, &caller.principal, &id).await?;
    let partner = user.partner_id.clone().unwrap_or_default();
    for choice in &body {
        authz::user_metadata(&caller.principal, &user.id, &partner, &choice.application)?;
    }
    let mut errors = Vec::new();
    for (i, choice) in body.iter().enumerate() {
        if !matches!(choice.source.as_deref(), None | Some("custom") | Some("default")) {
            errors.push(FieldError::new(format!("[{i}].source"), "must be custom or default"));
        }
    }
    if !errors.is_empty() {
        return Err(Invalid(errors).into());
    }
    let requested: Vec<CustomChoice> = body
        .iter()
        .map(|c| CustomChoice {
            application: c.application.clone(),
            notification_type: c.notification_type.clone(),
            enabled: c.enabled,
        })
        .collect();
    let roles = users::roles_of(&mut tx, &user.id).await?;
    preferences::check_choices(&state.catalogue, &roles, &requested)?;
    let mut changes = Vec::new();
    for (choice, body) in requested.iter().zip(&body) {
        if body.source.as_deref() == Some("default") {
            prefs::clear_choice(&mut tx, &user.id, &choice.application, &choice.notification_type).await?;
            changes.push(
                json!({"application": choice.application, "type": choice.notification_type, "source": "default"}),
            );
        } else {
            prefs::set_choice(&mut tx, &user.id, choice).await?;
            changes.push(
                json!({"application": choice.application, "type": choice.notification_type, "enabled": choice.enabled}),
            );
        }
    }
    if !changes.is_empty() {
        history::append(&mut tx, &user.id, &caller.actor(), "notifications.changed", json!({"changes": changes}))
            .await?;
    }
    let choices = prefs::choices_of(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(axum::Json(preferences::notification_settings(&state.catalogue, &roles, &choices)))
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
    let app = state.catalogue.application(&application).ok_or(ApiError::NotFound)?;
    let mut conn = state.store.conn().await?;
    let user = visible_user(&mut conn, &caller.principal, &id).await?;
    authz::user_metadata(&caller.principal, &user.id, user.partner_id.as_deref().unwrap_or(""), &app.key)?;
    let values = prefs::metadata_of(&mut conn, &user.id, &app.key).await?.unwrap_or_default();
    Ok(axum::Json(MetadataView { application: app.key.clone(), values }))
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
    let app = state.catalogue.application(&application).ok_or(ApiError::NotFound)?;
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, &caller.principal, &id).await?;
    authz::user_metadata(&caller.principal, &user.id, user.partner_id.as_deref().unwrap_or(""), &app.key)?;
    let values = preferences::check_metadata(&app.metadata_schema, &body)?;
    let roles = users::roles_of(&mut tx, &user.id).await?;
    if !roles.iter().any(|r| r.application == app.key) {
        return Err(FieldError::new("application", format!("the user holds no role in {}", app.name)).into());
    }
    let before = prefs::metadata_of(&mut tx, &user.id, &app.key).await?;
    prefs::set_metadata(&mut tx, &user.id, &app.key, &values).await?;
    history::append(
        &mut tx,
        &user.id,
        &caller.actor(),
        "metadata.saved",
        json!({"application": app.key, "from": before, "to": values}),
    )
    .await?;
    let academy_learner = app.key == keys::PRODUCTION_ACADEMY && roles.iter().any(|r| r.role == keys::ACADEMY_USER);
    if academy_learner && before.as_ref().and_then(|b| b.get("courses")) != values.get("courses") {
        let courses = course_names(&state, &values);
        let mail = email::academy_courses(&user.locale, &user.first_name, &courses, &app.url);
        outbox::enqueue(
            &mut tx,
            &NewMessage {
                recipient: &user.email,
                user_id: Some(&user.id),
                kind: "academy-courses",
                subject: &mail.subject,
                body: &mail.body,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(axum::Json(MetadataView { application: app.key.clone(), values }))
}

fn course_names(state: &AppState, values: &Map<String, Value>) -> Vec<String> {
    let field = state
        .catalogue
        .application(keys::PRODUCTION_ACADEMY)
        .and_then(|a| a.metadata_schema.iter().find(|f| f.key == "courses"));
    values
        .get("courses")
        .and_then(Value::as_array)
        .map(|chosen| {
            chosen
                .iter()
                .filter_map(Value::as_str)
                .map(|tag| {
                    field
                        .and_then(|f| f.options.iter().find(|o| o.value == tag))
                        .map_or_else(|| tag.to_string(), |o| format!("{} ({tag})", o.name))
                })
                .collect()
        })
        .unwrap_or_default()
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
