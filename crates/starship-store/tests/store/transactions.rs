//! Writes composed in one transaction.

use serde_json::json;
use starship_store::history::{self, Actor, Kind, Source};
use starship_store::{partners, users};

use crate::fixtures;
use crate::support::store_test;

store_test!(a_transaction_dropped_without_commit_writes_nothing, |store| async move {
    let (partner_id, user_id) = {
        let mut tx = store.begin().await?;
        let acme = fixtures::partner(&mut tx, "Acme Studios").await?;
        let ana = fixtures::user(&mut tx, Some(&acme.id), "ana@acme.example", "Ana", "Lopez").await?;
        history::append(&mut tx, &ana.id, &Actor::system(Source::Api), Kind::UserCreated, json!({})).await?;
        assert!(users::get(&mut tx, &ana.id).await?.is_some(), "the transaction sees its own writes");
        (acme.id, ana.id)
    };

    let mut conn = store.conn().await?;
    assert!(partners::get(&mut conn, &partner_id).await?.is_none());
    assert!(users::get(&mut conn, &user_id).await?.is_none());
    assert!(partners::list(&mut conn, None).await?.is_empty());
    assert!(history::list(&mut conn, &user_id, None, &[], 10).await?.is_empty());
    drop(conn);

    // The store takes writes again: the abandoned transaction holds no lock.
    let mut tx = store.begin().await?;
    fixtures::partner(&mut tx, "Acme Studios").await?;
    tx.commit().await?;
    Ok(())
});

store_test!(a_committed_transaction_writes_everything, |store| async move {
    let mut tx = store.begin().await?;
    let acme = fixtures::partner(&mut tx, "Acme Studios").await?;
    let ana = fixtures::user(&mut tx, Some(&acme.id), "ana@acme.example", "Ana", "Lopez").await?;
    history::append(&mut tx, &ana.id, &Actor::system(Source::Api), Kind::UserCreated, json!({})).await?;
    tx.commit().await?;

    let mut conn = store.conn().await?;
    assert_eq!(partners::get(&mut conn, &acme.id).await?.map(|p| p.name).as_deref(), Some("Acme Studios"));
    assert!(users::get(&mut conn, &ana.id).await?.is_some());
    assert_eq!(history::list(&mut conn, &ana.id, None, &[], 10).await?.len(), 1);
    Ok(())
});

store_test!(a_failed_write_rolls_back_the_whole_transaction, |store| async move {
    let mut conn = store.conn().await?;
    let acme = fixtures::partner(&mut conn, "Acme Studios").await?;
    fixtures::user(&mut conn, Some(&acme.id), "ana@acme.example", "Ana", "Lopez").await?;
    drop(conn);

    let mut tx = store.begin().await?;
    fixtures::partner(&mut tx, "Zenith Post").await?;
    let taken = fixtures::user(&mut tx, Some(&acme.id), "ANA@acme.example", "Another", "Ana").await;
    assert!(taken.is_err());
    tx.rollback().await?;

    let mut conn = store.conn().await?;
    let names: Vec<String> = partners::list(&mut conn, None).await?.into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Acme Studios"]);
    Ok(())
});

store_test!(concurrent_write_transactions_all_commit, |store| async move {
    let mut writers: tokio::task::JoinSet<starship_store::Result<()>> = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        writers.spawn(async move {
            let mut tx = store.begin().await?;
            let partner = fixtures::partner(&mut tx, &format!("Partner {i}")).await?;
            fixtures::user(
                &mut tx,
                Some(&partner.id),
                &format!("user{i}@partner.example"),
                "User",
                &format!("Number {i}"),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        });
    }
    while let Some(written) = writers.join_next().await {
        written??;
    }
    let mut conn = store.conn().await?;
    assert_eq!(partners::list(&mut conn, None).await?.len(), 8);
    Ok(())
});

store_test!(a_read_transaction_sees_one_snapshot_and_lets_writers_through, |store| async move {
    let acme = {
        let mut conn = store.conn().await?;
        let acme = fixtures::partner(&mut conn, "Acme Studios").await?;
        fixtures::user(&mut conn, Some(&acme.id), "ana@acme.example", "Ana", "Lopez").await?;
        acme.id
    };
    let mut read = store.begin_read().await?;
    assert_eq!(users::page_of_partner(&mut read, &acme, None, None, 10).await?.len(), 1);

    // A writer commits while the read is open: it is not held up...
    let mut tx = store.begin().await?;
    fixtures::user(&mut tx, Some(&acme), "ben@acme.example", "Ben", "Okafor").await?;
    tx.commit().await?;

    // ...and the read goes on seeing the list as it was when it began.
    assert_eq!(users::page_of_partner(&mut read, &acme, None, None, 10).await?.len(), 1);
    read.commit().await?;
    let mut conn = store.conn().await?;
    assert_eq!(users::page_of_partner(&mut conn, &acme, None, None, 10).await?.len(), 2);
    Ok(())
});
