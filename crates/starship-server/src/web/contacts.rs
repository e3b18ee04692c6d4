//! The Partner Portal's Users grid: contacts and portal users, its +
//! button, and the side panel that edits one contact.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::ids::UserId;
use starship_core::portal::{PortalAction, PortalLevel, Standing};
use starship_store::sites::Site;

use super::page::{word, ContactsDone};
use super::portal::{choices, level_name, own_partner};
use super::widgets::Choice;
use super::{
    capitalised, page, refused, see_other, Action, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser,
};
use crate::ops::contacts::{ContactEdit, ContactRow};
use crate::ops::users::{PersonInput, ProfileEdit};
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;

fn parse_level(value: &str) -> Option<PortalLevel> {
    PortalLevel::from_role_key(value)
}

struct GridRow {
    id: UserId,
    name: String,
    email: String,
    phone: String,
    roles: Vec<String>,
    sites: Vec<String>,
    access: String,
    access_class: &'static str,
    current: bool,
}

/// The side panel: one contact and what the viewer may do to them.
struct Panel {
    id: UserId,
    name: String,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    access: String,
    is_self: bool,
    edit_details: bool,
    administer: bool,
    invited_or_user: bool,
    /// Two-step sign-in is on, and the viewer may reset it.
    can_reset_mfa: bool,
    /// Contact roles and sites, which the read-only level may not change.
    edit_links: bool,
    /// Levels the viewer may give (invite, or change to).
    levels: Vec<Choice>,
    roles: Vec<Choice>,
    sites: Vec<Choice>,
    errors: FormErrors,
}

struct NewContact {
    roles: Vec<Choice>,
    sites: Vec<Choice>,
    locales: Vec<Choice>,
    levels: Vec<Choice>,
    /// The + form as submitted, when refused.
    values: ContactForm,
    errors: FormErrors,
    open: bool,
}

/// The + button's form and the side panel's forms (which one its `action`
/// says); each sends the fields it shows.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ContactForm {
    action: String,
    email: String,
    first_name: String,
    last_name: String,
    phone: String,
    locale: Option<String>,
    /// "1" when the contact is invited to the portal.
    invite: String,
    level: String,
    contact_roles: Vec<String>,
    sites: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal_users.html")]
struct UsersPage {
    layout: Layout,
    csrf: String,
    rows: Vec<GridRow>,
    can_create: bool,
    new: NewContact,
    panel: Option<Panel>,
    notice: Option<&'static str>,
    level: String,
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    edit: Option<UserId>,
    #[serde(default, deserialize_with = "word")]
    done: Option<ContactsDone>,
}

fn access_of(row: &ContactRow) -> (String, &'static str) {
    match (row.standing, row.user.status) {
        (Standing::NoAccess, _) => ("No portal access".into(), "contact"),
        (Standing::User(level), starship_core::domain::UserStatus::Pending) => {
            (format!("{} · invited", level_name(level)), "pending")
        }
        (Standing::User(level), _) => (level_name(level).to_string(), "active"),
    }
}

fn site_names(sites: &[Site], ids: &[String]) -> Vec<String> {
    ids.iter().filter_map(|id| sites.iter().find(|s| &s.id == id).map(|s| s.name.clone())).collect()
}

fn role_names(state: &AppState, keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            state.catalogue.contact_roles.iter().find(|r| &r.key == k).map_or_else(|| k.clone(), |r| r.name.clone())
        })
        .collect()
}

/// What a form posted back is shown with: the refused values and errors.
#[derive(Default)]
struct Refusal {
    new_contact: Option<(ContactForm, FormErrors)>,
    panel: Option<(UserId, FormErrors, ContactForm)>,
}

async fn users_page(state: &AppState, viewer: &WebUser, query: &UsersQuery, refusal: Refusal) -> WebResult {
    let partner = own_partner(viewer)?;
    let contacts = ops::contacts::contacts(state, &viewer.principal, &partner).await?;
    let sites = ops::sites::sites(state, &viewer.principal, &partner).await?;
    let principal = &viewer.principal;
    let edit_id = match &refusal.panel {
        Some((id, _, _)) => Some(id.clone()),
        None => query.edit.clone(),
    };

    let rows = contacts
        .iter()
        .map(|c| {
            let (access, access_class) = access_of(c);
            GridRow {
                id: c.user.id.clone(),
                name: c.user.full_name(),
                email: c.user.email.clone(),
                phone: c.user.phone.clone().unwrap_or_default(),
                roles: role_names(state, &c.contact_roles),
                sites: site_names(&sites, &c.sites),
                access,
                access_class,
                current: edit_id.as_deref() == Some(c.user.id.as_str()),
            }
        })
        .collect();

    let panel = match edit_id {
        None => None,
        Some(id) => {
            let contact = contacts.iter().find(|c| c.user.id == id).ok_or(OperationError::NotFound)?;
            let target = Some((&contact.user.id, contact.standing));
            let has_mfa = ops::session::mfa_on(state, &contact.user).await?;
            let held = ops::session::principal_of(state, &contact.user).await?;
            let in_reach = authz::act_on_person(principal, &held, Ok(())).is_ok();
            let allowed = |action| in_reach && authz::portal(principal, action, &partner, target).is_ok();
            let administer = allowed(PortalAction::UserAdministration) && !principal.is(&contact.user.id);
            let levels = PortalLevel::ALL
                .into_iter()
                .filter(|l| {
                    in_reach
                        && authz::set_portal_level(principal, &partner, (&contact.user.id, contact.standing), *l)
                            .is_ok()
                })
                .map(|l| Choice {
                    value: l.role_key().to_string(),
                    name: level_name(l).to_string(),
                    description: String::new(),
                    selected: contact.level == Some(l),
                })
                .collect();
            let (errors, submitted) = match &refusal.panel {
                Some((_, errors, form)) => (errors.clone(), Some(form)),
                None => (FormErrors::default(), None),
            };
            // Only the details form sends the names and phone: other refused forms show them as saved.
            let details = submitted.filter(|form| form.action == "details");
            let field = |typed: fn(&ContactForm) -> &str, saved: &str| details.map_or(saved, typed).to_string();
            let roles: Vec<&str> = contact.contact_roles.iter().map(String::as_str).collect();
            let linked: Vec<&str> = contact.sites.iter().map(String::as_str).collect();
            Some(Panel {
                id: contact.user.id.clone(),
                name: contact.user.full_name(),
                first_name: field(|f| &f.first_name, &contact.user.first_name),
                last_name: field(|f| &f.last_name, &contact.user.last_name),
                email: contact.user.email.clone(),
                phone: field(|f| &f.phone, contact.user.phone.as_deref().unwrap_or_default()),
                access: access_of(contact).0,
                is_self: principal.is(&contact.user.id),
                edit_details: allowed(PortalAction::EditDetails),
                edit_links: in_reach
                    && authz::edit_contact_links(principal, &partner, (&contact.user.id, contact.standing)).is_ok(),
                administer,
                invited_or_user: matches!(contact.standing, Standing::User(_)),
                can_reset_mfa: administer && has_mfa,
                levels,
                roles: choices(state.catalogue.contact_roles.iter().map(|r| (r.key.clone(), r.name.clone())), &roles),
                sites: choices(sites.iter().map(|s| (s.id.clone(), format!("{} ({})", s.name, s.location))), &linked),
                errors,
            })
        }
    };

    let can_create = authz::create_person(principal, &state.catalogue, &partner, None).is_ok();
    let (values, new_errors, open) = match refusal.new_contact {
        Some((values, errors)) => (values, errors, true),
        None => (ContactForm::default(), FormErrors::default(), false),
    };
    let chosen_roles: Vec<&str> = values.contact_roles.iter().map(String::as_str).collect();
    let chosen_sites: Vec<&str> = values.sites.iter().map(String::as_str).collect();
    let locale = values.locale.clone().unwrap_or_else(|| "en-US".to_string());
    let new = NewContact {
        roles: choices(state.catalogue.contact_roles.iter().map(|r| (r.key.clone(), r.name.clone())), &chosen_roles),
        sites: choices(sites.iter().map(|s| (s.id.clone(), format!("{} ({})", s.name, s.location))), &chosen_sites),
        locales: starship_core::domain::SUPPORTED_LOCALES
            .iter()
            .map(|t| Choice {
                value: t.to_string(),
                name: t.to_string(),
                description: String::new(),
                selected: *t == locale,
            })
            .collect(),
        levels: PortalLevel::ALL
            .into_iter()
            .filter(|l| authz::create_person(principal, &state.catalogue, &partner, Some(*l)).is_ok())
            .map(|l| Choice {
                selected: values.level == l.role_key(),
                value: l.role_key().to_string(),
                name: level_name(l).to_string(),
                description: String::new(),
            })
            .collect(),
        values,
        errors: new_errors,
        open,
    };
    let notice = query.done.map(|done| match done {
        ContactsDone::Created => "Contact added.",
        ContactsDone::Invited => "Contact added and invited: they were emailed a link to activate their portal access.",
        ContactsDone::Saved => "Changes saved.",
        ContactsDone::Email => "A confirmation link was sent to the new address; the email changes once it is used.",
        ContactsDone::Invite => "Invitation sent.",
        ContactsDone::Revoked => "Portal access revoked.",
        ContactsDone::MfaReset => {
            "Two-step sign-in reset: they sign in with their password alone until they set it up again."
        }
        ContactsDone::Deleted => "Contact deleted.",
    });
    let level = PortalLevel::of(&principal.roles).map_or("", level_name).to_string();
    let users = UsersPage {
        layout: viewer.layout(state, "Partner Portal: Users", Section::Portal),
        csrf: viewer.csrf.clone(),
        rows,
        can_create,
        new,
        panel,
        notice,
        level,
    };
    if users.new.open || users.panel.as_ref().is_some_and(|p| !p.errors.is_empty()) {
        refused(&users)
    } else {
        page(&users)
    }
}

pub async fn users(State(state): State<AppState>, viewer: WebUser, Query(query): Query<UsersQuery>) -> WebResult {
    users_page(&state, &viewer, &query, Refusal::default()).await
}

/// The + button's form: a contact, optionally invited at a level.
pub async fn create_contact(State(state): State<AppState>, post: WebPost<ContactForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner = own_partner(viewer)?;
    let invite = form.invite == "1";
    let level = if invite { parse_level(&form.level) } else { None };
    let input = PersonInput {
        email: form.email.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        locale: form.locale.clone().unwrap_or_default(),
        phone: Some(form.phone.clone()),
        portal_access: invite,
        contact_roles: form.contact_roles.clone(),
        sites: form.sites.clone(),
        portal_level: level,
        scim: None,
    };
    match ops::users::create_person(&state, &viewer.principal, &viewer.actor(), &partner, &input).await {
        Ok(_) => {
            let done = if invite { ContactsDone::Invited } else { ContactsDone::Created };
            see_other(Page::Contacts { edit: None, done: Some(done) })
        }
        Err(error @ (OperationError::Invalid(_) | OperationError::Conflict(_) | OperationError::Forbidden(_))) => {
            let errors = match error {
                OperationError::Conflict(why) => FormErrors::field("email", why),
                other => FormErrors::from_error(other, &["email", "first_name", "last_name", "locale", "phone"])?,
            };
            let refusal = Refusal { new_contact: Some((form.clone(), errors)), panel: None };
            users_page(&state, viewer, &UsersQuery::default(), refusal).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The side panel's forms.
pub async fn change_contact(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    post: WebPost<ContactForm>,
) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let (principal, actor) = (&viewer.principal, viewer.actor());
    let outcome = match form.action.as_str() {
        "details" => {
            let edit = ProfileEdit {
                first_name: Some(form.first_name.clone()),
                last_name: Some(form.last_name.clone()),
                phone: Some(form.phone.clone()),
                ..Default::default()
            };
            ops::users::edit_profile(&state, principal, &actor, &id, &edit).await.map(|_| ContactsDone::Saved)
        }
        "email" => ops::users::request_email_change(&state, principal, &actor, &id, &form.email)
            .await
            .map(|_| ContactsDone::Email),
        "contact" => {
            let edit = ContactEdit { contact_roles: Some(form.contact_roles.clone()), sites: Some(form.sites.clone()) };
            ops::contacts::edit_contact(&state, principal, &actor, &id, &edit).await.map(|_| ContactsDone::Saved)
        }
        "level" => match parse_level(&form.level) {
            Some(level) => {
                ops::contacts::set_level(&state, principal, &actor, &id, level).await.map(|_| ContactsDone::Saved)
            }
            None => Err(starship_core::FieldError::new("level", "choose a permission level").into()),
        },
        "invite" => match parse_level(&form.level) {
            Some(level) => {
                ops::contacts::invite(&state, principal, &actor, &id, Some(level)).await.map(|_| ContactsDone::Invite)
            }
            None => Err(starship_core::FieldError::new("level", "choose a permission level").into()),
        },
        "revoke" => ops::contacts::revoke_access(&state, principal, &actor, &id).await.map(|_| ContactsDone::Revoked),
        "mfa" => ops::session::reset_mfa(&state, principal, &actor, &id).await.map(|_| ContactsDone::MfaReset),
        "delete" => ops::contacts::delete_contact(&state, principal, &actor, &id).await.map(|_| ContactsDone::Deleted),
        _ => Err(OperationError::BadRequest("unknown action".into())),
    };
    match outcome {
        Ok(ContactsDone::Deleted) => see_other(Page::Contacts { edit: None, done: Some(ContactsDone::Deleted) }),
        Ok(done) => see_other(Page::Contacts { edit: Some(id), done: Some(done) }),
        Err(error @ (OperationError::Invalid(_) | OperationError::Conflict(_) | OperationError::Forbidden(_))) => {
            let errors = match error {
                OperationError::Conflict(why) => FormErrors::general(capitalised(&why)),
                other => FormErrors::from_error(other, &["first_name", "last_name", "phone", "email", "level"])?,
            };
            let refusal = Refusal { new_contact: None, panel: Some((id, errors, form.clone())) };
            users_page(&state, viewer, &UsersQuery::default(), refusal).await
        }
        Err(other) => Err(other.into()),
    }
}
