//! Signing in and out, and accepting single-use links: shared by the API
//! and the web pages.

use std::net::IpAddr;

use serde_json::json;
use starship_core::domain::{Password, UserStatus};
use starship_core::FieldError;
use starship_store::history::{self, Actor, Source};
use starship_store::users::{self, User};
use starship_store::{now_millis, outbox, sessions};

use crate::ops::ACTIVATION;
use crate::problem::{ApiError, ApiResult};
use crate::security::{hash_password, new_secret, secret_hash, verify_password};
use crate::state::AppState;

/// A new session: the account, and the secret to hand the browser (only
/// its hash is stored).
pub struct SignedIn {
    pub user: User,
    pub session_secret: String,
}

/// Checks a password, throttled per account and per client address; the
/// same error for an unknown email and a wrong password.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    client: IpAddr,
    source: Source,
) -> ApiResult<SignedIn> {
    let email_lower = email.trim().to_lowercase();
    let throttle_keys = vec![format!("email:{email_lower}"), format!("ip:{client}")];
    let window_ms = state.config.sign_in_window.as_millis() as i64;
    let mut conn = state.store.conn().await?;
    if sessions::is_throttled(&mut conn, &throttle_keys, state.config.sign_in_failure_limit, window_ms).await? {
        return Err(ApiError::Throttled { retry_after_secs: state.config.sign_in_window.as_secs() });
    }
    let found = users::credentials(&mut conn, &email_lower).await?;
    drop(conn);

    let stored_hash = found.as_ref().and_then(|(_, hash)| hash.clone());
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
                let details = json!({"client": client.to_string()});
                history::append(&mut tx, &user.id, &Actor::system(source), "sign-in.failed", details).await?;
            }
            tx.commit().await?;
            return Err(ApiError::BadCredentials);
        }
    };

    let session_secret = new_secret("");
    let expires_at = now_millis() + state.config.session_ttl.as_millis() as i64;
    let mut tx = state.store.begin().await?;
    sessions::insert_session(&mut tx, &secret_hash(&session_secret), &user.id, expires_at).await?;
    sessions::clear_failures(&mut tx, &throttle_keys[0]).await?;
    let actor = Actor::user(&user.id, &user.email, source);
    history::append(&mut tx, &user.id, &actor, "signed-in", json!({"client": client.to_string()})).await?;
    tx.commit().await?;
    Ok(SignedIn { user, session_secret })
}

/// Ends one session.
pub async fn sign_out(state: &AppState, session_token_hash: &str, actor: &Actor) -> ApiResult<()> {
    let mut tx = state.store.begin().await?;
    if let Some(user_id) = sessions::delete_session(&mut tx, session_token_hash).await? {
        history::append(&mut tx, &user_id, actor, "signed-out", json!({})).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets the password from a single-use activation link and turns sign-in
/// on. A used, replaced or expired link changes nothing.
pub async fn accept_link(state: &AppState, token: &str, password: &str, source: Source) -> ApiResult<User> {
    let password = Password::parse("password", password)?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.store.begin().await?;
    let invalid = || FieldError::new("token", "this link is not valid: it was used or replaced, or it has expired");
    let user_id = outbox::use_link(&mut tx, &secret_hash(token.trim()), ACTIVATION).await?.ok_or_else(invalid)?;
    let user = users::get(&mut tx, &user_id).await?.ok_or_else(invalid)?;
    if user.status == UserStatus::Disabled {
        return Err(invalid().into());
    }
    users::set_password(&mut tx, &user.id, &hash).await?;
    history::append(&mut tx, &user.id, &Actor::user(&user.id, &user.email, source), "account.activated", json!({}))
        .await?;
    tx.commit().await?;
    Ok(user)
}
