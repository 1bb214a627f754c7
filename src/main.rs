//! The `credkit` binary: parse, run, report, exit.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match credkit::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let json = cli.global.json;
    match credkit::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            credkit::output::report_error(&e, json);
            ExitCode::from(e.exit_code())
        }
    }
}
