//! credkit: inspect, check, convert and use the keys and certificates that
//! machine-to-machine OAuth runs on (Maskinporten, Okta, Entra ID, Keycloak).
//!
//! The library holds the readers and the domain logic; the `credkit` binary
//! is a thin layer over it. The public API is chosen, not accumulated:
//! everything not listed here is `pub(crate)`.
//!
//! - [`keystore`]: read any supported file ([`keystore::load`],
//!   [`keystore::read_file`]) into a [`keystore::Store`] of
//!   [`keystore::Entry`]s, and write entries ([`keystore::write`]); failures
//!   are [`keystore::KeystoreError`]s. The per-format readers stay inside:
//!   `load` detects the format from the content.
//! - [`cert`]: [`cert::Certificate`] (parsing, names, fingerprints, validity),
//!   signature checks ([`cert::check_signature`]), the one path validator
//!   ([`cert::path::validate`] under a [`cert::path::Policy`]) and the
//!   certificate builder ([`cert::issue`]).
//! - [`key`]: [`key::PrivateKey`] and [`key::PublicKey`] (PKCS#8, PKCS#1,
//!   SEC1, SubjectPublicKeyInfo, RFC 7638 thumbprints), key generation
//!   ([`key::generate`]) and signing ([`key::sign`]).
//! - [`jwt`]: mint ([`jwt::mint`]), decode ([`jwt::decode`]) and verify
//!   ([`jwt::verify`]) JWT grants and client assertions, on the JWS
//!   algorithms of [`jwt::jws`].
//! - [`diagnostics`]: whether a credential can sign, and why not
//!   ([`diagnostics::check::run`], [`diagnostics::signing_entry`] picks the
//!   entry; [`diagnostics::findings::CATALOGUE`] lists every finding id).
//! - [`oauth`]: the token client ([`oauth::client`], feature `client`),
//!   profiles and .properties files ([`oauth::config`]), the token cache
//!   ([`oauth::cache`]), reading authorization-server metadata
//!   ([`oauth::discovery`]), grant and client-authentication names and
//!   token-response parsing ([`oauth::exchange`]), DPoP proofs
//!   ([`oauth::dpop`]), the refusal explainer ([`oauth::diagnose`]) and the
//!   Maskinporten look-alike ([`oauth::mock`]).
//! - The types those signatures need: [`secret`] (where a password comes
//!   from; zeroized), [`target`] (which authorization server, which
//!   Maskinporten environment), [`orgnr`] (Norwegian organisation numbers),
//!   [`error_id`] (every error's stable id), [`ctx`] (the clock and output
//!   settings the token client takes) and [`timefmt`] (RFC 3339).
//!
//! Not public, on purpose: the DER reader (`asn1`), the HTTP client (`net`,
//! and so the functions that take it: sending a token request, fetching
//! metadata; its error types are public as [`oauth::exchange::NetError`]),
//! the revocation client and test CA (`revocation`; its results are
//! re-exported as [`diagnostics::revocation`]), the application error, the
//! command line, the reports' rendering and the servers. The fuzz crate
//! reaches the readers behind the entry points through the `fuzzing`
//! feature, which is hidden from the docs and promises nothing.
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

#![warn(missing_docs)]

/// Declares a module that is not API: `pub(crate)`, except with the
/// `fuzzing` feature, which the fuzz crate turns on to reach the readers
/// behind the public entry points (hidden from the docs; no stability
/// promise).
macro_rules! fuzz_visible {
    ($(#[$meta:meta])* mod $name:ident;) => {
        #[cfg(feature = "fuzzing")]
        #[doc(hidden)]
        $(#[$meta])*
        pub mod $name;
        #[cfg(not(feature = "fuzzing"))]
        $(#[$meta])*
        pub(crate) mod $name;
    };
}

fuzz_visible! { mod asn1; }
pub mod cert;
#[cfg(feature = "cli")]
pub(crate) mod cli;
#[cfg(feature = "cli")]
pub(crate) mod commands;
pub mod ctx;
pub mod diagnostics;
// The application error, built by the command layer only (and rendered by
// `output`, which is compiled without `cli` for its atomic writer).
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) mod error;
pub mod error_id;
pub mod jwt;
pub mod key;
pub mod keystore;
pub(crate) mod net;
pub mod oauth;
pub mod orgnr;
// The reports' rendering; without `cli` only `output::files` (the atomic
// writer) is used.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) mod output;
// The OCSP/CRL client (`check --revocation`, feature `client`) and the test
// CA's responder (`serve revocation`, `keygen --revoke`); without `cli` only
// the types `diagnostics::revocation` re-exports are used.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) mod revocation;
pub mod secret;
// The servers are driven by the command layer only.
#[cfg(feature = "serve")]
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) mod serve;
pub mod target;
pub mod timefmt;

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
