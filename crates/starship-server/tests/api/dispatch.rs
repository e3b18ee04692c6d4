//! The outbox dispatcher against a real SMTP server: everything delivered,
//! retried through failures, and never twice, across instances and crashes.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use starship_server::dispatch::{DispatchConfig, Dispatcher};
use starship_store::outbox::{self, NewMessage};

use crate::smtp::SmtpSink;
use crate::support::*;

fn config(sink: &SmtpSink) -> DispatchConfig {
    let mut config = DispatchConfig::new(&sink.url(), "Starship <no-reply@starship.example>").unwrap();
    config.first_retry = Duration::from_millis(50);
    config.max_retry = Duration::from_millis(200);
    config.batch = 4;
    config
}

async fn queue(app: &TestApp, count: usize) {
    let mut conn = app.store.conn().await.unwrap();
    for i in 0..count {
        let recipient = format!("person.{i}@sunrise.example");
        let body = format!("message {i}");
        outbox::enqueue(
            &mut conn,
            &NewMessage { recipient: &recipient, user_id: None, kind: "test", subject: "Hello", body: &body },
        )
        .await
        .unwrap();
    }
}

async fn until_all_sent(app: &TestApp, dispatchers: &[&Dispatcher], expected: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        for dispatcher in dispatchers {
            dispatcher.deliver_due().await.unwrap();
        }
        let messages = outbox::list(&mut app.store.conn().await.unwrap(), None, 10_000).await.unwrap();
        if messages.iter().filter(|m| m.sent_at.is_some()).count() == expected {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "not everything was sent in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_each_once(sink: &SmtpSink, expected: usize) {
    let received = sink.received();
    let ids: HashSet<&str> = received.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids.len(), expected, "every message delivered");
    assert_eq!(received.len(), expected, "no message delivered twice");
}

app_test!(queued_email_reaches_a_real_smtp_server_once, |app| async move {
    let w = world(&app).await;
    let sink = SmtpSink::start(0);
    let admin = app.signed_in("mara.master@sunrise.example").await;
    let (status, _) = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"email": "ana.lopez@sunrise.example", "first_name": "Ana", "last_name": "Lopez", "locale": "es-ES"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let dispatcher = Dispatcher::new(app.store.clone(), config(&sink)).unwrap();
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 1);
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 0, "nothing is sent twice");
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["ana.lopez@sunrise.example"]);
    assert!(received[0].data.contains("Bienvenido a Starship"), "{}", received[0].data);
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox").await;
    assert_eq!(outbox[0]["status"], "sent");
    let _ = w;
});

app_test!(a_server_that_fails_at_first_is_retried_until_everything_is_delivered, |app| async move {
    let sink = SmtpSink::start(3);
    queue(&app, 6).await;
    let dispatcher = Dispatcher::new(app.store.clone(), config(&sink)).unwrap();
    until_all_sent(&app, &[&dispatcher], 6).await;
    assert_each_once(&sink, 6);
    let messages = outbox::list(&mut app.store.conn().await.unwrap(), None, 100).await.unwrap();
    let retried = messages.iter().filter(|m| m.attempts > 1).count();
    assert_eq!(retried, 3, "the three refused messages were retried");
});

app_test!(two_instances_and_a_crashed_one_never_send_a_message_twice, |app| async move {
    let sink = SmtpSink::start(0);
    queue(&app, 40).await;
    // An instance claims five messages and dies before sending them.
    {
        let mut tx = app.store.begin().await.unwrap();
        let claimed = outbox::claim(&mut tx, app.store.dialect(), "crashed-instance", 60_000, 5).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(claimed.len(), 5);
    }
    let first = Dispatcher::new(app.store.clone(), config(&sink)).unwrap();
    let second = Dispatcher::new(app.store.clone(), config(&sink)).unwrap();
    let (a, b) = tokio::join!(first.deliver_due(), second.deliver_due());
    assert_eq!(a.unwrap() + b.unwrap(), 35, "the crashed instance's claims are left alone while they last");
    // The first instance restarts; time passes and the crashed claims run out.
    drop(first);
    starship_store::sqlx::query("UPDATE outbox SET locked_until = 1 WHERE claim_token = 'crashed-instance'")
        .execute(app.store.pool())
        .await
        .unwrap();
    let restarted = Dispatcher::new(app.store.clone(), config(&sink)).unwrap();
    until_all_sent(&app, &[&restarted, &second], 40).await;
    assert_each_once(&sink, 40);
});

app_test!(a_batch_that_outlasts_its_lease_leaves_the_rest_to_the_instance_that_took_them, |app| async move {
    // The slow instance claims a batch of five; the SMTP server holds its
    // first delivery until the test lets it go. Meanwhile the claims on
    // the other four run out (set in the database, as time passing would)
    // and the late instance takes and sends them. When the held delivery
    // ends, the slow instance renews each remaining claim before sending
    // and finds it gone: no message leaves twice. Nothing here waits on a
    // clock.
    let sink = SmtpSink::gated(1);
    queue(&app, 5).await;
    let mut lease_config = config(&sink);
    lease_config.lease = Duration::from_secs(60);
    lease_config.batch = 5;
    let slow = Dispatcher::new(app.store.clone(), lease_config.clone()).unwrap();
    let late = Dispatcher::new(app.store.clone(), lease_config).unwrap();
    let slow_run = tokio::spawn(async move { slow.deliver_due().await });
    let held = sink.first_held().await;
    let expired = starship_store::sqlx::query(
        "UPDATE outbox SET locked_until = 1 WHERE claim_token IS NOT NULL AND sent_at IS NULL AND id <> $1",
    )
    .bind(&held)
    .execute(app.store.pool())
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(expired, 4, "the slow instance claimed the whole batch");
    let late_sent = late.deliver_due().await.unwrap();
    assert_eq!(late_sent, 4, "the late instance took over the expired claims");
    sink.open_gate();
    let slow_sent = slow_run.await.unwrap().unwrap();
    assert_eq!(slow_sent, 1, "the slow instance sent only the message it still held");
    assert_each_once(&sink, 5);
});

app_test!(an_undeliverable_address_fails_for_good_without_retries, |app| async move {
    let sink = SmtpSink::start(0);
    {
        let mut conn = app.store.conn().await.unwrap();
        outbox::enqueue(
            &mut conn,
            &NewMessage { recipient: "not an address", user_id: None, kind: "test", subject: "x", body: "y" },
        )
        .await
        .unwrap();
    }
    let dispatcher = Dispatcher::new(app.store.clone(), config(&sink)).unwrap();
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 0);
    assert_eq!(dispatcher.deliver_due().await.unwrap(), 0);
    let messages = outbox::list(&mut app.store.conn().await.unwrap(), None, 10).await.unwrap();
    assert!(messages[0].failed_at.is_some());
    assert_eq!(messages[0].attempts, 1);
    assert!(sink.received().is_empty());
});

app_test!(stopping_finishes_the_message_in_hand_and_hands_back_the_rest_of_the_claim, |app| async move {
    // What SIGTERM does to the dispatcher: the delivery under way ends,
    // the rest of the batch is released at once for another instance
    // instead of waiting out the lease.
    let sink = SmtpSink::gated(1);
    queue(&app, 5).await;
    let mut lease_config = config(&sink);
    lease_config.lease = Duration::from_secs(60);
    lease_config.batch = 5;
    let dispatcher = Dispatcher::new(app.store.clone(), lease_config).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(dispatcher.run(stopped));
    let held = sink.first_held().await;
    let claimed = |sql: &'static str| {
        let pool = app.store.pool().clone();
        async move { starship_store::sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(claimed("SELECT COUNT(*) FROM outbox WHERE claim_token IS NOT NULL").await, 5);
    stop.send(true).unwrap();
    sink.open_gate();
    running.await.unwrap();
    let messages = outbox::list(&mut app.store.conn().await.unwrap(), None, 100).await.unwrap();
    let sent: Vec<&str> = messages.iter().filter(|m| m.sent_at.is_some()).map(|m| m.id.as_str()).collect();
    assert_eq!(sent, [held.as_str()], "the message in hand was sent, no other");
    assert_eq!(
        claimed("SELECT COUNT(*) FROM outbox WHERE claim_token IS NOT NULL OR locked_until IS NOT NULL").await,
        0
    );
    assert_each_once(&sink, 1);
});
