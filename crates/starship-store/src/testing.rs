//! Fresh databases for tests, on SQLite and on PostgreSQL (enabled by the
//! `testing` feature; used by this crate's and the server's test suites).
//!
//! PostgreSQL is reached through `STARSHIP_TEST_PG`, an admin URL
//! (default `postgres://postgres@127.0.0.1:5432/postgres`); every test
//! creates its own database there and drops it when done. The test
//! databases use an ICU collation on purpose: prefix search must not depend
//! on the server's default collation.

use sqlx::{Connection, Executor, PgConnection};

pub const DEFAULT_PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database created for one test. Call [`TestDb::drop_db`] when done; if
/// a test never gets there, dropping the guard removes the database anyway.
pub struct TestDb {
    url: String,
    place: Option<Place>,
}

enum Place {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A new SQLite file in a temporary directory; the file itself is created
    /// by whoever opens the URL.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory for the SQLite test database");
        let url = format!("sqlite://{}", dir.path().join("starship.db").display());
        TestDb { url, place: Some(Place::Sqlite(dir)) }
    }

    /// A new, empty PostgreSQL database with a unique name.
    pub async fn postgres() -> TestDb {
        let admin_url = std::env::var("STARSHIP_TEST_PG").unwrap_or_else(|_| DEFAULT_PG_ADMIN_URL.to_string());
        let name = format!("starship_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL at {admin_url} (set STARSHIP_TEST_PG to an admin URL): {e}")
        });
        admin
            .execute(
                format!(
                    "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
                )
                .as_str(),
            )
            .await
            .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        TestDb { url, place: Some(Place::Postgres { admin_url, name }) }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Removes the database. Close every pool on it first: PostgreSQL's
    /// connections are cut anyway (`WITH (FORCE)`), SQLite's file is not
    /// removed while a connection holds it open on every platform.
    pub async fn drop_db(mut self) {
        if let Some(place) = self.place.take() {
            remove(place).await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(place) = self.place.take() else {
            return;
        };
        // No async in Drop: drop the database from a thread of its own, so
        // this works inside and outside a runtime.
        let done = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database")
                .block_on(remove(place))
        })
        .join();
        if done.is_err() && !std::thread::panicking() {
            panic!("dropping the test database failed");
        }
    }
}

async fn remove(place: Place) {
    match place {
        Place::Sqlite(dir) => drop(dir),
        Place::Postgres { admin_url, name } => {
            let mut admin = PgConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin_url} to drop {name}: {e}"));
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .unwrap_or_else(|e| panic!("dropping test database {name}: {e}"));
            let _ = admin.close().await;
        }
    }
}

/// The admin URL pointed at another database on the same server.
fn with_database(admin_url: &str, database: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}
