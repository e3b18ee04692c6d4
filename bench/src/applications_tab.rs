//! The Applications tab over HTTP.

use anyhow::Result;

use crate::args::Args;
use crate::data::{DataSet, Rng, BIG};
use crate::log;
use crate::measure::{timed_requests, Line, Report};

/// Measure 3: The Applications tab of the big partner, as its Backlot admin.
pub(crate) async fn bench_applications_tab(
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
        (0..n).map(|_| data.people[big.users[rng.below(big.users.len())] as usize].id.to_string()).collect();
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
        let page_request = |i: usize| {
            let mut params = vec![("limit", "50".to_string())];
            match case {
                1 => params.push(("after", afters[i % n].clone())),
                2 => params.push(("q", prefixes[i % n].clone())),
                _ => {}
            }
            (http.get(&url).query(&params).bearer_auth(admin_token), url.clone())
        };
        let (samples, rows) =
            timed_requests(n, page_request, |page| page["users"].as_array().map_or(0, Vec::len)).await?;
        report.lines.push(Line::latency(
            SECTION,
            format!("HTTP `GET /api/v1/applications/backlot/users`, {label}, as the big partner's Backlot admin"),
            &samples,
            format!("{:.1} users/page", rows as f64 / n as f64),
        ));
    }
    Ok(())
}
