//! SQLite backups of a live store, and restoring one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sqlx::Row;
use starship_store::backup::{self, BackupError};
use starship_store::Store;

use crate::fixtures;
use crate::support::TestDb;

async fn partner_ids(store: &Store) -> Vec<String> {
    sqlx::query("SELECT id FROM partners").fetch_all(store.pool()).await.unwrap().iter().map(|r| r.get("id")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_opens_migrates_and_holds_every_row_committed_before_it() {
    let db = TestDb::sqlite();
    let store = Store::open(db.url()).await.unwrap();
    let committed = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (store, committed, stop) = (store.clone(), committed.clone(), stop.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let mut tx = store.begin().await.unwrap();
                let id = fixtures::partner(&mut tx, &format!("Partner {n}")).await.unwrap().id;
                tx.commit().await.unwrap();
                committed.lock().unwrap().push(id.into_string());
                n += 1;
            }
        }
    });
    while committed.lock().unwrap().len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup.db");
    let before: Vec<String> = committed.lock().unwrap().clone();
    store.backup_to(&out).await.unwrap();
    let during = committed.lock().unwrap().len();
    while committed.lock().unwrap().len() < during + 50 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    assert!(matches!(store.backup_to(&out).await, Err(BackupError::Exists(_))), "a backup never overwrites");
    let copy = Store::open(&format!("sqlite://{}", out.display())).await.expect("the copy opens and migrates");
    assert!(copy.migration_status().await.unwrap().is_current());
    let copied = partner_ids(&copy).await;
    let missing: Vec<&String> = before.iter().filter(|id| !copied.contains(id)).collect();
    assert!(missing.is_empty(), "{} rows committed before the backup are missing", missing.len());
    let all = committed.lock().unwrap().clone();
    assert!(copied.iter().all(|id| all.contains(id)), "the copy holds only committed rows");
    assert!(copied.len() < all.len(), "writes went on after the backup");
    copy.close().await;
    store.close().await;
    db.drop_db().await;
}

#[tokio::test]
async fn restore_refuses_a_store_with_data_unless_forced() {
    let (source_db, target_db) = (TestDb::sqlite(), TestDb::sqlite());
    let source = Store::open(source_db.url()).await.unwrap();
    let acme = fixtures::partner(&mut source.conn().await.unwrap(), "Acme Studios").await.unwrap().id;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    source.backup_to(&file).await.unwrap();
    source.close().await;

    backup::restore_sqlite(&file, target_db.url(), false).await.expect("a store that does not exist yet is empty");
    let target = Store::open(target_db.url()).await.unwrap();
    assert_eq!(partner_ids(&target).await, std::slice::from_ref(&acme));
    let zenith = fixtures::partner(&mut target.conn().await.unwrap(), "Zenith").await.unwrap().id;
    target.close().await;

    let refused = backup::restore_sqlite(&file, target_db.url(), false).await.expect_err("the store holds data");
    assert!(matches!(refused, BackupError::NotEmpty(..)), "{refused}");
    assert!(refused.to_string().contains("--force"), "{refused}");
    let target = Store::open(target_db.url()).await.unwrap();
    assert_eq!(partner_ids(&target).await.len(), 2, "nothing was overwritten");
    target.close().await;

    backup::restore_sqlite(&file, target_db.url(), true).await.unwrap();
    let target = Store::open(target_db.url()).await.unwrap();
    assert_eq!(partner_ids(&target).await, [acme], "{zenith} is gone with the overwritten store");
    target.close().await;
    let not_a_backup = dir.path().join("empty.db");
    std::fs::write(&not_a_backup, b"").unwrap();
    assert!(matches!(
        backup::restore_sqlite(&not_a_backup, target_db.url(), true).await,
        Err(BackupError::NotABackup(_))
    ));
    source_db.drop_db().await;
    target_db.drop_db().await;
}
