//! Private and public keys: parsing PKCS#8, PKCS#1, SEC1 and
//! SubjectPublicKeyInfo, deriving the public half, and RFC 7638 thumbprints.

use crate::asn1::{self, Reader, tag};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};

fuzz_visible! { mod dsa; }
pub(crate) mod ec_params;
pub mod generate;
fuzz_visible! { mod openssh; }
pub mod sign;

pub(crate) mod oid {
    pub const RSA: &str = "1.2.840.113549.1.1.1";
    pub const RSA_PSS: &str = "1.2.840.113549.1.1.10";
    pub const EC: &str = "1.2.840.10045.2.1";
    pub const ED25519: &str = "1.3.101.112";
    pub const ED448: &str = "1.3.101.113";
    pub const X25519: &str = "1.3.101.110";
    pub const X448: &str = "1.3.101.111";
    pub const DSA: &str = "1.2.840.10040.4.1";
    pub const P256: &str = "1.2.840.10045.3.1.7";
    pub const P384: &str = "1.3.132.0.34";
    pub const P521: &str = "1.3.132.0.35";
    pub const SECP256K1: &str = "1.3.132.0.10";
}

/// Errors from key parsing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The DER structure of a key did not parse.
    #[error("malformed {what}: {source}")]
    Malformed {
        /// Which structure (`PKCS#8 PrivateKeyInfo`, ...).
        what: &'static str,
        /// The reader's failure.
        source: asn1::Asn1Error,
    },
    /// The key algorithm (OID or name) is not one credkit reads.
    #[error("unsupported key algorithm {name}")]
    Unsupported {
        /// The algorithm's name or OID.
        name: String,
    },
    /// The key parsed but its values are wrong.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The key is there but protected in a way credkit does not open;
    /// `way_out` is the command that makes it readable.
    #[error("{what}: credkit cannot decrypt it; {way_out}")]
    NeedsConversion {
        /// The key, named.
        what: String,
        /// The command that converts it.
        way_out: String,
    },
}

fn malformed(what: &'static str) -> impl FnOnce(asn1::Asn1Error) -> KeyError {
    move |source| KeyError::Malformed { what, source }
}

/// Open a key structure that starts `SEQUENCE { version INTEGER, ... }`
/// (PKCS#8, PKCS#1, SEC1 and OpenSSL's traditional DSA key): the reader
/// positioned after the version, and the version. `sequence` and `version`
/// name the two elements in a reading error; every reading failure is
/// [`KeyError::Malformed`] for `what`. Judging the version is the caller's:
/// each format answers a wrong one differently.
fn open_versioned<'a>(
    der: &'a [u8],
    what: &'static str,
    sequence: &str,
    version: &str,
) -> Result<(Reader<'a>, u64), KeyError> {
    let seq = asn1::parse_single(der)
        .and_then(|t| t.expect(tag::SEQUENCE, sequence))
        .map_err(malformed(what))?;
    let mut r = seq.reader();
    let v = r
        .expect(tag::INTEGER, version)
        .and_then(|t| t.u64())
        .map_err(malformed(what))?;
    Ok((r, v))
}

/// The named elliptic curves credkit knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    #[serde(rename = "P-256")]
    P256,
    /// NIST P-384 (secp384r1).
    #[serde(rename = "P-384")]
    P384,
    /// NIST P-521 (secp521r1).
    #[serde(rename = "P-521")]
    P521,
}

impl Curve {
    /// The curve a named-curve OID stands for.
    pub fn from_oid(oid: &str) -> Option<Curve> {
        match oid {
            oid::P256 => Some(Curve::P256),
            oid::P384 => Some(Curve::P384),
            oid::P521 => Some(Curve::P521),
            _ => None,
        }
    }
    /// The curve a JWK `crv` names (`P-256`, ...).
    pub fn from_jwk(crv: &str) -> Option<Curve> {
        match crv {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            "P-521" => Some(Curve::P521),
            _ => None,
        }
    }
    /// The curve's OID, dotted.
    pub fn oid(self) -> &'static str {
        match self {
            Curve::P256 => oid::P256,
            Curve::P384 => oid::P384,
            Curve::P521 => oid::P521,
        }
    }
    /// The curve's JWK `crv` name.
    pub fn jwk_name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
    /// The curve's size in bits.
    pub fn bits(self) -> u32 {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }
    /// Length of one coordinate in bytes.
    pub fn coord_len(self) -> usize {
        (self.bits() as usize).div_ceil(8)
    }
}

/// A public key, reduced to what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA public key.
    Rsa {
        /// The modulus, big-endian without leading zeros.
        n: Vec<u8>,
        /// The public exponent, big-endian.
        e: Vec<u8>,
    },
    /// An EC public key on a curve credkit signs with.
    Ec {
        /// The curve.
        curve: Curve,
        /// The uncompressed point (`04 || x || y`).
        point: Vec<u8>,
    },
    /// An Ed25519 public key.
    Ed25519 {
        /// The 32-byte public key.
        key: Vec<u8>,
    },
    /// A key type credkit can show but not use (DSA, Ed448, X25519, X448,
    /// secp256k1, unknown curves).
    Other {
        /// `DSA`, `Ed448`, `X25519`, `X448`, `EC`, or `OID ...`.
        algorithm: String,
        /// The key size, when known.
        bits: Option<u32>,
        /// For EC keys: `secp256k1`, `explicit parameters`, `curve OID`.
        curve: Option<String>,
        /// The DER SubjectPublicKeyInfo, when known (it is not derived for
        /// Ed448 and X448 private keys that do not carry their public half).
        spki: Option<Vec<u8>>,
    },
}

/// The private parameters of a key. `Debug` names the kind only; the
/// values are wiped from memory on drop.
#[derive(Clone)]
pub enum PrivateParams {
    /// An RSA key.
    Rsa(RsaPrivate),
    /// An EC key on a curve credkit signs with.
    Ec {
        /// The curve.
        curve: Curve,
        /// The private scalar, big-endian, padded to the curve's size.
        d: Vec<u8>,
    },
    /// An Ed25519 key.
    Ed25519 {
        /// The 32-byte seed.
        seed: Vec<u8>,
    },
    /// A key credkit shows but cannot sign with (DSA, Ed448, X25519, X448,
    /// secp256k1, unknown curves); no private value is kept.
    Unusable {
        /// The algorithm's name, for reports.
        algorithm: String,
    },
}

/// RSA private parameters (big-endian magnitudes). `Debug` shows only the
/// public half; every value is wiped from memory on drop.
#[derive(Clone)]
pub struct RsaPrivate {
    /// Modulus.
    pub n: Vec<u8>,
    /// Public exponent.
    pub e: Vec<u8>,
    /// Private exponent.
    pub d: Vec<u8>,
    /// First prime.
    pub p: Vec<u8>,
    /// Second prime.
    pub q: Vec<u8>,
    /// d mod (p-1).
    pub dp: Vec<u8>,
    /// d mod (q-1).
    pub dq: Vec<u8>,
    /// q^-1 mod p.
    pub qi: Vec<u8>,
}

/// A private key with its public half. `Debug` shows the public half only;
/// the private material is wiped from memory on drop.
#[derive(Clone)]
pub struct PrivateKey {
    /// Canonical PKCS#8 PrivateKeyInfo (unencrypted) DER.
    pub pkcs8: Vec<u8>,
    /// The private values, by algorithm.
    pub params: PrivateParams,
    /// The public half, derived from the private key.
    pub public: PublicKey,
}

impl std::fmt::Debug for PrivateParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No `match`: the kind shows in the public half (PrivateKey's Debug).
        f.write_str("PrivateParams(<redacted>)")
    }
}

impl Drop for PrivateParams {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        // `if let` rather than `match`: new key kinds need no change here
        // to compile, only to be wiped.
        if let PrivateParams::Ec { d, .. } = self {
            d.zeroize();
        } else if let PrivateParams::Ed25519 { seed } = self {
            seed.zeroize();
        }
    }
}

/// What `Debug` prints in place of a secret.
const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for RsaPrivate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPrivate")
            .field("bits", &bit_len(&self.n))
            .field("e", &self.e)
            .field("private", &REDACTED)
            .finish_non_exhaustive()
    }
}

impl Drop for RsaPrivate {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in [
            &mut self.d,
            &mut self.p,
            &mut self.q,
            &mut self.dp,
            &mut self.dq,
            &mut self.qi,
        ] {
            v.zeroize();
        }
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public", &self.public)
            .field("params", &self.params)
            .field("pkcs8", &REDACTED)
            .finish()
    }
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.pkcs8);
    }
}

/// A short description of a key: `RSA 2048`, `EC P-256`, `Ed25519`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyDescription {
    /// `RSA`, `EC`, `Ed25519` or another algorithm name.
    pub algorithm: String,
    /// Key size in bits (modulus for RSA, curve size for EC).
    pub bits: Option<u32>,
    /// The curve for EC keys (`P-256`, `P-384`, `P-521`).
    pub curve: Option<String>,
}

impl std::fmt::Display for KeyDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.curve, self.bits) {
            (Some(c), _) => write!(f, "{} {}", self.algorithm, c),
            (None, Some(b))
                if !matches!(
                    self.algorithm.as_str(),
                    "Ed25519" | "Ed448" | "X25519" | "X448"
                ) =>
            {
                write!(f, "{} {}", self.algorithm, b)
            }
            _ => write!(f, "{}", self.algorithm),
        }
    }
}

pub(crate) fn bit_len(magnitude: &[u8]) -> u32 {
    match magnitude.iter().position(|b| *b != 0) {
        None => 0,
        Some(i) => {
            let rest = (magnitude.len() - i - 1) as u32;
            rest * 8 + (8 - magnitude[i].leading_zeros())
        }
    }
}

impl PublicKey {
    /// Type and size for reports (`RSA 2048`, `EC P-256`).
    pub fn describe(&self) -> KeyDescription {
        match self {
            PublicKey::Rsa { n, .. } => KeyDescription {
                algorithm: "RSA".into(),
                bits: Some(bit_len(n)),
                curve: None,
            },
            PublicKey::Ec { curve, .. } => KeyDescription {
                algorithm: "EC".into(),
                bits: Some(curve.bits()),
                curve: Some(curve.jwk_name().into()),
            },
            PublicKey::Ed25519 { .. } => KeyDescription {
                algorithm: "Ed25519".into(),
                bits: Some(256),
                curve: None,
            },
            PublicKey::Other {
                algorithm,
                bits,
                curve,
                ..
            } => KeyDescription {
                algorithm: algorithm.clone(),
                bits: *bits,
                curve: curve.clone(),
            },
        }
    }

    /// The RFC 7638 members of the public JWK, in lexicographic order.
    pub fn thumbprint_input(&self) -> Option<String> {
        let b = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
        match self {
            PublicKey::Rsa { n, e } => {
                Some(format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(e), b(n)))
            }
            PublicKey::Ec { curve, point } => {
                let (x, y) = ec_coordinates(*curve, point)?;
                Some(format!(
                    r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                    curve.jwk_name(),
                    b(x),
                    b(y)
                ))
            }
            PublicKey::Ed25519 { key } => Some(format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                b(key)
            )),
            PublicKey::Other { .. } => None,
        }
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub fn jwk_thumbprint(&self) -> Option<String> {
        self.thumbprint_input()
            .map(|s| URL_SAFE_NO_PAD.encode(Sha256::digest(s.as_bytes())))
    }

    /// Parse a DER SubjectPublicKeyInfo.
    pub fn from_spki(der: &[u8]) -> Result<PublicKey, KeyError> {
        let m = malformed("SubjectPublicKeyInfo");
        let outer = asn1::parse_single(der)
            .and_then(|t| t.expect(tag::SEQUENCE, "a SubjectPublicKeyInfo SEQUENCE"))
            .map_err(m)?;
        let mut r = outer.reader();
        let (alg, params) = read_algorithm(&mut r).map_err(malformed("SubjectPublicKeyInfo"))?;
        let bits = r
            .expect(tag::BIT_STRING, "the public key BIT STRING")
            .and_then(|t| t.bit_string())
            .map_err(malformed("SubjectPublicKeyInfo"))?;
        public_from_parts(&alg, params.as_ref(), bits, der)
    }

    /// Why this key cannot sign, or `None` when it can.
    pub fn cannot_sign_reason(&self) -> Option<String> {
        let PublicKey::Other {
            algorithm, curve, ..
        } = self
        else {
            return None;
        };
        Some(match (algorithm.as_str(), curve.as_deref()) {
            ("DSA", _) => "DSA keys make no JWS signature (JWS has no DSA algorithm)".into(),
            ("Ed448", _) => "Ed448 signing is not supported by credkit's crypto library".into(),
            ("X25519" | "X448", _) => {
                format!("{algorithm} is a key-agreement key: it cannot sign at all")
            }
            ("EC", Some("secp256k1")) => "secp256k1 (ES256K) is not accepted by the token \
                                           endpoints credkit targets, and credkit does not sign with it"
                .into(),
            ("EC", Some(c)) => format!("EC keys on {c} cannot sign JWTs (JWS names only P-256, P-384 and P-521)"),
            _ => format!("{algorithm} keys cannot sign JWTs"),
        })
    }

    /// Parse a PKCS#1 RSAPublicKey.
    pub fn from_pkcs1_public(der: &[u8]) -> Result<PublicKey, KeyError> {
        rsa_public_from_pkcs1(der)
    }

    /// Encode as DER SubjectPublicKeyInfo (for known key types).
    pub fn to_spki(&self) -> Option<Vec<u8>> {
        let (alg, key_bits) = match self {
            PublicKey::Rsa { n, e } => {
                let alg = [
                    asn1::encode(tag::OID, &oid_bytes(oid::RSA)),
                    asn1::encode(tag::NULL, &[]),
                ]
                .concat();
                let pk = asn1::encode(tag::SEQUENCE, &[encode_uint(n), encode_uint(e)].concat());
                (alg, pk)
            }
            PublicKey::Ec { curve, point } => {
                let alg = [
                    asn1::encode(tag::OID, &oid_bytes(oid::EC)),
                    asn1::encode(tag::OID, &oid_bytes(curve.oid())),
                ]
                .concat();
                (alg, point.clone())
            }
            PublicKey::Ed25519 { key } => (
                asn1::encode(tag::OID, &oid_bytes(oid::ED25519)),
                key.clone(),
            ),
            PublicKey::Other { spki, .. } => return spki.clone(),
        };
        let mut bs = vec![0u8];
        bs.extend_from_slice(&key_bits);
        Some(asn1::encode(
            tag::SEQUENCE,
            &[
                asn1::encode(tag::SEQUENCE, &alg),
                asn1::encode(tag::BIT_STRING, &bs),
            ]
            .concat(),
        ))
    }
}

/// Split an uncompressed EC point into (x, y).
pub fn ec_coordinates(curve: Curve, point: &[u8]) -> Option<(&[u8], &[u8])> {
    let l = curve.coord_len();
    if point.len() != 1 + 2 * l || point.first() != Some(&0x04) {
        return None;
    }
    Some((&point[1..1 + l], &point[1 + l..]))
}

pub(crate) use crate::asn1::{encode_uint, oid_bytes};

/// Read an AlgorithmIdentifier: its OID and optional parameters.
pub(crate) fn read_algorithm<'a>(
    r: &mut Reader<'a>,
) -> asn1::Result<(String, Option<asn1::Tlv<'a>>)> {
    let seq = r.expect(tag::SEQUENCE, "an AlgorithmIdentifier SEQUENCE")?;
    let mut ar = seq.reader();
    let oid = ar.expect(tag::OID, "an algorithm OID")?.oid()?;
    let params = if ar.is_empty() {
        None
    } else {
        Some(ar.read()?)
    };
    Ok((oid, params))
}

fn algorithm_name(oid: &str) -> String {
    match oid {
        oid::DSA => "DSA".into(),
        oid::ED448 => "Ed448".into(),
        oid::X25519 => "X25519".into(),
        oid::X448 => "X448".into(),
        oid::RSA_PSS => "RSASSA-PSS".into(),
        other => format!("OID {other}"),
    }
}

fn public_from_parts(
    alg: &str,
    params: Option<&asn1::Tlv<'_>>,
    bits: &[u8],
    spki: &[u8],
) -> Result<PublicKey, KeyError> {
    match alg {
        oid::RSA | oid::RSA_PSS => rsa_public_from_pkcs1(bits),
        oid::EC => match ec_curve(params)? {
            EcCurve::Named(curve) => Ok(PublicKey::Ec {
                curve,
                point: bits.to_vec(),
            }),
            EcCurve::Other { name, bits: size } => Ok(PublicKey::Other {
                algorithm: "EC".into(),
                bits: size,
                curve: Some(name),
                spki: Some(spki.to_vec()),
            }),
        },
        oid::ED25519 => Ok(PublicKey::Ed25519 { key: bits.to_vec() }),
        oid::DSA => Ok(dsa::public(params, spki)),
        other => Ok(PublicKey::Other {
            algorithm: algorithm_name(other),
            bits: okp_bits(other),
            curve: None,
            spki: Some(spki.to_vec()),
        }),
    }
}

/// Key sizes of the OKP algorithms, as openssl counts them.
fn okp_bits(oid: &str) -> Option<u32> {
    match oid {
        oid::ED448 => Some(456),
        oid::X25519 => Some(253),
        oid::X448 => Some(448),
        _ => None,
    }
}

/// The fields of a SEC1 ECPrivateKey (RFC 5915).
struct Sec1 {
    d: Vec<u8>,
    /// The curve: the PKCS#8 algorithm's parameters, else the key's `[0]`.
    params_der: Vec<u8>,
    /// The `[1]` public point, when the key holds it.
    point: Option<Vec<u8>>,
}

impl Sec1 {
    fn read(der: &[u8], outer_params: Option<&asn1::Tlv<'_>>) -> Result<Sec1, KeyError> {
        let m = || malformed("SEC1 EC private key");
        let (mut r, version) = open_versioned(
            der,
            "SEC1 EC private key",
            "an ECPrivateKey SEQUENCE",
            "the version",
        )?;
        if version != 1 {
            return Err(KeyError::Invalid {
                what: "SEC1 EC private key",
                detail: format!("version {version} (expected 1)"),
            });
        }
        let d = r
            .expect(tag::OCTET_STRING, "the private value")
            .map_err(m())?
            .content
            .to_vec();
        let mut params_der: Option<Vec<u8>> = outer_params.map(|p| p.raw.to_vec());
        let mut point: Option<Vec<u8>> = None;
        while !r.is_empty() {
            let t = r.read().map_err(m())?;
            match t.tag {
                0xa0 => {
                    let c = asn1::parse_single(t.content).map_err(m())?;
                    params_der.get_or_insert(c.raw.to_vec());
                }
                0xa1 => {
                    let bits = asn1::parse_single(t.content)
                        .and_then(|b| b.bit_string().map(<[u8]>::to_vec))
                        .map_err(m())?;
                    point = Some(bits);
                }
                _ => {}
            }
        }
        let params_der = params_der.ok_or(KeyError::Invalid {
            what: "EC private key",
            detail: "no curve named".into(),
        })?;
        Ok(Sec1 {
            d,
            params_der,
            point,
        })
    }
}

/// The curve an EC key is on.
enum EcCurve {
    Named(Curve),
    Other { name: String, bits: Option<u32> },
}

/// Read EC parameters: a named curve OID, or explicit parameters (which are
/// recognised as P-256, P-384 or P-521 when they are exactly those).
fn ec_curve(params: Option<&asn1::Tlv<'_>>) -> Result<EcCurve, KeyError> {
    let Some(p) = params else {
        return Err(KeyError::Invalid {
            what: "EC key",
            detail: "no curve named".into(),
        });
    };
    match p.tag {
        tag::OID => {
            let oid = p.oid().map_err(malformed("EC parameters"))?;
            Ok(match Curve::from_oid(&oid) {
                Some(c) => EcCurve::Named(c),
                None => EcCurve::Other {
                    bits: (oid == oid::SECP256K1).then_some(256),
                    name: curve_name(&oid),
                },
            })
        }
        tag::SEQUENCE => match ec_params::recognise(p) {
            Some(ec_params::Explicit::Named(c)) => Ok(EcCurve::Named(c)),
            Some(ec_params::Explicit::Unknown { bits }) => Ok(EcCurve::Other {
                name: "explicit parameters".into(),
                bits: Some(bits),
            }),
            None => Err(KeyError::Invalid {
                what: "EC key",
                detail: "explicit curve parameters that cannot be read".into(),
            }),
        },
        other => Err(KeyError::Invalid {
            what: "EC key",
            detail: format!(
                "curve parameters of tag 0x{other:02x} (implicitlyCA is not supported)"
            ),
        }),
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        oid::SECP256K1 => "secp256k1".into(),
        o => format!("curve {o}"),
    }
}

fn rsa_public_from_pkcs1(der: &[u8]) -> Result<PublicKey, KeyError> {
    let m = || malformed("RSA public key");
    let seq = asn1::parse_single(der)
        .and_then(|t| t.expect(tag::SEQUENCE, "an RSAPublicKey SEQUENCE"))
        .map_err(m())?;
    let mut r = seq.reader();
    let n = r
        .expect(tag::INTEGER, "the modulus")
        .and_then(|t| t.uint_bytes())
        .map_err(m())?;
    let e = r
        .expect(tag::INTEGER, "the public exponent")
        .and_then(|t| t.uint_bytes())
        .map_err(m())?;
    Ok(PublicKey::Rsa {
        n: n.to_vec(),
        e: e.to_vec(),
    })
}

/// The outcome of looking at a PKCS#8 blob whose algorithm credkit cannot use.
fn unsupported(oid: &str) -> KeyError {
    KeyError::Unsupported {
        name: algorithm_name(oid),
    }
}

impl PrivateKey {
    /// Type and size of the key, for reports (those of its public half).
    pub fn describe(&self) -> KeyDescription {
        self.public.describe()
    }

    /// Parse an unencrypted PKCS#8 PrivateKeyInfo (v1 or v2/OneAsymmetricKey).
    pub fn from_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyError> {
        let m = || malformed("PKCS#8 private key");
        let (mut r, version) = open_versioned(
            der,
            "PKCS#8 private key",
            "a PrivateKeyInfo SEQUENCE",
            "the PKCS#8 version",
        )?;
        if version > 1 {
            return Err(KeyError::Invalid {
                what: "PKCS#8 private key",
                detail: format!("version {version} (expected 0 or 1)"),
            });
        }
        let (alg, params) = read_algorithm(&mut r).map_err(m())?;
        let inner = r
            .expect(tag::OCTET_STRING, "the private key OCTET STRING")
            .map_err(m())?
            .content;
        match alg.as_str() {
            oid::RSA | oid::RSA_PSS => {
                let mut k = Self::from_pkcs1(inner)?;
                k.pkcs8 = der.to_vec();
                Ok(k)
            }
            oid::EC => {
                let mut k = Self::from_sec1_with_curve(inner, params.as_ref())?;
                // A named-curve key keeps its bytes; explicit parameters are
                // rewritten to the named curve they are (aws-lc signs only those).
                if params.is_some_and(|p| p.tag == tag::OID) {
                    k.pkcs8 = der.to_vec();
                }
                Ok(k)
            }
            oid::DSA => dsa::from_pkcs8(params.as_ref(), inner),
            oid::ED448 | oid::X25519 | oid::X448 => {
                // OneAsymmetricKey v2 may carry the public key as [1].
                let mut public = None;
                while !r.is_empty() {
                    let t = r.read().map_err(m())?;
                    if t.tag == 0x81 {
                        public = t.content.split_first().map(|(_, k)| k.to_vec());
                    }
                }
                Ok(okp_private(&alg, inner, public, der))
            }
            oid::ED25519 => {
                let seed = asn1::parse_single(inner)
                    .and_then(|t| t.expect(tag::OCTET_STRING, "the Ed25519 seed"))
                    .map_err(m())?
                    .content;
                if seed.len() != 32 {
                    return Err(KeyError::Invalid {
                        what: "Ed25519 private key",
                        detail: format!("seed of {} bytes (expected 32)", seed.len()),
                    });
                }
                let kp = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed).map_err(
                    |e| KeyError::Invalid {
                        what: "Ed25519 private key",
                        detail: e.to_string(),
                    },
                )?;
                use aws_lc_rs::signature::KeyPair;
                Ok(PrivateKey {
                    pkcs8: der.to_vec(),
                    params: PrivateParams::Ed25519 {
                        seed: seed.to_vec(),
                    },
                    public: PublicKey::Ed25519 {
                        key: kp.public_key().as_ref().to_vec(),
                    },
                })
            }
            other => Err(unsupported(other)),
        }
    }

    /// Parse a PKCS#1 RSAPrivateKey.
    pub fn from_pkcs1(der: &[u8]) -> Result<PrivateKey, KeyError> {
        let m = || malformed("PKCS#1 RSA private key");
        let (mut r, version) = open_versioned(
            der,
            "PKCS#1 RSA private key",
            "an RSAPrivateKey SEQUENCE",
            "the version",
        )?;
        if version != 0 {
            return Err(KeyError::Unsupported {
                name: "multi-prime RSA".into(),
            });
        }
        let mut ints = Vec::with_capacity(8);
        for what in [
            "the modulus",
            "the public exponent",
            "the private exponent",
            "prime 1",
            "prime 2",
            "exponent 1",
            "exponent 2",
            "the coefficient",
        ] {
            ints.push(
                r.expect(tag::INTEGER, what)
                    .and_then(|t| t.uint_bytes())
                    .map_err(m())?
                    .to_vec(),
            );
        }
        let mut it = ints.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let rsa = RsaPrivate {
            n: next(),
            e: next(),
            d: next(),
            p: next(),
            q: next(),
            dp: next(),
            dq: next(),
            qi: next(),
        };
        if rsa.n.is_empty() || rsa.e.is_empty() {
            return Err(KeyError::Invalid {
                what: "RSA private key",
                detail: "zero modulus or exponent".into(),
            });
        }
        check_rsa_consistency(&rsa)?;
        let public = PublicKey::Rsa {
            n: rsa.n.clone(),
            e: rsa.e.clone(),
        };
        let pkcs8 = wrap_pkcs8(
            &[
                asn1::encode(tag::OID, &oid_bytes(oid::RSA)),
                asn1::encode(tag::NULL, &[]),
            ]
            .concat(),
            der,
        );
        Ok(PrivateKey {
            pkcs8,
            params: PrivateParams::Rsa(rsa),
            public,
        })
    }

    /// Parse a SEC1 ECPrivateKey (the curve must be inside it).
    pub fn from_sec1(der: &[u8]) -> Result<PrivateKey, KeyError> {
        Self::from_sec1_with_curve(der, None)
    }

    fn from_sec1_with_curve(
        der: &[u8],
        outer_params: Option<&asn1::Tlv<'_>>,
    ) -> Result<PrivateKey, KeyError> {
        let m = || malformed("SEC1 EC private key");
        let sec1 = Sec1::read(der, outer_params)?;
        let params_tlv = asn1::parse_single(&sec1.params_der).map_err(m())?;
        match ec_curve(Some(&params_tlv))? {
            EcCurve::Named(curve) => Self::named_curve_key(curve, sec1.d, sec1.point),
            EcCurve::Other { name, bits } => Ok(Self::other_curve_key(der, sec1, name, bits)),
        }
    }

    /// A key on a curve credkit does not use: shown, not used; the public
    /// point is kept when the key holds it.
    fn other_curve_key(der: &[u8], sec1: Sec1, name: String, bits: Option<u32>) -> PrivateKey {
        let Sec1 {
            params_der, point, ..
        } = sec1;
        let spki = point.as_ref().map(|p| {
            let mut bs = vec![0u8];
            bs.extend_from_slice(p);
            asn1::seq(&[
                asn1::seq(&[asn1::oid(oid::EC), params_der.clone()]),
                asn1::encode(tag::BIT_STRING, &bs),
            ])
        });
        PrivateKey {
            pkcs8: wrap_pkcs8(&[asn1::oid(oid::EC), params_der.clone()].concat(), der),
            params: PrivateParams::Unusable {
                algorithm: format!("EC {name}"),
            },
            public: PublicKey::Other {
                algorithm: "EC".into(),
                bits,
                curve: Some(name),
                spki,
            },
        }
    }

    /// A key on a named curve, its embedded public point (if any) checked
    /// against the private value, in canonical PKCS#8.
    fn named_curve_key(
        curve: Curve,
        d: Vec<u8>,
        point: Option<Vec<u8>>,
    ) -> Result<PrivateKey, KeyError> {
        let derived = derive_ec_public(curve, &d)?;
        if let Some(p) = &point
            && *p != derived
        {
            return Err(KeyError::Invalid {
                what: "EC private key",
                detail: "the embedded public key does not belong to the private value".into(),
            });
        }
        // Canonical PKCS#8: SEC1 without the curve parameter (it is in the algorithm).
        let mut sec1 = vec![];
        sec1.extend_from_slice(&asn1::encode(tag::INTEGER, &[1]));
        sec1.extend_from_slice(&asn1::encode(tag::OCTET_STRING, &d));
        let mut bs = vec![0u8];
        bs.extend_from_slice(&derived);
        sec1.extend_from_slice(&asn1::encode(0xa1, &asn1::encode(tag::BIT_STRING, &bs)));
        let pkcs8 = wrap_pkcs8(
            &[
                asn1::encode(tag::OID, &oid_bytes(oid::EC)),
                asn1::encode(tag::OID, &oid_bytes(curve.oid())),
            ]
            .concat(),
            &asn1::encode(tag::SEQUENCE, &sec1),
        );
        Ok(PrivateKey {
            pkcs8,
            params: PrivateParams::Ec { curve, d },
            public: PublicKey::Ec {
                curve,
                point: derived,
            },
        })
    }

    /// Build from raw EC parameters (JWK `d`), deriving the public point.
    pub fn from_ec_private(curve: Curve, d: &[u8]) -> Result<PrivateKey, KeyError> {
        let mut sec1 = vec![];
        sec1.extend_from_slice(&asn1::encode(tag::INTEGER, &[1]));
        sec1.extend_from_slice(&asn1::encode(tag::OCTET_STRING, d));
        sec1.extend_from_slice(&asn1::encode(
            0xa0,
            &asn1::encode(tag::OID, &oid_bytes(curve.oid())),
        ));
        Self::from_sec1(&asn1::encode(tag::SEQUENCE, &sec1))
    }

    /// Build from an Ed25519 seed.
    pub fn from_ed25519_seed(seed: &[u8]) -> Result<PrivateKey, KeyError> {
        let inner = asn1::encode(tag::OCTET_STRING, seed);
        let pkcs8 = wrap_pkcs8(&asn1::encode(tag::OID, &oid_bytes(oid::ED25519)), &inner);
        Self::from_pkcs8(&pkcs8)
    }

    /// Build from RSA parameters (JWK).
    pub fn from_rsa_private(k: &RsaPrivate) -> Result<PrivateKey, KeyError> {
        let body = [
            asn1::encode(tag::INTEGER, &[0]),
            encode_uint(&k.n),
            encode_uint(&k.e),
            encode_uint(&k.d),
            encode_uint(&k.p),
            encode_uint(&k.q),
            encode_uint(&k.dp),
            encode_uint(&k.dq),
            encode_uint(&k.qi),
        ]
        .concat();
        Self::from_pkcs1(&asn1::encode(tag::SEQUENCE, &body))
    }

    /// Can credkit sign with this key (RSA, EC P-256/384/521, Ed25519)?
    pub fn is_usable(&self) -> bool {
        !matches!(self.params, PrivateParams::Unusable { .. })
    }

    /// Does this key belong to the given public key?
    pub fn matches(&self, public: &PublicKey) -> bool {
        self.public == *public
    }
}

/// Do the parts of an RSA private key belong together? n = p·q,
/// d·e ≡ 1 mod (p−1) and mod (q−1) (so d inverts e modulo λ(n)), and the CRT
/// values dp = d mod (p−1), dq = d mod (q−1), qi·q ≡ 1 mod p. A corrupted
/// `d`, `p` or `q` would otherwise be read, converted and used to sign.
fn check_rsa_consistency(k: &RsaPrivate) -> Result<(), KeyError> {
    use crypto_bigint::{BoxedUint, ConcatenatingMul, NonZero};
    let invalid = |detail: &str| KeyError::Invalid {
        what: "RSA private key",
        detail: detail.into(),
    };
    let trim = |b: &[u8]| -> Vec<u8> {
        let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b[start..].to_vec()
    };
    let value = |b: &[u8]| BoxedUint::from_be_slice_vartime(&trim(b));
    let same = |a: &BoxedUint, b: &[u8]| trim(&a.to_be_bytes()) == trim(b);
    let is_one = |a: &BoxedUint| trim(&a.to_be_bytes()) == [1];
    // The primes must be at least 2, so that p − 1 is not zero.
    for (name, x) in [("p", &k.p), ("q", &k.q), ("d", &k.d)] {
        let t = trim(x);
        if t.is_empty() || t == [1] {
            return Err(invalid(&format!("{name} is 0 or 1")));
        }
    }
    let (p, q, d, e) = (value(&k.p), value(&k.q), value(&k.d), value(&k.e));
    if !same(&p.concatenating_mul(&q), &k.n) {
        return Err(invalid("the modulus n is not p·q (a damaged p, q or n)"));
    }
    let minus_one = |x: &BoxedUint| {
        NonZero::new(x.wrapping_sub(BoxedUint::one()))
            .into_option()
            .ok_or_else(|| invalid("a prime is 1"))
    };
    let (p1, q1) = (minus_one(&p)?, minus_one(&q)?);
    let de = d.concatenating_mul(&e);
    if !is_one(&de.rem(&p1)) || !is_one(&de.rem(&q1)) {
        return Err(invalid(
            "the private exponent d does not invert e (a damaged d, e, p or q)",
        ));
    }
    if !same(&d.rem(&p1), &k.dp) || !same(&d.rem(&q1), &k.dq) {
        return Err(invalid(
            "the CRT exponents dp and dq do not match d mod (p−1) and d mod (q−1)",
        ));
    }
    let pn = NonZero::new(p.clone())
        .into_option()
        .ok_or_else(|| invalid("p is 0"))?;
    if !is_one(&value(&k.qi).concatenating_mul(&q).rem(&pn)) {
        return Err(invalid(
            "the CRT coefficient qi is not the inverse of q mod p",
        ));
    }
    Ok(())
}

fn wrap_pkcs8(alg_content: &[u8], private_key: &[u8]) -> Vec<u8> {
    asn1::encode(
        tag::SEQUENCE,
        &[
            asn1::encode(tag::INTEGER, &[0]),
            asn1::encode(tag::SEQUENCE, alg_content),
            asn1::encode(tag::OCTET_STRING, private_key),
        ]
        .concat(),
    )
}

/// An Ed448, X25519 or X448 private key: shown, not used. The public key is
/// derived for X25519 (aws-lc can), else taken from the key when present.
fn okp_private(alg: &str, inner: &[u8], public: Option<Vec<u8>>, der: &[u8]) -> PrivateKey {
    let public = public.or_else(|| {
        if alg != oid::X25519 {
            return None;
        }
        let raw = asn1::parse_single(inner)
            .and_then(|t| t.expect(tag::OCTET_STRING, "the private key"))
            .ok()?;
        let k = aws_lc_rs::agreement::PrivateKey::from_private_key(
            &aws_lc_rs::agreement::X25519,
            raw.content,
        )
        .ok()?;
        Some(k.compute_public_key().ok()?.as_ref().to_vec())
    });
    let spki = public.map(|p| {
        let mut bs = vec![0u8];
        bs.extend_from_slice(&p);
        asn1::seq(&[
            asn1::seq(&[asn1::oid(alg)]),
            asn1::encode(tag::BIT_STRING, &bs),
        ])
    });
    let name = algorithm_name(alg);
    PrivateKey {
        pkcs8: der.to_vec(),
        params: PrivateParams::Unusable {
            algorithm: name.clone(),
        },
        public: PublicKey::Other {
            algorithm: name,
            bits: okp_bits(alg),
            curve: None,
            spki,
        },
    }
}

/// Compute the uncompressed public point for an EC private value.
fn derive_ec_public(curve: Curve, d: &[u8]) -> Result<Vec<u8>, KeyError> {
    use aws_lc_rs::signature::{self, KeyPair};
    let alg = match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
    };
    // Left-pad the private value to the curve size, as SEC1 requires.
    let l = curve.coord_len();
    let d = {
        let start = d.iter().position(|b| *b != 0).unwrap_or(d.len());
        let mag = &d[start..];
        if mag.len() > l {
            return Err(KeyError::Invalid {
                what: "EC private key",
                detail: format!("private value longer than {l} bytes"),
            });
        }
        let mut v = vec![0u8; l - mag.len()];
        v.extend_from_slice(mag);
        v
    };
    let sec1 = asn1::encode(
        tag::SEQUENCE,
        &[
            asn1::encode(tag::INTEGER, &[1]),
            asn1::encode(tag::OCTET_STRING, &d),
            asn1::encode(0xa0, &asn1::encode(tag::OID, &oid_bytes(curve.oid()))),
        ]
        .concat(),
    );
    let kp = signature::EcdsaKeyPair::from_private_key_der(alg, &sec1).map_err(|e| {
        KeyError::Invalid {
            what: "EC private key",
            detail: e.to_string(),
        }
    })?;
    Ok(kp.public_key().as_ref().to_vec())
}

/// SHA-1 and SHA-256 helpers used by fingerprints and `x5t`.
pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_encoding_roundtrips() {
        for o in [oid::RSA, oid::EC, oid::P384, oid::ED25519, "2.5.4.97"] {
            assert_eq!(asn1::oid_to_string(&oid_bytes(o)).as_deref(), Some(o));
        }
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // The RSA example from RFC 7638 section 3.1.
        let n = URL_SAFE_NO_PAD
            .decode("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
            .expect("b64");
        let k = PublicKey::Rsa {
            n,
            e: vec![1, 0, 1],
        };
        assert_eq!(
            k.jwk_thumbprint().as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    #[test]
    fn debug_redacts_private_values() {
        let k = PrivateKey::from_ec_private(Curve::P256, &[0x5e; 32]).expect("key");
        let d = format!("{k:?}");
        assert!(d.contains("<redacted>"), "{d}");
        assert!(!d.contains("94, 94"), "the private value shows: {d}");
        assert!(!d.contains("pkcs8: ["), "{d}");
    }

    #[test]
    fn ec_public_is_derived() {
        // d = 1 gives the generator point of P-256.
        let k = PrivateKey::from_ec_private(Curve::P256, &[1]).expect("key");
        let PublicKey::Ec { point, .. } = &k.public else {
            panic!("not EC")
        };
        assert_eq!(point[1], 0x6b); // Gx starts 6B17D1F2
        assert_eq!(k.describe().to_string(), "EC P-256");
        // The canonical PKCS#8 parses back to the same key.
        let again = PrivateKey::from_pkcs8(&k.pkcs8).expect("pkcs8");
        assert_eq!(again.public, k.public);
    }
    /// The four readers that open `SEQUENCE { version, ... }` through
    /// `open_versioned` keep their own error for a wrong version, and a
    /// reading failure names the format and the element.
    #[test]
    fn versioned_readers_keep_their_errors() {
        let with_version = |v: u8| asn1::seq(&[asn1::encode(tag::INTEGER, &[v])]);
        // A wrong version: each format answers in its own way.
        let e = PrivateKey::from_pkcs1(&with_version(1)).expect_err("multi-prime");
        assert!(
            matches!(&e, KeyError::Unsupported { name } if name == "multi-prime RSA"),
            "{e:?}"
        );
        let e = PrivateKey::from_sec1(&with_version(2)).expect_err("sec1 v2");
        assert!(
            matches!(&e, KeyError::Invalid { what: "SEC1 EC private key", detail }
                if detail == "version 2 (expected 1)"),
            "{e:?}"
        );
        let e = dsa::from_traditional(&with_version(3)).expect_err("dsa v3");
        assert!(
            matches!(&e, KeyError::Invalid { what: "DSA private key", detail }
                if detail == "version 3 (expected 0)"),
            "{e:?}"
        );
        let e = PrivateKey::from_pkcs8(&with_version(2)).expect_err("pkcs8 v2");
        assert!(
            matches!(&e, KeyError::Invalid { what: "PKCS#8 private key", detail }
                if detail == "version 2 (expected 0 or 1)"),
            "{e:?}"
        );
        // Not a SEQUENCE, or something else where the version belongs:
        // Malformed, named per format and element.
        let not_seq = asn1::encode(tag::INTEGER, &[0]);
        let no_version = asn1::seq(&[asn1::encode(tag::OCTET_STRING, &[0])]);
        for (what, read) in [
            (
                "PKCS#1 RSA private key",
                PrivateKey::from_pkcs1 as fn(&[u8]) -> Result<PrivateKey, KeyError>,
            ),
            ("SEC1 EC private key", PrivateKey::from_sec1),
            ("DSA private key", dsa::from_traditional),
            ("PKCS#8 private key", PrivateKey::from_pkcs8),
        ] {
            let e = read(&not_seq).expect_err("not a sequence");
            assert!(
                matches!(&e, KeyError::Malformed { what: w, source }
                    if *w == what && source.expected.contains("SEQUENCE (tag 0x30)")),
                "{what}: {e:?}"
            );
            let e = read(&no_version).expect_err("no version");
            assert!(
                matches!(&e, KeyError::Malformed { what: w, source }
                    if *w == what && source.expected.contains("version (tag 0x02)")),
                "{what}: {e:?}"
            );
        }
    }
}
