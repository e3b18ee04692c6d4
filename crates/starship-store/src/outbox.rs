//! Email leaves through here: a message is written in the same transaction
//! as the change that causes it, and a dispatcher sends it later.

use sqlx::Row;
use starship_core::ids::{MessageId, UserId};

use starship_core::domain::DeliveryStatus;

use crate::{new_id, now_millis, Conn, Dialect, Result, Value};

#[derive(Debug, Clone)]
pub struct Message {
    pub id: MessageId,
    pub recipient: String,
    pub user_id: Option<UserId>,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
    pub failed_at: Option<i64>,
}

pub struct NewMessage<'a> {
    pub recipient: &'a str,
    pub user_id: Option<&'a UserId>,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub async fn enqueue(conn: &mut Conn, message: &NewMessage<'_>) -> Result<MessageId> {
    Ok(enqueue_many(conn, std::slice::from_ref(message)).await?.remove(0))
}

pub async fn enqueue_many(conn: &mut Conn, messages: &[NewMessage<'_>]) -> Result<Vec<MessageId>> {
    let now = now_millis();
    let mut ids = Vec::with_capacity(messages.len());
    let rows = messages
        .iter()
        .map(|m| {
            let id = MessageId::from(new_id());
            ids.push(id.clone());
            vec![
                Value::Text(id.into_string()),
                Value::Text(m.recipient.to_string()),
                Value::NullableText(m.user_id.map(UserId::to_string)),
                Value::Text(m.kind.to_string()),
                Value::Text(m.subject.to_string()),
                Value::Text(m.body.to_string()),
                Value::Int(now),
                Value::Int(now),
            ]
        })
        .collect();
    crate::insert_many(
        conn,
        "outbox",
        &["id", "recipient", "user_id", "kind", "subject", "body", "created_at", "next_attempt_at"],
        rows,
    )
    .await?;
    Ok(ids)
}

impl Message {
    pub fn status(&self) -> DeliveryStatus {
        DeliveryStatus::of(self.sent_at.is_some(), self.failed_at.is_some(), self.attempts)
    }
}

/// Which messages a list shows, and which page of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// Exactly this address (any case).
    pub recipient: Option<&'a str>,
    /// Part of the address (any case).
    pub search: Option<&'a str>,
    pub status: Option<DeliveryStatus>,
    pub page: Page<'a>,
    pub limit: i64,
}

/// A page of a list newest first, from a message's id: the messages
/// older or newer than it. An id no message has gives an empty page.
#[derive(Debug, Clone, Copy, Default)]
pub enum Page<'a> {
    #[default]
    Newest,
    Before(&'a MessageId),
    After(&'a MessageId),
}

const COLUMNS: &str =
    "id, recipient, user_id, kind, subject, body, created_at, attempts, sent_at, last_error, failed_at";

fn status_clause(status: Option<DeliveryStatus>) -> &'static str {
    match status {
        None => "",
        Some(DeliveryStatus::Queued) => "AND sent_at IS NULL AND failed_at IS NULL AND attempts = 0",
        Some(DeliveryStatus::Retrying) => "AND sent_at IS NULL AND failed_at IS NULL AND attempts > 0",
        Some(DeliveryStatus::Sent) => "AND sent_at IS NOT NULL",
        Some(DeliveryStatus::Failed) => "AND sent_at IS NULL AND failed_at IS NOT NULL",
    }
}

/// Newest first, to one address or to anyone.
pub async fn list(conn: &mut Conn, recipient: Option<&str>, limit: i64) -> Result<Vec<Message>> {
    find(conn, &Filter { recipient, limit, ..Filter::default() }).await
}

/// Newest first (a page `After` a message is still shown newest first).
pub async fn find(conn: &mut Conn, filter: &Filter<'_>) -> Result<Vec<Message>> {
    let (cursor, comparison, order) = match filter.page {
        Page::Newest => (None, "<", "DESC"),
        Page::Before(id) => (Some(id), "<", "DESC"),
        Page::After(id) => (Some(id), ">", "ASC"),
    };
    let cursor_clause = if cursor.is_some() {
        format!(
            "AND (created_at {comparison} (SELECT created_at FROM outbox WHERE id = $3) \
                  OR (created_at = (SELECT created_at FROM outbox WHERE id = $3) AND id {comparison} $3))"
        )
    } else {
        "AND CAST($3 AS TEXT) IS NULL".to_string()
    };
    let search = filter.search.map(|s| format!("%{}%", crate::scim::escape_like(&s.to_lowercase())));
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox \
         WHERE (CAST($1 AS TEXT) IS NULL OR LOWER(recipient) = LOWER(CAST($1 AS TEXT))) \
           AND (CAST($2 AS TEXT) IS NULL OR LOWER(recipient) LIKE CAST($2 AS TEXT) ESCAPE '\\') \
           {} {cursor_clause} \
         ORDER BY created_at {order}, id {order} LIMIT $4",
        status_clause(filter.status)
    );
    let rows = sqlx::query(&sql)
        .bind(filter.recipient)
        .bind(search)
        .bind(cursor)
        .bind(filter.limit)
        .fetch_all(&mut *conn)
        .await?;
    let mut messages = rows.iter().map(message).collect::<Result<Vec<_>>>()?;
    if let Page::After(_) = filter.page {
        messages.reverse();
    }
    Ok(messages)
}

fn message(r: &sqlx::any::AnyRow) -> Result<Message> {
    Ok(Message {
        id: r.try_get("id")?,
        recipient: r.try_get("recipient")?,
        user_id: r.try_get("user_id")?,
        kind: r.try_get("kind")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
        attempts: r.try_get("attempts")?,
        sent_at: r.try_get("sent_at")?,
        last_error: r.try_get("last_error")?,
        failed_at: r.try_get("failed_at")?,
    })
}

pub async fn get(conn: &mut Conn, id: &MessageId) -> Result<Option<Message>> {
    let row =
        sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(message).transpose()
}

/// Puts a failed message back in the queue as new: due now, no attempts
/// counted, no error. None when the message is not a failed one.
pub async fn requeue_failed(conn: &mut Conn, id: &MessageId) -> Result<Option<Message>> {
    let row = sqlx::query(&format!(
        "UPDATE outbox SET failed_at = NULL, attempts = 0, last_error = NULL, next_attempt_at = $2, \
           locked_until = NULL, claim_token = NULL \
         WHERE id = $1 AND failed_at IS NOT NULL AND sent_at IS NULL RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(now_millis())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(message).transpose()
}

/// Single-use links, stored hashed. A new link for the same purpose
/// replaces any earlier one.
pub async fn insert_link(
    conn: &mut Conn,
    token_hash: &str,
    user_id: &UserId,
    purpose: &str,
    expires_at: i64,
) -> Result<()> {
    let now = now_millis();
    sqlx::query("UPDATE activation_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
        .bind(user_id)
        .bind(purpose)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO activation_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash)
        .bind(user_id)
        .bind(purpose)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Links for accounts created in this batch: none of them has an earlier
/// link to replace.
pub async fn insert_new_links(
    conn: &mut Conn,
    links: Vec<(String, UserId)>,
    purpose: &str,
    expires_at: i64,
) -> Result<()> {
    let now = now_millis();
    let rows = links
        .into_iter()
        .map(|(token_hash, user_id)| {
            vec![
                Value::Text(token_hash),
                Value::Text(user_id.into_string()),
                Value::Text(purpose.to_string()),
                Value::Int(now),
                Value::Int(expires_at),
            ]
        })
        .collect();
    crate::insert_many(
        conn,
        "activation_tokens",
        &["token_hash", "user_id", "purpose", "created_at", "expires_at"],
        rows,
    )
    .await
}

/// Uses a link: marks it used and returns whose it was, in one statement so
/// two people racing with the same link cannot both win.
pub async fn use_link(conn: &mut Conn, token_hash: &str, purpose: &str) -> Result<Option<UserId>> {
    let now = now_millis();
    Ok(sqlx::query(
        "UPDATE activation_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id",
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| r.try_get("user_id"))
    .transpose()?)
}

/// What waits to be sent: neither sent nor given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    pub queued: i64,
    pub oldest_created_at: Option<i64>,
}

/// The outbox's depth, for metrics: it reads only the queued rows, which
/// the `outbox_pending` partial index lists.
pub async fn depth(conn: &mut Conn) -> Result<Depth> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS queued, MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Depth { queued: row.try_get("queued")?, oldest_created_at: row.try_get("oldest")? })
}

/// A message a dispatcher has claimed for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: MessageId,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// PostgreSQL lets concurrent claimers skip rows another one is taking;
/// SQLite has one writer at a time and needs nothing.
fn skip_locked(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    }
}

/// Claims up to `batch` due messages for `lease_ms` under `token`. The
/// update repeats the pick's conditions so a row another claimer took
/// meanwhile is re-checked and skipped.
pub async fn claim(conn: &mut Conn, dialect: Dialect, token: &str, lease_ms: i64, batch: i64) -> Result<Vec<Claimed>> {
    let now = now_millis();
    // The pick is a materialised CTE: as an IN subquery PostgreSQL may run
    // it again per row, and with SKIP LOCKED each run picks other rows.
    let sql = format!(
        "WITH picked AS MATERIALIZED (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL \
                      AND next_attempt_at <= $3 AND (locked_until IS NULL OR locked_until < $3) \
                      ORDER BY next_attempt_at, id LIMIT $4 {}) \
         UPDATE outbox SET locked_until = $1, claim_token = $2 \
         WHERE id IN (SELECT id FROM picked) \
           AND sent_at IS NULL AND failed_at IS NULL AND (locked_until IS NULL OR locked_until < $3) \
         RETURNING id, recipient, subject, body, attempts",
        skip_locked(dialect)
    );
    sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(token)
        .bind(now)
        .bind(batch)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                recipient: r.try_get("recipient")?,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

/// Renews the claim on one message just before it is sent, so a batch that
/// outlasts its lease never sends a message another instance has since
/// claimed. False when the claim was lost or the message is no longer due.
pub async fn hold(conn: &mut Conn, id: &MessageId, token: &str, lease_ms: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE outbox SET locked_until = $3 \
         WHERE id = $1 AND claim_token = $2 AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(id)
    .bind(token)
    .bind(now_millis() + lease_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Hands back every message `token` claimed and has not finished, so
/// another instance sends them at once instead of after the lease.
pub async fn release(conn: &mut Conn, token: &str) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE outbox SET locked_until = NULL, claim_token = NULL \
         WHERE claim_token = $1 AND sent_at IS NULL AND failed_at IS NULL",
    )
    .bind(token)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Records a delivery; only the holder of the claim can.
pub async fn mark_sent(conn: &mut Conn, id: &MessageId, token: &str) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE outbox SET sent_at = $3, attempts = attempts + 1, locked_until = NULL, claim_token = NULL, last_error = NULL \
         WHERE id = $1 AND claim_token = $2",
    )
    .bind(id)
    .bind(token)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Records a failed attempt: try again at `retry_at`, or give up for good.
pub async fn mark_attempt_failed(
    conn: &mut Conn,
    id: &MessageId,
    token: &str,
    error: &str,
    retry_at: Option<i64>,
) -> Result<()> {
    let now = now_millis();
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $3, locked_until = NULL, claim_token = NULL, \
           next_attempt_at = COALESCE($4, next_attempt_at), failed_at = CASE WHEN $4 IS NULL THEN $5 ELSE NULL END \
         WHERE id = $1 AND claim_token = $2",
    )
    .bind(id)
    .bind(token)
    .bind(error)
    .bind(retry_at)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An email-change link: like any link, single use and expiring, carrying
/// the address it confirms. Replaces an earlier pending change.
pub async fn insert_email_change(
    conn: &mut Conn,
    token_hash: &str,
    user_id: &UserId,
    new_email: &str,
    expires_at: i64,
) -> Result<()> {
    insert_link(conn, token_hash, user_id, EMAIL_CHANGE, expires_at).await?;
    sqlx::query("UPDATE activation_tokens SET new_email = $2 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(new_email)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub const EMAIL_CHANGE: &str = "email-change";

/// Uses an email-change link: whose, and the address it confirms.
pub async fn use_email_change(conn: &mut Conn, token_hash: &str) -> Result<Option<(UserId, String)>> {
    let now = now_millis();
    let row = sqlx::query(
        "UPDATE activation_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id, new_email",
    )
    .bind(token_hash)
    .bind(EMAIL_CHANGE)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(r
            .try_get::<Option<String>, _>("new_email")?
            .map(|email| Ok::<_, crate::StoreError>((r.try_get("user_id")?, email)))
            .transpose()?),
        None => Ok(None),
    }
}

/// Voids every unused link of a user (sign-in revoked).
pub async fn void_links(conn: &mut Conn, user_id: &UserId) -> Result<()> {
    sqlx::query("UPDATE activation_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
