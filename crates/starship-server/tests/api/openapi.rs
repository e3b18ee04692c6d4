use reqwest::StatusCode;

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
