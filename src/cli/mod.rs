//! Command-line definitions (clap derive only: no I/O, no crypto).

pub(crate) mod check;
pub(crate) mod convert;
pub(crate) mod explain;
pub(crate) mod inspect;
pub(crate) mod jwt;
pub(crate) mod keygen;
pub(crate) mod password;
pub(crate) mod serve;
pub(crate) mod token;

use clap::{Parser, Subcommand};

pub(crate) const EXIT_STATUS: &str = "\
Exit status:
  0  success
  1  the command ran and the answer is negative (findings, bad signature, server refused)
  2  the command could not run: usage error, unreadable or corrupt input, wrong password, I/O";

/// Inspect, check and convert the keys and certificates machine-to-machine OAuth runs on
///
/// credkit reads PKCS#12, JKS, JCEKS, PEM, DER, JWK and JWKS files (detected from their
/// content) and shows what they hold, for Maskinporten, Okta, Entra ID and Keycloak users.
#[derive(Debug, Parser)]
#[command(name = "credkit", version, about, long_about, after_long_help = EXIT_STATUS, args_override_self = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// Print machine-readable JSON (a documented, stable shape) instead of text
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Judge every date against this moment instead of the clock (RFC 3339)
    #[arg(long, global = true, value_name = "RFC3339")]
    pub(crate) now: Option<String>,
    /// Print no status lines on stderr
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Inspect(inspect::InspectArgs),
    Check(check::CheckArgs),
    Convert(Box<convert::ConvertArgs>),
    Keygen(Box<keygen::KeygenArgs>),
    Jwt(jwt::JwtArgs),
    Token(Box<token::TokenArgs>),
    Explain(Box<explain::ExplainArgs>),
    Serve(serve::ServeArgs),
    /// Print a shell completion script
    ///
    /// Example: credkit completions bash > /etc/bash_completion.d/credkit
    Completions {
        /// The shell to write completions for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (man/credkit.1 and one page per command) into a directory
    #[command(hide = true)]
    Man {
        /// Directory to write the pages into
        #[arg(long, default_value = "man")]
        out_dir: std::path::PathBuf,
    },
}

/// The clap command, for man pages, completions and tests.
pub(crate) fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definitions_are_consistent() {
        super::command().debug_assert();
    }

    #[test]
    fn every_command_and_option_has_help() {
        fn walk(c: &clap::Command, path: &str) {
            for a in c.get_arguments() {
                if a.is_hide_set() || ["help", "version"].contains(&a.get_id().as_str()) {
                    continue;
                }
                let h = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                assert!(!h.is_empty(), "{path} --{} has no help", a.get_id());
                assert!(
                    !h.ends_with('.'),
                    "{path} --{}: help ends with a period",
                    a.get_id()
                );
            }
            for s in c.get_subcommands() {
                if s.get_name() == "help" {
                    continue;
                }
                assert!(
                    s.get_about().is_some(),
                    "{path} {} has no about",
                    s.get_name()
                );
                walk(s, &format!("{path} {}", s.get_name()));
            }
        }
        walk(&super::command(), "credkit");
    }
}
