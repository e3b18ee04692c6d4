//! The History of every account: append-only. This module can add and read
//! entries, nothing else; the database refuses updates and deletes too.

use serde_json::Value;
use sqlx::Row;
pub use starship_core::history::Kind;

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

pub async fn append(conn: &mut Conn, user_id: &str, actor: &Actor, kind: Kind, details: Value) -> Result<()> {
    append_many(conn, actor, vec![(user_id.to_string(), kind, details)]).await
}

/// Appends one entry per (account, action, details), all by one actor.
pub async fn append_many(conn: &mut Conn, actor: &Actor, entries: Vec<(String, Kind, Value)>) -> Result<()> {
    let at = now_millis();
    let rows = entries
        .into_iter()
        .map(|(user_id, kind, details)| {
            vec![
                SqlValue::Text(new_id()),
                SqlValue::Text(user_id),
                SqlValue::Int(at),
                SqlValue::NullableText(actor.user_id.clone()),
                SqlValue::Text(actor.label.clone()),
                SqlValue::Text(actor.source.as_str().to_string()),
                SqlValue::Text(kind.as_str().to_string()),
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

/// Newest first, `limit` entries from before the cursor (an entry id),
/// only of `kinds` unless it is empty.
pub async fn list(
    conn: &mut Conn,
    user_id: &str,
    before: Option<(i64, &str)>,
    kinds: &[Kind],
    limit: i64,
) -> Result<Vec<Entry>> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    let only_kinds = if kinds.is_empty() {
        String::new()
    } else {
        let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
        format!(" AND action IN ({})", placeholders.join(", "))
    };
    let sql = format!(
        "SELECT id, user_id, at, actor_id, actor, source, action, details FROM history \
         WHERE user_id = $1 AND (at < $2 OR (at = $2 AND id < $3)){only_kinds} ORDER BY at DESC, id DESC LIMIT $4"
    );
    let mut query =
        sqlx::query(&sql).bind(user_id).bind(at).bind(if before.is_some() { id } else { "\u{10FFFF}" }).bind(limit);
    for kind in kinds {
        query = query.bind(kind.as_str());
    }
    let rows = query.fetch_all(&mut *conn).await?;
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
