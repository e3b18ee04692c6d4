//! SQLite: rows handed to an `INSERT … SELECT` straight from memory.
//!
//! The bulk paths (CSV import, the web bulk add, SCIM `/Bulk`) write
//! tens of thousands of rows per table in one request. Bound as multi-row
//! `VALUES` SQLite parses and binds every value, and as one JSON text it
//! parses the JSON; each took about 1.5 times as long as SQLite reading the
//! same rows through its C API (issue #17, BENCHMARKS.md). So on SQLite every
//! multi-row insert lends its rows to `starship_rows(batch)`, a
//! table-valued function (an eponymous virtual table) that SQLite reads
//! through `xColumn`, one value at a time, nothing parsed: each insert is
//! `INSERT INTO t (…) SELECT c0, c1, … FROM starship_rows(?)`, a single
//! statement whatever the number of rows.
//!
//! The sqlx Any driver binds only numbers and text, so a batch is lent
//! under a number: the rows wait in this process's memory, keyed by it,
//! for the one statement that reads them, and leave when the `Lent` guard
//! drops. The module is registered on every SQLite connection the process
//! opens (`sqlite3_auto_extension`), before the store's pool opens any.

use std::collections::HashMap;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Once};

use rusqlite::ffi;
use rusqlite::vtab::{
    eponymous_only_module, Context, IndexConstraintOp, IndexInfo, VTab, VTabConnection, VTabCursor, Values,
};

use crate::Value;

/// The widest table a batch may fill (`users` has 16 columns written).
pub const MAX_COLUMNS: usize = 24;

type Rows = Arc<Vec<Vec<Value>>>;

static LENT: LazyLock<Mutex<HashMap<i64, Rows>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_BATCH: AtomicI64 = AtomicI64::new(1);

/// Rows lent to SQLite under `key()` until this is dropped.
pub struct Lent {
    key: i64,
}

impl Lent {
    pub fn key(&self) -> i64 {
        self.key
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        lent().remove(&self.key);
    }
}

fn lent() -> std::sync::MutexGuard<'static, HashMap<i64, Rows>> {
    // A panic while the lock was held cannot leave the map half-changed:
    // each use is one insert, remove or get.
    LENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Lends rows (each no wider than `MAX_COLUMNS`) for one statement.
pub fn lend(rows: Vec<Vec<Value>>) -> Lent {
    debug_assert!(rows.iter().all(|row| row.len() <= MAX_COLUMNS));
    let key = NEXT_BATCH.fetch_add(1, Ordering::Relaxed);
    lent().insert(key, Arc::new(rows));
    Lent { key }
}

/// `INSERT INTO table (columns) SELECT c0, … FROM starship_rows(?)`, then
/// `suffix` (an upsert clause needs the `WHERE` to parse).
pub fn insert_sql(table: &str, columns: &[&str], suffix: &str) -> String {
    let picks: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM starship_rows(?) WHERE true{suffix}",
        columns.join(", "),
        picks.join(", ")
    )
}

/// Registers `starship_rows` on every SQLite connection opened from now
/// on in this process (idempotent).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: `register` neither opens nor closes a database, nor
        // changes the list of auto-extensions.
        unsafe { rusqlite::auto_extension::register_auto_extension(register) }
            .expect("SQLite accepts an auto-extension");
    });
}

unsafe extern "C" fn register(
    db: *mut ffi::sqlite3,
    error: *mut *mut c_char,
    _: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: SQLite calls this with the handle of a connection it has
    // just opened; the `Connection` made of it does not close it.
    unsafe {
        rusqlite::auto_extension::init_auto_extension(db, error, |conn| {
            conn.create_module("starship_rows", eponymous_only_module::<RowsTab>(), None)
        })
    }
}

/// The hidden column `starship_rows(batch)` sets.
const BATCH_COLUMN: c_int = MAX_COLUMNS as c_int;

#[repr(C)]
struct RowsTab {
    /// Base class; must be first.
    base: ffi::sqlite3_vtab,
}

unsafe impl<'vtab> VTab<'vtab> for RowsTab {
    type Aux = ();
    type Cursor = RowsCursor;

    fn connect(_: &mut VTabConnection, _: Option<&()>, _: &[&[u8]]) -> rusqlite::Result<(String, Self)> {
        let columns: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        Ok((format!("CREATE TABLE x({}, batch HIDDEN)", columns.join(", ")), RowsTab { base: Default::default() }))
    }

    fn best_index(&self, info: &mut IndexInfo) -> rusqlite::Result<()> {
        let mut has_batch = false;
        for (constraint, mut usage) in info.constraints_and_usages() {
            if constraint.is_usable()
                && constraint.column() == BATCH_COLUMN
                && constraint.operator() == IndexConstraintOp::SQLITE_INDEX_CONSTRAINT_EQ
            {
                usage.set_argv_index(1);
                usage.set_omit(true);
                has_batch = true;
            }
        }
        // Without its batch the table has no rows to give (`filter`
        // refuses): SQLite is steered to the plan that sets it.
        info.set_estimated_cost(if has_batch { 1.0 } else { f64::from(i32::MAX) });
        Ok(())
    }

    fn open(&'vtab mut self) -> rusqlite::Result<RowsCursor> {
        Ok(RowsCursor { base: Default::default(), rows: Arc::default(), at: 0 })
    }
}

#[repr(C)]
struct RowsCursor {
    /// Base class; must be first.
    base: ffi::sqlite3_vtab_cursor,
    rows: Rows,
    at: usize,
}

unsafe impl VTabCursor for RowsCursor {
    fn filter(&mut self, _: c_int, _: Option<&str>, args: &Values<'_>) -> rusqlite::Result<()> {
        let key: i64 = args.get(0)?;
        self.rows = lent()
            .get(&key)
            .cloned()
            .ok_or_else(|| rusqlite::Error::ModuleError(format!("no rows are lent as batch {key}")))?;
        self.at = 0;
        Ok(())
    }

    fn next(&mut self) -> rusqlite::Result<()> {
        self.at += 1;
        Ok(())
    }

    fn eof(&self) -> bool {
        self.at >= self.rows.len()
    }

    fn column(&self, ctx: &mut Context, i: c_int) -> rusqlite::Result<()> {
        match self.rows[self.at].get(i as usize) {
            Some(Value::Text(v) | Value::NullableText(Some(v))) => ctx.set_result(v),
            Some(Value::Int(v) | Value::NullableInt(Some(v))) => ctx.set_result(v),
            Some(Value::NullableText(None) | Value::NullableInt(None)) | None => ctx.set_result(&rusqlite::types::Null),
        }
    }

    fn rowid(&self) -> rusqlite::Result<i64> {
        Ok(self.at as i64 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row as the test reads it back: a text, a number, a text.
    type Read = (Option<String>, Option<i64>, Option<String>);

    fn read(db: &rusqlite::Connection, key: i64) -> rusqlite::Result<Vec<Read>> {
        db.prepare("SELECT c0, c1, c2 FROM starship_rows(?)")?
            .query_map([key], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .collect()
    }

    #[test]
    fn a_lent_batch_reads_back_as_its_rows_until_it_is_dropped() -> rusqlite::Result<()> {
        install();
        let db = rusqlite::Connection::open_in_memory()?;
        let batch = lend(vec![
            vec![Value::Text("Zoë O'Brien".into()), Value::Int(-7), Value::NullableText(None)],
            vec![Value::NullableText(Some("NULL".into())), Value::NullableInt(None)],
        ]);
        assert_eq!(
            read(&db, batch.key())?,
            [(Some("Zoë O'Brien".into()), Some(-7), None), (Some("NULL".into()), None, None)]
        );
        let key = batch.key();
        drop(batch);
        let gone = read(&db, key).expect_err("a dropped batch is no longer lent");
        assert!(gone.to_string().contains(&format!("no rows are lent as batch {key}")), "{gone}");
        Ok(())
    }

    #[test]
    fn inserts_name_their_columns_and_keep_an_upsert_clause_parseable() {
        assert_eq!(
            insert_sql("outbox", &["id", "kind"], " ON CONFLICT DO NOTHING"),
            "INSERT INTO outbox (id, kind) SELECT c0, c1 FROM starship_rows(?) WHERE true ON CONFLICT DO NOTHING"
        );
    }
}
