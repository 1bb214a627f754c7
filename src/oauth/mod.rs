//! OAuth 2.0 token requests: the token client (`client`: settings, session,
//! fetch), building and sending them (`exchange`), finding
//! the endpoint (`discovery`), caching tokens (`cache`), profiles and
//! .properties files (`config`), explaining refusals (`diagnose`), what
//! of an exchange may be shown (`redact`), DPoP proofs (`dpop`) and the form
//! members of token exchange, RAR and client_secret_jwt (`grants`), the
//! interactive grants (`interactive`) and the Maskinporten look-alike
//! (`mock`). No printing here: the command layer shows what happens.
//!
//! What sends requests takes credkit's own HTTP client, which is not public:
//! a library user gets a token through [`client`] (or reads answers it
//! fetched itself with [`exchange::parse`], [`discovery::from_metadata`]
//! and [`diagnose`]). `recognize` (is this metadata Maskinporten-like?)
//! is crate-private.

pub mod cache;
pub mod client;
pub mod config;
pub mod diagnose;
pub mod discovery;
pub mod dpop;
pub mod exchange;
pub mod grants;
pub mod interactive;
pub mod mock;
// Used by the token client's discovery (feature `client`) only.
#[cfg(feature = "client")]
pub(crate) mod recognize;
pub mod redact;
