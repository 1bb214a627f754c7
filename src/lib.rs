//! credkit: inspect, check, convert and use the keys and certificates that
//! machine-to-machine OAuth runs on (Maskinporten, Okta, Entra ID, Keycloak).
//!
//! The library holds the readers and domain logic; the `credkit` binary is a
//! thin layer over it. Domain modules never print: only [`output`] does.

pub mod asn1;
pub mod cert;
pub mod cli;
pub mod commands;
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
pub mod output;
pub mod revocation;
pub mod secret;
pub mod serve;
pub mod target;
pub mod timefmt;

pub use error::{Error, Result};
