//! Email leaves through here: a message is written in the same transaction
//! as the change that causes it, and a dispatcher sends it later.

use sqlx::Row;

use crate::{new_id, now_millis, Conn, Result, Value};

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
    Ok(enqueue_many(conn, std::slice::from_ref(message)).await?.remove(0))
}

pub async fn enqueue_many(conn: &mut Conn, messages: &[NewMessage<'_>]) -> Result<Vec<String>> {
    let now = now_millis();
    let mut ids = Vec::with_capacity(messages.len());
    let rows = messages
        .iter()
        .map(|m| {
            let id = new_id();
            ids.push(id.clone());
            vec![
                Value::Text(id),
                Value::Text(m.recipient.to_string()),
                Value::NullableText(m.user_id.map(str::to_string)),
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

/// Links for accounts created in this batch: none of them has an earlier
/// link to replace.
pub async fn insert_new_links(conn: &mut Conn, links: Vec<(String, String)>, purpose: &str, expires_at: i64) -> Result<()> {
    let now = now_millis();
    let rows = links
        .into_iter()
        .map(|(token_hash, user_id)| {
            vec![Value::Text(token_hash), Value::Text(user_id), Value::Text(purpose.to_string()), Value::Int(now), Value::Int(expires_at)]
        })
        .collect();
    crate::insert_many(conn, "activation_tokens", &["token_hash", "user_id", "purpose", "created_at", "expires_at"], rows).await
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
