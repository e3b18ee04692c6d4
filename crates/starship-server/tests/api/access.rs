//! The access rules as a table: every actor kind × every action, through
//! the API, on both stores.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

const OK: u16 = 200;
const CREATED: u16 = 201;
const FORBIDDEN: u16 = 403;
const NOT_FOUND: u16 = 404;

const ACTORS: [(&str, &str); 6] = [
    ("operator", "olivia.operator@starship.example"),
    ("backlot admin", "mara.master@sunrise.example"),
    ("production admin", "alex.academy@sunrise.example"),
    ("master without admin", "morgan.master@sunrise.example"),
    ("plain user", "pat.plain@sunrise.example"),
    ("other partner's admin", "nina.north@northwind.example"),
];

/// Expected status per action, in the order of `ACTORS`.
const TABLE: [(&str, [u16; 6]); 10] = [
    ("create a Sunrise user", [CREATED, CREATED, FORBIDDEN, CREATED, FORBIDDEN, NOT_FOUND]),
    ("grant Content Partner Operations", [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("grant Academy User on 70030433", [OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("grant Backlot admin privileges", [CREATED, CREATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("grant Academy admin for 70030433", [CREATED, FORBIDDEN, CREATED, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("read the target's History", [OK, OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("open the Backlot Applications tab", [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK]),
    ("open the target's profile", [OK, OK, OK, OK, OK, NOT_FOUND]),
    ("check the target's access", [OK, OK, OK, OK, OK, NOT_FOUND]),
    ("edit the target's name", [OK, OK, FORBIDDEN, OK, FORBIDDEN, NOT_FOUND]),
];

app_test!(every_actor_kind_against_every_action, |app| async move {
    let w = world(&app).await;
    let target = app.member(Some(&w.sunrise), "terry.target@sunrise.example").await;
    let mut failures = Vec::new();
    for (column, (actor, email)) in ACTORS.iter().enumerate() {
        let client = app.signed_in(email).await;
        for (action, expected) in TABLE {
            let (status, body) = match action {
                "create a Sunrise user" => {
                    let mut body = json!({"email": format!("new.{column}@sunrise.example"), "first_name": "New", "last_name": "Person", "locale": "en-US"});
                    // Operators must name the partner; the outsider names Sunrise to try to get in.
                    if *actor == "operator" || *actor == "other partner's admin" {
                        body["partner_id"] = json!(w.sunrise);
                    }
                    app.post(&client, "/api/v1/users", body).await
                }
                "grant Content Partner Operations" => {
                    app.post(&client, "/api/v1/grants", json!({"user_ids": [target], "roles": [{"application": "backlot", "role": "content-partner-operations"}]})).await
                }
                "grant Academy User on 70030433" => {
                    app.post(&client, "/api/v1/grants", json!({"user_ids": [target], "roles": [{"application": "production-academy", "role": "academy-user", "production": HOME_THEATER}]})).await
                }
                "grant Backlot admin privileges" => {
                    app.post(&client, &format!("/api/v1/users/{target}/admin-privileges"), json!({"application": "backlot"})).await
                }
                "grant Academy admin for 70030433" => {
                    app.post(&client, &format!("/api/v1/users/{target}/admin-privileges"), json!({"application": "production-academy", "production": HOME_THEATER})).await
                }
                "read the target's History" => app.get(&client, &format!("/api/v1/users/{target}/history")).await,
                "open the Backlot Applications tab" => {
                    let path = if *actor == "operator" { format!("/api/v1/applications/backlot/users?partner_id={}", w.sunrise) } else { "/api/v1/applications/backlot/users".to_string() };
                    app.get(&client, &path).await
                }
                "open the target's profile" => app.get(&client, &format!("/api/v1/users/{target}")).await,
                "check the target's access" => {
                    app.post(&client, "/api/v1/check", json!({"user_id": target, "application": "backlot", "capability": "source-management"})).await
                }
                "edit the target's name" => app.call(&client, "PATCH", &format!("/api/v1/users/{target}"), Some(json!({"last_name": format!("Edited{column}")}))).await,
                other => unreachable!("no request for {other}"),
            };
            if status.as_u16() != expected[column] {
                failures.push(format!("{actor} / {action}: expected {}, got {status} {body}", expected[column]));
            }
        }
    }
    assert!(failures.is_empty(), "{} cells differ:\n{}", failures.len(), failures.join("\n"));
});

app_test!(a_refused_or_foreign_request_changes_nothing, |app| async move {
    let w = world(&app).await;
    let outsider = app.signed_in("nina.north@northwind.example").await;
    let tables = ["users", "grants", "admin_privileges", "history", "outbox"];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }
    let (status, _) = app.post(&outsider, "/api/v1/grants", json!({"user_ids": [w.outsider, w.plain], "roles": [{"application": "backlot", "role": "content-partner-operations"}]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "one foreign user in the list fails the whole grant");
    let mut after = Vec::new();
    for t in tables {
        after.push(app.count(t).await);
    }
    assert_eq!(before, after);
});
