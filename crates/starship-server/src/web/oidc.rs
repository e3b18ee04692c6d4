//! The OpenID Connect provider's endpoints. They answer per their RFCs
//! (JSON documents, OAuth 2.0 error objects), not as problem documents;
//! what they decide is `ops::oidc`'s.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use starship_core::ids::ClientId;

use super::{WebError, WebResult};
use crate::extract::{self, Credential};
use crate::ops;
use crate::ops::oidc::{self as op, Authorized, Authorizing, ClientAuth, EndedSession, OAuthError};
use crate::ops::OperationError;
use crate::state::AppState;

/// The JWK Set of the keys that verify Starship's tokens (RFC 7517).
pub async fn jwks(State(state): State<AppState>) -> Response {
    match ops::keys::jwks(&state.store).await {
        Ok(set) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// OpenID Connect Discovery 1.0.
pub async fn discovery(State(state): State<AppState>) -> Response {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(op::discovery(&state))).into_response()
}

/// An RFC 6749 error object, never cached.
fn oauth_error(error: OAuthError, basic_auth: bool) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response =
        (status, no_store(), Json(json!({"error": error.error, "error_description": error.description})))
            .into_response();
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if error.error == "invalid_token" {
            format!("Bearer error=\"invalid_token\", error_description=\"{}\"", error.description)
        } else if basic_auth {
            "Basic realm=\"starship\"".to_string()
        } else {
            String::new()
        };
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            if !challenge.is_empty() {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
        }
    }
    response
}

fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")]
}

/// A form body as name → value, each name at most once (RFC 6749 §3.1);
/// anything else is `invalid_request`.
fn form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !body.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request("send the parameters as application/x-www-form-urlencoded"));
    }
    let mut params = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if value.contains('\0') || params.insert(name.to_string(), value.to_string()).is_some() {
            return Err(OAuthError::invalid_request(format!("{name} is given more than once or is malformed")));
        }
    }
    Ok(params)
}

/// The client's credentials, from `Authorization: Basic` (RFC 6749 §2.3.1:
/// each part form-encoded) or the form; both at once is refused.
fn client_auth(
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(Option<ClientAuth>, bool), OAuthError> {
    let header_value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if let Some(value) = header_value.and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))) {
        if params.contains_key("client_secret") {
            return Err(OAuthError::invalid_request("use one way of client authentication, not two"));
        }
        let decoded = STANDARD.decode(value.trim()).ok().and_then(|d| String::from_utf8(d).ok());
        let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Err(OAuthError::invalid_client());
        };
        let unescape = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.to_string());
        let (Some(client_id), Some(secret)) = (unescape(id), unescape(secret)) else {
            return Err(OAuthError::invalid_client());
        };
        if client_id.contains('\0') || secret.contains('\0') {
            return Err(OAuthError::invalid_client());
        }
        if params.get("client_id").is_some_and(|c| *c != client_id) {
            return Err(OAuthError::invalid_request("client_id differs from the authenticated client"));
        }
        return Ok((Some(ClientAuth { client_id: ClientId::from(client_id), secret }), true));
    }
    match (params.get("client_id"), params.get("client_secret")) {
        (Some(client_id), Some(secret)) => {
            Ok((Some(ClientAuth { client_id: ClientId::from(client_id.as_str()), secret: secret.clone() }), false))
        }
        _ => Ok((None, false)),
    }
}

/// The token endpoint (RFC 6749 §3.2).
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (params, (auth, basic)) = match form(&headers, &body).and_then(|p| client_auth(&headers, &p).map(|a| (p, a))) {
        Ok(found) => found,
        Err(error) => return oauth_error(error, false),
    };
    match op::token(&state, auth.as_ref(), &params).await {
        Ok(tokens) => (no_store(), Json(tokens)).into_response(),
        Err(error) => oauth_error(error, basic),
    }
}

/// RFC 7009 token revocation.
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (params, (auth, basic)) = match form(&headers, &body).and_then(|p| client_auth(&headers, &p).map(|a| (p, a))) {
        Ok(found) => found,
        Err(error) => return oauth_error(error, false),
    };
    match op::revoke(&state, auth.as_ref(), params.get("token").map(String::as_str)).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(error) => oauth_error(error, basic),
    }
}

/// RFC 7662 token introspection.
pub async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (params, (auth, basic)) = match form(&headers, &body).and_then(|p| client_auth(&headers, &p).map(|a| (p, a))) {
        Ok(found) => found,
        Err(error) => return oauth_error(error, false),
    };
    match op::introspect(&state, auth.as_ref(), params.get("token").map(String::as_str)).await {
        Ok(answer) => (no_store(), Json(answer)).into_response(),
        Err(error) => oauth_error(error, basic),
    }
}

/// OIDC Core §5.3: the person's claims, for a bearer access token (in the
/// header, or as `access_token` in a POSTed form).
pub async fn userinfo(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut token = extract::bearer_token(&parts).map(str::to_string);
    if token.is_none() && parts.method == axum::http::Method::POST {
        if let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await {
            token = form(&parts.headers, &bytes).ok().and_then(|mut p| p.remove("access_token"));
        }
    }
    let Some(token) = token else {
        let mut response = (StatusCode::UNAUTHORIZED, no_store()).into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    match op::userinfo(&state, &token).await {
        Ok(claims) => (no_store(), Json(claims)).into_response(),
        Err(error) => oauth_error(error, false),
    }
}

/// Whether a query holds a NUL character, which no parameter may (the
/// stores cannot compare it).
fn has_nul(uri: &axum::http::Uri) -> bool {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).any(|(k, v)| k.contains('\0') || v.contains('\0'))
}

/// The signed-in person behind a request's session cookie, if any.
async fn session_of(
    state: &AppState,
    parts: &Parts,
) -> WebResult<Option<(starship_store::users::User, String, Vec<starship_core::catalogue::RoleRef>)>> {
    if extract::session_cookie(parts).is_none() {
        return Ok(None);
    }
    Ok(match extract::signed_in(state, parts).await? {
        Some((user, Credential::Session { token_hash }, principal)) => Some((user, token_hash, principal.roles)),
        _ => None,
    })
}

/// The authorization endpoint (OIDC Core §3.1.2): uses the Starship session;
/// without one, the sign-in page (and two-step sign-in) and back here.
pub async fn authorize(State(state): State<AppState>, request: Request) -> WebResult {
    let (parts, _) = request.into_parts();
    let asked = Some(&parts.uri).filter(|uri| !has_nul(uri)).map(Query::<op::AuthorizeRequest>::try_from_uri);
    let Some(Ok(Query(asked))) = asked else {
        return Err(WebError::Api(OperationError::BadRequest(
            "this sign-in request is malformed: a parameter is repeated or not text".into(),
        )));
    };
    let session = session_of(&state, &parts).await?;
    let person = session.as_ref().map(|(user, hash, roles)| Authorizing { user, roles, session_hash: hash });
    match op::authorize(&state, person, &asked).await? {
        Authorized::Refused(why) => Err(WebError::Api(OperationError::BadRequest(why))),
        Authorized::SignIn => {
            let here = parts.uri.path_and_query().map(|p| p.as_str().to_string());
            Err(WebError::SignIn { next: here })
        }
        Authorized::Redirect(to) => Ok((no_store(), Redirect::to(&to)).into_response()),
    }
}

/// RP-initiated logout 1.0.
pub async fn end_session(State(state): State<AppState>, request: Request) -> WebResult {
    let (parts, body) = request.into_parts();
    let asked = if parts.method == axum::http::Method::POST {
        let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
        end_session_form(&parts.headers, &bytes)
    } else {
        Some(&parts.uri)
            .filter(|uri| !has_nul(uri))
            .and_then(|uri| Query::<op::EndSessionRequest>::try_from_uri(uri).ok())
            .map(|Query(q)| q)
    };
    let Some(asked) = asked else {
        return Err(WebError::Api(OperationError::BadRequest("this sign-out request is malformed".into())));
    };
    let session = session_of(&state, &parts).await?;
    let signed_in = session.as_ref().map(|(user, hash, _)| (user, hash.as_str()));
    match op::end_session(&state, signed_in, &asked).await? {
        EndedSession::Refused(why) => Err(WebError::Api(OperationError::BadRequest(why))),
        EndedSession::Redirect { to, signed_out: true } => {
            let clear = crate::extract::set_session_cookie(&state, "", 0);
            Ok(([(header::SET_COOKIE, clear)], Redirect::to(&to)).into_response())
        }
        EndedSession::Redirect { to, signed_out: false } => Ok(Redirect::to(&to).into_response()),
    }
}

fn end_session_form(headers: &HeaderMap, body: &[u8]) -> Option<op::EndSessionRequest> {
    let params = form(headers, body).ok()?;
    Some(op::EndSessionRequest {
        id_token_hint: params.get("id_token_hint").cloned(),
        post_logout_redirect_uri: params.get("post_logout_redirect_uri").cloned(),
        state: params.get("state").cloned(),
        client_id: params.get("client_id").map(|c| ClientId::from(c.as_str())),
    })
}
