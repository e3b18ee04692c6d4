//! Progress on stderr, each line with the time since start and the load.

use std::sync::OnceLock;
use std::time::Instant;

use crate::load::loadavg;

pub(crate) static START: OnceLock<Instant> = OnceLock::new();

/// Progress on stderr with the time since start; the tables go to stdout.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::progress::log_line(&format!($($arg)*)) };
}

pub fn log_line(message: &str) {
    let start = START.get_or_init(Instant::now);
    eprintln!("[{:>7.1}s] [load {}] {message}", start.elapsed().as_secs_f64(), loadavg());
}
