//! The OpenID Connect provider's signing keys, shared by every instance.

use sqlx::Row;

use crate::{now_millis, Conn, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub private_pem: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// Keys still in use: live ones and those retired after `retired_since`,
/// newest first (the first live one signs).
pub async fn in_use(conn: &mut Conn, retired_since: i64) -> Result<Vec<SigningKey>> {
    let rows = sqlx::query(
        "SELECT kid, private_pem, created_at, retired_at FROM oidc_signing_keys \
         WHERE retired_at IS NULL OR retired_at > $1 ORDER BY created_at DESC, kid DESC",
    )
    .bind(retired_since)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SigningKey {
                kid: r.try_get("kid")?,
                private_pem: r.try_get("private_pem")?,
                created_at: r.try_get("created_at")?,
                retired_at: r.try_get("retired_at")?,
            })
        })
        .collect()
}

/// Whether any live key exists.
pub async fn any_live(conn: &mut Conn) -> Result<bool> {
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM oidc_signing_keys WHERE retired_at IS NULL")
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    Ok(n > 0)
}

/// Adds a key that signs from now on; every other live key is retired (it
/// keeps verifying until it ages out). Returns how many were retired.
pub async fn insert_and_retire_others(conn: &mut Conn, kid: &str, private_pem: &str) -> Result<u64> {
    let now = now_millis();
    let retired = sqlx::query("UPDATE oidc_signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    sqlx::query("INSERT INTO oidc_signing_keys (kid, private_pem, created_at) VALUES ($1, $2, $3)")
        .bind(kid)
        .bind(private_pem)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(retired)
}
