//! Starship's storage: one SQL layer over SQLite and PostgreSQL.
//!
//! Queries are written once in SQL both stores accept and run through sqlx's
//! Any driver. Where the dialects differ, the difference is a small named
//! function here (how a write transaction begins) or a migration file of
//! its own (triggers, collations). Repository functions take a connection,
//! so a handler composes several of them in one transaction.

pub mod access;
pub mod appliances;
pub mod backup;
pub mod catalogue;
pub mod clients;
pub mod communications;
pub mod contacts;
pub mod grants;
pub mod history;
pub mod jobs;
pub mod mfa;
pub mod oidc;
pub mod outbox;
pub mod partners;
pub mod preferences;
pub mod reviews;
pub mod schema;
pub mod scim;
pub mod scim_groups;
pub mod sessions;
pub mod signing_keys;
pub mod sites;
pub mod sqlite_rows;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tickets;
pub mod users;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use sqlx;
pub use sqlx::AnyConnection as Conn;
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("bad database URL '{0}': use sqlite://FILE or postgres://USER@HOST:PORT/DB")]
    BadUrl(String),
    #[error("cannot reach the database: {0}")]
    Unreachable(String),
    #[error(
        "the database has migrations this starshipd does not know (versions {0}): a newer starshipd has \
         upgraded it; run that version or newer"
    )]
    NewerStore(String),
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation to a named conflict, leaving every
    /// other error as it is.
    pub fn on_unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

impl Store {
    /// Connects, creating a missing SQLite file, and applies migrations.
    pub async fn open(url: &str) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = dialect_of(url)?;
        if dialect == Dialect::Sqlite {
            sqlite_rows::install();
        }
        let url = match dialect {
            Dialect::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?
            .disable_statement_logging();
        let pool_options = match dialect {
            Dialect::Sqlite => AnyPoolOptions::new().max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    Ok(())
                })
            }),
            Dialect::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unreachable(e.to_string()))?;
        Ok(Self { pool, dialect })
    }

    /// Applies the pending migrations, each in its own transaction. It
    /// refuses a store that has migrations this binary does not know. On
    /// PostgreSQL, sqlx's migrator holds `pg_advisory_lock` (keyed by the
    /// database's name) from before it creates its table until it is done,
    /// so instances starting together apply each migration once.
    pub async fn migrate(&self) -> Result<()> {
        let unknown = self.migration_status().await?.unknown;
        if !unknown.is_empty() {
            return Err(schema::newer_store(&unknown));
        }
        match schema::migrator(self.dialect).run(&self.pool).await {
            Err(sqlx::migrate::MigrateError::VersionMissing(version)) => return Err(schema::newer_store(&[version])),
            outcome => outcome?,
        }
        // Entries from before the History chain (0012) join it once.
        history::chain_unchained(self).await?;
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A read connection from the pool.
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// A write transaction. SQLite takes its write lock up front, so two
    /// writers queue on the busy timeout instead of failing on upgrade.
    pub async fn begin(&self) -> Result<Tx> {
        let statement = match self.dialect {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        };
        Ok(self.pool.begin_with(statement).await?)
    }

    /// A read-only transaction that sees one snapshot across its queries,
    /// for a list assembled from several. It never takes SQLite's write
    /// lock, so it does not queue behind writers or hold them up.
    pub async fn begin_read(&self) -> Result<Tx> {
        let statement = match self.dialect {
            Dialect::Sqlite => "BEGIN DEFERRED",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        Ok(self.pool.begin_with(statement).await?)
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub fn dialect_of(url: &str) -> Result<Dialect> {
    if url.starts_with("sqlite:") {
        Ok(Dialect::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Dialect::Postgres)
    } else {
        Err(StoreError::BadUrl(url.to_string()))
    }
}

pub fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Ids are UUIDv7: stable, unguessable enough not to be enumerated, and
/// roughly time-ordered so inserts append to indexes.
/// What every SQLite connection of the store sets: write-ahead logging,
/// foreign keys, and a wait on a busy database rather than an error. The
/// import's limit (the benchmark) opens its connection with the same. (A
/// 64 MiB page cache instead of SQLite's 2 MiB was tried for bulk imports:
/// no faster, BENCHMARKS.md.)
pub const SQLITE_PRAGMAS: &str =
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The exclusive upper bound of the strings starting with `prefix`, so a
/// prefix match is an index range: `col >= prefix AND col < upper`.
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bound_is_the_next_string_after_every_match() {
        assert_eq!(prefix_upper_bound("ana").as_deref(), Some("anb"));
        assert_eq!(prefix_upper_bound("ana lo").as_deref(), Some("ana lp"));
        assert_eq!(prefix_upper_bound(""), None);
        assert!("ana lopez" < prefix_upper_bound("ana lo").unwrap().as_str());
    }

    #[test]
    fn array_literals_quote_every_text_and_escape_quotes_and_backslashes() {
        let mut literal = String::from("{");
        for (i, value) in [
            Value::Text(r#"O"Brien \ {x}, NULL"#.to_string()),
            Value::NullableText(None),
            Value::Text("Zoë".to_string()),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                literal.push(',');
            }
            push_array_element(&mut literal, value);
        }
        literal.push('}');
        assert_eq!(literal, r#"{"O\"Brien \\ {x}, NULL",NULL,"Zoë"}"#);
        let mut numbers = String::new();
        push_array_element(&mut numbers, Value::NullableInt(Some(-7)));
        assert_eq!(numbers, "-7");
    }

    #[test]
    fn urls_pick_their_dialect() {
        assert_eq!(dialect_of("sqlite://starship.db").unwrap(), Dialect::Sqlite);
        assert_eq!(dialect_of("postgres://u@h/db").unwrap(), Dialect::Postgres);
        assert!(matches!(dialect_of("mysql://x"), Err(StoreError::BadUrl(_))));
    }
}

/// A value for a multi-row insert.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    NullableText(Option<String>),
    Int(i64),
    NullableInt(Option<i64>),
}

/// Groups rows by one column's value, keeping the rows' order in each
/// group: how a list fetches one aspect of all its items in one query.
pub(crate) fn grouped<K, T>(
    rows: Vec<sqlx::any::AnyRow>,
    key: &str,
    value: impl Fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<std::collections::HashMap<K, Vec<T>>>
where
    K: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Eq + std::hash::Hash,
{
    use sqlx::Row;
    let mut groups: std::collections::HashMap<K, Vec<T>> = std::collections::HashMap::new();
    for r in &rows {
        groups.entry(r.try_get(key)?).or_default().push(value(r)?);
    }
    Ok(groups)
}

/// The `n`th (1-based) bind parameter of a statement with many of them.
/// SQLite looks every `$n` up by name, which grows with the square of the
/// parameter count; its anonymous `?` binds by position.
pub fn placeholder(conn: &Conn, n: usize) -> String {
    if conn.backend_name() == "SQLite" {
        "?".to_string()
    } else {
        format!("${n}")
    }
}

/// Inserts many rows with as few statements as each store allows: the
/// path bulk imports take. SQLite reads them from memory in one statement
/// (`sqlite_rows`); PostgreSQL takes them as arrays (`insert_rows_as_arrays`).
pub async fn insert_many(conn: &mut Conn, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> Result<()> {
    insert_rows(conn, table, columns, rows, "").await
}

/// Like `insert_many`, but a row that would break a unique index is left
/// out instead of failing the batch: for writes that may repeat.
pub async fn insert_many_skipping_existing(
    conn: &mut Conn,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<()> {
    insert_rows(conn, table, columns, rows, " ON CONFLICT DO NOTHING").await
}

async fn insert_rows(
    conn: &mut Conn,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        return insert_rows_as_arrays(conn, table, columns, rows, suffix).await;
    }
    if rows.is_empty() {
        return Ok(());
    }
    // One statement for every row, read from memory (see `sqlite_rows`).
    let batch = sqlite_rows::lend(rows);
    sqlx::query(&sqlite_rows::insert_sql(table, columns, suffix))
        .bind(batch.key())
        .execute(&mut *conn)
        .await
        .map_err(StoreError::on_unique("a row of this batch already exists"))?;
    Ok(())
}

/// PostgreSQL: each statement takes its rows as one parameter per column,
/// an array literal sent as text that the server unnests back into rows:
/// a handful of values to send and bind instead of tens of thousands, one
/// prepared statement per table whatever the number of rows, and cheaper
/// for the server to read than a JSON text of the same rows (the sqlx Any
/// driver binds no arrays, hence the cast from text). Columns not named
/// keep their defaults.
async fn insert_rows_as_arrays(
    conn: &mut Conn,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> Result<()> {
    // The set a statement unnests stays within PostgreSQL's default
    // work_mem (4 MB), so it is never spilled to disk.
    const ROWS_PER_STATEMENT: usize = 5_000;
    let Some(first) = rows.first() else {
        return Ok(());
    };
    // A column's type is its values' kind: every row has the same.
    let arrays: Vec<String> = first
        .iter()
        .enumerate()
        .map(|(i, value)| match value {
            Value::Int(_) | Value::NullableInt(_) => format!("${}::bigint[]", i + 1),
            Value::Text(_) | Value::NullableText(_) => format!("${}::text[]", i + 1),
        })
        .collect();
    let sql =
        format!("INSERT INTO {table} ({}) SELECT * FROM unnest({}){suffix}", columns.join(", "), arrays.join(", "));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut literals: Vec<String> = vec![String::from("{"); columns.len()];
        for (r, row) in rows.by_ref().take(ROWS_PER_STATEMENT).enumerate() {
            for (literal, value) in literals.iter_mut().zip(row) {
                if r > 0 {
                    literal.push(',');
                }
                push_array_element(literal, value);
            }
        }
        let mut query = sqlx::query(&sql);
        for mut literal in literals {
            literal.push('}');
            query = query.bind(literal);
        }
        query.execute(&mut *conn).await.map_err(StoreError::on_unique("a row of this batch already exists"))?;
    }
    Ok(())
}

/// One element of a PostgreSQL array literal: `NULL`, a number, or a text
/// in double quotes with its quotes and backslashes escaped.
fn push_array_element(literal: &mut String, value: Value) {
    match value {
        Value::Text(v) | Value::NullableText(Some(v)) => {
            literal.push('"');
            for c in v.chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        Value::Int(v) | Value::NullableInt(Some(v)) => literal.push_str(&v.to_string()),
        Value::NullableText(None) | Value::NullableInt(None) => literal.push_str("NULL"),
    }
}
