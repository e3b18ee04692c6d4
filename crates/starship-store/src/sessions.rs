//! Sessions, API tokens and sign-in throttling. All in the database, so any
//! instance serves any session. Only hashes of secrets are stored.

use sqlx::Row;

use crate::{new_id, now_millis, Conn, Result};

pub async fn insert_session(conn: &mut Conn, token_hash: &str, user_id: &str, expires_at: i64) -> Result<()> {
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
pub async fn session_user(conn: &mut Conn, token_hash: &str) -> Result<Option<String>> {
    Ok(sqlx::query("SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
        .bind(token_hash)
        .bind(now_millis())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("user_id"))
        .transpose()?)
}

pub async fn delete_session(conn: &mut Conn, token_hash: &str) -> Result<Option<String>> {
    let row = sqlx::query("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get("user_id")).transpose()?)
}

/// Ends every session and token of a user at once (sign-in revoked).
pub async fn end_all_for_user(conn: &mut Conn, user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn purge_expired_sessions(conn: &mut Conn) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_millis())
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

pub async fn insert_api_token(conn: &mut Conn, user_id: &str, name: &str, token_hash: &str) -> Result<ApiToken> {
    let token = ApiToken { id: new_id(), name: name.to_string(), created_at: now_millis() };
    sqlx::query("INSERT INTO api_tokens (id, user_id, token_hash, name, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&token.id)
        .bind(user_id)
        .bind(token_hash)
        .bind(&token.name)
        .bind(token.created_at)
        .execute(&mut *conn)
        .await?;
    Ok(token)
}

pub async fn api_token_user(conn: &mut Conn, token_hash: &str) -> Result<Option<String>> {
    Ok(sqlx::query("SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("user_id"))
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
