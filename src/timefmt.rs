//! RFC 3339 times, as credkit writes and reads them (`--now`, `--at`,
//! JSON fields, messages).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A Unix time as RFC 3339 (`2026-11-23T12:00:00Z`); the number itself when
/// it is out of range.
pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

/// Read an RFC 3339 time (`2026-01-31T12:00:00Z`).
pub fn parse_rfc3339(value: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(value, &Rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_out_of_range() {
        let t = parse_rfc3339("2026-11-23T12:00:00Z").expect("valid");
        assert_eq!(rfc3339(t.unix_timestamp()), "2026-11-23T12:00:00Z");
        assert_eq!(rfc3339(i64::MAX), i64::MAX.to_string());
        assert!(parse_rfc3339("23.11.2026").is_err());
    }
}
