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

/// Failures counted in fixed windows per key (an account's email, a client
/// address). Returns whether any of the keys is over its limit now.
pub async fn is_throttled(conn: &mut Conn, keys: &[String], limit: i64, window_ms: i64) -> Result<bool> {
    let since = now_millis() - window_ms;
    for key in keys {
        let over = sqlx::query(
            "SELECT 1 FROM sign_in_failures WHERE throttle_key = $1 AND window_started_at > $2 AND failures >= $3",
        )
        .bind(key)
        .bind(since)
        .bind(limit)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
        if over {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn record_failure(conn: &mut Conn, keys: &[String], window_ms: i64) -> Result<()> {
    let now = now_millis();
    for key in keys {
        // A window that has run out starts again at one failure.
        sqlx::query(
            "INSERT INTO sign_in_failures (throttle_key, failures, window_started_at) VALUES ($1, 1, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
               failures = CASE WHEN sign_in_failures.window_started_at > $3 THEN sign_in_failures.failures + 1 ELSE 1 END, \
               window_started_at = CASE WHEN sign_in_failures.window_started_at > $3 THEN sign_in_failures.window_started_at ELSE $2 END",
        )
        .bind(key)
        .bind(now)
        .bind(now - window_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn clear_failures(conn: &mut Conn, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE throttle_key = $1").bind(key).execute(&mut *conn).await?;
    Ok(())
}
