//! The History of an account: appended to, read newest first, never changed.

use serde_json::json;
use sqlx::Row;
use starship_core::ids::{PartnerId, UserId};
use starship_store::history::{self, Actor, Kind, Source};
use starship_store::{Conn, Dialect, Store};

use crate::fixtures;
use crate::support::{store_test, Backend, TestDb};

async fn ana_and_admin(conn: &mut Conn) -> starship_store::Result<(UserId, UserId)> {
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

/// Three chains: two partners' and the one of accounts of no partner.
async fn three_chains(conn: &mut Conn) -> starship_store::Result<(PartnerId, Vec<UserId>)> {
    let acme = fixtures::partner(conn, "Acme Studios").await?.id;
    let zenith = fixtures::partner(conn, "Zenith Films").await?.id;
    let ana = fixtures::user(conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await?.id;
    let bo = fixtures::user(conn, Some(&acme), "bo@acme.example", "Bo", "Berg").await?.id;
    let zoe = fixtures::user(conn, Some(&zenith), "zoe@zenith.example", "Zoe", "Zed").await?.id;
    let olivia = fixtures::user(conn, None, "olivia@starship.example", "Olivia", "Operator").await?.id;
    let system = Actor::system(Source::System);
    for i in 0..3 {
        history::append(conn, &ana, &system, Kind::UserUpdated, json!({ "i": i })).await?;
    }
    // One batch across every chain: each chain's head moves once.
    history::append_many(
        conn,
        &Actor::user(&olivia, "olivia@starship.example", Source::Api),
        vec![
            (bo.clone(), Kind::UserUpdated, json!({"i": 3})),
            (zoe.clone(), Kind::UserUpdated, json!({"i": 0})),
            (olivia.clone(), Kind::UserUpdated, json!({"i": 0})),
            (ana.clone(), Kind::UserUpdated, json!({"i": 4})),
        ],
    )
    .await?;
    Ok((acme, vec![ana, bo, zoe, olivia]))
}

/// `(id, seq, prev_hash, hash)` of a chain's entries in seq order.
async fn chain_of(conn: &mut Conn, chain: &str) -> starship_store::Result<Vec<(String, i64, String, String)>> {
    let rows = sqlx::query("SELECT id, seq, prev_hash, hash FROM history WHERE chain = $1 ORDER BY seq")
        .bind(chain)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))).collect()
}

/// Lifts the append-only triggers, as someone with database access could.
async fn drop_triggers(store: &Store) -> starship_store::Result<()> {
    let statements: &[&str] = match store.dialect() {
        Dialect::Sqlite => &["DROP TRIGGER history_no_update", "DROP TRIGGER history_no_delete"],
        Dialect::Postgres => {
            &["DROP TRIGGER history_no_update ON history", "DROP TRIGGER history_no_delete ON history"]
        }
    };
    for statement in statements {
        sqlx::query(statement).execute(store.pool()).await?;
    }
    Ok(())
}

fn first_problem(v: &history::Verification) -> &history::Mismatch {
    v.chains.iter().find_map(|c| c.problem.as_ref()).expect("a problem")
}

store_test!(each_partners_history_is_one_unbroken_chain, |store| async move {
    let mut conn = store.conn().await?;
    let (acme, _) = three_chains(&mut conn).await?;
    let chain = chain_of(&mut conn, &acme).await?;
    assert_eq!(chain.iter().map(|e| e.1).collect::<Vec<_>>(), [1, 2, 3, 4, 5], "Ana's and Bo's entries, one chain");
    assert_eq!(chain[0].2, history::GENESIS);
    assert!(chain.windows(2).all(|w| w[1].2 == w[0].3), "each entry names the previous one's hash");

    let verified = history::verify(&store).await?;
    assert!(verified.is_intact(), "{verified:?}");
    let chains: Vec<(&str, u64)> = verified.chains.iter().map(|c| (c.chain.as_str(), c.entries)).collect();
    let zenith = verified.chains.iter().find(|c| c.chain != acme && !c.chain.is_empty()).expect("Zenith's chain");
    let mut expected = vec![("", 1), (acme.as_str(), 5), (zenith.chain.as_str(), 1)];
    expected.sort();
    assert_eq!(chains, expected, "the operator's entry is in the chain of no partner");
    let acme_report = verified.chains.iter().find(|c| c.chain == acme).expect("Acme's chain");
    assert_eq!((acme_report.last_seq, &acme_report.last_hash), (5, &chain[4].3));
    let head: (i64, String) = {
        let r = sqlx::query("SELECT seq, hash FROM history_chain_heads WHERE chain = $1")
            .bind(&acme)
            .fetch_one(&mut *conn)
            .await?;
        (r.try_get(0)?, r.try_get(1)?)
    };
    assert_eq!(head, (5, chain[4].3.clone()));
    Ok(())
});

store_test!(verify_names_an_entry_rewritten_with_the_triggers_dropped, |store| async move {
    let mut conn = store.conn().await?;
    let (acme, _) = three_chains(&mut conn).await?;
    let chain = chain_of(&mut conn, &acme).await?;
    drop(conn);
    let refused = sqlx::query("UPDATE history SET details = '{\"i\":99}' WHERE id = $1")
        .bind(&chain[1].0)
        .execute(store.pool())
        .await;
    assert!(refused.is_err(), "the trigger refuses a rewrite");
    drop_triggers(&store).await?;
    sqlx::query("UPDATE history SET details = '{\"i\":99}' WHERE id = $1")
        .bind(&chain[1].0)
        .execute(store.pool())
        .await?;

    let verified = history::verify(&store).await?;
    assert!(!verified.is_intact());
    let problem = first_problem(&verified);
    assert_eq!((problem.id.as_str(), problem.seq, problem.what), (chain[1].0.as_str(), 2, "hash"));
    assert_eq!(problem.stored, chain[1].3);
    assert!(verified.chains.iter().filter(|c| c.chain != acme).all(|c| c.problem.is_none()), "other chains hold");
    Ok(())
});

store_test!(verify_finds_an_entry_removed_from_the_middle_or_the_end, |store| async move {
    let mut conn = store.conn().await?;
    let (acme, _) = three_chains(&mut conn).await?;
    let chain = chain_of(&mut conn, &acme).await?;
    drop(conn);
    drop_triggers(&store).await?;
    sqlx::query("DELETE FROM history WHERE id = $1").bind(&chain[4].0).execute(store.pool()).await?;
    let verified = history::verify(&store).await?;
    let problem = first_problem(&verified);
    assert_eq!((problem.what, problem.seq), ("head", 5), "the chain ends before its head: {problem}");

    sqlx::query("DELETE FROM history WHERE id = $1").bind(&chain[2].0).execute(store.pool()).await?;
    let verified = history::verify(&store).await?;
    let problem = first_problem(&verified);
    assert_eq!((problem.id.as_str(), problem.what, problem.expected.as_str()), (chain[3].0.as_str(), "seq", "3"));
    Ok(())
});

store_test!(verify_finds_an_inserted_entry_and_a_reordered_chain, |store| async move {
    let mut conn = store.conn().await?;
    let (acme, people) = three_chains(&mut conn).await?;
    let chain = chain_of(&mut conn, &acme).await?;
    drop(conn);
    drop_triggers(&store).await?;
    // A forged entry at the end with a correctly computed hash: only the
    // head (and an anchor kept elsewhere) can tell.
    let mut hasher = history::EntryHasher::default();
    let forged = history::Chained {
        chain: &acme,
        seq: 6,
        prev_hash: &chain[4].3,
        id: "forged",
        user_id: &UserId::from(people[0].as_str()),
        at: 1,
        actor_id: None,
        actor: "system",
        source: "system",
        action: "role.granted",
        details: "{}",
    };
    let hash = hasher.hash(&forged);
    sqlx::query(
        "INSERT INTO history (id, user_id, at, actor, source, action, details, chain, seq, prev_hash, hash) \
         VALUES ('forged', $1, 1, 'system', 'system', 'role.granted', '{}', $2, 6, $3, $4)",
    )
    .bind(&people[0])
    .bind(&acme)
    .bind(&chain[4].3)
    .bind(&hash)
    .execute(store.pool())
    .await?;
    let problem = first_problem(&history::verify(&store).await?).clone();
    assert_eq!((problem.what, problem.seq), ("head", 5), "{problem}");
    sqlx::query("DELETE FROM history WHERE id = 'forged'").execute(store.pool()).await?;
    assert!(history::verify(&store).await?.is_intact());

    // Entries 2 and 3 swapped.
    for (from, to) in [(2, -1), (3, 2), (-1, 3)] {
        sqlx::query("UPDATE history SET seq = $1 WHERE chain = $2 AND seq = $3")
            .bind(to)
            .bind(&acme)
            .bind(from)
            .execute(store.pool())
            .await?;
    }
    let problem = first_problem(&history::verify(&store).await?).clone();
    assert_eq!((problem.id.as_str(), problem.seq, problem.what), (chain[2].0.as_str(), 2, "prev_hash"));
    Ok(())
});

/// An old binary's rows: the History columns before the chain (0012).
async fn unchained_entry(store: &Store, user_id: &str, at: i64, action: &str) -> starship_store::Result<()> {
    sqlx::query(
        "INSERT INTO history (id, user_id, at, actor, source, action, details) \
         VALUES ($1, $2, $3, 'system', 'system', $4, '{}')",
    )
    .bind(starship_store::new_id())
    .bind(user_id)
    .bind(at)
    .bind(action)
    .execute(store.pool())
    .await?;
    Ok(())
}

async fn store_with_entries_from_before_the_chain(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(db.url()).await.unwrap();
    let all = match store.dialect() {
        Dialect::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Dialect::Postgres => sqlx::migrate!("migrations/postgres"),
    };
    let before_the_chain = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all.iter().filter(|m| m.version < 12).cloned().collect()),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before_the_chain.run(store.pool()).await.unwrap();
    let mut conn = store.conn().await.unwrap();
    let acme = fixtures::partner(&mut conn, "Acme Studios").await.unwrap().id;
    let ana = fixtures::user(&mut conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await.unwrap().id;
    let olivia = fixtures::user(&mut conn, None, "olivia@starship.example", "Olivia", "Op").await.unwrap().id;
    drop(conn);
    for (i, (user, at)) in [(&ana, 30), (&olivia, 10), (&ana, 20), (&ana, 10)].into_iter().enumerate() {
        unchained_entry(&store, user, at, &format!("old.{i}")).await.unwrap();
    }
    store.migrate().await.unwrap();
    let verified = history::verify(&store).await.unwrap();
    assert!(verified.is_intact(), "{verified:?}");
    assert_eq!(verified.entries(), 4);
    let mut conn = store.conn().await.unwrap();
    let order: Vec<String> = sqlx::query("SELECT action FROM history WHERE chain = $1 ORDER BY seq")
        .bind(&acme)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect();
    assert_eq!(order, ["old.3", "old.2", "old.0"], "old entries are chained in the order they were written");

    // New entries follow them; a row an old instance wrote meanwhile joins
    // at the next start.
    history::append(&mut conn, &ana, &Actor::system(Source::System), Kind::UserUpdated, json!({})).await.unwrap();
    drop(conn);
    unchained_entry(&store, &ana, 5, "late").await.unwrap();
    assert_eq!(history::verify(&store).await.unwrap().unchained.len(), 1, "verify reports a row in no chain");
    store.migrate().await.unwrap();
    let verified = history::verify(&store).await.unwrap();
    assert!(verified.is_intact(), "{verified:?}");
    assert_eq!(verified.chains.iter().find(|c| c.chain == acme).map(|c| c.last_seq), Some(5));
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn entries_from_before_the_chain_are_chained_on_upgrade_sqlite() {
    store_with_entries_from_before_the_chain(Backend::Sqlite).await;
}

#[tokio::test]
async fn entries_from_before_the_chain_are_chained_on_upgrade_postgres() {
    store_with_entries_from_before_the_chain(Backend::Postgres).await;
}

/// Two instances (two pools) appending to the same chains at once, in many
/// transactions each touching two partners in either order: the head row
/// lock serializes them, so the chains verify with no fork and no gap.
#[tokio::test]
async fn concurrent_writers_on_postgres_keep_each_chain_unbroken() {
    let db = TestDb::postgres().await;
    let (one, two) = (Store::open(db.url()).await.unwrap(), Store::open(db.url()).await.unwrap());
    let mut conn = one.conn().await.unwrap();
    let acme = fixtures::partner(&mut conn, "Acme Studios").await.unwrap().id;
    let zenith = fixtures::partner(&mut conn, "Zenith Films").await.unwrap().id;
    let ana = fixtures::user(&mut conn, Some(&acme), "ana@acme.example", "Ana", "Lopez").await.unwrap().id;
    let zoe = fixtures::user(&mut conn, Some(&zenith), "zoe@zenith.example", "Zoe", "Zed").await.unwrap().id;
    drop(conn);
    const WRITERS: usize = 8;
    const TRANSACTIONS: usize = 25;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = if w % 2 == 0 { one.clone() } else { two.clone() };
            let (ana, zoe) = (ana.clone(), zoe.clone());
            tokio::spawn(async move {
                let actor = Actor::system(Source::System);
                for t in 0..TRANSACTIONS {
                    let mut tx = store.begin().await?;
                    // Two appends per transaction, the partners in either order.
                    let (first, second) = if (w + t) % 2 == 0 { (&ana, &zoe) } else { (&zoe, &ana) };
                    history::append(&mut tx, first, &actor, Kind::UserUpdated, json!({"w": w, "t": t})).await?;
                    history::append_many(
                        &mut tx,
                        &actor,
                        vec![
                            (second.clone(), Kind::UserUpdated, json!({"w": w})),
                            (first.clone(), Kind::UserUpdated, json!({"t": t})),
                        ],
                    )
                    .await?;
                    tx.commit().await?;
                }
                Ok::<_, starship_store::StoreError>(())
            })
        })
        .collect();
    let mut deadlocks = 0;
    for task in tasks {
        if let Err(e) = task.await.unwrap() {
            // Opposite lock orders across statements may deadlock; PostgreSQL
            // then aborts one transaction whole, which must leave no trace.
            assert!(e.to_string().contains("deadlock"), "{e}");
            deadlocks += 1;
        }
    }
    assert!(deadlocks < WRITERS, "most writers finished");
    let verified = history::verify(&one).await.unwrap();
    assert!(verified.is_intact(), "{verified:?}");
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM history").fetch_one(one.pool()).await.unwrap();
    assert_eq!(verified.entries() as i64, total);
    assert!(total >= ((WRITERS - deadlocks) * TRANSACTIONS * 3) as i64);
    for chain in &verified.chains {
        assert_eq!(chain.last_seq as u64, chain.entries, "seq 1..n without gaps in chain {}", chain.chain);
    }
    one.close().await;
    two.close().await;
    db.drop_db().await;
}
