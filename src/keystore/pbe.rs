//! Password-based encryption as keystores use it: PBES2 (PBKDF2 + AES or
//! 3DES), the PKCS#12 PBE schemes (3DES, RC2), PKCS#5 v1.5 PBES1, the
//! PKCS#12 MAC key derivation, and OpenSSL's legacy PEM encryption.

use crate::asn1::{self, Tlv, tag};
use crate::key::read_algorithm;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, InnerIvInit, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

/// Highest PBKDF2 / PKCS#12 KDF iteration count accepted from a file.
pub(crate) const MAX_ITERATIONS: u64 = 10_000_000;

pub(crate) mod oid {
    pub(crate) const PBES2: &str = "1.2.840.113549.1.5.13";
    pub(crate) const PBKDF2: &str = "1.2.840.113549.1.5.12";
    pub(crate) const PBMAC1: &str = "1.2.840.113549.1.5.14";
    pub(crate) const SCRYPT: &str = "1.3.6.1.4.1.11591.4.11";
    pub(crate) const PBE_SHA1_RC4_128: &str = "1.2.840.113549.1.12.1.1";
    pub(crate) const PBE_SHA1_RC4_40: &str = "1.2.840.113549.1.12.1.2";
    pub(crate) const PBE_SHA1_3DES: &str = "1.2.840.113549.1.12.1.3";
    pub(crate) const PBE_SHA1_2DES: &str = "1.2.840.113549.1.12.1.4";
    pub(crate) const PBE_SHA1_RC2_128: &str = "1.2.840.113549.1.12.1.5";
    pub(crate) const PBE_SHA1_RC2_40: &str = "1.2.840.113549.1.12.1.6";
    pub(crate) const PBE_MD5_DES: &str = "1.2.840.113549.1.5.3";
    pub(crate) const PBE_SHA1_DES: &str = "1.2.840.113549.1.5.10";
    pub(crate) const AES128_CBC: &str = "2.16.840.1.101.3.4.1.2";
    pub(crate) const AES192_CBC: &str = "2.16.840.1.101.3.4.1.22";
    pub(crate) const AES256_CBC: &str = "2.16.840.1.101.3.4.1.42";
    pub(crate) const DES_EDE3_CBC: &str = "1.2.840.113549.3.7";
    pub(crate) const DES_CBC: &str = "1.3.14.3.2.7";
    pub(crate) const HMAC_SHA1: &str = "1.2.840.113549.2.7";
    pub(crate) const HMAC_SHA224: &str = "1.2.840.113549.2.8";
    pub(crate) const HMAC_SHA256: &str = "1.2.840.113549.2.9";
    pub(crate) const HMAC_SHA384: &str = "1.2.840.113549.2.10";
    pub(crate) const HMAC_SHA512: &str = "1.2.840.113549.2.11";
    pub(crate) const SHA1: &str = "1.3.14.3.2.26";
    pub(crate) const SHA224: &str = "2.16.840.1.101.3.4.2.4";
    pub(crate) const SHA256: &str = "2.16.840.1.101.3.4.2.1";
    pub(crate) const SHA384: &str = "2.16.840.1.101.3.4.2.2";
    pub(crate) const SHA512: &str = "2.16.840.1.101.3.4.2.3";
}

/// Why decryption or key derivation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PbeError {
    #[error("unsupported {what}: {name}")]
    Unsupported { what: &'static str, name: String },
    #[error("malformed encryption parameters: {0}")]
    Malformed(#[from] asn1::Asn1Error),
    #[error("iteration count {count} is larger than credkit accepts ({MAX_ITERATIONS})")]
    TooManyIterations { count: u64 },
    /// Bad padding after decryption: the usual sign of a wrong password.
    #[error("decryption failed (wrong password or corrupted data)")]
    Decrypt,
}

/// A description of how something is protected, like `openssl pkcs12 -info`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PbeInfo {
    /// `PBES2`, `pbeWithSHA1And3-KeyTripleDES-CBC`, ...
    pub scheme: String,
    /// `PBKDF2` or `PKCS#12 KDF (SHA-1)`.
    pub kdf: String,
    /// PRF for PBKDF2, e.g. `hmacWithSHA256`.
    pub prf: Option<String>,
    /// `AES-256-CBC`, `DES-EDE3-CBC`, `RC2-40-CBC`, ...
    pub cipher: String,
    /// KDF iteration count.
    pub iterations: u64,
}

impl std::fmt::Display for PbeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scheme == "PBES2" {
            write!(
                f,
                "PBES2, {}, {}, {}, {} iterations",
                self.kdf,
                self.prf.as_deref().unwrap_or("hmacWithSHA1"),
                self.cipher,
                self.iterations
            )
        } else {
            write!(f, "{}, {} iterations", self.scheme, self.iterations)
        }
    }
}

fn check_iterations(count: u64) -> Result<u32, PbeError> {
    if count == 0 || count > MAX_ITERATIONS {
        return Err(PbeError::TooManyIterations { count });
    }
    Ok(count as u32)
}

/// Hash functions usable in the PKCS#12 KDF and HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub(crate) fn from_digest_oid(oid: &str) -> Option<HashAlg> {
        Some(match oid {
            oid::SHA1 => HashAlg::Sha1,
            oid::SHA224 => HashAlg::Sha224,
            oid::SHA256 => HashAlg::Sha256,
            oid::SHA384 => HashAlg::Sha384,
            oid::SHA512 => HashAlg::Sha512,
            _ => return None,
        })
    }
    pub(crate) fn from_hmac_oid(oid: &str) -> Option<HashAlg> {
        Some(match oid {
            oid::HMAC_SHA1 => HashAlg::Sha1,
            oid::HMAC_SHA224 => HashAlg::Sha224,
            oid::HMAC_SHA256 => HashAlg::Sha256,
            oid::HMAC_SHA384 => HashAlg::Sha384,
            oid::HMAC_SHA512 => HashAlg::Sha512,
            _ => return None,
        })
    }
    pub(crate) fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha224 => "sha224",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
        }
    }
    pub(crate) fn hmac_name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "hmacWithSHA1",
            HashAlg::Sha224 => "hmacWithSHA224",
            HashAlg::Sha256 => "hmacWithSHA256",
            HashAlg::Sha384 => "hmacWithSHA384",
            HashAlg::Sha512 => "hmacWithSHA512",
        }
    }
    pub(crate) fn output_len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha224 => 28,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
    fn block_len(self) -> usize {
        match self {
            HashAlg::Sha384 | HashAlg::Sha512 => 128,
            _ => 64,
        }
    }
    pub(crate) fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            HashAlg::Sha1 => run::<Sha1>(parts),
            HashAlg::Sha224 => run::<Sha224>(parts),
            HashAlg::Sha256 => run::<Sha256>(parts),
            HashAlg::Sha384 => run::<Sha384>(parts),
            HashAlg::Sha512 => run::<Sha512>(parts),
        }
    }
    pub(crate) fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            HashAlg::Sha1 => run::<Hmac<Sha1>>(key, data),
            HashAlg::Sha224 => run::<Hmac<Sha224>>(key, data),
            HashAlg::Sha256 => run::<Hmac<Sha256>>(key, data),
            HashAlg::Sha384 => run::<Hmac<Sha384>>(key, data),
            HashAlg::Sha512 => run::<Hmac<Sha512>>(key, data),
        }
    }
    pub(crate) fn pbkdf2(self, password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
        match self {
            HashAlg::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, rounds, out),
            HashAlg::Sha224 => pbkdf2::pbkdf2_hmac::<Sha224>(password, salt, rounds, out),
            HashAlg::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, rounds, out),
            HashAlg::Sha384 => pbkdf2::pbkdf2_hmac::<Sha384>(password, salt, rounds, out),
            HashAlg::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, rounds, out),
        }
    }
}

/// The password as PKCS#12 wants it for its KDF: UTF-16BE plus two zero bytes.
pub(crate) fn bmp_password(password: &str) -> Vec<u8> {
    let mut v: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    v.extend_from_slice(&[0, 0]);
    v
}

/// RFC 7292 appendix B.2 key derivation.
pub(crate) fn pkcs12_kdf(
    hash: HashAlg,
    id: u8,
    password_bmp: &[u8],
    salt: &[u8],
    iterations: u32,
    n: usize,
) -> Vec<u8> {
    let u = hash.output_len();
    let v = hash.block_len();
    let d = vec![id; v];
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let len = v * src.len().div_ceil(v);
        src.iter().cycle().take(len).copied().collect()
    };
    let mut i_buf = fill(salt);
    i_buf.extend_from_slice(&fill(password_bmp));
    let mut out = Vec::with_capacity(n + u);
    while out.len() < n {
        let mut a = hash.digest(&[&d, &i_buf]);
        for _ in 1..iterations {
            a = hash.digest(&[&a]);
        }
        out.extend_from_slice(&a);
        if out.len() >= n {
            break;
        }
        let b: Vec<u8> = a.iter().cycle().take(v).copied().collect();
        for chunk in i_buf.chunks_mut(v) {
            let mut carry = 1u16;
            for k in (0..chunk.len()).rev() {
                let s = u16::from(chunk[k]) + u16::from(b[k]) + carry;
                chunk[k] = s as u8;
                carry = s >> 8;
            }
        }
    }
    out.truncate(n);
    out
}

#[derive(Debug, Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
    DesEde2,
    Des,
    Rc2 { key_len: usize, eff_bits: usize },
}

impl Cipher {
    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 => 24,
            Cipher::Aes256 => 32,
            Cipher::DesEde3 => 24,
            Cipher::DesEde2 => 16,
            Cipher::Des => 8,
            Cipher::Rc2 { key_len, .. } => key_len,
        }
    }
    fn iv_len(self) -> usize {
        match self {
            Cipher::Aes128 | Cipher::Aes192 | Cipher::Aes256 => 16,
            _ => 8,
        }
    }
    fn name(self) -> String {
        match self {
            Cipher::Aes128 => "AES-128-CBC".into(),
            Cipher::Aes192 => "AES-192-CBC".into(),
            Cipher::Aes256 => "AES-256-CBC".into(),
            Cipher::DesEde3 => "DES-EDE3-CBC".into(),
            Cipher::DesEde2 => "DES-EDE-CBC".into(),
            Cipher::Des => "DES-CBC".into(),
            Cipher::Rc2 { eff_bits, .. } => format!("RC2-{eff_bits}-CBC"),
        }
    }
    fn decrypt(self, key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, PbeError> {
        fn run<C: KeyIvInit + BlockModeDecrypt>(
            key: &[u8],
            iv: &[u8],
            data: &[u8],
        ) -> Result<Vec<u8>, PbeError> {
            let dec = C::new_from_slices(key, iv).map_err(|_| PbeError::Decrypt)?;
            dec.decrypt_padded_vec::<Pkcs7>(data)
                .map_err(|_| PbeError::Decrypt)
        }
        match self {
            Cipher::Aes128 => run::<cbc::Decryptor<aes::Aes128>>(key, iv, data),
            Cipher::Aes192 => run::<cbc::Decryptor<aes::Aes192>>(key, iv, data),
            Cipher::Aes256 => run::<cbc::Decryptor<aes::Aes256>>(key, iv, data),
            Cipher::DesEde3 => run::<cbc::Decryptor<des::TdesEde3>>(key, iv, data),
            Cipher::DesEde2 => run::<cbc::Decryptor<des::TdesEde2>>(key, iv, data),
            Cipher::Des => run::<cbc::Decryptor<des::Des>>(key, iv, data),
            Cipher::Rc2 { eff_bits, .. } => {
                let c = rc2::Rc2::new_with_eff_key_len(key, eff_bits);
                let dec = cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(c, iv)
                    .map_err(|_| PbeError::Decrypt)?;
                dec.decrypt_padded_vec::<Pkcs7>(data)
                    .map_err(|_| PbeError::Decrypt)
            }
        }
    }
}

fn pkcs12_pbe_cipher(oid: &str) -> Result<(Cipher, &'static str), PbeError> {
    Ok(match oid {
        oid::PBE_SHA1_3DES => (Cipher::DesEde3, "pbeWithSHA1And3-KeyTripleDES-CBC"),
        oid::PBE_SHA1_2DES => (Cipher::DesEde2, "pbeWithSHA1And2-KeyTripleDES-CBC"),
        oid::PBE_SHA1_RC2_128 => (
            Cipher::Rc2 {
                key_len: 16,
                eff_bits: 128,
            },
            "pbeWithSHA1And128BitRC2-CBC",
        ),
        oid::PBE_SHA1_RC2_40 => (
            Cipher::Rc2 {
                key_len: 5,
                eff_bits: 40,
            },
            "pbeWithSHA1And40BitRC2-CBC",
        ),
        oid::PBE_SHA1_RC4_128 | oid::PBE_SHA1_RC4_40 => {
            return Err(PbeError::Unsupported {
                what: "encryption algorithm",
                name: "RC4 (pbeWithSHA1AndRC4)".into(),
            });
        }
        other => {
            return Err(PbeError::Unsupported {
                what: "encryption algorithm",
                name: pbe_name(other),
            });
        }
    })
}

/// A readable name for an encryption OID.
pub(crate) fn pbe_name(oid: &str) -> String {
    match oid {
        oid::SCRYPT => "scrypt".into(),
        oid::PBMAC1 => "PBMAC1".into(),
        "1.2.840.113549.1.7.3" => "enveloped data (public-key encryption)".into(),
        o => format!("OID {o}"),
    }
}

struct Pbes2 {
    hash: HashAlg,
    salt: Vec<u8>,
    iterations: u64,
    key_len: Option<usize>,
    cipher: Cipher,
    iv: Vec<u8>,
}

fn parse_pbkdf2_params(t: &Tlv<'_>) -> Result<(Vec<u8>, u64, Option<usize>, HashAlg), PbeError> {
    let mut r = t.expect(tag::SEQUENCE, "PBKDF2-params")?.reader();
    let salt = r
        .expect(tag::OCTET_STRING, "the PBKDF2 salt")?
        .content
        .to_vec();
    let iterations = r
        .expect(tag::INTEGER, "the PBKDF2 iteration count")?
        .u64()?;
    let mut key_len = None;
    let mut hash = HashAlg::Sha1;
    if r.peek_tag() == Some(tag::INTEGER) {
        key_len = Some(r.read()?.u64()? as usize);
    }
    if r.peek_tag() == Some(tag::SEQUENCE) {
        let (prf, _) = read_algorithm(&mut r)?;
        hash = HashAlg::from_hmac_oid(&prf).ok_or_else(|| PbeError::Unsupported {
            what: "PBKDF2 PRF",
            name: format!("OID {prf}"),
        })?;
    }
    Ok((salt, iterations, key_len, hash))
}

fn parse_pbes2(params: Option<&Tlv<'_>>) -> Result<Pbes2, PbeError> {
    let Some(p) = params else {
        return Err(asn1::Asn1Error {
            offset: 0,
            expected: "PBES2 parameters".into(),
        }
        .into());
    };
    let mut r = p.expect(tag::SEQUENCE, "PBES2-params")?.reader();
    let (kdf, kdf_params) = read_algorithm(&mut r)?;
    if kdf != oid::PBKDF2 {
        return Err(PbeError::Unsupported {
            what: "key derivation function",
            name: pbe_name(&kdf),
        });
    }
    let kdf_params = kdf_params.ok_or_else(|| asn1::Asn1Error {
        offset: p.content_offset,
        expected: "PBKDF2 parameters".into(),
    })?;
    let (salt, iterations, key_len, hash) = parse_pbkdf2_params(&kdf_params)?;
    let (enc, enc_params) = read_algorithm(&mut r)?;
    let cipher = match enc.as_str() {
        oid::AES128_CBC => Cipher::Aes128,
        oid::AES192_CBC => Cipher::Aes192,
        oid::AES256_CBC => Cipher::Aes256,
        oid::DES_EDE3_CBC => Cipher::DesEde3,
        oid::DES_CBC => Cipher::Des,
        other => {
            return Err(PbeError::Unsupported {
                what: "cipher",
                name: cipher_oid_name(other),
            });
        }
    };
    let iv = enc_params
        .filter(|t| t.tag == tag::OCTET_STRING)
        .map(|t| t.content.to_vec())
        .ok_or_else(|| asn1::Asn1Error {
            offset: p.content_offset,
            expected: "the cipher's IV".into(),
        })?;
    if iv.len() != cipher.iv_len() {
        return Err(asn1::Asn1Error {
            offset: p.content_offset,
            expected: format!("a {}-byte IV", cipher.iv_len()),
        }
        .into());
    }
    Ok(Pbes2 {
        hash,
        salt,
        iterations,
        key_len,
        cipher,
        iv,
    })
}

fn cipher_oid_name(oid: &str) -> String {
    match oid {
        "2.16.840.1.101.3.4.1.6" => "AES-128-GCM".into(),
        "2.16.840.1.101.3.4.1.46" => "AES-256-GCM".into(),
        "1.2.840.113549.3.2" => "RC2-CBC".into(),
        "1.2.643.7.1.1.5.1.1" => "GOST Kuznyechik".into(),
        o => format!("OID {o}"),
    }
}

fn simple_pbe_params(params: Option<&Tlv<'_>>) -> Result<(Vec<u8>, u64), PbeError> {
    let p = params.ok_or_else(|| asn1::Asn1Error {
        offset: 0,
        expected: "PBE parameters".into(),
    })?;
    let mut r = p.expect(tag::SEQUENCE, "PBEParameter")?.reader();
    let salt = r.expect(tag::OCTET_STRING, "the salt")?.content.to_vec();
    let iterations = match r.optional(tag::INTEGER)? {
        Some(i) => i.u64()?,
        None => 1,
    };
    Ok((salt, iterations))
}

/// Describe an encryption AlgorithmIdentifier without decrypting anything.
pub(crate) fn describe(alg: &str, params: Option<&Tlv<'_>>) -> Result<PbeInfo, PbeError> {
    match alg {
        oid::PBES2 => {
            let p = parse_pbes2(params)?;
            Ok(PbeInfo {
                scheme: "PBES2".into(),
                kdf: "PBKDF2".into(),
                prf: Some(p.hash.hmac_name().into()),
                cipher: p.cipher.name(),
                iterations: p.iterations,
            })
        }
        oid::PBE_MD5_DES | oid::PBE_SHA1_DES => {
            let (_, iterations) = simple_pbe_params(params)?;
            Ok(PbeInfo {
                scheme: if alg == oid::PBE_MD5_DES {
                    "pbeWithMD5AndDES-CBC".into()
                } else {
                    "pbeWithSHA1AndDES-CBC".into()
                },
                kdf: "PBKDF1".into(),
                prf: None,
                cipher: "DES-CBC".into(),
                iterations,
            })
        }
        _ => {
            let (cipher, scheme) = pkcs12_pbe_cipher(alg)?;
            let (_, iterations) = simple_pbe_params(params)?;
            Ok(PbeInfo {
                scheme: scheme.into(),
                kdf: "PKCS#12 KDF (SHA-1)".into(),
                prf: None,
                cipher: cipher.name(),
                iterations,
            })
        }
    }
}

/// Decrypt data protected by the given AlgorithmIdentifier.
///
/// `password` is the UTF-8 password; PKCS#12 schemes use its BMP form.
/// `bmp_override` lets the caller force the PKCS#12 KDF input (used for the
/// empty-password ambiguity, where OpenSSL may have used no bytes at all).
pub(crate) fn decrypt(
    alg: &str,
    params: Option<&Tlv<'_>>,
    password: &str,
    bmp_override: Option<&[u8]>,
    data: &[u8],
) -> Result<Vec<u8>, PbeError> {
    match alg {
        oid::PBES2 => {
            let p = parse_pbes2(params)?;
            let rounds = check_iterations(p.iterations)?;
            let key_len = p.key_len.unwrap_or(p.cipher.key_len());
            if key_len != p.cipher.key_len() {
                return Err(PbeError::Unsupported {
                    what: "key length",
                    name: format!("{key_len} bytes for {}", p.cipher.name()),
                });
            }
            let mut key = Zeroizing::new(vec![0u8; key_len]);
            p.hash
                .pbkdf2(password.as_bytes(), &p.salt, rounds, &mut key);
            p.cipher.decrypt(&key, &p.iv, data)
        }
        oid::PBE_MD5_DES | oid::PBE_SHA1_DES => {
            let (salt, iterations) = simple_pbe_params(params)?;
            let rounds = check_iterations(iterations)?;
            let input = Zeroizing::new([password.as_bytes(), &salt].concat());
            let mut dk = Zeroizing::new(if alg == oid::PBE_MD5_DES {
                md5::Md5::digest(&*input).to_vec()
            } else {
                Sha1::digest(&*input).to_vec()
            });
            for _ in 1..rounds {
                dk = Zeroizing::new(if alg == oid::PBE_MD5_DES {
                    md5::Md5::digest(&*dk).to_vec()
                } else {
                    Sha1::digest(&*dk).to_vec()
                });
            }
            Cipher::Des.decrypt(&dk[..8], &dk[8..16], data)
        }
        _ => {
            let (cipher, _) = pkcs12_pbe_cipher(alg)?;
            let (salt, iterations) = simple_pbe_params(params)?;
            let rounds = check_iterations(iterations)?;
            let bmp = Zeroizing::new(match bmp_override {
                Some(b) => b.to_vec(),
                None => bmp_password(password),
            });
            let key = Zeroizing::new(pkcs12_kdf(
                HashAlg::Sha1,
                1,
                &bmp,
                &salt,
                rounds,
                cipher.key_len(),
            ));
            let iv = pkcs12_kdf(HashAlg::Sha1, 2, &bmp, &salt, rounds, cipher.iv_len());
            cipher.decrypt(&key, &iv, data)
        }
    }
}

/// Decrypt an EncryptedPrivateKeyInfo (PKCS#8) to PrivateKeyInfo DER.
pub fn decrypt_pkcs8(der: &[u8], password: &str) -> Result<Vec<u8>, PbeError> {
    decrypt_pkcs8_with(der, password, None)
}

/// [`decrypt_pkcs8`] with the PKCS#12 KDF input forced (see [`decrypt`]).
/// The result must parse as one DER SEQUENCE: a wrong password that
/// survives the padding check by chance gives garbage, refused here.
pub(crate) fn decrypt_pkcs8_with(
    der: &[u8],
    password: &str,
    bmp_override: Option<&[u8]>,
) -> Result<Vec<u8>, PbeError> {
    let outer = asn1::parse_single(der)?.expect(tag::SEQUENCE, "an EncryptedPrivateKeyInfo")?;
    let mut r = outer.reader();
    let (alg, params) = read_algorithm(&mut r)?;
    let data = r.expect(tag::OCTET_STRING, "the encrypted key")?.content;
    let out = decrypt(&alg, params.as_ref(), password, bmp_override, data)?;
    if out.first() != Some(&tag::SEQUENCE) || asn1::parse_single(&out).is_err() {
        return Err(PbeError::Decrypt);
    }
    Ok(out)
}

/// The algorithm an EncryptedPrivateKeyInfo is protected with (its OID).
pub(crate) fn pkcs8_algorithm(der: &[u8]) -> Result<String, PbeError> {
    let outer = asn1::parse_single(der)?.expect(tag::SEQUENCE, "an EncryptedPrivateKeyInfo")?;
    let mut r = outer.reader();
    Ok(read_algorithm(&mut r)?.0)
}

/// Does this encryption algorithm derive its key with the PKCS#12 KDF
/// (RFC 7292 appendix B)? Only those read the password as a BMPString, and
/// so only those tell the empty password (`00 00`) from a NULL one (no bytes).
pub(crate) fn uses_pkcs12_kdf(alg: &str) -> bool {
    alg.starts_with("1.2.840.113549.1.12.1.")
}

/// Describe an EncryptedPrivateKeyInfo's protection.
pub fn describe_pkcs8(der: &[u8]) -> Result<PbeInfo, PbeError> {
    let outer = asn1::parse_single(der)?.expect(tag::SEQUENCE, "an EncryptedPrivateKeyInfo")?;
    let mut r = outer.reader();
    let (alg, params) = read_algorithm(&mut r)?;
    describe(&alg, params.as_ref())
}

/// OpenSSL's legacy PEM encryption (`Proc-Type: 4,ENCRYPTED` / `DEK-Info`):
/// key = EVP_BytesToKey(MD5, salt = first 8 bytes of the IV, 1 round).
pub(crate) fn decrypt_legacy_pem(
    dek_cipher: &str,
    iv_hex: &str,
    password: &str,
    data: &[u8],
) -> Result<Vec<u8>, PbeError> {
    let cipher = match dek_cipher.to_ascii_uppercase().as_str() {
        "AES-128-CBC" => Cipher::Aes128,
        "AES-192-CBC" => Cipher::Aes192,
        "AES-256-CBC" => Cipher::Aes256,
        "DES-EDE3-CBC" => Cipher::DesEde3,
        "DES-CBC" => Cipher::Des,
        other => {
            return Err(PbeError::Unsupported {
                what: "PEM encryption",
                name: other.to_string(),
            });
        }
    };
    let iv = decode_hex(iv_hex).ok_or_else(|| asn1::Asn1Error {
        offset: 0,
        expected: "a hexadecimal IV in DEK-Info".into(),
    })?;
    if iv.len() != cipher.iv_len() {
        return Err(asn1::Asn1Error {
            offset: 0,
            expected: format!("a {}-byte IV in DEK-Info", cipher.iv_len()),
        }
        .into());
    }
    let salt = &iv[..8];
    let mut key = Vec::new();
    let mut prev: Vec<u8> = Vec::new();
    while key.len() < cipher.key_len() {
        let d = md5::Md5::digest([&prev[..], password.as_bytes(), salt].concat()).to_vec();
        key.extend_from_slice(&d);
        prev = d;
    }
    key.truncate(cipher.key_len());
    cipher.decrypt(&key, &iv, data)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmp_password_has_terminator() {
        assert_eq!(bmp_password("ab"), vec![0, b'a', 0, b'b', 0, 0]);
        assert_eq!(bmp_password("ä"), vec![0, 0xe4, 0, 0]);
    }

    #[test]
    fn pkcs12_kdf_known_answer() {
        // Derived with OpenSSL's PKCS12_key_gen_uni: password "smeg", salt
        // 0A58CF64530D823F, id 1, 1 iteration, 24 bytes.
        let salt = [0x0a, 0x58, 0xcf, 0x64, 0x53, 0x0d, 0x82, 0x3f];
        let k = pkcs12_kdf(HashAlg::Sha1, 1, &bmp_password("smeg"), &salt, 1, 24);
        assert_eq!(
            crate::cert::hex(&k),
            "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
        );
    }
}

/// How to protect what credkit writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    /// PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC.
    Pbes2Aes256 { iterations: u32 },
    /// PKCS#12 PBE with SHA-1 and 3-key triple DES (Java 8, Windows Server 2016).
    Pkcs12TripleDes { iterations: u32 },
}

impl Protection {
    pub(crate) fn iterations(self) -> u32 {
        match self {
            Protection::Pbes2Aes256 { iterations } | Protection::Pkcs12TripleDes { iterations } => {
                iterations
            }
        }
    }
}

thread_local! {
    /// Set only inside [`with_seeded_random`].
    static SEEDED: std::cell::RefCell<Option<chacha20::ChaCha20Rng>> =
        const { std::cell::RefCell::new(None) };
}

#[cfg(feature = "cli")]
/// Run `f` with every salt and IV drawn from a ChaCha20 generator seeded
/// with `seed` instead of the operating system, so that what the writers
/// produce is reproducible byte for byte (`keygen --seed`). Salts and IVs
/// are public anyway; the password still protects the keys. The previous
/// state is restored when `f` returns or panics.
pub(crate) fn with_seeded_random<T>(seed: [u8; 32], f: impl FnOnce() -> T) -> T {
    use rand_core::SeedableRng;
    struct Restore(Option<chacha20::ChaCha20Rng>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            SEEDED.with(|s| *s.borrow_mut() = prev);
        }
    }
    let prev = SEEDED.with(|s| {
        s.borrow_mut()
            .replace(chacha20::ChaCha20Rng::from_seed(seed))
    });
    let _restore = Restore(prev);
    f()
}

/// Fill a buffer from the operating system's secure random source (or the
/// seeded generator inside [`with_seeded_random`]).
///
/// The OS source (getrandom(2)) is used directly: aws-lc's DRBG costs about
/// 30 ms to seed on first use, more than everything else `convert` does.
pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, RandomError> {
    let mut v = vec![0u8; n];
    let seeded = SEEDED.with(|s| match s.borrow_mut().as_mut() {
        Some(rng) => {
            rand_core::Rng::fill_bytes(rng, &mut v);
            true
        }
        None => false,
    });
    if !seeded {
        getrandom::fill(&mut v).map_err(|e| RandomError(e.to_string()))?;
    }
    Ok(v)
}

/// The operating system gave no random bytes (never write predictable salts).
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(pub String);

fn encrypt_cbc<C: KeyIvInit + cbc::cipher::BlockModeEncrypt>(
    key: &[u8],
    iv: &[u8],
    data: &[u8],
) -> Vec<u8> {
    match C::new_from_slices(key, iv) {
        Ok(c) => c.encrypt_padded_vec::<Pkcs7>(data),
        Err(_) => Vec::new(),
    }
}

/// Encrypt `data`; returns the DER AlgorithmIdentifier and the ciphertext.
///
/// `password` is used as UTF-8 for PBES2 and as a BMPString for PKCS#12 PBE,
/// the way OpenSSL and Java do.
pub(crate) fn encrypt(
    protection: Protection,
    password: &str,
    data: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), RandomError> {
    match protection {
        Protection::Pbes2Aes256 { iterations } => {
            let salt = random_bytes(16)?;
            let iv = random_bytes(16)?;
            let mut key = Zeroizing::new([0u8; 32]);
            HashAlg::Sha256.pbkdf2(password.as_bytes(), &salt, iterations.max(1), &mut *key);
            let ct = encrypt_cbc::<cbc::Encryptor<aes::Aes256>>(&*key, &iv, data);
            let prf = asn1::encode(
                tag::SEQUENCE,
                &[asn1::oid(oid::HMAC_SHA256), asn1::encode(tag::NULL, &[])].concat(),
            );
            let kdf_params = asn1::encode(
                tag::SEQUENCE,
                &[
                    asn1::encode(tag::OCTET_STRING, &salt),
                    asn1::encode_u64(u64::from(iterations)),
                    prf,
                ]
                .concat(),
            );
            let kdf = asn1::encode(
                tag::SEQUENCE,
                &[asn1::oid(oid::PBKDF2), kdf_params].concat(),
            );
            let enc = asn1::encode(
                tag::SEQUENCE,
                &[
                    asn1::oid(oid::AES256_CBC),
                    asn1::encode(tag::OCTET_STRING, &iv),
                ]
                .concat(),
            );
            let params = asn1::encode(tag::SEQUENCE, &[kdf, enc].concat());
            Ok((
                asn1::encode(tag::SEQUENCE, &[asn1::oid(oid::PBES2), params].concat()),
                ct,
            ))
        }
        Protection::Pkcs12TripleDes { iterations } => {
            let salt = random_bytes(8)?;
            let bmp = Zeroizing::new(bmp_password(password));
            let rounds = iterations.max(1);
            let key = Zeroizing::new(pkcs12_kdf(HashAlg::Sha1, 1, &bmp, &salt, rounds, 24));
            let iv = pkcs12_kdf(HashAlg::Sha1, 2, &bmp, &salt, rounds, 8);
            let ct = encrypt_cbc::<cbc::Encryptor<des::TdesEde3>>(&key, &iv, data);
            let params = asn1::encode(
                tag::SEQUENCE,
                &[
                    asn1::encode(tag::OCTET_STRING, &salt),
                    asn1::encode_u64(u64::from(iterations)),
                ]
                .concat(),
            );
            Ok((
                asn1::encode(
                    tag::SEQUENCE,
                    &[asn1::oid(oid::PBE_SHA1_3DES), params].concat(),
                ),
                ct,
            ))
        }
    }
}

/// Encrypt a PKCS#8 PrivateKeyInfo into an EncryptedPrivateKeyInfo.
pub(crate) fn encrypt_pkcs8(
    protection: Protection,
    password: &str,
    pkcs8: &[u8],
) -> Result<Vec<u8>, RandomError> {
    let (alg, ct) = encrypt(protection, password, pkcs8)?;
    Ok(asn1::encode(
        tag::SEQUENCE,
        &[alg, asn1::encode(tag::OCTET_STRING, &ct)].concat(),
    ))
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[test]
    fn encrypted_pkcs8_round_trips() {
        let data = asn1::encode(tag::SEQUENCE, b"\x02\x01\x00");
        for p in [
            Protection::Pbes2Aes256 { iterations: 1000 },
            Protection::Pkcs12TripleDes { iterations: 1000 },
        ] {
            let enc = encrypt_pkcs8(p, "pässwörd", &data).expect("random");
            assert_eq!(decrypt_pkcs8(&enc, "pässwörd").expect("decrypt"), data);
            assert!(decrypt_pkcs8(&enc, "wrong").is_err());
            assert_eq!(describe_pkcs8(&enc).expect("describe").iterations, 1000);
        }
    }

    #[test]
    fn seeded_salts_repeat_and_end_with_the_scope() {
        let p = Protection::Pbes2Aes256 { iterations: 1 };
        let data = b"key".to_vec();
        let a = with_seeded_random([7; 32], || encrypt_pkcs8(p, "pw", &data).expect("a"));
        let b = with_seeded_random([7; 32], || encrypt_pkcs8(p, "pw", &data).expect("b"));
        let c = with_seeded_random([8; 32], || encrypt_pkcs8(p, "pw", &data).expect("c"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Outside the scope the operating system is used again.
        let d = encrypt_pkcs8(p, "pw", &data).expect("d");
        let e = encrypt_pkcs8(p, "pw", &data).expect("e");
        assert_ne!(d, e);
        assert_ne!(d, a);
    }
}
