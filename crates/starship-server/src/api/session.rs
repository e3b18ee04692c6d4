use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use starship_core::ids::ApiTokenId;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::history::Source;
use starship_store::sessions;
use utoipa::ToSchema;

use crate::extract::{set_session_cookie, ApiJson, Caller, Credential, OptionalJson};
use crate::ops;
use crate::ops::users::{profile_view, UserProfile};
use crate::ops::OperationResult;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
    /// A current authenticator code, once the account has MFA.
    #[serde(default)]
    pub totp: Option<String>,
}

/// Signs in: sets an HttpOnly, SameSite=Lax session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignIn, security(()),
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = UserProfile),
        (status = 401, description = "Unknown email or wrong password (one answer for both); after the right password, `mfa-required` (a code is needed) or `mfa-code-used` (the current code signed someone in already)", body = Problem),
        (status = 429, description = "Too many failed attempts for this account or address", body = Problem),
        (status = 503, description = "The database is not answering", body = Problem),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request_headers: HeaderMap,
    ApiJson(body): ApiJson<SignIn>,
) -> OperationResult<Response> {
    let client = crate::extract::client_address(&request_headers, peer.ip(), &state.config.trusted_proxies);
    let signed_in =
        ops::session::sign_in_with_code(&state, &body.email, body.password, body.totp.as_deref(), client, Source::Api)
            .await?;
    let principal = ops::session::principal_of(&state, &signed_in.user).await?;
    let profile = profile_view(&state, &principal, &signed_in.user).await?;
    let cookie = set_session_cookie(&state, &signed_in.session_secret, state.config.session_ttl.as_secs() as i64);
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(profile)).into_response())
}

/// Signs out: ends this session everywhere and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out"), (status = 401, body = Problem)))]
pub async fn sign_out(State(state): State<AppState>, caller: Caller) -> OperationResult<Response> {
    if let Credential::Session { token_hash } = &caller.credential {
        ops::session::sign_out(&state, token_hash, &caller.actor()).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, set_session_cookie(&state, "", 0));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, to recognise it later; "API token" when left out.
    #[serde(default)]
    pub name: Option<String>,
    /// How many days the token works: 1 to 365, 90 when left out.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: ApiTokenId,
    pub name: String,
    /// The token itself, shown this once: send it as `Authorization: Bearer …`.
    pub token: String,
    pub created_at: String,
    /// When the token stops working (RFC 3339).
    pub expires_at: String,
}

/// One of one's tokens, without its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: ApiTokenId,
    pub name: String,
    pub created_at: String,
    /// To the minute: uses within a minute of the last noted one are not noted.
    pub last_used_at: Option<String>,
    pub expires_at: String,
}

impl From<sessions::ApiToken> for TokenView {
    fn from(t: sessions::ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: rfc3339_from_millis(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339_from_millis),
            expires_at: rfc3339_from_millis(t.expires_at),
        }
    }
}

/// The signed-in user's live personal API tokens (neither revoked nor
/// expired), newest first. The secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "session",
    responses((status = 200, body = [TokenView]), (status = 401, body = Problem)))]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> OperationResult<axum::Json<Vec<TokenView>>> {
    let tokens = ops::tokens::list(&state, &caller.user).await?;
    Ok(axum::Json(tokens.into_iter().map(TokenView::from).collect()))
}

/// Creates a personal API token for the signed-in user. Only a session
/// can: a request authenticated by a token is refused.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "session", request_body(content = NewToken, description = "Optional"),
    responses(
        (status = 201, body = CreatedToken),
        (status = 401, body = Problem),
        (status = 403, description = "Authenticated by an API token, or a cross-site request", body = Problem),
        (status = 422, description = "A bad name or `expires_in_days` outside 1 to 365", body = Problem),
    ))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    OptionalJson(body): OptionalJson<NewToken>,
) -> OperationResult<(StatusCode, axum::Json<CreatedToken>)> {
    let minted = ops::tokens::create(
        &state,
        &caller.user,
        &caller.actor(),
        caller.signed_in_with(),
        body.name.as_deref(),
        body.expires_in_days,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            id: minted.token.id,
            name: minted.token.name,
            token: minted.secret,
            created_at: rfc3339_from_millis(minted.token.created_at),
            expires_at: rfc3339_from_millis(minted.token.expires_at),
        }),
    ))
}

/// Revokes one of the signed-in user's tokens at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "session", params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = Problem),
        (status = 403, description = "A cross-site request", body = Problem),
        (status = 404, description = "No such token of the caller's (another person's, unknown, or revoked already)", body = Problem),
    ))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ApiTokenId>,
) -> OperationResult<StatusCode> {
    ops::tokens::revoke(&state, &caller.user, &caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
