use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use starship_core::domain::UserStatus;
use starship_store::history::{self, Actor, Source};
use starship_store::{now_millis, sessions, users};
use utoipa::ToSchema;

use crate::api::users::{profile_of, UserProfile};
use crate::extract::{ApiJson, Caller, Credential, OptionalJson, SESSION_COOKIE};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::security::{new_secret, secret_hash, verify_password};
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
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult<Response> {
    let email_lower = body.email.trim().to_lowercase();
    let throttle_keys = vec![format!("email:{email_lower}"), format!("ip:{}", client.ip())];
    let window_ms = state.config.sign_in_window.as_millis() as i64;
    let mut conn = state.store.conn().await?;
    if sessions::is_throttled(&mut conn, &throttle_keys, state.config.sign_in_failure_limit, window_ms).await? {
        return Err(ApiError::Throttled { retry_after_secs: state.config.sign_in_window.as_secs() });
    }
    let found = users::credentials(&mut conn, &email_lower).await?;
    drop(conn);

    let stored_hash = found.as_ref().and_then(|(_, hash)| hash.clone());
    let password = body.password;
    // argon2 is deliberately slow: keep it off the async workers.
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&password, stored_hash.as_deref()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match found {
        Some((user, _)) if password_ok && user.status == UserStatus::Active => user,
        other => {
            let mut tx = state.store.begin().await?;
            sessions::record_failure(&mut tx, &throttle_keys, window_ms).await?;
            if let Some((user, _)) = other {
                history::append(
                    &mut tx,
                    &user.id,
                    &Actor::system(Source::Api),
                    "sign-in.failed",
                    json!({"client": client.ip().to_string()}),
                )
                .await?;
            }
            tx.commit().await?;
            return Err(ApiError::BadCredentials);
        }
    };

    let token = new_secret("");
    let expires_at = now_millis() + state.config.session_ttl.as_millis() as i64;
    let mut tx = state.store.begin().await?;
    sessions::insert_session(&mut tx, &secret_hash(&token), &user.id, expires_at).await?;
    sessions::clear_failures(&mut tx, &throttle_keys[0]).await?;
    history::append(
        &mut tx,
        &user.id,
        &Actor::user(&user.id, &user.email, Source::Api),
        "signed-in",
        json!({"client": client.ip().to_string()}),
    )
    .await?;
    tx.commit().await?;

    let mut conn = state.store.conn().await?;
    let principal = users::principal(&mut conn, &user).await?;
    let profile = profile_of(&mut conn, &state.catalogue, &principal, &user).await?;
    let cookie = session_cookie(&state, &token, state.config.session_ttl.as_secs() as i64);
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(profile)).into_response())
}

fn session_cookie(state: &AppState, value: &str, max_age_secs: i64) -> HeaderValue {
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
        let mut tx = state.store.begin().await?;
        sessions::delete_session(&mut tx, token_hash).await?;
        history::append(&mut tx, &caller.user.id, &caller.actor(), "signed-out", json!({})).await?;
        tx.commit().await?;
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
