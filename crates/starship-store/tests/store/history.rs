//! The History of an account: appended to, read newest first, never changed.

use serde_json::json;
use starship_store::history::{self, Actor, Kind, Source};
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
    history::append(
        &mut conn,
        &ana,
        &Actor::system(Source::Cli),
        Kind::UserCreated,
        json!({"email": "ana@acme.example"}),
    )
    .await?;
    tick().await;
    history::append(
        &mut conn,
        &ana,
        &by_admin,
        Kind::RoleGranted,
        json!({"application": "backlot", "role": "content-partner-operations"}),
    )
    .await?;
    tick().await;
    history::append(&mut conn, &ana, &by_admin, Kind::AdminPrivilegeAdded, json!({"application": "backlot"})).await?;
    history::append(&mut conn, &admin, &by_admin, Kind::UserUpdated, json!({})).await?;

    let entries = history::list(&mut conn, &ana, None, &[], 10).await?;
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["admin-privilege.added", "role.granted", "user.created"]);
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
    for (i, kind) in Kind::ALL[..5].iter().enumerate() {
        history::append(&mut conn, &ana, &system, *kind, json!({ "i": i })).await?;
    }
    let everything: Vec<String> =
        history::list(&mut conn, &ana, None, &[], 10).await?.into_iter().map(|e| e.action).collect();
    assert_eq!(
        everything,
        Kind::ALL[..5].iter().rev().map(|k| k.as_str()).collect::<Vec<_>>(),
        "newest first even within one millisecond"
    );

    let first = history::list(&mut conn, &ana, None, &[], 2).await?;
    let last = first.last().expect("a first page");
    let second = history::list(&mut conn, &ana, Some((last.at, &last.id)), &[], 2).await?;
    let third = {
        let last = second.last().expect("a second page");
        history::list(&mut conn, &ana, Some((last.at, &last.id)), &[], 2).await?
    };
    let paged: Vec<String> = first.into_iter().chain(second).chain(third).map(|e| e.action).collect();
    assert_eq!(paged, everything);
    Ok(())
});

store_test!(the_database_refuses_to_change_or_delete_history, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = ana_and_admin(&mut conn).await?;
    history::append(&mut conn, &ana, &Actor::system(Source::System), Kind::UserCreated, json!({})).await?;
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
    let actions: Vec<String> =
        history::list(&mut conn, &ana, None, &[], 10).await?.into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["user.created"]);
    Ok(())
});

store_test!(history_is_read_by_kind, |store| async move {
    let mut conn = store.conn().await?;
    let (ana, _) = ana_and_admin(&mut conn).await?;
    let system = Actor::system(Source::System);
    for kind in [Kind::SignedIn, Kind::RoleGranted, Kind::SignedOut, Kind::RoleRevoked, Kind::SignedIn] {
        history::append(&mut conn, &ana, &system, kind, json!({})).await?;
    }
    let read = |entries: Vec<history::Entry>| entries.into_iter().map(|e| e.action).collect::<Vec<_>>();
    let access = [Kind::RoleGranted, Kind::RoleRevoked];
    assert_eq!(read(history::list(&mut conn, &ana, None, &access, 10).await?), ["role.revoked", "role.granted"]);
    let first = history::list(&mut conn, &ana, None, &[Kind::SignedIn], 1).await?;
    let cursor = (first[0].at, first[0].id.as_str());
    let rest = history::list(&mut conn, &ana, Some(cursor), &[Kind::SignedIn], 10).await?;
    assert_eq!((first.len(), read(rest)), (1, vec!["signed-in".to_string()]), "a filtered list pages on its own kinds");
    assert_eq!(history::list(&mut conn, &ana, None, &[], 10).await?.len(), 5);
    Ok(())
});
