//! Key generation for `credkit keygen` and the look-alike's signing key.
//!
//! Keys come from a ChaCha20 generator seeded from the operating system or,
//! for reproducible fixtures, from a `--seed` string. RSA keys are generated
//! by the `rsa` crate (it takes any generator, so a seed works; aws-lc cannot
//! be seeded), EC scalars by `p256`/`p384`, Ed25519 seeds are 32 random bytes.

use crate::cert::issue::KeygenError;
use crate::key::{self, Curve, PrivateKey, RsaPrivate};
use chacha20::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A ChaCha20 generator, seeded from the operating system or a `--seed`.
pub struct Random(pub(super) ChaCha20Rng);

impl std::fmt::Debug for Random {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Random")
    }
}

/// A 32-byte seed for one purpose (`keys`, `salts`) derived from `--seed`.
/// Separate streams keep the keys the same whatever format they are written in.
pub fn derive_seed(seed: &str, purpose: &str) -> [u8; 32] {
    let d = Sha256::digest(format!("credkit keygen v1\0{purpose}\0{seed}").as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&d);
    out
}

impl Random {
    /// Real randomness: 256 bits from getrandom(2).
    pub fn from_os() -> Result<Random, KeygenError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeygenError::Random(e.to_string()))?;
        Ok(Random(ChaCha20Rng::from_seed(seed)))
    }

    /// Reproducible randomness for keys and serials from a `--seed` string.
    pub fn from_seed(seed: &str) -> Random {
        Random(ChaCha20Rng::from_seed(derive_seed(seed, "keys")))
    }

    /// Reproducible randomness for one named credential of a set: its own
    /// stream, so credentials can be made in any order or in parallel.
    pub fn from_seed_for(seed: &str, name: &str) -> Random {
        Random(ChaCha20Rng::from_seed(derive_seed(
            seed,
            &format!("keys:{name}"),
        )))
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        rand_core::Rng::fill_bytes(&mut self.0, &mut v);
        v
    }
}

/// The key types `--algorithm` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    P256,
    P384,
    Ed25519,
}

impl Algorithm {
    pub fn spec(self) -> KeySpec {
        match self {
            Algorithm::Rsa2048 => KeySpec::Rsa { bits: 2048 },
            Algorithm::Rsa3072 => KeySpec::Rsa { bits: 3072 },
            Algorithm::Rsa4096 => KeySpec::Rsa { bits: 4096 },
            Algorithm::P256 => KeySpec::Ec(Curve::P256),
            Algorithm::P384 => KeySpec::Ec(Curve::P384),
            Algorithm::Ed25519 => KeySpec::Ed25519,
        }
    }
}

/// A key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    Rsa { bits: usize },
    Ec(Curve),
    Ed25519,
}

/// The broken RSA size `--weak` makes.
pub const WEAK: KeySpec = KeySpec::Rsa { bits: 1024 };

fn be(u: &rsa::BoxedUint) -> Vec<u8> {
    u.to_be_bytes_trimmed_vartime().to_vec()
}

/// Generate a key pair.
pub fn generate_key(spec: KeySpec, rng: &mut Random) -> Result<PrivateKey, KeygenError> {
    let invalid = |e: key::KeyError| KeygenError::KeyGen(e.to_string());
    match spec {
        KeySpec::Rsa { bits } => {
            use rsa::traits::{PrivateKeyParts, PublicKeyParts};
            let k = rsa::PrivateKey::new(&mut rng.0, bits)
                .map_err(|e| KeygenError::KeyGen(format!("RSA {bits}: {e}")))?;
            let missing = || KeygenError::KeyGen("RSA key without CRT parameters".into());
            let [p, q] = k.primes() else {
                return Err(KeygenError::KeyGen("RSA key without two primes".into()));
            };
            let r = RsaPrivate {
                n: be(k.n().as_ref()),
                e: be(k.e()),
                d: be(k.d()),
                p: be(p.as_ref()),
                q: be(q.as_ref()),
                dp: be(k.dp().ok_or_else(missing)?),
                dq: be(k.dq().ok_or_else(missing)?),
                qi: be(&k.crt_coefficient().ok_or_else(missing)?),
            };
            PrivateKey::from_rsa_private(&r).map_err(invalid)
        }
        KeySpec::Ec(curve) => {
            use p256::elliptic_curve::Generate;
            let d = match curve {
                Curve::P256 => p256::SecretKey::generate_from_rng(&mut rng.0)
                    .to_bytes()
                    .to_vec(),
                Curve::P384 => p384::SecretKey::generate_from_rng(&mut rng.0)
                    .to_bytes()
                    .to_vec(),
                Curve::P521 => {
                    return Err(KeygenError::KeyGen("P-521 keys are not offered".into()));
                }
            };
            PrivateKey::from_ec_private(curve, &d).map_err(invalid)
        }
        KeySpec::Ed25519 => PrivateKey::from_ed25519_seed(&rng.bytes(32)).map_err(invalid),
    }
}
