//! Revocation: is a certificate revoked by its CA, and the test CA's side.
//!
//! - [`asn1`]: the OCSP (RFC 6960) and CRL (RFC 5280) structures, decoded and
//!   encoded, shared by the client and the test CA's responder;
//! - [`list`]: the revocation list a user edits (`keygen --revoke`);
//! - [`issue`]: the CRLs and OCSP answers made from it (`serve revocation`).

pub mod asn1;
pub mod issue;
pub mod list;
