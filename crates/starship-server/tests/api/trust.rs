//! Regression tests of the attack findings of issue 11, one per finding,
//! named after the behaviour that now holds. The rule for acting on a
//! person as a whole is generated in `person_rule.rs`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn outbox_for(app: &TestApp, recipient: &str) -> Vec<Value> {
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, &format!("/api/v1/outbox?recipient={recipient}")).await;
    outbox.as_array().cloned().unwrap_or_default()
}

fn token_in(message: &Value) -> String {
    let body = message["body"].as_str().unwrap();
    let start = body.find("token=").expect("a link") + "token=".len();
    body[start..].split_whitespace().next().unwrap().to_string()
}

app_test!(engineering_cannot_take_over_a_master_who_is_a_backlot_admin, |app| async move {
    let w = world(&app).await;
    let eli = app.member(Some(&w.sunrise), "eli.engineer@sunrise.example").await;
    app.grant(&eli, "partner-portal", "engineering", None).await;
    let engineering = app.signed_in("eli.engineer@sunrise.example").await;
    let mara = format!("/api/v1/users/{}", w.backlot_admin);
    let (status, problem) =
        app.post(&engineering, &format!("{mara}/email-change"), json!({"email": "eli.inbox@elsewhere.example"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(problem["detail"].as_str().unwrap_or_default().contains("could not have given"), "{problem}");
    for (method, path) in [("DELETE", format!("{mara}/portal-access")), ("DELETE", mara.clone())] {
        let (status, _) = app.call(&engineering, method, &path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let (status, _) = app.post(&engineering, &format!("{mara}/invitation"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&app.signed_in("mara.master@sunrise.example").await, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "Mara still signs in");
});

app_test!(a_portal_admin_cannot_point_a_backlot_admins_email_elsewhere, |app| async move {
    let w = world(&app).await;
    let nora = app.member(Some(&w.sunrise), "nora.portal@sunrise.example").await;
    app.grant(&nora, "partner-portal", "admin", None).await;
    let portal_admin = app.signed_in("nora.portal@sunrise.example").await;
    let (status, _) = app
        .post(
            &portal_admin,
            &format!("/api/v1/users/{}/email-change", w.backlot_admin),
            json!({"email": "nora.inbox@elsewhere.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(outbox_for(&app, "nora.inbox@elsewhere.example").await.is_empty(), "no confirmation link went out");
});

app_test!(a_master_without_admin_privileges_cannot_point_an_academy_admins_email_elsewhere, |app| async move {
    let w = world(&app).await;
    let morgan = app.signed_in("morgan.master@sunrise.example").await;
    let (status, _) = app
        .post(
            &morgan,
            &format!("/api/v1/users/{}/email-change", w.academy_admin),
            json!({"email": "morgan.inbox@elsewhere.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(&morgan, &format!("/api/v1/users/{}/email-change", w.plain), json!({"email": "pat@elsewhere.example"}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "someone holding nothing is still in reach");
});

app_test!(the_welcome_link_to_a_mistyped_address_dies_when_the_address_is_corrected, |app| async move {
    let _w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let (status, created) = app
        .post(
            &mara,
            "/api/v1/users",
            json!({"email": "jamie@sunrsie.example", "first_name": "Jamie", "last_name": "Lee", "locale": "en-US"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let welcome = token_in(&outbox_for(&app, "jamie@sunrsie.example").await[0]);
    let (status, _) = app
        .post(
            &mara,
            &format!("/api/v1/users/{}/email-change", created["id"].as_str().unwrap()),
            json!({"email": "jamie@sunrise.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let confirmation = outbox_for(&app, "jamie@sunrise.example").await;
    let confirm = confirmation.iter().find(|m| m["kind"] == "email-confirmation").expect("a confirmation");
    let (status, _) = app.post(&app.client(), "/api/v1/email-confirmations", json!({"token": token_in(confirm)})).await;
    assert!(status.is_success());

    let (status, _) =
        app.post(&app.client(), "/api/v1/invitations/accept", json!({"token": welcome, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the mistyped address's link no longer activates");
    let old_inbox = outbox_for(&app, "jamie@sunrsie.example").await;
    assert!(old_inbox.iter().any(|m| m["kind"] == "email-changed-notice"), "the old address is told");
    let fresh = outbox_for(&app, "jamie@sunrise.example").await;
    let fresh = fresh.iter().find(|m| m["kind"] == "welcome").expect("a fresh welcome at the right address");
    let (status, _) = app
        .post(&app.client(), "/api/v1/invitations/accept", json!({"token": token_in(fresh), "password": PASSWORD}))
        .await;
    assert!(status.is_success(), "the corrected address activates");
    app.signed_in("jamie@sunrise.example").await;
});

app_test!(the_applications_cursor_treats_another_partners_user_as_unknown, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let page = |after: String| {
        let (app, mara) = (&app, &mara);
        async move { app.get(mara, &format!("/api/v1/applications/backlot/users?limit=2&after={after}")).await }
    };
    let (status, foreign) = page(w.outsider.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, unknown) = page("0190aaaa-0000-7000-8000-000000000000".into()).await;
    assert_eq!(foreign, unknown, "a foreign id reveals nothing an unknown one does not");
    let (_, own) = page(w.academy_admin.clone()).await;
    assert!(!own["users"].as_array().unwrap().is_empty(), "the caller's own cursor pages on");
});

app_test!(names_refuse_invisible_and_text_direction_characters, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    for name in ["Masters \u{202e}(nimda)", "Ma\u{200b}ra", "\u{2066}Mara"] {
        let (status, problem) =
            app.call(&mara, "PATCH", &format!("/api/v1/users/{}", w.plain), Some(json!({"last_name": name}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert!(problem.to_string().contains("invisible or text-direction"), "{problem}");
    }
    let (status, _) = app
        .post(
            &mara,
            "/api/v1/users",
            json!({"email": "zw@sunrise.example", "first_name": "Z\u{feff}", "last_name": "W", "locale": "en-US"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) =
        app.call(&mara, "PATCH", &format!("/api/v1/users/{}", w.plain), Some(json!({"last_name": "Ñúñez-Łódź"}))).await;
    assert_eq!(status, StatusCode::OK, "letters of every script stay welcome");
});

/// A production's admin (and nothing else) with a learner on that
/// production and one on another production only.
async fn production_world(app: &TestApp) -> (World, reqwest::Client, String, String) {
    let w = world(app).await;
    let admin = app.member(Some(&w.sunrise), "paula.production@sunrise.example").await;
    app.admin(&admin, "production-academy", Some(HOME_THEATER)).await;
    let ours = app.member(Some(&w.sunrise), "lee.ours@sunrise.example").await;
    app.grant(&ours, "production-academy", "academy-user", Some(HOME_THEATER)).await;
    let theirs = app.member(Some(&w.sunrise), "lou.theirs@sunrise.example").await;
    app.grant(&theirs, "production-academy", "academy-user", Some(123)).await;
    let client = app.signed_in("paula.production@sunrise.example").await;
    (w, client, ours, theirs)
}

app_test!(a_production_admin_edits_metadata_only_of_learners_on_their_production, |app| async move {
    let (_, paula, ours, theirs) = production_world(&app).await;
    let values = json!({"crew_department": "sound", "country": "fr", "courses": ["IMF101"]});
    let (status, _) = app
        .call(&paula, "PUT", &format!("/api/v1/users/{theirs}/metadata/production-academy"), Some(values.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a learner of another production only");
    let (status, saved) =
        app.call(&paula, "PUT", &format!("/api/v1/users/{ours}/metadata/production-academy"), Some(values)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
});

app_test!(a_production_admin_sees_only_their_productions_people_and_history, |app| async move {
    let (w, paula, ours, theirs) = production_world(&app).await;
    let (status, page) = app.get(&paula, "/api/v1/applications/production-academy/users?limit=200").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = page["users"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ours.as_str()], "only the learner on Home Theater");
    let roles = &page["users"][0]["roles"];
    assert!(roles.as_array().unwrap().iter().all(|r| r["production"] == HOME_THEATER), "{roles}");
    let (status, _) = app.get(&paula, &format!("/api/v1/users/{theirs}/history")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&paula, &format!("/api/v1/users/{}/history", w.backlot_admin)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let operator = app.signed_in("olivia.operator@starship.example").await;
    // Ours is a learner on Home Theater already (no History): now an admin of it too, and a learner on 123.
    let home_theater_admin = json!({"application": "production-academy", "production": HOME_THEATER});
    let (status, _) = app.post(&operator, &format!("/api/v1/users/{ours}/admin-privileges"), home_theater_admin).await;
    assert!(status.is_success());
    let elsewhere = json!({"application": "production-academy", "role": "academy-user", "production": 123});
    let (status, _) = app.post(&operator, "/api/v1/grants", json!({"user_ids": [ours], "roles": [elsewhere]})).await;
    assert!(status.is_success());
    app.post(
        &operator,
        "/api/v1/grants",
        json!({"user_ids": [ours], "roles": [{"application": "backlot", "role": "content-partner-operations"}]}),
    )
    .await;
    let (status, entries) = app.get(&paula, &format!("/api/v1/users/{ours}/history?limit=1")).await;
    assert_eq!(status, StatusCode::OK);
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "a full page of what concerns Home Theater, read past what does not");
    assert_eq!(entries[0]["details"]["production"], HOME_THEATER, "{entries:?}");
    let (_, everything) = app.get(&operator, &format!("/api/v1/users/{ours}/history")).await;
    assert_eq!(everything.as_array().unwrap().len(), 3, "the operator sees every grant");
    let (_, everyone) = app
        .get(
            &app.signed_in("alex.academy@sunrise.example").await,
            "/api/v1/applications/production-academy/users?limit=200&everyone=true",
        )
        .await;
    assert!(everyone["users"].as_array().unwrap().len() > 2, "the application's own admin still sees everyone");
});

app_test!(a_read_only_user_cannot_change_their_own_contact_roles_or_sites, |app| async move {
    let p = crate::portal::portal_world(&app).await;
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let path = format!("/api/v1/users/{}/contact", p.read_only);
    for body in [json!({"contact_roles": ["noc"]}), json!({"sites": [p.site]})] {
        let (status, _) = app.call(&rita, "PUT", &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, _) = app
        .call(&rita, "PATCH", &format!("/api/v1/users/{}", p.read_only), Some(json!({"phone": "+1 303 555 0100"})))
        .await;
    assert_eq!(status, StatusCode::OK, "their own phone stays theirs to change");
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let (status, _) = app.call(&nora, "PUT", &path, Some(json!({"contact_roles": ["noc"]}))).await;
    assert_eq!(status, StatusCode::OK, "their admin may");
});

app_test!(bulk_checks_say_already_exists_only_for_the_callers_own_people, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let row = |email: &str| json!({"email": email, "first_name": "A", "last_name": "B", "locale": "en-US"});
    let (status, check) = app
        .post(
            &mara,
            "/api/v1/users/bulk",
            json!({"dry_run": true, "rows": [row("pat.plain@sunrise.example"), row("nina.north@northwind.example"), row("new@sunrise.example")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reasons: Vec<&str> =
        check["errors"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons.len(), 2);
    assert!(reasons[0].contains("already exists"), "own partner: {reasons:?}");
    assert!(!reasons[1].contains("exists"), "another partner's address gets the neutral answer: {reasons:?}");
    let (status, problem) = app.post(&mara, "/api/v1/users", row("nina.north@northwind.example")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(!problem.to_string().contains("exists"), "{problem}");

    // Asking about other partners' addresses is counted and then refused.
    let mut last = StatusCode::OK;
    for _ in 0..25 {
        let rows = json!({"dry_run": true, "rows": [row("nina.north@northwind.example")]});
        last = app.post(&mara, "/api/v1/users/bulk", rows).await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "the per-caller limit holds");
    let rows = json!({"dry_run": true, "rows": [row("fresh@sunrise.example")]});
    assert_eq!(app.post(&mara, "/api/v1/users/bulk", rows).await.0, StatusCode::OK, "own addresses go on");
    assert!(w.outsider.len() > 1);
});

app_test!(a_deactivated_person_cannot_sign_in_and_their_roles_stop_counting_until_reactivated, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let pat = app.signed_in("pat.plain@sunrise.example").await;
    let (_, token) = app.post(&pat, "/api/v1/tokens", json!({})).await;
    let token = token["token"].as_str().unwrap().to_string();
    let check = json!({"user_id": w.plain, "application": "backlot", "capability": "source-management"});
    assert_eq!(app.post(&mara, "/api/v1/check", check.clone()).await.1["allowed"], true);

    let deactivation = format!("/api/v1/users/{}/deactivation", w.plain);
    let (status, _) = app.post(&mara, &deactivation, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&pat, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "the session ended at once");
    let with_token = app.client().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(with_token.status(), StatusCode::UNAUTHORIZED, "the token ended at once");
    let sign_in = json!({"email": "pat.plain@sunrise.example", "password": PASSWORD});
    let (status, refused) = app.post(&app.client(), "/api/v1/session", sign_in.clone()).await;
    let (_, wrong) = app
        .post(
            &app.client(),
            "/api/v1/session",
            json!({"email": "pat.plain@sunrise.example", "password": "wrong password!"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused["detail"], wrong["detail"], "the same answer as a wrong password");
    assert_eq!(app.post(&mara, "/api/v1/check", check.clone()).await.1["allowed"], false, "roles stop counting");
    let (_, profile) = app.get(&mara, &format!("/api/v1/users/{}", w.plain)).await;
    assert!(profile["deactivated_at"].is_string());
    assert_eq!(profile["roles"].as_array().unwrap().len(), 1, "nothing is lost");
    assert_eq!(app.post(&mara, &deactivation, json!({})).await.0, StatusCode::CONFLICT);

    assert_eq!(app.delete(&mara, &deactivation).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.post(&app.client(), "/api/v1/session", sign_in).await.0, StatusCode::OK, "the same password");
    assert_eq!(app.post(&mara, "/api/v1/check", check).await.1["allowed"], true, "every role back");
    let (_, history) = app.get(&mara, &format!("/api/v1/users/{}/history", w.plain)).await;
    let actions: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"user.deactivated") && actions.contains(&"user.reactivated"), "{actions:?}");
});

app_test!(deactivation_follows_the_rule_for_acting_on_a_person, |app| async move {
    let w = world(&app).await;
    let of = |id: &str| format!("/api/v1/users/{id}/deactivation");
    let morgan = app.signed_in("morgan.master@sunrise.example").await;
    assert_eq!(app.post(&morgan, &of(&w.backlot_admin), json!({})).await.0, StatusCode::FORBIDDEN, "holds more");
    assert_eq!(app.post(&morgan, &of(&w.master_only), json!({})).await.0, StatusCode::FORBIDDEN, "oneself");
    let pat = app.signed_in("pat.plain@sunrise.example").await;
    assert_eq!(app.post(&pat, &of(&w.master_only), json!({})).await.0, StatusCode::FORBIDDEN, "a plain user");
    let nina = app.signed_in("nina.north@northwind.example").await;
    assert_eq!(app.post(&nina, &of(&w.plain), json!({})).await.0, StatusCode::NOT_FOUND, "another partner's");
    assert_eq!(app.post(&morgan, &of(&w.plain), json!({})).await.0, StatusCode::NO_CONTENT, "within reach");
});
