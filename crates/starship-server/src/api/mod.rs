//! The JSON API under /api/v1. Handlers are thin: parse, ask `authz`, call
//! the store in one transaction, shape the answer.

pub mod platform;
pub mod session;
pub mod users;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Starship", description = "Self-service onboarding and access management for partners."),
    paths(
        health,
        openapi_json,
        session::sign_in,
        session::sign_out,
        session::create_token,
        users::me,
        platform::list_partners,
        platform::create_partner,
        platform::list_productions,
        platform::create_production,
        platform::list_applications,
    ),
    components(schemas(Problem, starship_core::FieldError)),
    tags(
        (name = "session", description = "Signing in and out, API tokens"),
        (name = "users", description = "Profiles, onboarding and search"),
        (name = "platform", description = "Partners, productions and the application catalogue"),
    )
)]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/session", post(session::sign_in).delete(session::sign_out))
        .route("/api/v1/tokens", post(session::create_token))
        .route("/api/v1/me", get(users::me))
        .route("/api/v1/partners", get(platform::list_partners).post(platform::create_partner))
        .route("/api/v1/productions", get(platform::list_productions).post(platform::create_production))
        .route("/api/v1/applications", get(platform::list_applications))
        .fallback(not_found)
}

/// 200 when the store answers.
#[utoipa::path(get, path = "/healthz", tag = "platform",
    responses((status = 200, description = "The store answers"), (status = 503, body = Problem)))]
pub async fn health(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.store.ping().await.map_err(|_| ApiError::Unavailable)?;
    Ok("ok")
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "platform",
    responses((status = 200, description = "The OpenAPI 3 document of the API")))]
pub async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

async fn not_found() -> (StatusCode, ApiError) {
    (StatusCode::NOT_FOUND, ApiError::NotFound)
}
