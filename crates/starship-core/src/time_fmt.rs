//! Timestamps are stored as milliseconds since the Unix epoch (one integer
//! type on every store) and shown as RFC 3339.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub fn rfc3339_from_millis(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| millis.to_string())
}

/// An RFC 3339 timestamp as milliseconds since the epoch; `None` when it is
/// not one.
pub fn millis_from_rfc3339(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}
