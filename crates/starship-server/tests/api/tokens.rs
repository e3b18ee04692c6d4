//! Personal API tokens: made from a session, listed without their secret,
//! revoked by their owner only, refused once expired, and ended with the
//! other sign-ins (MFA enrolment, revoked portal access).

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use starship_store::sqlx;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::support::*;
use crate::web::{csrf_of, location, page, signed_in_browser};

const PAT: &str = "pat.plain@sunrise.example";
const DAY_SECS: i64 = 86_400;

/// Mints a token as the client's session; returns the whole answer.
async fn mint(app: &TestApp, client: &Client, body: Value) -> Value {
    let (status, created) = app.post(client, "/api/v1/tokens", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

fn secret_of(created: &Value) -> String {
    created["token"].as_str().expect("the token's secret").to_string()
}

/// A request authenticated by a bearer token alone.
async fn as_bearer(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client().request(method.clone(), app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the request reaches the server");
    let status = response.status();
    (status, json_body(&format!("{method} {path}"), status, &response.text().await.expect("a readable body")))
}

async fn me_with(app: &TestApp, token: &str) -> StatusCode {
    as_bearer(app, token, "GET", "/api/v1/me", None).await.0
}

fn seconds(rfc3339: &Value) -> i64 {
    OffsetDateTime::parse(rfc3339.as_str().expect("an RFC 3339 time"), &Rfc3339).expect("RFC 3339").unix_timestamp()
}

/// Tokens of a user that are not revoked, expired or not.
async fn unrevoked_tokens(app: &TestApp, user_id: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn history_of(app: &TestApp, user_id: &str, action: &str) -> Vec<Value> {
    let details: Vec<String> =
        sqlx::query_scalar("SELECT details FROM history WHERE user_id = $1 AND action = $2 ORDER BY at, id")
            .bind(user_id)
            .bind(action)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    details.iter().map(|d| serde_json::from_str(d).expect("JSON details")).collect()
}

app_test!(tokens_are_listed_without_their_secret, |app| async move {
    let w = world(&app).await;
    let pat = app.signed_in(PAT).await;
    let nightly = mint(&app, &pat, json!({"name": "Nightly export", "expires_in_days": 7})).await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let default = mint(&app, &pat, json!({})).await;
    let revoked = mint(&app, &pat, json!({"name": "Old"})).await;
    let (status, _) = app.delete(&pat, &format!("/api/v1/tokens/{}", revoked["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mara = app.signed_in("mara.master@sunrise.example").await;
    mint(&app, &mara, json!({"name": "Mara's"})).await;

    let days_left = |created: &Value| (seconds(&created["expires_at"]) - seconds(&created["created_at"])) / DAY_SECS;
    assert_eq!(days_left(&nightly), 7);
    assert_eq!(days_left(&default), 90, "90 days unless asked");
    assert_eq!(default["name"], "API token");
    assert_eq!(me_with(&app, &secret_of(&nightly)).await, StatusCode::OK);

    let response = pat.get(app.url("/api/v1/tokens")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for created in [&nightly, &default, &revoked] {
        assert!(!text.contains(&secret_of(created)[4..]), "a secret is never shown again: {text}");
    }
    let listed: Value = serde_json::from_str(&text).unwrap();
    let listed = listed.as_array().unwrap();
    let names: Vec<&str> = listed.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["API token", "Nightly export"], "live tokens of the caller, newest first");
    let shown = &listed[1];
    let mut keys: Vec<&str> = shown.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["created_at", "expires_at", "id", "last_used_at", "name"]);
    assert_eq!(shown["id"], nightly["id"]);
    assert_eq!(shown["created_at"], nightly["created_at"]);
    assert_eq!(shown["expires_at"], nightly["expires_at"]);
    assert!(shown["last_used_at"].is_string(), "used once: {shown}");
    assert!(listed[0]["last_used_at"].is_null(), "never used");

    let created = history_of(&app, &w.plain, "token.created").await;
    assert_eq!(created.len(), 3);
    assert_eq!(created[0]["name"], "Nightly export");
    assert_eq!(created[0]["expires_in_days"], 7);
});

app_test!(a_token_lasts_between_one_and_365_days, |app| async move {
    world(&app).await;
    let pat = app.signed_in(PAT).await;
    for days in [json!(0), json!(-3), json!(366)] {
        let (status, problem) = app.post(&pat, "/api/v1/tokens", json!({"expires_in_days": days})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{days}");
        assert_eq!(problem["errors"][0]["field"], "expires_in_days", "{problem}");
    }
    let (status, problem) = app.post(&pat, "/api/v1/tokens", json!({"name": " ", "expires_in_days": 400})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "expires_in_days"], "every bad field at once");
    assert_eq!(app.count("api_tokens").await, 0, "nothing was written");

    let longest = mint(&app, &pat, json!({"expires_in_days": 365})).await;
    assert_eq!((seconds(&longest["expires_at"]) - seconds(&longest["created_at"])) / DAY_SECS, 365);
});

app_test!(a_token_cannot_mint_more_tokens, |app| async move {
    let w = world(&app).await;
    let pat = app.signed_in(PAT).await;
    let token = secret_of(&mint(&app, &pat, json!({"name": "CI"})).await);
    let other = mint(&app, &pat, json!({"name": "Deploys"})).await;

    let (status, problem) = as_bearer(&app, &token, "POST", "/api/v1/tokens", Some(json!({"name": "Forever"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("API token"), "{problem}");
    let (status, _) = as_bearer(&app, &token, "POST", "/api/v1/tokens", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "without a body too");
    assert_eq!(unrevoked_tokens(&app, &w.plain).await, 2, "nothing was minted");

    // Listing and revoking with a token are fine.
    let (status, listed) = as_bearer(&app, &token, "GET", "/api/v1/tokens", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let path = format!("/api/v1/tokens/{}", other["id"].as_str().unwrap());
    let (status, _) = as_bearer(&app, &token, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me_with(&app, &secret_of(&other)).await, StatusCode::UNAUTHORIZED);
});

app_test!(an_expired_token_is_refused, |app| async move {
    let w = world(&app).await;
    let pat = app.signed_in(PAT).await;
    let created = mint(&app, &pat, json!({"name": "Short-lived", "expires_in_days": 1})).await;
    let token = secret_of(&created);
    assert_eq!(me_with(&app, &token).await, StatusCode::OK);

    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2")
        .bind(starship_store::now_millis() - 1)
        .bind(created["id"].as_str().unwrap())
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(me_with(&app, &token).await, StatusCode::UNAUTHORIZED);
    let (status, _) = as_bearer(&app, &token, "GET", "/api/v1/tokens", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, listed) = app.get(&pat, "/api/v1/tokens").await;
    assert_eq!(listed, json!([]), "an expired token is no longer listed");
    assert_eq!(unrevoked_tokens(&app, &w.plain).await, 1, "it ran out; nobody revoked it");
});

app_test!(revoking_another_persons_token_answers_404, |app| async move {
    let w = world(&app).await;
    let pat = app.signed_in(PAT).await;
    let created = mint(&app, &pat, json!({"name": "CI"})).await;
    let (id, token) = (created["id"].as_str().unwrap().to_string(), secret_of(&created));

    for someone in ["mara.master@sunrise.example", "olivia.operator@starship.example"] {
        let client = app.signed_in(someone).await;
        let (status, problem) = app.delete(&client, &format!("/api/v1/tokens/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{someone}: {problem}");
    }
    assert_eq!(me_with(&app, &token).await, StatusCode::OK, "still works");
    let (status, _) = app.delete(&pat, "/api/v1/tokens/no-such-token").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(history_of(&app, &w.plain, "token.revoked").await.is_empty());

    let (status, _) = app.delete(&pat, &format!("/api/v1/tokens/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(me_with(&app, &token).await, StatusCode::UNAUTHORIZED);
    let (status, _) = app.delete(&pat, &format!("/api/v1/tokens/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "revoked already");
    let revoked = history_of(&app, &w.plain, "token.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["token_id"], id.as_str());
    assert_eq!(revoked[0]["name"], "CI");
});

/// Enrols the signed-in client in TOTP; returns the confirm answer.
async fn enrol(app: &TestApp, client: &Client, email: &str, end_other_sessions: Option<bool>) -> Value {
    let (status, enrolment) = app.post(client, "/api/v1/me/mfa", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap();
    let code = starship_server::ops::session::current_code(secret, email, starship_store::now_millis() / 1000).unwrap();
    let mut body = json!({"code": code});
    if let Some(end) = end_other_sessions {
        body["end_other_sessions"] = json!(end);
    }
    let (status, confirmed) = app.post(client, "/api/v1/me/mfa/confirm", body).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    confirmed
}

app_test!(enrolling_mfa_can_end_other_sessions_and_tokens, |app| async move {
    let w = world(&app).await;
    let here = app.signed_in(PAT).await;
    let laptop = app.signed_in(PAT).await;
    let phone = app.signed_in(PAT).await;
    let ci = secret_of(&mint(&app, &here, json!({"name": "CI"})).await);
    let deploys = secret_of(&mint(&app, &laptop, json!({"name": "Deploys"})).await);
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let maras = secret_of(&mint(&app, &mara, json!({})).await);

    let confirmed = enrol(&app, &here, PAT, Some(true)).await;
    assert_eq!(confirmed["recovery_codes"].as_array().unwrap().len(), 10);
    assert_eq!((confirmed["sessions_ended"].as_u64(), confirmed["tokens_ended"].as_u64()), (Some(2), Some(2)));
    assert_eq!(app.get(&here, "/api/v1/me").await.0, StatusCode::OK, "this session stays");
    for other in [&laptop, &phone] {
        assert_eq!(app.get(other, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    }
    for token in [&ci, &deploys] {
        assert_eq!(me_with(&app, token).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.get(&mara, "/api/v1/me").await.0, StatusCode::OK, "nobody else's");
    assert_eq!(me_with(&app, &maras).await, StatusCode::OK);
    let enrolled = history_of(&app, &w.plain, "mfa.enrolled").await;
    assert_eq!(enrolled, [json!({"method": "totp", "other_sessions_ended": 2, "tokens_ended": 2})]);

    // Left out, everything stays.
    let mara_elsewhere = app.signed_in("mara.master@sunrise.example").await;
    let confirmed = enrol(&app, &mara, "mara.master@sunrise.example", None).await;
    assert_eq!((confirmed["sessions_ended"].as_u64(), confirmed["tokens_ended"].as_u64()), (Some(0), Some(0)));
    assert_eq!(app.get(&mara_elsewhere, "/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(me_with(&app, &maras).await, StatusCode::OK);
    assert_eq!(history_of(&app, &w.backlot_admin, "mfa.enrolled").await, [json!({"method": "totp"})]);
});

app_test!(revoking_portal_access_ends_every_token, |app| async move {
    let p = crate::portal::portal_world(&app).await;
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let tokens = [
        secret_of(&mint(&app, &rita, json!({"name": "Monitoring"})).await),
        secret_of(&mint(&app, &rita, json!({"name": "Tickets", "expires_in_days": 5})).await),
    ];
    let eli = app.signed_in("eli.engineer@metrofiber.example").await;
    let elis = secret_of(&mint(&app, &eli, json!({})).await);

    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let (status, _) = app.delete(&nora, &format!("/api/v1/users/{}/portal-access", p.read_only)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unrevoked_tokens(&app, &p.read_only).await, 0, "every token is revoked, not just refused");
    for token in &tokens {
        assert_eq!(me_with(&app, token).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(me_with(&app, &elis).await, StatusCode::OK, "another person's token stays");
    assert_eq!(unrevoked_tokens(&app, &p.engineering).await, 1);
});

app_test!(the_token_endpoints_document_every_status, |app| async move {
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    for (path, method, statuses) in [
        ("/api/v1/tokens", "get", &["200", "401"][..]),
        ("/api/v1/tokens", "post", &["201", "401", "403", "422"][..]),
        ("/api/v1/tokens/{id}", "delete", &["204", "401", "403", "404"][..]),
    ] {
        let responses = &doc["paths"][path][method]["responses"];
        for status in statuses {
            assert!(responses.get(status).is_some(), "{method} {path} does not document {status}: {responses}");
        }
    }
    let fields = &doc["components"]["schemas"]["NewToken"]["properties"];
    assert!(fields.get("expires_in_days").is_some(), "{fields}");
    let confirm = &doc["components"]["schemas"]["ConfirmMfa"]["properties"];
    assert!(confirm.get("end_other_sessions").is_some(), "{confirm}");
});

app_test!(a_token_is_made_and_revoked_on_my_account, |app| async move {
    let w = world(&app).await;
    let pat = signed_in_browser(&app, PAT).await;
    let (status, html) = page(&app, &pat, "/?tab=tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Personal API tokens") && html.contains("No personal API tokens."), "{html}");
    let csrf = csrf_of(&html);

    let refused = [("csrf", csrf.as_str()), ("name", "Nightly export"), ("expires_in_days", "400")];
    let response = pat.post(app.url("/tokens")).form(&refused).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("between 1 and 365") && html.contains(r#"value="Nightly export""#), "{html}");
    assert_eq!(app.count("api_tokens").await, 0);

    let form = [("csrf", csrf.as_str()), ("name", "Nightly export"), ("expires_in_days", "30")];
    let response = pat.post(app.url("/tokens")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let at = html.find("<code>sst_").expect("the new token, shown once") + "<code>".len();
    let token = html[at..].split('<').next().unwrap().to_string();
    assert_eq!(me_with(&app, &token).await, StatusCode::OK);

    let (_, html) = page(&app, &pat, "/?tab=tokens").await;
    assert!(html.contains("Nightly export") && !html.contains(&token), "listed, its secret not shown again");
    let at = html.find(r#"action="/tokens/"#).expect("a Revoke form") + r#"action=""#.len();
    let revoke = html[at..].split('"').next().unwrap().to_string();
    assert!(html.contains("data-confirm="), "the browser asks before revoking");

    let forged = pat.post(app.url(&revoke)).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(me_with(&app, &token).await, StatusCode::OK, "a forged form revokes nothing");

    let response = pat.post(app.url(&revoke)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/?tab=tokens&done=token-revoked");
    let (_, html) = page(&app, &pat, location(&response)).await;
    assert!(html.contains("Token revoked") && !html.contains("Nightly export"), "{html}");
    assert_eq!(me_with(&app, &token).await, StatusCode::UNAUTHORIZED);

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM history WHERE user_id = $1 AND action LIKE 'token.%' AND source = 'web' ORDER BY at, id",
    )
    .bind(&w.plain)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(actions, ["token.created", "token.revoked"]);
});

app_test!(the_security_page_ends_other_sessions_and_tokens_when_ticked, |app| async move {
    world(&app).await;
    let pat = signed_in_browser(&app, PAT).await;
    let elsewhere = app.signed_in(PAT).await;
    let token = secret_of(&mint(&app, &elsewhere, json!({})).await);
    let (_, html) = page(&app, &pat, "/security").await;
    let csrf = csrf_of(&html);
    let response = pat.post(app.url("/security")).form(&[("csrf", csrf.as_str()), ("action", "start")]).send().await;
    let html = response.unwrap().text().await.unwrap();
    assert!(html.contains(r#"name="end_other_sessions" value="on" checked"#), "ticked by default: {html}");
    let key_at = html.find(r#"aria-label="Key "#).unwrap() + r#"aria-label="Key "#.len();
    let secret = html[key_at..].split('"').next().unwrap().to_string();
    let code = starship_server::ops::session::current_code(&secret, PAT, starship_store::now_millis() / 1000).unwrap();

    let form = [("csrf", csrf.as_str()), ("action", "confirm"), ("code", &code), ("end_other_sessions", "on")];
    let response = pat.post(app.url("/security")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Two-step sign-in is on.") && html.contains("personal API tokens (1) have ended"), "{html}");
    assert_eq!(page(&app, &pat, "/").await.0, StatusCode::OK, "this session stays");
    assert_eq!(app.get(&elsewhere, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(me_with(&app, &token).await, StatusCode::UNAUTHORIZED);
});
