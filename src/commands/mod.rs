//! One thin `run` per command: turn arguments into domain calls and a report.

pub(crate) mod check;
pub(crate) mod convert;
pub(crate) mod errors;
pub(crate) mod explain;
pub(crate) mod input;
pub(crate) mod inspect;
pub(crate) mod jwt;
pub(crate) mod keygen;
pub(crate) mod meta;
pub(crate) mod serve;
pub(crate) mod token;

use crate::cli::{Cli, Command};
use crate::ctx::Ctx;
use crate::error::Result;

/// Run a parsed command line; returns the exit code.
pub(crate) fn run(cli: Cli) -> Result<u8> {
    let started = std::time::Instant::now();
    let now = match &cli.global.now {
        Some(v) => crate::timefmt::parse_rfc3339(v).map_err(|e| crate::error::Error::Usage {
            message: format!("invalid --now value {v:?}: {e}"),
            hint: Some("use RFC 3339, e.g. 2026-01-31T12:00:00Z".into()),
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let ctx = Ctx {
        now,
        json: cli.global.json,
        quiet: cli.global.quiet,
        now_pinned: cli.global.now.is_some(),
        started,
    };
    match cli.command {
        Command::Inspect(args) => inspect::run(&ctx, args),
        Command::Convert(args) => convert::run(&ctx, *args),
        Command::Check(args) => check::run(&ctx, args),
        Command::Jwt(args) => jwt::run(&ctx, args),
        Command::Keygen(args) => keygen::run(&ctx, *args),
        Command::Token(args) => token::run(&ctx, *args),
        Command::Explain(args) => explain::run(&ctx, *args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::Completions { shell } => meta::completions(shell),
        Command::Man { out_dir } => meta::man(&out_dir),
    }
}
