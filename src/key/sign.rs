//! Signing with a private key, as certificates are signed: RSA PKCS#1 v1.5
//! with SHA-256, ECDSA with SHA-256 (P-256) or SHA-384 (P-384) and RFC 6979
//! nonces, or Ed25519. Every signature is deterministic, so the same seed and
//! clock give the same certificate bytes.

use crate::asn1::{self, oid, seq, tag};
use crate::cert::issue::KeygenError;
use crate::key::generate::Random;
use crate::key::{Curve, PrivateKey, PrivateParams, RsaPrivate};
use sha2::{Digest, Sha256};

/// Signature algorithm OIDs.
mod oids {
    pub const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
    pub const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
    pub const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
    pub const ED25519: &str = "1.3.101.112";
}

fn rsa_signer(r: &RsaPrivate) -> Result<rsa::PrivateKey, KeygenError> {
    let n = |b: &[u8]| rsa::BoxedUint::from_be_slice_vartime(b);
    rsa::PrivateKey::from_components(n(&r.n), n(&r.e), n(&r.d), vec![n(&r.p), n(&r.q)])
        .map_err(|e| KeygenError::Sign(format!("RSA key: {e}")))
}

fn left_pad(v: &[u8], len: usize) -> Vec<u8> {
    let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    let v = &v[start..];
    let mut out = vec![0u8; len.saturating_sub(v.len())];
    out.extend_from_slice(v);
    out
}

/// The DER AlgorithmIdentifier of the signatures `key` makes.
pub fn signature_algorithm(key: &PrivateKey) -> Result<Vec<u8>, KeygenError> {
    Ok(match &key.params {
        PrivateParams::Rsa(_) => seq(&[oid(oids::SHA256_WITH_RSA), asn1::encode(tag::NULL, &[])]),
        PrivateParams::Ec {
            curve: Curve::P256, ..
        } => seq(&[oid(oids::ECDSA_SHA256)]),
        PrivateParams::Ec {
            curve: Curve::P384, ..
        } => seq(&[oid(oids::ECDSA_SHA384)]),
        PrivateParams::Ec {
            curve: Curve::P521, ..
        } => {
            return Err(KeygenError::UnsupportedSigner {
                what: "EC P-521".into(),
            });
        }
        PrivateParams::Ed25519 { .. } => seq(&[oid(oids::ED25519)]),
        PrivateParams::Unusable { algorithm } => {
            return Err(KeygenError::UnsupportedSigner {
                what: algorithm.clone(),
            });
        }
    })
}

/// Sign `data` with `key`: RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256
/// (P-256) or SHA-384 (P-384) and RFC 6979 nonces, or Ed25519. All three are
/// deterministic.
pub fn sign(key: &PrivateKey, data: &[u8]) -> Result<Vec<u8>, KeygenError> {
    use p256::ecdsa::signature::Signer;
    let failed = |e: &dyn std::fmt::Display| KeygenError::Sign(e.to_string());
    match &key.params {
        PrivateParams::Rsa(r) => {
            let k = rsa_signer(r)?;
            let digest = Sha256::digest(data);
            // Blinding uses fresh OS randomness; PKCS#1 v1.5 output does not depend on it.
            let mut blind = Random::from_os()?;
            k.sign_with_rng(&mut blind.0, rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
                .map_err(|e| failed(&e))
        }
        PrivateParams::Ec {
            curve: Curve::P256,
            d,
        } => {
            let k =
                p256::ecdsa::SigningKey::from_slice(&left_pad(d, 32)).map_err(|e| failed(&e))?;
            let sig: p256::ecdsa::DerSignature = k.try_sign(data).map_err(|e| failed(&e))?;
            Ok(sig.as_bytes().to_vec())
        }
        PrivateParams::Ec {
            curve: Curve::P384,
            d,
        } => {
            let k =
                p384::ecdsa::SigningKey::from_slice(&left_pad(d, 48)).map_err(|e| failed(&e))?;
            let sig: p384::ecdsa::DerSignature = k.try_sign(data).map_err(|e| failed(&e))?;
            Ok(sig.as_bytes().to_vec())
        }
        PrivateParams::Ec {
            curve: Curve::P521, ..
        } => Err(KeygenError::UnsupportedSigner {
            what: "EC P-521".into(),
        }),
        PrivateParams::Ed25519 { seed } => {
            let kp = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|e| failed(&e))?;
            Ok(kp.sign(data).as_ref().to_vec())
        }
        PrivateParams::Unusable { algorithm } => Err(KeygenError::UnsupportedSigner {
            what: algorithm.clone(),
        }),
    }
}
