//! What an instance tells the people running it: a request id on every
//! response and one log line per request, readable or JSON.
//!
//! A request line carries the request id, method, route (the matched
//! path, never the raw URL with its ids and query), status, latency and,
//! once known, the caller's user and partner ids. Nothing else about a
//! request is logged: bodies, headers and query strings hold passwords,
//! tokens and codes.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_subscriber::fmt::MakeWriter;

use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("'{other}' is not a log format: use json or text")),
        }
    }
}

/// The subscriber `starshipd` logs through, writing to `writer`; `filter`
/// is a tracing filter such as `info,sqlx=warn`.
pub fn subscriber<W>(format: LogFormat, filter: &str, writer: W) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().flatten_event(true).finish()),
    }
}

/// Who made a request, filled in by authentication when it succeeds.
#[derive(Debug, Default)]
pub struct RequestContext {
    known: Mutex<Option<(String, Option<String>)>>,
}

impl RequestContext {
    pub fn caller(&self, user_id: &str, partner_id: Option<&str>) {
        if let Ok(mut known) = self.known.lock() {
            *known = Some((user_id.to_string(), partner_id.map(str::to_string)));
        }
    }

    fn known(&self) -> (Option<String>, Option<String>) {
        match self.known.lock().ok().and_then(|k| k.clone()) {
            Some((user, partner)) => (Some(user), partner),
            None => (None, None),
        }
    }
}

/// A request id a proxy may hand on: short, printable, no spaces.
fn acceptable_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let fits = !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
    fits.then(|| text.to_string())
}

/// The request's id: the one a trusted proxy set, or a new UUID.
fn request_id(request: &Request, trusted: &[ipnet::IpNet]) -> String {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let from_trusted_proxy = peer.is_some_and(|ip| trusted.iter().any(|net| net.contains(&ip)));
    from_trusted_proxy
        .then(|| request.headers().get(REQUEST_ID).and_then(acceptable_id))
        .flatten()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

pub async fn requests(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request, &state.config.trusted_proxies);
    let route = request.extensions().get::<MatchedPath>().map_or("(unmatched)", |p| p.as_str()).to_string();
    let method = request.method().clone();
    let context = Arc::new(RequestContext::default());
    request.extensions_mut().insert(context.clone());
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(request).instrument(span.clone()).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let (user_id, partner_id) = context.known();
    let status = response.status().as_u16();
    let took = started.elapsed();
    state.metrics.request(&route, method.as_str(), status, took);
    let latency_ms = took.as_secs_f64() * 1000.0;
    tracing::info!(
        target: "starship::request",
        request_id = %id,
        %method,
        route,
        status,
        latency_ms,
        user_id,
        partner_id,
        "request"
    );
    response
}
