use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use starship_store::history::{self, Source};
use starship_store::{sessions, users};
use utoipa::ToSchema;

use crate::api::users::{profile_of, UserProfile};
use crate::extract::{ApiJson, Caller, Credential, OptionalJson, SESSION_COOKIE};
use crate::ops;
use crate::problem::{ApiResult, Problem};
use crate::security::{new_secret, secret_hash};
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

/// Signs in: sets an HttpOnly, SameSite=Strict session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = UserProfile),
        (status = 401, description = "Unknown email or wrong password (one answer for both)", body = Problem),
        (status = 429, description = "Too many failed attempts for this account or address", body = Problem),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request_headers: HeaderMap,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult<Response> {
    let client = crate::extract::client_address(&request_headers, peer.ip(), &state.config.trusted_proxies);
    let signed_in =
        ops::session::sign_in_with_code(&state, &body.email, body.password, body.totp.as_deref(), client, Source::Api)
            .await?;
    let mut conn = state.store.conn().await?;
    let principal = users::principal(&mut conn, &signed_in.user).await?;
    let profile = profile_of(&mut conn, &state.catalogue, &principal, &signed_in.user).await?;
    let cookie = session_cookie(&state, &signed_in.session_secret, state.config.session_ttl.as_secs() as i64);
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(profile)).into_response())
}

pub fn session_cookie(state: &AppState, value: &str, max_age_secs: i64) -> HeaderValue {
    let cookie = cookie::Cookie::build((SESSION_COOKIE, value.to_string()))
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Signs out: ends this session everywhere and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "Signed out"), (status = 401, body = Problem)))]
pub async fn sign_out(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    if let Credential::Session { token_hash } = &caller.credential {
        ops::session::sign_out(&state, token_hash, &caller.actor()).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, to recognise it later.
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub name: String,
    /// The token itself, shown this once: send it as `Authorization: Bearer …`.
    pub token: String,
    pub created_at: String,
}

/// Creates a personal API token for the signed-in user.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "session", request_body(content = NewToken, description = "Optional"),
    responses((status = 201, body = CreatedToken), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    OptionalJson(body): OptionalJson<NewToken>,
) -> ApiResult<(StatusCode, axum::Json<CreatedToken>)> {
    let name = match body.name {
        Some(name) => starship_core::domain::Title::parse("name", &name)?.as_str().to_string(),
        None => "API token".to_string(),
    };
    let secret = new_secret("sst_");
    let mut tx = state.store.begin().await?;
    let token = sessions::insert_api_token(&mut tx, &caller.user.id, &name, &secret_hash(&secret)).await?;
    history::append(
        &mut tx,
        &caller.user.id,
        &caller.actor(),
        "token.created",
        json!({"token_id": token.id, "name": name}),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedToken {
            id: token.id,
            name: token.name,
            token: secret,
            created_at: starship_core::time_fmt::rfc3339_from_millis(token.created_at),
        }),
    ))
}
