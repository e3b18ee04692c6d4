//! Which migrations a store has applied, against the ones this binary
//! carries: what `migrate --dry-run` lists, what `/readyz` checks, and why
//! an older binary refuses a store a newer one has migrated.

use sqlx::migrate::Migrator;
use sqlx::Row;

use crate::{Dialect, Result, Store, StoreError};

pub(crate) static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
pub(crate) static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// A migration this binary carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub version: i64,
    pub description: String,
}

/// The store's migrations compared with the binary's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Carried by this binary and not applied yet, in order.
    pub pending: Vec<Known>,
    /// Applied to the store but unknown to this binary: a newer binary
    /// migrated it.
    pub unknown: Vec<i64>,
}

impl Status {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

pub(crate) fn migrator(dialect: Dialect) -> &'static Migrator {
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    }
}

/// The migrations of this binary, in order.
pub fn known(dialect: Dialect) -> Vec<Known> {
    migrator(dialect)
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| Known { version: m.version, description: m.description.to_string() })
        .collect()
}

/// The error an instance stops with when the store is newer than it.
pub fn newer_store(unknown: &[i64]) -> StoreError {
    let versions: Vec<String> = unknown.iter().map(i64::to_string).collect();
    StoreError::NewerStore(versions.join(", "))
}

impl Store {
    /// Versions the store records as applied; none on a store never migrated.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let table = match self.dialect {
            Dialect::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query(table).fetch_one(&self.pool).await?.try_get("n")?;
        if exists == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| r.try_get::<i64, _>("version")).collect::<Result<_, _>>()?)
    }

    pub async fn migration_status(&self) -> Result<Status> {
        let applied = self.applied_migrations().await?;
        let known = known(self.dialect);
        let unknown = applied.iter().copied().filter(|v| !known.iter().any(|k| k.version == *v)).collect();
        let pending = known.into_iter().filter(|k| !applied.contains(&k.version)).collect();
        Ok(Status { pending, unknown })
    }
}
