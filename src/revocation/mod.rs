//! Revocation of test certificates: the list a user edits ([`list`]), and
//! the CRLs and OCSP answers made from it ([`issue`]).

pub mod list;
