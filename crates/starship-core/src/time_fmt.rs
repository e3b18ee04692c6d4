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

/// Parses an RFC 3339 timestamp into milliseconds since the epoch.
pub fn millis_from_rfc3339(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// An end date typed as a day (`2027-05-03`, what a date input sends) as
/// the moment it ends: the role counts through that whole day, UTC.
pub fn end_of_day_millis(day: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(day.trim(), &format).ok()?;
    let next = date.next_day()?.midnight().assume_utc();
    Some(next.unix_timestamp() * 1_000)
}

/// The last day an end (exclusive, in milliseconds) still counts, as people
/// read it: "3 May 2027".
pub fn last_day(end_millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(end_millis - 1) * 1_000_000)
        .map(|t| format!("{} {} {}", t.day(), t.month(), t.year()))
        .unwrap_or_else(|_| end_millis.to_string())
}

/// The same day as `last_day`, in the form a date input takes (`2027-05-03`).
pub fn last_day_iso(end_millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(end_millis - 1) * 1_000_000)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

/// A moment as the day people read it: "3 May 2027".
pub fn day(millis: i64) -> String {
    last_day(millis + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_date_counts_through_its_whole_day() {
        let end = end_of_day_millis("2027-05-03").unwrap();
        assert_eq!(last_day(end), "3 May 2027");
        assert_eq!(last_day_iso(end), "2027-05-03");
        assert_eq!(rfc3339_from_millis(end), "2027-05-04T00:00:00Z");
        assert_eq!(millis_from_rfc3339("2027-05-04T00:00:00Z"), Some(end));
        assert_eq!(end_of_day_millis("3 May"), None);
    }
}
