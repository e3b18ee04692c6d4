//! Grants that end: an end date in the future only, changed under the rule
//! that grants the role, an expired grant that stops counting at once
//! (before any sweeper runs), the sweeper that removes it once with History,
//! the reminder a week before, and `explain` on checks.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_server::expiry::{sweep_once, SweepConfig};
use starship_store::now_millis;

use crate::support::*;
use crate::web::{csrf_of, page, signed_in_browser};

const BACKLOT_ROLE: &str = "content-partner-operations";
const DAY: i64 = 24 * 3600 * 1000;

fn rfc3339(millis: i64) -> String {
    starship_core::time_fmt::rfc3339_from_millis(millis)
}

fn grant_body(user: &str, role: &str, expires_at: Option<String>) -> Value {
    let mut role = json!({"application": "backlot", "role": role});
    if let Some(at) = expires_at {
        role["expires_at"] = json!(at);
    }
    json!({"user_ids": [user], "roles": [role]})
}

async fn check(app: &TestApp, client: &reqwest::Client, user: &str, capability: &str, explain: bool) -> Value {
    let body = json!({"user_id": user, "application": "backlot", "capability": capability, "explain": explain});
    let (status, answer) = app.post(client, "/api/v1/check", body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

async fn expires_at_of(app: &TestApp, grant_id: &str) -> Option<i64> {
    starship_store::sqlx::query_scalar("SELECT expires_at FROM grants WHERE id = $1")
        .bind(grant_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

async fn history_count(app: &TestApp, user: &str, action: &str) -> i64 {
    starship_store::sqlx::query_scalar("SELECT COUNT(*) FROM history WHERE user_id = $1 AND action = $2")
        .bind(user)
        .bind(action)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

app_test!(a_role_may_end_but_not_in_the_past, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let end = now_millis() + 30 * DAY;
    let (status, answer) =
        app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(end)))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let granted = &answer["granted"][0];
    assert_eq!(granted["expires_at"], json!(rfc3339(end)));
    assert_eq!(granted["newly_granted"], json!(true));

    let grants_before = app.count("grants").await;
    let history_before = app.count("history").await;
    let past = rfc3339(now_millis() - DAY);
    let (status, problem) =
        app.post(&mara, "/api/v1/grants", grant_body(&w.master_only, BACKLOT_ROLE, Some(past))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("roles[0].expires_at"), "the problem names the field: {problem}");
    let (status, problem) =
        app.post(&mara, "/api/v1/grants", grant_body(&w.master_only, BACKLOT_ROLE, Some("next May".into()))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!((app.count("grants").await, app.count("history").await), (grants_before, history_before));
});

app_test!(changing_or_removing_the_end_is_a_grant_under_the_same_rule, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let first = now_millis() + 30 * DAY;
    let (_, answer) = app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(first)))).await;
    let grant_id = answer["granted"][0]["grant_id"].as_str().unwrap().to_string();

    // Morgan holds the role that creates users but administers nothing.
    let morgan = app.signed_in("morgan.master@sunrise.example").await;
    let (status, _) = app.post(&morgan, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(expires_at_of(&app, &grant_id).await, Some(first), "a refused change changes nothing");

    let later = now_millis() + 60 * DAY;
    let (status, answer) =
        app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(later)))).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["granted"][0]["grant_id"], json!(grant_id), "the same grant, with a new end");
    assert_eq!(
        (answer["granted"][0]["newly_granted"].clone(), answer["granted"][0]["expiry_changed"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(expires_at_of(&app, &grant_id).await, Some(later));

    let (_, answer) = app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, None)).await;
    assert_eq!(answer["granted"][0]["expiry_changed"], json!(true));
    assert_eq!(expires_at_of(&app, &grant_id).await, None, "granting without an end removes it");
    assert_eq!(history_count(&app, &w.plain, "role.expiry-changed").await, 2);

    let (_, answer) = app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, None)).await;
    assert_eq!(answer["granted"][0]["expiry_changed"], json!(false), "the same end again changes nothing");
    assert_eq!(history_count(&app, &w.plain, "role.expiry-changed").await, 2);
});

app_test!(expired_grant_stops_counting_at_once_in_checks_profiles_and_lists, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let (_, answer) =
        app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(now_millis() + DAY)))).await;
    let grant_id = answer["granted"][0]["grant_id"].as_str().unwrap().to_string();
    assert_eq!(check(&app, &mara, &w.plain, "source-management", false).await["allowed"], json!(true));

    expire_grant(&app, &grant_id).await;
    assert_eq!(app.count("grants").await, 4, "no sweeper ran: the grant is still stored");
    assert_eq!(check(&app, &mara, &w.plain, "source-management", false).await["allowed"], json!(false));
    let pat = app.signed_in("pat.plain@sunrise.example").await;
    assert_eq!(
        check(&app, &pat, &w.plain, "source-management", false).await["allowed"],
        json!(false),
        "nor for themself"
    );
    let explained = check(&app, &mara, &w.plain, "source-management", true).await;
    assert_eq!(explained["allowed"], json!(false));
    assert_eq!(explained["explanation"]["allowed_by"], json!([]));

    let (_, profile) = app.get(&mara, &format!("/api/v1/users/{}", w.plain)).await;
    assert_eq!(profile["roles"], json!([]), "the profile no longer lists it: {profile}");
    let (_, listed) = app.get(&mara, "/api/v1/applications/backlot/users?q=pat").await;
    assert_eq!(listed["users"], json!([]), "nor the Applications tab's role holders: {listed}");
    let (_, listed) = app.get(&mara, "/api/v1/applications/backlot/users?q=pat&everyone=true").await;
    assert_eq!(listed["users"][0]["roles"], json!([]), "nor the Applications tab: {listed}");

    let browser = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, html) = page(&app, &browser, &format!("/users/{}", w.plain)).await;
    assert!(html.contains("No application roles."), "nor the Roles tab");

    // Granting it again gives it anew, with the same grant.
    let (status, answer) = app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, None)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["granted"][0]["grant_id"].clone(), answer["granted"][0]["newly_granted"].clone()),
        (json!(grant_id), json!(true))
    );
    assert_eq!(check(&app, &mara, &w.plain, "source-management", false).await["allowed"], json!(true));
});

app_test!(a_caller_whose_role_expired_loses_what_it_let_them_do, |app| async move {
    let w = world(&app).await;
    let grant_id: String = starship_store::sqlx::query_scalar(
        "SELECT id FROM grants WHERE user_id = $1 AND role = 'master-content-partner-operations'",
    )
    .bind(&w.master_only)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let morgan = app.signed_in("morgan.master@sunrise.example").await;
    let new_person = |n: u32| json!({"email": format!("new.{n}@sunrise.example"), "first_name": "New", "last_name": "Person", "locale": "en-US"});
    let (status, answer) = app.post(&morgan, "/api/v1/users", new_person(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");

    expire_grant(&app, &grant_id).await;
    let (status, answer) = app.post(&morgan, "/api/v1/users", new_person(2)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "creating users needed the role that ended: {answer}");
});

app_test!(the_sweeper_removes_an_expired_grant_once_with_history, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let (_, answer) = app
        .post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(now_millis() + 30 * DAY))))
        .await;
    let grant_id = answer["granted"][0]["grant_id"].as_str().unwrap().to_string();
    let config = SweepConfig::new();
    let swept = sweep_once(&app.store, &app.state.catalogue, &config, now_millis()).await.unwrap();
    assert_eq!((swept.leased, swept.removed), (true, 0), "a grant that has not ended stays");

    expire_grant(&app, &grant_id).await;
    let swept = sweep_once(&app.store, &app.state.catalogue, &config, now_millis()).await.unwrap();
    assert_eq!(swept.removed, 1);
    assert_eq!(app.count("grants").await, 3, "the world's three are left");
    let swept = sweep_once(&app.store, &app.state.catalogue, &config, now_millis()).await.unwrap();
    assert_eq!(swept.removed, 0);
    assert_eq!(history_count(&app, &w.plain, "role.expired").await, 1);
    let (_, history) = app.get(&mara, &format!("/api/v1/users/{}/history", w.plain)).await;
    let entry = history.as_array().unwrap().iter().find(|e| e["action"] == "role.expired").expect("the entry").clone();
    assert_eq!(entry["actor"], json!("system"), "{entry}");
    assert_eq!(entry["details"]["grant_id"], json!(grant_id));

    // Another instance cannot take the lease while ours runs; once it has
    // lapsed it can, and then this one does nothing.
    let lapsed = now_millis() + config.lease.as_millis() as i64 + 1;
    let mut conn = app.store.begin().await.unwrap();
    let job = starship_server::expiry::JOB;
    assert!(!starship_store::jobs::acquire(&mut conn, job, "other", now_millis(), lapsed).await.unwrap());
    assert!(starship_store::jobs::acquire(&mut conn, job, "other", lapsed, lapsed + 60_000).await.unwrap());
    conn.commit().await.unwrap();
    let swept = sweep_once(&app.store, &app.state.catalogue, &config, lapsed + 1).await.unwrap();
    assert!(!swept.leased);
});

#[tokio::test]
async fn two_sweepers_racing_on_postgres_remove_each_grant_once() {
    run(starship_store::testing::Backend::Postgres, |app| async move {
        let w = world(&app).await;
        let mut people = Vec::new();
        for n in 0..40 {
            let id = app.member(Some(&w.sunrise), &format!("racer.{n}@sunrise.example")).await;
            app.grant(&id, "backlot", BACKLOT_ROLE, None).await;
            app.grant(&id, "backlot", "master-content-partner-operations", None).await;
            expire_grants_of(&app, &id).await;
            people.push(id);
        }
        // A lapsed lease at once: both take it, so the statements alone
        // must keep each removal (and its History entry) single.
        let mut config = SweepConfig::new();
        config.lease = std::time::Duration::ZERO;
        let other = SweepConfig { holder: "the other instance".into(), ..config.clone() };
        let now = now_millis();
        let (a, b) = tokio::join!(
            sweep_once(&app.store, &app.state.catalogue, &config, now),
            sweep_once(&app.store, &app.state.catalogue, &other, now)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.removed + b.removed, 80, "{a:?} {b:?}");
        let entries: Vec<(String, i64)> = starship_store::sqlx::query_as(
            "SELECT details, COUNT(*) FROM history WHERE action = 'role.expired' GROUP BY details",
        )
        .fetch_all(app.store.pool())
        .await
        .unwrap();
        assert_eq!(entries.len(), 80);
        assert!(entries.iter().all(|(_, n)| *n == 1), "one entry per grant");
    })
    .await;
}

app_test!(a_week_before_the_end_the_person_and_their_admins_are_reminded_once, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let soon = now_millis() + 3 * DAY;
    let (_, answer) = app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(soon)))).await;
    assert_eq!(answer["granted"][0]["newly_granted"], json!(true));
    app.post(&mara, "/api/v1/grants", grant_body(&w.master_only, BACKLOT_ROLE, Some(rfc3339(now_millis() + 30 * DAY))))
        .await;
    let config = SweepConfig::new();
    let reminders = || async {
        starship_store::sqlx::query_as::<_, (String, String)>(
            "SELECT recipient, subject FROM outbox WHERE kind = 'role-expiry' ORDER BY recipient",
        )
        .fetch_all(app.store.pool())
        .await
        .unwrap()
    };
    let swept = sweep_once(&app.store, &app.state.catalogue, &config, now_millis()).await.unwrap();
    assert_eq!(swept.reminded, 1, "only the role ending within seven days");
    let sent = reminders().await;
    let recipients: Vec<&str> = sent.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(recipients, ["mara.master@sunrise.example", "pat.plain@sunrise.example"], "{sent:?}");
    assert!(sent[1].1.starts_with("Your role Content Partner Operations in Backlot ends after"), "{sent:?}");
    assert!(sent[0].1.starts_with("pat plain's role"), "{sent:?}");

    sweep_once(&app.store, &app.state.catalogue, &config, now_millis()).await.unwrap();
    assert_eq!(reminders().await.len(), 2, "each end is announced once");

    // A new end date is announced anew when it comes near.
    app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(soon + DAY)))).await;
    sweep_once(&app.store, &app.state.catalogue, &config, now_millis()).await.unwrap();
    assert_eq!(reminders().await.len(), 4);
});

app_test!(explain_names_the_grants_that_allow_and_the_roles_that_would, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let end = now_millis() + 30 * DAY;
    let (_, answer) = app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, Some(rfc3339(end)))).await;
    let grant_id = answer["granted"][0]["grant_id"].clone();

    let allowed = check(&app, &mara, &w.plain, "source-management", true).await;
    assert_eq!(allowed["allowed"], json!(true), "{allowed}");
    let by = &allowed["explanation"]["allowed_by"];
    assert_eq!(by.as_array().unwrap().len(), 1, "{allowed}");
    assert_eq!(by[0]["grant_id"], grant_id);
    assert_eq!(by[0]["role"], json!(BACKLOT_ROLE));
    assert_eq!(by[0]["role_name"], json!("Content Partner Operations"));
    assert_eq!(by[0]["granted_by"]["id"], json!(w.backlot_admin));
    assert_eq!(by[0]["granted_by"]["name"], json!("mara master"));
    assert_eq!(by[0]["expires_at"], json!(rfc3339(end)));
    assert_eq!(allowed["explanation"]["would_allow"], json!([]));

    // Without explain, the answer is as it always was.
    let plain = check(&app, &mara, &w.plain, "source-management", false).await;
    assert_eq!(plain, json!({"allowed": true}));

    let denied = check(&app, &mara, &w.plain, "create-users", true).await;
    assert_eq!(denied["allowed"], json!(false));
    let would = denied["explanation"]["would_allow"].as_array().unwrap();
    assert_eq!(would.len(), 1, "{denied}");
    assert_eq!(would[0]["role"], json!("master-content-partner-operations"));
    assert_eq!(would[0]["who_may_grant"], json!("admins of Backlot in Sunrise Studios"));
    assert_eq!(would[0]["admins"], json!([{"id": w.backlot_admin, "name": "mara master"}]));

    // Someone of another partner is not there to explain.
    let (status, _) = app
        .post(
            &mara,
            "/api/v1/check",
            json!({"user_id": w.outsider, "application": "backlot", "capability": "create-users", "explain": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

app_test!(the_roles_tab_sets_an_end_date_and_says_why_each_role_is_held, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let (_, answer) = app.post(&mara, "/api/v1/grants", grant_body(&w.plain, BACKLOT_ROLE, None)).await;
    let grant_id = answer["granted"][0]["grant_id"].as_str().unwrap().to_string();
    let profile = format!("/users/{}", w.plain);
    let browser = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, html) = page(&app, &browser, &profile).await;
    let today = starship_core::time_fmt::day(now_millis());
    assert!(html.contains(&format!("Through Content Partner Operations, granted by mara master on {today}")), "{html}");
    let action = format!("/users/{}/roles/{grant_id}/end", w.plain);
    assert!(html.contains(&format!(r#"action="{action}""#)), "Mara may set the end: {html}");

    let response = browser
        .post(app.url(&action))
        .form(&[("csrf", csrf_of(&html).as_str()), ("until", "2999-05-03")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let stored = expires_at_of(&app, &grant_id).await.expect("an end");
    assert_eq!(rfc3339(stored), "2999-05-04T00:00:00Z", "the role counts through the day chosen");
    let (_, html) = page(&app, &browser, &format!("{profile}?done=role-end-set")).await;
    assert!(html.contains("until 3 May 2999"), "{html}");
    let (_, listed) = page(&app, &browser, "/applications/backlot?q=pat").await;
    assert!(
        listed.contains("Content Partner Operations · until 3 May 2999"),
        "the Applications tab says so too: {listed}"
    );
    assert_eq!(history_count(&app, &w.plain, "role.expiry-changed").await, 1);

    let past = browser
        .post(app.url(&action))
        .form(&[("csrf", csrf_of(&html).as_str()), ("until", "2001-01-01")])
        .send()
        .await
        .unwrap();
    let text = past.text().await.unwrap();
    assert!(text.contains("The end must be in the future"), "{text}");
    assert_eq!(expires_at_of(&app, &grant_id).await, Some(stored));

    let response =
        browser.post(app.url(&action)).form(&[("csrf", csrf_of(&html).as_str()), ("until", "")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(expires_at_of(&app, &grant_id).await, None, "an empty date removes the end");

    // Alex does not administer Backlot: no form, and a forged one is refused.
    let alex = signed_in_browser(&app, "alex.academy@sunrise.example").await;
    let (_, alex_html) = page(&app, &alex, &profile).await;
    assert!(!alex_html.contains(&action));
    let forged = alex
        .post(app.url(&action))
        .form(&[("csrf", csrf_of(&alex_html).as_str()), ("until", "2999-05-03")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(expires_at_of(&app, &grant_id).await, None);
});

app_test!(a_production_role_granted_without_an_end_ends_with_its_production, |app| async move {
    let w = world(&app).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let wrap = now_millis() + 90 * DAY;
    let (status, problem) = app
        .post(
            &operator,
            "/api/v1/productions",
            json!({"id": 55500011, "title": "Old Reel", "ends_at": rfc3339(now_millis() - DAY)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a production cannot end in the past: {problem}");
    assert!(problem.to_string().contains("ends_at"), "{problem}");
    let (status, created) = app
        .post(
            &operator,
            "/api/v1/productions",
            json!({"id": 55500012, "title": "Summer Shoot", "ends_at": rfc3339(wrap)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["ends_at"], json!(rfc3339(wrap)));
    let (_, listed) = app.get(&operator, "/api/v1/productions").await;
    let listed = listed.as_array().unwrap().iter().find(|p| p["id"] == json!(55500012)).cloned().unwrap();
    assert_eq!(listed["ends_at"], json!(rfc3339(wrap)), "the end is stored");

    let academy = |production: i64, expires_at: Option<i64>| {
        let mut role = json!({"application": "production-academy", "role": "academy-user", "production": production});
        if let Some(at) = expires_at {
            role["expires_at"] = json!(rfc3339(at));
        }
        json!({"user_ids": [w.plain], "roles": [role]})
    };
    // No end asked: the production's.
    let (status, answer) = app.post(&operator, "/api/v1/grants", academy(55500012, None)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let grant = answer["granted"][0]["grant_id"].as_str().unwrap().to_string();
    assert_eq!(expires_at_of(&app, &grant).await, Some(wrap));
    // An end of its own wins.
    let sooner = now_millis() + 10 * DAY;
    let (_, answer) = app.post(&operator, "/api/v1/grants", academy(55500012, Some(sooner))).await;
    assert_eq!(answer["granted"][0]["grant_id"], json!(grant));
    assert_eq!(expires_at_of(&app, &grant).await, Some(sooner));
    // The control: a production with no end leaves the role without one.
    app.production(55500013, "Open Ended").await;
    let (_, answer) = app.post(&operator, "/api/v1/grants", academy(55500013, None)).await;
    let open = answer["granted"][0]["grant_id"].as_str().unwrap().to_string();
    assert_eq!(expires_at_of(&app, &open).await, None);
});
