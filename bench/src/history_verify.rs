//! `history verify` over a History written for it.

use std::time::Instant;

use anyhow::{bail, Result};
use serde_json::json;
use starship_core::domain::{Email, Locale, PartnerKind, PersonName, Title, UserStatus};
use starship_store::history::{Actor, Source};
use starship_store::users::{self, NewUser};
use starship_store::{partners, Store};

use crate::args::Args;
use crate::database::analyze;
use crate::load::wait_for_quiet;
use crate::log;
use crate::measure::{fmt_rate, Line, Report};
use crate::valid::Valid;

/// `history verify` (issue #14): the History's chains walked and every hash
/// recomputed, over entries written through `history::append_many` about
/// 1,000 people of one partner (one chain) and 10 operators (another).
pub(crate) async fn bench_verify(store: &Store, args: &Args, report: &mut Report) -> Result<()> {
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
                partner_id: (i < 1_000).then_some(&partner.id),
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
