//! Seed 000 and 001 end to end: create, activate, grant, confirm, search.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn activation_token(outbox: &Value, email: &str) -> String {
    let message = outbox.as_array().unwrap().iter().find(|m| m["recipient"] == email).expect("a welcome email");
    let body = message["body"].as_str().unwrap();
    let start = body.find("token=").expect("an activation link") + "token=".len();
    body[start..].split_whitespace().next().unwrap().to_string()
}

app_test!(a_master_admin_onboards_a_user_who_activates_and_signs_in, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, created) = app
        .post(&admin, "/api/v1/users", json!({"email": "Ana.Lopez@sunrise.example", "first_name": " Ana ", "last_name": "Lopez", "locale": "fr_fr"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "pending");
    assert_eq!(created["locale"], "fr-FR");
    assert_eq!(created["first_name"], "Ana");
    assert_eq!(created["partner"]["id"], w.sunrise.as_str());
    let user_id = created["id"].as_str().unwrap().to_string();

    // Select Permissions → Grant roles → confirmation of every user and role.
    let (status, confirmation) = app
        .post(
            &admin,
            "/api/v1/grants",
            json!({"user_ids": [user_id], "roles": [{"application": "backlot", "role": "content-partner-operations"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmation}");
    assert_eq!(confirmation["granted"][0]["email"], "Ana.Lopez@sunrise.example");
    assert_eq!(confirmation["granted"][0]["role_name"], "Content Partner Operations");
    assert_eq!(confirmation["granted"][0]["newly_granted"], true);

    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox").await;
    let token = activation_token(&outbox, "Ana.Lopez@sunrise.example");
    let welcome = outbox.as_array().unwrap().iter().find(|m| m["recipient"] == "Ana.Lopez@sunrise.example").unwrap();
    assert!(welcome["subject"].as_str().unwrap().starts_with("Bienvenue"), "written in the user's locale: {welcome}");

    let anonymous = app.client();
    let (status, _) =
        app.post(&anonymous, "/api/v1/invitations/accept", json!({"token": token, "password": "short"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) =
        app.post(&anonymous, "/api/v1/invitations/accept", json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        app.post(&anonymous, "/api/v1/invitations/accept", json!({"token": token, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a link works once");

    let ana = app.signed_in("ana.lopez@sunrise.example").await;
    let (_, me) = app.get(&ana, "/api/v1/me").await;
    assert_eq!(me["status"], "active");
    assert_eq!(me["roles"][0]["application"], "backlot");
    let caps: Vec<&str> =
        me["roles"][0]["capabilities"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(caps, ["source-management", "download-sources", "qc-subtitle-reports", "master-qc-reports"]);
    assert_eq!(me["applications"][0]["name"], "Backlot");
    assert!(me.get("admin_privileges").is_none_or(|p| p.as_array().unwrap().is_empty()));
    assert!(!me["tabs"].as_array().unwrap().contains(&json!("admin-privileges")));
    assert!(!me["tabs"].as_array().unwrap().contains(&json!("history")), "a plain user does not see History");
});

app_test!(only_master_content_partner_operations_may_create_users, |app| async move {
    world(&app).await;
    let new_user = json!({"email": "x.y@sunrise.example", "first_name": "X", "last_name": "Y", "locale": "en-US"});
    for email in ["pat.plain@sunrise.example", "alex.academy@sunrise.example"] {
        let client = app.signed_in(email).await;
        let (status, _) = app.post(&client, "/api/v1/users", new_user.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
    }
    let master_only = app.signed_in("morgan.master@sunrise.example").await;
    let (status, _) = app.post(&master_only, "/api/v1/users", new_user.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = app
        .post(
            &master_only,
            "/api/v1/users",
            json!({"email": "X.Y@SUNRISE.example", "first_name": "X", "last_name": "Y", "locale": "en-US"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "emails are unique case-insensitively: {problem}");
    let (status, problem) = app
        .post(
            &master_only,
            "/api/v1/users",
            json!({"email": "bad", "first_name": "", "last_name": "Y", "locale": "xx"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "first_name", "locale"]);
});

app_test!(granting_again_is_not_a_duplicate_and_a_refused_pair_grants_nothing, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let body =
        json!({"user_ids": [w.plain], "roles": [{"application": "backlot", "role": "content-partner-operations"}]});
    let (_, first) = app.post(&admin, "/api/v1/grants", body.clone()).await;
    let (status, second) = app.post(&admin, "/api/v1/grants", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["granted"][0]["newly_granted"], false);
    assert_eq!(first["granted"][0]["grant_id"], second["granted"][0]["grant_id"]);

    // Backlot admin, not Production Academy admin: the whole request fails.
    let before = app.count("grants").await;
    let (status, _) = app
        .post(
            &admin,
            "/api/v1/grants",
            json!({"user_ids": [w.plain, w.master_only], "roles": [
            {"application": "backlot", "role": "master-content-partner-operations"},
            {"application": "production-academy", "role": "academy-user", "production": HOME_THEATER}]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("grants").await, before);
});

app_test!(the_academy_admin_grants_academy_user_only_on_their_production, |app| async move {
    let w = world(&app).await;
    let academy = app.signed_in("alex.academy@sunrise.example").await;
    let (status, granted) = app
        .post(&academy, "/api/v1/grants", json!({"user_ids": [w.plain], "roles": [{"application": "production-academy", "role": "academy-user", "production": HOME_THEATER}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(granted["granted"][0]["production"], HOME_THEATER);
    let (status, _) = app
        .post(&academy, "/api/v1/grants", json!({"user_ids": [w.plain], "roles": [{"application": "production-academy", "role": "academy-user", "production": 123}]}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = app
        .post(
            &academy,
            "/api/v1/grants",
            json!({"user_ids": [w.plain], "roles": [{"application": "production-academy", "role": "academy-user"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "roles[0].production");
    let (status, _) = app
        .post(&academy, "/api/v1/grants", json!({"user_ids": [w.plain], "roles": [{"application": "production-academy", "role": "academy-user", "production": 999}]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown production is named");
    // An operator passes every admin rule: only the unknown production refuses.
    let checker = app.signed_in("olivia.operator@starship.example").await;
    let (status, problem) = app
        .post(&checker, "/api/v1/grants", json!({"user_ids": [w.plain], "roles": [{"application": "production-academy", "role": "academy-user", "production": 999}]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown production, to an operator: {problem}");
    assert_eq!(problem["errors"][0]["field"], "roles[0].production");

    for (production, allowed) in [(Some(HOME_THEATER), true), (Some(123), false), (None, false)] {
        let (_, answer) = app
            .post(&checker, "/api/v1/check", json!({"user_id": w.plain, "application": "production-academy", "capability": "e-learning", "production": production}))
            .await;
        assert_eq!(answer["allowed"], allowed, "production {production:?}");
    }
});

app_test!(revoking_follows_the_granting_rule_and_lands_in_history, |app| async move {
    let w = world(&app).await;
    let grant_id = app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let academy = app.signed_in("alex.academy@sunrise.example").await;
    let (status, _) = app.delete(&academy, &format!("/api/v1/grants/{grant_id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.delete(&admin, &format!("/api/v1/grants/{grant_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.delete(&admin, &format!("/api/v1/grants/{grant_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, history) = app.get(&admin, &format!("/api/v1/users/{}/history", w.plain)).await;
    assert_eq!(history[0]["action"], "role.revoked");
    assert_eq!(history[0]["actor"], "mara.master@sunrise.example");
    assert_eq!(history[0]["source"], "api");
    assert_eq!(history[0]["details"]["role"], "content-partner-operations");
});

app_test!(admin_privileges_pass_on_only_from_an_admin_of_the_same_application, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, added) = app
        .post(&admin, &format!("/api/v1/users/{}/admin-privileges", w.plain), json!({"application": "backlot"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let (status, _) = app
        .post(
            &admin,
            &format!("/api/v1/users/{}/admin-privileges", w.plain),
            json!({"application": "production-academy"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        app.post(&admin, &format!("/api/v1/users/{}/admin-privileges", w.plain), json!({"application": "nope"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The new admin now grants Backlot roles and sees the tab.
    let pat = app.signed_in("pat.plain@sunrise.example").await;
    let (_, me) = app.get(&pat, "/api/v1/me").await;
    assert!(me["tabs"].as_array().unwrap().contains(&json!("admin-privileges")));
    assert_eq!(me["admin_privileges"][0]["application"], "backlot");
    let (status, _) = app.get(&pat, "/api/v1/applications/backlot/users").await;
    assert_eq!(status, StatusCode::OK);

    let pid = added["id"].as_str().unwrap();
    let master_only = app.signed_in("morgan.master@sunrise.example").await;
    let (status, _) = app.delete(&master_only, &format!("/api/v1/users/{}/admin-privileges/{pid}", w.plain)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.delete(&admin, &format!("/api/v1/users/{}/admin-privileges/{pid}", w.master_only)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a privilege is removed through its own user");
    let (status, _) = app.delete(&admin, &format!("/api/v1/users/{}/admin-privileges/{pid}", w.plain)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, history) = app.get(&admin, &format!("/api/v1/users/{}/history", w.plain)).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .filter(|a| a.starts_with("admin-privilege"))
        .collect();
    assert_eq!(actions, ["admin-privilege.removed", "admin-privilege.added"]);
});

app_test!(search_finds_by_name_or_email_prefix_within_the_partner, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    for (first, last, email) in [
        ("Ana", "Lopez", "ana@sunrise.example"),
        ("Anabel", "Zed", "zed@sunrise.example"),
        ("Bob", "Anand", "bob@sunrise.example"),
    ] {
        let (status, _) = app
            .post(
                &admin,
                "/api/v1/users",
                json!({"email": email, "first_name": first, "last_name": last, "locale": "en-US"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let names = |found: &Value| {
        found.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let (_, found) = app.get(&admin, "/api/v1/users?q=ana").await;
    assert_eq!(names(&found)[0], "ana@sunrise.example", "the exact first name ranks first: {found}");
    assert!(names(&found).contains(&"zed@sunrise.example".to_string()));
    assert!(names(&found).contains(&"bob@sunrise.example".to_string()), "last name prefix");
    let (_, found) = app.get(&admin, "/api/v1/users?q=ANA%20LO").await;
    assert_eq!(names(&found), ["ana@sunrise.example"]);
    let (_, found) = app.get(&admin, "/api/v1/users?q=zed%40").await;
    assert_eq!(names(&found), ["zed@sunrise.example"]);
    let (_, found) = app.get(&admin, "/api/v1/users?q=nina").await;
    assert!(found.as_array().unwrap().is_empty(), "another partner's users are not found");
    let (_, found) = app.get(&admin, "/api/v1/users?q=a&limit=2").await;
    assert_eq!(found.as_array().unwrap().len(), 2);
    let (status, listed) = app.get(&admin, "/api/v1/users").await;
    assert_eq!(status, StatusCode::OK, "without q, everyone of the partner is listed");
    assert!(!names(&listed).is_empty() && names(&listed).iter().all(|e| e.ends_with("@sunrise.example")));
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, found) = app.get(&operator, "/api/v1/users?q=nina").await;
    assert_eq!(found[0]["id"], w.outsider.as_str());
});

app_test!(the_applications_tab_pages_through_every_user_with_their_roles, |app| async move {
    let w = world(&app).await;
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/applications/backlot/users?limit=2&everyone=true".to_string();
    loop {
        let (status, page) = app.get(&admin, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for user in page["users"].as_array().unwrap() {
            seen.push((user["email"].as_str().unwrap().to_string(), user["roles"].as_array().unwrap().len()));
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/applications/backlot/users?limit=2&everyone=true&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "every Sunrise user once: {seen:?}");
    assert!(seen.contains(&("mara.master@sunrise.example".to_string(), 1)));
    assert!(seen.contains(&("pat.plain@sunrise.example".to_string(), 0)));
    let (_, filtered) = app.get(&admin, "/api/v1/applications/backlot/users?q=pat&everyone=true").await;
    assert_eq!(filtered["users"].as_array().unwrap().len(), 1);

    let academy = app.signed_in("alex.academy@sunrise.example").await;
    let (status, _) = app.get(&academy, "/api/v1/applications/backlot/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&academy, "/api/v1/applications/production-academy/users").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get(&admin, "/api/v1/applications/nope/users").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let _ = w;
});

app_test!(profile_edits_are_validated_and_recorded_with_what_changed, |app| async move {
    let w = world(&app).await;
    let pat = app.signed_in("pat.plain@sunrise.example").await;
    let (status, problem) = app
        .call(&pat, "PATCH", &format!("/api/v1/users/{}", w.plain), Some(json!({"phone": "call me", "locale": "xx"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2);
    let (status, updated) = app
        .call(
            &pat,
            "PATCH",
            &format!("/api/v1/users/{}", w.plain),
            Some(json!({"phone": "+1 408 555 0100", "first_name": "Patricia"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["first_name"], "Patricia");
    let (status, _) =
        app.call(&pat, "PATCH", &format!("/api/v1/users/{}", w.master_only), Some(json!({"first_name": "Evil"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (_, history) = app.get(&admin, &format!("/api/v1/users/{}/history", w.plain)).await;
    assert_eq!(history[0]["action"], "user.updated");
    assert_eq!(history[0]["details"]["first_name"]["to"], "Patricia");
    assert_eq!(history[0]["details"]["phone"]["from"], Value::Null);
});

// Alex administers Production Academy and Pat holds nothing, so Alex could
// have given Pat all Pat holds; neither has a portal level. Only the profile
// rule (the person, or someone who may create users) refuses.
app_test!(only_the_person_or_someone_who_may_create_users_edits_a_profile, |app| async move {
    let w = world(&app).await;
    let alex = app.signed_in("alex.academy@sunrise.example").await;
    let path = format!("/api/v1/users/{}", w.plain);
    let before = app.snapshot().await;
    let (status, problem) = app.call(&alex, "PATCH", &path, Some(json!({"first_name": "Patricia"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(snapshot_difference(&before, &app.snapshot().await).is_empty(), "nothing changed");
    app.grant(&w.academy_admin, "backlot", "master-content-partner-operations", None).await;
    let (status, updated) = app.call(&alex, "PATCH", &path, Some(json!({"first_name": "Patricia"}))).await;
    assert_eq!(status, StatusCode::OK, "with the Master role, the same edit is Alex's to make: {updated}");
    assert_eq!(updated["first_name"], "Patricia");
});
