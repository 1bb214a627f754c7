//! Checking the signature on a certificate with an issuer's public key, for
//! every algorithm aws-lc or RustCrypto verifies: RSA PKCS#1 v1.5 of any size
//! (SHA-1 and SHA-2), RSASSA-PSS with its parameters, ECDSA with SHA-1 and
//! SHA-2 on P-256/384/521 and secp256k1 (SHA-256), DSA, and Ed25519.
//! Anything else is [`SignatureCheck::Unsupported`], never "invalid".

use super::Certificate;
use crate::asn1::{self, tag};
use crate::key::{self, Curve, PublicKey};
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The outcome of checking one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// The key made this signature.
    Valid,
    /// The signature does not verify with this key (or the key cannot have
    /// made a signature of this algorithm).
    Invalid,
    /// credkit cannot check this algorithm; the algorithm's name.
    Unsupported(String),
}

impl SignatureCheck {
    pub(crate) fn is_valid(&self) -> bool {
        matches!(self, SignatureCheck::Valid)
    }
}

/// Hashes certificate signatures use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: &str) -> Option<Hash> {
        Some(match oid {
            "1.3.14.3.2.26" => Hash::Sha1,
            "2.16.840.1.101.3.4.2.4" => Hash::Sha224,
            "2.16.840.1.101.3.4.2.1" => Hash::Sha256,
            "2.16.840.1.101.3.4.2.2" => Hash::Sha384,
            "2.16.840.1.101.3.4.2.3" => Hash::Sha512,
            _ => return None,
        })
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(data).to_vec(),
            Hash::Sha224 => Sha224::digest(data).to_vec(),
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Hash::Sha1 => "SHA-1",
            Hash::Sha224 => "SHA-224",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }
}

/// What a signature algorithm OID means.
enum Scheme {
    RsaPkcs1(Hash),
    RsaPss,
    Ecdsa(Hash),
    Dsa(Hash),
    Ed25519,
}

fn scheme(oid: &str) -> Option<Scheme> {
    Some(match oid {
        "1.2.840.113549.1.1.5" => Scheme::RsaPkcs1(Hash::Sha1),
        "1.2.840.113549.1.1.14" => Scheme::RsaPkcs1(Hash::Sha224),
        "1.2.840.113549.1.1.11" => Scheme::RsaPkcs1(Hash::Sha256),
        "1.2.840.113549.1.1.12" => Scheme::RsaPkcs1(Hash::Sha384),
        "1.2.840.113549.1.1.13" => Scheme::RsaPkcs1(Hash::Sha512),
        "1.2.840.113549.1.1.10" => Scheme::RsaPss,
        "1.2.840.10045.4.1" => Scheme::Ecdsa(Hash::Sha1),
        "1.2.840.10045.4.3.1" => Scheme::Ecdsa(Hash::Sha224),
        "1.2.840.10045.4.3.2" => Scheme::Ecdsa(Hash::Sha256),
        "1.2.840.10045.4.3.3" => Scheme::Ecdsa(Hash::Sha384),
        "1.2.840.10045.4.3.4" => Scheme::Ecdsa(Hash::Sha512),
        "1.2.840.10040.4.3" => Scheme::Dsa(Hash::Sha1),
        "2.16.840.1.101.3.4.3.1" => Scheme::Dsa(Hash::Sha224),
        "2.16.840.1.101.3.4.3.2" => Scheme::Dsa(Hash::Sha256),
        "1.3.101.112" => Scheme::Ed25519,
        _ => return None,
    })
}

/// Check that `issuer_key` made the signature on `cert`.
pub fn check_signature(cert: &Certificate, issuer_key: &PublicKey) -> SignatureCheck {
    check(
        &cert.signature_algorithm,
        cert.signature_params.as_deref(),
        issuer_key,
        &cert.tbs,
        &cert.signature,
    )
}

/// Check a signature made with the algorithm `alg_oid` (and its DER
/// parameters, for RSASSA-PSS) over `data`.
pub fn check(
    alg_oid: &str,
    params: Option<&[u8]>,
    key: &PublicKey,
    data: &[u8],
    signature: &[u8],
) -> SignatureCheck {
    let unsupported = || SignatureCheck::Unsupported(super::signature_algorithm_name(alg_oid));
    let Some(s) = scheme(alg_oid) else {
        return unsupported();
    };
    let verdict = |ok: bool| {
        if ok {
            SignatureCheck::Valid
        } else {
            SignatureCheck::Invalid
        }
    };
    match (s, key) {
        (Scheme::RsaPkcs1(h), PublicKey::Rsa { n, e }) => {
            verdict(rsa_pkcs1(h, n, e, data, signature))
        }
        (Scheme::RsaPss, PublicKey::Rsa { n, e }) => match pss_params(params) {
            Ok((h, salt)) => verdict(rsa_pss(h, salt, n, e, data, signature)),
            Err(what) => SignatureCheck::Unsupported(format!("RSASSA-PSS with {what}")),
        },
        (Scheme::Ecdsa(h), PublicKey::Ec { curve, point }) => {
            verdict(ecdsa(h, *curve, point, data, signature))
        }
        (
            Scheme::Ecdsa(Hash::Sha256),
            PublicKey::Other {
                curve: Some(c),
                spki: Some(spki),
                ..
            },
        ) if c == "secp256k1" => match spki_key_bits(spki) {
            Some(point) => verdict(aws(&sig::ECDSA_P256K1_SHA256_ASN1, point, data, signature)),
            None => SignatureCheck::Invalid,
        },
        (
            Scheme::Dsa(h),
            PublicKey::Other {
                algorithm, spki, ..
            },
        ) if algorithm == "DSA" => {
            match spki
                .as_deref()
                .and_then(|s| key::dsa::verify_prehashed(s, &h.digest(data), signature))
            {
                Some(ok) => verdict(ok),
                None => unsupported(),
            }
        }
        (Scheme::Ed25519, PublicKey::Ed25519 { key }) => {
            verdict(aws(&sig::ED25519, key.clone(), data, signature))
        }
        // The key is of a kind credkit cannot use for this algorithm at all.
        (_, PublicKey::Other { .. }) => unsupported(),
        // An RSA signature and an EC key (and so on): this key did not make it.
        _ => SignatureCheck::Invalid,
    }
}

fn aws(
    alg: &'static dyn VerificationAlgorithm,
    key: Vec<u8>,
    data: &[u8],
    signature: &[u8],
) -> bool {
    UnparsedPublicKey::new(alg, key)
        .verify(data, signature)
        .is_ok()
}

/// The key bytes inside a SubjectPublicKeyInfo's BIT STRING.
fn spki_key_bits(spki: &[u8]) -> Option<Vec<u8>> {
    let outer = asn1::parse_single(spki).ok()?;
    let mut r = outer.reader();
    let _alg = r.expect(tag::SEQUENCE, "the algorithm").ok()?;
    let bits = r
        .expect(tag::BIT_STRING, "the key")
        .ok()?
        .bit_string()
        .ok()?;
    Some(bits.to_vec())
}

/// Largest RSA modulus verified (aws-lc's limit).
const RSA_MAX_BITS: usize = 8192;
/// Smallest RSA modulus verified at all: 512 bits (such certificates exist
/// in old test suites; openssl still checks them).
const RSA_MIN_BITS: usize = 512;

fn rsa_public(n: &[u8], e: &[u8]) -> Option<rsa::PublicKey> {
    rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(n),
        rsa::BoxedUint::from_be_slice_vartime(e),
        RSA_MIN_BITS..=RSA_MAX_BITS,
    )
    .ok()
}

fn rsa_pkcs1(h: Hash, n: &[u8], e: &[u8], data: &[u8], signature: &[u8]) -> bool {
    let bits = key::bit_len(n);
    // aws-lc where it has the combination, the `rsa` crate for the rest
    // (keys under 1024 bits, SHA-224, SHA-384 under 2048 bits).
    let aws_alg: Option<&'static dyn VerificationAlgorithm> = match (h, bits) {
        (Hash::Sha1, 1024..) => Some(&sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY),
        (Hash::Sha256, 1024..) => Some(&sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
        (Hash::Sha512, 1024..) => Some(&sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
        (Hash::Sha384, 2048..) => Some(&sig::RSA_PKCS1_2048_8192_SHA384),
        _ => None,
    };
    if let Some(alg) = aws_alg {
        let der = asn1::seq(&[key::encode_uint(n), key::encode_uint(e)]);
        return aws(alg, der, data, signature);
    }
    let Some(k) = rsa_public(n, e) else {
        return false;
    };
    let hashed = h.digest(data);
    let scheme = match h {
        Hash::Sha1 => rsa::Pkcs1v15Sign::new::<Sha1>(),
        Hash::Sha224 => rsa::Pkcs1v15Sign::new::<Sha224>(),
        Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    };
    k.verify(scheme, &hashed, signature).is_ok()
}

fn rsa_pss(h: Hash, salt: usize, n: &[u8], e: &[u8], data: &[u8], signature: &[u8]) -> bool {
    let Some(k) = rsa_public(n, e) else {
        return false;
    };
    let hashed = h.digest(data);
    let r = match h {
        Hash::Sha1 => k.verify(
            rsa::pss::Pss::<Sha1>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        Hash::Sha224 => k.verify(
            rsa::pss::Pss::<Sha224>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        Hash::Sha256 => k.verify(
            rsa::pss::Pss::<Sha256>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        Hash::Sha384 => k.verify(
            rsa::pss::Pss::<Sha384>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        Hash::Sha512 => k.verify(
            rsa::pss::Pss::<Sha512>::new_with_salt(salt),
            &hashed,
            signature,
        ),
    };
    r.is_ok()
}

/// RSASSA-PSS-params (RFC 4055): the hash, the MGF1 hash (which must be the
/// same: the `rsa` crate's MGF1 uses the message hash) and the salt length.
/// Defaults: SHA-1, MGF1 with SHA-1, 20 bytes.
fn pss_params(params: Option<&[u8]>) -> Result<(Hash, usize), String> {
    let malformed = || "parameters that cannot be read".to_string();
    let mut hash = Hash::Sha1;
    let mut mgf_hash = Hash::Sha1;
    let mut salt = 20usize;
    let Some(params) = params else {
        return Err("no parameters".into());
    };
    let seq = asn1::parse_single(params)
        .and_then(|t| t.expect(tag::SEQUENCE, "RSASSA-PSS-params"))
        .map_err(|_| malformed())?;
    let mut r = seq.reader();
    let read_hash = |content: &[u8]| -> Result<Hash, String> {
        let mut ar = asn1::Reader::new(content);
        let (oid, _) = key::read_algorithm(&mut ar).map_err(|_| malformed())?;
        Hash::from_oid(&oid).ok_or_else(|| format!("hash {oid}"))
    };
    while !r.is_empty() {
        let t = r.read().map_err(|_| malformed())?;
        match t.tag {
            0xa0 => hash = read_hash(t.content)?,
            0xa1 => {
                let mut ar = asn1::Reader::new(t.content);
                let (oid, p) = key::read_algorithm(&mut ar).map_err(|_| malformed())?;
                if oid != "1.2.840.113549.1.1.8" {
                    return Err(format!("mask generation {oid}"));
                }
                let p = p.ok_or_else(malformed)?;
                mgf_hash = read_hash(p.raw)?;
            }
            0xa2 => {
                salt = asn1::parse_single(t.content)
                    .and_then(|i| i.u64())
                    .ok()
                    .and_then(|v| usize::try_from(v).ok())
                    .filter(|v| *v <= 1024)
                    .ok_or_else(malformed)?;
            }
            0xa3 => {
                let tf = asn1::parse_single(t.content)
                    .and_then(|i| i.u64())
                    .map_err(|_| malformed())?;
                if tf != 1 {
                    return Err(format!("trailer field {tf}"));
                }
            }
            _ => return Err(malformed()),
        }
    }
    if hash != mgf_hash {
        return Err(format!(
            "{} and MGF1 with {} (different hashes)",
            hash.name(),
            mgf_hash.name()
        ));
    }
    Ok((hash, salt))
}

fn ecdsa(h: Hash, curve: Curve, point: &[u8], data: &[u8], signature: &[u8]) -> bool {
    let alg: Option<&'static dyn VerificationAlgorithm> = match (curve, h) {
        (Curve::P256, Hash::Sha1) => Some(&sig::ECDSA_P256_SHA1_ASN1),
        (Curve::P256, Hash::Sha256) => Some(&sig::ECDSA_P256_SHA256_ASN1),
        (Curve::P256, Hash::Sha384) => Some(&sig::ECDSA_P256_SHA384_ASN1),
        (Curve::P256, Hash::Sha512) => Some(&sig::ECDSA_P256_SHA512_ASN1),
        (Curve::P384, Hash::Sha256) => Some(&sig::ECDSA_P384_SHA256_ASN1),
        (Curve::P384, Hash::Sha384) => Some(&sig::ECDSA_P384_SHA384_ASN1),
        (Curve::P384, Hash::Sha512) => Some(&sig::ECDSA_P384_SHA512_ASN1),
        (Curve::P521, Hash::Sha1) => Some(&sig::ECDSA_P521_SHA1_ASN1),
        (Curve::P521, Hash::Sha224) => Some(&sig::ECDSA_P521_SHA224_ASN1),
        (Curve::P521, Hash::Sha256) => Some(&sig::ECDSA_P521_SHA256_ASN1),
        (Curve::P521, Hash::Sha384) => Some(&sig::ECDSA_P521_SHA384_ASN1),
        (Curve::P521, Hash::Sha512) => Some(&sig::ECDSA_P521_SHA512_ASN1),
        _ => None,
    };
    if let Some(alg) = alg {
        return aws(alg, point.to_vec(), data, signature);
    }
    // P-256 with SHA-224, P-384 with SHA-1 or SHA-224: RustCrypto on the digest.
    let digest = h.digest(data);
    match curve {
        Curve::P256 => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let (Ok(k), Ok(s)) = (
                p256::ecdsa::VerifyingKey::from_sec1_bytes(point),
                p256::ecdsa::Signature::from_der(signature),
            ) else {
                return false;
            };
            k.verify_prehash(&digest, &s).is_ok()
        }
        Curve::P384 => {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            let (Ok(k), Ok(s)) = (
                p384::ecdsa::VerifyingKey::from_sec1_bytes(point),
                p384::ecdsa::Signature::from_der(signature),
            ) else {
                return false;
            };
            k.verify_prehash(&digest, &s).is_ok()
        }
        Curve::P521 => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_der(name: &str) -> Vec<u8> {
        use base64::Engine;
        let path = format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).expect("fixture");
        let b64: String = text
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64")
    }

    #[test]
    fn flipped_bytes_never_panic_and_never_verify_a_changed_tbs() {
        // A small deterministic fuzz run: every 7th byte of each certificate
        // flipped (all of them take half a minute in a debug build), parsed,
        // and checked with its own key.
        for name in [
            "dsa-selfsigned.pem",
            "rsa-pss-sha384-salt20.pem",
            "secp256k1-selfsigned.pem",
            "ecdsa-p384-sha1-selfsigned.pem",
        ] {
            let der = fixture_der(name);
            let good = Certificate::from_der(&der).expect(name);
            let key = good.public_key.clone().expect("key");
            assert_eq!(
                check_signature(&good, &key),
                SignatureCheck::Valid,
                "{name}"
            );
            for i in (0..der.len()).step_by(7) {
                let mut d = der.clone();
                d[i] ^= 0x01;
                let Ok(c) = Certificate::from_der(&d) else {
                    continue;
                };
                if let Ok(k) = &c.public_key {
                    let _ = check_signature(&c, k);
                }
                if c.tbs != good.tbs {
                    let verdict = check_signature(&c, &key);
                    assert_ne!(verdict, SignatureCheck::Valid, "{name}: byte {i}");
                }
            }
        }
    }
}
