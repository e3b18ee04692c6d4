//! The Partner Portal's contact list over HTTP.

use anyhow::Result;

use crate::data::{DataSet, BIG};
use crate::log;
use crate::measure::{timed_json, Line, Report, Samples};

/// The Partner Portal's contact list: every person of the partner with
/// their level, contact roles and sites, in one response.
pub(crate) async fn bench_contacts(
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
