//! The History of every account: append-only. This module can add and read
//! entries, nothing else; the database refuses updates and deletes too.
//!
//! Every entry joins a hash chain (one per partner, one for accounts of no
//! partner): `hash` = SHA-256 over the entry's canonical encoding, which
//! includes the previous entry's hash. `verify` walks the chains, so an
//! entry rewritten, removed, inserted or moved by someone with database
//! access is found even with the triggers dropped. ARCHITECTURE.md
//! ("History chains") spells out the encoding for an auditor.

use starship_core::ids::{PartnerId, UserId};
use std::collections::{BTreeMap, HashMap};

use futures_util::TryStreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;
pub use starship_core::history::Kind;

use crate::{new_id, now_millis, Conn, Dialect, Result, Store, Value as SqlValue};

/// The chain of entries about accounts of no partner (operators).
pub const NO_PARTNER_CHAIN: &str = "";

/// The `prev_hash` of each chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names the encoding; a future change to it would start a new tag.
const ENCODING_TAG: &str = "starship-history-v1";

/// Where a change came from, recorded with every entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Web,
    Cli,
    System,
    /// The OpenID Connect provider: application clients, keys, tokens.
    Oidc,
    /// A partner's identity provider, through a SCIM token.
    Scim,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Web => "web",
            Self::Cli => "cli",
            Self::System => "system",
            Self::Oidc => "oidc",
            Self::Scim => "scim",
        }
    }
}

/// Who made a change: a user (by id, with their email for the record) or the
/// system itself.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub label: String,
    pub source: Source,
}

impl Actor {
    pub fn user(user_id: &UserId, email: &str, source: Source) -> Self {
        Self { user_id: Some(user_id.clone()), label: email.to_string(), source }
    }

    pub fn system(source: Source) -> Self {
        Self { user_id: None, label: "system".to_string(), source }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub user_id: UserId,
    pub at: i64,
    pub actor_id: Option<UserId>,
    pub actor: String,
    pub source: String,
    pub action: String,
    pub details: Value,
}

pub async fn append(conn: &mut Conn, user_id: &UserId, actor: &Actor, kind: Kind, details: Value) -> Result<()> {
    append_many(conn, actor, vec![(user_id.clone(), kind, details)]).await
}

/// Appends one entry per (account, action, details), all by one actor, to
/// the chains of the accounts' partners: each chain's head is locked and
/// moved once for the whole batch, in the caller's transaction.
pub async fn append_many(conn: &mut Conn, actor: &Actor, entries: Vec<(UserId, Kind, Value)>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let chains = chains_of(conn, entries.iter().map(|(user_id, _, _)| user_id.as_str())).await?;
    // Chains in a fixed order, so two batches lock shared heads alike.
    let mut by_chain: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (user_id, _, _)) in entries.iter().enumerate() {
        let chain = chains.get(user_id.as_str()).map_or(NO_PARTNER_CHAIN, String::as_str);
        by_chain.entry(chain).or_default().push(i);
    }
    append_chained(conn, actor, &entries, by_chain).await
}

/// `append_many` for entries all about people of one partner, whose
/// chain the caller knows: spares reading every account's partner back,
/// which a bulk import of people just written would otherwise do.
pub async fn append_many_of_partner(
    conn: &mut Conn,
    actor: &Actor,
    partner_id: &PartnerId,
    entries: Vec<(UserId, Kind, Value)>,
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let by_chain = BTreeMap::from([(partner_id.as_str(), (0..entries.len()).collect())]);
    append_chained(conn, actor, &entries, by_chain).await
}

async fn append_chained(
    conn: &mut Conn,
    actor: &Actor,
    entries: &[(UserId, Kind, Value)],
    by_chain: BTreeMap<&str, Vec<usize>>,
) -> Result<()> {
    let at = now_millis();
    let mut rows: Vec<Vec<SqlValue>> = Vec::with_capacity(entries.len());
    let mut hasher = EntryHasher::default();
    for (chain, indices) in by_chain {
        let (mut seq, mut prev) = lock_head(conn, chain).await?;
        for i in indices {
            let (user_id, kind, details) = &entries[i];
            let action = kind.as_str();
            seq += 1;
            let id = new_id();
            let details = details.to_string();
            let hash = hasher.hash(&Chained {
                chain,
                seq,
                prev_hash: &prev,
                id: &id,
                user_id,
                at,
                actor_id: actor.user_id.as_ref(),
                actor: &actor.label,
                source: actor.source.as_str(),
                action,
                details: &details,
            });
            rows.push(vec![
                SqlValue::Text(id),
                SqlValue::Text(user_id.to_string()),
                SqlValue::Int(at),
                SqlValue::NullableText(actor.user_id.as_deref().map(str::to_string)),
                SqlValue::Text(actor.label.clone()),
                SqlValue::Text(actor.source.as_str().to_string()),
                SqlValue::Text(action.to_string()),
                SqlValue::Text(details),
                SqlValue::Text(chain.to_string()),
                SqlValue::Int(seq),
                SqlValue::Text(std::mem::replace(&mut prev, hash.clone())),
                SqlValue::Text(hash),
            ]);
        }
        move_head(conn, chain, seq, &prev).await?;
    }
    crate::insert_many(conn, "history", &COLUMNS, rows).await
}

const COLUMNS: [&str; 12] =
    ["id", "user_id", "at", "actor_id", "actor", "source", "action", "details", "chain", "seq", "prev_hash", "hash"];

/// The chain of each account: its partner's id, or the no-partner chain.
async fn chains_of<'a>(conn: &mut Conn, user_ids: impl Iterator<Item = &'a str>) -> Result<HashMap<String, String>> {
    let mut ids: Vec<&str> = user_ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut chains = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| crate::placeholder(conn, n)).collect();
        let sql = format!("SELECT id, partner_id FROM users WHERE id IN ({})", marks.join(", "));
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let partner: Option<String> = row.try_get(1)?;
            chains.insert(row.try_get(0)?, partner.unwrap_or_default());
        }
    }
    Ok(chains)
}

/// Reads a chain's head (creating it at seq 0) and locks it until the
/// transaction ends: on PostgreSQL the upsert holds the row lock and,
/// having waited for another writer, answers the head that writer left;
/// SQLite's write transactions are serialized already.
async fn lock_head(conn: &mut Conn, chain: &str) -> Result<(i64, String)> {
    let row = sqlx::query(
        "INSERT INTO history_chain_heads (chain, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (chain) DO UPDATE SET seq = history_chain_heads.seq RETURNING seq, hash",
    )
    .bind(chain)
    .bind(GENESIS)
    .fetch_one(&mut *conn)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

async fn move_head(conn: &mut Conn, chain: &str, seq: i64, hash: &str) -> Result<()> {
    sqlx::query("UPDATE history_chain_heads SET seq = $2, hash = $3 WHERE chain = $1")
        .bind(chain)
        .bind(seq)
        .bind(hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An entry as its hash covers it: every stored column but `hash`.
#[derive(Debug, Clone, Copy)]
pub struct Chained<'a> {
    pub chain: &'a str,
    pub seq: i64,
    pub prev_hash: &'a str,
    pub id: &'a str,
    pub user_id: &'a UserId,
    pub at: i64,
    pub actor_id: Option<&'a UserId>,
    pub actor: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    /// The stored JSON text, byte for byte.
    pub details: &'a str,
}

/// Computes entry hashes, reusing one buffer.
#[derive(Default)]
pub struct EntryHasher {
    buffer: Vec<u8>,
}

impl EntryHasher {
    /// SHA-256, as lowercase hex, over the canonical encoding: the tag and
    /// then each field in a fixed order, each as its length (8 bytes, big
    /// endian) and its UTF-8 bytes; integers as decimal text; a NULL as the
    /// length 2^64 - 1 and no bytes.
    pub fn hash(&mut self, e: &Chained<'_>) -> String {
        let buffer = &mut self.buffer;
        buffer.clear();
        let (seq, at) = (e.seq.to_string(), e.at.to_string());
        let fields = [
            Some(ENCODING_TAG),
            Some(e.chain),
            Some(seq.as_str()),
            Some(e.prev_hash),
            Some(e.id),
            Some(e.user_id.as_str()),
            Some(at.as_str()),
            e.actor_id.map(UserId::as_str),
            Some(e.actor),
            Some(e.source),
            Some(e.action),
            Some(e.details),
        ];
        for field in fields {
            match field {
                Some(text) => {
                    buffer.extend_from_slice(&(text.len() as u64).to_be_bytes());
                    buffer.extend_from_slice(text.as_bytes());
                }
                None => buffer.extend_from_slice(&u64::MAX.to_be_bytes()),
            }
        }
        hex(&Sha256::digest(buffer.as_slice()))
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Chains the entries written before the chain existed (or by an older
/// binary still running during an upgrade), after every entry already
/// chained, in the order they were written. Runs at every start, after
/// the migrations; finds nothing to do almost always.
pub async fn chain_unchained(store: &Store) -> Result<u64> {
    let waiting = sqlx::query("SELECT id FROM history WHERE hash IS NULL LIMIT 1").fetch_optional(store.pool()).await?;
    if waiting.is_none() {
        return Ok(0);
    }
    let mut tx = store.begin().await?;
    if store.dialect() == Dialect::Postgres {
        // Instances starting together: one chains, the others then find nothing.
        sqlx::query("SELECT pg_advisory_xact_lock(1414)").execute(&mut *tx).await?;
    }
    let rows = sqlx::query(
        "SELECT h.id, h.user_id, h.at, h.actor_id, h.actor, h.source, h.action, h.details, \
         COALESCE(u.partner_id, '') AS chain FROM history h JOIN users u ON u.id = h.user_id \
         WHERE h.hash IS NULL ORDER BY h.at, h.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut by_chain: BTreeMap<String, Vec<&sqlx::any::AnyRow>> = BTreeMap::new();
    for row in &rows {
        by_chain.entry(row.try_get("chain")?).or_default().push(row);
    }
    let mut hasher = EntryHasher::default();
    for (chain, rows) in &by_chain {
        let (mut seq, mut prev) = lock_head(&mut tx, chain).await?;
        for row in rows {
            seq += 1;
            let id: String = row.try_get("id")?;
            let actor_id: Option<UserId> = row.try_get("actor_id")?;
            let details: String = row.try_get("details")?;
            let hash = hasher.hash(&Chained {
                chain,
                seq,
                prev_hash: &prev,
                id: &id,
                user_id: &row.try_get::<UserId, _>("user_id")?,
                at: row.try_get("at")?,
                actor_id: actor_id.as_ref(),
                actor: &row.try_get::<String, _>("actor")?,
                source: &row.try_get::<String, _>("source")?,
                action: &row.try_get::<String, _>("action")?,
                details: &details,
            });
            sqlx::query("UPDATE history SET chain = $1, seq = $2, prev_hash = $3, hash = $4 WHERE id = $5")
                .bind(chain)
                .bind(seq)
                .bind(&prev)
                .bind(&hash)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            prev = hash;
        }
        move_head(&mut tx, chain, seq, &prev).await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// One chain as `verify` found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// A partner id, or `""` for accounts of no partner.
    pub chain: String,
    /// Entries read up to the first problem (all of them if none).
    pub entries: u64,
    /// The hash of the chain's last entry: the anchor to keep elsewhere.
    pub last_hash: String,
    pub last_seq: i64,
    pub problem: Option<Mismatch>,
}

/// The first entry of a chain that does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The entry's id (empty when what is missing is the entry itself).
    pub id: String,
    pub chain: String,
    pub seq: i64,
    /// Which check failed: `seq`, `prev_hash`, `hash`, `head`.
    pub what: &'static str,
    pub expected: String,
    pub stored: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "entry {} (chain '{}', seq {}): {} is {}, expected {}",
            if self.id.is_empty() { "-" } else { &self.id },
            self.chain,
            self.seq,
            self.what,
            self.stored,
            self.expected
        )
    }
}

/// What `verify` found: every chain, and the entries in none.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    pub chains: Vec<ChainReport>,
    /// Entries without chain columns (not yet chained, or stripped of them).
    pub unchained: Vec<String>,
}

impl Verification {
    pub fn is_intact(&self) -> bool {
        self.unchained.is_empty() && self.chains.iter().all(|c| c.problem.is_none())
    }

    pub fn entries(&self) -> u64 {
        self.chains.iter().map(|c| c.entries).sum()
    }
}

/// Walks every chain in seq order in one streamed read, recomputing each
/// hash. Per chain it reports the first entry whose seq is not the next
/// (a removed, inserted or moved entry), whose `prev_hash` is not the
/// previous entry's hash, or whose `hash` is not its content's; and a head
/// that is not the last entry (entries removed from the end).
pub async fn verify(store: &Store) -> Result<Verification> {
    let mut conn = store.conn().await?;
    let heads: HashMap<String, (i64, String)> = sqlx::query("SELECT chain, seq, hash FROM history_chain_heads")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect::<Result<_>>()?;
    let unchained = sqlx::query(
        "SELECT id FROM history WHERE chain IS NULL OR seq IS NULL OR prev_hash IS NULL OR hash IS NULL \
         ORDER BY at, id LIMIT 100",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;

    let mut chains: Vec<ChainReport> = Vec::new();
    let mut hasher = EntryHasher::default();
    let mut rows = sqlx::query(
        "SELECT chain, seq, prev_hash, hash, id, user_id, at, actor_id, actor, source, action, details \
         FROM history WHERE chain IS NOT NULL AND seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL \
         ORDER BY chain, seq",
    )
    .fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let chain: String = row.try_get(0)?;
        if chains.last().is_none_or(|c| c.chain != chain) {
            chains.push(ChainReport {
                chain: chain.clone(),
                entries: 0,
                last_hash: GENESIS.to_string(),
                last_seq: 0,
                problem: None,
            });
        }
        let report = chains.last_mut().expect("pushed above");
        if report.problem.is_some() {
            continue;
        }
        let seq: i64 = row.try_get(1)?;
        let prev_hash: String = row.try_get(2)?;
        let stored: String = row.try_get(3)?;
        let id: String = row.try_get(4)?;
        let user_id: UserId = row.try_get(5)?;
        let actor_id: Option<UserId> = row.try_get(7)?;
        let actor: String = row.try_get(8)?;
        let source: String = row.try_get(9)?;
        let action: String = row.try_get(10)?;
        let details: String = row.try_get(11)?;
        let mismatch = |what, expected: String, stored: String| Mismatch {
            id: id.clone(),
            chain: chain.clone(),
            seq,
            what,
            expected,
            stored,
        };
        if seq != report.last_seq + 1 {
            report.problem = Some(mismatch("seq", (report.last_seq + 1).to_string(), seq.to_string()));
            continue;
        }
        if prev_hash != report.last_hash {
            report.problem = Some(mismatch("prev_hash", report.last_hash.clone(), prev_hash));
            continue;
        }
        let expected = hasher.hash(&Chained {
            chain: &chain,
            seq,
            prev_hash: &prev_hash,
            id: &id,
            user_id: &user_id,
            at: row.try_get(6)?,
            actor_id: actor_id.as_ref(),
            actor: &actor,
            source: &source,
            action: &action,
            details: &details,
        });
        if expected != stored {
            report.problem = Some(mismatch("hash", expected, stored));
            continue;
        }
        report.entries += 1;
        report.last_seq = seq;
        report.last_hash = stored;
    }
    drop(rows);

    // The heads say where each chain ends: a chain cut short (or removed
    // whole) ends before its head.
    for report in chains.iter_mut().filter(|c| c.problem.is_none()) {
        if let Some((seq, hash)) = heads.get(&report.chain) {
            if (*seq, hash) != (report.last_seq, &report.last_hash) {
                report.problem = Some(Mismatch {
                    id: String::new(),
                    chain: report.chain.clone(),
                    seq: *seq,
                    what: "head",
                    expected: format!("seq {seq}, hash {hash}"),
                    stored: format!("seq {}, hash {}", report.last_seq, report.last_hash),
                });
            }
        }
    }
    for (chain, (seq, hash)) in &heads {
        if *seq > 0 && !chains.iter().any(|c| &c.chain == chain) {
            chains.push(ChainReport {
                chain: chain.clone(),
                entries: 0,
                last_hash: GENESIS.to_string(),
                last_seq: 0,
                problem: Some(Mismatch {
                    id: String::new(),
                    chain: chain.clone(),
                    seq: *seq,
                    what: "head",
                    expected: format!("seq {seq}, hash {hash}"),
                    stored: "no entries".to_string(),
                }),
            });
        }
    }
    chains.sort_by(|a, b| a.chain.cmp(&b.chain));
    Ok(Verification { chains, unchained })
}

/// An entry with its place in its chain, as the export writes it.
#[derive(Debug, Clone)]
pub struct ChainedEntry {
    pub entry: Entry,
    pub chain: String,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// One page of a chain in seq order: entries after seq `after`, written at
/// or after `since` (milliseconds).
pub async fn chain_page(conn: &mut Conn, chain: &str, after: i64, since: i64, limit: i64) -> Result<Vec<ChainedEntry>> {
    let rows = sqlx::query(
        "SELECT id, user_id, at, actor_id, actor, source, action, details, chain, seq, prev_hash, hash \
         FROM history WHERE chain = $1 AND seq > $2 AND at >= $3 ORDER BY seq LIMIT $4",
    )
    .bind(chain)
    .bind(after)
    .bind(since)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ChainedEntry {
                entry: entry_of(r)?,
                chain: r.try_get("chain")?,
                seq: r.try_get("seq")?,
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        })
        .collect()
}

fn entry_of(r: &sqlx::any::AnyRow) -> Result<Entry> {
    let details: String = r.try_get("details")?;
    Ok(Entry {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        at: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        actor: r.try_get("actor")?,
        source: r.try_get("source")?,
        action: r.try_get("action")?,
        details: serde_json::from_str(&details).unwrap_or(Value::String(details)),
    })
}

/// Newest first, `limit` entries from before the cursor (an entry id),
/// only of `kinds` unless it is empty.
pub async fn list(
    conn: &mut Conn,
    user_id: &UserId,
    before: Option<(i64, &str)>,
    kinds: &[Kind],
    limit: i64,
) -> Result<Vec<Entry>> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    let only_kinds = if kinds.is_empty() {
        String::new()
    } else {
        let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
        format!(" AND action IN ({})", placeholders.join(", "))
    };
    let sql = format!(
        "SELECT id, user_id, at, actor_id, actor, source, action, details FROM history \
         WHERE user_id = $1 AND (at < $2 OR (at = $2 AND id < $3)){only_kinds} ORDER BY at DESC, id DESC LIMIT $4"
    );
    let mut query =
        sqlx::query(&sql).bind(user_id).bind(at).bind(if before.is_some() { id } else { "\u{10FFFF}" }).bind(limit);
    for kind in kinds {
        query = query.bind(kind.as_str());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(entry_of).collect()
}
