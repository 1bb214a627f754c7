//! Integration tests: run the credkit binary on fixtures made by openssl,
//! keytool, NSS and jwcrypto, and compare what it reports with those tools.

mod check;
mod cli;
mod containers;
mod convert;
mod grants_interactive;
mod grants_proofs;
mod hostile;
mod hygiene;
mod inspect_errors;
mod inspect_peers;
mod jwt;
mod keygen;
mod keys;
mod layers;
mod leaks;
mod passwords;
mod perf;
mod revocation;
mod revocation_serve;
mod serve;
mod snapshots;
mod support;
mod token;
mod verifier;
mod write_failure;
