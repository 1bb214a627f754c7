//! Revocation: has the CA revoked a certificate?
//!
//! - [`asn1`]: the OCSP (RFC 6960) and CRL (RFC 5280) structures, decoded and
//!   encoded, shared by the client and the test CA's responder;
//! - [`check`]: the client: OCSP first, then CRLs, each answer verified
//!   against the issuer before it is believed;
//! - [`findings`]: what `check` reports about it.

pub mod asn1;
pub mod check;
pub mod findings;
