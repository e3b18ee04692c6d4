//! The outbox for operators: the list by address, part of an address and
//! status (queued, retrying, sent, failed), a page at a time; a failed
//! message queued again with Resend, from the API and the operators' page,
//! recorded in the operator's History. Partner people are refused it whole.

use reqwest::StatusCode;
use serde_json::Value;
use starship_store::outbox::{self, NewMessage};
use starship_store::sqlx;

use crate::support::*;
use crate::web::{csrf_of, location, page, signed_in_browser};

/// Operations on the outbox, which belongs to no partner: a partner's
/// people are refused them whole (403), so the cross-partner tables
/// (hostile.rs, isolation.rs) leave them to the tests here.
pub(crate) const OPERATOR_ONLY_OPERATIONS: [(&str, &str); 1] = [("POST", "/api/v1/outbox/{id}/resend")];
pub(crate) const OPERATOR_ONLY_PAGES: [(&str, &str); 1] = [("POST", "/outbox/{id}/resend")];

const OPERATOR: &str = "olivia.operator@starship.example";

/// Queues a message to `recipient`, then sets its delivery columns to
/// `status`; returns its id.
pub(crate) async fn message(app: &TestApp, recipient: &str, status: &str) -> String {
    let mut conn = app.store.conn().await.unwrap();
    let new = NewMessage { recipient, user_id: None, kind: "welcome", subject: "Welcome to Starship", body: "Hello" };
    let id = outbox::enqueue(&mut conn, &new).await.unwrap();
    let set = match status {
        "queued" => None,
        "retrying" => Some("attempts = 2, last_error = 'connection refused'"),
        "sent" => Some("attempts = 1, sent_at = created_at + 1"),
        "failed" => Some("attempts = 1, failed_at = created_at + 1, last_error = '550 mailbox unavailable'"),
        other => panic!("no status {other}"),
    };
    if let Some(set) = set {
        sqlx::query(&format!("UPDATE outbox SET {set} WHERE id = $1")).bind(&id).execute(&mut *conn).await.unwrap();
    }
    // Distinct creation times, so the order newest first is known.
    sqlx::query("UPDATE outbox SET created_at = created_at + (SELECT COUNT(*) FROM outbox) WHERE id = $1")
        .bind(&id)
        .execute(&mut *conn)
        .await
        .unwrap();
    id.into_string()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect()
}

app_test!(operators_find_email_by_part_of_the_address_and_by_status_a_page_at_a_time, |app| async move {
    world(&app).await;
    let queued = message(&app, "ana.lopez@sunrise.example", "queued").await;
    let retrying = message(&app, "Ben.Ortiz@Sunrise.example", "retrying").await;
    let sent = message(&app, "cleo@northwind.example", "sent").await;
    let failed = message(&app, "dan_50%@sunrise.example", "failed").await;
    let operator = app.signed_in(OPERATOR).await;

    let (status, all) = app.get(&operator, "/api/v1/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&all), [failed.as_str(), sent.as_str(), retrying.as_str(), queued.as_str()], "newest first");
    let statuses: Vec<&str> = all.as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "sent", "retrying", "queued"]);

    for (status, id) in [("queued", &queued), ("retrying", &retrying), ("sent", &sent), ("failed", &failed)] {
        let (_, list) = app.get(&operator, &format!("/api/v1/outbox?status={status}")).await;
        assert_eq!(ids(&list), [id.as_str()], "status={status}");
    }
    // Any part of the address, in any case; wildcards match themselves.
    let (_, list) = app.get(&operator, "/api/v1/outbox?q=SUNRISE").await;
    assert_eq!(ids(&list), [failed.as_str(), retrying.as_str(), queued.as_str()]);
    let (_, list) = app.get(&operator, "/api/v1/outbox?q=ortiz&status=retrying").await;
    assert_eq!(ids(&list), [retrying.as_str()]);
    let (_, list) = app.get(&operator, "/api/v1/outbox?q=_50%25").await;
    assert_eq!(ids(&list), [failed.as_str()]);
    let (_, list) = app.get(&operator, "/api/v1/outbox?q=i_e").await;
    assert!(ids(&list).is_empty(), "an underscore is no wildcard: {list}");

    // Pages: older than the second, newer than the third.
    let (_, list) = app.get(&operator, &format!("/api/v1/outbox?limit=2&before={sent}")).await;
    assert_eq!(ids(&list), [retrying.as_str(), queued.as_str()]);
    let (_, list) = app.get(&operator, &format!("/api/v1/outbox?limit=2&after={retrying}")).await;
    assert_eq!(ids(&list), [failed.as_str(), sent.as_str()], "the newer page, newest first");
    let (_, list) = app.get(&operator, &format!("/api/v1/outbox?limit=1&after={queued}")).await;
    assert_eq!(ids(&list), [retrying.as_str()], "the page just newer");
    let (_, list) = app.get(&operator, "/api/v1/outbox?before=01234567-89ab-7def-8123-456789abcdef").await;
    assert!(ids(&list).is_empty(), "an unknown cursor is an empty page");

    let (status, problem) = app.get(&operator, "/api/v1/outbox?status=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(problem.to_string().contains("queued, retrying, sent, failed"), "{problem}");
    let (status, _) = app.get(&operator, &format!("/api/v1/outbox?before={sent}&after={sent}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let mara = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.get(&mara, "/api/v1/outbox?status=failed").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

app_test!(an_operator_resends_a_failed_email_and_history_records_it, |app| async move {
    let w = world(&app).await;
    let failed = message(&app, "dan@sunrise.example", "failed").await;
    let sent = message(&app, "eve@sunrise.example", "sent").await;
    let retrying = message(&app, "fay@sunrise.example", "retrying").await;
    let operator = app.signed_in(OPERATOR).await;

    let mara = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app.call(&mara, "POST", &format!("/api/v1/outbox/{failed}/resend"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, resent) = app.call(&operator, "POST", &format!("/api/v1/outbox/{failed}/resend"), None).await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["status"], "queued");
    assert_eq!(resent["attempts"], 0);
    assert!(resent.get("last_error").is_none(), "{resent}");
    // The dispatcher may claim it now.
    let due: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE id = $1 AND next_attempt_at <= $2")
        .bind(&failed)
        .bind(starship_store::now_millis())
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(due, 1);

    for id in [&failed, &sent, &retrying] {
        let (status, problem) = app.call(&operator, "POST", &format!("/api/v1/outbox/{id}/resend"), None).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(problem["detail"].as_str().unwrap().starts_with("only a failed message can be sent again"));
    }
    let unknown = "01234567-89ab-7def-8123-456789abcdef";
    let (status, _) = app.call(&operator, "POST", &format!("/api/v1/outbox/{unknown}/resend"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT source, actor, details FROM history WHERE user_id = $1 AND action = 'outbox.resent'")
            .bind(&w.operator)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "one resend, in the operator's History");
    let (source, actor, details) = &rows[0];
    assert_eq!((source.as_str(), actor.as_str()), ("api", OPERATOR));
    let details: Value = serde_json::from_str(details).unwrap();
    assert_eq!(details["message_id"], failed.as_str());
    assert_eq!(details["recipient"], "dan@sunrise.example");
    assert_eq!(details["last_error"], "550 mailbox unavailable");
});

app_test!(the_outbox_page_searches_filters_pages_and_resends_for_operators_only, |app| async move {
    world(&app).await;
    let failed = message(&app, "dan@sunrise.example", "failed").await;
    for n in 0..55 {
        message(&app, &format!("bulk.{n}@northwind.example"), "sent").await;
    }
    let browser = signed_in_browser(&app, OPERATOR).await;
    let (status, html) = page(&app, &browser, "/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/outbox" aria-current="page""#), "the operators' nav links the page");
    assert!(html.contains("bulk.54@northwind.example") && !html.contains("dan@sunrise.example"), "a page of 50");
    let older =
        html.split(r#"<a class="button" href=""#).nth(1).unwrap().split('"').next().unwrap().replace("&amp;", "&");
    assert!(older.starts_with("/outbox?before="), "{older}");
    let (_, html) = page(&app, &browser, &older).await;
    assert!(html.contains("dan@sunrise.example") && html.contains(">Newer<") && !html.contains(">Older<"));

    let (_, html) = page(&app, &browser, "/outbox?q=SUNRISE&status=failed").await;
    assert!(html.contains("dan@sunrise.example") && !html.contains("northwind.example"));
    assert!(html.contains("550 mailbox unavailable"));
    let csrf = csrf_of(&html);
    let form = [("csrf", csrf.as_str()), ("q", "SUNRISE"), ("status", "failed")];
    let response = browser.post(app.url(&format!("/outbox/{failed}/resend"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/outbox?q=SUNRISE&status=failed&done=resent");
    let (_, html) = page(&app, &browser, "/outbox?q=sunrise&status=queued&done=resent").await;
    assert!(html.contains("The email is queued again"), "{html}");
    assert!(html.contains("dan@sunrise.example") && !html.contains(">Resend<"));
    assert_eq!(app.count("history WHERE action = 'outbox.resent' AND source = 'web'").await, 1);

    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (status, _) = page(&app, &mara, "/outbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, home) = page(&app, &mara, "/").await;
    assert!(!home.contains(r#"href="/outbox""#), "the page is not offered to people who may not use it");
    let mara_csrf = csrf_of(&home);
    let failed_again = message(&app, "gus@sunrise.example", "failed").await;
    for (_, path) in OPERATOR_ONLY_PAGES {
        let path = path.replace("{id}", &failed_again);
        let response = mara.post(app.url(&path)).form(&[("csrf", mara_csrf.as_str())]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.count("outbox WHERE failed_at IS NOT NULL").await, 1);
});
