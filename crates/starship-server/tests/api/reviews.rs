//! Access reviews: who opens and decides them, what closing does, the
//! reminder, and several instances closing at once.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_core::ids::GrantId;
use starship_core::time_fmt::rfc3339_from_millis;
use starship_server::ops::reviews::{close_due, send_reminders};
use starship_store::now_millis;

use crate::support::*;

const MARA: &str = "mara.master@sunrise.example";
const OPERATOR: &str = "olivia.operator@starship.example";
const HOUR: i64 = 3_600_000;

fn due_in(hours: i64) -> (i64, String) {
    let at = now_millis() + hours * HOUR;
    (at, rfc3339_from_millis(at))
}

/// The grant ids of a review's items, by holder.
fn grant_of(review: &Value, user: &str) -> String {
    review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["user_id"] == user)
        .unwrap_or_else(|| panic!("no item of {user} in {review}"))["grant_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn holders(review: &Value) -> Vec<String> {
    let mut users: Vec<String> =
        review["items"].as_array().unwrap().iter().map(|i| i["user_id"].as_str().unwrap().to_string()).collect();
    users.sort();
    users
}

async fn reviews_count(app: &TestApp) -> i64 {
    app.count("access_reviews").await + app.count("access_review_items").await
}

app_test!(operators_and_the_applications_admins_open_reviews_of_every_grant_in_the_partner, |app| async move {
    let w = world(&app).await;
    let pat_grant = app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let (_, due) = due_in(24);
    let operator = app.signed_in(OPERATOR).await;
    let (status, review) = app
        .post(
            &operator,
            "/api/v1/access-reviews",
            json!({"partner_id": w.sunrise, "application": "backlot", "due_at": due}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    // Sunrise's three Backlot grants; Northwind's (Nina's) is not Sunrise's to review.
    let mut expected = vec![w.backlot_admin.clone(), w.master_only.clone(), w.plain.clone()];
    expected.sort();
    assert_eq!(holders(&review), expected);
    assert_eq!(grant_of(&review, &w.plain), pat_grant);
    assert_eq!((review["total"].as_i64(), review["decided"].as_i64()), (Some(3), Some(0)));
    assert!(review["items"][0].get("decision").is_none(), "undecided at first: {review}");

    // A partner's Backlot admin opens one of their own partner without naming it.
    let mara = app.signed_in(MARA).await;
    let (status, own) =
        app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    assert_eq!(own["partner_id"], w.sunrise.as_str());
    let (status, read) = app.get(&mara, &format!("/api/v1/access-reviews/{}", own["id"].as_str().unwrap())).await;
    assert_eq!((status, holders(&read)), (StatusCode::OK, expected.clone()));
    let (_, list) = app.get(&mara, "/api/v1/access-reviews").await;
    assert_eq!(list["reviews"].as_array().unwrap().len(), 2, "both Sunrise reviews: {list}");
});

app_test!(
    opening_is_refused_to_other_admins_other_partners_and_production_admins_for_the_whole_app,
    |app| async move {
        let w = world(&app).await;
        let paula = app.member(Some(&w.sunrise), "paula.production@sunrise.example").await;
        app.admin(&paula, "production-academy", Some(HOME_THEATER)).await;
        let on_show = app.grant(&w.plain, "production-academy", "academy-user", Some(HOME_THEATER)).await;
        app.grant(&w.master_only, "production-academy", "academy-user", Some(123)).await;
        let (_, due) = due_in(24);
        let before = reviews_count(&app).await;

        // Alex administers Production Academy, not Backlot.
        let alex = app.signed_in("alex.academy@sunrise.example").await;
        let (status, problem) =
            app.post(&alex, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        // Nina administers Backlot, at Northwind.
        let nina = app.signed_in("nina.north@northwind.example").await;
        let (status, _) = app
            .post(
                &nina,
                "/api/v1/access-reviews",
                json!({"partner_id": w.sunrise, "application": "backlot", "due_at": due}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Paula administers one production: not the whole application.
        let paula_client = app.signed_in("paula.production@sunrise.example").await;
        let whole = json!({"application": "production-academy", "due_at": due});
        let (status, problem) = app.post(&paula_client, "/api/v1/access-reviews", whole).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
        let operator = app.signed_in(OPERATOR).await;
        let (status, problem) =
            app.post(&operator, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "operators name the partner: {problem}");
        let (_, past) = due_in(-1);
        let (status, problem) = app
            .post(&alex, "/api/v1/access-reviews", json!({"application": "production-academy", "due_at": past}))
            .await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("due_at"))
        );
        assert_eq!(reviews_count(&app).await, before, "a refused opening writes nothing");

        // Her production's review she may open, and it holds only its grants.
        let show = json!({"application": "production-academy", "production": HOME_THEATER, "due_at": due});
        let (status, review) = app.post(&paula_client, "/api/v1/access-reviews", show).await;
        assert_eq!(status, StatusCode::CREATED, "{review}");
        assert_eq!(holders(&review), vec![w.plain.clone()]);
        assert_eq!(grant_of(&review, &w.plain), on_show);
        // And the whole application's review, opened by Alex, she may not read.
        let (_, whole) = app
            .post(&alex, "/api/v1/access-reviews", json!({"application": "production-academy", "due_at": due}))
            .await;
        let (status, _) =
            app.get(&paula_client, &format!("/api/v1/access-reviews/{}", whole["id"].as_str().unwrap())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, list) = app.get(&paula_client, "/api/v1/access-reviews").await;
        assert_eq!(list["reviews"].as_array().unwrap().len(), 1, "only her production's review: {list}");
    }
);

app_test!(reviewers_keep_or_revoke_and_may_change_their_mind_until_the_due_date, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let elsewhere = app.grant(&w.outsider, "backlot", "content-partner-operations", None).await;
    let mara = app.signed_in(MARA).await;
    let (_, due) = due_in(24);
    let (_, review) = app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
    let id = review["id"].as_str().unwrap();
    let decisions = format!("/api/v1/access-reviews/{id}/decisions");
    let (morgan, pat) = (grant_of(&review, &w.master_only), grant_of(&review, &w.plain));

    let (status, item) =
        app.post(&mara, &decisions, json!({"grant_id": morgan, "decision": "keep", "note": "Runs the team"})).await;
    assert_eq!(status, StatusCode::OK, "{item}");
    assert_eq!(
        (item["decision"].as_str(), item["decided_by"].as_str()),
        (Some("keep"), Some(w.backlot_admin.as_str()))
    );
    let (status, _) = app.post(&mara, &decisions, json!({"grant_id": pat, "decision": "revoke"})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, read) = app.get(&mara, &format!("/api/v1/access-reviews/{id}")).await;
    assert_eq!(read["decided"], 2);
    let (status, item) = app.post(&mara, &decisions, json!({"grant_id": pat, "decision": "keep"})).await;
    assert_eq!((status, item["decision"].as_str()), (StatusCode::OK, Some("keep")), "a decision may change");

    // A grant that is not an item, even a real one elsewhere, is named.
    for grant in [elsewhere.as_str(), "no-such-grant"] {
        let (status, problem) = app.post(&mara, &decisions, json!({"grant_id": grant, "decision": "keep"})).await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("grant_id"))
        );
    }
    let (status, _) = app.post(&mara, &decisions, json!({"grant_id": pat, "decision": "maybe"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Another partner's admin: the review does not exist for her.
    let nina = app.signed_in("nina.north@northwind.example").await;
    assert_eq!(app.get(&nina, &format!("/api/v1/access-reviews/{id}")).await.0, StatusCode::NOT_FOUND);
    let (status, _) = app.post(&nina, &decisions, json!({"grant_id": pat, "decision": "revoke"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Morgan holds the Master role but administers nothing.
    let morgan_client = app.signed_in("morgan.master@sunrise.example").await;
    let (status, _) = app.post(&morgan_client, &decisions, json!({"grant_id": pat, "decision": "revoke"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, read) = app.get(&mara, &format!("/api/v1/access-reviews/{id}")).await;
    let pat_item = read["items"].as_array().unwrap().iter().find(|i| i["grant_id"] == pat.as_str()).unwrap().clone();
    assert_eq!(pat_item["decision"], "keep", "refused decisions changed nothing: {read}");
});

// Mara may decide on every other item of the review: only the rule that
// nobody certifies their own access refuses her own grant.
app_test!(nobody_decides_on_their_own_grant, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let (_, due) = due_in(24);
    let (_, review) = app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
    let decisions = format!("/api/v1/access-reviews/{}/decisions", review["id"].as_str().unwrap());
    let own = grant_of(&review, &w.backlot_admin);
    let (status, problem) = app.post(&mara, &decisions, json!({"grant_id": own, "decision": "keep"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("own access"), "{problem}");
    let (status, _) =
        app.post(&mara, &decisions, json!({"grant_id": grant_of(&review, &w.master_only), "decision": "keep"})).await;
    assert_eq!(status, StatusCode::OK, "the same admin decides on someone else's grant");
    let operator = app.signed_in(OPERATOR).await;
    let (status, _) = app.post(&operator, &decisions, json!({"grant_id": own, "decision": "keep"})).await;
    assert_eq!(status, StatusCode::OK, "someone else decides on hers");
});

app_test!(closing_revokes_every_grant_not_kept_and_keeps_the_kept_ones, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let mara = app.signed_in(MARA).await;
    let (due_at, due) = due_in(24);
    let (_, review) = app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
    let id = review["id"].as_str().unwrap();
    let decisions = format!("/api/v1/access-reviews/{id}/decisions");
    let (morgan, pat, own) =
        (grant_of(&review, &w.master_only), grant_of(&review, &w.plain), grant_of(&review, &w.backlot_admin));
    app.post(&mara, &decisions, json!({"grant_id": morgan, "decision": "keep"})).await;
    app.post(&mara, &decisions, json!({"grant_id": pat, "decision": "revoke"})).await;
    // A revoke decision takes effect at closing, not before.
    let grant_exists = |grant: String| {
        let app = app.clone();
        async move {
            let mut conn = app.store.conn().await.unwrap();
            starship_store::grants::get(&mut conn, &GrantId::from(grant.as_str())).await.unwrap().is_some()
        }
    };
    assert!(grant_exists(pat.clone()).await);
    assert_eq!(close_due(&app.store, due_at - 1).await.unwrap(), 0, "not due yet");

    assert_eq!(close_due(&app.store, due_at).await.unwrap(), 1);
    assert!(grant_exists(morgan.clone()).await, "kept");
    assert!(!grant_exists(pat.clone()).await, "revoked on decision");
    assert!(!grant_exists(own.clone()).await, "revoked for want of a decision");
    assert_eq!(close_due(&app.store, due_at + HOUR).await.unwrap(), 0, "closed once");

    let operator = app.signed_in(OPERATOR).await;
    let (_, history) = app.get(&operator, &format!("/api/v1/users/{}/history", w.plain)).await;
    let entry = history.as_array().unwrap().iter().find(|e| e["action"] == "role.revoked-by-review");
    let entry = entry.unwrap_or_else(|| panic!("no review entry in {history}"));
    assert_eq!((entry["actor"].as_str(), entry["source"].as_str()), (Some("system"), Some("system")));
    let details = &entry["details"];
    assert_eq!((details["review_id"].as_str(), details["grant_id"].as_str()), (Some(id), Some(pat.as_str())));
    assert_eq!(
        (details["application"].as_str(), details["role"].as_str()),
        (Some("backlot"), Some("content-partner-operations"))
    );
    assert_eq!(details["decision"], "revoke");
    let (_, history) = app.get(&operator, &format!("/api/v1/users/{}/history", w.backlot_admin)).await;
    let entry = history.as_array().unwrap().iter().find(|e| e["action"] == "role.revoked-by-review").unwrap();
    assert_eq!(entry["details"]["decision"], Value::Null, "nobody decided: {entry}");
    let (_, history) = app.get(&operator, &format!("/api/v1/users/{}/history", w.master_only)).await;
    assert!(!history.to_string().contains("revoked-by-review"), "the kept grant has no entry");

    let (_, read) = app.get(&mara, &format!("/api/v1/access-reviews/{id}")).await;
    assert!(read["closed_at"].is_string(), "{read}");
    let (status, problem) = app.post(&mara, &decisions, json!({"grant_id": morgan, "decision": "revoke"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a closed review takes no decision: {problem}");
});

app_test!(the_reminder_goes_once_to_each_admin_with_something_to_decide, |app| async move {
    let w = world(&app).await;
    let bea = app.member(Some(&w.sunrise), "bea.backlot@sunrise.example").await;
    app.admin(&bea, "backlot", None).await;
    let mara = app.signed_in(MARA).await;
    let (_, soon) = due_in(48);
    let (_, later) = due_in(24 * 10);
    let (_, review) =
        app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": soon})).await;
    app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": later})).await;
    // Mara decides on Morgan's grant: what remains for her is her own, which
    // only another admin may decide.
    let decisions = format!("/api/v1/access-reviews/{}/decisions", review["id"].as_str().unwrap());
    app.post(&mara, &decisions, json!({"grant_id": grant_of(&review, &w.master_only), "decision": "keep"})).await;

    let before = app.count("outbox").await;
    assert_eq!(send_reminders(&app.state, now_millis()).await.unwrap(), 1, "to Bea only; the later review waits");
    assert_eq!(send_reminders(&app.state, now_millis()).await.unwrap(), 0, "once");
    assert_eq!(app.count("outbox").await, before + 1);
    let operator = app.signed_in(OPERATOR).await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox?recipient=bea.backlot@sunrise.example").await;
    let message = &outbox.as_array().unwrap()[0];
    assert_eq!(message["kind"], "access-review-reminder");
    assert!(message["body"].as_str().unwrap().contains(&format!("/reviews/{}", review["id"].as_str().unwrap())));
    let (_, outbox) = app.get(&operator, &format!("/api/v1/outbox?recipient={MARA}")).await;
    assert!(outbox.as_array().unwrap().is_empty(), "nothing left for Mara to decide: {outbox}");
});

// Two instances run the pass at the same moment: each review is closed by
// one of them, and each grant revoked and written to History once.
app_test!(two_instances_closing_at_once_close_each_review_once, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let mara = app.signed_in(MARA).await;
    let (due_at, due) = due_in(24);
    for _ in 0..3 {
        let (status, _) =
            app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let other = starship_store::Store::open(&app.db_url()).await.unwrap();
    let (a, b) = tokio::join!(close_due(&app.store, due_at), close_due(&other, due_at));
    assert_eq!(a.unwrap() + b.unwrap(), 3, "every review closed once");
    other.close().await;
    // The first review to close revoked the three grants; the others found
    // them gone: one entry per grant.
    let n: i64 =
        starship_store::sqlx::query_scalar("SELECT COUNT(*) FROM history WHERE action = 'role.revoked-by-review'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(n, 3);
});
