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

const ACCEPTED: u16 = 202;

/// What the person acted on holds before the request: each cell acts on a
/// fresh person holding exactly this, so no earlier cell changes a later one.
#[derive(Clone, Copy)]
enum Holds {
    Nothing,
    ContentPartnerOperations,
    BacklotAdmin,
    AcademyAdminOfHomeTheater,
}

/// Expected status per action and target, in the order of `ACTORS`.
const TABLE: [(&str, Holds, [u16; 6]); 14] = [
    ("create a Sunrise user", Holds::Nothing, [CREATED, CREATED, FORBIDDEN, CREATED, FORBIDDEN, NOT_FOUND]),
    ("grant Content Partner Operations", Holds::Nothing, [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("grant Academy User on 70030433", Holds::Nothing, [OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("grant Backlot admin privileges", Holds::Nothing, [CREATED, CREATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    (
        "grant Academy admin for 70030433",
        Holds::Nothing,
        [CREATED, FORBIDDEN, CREATED, FORBIDDEN, FORBIDDEN, NOT_FOUND],
    ),
    ("read the target's History", Holds::Nothing, [OK, OK, OK, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("open the Backlot Applications tab", Holds::Nothing, [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK]),
    ("open the target's profile", Holds::Nothing, [OK, OK, OK, OK, OK, NOT_FOUND]),
    ("check the target's access", Holds::Nothing, [OK, OK, OK, OK, OK, NOT_FOUND]),
    ("edit the target's name", Holds::Nothing, [OK, OK, FORBIDDEN, OK, FORBIDDEN, NOT_FOUND]),
    // The rule for acting on a person: a Master without admin privileges
    // may edit only people holding nothing they could not have given.
    ("edit the target's name", Holds::ContentPartnerOperations, [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    ("edit the target's name", Holds::BacklotAdmin, [OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND]),
    (
        "edit the target's name",
        Holds::AcademyAdminOfHomeTheater,
        [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND],
    ),
    (
        "change the target's email",
        Holds::AcademyAdminOfHomeTheater,
        [ACCEPTED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND],
    ),
];

app_test!(every_actor_kind_against_every_action, |app| async move {
    let w = world(&app).await;
    let mut failures = Vec::new();
    for (column, (actor, email)) in ACTORS.iter().enumerate() {
        let client = app.signed_in(email).await;
        for (row, (action, holds, expected)) in TABLE.into_iter().enumerate() {
            let target = app.member(Some(&w.sunrise), &format!("terry.target{row}x{column}@sunrise.example")).await;
            match holds {
                Holds::Nothing => {}
                Holds::ContentPartnerOperations => {
                    app.grant(&target, "backlot", "content-partner-operations", None).await;
                }
                Holds::BacklotAdmin => {
                    app.admin(&target, "backlot", None).await;
                }
                Holds::AcademyAdminOfHomeTheater => {
                    app.admin(&target, "production-academy", Some(HOME_THEATER)).await;
                }
            }
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
                "change the target's email" => {
                    app.post(&client, &format!("/api/v1/users/{target}/email-change"), json!({"email": format!("moved{row}x{column}@elsewhere.example")})).await
                }
                other => unreachable!("no request for {other}"),
            };
            if status.as_u16() != expected[column] {
                failures.push(format!(
                    "{actor} / {action} (target {row}): expected {}, got {status} {body}",
                    expected[column]
                ));
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
