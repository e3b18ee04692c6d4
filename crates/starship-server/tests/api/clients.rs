//! Application clients: registered, listed, given a new secret and revoked
//! by operators only, from the API and the operator page; the secret shown
//! once and stored hashed; every change in the operator's History with the
//! source `oidc`.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_store::sqlx;

use crate::support::*;
use crate::web::{csrf_of, location, page, signed_in_browser};

/// Operations on application clients, which belong to no partner: a
/// partner's people are refused them whole (403), so the cross-partner
/// tables (hostile.rs, isolation.rs) leave them to the tests here.
pub(crate) const OPERATOR_ONLY_OPERATIONS: [(&str, &str); 2] =
    [("DELETE", "/api/v1/clients/{id}"), ("POST", "/api/v1/clients/{id}/secret")];
pub(crate) const OPERATOR_ONLY_PAGES: [(&str, &str); 2] =
    [("POST", "/clients/{id}/revoke"), ("POST", "/clients/{id}/secret")];

const OPERATOR: &str = "olivia.operator@starship.example";

pub(crate) fn backlot_web() -> Value {
    json!({"application": "backlot", "name": "Backlot web", "redirect_uris": ["https://backlot.example/callback"]})
}

/// (action, source, details) of the History entries about clients in a person's History.
async fn client_history(app: &TestApp, user_id: &str) -> Vec<(String, String, Value)> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT action, source, details FROM history WHERE user_id = $1 AND action LIKE 'oidc.%' ORDER BY seq",
    )
    .bind(user_id)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    rows.into_iter().map(|(a, s, d)| (a, s, serde_json::from_str(&d).unwrap())).collect()
}

async fn stored_secret_hash(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT secret_hash FROM oidc_clients WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

app_test!(an_operator_registers_a_client_whose_secret_is_shown_once_and_stored_hashed, |app| async move {
    let w = world(&app).await;
    let operator = app.signed_in(OPERATOR).await;
    let (status, created) = app.post(&operator, "/api/v1/clients", backlot_web()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("scs_") && secret.len() > 40, "{secret}");
    assert_eq!(created["application"], "backlot");
    assert_eq!(created["grant_types"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(created["redirect_uris"], json!(["https://backlot.example/callback"]));
    let id = created["id"].as_str().unwrap();
    let hash = stored_secret_hash(&app, id).await;
    assert_ne!(hash, secret);
    assert_eq!(hash, starship_server::security::secret_hash(secret));

    let (status, list) = app.get(&operator, "/api/v1/clients").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["client_id"], created["client_id"]);
    assert!(!list.to_string().contains(secret) && list[0].get("client_secret").is_none(), "{list}");

    let history = client_history(&app, &w.operator).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!((history[0].0.as_str(), history[0].1.as_str()), ("oidc.client-issued", "oidc"));
    assert_eq!(history[0].2["client_id"], created["client_id"]);
    assert!(!history[0].2.to_string().contains(secret));
});

app_test!(only_operators_manage_application_clients, |app| async move {
    let w = world(&app).await;
    let operator = app.signed_in(OPERATOR).await;
    let (_, created) = app.post(&operator, "/api/v1/clients", backlot_web()).await;
    let id = created["id"].as_str().unwrap();
    // Mara administers Backlot, but a client acts for all of Backlot, across partners.
    let mara = app.signed_in("mara.master@sunrise.example").await;
    assert_eq!(app.post(&mara, "/api/v1/clients", backlot_web()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&mara, "/api/v1/clients").await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&mara, &format!("/api/v1/clients/{id}")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.post(&mara, &format!("/api/v1/clients/{id}/secret"), json!({})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&app.client(), "/api/v1/clients").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("oidc_clients").await, 1);
    assert_eq!(client_history(&app, &w.backlot_admin).await.len(), 0);
});

app_test!(redirect_uris_must_be_https_or_loopback_http_without_a_fragment, |app| async move {
    world(&app).await;
    let operator = app.signed_in(OPERATOR).await;
    for (body, field) in [
        (
            json!({"application": "backlot", "name": "x", "redirect_uris": ["http://backlot.example/cb"]}),
            "redirect_uris[0]",
        ),
        (
            json!({"application": "backlot", "name": "x", "redirect_uris": ["https://backlot.example/cb#top"]}),
            "redirect_uris[0]",
        ),
        (json!({"application": "backlot", "name": "x", "redirect_uris": ["/callback"]}), "redirect_uris[0]"),
        (json!({"application": "backlot", "name": "x", "redirect_uris": []}), "redirect_uris"),
        (json!({"application": "nowhere", "name": "x", "redirect_uris": ["https://a.example/cb"]}), "application"),
        (json!({"application": "backlot", "name": " ", "redirect_uris": ["https://a.example/cb"]}), "name"),
        (
            json!({"application": "backlot", "name": "x", "grant_types": ["implicit"], "redirect_uris": ["https://a.example/cb"]}),
            "grant_types[0]",
        ),
        (
            json!({"application": "backlot", "name": "x", "grant_types": ["client_credentials"], "redirect_uris": ["https://a.example/cb"]}),
            "redirect_uris",
        ),
    ] {
        let (status, problem) = app.post(&operator, "/api/v1/clients", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert!(problem.to_string().contains(&format!("\"field\":\"{field}\"")), "{body}: {problem}");
    }
    assert_eq!(app.count("oidc_clients").await, 0, "nothing is stored for a refused registration");
    let loopback = json!({"application": "backlot", "name": "Dev", "redirect_uris": ["http://127.0.0.1:8400/callback", "http://localhost/cb"]});
    assert_eq!(app.post(&operator, "/api/v1/clients", loopback).await.0, StatusCode::CREATED);
    let service =
        json!({"application": "content-hub", "name": "Content Hub service", "grant_types": ["client_credentials"]});
    let (status, created) = app.post(&operator, "/api/v1/clients", service).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["redirect_uris"], json!([]));
});

app_test!(a_client_is_given_a_new_secret_and_revoked_with_history, |app| async move {
    let w = world(&app).await;
    let operator = app.signed_in(OPERATOR).await;
    let (_, created) = app.post(&operator, "/api/v1/clients", backlot_web()).await;
    let id = created["id"].as_str().unwrap();
    let (status, rotated) = app.post(&operator, &format!("/api/v1/clients/{id}/secret"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["client_id"], created["client_id"]);
    assert_ne!(rotated["client_secret"], created["client_secret"]);
    assert_eq!(
        stored_secret_hash(&app, id).await,
        starship_server::security::secret_hash(rotated["client_secret"].as_str().unwrap())
    );
    assert!(rotated["secret_rotated_at"].is_string());

    assert_eq!(app.delete(&operator, &format!("/api/v1/clients/{id}")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&operator, &format!("/api/v1/clients/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.post(&operator, &format!("/api/v1/clients/{id}/secret"), json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&operator, "/api/v1/clients/no-such-client").await.0, StatusCode::NOT_FOUND);
    let (_, list) = app.get(&operator, "/api/v1/clients").await;
    assert_eq!(list, json!([]));

    let actions: Vec<(String, String)> =
        client_history(&app, &w.operator).await.into_iter().map(|(a, s, _)| (a, s)).collect();
    let expected = ["oidc.client-issued", "oidc.client-secret-rotated", "oidc.client-revoked"];
    assert_eq!(actions, expected.map(|a| (a.to_string(), "oidc".to_string())));
});

app_test!(the_operator_page_registers_rotates_and_revokes_clients, |app| async move {
    world(&app).await;
    let browser = signed_in_browser(&app, OPERATOR).await;
    let (status, html) = page(&app, &browser, "/clients").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No application clients."), "{html}");
    assert!(html.contains(r#"href="/clients""#), "operators find the page in the navigation");
    let csrf = csrf_of(&html);

    let form = [
        ("csrf", csrf.as_str()),
        ("application", "production-academy"),
        ("name", "Academy web"),
        ("grant_types", "authorization_code"),
        ("grant_types", "refresh_token"),
        ("redirect_uris", "https://academy.example/cb\r\nhttp://127.0.0.1:9000/cb\r\n"),
    ];
    let response = browser.post(app.url("/clients")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("shown only this once") && html.contains("scs_"), "{html}");
    let (_, listed) = app.get(&app.signed_in(OPERATOR).await, "/api/v1/clients").await;
    assert_eq!(listed[0]["redirect_uris"], json!(["https://academy.example/cb", "http://127.0.0.1:9000/cb"]));
    let id = listed[0]["id"].as_str().unwrap().to_string();

    let bad = [
        ("csrf", csrf.as_str()),
        ("application", "backlot"),
        ("name", "Bad"),
        ("grant_types", "authorization_code"),
        ("redirect_uris", "http://evil.example/"),
    ];
    let response = browser.post(app.url("/clients")).form(&bad).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("Must use https (http only on 127.0.0.1 or localhost): http://evil.example/"), "{html}");

    let forged =
        browser.post(app.url(&format!("/clients/{id}/revoke"))).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let before = stored_secret_hash(&app, &id).await;
    let response =
        browser.post(app.url(&format!("/clients/{id}/secret"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("given a new secret"));
    assert_ne!(stored_secret_hash(&app, &id).await, before);
    let response =
        browser.post(app.url(&format!("/clients/{id}/revoke"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/clients?done=revoked");
    assert_eq!(app.count("oidc_clients WHERE revoked_at IS NULL").await, 0);

    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (status, _) = page(&app, &mara, "/clients").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, home) = page(&app, &mara, "/").await;
    let mara_csrf = csrf_of(&home);
    let (_, created) = app.post(&app.signed_in(OPERATOR).await, "/api/v1/clients", backlot_web()).await;
    let live = created["id"].as_str().unwrap();
    for (_, path) in OPERATOR_ONLY_PAGES {
        let path = path.replace("{id}", live);
        let response = mara.post(app.url(&path)).form(&[("csrf", mara_csrf.as_str())]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.count("oidc_clients WHERE revoked_at IS NULL AND secret_rotated_at IS NULL").await, 1);
    let (_, home) = page(&app, &mara, "/").await;
    assert!(!home.contains(r#"href="/clients""#), "the page is not offered to people who may not use it");
});

app_test!(an_operator_reads_the_client_entries_in_their_own_history, |app| async move {
    world(&app).await;
    let operator = app.signed_in(OPERATOR).await;
    let (status, _) = app.post(&operator, "/api/v1/clients", backlot_web()).await;
    assert_eq!(status, StatusCode::CREATED);
    let operator_id = app.signed_in_id(OPERATOR).await;
    let (status, entries) = app.get(&operator, &format!("/api/v1/users/{operator_id}/history")).await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    let actions: Vec<&str> = entries["entries"]
        .as_array()
        .or(entries.as_array())
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"oidc.client-issued"), "{actions:?}");
    // A partner's admin still does not see an operator's History.
    let mara = app.signed_in("mara.master@sunrise.example").await;
    assert_eq!(app.get(&mara, &format!("/api/v1/users/{operator_id}/history")).await.0, StatusCode::NOT_FOUND);
});
