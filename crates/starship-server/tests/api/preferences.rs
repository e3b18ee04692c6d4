//! Seed 000's notification rule and seed 001's metadata step, through the API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn enabled(settings: &Value) -> Vec<String> {
    settings
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["enabled"] == true)
        .map(|s| s["type"].as_str().unwrap().to_string())
        .collect()
}

app_test!(master_only_gets_no_default_notifications_until_content_partner_operations_is_added, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let path = format!("/api/v1/users/{}/notifications", w.master_only);
    let (status, settings) = app.get(&admin, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings.as_array().unwrap().len(), 6, "every Backlot type is receivable");
    assert!(enabled(&settings).is_empty(), "Master only: no defaults: {settings}");

    // The user opts in to one type their role allows but does not default.
    let morgan = app.signed_in("morgan.master@sunrise.example").await;
    let (status, settings) = app
        .call(&morgan, "PUT", &path, Some(json!([{"application": "backlot", "type": "qc-report", "enabled": true}])))
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(enabled(&settings), ["qc-report"]);

    let (_, granted) = app.post(&admin, "/api/v1/grants", json!({"user_ids": [w.master_only], "roles": [{"application": "backlot", "role": "content-partner-operations"}]})).await;
    let (_, settings) = app.get(&morgan, &path).await;
    assert_eq!(enabled(&settings).len(), 6, "Content Partner Operations turns the defaults on");

    // Opting out of a default, then removing the role: the custom choices stay.
    app.call(
        &morgan,
        "PUT",
        &path,
        Some(json!([{"application": "backlot", "type": "source-request", "enabled": false}])),
    )
    .await;
    let grant_id = granted["granted"][0]["grant_id"].as_str().unwrap();
    app.delete(&admin, &format!("/api/v1/grants/{grant_id}")).await;
    let (_, settings) = app.get(&morgan, &path).await;
    assert_eq!(enabled(&settings), ["qc-report"]);
    let custom: Vec<&str> = settings
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "custom")
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(custom, ["source-request", "qc-report"]);

    // Back to the default.
    let (_, settings) = app
        .call(
            &morgan,
            "PUT",
            &path,
            Some(json!([{"application": "backlot", "type": "qc-report", "enabled": false, "source": "default"}])),
        )
        .await;
    assert!(enabled(&settings).is_empty());

    let (_, history) = app.get(&admin, &format!("/api/v1/users/{}/history", w.master_only)).await;
    assert!(history.as_array().unwrap().iter().any(|h| h["action"] == "notifications.changed"));
});

app_test!(types_of_applications_without_a_role_are_refused, |app| async move {
    let w = world(&app).await;
    let pat = app.signed_in("pat.plain@sunrise.example").await;
    let path = format!("/api/v1/users/{}/notifications", w.plain);
    let (_, settings) = app.get(&pat, &path).await;
    assert!(settings.as_array().unwrap().is_empty());
    let (status, problem) = app
        .call(&pat, "PUT", &path, Some(json!([{"application": "backlot", "type": "qc-report", "enabled": true}])))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    // The answer to a change is the person's settings: who may not read them
    // may not change them either, not even with an empty list of changes.
    let (status, answer) =
        app.call(&pat, "PUT", &format!("/api/v1/users/{}/notifications", w.master_only), Some(json!([]))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an empty change reads another person's settings: {answer}");
    assert!(answer.as_array().is_none(), "no settings in the refusal: {answer}");
    let (status, _) = app.get(&pat, &format!("/api/v1/users/{}/notifications", w.master_only)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another person's settings, to someone who is no admin");
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.get(&admin, &format!("/api/v1/users/{}/notifications", w.master_only)).await;
    assert_eq!(status, StatusCode::OK, "the same settings, to an admin of the partner");

    // With a Backlot role, the same choice the first refusal named is Pat's.
    app.grant(&w.plain, "backlot", "master-content-partner-operations", None).await;
    let (status, settings) = app
        .call(&pat, "PUT", &path, Some(json!([{"application": "backlot", "type": "qc-report", "enabled": true}])))
        .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    assert_eq!(enabled(&settings), ["qc-report"]);
});

app_test!(the_academy_admin_saves_metadata_and_the_learner_gets_the_academy_link, |app| async move {
    let w = world(&app).await;
    let academy = app.signed_in("alex.academy@sunrise.example").await;
    let path = format!("/api/v1/users/{}/metadata/production-academy", w.plain);
    let good = json!({"crew_department": "sound", "country": "fr", "courses": ["IMF101", "ECH_DL"]});
    let (status, problem) = app.call(&academy, "PUT", &path, Some(good.clone())).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no Academy User role yet: {problem}");

    app.post(&academy, "/api/v1/grants", json!({"user_ids": [w.plain], "roles": [{"application": "production-academy", "role": "academy-user", "production": HOME_THEATER}]})).await;
    let (status, problem) = app
        .call(
            &academy,
            "PUT",
            &path,
            Some(json!({"crew_department": "catering", "country": "Narnia", "courses": ["IMF999"], "shoe": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["shoe", "crew_department", "country", "courses"]);
    let (_, saved) = app.get(&academy, &path).await;
    assert!(saved["values"].as_object().unwrap().is_empty(), "nothing saved");

    let (status, saved) = app.call(&academy, "PUT", &path, Some(good)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["values"]["country"], "FR");
    let (_, read_back) = app.get(&app.signed_in("pat.plain@sunrise.example").await, &path).await;
    assert_eq!(read_back["values"]["courses"], json!(["IMF101", "ECH_DL"]));

    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox?recipient=pat.plain@sunrise.example").await;
    let mail = &outbox[0];
    assert_eq!(mail["kind"], "academy-courses");
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.contains("Welcome to IMF (IMF101)")
            && body.contains("External Content Hub - Collaborating on the Delivery List (ECH_DL)"),
        "{body}"
    );
    assert!(body.contains("https://academy.netflix.com"));

    let backlot_admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.get(&backlot_admin, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "Backlot admins do not read Academy metadata");
    let outsider = app.signed_in("nina.north@northwind.example").await;
    let (status, _) = app.get(&outsider, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, history) = app.get(&academy, &format!("/api/v1/users/{}/history", w.plain)).await;
    let saved = history.as_array().unwrap().iter().find(|h| h["action"] == "metadata.saved").expect("a History entry");
    assert_eq!(saved["actor"], "alex.academy@sunrise.example");
    assert_eq!(saved["details"]["to"]["crew_department"], "sound");
});

app_test!(a_notification_reaches_only_users_whose_settings_turn_it_on, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let body = json!({"application": "backlot", "type": "qc-report", "partner_id": w.sunrise, "subject": "QC report ready", "body": "Your report is ready."});
    let (status, sent) = app.post(&operator, "/api/v1/notifications", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["recipients"], 1, "the Master-only users get nothing; Pat has Content Partner Operations");
    let (_, outbox) = app.get(&operator, "/api/v1/outbox?recipient=pat.plain@sunrise.example").await;
    assert_eq!(outbox[0]["subject"], "QC report ready");
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.post(&admin, "/api/v1/notifications", body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});
