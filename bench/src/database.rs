//! The database each store is measured on: made fresh, or the one a kept
//! run left; removed afterwards unless kept; analyzed and sized.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use starship_store::sqlx::{self, Connection, Executor};
use starship_store::{Dialect, Store};

use crate::args::{Args, Only};
use crate::log;

/// A database made fresh for one run, removed at the end unless kept.
pub(crate) enum Place {
    Sqlite(Option<tempfile::TempDir>, PathBuf),
    Postgres { server: String, name: String },
}

pub(crate) async fn fresh_database(dialect: Dialect, args: &Args) -> Result<(String, Place)> {
    match dialect {
        Dialect::Sqlite => {
            let (dir, path) = match &args.sqlite_dir {
                Some(dir) => {
                    std::fs::create_dir_all(dir)?;
                    let path = dir.join("starship_bench.db");
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                    }
                    (None, path)
                }
                None => {
                    let dir = tempfile::tempdir()?;
                    let path = dir.path().join("starship_bench.db");
                    (Some(dir), path)
                }
            };
            Ok((format!("sqlite://{}", path.display()), Place::Sqlite(dir, path)))
        }
        Dialect::Postgres => {
            let server = args.pg_server.trim_end_matches('/').to_string();
            let name = args.pg_database.clone();
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                bail!("--pg-database must be letters, digits and _");
            }
            let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
            admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
            admin.execute(format!("CREATE DATABASE {name}").as_str()).await?;
            admin.close().await?;
            Ok((format!("{server}/{name}"), Place::Postgres { server, name }))
        }
    }
}

/// The database a run with `--keep` left, as it is.
pub(crate) fn kept_database(dialect: Dialect, args: &Args) -> Result<(String, Place)> {
    if args.only != Some(Only::Search) {
        bail!("--reuse measures search only: add --only search");
    }
    match dialect {
        Dialect::Sqlite => {
            let dir = args.sqlite_dir.as_ref().ok_or_else(|| anyhow!("--reuse on SQLite needs --sqlite-dir"))?;
            let path = dir.join("starship_bench.db");
            if !path.exists() {
                bail!("no kept database at {}", path.display());
            }
            Ok((format!("sqlite://{}", path.display()), Place::Sqlite(None, path)))
        }
        Dialect::Postgres => {
            let server = args.pg_server.trim_end_matches('/').to_string();
            let name = args.pg_database.clone();
            Ok((format!("{server}/{name}"), Place::Postgres { server, name }))
        }
    }
}

pub(crate) async fn remove_database(place: Place, keep: bool) -> Result<()> {
    match place {
        Place::Sqlite(dir, path) => {
            if keep {
                log!("kept {}", path.display());
                std::mem::forget(dir);
            } else if dir.is_none() {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
        }
        Place::Postgres { server, name } => {
            if keep {
                log!("kept database {name}");
            } else {
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
                admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
                admin.close().await?;
            }
        }
    }
    Ok(())
}

/// Fresh planner statistics (PostgreSQL also vacuums, so autovacuum does not
/// start in the middle of the measurements, and checkpoints).
pub(crate) async fn analyze(store: &Store) -> Result<()> {
    let started = Instant::now();
    match store.dialect() {
        Dialect::Sqlite => {
            store.pool().execute("ANALYZE").await?;
            store.pool().execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Dialect::Postgres => {
            store.pool().execute("VACUUM (ANALYZE)").await?;
            store.pool().execute("CHECKPOINT").await?;
        }
    }
    log!("analyzed in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

pub(crate) async fn database_size(store: &Store, place: &Place) -> Result<String> {
    Ok(match place {
        Place::Sqlite(_, path) => {
            let bytes: u64 = ["", "-wal"]
                .iter()
                .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
                .map(|m| m.len())
                .sum();
            format!("{} MiB", bytes / (1024 * 1024))
        }
        Place::Postgres { .. } => {
            let row = sqlx::query("SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS size")
                .fetch_one(store.pool())
                .await?;
            let bytes: i64 = sqlx::Row::try_get(&row, "size")?;
            format!("{} MiB", bytes / (1024 * 1024))
        }
    })
}

pub(crate) fn store_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
    }
}
