//! Personal API tokens: minted from a signed-in session, listed and revoked
//! by their owner, ended with every other sign-in. Shared by the API and My
//! Account.

use serde_json::json;
use starship_core::authz::{self, SignedInWith};
use starship_core::domain::{Title, TokenLifetime};
use starship_core::error::both;
use starship_core::history::Kind;
use starship_core::ids::ApiTokenId;
use starship_store::history::{self, Actor};
use starship_store::now_millis;
use starship_store::sessions::{self, ApiToken};
use starship_store::users::User;

use crate::ops::{OperationError, OperationResult};
use crate::security::{new_secret, secret_hash};
use crate::state::AppState;

/// The name a token gets when its owner gives none.
pub const DEFAULT_NAME: &str = "API token";

/// A new token and its secret, which is shown this once: only its hash is
/// stored.
pub struct Minted {
    pub token: ApiToken,
    pub secret: String,
}

/// Mints a token for the signed-in user, named `name` (or
/// [`DEFAULT_NAME`]) and lasting `expires_in_days` (or 90 days).
pub async fn create(
    state: &AppState,
    user: &User,
    actor: &Actor,
    signed_in_with: SignedInWith,
    name: Option<&str>,
    expires_in_days: Option<i64>,
) -> OperationResult<Minted> {
    authz::create_api_token(signed_in_with)?;
    let (name, lifetime) = both(
        name.map_or_else(|| Title::parse("name", DEFAULT_NAME), |n| Title::parse("name", n)),
        expires_in_days.map_or(Ok(TokenLifetime::DEFAULT), |days| TokenLifetime::parse("expires_in_days", days)),
    )?;
    let secret = new_secret("sst_");
    let mut tx = state.store.begin().await?;
    let expires_at = now_millis() + lifetime.millis();
    let token = sessions::insert_api_token(&mut tx, &user.id, name.as_str(), &secret_hash(&secret), expires_at).await?;
    history::append(
        &mut tx,
        &user.id,
        actor,
        Kind::TokenCreated,
        json!({"token_id": token.id, "name": token.name, "expires_in_days": lifetime.days()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Minted { token, secret })
}

/// One's own live tokens, newest first.
pub async fn list(state: &AppState, user: &User) -> OperationResult<Vec<ApiToken>> {
    let mut conn = state.store.conn().await?;
    Ok(sessions::list_api_tokens(&mut conn, &user.id).await?)
}

/// Revokes one of one's own tokens; anyone else's, or an unknown id, is
/// not found.
pub async fn revoke(state: &AppState, user: &User, actor: &Actor, token_id: &ApiTokenId) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let name = sessions::revoke_api_token(&mut tx, &user.id, token_id).await?.ok_or(OperationError::NotFound)?;
    history::append(&mut tx, &user.id, actor, Kind::TokenRevoked, json!({"token_id": token_id, "name": name})).await?;
    tx.commit().await?;
    Ok(())
}
