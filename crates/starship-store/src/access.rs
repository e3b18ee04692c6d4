//! What a check reads, in a form an instance may cache: the access
//! generation (migration 0018: every change to what a check reads moves it
//! forward in the same transaction, by trigger), the credential behind a
//! bearer token or session, and people with their grants and admin
//! privileges, many at once. Grants come back with their end dates, so a
//! cached grant stops counting by time exactly as `grants::counting` does.

use sqlx::Row;
use starship_core::catalogue::{AdminScope, RoleRef};
use starship_core::ids::{ApiTokenId, UserId};

use crate::users::{production_of, User};
use crate::{grouped, Conn, Result};

/// The current access generation: one primary-key read.
pub async fn generation(conn: &mut Conn) -> Result<i64> {
    Ok(sqlx::query("SELECT generation FROM access_generation WHERE id = 1").fetch_one(&mut *conn).await?.try_get(0)?)
}

/// A live credential: who it belongs to and until when. Liveness by time
/// is the caller's to judge (`expires_at`), as it changes without a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub holder: Holder,
    pub expires_at: i64,
    /// The API token's id and when its use was last noted; `None` for a session.
    pub token: Option<(ApiTokenId, Option<i64>)>,
}

/// Whom a credential stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A person: a session or a personal API token.
    Person(UserId),
    /// An application's own access token (client_credentials): its application.
    Application(String),
}

/// The API token with this hash, unless revoked; its use is not noted
/// (see [`crate::sessions::note_token_use`]).
pub async fn api_token(conn: &mut Conn, token_hash: &str) -> Result<Option<Credential>> {
    let row = sqlx::query(
        "SELECT id, user_id, expires_at, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Credential {
            holder: Holder::Person(r.try_get("user_id")?),
            expires_at: r.try_get("expires_at")?,
            token: Some((r.try_get("id")?, r.try_get("last_used_at")?)),
        })
    })
    .transpose()
}

/// The session with this hash.
pub async fn session(conn: &mut Conn, token_hash: &str) -> Result<Option<Credential>> {
    let row = sqlx::query("SELECT user_id, expires_at FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(Credential {
            holder: Holder::Person(r.try_get("user_id")?),
            expires_at: r.try_get("expires_at")?,
            token: None,
        })
    })
    .transpose()
}

/// An application's own live access token (from client_credentials) with
/// this hash: its client not revoked, its family not ended.
pub async fn service_token(conn: &mut Conn, token_hash: &str) -> Result<Option<Credential>> {
    let row = sqlx::query(
        "SELECT c.application, t.expires_at FROM oidc_tokens t \
         JOIN oidc_families f ON f.id = t.family_id JOIN oidc_clients c ON c.id = f.client_id \
         WHERE t.token_hash = $1 AND t.kind = 'access' AND t.revoked_at IS NULL AND f.ended_at IS NULL \
         AND f.user_id IS NULL AND c.revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Credential {
            holder: Holder::Application(r.try_get("application")?),
            expires_at: r.try_get("expires_at")?,
            token: None,
        })
    })
    .transpose()
}

/// A person as a check sees them: every grant with its end date (ended
/// ones included: the reader filters by time), and their admin privileges.
#[derive(Debug, Clone)]
pub struct Person {
    pub user: User,
    pub grants: Vec<(RoleRef, Option<i64>)>,
    pub admin: Vec<AdminScope>,
}

impl Person {
    /// The roles that count at `now` (the rule of `grants::counting`).
    pub fn roles_at(&self, now: i64) -> Vec<RoleRef> {
        self.grants.iter().filter(|(_, end)| end.is_none_or(|end| end > now)).map(|(r, _)| r.clone()).collect()
    }
}

/// The people with these ids (deleted ones left out), in three queries
/// whatever their number.
pub async fn people(conn: &mut Conn, ids: &[UserId]) -> Result<Vec<Person>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list = (1..=ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let users = fetch(
        conn,
        &format!("SELECT {} FROM users WHERE id IN ({list}) AND deleted_at IS NULL", crate::users::COLUMNS),
        ids,
    )
    .await?;
    let users = users.iter().map(crate::users::user_from_row).collect::<Result<Vec<User>>>()?;
    let grants = grouped::<UserId, _>(
        fetch(
            conn,
            &format!(
                "SELECT user_id, application, role, production_id, expires_at FROM grants WHERE user_id IN ({list})"
            ),
            ids,
        )
        .await?,
        "user_id",
        |r| {
            Ok((
                RoleRef {
                    application: r.try_get("application")?,
                    role: r.try_get("role")?,
                    production: production_of(r)?,
                },
                r.try_get::<Option<i64>, _>("expires_at")?,
            ))
        },
    )?;
    let admin = grouped::<UserId, _>(
        fetch(
            conn,
            &format!("SELECT user_id, application, production_id FROM admin_privileges WHERE user_id IN ({list})"),
            ids,
        )
        .await?,
        "user_id",
        |r| Ok(AdminScope { application: r.try_get("application")?, production: production_of(r)? }),
    )?;
    let (mut grants, mut admin) = (grants, admin);
    Ok(users
        .into_iter()
        .map(|user| Person {
            grants: grants.remove(&user.id).unwrap_or_default(),
            admin: admin.remove(&user.id).unwrap_or_default(),
            user,
        })
        .collect())
}

async fn fetch(conn: &mut Conn, sql: &str, ids: &[UserId]) -> Result<Vec<sqlx::any::AnyRow>> {
    let mut query = sqlx::query(sql);
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}
