//! Backup and restore of a SQLite store. A backup is `VACUUM INTO`: one
//! read transaction copies a consistent snapshot into a new file while
//! other connections keep writing. PostgreSQL has `pg_dump` for this.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Row};

use crate::{Dialect, Result, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backups of PostgreSQL are made with pg_dump and restored with pg_restore (see the README)")]
    NotSqlite,
    #[error("{0} already exists; choose a new file")]
    Exists(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{0} is not a Starship backup: it has no migrations")]
    NotABackup(PathBuf),
    #[error("{0} is not empty ({1}); pass --force to overwrite it")]
    NotEmpty(PathBuf, String),
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Store(StoreError::Database(e))
    }
}

/// The file of a `sqlite://FILE[?…]` URL.
pub fn sqlite_file(url: &str) -> Result<PathBuf, BackupError> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).ok_or(BackupError::NotSqlite)?;
    Ok(PathBuf::from(rest.split('?').next().unwrap_or(rest)))
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

impl Store {
    /// Writes a consistent copy of this SQLite store to `out`, a new file.
    pub async fn backup_to(&self, out: &Path) -> Result<(), BackupError> {
        if self.dialect != Dialect::Sqlite {
            return Err(BackupError::NotSqlite);
        }
        if out.exists() {
            return Err(BackupError::Exists(out.to_path_buf()));
        }
        sqlx::query(&format!("VACUUM INTO {}", quoted(out))).execute(&self.pool).await?;
        Ok(())
    }
}

/// What a store holds, or `None` when it holds nothing worth keeping.
async fn contents(store: &Store) -> Result<Option<String>, BackupError> {
    let tables: i64 = sqlx::query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
        .fetch_one(store.pool())
        .await?
        .try_get("n")?;
    if tables == 0 {
        return Ok(None);
    }
    let counted =
        sqlx::query("SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM partners) AS partners")
            .fetch_one(store.pool())
            .await;
    Ok(match counted {
        Ok(row) => {
            let (users, partners): (i64, i64) = (row.try_get("users")?, row.try_get("partners")?);
            (users + partners > 0).then(|| format!("{users} users, {partners} partners"))
        }
        Err(_) => Some(format!("{tables} tables that are not Starship's")),
    })
}

/// Replaces the SQLite store at `db_url` with the backup `from`, then
/// migrates it. Refuses a store that holds users or partners unless
/// `force`. No instance may be serving the store meanwhile.
pub async fn restore_sqlite(from: &Path, db_url: &str, force: bool) -> Result<(), BackupError> {
    let target = sqlite_file(db_url)?;
    if !from.exists() {
        return Err(BackupError::Missing(from.to_path_buf()));
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(from).read_only(true);
    let mut source = sqlx::SqliteConnection::connect_with(&options).await?;
    let migrated = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut source)
        .await
        .and_then(|row| row.try_get::<i64, _>("n"));
    if !matches!(migrated, Ok(n) if n > 0) {
        let _ = source.close().await;
        return Err(BackupError::NotABackup(from.to_path_buf()));
    }
    if target.exists() {
        let existing = Store::connect(db_url).await?;
        let held = contents(&existing).await;
        existing.close().await;
        if let Some(held) = held? {
            if !force {
                let _ = source.close().await;
                return Err(BackupError::NotEmpty(target, held));
            }
        }
    }
    let mut staging = target.clone().into_os_string();
    staging.push(".restoring");
    let staging = PathBuf::from(staging);
    let _ = std::fs::remove_file(&staging);
    let copied = sqlx::query(&format!("VACUUM INTO {}", quoted(&staging))).execute(&mut source).await;
    let _ = source.close().await;
    copied?;
    for suffix in ["-wal", "-shm"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(BackupError::Io(side.into(), e)),
            _ => {}
        }
    }
    std::fs::rename(&staging, &target).map_err(|e| BackupError::Io(target.clone(), e))?;
    Store::open(db_url).await?.close().await;
    Ok(())
}
