//! The Partner Portal's tickets: the list, a page per ticket with its
//! comments and status, and New ticket (operators choose the partner).

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use starship_core::authz;
use starship_core::ids::{ApplianceId, PartnerId, SiteId, TicketId};
use starship_core::portal::{PortalAction, PortalLevel, TicketStatus};
use starship_core::time_fmt::rfc3339_from_millis;

use super::page::{word, TicketDone};
use super::portal::{choices, level_name, own_partner};
use super::widgets::Choice;
use super::{page, refused, see_other, when, Action, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops::OperationError;
use crate::ops::{self};
use crate::state::AppState;

struct CommentRow {
    author: String,
    at: String,
    at_iso: String,
    body: String,
}

struct TicketRow {
    id: TicketId,
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
                status_label: ticket.status.label(),
                status: ticket.status.as_str().to_string(),
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

/// A comment, from the ticket list or (`from=ticket`) the ticket's page.
#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    from: String,
}

pub async fn comment(State(state): State<AppState>, Path(id): Path<TicketId>, post: WebPost<CommentForm>) -> WebResult {
    let viewer = &post.user;
    let body = post.form.body.as_str();
    let from_ticket_page = post.form.from == "ticket";
    let outcome =
        ops::tickets::comment_on_ticket(&state, &viewer.principal, &viewer.actor(), &viewer.user.email, &id, body)
            .await;
    match outcome {
        Ok(_) if from_ticket_page => see_other(Page::Ticket { id, done: Some(TicketDone::Commented) }),
        Ok(_) => see_other(Page::Tickets { at: Some(id) }),
        Err(e @ OperationError::Invalid(_)) => {
            let errors = FormErrors::from_error(e, &["body"])?;
            if from_ticket_page {
                return ticket_page(&state, viewer, &id, None, Some((errors, body)), FormErrors::default()).await;
            }
            tickets_page(&state, viewer, Some((&id, errors, body))).await
        }
        Err(other) => Err(other.into()),
    }
}

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
    #[serde(default, deserialize_with = "word")]
    done: Option<TicketDone>,
}

async fn ticket_page(
    state: &AppState,
    viewer: &WebUser,
    id: &str,
    done: Option<TicketDone>,
    comment_refused: Option<(FormErrors, &str)>,
    status_errors: FormErrors,
) -> WebResult {
    let (ticket, comments) = ops::tickets::ticket(state, &viewer.principal, &TicketId::from(id)).await?;
    let status = ticket.status;
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
        notice: done.map(|done| match done {
            TicketDone::Opened => "Ticket opened. The partner's NOC contacts were emailed.",
            TicketDone::Status => "Status changed. The watchers and NOC contacts were emailed.",
            TicketDone::Commented => "Comment added. The watchers and NOC contacts were emailed.",
        }),
        ticket: TicketRow {
            errors,
            draft,
            id: ticket.id,
            subject: ticket.subject,
            body: ticket.body,
            status_label: status.label(),
            status: ticket.status.as_str().to_string(),
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
    Path(id): Path<TicketId>,
    Query(query): Query<DoneQuery>,
) -> WebResult {
    ticket_page(&state, &viewer, &id, query.done, None, FormErrors::default()).await
}

/// The status a ticket moves to.
#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

pub async fn ticket_status(
    State(state): State<AppState>,
    Path(id): Path<TicketId>,
    post: WebPost<StatusForm>,
) -> WebResult {
    let viewer = &post.user;
    let Some(to) = TicketStatus::parse(&post.form.status) else {
        let errors = FormErrors::field("status", "choose a status");
        return ticket_page(&state, viewer, &id, None, None, errors).await;
    };
    match ops::tickets::set_ticket_status(&state, &viewer.principal, &viewer.actor(), &id, to).await {
        Ok(_) => see_other(Page::Ticket { id, done: Some(TicketDone::Status) }),
        Err(e @ (OperationError::Conflict(_) | OperationError::Forbidden(_))) => {
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
    /// The form as submitted, when refused.
    values: NewTicketForm,
    errors: FormErrors,
}

/// A ticket to open; operators also say whose, and the site and appliance
/// are optional.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewTicketForm {
    partner_id: String,
    subject: String,
    body: String,
    site_id: String,
    appliance_id: String,
}

#[derive(Deserialize, Default)]
pub struct NewTicketQuery {
    #[serde(default)]
    partner_id: Option<PartnerId>,
}

async fn new_ticket_page(
    state: &AppState,
    viewer: &WebUser,
    partner_id: Option<&PartnerId>,
    values: NewTicketForm,
    errors: FormErrors,
) -> WebResult {
    let partner_id = partner_id.filter(|p| !p.is_empty());
    let partners = if viewer.principal.operator {
        let all = ops::platform::partners(state, &viewer.principal).await?;
        choices(all.into_iter().map(|p| (p.id, p.name)), &[partner_id.map_or("", PartnerId::as_str)])
    } else {
        Vec::new()
    };
    let partner = match partner_id {
        Some(p) if viewer.principal.operator => Some(p.clone()),
        _ if viewer.principal.operator => None,
        _ => Some(own_partner(viewer)?),
    };
    let (sites, appliances) = match &partner {
        Some(p) => {
            authz::portal(&viewer.principal, PortalAction::Tickets, p, None).map_err(OperationError::from)?;
            let sites = ops::sites::sites(state, &viewer.principal, p).await?;
            let appliances = ops::appliances::appliances(state, &viewer.principal, p).await?;
            let site_choice = choices(
                sites.iter().map(|s| (s.id.clone(), format!("{} ({})", s.name, s.location))),
                &[values.site_id.as_str()],
            );
            let appliance_choice = choices(
                appliances.iter().filter(|l| l.appliance.retired_at.is_none()).map(|l| {
                    let a = &l.appliance;
                    let site = sites.iter().find(|s| s.id == a.site_id).map_or("", |s| s.name.as_str());
                    (a.id.clone(), format!("{} · {} at {}", a.serial, a.model, site))
                }),
                &[values.appliance_id.as_str()],
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
        partner_id: partner.map(PartnerId::into_string).unwrap_or_default(),
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
    new_ticket_page(&state, &viewer, query.partner_id.as_ref(), NewTicketForm::default(), FormErrors::default()).await
}

pub async fn open_ticket(State(state): State<AppState>, post: WebPost<NewTicketForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let chosen = |id: &str| Some(id.to_string()).filter(|id| !id.is_empty());
    let input = ops::tickets::TicketInput {
        partner_id: chosen(&form.partner_id).map(PartnerId::from),
        subject: form.subject.clone(),
        body: form.body.clone(),
        site_id: chosen(&form.site_id).map(SiteId::from),
        appliance_id: chosen(&form.appliance_id).map(ApplianceId::from),
    };
    match ops::tickets::open_ticket(&state, &viewer.principal, &viewer.actor(), &input).await {
        Ok(ticket) => see_other(Page::Ticket { id: ticket.id, done: Some(TicketDone::Opened) }),
        Err(e @ OperationError::Invalid(_)) => {
            let errors = FormErrors::from_error(e, &["subject", "body", "site_id", "appliance_id"])?;
            new_ticket_page(&state, viewer, input.partner_id.as_ref(), form.clone(), errors).await
        }
        Err(other) => Err(other.into()),
    }
}
