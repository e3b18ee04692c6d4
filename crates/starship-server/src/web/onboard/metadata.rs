//! After granting: each application's metadata (seed 001) in turn, then
//! the confirmation.

use askama::Template;
use axum::extract::State;

use super::*;
use crate::ops::people::{self};
use crate::ops::{self};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::web::widgets::{metadata_fields, metadata_from_form, MetadataForm};
use crate::web::{page, refused, FormErrors, Layout, Section, WebPost, WebResult, WebUser};

/// What the wizard carries after granting: the users of this onboarding,
/// the grants made (`id|1` when new), the metadata saved (`user|application`,
/// then `|emailed` when the save queued the academy email) and still to
/// fill (`user|application`).
#[derive(Default)]
pub(super) struct Trail {
    pub(super) users: Vec<String>,
    pub(super) grants: Vec<String>,
    pub(super) saved: Vec<String>,
    pub(super) queue: Vec<String>,
}

impl Trail {
    fn from_form(form: &crate::web::Fields) -> Self {
        let all = |name: &str| form.all(name).into_iter().map(str::to_string).collect();
        Self { users: all("user"), grants: all("grant"), saved: all("saved"), queue: all("queue") }
    }
}

#[derive(Template)]
#[template(path = "onboard_metadata.html")]
struct MetadataStepPage {
    layout: Layout,
    csrf: String,
    user_name: String,
    user_email: String,
    form: MetadataForm,
    trail: Trail,
}

/// The next metadata form to fill, or the confirmation when none is left.
pub(super) async fn next_step(
    state: &AppState,
    viewer: &WebUser,
    trail: Trail,
    refused_with: Option<(FormErrors, &crate::web::Fields)>,
) -> WebResult {
    let Some((user_id, application)) = trail.queue.first().and_then(|s| s.split_once('|')) else {
        return confirmation(state, viewer, &trail).await;
    };
    let app = state.catalogue.application(application).ok_or(ApiError::NotFound)?;
    let user = people::person(state, &viewer.principal, user_id).await?;
    let saved = ops::preferences::metadata(state, &viewer.principal, &user.id, &app.key).await?;
    let (values, errors) = match &refused_with {
        Some((errors, form)) => (metadata_from_form(&app.metadata_schema, form), errors.clone()),
        None => (saved, FormErrors::default()),
    };
    let step = MetadataStepPage {
        layout: viewer.layout(state, format!("{} metadata", app.name), Section::Users),
        csrf: viewer.csrf.clone(),
        user_name: user.full_name(),
        user_email: user.email.clone(),
        form: MetadataForm {
            application: app.key.clone(),
            name: app.name.clone(),
            fields: metadata_fields(&app.metadata_schema, &values),
            errors,
            denied: None,
        },
        trail,
    };
    if refused_with.is_some() {
        refused(&step)
    } else {
        page(&step)
    }
}

/// Save metadata (or Skip) for the user at the head of the queue.
pub async fn metadata_action(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let mut trail = Trail::from_form(&post.form);
    let Some(current) = trail.queue.first().cloned() else {
        return confirmation(&state, viewer, &trail).await;
    };
    if post.form.get("action") == "save" {
        let (user_id, application) = current.split_once('|').unwrap_or((&current, ""));
        let app = state.catalogue.application(application).ok_or(ApiError::NotFound)?;
        let values = metadata_from_form(&app.metadata_schema, &post.form);
        let actor = viewer.actor();
        match ops::preferences::save_metadata(&state, &viewer.principal, &actor, user_id, &app.key, &values).await {
            Ok(saved) if saved.academy_link.is_some() => trail.saved.push(format!("{current}|emailed")),
            Ok(_) => trail.saved.push(current.clone()),
            Err(e @ (ApiError::Invalid(_) | ApiError::Forbidden(_))) => {
                let known: Vec<&str> = app.metadata_schema.iter().map(|f| f.key.as_str()).collect();
                let errors = FormErrors::from_error(e, &known)?;
                return next_step(&state, viewer, trail, Some((errors, &post.form))).await;
            }
            Err(other) => return Err(other.into()),
        }
    }
    trail.queue.remove(0);
    next_step(&state, viewer, trail, None).await
}

struct ConfirmRole {
    label: String,
    new: bool,
}

struct SavedFor {
    application: String,
    /// The link the academy email carries, which an admin may also share.
    emailed_link: Option<String>,
}

struct ConfirmUser {
    id: String,
    name: String,
    email: String,
    roles: Vec<ConfirmRole>,
    metadata: Vec<SavedFor>,
}

#[derive(Template)]
#[template(path = "onboard_confirmation.html")]
struct ConfirmationPage {
    layout: Layout,
    users: Vec<ConfirmUser>,
    granted: usize,
}

/// Every user of this onboarding and every role just granted to them.
pub(super) async fn confirmation(state: &AppState, viewer: &WebUser, trail: &Trail) -> WebResult {
    let entries: Vec<(&str, &str)> = trail.grants.iter().map(|e| e.split_once('|').unwrap_or((e, "0"))).collect();
    let ids: Vec<&str> = entries.iter().map(|(id, _)| *id).collect();
    let (people, found) = ops::onboarded(state, &viewer.principal, &trail.users, &ids).await?;
    let productions = ops::platform::productions(state).await?;
    let mut users: Vec<ConfirmUser> = people
        .iter()
        .map(|u| ConfirmUser {
            id: u.id.clone(),
            name: u.full_name(),
            email: u.email.clone(),
            roles: vec![],
            metadata: trail
                .saved
                .iter()
                .filter_map(|s| s.split_once('|'))
                .filter(|(user, _)| *user == u.id)
                .filter_map(|(_, saved)| {
                    let (key, emailed) = saved.split_once('|').map_or((saved, false), |(k, e)| (k, e == "emailed"));
                    let app = state.catalogue.application(key)?;
                    Some(SavedFor {
                        application: app.name.clone(),
                        emailed_link: (emailed && app.key == starship_core::catalogue::keys::PRODUCTION_ACADEMY)
                            .then(|| app.url.clone()),
                    })
                })
                .collect(),
        })
        .collect();
    let mut granted = 0;
    for ((_, new), grant) in entries.iter().zip(found) {
        let Some(grant) = grant else { continue };
        let Some(user) = users.iter_mut().find(|u| u.id == grant.user_id) else { continue };
        let production = grant.role.production.map(|p| p.get());
        user.roles.push(ConfirmRole {
            label: role_label(state, &productions, &grant.role.application, &grant.role.role, production),
            new: *new == "1",
        });
        granted += 1;
    }
    page(&ConfirmationPage { layout: viewer.layout(state, "Onboarding complete", Section::Users), users, granted })
}
