//! TOTP secrets and recovery codes of users who enrolled in MFA.

use sqlx::Row;
use starship_core::ids::UserId;

use crate::{now_millis, Conn, Result};

pub struct Totp {
    pub secret: String,
    pub enabled: bool,
    pub last_step: i64,
}

/// Starts (or restarts) an enrolment: the secret waits for a first code.
pub async fn begin_enrolment(conn: &mut Conn, user_id: &UserId, secret: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO mfa_totp (user_id, secret, enabled_at, last_step, created_at) VALUES ($1, $2, NULL, 0, $3) \
         ON CONFLICT (user_id) DO UPDATE SET secret = $2, enabled_at = NULL, last_step = 0, created_at = $3",
    )
    .bind(user_id)
    .bind(secret)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn totp_of(conn: &mut Conn, user_id: &UserId) -> Result<Option<Totp>> {
    let row = sqlx::query("SELECT secret, enabled_at, last_step FROM mfa_totp WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        let enabled_at: Option<i64> = r.try_get("enabled_at")?;
        Ok(Totp { secret: r.try_get("secret")?, enabled: enabled_at.is_some(), last_step: r.try_get("last_step")? })
    })
    .transpose()
}

/// Accepts the code of time step `step` once: a replayed or older code
/// changes nothing and answers false.
pub async fn use_step(conn: &mut Conn, user_id: &UserId, step: i64) -> Result<bool> {
    Ok(sqlx::query("UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2")
        .bind(user_id)
        .bind(step)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

pub async fn enable(conn: &mut Conn, user_id: &UserId) -> Result<()> {
    sqlx::query("UPDATE mfa_totp SET enabled_at = $2 WHERE user_id = $1")
        .bind(user_id)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn replace_recovery_codes(conn: &mut Conn, user_id: &UserId, code_hashes: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for hash in code_hashes {
        sqlx::query("INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn use_recovery_code(conn: &mut Conn, user_id: &UserId, code_hash: &str) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE mfa_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(code_hash)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Removes MFA entirely (a reset): the next sign-in needs only the password.
pub async fn remove(conn: &mut Conn, user_id: &UserId) -> Result<bool> {
    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok(sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?.rows_affected()
        == 1)
}
