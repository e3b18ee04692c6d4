//! The OpenID Connect provider's token-signing keys: generated on first
//! start, kept in the database so every instance signs and verifies alike,
//! rotated with overlap (`starshipd keys rotate`).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use serde_json::json;
use starship_core::history::Kind;
use starship_store::history::{self, Actor};
use starship_store::{now_millis, signing_keys, users, Store};

use crate::jwt::Key;
use crate::ops::{OperationError, OperationResult};

/// How long a key replaced by a rotation keeps verifying (and stays in the
/// JWKS): longer than any token it signed lives.
pub const OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// Makes sure a key signs: generates one when the store has none (the
/// first start). Instances starting together may each add one; the newest
/// signs and every one verifies.
pub async fn ensure(store: &Store) -> Result<(), starship_store::StoreError> {
    let mut conn = store.conn().await?;
    if signing_keys::any_live(&mut conn).await? {
        return Ok(());
    }
    drop(conn);
    let key = tokio::task::spawn_blocking(Key::generate).await.expect("key generation does not panic");
    let mut tx = store.begin().await?;
    if !signing_keys::any_live(&mut tx).await? {
        signing_keys::insert_and_retire_others(&mut tx, &key.kid, &key.to_pem()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A new key signs from now on; the others keep verifying for
/// [`OVERLAP_MS`]. History records it in the first operator's History
/// (the command acts for no one), source `oidc`.
pub async fn rotate(store: &Store, actor: &Actor) -> OperationResult<String> {
    let key = tokio::task::spawn_blocking(Key::generate).await.expect("key generation does not panic");
    let mut tx = store.begin().await?;
    let Some(operator) = users::first_operator(&mut tx).await? else {
        return Err(OperationError::Conflict(
            "there is no operator account to record this in History: create one first (starshipd operator create)"
                .into(),
        ));
    };
    let retired = signing_keys::insert_and_retire_others(&mut tx, &key.kid, &key.to_pem()).await?;
    history::append(&mut tx, &operator, actor, Kind::SigningKeyRotated, json!({"kid": key.kid, "retired": retired}))
        .await?;
    tx.commit().await?;
    Ok(key.kid)
}

/// The keys that verify, newest first; the first signs. Which keys are in
/// use is read from the store every time (another instance may have
/// rotated); a key's decoded form is kept by its id, which is the
/// thumbprint of its public half, so one id always names the same key.
pub async fn in_use(store: &Store) -> OperationResult<Vec<Key>> {
    static DECODED: LazyLock<Mutex<HashMap<String, Key>>> = LazyLock::new(Default::default);
    let mut conn = store.conn().await?;
    let stored = signing_keys::in_use(&mut conn, now_millis() - OVERLAP_MS).await?;
    drop(conn);
    let mut keys = Vec::with_capacity(stored.len());
    for k in stored {
        let cached = DECODED.lock().unwrap_or_else(|e| e.into_inner()).get(&k.kid).cloned();
        let key = match cached {
            Some(key) => key,
            None => {
                let key = Key::from_pem(&k.kid, &k.private_pem)
                    .ok_or_else(|| OperationError::Internal(format!("signing key {} does not decode", k.kid)))?;
                DECODED.lock().unwrap_or_else(|e| e.into_inner()).insert(k.kid.clone(), key.clone());
                key
            }
        };
        keys.push(key);
    }
    Ok(keys)
}

/// The key that signs now.
pub async fn signer(store: &Store) -> OperationResult<Key> {
    in_use(store).await?.into_iter().next().ok_or_else(|| OperationError::Internal("no signing key".into()))
}

/// The public keys, as the JWKS endpoint publishes them.
pub async fn jwks(store: &Store) -> OperationResult<serde_json::Value> {
    Ok(json!({"keys": in_use(store).await?.iter().map(Key::jwk).collect::<Vec<_>>()}))
}
