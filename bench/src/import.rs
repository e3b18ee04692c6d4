//! The bulk import, its limit and the plain inserts beside it.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use starship_core::domain::{Email, Locale, PartnerKind, PersonName, Title, UserStatus};
use starship_server::ops;
use starship_server::ops::users::{Access, Identity};
use starship_server::Config;
use starship_store::history::{Actor, Source};
use starship_store::sqlx;
use starship_store::users::{self, NewUser};
use starship_store::{new_id, now_millis, partners, Dialect, Store};

use crate::args::Args;
use crate::data::{Rng, FIRST_NAMES, LAST_NAMES};
use crate::import_limit;
use crate::log;
use crate::measure::{cpu_time, fmt_rate, group_thousands, own_cpu_time, Line, Report};
use crate::scim_bulk::bench_scim_bulk;
use crate::valid::Valid;

/// Measure 1: Bulk import through ops::users::create_users in one transaction, and the
/// plain single-row insert of as many users beside it (rolled back).
pub(crate) async fn bench_import(store: &Store, url: &str, args: &Args, report: &mut Report) -> Result<()> {
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

    log!("import: {n} users through ops::users::create_users in one transaction");
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
    let created = ops::users::create_users(&mut tx, &config, &actor, &partner.id, &identities, Access::SignIn).await?;
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
        "Bulk import: `ops::users::create_users` (users + history + activation links + welcome emails), one transaction",
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
