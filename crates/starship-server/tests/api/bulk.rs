//! Bulk add: every bad row reported with its reason; all or nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn row(email: &str, locale: &str, first: &str, last: &str) -> serde_json::Value {
    json!({"email": email, "locale": locale, "first_name": first, "last_name": last})
}

app_test!(a_dry_run_reports_every_kind_of_bad_row_and_writes_nothing, |app| async move {
    world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let rows = json!([
        row("good.one@sunrise.example", "en-US", "Good", "One"),
        row("not-an-email", "en-US", "Bad", "Email"),
        row("good.one@SUNRISE.example", "en-US", "Dup", "Licate"),
        row("pat.plain@sunrise.example", "en-US", "Already", "There"),
        row("no.locale@sunrise.example", "klingon", "No", "Locale"),
        row("no.name@sunrise.example", "en-US", " ", "Name"),
        row("good.two@sunrise.example", "ja_jp", "Good", "Two"),
    ]);
    let users_before = app.count("users").await;
    let (status, report) = app.post(&admin, "/api/v1/users/bulk", json!({"rows": rows, "dry_run": true})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["valid"], 2);
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        errors,
        [(2, "email".into()), (3, "email".into()), (4, "email".into()), (5, "locale".into()), (6, "first_name".into())]
    );
    assert!(report["errors"][1]["reason"].as_str().unwrap().contains("duplicates row 1"));
    assert!(report["errors"][2]["reason"].as_str().unwrap().contains("already exists"));
    assert_eq!(app.count("users").await, users_before);

    let (status, problem) = app.post(&admin, "/api/v1/users/bulk", json!({"rows": rows, "dry_run": false})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 5);
    assert_eq!(app.count("users").await, users_before, "with any bad row nothing is written");
    assert_eq!(app.count("outbox").await, 0);
});

app_test!(a_clean_batch_creates_every_user_with_history_and_a_welcome_email, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let rows: Vec<_> =
        (0..250).map(|i| row(&format!("crew.{i}@sunrise.example"), "en-GB", "Crew", &format!("Member{i}"))).collect();
    let (status, result) = app.post(&admin, "/api/v1/users/bulk", json!({"rows": rows})).await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    assert_eq!(result["created"].as_array().unwrap().len(), 250);
    let created_id = result["created"][0]["id"].as_str().unwrap().to_string();
    let (_, profile) = app.get(&admin, &format!("/api/v1/users/{created_id}")).await;
    assert_eq!(profile["partner"]["id"], w.sunrise.as_str());
    assert_eq!(profile["status"], "pending");
    assert_eq!(app.count("outbox").await, 250);
    let (_, history) = app.get(&admin, &format!("/api/v1/users/{created_id}/history")).await;
    assert_eq!(history[0]["action"], "user.created");
    assert_eq!(history[0]["actor"], "mara.master@sunrise.example");

    let plain = app.signed_in("pat.plain@sunrise.example").await;
    let (status, _) =
        app.post(&plain, "/api/v1/users/bulk", json!({"rows": [row("z@sunrise.example", "en-US", "Z", "Z")]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.post(&admin, "/api/v1/users/bulk", json!({"rows": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

app_test!(an_oversized_body_is_refused_with_413, |app| async move {
    world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let response = admin
        .post(app.url("/api/v1/users"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"email":"{huge}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
});

app_test!(bulk_add_takes_bodies_over_one_mebibyte_and_refuses_over_thirty_two, |app| async move {
    world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    // Over the 1 MiB every other operation takes: a dry run of 12,000 rows.
    let rows: Vec<_> = (0..12_000)
        .map(|i| row(&format!("crew.member.number.{i}@sunrise.example"), "en-GB", "Crew", &format!("Member{i}")))
        .collect();
    let body = serde_json::to_vec(&json!({"rows": rows, "dry_run": true})).unwrap();
    assert!(body.len() > starship_server::BODY_LIMIT, "{} bytes", body.len());
    let response = admin
        .post(app.url("/api/v1/users/bulk"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(report["valid"], 12_000);

    // Over the bulk limit of 32 MiB: refused before it is parsed.
    let users_before = app.count("users").await;
    let padding = "x".repeat(starship_server::api::BULK_BODY_LIMIT + 1);
    let response = admin
        .post(app.url("/api/v1/users/bulk"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"rows": [], "partner_id": "{padding}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 413);
    assert_eq!(app.count("users").await, users_before);
});
