//! Expiring grants after the fact: an expired grant already stops counting
//! in every query that reads grants; this job removes it with a History
//! entry, and seven days before the end emails the person and their admins.
//! Only one instance sweeps at a time (a lease in `job_leases`); the
//! statements themselves remove each grant and claim each reminder once, so
//! even two sweepers whose leases overlap write each entry once.

use std::time::Duration;

use starship_core::catalogue::Catalogue;
use starship_store::{jobs, now_millis, Store, StoreError};
use tokio::sync::watch;

use crate::ops;

pub const JOB: &str = "grant-expiry";
/// How long before the end the reminder goes out.
pub const REMINDER_AHEAD: Duration = Duration::from_secs(7 * 24 * 3600);
/// Grants removed (or reminders sent) per transaction.
const BATCH: i64 = 200;

#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// This instance's name in the lease.
    pub holder: String,
    pub lease: Duration,
    /// How often to look for expired grants and due reminders.
    pub every: Duration,
}

impl SweepConfig {
    pub fn new() -> Self {
        Self { holder: starship_store::new_id(), lease: Duration::from_secs(120), every: Duration::from_secs(60) }
    }
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// False when another instance holds the lease: nothing was done.
    pub leased: bool,
    pub removed: usize,
    pub reminded: usize,
}

/// One pass at `now`: takes the lease (or finds it another's and stops),
/// removes every grant expired by then, and queues the reminders of those
/// ending within seven days.
pub async fn sweep_once(
    store: &Store,
    catalogue: &Catalogue,
    config: &SweepConfig,
    now: i64,
) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    let until = now + i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX / 2);
    {
        let mut tx = store.begin().await?;
        if !jobs::acquire(&mut tx, JOB, &config.holder, now, until).await? {
            return Ok(swept);
        }
        tx.commit().await?;
    }
    swept.leased = true;
    loop {
        let removed = ops::expiry::remove_expired(store, now, BATCH).await?;
        swept.removed += removed;
        if (removed as i64) < BATCH {
            break;
        }
    }
    ops::expiry::purge_ended_credentials(store).await?;
    let horizon = now + i64::try_from(REMINDER_AHEAD.as_millis()).unwrap_or(0);
    loop {
        let reminded = ops::expiry::send_reminders(store, catalogue, now, horizon, BATCH).await?;
        swept.reminded += reminded;
        if (reminded as i64) < BATCH {
            break;
        }
    }
    Ok(swept)
}

/// Sweeps every `config.every` until shutdown, then hands the lease back.
/// A pass that ran without error, sweeping or finding another instance
/// holding the lease, counts as the job's success in `metrics`.
pub async fn run(
    store: Store,
    catalogue: std::sync::Arc<Catalogue>,
    config: SweepConfig,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    metrics.jobs.register(crate::metrics::GRANT_EXPIRY);
    while !*shutdown.borrow() {
        match sweep_once(&store, &catalogue, &config, now_millis()).await {
            Ok(swept) => {
                metrics.jobs.succeeded(crate::metrics::GRANT_EXPIRY);
                if swept.removed > 0 || swept.reminded > 0 {
                    tracing::info!(removed = swept.removed, reminded = swept.reminded, "expired grants swept")
                }
            }
            Err(e) => tracing::error!(error = %e, "grant expiry sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(config.every) => {}
            _ = shutdown.changed() => {}
        }
    }
    let released = async {
        let mut conn = store.begin().await?;
        jobs::release(&mut conn, JOB, &config.holder).await?;
        conn.commit().await?;
        Ok::<_, StoreError>(())
    };
    if let Err(e) = released.await {
        tracing::warn!(error = %e, "the expiry sweeper's lease was not handed back; it lapses on its own");
    }
}
