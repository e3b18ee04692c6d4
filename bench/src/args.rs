//! The command line.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StoreChoice {
    Sqlite,
    Postgres,
    Both,
}

/// A part of the benchmark run alone: the import and verify on an otherwise
/// empty database, search over the generated data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Only {
    /// The bulk import (and its plain-insert limit) alone.
    Import,
    /// `history verify` over --history-entries History entries.
    Verify,
    /// Search alone (prefixes, trigrams, naive, HTTP) over the generated data set.
    Search,
}

#[derive(Parser, Debug)]
#[command(about = "Starship benchmarks (issue #3): import, search, Applications tab and checks vs casbin")]
pub(crate) struct Args {
    /// Which store to measure.
    #[arg(long, value_enum, default_value = "both")]
    pub(crate) store: StoreChoice,
    /// Users generated in all.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) users: usize,
    /// Partners they are spread across (the big one included).
    #[arg(long, default_value_t = 1_000)]
    pub(crate) partners: usize,
    /// Users of the one big partner.
    #[arg(long, default_value_t = 50_000)]
    pub(crate) big_partner: usize,
    /// Users bulk-imported through ops::users::create_users (and plainly inserted beside it).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) import: usize,
    /// Samples per search and Applications tab measure.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) samples: usize,
    /// Samples of store-backed and HTTP checks.
    #[arg(long, default_value_t = 5_000)]
    pub(crate) check_samples: usize,
    /// Pure rule checks (in a tight loop; the first 100,000 are timed one by one too).
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) pure_checks: usize,
    /// casbin enforce() samples (stopped early after --casbin-seconds).
    #[arg(long, default_value_t = 500)]
    pub(crate) casbin_checks: usize,
    /// Time box for the casbin enforce() samples.
    #[arg(long, default_value_t = 120)]
    pub(crate) casbin_seconds: u64,
    /// casbin enforce() samples of people holding no role (plus one of the big partner).
    #[arg(long, default_value_t = 10)]
    pub(crate) casbin_no_role_checks: usize,
    /// Time box for those.
    #[arg(long, default_value_t = 300)]
    pub(crate) casbin_no_role_seconds: u64,
    /// Load only this many people's grants into casbin (default: everyone).
    #[arg(long)]
    pub(crate) casbin_users: Option<usize>,
    /// Skip the casbin comparison.
    #[arg(long)]
    pub(crate) no_casbin: bool,
    /// Seed of the generated data and of every random choice.
    #[arg(long, default_value_t = 3)]
    pub(crate) seed: u64,
    /// Directory for the SQLite file (default: a temporary directory).
    #[arg(long)]
    pub(crate) sqlite_dir: Option<PathBuf>,
    /// PostgreSQL server (no database name); the bench database is created there.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub(crate) pg_server: String,
    /// The PostgreSQL database created (dropped first if it exists).
    #[arg(long, default_value = "starship_bench")]
    pub(crate) pg_database: String,
    /// Before measuring, wait until the 1-minute load average is below this
    /// (0 to not wait): other work on the machine skews every latency.
    #[arg(long, default_value_t = 0.8)]
    pub(crate) quiet_below: f64,
    /// Wait at most this long for that.
    #[arg(long, default_value_t = 900)]
    pub(crate) quiet_wait_seconds: u64,
    /// Keep the databases afterwards.
    #[arg(long)]
    pub(crate) keep: bool,
    /// With `--only search`: measure over the databases an earlier run of
    /// the same sizes and seed kept (`--keep`, and `--sqlite-dir` for
    /// SQLite) instead of writing them again.
    #[arg(long, requires = "keep")]
    pub(crate) reuse: bool,
    /// Also write the result tables to this file.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Run only this part, on an empty database (no generated data set):
    /// quick enough to compare two commits on one machine.
    #[arg(long, value_enum)]
    pub(crate) only: Option<Only>,
    /// With the import: the limit once more without each index of the
    /// written tables, to say what each costs.
    #[arg(long)]
    pub(crate) index_costs: bool,
    /// With --index-costs: runs of the limit with and without each index
    /// (the fastest of them counts).
    #[arg(long, default_value_t = 3)]
    pub(crate) index_cost_runs: usize,
    /// With the import: skip issue #3's plain insert and `users::insert_many`
    /// beside it (the import, its limit and /Bulk only).
    #[arg(long)]
    pub(crate) no_beside: bool,
    /// With the import on SQLite: also time the limit fed row by row and
    /// by multi-row `VALUES`, beside the virtual-table scan it uses.
    #[arg(long)]
    pub(crate) compare_limit_means: bool,
    /// With the import: users created through SCIM `/Bulk` (requests of
    /// 1,000 operations), beside an import of as many (0: none).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) scim_bulk: usize,
    /// History entries written for the `history verify` measure.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) history_entries: usize,
}
