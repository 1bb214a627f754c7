//! Chain analysis: is the chain in order, and does it end at a root?

use super::{Certificate, SignatureCheck, check_signature};
use serde::Serialize;

/// What credkit found out about a certificate chain (leaf first).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChainReport {
    /// Number of certificates.
    pub length: usize,
    /// Each certificate is issued (name and signature) by the next one. A
    /// signature credkit cannot check counts by the names alone (see
    /// `unchecked`).
    pub in_order: bool,
    /// The last certificate is self-signed: its own signature verifies, or it
    /// is self-issued and its signature algorithm cannot be checked (see
    /// `unchecked`).
    pub reaches_root: bool,
    /// Human-readable problems, empty when none.
    pub problems: Vec<String>,
    /// Signatures credkit could not check, by algorithm
    /// ("self-signature not checked: algorithm Ed448"). Nothing is concluded
    /// from them.
    pub unchecked: Vec<String>,
}

/// Check a signature with a certificate's key (a key that cannot be read is
/// an unchecked signature, not a bad one).
fn check_with(child: &Certificate, parent: &Certificate) -> SignatureCheck {
    match &parent.public_key {
        Ok(k) => check_signature(child, k),
        Err(e) => SignatureCheck::Unsupported(format!(
            "{} (the issuer's key cannot be read: {e})",
            super::signature_algorithm_name(&child.signature_algorithm)
        )),
    }
}

/// Analyse a chain in the order it is stored.
pub fn analyse(chain: &[Certificate]) -> ChainReport {
    let mut problems = Vec::new();
    let mut unchecked = Vec::new();
    let mut in_order = true;
    for (i, pair) in chain.windows(2).enumerate() {
        let (child, parent) = (&pair[0], &pair[1]);
        if child.issuer.raw != parent.subject.raw {
            in_order = false;
            problems.push(format!(
                "certificate {i} was issued by \"{}\", but certificate {} is \"{}\"",
                child.issuer.to_display(),
                i + 1,
                parent.subject.to_display()
            ));
            continue;
        }
        match check_with(child, parent) {
            SignatureCheck::Valid => {}
            SignatureCheck::Invalid => {
                in_order = false;
                problems.push(format!(
                    "the signature on certificate {i} does not verify with the key of certificate {}",
                    i + 1
                ));
            }
            SignatureCheck::Unsupported(alg) => unchecked.push(format!(
                "signature on certificate {i} not checked: algorithm {alg}"
            )),
        }
    }
    let reaches_root = match chain.last() {
        Some(last) if last.is_self_issued() => match check_with(last, last) {
            SignatureCheck::Valid => true,
            SignatureCheck::Invalid => false,
            SignatureCheck::Unsupported(alg) => {
                unchecked.push(format!("self-signature not checked: algorithm {alg}"));
                true
            }
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

/// Longest chain [`build`] follows. Real chains have 2 to 5 certificates; a
/// hostile file could chain thousands, and every key would walk them all.
pub const MAX_CHAIN_LEN: usize = 16;

/// Most certificates the key entries of one file hold in their chains
/// together. Past it, further keys keep only their own certificate (with a
/// note): thousands of keys sharing a long chain would copy it thousands of
/// times.
pub const MAX_CHAIN_CERTS_PER_FILE: usize = 1000;

/// The note for keys whose chains were cut to the leaf.
pub fn chains_cut_note(keys: usize) -> String {
    format!(
        "{keys} key entries show only their own certificate: the file's chains hold more \
         than {MAX_CHAIN_CERTS_PER_FILE} certificates"
    )
}

/// Order a bag of certificates into a chain starting at `leaf`, following
/// issuer names. Certificates that do not fit are left out, and so is
/// anything past [`MAX_CHAIN_LEN`] certificates.
pub fn build(leaf: &Certificate, pool: &[Certificate]) -> Vec<Certificate> {
    let mut out = vec![leaf.clone()];
    let mut used = vec![false; pool.len()];
    while out.len() <= pool.len() + 1 && out.len() < MAX_CHAIN_LEN {
        let Some(cur) = out.last() else { break };
        if cur.is_self_issued() {
            break;
        }
        let next = pool
            .iter()
            .enumerate()
            .find(|(i, c)| !used[*i] && c.subject.raw == cur.issuer.raw && c.der != cur.der);
        match next {
            Some((i, c)) => {
                used[i] = true;
                out.push(c.clone());
            }
            None => break,
        }
    }
    out
}
