use reqwest::StatusCode;
use serde_json::json;
use starship_core::ids::UserId;

use crate::support::*;

app_test!(signing_in_sets_an_http_only_strict_cookie_and_me_answers, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let client = app.client();
    let response = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "ANA.Lopez@Sunrise.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.starts_with("starship_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");

    let (status, me) = app.get(&client, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "ana.lopez@sunrise.example");
    assert_eq!(me["partner"]["name"], "Sunrise Studios");

    let (status, _) = app.delete(&client, "/api/v1/session").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = app.get(&client, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["status"], 401);
    // The browser drops the cookie on signing out; a copy taken before (a
    // stolen cookie) must be refused too, so the session ends on the server.
    let copy = cookie.split(';').next().unwrap();
    let response = app.client().get(app.url("/api/v1/me")).header("cookie", copy).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "the session ended on the server");
});

app_test!(unknown_email_and_wrong_password_get_the_same_answer, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let client = app.client();
    let (wrong_status, wrong) = app
        .post(&client, "/api/v1/session", json!({"email": "ana.lopez@sunrise.example", "password": "not the password"}))
        .await;
    let (unknown_status, unknown) = app
        .post(&client, "/api/v1/session", json!({"email": "nobody@sunrise.example", "password": "not the password"}))
        .await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_status, unknown_status);
    assert_eq!(wrong, unknown);
});

app_test!(repeated_failures_throttle_the_account_even_with_the_right_password, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let client = app.client();
    for _ in 0..5 {
        let (status, _) = app
            .post(
                &client,
                "/api/v1/session",
                json!({"email": "ana.lopez@sunrise.example", "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "ana.lopez@sunrise.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_some());
});

app_test!(an_api_token_works_as_a_bearer_and_is_stored_hashed, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let client = app.signed_in("ana.lopez@sunrise.example").await;
    let (status, created) = app.post(&client, "/api/v1/tokens", json!({"name": "CI"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = created["token"].as_str().unwrap().to_string();

    let bare = app.client();
    let response = bare.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = bare.get(app.url("/api/v1/me")).bearer_auth("sst_not-a-token").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    use starship_store::sqlx::Row;
    let stored: String = starship_store::sqlx::query("SELECT token_hash FROM api_tokens")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .try_get("token_hash")
        .unwrap();
    assert_ne!(stored, token);
    assert!(!stored.contains(&token[4..]));
});

app_test!(malformed_json_unknown_fields_and_missing_content_type_are_4xx_problems, |app| async move {
    let client = app.client();
    let raw = |body: &'static str, content_type: &'static str| {
        client.post(app.url("/api/v1/session")).header("content-type", content_type).body(body).send()
    };
    let response = raw("{not json", "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let response = raw(r#"{"email":"a@b.example","password":"x","extra":1}"#, "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("extra"), "{problem}");
    let response = raw(r#"{"email":"a@b.example","password":"x"}"#, "text/plain").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = raw(r#"{"email":5,"password":"x"}"#, "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
});

app_test!(a_cookie_session_refuses_cross_site_writes, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let client = app.signed_in("ana.lopez@sunrise.example").await;
    let response = client
        .post(app.url("/api/v1/tokens"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("api_tokens").await, 0);
    let response = client
        .post(app.url("/api/v1/tokens"))
        .header("sec-fetch-site", "same-origin")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "the same write from the same origin");
    assert_eq!(app.count("api_tokens").await, 1);
});

app_test!(health_answers_when_the_store_does, |app| async move {
    let response = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");
});

app_test!(health_answers_503_when_the_store_does_not, |app| async move {
    // The server shares this pool: closed, every query fails at once, as
    // with a database that is gone.
    app.store.close().await;
    let response = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503, "{problem}");
});

async fn sign_in_status(app: &TestApp, email: &str, password: &str, totp: Option<&str>) -> StatusCode {
    let mut body = json!({"email": email, "password": password});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    app.client().post(app.url("/api/v1/session")).json(&body).send().await.unwrap().status()
}

async fn failed_sign_ins_in_history(app: &TestApp, user_id: &str) -> usize {
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, history) = app.get(&operator, &format!("/api/v1/users/{user_id}/history?limit=500")).await;
    history.as_array().map_or(0, |entries| entries.iter().filter(|e| e["action"] == "sign-in.failed").count())
}

app_test!(a_concurrent_burst_of_wrong_passwords_evaluates_at_most_the_limit, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    let ana = app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    app.member(None, "olivia.operator@starship.example").await;
    // Only wrong guesses in the burst: a right password inside it could be
    // checked early and, succeeding, clear the count for the rest, so the
    // bound would hold only by timing.
    let mut burst = Vec::new();
    for i in 0..30 {
        let app = app.clone();
        let password = format!("wrong guess {i}");
        burst.push(tokio::spawn(
            async move { sign_in_status(&app, "ana.lopez@sunrise.example", &password, None).await },
        ));
    }
    let mut answers = Vec::new();
    for request in burst {
        answers.push(request.await.unwrap());
    }
    let evaluated = answers.iter().filter(|s| **s != StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(evaluated, 5, "exactly five of the burst were checked: {answers:?}");
    assert!(answers.iter().all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)));
    assert_eq!(failed_sign_ins_in_history(&app, &ana).await, 5);
    // The right password after the burst is refused too: the lock holds for it.
    let right = sign_in_status(&app, "ana.lopez@sunrise.example", PASSWORD, None).await;
    assert_eq!(right, StatusCode::TOO_MANY_REQUESTS, "the right password does not get past the lock");
});

app_test!(a_concurrent_burst_of_wrong_codes_evaluates_at_most_the_limit, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    let ana = app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    app.member(None, "olivia.operator@starship.example").await;
    let mut conn = app.store.conn().await.unwrap();
    starship_store::mfa::begin_enrolment(&mut conn, &UserId::from(ana.as_str()), "JBSWY3DPEHPK3PXP").await.unwrap();
    starship_store::mfa::enable(&mut conn, &UserId::from(ana.as_str())).await.unwrap();
    drop(conn);
    let mut burst = Vec::new();
    for i in 0..30 {
        let app = app.clone();
        let code = format!("{:06}", 100_000 + i);
        burst.push(tokio::spawn(async move {
            sign_in_status(&app, "ana.lopez@sunrise.example", PASSWORD, Some(&code)).await
        }));
    }
    let mut evaluated = 0;
    for request in burst {
        if request.await.unwrap() != StatusCode::TOO_MANY_REQUESTS {
            evaluated += 1;
        }
    }
    assert!(evaluated <= 5, "{evaluated} codes were checked");
    assert!(failed_sign_ins_in_history(&app, &ana).await <= 5);
});

app_test!(other_accounts_failing_from_one_address_never_refuse_an_account_that_signed_in_there, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    app.member(Some(&partner), "ben.ng@sunrise.example").await;
    assert_eq!(sign_in_status(&app, "ana.lopez@sunrise.example", PASSWORD, None).await, StatusCode::OK);
    // One person behind the company's NAT tries many addresses.
    let limit = app.state.config.sign_in_address_limit;
    let mut answers = Vec::new();
    for i in 0..limit + 3 {
        answers.push(sign_in_status(&app, &format!("nobody{i}@sunrise.example"), "wrong password", None).await);
    }
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count() as i64, limit);
    assert_eq!(answers.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "the address's volume limit holds");
    assert_eq!(
        sign_in_status(&app, "ana.lopez@sunrise.example", PASSWORD, None).await,
        StatusCode::OK,
        "an account that signed in from this address before is not refused for others' failures"
    );
    assert_eq!(
        sign_in_status(&app, "ben.ng@sunrise.example", PASSWORD, None).await,
        StatusCode::TOO_MANY_REQUESTS,
        "an account new to the address waits with it"
    );
});

app_test!(changing_the_password_takes_the_current_one_and_can_end_other_sessions_and_tokens, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let here = app.signed_in("ana.lopez@sunrise.example").await;
    let elsewhere = app.signed_in("ana.lopez@sunrise.example").await;
    let (_, token) = app.post(&here, "/api/v1/tokens", json!({"name": "cron"})).await;
    let token = token["token"].as_str().unwrap().to_string();
    let with_token = |path: &str| app.client().get(app.url(path)).bearer_auth(&token).send();

    let (status, problem) = app
        .post(
            &here,
            "/api/v1/me/password",
            json!({"current_password": "not my password", "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let (status, _) =
        app.post(&here, "/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": "short"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "twelve characters at least");
    assert_eq!(sign_in_status(&app, "ana.lopez@sunrise.example", PASSWORD, None).await, StatusCode::OK, "unchanged");

    let (status, ended) = app
        .post(
            &here,
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase", "end_other_sessions": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["tokens_ended"], 1);
    assert!(ended["sessions_ended"].as_u64().unwrap() >= 1);
    assert_eq!(app.get(&here, "/api/v1/me").await.0, StatusCode::OK, "this session stays");
    assert_eq!(app.get(&elsewhere, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "the other session ended");
    assert_eq!(with_token("/api/v1/me").await.unwrap().status(), StatusCode::UNAUTHORIZED, "the token ended");
    assert_eq!(sign_in_status(&app, "ana.lopez@sunrise.example", PASSWORD, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in_status(&app, "ana.lopez@sunrise.example", "a brand new passphrase", None).await, StatusCode::OK);
});

app_test!(a_token_cannot_change_the_password_and_guesses_are_throttled, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let session = app.signed_in("ana.lopez@sunrise.example").await;
    let (_, token) = app.post(&session, "/api/v1/tokens", json!({})).await;
    let response = app
        .client()
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(token["token"].as_str().unwrap())
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut answers = Vec::new();
    for i in 0..6 {
        let body = json!({"current_password": format!("guess number {i}"), "new_password": "a brand new passphrase"});
        answers.push(app.post(&session, "/api/v1/me/password", body).await.0);
    }
    assert_eq!(answers[..5], [StatusCode::UNPROCESSABLE_ENTITY; 5]);
    assert_eq!(answers[5], StatusCode::TOO_MANY_REQUESTS, "a stolen session cannot guess the password");
});
