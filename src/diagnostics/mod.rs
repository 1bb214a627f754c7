//! Diagnostics: checks that tell whether a credential can do its job and, if
//! not, what to do about it. Pure functions over loaded stores (no I/O, no
//! printing), shared by `check` and, later, `jwt mint` and `token`.

pub mod cas;
pub mod check;
mod encoding;
pub mod findings;
mod rules;
pub mod select;

pub use check::{CheckOptions, CheckReport};

/// What `check --revocation` found ([`CheckReport::revocation`]): the OCSP
/// or CRL answer for each certificate of the checked entry.
pub mod revocation {
    pub use crate::revocation::check::{
        Attempt, CertRevocation, FetchedIssuer, Revocation, Status,
    };
}
pub use findings::{Finding, Severity};
pub use select::{described_entry, signing_entry};
