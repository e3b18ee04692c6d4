//! Request extractors that speak problem details: JSON bodies, query
//! strings, and the signed-in caller.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use starship_core::authz::{Principal, SignedInWith};
use starship_store::history::{Actor, Source};
use starship_store::users::{self, User};
use starship_store::{sessions, Conn};

use crate::ops::OperationError;
use crate::security::secret_hash;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "starship_session";

/// A JSON body; malformed JSON is 400, a wrong shape, an unknown field or
/// a NUL character in a string 422, a missing content type 415, an
/// oversized body 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = OperationError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(req.headers()) {
            return Err(OperationError::UnsupportedMediaType("send the body as application/json".into()));
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(OperationError::PayloadTooLarge)
            }
            Err(e) => return Err(OperationError::BadRequest(e.body_text())),
        };
        if json_has_nul(&bytes) {
            return Err(OperationError::Invalid(starship_core::Invalid::one(
                "body",
                "text must not contain NUL characters",
            )));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(OperationError::Invalid(starship_core::Invalid::one(
                "body",
                std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.body_text()),
            ))),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(OperationError::BadRequest(format!("malformed JSON: {}", e.body_text())))
            }
            Err(other) => Err(OperationError::BadRequest(other.body_text())),
        }
    }
}

/// `application/json` or any `application/…+json`, as axum's `Json` reads it.
fn has_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether a string of this JSON text holds an escaped NUL (`\u0000`). No
/// name, id or address contains one, and PostgreSQL cannot store one, so
/// such a body is refused before anything looks it up.
fn json_has_nul(json: &[u8]) -> bool {
    let mut in_string = false;
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                if json[i + 1..].starts_with(b"u0000") {
                    return true;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// Answers 404 for a path holding a NUL character (`%00`): no id or key
/// contains one, and PostgreSQL could not even look it up.
pub async fn refuse_nul_in_path(request: Request, next: Next) -> Response {
    if request.uri().path().contains("%00") {
        return OperationError::NotFound.into_response();
    }
    next.run(request).await
}

/// A JSON body that may be left out entirely (no body means the defaults).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = OperationError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_body = req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v != "0")
            || req.headers().get(header::TRANSFER_ENCODING).is_some();
        if has_body {
            ApiJson::<T>::from_request(req, state).await.map(|ApiJson(v)| Self(v))
        } else {
            Ok(Self(T::default()))
        }
    }
}

/// A query string; a bad one (a NUL character included) is 400 naming
/// what is wrong.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = OperationError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(OperationError::BadRequest("the query string contains a NUL character (%00)".into()));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(OperationError::BadRequest(e.body_text())),
            Err(e) => Err(OperationError::BadRequest(e.body_text())),
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    Session { token_hash: String },
    ApiToken,
}

/// The signed-in caller: their account, and what the rules know of them.
pub struct Caller {
    pub user: User,
    pub principal: Principal,
    pub credential: Credential,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user.id, &self.user.email, Source::Api)
    }

    pub fn signed_in_with(&self) -> SignedInWith {
        match self.credential {
            Credential::Session { .. } => SignedInWith::Session,
            Credential::ApiToken => SignedInWith::ApiToken,
        }
    }

    /// The hash of the session this request rides on, if it is a session.
    pub fn session_hash(&self) -> Option<&str> {
        match &self.credential {
            Credential::Session { token_hash } => Some(token_hash),
            Credential::ApiToken => None,
        }
    }
}

pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub fn session_cookie(parts: &Parts) -> Option<String> {
    cookie_value(parts, SESSION_COOKIE)
}

/// The value of one cookie of the request.
pub fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Loads the account a credential belongs to, if it may still sign in.
pub async fn authenticate(conn: &mut Conn, parts: &Parts) -> Result<Option<(User, Credential)>, OperationError> {
    let (user_id, credential) = if let Some(token) = bearer_token(parts) {
        match sessions::api_token_user(conn, &secret_hash(token)).await? {
            Some(id) => (id, Credential::ApiToken),
            None => return Ok(None),
        }
    } else if let Some(cookie) = session_cookie(parts) {
        let token_hash = secret_hash(&cookie);
        match sessions::session_user(conn, &token_hash).await? {
            Some(id) => (id, Credential::Session { token_hash }),
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let Some(user) = users::get(conn, &user_id).await? else {
        return Ok(None);
    };
    if !crate::ops::session::may_sign_in(&user) {
        return Ok(None);
    }
    if let Some(context) = parts.extensions.get::<std::sync::Arc<crate::observe::RequestContext>>() {
        context.caller(&user.id, user.partner_id.as_deref());
    }
    Ok(Some((user, credential)))
}

/// The account a request's credential belongs to, with the roles and
/// admin privileges it acts with: one connection for both.
pub async fn signed_in(
    state: &AppState,
    parts: &Parts,
) -> Result<Option<(User, Credential, Principal)>, OperationError> {
    let mut conn = state.store.conn().await?;
    let Some((user, credential)) = authenticate(&mut conn, parts).await? else {
        return Ok(None);
    };
    let principal = users::principal(&mut conn, &user).await?;
    Ok(Some((user, credential, principal)))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = OperationError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some((user, credential, principal)) = signed_in(state, parts).await? else {
            return Err(OperationError::Unauthenticated);
        };
        // A cookie rides along on cross-site requests a browser makes on its
        // own; refuse those for anything that changes state.
        if matches!(credential, Credential::Session { .. }) && !is_safe(&parts.method) && is_cross_site(parts) {
            return Err(OperationError::Forbidden("cross-site requests may not change anything"));
        }
        Ok(Self { user, principal, credential })
    }
}

/// The caller of a check, looked up through the check's cache
/// (`decisions.rs`) at the access generation read first: with the cache
/// warm, that one read is all a check asks of the store. Same credentials
/// and the same refusals as [`Caller`].
pub struct CheckCaller {
    /// The person asking; `None` for an application's own token.
    pub user: Option<User>,
    /// Who asks, as the rules see them: an application's own token sees
    /// every partner's people, as an operator would, but only for its own
    /// application (`application`, `authz::service_check`).
    pub principal: Principal,
    /// For an application's own token (client_credentials): its application.
    pub application: Option<String>,
    /// The access generation this request read; its decisions use it.
    pub generation: i64,
}

impl FromRequestParts<AppState> for CheckCaller {
    type Rejection = OperationError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let (hash, from_session) = if let Some(token) = bearer_token(parts) {
            (secret_hash(token), false)
        } else if let Some(cookie) = session_cookie(parts) {
            (secret_hash(&cookie), true)
        } else {
            return Err(OperationError::Unauthenticated);
        };
        let generation = state.decisions.generation(&state.store).await?;
        let now = starship_store::now_millis();
        // A connection only when the cache lacks something or a use is noted.
        let mut conn = None;
        let credential = match state.decisions.credential(generation, &hash) {
            Some(credential) => credential,
            None => {
                let conn = conn.insert(state.store.conn().await?);
                let loaded = if from_session {
                    starship_store::access::session(conn, &hash).await?
                } else {
                    match starship_store::access::api_token(conn, &hash).await? {
                        Some(token) => Some(token),
                        None => starship_store::access::service_token(conn, &hash).await?,
                    }
                };
                let credential = loaded.ok_or(OperationError::Unauthenticated)?;
                state.decisions.remember_credential(generation, &hash, credential.clone());
                credential
            }
        };
        if credential.expires_at <= now {
            return Err(OperationError::Unauthenticated);
        }
        let user_id = match &credential.holder {
            starship_store::access::Holder::Person(user_id) => user_id,
            starship_store::access::Holder::Application(application) => {
                return Ok(Self {
                    user: None,
                    principal: Principal::console(),
                    application: Some(application.clone()),
                    generation,
                });
            }
        };
        if let Some((token_id, last_used)) = &credential.token {
            if last_used.is_none_or(|at| at < now - sessions::LAST_USED_PRECISION_MS) {
                let conn = match &mut conn {
                    Some(conn) => conn,
                    None => conn.insert(state.store.conn().await?),
                };
                sessions::note_token_use(conn, token_id, now).await?;
                state.decisions.noted_use(generation, &hash, now);
            }
        }
        drop(conn);
        let person = crate::ops::access::known_person(state, generation, user_id)
            .await?
            .ok_or(OperationError::Unauthenticated)?;
        if !crate::ops::session::may_sign_in(&person.user) {
            return Err(OperationError::Unauthenticated);
        }
        if from_session && !is_safe(&parts.method) && is_cross_site(parts) {
            return Err(OperationError::Forbidden("cross-site requests may not change anything"));
        }
        if let Some(context) = parts.extensions.get::<std::sync::Arc<crate::observe::RequestContext>>() {
            context.caller(&person.user.id, person.user.partner_id.as_deref());
        }
        let principal = Principal {
            account: Some(person.user.id.clone()),
            partner_id: person.user.partner_id.clone(),
            operator: person.user.operator,
            roles: person.roles_at(now),
            admin: person.admin.clone(),
        };
        Ok(Self { user: Some(person.user.clone()), principal, application: None, generation })
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_cross_site(parts: &Parts) -> bool {
    if let Some(site) = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "cross-site" || site == "same-site";
    }
    // Older browsers: compare Origin with Host.
    match (parts.headers.get(header::ORIGIN), parts.headers.get(header::HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("");
            let host = host.to_str().unwrap_or("");
            origin.split_once("://").map(|(_, rest)| rest) != Some(host)
        }
        _ => false,
    }
}

/// The address a request comes from: the peer, or, when the peer is a
/// trusted proxy, the right-most `X-Forwarded-For` hop that is not itself a
/// trusted proxy. Without trusted proxies the header is never read, so a
/// client cannot choose the address its sign-in failures count against.
pub fn client_address(
    headers: &axum::http::HeaderMap,
    peer: std::net::IpAddr,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            // A hop that is no address was written by someone we do not
            // trust: stop at the last proxy we do.
            Err(_) => break,
        }
    }
    client
}

/// The session cookie to set (an empty value and no age clear it): shared
/// by the API's and the pages' sign-in and sign-out.
pub fn set_session_cookie(state: &AppState, value: &str, max_age_secs: i64) -> axum::http::HeaderValue {
    let cookie = cookie::Cookie::build((SESSION_COOKIE, value.to_string()))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        // Lax, so that an application sending a signed-in person to the
        // authorization endpoint (a top-level GET from another site) finds
        // their session; changes are guarded by CSRF tokens and the
        // cross-site write check, not by the cookie's SameSite.
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    axum::http::HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| axum::http::HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::{client_address, json_has_nul};
    use axum::http::HeaderMap;

    #[test]
    fn only_an_escaped_nul_inside_a_string_counts() {
        assert!(json_has_nul(br#"{"email":"a\u0000@b.c"}"#));
        assert!(json_has_nul(br#"["x", "\\\u0000"]"#), "an escaped backslash, then an escaped NUL");
        assert!(!json_has_nul(br#"{"email":"a\\u0000@b.c"}"#), "an escaped backslash, then text");
        assert!(!json_has_nul(br#"{"note":"\"\u0001"}"#));
        assert!(!json_has_nul(br#"{"u0000":"\\"}"#));
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in xff {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let peer = "203.0.113.9".parse().unwrap();
        assert_eq!(client_address(&headers(&["198.51.100.1"]), peer, &[]), peer);
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_address(&headers(&["198.51.100.1"]), peer, &trusted), peer);
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let peer = "10.0.0.2".parse().unwrap();
        let spoofed_then_real = headers(&["1.1.1.1, 198.51.100.7", "10.0.0.5"]);
        assert_eq!(
            client_address(&spoofed_then_real, peer, &trusted),
            "198.51.100.7".parse::<std::net::IpAddr>().unwrap()
        );
        assert_eq!(client_address(&headers(&[]), peer, &trusted), peer, "no header: the proxy itself");
        assert_eq!(
            client_address(&headers(&["garbage, 10.0.0.9"]), peer, &trusted),
            "10.0.0.9".parse::<std::net::IpAddr>().unwrap()
        );
    }
}
