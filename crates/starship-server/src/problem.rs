//! The one place an operation's refusal (`ops::OperationError`) becomes an
//! HTTP response: RFC 9457 problem details. (Pages turn it into form
//! errors in one place too: `web::FormErrors::from_error`.)

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use starship_core::FieldError;
use utoipa::ToSchema;

use crate::ops::OperationError;

/// An RFC 9457 problem details body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Per-field or per-row reasons, where input was bad.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl OperationError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthenticated | Self::BadCredentials | Self::MfaRequired | Self::MfaCodeUsed => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::Invalid(_) => ("invalid-input", "The input is not valid"),
            Self::BadRequest(_) => ("bad-request", "The request is malformed"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Send JSON"),
            Self::PayloadTooLarge => ("payload-too-large", "The request body is too large"),
            Self::Unauthenticated => ("unauthenticated", "Sign in first"),
            Self::BadCredentials => ("bad-credentials", "Sign-in failed"),
            Self::MfaRequired => ("mfa-required", "A code is needed"),
            Self::MfaCodeUsed => ("mfa-code-used", "The code was used already"),
            Self::Forbidden(_) => ("forbidden", "Not allowed"),
            Self::NotFound => ("not-found", "Not found"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::Throttled { .. } => ("throttled", "Too many attempts"),
            Self::Unavailable => ("unavailable", "Service unavailable"),
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let detail = match self {
            Self::Internal(_) => "something went wrong on our side; it has been logged".to_string(),
            Self::Invalid(invalid) => {
                if invalid.0.len() == 1 {
                    format!("{} {}", invalid.0[0].field, invalid.0[0].reason)
                } else {
                    format!("{} fields are not valid", invalid.0.len())
                }
            }
            other => other.to_string(),
        };
        Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_string(),
            status: self.status().as_u16(),
            detail,
            errors: match self {
                Self::Invalid(invalid) => invalid.0.clone(),
                _ => vec![],
            },
        }
    }
}

impl IntoResponse for OperationError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Self::Throttled { retry_after_secs } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
