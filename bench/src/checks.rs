//! Access checks: the pure rule, store-backed, over HTTP, and casbin-rs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use casbin::CoreApi;
use serde_json::json;
use starship_core::authz::roles_allow;
use starship_core::catalogue::{Catalogue, RoleRef, RoleScope};
use starship_core::domain::ProductionId;
use starship_store::users;
use starship_store::Store;

use crate::args::Args;
use crate::casbin_cmp;
use crate::data::{DataSet, Rng, BIG};
use crate::log;
use crate::measure::{fmt_dur, group_thousands, timed_json, Line, Report, Samples, WARMUP};

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
            key: a.key.to_string(),
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
    let mut keyed: Vec<_> = roles
        .into_iter()
        .map(|r| (r.application.into_string(), r.role.into_string(), r.production.map(ProductionId::get)))
        .collect();
    keyed.sort();
    keyed
}

/// Measure 4: Checks: the pure rule, store-backed, over HTTP, and casbin.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn bench_checks(
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
