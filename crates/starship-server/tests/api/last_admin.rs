//! Destructive actions on the profile: nobody removes their own last way to
//! onboard people while nobody else of the partner has one (API and pages
//! alike), the pages ask before removing and offer Undo.

use reqwest::StatusCode;

use crate::support::*;
use crate::web::{csrf_of, location, page, signed_in_browser};

/// Mara's own Master grant: the world grants it before anything else of hers.
async fn own_master_grant(app: &TestApp, user_id: &str) -> String {
    starship_store::sqlx::query_scalar(
        "SELECT id FROM grants WHERE user_id = $1 AND role = 'master-content-partner-operations'",
    )
    .bind(user_id)
    .fetch_one(app.store.pool())
    .await
    .unwrap()
}

async fn own_admin_privilege(app: &TestApp, user_id: &str) -> String {
    starship_store::sqlx::query_scalar("SELECT id FROM admin_privileges WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

app_test!(the_last_admin_cannot_remove_her_own_master_role_or_admin_privilege, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let grant = own_master_grant(&app, &w.backlot_admin).await;
    let privilege = own_admin_privilege(&app, &w.backlot_admin).await;
    let before = app.count("history").await;

    let (status, problem) = app.delete(&mara, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("last way to onboard"), "{problem}");
    let (status, problem) =
        app.delete(&mara, &format!("/api/v1/users/{}/admin-privileges/{privilege}", w.backlot_admin)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");

    // Nothing changed: she still onboards, and History has no removal.
    let (_, me) = app.get(&mara, "/api/v1/me").await;
    assert!(me["tabs"].as_array().unwrap().contains(&serde_json::json!("admin-privileges")), "{me}");
    assert_eq!(app.count("history").await, before, "a refused removal writes no History");
    let (_, profile) = app.get(&mara, &format!("/api/v1/users/{}", w.backlot_admin)).await;
    assert!(profile["roles"].to_string().contains("master-content-partner-operations"), "{profile}");
});

app_test!(an_admin_may_remove_her_own_master_role_once_another_admin_can_onboard, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let grant = own_master_grant(&app, &w.backlot_admin).await;

    // Alex is an admin but cannot create users; Morgan creates users but
    // grants nothing: neither can onboard, so Mara is still the last one.
    let (status, _) = app.delete(&mara, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A deactivated admin does not count either.
    app.admin(&w.master_only, "production-academy", Some(HOME_THEATER)).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, body) =
        app.post(&operator, &format!("/api/v1/users/{}/deactivation", w.master_only), serde_json::json!({})).await;
    assert!(status.is_success(), "{status} {body}");
    let (status, _) = app.delete(&mara, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "a deactivated admin cannot onboard");

    let (status, body) = app.delete(&operator, &format!("/api/v1/users/{}/deactivation", w.master_only)).await;
    assert!(status.is_success(), "{status} {body}");
    let (status, problem) = app.delete(&mara, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
});

app_test!(an_admin_removes_someone_elses_last_master_role_under_the_granting_rule_alone, |app| async move {
    let w = world(&app).await;
    // An operator removing Mara's Master role is not held by her own rule.
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let grant = own_master_grant(&app, &w.backlot_admin).await;
    let (status, _) = app.delete(&operator, &format!("/api/v1/grants/{grant}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
});

app_test!(the_roles_tab_asks_before_removing_says_why_it_refuses_and_offers_undo, |app| async move {
    let w = world(&app).await;
    let pat_grant = app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;

    // The Remove button opens a box that names what is lost; the real
    // button is inside it.
    let profile = format!("/users/{}", w.plain);
    let (_, html) = page(&app, &mara, &profile).await;
    assert!(html.contains(r#"<details class="confirm">"#), "{html}");
    assert!(html.contains("Remove Content Partner Operations from pat plain?"), "{html}");
    assert!(html.contains("They lose:"), "{html}");

    let action = format!("/users/{}/roles/{pat_grant}/revoke", w.plain);
    let response = mara.post(app.url(&action)).form(&[("csrf", csrf_of(&html).as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response).to_string();
    assert!(back.starts_with(&format!("{profile}?done=role-revoked&undo=")), "{back}");
    let (_, html) = page(&app, &mara, &back).await;
    assert!(html.contains("Role removed.") && html.contains("Undo: give back Content Partner Operations"), "{html}");

    let undo = [
        ("csrf", csrf_of(&html)),
        ("application", "backlot".into()),
        ("role", "content-partner-operations".into()),
        ("production", String::new()),
        ("end", String::new()),
    ];
    let response = mara.post(app.url(&format!("/users/{}/roles/restore", w.plain))).form(&undo).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("{profile}?done=role-restored"));
    let api = app.signed_in("mara.master@sunrise.example").await;
    let (_, shown) = app.get(&api, &format!("/api/v1/users/{}", w.plain)).await;
    assert!(shown["roles"].to_string().contains("content-partner-operations"), "the role is back: {shown}");

    // Undo grants under the granting rule: Alex may not give a Backlot role.
    let alex = signed_in_browser(&app, "alex.academy@sunrise.example").await;
    let (_, alex_html) = page(&app, &alex, &profile).await;
    let mut forged = undo.clone();
    forged[0].1 = csrf_of(&alex_html);
    let response = alex.post(app.url(&format!("/users/{}/roles/restore", w.plain))).form(&forged).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Her own last Master role: the page says why, and nothing changes.
    let own = own_master_grant(&app, &w.backlot_admin).await;
    let (_, html) = page(&app, &mara, "/").await;
    let response = mara
        .post(app.url(&format!("/users/{}/roles/{own}/revoke", w.backlot_admin)))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "the page shows the refusal");
    let html = response.text().await.unwrap();
    assert!(html.contains("last way to onboard people"), "{html}");
    assert!(html.contains("Master Content Partner Operations"), "her role is still listed");
});

app_test!(the_admin_privileges_tab_asks_before_removing_and_offers_undo, |app| async move {
    let w = world(&app).await;
    let tab = format!("/users/{}?tab=admin-privileges", w.academy_admin);
    let operator = signed_in_browser(&app, "olivia.operator@starship.example").await;
    let (_, html) = page(&app, &operator, &tab).await;
    assert!(html.contains("Remove the admin privilege for Production Academy"), "{html}");
    assert!(html.contains("can no longer grant its roles"), "{html}");
    let privilege: String = starship_store::sqlx::query_scalar(
        "SELECT id FROM admin_privileges WHERE user_id = $1 AND production_id IS NULL",
    )
    .bind(&w.academy_admin)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let response = operator
        .post(app.url(&format!("/users/{}/admin-privileges/{privilege}/remove", w.academy_admin)))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response).to_string();
    let (_, html) = page(&app, &operator, &back).await;
    assert!(html.contains("Undo: give back admin privileges for Production Academy"), "{html}");
    let response = operator
        .post(app.url(&format!("/users/{}/admin-privileges", w.academy_admin)))
        .form(&[("csrf", csrf_of(&html)), ("scope", "production-academy".into()), ("undone", "1".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).ends_with("done=admin-restored"));
    let api = app.signed_in("olivia.operator@starship.example").await;
    let (_, profile) = app.get(&api, &format!("/api/v1/users/{}", w.academy_admin)).await;
    assert_eq!(profile["admin_privileges"].as_array().unwrap().len(), 2, "both privileges again");
});
