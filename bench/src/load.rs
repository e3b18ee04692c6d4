//! The machine's load average: read for the report, waited on before measuring.

use std::time::{Duration, Instant};

use crate::args::Args;
use crate::log;

fn one_minute_load() -> f64 {
    loadavg().split_whitespace().next().and_then(|l| l.parse().ok()).unwrap_or(0.0)
}

/// Waits, idle, until the machine is quiet (or gives up and says so).
pub(crate) async fn wait_for_quiet(args: &Args) {
    if args.quiet_below <= 0.0 || one_minute_load() < args.quiet_below {
        return;
    }
    log!("waiting for the 1-minute load average to fall below {}", args.quiet_below);
    let give_up = Instant::now() + Duration::from_secs(args.quiet_wait_seconds);
    while one_minute_load() >= args.quiet_below {
        if Instant::now() > give_up {
            log!("still busy after {} s: measuring anyway", args.quiet_wait_seconds);
            return;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    log!("quiet");
}

/// The machine's load average, to tell a quiet run from a shared one.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}
