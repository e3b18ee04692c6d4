//! Notification choices and application metadata: shared by the API and
//! the web pages.

use serde_json::{json, Map, Value};
use starship_core::authz::{self, Principal};
use starship_core::catalogue::keys;
use starship_core::history::Kind;
use starship_core::ids::{ApplicationKey, PartnerId, UserId};
use starship_core::preferences::{self, CustomChoice, NotificationSetting};
use starship_core::{FieldError, Invalid};
use starship_store::history::{self, Actor};
use starship_store::outbox::{self, NewMessage};
use starship_store::partners;
use starship_store::preferences as prefs;
use starship_store::users;

use crate::email;
use crate::ops::users::visible_user;
use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

/// One change to a user's notification choices.
#[derive(Debug, Clone)]
pub enum ChoiceChange {
    /// The user's own choice, whatever the roles say.
    Set(CustomChoice),
    /// Forget the choice; the roles decide again.
    Reset { application: ApplicationKey, notification_type: String },
}

impl ChoiceChange {
    fn application(&self) -> &str {
        match self {
            Self::Set(c) => &c.application,
            Self::Reset { application, .. } => application,
        }
    }

    fn as_choice(&self) -> CustomChoice {
        match self {
            Self::Set(c) => c.clone(),
            Self::Reset { application, notification_type } => CustomChoice {
                application: application.clone(),
                notification_type: notification_type.clone(),
                enabled: false,
            },
        }
    }
}

pub async fn notification_settings(
    state: &AppState,
    caller: &Principal,
    user_id: &UserId,
) -> OperationResult<Vec<NotificationSetting>> {
    let mut conn = state.store.conn().await?;
    let user = visible_user(&mut conn, caller, user_id).await?;
    authz::see_notifications(caller, &user.id, user.partner())?;
    let roles = users::roles_of(&mut conn, &user.id).await?;
    let choices = prefs::choices_of(&mut conn, &user.id).await?;
    Ok(preferences::notification_settings(&state.catalogue, &roles, &choices))
}

/// Applies choices: each must name a type the user may receive.
pub async fn change_notifications(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    changes: &[ChoiceChange],
) -> OperationResult<Vec<NotificationSetting>> {
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let partner = user.partner().clone();
    // The answer holds every setting of the person, so reading them is part
    // of changing them, even when the list of changes is empty.
    authz::see_notifications(caller, &user.id, &partner)?;
    let roles = users::roles_of(&mut tx, &user.id).await?;
    for change in changes {
        authz::user_metadata(caller, (&user.id, &partner), &roles, change.application())?;
    }
    let requested: Vec<CustomChoice> = changes.iter().map(ChoiceChange::as_choice).collect();
    preferences::check_choices(&state.catalogue, &roles, &requested)?;
    let mut recorded = Vec::new();
    for change in changes {
        match change {
            ChoiceChange::Reset { application, notification_type } => {
                prefs::clear_choice(&mut tx, &user.id, application, notification_type).await?;
                recorded.push(json!({"application": application, "type": notification_type, "source": "default"}));
            }
            ChoiceChange::Set(choice) => {
                prefs::set_choice(&mut tx, &user.id, choice).await?;
                recorded.push(json!({"application": choice.application, "type": choice.notification_type, "enabled": choice.enabled}));
            }
        }
    }
    if !recorded.is_empty() {
        history::append(&mut tx, &user.id, actor, Kind::NotificationsChanged, json!({"changes": recorded})).await?;
    }
    let choices = prefs::choices_of(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(preferences::notification_settings(&state.catalogue, &roles, &choices))
}

pub async fn metadata(
    state: &AppState,
    caller: &Principal,
    user_id: &UserId,
    application: &str,
) -> OperationResult<Map<String, Value>> {
    let app = state.catalogue.application(application).ok_or(OperationError::NotFound)?;
    let mut conn = state.store.conn().await?;
    let user = visible_user(&mut conn, caller, user_id).await?;
    let roles = users::roles_of(&mut conn, &user.id).await?;
    authz::user_metadata(caller, (&user.id, user.partner()), &roles, &app.key)?;
    Ok(prefs::metadata_of(&mut conn, &user.id, &app.key).await?.unwrap_or_default())
}

/// Metadata as saved, and the link to Production Academy when the save
/// queued the academy email (seed 001: an admin may share it directly).
pub struct SavedMetadata {
    pub values: Map<String, Value>,
    pub academy_link: Option<String>,
}

/// Saves metadata checked against the application's schema (every bad
/// field named, nothing saved). Seed 001: an Academy User whose courses
/// change gets an email with the link to Production Academy.
pub async fn save_metadata(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    user_id: &UserId,
    application: &str,
    input: &Map<String, Value>,
) -> OperationResult<SavedMetadata> {
    let app = state.catalogue.application(application).ok_or(OperationError::NotFound)?;
    let mut tx = state.store.begin().await?;
    let user = visible_user(&mut tx, caller, user_id).await?;
    let roles = users::roles_of(&mut tx, &user.id).await?;
    authz::user_metadata(caller, (&user.id, user.partner()), &roles, &app.key)?;
    let values = preferences::check_metadata(&app.metadata_schema, input)?;
    if !roles.iter().any(|r| r.application == app.key) {
        return Err(
            Invalid(vec![FieldError::new("application", format!("the user holds no role in {}", app.name))]).into()
        );
    }
    let before = prefs::metadata_of(&mut tx, &user.id, &app.key).await?;
    prefs::set_metadata(&mut tx, &user.id, &app.key, &values).await?;
    history::append(
        &mut tx,
        &user.id,
        actor,
        Kind::MetadataSaved,
        json!({"application": app.key, "from": before, "to": values}),
    )
    .await?;
    let academy_learner = app.key == keys::PRODUCTION_ACADEMY && roles.iter().any(|r| r.role == keys::ACADEMY_USER);
    let mut academy_link = None;
    if academy_learner && before.as_ref().and_then(|b| b.get("courses")) != values.get("courses") {
        let courses = course_names(state, &values);
        let mail = email::academy_courses(&user.locale, &user.first_name, &courses, &app.url);
        outbox::enqueue(&mut tx, &mail.to(&user, "academy-courses")).await?;
        academy_link = Some(app.url.clone());
    }
    tx.commit().await?;
    Ok(SavedMetadata { values, academy_link })
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

/// A notification an operator sends to a partner's people.
pub struct Notification<'a> {
    pub application: &'a str,
    pub notification_type: &'a str,
    pub partner_id: &'a PartnerId,
    pub subject: &'a str,
    pub body: &'a str,
}

/// Queues a notification for everyone at the partner whose settings turn
/// its type on (operators); answers how many it reaches.
pub async fn send_notification(state: &AppState, caller: &Principal, n: &Notification<'_>) -> OperationResult<usize> {
    authz::manage_platform(caller)?;
    let Some(app) = state.catalogue.application(n.application) else {
        return Err(FieldError::new("application", format!("unknown application '{}'", n.application)).into());
    };
    let mut errors = Vec::new();
    if !app.notification_types.iter().any(|t| t.key == n.notification_type) {
        errors
            .push(FieldError::new("type", format!("{} has no notification type '{}'", app.name, n.notification_type)));
    }
    let subject = starship_core::domain::Title::parse("subject", n.subject).map_err(|e| errors.push(e)).ok();
    if n.body.trim().is_empty() || n.body.len() > 100_000 {
        errors.push(FieldError::new("body", "must be between 1 and 100000 bytes"));
    }
    let Some(subject) = subject.filter(|_| errors.is_empty()) else {
        return Err(Invalid(errors).into());
    };
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, n.partner_id).await?.ok_or(OperationError::NotFound)?;
    let audience = prefs::audience(&mut tx, n.partner_id, &app.key).await?;
    let recipients: Vec<_> = audience
        .iter()
        .filter(|person| {
            preferences::notification_settings(&state.catalogue, &person.roles, &person.choices)
                .iter()
                .any(|s| s.notification_type == n.notification_type && s.enabled)
        })
        .collect();
    let kind = format!("notification:{}/{}", app.key, n.notification_type);
    let messages: Vec<NewMessage> = recipients
        .iter()
        .map(|p| NewMessage {
            recipient: &p.email,
            user_id: Some(&p.user_id),
            kind: &kind,
            subject: subject.as_str(),
            body: n.body,
        })
        .collect();
    outbox::enqueue_many(&mut tx, &messages).await?;
    tx.commit().await?;
    Ok(messages.len())
}
