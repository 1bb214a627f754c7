//! `credkit serve`: local HTTP services. [`http`] is the server plumbing,
//! [`broker`] the token broker for Postman and curl, [`mock`] the HTTP face of
//! the Maskinporten look-alike in [`crate::oauth::mock`]. Nothing here prints:
//! the command reports the address and writes the access log.

pub mod broker;
pub mod http;
pub mod mock;
pub mod revocation;

/// A fresh random secret: 32 bytes, base64url.
pub fn random_secret() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}
