//! Hostile and concurrent use: ids of another partner on every endpoint
//! of the OpenAPI document, escalation attempts, races, fixation.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::portal::portal_world;
use crate::support::*;

// Every path of the OpenAPI document that takes an id, called with ids of
// another partner's records, by every method the document lists: 404, and
// nothing changes.
app_test!(every_endpoint_taking_an_id_hides_another_partners_records, |app| async move {
    let p = portal_world(&app).await;
    let foreign_grant = app.grant(&p.read_only, "backlot", "content-partner-operations", None).await;
    app.production(70030433, "Home Theater Demo - MID").await;
    let foreign_privilege = app.admin(&p.read_only, "backlot", None).await;
    let foreign_token = {
        let mut conn = app.store.conn().await.unwrap();
        let expires_at = starship_store::now_millis() + 86_400_000;
        starship_store::sessions::insert_api_token(&mut conn, &p.read_only, "Monitoring", "foreign-hash", expires_at)
            .await
            .unwrap()
            .id
    };
    let ids: HashMap<&str, String> = HashMap::from([
        ("tokens", foreign_token),
        ("users", p.read_only.clone()),
        ("grants", foreign_grant),
        ("admin-privileges", foreign_privilege),
        ("appliances", p.appliance.clone()),
        ("tickets", p.ticket.clone()),
    ]);
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    let mut tried = 0;
    // Another partner's portal admin, and a plain user of that partner.
    let oscar = app.signed_in("oscar.other@otherisp.example").await;
    let (_, me) = app.get(&oscar, "/api/v1/me").await;
    let other_isp = me["partner"]["id"].as_str().unwrap().to_string();
    app.member(Some(&other_isp), "olga.plain@otherisp.example").await;
    let olga = app.signed_in("olga.plain@otherisp.example").await;
    let tables = [
        "users",
        "grants",
        "admin_privileges",
        "history",
        "outbox",
        "ticket_comments",
        "bgp_configs",
        "activation_tokens",
        "sessions",
        "mfa_totp",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(app.count(t).await);
    }
    for (path, operations) in doc["paths"].as_object().unwrap() {
        // Ids follow the collection they name; other parameters get valid values.
        let mut concrete = String::new();
        let mut previous = "";
        let mut takes_id = false;
        for segment in path.trim_start_matches('/').split('/') {
            let value = match segment {
                "{id}" | "{pid}" => {
                    takes_id = true;
                    let collection = if segment == "{pid}" { "admin-privileges" } else { previous };
                    ids.get(collection).cloned().unwrap_or_else(|| panic!("no foreign id for {path}"))
                }
                "{application}" | "{key}" => "backlot".to_string(),
                "{type}" => "maintenance".to_string(),
                other => other.to_string(),
            };
            concrete.push('/');
            concrete.push_str(&value);
            previous = segment;
        }
        if !takes_id {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            for (who, client) in [("a partner admin", &oscar), ("a plain user", &olga)] {
                let body = (method != "get" && method != "delete").then(|| json!({}));
                let (status, problem) = app.call(client, &method.to_uppercase(), &concrete, body).await;
                // 422: a body refused before the record is looked up; the
                // by-hand tests in isolation.rs send the real shapes.
                assert!(
                    status == StatusCode::NOT_FOUND || status == StatusCode::UNPROCESSABLE_ENTITY,
                    "{method} {concrete} as {who}: {status} {problem}"
                );
                tried += 1;
            }
        }
    }
    assert!(tried >= 40, "only {tried} calls: too few operations take an id");
    let mut after = Vec::new();
    for t in tables {
        after.push(app.count(t).await);
    }
    assert_eq!(before, after, "nothing changed");
    let mut conn = app.store.conn().await.unwrap();
    let token_owner = starship_store::sessions::api_token_user(&mut conn, "foreign-hash").await.unwrap();
    assert_eq!(token_owner, Some(p.read_only.clone()), "the token was not revoked");
});

app_test!(nobody_grants_themself_admin_or_roles_they_do_not_admin, |app| async move {
    let w = world(&app).await;
    let pat = app.signed_in("pat.plain@sunrise.example").await;
    let (status, _) =
        app.post(&pat, &format!("/api/v1/users/{}/admin-privileges", w.plain), json!({"application": "backlot"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "granting oneself admin");
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app
        .post(&admin, "/api/v1/grants", json!({"user_ids": [w.backlot_admin], "roles": [{"application": "content-hub", "role": "content-hub-user", "production": HOME_THEATER}]}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a role of an application one does not admin");
    let (status, _) = app
        .post(
            &admin,
            "/api/v1/grants",
            json!({"user_ids": [w.plain], "roles": [{"application": "partner-portal", "role": "admin"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "portal levels only under the portal matrix");
});

app_test!(the_same_invitation_accepted_twice_at_once_has_one_winner, |app| async move {
    let p = portal_world(&app).await;
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    app.post(&nora, &format!("/api/v1/users/{}/invitation", p.contact), json!({})).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox?recipient=noah.noc@metrofiber.example").await;
    let body = outbox[0]["body"].as_str().unwrap();
    let token = body[body.find("token=").unwrap() + 6..].split_whitespace().next().unwrap().to_string();
    let accept = |password: &'static str| {
        let client = app.client();
        let url = app.url("/api/v1/invitations/accept");
        let token = token.clone();
        async move { client.post(url).json(&json!({"token": token, "password": password})).send().await.unwrap().status() }
    };
    let (a, b) = tokio::join!(accept("first racer's password"), accept("second racer's password"));
    let wins = [a, b].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(wins, 1, "{a} {b}");
    let first = app
        .post(
            &app.client(),
            "/api/v1/session",
            json!({"email": "noah.noc@metrofiber.example", "password": "first racer's password"}),
        )
        .await
        .0;
    let second = app
        .post(
            &app.client(),
            "/api/v1/session",
            json!({"email": "noah.noc@metrofiber.example", "password": "second racer's password"}),
        )
        .await
        .0;
    assert_eq!(
        [first, second].iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "the winner's password is the one that works"
    );
});

app_test!(two_admins_granting_and_revoking_at_once_leave_a_consistent_store, |app| async move {
    let w = world(&app).await;
    app.admin(&w.master_only, "backlot", None).await;
    let first = app.signed_in("mara.master@sunrise.example").await;
    let second = app.signed_in("morgan.master@sunrise.example").await;
    let body =
        json!({"user_ids": [w.plain], "roles": [{"application": "backlot", "role": "content-partner-operations"}]});
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            app.post(&first, "/api/v1/grants", body.clone()),
            app.post(&second, "/api/v1/grants", body.clone())
        );
        assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
        assert_eq!(a.1["granted"][0]["grant_id"], b.1["granted"][0]["grant_id"], "one grant, not two");
        let id = a.1["granted"][0]["grant_id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/grants/{id}");
        let (x, y) = tokio::join!(app.delete(&first, &path), app.delete(&second, &path));
        let mut statuses = [x.0, y.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::NOT_FOUND]);
    }
    assert_eq!(app.count("grants").await, 3, "only the world's own grants remain");
    let (_, history) = app.get(&first, &format!("/api/v1/users/{}/history?limit=500", w.plain)).await;
    let granted = history.as_array().unwrap().iter().filter(|h| h["action"] == "role.granted").count();
    let revoked = history.as_array().unwrap().iter().filter(|h| h["action"] == "role.revoked").count();
    assert_eq!((granted, revoked), (5, 5), "each grant and revoke recorded once");
});

app_test!(a_session_cookie_chosen_by_an_attacker_is_never_adopted, |app| async move {
    let partner = app.partner("Sunrise Studios", starship_core::domain::PartnerKind::Content).await;
    app.member(Some(&partner), "ana.lopez@sunrise.example").await;
    let planted = "attacker-chosen-session-value";
    let response = app
        .client()
        .post(app.url("/api/v1/session"))
        .header("cookie", format!("starship_session={planted}"))
        .json(&json!({"email": "ana.lopez@sunrise.example", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(!set_cookie.contains(planted), "a fresh session value is issued: {set_cookie}");
    let response = app
        .client()
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("starship_session={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
});

app_test!(responses_carry_security_headers, |app| async move {
    let response = app.client().get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
});

app_test!(search_and_invitations_do_not_reveal_other_partners_people, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (_, found) = app.get(&admin, "/api/v1/users?q=nina.north%40northwind.example").await;
    assert_eq!(found, json!([]));
    let (unknown, a) = app.post(&admin, "/api/v1/users/no-such-user/invitation", json!({})).await;
    let (foreign, b) = app.post(&admin, &format!("/api/v1/users/{}/invitation", w.outsider), json!({})).await;
    assert_eq!((unknown, foreign), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(a, b, "the same answer for a stranger and nobody");
    let _: Value = a;
});

app_test!(two_instances_on_one_database_serve_the_same_sessions, |app| async move {
    let w = world(&app).await;
    let (second, stop) = app.second_instance().await;
    let client = app.signed_in("mara.master@sunrise.example").await;
    // The cookie store is per host; carry the session by hand to the other instance.
    let response = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = app
        .client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": "mara.master@sunrise.example", "password": PASSWORD}))
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
    let other = app.client();
    let me = other.get(format!("{second}/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "a session made on one instance works on the other");
    let granted = other
        .post(format!("{second}/api/v1/grants"))
        .header("cookie", &cookie)
        .json(&json!({"user_ids": [w.plain], "roles": [{"application": "backlot", "role": "content-partner-operations"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    // Signing out on the first ends it on the second.
    app.client().delete(app.url("/api/v1/session")).header("cookie", &cookie).send().await.unwrap();
    let after = other.get(format!("{second}/api/v1/me")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let _ = stop.send(());
});
