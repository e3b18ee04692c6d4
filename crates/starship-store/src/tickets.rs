//! Tickets: opened, moved between statuses, commented, and who hears
//! about them (`ticket_audience`).

use starship_core::ids::{ApplianceId, PartnerId, SiteId, TicketId, UserId};
use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::portal::TicketStatus;

use crate::{grouped, new_id, now_millis, Conn, Result};

#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: TicketId,
    pub partner_id: PartnerId,
    pub subject: String,
    pub body: String,
    pub status: TicketStatus,
    pub opened_by: Option<UserId>,
    pub created_at: i64,
    pub site_id: Option<SiteId>,
    pub appliance_id: Option<ApplianceId>,
    pub status_changed_at: Option<i64>,
}

const TICKET_COLUMNS: &str =
    "id, partner_id, subject, body, status, opened_by, created_at, site_id, appliance_id, status_changed_at";

fn ticket_from_row(r: &sqlx::any::AnyRow) -> Result<Ticket> {
    Ok(Ticket {
        id: r.try_get("id")?,
        partner_id: r.try_get("partner_id")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        status: {
            let status: String = r.try_get("status")?;
            TicketStatus::parse(&status)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown ticket status {status}").into()))?
        },
        opened_by: r.try_get("opened_by")?,
        created_at: r.try_get("created_at")?,
        site_id: r.try_get("site_id")?,
        appliance_id: r.try_get("appliance_id")?,
        status_changed_at: r.try_get("status_changed_at")?,
    })
}

pub async fn tickets_of_partner(conn: &mut Conn, partner_id: &PartnerId) -> Result<Vec<Ticket>> {
    sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE partner_id = $1 ORDER BY created_at DESC, id"))
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(ticket_from_row)
        .collect()
}

pub async fn get_ticket(conn: &mut Conn, id: &TicketId) -> Result<Option<Ticket>> {
    sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(ticket_from_row)
        .transpose()
}

pub async fn insert_ticket(
    conn: &mut Conn,
    partner_id: &PartnerId,
    subject: &str,
    body: &str,
    opened_by: Option<&UserId>,
) -> Result<TicketId> {
    open_ticket(conn, &NewTicket { partner_id, subject, body, site_id: None, appliance_id: None, opened_by }).await
}

/// A ticket to open: the site and appliance, when named, are the partner's
/// (the caller checked).
pub struct NewTicket<'a> {
    pub partner_id: &'a PartnerId,
    pub subject: &'a str,
    pub body: &'a str,
    pub site_id: Option<&'a SiteId>,
    pub appliance_id: Option<&'a ApplianceId>,
    pub opened_by: Option<&'a UserId>,
}

pub async fn open_ticket(conn: &mut Conn, t: &NewTicket<'_>) -> Result<TicketId> {
    let id = TicketId::from(new_id());
    sqlx::query(
        "INSERT INTO tickets (id, partner_id, subject, body, status, opened_by, created_at, site_id, appliance_id) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(t.partner_id)
    .bind(t.subject)
    .bind(t.body)
    .bind(t.opened_by)
    .bind(now_millis())
    .bind(t.site_id)
    .bind(t.appliance_id)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Moves a ticket from one status to another; false when it was no longer
/// in `from` (someone else moved it meanwhile).
pub async fn set_ticket_status(
    conn: &mut Conn,
    id: &TicketId,
    from: TicketStatus,
    to: TicketStatus,
    by: &UserId,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE tickets SET status = $3, status_changed_by = $4, status_changed_at = $5 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who hears about a ticket: its watchers (the opener and everyone who
/// commented) and the partner's NOC contacts; people deleted or
/// deactivated are left out. User ids, in order.
pub async fn ticket_audience(conn: &mut Conn, ticket_id: &TicketId) -> Result<Vec<UserId>> {
    sqlx::query(
        "SELECT u.id FROM users u WHERE u.deleted_at IS NULL AND u.deactivated_at IS NULL AND ( \
           u.id IN (SELECT opened_by FROM tickets WHERE id = $1) \
           OR u.id IN (SELECT author_id FROM ticket_comments WHERE ticket_id = $1) \
           OR (u.partner_id = (SELECT partner_id FROM tickets WHERE id = $1) \
               AND EXISTS (SELECT 1 FROM user_contact_roles r WHERE r.user_id = u.id AND r.contact_role = 'noc'))) \
         ORDER BY u.id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok(r.try_get("id")?))
    .collect()
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: String,
    pub author_id: Option<UserId>,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

const COMMENT_COLUMNS: &str = "c.ticket_id, c.id, c.author_id, c.author, c.body, c.created_at";

fn comment(r: &AnyRow) -> Result<Comment> {
    Ok(Comment {
        id: r.try_get("id")?,
        author_id: r.try_get("author_id")?,
        author: r.try_get("author")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert_ticket_comment(
    conn: &mut Conn,
    ticket_id: &TicketId,
    author_id: Option<&UserId>,
    author: &str,
    body: &str,
) -> Result<String> {
    let id = new_id();
    sqlx::query("INSERT INTO ticket_comments (id, ticket_id, author_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&id)
        .bind(ticket_id)
        .bind(author_id)
        .bind(author)
        .bind(body)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// A ticket's comments, oldest first.
pub async fn ticket_comments(conn: &mut Conn, ticket_id: &TicketId) -> Result<Vec<Comment>> {
    sqlx::query(&format!(
        "SELECT {COMMENT_COLUMNS} FROM ticket_comments c WHERE c.ticket_id = $1 ORDER BY c.created_at, c.id"
    ))
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(comment)
    .collect()
}

/// The comments of every ticket of a partner, by ticket id, oldest first.
pub async fn comments_of_partner_tickets(
    conn: &mut Conn,
    partner_id: &PartnerId,
) -> Result<HashMap<TicketId, Vec<Comment>>> {
    let rows = sqlx::query(&format!(
        "SELECT {COMMENT_COLUMNS} FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id \
         WHERE t.partner_id = $1 ORDER BY c.created_at, c.id"
    ))
    .bind(partner_id)
    .fetch_all(&mut *conn)
    .await?;
    grouped(rows, "ticket_id", comment)
}
