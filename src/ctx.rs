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
}
