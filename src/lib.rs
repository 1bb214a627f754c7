//! credkit: inspect, check, convert and use the keys and certificates that
//! machine-to-machine OAuth runs on (Maskinporten, Okta, Entra ID, Keycloak).
//!
//! The library holds the readers and the domain logic; the `credkit` binary
//! is a thin layer over it. The public API:
//!
//! - [`keystore`]: read any supported file ([`keystore::load`]) into a
//!   [`keystore::Store`] of entries, and write stores ([`keystore::write`]);
//! - [`cert`]: X.509 certificates, signature checks and the one
//!   certificate-path validator ([`cert::path`]);
//! - [`key`]: private and public keys, OpenSSH and DSA readers;
//! - [`jwt`]: mint, decode and verify JWT grants and client assertions;
//! - [`diagnostics`]: whether a credential can sign, and why not
//!   ([`diagnostics::findings::CATALOGUE`] lists every finding);
//! - [`oauth`]: the token client ([`oauth::client`], feature `client`),
//!   profiles, token-response parsing, the refusal explainer and the
//!   Maskinporten look-alike's checks.
//!
//! Domain modules never print and never name command-line flags.
//!
//! # Cargo features
//!
//! - `cli` (default): the command line (clap, completions, man pages, the
//!   password prompt). The `credkit` binary needs it.
//! - `client` (default): the HTTP client (`reqwest`) and the network side of
//!   the token client.
//! - `serve` (default): the local servers (`tokio`, `hyper`).
//!
//! With `default-features = false` the library builds the readers, writers
//! and checks without any of those dependencies (the fuzz crate does).
//!
//! # Example
//!
//! Open a keystore and print the thumbprint of each entry's certificates:
//!
//! ```
//! use credkit::keystore;
//! use credkit::secret::SecretCell;
//!
//! let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//!     .join("fixtures/p12/openssl3-aes-auth.p12");
//! let data = std::fs::read(&path)?;
//! let mut password = SecretCell::with_value(Some("changeit".into()));
//! let mut key_password = SecretCell::with_value(None);
//! let store = keystore::load(&data, &mut password, &mut key_password)?;
//! for entry in &store.entries {
//!     for cert in &entry.chain {
//!         // The x5t#S256 thumbprint: base64url of the certificate's SHA-256.
//!         println!("{:?}: {}", entry.alias, cert.x5t_s256());
//!     }
//! }
//! assert_eq!(store.entries[0].alias.as_deref(), Some("auth"));
//! assert_eq!(store.entries[0].chain.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod asn1;
pub mod cert;
#[cfg(feature = "cli")]
pub(crate) mod cli;
#[cfg(feature = "cli")]
pub(crate) mod commands;
pub mod ctx;
pub mod diagnostics;
pub mod error;
pub mod error_id;
pub mod jwt;
pub mod key;
pub mod keystore;
pub mod net;
pub mod oauth;
pub mod orgnr;
// The reports' rendering; without `cli` only `output::files` (the atomic
// writer) is used.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) mod output;
pub mod revocation;
pub mod secret;
// The servers are driven by the command layer only.
#[cfg(feature = "serve")]
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) mod serve;
pub mod target;
pub mod timefmt;

pub use error::{Error, Result};

/// The `credkit` command line: parse the arguments, run the command, report
/// an error, and return the exit status (0 ok, 1 a negative answer, 2 could
/// not do it). This is the binary's only entry into the library; it is not
/// an API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub fn run_cli() -> std::process::ExitCode {
    use clap::Parser;
    use std::process::ExitCode;
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let json = cli.global.json;
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            output::report_error(&e, json);
            ExitCode::from(e.exit_code())
        }
    }
}
