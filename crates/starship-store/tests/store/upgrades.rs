//! Upgrades: what would run, a store newer than the binary, and several
//! instances migrating one database at once.

use sqlx::Row;
use starship_store::{schema, Store, StoreError};

use crate::support::{store_test, Backend, TestDb};

store_test!(a_store_newer_than_the_binary_is_refused_naming_its_versions, |store| async move {
    assert!(store.migration_status().await?.is_current());
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         SELECT v.version, 'from a newer starshipd', success, checksum, execution_time \
         FROM _sqlx_migrations, (SELECT 9998 AS version UNION ALL SELECT 9999) v WHERE _sqlx_migrations.version = 1",
    )
    .execute(store.pool())
    .await?;
    let status = store.migration_status().await?;
    assert_eq!(status.unknown, [9998, 9999]);
    assert!(status.pending.is_empty());
    let refused = store.migrate().await.expect_err("an older binary must not migrate a newer store");
    assert!(matches!(refused, StoreError::NewerStore(_)), "{refused:?}");
    assert!(refused.to_string().contains("versions 9998, 9999"), "{refused}");
    Ok(())
});

async fn fresh_store_lists_every_migration_as_pending(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(db.url()).await.unwrap();
    let status = store.migration_status().await.unwrap();
    let known = schema::known(store.dialect());
    assert!(known.len() >= 10);
    assert_eq!(status.pending, known, "a fresh store needs every migration");
    assert!(status.unknown.is_empty());
    assert!(store.applied_migrations().await.unwrap().is_empty(), "listing ran nothing");
    store.migrate().await.unwrap();
    assert!(store.migration_status().await.unwrap().is_current());
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn a_fresh_sqlite_store_lists_every_migration_as_pending() {
    fresh_store_lists_every_migration_as_pending(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_fresh_postgres_store_lists_every_migration_as_pending() {
    fresh_store_lists_every_migration_as_pending(Backend::Postgres).await;
}

/// Two instances starting together on one new PostgreSQL database: sqlx's
/// migrator holds `pg_advisory_lock` from before it creates its table, so
/// both succeed and each migration is applied once.
#[tokio::test]
async fn two_instances_migrating_one_fresh_postgres_database_apply_each_migration_once() {
    let db = TestDb::postgres().await;
    let (first, second) = (Store::connect(db.url()).await.unwrap(), Store::connect(db.url()).await.unwrap());
    let (a, b) = tokio::join!(first.migrate(), second.migrate());
    a.expect("the first instance migrates");
    b.expect("the second instance migrates");
    let rows = sqlx::query("SELECT version, COUNT(*) AS n FROM _sqlx_migrations GROUP BY version ORDER BY version")
        .fetch_all(first.pool())
        .await
        .unwrap();
    let applied: Vec<(i64, i64)> = rows.iter().map(|r| (r.get("version"), r.get("n"))).collect();
    let known: Vec<(i64, i64)> = schema::known(first.dialect()).iter().map(|m| (m.version, 1)).collect();
    assert_eq!(applied, known, "every migration applied exactly once");
    first.close().await;
    second.close().await;
    db.drop_db().await;
}
