//! Starship's HTTP face: the JSON API and the web pages, over the rules in
//! `starship-core` and the store in `starship-store`.

pub mod api;
pub mod decisions;
pub mod demo;
pub mod dispatch;
pub mod email;
pub mod expiry;
pub mod extract;
pub mod jwt;
pub mod metrics;
pub mod observe;
pub mod ops;
pub mod problem;
pub mod security;
pub mod state;
pub mod web;

use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;

pub use state::{AppState, Config};

/// Request bodies larger than this are refused with 413 before being read
/// whole. Bulk imports have their own, larger limit.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn app(state: AppState) -> Router {
    api::router()
        .merge(web::router())
        .nest("/scim/v2", api::scim::router())
        .fallback(web::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn_with_state(state.clone(), observe::requests))
        .with_state(state)
}

async fn security_headers(request: Request<axum::body::Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Like `serve`, but once `shutdown` resolves it stops accepting and gives
/// the requests in flight at most `grace` to finish.
pub async fn serve_with_grace(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    let (began, draining) = tokio::sync::oneshot::channel::<()>();
    let server = serve(listener, state, async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections, finishing the requests in flight");
        let _ = began.send(());
    });
    tokio::pin!(server);
    let deadline = async move {
        match draining.await {
            Ok(()) => tokio::time::sleep(grace).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        served = &mut server => served,
        () = deadline => {
            tracing::warn!(grace_seconds = grace.as_secs(), "requests still running after the grace period; stopping");
            Ok(())
        }
    }
}
