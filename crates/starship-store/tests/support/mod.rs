//! A fresh store per test, on SQLite and on PostgreSQL.
//!
//! The databases come from `starship_store::testing` (the `testing`
//! feature, shared with the server's tests): [`TestDb`] is a database URL
//! nobody else uses and a guard that removes the database afterwards. Here,
//! [`run`] opens a [`Store`] on one, runs a test body, and removes the
//! database even when the body panics; [`store_test!`] writes the same test
//! once for each store.

#![allow(dead_code)]

use std::future::Future;

use starship_store::Store;

// The crate's own `testing` module, compiled into these tests: enabling the
// feature for this crate's tests would take a dev-dependency on itself.
#[path = "../../src/testing.rs"]
mod testing;
pub use testing::{Backend, TestDb, DEFAULT_PG_ADMIN_URL};

/// What a test body returns: `?` works on any error.
pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Opens a store on a fresh database, runs `body` on it, and removes the
/// database whatever happens. A panic or error in the body fails the test
/// after cleanup.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    let db = TestDb::new(backend).await;
    let store =
        Store::open(db.url()).await.unwrap_or_else(|e| panic!("opening a {backend:?} store on {}: {e}", db.url()));
    let outcome = tokio::spawn(body(store.clone())).await;
    store.close().await;
    db.drop_db().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("test failed on {backend:?}: {e}"),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => panic!("test task on {backend:?} did not finish: {join}"),
    }
}

/// `store_test!(name, |store| async move { ...; Ok(()) })` writes the test
/// twice, as `name::sqlite` and `name::postgres`, each on a fresh store.
macro_rules! store_test {
    ($name:ident, |$store:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, |$store| $body).await;
            }

            #[tokio::test]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, |$store| $body).await;
            }
        }
    };
}
pub(crate) use store_test;

#[cfg(test)]
mod tests {
    use sqlx::{Connection, PgConnection, Row};

    use super::{TestDb, DEFAULT_PG_ADMIN_URL};

    #[tokio::test]
    async fn a_test_database_is_removed_even_when_drop_db_is_never_called() {
        let sqlite = TestDb::sqlite();
        let file = std::path::PathBuf::from(sqlite.url().strip_prefix("sqlite://").expect("a SQLite URL"));
        let dir = file.parent().expect("the database's directory").to_path_buf();
        assert!(dir.exists());
        drop(sqlite);
        assert!(!dir.exists(), "the SQLite directory outlived its guard");

        let postgres = TestDb::postgres().await;
        let name = postgres.url().rsplit('/').next().expect("a database name").to_string();
        assert!(name.starts_with("starship_test_"), "{}", postgres.url());
        drop(postgres);
        let admin_url = std::env::var("STARSHIP_TEST_PG").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_string());
        let mut admin = PgConnection::connect(&admin_url).await.expect("PostgreSQL");
        let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("pg_database")
            .get("n");
        assert_eq!(left, 0, "database {name} outlived its guard");
    }
}
