//! The Partner Portal (seed 002): the Users grid with its + button and the
//! side panel that edits one contact, tickets with comments, and appliances
//! with drain and BGP edit. Only what the viewer's permission level allows
//! is offered; the operations check it again.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::portal::{PortalAction, PortalLevel, Standing, TicketStatus};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::sites::Site;

use super::widgets::Choice;
use super::{
    capitalised, page, refused, see_other, url_encode, when, Fields, FormErrors, Layout, Section, WebPost, WebResult,
    WebUser,
};
use crate::ops::people::{self, PersonInput, ProfileEdit};
use crate::ops::appliances::BgpInput;
use crate::ops::contacts::{ContactEdit, ContactRow};
use crate::ops::{self};
use crate::problem::ApiError;
use crate::state::AppState;

pub async fn home() -> WebResult {
    see_other("/portal/users")
}

fn level_name(level: PortalLevel) -> &'static str {
    match level {
        PortalLevel::Admin => "Admin",
        PortalLevel::Engineering => "Engineering",
        PortalLevel::ReadOnly => "Read-only",
    }
}

fn parse_level(value: &str) -> Option<PortalLevel> {
    PortalLevel::from_role_key(value)
}

/// The viewer's partner: the portal shows one's own.
fn own_partner(viewer: &WebUser) -> Result<String, ApiError> {
    people::target_partner(&viewer.principal, None)
}

// ---------------------------------------------------------------------------
// Users

struct GridRow {
    id: String,
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
    id: String,
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
    values: Fields,
    errors: FormErrors,
    open: bool,
}

impl NewContact {
    fn value(&self, name: &str) -> &str {
        self.values.get(name)
    }
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
    edit: Option<String>,
    #[serde(default)]
    done: Option<String>,
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

fn choices(all: impl IntoIterator<Item = (String, String)>, chosen: &[&str]) -> Vec<Choice> {
    all.into_iter()
        .map(|(value, name)| Choice {
            selected: chosen.contains(&value.as_str()),
            value,
            name,
            description: String::new(),
        })
        .collect()
}

/// What a form posted back is shown with: the refused values and errors.
#[derive(Default)]
struct Refusal {
    new_contact: Option<(Fields, FormErrors)>,
    panel: Option<(String, FormErrors, Fields)>,
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
            let contact = contacts.iter().find(|c| c.user.id == id).ok_or(ApiError::NotFound)?;
            let target = Some((contact.user.id.as_str(), contact.standing));
            let has_mfa = ops::session::mfa_on(state, &contact.user).await?;
            let held = ops::session::principal_of(state, &contact.user).await?;
            let in_reach = authz::act_on_person(principal, &held, Ok(())).is_ok();
            let allowed = |action| in_reach && authz::portal(principal, action, &partner, target).is_ok();
            let administer = allowed(PortalAction::UserAdministration) && contact.user.id != principal.user_id;
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
            let field = |name: &str, saved: &str| match submitted {
                Some(form) if form.opt(name).is_some() => form.get(name).to_string(),
                _ => saved.to_string(),
            };
            let roles: Vec<&str> = contact.contact_roles.iter().map(String::as_str).collect();
            let linked: Vec<&str> = contact.sites.iter().map(String::as_str).collect();
            Some(Panel {
                id: contact.user.id.clone(),
                name: contact.user.full_name(),
                first_name: field("first_name", &contact.user.first_name),
                last_name: field("last_name", &contact.user.last_name),
                email: contact.user.email.clone(),
                phone: field("phone", contact.user.phone.as_deref().unwrap_or_default()),
                access: access_of(contact).0,
                is_self: contact.user.id == principal.user_id,
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
        None => (Fields::default(), FormErrors::default(), false),
    };
    let chosen_roles = values.all("contact_roles");
    let chosen_sites = values.all("sites");
    let locale = values.opt("locale").unwrap_or("en-US").to_string();
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
                selected: values.get("level") == l.role_key(),
                value: l.role_key().to_string(),
                name: level_name(l).to_string(),
                description: String::new(),
            })
            .collect(),
        values,
        errors: new_errors,
        open,
    };
    let notice = match query.done.as_deref() {
        Some("created") => Some("Contact added."),
        Some("invited") => Some("Contact added and invited: they were emailed a link to activate their portal access."),
        Some("saved") => Some("Changes saved."),
        Some("email") => Some("A confirmation link was sent to the new address; the email changes once it is used."),
        Some("invite") => Some("Invitation sent."),
        Some("revoked") => Some("Portal access revoked."),
        Some("mfa-reset") => {
            Some("Two-step sign-in reset: they sign in with their password alone until they set it up again.")
        }
        Some("deleted") => Some("Contact deleted."),
        _ => None,
    };
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
pub async fn create_contact(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner = own_partner(viewer)?;
    let invite = form.get("invite") == "1";
    let level = if invite { parse_level(form.get("level")) } else { None };
    let input = PersonInput {
        email: form.get("email").to_string(),
        first_name: form.get("first_name").to_string(),
        last_name: form.get("last_name").to_string(),
        locale: form.get("locale").to_string(),
        phone: Some(form.get("phone").to_string()),
        portal_access: invite,
        contact_roles: form.all("contact_roles").into_iter().map(str::to_string).collect(),
        sites: form.all("sites").into_iter().map(str::to_string).collect(),
        portal_level: level,
        scim: None,
    };
    match people::create_person(&state, &viewer.principal, &viewer.actor(), &partner, &input).await {
        Ok(_) => see_other(if invite { "/portal/users?done=invited" } else { "/portal/users?done=created" }),
        Err(error @ (ApiError::Invalid(_) | ApiError::Conflict(_) | ApiError::Forbidden(_))) => {
            let errors = match error {
                ApiError::Conflict(why) => FormErrors::field("email", why),
                other => FormErrors::from_error(other, &["email", "first_name", "last_name", "locale", "phone"])?,
            };
            let refusal = Refusal { new_contact: Some((form.clone(), errors)), panel: None };
            users_page(&state, viewer, &UsersQuery::default(), refusal).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The side panel's forms.
pub async fn change_contact(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let (principal, actor) = (&viewer.principal, viewer.actor());
    let action = form.get("action");
    let outcome = match action {
        "details" => {
            let edit = ProfileEdit {
                first_name: Some(form.get("first_name").to_string()),
                last_name: Some(form.get("last_name").to_string()),
                phone: Some(form.get("phone").to_string()),
                ..Default::default()
            };
            people::edit_profile(&state, principal, &actor, &id, &edit).await.map(|_| "saved")
        }
        "email" => {
            ops::people::request_email_change(&state, principal, &actor, &id, form.get("email")).await.map(|_| "email")
        }
        "contact" => {
            let edit = ContactEdit {
                contact_roles: Some(form.all("contact_roles").into_iter().map(str::to_string).collect()),
                sites: Some(form.all("sites").into_iter().map(str::to_string).collect()),
            };
            ops::contacts::edit_contact(&state, principal, &actor, &id, &edit).await.map(|_| "saved")
        }
        "level" => match parse_level(form.get("level")) {
            Some(level) => ops::contacts::set_level(&state, principal, &actor, &id, level).await.map(|_| "saved"),
            None => Err(starship_core::FieldError::new("level", "choose a permission level").into()),
        },
        "invite" => match parse_level(form.get("level")) {
            Some(level) => ops::contacts::invite(&state, principal, &actor, &id, Some(level)).await.map(|_| "invite"),
            None => Err(starship_core::FieldError::new("level", "choose a permission level").into()),
        },
        "revoke" => ops::contacts::revoke_access(&state, principal, &actor, &id).await.map(|_| "revoked"),
        "mfa" => ops::session::reset_mfa(&state, principal, &actor, &id).await.map(|_| "mfa-reset"),
        "delete" => ops::contacts::delete_contact(&state, principal, &actor, &id).await.map(|_| "deleted"),
        _ => Err(ApiError::BadRequest("unknown action".into())),
    };
    match outcome {
        Ok("deleted") => see_other("/portal/users?done=deleted"),
        Ok(done) => see_other(&format!("/portal/users?edit={}&done={done}", url_encode(&id))),
        Err(error @ (ApiError::Invalid(_) | ApiError::Conflict(_) | ApiError::Forbidden(_))) => {
            let errors = match error {
                ApiError::Conflict(why) => FormErrors::general(capitalised(&why)),
                other => FormErrors::from_error(other, &["first_name", "last_name", "phone", "email", "level"])?,
            };
            let refusal = Refusal { new_contact: None, panel: Some((id, errors, form.clone())) };
            users_page(&state, viewer, &UsersQuery::default(), refusal).await
        }
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------
// Tickets

struct CommentRow {
    author: String,
    at: String,
    at_iso: String,
    body: String,
}

struct TicketRow {
    id: String,
    subject: String,
    body: String,
    status: String,
    status_label: &'static str,
    opened: String,
    comments: Vec<CommentRow>,
    errors: FormErrors,
    draft: String,
}

#[derive(Template)]
#[template(path = "portal_tickets.html")]
struct TicketsPage {
    layout: Layout,
    csrf: String,
    tickets: Vec<TicketRow>,
    level: String,
}

async fn tickets_page(state: &AppState, viewer: &WebUser, refused_on: Option<(&str, FormErrors, &str)>) -> WebResult {
    let partner = own_partner(viewer)?;
    let tickets = ops::tickets::tickets(state, &viewer.principal, &partner)
        .await?
        .into_iter()
        .map(|(ticket, comments)| {
            let mine = refused_on.as_ref().filter(|(id, _, _)| *id == ticket.id);
            TicketRow {
                errors: mine.map(|(_, e, _)| e.clone()).unwrap_or_default(),
                draft: mine.map(|(_, _, d)| d.to_string()).unwrap_or_default(),
                id: ticket.id,
                subject: ticket.subject,
                body: ticket.body,
                status_label: TicketStatus::parse(&ticket.status).map_or("", TicketStatus::label),
                status: ticket.status,
                opened: when(ticket.created_at),
                comments: comments
                    .into_iter()
                    .map(|c| CommentRow {
                        author: c.author,
                        at: when(c.created_at),
                        at_iso: rfc3339_from_millis(c.created_at),
                        body: c.body,
                    })
                    .collect(),
            }
        })
        .collect();
    let view = TicketsPage {
        layout: viewer.layout(state, "Partner Portal: Tickets", Section::Portal),
        csrf: viewer.csrf.clone(),
        tickets,
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
    };
    if refused_on.is_some() {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn tickets(State(state): State<AppState>, viewer: WebUser) -> WebResult {
    tickets_page(&state, &viewer, None).await
}

pub async fn comment(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let body = post.form.get("body");
    let from_ticket_page = post.form.get("from") == "ticket";
    let outcome =
        ops::tickets::comment_on_ticket(&state, &viewer.principal, &viewer.actor(), &viewer.user.email, &id, body).await;
    match outcome {
        Ok(_) if from_ticket_page => see_other(&format!("/portal/tickets/{id}?done=commented")),
        Ok(_) => see_other(&format!("/portal/tickets#ticket-{id}")),
        Err(e @ ApiError::Invalid(_)) => {
            let errors = FormErrors::from_error(e, &["body"])?;
            if from_ticket_page {
                return ticket_page(&state, viewer, &id, None, Some((errors, body)), FormErrors::default()).await;
            }
            tickets_page(&state, viewer, Some((&id, errors, body))).await
        }
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------
// One ticket, and opening one

#[derive(Template)]
#[template(path = "portal_ticket.html")]
struct TicketPage {
    layout: Layout,
    csrf: String,
    level: String,
    ticket: TicketRow,
    status_label: &'static str,
    where_: String,
    /// The statuses the viewer may move it to (empty: no control).
    next: Vec<Choice>,
    status_errors: FormErrors,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn ticket_page(
    state: &AppState,
    viewer: &WebUser,
    id: &str,
    done: Option<&str>,
    comment_refused: Option<(FormErrors, &str)>,
    status_errors: FormErrors,
) -> WebResult {
    let (ticket, comments) = ops::tickets::ticket(state, &viewer.principal, id).await?;
    let status = TicketStatus::parse(&ticket.status).unwrap_or(TicketStatus::Open);
    let may_move = authz::portal(&viewer.principal, PortalAction::TicketStatus, &ticket.partner_id, None).is_ok();
    let next = if may_move {
        choices(status.next().iter().map(|s| (s.as_str().to_string(), s.label().to_string())), &[])
    } else {
        Vec::new()
    };
    let sites = ops::sites::sites(state, &viewer.principal, &ticket.partner_id).await?;
    let mut where_ = Vec::new();
    if let Some(site) = ticket.site_id.as_ref().and_then(|id| sites.iter().find(|s| &s.id == id)) {
        where_.push(format!("Site {}", site.name));
    }
    if let Some(appliance_id) = &ticket.appliance_id {
        let appliances = ops::appliances::appliances(state, &viewer.principal, &ticket.partner_id).await?;
        if let Some(listed) = appliances.iter().find(|l| &l.appliance.id == appliance_id) {
            where_.push(format!("Appliance {}", listed.appliance.serial));
        }
    }
    let refused_now = comment_refused.is_some() || !status_errors.is_empty();
    let (errors, draft) = comment_refused.map(|(e, d)| (e, d.to_string())).unwrap_or_default();
    let view = TicketPage {
        layout: viewer.layout(state, format!("Ticket: {}", ticket.subject), Section::Portal),
        csrf: viewer.csrf.clone(),
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
        status_label: status.label(),
        where_: where_.join(" · "),
        next,
        status_errors,
        notice: match done {
            Some("opened") => Some("Ticket opened. The partner's NOC contacts were emailed."),
            Some("status") => Some("Status changed. The watchers and NOC contacts were emailed."),
            Some("commented") => Some("Comment added. The watchers and NOC contacts were emailed."),
            _ => None,
        },
        ticket: TicketRow {
            errors,
            draft,
            id: ticket.id,
            subject: ticket.subject,
            body: ticket.body,
            status_label: status.label(),
            status: ticket.status,
            opened: when(ticket.created_at),
            comments: comments
                .into_iter()
                .map(|c| CommentRow {
                    author: c.author,
                    at: when(c.created_at),
                    at_iso: rfc3339_from_millis(c.created_at),
                    body: c.body,
                })
                .collect(),
        },
    };
    if refused_now {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn ticket(
    State(state): State<AppState>,
    viewer: WebUser,
    Path(id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> WebResult {
    ticket_page(&state, &viewer, &id, query.done.as_deref(), None, FormErrors::default()).await
}

pub async fn ticket_status(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let Some(to) = TicketStatus::parse(post.form.get("status")) else {
        let errors = FormErrors::field("status", "choose a status");
        return ticket_page(&state, viewer, &id, None, None, errors).await;
    };
    match ops::tickets::set_ticket_status(&state, &viewer.principal, &viewer.actor(), &id, to).await {
        Ok(_) => see_other(&format!("/portal/tickets/{id}?done=status")),
        Err(e @ (ApiError::Conflict(_) | ApiError::Forbidden(_))) => {
            let errors = FormErrors::from_error(e, &["status"])?;
            ticket_page(&state, viewer, &id, None, None, errors).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "portal_new_ticket.html")]
struct NewTicketPage {
    layout: Layout,
    csrf: String,
    level: String,
    /// Operators choose the partner first.
    partners: Vec<Choice>,
    partner_id: String,
    sites: Vec<Choice>,
    appliances: Vec<Choice>,
    values: Fields,
    errors: FormErrors,
}

impl NewTicketPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name)
    }
}

#[derive(Deserialize, Default)]
pub struct NewTicketQuery {
    #[serde(default)]
    partner_id: Option<String>,
}

async fn new_ticket_page(
    state: &AppState,
    viewer: &WebUser,
    partner_id: Option<&str>,
    values: Fields,
    errors: FormErrors,
) -> WebResult {
    let partner_id = partner_id.filter(|p| !p.is_empty());
    let partners = if viewer.principal.operator {
        let all = ops::platform::partners(state, &viewer.principal).await?;
        choices(all.into_iter().map(|p| (p.id, p.name)), &[partner_id.unwrap_or_default()])
    } else {
        Vec::new()
    };
    let partner = match partner_id {
        Some(p) if viewer.principal.operator => Some(p.to_string()),
        _ if viewer.principal.operator => None,
        _ => Some(own_partner(viewer)?),
    };
    let (sites, appliances) = match &partner {
        Some(p) => {
            authz::portal(&viewer.principal, PortalAction::Tickets, p, None).map_err(ApiError::from)?;
            let sites = ops::sites::sites(state, &viewer.principal, p).await?;
            let appliances = ops::appliances::appliances(state, &viewer.principal, p).await?;
            let site_choice = choices(
                sites.iter().map(|s| (s.id.clone(), format!("{} ({})", s.name, s.location))),
                &[values.get("site_id")],
            );
            let appliance_choice = choices(
                appliances.iter().filter(|l| l.appliance.retired_at.is_none()).map(|l| {
                    let a = &l.appliance;
                    let site = sites.iter().find(|s| s.id == a.site_id).map_or("", |s| s.name.as_str());
                    (a.id.clone(), format!("{} · {} at {}", a.serial, a.model, site))
                }),
                &[values.get("appliance_id")],
            );
            (site_choice, appliance_choice)
        }
        None => (Vec::new(), Vec::new()),
    };
    let refused_now = !errors.is_empty();
    let view = NewTicketPage {
        layout: viewer.layout(state, "Partner Portal: New ticket", Section::Portal),
        csrf: viewer.csrf.clone(),
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
        partners,
        partner_id: partner.unwrap_or_default(),
        sites,
        appliances,
        values,
        errors,
    };
    if refused_now {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn new_ticket(
    State(state): State<AppState>,
    viewer: WebUser,
    Query(query): Query<NewTicketQuery>,
) -> WebResult {
    new_ticket_page(&state, &viewer, query.partner_id.as_deref(), Fields::default(), FormErrors::default()).await
}

pub async fn open_ticket(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let input = ops::tickets::TicketInput {
        partner_id: form.opt("partner_id").filter(|p| !p.is_empty()).map(str::to_string),
        subject: form.get("subject").to_string(),
        body: form.get("body").to_string(),
        site_id: form.opt("site_id").filter(|s| !s.is_empty()).map(str::to_string),
        appliance_id: form.opt("appliance_id").filter(|s| !s.is_empty()).map(str::to_string),
    };
    match ops::tickets::open_ticket(&state, &viewer.principal, &viewer.actor(), &input).await {
        Ok(ticket) => see_other(&format!("/portal/tickets/{}?done=opened", ticket.id)),
        Err(e @ ApiError::Invalid(_)) => {
            let errors = FormErrors::from_error(e, &["subject", "body", "site_id", "appliance_id"])?;
            new_ticket_page(&state, viewer, input.partner_id.as_deref(), form.clone(), errors).await
        }
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------
// Appliances

struct ApplianceRow {
    id: String,
    serial: String,
    model: String,
    site: String,
    drained: bool,
    retired: bool,
    changed: String,
    bgp: Option<BgpRow>,
    versions: usize,
    /// Registered, drained, back in service, retired: oldest first.
    history: Vec<EventRow>,
    form: BgpForm,
}

struct EventRow {
    what: &'static str,
    by: String,
    at: String,
}

struct BgpRow {
    version: i64,
    peer_asn: i64,
    ipv4: String,
    ipv6: String,
    at: String,
}

struct BgpForm {
    peer_asn: String,
    ipv4: String,
    ipv6: String,
    errors: FormErrors,
    open: bool,
}

/// What operators see besides the list: the partner chosen, and the forms
/// that register appliances one by one or from a CSV.
struct Registration {
    partners: Vec<Choice>,
    sites: Vec<Choice>,
    values: Fields,
    errors: FormErrors,
    csv: String,
    csv_errors: FormErrors,
}

impl Registration {
    fn value(&self, name: &str) -> &str {
        self.values.get(name)
    }
}

#[derive(Template)]
#[template(path = "portal_appliances.html")]
struct AppliancesPage {
    layout: Layout,
    csrf: String,
    appliances: Vec<ApplianceRow>,
    self_service: bool,
    level: String,
    notice: Option<String>,
    /// The partner shown, in the forms' addresses (operators).
    partner_id: String,
    registration: Option<Registration>,
}

#[derive(Deserialize, Default)]
pub struct AppliancesQuery {
    #[serde(default)]
    done: Option<String>,
    /// Operators: which partner.
    #[serde(default)]
    partner_id: Option<String>,
}

/// A form of the page the operation refused, shown again with its errors.
enum Refused<'a> {
    Bgp(&'a str, FormErrors, &'a Fields),
    Register(FormErrors, &'a Fields),
    Import(FormErrors, &'a str),
}

/// The appliances page of a partner: operators name it, others see their own.
fn appliances_url(viewer: &WebUser, partner: &str, done: &str) -> String {
    if viewer.principal.operator {
        format!("/portal/appliances?partner_id={}&done={done}", url_encode(partner))
    } else {
        format!("/portal/appliances?done={done}")
    }
}

fn event_name(event: &str) -> &'static str {
    match event {
        "registered" => "Registered",
        "drained" => "Drained",
        "undrained" => "Back in service",
        "retired" => "Retired",
        _ => "Changed",
    }
}

async fn appliances_page(
    state: &AppState,
    viewer: &WebUser,
    partner: Option<&str>,
    done: Option<&str>,
    refused_on: Option<Refused<'_>>,
) -> WebResult {
    let operator = viewer.principal.operator;
    let partner = match partner.filter(|p| !p.is_empty()) {
        Some(p) if operator => Some(p.to_string()),
        _ if operator => None,
        _ => Some(own_partner(viewer)?),
    };
    let partners = if operator {
        let all = ops::platform::partners(state, &viewer.principal).await?;
        choices(all.into_iter().map(|p| (p.id, p.name)), &[partner.as_deref().unwrap_or_default()])
    } else {
        Vec::new()
    };
    let (sites, listed) = match &partner {
        Some(p) => (
            ops::sites::sites(state, &viewer.principal, p).await?,
            ops::appliances::appliances(state, &viewer.principal, p).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let self_service = partner
        .as_ref()
        .is_some_and(|p| authz::portal(&viewer.principal, PortalAction::ApplianceSelfService, p, None).is_ok());
    let bgp_refusal = match &refused_on {
        Some(Refused::Bgp(id, errors, fields)) => Some((*id, errors.clone(), *fields)),
        _ => None,
    };
    let appliances = listed
        .into_iter()
        .map(|listed| {
            let a = listed.appliance;
            let versions = listed.versions;
            let bgp = versions.first().map(|c| BgpRow {
                version: c.version,
                peer_asn: c.peer_asn,
                ipv4: c.neighbor_ipv4.clone().unwrap_or_default(),
                ipv6: c.neighbor_ipv6.clone().unwrap_or_default(),
                at: when(c.created_at),
            });
            let form = match bgp_refusal.as_ref().filter(|(id, _, _)| *id == a.id) {
                Some((_, errors, submitted)) => BgpForm {
                    peer_asn: submitted.get("peer_asn").to_string(),
                    ipv4: submitted.get("neighbor_ipv4").to_string(),
                    ipv6: submitted.get("neighbor_ipv6").to_string(),
                    errors: errors.clone(),
                    open: true,
                },
                None => BgpForm {
                    peer_asn: bgp.as_ref().map(|b| b.peer_asn.to_string()).unwrap_or_default(),
                    ipv4: bgp.as_ref().map(|b| b.ipv4.clone()).unwrap_or_default(),
                    ipv6: bgp.as_ref().map(|b| b.ipv6.clone()).unwrap_or_default(),
                    errors: FormErrors::default(),
                    open: false,
                },
            };
            ApplianceRow {
                site: sites.iter().find(|s| s.id == a.site_id).map_or_else(String::new, |s| s.name.clone()),
                drained: a.status == "drained",
                retired: a.retired_at.is_some(),
                changed: a.retired_at.or(a.status_changed_at).map(when).unwrap_or_default(),
                versions: versions.len(),
                history: listed
                    .events
                    .into_iter()
                    .map(|e| EventRow { what: event_name(&e.event), by: e.by.unwrap_or_default(), at: when(e.at) })
                    .collect(),
                id: a.id,
                serial: a.serial,
                model: a.model,
                bgp,
                form,
            }
        })
        .collect();
    let refused_now = refused_on.is_some();
    let registration = (operator).then(|| {
        let (values, errors) = match &refused_on {
            Some(Refused::Register(errors, fields)) => ((*fields).clone(), errors.clone()),
            _ => (Fields::default(), FormErrors::default()),
        };
        let (csv, csv_errors) = match &refused_on {
            Some(Refused::Import(errors, csv)) => (csv.to_string(), errors.clone()),
            _ => (String::new(), FormErrors::default()),
        };
        Registration {
            sites: choices(
                sites.iter().map(|s| (s.id.clone(), format!("{} ({})", s.name, s.location))),
                &[values.get("site_id")],
            ),
            partners,
            values,
            errors,
            csv,
            csv_errors,
        }
    });
    let view = AppliancesPage {
        layout: viewer.layout(state, "Partner Portal: Appliances", Section::Portal),
        csrf: viewer.csrf.clone(),
        appliances,
        self_service,
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
        notice: match done {
            Some("drained") => Some("The appliance is drained for maintenance.".into()),
            Some("serving") => Some("The appliance is back in service.".into()),
            Some("bgp") => Some("BGP configuration saved as a new version.".into()),
            Some("registered") => Some("Appliance registered.".into()),
            Some("retired") => Some("Appliance retired.".into()),
            Some(imported) if imported.starts_with("imported-") => {
                Some(format!("{} appliances registered from the CSV.", imported.trim_start_matches("imported-")))
            }
            _ => None,
        },
        partner_id: partner.unwrap_or_default(),
        registration,
    };
    if refused_now {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn appliances(
    State(state): State<AppState>,
    viewer: WebUser,
    Query(query): Query<AppliancesQuery>,
) -> WebResult {
    appliances_page(&state, &viewer, query.partner_id.as_deref(), query.done.as_deref(), None).await
}

/// The partner an appliance belongs to, for the address to return to.
async fn partner_of_appliance(state: &AppState, viewer: &WebUser, id: &str) -> Result<String, ApiError> {
    Ok(ops::appliances::appliance(state, &viewer.principal, id).await?.partner_id)
}

pub async fn drain(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let drained = post.form.get("action") == "drain";
    let appliance = ops::appliances::set_drained(&state, &viewer.principal, &viewer.actor(), &id, drained).await?;
    see_other(&appliances_url(viewer, &appliance.partner_id, if drained { "drained" } else { "serving" }))
}

pub async fn bgp(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let outcome = match form.get("peer_asn").trim().parse::<i64>() {
        Ok(peer_asn) => {
            let input = BgpInput {
                peer_asn,
                neighbor_ipv4: Some(form.get("neighbor_ipv4").to_string()),
                neighbor_ipv6: Some(form.get("neighbor_ipv6").to_string()),
            };
            ops::appliances::update_bgp(&state, &viewer.principal, &viewer.actor(), &id, &input).await.map(|_| ())
        }
        Err(_) => Err(starship_core::FieldError::new("peer_asn", "must be a number, e.g. 64512").into()),
    };
    match outcome {
        Ok(()) => {
            let partner = partner_of_appliance(&state, viewer, &id).await?;
            see_other(&appliances_url(viewer, &partner, "bgp"))
        }
        Err(e @ ApiError::Invalid(_)) => {
            let errors = FormErrors::from_error(e, &["peer_asn", "neighbor_ipv4", "neighbor_ipv6"])?;
            let partner = partner_of_appliance(&state, viewer, &id).await?;
            appliances_page(&state, viewer, Some(&partner), None, Some(Refused::Bgp(&id, errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn register(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let input = ops::appliances::ApplianceInput {
        site_id: form.get("site_id").to_string(),
        serial: form.get("serial").to_string(),
        model: form.get("model").to_string(),
    };
    let partner = form.get("partner_id");
    if input.site_id.is_empty() {
        let errors = FormErrors::field("site_id", "choose the site");
        return appliances_page(&state, viewer, Some(partner), None, Some(Refused::Register(errors, form))).await;
    }
    match ops::appliances::register_appliance(&state, &viewer.principal, &viewer.actor(), &input).await {
        Ok(appliance) => see_other(&appliances_url(viewer, &appliance.partner_id, "registered")),
        Err(e @ (ApiError::Invalid(_) | ApiError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["site_id", "serial", "model"])?;
            appliances_page(&state, viewer, Some(partner), None, Some(Refused::Register(errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn import(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let partner = post.form.get("partner_id");
    let csv = post.form.get("csv");
    match ops::appliances::import_appliances(&state, &viewer.principal, &viewer.actor(), Some(partner), csv).await {
        Ok(done) => see_other(&appliances_url(viewer, partner, &format!("imported-{}", done.len()))),
        Err(ApiError::Invalid(invalid)) => {
            // Every row's problem, in the file's order, as "Line N, column: …".
            let errors = FormErrors { fields: Vec::new(), general: invalid.0.iter().map(import_error_line).collect() };
            appliances_page(&state, viewer, Some(partner), None, Some(Refused::Import(errors, csv))).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `rows[3].serial` "must be …" → "Line 3, serial: must be …".
fn import_error_line(e: &starship_core::FieldError) -> String {
    match e.field.strip_prefix("rows[").and_then(|rest| rest.split_once(']')) {
        Some((line, rest)) => {
            let column = rest.trim_start_matches('.');
            if column.is_empty() {
                format!("Line {line}: {}", e.reason)
            } else {
                format!("Line {line}, {column}: {}", e.reason)
            }
        }
        None => capitalised(&e.reason),
    }
}

pub async fn retire(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let appliance = ops::appliances::retire_appliance(&state, &viewer.principal, &viewer.actor(), &id).await?;
    see_other(&appliances_url(viewer, &appliance.partner_id, "retired"))
}

// ---------------------------------------------------------------------------
// Sites

struct SiteRow {
    id: String,
    name: String,
    location: String,
    contacts: Vec<SiteContactRow>,
    /// The edit form, open when refused.
    values: Fields,
    errors: FormErrors,
}

struct SiteContactRow {
    name: String,
    email: String,
    on_survey: bool,
}

impl SiteRow {
    fn value<'a>(&'a self, name: &str, stored: &'a str) -> &'a str {
        self.values.opt(name).unwrap_or(stored)
    }
}

#[derive(Template)]
#[template(path = "portal_sites.html")]
struct SitesPage {
    layout: Layout,
    csrf: String,
    level: String,
    partners: Vec<Choice>,
    partner_id: String,
    sites: Vec<SiteRow>,
    may_manage: bool,
    values: Fields,
    errors: FormErrors,
    notice: Option<&'static str>,
}

impl SitesPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name)
    }
}

enum SiteRefusal<'a> {
    Create(FormErrors, &'a Fields),
    Edit(&'a str, FormErrors, &'a Fields),
}

fn sites_url(viewer: &WebUser, partner: &str, done: &str) -> String {
    if viewer.principal.operator {
        format!("/portal/sites?partner_id={}&done={done}", url_encode(partner))
    } else {
        format!("/portal/sites?done={done}")
    }
}

async fn sites_page(
    state: &AppState,
    viewer: &WebUser,
    partner: Option<&str>,
    done: Option<&str>,
    refusal: Option<SiteRefusal<'_>>,
) -> WebResult {
    let operator = viewer.principal.operator;
    let partner = match partner.filter(|p| !p.is_empty()) {
        Some(p) if operator => Some(p.to_string()),
        _ if operator => None,
        _ => Some(own_partner(viewer)?),
    };
    let partners = if operator {
        let all = ops::platform::partners(state, &viewer.principal).await?;
        choices(all.into_iter().map(|p| (p.id, p.name)), &[partner.as_deref().unwrap_or_default()])
    } else {
        Vec::new()
    };
    let listed = match &partner {
        Some(p) => ops::sites::sites_with_contacts(state, &viewer.principal, p).await?,
        None => Vec::new(),
    };
    let may_manage = partner.as_ref().is_some_and(|p| authz::add_site(&viewer.principal, p).is_ok());
    let sites = listed
        .into_iter()
        .map(|(site, people)| {
            let (values, errors) = match &refusal {
                Some(SiteRefusal::Edit(id, errors, fields)) if *id == site.id => ((*fields).clone(), errors.clone()),
                _ => (Fields::default(), FormErrors::default()),
            };
            SiteRow {
                contacts: people
                    .into_iter()
                    .map(|c| SiteContactRow {
                        name: format!("{} {}", c.first_name, c.last_name),
                        email: c.email,
                        on_survey: c.on_survey,
                    })
                    .collect(),
                id: site.id,
                name: site.name,
                location: site.location,
                values,
                errors,
            }
        })
        .collect();
    let (values, errors) = match &refusal {
        Some(SiteRefusal::Create(errors, fields)) => ((*fields).clone(), errors.clone()),
        _ => (Fields::default(), FormErrors::default()),
    };
    let view = SitesPage {
        layout: viewer.layout(state, "Partner Portal: Sites", Section::Portal),
        csrf: viewer.csrf.clone(),
        level: PortalLevel::of(&viewer.principal.roles).map_or("", level_name).to_string(),
        partners,
        partner_id: partner.unwrap_or_default(),
        sites,
        may_manage,
        values,
        errors,
        notice: match done {
            Some("added") => Some("Site added."),
            Some("saved") => Some("Site saved."),
            _ => None,
        },
    };
    if refusal.is_some() {
        refused(&view)
    } else {
        page(&view)
    }
}

pub async fn sites(State(state): State<AppState>, viewer: WebUser, Query(query): Query<AppliancesQuery>) -> WebResult {
    sites_page(&state, &viewer, query.partner_id.as_deref(), query.done.as_deref(), None).await
}

pub async fn add_site(State(state): State<AppState>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner = form.opt("partner_id").filter(|p| !p.is_empty());
    match ops::sites::add_site(&state, &viewer.principal, partner, form.get("name"), form.get("location")).await {
        Ok(site) => see_other(&sites_url(viewer, &site.partner_id, "added")),
        Err(e @ (ApiError::Invalid(_) | ApiError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["name", "location"])?;
            sites_page(&state, viewer, partner, None, Some(SiteRefusal::Create(errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit_site(State(state): State<AppState>, Path(id): Path<String>, post: WebPost) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    match ops::sites::edit_site(&state, &viewer.principal, &id, form.get("name"), form.get("location")).await {
        Ok(site) => see_other(&sites_url(viewer, &site.partner_id, "saved")),
        Err(e @ (ApiError::Invalid(_) | ApiError::Conflict(_))) => {
            let errors = FormErrors::from_error(e, &["name", "location"])?;
            let partner = form.opt("partner_id").filter(|p| !p.is_empty());
            sites_page(&state, viewer, partner, None, Some(SiteRefusal::Edit(&id, errors, form))).await
        }
        Err(other) => Err(other.into()),
    }
}
