//! Revocation: is a certificate revoked by its CA?
//!
//! - [`asn1`]: the OCSP (RFC 6960) and CRL (RFC 5280) structures, decoded and
//!   encoded, shared by the client and the test CA's responder.

pub mod asn1;
