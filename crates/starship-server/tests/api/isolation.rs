//! A partner caller never reaches another partner's people or records:
//! every endpoint taking an id answers 404, and nothing changes.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

app_test!(another_partners_ids_answer_404_everywhere, |app| async move {
    let w = world(&app).await;
    let foreign_grant = app.grant(&w.outsider, "backlot", "content-partner-operations", None).await;
    let foreign_privilege = app.admin(&w.outsider, "production-academy", None).await;
    let u = &w.outsider;
    let attempts: Vec<(&str, String, Option<serde_json::Value>)> = vec![
        ("GET", format!("/api/v1/users/{u}"), None),
        ("PATCH", format!("/api/v1/users/{u}"), Some(json!({"first_name": "Hacked"}))),
        ("GET", format!("/api/v1/users/{u}/history"), None),
        ("POST", format!("/api/v1/users/{u}/admin-privileges"), Some(json!({"application": "backlot"}))),
        ("DELETE", format!("/api/v1/users/{u}/admin-privileges/{foreign_privilege}"), None),
        ("DELETE", format!("/api/v1/grants/{foreign_grant}"), None),
        (
            "POST",
            "/api/v1/grants".to_string(),
            Some(json!({"user_ids": [u], "roles": [{"application": "backlot", "role": "content-partner-operations"}]})),
        ),
        (
            "POST",
            "/api/v1/check".to_string(),
            Some(json!({"user_id": u, "application": "backlot", "capability": "source-management"})),
        ),
        (
            "POST",
            "/api/v1/users".to_string(),
            Some(
                json!({"email": "x@y.example", "first_name": "X", "last_name": "Y", "locale": "en-US", "partner_id": w.northwind}),
            ),
        ),
        ("GET", format!("/api/v1/applications/backlot/users?partner_id={}", w.northwind), None),
    ];
    let tables = ["users", "grants", "admin_privileges", "history", "outbox"];
    for email in ["mara.master@sunrise.example", "pat.plain@sunrise.example"] {
        let client = app.signed_in(email).await;
        let mut before = Vec::new();
        for t in tables {
            before.push(app.count(t).await);
        }
        for (method, path, body) in &attempts {
            let (status, problem) = app.call(&client, method, path, body.clone()).await;
            // The Applications tab refuses a plain user before looking at the partner.
            if email.starts_with("pat") && path.starts_with("/api/v1/applications") {
                assert_eq!(status, StatusCode::FORBIDDEN);
                continue;
            }
            assert_eq!(status, StatusCode::NOT_FOUND, "{email}: {method} {path} answered {status} {problem}");
            assert_eq!(problem["title"], "Not found", "no hint of existence: {problem}");
        }
        let mut after = Vec::new();
        for t in tables {
            // Signing in writes its own History entry; nothing else may change.
            after.push(app.count(t).await);
        }
        assert_eq!(before, after, "{email}: nothing changed");
    }
    // And an id that exists nowhere answers the same.
    let client = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.get(&client, "/api/v1/users/no-such-user").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});
