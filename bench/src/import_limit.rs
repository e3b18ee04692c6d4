//! The limit an import is held to (issue #17): the very rows the import
//! wrote — users, History (and its chain's head), activation links and
//! welcome emails — written again by the fastest means the machine has, in
//! one transaction, into the same tables with the same indexes:
//! - SQLite: a fresh database migrated like the store (so the same tables,
//!   indexes, triggers and pragmas), filled through SQLite's C API
//!   (rusqlite): one `INSERT … SELECT` per table from a virtual table that
//!   hands SQLite the rows straight from memory (see `SqliteMeans`). Since
//!   2026-12-05 the import writes through the same virtual table (the
//!   store's `sqlite_rows`), so the gap is the import's own work: reading
//!   and checking its input, History's chain, the links and emails;
//! - PostgreSQL: `COPY … FROM STDIN` into copies of the same tables made
//!   with `LIKE … INCLUDING ALL` (columns, defaults, checks, indexes) and
//!   given the same foreign keys.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use starship_store::sqlite_rows::{self, Lent};
use starship_store::sqlx::{self, any::AnyRow, Column, Connection, Executor, Row, ValueRef};
use starship_store::{Dialect, Store, Value};

use crate::measure::{cpu_time, own_cpu_time};

/// How long a write took: wall-clock time, and the CPU time spent on it by
/// this process and (PostgreSQL) the server's backend.
#[derive(Debug, Clone, Copy)]
pub struct Took {
    pub wall: Duration,
    pub cpu: Duration,
}

impl Took {
    /// The faster of two runs, each measure apart.
    pub fn min(self, other: Took) -> Took {
        Took { wall: self.wall.min(other.wall), cpu: self.cpu.min(other.cpu) }
    }
}

struct Table {
    name: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
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

/// One value as both stores hold it (the schema uses only numbers, texts
/// and NULL), in the store's own insert values.
fn cell(row: &AnyRow, i: usize) -> Result<Value> {
    if row.try_get_raw(i)?.is_null() {
        return Ok(Value::NullableText(None));
    }
    Ok(match row.try_get::<i64, _>(i) {
        Ok(n) => Value::Int(n),
        Err(_) => Value::Text(row.try_get::<String, _>(i)?),
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
            Dialect::Sqlite => {
                "SQLite's C API (rusqlite): one `INSERT … SELECT` per table from a virtual table over the rows in memory"
            }
            Dialect::Postgres => {
                "`COPY … FROM STDIN` into `LIKE … INCLUDING ALL` copies of the tables, with the same foreign keys"
            }
        }
    }

    /// Writes the rows again by the fastest means, commit included; without
    /// the index named, to tell what it costs.
    pub async fn limit(&self, without: Option<&str>) -> Result<Took> {
        self.limit_by(without, SqliteMeans::Scan).await
    }

    /// The limit on SQLite fed by the means named (PostgreSQL: `COPY`).
    pub async fn limit_by(&self, without: Option<&str>, means: SqliteMeans) -> Result<Took> {
        match self.dialect {
            Dialect::Sqlite => sqlite_limit(&self.partners, &self.tables, without, means).await,
            Dialect::Postgres => postgres_limit(&self.url, &self.tables, without).await,
        }
    }

    /// The secondary indexes on the written tables (not primary keys) and,
    /// on SQLite, their triggers that write other tables on insert (the
    /// search rows and FTS5 index of `users`), as (table, name).
    pub async fn indexes(&self, store: &Store) -> Result<Vec<(String, String)>> {
        let names: Vec<&str> = self.tables.iter().map(|t| t.name).collect();
        let query = match self.dialect {
            // SQLite: with the indexes, the triggers that write another
            // table on every insert (users' search rows and FTS5 index).
            Dialect::Sqlite => "SELECT tbl_name, name FROM sqlite_master WHERE (type = 'index' AND sql IS NOT NULL) \
                                OR (type = 'trigger' AND sql LIKE '%AFTER INSERT%') ORDER BY tbl_name, name",
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

/// How the SQLite limit feeds its rows to SQLite's C API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteMeans {
    /// One prepared single-row `INSERT` per table, bound and stepped per
    /// row. Each statement is a statement transaction of its own, and the
    /// FTS5 table that `users`' insert trigger fills writes its pending
    /// terms to disk at every statement's savepoint: a new FTS5 segment
    /// per person, which then has to be merged.
    RowByRow,
    /// Prepared multi-row `INSERT … VALUES (…), (…)` statements with as
    /// many rows as SQLite's 32,766 bind parameters allow (the import's
    /// own shape, without sqlx).
    MultiRow,
    /// One `INSERT INTO t (…) SELECT … FROM` a virtual table that hands
    /// SQLite the rows straight from memory: one statement per table,
    /// nothing parsed or bound per row (the store's `starship_rows`, which
    /// the import's own inserts use since 2026-12-05).
    Scan,
    /// One `INSERT … SELECT … FROM json_each(?)` per table, the rows as one
    /// JSON text parameter.
    Json,
}

impl SqliteMeans {
    pub const ALL: [SqliteMeans; 4] =
        [SqliteMeans::Scan, SqliteMeans::Json, SqliteMeans::MultiRow, SqliteMeans::RowByRow];

    pub fn describe(self) -> &'static str {
        match self {
            SqliteMeans::RowByRow => "one prepared single-row INSERT per table, bound per row",
            SqliteMeans::MultiRow => "prepared multi-row INSERT … VALUES of 32,766 parameters",
            SqliteMeans::Scan => "one INSERT … SELECT per table from a virtual table over the rows in memory",
            SqliteMeans::Json => "one INSERT … SELECT … FROM json_each(?) per table",
        }
    }
}

async fn sqlite_limit(partners: &Table, tables: &[Table], without: Option<&str>, means: SqliteMeans) -> Result<Took> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("limit.db");
    // Migrated by the store itself: the same schema, indexes and triggers.
    let schema = Store::open(&format!("sqlite://{}", path.display())).await?;
    if let Some(index) = without {
        let kind: String = sqlx::query_scalar("SELECT type FROM sqlite_master WHERE name = $1")
            .bind(index)
            .fetch_one(schema.pool())
            .await?;
        let kind = if kind == "trigger" { "TRIGGER" } else { "INDEX" };
        sqlx::query(&format!("DROP {kind} {index}")).execute(schema.pool()).await?;
    }
    schema.close().await;
    let tables: Vec<Table> =
        tables.iter().map(|t| Table { name: t.name, columns: t.columns.clone(), rows: t.rows.clone() }).collect();
    let partners = Table { name: partners.name, columns: partners.columns.clone(), rows: partners.rows.clone() };
    // Lent before the clock starts, as the rows are in memory before it.
    let lent: Vec<Lent> = match means {
        SqliteMeans::Scan => tables.iter().map(lend).collect(),
        _ => Vec::new(),
    };
    tokio::task::spawn_blocking(move || -> Result<Took> {
        // `starship_rows` is registered on every SQLite connection of the
        // process since the store opened one.
        let mut db = rusqlite::Connection::open(&path)?;
        // The store's own pragmas (Store::connect); page size and temp
        // store are SQLite's own on both sides.
        db.execute_batch(starship_store::SQLITE_PRAGMAS)?;
        write_sqlite(&mut db, &[partners], SqliteMeans::RowByRow, &[])?;
        let (started, cpu) = (Instant::now(), own_cpu_time());
        write_sqlite(&mut db, &tables, means, &lent)?;
        Ok(Took { wall: started.elapsed(), cpu: own_cpu_time().saturating_sub(cpu) })
    })
    .await?
}

fn bind_row(insert: &mut rusqlite::Statement<'_>, first: usize, row: &[Value]) -> Result<()> {
    for (i, value) in row.iter().enumerate() {
        match value {
            Value::NullableText(None) | Value::NullableInt(None) => {
                insert.raw_bind_parameter(first + i, rusqlite::types::Null)?
            }
            Value::Int(n) | Value::NullableInt(Some(n)) => insert.raw_bind_parameter(first + i, n)?,
            Value::Text(s) | Value::NullableText(Some(s)) => insert.raw_bind_parameter(first + i, s.as_str())?,
        }
    }
    Ok(())
}

/// The rows of a table lent to the store's `starship_rows` (`SqliteMeans::Scan`).
fn lend(table: &Table) -> Lent {
    sqlite_rows::lend(table.rows.clone())
}

/// Writes the tables' rows in one transaction by `means`; `lent` holds the
/// rows of each table, in order, for `SqliteMeans::Scan`.
fn write_sqlite(db: &mut rusqlite::Connection, tables: &[Table], means: SqliteMeans, lent: &[Lent]) -> Result<()> {
    let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (t, table) in tables.iter().enumerate().filter(|(_, t)| !t.rows.is_empty()) {
        let list = table.columns.join(", ");
        match means {
            SqliteMeans::RowByRow => {
                let mut insert = tx.prepare(&insert_sql(table)).with_context(|| table.name)?;
                for row in &table.rows {
                    bind_row(&mut insert, 1, row)?;
                    insert.raw_execute()?;
                }
            }
            SqliteMeans::MultiRow => {
                const MAX_PARAMS: usize = 32_766;
                let per_row = table.columns.len();
                let marks = format!("({})", vec!["?"; per_row].join(", "));
                for chunk in table.rows.chunks(MAX_PARAMS / per_row) {
                    let values = vec![marks.as_str(); chunk.len()].join(", ");
                    let sql = format!("INSERT INTO {} ({list}) VALUES {values}", table.name);
                    let mut insert = tx.prepare_cached(&sql).with_context(|| table.name)?;
                    for (r, row) in chunk.iter().enumerate() {
                        bind_row(&mut insert, 1 + r * per_row, row)?;
                    }
                    insert.raw_execute()?;
                }
            }
            SqliteMeans::Json => {
                let picks: Vec<String> = (0..table.columns.len()).map(|i| format!("value ->> {i}")).collect();
                let sql = format!("INSERT INTO {} ({list}) SELECT {} FROM json_each(?1)", table.name, picks.join(", "));
                let json: Vec<serde_json::Value> = table
                    .rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|c| match c {
                                Value::NullableText(None) | Value::NullableInt(None) => serde_json::Value::Null,
                                Value::Int(n) | Value::NullableInt(Some(n)) => (*n).into(),
                                Value::Text(s) | Value::NullableText(Some(s)) => s.clone().into(),
                            })
                            .collect()
                    })
                    .collect();
                let json = serde_json::Value::Array(json).to_string();
                tx.execute(&sql, [json]).with_context(|| table.name)?;
            }
            SqliteMeans::Scan => {
                let columns: Vec<&str> = table.columns.iter().map(String::as_str).collect();
                let sql = sqlite_rows::insert_sql(table.name, &columns, "");
                tx.execute(&sql, [lent[t].key()]).with_context(|| table.name)?;
            }
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
                Value::NullableText(None) | Value::NullableInt(None) => out.push_str("\\N"),
                Value::Int(n) | Value::NullableInt(Some(n)) => out.push_str(&n.to_string()),
                Value::Text(s) | Value::NullableText(Some(s)) => {
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

/// Gives the copies the foreign keys of their tables, which `LIKE` leaves
/// out: the import's rows are checked against the people and the partner
/// they name, and so must the limit's be for the same work (SQLite's limit
/// checks them as the store does). A key to a table the limit copies points
/// at the copy; the others (partners) at the table itself.
async fn add_foreign_keys(pg: &mut sqlx::PgConnection, tables: &[Table]) -> Result<()> {
    let copied: Vec<&str> = tables.iter().map(|t| t.name).collect();
    for table in tables {
        let keys = sqlx::query(
            "SELECT CAST(conname AS TEXT), pg_get_constraintdef(oid), CAST(CAST(confrelid AS regclass) AS TEXT) \
             FROM pg_constraint WHERE conrelid = CAST($1 AS regclass) AND contype = 'f' ORDER BY conname",
        )
        .bind(format!("public.{}", table.name))
        .fetch_all(&mut *pg)
        .await?;
        for key in keys {
            let (name, definition, shown): (String, String, String) =
                (key.try_get(0)?, key.try_get(1)?, key.try_get(2)?);
            let referenced = shown.trim_start_matches("public.");
            let schema = if copied.contains(&referenced) { "import_limit" } else { "public" };
            let definition =
                definition.replacen(&format!("REFERENCES {shown}("), &format!("REFERENCES {schema}.{referenced}("), 1);
            pg.execute(format!("ALTER TABLE import_limit.{} ADD CONSTRAINT {name} {definition}", table.name).as_str())
                .await
                .with_context(|| format!("the copy of {}'s key {name}", table.name))?;
        }
    }
    Ok(())
}

async fn postgres_limit(url: &str, tables: &[Table], without: Option<&str>) -> Result<Took> {
    let mut pg = sqlx::PgConnection::connect(url).await?;
    pg.execute("DROP SCHEMA IF EXISTS import_limit CASCADE; CREATE SCHEMA import_limit").await?;
    for table in tables {
        pg.execute(format!("CREATE TABLE import_limit.{0} (LIKE public.{0} INCLUDING ALL)", table.name).as_str())
            .await?;
    }
    add_foreign_keys(&mut pg, tables).await?;
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
    let backend: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut pg).await?;
    let cpu = || own_cpu_time() + cpu_time(backend as u32);
    let (started, cpu_before) = (Instant::now(), cpu());
    let mut tx = pg.begin().await?;
    for (statement, data) in &payloads {
        let mut copy = tx.copy_in_raw(statement).await?;
        copy.send(data.as_slice()).await?;
        copy.finish().await?;
    }
    tx.commit().await?;
    let took = Took { wall: started.elapsed(), cpu: cpu().saturating_sub(cpu_before) };
    pg.execute("DROP SCHEMA import_limit CASCADE").await?;
    pg.close().await?;
    Ok(took)
}
