//! A large grant over HTTP, beside plain inserts of its rows.

use starship_core::ids::UserId;
use std::time::Instant;

use anyhow::{bail, Result};
use serde_json::json;
use starship_core::catalogue::{keys, RoleRef};
use starship_store::sqlx;
use starship_store::{new_id, now_millis, Store};

use crate::data::{DataSet, BIG};
use crate::log;
use crate::measure::{fmt_dur, fmt_rate, timed_json, Line, Report, Samples};

/// A large grant through the API (1,000 people of the big partner at a
/// time, each sample a different thousand), beside the limit: the same
/// grant rows as plain single-row inserts, rolled back.
pub(crate) async fn bench_grant(
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
            let user_ids: Vec<UserId> = people.by_ref().take(PEOPLE).collect();
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
