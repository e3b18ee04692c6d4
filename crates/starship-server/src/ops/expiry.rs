//! The writes of the grant expiry job (`crate::expiry` holds its lease and
//! its loop): ended grants removed with History, reminders queued before
//! an end. Each pass is one transaction of at most `batch` grants.

use starship_core::authz::scope_granting;
use starship_core::catalogue::Catalogue;
use starship_core::history::Kind;
use starship_core::time_fmt::last_day;
use starship_store::history::{self, Actor, Source};
use starship_store::{grants, outbox, users, Store, StoreError};

use crate::email;

/// The admins named in one reminder, at most: a reminder is not a mailing list.
const ADMINS_PER_REMINDER: i64 = 20;

/// Removes up to `batch` grants ended by `now`, each with History
/// `role.expired` by Starship itself; returns how many.
pub async fn remove_expired(store: &Store, now: i64, batch: i64) -> Result<usize, StoreError> {
    let mut tx = store.begin().await?;
    let removed = grants::sweep_expired(&mut tx, now, batch).await?;
    let entries =
        removed.iter().map(|g| (g.user_id.clone(), Kind::RoleExpired, super::grants::grant_details(g, None))).collect();
    history::append_many(&mut tx, &Actor::system(Source::System), entries).await?;
    tx.commit().await?;
    Ok(removed.len())
}

/// Deletes what has ended and proves nothing any more: sessions past their
/// end and authorization codes past theirs (a minute; a code's replay is
/// only detectable while it lives, and it is refused once expired anyway).
pub async fn purge_ended_credentials(store: &Store) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let purged = starship_store::sessions::purge_expired_sessions(&mut tx).await?
        + starship_store::oidc::purge_expired_codes(&mut tx).await?;
    tx.commit().await?;
    Ok(purged)
}

/// Claims up to `batch` grants ending before `horizon` whose reminder has
/// not gone out, and queues it to the person and the admins who could
/// extend the role; returns how many grants were claimed.
pub async fn send_reminders(
    store: &Store,
    catalogue: &Catalogue,
    now: i64,
    horizon: i64,
    batch: i64,
) -> Result<usize, StoreError> {
    let mut tx = store.begin().await?;
    let due = grants::claim_reminders(&mut tx, now, horizon, batch).await?;
    for grant in &due {
        let Some(person) = users::get(&mut tx, &grant.user_id).await? else { continue };
        let Some(partner) = person.partner_id.clone() else { continue };
        let application = catalogue.application(&grant.role.application);
        let role_name = catalogue
            .role(&grant.role.application, &grant.role.role)
            .map_or_else(|| grant.role.role.to_string(), |r| r.name.clone());
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
    Ok(due.len())
}
