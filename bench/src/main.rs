//! Issue #3's benchmarks: bulk import, search, the Applications tab and
//! access checks, on SQLite and PostgreSQL, with casbin-rs beside the checks.
//!
//! Everything runs through the real code: `ops::users::create_users` for the
//! import, `users::search` and the axum server for search and the
//! Applications tab, `authz::roles_allow` and `POST /api/v1/check` for checks.
//! A full run: `cargo run --release --manifest-path bench/Cargo.toml`.

mod applications_tab;
mod args;
mod casbin_cmp;
mod checks;
mod contacts;
mod data;
mod database;
mod grant;
mod history_verify;
mod import;
mod import_limit;
mod load;
mod measure;
mod progress;
mod scim_bulk;
mod search;
mod sign_in;
mod valid;

use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use starship_core::catalogue::Catalogue;
use starship_server::{AppState, Config};
use starship_store::{Dialect, Store};

use applications_tab::bench_applications_tab;
use args::{Args, Only, StoreChoice};
use checks::bench_checks;
use contacts::bench_contacts;
use data::{DataSet, Rng, Sizes, BIG};
use database::{analyze, database_size, fresh_database, kept_database, remove_database, store_name};
use grant::bench_grant;
use history_verify::bench_verify;
use import::bench_import;
use load::{loadavg, wait_for_quiet};
use measure::{group_thousands, Report};
use progress::START;
use search::bench_search;
use sign_in::sign_in_people;

#[tokio::main]
async fn main() -> Result<()> {
    START.get_or_init(Instant::now);
    let args = Args::parse();
    let stores: &[Dialect] = match args.store {
        StoreChoice::Sqlite => &[Dialect::Sqlite],
        StoreChoice::Postgres => &[Dialect::Postgres],
        StoreChoice::Both => &[Dialect::Sqlite, Dialect::Postgres],
    };
    log!(
        "sizes: {} users, {} partners, big partner {}, import {}; seed {}",
        args.users,
        args.partners,
        args.big_partner,
        args.import,
        args.seed
    );
    let mut reports = Vec::new();
    for &dialect in stores {
        let started = Instant::now();
        let mut report = run_store(dialect, &args).await.with_context(|| format!("benchmarking {dialect:?}"))?;
        report.notes.push(format!("Whole run on this store: {:.0} s.", started.elapsed().as_secs_f64()));
        println!("{}", report.markdown());
        reports.push(report);
    }
    let all: String = reports.iter().map(|r| r.markdown() + "\n").collect();
    if let Some(out) = &args.out {
        std::fs::write(out, &all).with_context(|| format!("writing {}", out.display()))?;
    }
    log!("done");
    Ok(())
}

async fn run_store(dialect: Dialect, args: &Args) -> Result<Report> {
    let name = store_name(dialect);
    log!("=== {name} ===");
    let (url, place) = if args.reuse { kept_database(dialect, args)? } else { fresh_database(dialect, args).await? };
    let mut report = Report { store: name, lines: Vec::new(), notes: Vec::new() };
    if let Some(only) = args.only.filter(|&o| o != Only::Search) {
        let store = Store::open(&url).await?;
        wait_for_quiet(args).await;
        let load_before = loadavg();
        let result = match only {
            Only::Import => bench_import(&store, &url, args, &mut report).await,
            Only::Verify => bench_verify(&store, args, &mut report).await,
            Only::Search => unreachable!("search runs over the generated data set"),
        };
        report.notes.push(format!("Load average (1, 5, 15 min) before: {load_before}; at the end: {}.", loadavg()));
        store.close().await;
        remove_database(place, args.keep).await?;
        result?;
        return Ok(report);
    }

    let store = Store::open(&url).await?;
    let sizes = Sizes { users: args.users, partners: args.partners, big_partner: args.big_partner };
    let generated = Instant::now();
    let source = if args.reuse { data::Source::Kept } else { data::Source::Write };
    let data = data::generate(&store, &sizes, args.seed, source).await?;
    let generation_time = generated.elapsed();
    if source == data::Source::Write {
        analyze(&store).await?;
    }
    report.notes.push(format!(
        "Data set: {} users in {} partners (the big one {}), {} grants, {} productions; {} in {:.0} s; database {} after loading.",
        group_thousands(data.people.len() as u64),
        data.partners.len(),
        group_thousands(data.partners[BIG as usize].users.len() as u64),
        group_thousands(data.grants as u64),
        data.productions.len(),
        if source == data::Source::Write { "written" } else { "found in the kept database" },
        generation_time.as_secs_f64(),
        database_size(&store, &place).await?,
    ));
    // Measure on a fresh pool, as a restarted server would.
    store.close().await;
    let store = Store::open(&url).await?;
    let catalogue = starship_store::catalogue::load(store.pool()).await?;

    let result = measure_store(&store, &url, &catalogue, &data, args, &mut report).await;
    store.close().await;
    remove_database(place, args.keep).await?;
    result?;
    Ok(report)
}

async fn measure_store(
    store: &Store,
    url: &str,
    catalogue: &Catalogue,
    data: &DataSet,
    args: &Args,
    report: &mut Report,
) -> Result<()> {
    let mut rng = Rng::new(args.seed.wrapping_mul(31).wrapping_add(7));
    wait_for_quiet(args).await;
    let load_before = loadavg();
    let search_only = args.only == Some(Only::Search);
    if !search_only {
        bench_import(store, url, args, report).await?;
        analyze(store).await?;
        wait_for_quiet(args).await;
    }
    let load_reads = loadavg();

    // The real server, in this process.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(store.clone(), Config::for_public_url(&base)).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(starship_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder().pool_max_idle_per_host(4).build()?;
    let (admin_token, operator_token) = sign_in_people(store, data, &base).await?;

    bench_search(store, data, args, report, &mut rng, &http, &base, &admin_token, &operator_token).await?;
    if !search_only {
        bench_applications_tab(data, args, report, &mut rng, &http, &base, &admin_token).await?;
        bench_contacts(data, report, &http, &base, &admin_token).await?;
        bench_checks(store, catalogue, data, args, report, &mut rng, &http, &base, &operator_token).await?;
        // Last: it adds grants, which every measure above reads.
        bench_grant(store, data, report, &http, &base, &operator_token).await?;
    }

    let _ = stop.send(());
    server.await??;
    report.notes.push(format!(
        "Load average (1, 5, 15 min) before the import: {load_before}; before search: {load_reads}; at the end: {}. \
         The benchmark itself (its process and, on PostgreSQL, a server backend) keeps about 1 to 1.5 busy; \
         more means other work shared the 2 cores.",
        loadavg()
    ));
    Ok(())
}
