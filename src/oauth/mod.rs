//! OAuth 2.0 token requests: building and sending them (`exchange`), finding
//! the endpoint (`discovery`), caching tokens (`cache`), profiles and
//! .properties files (`config`), and explaining refusals (`diagnose`).
//! No printing here: the command layer shows what happens.

pub mod cache;
pub mod config;
pub mod diagnose;
pub mod discovery;
pub mod exchange;
pub mod mock;
pub mod recognize;
