//! The store, on SQLite and on PostgreSQL: every test here runs on both,
//! each on a database of its own (see `support`).

#[path = "../support/mod.rs"]
mod support;

mod fixtures;

mod accounts;
mod backup;
mod bulk;
mod catalogue;
mod grants;
mod history;
mod outbox;
mod portal;
mod search;
mod sessions;
mod transactions;
mod upgrades;
