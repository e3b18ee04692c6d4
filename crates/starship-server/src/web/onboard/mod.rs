//! Creating and onboarding users, as seed 000 walks through it: Add User →
//! names and locale → Select Permissions → roles dialog → Assign
//! Permissions to Users → Grant roles → (application metadata, seed 001) →
//! confirmation → Exit Onboarding; and Bulk Add Users → Apply → review →
//! Next → roles or Skip Roles.
//!
//! The wizard keeps its state in the pages themselves (the users of this
//! onboarding, the roles assigned but not yet granted, the grants made):
//! every step is checked again by the operations, so nothing in that state
//! is trusted.

mod bulk;
mod metadata;
mod permissions;

pub use bulk::bulk;
pub use metadata::metadata_action;
pub use permissions::{permissions, permissions_action};

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use starship_core::authz::{self, Principal};
use starship_core::domain::{Email, SUPPORTED_LOCALES};
use starship_core::ids::{PartnerId, UserId, NO_PARTNER};
use starship_store::partners::Production;
use starship_store::users::User;

use super::page::ProfileAt;
use super::widgets::{production_labels, Choice};
use super::{page, refused, see_other, Action, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops::users::{self, PersonInput};
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;

fn locale_choices(selected: &str) -> Vec<Choice> {
    SUPPORTED_LOCALES
        .iter()
        .map(|tag| Choice {
            value: tag.to_string(),
            name: tag.to_string(),
            description: String::new(),
            selected: tag.eq_ignore_ascii_case(selected),
        })
        .collect()
}

/// Operators pick the partner a new user joins; partner users add to their own.
async fn partner_choices(state: &AppState, caller: &Principal, selected: &str) -> WebResult<Vec<Choice>> {
    if !caller.operator {
        return Ok(vec![]);
    }
    Ok(ops::platform::partners(state, caller)
        .await?
        .into_iter()
        .map(|p| Choice {
            selected: p.id == selected,
            value: p.id.into_string(),
            name: p.name,
            description: String::new(),
        })
        .collect())
}

/// The partner a new user joins, as the form names it (operators choose;
/// anyone else's form has no choice).
fn target_partner(caller: &Principal, chosen: &str) -> Result<PartnerId, OperationError> {
    users::target_partner(caller, Some(PartnerId::from(chosen)).filter(|p| !p.is_empty()).as_ref())
}

/// Add User's first step, and its second with the names and locale.
#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    locale: String,
}

#[derive(Template)]
#[template(path = "onboard_start.html")]
struct StartPage {
    layout: Layout,
    csrf: String,
    email: String,
    rows: String,
    partners: Vec<Choice>,
    errors: FormErrors,
    bulk_errors: FormErrors,
    open_bulk: bool,
    /// The profile of the person who has the address already, when the
    /// viewer may open it.
    existing_profile: Option<String>,
}

impl StartPage {
    async fn new(state: &AppState, viewer: &WebUser) -> WebResult<Self> {
        if !viewer.principal.operator {
            let own = viewer.principal.partner_id.as_ref().unwrap_or(&NO_PARTNER);
            authz::create_user(&viewer.principal, &state.catalogue, own)?;
        }
        Ok(Self {
            layout: viewer.layout(state, "Create and Onboard", Section::Users),
            csrf: viewer.csrf.clone(),
            email: String::new(),
            rows: String::new(),
            partners: partner_choices(state, &viewer.principal, "").await?,
            errors: FormErrors::default(),
            bulk_errors: FormErrors::default(),
            open_bulk: false,
            existing_profile: None,
        })
    }
}

/// "Create and Onboard": the Add User box and Bulk Add Users.
pub async fn create_and_onboard(State(state): State<AppState>, viewer: WebUser) -> WebResult {
    page(&StartPage::new(&state, &viewer).await?)
}

#[derive(Template)]
#[template(path = "onboard_details.html")]
struct DetailsPage {
    layout: Layout,
    csrf: String,
    email: String,
    first_name: String,
    last_name: String,
    locales: Vec<Choice>,
    partner_id: PartnerId,
    partner_name: String,
    errors: FormErrors,
    /// Onboarding an existing user: their details, read only.
    existing: Option<User>,
}

impl DetailsPage {
    /// The field focus lands on: the first one in error, else the first name.
    fn autofocus(&self, field: &str) -> bool {
        let first_wrong = ["email", "first_name", "last_name", "locale"].into_iter().find(|f| self.errors.has(f));
        first_wrong.unwrap_or("first_name") == field
    }
}

async fn partner_name(state: &AppState, viewer: &Principal, partner_id: &PartnerId) -> Result<String, OperationError> {
    Ok(ops::platform::partner(state, viewer, partner_id).await?.map(|p| p.name).unwrap_or_default())
}

/// Add User: the email, then the names and locale.
pub async fn add_user(State(state): State<AppState>, post: WebPost<PersonForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let mut start = StartPage::new(&state, viewer).await?;
    let partner_id = match target_partner(&viewer.principal, &form.partner_id) {
        Ok(p) => p,
        Err(e) => {
            start.errors = FormErrors::from_error(e, &["partner_id"])?;
            start.email = form.email.clone();
            return refused(&start);
        }
    };
    let email = match Email::parse("email", &form.email) {
        Ok(email) => email,
        Err(e) => {
            start.errors = FormErrors::field("email", e.reason);
            start.email = form.email.clone();
            return refused(&start);
        }
    };
    // A taken address is caught here, before the names are typed: with a
    // link to the person for one's own partner, the API's neutral answer
    // for anyone else's.
    let taken = match users::email_in_use(&state, &viewer.principal, &partner_id, &email).await {
        Ok(users::EmailInUse::Free) => None,
        Ok(users::EmailInUse::Ours { user_id }) => {
            start.existing_profile = Some(Page::Profile { id: user_id, at: ProfileAt::default() }.to_string());
            Some(FormErrors::field("email", starship_store::users::EMAIL_TAKEN))
        }
        Ok(users::EmailInUse::Elsewhere) => Some(FormErrors::field("email", starship_store::users::EMAIL_UNAVAILABLE)),
        Err(e @ (OperationError::Throttled { .. } | OperationError::Forbidden(_))) => {
            Some(FormErrors::from_error(e, &[])?)
        }
        Err(other) => return Err(other.into()),
    };
    if let Some(errors) = taken {
        start.errors = errors;
        start.email = form.email.clone();
        return refused(&start);
    }
    let partner_name = partner_name(&state, &viewer.principal, &partner_id).await?;
    page(&DetailsPage {
        layout: viewer.layout(&state, "Add User", Section::Users),
        csrf: viewer.csrf.clone(),
        email: form.email.trim().to_string(),
        first_name: String::new(),
        last_name: String::new(),
        locales: locale_choices("en-US"),
        partner_id,
        partner_name,
        errors: FormErrors::default(),
        existing: None,
    })
}

/// Next: creates the user (who is emailed an activation link), then on to
/// Select Permissions.
pub async fn create_user(State(state): State<AppState>, post: WebPost<PersonForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner_id = target_partner(&viewer.principal, &form.partner_id)?;
    let input = PersonInput {
        email: form.email.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        locale: form.locale.clone(),
        portal_access: true,
        ..Default::default()
    };
    match users::create_person(&state, &viewer.principal, &viewer.actor(), &partner_id, &input).await {
        Ok(user) => see_other(Page::OnboardPermissions { users: vec![user.id], bulk: false }),
        Err(error @ (OperationError::Invalid(_) | OperationError::Conflict(_) | OperationError::Forbidden(_))) => {
            let errors = match error {
                OperationError::Conflict(why) => FormErrors::field("email", why),
                other => FormErrors::from_error(other, &["email", "first_name", "last_name", "locale"])?,
            };
            let partner_name = partner_name(&state, &viewer.principal, &partner_id).await?;
            refused(&DetailsPage {
                layout: viewer.layout(&state, "Add User", Section::Users),
                csrf: viewer.csrf.clone(),
                email: input.email,
                first_name: input.first_name,
                last_name: input.last_name,
                locales: locale_choices(&input.locale),
                partner_id,
                partner_name,
                errors,
                existing: None,
            })
        }
        Err(other) => Err(other.into()),
    }
}

/// The Onboard button of a profile: the user's details, then Next.
pub async fn start(
    State(state): State<AppState>,
    viewer: WebUser,
    Query(query): Query<Vec<(String, String)>>,
) -> WebResult {
    let id = UserId::from(query.iter().find(|(k, _)| k == "user").map_or("", |(_, v)| v.as_str()));
    let user = users::person(&state, &viewer.principal, &id).await?;
    let partner_name = match &user.partner_id {
        Some(p) => partner_name(&state, &viewer.principal, p).await?,
        None => String::new(),
    };
    page(&DetailsPage {
        layout: viewer.layout(&state, "Onboard", Section::Users),
        csrf: viewer.csrf.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        locales: locale_choices(&user.locale),
        partner_id: user.partner().clone(),
        partner_name,
        errors: FormErrors::default(),
        existing: Some(user),
    })
}

pub(super) fn role_label(
    state: &AppState,
    productions: &[Production],
    application: &str,
    role: &str,
    production: Option<i64>,
) -> String {
    let app = state.catalogue.application(application).map_or(application, |a| a.name.as_str());
    let role = state.catalogue.role(application, role).map_or(role, |r| r.name.as_str());
    match production {
        Some(p) => {
            let label = production_labels(productions).get(&p).cloned().unwrap_or_else(|| p.to_string());
            format!("{app} · {role} · {label}")
        }
        None => format!("{app} · {role}"),
    }
}
