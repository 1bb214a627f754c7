//! Per-invocation settings every command sees.

use time::OffsetDateTime;

/// Global settings: output format, the clock, verbosity.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The moment every time decision is made against (`--now`, else the clock).
    pub now: OffsetDateTime,
    /// JSON output instead of text.
    pub json: bool,
    /// Suppress status lines on stderr.
    pub quiet: bool,
    /// `--now` was given (the clock is pinned).
    pub now_pinned: bool,
    /// When `now` was taken: long-running work (a server, a prompt) judges
    /// time as `now` plus the time elapsed since.
    pub started: std::time::Instant,
}

impl Ctx {
    /// The clock long-running commands judge with: `now` (or `--now`) plus
    /// the time elapsed since the command started, in Unix seconds.
    pub fn clock(&self) -> i64 {
        self.now.unix_timestamp() + self.started.elapsed().as_secs() as i64
    }

    /// Parse a `--now` value (RFC 3339).
    pub fn parse_now(value: &str) -> crate::error::Result<OffsetDateTime> {
        OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).map_err(|e| {
            crate::error::Error::InvalidNow {
                value: value.to_string(),
                detail: e.to_string(),
            }
        })
    }
}

/// A Unix time as RFC 3339 (`2026-11-23T12:00:00Z`); the number itself when
/// it is out of range.
pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}
