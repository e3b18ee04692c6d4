use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

app_test!(operators_create_partners_and_productions_and_partner_users_cannot, |app| async move {
    let w = world(&app).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, partner) =
        app.post(&operator, "/api/v1/partners", json!({"name": "Metro Fiber", "kind": "network"})).await;
    assert_eq!(status, StatusCode::CREATED, "{partner}");
    assert_eq!(partner["kind"], "network");
    let (status, _) = app.post(&operator, "/api/v1/partners", json!({"name": "metro fiber", "kind": "network"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, problem) = app.post(&operator, "/api/v1/partners", json!({"name": " ", "kind": "studio"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
    let (status, production) =
        app.post(&operator, "/api/v1/productions", json!({"id": 81234567, "title": "Night Shift"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(production["label"], "Night Shift (81234567)");

    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.post(&admin, "/api/v1/partners", json!({"name": "Sneaky", "kind": "content"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.post(&admin, "/api/v1/productions", json!({"id": 5, "title": "Sneaky"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, mine) = app.get(&admin, "/api/v1/partners").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["id"], w.sunrise.as_str());
    let (_, all) = app.get(&operator, "/api/v1/partners").await;
    assert_eq!(all.as_array().unwrap().len(), 3);
});

app_test!(applications_list_the_catalogue_with_roles_scopes_and_schema, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let client = app.signed_in("ana.lopez@sunrise.example").await;
    let (status, apps) = app.get(&client, "/api/v1/applications").await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<&str> = apps.as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["backlot", "production-academy", "partner-portal", "content-hub"]);
    let academy = &apps[1];
    assert_eq!(academy["roles"][0]["key"], "academy-user");
    assert_eq!(academy["roles"][0]["scope"], "production");
    let courses = academy["metadata_schema"].as_array().unwrap().iter().find(|f| f["key"] == "courses").unwrap();
    assert_eq!(courses["options"].as_array().unwrap().len(), 9);
    let backlot = &apps[0];
    let master =
        backlot["roles"].as_array().unwrap().iter().find(|r| r["key"] == "master-content-partner-operations").unwrap();
    assert!(master["default_notifications"].as_array().unwrap().is_empty());
});
