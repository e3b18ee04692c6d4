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
