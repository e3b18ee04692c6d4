//! The History of every account: append-only. This module can add and read
//! entries, nothing else; the database refuses updates and deletes too.

use serde_json::Value;
use sqlx::Row;

use crate::{new_id, now_millis, Conn, Result};

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
    sqlx::query(
        "INSERT INTO history (id, user_id, at, actor_id, actor, source, action, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(now_millis())
    .bind(&actor.user_id)
    .bind(&actor.label)
    .bind(actor.source.as_str())
    .bind(action)
    .bind(details.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
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
