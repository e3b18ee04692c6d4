//! The limit an import is held to (issue #17): the very rows the import
//! wrote — users, History (and its chain's head), activation links and
//! welcome emails — written again by the fastest means the machine has, in
//! one transaction, into the same tables with the same indexes:
//! - SQLite: a fresh database migrated like the store (so the same tables,
//!   indexes, triggers and pragmas), filled through SQLite's C API
//!   (rusqlite, prepared statements bound per row);
//! - PostgreSQL: `COPY … FROM STDIN` into copies of the same tables made
//!   with `LIKE … INCLUDING ALL` (columns, defaults, checks, indexes).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use starship_store::sqlx::{self, any::AnyRow, Column, Connection, Executor, Row, ValueRef};
use starship_store::{Dialect, Store};

/// One value as both stores hold it: the schema uses only these.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Text(String),
}

struct Table {
    name: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

/// The tables an import writes, in the order foreign keys allow, each with
/// the query that reads back what the import of `partner` wrote there, in
/// the order the import wrote it (ids are UUIDv7, so by id; links in the
/// order of their people), so the limit fills each index as the import did.
const WRITTEN: [(&str, &str); 5] = [
    ("users", "SELECT * FROM users WHERE partner_id = $1 ORDER BY id"),
    ("history", "SELECT * FROM history WHERE chain = $1 ORDER BY seq"),
    ("history_chain_heads", "SELECT * FROM history_chain_heads WHERE chain = $1"),
    (
        "activation_tokens",
        "SELECT * FROM activation_tokens WHERE user_id IN (SELECT id FROM users WHERE partner_id = $1) ORDER BY user_id",
    ),
    ("outbox", "SELECT * FROM outbox WHERE user_id IN (SELECT id FROM users WHERE partner_id = $1) ORDER BY id"),
];

fn cell(row: &AnyRow, i: usize) -> Result<Cell> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(Cell::Null);
    }
    Ok(match row.try_get::<i64, _>(i) {
        Ok(n) => Cell::Int(n),
        Err(_) => Cell::Text(row.try_get::<String, _>(i)?),
    })
}

async fn read_written(store: &Store, partner: &str) -> Result<Vec<Table>> {
    let mut tables = Vec::new();
    for (name, query) in WRITTEN {
        let rows = sqlx::query(query).bind(partner).fetch_all(store.pool()).await?;
        let columns =
            rows.first().map(|r| r.columns().iter().map(|c| c.name().to_string()).collect()).unwrap_or_default();
        let rows =
            rows.iter().map(|r| (0..r.len()).map(|i| cell(r, i)).collect::<Result<Vec<_>>>()).collect::<Result<_>>()?;
        tables.push(Table { name, columns, rows });
    }
    Ok(tables)
}

/// What the import of one partner wrote, read back.
pub struct Written {
    url: String,
    dialect: Dialect,
    partners: Table,
    tables: Vec<Table>,
}

impl Written {
    pub async fn read(store: &Store, url: &str, partner: &str) -> Result<Self> {
        let tables = read_written(store, partner).await?;
        let row = sqlx::query("SELECT * FROM partners WHERE id = $1").bind(partner).fetch_one(store.pool()).await?;
        let partners = Table {
            name: "partners",
            columns: row.columns().iter().map(|c| c.name().to_string()).collect(),
            rows: vec![(0..row.len()).map(|i| cell(&row, i)).collect::<Result<_>>()?],
        };
        Ok(Self { url: url.to_string(), dialect: store.dialect(), partners, tables })
    }

    pub fn rows(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }

    pub fn means(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "SQLite's C API (rusqlite), one prepared INSERT per table bound per row",
            Dialect::Postgres => "`COPY … FROM STDIN` into `LIKE … INCLUDING ALL` copies of the tables",
        }
    }

    /// Writes the rows again by the fastest means, commit included; without
    /// the index named, to tell what it costs.
    pub async fn limit(&self, without: Option<&str>) -> Result<Duration> {
        match self.dialect {
            Dialect::Sqlite => sqlite_limit(&self.partners, &self.tables, without).await,
            Dialect::Postgres => postgres_limit(&self.url, &self.tables, without).await,
        }
    }

    /// The secondary indexes on the written tables (not primary keys), as
    /// (table, index).
    pub async fn indexes(&self, store: &Store) -> Result<Vec<(String, String)>> {
        let names: Vec<&str> = self.tables.iter().map(|t| t.name).collect();
        let query = match self.dialect {
            Dialect::Sqlite => "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY tbl_name, name",
            // `name` columns read as text: the Any driver has no `name`.
            Dialect::Postgres => "SELECT CAST(tablename AS TEXT), CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' ORDER BY tablename, indexname",
        };
        let rows = sqlx::query(query).fetch_all(store.pool()).await?;
        let mut found = Vec::new();
        for row in rows {
            let (table, index): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            if names.contains(&table.as_str()) {
                found.push((table, index));
            }
        }
        Ok(found)
    }
}

fn insert_sql(table: &Table) -> String {
    let marks = vec!["?"; table.columns.len()].join(", ");
    format!("INSERT INTO {} ({}) VALUES ({marks})", table.name, table.columns.join(", "))
}

async fn sqlite_limit(partners: &Table, tables: &[Table], without: Option<&str>) -> Result<Duration> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("limit.db");
    // Migrated by the store itself: the same schema, indexes and triggers.
    let schema = Store::open(&format!("sqlite://{}", path.display())).await?;
    if let Some(index) = without {
        sqlx::query(&format!("DROP INDEX {index}")).execute(schema.pool()).await?;
    }
    schema.close().await;
    let tables: Vec<Table> =
        tables.iter().map(|t| Table { name: t.name, columns: t.columns.clone(), rows: t.rows.clone() }).collect();
    let partners = Table { name: partners.name, columns: partners.columns.clone(), rows: partners.rows.clone() };
    tokio::task::spawn_blocking(move || -> Result<Duration> {
        let mut db = rusqlite::Connection::open(&path)?;
        // The store's own pragmas (Store::connect).
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
        )?;
        write_sqlite(&mut db, std::slice::from_ref(&partners))?;
        let started = Instant::now();
        write_sqlite(&mut db, &tables)?;
        Ok(started.elapsed())
    })
    .await?
}

fn write_sqlite(db: &mut rusqlite::Connection, tables: &[Table]) -> Result<()> {
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for table in tables.iter().filter(|t| !t.rows.is_empty()) {
        let mut insert = tx.prepare(&insert_sql(table)).with_context(|| table.name)?;
        for row in &table.rows {
            for (i, value) in row.iter().enumerate() {
                match value {
                    Cell::Null => insert.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
                    Cell::Int(n) => insert.raw_bind_parameter(i + 1, n)?,
                    Cell::Text(s) => insert.raw_bind_parameter(i + 1, s.as_str())?,
                }
            }
            insert.raw_execute()?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_text(table: &Table) -> Vec<u8> {
    let mut out = String::with_capacity(table.rows.len() * 128);
    for row in &table.rows {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            match value {
                Cell::Null => out.push_str("\\N"),
                Cell::Int(n) => out.push_str(&n.to_string()),
                Cell::Text(s) => {
                    for c in s.chars() {
                        match c {
                            '\\' => out.push_str("\\\\"),
                            '\t' => out.push_str("\\t"),
                            '\n' => out.push_str("\\n"),
                            '\r' => out.push_str("\\r"),
                            c => out.push(c),
                        }
                    }
                }
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

async fn postgres_limit(url: &str, tables: &[Table], without: Option<&str>) -> Result<Duration> {
    let mut pg = sqlx::PgConnection::connect(url).await?;
    pg.execute("DROP SCHEMA IF EXISTS import_limit CASCADE; CREATE SCHEMA import_limit").await?;
    for table in tables {
        pg.execute(format!("CREATE TABLE import_limit.{0} (LIKE public.{0} INCLUDING ALL)", table.name).as_str())
            .await?;
    }
    if let Some(index) = without {
        // LIKE … INCLUDING ALL names a copied index after its columns, not
        // after the original: find the copy by its definition.
        let row = sqlx::query(
            "SELECT CAST(c.indexname AS TEXT) FROM pg_indexes o JOIN pg_indexes c \
             ON c.schemaname = 'import_limit' AND c.tablename = o.tablename \
             AND replace(c.indexdef, 'import_limit.', 'public.') = replace(o.indexdef, o.indexname, c.indexname) \
             WHERE o.schemaname = 'public' AND o.indexname = $1",
        )
        .bind(index)
        .fetch_one(&mut pg)
        .await
        .with_context(|| format!("the copy of index {index}"))?;
        let copy: String = row.try_get(0)?;
        // A unique constraint's index goes with its constraint.
        let constraint = sqlx::query(
            "SELECT CAST(t.relname AS TEXT), CAST(c.conname AS TEXT) FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid WHERE c.conindid = CAST($1 AS regclass)",
        )
        .bind(format!("import_limit.{copy}"))
        .fetch_optional(&mut pg)
        .await?;
        let drop = match constraint {
            Some(row) => format!(
                "ALTER TABLE import_limit.{} DROP CONSTRAINT {}",
                row.try_get::<String, _>(0)?,
                row.try_get::<String, _>(1)?
            ),
            None => format!("DROP INDEX import_limit.{copy}"),
        };
        pg.execute(drop.as_str()).await?;
    }
    // Encoded beforehand: the limit is the database's work, not ours.
    let payloads: Vec<(String, Vec<u8>)> = tables
        .iter()
        .filter(|t| !t.rows.is_empty())
        .map(|t| (format!("COPY import_limit.{} ({}) FROM STDIN", t.name, t.columns.join(", ")), copy_text(t)))
        .collect();
    let started = Instant::now();
    let mut tx = pg.begin().await?;
    for (statement, data) in &payloads {
        let mut copy = tx.copy_in_raw(statement).await?;
        copy.send(data.as_slice()).await?;
        copy.finish().await?;
    }
    tx.commit().await?;
    let elapsed = started.elapsed();
    pg.execute("DROP SCHEMA import_limit CASCADE").await?;
    pg.close().await?;
    Ok(elapsed)
}
