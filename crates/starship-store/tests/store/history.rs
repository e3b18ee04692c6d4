//! The History of an account: appended to, read newest first, never changed.

use serde_json::json;
use starship_store::history::{self, Actor, Source};
use starship_store::{Conn, Dialect};

use crate::fixtures;
use crate::support::store_test;

async fn ana_and_admin(conn: &mut Conn) -> starship_store::Result<(String, String)> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    let ana = fixtures::user(conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await?.id;
    let admin = fixtures::user(conn, Some(&acme), "admin@acme.example", "Alex", "Admin").await?.id;
    Ok((ana, admin))
}

/// Entries a millisecond apart, so their order does not rest on id order alone.
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
}

store_test!(history_lists_what_happened_newest_first, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, admin) = ana_and_admin(&mut conn).await?;
    let by_admin = Actor::user(&admin, "admin@acme.example", Source::Web);
    history::append(&mut conn, &ana, &Actor::system(Source::Cli), "user.created", json!({"email": "ana@acme.example"}))
        .await?;
    tick().await;
    history::append(
        &mut conn,
        &ana,
        &by_admin,
        "role.granted",
        json!({"application": "backlot", "role": "content-partner-operations"}),
    )
    .await?;
    tick().await;
    history::append(&mut conn, &ana, &by_admin, "admin.granted", json!({"application": "backlot"})).await?;
    history::append(&mut conn, &admin, &by_admin, "profile.updated", json!({})).await?;

    let entries = history::list(&mut conn, &ana, None, 10).await?;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["admin.granted", "role.granted", "user.created"]);
    assert!(entries.windows(2).all(|w| w[0].at >= w[1].at));
    assert!(entries.iter().all(|e| e.user_id == ana));

    let granted = &entries[1];
    assert_eq!(
        (granted.actor_id.as_deref(), granted.actor.as_str(), granted.source.as_str()),
        (Some(admin.as_str()), "admin@acme.example", "web")
    );
    assert_eq!(granted.details, json!({"application": "backlot", "role": "content-partner-operations"}));
    let created = &entries[2];
    assert_eq!((created.actor_id.as_deref(), created.actor.as_str(), created.source.as_str()), (None, "system", "cli"));
    Ok(())
});

store_test!(history_pages_from_a_cursor, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = ana_and_admin(&mut conn).await?;
    let system = Actor::system(Source::System);
    for i in 0..5 {
        history::append(&mut conn, &ana, &system, &format!("step.{i}"), json!({ "i": i })).await?;
    }
    let everything: Vec<String> =
        history::list(&mut conn, &ana, None, 10).await?.into_iter().map(|e| e.action).collect();
    assert_eq!(
        everything,
        ["step.4", "step.3", "step.2", "step.1", "step.0"],
        "newest first even within one millisecond"
    );

    let first = history::list(&mut conn, &ana, None, 2).await?;
    let last = first.last().expect("a first page");
    let second = history::list(&mut conn, &ana, Some((last.at, &last.id)), 2).await?;
    let third = {
        let last = second.last().expect("a second page");
        history::list(&mut conn, &ana, Some((last.at, &last.id)), 2).await?
    };
    let paged: Vec<String> = first.into_iter().chain(second).chain(third).map(|e| e.action).collect();
    assert_eq!(paged, everything);
    Ok(())
});

store_test!(the_database_refuses_to_change_or_delete_history, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = ana_and_admin(&mut conn).await?;
    history::append(&mut conn, &ana, &Actor::system(Source::System), "user.created", json!({})).await?;
    drop(conn);

    let update = sqlx::query("UPDATE history SET action = 'forged'").execute(store.pool()).await;
    assert!(update.is_err(), "an UPDATE of history went through");
    let delete = sqlx::query("DELETE FROM history").execute(store.pool()).await;
    assert!(delete.is_err(), "a DELETE from history went through");
    let targeted = sqlx::query("DELETE FROM history WHERE user_id = $1").bind(&ana).execute(store.pool()).await;
    assert!(targeted.is_err(), "a DELETE of one user's history went through");
    if store.dialect() == Dialect::Postgres {
        let truncate = sqlx::query("TRUNCATE history").execute(store.pool()).await;
        assert!(truncate.is_err(), "a TRUNCATE of history went through");
    }

    let mut conn = store.conn().await?;
    let actions: Vec<String> = history::list(&mut conn, &ana, None, 10).await?.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["user.created"]);
    Ok(())
});
