use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

app_test!(the_openapi_document_lists_every_endpoint_of_the_contract, |app| async move {
    let (status, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/session", "post"),
        ("/api/v1/session", "delete"),
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{id}", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/partners", "get"),
        ("/api/v1/partners", "post"),
        ("/api/v1/applications", "get"),
        ("/api/v1/productions", "get"),
        ("/api/v1/productions", "post"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users/bulk", "post"),
        ("/api/v1/users/{id}", "get"),
        ("/api/v1/users/{id}", "patch"),
        ("/api/v1/grants", "post"),
        ("/api/v1/grants/{id}", "delete"),
        ("/api/v1/users/{id}/admin-privileges", "post"),
        ("/api/v1/users/{id}/admin-privileges/{pid}", "delete"),
        ("/api/v1/applications/{key}/users", "get"),
        ("/api/v1/users/{id}/history", "get"),
        ("/api/v1/invitations/accept", "post"),
        ("/api/v1/outbox", "get"),
        ("/api/v1/check", "post"),
        ("/api/v1/users/{id}/notifications", "get"),
        ("/api/v1/users/{id}/notifications", "put"),
        ("/api/v1/users/{id}/metadata/{application}", "get"),
        ("/api/v1/users/{id}/metadata/{application}", "put"),
        ("/api/v1/users/{id}/invitation", "post"),
        ("/api/v1/users/{id}/portal-access", "delete"),
        ("/api/v1/sites", "get"),
        ("/api/v1/sites", "post"),
        ("/api/v1/tickets", "get"),
        ("/api/v1/tickets/{id}/comments", "post"),
        ("/api/v1/appliances/{id}/drain", "post"),
        ("/api/v1/appliances/{id}/bgp", "put"),
        ("/api/v1/communications/{type}/recipients", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
});

app_test!(hostile_values_answer_a_described_4xx_and_change_nothing, |app| async move {
    world(&app).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    let sites_before = app.count("sites").await;
    for (method, template, url, body, expected) in [
        ("get", "/api/v1/users", "/api/v1/users?q=a%00", None, StatusCode::BAD_REQUEST),
        ("get", "/api/v1/contacts", "/api/v1/contacts?partner_id=%00", None, StatusCode::BAD_REQUEST),
        ("get", "/api/v1/users/{id}", "/api/v1/users/%00", None, StatusCode::NOT_FOUND),
        ("get", "/api/v1/tickets/{id}", "/api/v1/tickets/a%00b", None, StatusCode::NOT_FOUND),
        (
            "post",
            "/api/v1/session",
            "/api/v1/session",
            Some(json!({"email": "a\u{0}@b.example", "password": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "post",
            "/api/v1/grants",
            "/api/v1/grants",
            Some(json!({"user_ids": ["\u{0}"], "roles": [{"application": "backlot", "role": "x"}]})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "post",
            "/api/v1/sites",
            "/api/v1/sites",
            Some(json!({"name": "Depot", "location": "Oslo", "partner_id": "no-such-partner"})),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, problem) = app.call(&operator, &method.to_uppercase(), url, body).await;
        assert_eq!(status, expected, "{method} {url}: {problem}");
        assert_eq!(problem["status"], expected.as_u16(), "{method} {url} answers a problem: {problem}");
        let described = &doc["paths"][template][method]["responses"][expected.as_str()];
        assert!(described.is_object(), "{method} {template} does not describe {expected}");
    }
    assert_eq!(app.count("sites").await, sites_before);
});
