//! JWS compact serialization (RFC 7515) signed and verified with aws-lc-rs.
//!
//! Signing goes straight to aws-lc rather than through a JWT crate: it takes
//! the PKCS#8 credkit already has for every key type (jsonwebtoken wants
//! PKCS#1 for RSA and PKCS#8 for EC), and `--count` needs the raw speed.

use crate::key::{Curve, PrivateKey, PublicKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

/// JWS algorithms credkit signs and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[cfg_attr(feature = "cli", value(rename_all = "verbatim"))]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

impl Alg {
    pub fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    pub fn from_name(s: &str) -> Option<Alg> {
        Some(match s {
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "PS384" => Alg::PS384,
            "PS512" => Alg::PS512,
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "EdDSA" => Alg::EdDSA,
            _ => return None,
        })
    }

    /// The algorithm a key signs with unless told otherwise.
    pub fn default_for(key: &PublicKey) -> Option<Alg> {
        Some(match key {
            PublicKey::Rsa { .. } => Alg::RS256,
            PublicKey::Ec {
                curve: Curve::P256, ..
            } => Alg::ES256,
            PublicKey::Ec {
                curve: Curve::P384, ..
            } => Alg::ES384,
            PublicKey::Ed25519 { .. } => Alg::EdDSA,
            _ => return None,
        })
    }

    /// Can a key of this type make this signature?
    pub fn fits(self, key: &PublicKey) -> bool {
        matches!(
            (self, key),
            (
                Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512,
                PublicKey::Rsa { .. }
            ) | (
                Alg::ES256,
                PublicKey::Ec {
                    curve: Curve::P256,
                    ..
                }
            ) | (
                Alg::ES384,
                PublicKey::Ec {
                    curve: Curve::P384,
                    ..
                }
            ) | (Alg::EdDSA, PublicKey::Ed25519 { .. })
        )
    }
}

/// Why signing or verifying failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    #[error("a {key} key cannot make {alg} signatures")]
    KeyAlgMismatch { alg: &'static str, key: String },
    #[error("the key was refused by the signing library: {0}")]
    KeyRejected(String),
    #[error("signing failed")]
    Sign,
}

enum Inner {
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A key ready to sign many tokens.
pub struct Signer {
    inner: Inner,
    pub alg: Alg,
    rng: SystemRandom,
}

impl Signer {
    pub fn new(key: &PrivateKey, alg: Alg) -> Result<Signer, JwsError> {
        if !alg.fits(&key.public) {
            return Err(JwsError::KeyAlgMismatch {
                alg: alg.name(),
                key: key.describe().to_string(),
            });
        }
        let rej = |e: aws_lc_rs::error::KeyRejected| JwsError::KeyRejected(e.to_string());
        let inner = match alg {
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => {
                let kp = RsaKeyPair::from_pkcs8(&key.pkcs8).map_err(rej)?;
                let enc: &'static dyn signature::RsaEncoding = match alg {
                    Alg::RS256 => &signature::RSA_PKCS1_SHA256,
                    Alg::RS384 => &signature::RSA_PKCS1_SHA384,
                    Alg::RS512 => &signature::RSA_PKCS1_SHA512,
                    Alg::PS256 => &signature::RSA_PSS_SHA256,
                    Alg::PS384 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                Inner::Rsa(kp, enc)
            }
            Alg::ES256 => Inner::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &key.pkcs8)
                    .map_err(rej)?,
            ),
            Alg::ES384 => Inner::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &key.pkcs8)
                    .map_err(rej)?,
            ),
            Alg::EdDSA => {
                Inner::Ed(Ed25519KeyPair::from_pkcs8_maybe_unchecked(&key.pkcs8).map_err(rej)?)
            }
        };
        Ok(Signer {
            inner,
            alg,
            rng: SystemRandom::new(),
        })
    }

    /// Sign `header.payload` (already base64url) and return the signature bytes.
    pub fn sign_raw(&self, signing_input: &[u8]) -> Result<Vec<u8>, JwsError> {
        match &self.inner {
            Inner::Rsa(kp, enc) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(*enc, &self.rng, signing_input, &mut sig)
                    .map_err(|_| JwsError::Sign)?;
                Ok(sig)
            }
            Inner::Ec(kp) => kp
                .sign(&self.rng, signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JwsError::Sign),
            Inner::Ed(kp) => Ok(kp.sign(signing_input).as_ref().to_vec()),
        }
    }

    /// Build a compact JWS from a header and a payload (JSON bytes).
    pub fn sign(&self, header: &[u8], payload: &[u8]) -> Result<String, JwsError> {
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let sig = self.sign_raw(token.as_bytes())?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(sig));
        Ok(token)
    }
}

/// Verify a signature made with `alg` over `signing_input` with a public key.
/// HMAC and `none` are never accepted here.
pub fn verify(alg: Alg, key: &PublicKey, signing_input: &[u8], sig: &[u8]) -> bool {
    use signature::{UnparsedPublicKey, VerificationAlgorithm};
    if !alg.fits(key) {
        return false;
    }
    let v: &'static dyn VerificationAlgorithm = match alg {
        Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Alg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Alg::EdDSA => &signature::ED25519,
    };
    let bytes = match key {
        PublicKey::Rsa { n, e } => crate::asn1::encode(
            crate::asn1::tag::SEQUENCE,
            &[crate::key::encode_uint(n), crate::key::encode_uint(e)].concat(),
        ),
        PublicKey::Ec { point, .. } => point.clone(),
        PublicKey::Ed25519 { key } => key.clone(),
        PublicKey::Other { .. } => return false,
    };
    UnparsedPublicKey::new(v, bytes)
        .verify(signing_input, sig)
        .is_ok()
}
