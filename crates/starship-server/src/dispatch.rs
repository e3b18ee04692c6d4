//! Sends the outbox over SMTP: at least once, with retries and backoff, and
//! never the same message from two instances (claims are leases in the
//! database). With no SMTP configured nothing runs and messages wait in the
//! outbox, where operators read them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use starship_store::outbox::{self, Claimed};
use starship_store::{now_millis, Store};
use tokio::sync::watch;

use crate::metrics::{Metrics, SendFailure, OUTBOX_DISPATCHER};

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// smtp://host:port (STARTTLS with ?tls=required), smtps://host:port for TLS.
    pub smtp_url: String,
    pub from: Mailbox,
    /// How long a claim lasts. Each message's claim is renewed just before
    /// it is sent, and one delivery is cut off at half the lease, so a live
    /// instance never loses a message it is sending; a crashed instance's
    /// claims go to another (or to itself restarted) after this long.
    pub lease: Duration,
    pub batch: i64,
    /// The first retry waits this long, each next one twice as long.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// After this many failed attempts a message is marked failed.
    pub max_attempts: i64,
    /// How often an idle dispatcher looks for new messages.
    pub poll: Duration,
}

impl DispatchConfig {
    pub fn new(smtp_url: &str, from: &str) -> Result<Self, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("--smtp-from '{from}': {e}"))?;
        Ok(Self {
            smtp_url: smtp_url.to_string(),
            from,
            lease: Duration::from_secs(120),
            batch: 20,
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(3600),
            max_attempts: 15,
            poll: Duration::from_secs(1),
        })
    }

    /// One SMTP delivery may take at most this long: well inside the lease.
    pub fn smtp_timeout(&self) -> Duration {
        (self.lease / 2).min(Duration::from_secs(30))
    }

    /// When to try again after `attempts` failures, or `None` to give up.
    pub fn retry_delay(&self, attempts: i64) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempts.clamp(1, 30) as u32 - 1);
        Some(self.first_retry.saturating_mul(factor).min(self.max_retry))
    }
}

pub struct Dispatcher {
    store: Store,
    config: DispatchConfig,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    token: String,
    running: Running,
    /// With the application's state, the loop also runs the access review
    /// pass (reminders, closing what is due) every `ops::reviews::PASS_EVERY`.
    reviews: Option<crate::state::AppState>,
    metrics: Arc<Metrics>,
}

/// Whether a dispatcher's `run` loop is going: what `/readyz` asks.
#[derive(Debug, Clone, Default)]
pub struct Running(Arc<AtomicBool>);

impl Running {
    pub fn is_running(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Marks the dispatcher stopped however `run` ends, a panic included.
struct RunningGuard(Running);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0 .0.store(false, Ordering::SeqCst);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("bad SMTP URL: {0}")]
    BadUrl(String),
    #[error(transparent)]
    Store(#[from] starship_store::StoreError),
}

impl Dispatcher {
    pub fn new(store: Store, config: DispatchConfig) -> Result<Self, DispatchError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
            .map_err(|e| DispatchError::BadUrl(format!("{}: {e}", config.smtp_url)))?
            .timeout(Some(config.smtp_timeout()))
            .build();
        Ok(Self {
            store,
            config,
            transport,
            token: starship_store::new_id(),
            running: Running::default(),
            reviews: None,
            metrics: Arc::default(),
        })
    }

    /// Runs the access review pass from this dispatcher's loop too.
    pub fn with_reviews(mut self, state: crate::state::AppState) -> Self {
        state.metrics.jobs.register(crate::metrics::ACCESS_REVIEWS);
        self.reviews = Some(state);
        self
    }

    /// Counts this dispatcher's send failures and successful polls in
    /// `metrics` (the serving instance's), instead of a registry of its own.
    pub fn reporting_to(mut self, metrics: Arc<Metrics>) -> Self {
        metrics.jobs.register(OUTBOX_DISPATCHER);
        self.metrics = metrics;
        self
    }

    /// Delivers what is due now; returns how many messages were sent.
    pub async fn deliver_due(&self) -> Result<usize, DispatchError> {
        self.deliver_due_until(&watch::channel(false).1).await
    }

    /// Like `deliver_due`, but stops after the message in hand once `stop`
    /// turns true, leaving the rest of its claim to `release`.
    pub async fn deliver_due_until(&self, stop: &watch::Receiver<bool>) -> Result<usize, DispatchError> {
        let mut sent = 0;
        loop {
            let claimed = {
                let mut tx = self.store.begin().await?;
                let claimed = outbox::claim(
                    &mut tx,
                    self.store.dialect(),
                    &self.token,
                    self.config.lease.as_millis() as i64,
                    self.config.batch,
                )
                .await?;
                tx.commit().await.map_err(starship_store::StoreError::from)?;
                claimed
            };
            if claimed.is_empty() {
                return Ok(sent);
            }
            for message in claimed {
                if *stop.borrow() {
                    return Ok(sent);
                }
                if self.deliver(&message).await? {
                    sent += 1;
                }
            }
        }
    }

    async fn deliver(&self, message: &Claimed) -> Result<bool, DispatchError> {
        let lease_ms = self.config.lease.as_millis() as i64;
        if !outbox::hold(&mut *self.store.conn().await?, &message.id, &self.token, lease_ms).await? {
            tracing::info!(id = %message.id, "claim lost before sending; another instance has it");
            return Ok(false);
        }
        let outcome = match self.build(message) {
            Ok(email) => self.transport.send(email).await.map(|_| ()).map_err(|e| (e.to_string(), e.is_permanent())),
            Err(e) => Err((e, true)),
        };
        let mut conn = self.store.conn().await?;
        match outcome {
            Ok(()) => {
                outbox::mark_sent(&mut conn, &message.id, &self.token).await?;
                tracing::info!(id = %message.id, to = %message.recipient, "email sent");
                Ok(true)
            }
            Err((error, permanent)) => {
                let retry_at = if permanent {
                    None
                } else {
                    self.config.retry_delay(message.attempts + 1).map(|d| now_millis() + d.as_millis() as i64)
                };
                tracing::warn!(id = %message.id, to = %message.recipient, %error, retry = retry_at.is_some(), "email not sent");
                self.metrics.send_failed(if retry_at.is_some() {
                    SendFailure::Retried
                } else {
                    SendFailure::Permanent
                });
                outbox::mark_attempt_failed(&mut conn, &message.id, &self.token, &error, retry_at).await?;
                Ok(false)
            }
        }
    }

    fn build(&self, message: &Claimed) -> Result<Message, String> {
        let to: Mailbox = message.recipient.parse().map_err(|e| format!("recipient '{}': {e}", message.recipient))?;
        Message::builder()
            .from(self.config.from.clone())
            .to(to)
            .subject(&message.subject)
            // Receivers can drop a copy delivered twice after a crash.
            .message_id(Some(format!("<{}@starship>", message.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| e.to_string())
    }

    /// A handle that tells whether `run` is going.
    pub fn running(&self) -> Running {
        self.running.clone()
    }

    /// Hands back the messages this dispatcher claimed and has not sent.
    pub async fn release(&self) -> Result<u64, DispatchError> {
        Ok(outbox::release(&mut *self.store.conn().await?, &self.token).await?)
    }

    /// Runs until `shutdown` turns true, finishing the message in hand and
    /// handing back the rest of its claim.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        self.running.0.store(true, Ordering::SeqCst);
        let _running = RunningGuard(self.running.clone());
        let mut next_review_pass = tokio::time::Instant::now();
        while !*shutdown.borrow() {
            // Before delivering, so a reminder queued now leaves in this round.
            if let Some(state) = self.reviews.as_ref().filter(|_| tokio::time::Instant::now() >= next_review_pass) {
                crate::ops::reviews::tick(state).await;
                next_review_pass = tokio::time::Instant::now() + crate::ops::reviews::PASS_EVERY;
            }
            match self.deliver_due_until(&shutdown).await {
                Ok(_) => self.metrics.jobs.succeeded(OUTBOX_DISPATCHER),
                Err(e) => tracing::error!(error = %e, "email dispatch pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = shutdown.changed() => {}
            }
        }
        match self.release().await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "claimed emails handed back for another instance"),
            Err(e) => tracing::warn!(error = %e, "claimed emails not handed back; they go out after the lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_a_cap_then_stop() {
        let config = DispatchConfig::new("smtp://127.0.0.1:25", "Starship <no-reply@starship.example>").unwrap();
        assert_eq!(config.retry_delay(1), Some(Duration::from_secs(5)));
        assert_eq!(config.retry_delay(2), Some(Duration::from_secs(10)));
        assert_eq!(config.retry_delay(5), Some(Duration::from_secs(80)));
        assert_eq!(config.retry_delay(14), Some(Duration::from_secs(3600)));
        assert_eq!(config.retry_delay(15), None);
        assert!(DispatchConfig::new("smtp://x", "not a mailbox").is_err());
    }

    #[test]
    fn one_delivery_is_cut_off_well_inside_the_lease() {
        let mut config = DispatchConfig::new("smtp://127.0.0.1:25", "no-reply@starship.example").unwrap();
        assert_eq!(config.smtp_timeout(), Duration::from_secs(30));
        config.lease = Duration::from_secs(6);
        assert_eq!(config.smtp_timeout(), Duration::from_secs(3));
    }
}
