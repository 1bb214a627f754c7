//! DSA (FIPS 186): keys are read and shown, never used to sign (no JWS
//! algorithm uses DSA). Signatures on certificates are verified, with the
//! modular arithmetic of `crypto-bigint` (already in the tree under `rsa`).

use super::{
    KeyError, PrivateKey, PrivateParams, PublicKey, bit_len, malformed, oid, open_versioned,
};
use crate::asn1::{self, Tlv, tag};
use crypto_bigint::{BoxedUint, NonZero, Odd};

/// Largest DSA modulus credkit computes with (FIPS 186 stops at 3072 bits).
const MAX_P_BITS: u32 = 8192;

/// The domain parameters (p, q, g) as unsigned magnitudes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DsaParams {
    pub(crate) p: Vec<u8>,
    pub(crate) q: Vec<u8>,
    pub(crate) g: Vec<u8>,
}

impl DsaParams {
    /// Read `Dss-Parms ::= SEQUENCE { p, q, g }`.
    pub(crate) fn from_tlv(t: &Tlv<'_>) -> Result<DsaParams, KeyError> {
        let m = || malformed("DSA parameters");
        let seq = t
            .expect(tag::SEQUENCE, "the DSA parameters SEQUENCE")
            .map_err(m())?;
        let mut r = seq.reader();
        let mut int = |what: &str| {
            r.expect(tag::INTEGER, what)
                .and_then(|t| t.uint_bytes())
                .map(<[u8]>::to_vec)
                .map_err(m())
        };
        let params = DsaParams {
            p: int("the prime p")?,
            q: int("the subprime q")?,
            g: int("the generator g")?,
        };
        params.check()?;
        Ok(params)
    }

    fn check(&self) -> Result<(), KeyError> {
        let bits = bit_len(&self.p);
        if bits > MAX_P_BITS {
            return Err(KeyError::Invalid {
                what: "DSA parameters",
                detail: format!("a {bits}-bit prime (credkit reads up to {MAX_P_BITS})"),
            });
        }
        if bit_len(&self.q) == 0 || bit_len(&self.q) > bits || bit_len(&self.g) == 0 {
            return Err(KeyError::Invalid {
                what: "DSA parameters",
                detail: "q or g is zero or larger than p".into(),
            });
        }
        Ok(())
    }

    /// Size of p in bits: what "DSA 2048" means.
    pub(crate) fn bits(&self) -> u32 {
        bit_len(&self.p)
    }

    fn encode(&self) -> Vec<u8> {
        asn1::seq(&[
            asn1::encode_uint(&self.p),
            asn1::encode_uint(&self.q),
            asn1::encode_uint(&self.g),
        ])
    }
}

/// The SubjectPublicKeyInfo of a DSA public value, as openssl writes it.
pub(crate) fn spki(params: &DsaParams, y: &[u8]) -> Vec<u8> {
    let alg = asn1::seq(&[asn1::oid(oid::DSA), params.encode()]);
    let mut bits = vec![0u8];
    bits.extend_from_slice(&asn1::encode_uint(y));
    asn1::seq(&[alg, asn1::encode(tag::BIT_STRING, &bits)])
}

/// The public key of a DSA SubjectPublicKeyInfo (`params` may be absent
/// when inherited from the issuer; then the key is named without a size).
pub(crate) fn public(params: Option<&Tlv<'_>>, spki_der: &[u8]) -> PublicKey {
    let bits = params
        .filter(|p| p.tag == tag::SEQUENCE)
        .and_then(|p| DsaParams::from_tlv(p).ok())
        .map(|p| p.bits());
    PublicKey::Other {
        algorithm: "DSA".into(),
        bits,
        curve: None,
        spki: Some(spki_der.to_vec()),
    }
}

/// The key, with a PKCS#8 encoding as openssl writes it (so `convert` can
/// carry it to PEM, PKCS#12 and JKS, which hold DSA keys).
fn unusable(params: &DsaParams, y: &[u8], x: &[u8]) -> PrivateKey {
    let pkcs8 = asn1::seq(&[
        asn1::encode(tag::INTEGER, &[0]),
        asn1::seq(&[asn1::oid(oid::DSA), params.encode()]),
        asn1::encode(tag::OCTET_STRING, &asn1::encode_uint(x)),
    ]);
    PrivateKey {
        pkcs8,
        params: PrivateParams::Unusable {
            algorithm: "DSA".into(),
        },
        public: PublicKey::Other {
            algorithm: "DSA".into(),
            bits: Some(params.bits()),
            curve: None,
            spki: Some(spki(params, y)),
        },
    }
}

/// A PKCS#8 DSA key: the parameters are in the algorithm, the private value
/// x is an INTEGER; the public value is g^x mod p.
pub(crate) fn from_pkcs8(params: Option<&Tlv<'_>>, inner: &[u8]) -> Result<PrivateKey, KeyError> {
    let params = params.ok_or(KeyError::Invalid {
        what: "DSA private key",
        detail: "no domain parameters".into(),
    })?;
    let params = DsaParams::from_tlv(params)?;
    let x = asn1::parse_single(inner)
        .and_then(|t| t.expect(tag::INTEGER, "the private value x"))
        .and_then(|t| t.uint_bytes())
        .map_err(malformed("DSA private key"))?;
    let y = derive_y(&params, x)?;
    Ok(unusable(&params, &y, x))
}

/// OpenSSL's traditional `DSA PRIVATE KEY`: SEQUENCE { 0, p, q, g, y, x }.
pub fn from_traditional(der: &[u8]) -> Result<PrivateKey, KeyError> {
    let m = || malformed("DSA private key");
    let (mut r, version) = open_versioned(
        der,
        "DSA private key",
        "a DSAPrivateKey SEQUENCE",
        "the version",
    )?;
    if version != 0 {
        return Err(KeyError::Invalid {
            what: "DSA private key",
            detail: format!("version {version} (expected 0)"),
        });
    }
    let mut ints = Vec::with_capacity(5);
    for what in [
        "the prime p",
        "the subprime q",
        "the generator g",
        "the public value y",
        "the private value x",
    ] {
        ints.push(
            r.expect(tag::INTEGER, what)
                .and_then(|t| t.uint_bytes())
                .map_err(m())?
                .to_vec(),
        );
    }
    r.finish("the DSA private key").map_err(m())?;
    let [p, q, g, y, x]: [Vec<u8>; 5] = ints.try_into().map_err(|_| KeyError::Invalid {
        what: "DSA private key",
        detail: "missing values".into(),
    })?;
    let params = DsaParams { p, q, g };
    params.check()?;
    if derive_y(&params, &x)? != strip(&y) {
        return Err(KeyError::Invalid {
            what: "DSA private key",
            detail: "the public value does not belong to the private value".into(),
        });
    }
    Ok(unusable(&params, &y, &x))
}

/// Build a DSA key from its parts (OpenSSH `ssh-dss`).
pub(crate) fn from_parts(params: DsaParams, y: &[u8], x: &[u8]) -> Result<PrivateKey, KeyError> {
    params.check()?;
    if derive_y(&params, x)? != strip(y) {
        return Err(KeyError::Invalid {
            what: "DSA private key",
            detail: "the public value does not belong to the private value".into(),
        });
    }
    Ok(unusable(&params, y, x))
}

fn strip(b: &[u8]) -> Vec<u8> {
    let n = b.iter().take_while(|x| **x == 0).count();
    b[n..].to_vec()
}

/// Numbers of one precision: p's size rounded up to whole 64-bit limbs.
struct Field {
    precision: u32,
    p: Odd<BoxedUint>,
    q: Odd<BoxedUint>,
    g: BoxedUint,
}

impl Field {
    fn new(params: &DsaParams) -> Result<Field, KeyError> {
        let precision = params.bits().div_ceil(64).max(1) * 64;
        let bad = || KeyError::Invalid {
            what: "DSA parameters",
            detail: "p or q is even, or g is not below p".into(),
        };
        let num = |b: &[u8]| BoxedUint::from_be_slice(&strip(b), precision).map_err(|_| bad());
        let p = Option::<Odd<BoxedUint>>::from(Odd::new(num(&params.p)?)).ok_or_else(bad)?;
        let q = Option::<Odd<BoxedUint>>::from(Odd::new(num(&params.q)?)).ok_or_else(bad)?;
        let g = num(&params.g)?;
        if g >= *p.as_ref() {
            return Err(bad());
        }
        Ok(Field { precision, p, q, g })
    }

    fn num(&self, b: &[u8]) -> Option<BoxedUint> {
        BoxedUint::from_be_slice(&strip(b), self.precision).ok()
    }
}

fn derive_y(params: &DsaParams, x: &[u8]) -> Result<Vec<u8>, KeyError> {
    let f = Field::new(params)?;
    let x = f
        .num(x)
        .filter(|x| x < f.q.as_ref())
        .ok_or(KeyError::Invalid {
            what: "DSA private key",
            detail: "the private value is not below q".into(),
        })?;
    Ok(strip(&f.g.pow_mod(&x, &f.p).to_be_bytes()))
}

/// Verify a DER `Dss-Sig-Value` over an already hashed message with the
/// key in a DSA SubjectPublicKeyInfo. `None` when the key cannot be read.
pub(crate) fn verify_prehashed(spki_der: &[u8], hash: &[u8], sig: &[u8]) -> Option<bool> {
    let outer = asn1::parse_single(spki_der).ok()?;
    let mut r = outer.reader();
    let (alg, params) = super::read_algorithm(&mut r).ok()?;
    if alg != oid::DSA {
        return None;
    }
    let params = DsaParams::from_tlv(&params?).ok()?;
    let y_bits = r
        .expect(tag::BIT_STRING, "the key")
        .ok()?
        .bit_string()
        .ok()?;
    let y = asn1::parse_single(y_bits).ok()?.uint_bytes().ok()?.to_vec();
    let f = Field::new(&params).ok()?;
    let y = f.num(&y)?;
    if y >= *f.p.as_ref() {
        return Some(false);
    }
    let Ok(sig) = asn1::parse_single(sig).and_then(|t| t.expect(tag::SEQUENCE, "Dss-Sig-Value"))
    else {
        return Some(false);
    };
    let mut sr = sig.reader();
    let (Ok(rv), Ok(sv)) = (
        sr.expect(tag::INTEGER, "r").and_then(|t| t.uint_bytes()),
        sr.expect(tag::INTEGER, "s").and_then(|t| t.uint_bytes()),
    ) else {
        return Some(false);
    };
    let q = f.q.as_ref();
    let zero = BoxedUint::zero_with_precision(f.precision);
    let (Some(rn), Some(sn)) = (f.num(rv), f.num(sv)) else {
        return Some(false);
    };
    if rn == zero || sn == zero || rn >= *q || sn >= *q {
        return Some(false);
    }
    // z: the leftmost min(N, outlen) bits of the hash.
    let n_bits = bit_len(&params.q) as usize;
    let z = if hash.len() * 8 > n_bits {
        let bytes = n_bits.div_ceil(8);
        let mut v = hash[..bytes].to_vec();
        let extra = bytes * 8 - n_bits;
        if extra > 0 {
            // Shift right by `extra` bits across the bytes.
            let mut carry = 0u8;
            for b in v.iter_mut() {
                let next = *b << (8 - extra);
                *b = (*b >> extra) | carry;
                carry = next;
            }
        }
        v
    } else {
        hash.to_vec()
    };
    let z = f.num(&z)?;
    let q_nz = Option::<NonZero<BoxedUint>>::from(NonZero::new(q.clone()))?;
    let w = Option::<BoxedUint>::from(sn.invert_odd_mod(&f.q))?;
    let u1 = z.mul_mod(&w, &q_nz);
    let u2 = rn.mul_mod(&w, &q_nz);
    let p_nz = Option::<NonZero<BoxedUint>>::from(NonZero::new(f.p.as_ref().clone()))?;
    let v =
        f.g.pow_mod(&u1, &f.p)
            .mul_mod(&y.pow_mod(&u2, &f.p), &p_nz)
            .rem(&q_nz);
    Some(v == rn)
}
