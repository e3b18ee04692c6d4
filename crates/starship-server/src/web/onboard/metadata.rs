//! After granting: each application's metadata (seed 001) in turn, then
//! the confirmation.

use askama::Template;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use starship_core::ids::{ApplicationKey, GrantId, UserId};

use super::*;
use crate::ops::users::{self};
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;
use crate::web::widgets::{metadata_fields, metadata_from_form, MetadataForm};
use crate::web::{page, refused, Action, Fields, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser};

/// What the wizard carries after granting, from page to page as one
/// hidden field (JSON): the users of this onboarding, the grants made, the
/// metadata saved and the metadata still to fill. Everything in it is read
/// again through `ops` with the viewer's rights, so a changed trail can only
/// name what the viewer could reach anyway.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Trail {
    pub(super) users: Vec<UserId>,
    pub(super) grants: Vec<GrantMade>,
    pub(super) saved: Vec<MetadataSaved>,
    pub(super) queue: Vec<MetadataDue>,
}

/// A grant of this onboarding, and whether it was new (not held before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct GrantMade {
    pub(super) id: GrantId,
    pub(super) new: bool,
}

/// An application whose metadata a user of this onboarding is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct MetadataDue {
    pub(super) user_id: UserId,
    pub(super) application: ApplicationKey,
}

/// Metadata saved in this onboarding, and whether saving it queued the
/// application's email (the academy's, with its link).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct MetadataSaved {
    pub(super) user_id: UserId,
    pub(super) application: ApplicationKey,
    pub(super) emailed: bool,
}

impl Trail {
    /// The trail a wizard page posted back; a trail that does not parse
    /// was not written by these pages.
    fn from_form(form: &Fields) -> Result<Self, OperationError> {
        serde_json::from_str(form.get("trail")).map_err(|_| {
            OperationError::BadRequest("the onboarding's state is malformed: start the onboarding again".into())
        })
    }

    /// The hidden field's value.
    fn encoded(&self) -> String {
        serde_json::to_string(self).expect("a trail is plain strings and booleans")
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
    refused_with: Option<(FormErrors, &Fields)>,
) -> WebResult {
    let Some(due) = trail.queue.first() else {
        return confirmation(state, viewer, &trail).await;
    };
    let app = state.catalogue.application(&due.application).ok_or(OperationError::NotFound)?;
    let user = users::person(state, &viewer.principal, &due.user_id).await?;
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

/// Save metadata (or Skip) for the user at the head of the queue. The form
/// stays `Fields`: besides `trail` and `action`, its field names are the
/// application's metadata keys.
pub async fn metadata_action(State(state): State<AppState>, post: WebPost<Fields>) -> WebResult {
    let viewer = &post.user;
    let mut trail = Trail::from_form(&post.form)?;
    let Some(due) = trail.queue.first().cloned() else {
        return confirmation(&state, viewer, &trail).await;
    };
    if post.form.get("action") == "save" {
        let app = state.catalogue.application(&due.application).ok_or(OperationError::NotFound)?;
        let values = metadata_from_form(&app.metadata_schema, &post.form);
        let actor = viewer.actor();
        match ops::preferences::save_metadata(&state, &viewer.principal, &actor, &due.user_id, &app.key, &values).await
        {
            Ok(saved) => trail.saved.push(MetadataSaved {
                user_id: due.user_id,
                application: app.key.clone(),
                emailed: saved.academy_link.is_some(),
            }),
            Err(e @ (OperationError::Invalid(_) | OperationError::Forbidden(_))) => {
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
    id: UserId,
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
    let ids: Vec<&GrantId> = trail.grants.iter().map(|g| &g.id).collect();
    let (people, found) = ops::users::onboarded(state, &viewer.principal, &trail.users, &ids).await?;
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
                .filter(|saved| saved.user_id == u.id)
                .filter_map(|saved| {
                    let app = state.catalogue.application(&saved.application)?;
                    Some(SavedFor {
                        application: app.name.clone(),
                        emailed_link: (saved.emailed && app.key == starship_core::catalogue::keys::PRODUCTION_ACADEMY)
                            .then(|| app.url.clone()),
                    })
                })
                .collect(),
        })
        .collect();
    let mut granted = 0;
    for (made, grant) in trail.grants.iter().zip(found) {
        let Some(grant) = grant else { continue };
        let Some(user) = users.iter_mut().find(|u| u.id == grant.user_id) else { continue };
        let production = grant.role.production.map(|p| p.get());
        user.roles.push(ConfirmRole {
            label: role_label(state, &productions, &grant.role.application, &grant.role.role, production),
            new: made.new,
        });
        granted += 1;
    }
    page(&ConfirmationPage { layout: viewer.layout(state, "Onboarding complete", Section::Users), users, granted })
}
