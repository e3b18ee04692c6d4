//! The OpenID Connect provider's authorization codes and token families
//! (migration 0024). Codes and tokens are stored as hashes; the rules
//! (PKCE, rotation, who may refresh) are the caller's.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::ids::{ApplicationClientId, GrantId, UserId};

use crate::{new_id, now_millis, Conn, Result};

/// An authorization code as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    /// The client's record (`oidc_clients.id`), not the `client_id` it presents.
    pub client_id: ApplicationClientId,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub scope: String,
    pub auth_time: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The tokens the code was exchanged for, once it was.
    pub family_id: Option<String>,
}

pub async fn insert_code(conn: &mut Conn, code_hash: &str, code: &Code) -> Result<()> {
    sqlx::query(
        "INSERT INTO oidc_codes (code_hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, \
         auth_time, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(code_hash)
    .bind(&code.client_id)
    .bind(&code.user_id)
    .bind(&code.redirect_uri)
    .bind(&code.code_challenge)
    .bind(&code.nonce)
    .bind(&code.scope)
    .bind(code.auth_time)
    .bind(code.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What redeeming a code found.
#[derive(Debug)]
pub enum Redeemed {
    Unknown,
    /// This exchange is the one that redeems it.
    Fresh(Code),
    /// Redeemed before: a replay.
    Used(Code),
}

/// Marks a code used, once: of two exchanges of one code, one gets
/// `Fresh` and the other `Used`.
pub async fn redeem_code(conn: &mut Conn, code_hash: &str) -> Result<Redeemed> {
    let Some(row) = sqlx::query(
        "SELECT client_id, user_id, redirect_uri, code_challenge, nonce, scope, auth_time, expires_at, used_at, \
         family_id FROM oidc_codes WHERE code_hash = $1",
    )
    .bind(code_hash)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(Redeemed::Unknown);
    };
    let code = Code {
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: row.try_get("code_challenge")?,
        nonce: row.try_get("nonce")?,
        scope: row.try_get("scope")?,
        auth_time: row.try_get("auth_time")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        family_id: row.try_get("family_id")?,
    };
    if code.used_at.is_some() {
        return Ok(Redeemed::Used(code));
    }
    let won = sqlx::query("UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL")
        .bind(code_hash)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(if won == 1 { Redeemed::Fresh(code) } else { Redeemed::Used(code) })
}

/// Names the family a redeemed code was exchanged for.
pub async fn set_code_family(conn: &mut Conn, code_hash: &str, family_id: &str) -> Result<()> {
    sqlx::query("UPDATE oidc_codes SET family_id = $2 WHERE code_hash = $1")
        .bind(code_hash)
        .bind(family_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Codes live a minute; this clears the ones past their end.
pub async fn purge_expired_codes(conn: &mut Conn) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM oidc_codes WHERE expires_at <= $1")
        .bind(now_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// A family of tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub id: String,
    /// The client's record (`oidc_clients.id`), not the `client_id` it presents.
    pub client_id: ApplicationClientId,
    pub user_id: Option<UserId>,
    pub scope: String,
    pub auth_time: Option<i64>,
    pub grant_ids: Vec<GrantId>,
    pub ended_at: Option<i64>,
}

pub async fn insert_family(
    conn: &mut Conn,
    client_id: &ApplicationClientId,
    user_id: Option<&UserId>,
    scope: &str,
    auth_time: Option<i64>,
    grant_ids: &[GrantId],
) -> Result<Family> {
    let family = Family {
        id: new_id(),
        client_id: client_id.clone(),
        user_id: user_id.cloned(),
        scope: scope.to_string(),
        auth_time,
        grant_ids: grant_ids.to_vec(),
        ended_at: None,
    };
    sqlx::query(
        "INSERT INTO oidc_families (id, client_id, user_id, scope, auth_time, grant_ids, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&family.id)
    .bind(&family.client_id)
    .bind(&family.user_id)
    .bind(&family.scope)
    .bind(family.auth_time)
    .bind(serde_json::to_string(&family.grant_ids).expect("text serializes"))
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(family)
}

/// Records the grants a refreshed family's person holds now.
pub async fn set_family_grants(conn: &mut Conn, family_id: &str, grant_ids: &[GrantId]) -> Result<()> {
    sqlx::query("UPDATE oidc_families SET grant_ids = $2 WHERE id = $1")
        .bind(family_id)
        .bind(serde_json::to_string(grant_ids).expect("text serializes"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends a family; `false` when it had ended already.
pub async fn end_family(conn: &mut Conn, family_id: &str, reason: &str) -> Result<bool> {
    Ok(sqlx::query("UPDATE oidc_families SET ended_at = $2, ended_reason = $3 WHERE id = $1 AND ended_at IS NULL")
        .bind(family_id)
        .bind(now_millis())
        .bind(reason)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

/// Ends every live family of a person (at one client, or at all); how many.
pub async fn end_families_of_user(
    conn: &mut Conn,
    user_id: &UserId,
    client_id: Option<&ApplicationClientId>,
    reason: &str,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE oidc_families SET ended_at = $2, ended_reason = $3 \
         WHERE user_id = $1 AND ended_at IS NULL AND ($4 = '' OR client_id = $4)",
    )
    .bind(user_id)
    .bind(now_millis())
    .bind(reason)
    .bind(client_id.map_or("", |id| id.as_str()))
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Ends every live family of a client (the client was revoked).
pub async fn end_families_of_client(conn: &mut Conn, client_id: &ApplicationClientId, reason: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE oidc_families SET ended_at = $2, ended_reason = $3 WHERE client_id = $1 AND ended_at IS NULL",
    )
    .bind(client_id)
    .bind(now_millis())
    .bind(reason)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

pub async fn insert_token(
    conn: &mut Conn,
    token_hash: &str,
    family_id: &str,
    kind: TokenKind,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO oidc_tokens (token_hash, family_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(family_id)
    .bind(kind.as_str())
    .bind(now_millis())
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A token with its family, whatever their state: the caller judges.
#[derive(Debug, Clone)]
pub struct Token {
    pub kind: TokenKind,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub family: Family,
}

impl Token {
    /// Not expired, revoked, nor of an ended family (a refresh token's
    /// earlier use is the caller's to judge).
    pub fn live(&self, now: i64) -> bool {
        self.expires_at > now && self.revoked_at.is_none() && self.family.ended_at.is_none()
    }
}

fn family_of(row: &AnyRow) -> Result<Family> {
    let grant_ids: String = row.try_get("grant_ids")?;
    Ok(Family {
        id: row.try_get("family_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        scope: row.try_get("scope")?,
        auth_time: row.try_get("auth_time")?,
        grant_ids: serde_json::from_str(&grant_ids).unwrap_or_default(),
        ended_at: row.try_get("ended_at")?,
    })
}

pub async fn token(conn: &mut Conn, token_hash: &str) -> Result<Option<Token>> {
    let Some(row) = sqlx::query(
        "SELECT t.kind, t.created_at, t.expires_at, t.used_at, t.revoked_at, t.family_id, f.client_id, f.user_id, \
         f.scope, f.auth_time, f.grant_ids, f.ended_at \
         FROM oidc_tokens t JOIN oidc_families f ON f.id = t.family_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let kind: String = row.try_get("kind")?;
    Ok(Some(Token {
        kind: if kind == "refresh" { TokenKind::Refresh } else { TokenKind::Access },
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        revoked_at: row.try_get("revoked_at")?,
        family: family_of(&row)?,
    }))
}

/// Marks a refresh token used, once: `false` when another use got there first.
pub async fn use_refresh_token(conn: &mut Conn, token_hash: &str) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE oidc_tokens SET used_at = $2 WHERE token_hash = $1 AND kind = 'refresh' AND used_at IS NULL",
    )
    .bind(token_hash)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Revokes one token (RFC 7009 on an access token).
pub async fn revoke_token(conn: &mut Conn, token_hash: &str) -> Result<()> {
    sqlx::query("UPDATE oidc_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
