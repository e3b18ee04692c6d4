//! Email leaves through here: a message is written in the same transaction
//! as the change that causes it, and a dispatcher sends it later.

use sqlx::Row;

use crate::{new_id, now_millis, Conn, Result};

#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub recipient: String,
    pub user_id: Option<String>,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
}

pub struct NewMessage<'a> {
    pub recipient: &'a str,
    pub user_id: Option<&'a str>,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub async fn enqueue(conn: &mut Conn, message: &NewMessage<'_>) -> Result<String> {
    let id = new_id();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO outbox (id, recipient, user_id, kind, subject, body, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id)
    .bind(message.recipient)
    .bind(message.user_id)
    .bind(message.kind)
    .bind(message.subject)
    .bind(message.body)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Newest first.
pub async fn list(conn: &mut Conn, recipient: Option<&str>, limit: i64) -> Result<Vec<Message>> {
    let rows = sqlx::query(
        "SELECT id, recipient, user_id, kind, subject, body, created_at, attempts, sent_at, last_error FROM outbox \
         WHERE (CAST($1 AS TEXT) IS NULL OR LOWER(recipient) = LOWER(CAST($1 AS TEXT))) ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(recipient)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
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
            })
        })
        .collect()
}

/// Single-use links, stored hashed. A new link for the same purpose
/// replaces any earlier one.
pub async fn insert_link(conn: &mut Conn, token_hash: &str, user_id: &str, purpose: &str, expires_at: i64) -> Result<()> {
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

/// Uses a link: marks it used and returns whose it was, in one statement so
/// two people racing with the same link cannot both win.
pub async fn use_link(conn: &mut Conn, token_hash: &str, purpose: &str) -> Result<Option<String>> {
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
