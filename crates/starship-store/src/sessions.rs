//! Sessions, API tokens and sign-in throttling. All in the database, so any
//! instance serves any session. Only hashes of secrets are stored.

use sqlx::any::AnyRow;
use sqlx::Row;
use starship_core::ids::{ApiTokenId, UserId};

use crate::{new_id, now_millis, Conn, Result};

pub async fn insert_session(conn: &mut Conn, token_hash: &str, user_id: &UserId, expires_at: i64) -> Result<()> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now_millis())
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The user a live session belongs to.
pub async fn session_user(conn: &mut Conn, token_hash: &str) -> Result<Option<UserId>> {
    Ok(sqlx::query("SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now_millis())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("user_id"))
        .transpose()?)
}

/// When a live session began: the moment its person signed in.
pub async fn started_at(conn: &mut Conn, token_hash: &str) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT created_at FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now_millis())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("created_at"))
        .transpose()?)
}

pub async fn delete_session(conn: &mut Conn, token_hash: &str) -> Result<Option<UserId>> {
    let row = sqlx::query("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get("user_id")).transpose()?)
}

/// Keeps a right password of an account with two-step sign-in while its
/// code is asked for (only the challenge secret's hash).
pub async fn insert_challenge(conn: &mut Conn, token_hash: &str, user_id: &UserId, expires_at: i64) -> Result<()> {
    sqlx::query("INSERT INTO sign_in_challenges (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The account a live challenge proved the password of.
pub async fn challenge_user(conn: &mut Conn, token_hash: &str) -> Result<Option<UserId>> {
    Ok(sqlx::query("SELECT user_id FROM sign_in_challenges WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now_millis())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("user_id"))
        .transpose()?)
}

/// Spends a challenge: true when it was live and is gone now, so two
/// sign-ins racing on one challenge cannot both complete.
pub async fn spend_challenge(conn: &mut Conn, token_hash: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM sign_in_challenges WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

/// Ends every session and token of a user at once (sign-in revoked).
pub async fn end_all_for_user(conn: &mut Conn, user_id: &UserId) -> Result<Ended> {
    end_all_for_user_except(conn, user_id, None).await
}

/// How many sessions and API tokens were ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ended {
    pub sessions: u64,
    pub tokens: u64,
}

/// Ends every session of a user but the one kept (the caller's own), every
/// API token, and every token applications hold for them (OpenID Connect
/// token families): their sign-in is revoked everywhere at once.
pub async fn end_all_for_user_except(conn: &mut Conn, user_id: &UserId, keep_session: Option<&str>) -> Result<Ended> {
    let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep_session.unwrap_or(""))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let tokens = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    crate::oidc::end_families_of_user(conn, user_id, None, "sign-in ended").await?;
    // A password proven before the sign-in ended must be proven again.
    sqlx::query("DELETE FROM sign_in_challenges WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok(Ended { sessions, tokens })
}

pub async fn purge_expired_sessions(conn: &mut Conn) -> Result<u64> {
    let mut purged = 0;
    for table in ["sessions", "sign_in_challenges"] {
        purged += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1"))
            .bind(now_millis())
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(purged)
}

/// A personal API token as its owner sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: i64,
}

impl ApiToken {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}

pub async fn insert_api_token(
    conn: &mut Conn,
    user_id: &UserId,
    name: &str,
    token_hash: &str,
    expires_at: i64,
) -> Result<ApiToken> {
    let token = ApiToken {
        id: ApiTokenId::from(new_id()),
        name: name.to_string(),
        created_at: now_millis(),
        last_used_at: None,
        expires_at,
    };
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, token_hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&token.id)
    .bind(user_id)
    .bind(token_hash)
    .bind(&token.name)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// How stale `last_used_at` may get before a use writes it again: one
/// write a minute per token, not one per request.
pub const LAST_USED_PRECISION_MS: i64 = 60_000;

/// The user a live token (neither revoked nor expired) belongs to; notes
/// the use when the recorded one is older than [`LAST_USED_PRECISION_MS`].
pub async fn api_token_user(conn: &mut Conn, token_hash: &str) -> Result<Option<UserId>> {
    let now = now_millis();
    let Some(row) = sqlx::query(
        "SELECT id, user_id, last_used_at FROM api_tokens \
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let last_used_at: Option<i64> = row.try_get("last_used_at")?;
    if last_used_at.is_none_or(|at| at < now - LAST_USED_PRECISION_MS) {
        note_token_use(conn, &row.try_get::<ApiTokenId, _>("id")?, now).await?;
    }
    Ok(Some(row.try_get("user_id")?))
}

/// Notes a token's use at `now` unless a use within
/// [`LAST_USED_PRECISION_MS`] is noted already.
pub async fn note_token_use(conn: &mut Conn, token_id: &ApiTokenId, now: i64) -> Result<()> {
    // Guarded in SQL: of two instances noting the same use, one writes.
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(token_id)
    .bind(now)
    .bind(now - LAST_USED_PRECISION_MS)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One user's live tokens (neither revoked nor expired), newest first.
pub async fn list_api_tokens(conn: &mut Conn, user_id: &UserId) -> Result<Vec<ApiToken>> {
    sqlx::query(
        "SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC",
    )
    .bind(user_id)
    .bind(now_millis())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(ApiToken::from_row)
    .collect()
}

/// Revokes one token, only if it is the user's and not revoked yet.
/// Returns its name when it did; `None` for another person's token, an
/// unknown id or one revoked already.
pub async fn revoke_api_token(conn: &mut Conn, user_id: &UserId, token_id: &ApiTokenId) -> Result<Option<String>> {
    Ok(sqlx::query(
        "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING name",
    )
    .bind(token_id)
    .bind(user_id)
    .bind(now_millis())
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| r.try_get("name"))
    .transpose()?)
}

/// One throttled key and how many attempts it allows in a window.
#[derive(Debug, Clone)]
pub struct Throttle {
    pub key: String,
    pub limit: i64,
}

impl Throttle {
    pub fn new(key: impl Into<String>, limit: i64) -> Self {
        Self { key: key.into(), limit }
    }
}

/// Reserves one attempt on every key before the secret is checked, counted
/// in fixed windows. Returns false when any key is past its limit; the
/// caller then drops the transaction, so nothing is counted. Each key's
/// counter is one upsert that reads back its new value, so however many
/// attempts race, at most `limit` of them are let through per window.
pub async fn reserve_attempt(conn: &mut Conn, keys: &[Throttle], window_ms: i64) -> Result<bool> {
    let mut allowed = true;
    for throttle in keys {
        allowed &= spend(conn, throttle, 1, window_ms).await?;
    }
    Ok(allowed)
}

/// Counts `amount` against a key in fixed windows and says whether the key
/// is still within its limit. One upsert that reads back the new count, so
/// concurrent spenders never both see room that only one of them has.
pub async fn spend(conn: &mut Conn, throttle: &Throttle, amount: i64, window_ms: i64) -> Result<bool> {
    let now = now_millis();
    // A window that has run out starts again at this amount.
    let spent: i64 = sqlx::query(
        "INSERT INTO sign_in_failures (throttle_key, failures, window_started_at) VALUES ($1, $4, $2) \
         ON CONFLICT (throttle_key) DO UPDATE SET \
           failures = CASE WHEN sign_in_failures.window_started_at > $3 THEN sign_in_failures.failures + $4 ELSE $4 END, \
           window_started_at = CASE WHEN sign_in_failures.window_started_at > $3 THEN sign_in_failures.window_started_at ELSE $2 END \
         RETURNING failures",
    )
    .bind(&throttle.key)
    .bind(now)
    .bind(now - window_ms)
    .bind(amount)
    .fetch_one(&mut *conn)
    .await?
    .try_get("failures")?;
    Ok(spent <= throttle.limit)
}

/// Gives back an attempt that turned out to be a success.
pub async fn release_attempt(conn: &mut Conn, key: &str) -> Result<()> {
    sqlx::query("UPDATE sign_in_failures SET failures = failures - 1 WHERE throttle_key = $1 AND failures > 0")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn clear_failures(conn: &mut Conn, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1").bind(key).execute(&mut *conn).await?;
    Ok(())
}

/// Remembers that an account signed in from a client address, so that the
/// address's limit (others' failures from a shared NAT or proxy) never
/// refuses it there.
pub async fn remember_client(conn: &mut Conn, email_lower: &str, client: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO sign_in_clients (email, client, last_success_at) VALUES ($1, $2, $3) \
         ON CONFLICT (email, client) DO UPDATE SET last_success_at = $3",
    )
    .bind(email_lower)
    .bind(client)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether the account signed in from this address since `since` (millis).
pub async fn is_known_client(conn: &mut Conn, email_lower: &str, client: &str, since: i64) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM sign_in_clients WHERE email = $1 AND client = $2 AND last_success_at > $3")
        .bind(email_lower)
        .bind(client)
        .bind(since)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}
