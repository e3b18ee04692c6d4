//! Issue #3's benchmarks: bulk import, search, the Applications tab and
//! access checks, on SQLite and PostgreSQL, with casbin-rs beside the checks.
//!
//! Everything runs through the real code: `ops::create_users` for the
//! import, `users::search` and the axum server for search and the
//! Applications tab, `authz::roles_allow` and `POST /api/v1/check` for checks.
//! A full run: `cargo run --release --manifest-path bench/Cargo.toml`.

mod args;
mod casbin_cmp;
mod data;
mod database;
mod import_limit;
mod load;
mod measure;
mod progress;
mod sign_in;
mod valid;

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use casbin::CoreApi;
use clap::Parser;
use serde_json::json;
use starship_core::authz::roles_allow;
use starship_core::catalogue::{keys, Catalogue, RoleRef, RoleScope};
use starship_core::domain::{Email, Locale, PartnerKind, Password, PersonName, ProductionId, Title, UserStatus};
use starship_server::ops::{self, Access, Identity};
use starship_server::{AppState, Config};
use starship_store::history::{Actor, Source};
use starship_store::sqlx;
use starship_store::users::{self, NewUser};
use starship_store::{new_id, now_millis, partners, Dialect, Store};

use args::{Args, Only, StoreChoice};
use data::{DataSet, Rng, Sizes, BIG, FIRST_NAMES, LAST_NAMES};
use database::{analyze, database_size, fresh_database, kept_database, remove_database, store_name};
use load::{loadavg, wait_for_quiet};
use measure::{cpu_time, fmt_dur, fmt_rate, group_thousands, own_cpu_time, Line, Report, Samples};
use progress::START;
use sign_in::sign_in_people;
use valid::Valid;

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

/// Measure 1: Bulk import through ops::create_users in one transaction, and the
/// plain single-row insert of as many users beside it (rolled back).
async fn bench_import(store: &Store, url: &str, args: &Args, report: &mut Report) -> Result<()> {
    const SECTION: &str = "Import";
    let n = args.import;
    if n == 0 {
        return Ok(());
    }
    let mut rng = Rng::new(args.seed ^ 0xA11CE);
    let mut tx = store.begin().await?;
    let partner =
        partners::insert(&mut tx, &Title::parse("name", "Bench Import Partners").valid()?, PartnerKind::Content)
            .await?;
    tx.commit().await?;
    let locales = ["en-US", "en-US", "fr-FR", "de-DE", "ja-JP", "es-419", "pt-BR"];
    let identities = (0..n)
        .map(|i| {
            let (f, l) = (*rng.pick(FIRST_NAMES), *rng.pick(LAST_NAMES));
            let locale = locales[rng.below(locales.len())];
            Identity::parse("", &format!("import.{f}.{l}.{i}@bench-import.example.com"), f, l, locale)
                .map_err(|e| anyhow!("{e:?}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let config = Config::for_public_url("https://starship.example.com");
    let actor = Actor::system(Source::Cli);

    log!("import: {n} users through ops::create_users in one transaction");
    let mut tx = store.begin().await?;
    // The CPU time of this process and, on PostgreSQL, of the backend
    // serving the transaction.
    let backend: Option<u32> = match store.dialect() {
        Dialect::Postgres => {
            Some(sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()").fetch_one(&mut *tx).await? as u32)
        }
        Dialect::Sqlite => None,
    };
    let cpu = || own_cpu_time() + backend.map_or(Duration::ZERO, cpu_time);
    let (started, cpu_before) = (Instant::now(), cpu());
    let created = ops::create_users(&mut tx, &config, &actor, &partner.id, &identities, Access::SignIn).await?;
    let work = started.elapsed();
    tx.commit().await?;
    let total = started.elapsed();
    let import_cpu = cpu().saturating_sub(cpu_before);
    if created.len() != n {
        bail!("create_users created {} users, not {n}", created.len());
    }
    log!(
        "import: {:.2} s ({:.2} s with the commit; CPU {:.2} s)",
        work.as_secs_f64(),
        total.as_secs_f64(),
        import_cpu.as_secs_f64()
    );
    let written = import_limit::Written::read(store, url, &partner.id).await?;
    let limit = written.limit(None).await?;
    log!(
        "limit: the same {} rows in {:.2} s (CPU {:.2} s)",
        written.rows(),
        limit.wall.as_secs_f64(),
        limit.cpu.as_secs_f64()
    );
    let mut means_compared = Vec::new();
    if args.compare_limit_means && store.dialect() == Dialect::Sqlite {
        for means in import_limit::SqliteMeans::ALL {
            let took = written.limit_by(None, means).await?;
            log!(
                "limit by {}: {:.2} s (CPU {:.2} s)",
                means.describe(),
                took.wall.as_secs_f64(),
                took.cpu.as_secs_f64()
            );
            means_compared.push(format!(
                "{}: {:.2} s (CPU {:.2} s)",
                means.describe(),
                took.wall.as_secs_f64(),
                took.cpu.as_secs_f64()
            ));
        }
    }
    let mut index_costs = Vec::new();
    if args.index_costs {
        // Each index's cost: the fastest of --index-cost-runs limits with
        // every index against the fastest of as many without it, the two
        // taken in turn, so that both sides meet the same load and the
        // same number of tries.
        let runs = args.index_cost_runs.max(1);
        for (table, index) in written.indexes(store).await? {
            let (mut with, mut without): (Option<import_limit::Took>, Option<import_limit::Took>) = (None, None);
            for _ in 0..runs {
                let took = written.limit(None).await?;
                with = Some(with.map_or(took, |w| w.min(took)));
                let took = written.limit(Some(&index)).await?;
                without = Some(without.map_or(took, |w| w.min(took)));
            }
            let (with, without) = (with.expect("a run"), without.expect("a run"));
            log!(
                "limit without {index}: {:.2} s (CPU {:.2} s); with it {:.2} s (CPU {:.2} s)",
                without.wall.as_secs_f64(),
                without.cpu.as_secs_f64(),
                with.wall.as_secs_f64(),
                with.cpu.as_secs_f64()
            );
            index_costs.push((table, index, with, without));
        }
    }

    report.lines.push(Line::throughput(
        SECTION,
        "Bulk import: `ops::create_users` (users + history + activation links + welcome emails), one transaction",
        n,
        format!(
            "**{}** ({:.2} s); {} with the commit ({:.2} s)",
            fmt_rate(n, work),
            work.as_secs_f64(),
            fmt_rate(n, total),
            total.as_secs_f64()
        ),
    ));
    report.lines.push(Line::throughput(
        SECTION,
        format!(
            "Limit (issue #17): the same {} rows the import wrote, same tables and indexes, one transaction: {}",
            group_thousands(written.rows() as u64),
            written.means()
        ),
        n,
        format!(
            "**{:.2} s** with the commit; the import takes **{:.2}×** as long (CPU: import {:.2} s, limit {:.2} s, {:.2}×)",
            limit.wall.as_secs_f64(),
            total.as_secs_f64() / limit.wall.as_secs_f64(),
            import_cpu.as_secs_f64(),
            limit.cpu.as_secs_f64(),
            import_cpu.as_secs_f64() / limit.cpu.as_secs_f64()
        ),
    ));
    if !means_compared.is_empty() {
        report.lines.push(Line::throughput(
            SECTION,
            "The SQLite limit by each means of the C API (the fastest is the limit)",
            n,
            means_compared.join("; "),
        ));
    }
    if !index_costs.is_empty() {
        report.lines.push(Line::throughput(
            SECTION,
            format!(
                "What each index costs the limit: the fastest of {0} runs with every index minus the fastest of {0} without that index, taken in turn; wall (CPU)",
                args.index_cost_runs.max(1)
            ),
            n,
            index_costs
                .iter()
                .map(|(table, index, with, without)| {
                    format!(
                        "{table}.{index} {:+.2} s ({:+.2} s)",
                        with.wall.as_secs_f64() - without.wall.as_secs_f64(),
                        with.cpu.as_secs_f64() - without.cpu.as_secs_f64()
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ));
    }
    if args.no_beside {
        return bench_scim_bulk(store, args, report).await;
    }
    // The limit: the same user rows, one prepared single-row INSERT each.
    let rows: Vec<[String; 9]> = (0..n)
        .map(|i| {
            let (f, l) = (*rng.pick(FIRST_NAMES), *rng.pick(LAST_NAMES));
            let email = format!("plain.{f}.{l}.{i}@bench-plain.example.com");
            let (fl, ll) = (f.to_lowercase(), l.to_lowercase());
            [
                new_id(),
                email.clone(),
                email.to_lowercase(),
                f.to_string(),
                l.to_string(),
                format!("{fl} {ll}"),
                fl,
                ll,
                "en-US".into(),
            ]
        })
        .collect();
    let sql = "INSERT INTO users (id, partner_id, email, email_lower, first_name, last_name, first_lower, last_lower, \
               full_lower, locale, phone, operator, status, password_hash, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
    log!("plain insert: {n} single-row INSERTs in one transaction, then ROLLBACK");
    let now = now_millis();
    let plain_started = Instant::now();
    let mut tx = store.begin().await?;
    for [id, email, email_lower, first, last, full_lower, first_lower, last_lower, locale] in &rows {
        sqlx::query(sql)
            .bind(id)
            .bind(&partner.id)
            .bind(email)
            .bind(email_lower)
            .bind(first)
            .bind(last)
            .bind(first_lower)
            .bind(last_lower)
            .bind(full_lower)
            .bind(locale)
            .bind(None::<String>)
            .bind(0_i64)
            .bind("pending")
            .bind(None::<String>)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    let plain = plain_started.elapsed();
    tx.rollback().await?;
    log!("plain insert: {:.2} s", plain.as_secs_f64());

    // Beside both: the users table alone through the store's multi-row
    // statements (`users::insert_many`), the same rows, rolled back.
    let users_only_rows = (0..n)
        .map(|i| {
            let (f, l) = (*rng.pick(FIRST_NAMES), *rng.pick(LAST_NAMES));
            Ok((
                Email::parse("email", &format!("multi.{f}.{l}.{i}@bench-multi.example.com")).valid()?,
                PersonName::parse("first_name", f).valid()?,
                PersonName::parse("last_name", l).valid()?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let en_us = Locale::parse("locale", "en-US").valid()?;
    let users_only: Vec<NewUser> = users_only_rows
        .iter()
        .map(|(email, first, last)| NewUser {
            partner_id: Some(&partner.id),
            email,
            first_name: first,
            last_name: last,
            locale: en_us,
            phone: None,
            status: UserStatus::Pending,
            password_hash: None,
        })
        .collect();
    let multi_started = Instant::now();
    let mut tx = store.begin().await?;
    users::insert_many(&mut tx, &users_only).await?;
    let multi = multi_started.elapsed();
    tx.rollback().await?;
    log!("users::insert_many of {n} users: {:.2} s", multi.as_secs_f64());

    let ratio = work.as_secs_f64() / plain.as_secs_f64();
    report.lines.push(Line::throughput(
        SECTION,
        "Beside (issue #3's limit): plain prepared single-row `INSERT INTO users` per row, one transaction (rolled back)",
        n,
        format!("**{}** ({:.2} s)", fmt_rate(n, plain), plain.as_secs_f64()),
    ));
    report.lines.push(Line::throughput(
        SECTION,
        "Ratio: import time / plain insert time (users only vs. 4 tables)",
        n,
        format!("**{ratio:.2}×**"),
    ));
    report.lines.push(Line::throughput(
        SECTION,
        "Beside: the users table alone through `users::insert_many` (multi-row statements), one transaction (rolled back)",
        n,
        format!("{} ({:.2} s)", fmt_rate(n, multi), multi.as_secs_f64()),
    ));
    bench_scim_bulk(store, args, report).await
}

/// SCIM `/Bulk` (issue #17): `n` users created by a partner's identity
/// provider through the real server in this process, in requests of
/// `maxOperations` POSTs each, one after the other; beside it, the import
/// of as many users (`ops::create_users`, one transaction, with the
/// commit) into a partner of its own, the path the CSV import takes.
async fn bench_scim_bulk(store: &Store, args: &Args, report: &mut Report) -> Result<()> {
    const SECTION: &str = "Import";
    const PER_REQUEST: usize = 1_000;
    let n = args.scim_bulk;
    if n == 0 {
        return Ok(());
    }
    let mut rng = Rng::new(args.seed ^ 0x5C13);
    let locales = ["en-US", "en-US", "fr-FR", "de-DE", "ja-JP", "es-419", "pt-BR"];
    let people: Vec<(String, &str, &str, &str)> = (0..n)
        .map(|i| {
            let (f, l) = (*rng.pick(FIRST_NAMES), *rng.pick(LAST_NAMES));
            (format!("{f}.{l}.{i}"), f, l, locales[rng.below(locales.len())])
        })
        .collect();

    let mut tx = store.begin().await?;
    let beside =
        partners::insert(&mut tx, &Title::parse("name", "Bench Import Beside Bulk").valid()?, PartnerKind::Content)
            .await?;
    let provisioned =
        partners::insert(&mut tx, &Title::parse("name", "Bench SCIM Partners").valid()?, PartnerKind::Content).await?;
    tx.commit().await?;
    let identities = people
        .iter()
        .map(|(name, f, l, locale)| {
            Identity::parse("", &format!("{name}@bench-beside.example.com"), f, l, locale).map_err(|e| anyhow!("{e:?}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let config = Config::for_public_url("https://starship.example.com");
    let started = Instant::now();
    let mut tx = store.begin().await?;
    ops::create_users(&mut tx, &config, &Actor::system(Source::Cli), &beside.id, &identities, Access::SignIn).await?;
    tx.commit().await?;
    let import = started.elapsed();
    log!("import beside /Bulk: {n} users in {:.2} s", import.as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(store.clone(), Config::for_public_url(&base)).await?;
    let password = Password::parse("password", "bench password, long enough").valid()?;
    let email = Email::parse("email", "bench.scim@starship.example.com").valid()?;
    let operator = ops::create_operator(store, &email, "Bench", "Provisioner", &password).await?;
    let principal = users::principal(&mut *store.conn().await?, &operator).await?;
    let actor = Actor::user(&operator.id, operator.email.as_str(), Source::Cli);
    let token = ops::scim::create_token(&state, &principal, &actor, &provisioned.id, Some("Bench IdP"))
        .await
        .map_err(|e| anyhow!("minting a SCIM token: {e}"))?
        .secret;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(starship_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let bodies: Vec<String> = people
        .chunks(PER_REQUEST)
        .enumerate()
        .map(|(r, chunk)| {
            let operations: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (name, f, l, locale))| {
                    let email = format!("{name}@bench-scim.example.com");
                    json!({
                        "method": "POST",
                        "bulkId": format!("u{r}.{i}"),
                        "path": "/Users",
                        "data": {
                            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": email,
                            "externalId": format!("idp-{name}"),
                            "name": {"givenName": f, "familyName": l},
                            "locale": locale,
                            "active": true,
                            "emails": [{"value": email, "type": "work", "primary": true}],
                        },
                    })
                })
                .collect();
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations})
                .to_string()
        })
        .collect();
    let http = reqwest::Client::new();
    log!("SCIM /Bulk: {n} users in {} requests of at most {PER_REQUEST}", bodies.len());
    let started = Instant::now();
    for body in bodies {
        let answer = http
            .post(format!("{base}/scim/v2/Bulk"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body)
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("/Bulk answered {}: {}", answer.status(), answer.text().await?);
        }
        let answer: serde_json::Value = answer.json().await?;
        let results = answer["Operations"].as_array().ok_or_else(|| anyhow!("no Operations in {answer}"))?;
        if let Some(failed) = results.iter().find(|r| r["status"] != "201") {
            bail!("a /Bulk creation failed: {failed}");
        }
    }
    let bulk = started.elapsed();
    let _ = stop.send(());
    server.await??;
    log!("SCIM /Bulk: {n} users in {:.2} s", bulk.as_secs_f64());
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE partner_id = $1")
        .bind(&provisioned.id)
        .fetch_one(store.pool())
        .await?;
    if created != n as i64 {
        bail!("/Bulk created {created} users, not {n}");
    }
    report.lines.push(Line::throughput(
        SECTION,
        format!(
            "SCIM `/Bulk` through the server: POST /Users operations, {PER_REQUEST} per request, one request at a time"
        ),
        n,
        format!(
            "**{}** ({:.2} s); the import of as many users beside it takes {:.2} s: **{:.2}×**",
            fmt_rate(n, bulk),
            bulk.as_secs_f64(),
            import.as_secs_f64(),
            bulk.as_secs_f64() / import.as_secs_f64()
        ),
    ));
    Ok(())
}

/// `history verify` (issue #14): the History's chains walked and every hash
/// recomputed, over entries written through `history::append_many` about
/// 1,000 people of one partner (one chain) and 10 operators (another).
async fn bench_verify(store: &Store, args: &Args, report: &mut Report) -> Result<()> {
    const SECTION: &str = "History verify";
    const BATCH: usize = 50_000;
    let n = args.history_entries;
    let mut tx = store.begin().await?;
    let partner =
        partners::insert(&mut tx, &Title::parse("name", "Bench History Partners").valid()?, PartnerKind::Content)
            .await?;
    let mut people = Vec::new();
    for i in 0..1_010 {
        let email = Email::parse("email", &format!("history.{i}@bench-history.example.com")).valid()?;
        let user = users::insert(
            &mut tx,
            &NewUser {
                partner_id: (i < 1_000).then_some(partner.id.as_str()),
                email: &email,
                first_name: &PersonName::parse("first_name", "History").valid()?,
                last_name: &PersonName::parse("last_name", "Bench").valid()?,
                locale: Locale::parse("locale", "en-US").valid()?,
                phone: None,
                status: UserStatus::Active,
                password_hash: None,
            },
        )
        .await?;
        people.push(user.id);
    }
    tx.commit().await?;
    log!("verify: writing {n} History entries in transactions of {BATCH}");
    let actor = Actor::system(Source::Cli);
    let written = Instant::now();
    let mut done = 0;
    while done < n {
        let batch = BATCH.min(n - done);
        let entries = (done..done + batch)
            .map(|i| {
                let details = json!({"application": "backlot", "role": "content-partner-operations", "i": i});
                (people[i % people.len()].clone(), starship_store::history::Kind::RoleGranted, details)
            })
            .collect();
        let mut tx = store.begin().await?;
        starship_store::history::append_many(&mut tx, &actor, entries).await?;
        tx.commit().await?;
        done += batch;
    }
    let write_time = written.elapsed();
    analyze(store).await?;
    wait_for_quiet(args).await;
    log!("verify: walking the chains");
    let started = Instant::now();
    let verification = starship_store::history::verify(store).await?;
    let took = started.elapsed();
    if !verification.is_intact() || verification.entries() != n as u64 {
        bail!("verify found {} of {n} entries intact: {:?}", verification.entries(), verification.chains);
    }
    log!("verify: {:.2} s", took.as_secs_f64());
    report.lines.push(Line::throughput(
        SECTION,
        "`history::verify` (what `starshipd history verify` runs): every chain streamed in seq order, every hash recomputed",
        n,
        format!("**{}** ({:.2} s)", fmt_rate(n, took).replace("rows", "entries"), took.as_secs_f64()),
    ));
    report.notes.push(format!(
        "History written for it through `history::append_many` in transactions of {BATCH}: {} ({:.0} s).",
        fmt_rate(n, write_time).replace("rows", "entries"),
        write_time.as_secs_f64()
    ));
    Ok(())
}

const NAIVE_SEARCH: &str =
    "SELECT id, partner_id, email, first_name, last_name, locale, phone, operator, status, created_at, updated_at \
     FROM users WHERE partner_id = $1 AND (LOWER(first_name || ' ' || last_name) LIKE $2 OR LOWER(last_name) LIKE $2 \
     OR LOWER(email) LIKE $2) LIMIT 20";

const WARMUP: usize = 20;

/// Measure 2: Search: in-process indexed, naive LIKE, and over HTTP.
#[allow(clippy::too_many_arguments)]
async fn bench_search(
    store: &Store,
    data: &DataSet,
    args: &Args,
    report: &mut Report,
    rng: &mut Rng,
    http: &reqwest::Client,
    base: &str,
    admin_token: &str,
    operator_token: &str,
) -> Result<()> {
    const SECTION: &str = "Search";
    let n = args.samples;
    let big_id = data.partners[BIG as usize].id.clone();
    let big: Vec<(String, String)> = (0..n).map(|_| (big_id.clone(), data.prefix(rng, Some(BIG)))).collect();
    let small: Vec<(String, String)> = (0..n)
        .map(|_| {
            let p = 1 + rng.below(data.partners.len() - 1) as u32;
            (data.partners[p as usize].id.clone(), data.prefix(rng, Some(p)))
        })
        .collect();
    let anywhere: Vec<String> = (0..n).map(|_| data.prefix(rng, None)).collect();
    // The same cases with a piece from inside a name or an email instead.
    let inside = |rng: &mut Rng, cases: &[(String, String)], partner: &dyn Fn(&str) -> Option<u32>| {
        cases.iter().map(|(id, _)| (id.clone(), data.infix(rng, partner(id)))).collect::<Vec<_>>()
    };
    let partner_index = |id: &str| data.partners.iter().position(|p| p.id == id).map(|i| i as u32);
    let big_inside = inside(rng, &big, &partner_index);
    let small_inside = inside(rng, &small, &partner_index);
    let anywhere_inside: Vec<String> = (0..n).map(|_| data.infix(rng, None)).collect();
    let mut conn = store.conn().await?;

    for (label, cases, cases_inside) in
        [("big partner (50k users)", &big, &big_inside), ("random small partners", &small, &small_inside)]
    {
        let label = label.replace("50k", &format!("{}k", data.partners[BIG as usize].users.len() / 1000));
        log!("search: prefixes only, {label}");
        let (samples, rows) = sample_queries(n, cases, async |(partner, prefix): &(String, String)| {
            Ok(users::search_prefixes(&mut conn, Some(partner), prefix, 20).await?.len())
        })
        .await?;
        report.lines.push(Line::latency(
            SECTION,
            format!("Prefix search (`users::search_prefixes`, 2–4 letter prefixes), in-process, {label}"),
            &samples,
            format!("{rows:.1} rows/query"),
        ));

        log!("search: prefixes and trigrams, same prefixes, {label}");
        let (samples, rows) = sample_queries(n, cases, async |(partner, prefix): &(String, String)| {
            Ok(users::search(&mut conn, Some(partner), prefix, 20).await?.len())
        })
        .await?;
        report.lines.push(Line::latency(
            SECTION,
            format!("Trigram search (`users::search`), the same 2–4 letter prefixes, in-process, {label}"),
            &samples,
            format!("{rows:.1} rows/query"),
        ));

        log!("search: trigrams, pieces from inside, {label}");
        let (samples, rows) = sample_queries(n, cases_inside, async |(partner, piece): &(String, String)| {
            Ok(users::search(&mut conn, Some(partner), piece, 20).await?.len())
        })
        .await?;
        report.lines.push(Line::latency(
            SECTION,
            format!("Trigram search (`users::search`), 3–5 letters from inside a name or email, in-process, {label}"),
            &samples,
            format!("{rows:.1} rows/query"),
        ));

        log!("search: naive LIKE, {label}");
        let (samples, rows) = sample_queries(n, cases, async |(partner, prefix): &(String, String)| {
            let pattern = format!("{prefix}%");
            Ok(sqlx::query(NAIVE_SEARCH).bind(partner).bind(&pattern).fetch_all(&mut *conn).await?.len())
        })
        .await?;
        report.lines.push(Line::latency(
            SECTION,
            format!("Naive unindexed `LOWER(..) LIKE 'p%'`, in-process, {label}"),
            &samples,
            format!("{rows:.1} rows/query"),
        ));
    }

    let everyone = group_thousands(data.people.len() as u64);
    log!("search: prefixes only, all partners");
    let (samples, rows) = sample_queries(n, &anywhere, async |prefix: &String| {
        Ok(users::search_prefixes(&mut conn, None, prefix, 20).await?.len())
    })
    .await?;
    report.lines.push(Line::latency(
        SECTION,
        format!("Prefix search (`users::search_prefixes`, 2–4 letter prefixes), in-process, all partners ({everyone} users)"),
        &samples,
        format!("{rows:.1} rows/query"),
    ));
    log!("search: trigrams, pieces from inside, all partners");
    let (samples, rows) = sample_queries(n, &anywhere_inside, async |piece: &String| {
        Ok(users::search(&mut conn, None, piece, 20).await?.len())
    })
    .await?;
    report.lines.push(Line::latency(
        SECTION,
        format!(
            "Trigram search (`users::search`), 3–5 letters from inside a name or email, in-process, all partners ({everyone} users)"
        ),
        &samples,
        format!("{rows:.1} rows/query"),
    ));
    drop(conn);

    let scoped: Vec<String> = big.iter().map(|(_, p)| p.clone()).collect();
    for (label, token, prefixes) in [
        ("as a Backlot admin of the big partner (its users)", admin_token, &scoped),
        ("as an operator (every partner)", operator_token, &anywhere),
    ] {
        log!("search: HTTP {label}");
        let mut samples = Samples::with_capacity(n);
        let mut hits = 0;
        for (i, prefix) in prefixes.iter().cycle().take(n + WARMUP).enumerate() {
            let request = http.get(format!("{base}/api/v1/users")).query(&[("q", prefix)]).bearer_auth(token);
            let (elapsed, found) = timed_json(request, &format!("GET /api/v1/users?q={prefix}")).await?;
            if i >= WARMUP {
                samples.push(elapsed);
                hits += found.as_array().map_or(0, Vec::len);
            }
        }
        report.lines.push(Line::latency(
            SECTION,
            format!("HTTP `GET /api/v1/users?q=` {label}"),
            &samples,
            format!("{:.1} rows/query", hits as f64 / n as f64),
        ));
    }
    Ok(())
}

/// Measure 3: The Applications tab of the big partner, as its Backlot admin.
async fn bench_applications_tab(
    data: &DataSet,
    args: &Args,
    report: &mut Report,
    rng: &mut Rng,
    http: &reqwest::Client,
    base: &str,
    admin_token: &str,
) -> Result<()> {
    const SECTION: &str = "Applications tab";
    let n = args.samples;
    let big = &data.partners[BIG as usize];
    let url = format!("{base}/api/v1/applications/backlot/users");
    let afters: Vec<String> =
        (0..n).map(|_| data.people[big.users[rng.below(big.users.len())] as usize].id.clone()).collect();
    let prefixes: Vec<String> = (0..n)
        .map(|_| {
            let person = &data.people[big.users[rng.below(big.users.len())] as usize];
            let len = rng.between(2, 4);
            data.first_name(person).chars().take(len).collect::<String>().to_lowercase()
        })
        .collect();
    let cases = [
        "first page (`?limit=50`)",
        "a random later page (`?limit=50&after=<random user>`)",
        "first page of a name prefix (`?limit=50&q=<2–4 letters>`)",
    ];
    for (case, label) in cases.into_iter().enumerate() {
        log!("applications tab: {label}");
        let mut samples = Samples::with_capacity(n);
        let mut rows = 0;
        for i in 0..n + WARMUP {
            let mut params = vec![("limit", "50".to_string())];
            match case {
                1 => params.push(("after", afters[i % n].clone())),
                2 => params.push(("q", prefixes[i % n].clone())),
                _ => {}
            }
            let (elapsed, page) = timed_json(http.get(&url).query(&params).bearer_auth(admin_token), &url).await?;
            if i >= WARMUP {
                samples.push(elapsed);
                rows += page["users"].as_array().map_or(0, Vec::len);
            }
        }
        report.lines.push(Line::latency(
            SECTION,
            format!("HTTP `GET /api/v1/applications/backlot/users`, {label}, as the big partner's Backlot admin"),
            &samples,
            format!("{:.1} users/page", rows as f64 / n as f64),
        ));
    }
    Ok(())
}

/// Times `query` over the cases in turn, `n` times after WARMUP unmeasured
/// runs; returns the samples and the rows found per measured query.
async fn sample_queries<C>(
    n: usize,
    cases: &[C],
    mut query: impl AsyncFnMut(&C) -> Result<usize>,
) -> Result<(Samples, f64)> {
    let mut samples = Samples::with_capacity(n);
    let mut rows = 0;
    for (i, case) in cases.iter().cycle().take(n + WARMUP).enumerate() {
        let started = Instant::now();
        let found = query(case).await?;
        if i >= WARMUP {
            samples.push(started.elapsed());
            rows += found;
        }
    }
    Ok((samples, rows as f64 / n as f64))
}

/// Sends one request and times it to the last byte of the answer; a
/// refused request stops the run, naming what was asked.
async fn timed_json(request: reqwest::RequestBuilder, what: &str) -> Result<(Duration, serde_json::Value)> {
    let started = Instant::now();
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = started.elapsed();
    if !status.is_success() {
        bail!("{what}: {status} {}", String::from_utf8_lossy(&body));
    }
    Ok((elapsed, serde_json::from_slice(&body)?))
}

/// A large grant through the API (1,000 people of the big partner at a
/// time, each sample a different thousand), beside the limit: the same
/// grant rows as plain single-row inserts, rolled back.
async fn bench_grant(
    store: &Store,
    data: &DataSet,
    report: &mut Report,
    http: &reqwest::Client,
    base: &str,
    operator_token: &str,
) -> Result<()> {
    const SECTION: &str = "Grant";
    const PEOPLE: usize = 1_000;
    const SAMPLES: usize = 5;
    let big = &data.partners[BIG as usize];
    let academy: Vec<serde_json::Value> = data
        .productions
        .iter()
        .map(|p| json!({"application": keys::PRODUCTION_ACADEMY, "role": keys::ACADEMY_USER, "production": p.get()}))
        .collect();
    let operations = vec![json!({"application": keys::BACKLOT, "role": keys::CONTENT_PARTNER_OPERATIONS})];
    let cases = [
        ("1 role (Content Partner Operations; most hold it already)", operations),
        ("Academy User on every production", academy),
    ];
    // Each sample takes the next thousand people, from the end of the list.
    let mut people = big.users.iter().rev().map(|&i| data.people[i as usize].id.clone());
    for (label, roles) in cases {
        let pairs = PEOPLE * roles.len();
        log!("grant: {PEOPLE} people × {} roles, {SAMPLES} times", roles.len());
        let mut samples = Samples::with_capacity(SAMPLES);
        let mut new = 0;
        for _ in 0..SAMPLES {
            let user_ids: Vec<String> = people.by_ref().take(PEOPLE).collect();
            if user_ids.len() < PEOPLE {
                bail!("the big partner has too few people for the grant measure");
            }
            let body = json!({"user_ids": user_ids, "roles": roles});
            let request = http.post(format!("{base}/api/v1/grants")).bearer_auth(operator_token).json(&body);
            let (elapsed, answer) = timed_json(request, "POST /api/v1/grants").await?;
            samples.push(elapsed);
            new += answer["granted"].as_array().map_or(0, |g| g.iter().filter(|c| c["newly_granted"] == true).count());
        }
        report.lines.push(Line::latency(
            SECTION,
            format!("HTTP `POST /api/v1/grants`, {PEOPLE} people × {label} = {pairs} pairs, as an operator"),
            &samples,
            format!("{} new grants/request; {}", new / SAMPLES, fmt_rate(pairs, samples.quantile(0.5))),
        ));

        // The limit: as many grant rows as a request wrote new on average,
        // one prepared single-row insert each, rolled back: Master Content
        // Partner Operations for people at the start of the list who do
        // not hold it (the requests took people from the end).
        let rows = (new / SAMPLES).max(1);
        let master = RoleRef {
            application: keys::BACKLOT.into(),
            role: keys::MASTER_CONTENT_PARTNER_OPERATIONS.into(),
            production: None,
        };
        let without: Vec<&str> = big
            .users
            .iter()
            .map(|&i| &data.people[i as usize])
            .filter(|p| !data.roles_of(p).contains(&master))
            .map(|p| p.id.as_str())
            .take(rows)
            .collect();
        let sql = "INSERT INTO grants (id, user_id, application, role, production_id, granted_by, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let mut tx = store.begin().await?;
        let started = Instant::now();
        for user_id in &without {
            sqlx::query(sql)
                .bind(new_id())
                .bind(*user_id)
                .bind(&master.application)
                .bind(&master.role)
                .bind(None::<i64>)
                .bind(None::<String>)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
        }
        let plain = started.elapsed();
        tx.rollback().await?;
        let rows = without.len();
        report.lines.push(Line::throughput(
            SECTION,
            format!("Limit: {rows} plain single-row `INSERT INTO grants` (grants only, no History), one transaction (rolled back)"),
            rows,
            format!("{} ({})", fmt_rate(rows, plain), fmt_dur(plain)),
        ));
    }
    Ok(())
}

/// The Partner Portal's contact list: every person of the partner with
/// their level, contact roles and sites, in one response.
async fn bench_contacts(
    data: &DataSet,
    report: &mut Report,
    http: &reqwest::Client,
    base: &str,
    admin_token: &str,
) -> Result<()> {
    const SAMPLES: usize = 20;
    const WARMUP_LISTS: usize = 3;
    let big = &data.partners[BIG as usize];
    let url = format!("{base}/api/v1/contacts");
    log!("contacts: the big partner's {} people", big.users.len());
    let mut samples = Samples::with_capacity(SAMPLES);
    let mut rows = 0;
    for i in 0..SAMPLES + WARMUP_LISTS {
        let (elapsed, contacts) = timed_json(http.get(&url).bearer_auth(admin_token), &url).await?;
        if i >= WARMUP_LISTS {
            samples.push(elapsed);
            rows = contacts.as_array().map_or(0, Vec::len);
        }
    }
    report.lines.push(Line::latency(
        "Partner Portal",
        "HTTP `GET /api/v1/contacts`, the whole list of the big partner, as one of its admins",
        &samples,
        format!("{rows} people/response"),
    ));
    Ok(())
}

struct AppInfo {
    key: String,
    capabilities: Vec<String>,
    production_scoped: bool,
}

struct CheckRequest {
    person: u32,
    app: usize,
    capability: usize,
    production: Option<ProductionId>,
}

fn apps_of(catalogue: &Catalogue) -> Vec<AppInfo> {
    catalogue
        .applications
        .iter()
        .map(|a| AppInfo {
            key: a.key.clone(),
            capabilities: a.capabilities.iter().map(|c| c.key.clone()).collect(),
            production_scoped: a.roles.iter().all(|r| r.scope == RoleScope::Production),
        })
        .collect()
}

/// A random check: a random person of `pool`, an application weighted
/// towards Backlot, one of its capabilities, and for production-scoped
/// applications one of the productions.
fn random_check(rng: &mut Rng, apps: &[AppInfo], data: &DataSet, pool: &[u32]) -> CheckRequest {
    let weights = [50, 25, 15, 10];
    let total: usize = (0..apps.len()).map(|i| weights.get(i).copied().unwrap_or(10)).sum();
    let mut x = rng.below(total);
    let mut app = 0;
    for i in 0..apps.len() {
        let w = weights.get(i).copied().unwrap_or(10);
        if x < w {
            app = i;
            break;
        }
        x -= w;
    }
    let capability = rng.below(apps[app].capabilities.len());
    let production = apps[app].production_scoped.then(|| *rng.pick(&data.productions));
    CheckRequest { person: *rng.pick(pool), app, capability, production }
}

fn sorted(roles: Vec<RoleRef>) -> Vec<(String, String, Option<i64>)> {
    let mut keyed: Vec<_> =
        roles.into_iter().map(|r| (r.application, r.role, r.production.map(ProductionId::get))).collect();
    keyed.sort();
    keyed
}

/// Measure 4: Checks: the pure rule, store-backed, over HTTP, and casbin.
#[allow(clippy::too_many_arguments)]
async fn bench_checks(
    store: &Store,
    catalogue: &Catalogue,
    data: &DataSet,
    args: &Args,
    report: &mut Report,
    rng: &mut Rng,
    http: &reqwest::Client,
    base: &str,
    operator_token: &str,
) -> Result<()> {
    const SECTION: &str = "Check";
    let apps = apps_of(catalogue);
    let active: Vec<u32> = (0..data.people.len() as u32).filter(|&i| data.people[i as usize].active).collect();
    // The expectation is read from the generated grants and the catalogue's
    // role table, not from `roles_allow`: a grant without a production
    // counts everywhere in its application, one with a production only there.
    let expected = |r: &CheckRequest| {
        let capability = &apps[r.app].capabilities[r.capability];
        data.roles_of(&data.people[r.person as usize]).iter().any(|held| {
            held.application == apps[r.app].key
                && (held.production.is_none() || held.production == r.production)
                && catalogue
                    .role(&held.application, &held.role)
                    .is_some_and(|role| role.capabilities.iter().any(|c| c == capability))
        })
    };

    // (a) The pure rule, with the roles already loaded (from the store).
    let loaded_count = 10_000.min(active.len());
    let mut conn = store.conn().await?;
    let mut loaded = Vec::with_capacity(loaded_count);
    let mut role_mismatches = 0;
    for _ in 0..loaded_count {
        let person = *rng.pick(&active);
        let roles = users::roles_of(&mut conn, &data.people[person as usize].id).await?;
        if sorted(roles.clone()) != sorted(data.roles_of(&data.people[person as usize])) {
            role_mismatches += 1;
        }
        loaded.push((person, roles));
    }
    if role_mismatches > 0 {
        bail!("{role_mismatches} users' roles in the store differ from the generated ones");
    }
    let pool: Vec<u32> = (0..loaded_count as u32).collect();
    let requests: Vec<CheckRequest> =
        (0..args.pure_checks.max(1)).map(|_| random_check(rng, &apps, data, &pool)).collect();
    log!("check: {} pure rule checks", requests.len());
    let started = Instant::now();
    let mut allowed = 0usize;
    for r in &requests {
        let roles = &loaded[r.person as usize].1;
        let app = &apps[r.app];
        allowed += usize::from(black_box(roles_allow(
            black_box(catalogue),
            black_box(roles),
            &app.key,
            &app.capabilities[r.capability],
            r.production,
        )));
    }
    let tight = started.elapsed();
    let mut overhead = Samples::with_capacity(10_000);
    for _ in 0..10_000 {
        let t = Instant::now();
        overhead.push(black_box(t).elapsed());
    }
    let timed = requests.len().min(100_000);
    let mut samples = Samples::with_capacity(timed);
    for r in &requests[..timed] {
        let roles = &loaded[r.person as usize].1;
        let app = &apps[r.app];
        let t = Instant::now();
        black_box(roles_allow(
            black_box(catalogue),
            black_box(roles),
            &app.key,
            &app.capabilities[r.capability],
            r.production,
        ));
        samples.push(t.elapsed());
    }
    let mean_ns = tight.as_nanos() as f64 / requests.len() as f64;
    report.lines.push(Line::latency(
        SECTION,
        "(a) Pure rule `authz::roles_allow`, roles already loaded, in-process",
        &samples,
        format!(
            "**mean {mean_ns:.0} ns/check** over {} checks in a tight loop; p50/p99 timed one by one include ~{} of timer; {:.0}% allowed",
            group_thousands(requests.len() as u64),
            fmt_dur(overhead.quantile(0.5)),
            100.0 * allowed as f64 / requests.len() as f64
        ),
    ));

    // (b) Store-backed: load the roles, then the rule.
    let n = args.check_samples;
    let checks: Vec<CheckRequest> = (0..n + WARMUP).map(|_| random_check(rng, &apps, data, &active)).collect();
    log!("check: {n} store-backed checks");
    let mut samples = Samples::with_capacity(n);
    let mut allowed = 0;
    let mut wrong = 0;
    for (i, r) in checks.iter().enumerate() {
        let app = &apps[r.app];
        let started = Instant::now();
        let roles = users::roles_of(&mut conn, &data.people[r.person as usize].id).await?;
        let answer = roles_allow(catalogue, &roles, &app.key, &app.capabilities[r.capability], r.production);
        let elapsed = started.elapsed();
        if i >= WARMUP {
            samples.push(elapsed);
            allowed += usize::from(answer);
            wrong += usize::from(answer != expected(r));
        }
    }
    drop(conn);
    if wrong > 0 {
        bail!("{wrong} store-backed checks answered differently from the generated grants");
    }
    report.lines.push(Line::latency(
        SECTION,
        "(b) Store-backed: `users::roles_of` + `roles_allow`, in-process",
        &samples,
        format!("{:.0}% allowed", 100.0 * allowed as f64 / n as f64),
    ));

    // Over HTTP, as an operator with an API token.
    log!("check: {n} HTTP checks");
    let mut samples = Samples::with_capacity(n);
    let mut allowed = 0;
    let mut wrong = 0;
    for (i, r) in checks.iter().enumerate() {
        let app = &apps[r.app];
        let mut body = json!({
            "user_id": data.people[r.person as usize].id,
            "application": app.key,
            "capability": app.capabilities[r.capability],
        });
        if let Some(p) = r.production {
            body["production"] = json!(p.get());
        }
        let request = http.post(format!("{base}/api/v1/check")).bearer_auth(operator_token).json(&body);
        let (elapsed, answer) = timed_json(request, &format!("POST /api/v1/check {body}")).await?;
        let answer = answer["allowed"].as_bool() == Some(true);
        if i >= WARMUP {
            samples.push(elapsed);
            allowed += usize::from(answer);
            wrong += usize::from(answer != expected(r));
        }
    }
    if wrong > 0 {
        bail!("{wrong} HTTP checks answered differently from the generated grants");
    }
    report.lines.push(Line::latency(
        SECTION,
        "HTTP `POST /api/v1/check`, operator's bearer token, sequential",
        &samples,
        format!("{:.0}% allowed", 100.0 * allowed as f64 / n as f64),
    ));

    if args.no_casbin {
        return Ok(());
    }
    let casbin = casbin_cmp::load(catalogue, data, args.casbin_users).await?;
    let loaded_people = casbin.loaded_people;
    let holds_roles = |i: u32| {
        let p = &data.people[i as usize];
        p.backlot != 0 || p.academy.is_some() || p.portal != 0
    };
    let loaded_active: Vec<u32> = active.iter().copied().filter(|&i| (i as usize) < loaded_people).collect();
    let with_roles: Vec<u32> = loaded_active.iter().copied().filter(|&i| holds_roles(i)).collect();
    if with_roles.is_empty() {
        bail!("no active person's grants were loaded into casbin");
    }
    let enforce = |r: &CheckRequest| -> Result<(bool, Duration)> {
        let person = &data.people[r.person as usize];
        let app = &apps[r.app];
        let request = (
            person.id.as_str(),
            data.partners[person.partner as usize].id.as_str(),
            casbin_cmp::object(&app.key, r.production),
            app.capabilities[r.capability].as_str(),
        );
        let started = Instant::now();
        let answer = casbin.enforcer.enforce(request)?;
        Ok((answer, started.elapsed()))
    };

    // People holding roles: every one of them is a node of casbin's graph.
    let casbin_requests: Vec<CheckRequest> =
        (0..args.casbin_checks + 5).map(|_| random_check(rng, &apps, data, &with_roles)).collect();
    log!("casbin: up to {} enforce() samples, at most {} s", args.casbin_checks, args.casbin_seconds);
    let deadline = Instant::now() + Duration::from_secs(args.casbin_seconds);
    let mut samples = Samples::with_capacity(args.casbin_checks);
    let (mut allowed_samples, mut denied_samples, mut big_samples) =
        (Samples::default(), Samples::default(), Samples::default());
    let mut wrong = 0;
    let mut timed_out = false;
    for (i, r) in casbin_requests.iter().enumerate() {
        if Instant::now() > deadline {
            timed_out = true;
            break;
        }
        let (answer, elapsed) = enforce(r)?;
        if i >= 5 {
            samples.push(elapsed);
            if answer {
                allowed_samples.push(elapsed);
            } else {
                denied_samples.push(elapsed);
            }
            if data.people[r.person as usize].partner == BIG {
                big_samples.push(elapsed);
            }
            wrong += usize::from(answer != expected(r));
        }
    }
    let count = samples.len();
    report.lines.push(Line::latency(
        SECTION,
        "casbin-rs `enforce((user, partner, app, capability))`, RBAC with domains, in-process, users holding roles",
        &samples,
        format!(
            "allowed p50 {} ({}), denied p50 {} ({}); big partner's users p50 {} ({}){}",
            fmt_dur(allowed_samples.quantile(0.5)),
            allowed_samples.len(),
            fmt_dur(denied_samples.quantile(0.5)),
            denied_samples.len(),
            fmt_dur(big_samples.quantile(0.5)),
            big_samples.len(),
            if timed_out { format!("; stopped at the {} s time box", args.casbin_seconds) } else { String::new() }
        ),
    ));

    // People holding no role have no node in casbin's graph: a few from
    // small partners, and one of the big partner, last (it is slow).
    let mut no_roles: Vec<u32> = loaded_active
        .iter()
        .copied()
        .filter(|&i| !holds_roles(i) && data.people[i as usize].partner != BIG)
        .take(args.casbin_no_role_checks)
        .collect();
    let big_no_role =
        loaded_active.iter().copied().find(|&i| !holds_roles(i) && data.people[i as usize].partner == BIG);
    no_roles.extend(big_no_role);
    log!(
        "casbin: {} enforce() samples of people holding no role, at most {} s",
        no_roles.len(),
        args.casbin_no_role_seconds
    );
    let deadline = Instant::now() + Duration::from_secs(args.casbin_no_role_seconds);
    let mut small_no_role = Samples::default();
    let mut big_no_role_time = None;
    for &person in &no_roles {
        if Instant::now() > deadline {
            break;
        }
        let mut r = random_check(rng, &apps, data, &[person]);
        r.person = person;
        let (answer, elapsed) = enforce(&r)?;
        wrong += usize::from(answer != expected(&r));
        if data.people[person as usize].partner == BIG {
            big_no_role_time = Some(elapsed);
            log!("casbin: a big-partner user holding no role: {:.1} s", elapsed.as_secs_f64());
        } else {
            small_no_role.push(elapsed);
        }
    }
    if !no_roles.is_empty() {
        report.lines.push(Line::latency(
            SECTION,
            "casbin-rs `enforce(..)`, users holding no role (no node in casbin's graph), small partners",
            &small_no_role,
            format!(
                "{:.1}% of active users hold no role; the big partner's such user: {}",
                100.0 * (loaded_active.len() - with_roles.len()) as f64 / loaded_active.len() as f64,
                big_no_role_time.map_or_else(|| "not measured (time box)".to_string(), fmt_dur)
            ),
        ));
    }
    if wrong > 0 {
        report.notes.push(format!("casbin answered {wrong} checks differently from `roles_allow`."));
    }
    report.notes.push(format!(
        "casbin: {} policies (`p`, the catalogue's role → (application, capability) for each of {} partner domains) and {} groupings \
         (`g`, {} of {} people's grants) loaded through `MemoryAdapter` and the batch APIs in {:.1} s; RSS grew {}; {count} enforce() samples{}.",
        group_thousands(casbin.policies as u64),
        data.partners.len(),
        group_thousands(casbin.groupings as u64),
        group_thousands(loaded_people as u64),
        group_thousands(data.people.len() as u64),
        casbin.load_time.as_secs_f64(),
        casbin.rss_growth_bytes.map_or_else(|| "by an unknown amount".to_string(), |b| format!("{} MiB", b / (1024 * 1024))),
        if loaded_people < data.people.len() { " (only the loaded people were checked)" } else { "" }
    ));
    drop(casbin);
    Ok(())
}
