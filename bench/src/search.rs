//! Search: in-process (prefixes, trigrams, naive LIKE) and over HTTP.

use starship_core::ids::PartnerId;
use std::time::Instant;

use anyhow::Result;
use starship_store::sqlx;
use starship_store::users;
use starship_store::Store;

use crate::args::Args;
use crate::data::{DataSet, Rng, BIG};
use crate::log;
use crate::measure::{group_thousands, timed_requests, Line, Report, Samples, WARMUP};

const NAIVE_SEARCH: &str =
    "SELECT id, partner_id, email, first_name, last_name, locale, phone, operator, status, created_at, updated_at \
     FROM users WHERE partner_id = $1 AND (LOWER(first_name || ' ' || last_name) LIKE $2 OR LOWER(last_name) LIKE $2 \
     OR LOWER(email) LIKE $2) LIMIT 20";

/// Measure 2: Search: in-process indexed, naive LIKE, and over HTTP.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn bench_search(
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
    let big: Vec<(PartnerId, String)> = (0..n).map(|_| (big_id.clone(), data.prefix(rng, Some(BIG)))).collect();
    let small: Vec<(PartnerId, String)> = (0..n)
        .map(|_| {
            let p = 1 + rng.below(data.partners.len() - 1) as u32;
            (data.partners[p as usize].id.clone(), data.prefix(rng, Some(p)))
        })
        .collect();
    let anywhere: Vec<String> = (0..n).map(|_| data.prefix(rng, None)).collect();
    // The same cases with a piece from inside a name or an email instead.
    let inside = |rng: &mut Rng, cases: &[(PartnerId, String)], partner: &dyn Fn(&str) -> Option<u32>| {
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
        let (samples, rows) = sample_queries(n, cases, async |(partner, prefix): &(PartnerId, String)| {
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
        let (samples, rows) = sample_queries(n, cases, async |(partner, prefix): &(PartnerId, String)| {
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
        let (samples, rows) = sample_queries(n, cases_inside, async |(partner, piece): &(PartnerId, String)| {
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
        let (samples, rows) = sample_queries(n, cases, async |(partner, prefix): &(PartnerId, String)| {
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
        let search_request = |i: usize| {
            let prefix = &prefixes[i % prefixes.len()];
            let request = http.get(format!("{base}/api/v1/users")).query(&[("q", prefix)]).bearer_auth(token);
            (request, format!("GET /api/v1/users?q={prefix}"))
        };
        let (samples, hits) = timed_requests(n, search_request, |found| found.as_array().map_or(0, Vec::len)).await?;
        report.lines.push(Line::latency(
            SECTION,
            format!("HTTP `GET /api/v1/users?q=` {label}"),
            &samples,
            format!("{:.1} rows/query", hits as f64 / n as f64),
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
