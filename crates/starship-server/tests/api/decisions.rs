//! The batch check, and the check's cache: a check is never stale. Each
//! change that ends access is made through one instance (or straight in
//! the store) after the other instance has answered, and so cached, the
//! same check; that other instance's very next check must refuse.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_core::ids::UserId;
use starship_server::expiry::{sweep_once, SweepConfig};
use starship_store::now_millis;

use crate::support::*;

const MARA: &str = "mara.master@sunrise.example";
const DAY: i64 = 24 * 3600 * 1000;

/// A personal API token of Mara (Backlot admin of Sunrise), minted through the API.
async fn mara_token(app: &TestApp) -> (String, String) {
    let mara = app.signed_in(MARA).await;
    let (status, minted) = app.post(&mara, "/api/v1/tokens", json!({"name": "Checks"})).await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    (minted["token"].as_str().unwrap().to_string(), minted["id"].as_str().unwrap().to_string())
}

/// `POST {base}{path}` with a bearer token.
async fn bearer(base: &str, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the request reaches the server");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, json_body(path, status, &text))
}

/// May `user` manage sources in Backlot, asked of the instance at `base`?
/// `None` when the caller itself is refused (401).
async fn may_manage_sources(base: &str, token: &str, user: &str) -> Option<bool> {
    let (status, answer) = bearer(
        base,
        token,
        "/api/v1/check",
        json!({"user_id": user, "application": "backlot", "capability": "source-management"}),
    )
    .await;
    match status {
        StatusCode::OK => Some(answer["allowed"].as_bool().unwrap()),
        StatusCode::UNAUTHORIZED => None,
        other => panic!("the check answered {other}: {answer}"),
    }
}

fn ask(user: &str, application: &str, capability: &str, production: Option<i64>) -> Value {
    let mut check = json!({"user_id": user, "application": application, "capability": capability});
    if let Some(p) = production {
        check["production"] = json!(p);
    }
    check
}

app_test!(a_batch_answers_each_check_as_the_single_check_does, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    app.grant(&w.plain, "production-academy", "academy-user", Some(HOME_THEATER)).await;
    let ended = app.grant(&w.master_only, "production-academy", "academy-user", Some(HOME_THEATER)).await;
    expire_grant(&app, &ended).await;
    let deactivated = app.member(Some(&w.sunrise), "dana.gone@sunrise.example").await;
    app.grant(&deactivated, "backlot", "content-partner-operations", None).await;
    let (token, _) = mara_token(&app).await;
    let mara = app.signed_in(MARA).await;
    let (status, _) = app.post(&mara, &format!("/api/v1/users/{deactivated}/deactivation"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let people = [&w.backlot_admin, &w.master_only, &w.plain, &w.academy_admin, &deactivated];
    let questions = [
        ("backlot", "source-management", None),
        ("backlot", "create-users", None),
        ("production-academy", "e-learning", Some(HOME_THEATER)),
        ("production-academy", "e-learning", Some(123)),
    ];
    let mut checks = Vec::new();
    for person in people {
        for (application, capability, production) in questions {
            checks.push(ask(person, application, capability, production));
        }
    }
    let mut single = Vec::new();
    for check in &checks {
        let (status, answer) = bearer(&app.base, &token, "/api/v1/check", check.clone()).await;
        assert_eq!(status, StatusCode::OK, "{check}: {answer}");
        single.push(answer["allowed"].as_bool().unwrap());
    }
    assert!(single.iter().any(|a| *a) && single.iter().any(|a| !*a), "a mix of answers: {single:?}");
    let (status, batch) = bearer(&app.base, &token, "/api/v1/check/batch", json!({"checks": checks})).await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    let batch: Vec<bool> =
        batch["results"].as_array().unwrap().iter().map(|r| r["allowed"].as_bool().unwrap()).collect();
    assert_eq!(batch, single);
    // The expired grant and the deactivated person's role do not count.
    assert_eq!(&single[4..8], &[true, true, false, false], "Morgan: Backlot master, the academy grant ended");
    assert_eq!(&single[16..20], &[false, false, false, false], "the deactivated person");
});

app_test!(a_batch_refuses_what_the_single_check_refuses, |app| async move {
    let w = world(&app).await;
    let (token, _) = mara_token(&app).await;
    let base = &app.base;
    let (status, answer) = bearer(base, &token, "/api/v1/check/batch", json!({"checks": []})).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"results": []})));

    let over: Vec<Value> = (0..1001).map(|_| ask(&w.plain, "backlot", "source-management", None)).collect();
    let (status, answer) = bearer(base, &token, "/api/v1/check/batch", json!({"checks": over})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(answer.to_string().contains("at most 1000"), "{answer}");
    let full: Vec<Value> = (0..1000).map(|_| ask(&w.plain, "backlot", "source-management", None)).collect();
    let (status, answer) = bearer(base, &token, "/api/v1/check/batch", json!({"checks": full})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["results"].as_array().unwrap().len(), 1000);

    let wrong = json!({"checks": [ask(&w.plain, "backlot", "source-management", None), ask(&w.plain, "backlot", "flying", None)]});
    let (status, answer) = bearer(base, &token, "/api/v1/check/batch", wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.to_string().contains("checks[1].capability"), "names the check: {answer}");

    let foreign = json!({"checks": [ask(&w.plain, "backlot", "source-management", None), ask(&w.outsider, "backlot", "source-management", None)]});
    let (status, _) = bearer(base, &token, "/api/v1/check/batch", foreign).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another partner's person, as the single check answers");
    let nobody = json!({"checks": [ask("no-such-user", "backlot", "source-management", None)]});
    let (status, _) = bearer(base, &token, "/api/v1/check/batch", nobody).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bearer(base, "not-a-token", "/api/v1/check/batch", json!({"checks": []})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

app_test!(a_grant_revoked_on_one_instance_is_refused_by_the_next_check_on_another, |app| async move {
    let w = world(&app).await;
    let grant = app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let (token, _) = mara_token(&app).await;
    let (second, stop) = app.second_instance().await;
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(true));
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(true), "answered from the cache");
    let mara = app.signed_in(MARA).await;
    let (status, _) = app.delete(&mara, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(false));
    // And granted again: allowed at once.
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(true));
    let _ = stop.send(());
});

app_test!(a_person_deactivated_on_one_instance_is_refused_by_the_next_check_on_another, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let (token, _) = mara_token(&app).await;
    let (second, stop) = app.second_instance().await;
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(true));
    let mara = app.signed_in(MARA).await;
    let (status, _) = app.post(&mara, &format!("/api/v1/users/{}/deactivation", w.plain), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(false));
    let (status, _) = app.delete(&mara, &format!("/api/v1/users/{}/deactivation", w.plain)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(true), "reactivated");
    let _ = stop.send(());
});

app_test!(a_caller_deactivated_or_whose_token_is_revoked_is_refused_by_the_next_check_on_another, |app| async move {
    let w = world(&app).await;
    let (token, token_id) = mara_token(&app).await;
    let (second, stop) = app.second_instance().await;
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(false));
    let mara = app.signed_in(MARA).await;
    let (status, _) = app.delete(&mara, &format!("/api/v1/tokens/{token_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, None, "the revoked token");

    let (other_token, _) = mara_token(&app).await;
    assert_eq!(may_manage_sources(&second, &other_token, &w.plain).await, Some(false));
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, _) = app.post(&operator, &format!("/api/v1/users/{}/deactivation", w.backlot_admin), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(may_manage_sources(&second, &other_token, &w.plain).await, None, "the deactivated caller");
    let _ = stop.send(());
});

app_test!(a_session_ended_on_one_instance_no_longer_checks_on_another, |app| async move {
    let w = world(&app).await;
    let (second, stop) = app.second_instance().await;
    let cookie = app
        .client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": MARA, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let check = || {
        let cookie = cookie.clone();
        let (second, plain) = (second.clone(), w.plain.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{second}/api/v1/check"))
                .header("cookie", cookie)
                .json(&ask(&plain, "backlot", "source-management", None))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(check().await, StatusCode::OK);
    app.client().delete(app.url("/api/v1/session")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(check().await, StatusCode::UNAUTHORIZED);
    let _ = stop.send(());
});

app_test!(the_expiry_sweep_on_one_instance_is_seen_by_the_next_check_on_another, |app| async move {
    let w = world(&app).await;
    let (token, _) = mara_token(&app).await;
    let mara = app.signed_in(MARA).await;
    let end = starship_core::time_fmt::rfc3339_from_millis(now_millis() + 30 * DAY);
    let body = json!({"user_ids": [w.plain], "roles": [{"application": "backlot", "role": "content-partner-operations", "expires_at": end}]});
    let (status, _) = app.post(&mara, "/api/v1/grants", body).await;
    assert_eq!(status, StatusCode::OK);
    let (second, stop) = app.second_instance().await;
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(true));
    // The sweep runs as if 31 days had passed: the grant is removed now.
    let swept =
        sweep_once(&app.store, &app.state.catalogue, &SweepConfig::new(), now_millis() + 31 * DAY).await.unwrap();
    assert_eq!(swept.removed, 1);
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(false));
    let _ = stop.send(());
});

app_test!(a_grant_or_a_token_that_ends_by_time_stops_counting_without_any_write, |app| async move {
    let w = world(&app).await;
    let grant = app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let (token, _) = mara_token(&app).await;
    // Room for a slow machine between setting the ends and the first checks.
    let soon = now_millis() + 3_000;
    starship_store::sqlx::query("UPDATE grants SET expires_at = $1 WHERE id = $2")
        .bind(soon)
        .bind(&grant)
        .execute(app.store.pool())
        .await
        .unwrap();
    let mut conn = app.store.conn().await.unwrap();
    starship_store::sessions::insert_api_token(
        &mut conn,
        &UserId::from(w.backlot_admin.as_str()),
        "Short",
        &starship_server::security::secret_hash("short-lived"),
        soon,
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(may_manage_sources(&app.base, &token, &w.plain).await, Some(true));
    assert_eq!(may_manage_sources(&app.base, "short-lived", &w.plain).await, Some(true));
    let at_start = generation(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis((soon - now_millis()).max(0) as u64 + 50)).await;
    assert_eq!(may_manage_sources(&app.base, &token, &w.plain).await, Some(false), "the grant ended");
    assert_eq!(may_manage_sources(&app.base, "short-lived", &w.plain).await, None, "the token ended");
    assert_eq!(generation(&app).await, at_start, "nothing was written in between");
});

/// The store's access generation.
async fn generation(app: &TestApp) -> i64 {
    let mut conn = app.store.conn().await.unwrap();
    starship_store::access::generation(&mut conn).await.unwrap()
}

app_test!(every_write_that_changes_what_a_check_reads_moves_the_generation, |app| async move {
    let w = world(&app).await;
    let grant = app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let (token, _) = mara_token(&app).await;
    // Answering checks and noting a token's use write nothing that counts.
    let before = generation(&app).await;
    for _ in 0..3 {
        may_manage_sources(&app.base, &token, &w.plain).await;
    }
    starship_store::sqlx::query("UPDATE api_tokens SET last_used_at = 1").execute(app.store.pool()).await.unwrap();
    assert_eq!(generation(&app).await, before, "a check is answered without moving the generation");

    // Straight SQL, as any tool or future code path would write.
    let writes = [
        "UPDATE grants SET expires_at = 99999999999999 WHERE id = $1",
        "UPDATE grants SET expiry_reminded_at = 1 WHERE id = $1",
        "DELETE FROM grants WHERE id = $1",
        "UPDATE users SET partner_id = (SELECT id FROM partners WHERE name = 'Northwind Media') WHERE id = $1",
        "UPDATE users SET status = 'pending' WHERE id = $1",
        "UPDATE users SET deactivated_at = 1 WHERE id = $1",
        "UPDATE users SET operator = 1, partner_id = NULL WHERE id = $1",
        "UPDATE users SET first_name = 'Patricia' WHERE id = $1",
        "DELETE FROM admin_privileges WHERE user_id = $1",
        "UPDATE api_tokens SET revoked_at = 1 WHERE user_id = $1",
        "UPDATE api_tokens SET expires_at = 1 WHERE user_id = $1",
        "DELETE FROM sessions WHERE user_id = $1",
    ];
    let moves = [true, false, true, true, true, true, true, false, true, true, true, true];
    let subject = |sql: &str| {
        if sql.contains("grants") {
            grant.clone()
        } else if sql.contains("users") {
            w.plain.clone()
        } else {
            w.backlot_admin.clone()
        }
    };
    for (sql, moves) in writes.iter().zip(moves) {
        let before = generation(&app).await;
        starship_store::sqlx::query(sql).bind(subject(sql)).execute(app.store.pool()).await.unwrap();
        assert_eq!(generation(&app).await > before, moves, "{sql}");
    }
    let before = generation(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    assert!(generation(&app).await > before, "a new grant");
    let before = generation(&app).await;
    app.admin(&w.plain, "backlot", None).await;
    assert!(generation(&app).await > before, "a new admin privilege");
});

app_test!(an_access_review_closed_on_one_instance_is_seen_by_the_next_check_on_another, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let (token, _) = mara_token(&app).await;
    let mara = app.signed_in(MARA).await;
    let due_at = now_millis() + DAY;
    let due = starship_core::time_fmt::rfc3339_from_millis(due_at);
    let (status, review) =
        app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    let (second, stop) = app.second_instance().await;
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(true));
    // Nobody kept Pat's grant: closing revokes it.
    assert_eq!(starship_server::ops::reviews::close_due(&app.store, due_at).await.unwrap(), 1);
    assert_eq!(may_manage_sources(&second, &token, &w.plain).await, Some(false));
    let _ = stop.send(());
});
