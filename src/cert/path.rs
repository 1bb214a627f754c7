//! The one certificate-path validator.
//!
//! Every place that asks "does this certificate chain to something trusted"
//! asks here: `jwt verify --x5c --ca`, the Maskinporten look-alike's x5c
//! check, and the chain report of `inspect` and `check` (through
//! [`issued_by`] and [`build`]). The rules are the ones `openssl verify`
//! applies (RFC 5280 §6.1, the parts that matter for signing certificates):
//!
//! - each certificate is signed by the key of the next one, whose subject is
//!   its issuer;
//! - every issuer is a CA: basicConstraints CA:TRUE and, when keyUsage is
//!   present, keyCertSign (a version 1 self-signed root, which has no
//!   extensions, counts as a CA, as in openssl);
//! - a CA's pathLenConstraint bounds the intermediate CA certificates below it
//!   (self-issued ones do not count);
//! - every certificate on the path, the anchor included, is valid at `now`;
//! - the leaf's keyUsage, when present, allows the purpose (digitalSignature
//!   for signing tokens);
//! - the path ends at a trust anchor: any certificate of the anchor list
//!   (like `openssl verify -partial_chain`), reached by name and signature,
//!   or the leaf itself when it is an anchor;
//! - paths are at most [`Policy::max_depth`] certificates long, and the search
//!   does a bounded amount of signature work whatever the input holds.

use super::{Certificate, SignatureCheck, check_signature};

/// Longest path built by default (leaf and anchor included).
pub const DEFAULT_MAX_DEPTH: usize = 8;

/// Most signature checks one validation may do (a hostile x5c of many
/// certificates with the same name cannot make the search explode).
const MAX_SIGNATURE_CHECKS: usize = 64;

/// What the leaf certificate is to be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// Signing (JWTs, grants): keyUsage, when present, must allow digitalSignature.
    DigitalSignature,
    /// No constraint on the leaf's key usage.
    Any,
}

/// How a path is judged.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// The trust anchors (every one of them, root or not, is trusted).
    pub anchors: &'a [Certificate],
    /// The moment validity is judged at (Unix seconds).
    pub now: i64,
    /// What the leaf must be fit for.
    pub purpose: Purpose,
    /// Longest path accepted, leaf and anchor included.
    pub max_depth: usize,
}

impl<'a> Policy<'a> {
    /// A signing policy with the default depth.
    pub fn signing(anchors: &'a [Certificate], now: i64) -> Policy<'a> {
        Policy {
            anchors,
            now,
            purpose: Purpose::DigitalSignature,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

/// A validated path, leaf first, anchor last.
#[derive(Debug, Clone)]
pub struct ValidPath {
    /// The certificates from the leaf to the anchor.
    pub certs: Vec<Certificate>,
    /// The latest notBefore on the path.
    pub not_before: i64,
    /// The earliest notAfter on the path: the path is valid only inside
    /// `not_before..=not_after`.
    pub not_after: i64,
}

/// Why a path could not be validated. `index` counts from the leaf (0).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The leaf's key usage does not allow the purpose.
    #[error(
        "certificate {index} (\"{subject}\") has keyUsage {usage}, without digitalSignature: it \
         cannot sign"
    )]
    LeafKeyUsage {
        /// Position on the path, 1 for the leaf.
        index: usize,
        /// The certificate's subject, as printed.
        subject: String,
        /// The key usages the leaf does have.
        usage: String,
    },
    /// A certificate on the path has expired.
    #[error("certificate {index} (\"{subject}\") expired {days} days ago")]
    Expired {
        /// Position on the path, 1 for the leaf.
        index: usize,
        /// The certificate's subject, as printed.
        subject: String,
        /// Whole days since notAfter.
        days: i64,
    },
    /// A certificate on the path is not valid yet.
    #[error("certificate {index} (\"{subject}\") is valid only in {days} days")]
    NotYetValid {
        /// Position on the path, 1 for the leaf.
        index: usize,
        /// The certificate's subject, as printed.
        subject: String,
        /// Whole days until notBefore.
        days: i64,
    },
    /// A certificate that signs another one is not a CA.
    #[error(
        "\"{issuer}\" signed \"{subject}\", but it is not a CA certificate ({why}): anyone \
         holding one certificate could issue others this way"
    )]
    NotCa {
        /// Subject of the certificate that signed but is no CA.
        issuer: String,
        /// Subject of the certificate it signed.
        subject: String,
        /// Why it is no CA: no basicConstraints CA:TRUE, or no keyCertSign.
        why: &'static str,
    },
    /// A CA's pathLenConstraint is exceeded.
    #[error(
        "\"{issuer}\" allows {path_len} intermediate CA certificate(s) below it \
         (pathLenConstraint), and this path has {found}"
    )]
    PathLen {
        /// Subject of the CA whose constraint is exceeded.
        issuer: String,
        /// Its pathLenConstraint.
        path_len: u64,
        /// Intermediate CA certificates below it on this path.
        found: u64,
    },
    /// A certificate names an issuer that is there, but the signature does not verify.
    #[error("the signature on \"{subject}\" does not verify with the key of \"{issuer}\"")]
    BadSignature {
        /// Subject of the certificate whose signature fails.
        subject: String,
        /// Subject of the issuer whose key was tried.
        issuer: String,
    },
    /// Nothing given (chain or anchors) issued this certificate.
    #[error("nothing trusted issued \"{subject}\" (its issuer is \"{issuer}\")")]
    NoIssuer {
        /// Subject of the certificate without an issuer.
        subject: String,
        /// The issuer name it carries.
        issuer: String,
    },
    /// The path would be longer than the policy allows.
    #[error("the path is longer than {max} certificates")]
    TooLong {
        /// The policy's largest number of certificates on a path.
        max: usize,
    },
}

impl PathError {
    /// How much of the path this error got through: used to report the most
    /// telling error when several candidate paths fail.
    fn rank(&self) -> u8 {
        match self {
            PathError::NoIssuer { .. } => 0,
            PathError::BadSignature { .. } => 1,
            PathError::TooLong { .. } => 2,
            _ => 3,
        }
    }
}

/// How `child` relates to a candidate issuer `parent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The names match and the signature verifies.
    Signed,
    /// The names match, the signature does not verify.
    BadSignature,
    /// The names match; the signature's algorithm (named) cannot be checked,
    /// or the issuer's key cannot be read. Never a trust decision.
    Unchecked(String),
    /// `parent`'s subject is not `child`'s issuer.
    OtherName,
}

/// Does `parent` issue `child`: name, then signature.
pub fn issued_by(child: &Certificate, parent: &Certificate) -> Link {
    if child.issuer.raw != parent.subject.raw {
        return Link::OtherName;
    }
    match &parent.public_key {
        Ok(k) => match check_signature(child, k) {
            SignatureCheck::Valid => Link::Signed,
            SignatureCheck::Invalid => Link::BadSignature,
            SignatureCheck::Unsupported(alg) => Link::Unchecked(alg),
        },
        Err(e) => Link::Unchecked(format!(
            "{} (the issuer's key cannot be read: {e})",
            super::signature_algorithm_name(&child.signature_algorithm)
        )),
    }
}

/// Is `cert` self-signed: its own issuer, and its own key verifies it?
pub fn is_self_signed(cert: &Certificate) -> bool {
    issued_by(cert, cert) == Link::Signed
}

/// May `c` issue certificates? The reason when not.
fn ca_status(c: &Certificate) -> Result<(), &'static str> {
    match c.is_ca {
        Some(true) => {}
        Some(false) => return Err("basicConstraints CA:FALSE"),
        // A version 1 certificate has no extensions; openssl trusts a
        // self-issued one as a root.
        None if c.version == 1 && c.is_self_issued() => return Ok(()),
        None => return Err("no basicConstraints extension"),
    }
    if c.key_usage.is_some() && !c.has_key_usage("keyCertSign") {
        return Err("keyUsage without keyCertSign");
    }
    Ok(())
}

fn validity(c: &Certificate, index: usize, now: i64) -> Result<(), PathError> {
    let subject = || c.subject.to_display();
    if now < c.not_before {
        return Err(PathError::NotYetValid {
            index,
            subject: subject(),
            days: (c.not_before - now + 86_399) / 86_400,
        });
    }
    if now > c.not_after {
        return Err(PathError::Expired {
            index,
            subject: subject(),
            days: (now - c.not_after) / 86_400,
        });
    }
    Ok(())
}

/// Check the constraints an issuer at `path[index]` places on the
/// certificates below it: CA status and pathLen.
fn check_issuer(path: &[&Certificate], index: usize) -> Result<(), PathError> {
    let issuer = path[index];
    let below = path[index - 1];
    ca_status(issuer).map_err(|why| PathError::NotCa {
        issuer: issuer.subject.to_display(),
        subject: below.subject.to_display(),
        why,
    })?;
    if let Some(path_len) = issuer.path_len {
        // Intermediate CA certificates between this issuer and the leaf,
        // self-issued ones excepted (RFC 5280 §6.1.4 (l)).
        let found = path[1..index]
            .iter()
            .filter(|c| !c.is_self_issued())
            .count() as u64;
        if found > path_len {
            return Err(PathError::PathLen {
                issuer: issuer.subject.to_display(),
                path_len,
                found,
            });
        }
    }
    Ok(())
}

struct Search<'p, 'c> {
    policy: &'p Policy<'c>,
    pool: &'c [Certificate],
    used: Vec<bool>,
    checks: usize,
    best: Option<PathError>,
}

impl<'c> Search<'_, 'c> {
    fn note(&mut self, e: PathError) {
        if self.best.as_ref().is_none_or(|b| e.rank() >= b.rank()) {
            self.best = Some(e);
        }
    }

    fn signed(&mut self, child: &Certificate, parent: &Certificate) -> Link {
        if child.issuer.raw != parent.subject.raw {
            return Link::OtherName;
        }
        if self.checks >= MAX_SIGNATURE_CHECKS {
            return Link::BadSignature;
        }
        self.checks += 1;
        issued_by(child, parent)
    }

    /// Extend `path` (whose last certificate is checked already) until an anchor.
    fn extend(&mut self, path: &mut Vec<&'c Certificate>) -> bool {
        let Some(cur) = path.last().copied() else {
            return false;
        };
        // Anchors first: a trusted issuer ends the path.
        for anchor in self.policy.anchors {
            if path.iter().any(|c| c.der == anchor.der) {
                continue;
            }
            match self.signed(cur, anchor) {
                Link::OtherName => continue,
                Link::BadSignature | Link::Unchecked(_) => {
                    self.note(PathError::BadSignature {
                        subject: cur.subject.to_display(),
                        issuer: anchor.subject.to_display(),
                    });
                    continue;
                }
                Link::Signed => {}
            }
            path.push(anchor);
            if self.accept_step(path) {
                return true;
            }
            path.pop();
        }
        if path.len() >= self.policy.max_depth {
            self.note(PathError::TooLong {
                max: self.policy.max_depth,
            });
            return false;
        }
        for i in 0..self.pool.len() {
            let next = &self.pool[i];
            if self.used[i] || path.iter().any(|c| c.der == next.der) {
                continue;
            }
            match self.signed(cur, next) {
                Link::OtherName => continue,
                Link::BadSignature | Link::Unchecked(_) => {
                    self.note(PathError::BadSignature {
                        subject: cur.subject.to_display(),
                        issuer: next.subject.to_display(),
                    });
                    continue;
                }
                Link::Signed => {}
            }
            path.push(next);
            self.used[i] = true;
            if self.step_ok(path) && self.extend(path) {
                return true;
            }
            self.used[i] = false;
            path.pop();
        }
        if self.best.is_none() {
            self.note(PathError::NoIssuer {
                subject: cur.subject.to_display(),
                issuer: cur.issuer.to_display(),
            });
        }
        false
    }

    /// The checks of the newest certificate on the path as an issuer.
    fn step_ok(&mut self, path: &[&Certificate]) -> bool {
        let index = path.len() - 1;
        let r =
            check_issuer(path, index).and_then(|()| validity(path[index], index, self.policy.now));
        match r {
            Ok(()) => true,
            Err(e) => {
                self.note(e);
                false
            }
        }
    }

    /// An anchor was reached: its own checks decide.
    fn accept_step(&mut self, path: &[&Certificate]) -> bool {
        if path.len() > self.policy.max_depth {
            self.note(PathError::TooLong {
                max: self.policy.max_depth,
            });
            return false;
        }
        self.step_ok(path)
    }
}

/// Validate `leaf` against the policy, using `intermediates` (in any order,
/// possibly holding the leaf and unrelated certificates) to reach an anchor.
pub fn validate(
    leaf: &Certificate,
    intermediates: &[Certificate],
    policy: &Policy<'_>,
) -> Result<ValidPath, PathError> {
    if policy.purpose == Purpose::DigitalSignature
        && let Some(usage) = &leaf.key_usage
        && !usage.iter().any(|u| u == "digitalSignature")
    {
        return Err(PathError::LeafKeyUsage {
            index: 0,
            subject: leaf.subject.to_display(),
            usage: if usage.is_empty() {
                "(none)".into()
            } else {
                usage.join(", ")
            },
        });
    }
    validity(leaf, 0, policy.now)?;
    let mut path = vec![leaf];
    let trusted_leaf = policy.anchors.iter().any(|a| a.der == leaf.der);
    let mut search = Search {
        policy,
        pool: intermediates,
        used: vec![false; intermediates.len()],
        checks: 0,
        best: None,
    };
    if !trusted_leaf && !search.extend(&mut path) {
        return Err(search.best.unwrap_or_else(|| PathError::NoIssuer {
            subject: leaf.subject.to_display(),
            issuer: leaf.issuer.to_display(),
        }));
    }
    let not_before = path.iter().map(|c| c.not_before).max().unwrap_or(i64::MIN);
    let not_after = path.iter().map(|c| c.not_after).min().unwrap_or(i64::MAX);
    Ok(ValidPath {
        certs: path.into_iter().cloned().collect(),
        not_before,
        not_after,
    })
}

/// Longest chain [`build`] follows. Real chains have 2 to 5 certificates; a
/// hostile file could chain thousands, and every key would walk them all.
pub const MAX_CHAIN_LEN: usize = 16;

/// Order a bag of certificates into a chain starting at `leaf`, following
/// issuer names (no trust decision: that is [`validate`]'s). Certificates
/// that do not fit are left out, and so is anything past [`MAX_CHAIN_LEN`]
/// certificates.
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
