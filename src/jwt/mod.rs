//! JWT grants and client assertions: mint, decode, verify.

pub mod decode;
pub mod jws;
pub mod mint;
pub mod verify;
