//! What an instance counts for Prometheus, served in the OpenMetrics text
//! format on a listener of its own (`serve --metrics-listen`), never on the
//! public one.
//!
//! Each `AppState` owns its `Metrics`: tests run several servers in one
//! process, and a global registry would mix their counts. Routes are the
//! matched path templates, applications the catalogue's keys: no label
//! takes a value a client chose, so the series stay few.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use tokio::net::TcpListener;

use crate::state::AppState;

/// The OpenMetrics text format, which Prometheus negotiates and reads.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    application: String,
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
}

/// How a sign-in attempt ended, as `starship_sign_ins_total{outcome}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    Success,
    /// A wrong password or code, an unknown or inactive account.
    Failure,
    /// Refused before any secret was checked: too many attempts.
    Throttled,
    /// The password was right; the account's second factor is asked for.
    Mfa,
}

impl SignInOutcome {
    fn label(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Throttled => "throttled",
            Self::Mfa => "mfa",
        }
    }
}

/// Whether a dispatcher's attempt to send an email will be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    Retried,
    Permanent,
}

type UnixSeconds = Gauge<f64, AtomicU64>;

/// Background jobs' last success, as unix time: an alert can fire when a
/// job has not succeeded for a while, whatever stopped it.
#[derive(Debug, Clone, Default)]
pub struct Jobs(Family<JobLabels, UnixSeconds>);

impl Jobs {
    /// Makes `job` visible before its first success (at 0), so "never
    /// succeeded" is a value and not a missing series.
    pub fn register(&self, job: &'static str) {
        let _ = self.0.get_or_create(&JobLabels { job });
    }

    pub fn succeeded(&self, job: &'static str) {
        self.0.get_or_create(&JobLabels { job }).set(unix_now());
    }
}

/// The name the outbox dispatcher's polls are recorded under.
pub const OUTBOX_DISPATCHER: &str = "outbox_dispatcher";
/// The access review pass (reminders, closing what is due).
pub const ACCESS_REVIEWS: &str = "access_reviews";
/// The grant expiry sweep (whichever instance holds its lease).
pub const GRANT_EXPIRY: &str = "grant_expiry";

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    sign_ins: Family<OutcomeLabels, Counter>,
    checks: Family<CheckLabels, Counter>,
    send_failures: Family<OutcomeLabels, Counter>,
    outbox_queued: Gauge,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    pub jobs: Jobs,
}

fn request_buckets() -> Histogram {
    // 1 ms to about 16 s: a check answers in a few ms, a sign-in's argon2
    // takes tens, a bulk import seconds.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("starship");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let request_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(request_buckets as fn() -> _);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by route template and method",
            Unit::Seconds,
            request_duration.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Sign-in attempts by outcome: success, failure, throttled, mfa",
            sign_ins.clone(),
        );
        let checks = Family::<CheckLabels, Counter>::default();
        registry.register("checks", "Check API answers by application and decision (allow, deny)", checks.clone());
        let send_failures = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "outbox_send_failures",
            "Emails the dispatcher failed to send, by outcome: retry (tried again later) or permanent",
            send_failures.clone(),
        );
        let outbox_queued = Gauge::default();
        registry.register(
            "outbox_queued_messages",
            "Emails waiting to be sent (neither sent nor failed)",
            outbox_queued.clone(),
        );
        let outbox_oldest_age = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "outbox_oldest_queued_age",
            "Age of the oldest email waiting to be sent; 0 when none waits",
            Unit::Seconds,
            outbox_oldest_age.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections this instance holds, by state (idle, in_use)",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register("db_pool_max_connections", "The database pool's limit", pool_max.clone());
        let jobs = Jobs::default();
        registry.register_with_unit(
            "job_last_success_timestamp",
            "When a background job last succeeded, as unix time; 0 before its first success",
            Unit::Seconds,
            jobs.0.clone(),
        );
        Self {
            registry,
            requests,
            request_duration,
            sign_ins,
            checks,
            send_failures,
            outbox_queued,
            outbox_oldest_age,
            pool_connections,
            pool_max,
            jobs,
        }
    }

    /// One answered request; `route` is the matched path template.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let (route, method) = (route.to_string(), method.to_string());
        self.request_duration
            .get_or_create(&RouteLabels { route: route.clone(), method: method.clone() })
            .observe(took.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { route, method, status }).inc();
    }

    pub fn sign_in(&self, outcome: SignInOutcome) {
        self.sign_ins.get_or_create(&OutcomeLabels { outcome: outcome.label() }).inc();
    }

    /// One check answer; `application` is a catalogue key, never raw input.
    pub fn check(&self, application: &str, allowed: bool) {
        let decision = if allowed { "allow" } else { "deny" };
        self.checks.get_or_create(&CheckLabels { application: application.to_string(), decision }).inc();
    }

    pub fn send_failed(&self, failure: SendFailure) {
        let outcome = match failure {
            SendFailure::Retried => "retry",
            SendFailure::Permanent => "permanent",
        };
        self.send_failures.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Reads what is cheaper to ask at scrape time than to track: the
    /// outbox's depth (one indexed query) and the pool's use.
    async fn refresh(&self, state: &AppState) {
        let pool = state.store.pool();
        let (size, idle) = (pool.size() as i64, pool.num_idle() as i64);
        self.pool_connections.get_or_create(&PoolLabels { state: "idle" }).set(idle);
        self.pool_connections.get_or_create(&PoolLabels { state: "in_use" }).set((size - idle).max(0));
        self.pool_max.set(i64::from(pool.options().get_max_connections()));
        let depth = async {
            let mut conn = state.store.conn().await?;
            starship_store::outbox::depth(&mut conn).await
        };
        match depth.await {
            Ok(depth) => {
                self.outbox_queued.set(depth.queued);
                let age_ms = depth.oldest_created_at.map_or(0, |at| (starship_store::now_millis() - at).max(0));
                self.outbox_oldest_age.set(age_ms as f64 / 1000.0);
            }
            // The other series are still worth a scrape; these keep their last value.
            Err(e) => tracing::warn!(error = %e, "metrics: the outbox depth could not be read"),
        }
    }

    fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The metrics listener's routes: `GET /metrics` and nothing else.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    state.metrics.refresh(&state).await;
    match state.metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
