//! The History of every account: append-only. This module can add and read
//! entries, nothing else; the database refuses updates and deletes too.

use serde_json::Value;
use sqlx::Row;

use crate::{new_id, now_millis, Conn, Result, Value as SqlValue};

/// Where a change came from, recorded with every entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Web,
    Cli,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Web => "web",
            Self::Cli => "cli",
            Self::System => "system",
        }
    }
}

/// Who made a change: a user (by id, with their email for the record) or the
/// system itself.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub label: String,
    pub source: Source,
}

impl Actor {
    pub fn user(user_id: &str, email: &str, source: Source) -> Self {
        Self { user_id: Some(user_id.to_string()), label: email.to_string(), source }
    }

    pub fn system(source: Source) -> Self {
        Self { user_id: None, label: "system".to_string(), source }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub user_id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub details: Value,
}

pub async fn append(conn: &mut Conn, user_id: &str, actor: &Actor, action: &str, details: Value) -> Result<()> {
    append_many(conn, actor, vec![(user_id.to_string(), action, details)]).await
}

/// Appends one entry per (account, action, details), all by one actor.
pub async fn append_many(conn: &mut Conn, actor: &Actor, entries: Vec<(String, &str, Value)>) -> Result<()> {
    let at = now_millis();
    let rows = entries
        .into_iter()
        .map(|(user_id, action, details)| {
            vec![
                SqlValue::Text(new_id()),
                SqlValue::Text(user_id),
                SqlValue::Int(at),
                SqlValue::NullableText(actor.user_id.clone()),
                SqlValue::Text(actor.label.clone()),
                SqlValue::Text(actor.source.as_str().to_string()),
                SqlValue::Text(action.to_string()),
                SqlValue::Text(details.to_string()),
            ]
        })
        .collect();
    crate::insert_many(
        conn,
        "history",
        &["id", "user_id", "at", "actor_id", "actor", "source", "action", "details"],
        rows,
    )
    .await
}

/// Newest first, `limit` entries from before the cursor (an entry id).
pub async fn list(conn: &mut Conn, user_id: &str, before: Option<(i64, &str)>, limit: i64) -> Result<Vec<Entry>> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    let rows = sqlx::query(
        "SELECT id, user_id, at, actor_id, actor, source, action, details FROM history \
         WHERE user_id = $1 AND (at < $2 OR (at = $2 AND id < $3)) ORDER BY at DESC, id DESC LIMIT $4",
    )
    .bind(user_id)
    .bind(at)
    .bind(if before.is_some() { id } else { "\u{10FFFF}" })
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let details: String = r.try_get("details")?;
            Ok(Entry {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                at: r.try_get("at")?,
                actor_id: r.try_get("actor_id")?,
                actor: r.try_get("actor")?,
                source: r.try_get("source")?,
                action: r.try_get("action")?,
                details: serde_json::from_str(&details).unwrap_or(Value::String(details)),
            })
        })
        .collect()
}
