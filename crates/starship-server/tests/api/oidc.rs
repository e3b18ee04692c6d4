//! The OpenID Connect provider: signing keys shared by every instance and
//! rotated with overlap, published in the JWKS.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_store::history::{Actor, Source};
use starship_store::{sqlx, Store};

use crate::support::*;

async fn jwks(base: &str) -> Vec<Value> {
    let response = reqwest::get(format!("{base}/oauth2/jwks")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set: Value = response.json().await.unwrap();
    set["keys"].as_array().unwrap().clone()
}

fn kids(keys: &[Value]) -> Vec<String> {
    keys.iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect()
}

app_test!(instances_on_one_database_sign_and_verify_with_the_same_keys, |app| async move {
    world(&app).await;
    let first = jwks(&app.base).await;
    assert_eq!(first.len(), 1, "a key is made on first start: {first:?}");
    assert_eq!((first[0]["kty"].as_str(), first[0]["alg"].as_str()), (Some("RSA"), Some("RS256")));
    assert!(first[0].get("d").is_none(), "never the private part");
    let (second, stop) = app.second_instance().await;
    assert_eq!(jwks(&second).await, first, "the second instance made no key of its own");

    // A token signed by one instance verifies with the keys another reads.
    let token = starship_server::ops::keys::signer(&app.store).await.unwrap().sign(&json!({"sub": "someone"}));
    let other = Store::open(&app.db_url()).await.unwrap();
    let keys = starship_server::ops::keys::in_use(&other).await.unwrap();
    assert_eq!(starship_server::jwt::verify(&token, &keys), Some(json!({"sub": "someone"})));
    other.close().await;

    // Rotation: the new key signs, the old one keeps verifying, on both instances.
    let kid = starship_server::ops::keys::rotate(&app.store, &Actor::system(Source::Oidc)).await.unwrap();
    let rotated = jwks(&second).await;
    assert_eq!(kids(&rotated), [kid.clone(), kids(&first)[0].clone()]);
    let signer = starship_server::ops::keys::signer(&app.store).await.unwrap();
    assert_eq!(signer.kid, kid);
    let keys = starship_server::ops::keys::in_use(&app.store).await.unwrap();
    assert_eq!(starship_server::jwt::verify(&token, &keys), Some(json!({"sub": "someone"})), "the old key verifies");

    // Once aged out, the old key is gone from the JWKS and verifies nothing.
    sqlx::query("UPDATE oidc_signing_keys SET retired_at = retired_at - $1 WHERE retired_at IS NOT NULL")
        .bind(starship_server::ops::keys::OVERLAP_MS + 1000)
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(kids(&jwks(&app.base).await), [kid]);
    let keys = starship_server::ops::keys::in_use(&app.store).await.unwrap();
    assert_eq!(starship_server::jwt::verify(&token, &keys), None);
    let _ = stop.send(());
});
