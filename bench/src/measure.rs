//! Latency samples, percentiles, timed requests and the report table.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

/// Sequential latency samples of one operation.
#[derive(Default)]
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    pub fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The q-quantile (nearest rank).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let mut sorted = self.0.clone();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    pub fn mean(&self) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        self.0.iter().sum::<Duration>() / self.0.len() as u32
    }

    pub fn max(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }
}

pub fn fmt_dur(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

pub fn fmt_rate(rows: usize, d: Duration) -> String {
    let rate = rows as f64 / d.as_secs_f64().max(1e-9);
    format!("{} rows/s", group_thousands(rate.round() as u64))
}

pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line of a store's results.
pub struct Line {
    pub section: &'static str,
    pub what: String,
    pub samples: String,
    pub p50: String,
    pub p99: String,
    pub other: String,
}

impl Line {
    /// p50 and p99 in their columns; mean and max lead the notes.
    pub fn latency(
        section: &'static str,
        what: impl Into<String>,
        samples: &Samples,
        other: impl Into<String>,
    ) -> Self {
        let other = other.into();
        let stats = format!("mean {}, max {}", fmt_dur(samples.mean()), fmt_dur(samples.max()));
        Self {
            section,
            what: what.into(),
            samples: group_thousands(samples.len() as u64),
            p50: fmt_dur(samples.quantile(0.50)),
            p99: fmt_dur(samples.quantile(0.99)),
            other: if other.is_empty() { stats } else { format!("{stats}; {other}") },
        }
    }

    pub fn throughput(section: &'static str, what: impl Into<String>, rows: usize, other: impl Into<String>) -> Self {
        Self {
            section,
            what: what.into(),
            samples: group_thousands(rows as u64),
            p50: "–".into(),
            p99: "–".into(),
            other: other.into(),
        }
    }
}

/// The results of one store.
pub struct Report {
    pub store: &'static str,
    pub lines: Vec<Line>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "### {}\n", self.store);
        let _ = writeln!(out, "| Area | Measure | Samples / rows | p50 | p99 | Mean, rate, notes |");
        let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | --- |");
        for l in &self.lines {
            let _ =
                writeln!(out, "| {} | {} | {} | {} | {} | {} |", l.section, l.what, l.samples, l.p50, l.p99, l.other);
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

/// The CPU time (user and system) process `pid` has used so far, read from
/// `/proc` (Linux; zero elsewhere). On a machine shared with other work a
/// phase's CPU time tells the work done apart from the wait for a core:
/// the bench's own process, plus the PostgreSQL backend serving it.
pub fn cpu_time(pid: u32) -> Duration {
    // Linux counts in clock ticks of 1/100 s (USER_HZ) on every platform it runs on.
    const TICKS_PER_SECOND: f64 = 100.0;
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // After the command name's closing parenthesis come fields 3 onwards;
    // utime and stime are fields 14 and 15.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND)
}

/// This process's CPU time so far.
pub fn own_cpu_time() -> Duration {
    cpu_time(std::process::id())
}

/// Unmeasured runs before the samples of a latency measure.
pub const WARMUP: usize = 20;

/// Sends one request and times it to the last byte of the answer; a
/// refused request stops the run, naming what was asked.
pub async fn timed_json(request: reqwest::RequestBuilder, what: &str) -> Result<(Duration, serde_json::Value)> {
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

/// `n` timed requests after `WARMUP` unmeasured ones: `request(i)` makes
/// the i-th, with what it asks (for a refusal), and `rows` reads how many
/// rows an answer holds. The samples, and the rows of the measured answers.
pub async fn timed_requests(
    n: usize,
    request: impl Fn(usize) -> (reqwest::RequestBuilder, String),
    rows: impl Fn(&serde_json::Value) -> usize,
) -> Result<(Samples, usize)> {
    let mut samples = Samples::with_capacity(n);
    let mut total = 0;
    for i in 0..n + WARMUP {
        let (request, what) = request(i);
        let (elapsed, answer) = timed_json(request, &what).await?;
        if i >= WARMUP {
            samples.push(elapsed);
            total += rows(&answer);
        }
    }
    Ok((samples, total))
}
