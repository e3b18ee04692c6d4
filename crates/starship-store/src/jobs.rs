//! Leases for background jobs that must run on one instance at a time (the
//! expiry sweeper): a row per job naming its holder until a time. A holder
//! renews its own lease; anyone takes over one that has lapsed.

use crate::{Conn, Result};

/// Takes or renews the lease on `job` for `holder` until `until`; `false`
/// when another holder's lease is still running at `now`.
pub async fn acquire(conn: &mut Conn, job: &str, holder: &str, now: i64, until: i64) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO job_leases (job, holder, until) VALUES ($1, $2, $3) \
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until \
         WHERE job_leases.holder = excluded.holder OR job_leases.until <= $4",
    )
    .bind(job)
    .bind(holder)
    .bind(until)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Gives the lease back early (on shutdown), if it is still ours.
pub async fn release(conn: &mut Conn, job: &str, holder: &str) -> Result<()> {
    sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
        .bind(job)
        .bind(holder)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
