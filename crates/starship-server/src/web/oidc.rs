//! The OpenID Connect provider's endpoints. They answer per their RFCs
//! (JSON documents, OAuth 2.0 error objects), not as problem documents.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::ops;
use crate::state::AppState;

/// The JWK Set of the keys that verify Starship's tokens (RFC 7517).
pub async fn jwks(State(state): State<AppState>) -> Response {
    match ops::keys::jwks(&state.store).await {
        Ok(set) => ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(set)).into_response(),
        Err(e) => e.into_response(),
    }
}
