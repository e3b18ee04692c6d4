//! Tickets: opened, moved between statuses and commented, each emailed
//! to the watchers and the partner's NOC contacts; listed with their
//! comments.

use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::domain::Title;
use starship_core::history::Kind;
use starship_core::ids::{ApplianceId, PartnerId, SiteId, TicketId, UserId};
use starship_core::portal::{PortalAction, TicketStatus};
use starship_core::FieldError;
use starship_store::history::{self, Actor};
use starship_store::tickets::{self, Comment, Ticket};
use starship_store::users;
use starship_store::{appliances, outbox, partners, sites, Conn};

use crate::email;
use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

/// A ticket's body or comment: 1 to 10,000 characters once trimmed.
fn ticket_text(field: &str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 10_000 {
        return Err(FieldError::new(field, "must be between 1 and 10000 characters"));
    }
    Ok(text.to_string())
}

/// Queues the email about a ticket's news to its watchers (opener and
/// commenters) and the partner's NOC contacts, except the one who acted.
async fn tell_ticket_audience(
    conn: &mut Conn,
    state: &AppState,
    ticket: &tickets::Ticket,
    caller: &Principal,
    by: &str,
    news: &email::TicketNews<'_>,
) -> OperationResult<()> {
    let link = format!("{}/portal/tickets/{}", state.config.public_url, ticket.id);
    let audience: Vec<UserId> =
        tickets::ticket_audience(conn, &ticket.id).await?.into_iter().filter(|id| !caller.is(id)).collect();
    let mails: Vec<_> = users::get_many(conn, &audience)
        .await?
        .into_iter()
        .map(|person| {
            let mail = email::ticket_news(&person.locale, &person.first_name, &ticket.subject, by, news, &link);
            (person, mail)
        })
        .collect();
    let messages: Vec<_> = mails.iter().map(|(person, mail)| mail.to(person, "ticket")).collect();
    outbox::enqueue_many(conn, &messages).await?;
    Ok(())
}

/// A ticket as asked for: operators name the partner.
#[derive(Debug, Clone, Default)]
pub struct TicketInput {
    pub partner_id: Option<PartnerId>,
    pub subject: String,
    pub body: String,
    pub site_id: Option<SiteId>,
    pub appliance_id: Option<ApplianceId>,
}

/// Opens a ticket (every portal level, and operators for a partner); a
/// site or appliance named must be the partner's. Its watchers start with
/// the opener; the partner's NOC contacts are told.
pub async fn open_ticket(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    input: &TicketInput,
) -> OperationResult<tickets::Ticket> {
    let by = caller.person()?;
    let partner = crate::ops::users::target_partner(caller, input.partner_id.as_ref())?;
    authz::portal(caller, PortalAction::Tickets, &partner, None)?;
    let (subject, body) =
        starship_core::error::both(Title::parse("subject", &input.subject), ticket_text("body", &input.body))?;
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, &partner).await?.ok_or(OperationError::NotFound)?;
    let site_id = input.site_id.as_ref().filter(|s| !s.is_empty());
    let appliance_id = input.appliance_id.as_ref().filter(|s| !s.is_empty());
    if let Some(site) = site_id {
        let found = sites::get_site(&mut tx, site).await?;
        if found.is_none_or(|s| s.partner_id != partner) {
            return Err(OperationError::NotFound);
        }
    }
    if let Some(appliance) = appliance_id {
        let found = appliances::get_appliance(&mut tx, appliance).await?.ok_or(OperationError::NotFound)?;
        if found.partner_id != partner {
            return Err(OperationError::NotFound);
        }
        if site_id.is_some_and(|site| *site != found.site_id) {
            return Err(FieldError::new("appliance_id", "this appliance is at another site").into());
        }
    }
    let new = tickets::NewTicket {
        partner_id: &partner,
        subject: subject.as_str(),
        body: &body,
        site_id,
        appliance_id,
        opened_by: Some(by),
    };
    let id = tickets::open_ticket(&mut tx, &new).await?;
    let ticket = tickets::get_ticket(&mut tx, &id).await?.ok_or(OperationError::NotFound)?;
    history::append(
        &mut tx,
        by,
        actor,
        Kind::TicketOpened,
        json!({"ticket_id": id, "partner_id": partner, "subject": ticket.subject}),
    )
    .await?;
    tell_ticket_audience(&mut tx, state, &ticket, caller, &actor.label, &email::TicketNews::Opened { body: &body })
        .await?;
    tx.commit().await?;
    Ok(ticket)
}

/// Moves a ticket to another status (operators and the partner's portal
/// admins), along the transitions `TicketStatus::next` allows.
pub async fn set_ticket_status(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    ticket_id: &TicketId,
    to: TicketStatus,
) -> OperationResult<tickets::Ticket> {
    let by = caller.person()?;
    let mut tx = state.store.begin().await?;
    let ticket = tickets::get_ticket(&mut tx, ticket_id).await?.ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::TicketStatus, &ticket.partner_id, None)?;
    let from = ticket.status;
    if !from.may_become(to) {
        return Err(OperationError::Conflict(format!(
            "a ticket that is {} cannot become {}",
            from.label().to_lowercase(),
            to.label().to_lowercase()
        )));
    }
    if !tickets::set_ticket_status(&mut tx, &ticket.id, from, to, by).await? {
        return Err(OperationError::Conflict("the ticket changed meanwhile; reload it".into()));
    }
    history::append(
        &mut tx,
        by,
        actor,
        Kind::TicketStatusChanged,
        json!({"ticket_id": ticket.id, "from": from, "to": to}),
    )
    .await?;
    tell_ticket_audience(&mut tx, state, &ticket, caller, &actor.label, &email::TicketNews::StatusChanged { from, to })
        .await?;
    let ticket = tickets::get_ticket(&mut tx, &ticket.id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(ticket)
}

/// Comments on a ticket (every portal level); the commenter watches it
/// from then on, and the watchers and NOC contacts are told.
pub async fn comment_on_ticket(
    state: &AppState,
    caller: &Principal,
    actor: &Actor,
    author_email: &str,
    ticket_id: &TicketId,
    body: &str,
) -> OperationResult<String> {
    let by = caller.person()?;
    let text = ticket_text("body", body)?;
    let mut tx = state.store.begin().await?;
    let ticket = tickets::get_ticket(&mut tx, ticket_id).await?.ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &ticket.partner_id, None)?;
    let id = tickets::insert_ticket_comment(&mut tx, &ticket.id, Some(by), author_email, &text).await?;
    history::append(&mut tx, by, actor, Kind::TicketCommented, json!({"ticket_id": ticket.id, "comment_id": id}))
        .await?;
    tell_ticket_audience(&mut tx, state, &ticket, caller, author_email, &email::TicketNews::Commented { body: &text })
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// A partner's tickets with their comments: every portal level.
pub async fn tickets(
    state: &AppState,
    caller: &Principal,
    partner_id: &PartnerId,
) -> OperationResult<Vec<(Ticket, Vec<Comment>)>> {
    authz::portal(caller, PortalAction::Tickets, partner_id, None)?;
    let mut tx = state.store.begin_read().await?;
    let tickets = tickets::tickets_of_partner(&mut tx, partner_id).await?;
    let mut comments = tickets::comments_of_partner_tickets(&mut tx, partner_id).await?;
    tx.commit().await?;
    Ok(tickets
        .into_iter()
        .map(|ticket| {
            let comments = comments.remove(&ticket.id).unwrap_or_default();
            (ticket, comments)
        })
        .collect())
}

/// One ticket with its comments.
pub async fn ticket(
    state: &AppState,
    caller: &Principal,
    ticket_id: &TicketId,
) -> OperationResult<(Ticket, Vec<Comment>)> {
    let mut tx = state.store.begin_read().await?;
    let ticket = tickets::get_ticket(&mut tx, ticket_id).await?.ok_or(OperationError::NotFound)?;
    authz::portal(caller, PortalAction::Tickets, &ticket.partner_id, None)?;
    let comments = tickets::ticket_comments(&mut tx, &ticket.id).await?;
    tx.commit().await?;
    Ok((ticket, comments))
}
