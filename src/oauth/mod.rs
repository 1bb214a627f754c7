//! OAuth 2.0 token requests: the token client (`client`: settings, session,
//! fetch), building and sending them (`exchange`), finding
//! the endpoint (`discovery`), caching tokens (`cache`), profiles and
//! .properties files (`config`), explaining refusals (`diagnose`), what
//! of an exchange may be shown (`redact`), DPoP proofs (`dpop`) and the form
//! members of token exchange, RAR and client_secret_jwt (`grants`).
//! No printing here: the command layer shows what happens.

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
pub mod recognize;
pub mod redact;
