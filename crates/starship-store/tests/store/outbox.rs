//! Queued email and single-use links.

use starship_core::ids::{MessageId, UserId};
use starship_store::outbox::{self, NewMessage};
use starship_store::{now_millis, Conn};

use crate::fixtures;
use crate::support::store_test;

const DAY: i64 = 86_400_000;

async fn ana(conn: &mut Conn) -> starship_store::Result<UserId> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    Ok(fixtures::user(conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await?.id)
}

store_test!(queued_emails_are_listed_newest_first_and_by_recipient, |store| async move {
    let mut conn = store.conn().await?;
    let ana = ana(&mut conn).await?;
    let welcome = NewMessage {
        recipient: "Ana@Acme.example",
        user_id: Some(&ana),
        kind: "activation",
        subject: "Welcome",
        body: "Activate: …",
    };
    let first = outbox::enqueue(&mut conn, &welcome).await?;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let report =
        NewMessage { recipient: "ops@zenith.example", user_id: None, kind: "report", subject: "Weekly", body: "…" };
    let second = outbox::enqueue(&mut conn, &report).await?;

    let all = outbox::list(&mut conn, None, 10).await?;
    let ids: Vec<&str> = all.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    let queued = &all[1];
    assert_eq!(
        (queued.recipient.as_str(), queued.user_id.as_deref(), queued.kind.as_str()),
        ("Ana@Acme.example", Some(ana.as_str()), "activation")
    );
    assert_eq!((queued.subject.as_str(), queued.body.as_str()), ("Welcome", "Activate: …"));
    assert_eq!((queued.attempts, queued.sent_at, queued.last_error.as_deref()), (0, None, None));

    let for_ana: Vec<MessageId> =
        outbox::list(&mut conn, Some("ana@acme.EXAMPLE"), 10).await?.into_iter().map(|m| m.id).collect();
    assert_eq!(for_ana, [first.as_str()], "recipients compare case-insensitively");
    assert_eq!(outbox::list(&mut conn, None, 1).await?.len(), 1);
    assert!(outbox::list(&mut conn, Some("nobody@acme.example"), 10).await?.is_empty());
    Ok(())
});

store_test!(an_activation_link_works_once, |store| async move {
    let mut conn = store.conn().await?;
    let ana = ana(&mut conn).await?;
    outbox::insert_link(&mut conn, "link-hash", &ana, "activation", now_millis() + DAY).await?;
    assert_eq!(outbox::use_link(&mut conn, "link-hash", "invitation").await?, None, "a link for another purpose");
    assert_eq!(outbox::use_link(&mut conn, "link-hash", "activation").await?, Some(ana.clone()));
    assert_eq!(outbox::use_link(&mut conn, "link-hash", "activation").await?, None, "used twice");
    assert_eq!(outbox::use_link(&mut conn, "unknown-hash", "activation").await?, None);
    Ok(())
});

store_test!(an_expired_link_does_not_work, |store| async move {
    let mut conn = store.conn().await?;
    let ana = ana(&mut conn).await?;
    outbox::insert_link(&mut conn, "old-link", &ana, "activation", now_millis() - 1).await?;
    assert_eq!(outbox::use_link(&mut conn, "old-link", "activation").await?, None);
    Ok(())
});

store_test!(a_new_link_replaces_the_earlier_one_for_the_same_purpose, |store| async move {
    let mut conn = store.conn().await?;
    let ana = ana(&mut conn).await?;
    outbox::insert_link(&mut conn, "invitation-1", &ana, "invitation", now_millis() + DAY).await?;
    outbox::insert_link(&mut conn, "activation-1", &ana, "activation", now_millis() + DAY).await?;
    outbox::insert_link(&mut conn, "activation-2", &ana, "activation", now_millis() + DAY).await?;
    assert_eq!(outbox::use_link(&mut conn, "activation-1", "activation").await?, None, "the earlier link still works");
    assert_eq!(outbox::use_link(&mut conn, "activation-2", "activation").await?, Some(ana.clone()));
    assert_eq!(
        outbox::use_link(&mut conn, "invitation-1", "invitation").await?,
        Some(ana.clone()),
        "another purpose is untouched"
    );
    Ok(())
});

store_test!(a_claim_taken_over_after_its_lease_cannot_be_held_again, |store| async move {
    let mut conn = store.conn().await?;
    let message =
        NewMessage { recipient: "ops@zenith.example", user_id: None, kind: "report", subject: "s", body: "b" };
    let id = outbox::enqueue(&mut conn, &message).await?;
    let slow = outbox::claim(&mut conn, store.dialect(), "slow-instance", 60_000, 10).await?;
    assert_eq!(slow.len(), 1);
    assert!(outbox::hold(&mut conn, &id, "slow-instance", 60_000).await?, "the holder renews its own claim");
    assert!(
        outbox::claim(&mut conn, store.dialect(), "other-instance", 60_000, 10).await?.is_empty(),
        "a live claim is left alone"
    );

    // The slow instance's lease runs out before it reaches the message.
    starship_store::sqlx::query("UPDATE outbox SET locked_until = 1").execute(&mut *conn).await?;
    let taken = outbox::claim(&mut conn, store.dialect(), "other-instance", 60_000, 10).await?;
    assert_eq!(taken.len(), 1);
    assert!(!outbox::hold(&mut conn, &id, "slow-instance", 60_000).await?, "the lost claim is not renewed");
    assert!(!outbox::mark_sent(&mut conn, &id, "slow-instance").await?);
    assert!(outbox::mark_sent(&mut conn, &id, "other-instance").await?);
    assert!(!outbox::hold(&mut conn, &id, "other-instance", 60_000).await?, "a sent message is not held");
    Ok(())
});

store_test!(a_released_claim_goes_to_another_instance_at_once, |store| async move {
    let mut conn = store.conn().await?;
    for i in 0..3 {
        let recipient = format!("person.{i}@acme.example");
        let message = NewMessage { recipient: &recipient, user_id: None, kind: "test", subject: "Hi", body: "…" };
        outbox::enqueue(&mut conn, &message).await?;
    }
    let stopping = outbox::claim(&mut conn, store.dialect(), "stopping-instance", 60_000, 10).await?;
    assert_eq!(stopping.len(), 3);
    assert!(outbox::mark_sent(&mut conn, &stopping[0].id, "stopping-instance").await?);
    assert!(outbox::claim(&mut conn, store.dialect(), "other-instance", 60_000, 10).await?.is_empty());
    assert_eq!(outbox::release(&mut conn, "other-instance").await?, 0, "a token releases only its own claims");
    assert_eq!(outbox::release(&mut conn, "stopping-instance").await?, 2, "the sent message stays sent");
    let taken = outbox::claim(&mut conn, store.dialect(), "other-instance", 60_000, 10).await?;
    let mut taken: Vec<MessageId> = taken.into_iter().map(|m| m.id).collect();
    taken.sort();
    let mut unsent: Vec<MessageId> = stopping[1..].iter().map(|m| m.id.clone()).collect();
    unsent.sort();
    assert_eq!(taken, unsent, "the unsent messages go at once, not after the lease");
    Ok(())
});
