//! The stylesheet and script, compiled into the binary.

use axum::http::header;
use axum::response::IntoResponse;

pub const CSS: &str = include_str!("../../static/app.css");
pub const JS: &str = include_str!("../../static/app.js");
pub const ICON: &str = include_str!("../../static/favicon.svg");

/// Their URLs carry a fingerprint of their content, so they may be cached.
const CACHE: &str = "public, max-age=86400, immutable";

pub async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], CSS)
}

pub async fn js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], JS)
}

pub async fn icon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, CACHE)], ICON)
}
