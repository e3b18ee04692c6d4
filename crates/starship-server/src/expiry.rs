//! Expiring grants after the fact: an expired grant already stops counting
//! in every query that reads grants; this job removes it with a History
//! entry, and seven days before the end emails the person and their admins.
//! Only one instance sweeps at a time (a lease in `job_leases`); the
//! statements themselves remove each grant and claim each reminder once, so
//! even two sweepers whose leases overlap write each entry once.

use starship_core::history::Kind;
use std::time::Duration;

use starship_core::authz::scope_granting;
use starship_core::catalogue::Catalogue;
use starship_core::time_fmt::last_day;
use starship_store::history::{self, Actor, Source};
use starship_store::{grants, jobs, now_millis, outbox, users, Store, StoreError};
use tokio::sync::watch;

use crate::email;

pub const JOB: &str = "grant-expiry";
/// How long before the end the reminder goes out.
pub const REMINDER_AHEAD: Duration = Duration::from_secs(7 * 24 * 3600);
/// Grants removed (or reminders sent) per transaction.
const BATCH: i64 = 200;
/// The admins named in one reminder, at most: a reminder is not a mailing list.
const ADMINS_PER_REMINDER: i64 = 20;

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
    let system = Actor::system(Source::System);
    loop {
        let mut tx = store.begin().await?;
        let removed = grants::sweep_expired(&mut tx, now, BATCH).await?;
        let entries = removed
            .iter()
            .map(|g| (g.user_id.clone(), Kind::RoleExpired, crate::ops::grant_details(g, None)))
            .collect();
        history::append_many(&mut tx, &system, entries).await?;
        tx.commit().await?;
        swept.removed += removed.len();
        if (removed.len() as i64) < BATCH {
            break;
        }
    }
    let horizon = now + i64::try_from(REMINDER_AHEAD.as_millis()).unwrap_or(0);
    loop {
        let mut tx = store.begin().await?;
        let due = grants::claim_reminders(&mut tx, now, horizon, BATCH).await?;
        for grant in &due {
            let Some(person) = users::get(&mut tx, &grant.user_id).await? else { continue };
            let Some(partner) = person.partner_id.clone() else { continue };
            let application = catalogue.application(&grant.role.application);
            let role_name = catalogue
                .role(&grant.role.application, &grant.role.role)
                .map_or_else(|| grant.role.role.clone(), |r| r.name.clone());
            let what = match (application, grant.role.production) {
                (Some(app), Some(p)) => format!("{role_name} in {} (production {p})", app.name),
                (Some(app), None) => format!("{role_name} in {}", app.name),
                (None, _) => role_name,
            };
            let day = last_day(grant.expires_at.unwrap_or(now));
            let own = email::role_expiry_reminder(&person.locale, &person.first_name, None, &what, &day);
            let mut messages = vec![own.to(&person, "role-expiry")];
            let admins =
                grants::admins_of_scope(&mut tx, &partner, &scope_granting(&grant.role), ADMINS_PER_REMINDER).await?;
            let person_name = person.full_name();
            let theirs: Vec<_> = admins
                .iter()
                .filter(|a| a.id != person.id)
                .map(|a| (a, email::role_expiry_reminder(&a.locale, &a.first_name, Some(&person_name), &what, &day)))
                .collect();
            messages.extend(theirs.iter().map(|(admin, mail)| mail.to(admin, "role-expiry")));
            outbox::enqueue_many(&mut tx, &messages).await?;
        }
        tx.commit().await?;
        swept.reminded += due.len();
        if (due.len() as i64) < BATCH {
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
