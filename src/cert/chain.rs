//! Chain analysis: is the chain in order, and does it end at a root?

use super::Certificate;
use super::path::{self, Link};
use serde::Serialize;

/// What credkit found out about a certificate chain (leaf first).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct ChainReport {
    /// Number of certificates.
    pub(crate) length: usize,
    /// Each certificate is issued (name and signature) by the next one. A
    /// signature credkit cannot check counts by the names alone (see
    /// `unchecked`).
    pub(crate) in_order: bool,
    /// The last certificate is self-signed: its own signature verifies, or it
    /// is self-issued and its signature algorithm cannot be checked (see
    /// `unchecked`).
    pub(crate) reaches_root: bool,
    /// Human-readable problems, empty when none.
    pub(crate) problems: Vec<String>,
    /// Signatures credkit could not check, by algorithm
    /// ("self-signature not checked: algorithm Ed448"). Nothing is concluded
    /// from them.
    pub(crate) unchecked: Vec<String>,
}

/// Analyse a chain in the order it is stored.
pub(crate) fn analyse(chain: &[Certificate]) -> ChainReport {
    let mut problems = Vec::new();
    let mut unchecked = Vec::new();
    let mut in_order = true;
    for (i, pair) in chain.windows(2).enumerate() {
        let (child, parent) = (&pair[0], &pair[1]);
        match path::issued_by(child, parent) {
            Link::Signed => {}
            Link::OtherName => {
                in_order = false;
                problems.push(format!(
                    "certificate {i} was issued by \"{}\", but certificate {} is \"{}\"",
                    child.issuer.to_display(),
                    i + 1,
                    parent.subject.to_display()
                ));
            }
            Link::BadSignature => {
                in_order = false;
                problems.push(format!(
                    "the signature on certificate {i} does not verify with the key of certificate {}",
                    i + 1
                ));
            }
            Link::Unchecked(alg) => unchecked.push(format!(
                "signature on certificate {i} not checked: algorithm {alg}"
            )),
        }
    }
    let reaches_root = match chain.last() {
        Some(last) if last.is_self_issued() => match path::issued_by(last, last) {
            Link::Signed => true,
            Link::Unchecked(alg) => {
                unchecked.push(format!("self-signature not checked: algorithm {alg}"));
                true
            }
            Link::BadSignature | Link::OtherName => false,
        },
        _ => false,
    };
    if !chain.is_empty() && !reaches_root {
        problems.push(
            "the chain stops before a self-signed root (the root is usually not needed in x5c, \
             but verifiers must have it)"
                .into(),
        );
    }
    ChainReport {
        length: chain.len(),
        in_order,
        reaches_root,
        problems,
        unchecked,
    }
}

pub(crate) use super::path::build;

/// Most certificates the key entries of one file hold in their chains
/// together. Past it, further keys keep only their own certificate (with a
/// note): thousands of keys sharing a long chain would copy it thousands of
/// times.
pub(crate) const MAX_CHAIN_CERTS_PER_FILE: usize = 1000;

/// The note for keys whose chains were cut to the leaf.
pub(crate) fn chains_cut_note(keys: usize) -> String {
    format!(
        "{keys} key entries show only their own certificate: the file's chains hold more \
         than {MAX_CHAIN_CERTS_PER_FILE} certificates"
    )
}
