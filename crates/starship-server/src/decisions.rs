//! The check's cache: credentials (token or session hash → who and until
//! when) and people (status, partner, grants with their end dates, admin
//! privileges), kept under the access generation they were read at.
//!
//! Invariant: **a check is never stale.** Every check first reads the
//! store's access generation (one primary-key read; migration 0018's
//! triggers move it forward in the same transaction as any change to what
//! a check reads, whichever instance or tool writes). The cache answers
//! only when it holds that very generation; any other number empties it.
//! What is loaded is remembered only if the generation is still the one
//! read before loading, so nothing read before a change is kept after it.
//! Time needs no write: a token's, session's or grant's end is compared
//! with the clock at every check. Tested by `tests/api/decisions.rs`, with
//! two instances on one database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use starship_core::ids::UserId;
use starship_store::access::{Credential, Person};
use starship_store::Store;

/// Beyond this many entries the cache starts over: it holds what the
/// busiest callers and people need, not the whole store.
const MAX_ENTRIES: usize = 200_000;

#[derive(Default)]
pub struct Decisions {
    cache: Mutex<Cache>,
    reads: GenerationReads,
}

/// Reads of the access generation shared by the checks waiting for one.
///
/// A check needs the generation as of a moment after it arrived: any read
/// that *started* after that moment will do, since it sees every change
/// committed before it. So reads are numbered as they start; a check
/// notes the number of reads started when it arrives, and takes the first
/// read numbered above it, joining one in flight or starting the next.
/// Under load one query then answers every check that arrived while the
/// previous one ran, and a check is exactly as fresh as with a query of
/// its own.
#[derive(Default)]
struct GenerationReads {
    /// How many reads have started.
    started: AtomicU64,
    /// The number of the last read finished, and what it read.
    finished: Mutex<(u64, i64)>,
    /// One read at a time: the waiters queue here.
    reading: tokio::sync::Mutex<()>,
}

impl GenerationReads {
    fn finished_since(&self, wanted: u64) -> Option<i64> {
        let (number, generation) = *self.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (number >= wanted).then_some(generation)
    }

    async fn after_now(&self, store: &Store) -> Result<i64, starship_store::StoreError> {
        let wanted = self.started.load(Ordering::SeqCst) + 1;
        if let Some(generation) = self.finished_since(wanted) {
            return Ok(generation);
        }
        let _turn = self.reading.lock().await;
        if let Some(generation) = self.finished_since(wanted) {
            return Ok(generation);
        }
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let generation = {
            let mut conn = store.conn().await?;
            starship_store::access::generation(&mut conn).await?
        };
        let mut finished = self.finished.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Reads run one at a time, so numbers finish in order.
        *finished = (number, generation);
        Ok(generation)
    }
}

#[derive(Default)]
struct Cache {
    generation: i64,
    credentials: HashMap<String, Credential>,
    people: HashMap<UserId, Arc<Person>>,
}

impl Cache {
    /// Moves to the generation a request read: a different one empties the cache.
    fn at(&mut self, generation: i64) {
        if self.generation != generation {
            self.generation = generation;
            self.credentials.clear();
            self.people.clear();
        }
    }

    fn room(&mut self) {
        if self.credentials.len() + self.people.len() >= MAX_ENTRIES {
            self.credentials.clear();
            self.people.clear();
        }
    }
}

impl Decisions {
    /// The access generation, read after this call began (see
    /// [`GenerationReads`]): what a check must compare its cache with.
    pub async fn generation(&self, store: &Store) -> Result<i64, starship_store::StoreError> {
        self.reads.after_now(store).await
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves a consistent map (every
        // change is a single insert or clear): keep using it.
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The credential with this hash, as known at `generation`.
    pub fn credential(&self, generation: i64, hash: &str) -> Option<Credential> {
        let mut cache = self.cache();
        cache.at(generation);
        cache.credentials.get(hash).cloned()
    }

    /// Remembers a credential read after `generation` was.
    pub fn remember_credential(&self, generation: i64, hash: &str, credential: Credential) {
        let mut cache = self.cache();
        if cache.generation == generation {
            cache.room();
            cache.credentials.insert(hash.to_string(), credential);
        }
    }

    /// Notes, in the cached credential, a token use written to the store.
    pub fn noted_use(&self, generation: i64, hash: &str, at: i64) {
        let mut cache = self.cache();
        if cache.generation == generation {
            if let Some((_, last_used)) = cache.credentials.get_mut(hash).and_then(|c| c.token.as_mut()) {
                *last_used = Some(at);
            }
        }
    }

    /// Of these people, those known at `generation`; the ids not known
    /// come back in the second list.
    pub fn people(&self, generation: i64, ids: &[&str]) -> (HashMap<UserId, Arc<Person>>, Vec<UserId>) {
        let mut cache = self.cache();
        cache.at(generation);
        let mut known = HashMap::new();
        let mut missing = Vec::new();
        for id in ids {
            match cache.people.get(*id) {
                Some(person) => {
                    known.insert(UserId::from(*id), person.clone());
                }
                None if !known.contains_key(*id) && !missing.iter().any(|m| m == id) => missing.push(UserId::from(*id)),
                None => {}
            }
        }
        (known, missing)
    }

    /// Remembers people read after `generation` was.
    pub fn remember_people(&self, generation: i64, people: &[Arc<Person>]) {
        let mut cache = self.cache();
        if cache.generation == generation {
            cache.room();
            for person in people {
                cache.people.insert(person.user.id.clone(), person.clone());
            }
        }
    }
}
