//! Access reviews: opening one, reading it, deciding on its items, and the
//! background pass that reminds the reviewers and closes what is due.
//!
//! Every grant not kept when a review closes is revoked then, a "revoke"
//! decision and an item nobody decided alike: until the due date a
//! decision can still change, and one pass does all the revoking.

use starship_core::history::Kind;
use starship_core::ids::{GrantId, PartnerId, ReviewId};
use std::time::Duration;

use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::domain::ProductionId;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_core::FieldError;
use starship_store::history::{self, Actor, Source};
use starship_store::reviews::{self, Decision, Item, Review};
use starship_store::{grants, now_millis, outbox, partners, users, Store, StoreError};

use crate::email;
use crate::ops::users::target_partner;
use crate::ops::{OperationError, OperationResult};
use crate::state::AppState;

/// The reminder goes out this long before the due date, once.
pub const REMINDER_LEAD: Duration = Duration::from_secs(3 * 24 * 3600);

/// The longest note a decision keeps.
pub const NOTE_MAX_CHARS: usize = 1_000;

/// The most reviews one list answers.
pub const LIST_LIMIT: i64 = 200;

pub struct OpenRequest {
    /// Operators must name the partner; a partner's admin may leave it out.
    pub partner_id: Option<PartnerId>,
    pub application: String,
    pub production: Option<i64>,
    pub due_at: i64,
}

/// Opens a review of every grant of the application in the partner (on the
/// production, when one is given), as they are now.
pub async fn open(state: &AppState, caller: &Principal, request: &OpenRequest) -> OperationResult<(Review, Vec<Item>)> {
    let by = caller.person()?;
    let partner_id = target_partner(caller, request.partner_id.as_ref())?;
    let mut tx = state.store.begin().await?;
    partners::get(&mut tx, &partner_id).await?.ok_or(OperationError::NotFound)?;
    let mut errors = Vec::new();
    let application = match state.catalogue.application(&request.application) {
        Some(app) => Some(app.key.clone()),
        None => {
            errors.push(FieldError::new("application", format!("unknown application '{}'", request.application)));
            None
        }
    };
    let production = match request.production.map(|p| ProductionId::parse("production", p)) {
        Some(Ok(p)) if partners::production_exists(&mut tx, p).await? => Some(p),
        Some(Ok(p)) => {
            errors.push(FieldError::new("production", format!("no production {p}")));
            None
        }
        Some(Err(e)) => {
            errors.push(e);
            None
        }
        None => None,
    };
    if request.due_at <= now_millis() {
        errors.push(FieldError::new("due_at", "must be in the future"));
    }
    let Some(application) = application.filter(|_| errors.is_empty()) else {
        return Err(starship_core::Invalid(errors).into());
    };
    authz::see_review(caller, &partner_id, &application, production)?;
    let review = reviews::open(&mut tx, &partner_id, &application, production, request.due_at, by).await?;
    let items = reviews::items(&mut tx, &review.id).await?;
    tx.commit().await?;
    Ok((review, items))
}

/// The reviews the caller may read: open ones first, by due date.
pub async fn list(state: &AppState, caller: &Principal) -> OperationResult<Vec<Review>> {
    let scope = match (caller.operator, caller.partner_id.as_ref()) {
        (true, _) => None,
        (false, Some(own)) => Some(own),
        (false, None) => return Ok(vec![]),
    };
    let mut conn = state.store.conn().await?;
    let found = reviews::list(&mut conn, scope, LIST_LIMIT).await?;
    Ok(found.into_iter().filter(|r| allowed(caller, r).is_ok()).collect())
}

fn allowed(caller: &Principal, review: &Review) -> Result<(), authz::Denied> {
    authz::see_review(caller, &review.partner_id, &review.application, review.production)
}

/// One review with its items, for whoever may read it.
pub async fn get(state: &AppState, caller: &Principal, id: &ReviewId) -> OperationResult<(Review, Vec<Item>)> {
    let mut tx = state.store.begin_read().await?;
    let review = reviews::get(&mut tx, id).await?.ok_or(OperationError::NotFound)?;
    allowed(caller, &review)?;
    let items = reviews::items(&mut tx, id).await?;
    tx.commit().await?;
    Ok((review, items))
}

/// Records a decision on one item of an open review; it may be changed
/// until the review closes.
pub async fn decide(
    state: &AppState,
    caller: &Principal,
    review_id: &ReviewId,
    grant_id: &GrantId,
    decision: Decision,
    note: Option<&str>,
) -> OperationResult<Item> {
    let by = caller.person()?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS) {
        return Err(FieldError::new("note", format!("at most {NOTE_MAX_CHARS} characters")).into());
    }
    let mut tx = state.store.begin().await?;
    let review = reviews::get(&mut tx, review_id).await?.ok_or(OperationError::NotFound)?;
    allowed(caller, &review)?;
    if review.closed_at.is_some() {
        return Err(OperationError::Conflict("this review is closed: its decisions are final".into()));
    }
    let item = reviews::item(&mut tx, review_id, grant_id)
        .await?
        .ok_or_else(|| FieldError::new("grant_id", "is not an item of this review"))?;
    authz::decide_review_item(caller, (&review.partner_id, &review.application, review.production), &item.user_id)?;
    if !reviews::decide(&mut tx, review_id, grant_id, decision, by, note).await? {
        return Err(OperationError::Conflict("this review is closed: its decisions are final".into()));
    }
    let item = reviews::item(&mut tx, review_id, grant_id).await?.ok_or(OperationError::NotFound)?;
    tx.commit().await?;
    Ok(item)
}

/// Closes every review due by `now`: in one transaction per review, claims
/// it (only the instance whose update marks it closed goes on), revokes
/// every grant not kept that still exists, and writes
/// `role.revoked-by-review` to each holder's History. Returns how many
/// reviews this call closed. Safe to run on several instances at once.
pub async fn close_due(store: &Store, now: i64) -> Result<usize, StoreError> {
    let due = reviews::due(&mut *store.conn().await?, now).await?;
    let mut closed = 0;
    for id in due {
        if close_one(store, &id, now).await? {
            closed += 1;
        }
    }
    Ok(closed)
}

async fn close_one(store: &Store, id: &ReviewId, now: i64) -> Result<bool, StoreError> {
    let mut tx = store.begin().await?;
    if !reviews::claim_close(&mut tx, id, now).await? {
        return Ok(false);
    }
    let Some(review) = reviews::get(&mut tx, id).await? else {
        return Ok(false);
    };
    let mut revoked = Vec::new();
    for item in reviews::items(&mut tx, id).await? {
        if item.decision == Some(Decision::Keep) {
            continue;
        }
        // A grant revoked since the review opened stays revoked; one given
        // again since has a new id and is not this review's to judge.
        let Some(grant) = grants::get(&mut tx, &item.grant_id).await? else { continue };
        if grants::revoke(&mut tx, &grant.id, &authz::review_takes_back(&grant.role)).await? {
            revoked.push((grant, item.decision));
        }
    }
    let entries = revoked
        .iter()
        .map(|(grant, decision)| {
            (grant.user_id.clone(), Kind::RoleRevokedByReview, revoked_details(&review, grant, *decision))
        })
        .collect();
    history::append_many(&mut tx, &Actor::system(Source::System), entries).await?;
    tx.commit().await?;
    tracing::info!(review = %review.id, revoked = revoked.len(), "access review closed");
    Ok(true)
}

/// A revoked grant's History details: the role's, and which review revoked
/// it on what decision (`null`: nobody decided).
fn revoked_details(review: &Review, grant: &grants::Grant, decision: Option<Decision>) -> serde_json::Value {
    let mut details = crate::ops::role_details(&grant.id, &grant.role);
    details["review_id"] = json!(review.id);
    details["decision"] = json!(decision.map(Decision::as_str));
    details
}

/// Queues the reminder of every open review due within `REMINDER_LEAD`
/// that has not had one: to each admin who may decide and has an undecided
/// item to decide on (not only their own grant). Returns how many emails
/// were queued. Each review's reminder is claimed, so it goes out once
/// however many instances run this.
pub async fn send_reminders(state: &AppState, now: i64) -> OperationResult<usize> {
    let lead = REMINDER_LEAD.as_millis() as i64;
    let due = reviews::due_for_reminder(&mut *state.store.conn().await?, now, lead).await?;
    let mut queued = 0;
    for id in due {
        let mut tx = state.store.begin().await?;
        if !reviews::claim_reminder(&mut tx, &id, now).await? {
            continue;
        }
        let Some(review) = reviews::get(&mut tx, &id).await? else { continue };
        let undecided: Vec<Item> =
            reviews::items(&mut tx, &id).await?.into_iter().filter(|i| i.decision.is_none()).collect();
        let scope = (&review.partner_id, review.application.as_str(), review.production);
        let app_name =
            state.catalogue.application(&review.application).map_or(review.application.clone(), |a| a.name.clone());
        let link = format!("{}/reviews/{}", state.config.public_url, review.id);
        let mut mails = Vec::new();
        for user_id in
            reviews::possible_reviewers(&mut tx, &review.partner_id, &review.application, review.production).await?
        {
            let Some(user) = users::get(&mut tx, &user_id).await? else { continue };
            let principal = users::principal(&mut tx, &user).await?;
            let theirs = undecided.iter().filter(|i| authz::decide_review_item(&principal, scope, &i.user_id).is_ok());
            let count = theirs.count();
            if count > 0 {
                let mail = email::review_reminder(
                    &user.first_name,
                    &app_name,
                    &rfc3339_from_millis(review.due_at),
                    count,
                    &link,
                );
                mails.push((user, mail));
            }
        }
        let messages: Vec<_> = mails.iter().map(|(user, mail)| mail.to(user, "access-review-reminder")).collect();
        outbox::enqueue_many(&mut tx, &messages).await?;
        tx.commit().await?;
        queued += messages.len();
    }
    Ok(queued)
}

/// One background pass: reminders, then closing what is due.
pub async fn tick(state: &AppState) {
    let now = now_millis();
    let reminded = send_reminders(state, now).await;
    if let Err(e) = &reminded {
        tracing::error!(error = %e, "access review reminders failed");
    }
    let closed = close_due(&state.store, now).await;
    if let Err(e) = &closed {
        tracing::error!(error = %e, "closing due access reviews failed");
    }
    if reminded.is_ok() && closed.is_ok() {
        state.metrics.jobs.succeeded(crate::metrics::ACCESS_REVIEWS);
    }
}

/// How often the background pass runs.
pub const PASS_EVERY: Duration = Duration::from_secs(30);

/// The pass on its own, for an instance without an email dispatcher (whose
/// loop otherwise runs it): until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    state.metrics.jobs.register(crate::metrics::ACCESS_REVIEWS);
    while !*shutdown.borrow() {
        tick(&state).await;
        tokio::select! {
            _ = tokio::time::sleep(PASS_EVERY) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Whether any open review is one the viewer may act on: what the
/// navigation shows a Reviews link by.
pub async fn any_to_act_on(state: &AppState, viewer: &Principal) -> OperationResult<bool> {
    if !viewer.operator && !viewer.is_any_admin() {
        return Ok(false);
    }
    let scope = if viewer.operator { None } else { viewer.partner_id.as_ref() };
    let mut conn = state.store.conn().await?;
    let open = reviews::open_scopes(&mut conn, scope).await?;
    Ok(open.iter().any(|(partner, app, production)| authz::see_review(viewer, partner, app, *production).is_ok()))
}
