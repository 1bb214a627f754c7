//! Reader for Java `KeyStore` files: Sun's JKS (magic `0xFEEDFEED`) and the
//! SunJCE JCEKS format (magic `0xCECECECE`).
//!
//! The input is treated as hostile: every length and count read from the file
//! is checked against a fixed cap and against the bytes that remain before
//! anything is allocated, nothing panics on malformed data, and the Java
//! serialization stream embedded in JCEKS secret-key entries is walked with a
//! bounded, non-evaluating grammar parser (nothing is ever deserialized into
//! behaviour; the secret itself is never decrypted).
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! u32 magic, u32 version (1 or 2), u32 entry count
//! entry: u32 tag, UTF alias, u64 timestamp (ms), then by tag:
//!   1 private key:  u32 len + EncryptedPrivateKeyInfo DER, u32 chain count,
//!                   per cert: [v2: UTF cert type], u32 len + cert DER
//!   2 trusted cert: [v2: UTF cert type], u32 len + cert DER
//!   3 secret key (JCEKS only): Java serialization stream of a SealedObject
//! 20-byte SHA-1 over (UTF-16BE password | "Mighty Aphrodite" | all bytes before it)
//! ```

use std::rc::Rc;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use md5::Md5;
use sha1::{Digest, Sha1};

/// Which of the two Java keystore formats a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaStoreKind {
    /// Sun JKS, magic `0xFEEDFEED`.
    Jks,
    /// SunJCE JCEKS, magic `0xCECECECE`.
    Jceks,
}

/// A parsed JKS or JCEKS keystore.
#[derive(Debug, Clone)]
pub struct JavaStore {
    /// Format of the file.
    pub kind: JavaStoreKind,
    /// Format version (1 or 2).
    pub version: u32,
    /// Entries in file order.
    pub entries: Vec<JavaEntry>,
    /// True when the trailing SHA-1 was verified with the store password.
    pub integrity_checked: bool,
}

/// One keystore entry.
#[derive(Debug, Clone)]
pub struct JavaEntry {
    /// Alias exactly as stored (keytool lowercases JKS aliases when writing).
    pub alias: String,
    /// Creation date, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Entry contents.
    pub body: JavaEntryBody,
}

/// Contents of a keystore entry.
#[derive(Debug, Clone)]
pub enum JavaEntryBody {
    /// A private key with its certificate chain.
    PrivateKey {
        /// PKCS#8 `PrivateKeyInfo` DER; `None` when no password was available to decrypt it.
        pkcs8: Option<Vec<u8>>,
        /// How the key is protected in the file.
        protection: KeyProtection,
        /// DER certificates, leaf first.
        chain: Vec<Vec<u8>>,
        /// Certificate type of each chain element (e.g. `X.509`).
        cert_types: Vec<String>,
    },
    /// A trusted certificate.
    TrustedCert {
        /// Certificate DER.
        cert: Vec<u8>,
        /// Certificate type (e.g. `X.509`).
        cert_type: String,
    },
    /// JCEKS only: a Java-serialized `SealedObject`; listed, never decrypted.
    Secret {
        /// `sealAlg` field of the sealed object, if found.
        seal_algorithm: Option<String>,
        /// `paramsAlg` field of the sealed object, if found.
        params_algorithm: Option<String>,
    },
}

/// Private-key protection scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProtection {
    /// Sun's SHA-1 XOR key protector, OID 1.3.6.1.4.1.42.2.17.1.1.
    JksSunProprietary,
    /// `PBEWithMD5AndTripleDES`, OID 1.3.6.1.4.1.42.2.19.1.
    JcePbeWithMd5AndTripleDes,
}

/// Errors from [`parse`]. Offsets are byte offsets into the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JksError {
    /// The magic number is neither JKS nor JCEKS.
    #[error(
        "not a Java keystore: expected magic 0xFEEDFEED (JKS) or 0xCECECECE (JCEKS) at offset 0"
    )]
    NotJavaKeystore,
    /// Version other than 1 or 2.
    #[error("unsupported keystore version {version} at offset 4: expected 1 or 2")]
    UnsupportedVersion {
        /// Version found in the header.
        version: u32,
    },
    /// The input ends before a field is complete.
    #[error(
        "truncated keystore: expected {needed} byte(s) of {what} at offset {offset}, but the input ends first"
    )]
    Truncated {
        /// Offset where the field starts.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A length or count exceeds the reader's safety limits.
    #[error("{what} at offset {offset} is too large: {len} exceeds the limit of {max}")]
    TooLarge {
        /// Offset of the length/count field.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// Value found.
        len: u64,
        /// Maximum accepted.
        max: u64,
    },
    /// Unknown entry tag.
    #[error(
        "unknown entry tag {tag} at offset {offset}: expected 1 (private key), 2 (trusted certificate) or 3 (secret key, JCEKS only)"
    )]
    BadEntryTag {
        /// Offset of the tag.
        offset: usize,
        /// Tag found.
        tag: u32,
    },
    /// The alias is not valid Java modified UTF-8.
    #[error("alias at offset {offset} is not valid Java modified UTF-8")]
    BadAlias {
        /// Offset of the alias length prefix.
        offset: usize,
    },
    /// The keystore digest does not match.
    #[error(
        "keystore integrity check failed: the store password is wrong or the file was modified"
    )]
    IntegrityCheckFailed,
    /// No available password decrypts a private key.
    #[error(
        "cannot decrypt private key {alias:?}: wrong key password (the key protection check failed for every password tried)"
    )]
    WrongKeyPassword {
        /// Alias of the key entry.
        alias: String,
    },
    /// The private key uses an unknown protection algorithm.
    #[error(
        "private key {alias:?} is protected with unsupported algorithm {oid}: expected 1.3.6.1.4.1.42.2.17.1.1 (JKS key protector) or 1.3.6.1.4.1.42.2.19.1 (PBEWithMD5AndTripleDES)"
    )]
    UnsupportedKeyProtection {
        /// Alias of the key entry.
        alias: String,
        /// Dotted algorithm OID.
        oid: String,
    },
    /// Any other structural problem.
    #[error("malformed keystore at offset {offset}: expected {what}")]
    Malformed {
        /// Offset of the problem.
        offset: usize,
        /// What was expected.
        what: &'static str,
    },
    /// Bytes between the last entry and the trailing digest.
    #[error(
        "unexpected data at offset {offset}: expected only the 20-byte keystore digest after the last entry"
    )]
    TrailingData {
        /// Offset where the unexpected data starts.
        offset: usize,
    },
}

const MAGIC_JKS: u32 = 0xFEED_FEED;
const MAGIC_JCEKS: u32 = 0xCECE_CECE;

const MAX_ENTRIES: u32 = 10_000;
const MAX_CHAIN: u32 = 100;
const MAX_BLOB: u64 = 1 << 20;
const MAX_PBE_ITERATIONS: u64 = 10_000_000;
/// Cap on the sum of the PBE iteration counts of all keys in one store.
const MAX_TOTAL_PBE_ITERATIONS: u64 = 20_000_000;
const DIGEST_LEN: usize = 20;
const MAX_OID_LEN: usize = 64;

const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED_CERT: u32 = 2;
const TAG_SECRET_KEY: u32 = 3;

/// DER content of OID 1.3.6.1.4.1.42.2.17.1.1 (Sun JKS key protector).
const OID_JKS_KEY_PROTECTOR: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x11, 0x01, 0x01];
/// DER content of OID 1.3.6.1.4.1.42.2.19.1 (PBEWithMD5AndTripleDES).
const OID_PBE_MD5_3DES: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x13, 0x01];

const INTEGRITY_SALT: &[u8] = b"Mighty Aphrodite";
const DEFAULT_CERT_TYPE: &str = "X.509";

/// Detects a JKS or JCEKS keystore by its magic number.
pub fn is_java_store(data: &[u8]) -> Option<JavaStoreKind> {
    let magic: [u8; 4] = data.get(..4)?.try_into().ok()?;
    match u32::from_be_bytes(magic) {
        MAGIC_JKS => Some(JavaStoreKind::Jks),
        MAGIC_JCEKS => Some(JavaStoreKind::Jceks),
        _ => None,
    }
}

/// Parses a JKS or JCEKS keystore.
///
/// `store_password` `None`: parse and list everything, skip the integrity
/// check (`integrity_checked = false`) and leave keys encrypted (`pkcs8: None`).
/// `key_password` `None`: use the store password for keys. When both are given
/// and differ, each key is tried with the key password first, then with the
/// store password.
///
/// # Errors
/// See [`JksError`]; every structural error carries the byte offset involved.
pub fn parse(
    data: &[u8],
    store_password: Option<&str>,
    key_password: Option<&str>,
) -> Result<JavaStore, JksError> {
    let Some(kind) = is_java_store(data) else {
        let is_magic_prefix = !data.is_empty()
            && data.len() < 4
            && [MAGIC_JKS, MAGIC_JCEKS]
                .iter()
                .any(|m| m.to_be_bytes().starts_with(data));
        return Err(if is_magic_prefix {
            JksError::Truncated {
                offset: 0,
                needed: 4,
                what: "keystore magic",
            }
        } else {
            JksError::NotJavaKeystore
        });
    };

    let mut r = Reader::new(data);
    r.take(4, "keystore magic")?;
    let version = r.u32("keystore version")?;
    if version != 1 && version != 2 {
        return Err(JksError::UnsupportedVersion { version });
    }
    let count_offset = r.pos;
    let count = r.u32("entry count")?;
    if count > MAX_ENTRIES {
        return Err(JksError::TooLarge {
            offset: count_offset,
            what: "entry count",
            len: u64::from(count),
            max: u64::from(MAX_ENTRIES),
        });
    }

    let mut entries = Vec::new();
    let mut pending: Vec<PendingKey<'_>> = Vec::new();
    for _ in 0..count {
        let (entry, key) = parse_entry(&mut r, kind, version)?;
        if let Some(key) = key {
            pending.push(PendingKey {
                index: entries.len(),
                key,
            });
        }
        entries.push(entry);
    }

    let digest_offset = r.pos;
    match r.remaining() {
        n if n < DIGEST_LEN => {
            return Err(JksError::Truncated {
                offset: digest_offset,
                needed: DIGEST_LEN,
                what: "keystore digest (SHA-1)",
            });
        }
        n if n > DIGEST_LEN => {
            return Err(JksError::TrailingData {
                offset: digest_offset,
            });
        }
        _ => {}
    }
    let stored_digest = r.take(DIGEST_LEN, "keystore digest (SHA-1)")?;

    let Some(store_pw) = store_password else {
        return Ok(JavaStore {
            kind,
            version,
            entries,
            integrity_checked: false,
        });
    };

    let signed = data.get(..digest_offset).ok_or(JksError::Truncated {
        offset: 0,
        needed: digest_offset,
        what: "keystore contents",
    })?;
    let computed = Sha1::new()
        .chain_update(utf16be(store_pw))
        .chain_update(INTEGRITY_SALT)
        .chain_update(signed)
        .finalize();
    if !ct_eq(computed.as_slice(), stored_digest) {
        return Err(JksError::IntegrityCheckFailed);
    }

    // Bound the CPU spent on PBE key derivation for the whole store before
    // doing any of it (each key is capped separately at parse time).
    let mut total_iterations: u64 = 0;
    for p in &pending {
        if let Protected::Pbe {
            iterations, offset, ..
        } = p.key
        {
            total_iterations = total_iterations.saturating_add(u64::from(iterations));
            if total_iterations > MAX_TOTAL_PBE_ITERATIONS {
                return Err(JksError::TooLarge {
                    offset,
                    what: "sum of PBE iteration counts of all keys",
                    len: total_iterations,
                    max: MAX_TOTAL_PBE_ITERATIONS,
                });
            }
        }
    }

    for p in pending {
        let Some(entry) = entries.get_mut(p.index) else {
            continue;
        };
        let pkcs8_out = recover_key(&entry.alias, &p.key, store_pw, key_password)?;
        if let JavaEntryBody::PrivateKey { pkcs8, .. } = &mut entry.body {
            *pkcs8 = Some(pkcs8_out);
        }
    }

    Ok(JavaStore {
        kind,
        version,
        entries,
        integrity_checked: true,
    })
}

// ---------------------------------------------------------------------------
// Byte reader
// ---------------------------------------------------------------------------

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], JksError> {
        let truncated = JksError::Truncated {
            offset: self.pos,
            needed: n,
            what,
        };
        let end = match self.pos.checked_add(n) {
            Some(end) if end <= self.data.len() => end,
            _ => return Err(truncated),
        };
        let out = self.data.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], JksError> {
        let offset = self.pos;
        self.take(N, what)?
            .try_into()
            .map_err(|_| JksError::Truncated {
                offset,
                needed: N,
                what,
            })
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, JksError> {
        let [b] = self.array::<1>(what)?;
        Ok(b)
    }

    fn peek_u8(&self, what: &'static str) -> Result<u8, JksError> {
        self.data.get(self.pos).copied().ok_or(JksError::Truncated {
            offset: self.pos,
            needed: 1,
            what,
        })
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, JksError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, JksError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, JksError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, JksError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, JksError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// A length-checked byte run: the length is capped at [`MAX_BLOB`] and
    /// must fit in the remaining input. Returns the data offset and the bytes.
    fn sized(
        &mut self,
        len: u64,
        len_offset: usize,
        what: &'static str,
    ) -> Result<&'a [u8], JksError> {
        if len > MAX_BLOB {
            return Err(JksError::TooLarge {
                offset: len_offset,
                what,
                len,
                max: MAX_BLOB,
            });
        }
        let n = usize::try_from(len).map_err(|_| JksError::TooLarge {
            offset: len_offset,
            what,
            len,
            max: MAX_BLOB,
        })?;
        self.take(n, what)
    }

    /// `u32` length-prefixed blob. Returns the offset of the data and the data.
    fn blob(&mut self, what: &'static str) -> Result<(usize, &'a [u8]), JksError> {
        let len_offset = self.pos;
        let len = self.u32(what)?;
        let data_offset = self.pos;
        let bytes = self.sized(u64::from(len), len_offset, what)?;
        Ok((data_offset, bytes))
    }

    /// `u16` length-prefixed modified UTF-8 bytes (Java `DataInput.readUTF`).
    fn utf(&mut self, what: &'static str) -> Result<&'a [u8], JksError> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    fn utf_string(&mut self, what: &'static str) -> Result<String, JksError> {
        let offset = self.pos;
        let bytes = self.utf(what)?;
        decode_modified_utf8(bytes).ok_or(JksError::Malformed {
            offset,
            what: "valid Java modified UTF-8 string",
        })
    }
}

/// Decodes Java modified UTF-8 (as written by `DataOutput.writeUTF`) into a
/// `String` via UTF-16 code units. Accepts what Java's `readUTF` accepts;
/// returns `None` for malformed sequences and unpaired surrogates.
fn decode_modified_utf8(bytes: &[u8]) -> Option<String> {
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b0) = bytes.get(i) {
        let cont = |k: usize| -> Option<u16> {
            let b = *bytes.get(i.checked_add(k)?)?;
            (b & 0xC0 == 0x80).then_some(u16::from(b & 0x3F))
        };
        match b0 >> 4 {
            0..=7 => {
                units.push(u16::from(b0));
                i += 1;
            }
            12 | 13 => {
                units.push((u16::from(b0 & 0x1F) << 6) | cont(1)?);
                i += 2;
            }
            14 => {
                units.push((u16::from(b0 & 0x0F) << 12) | (cont(1)? << 6) | cont(2)?);
                i += 3;
            }
            _ => return None,
        }
    }
    String::from_utf16(&units).ok()
}

fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------

/// Encrypted private key material, validated structurally at parse time.
#[derive(Clone, Copy)]
enum Protected<'a> {
    /// salt(20) | ciphertext | check(20)
    Jks { data: &'a [u8], offset: usize },
    Pbe {
        salt: [u8; 8],
        iterations: u32,
        ciphertext: &'a [u8],
        /// File offset of the PBE parameters.
        offset: usize,
    },
}

struct PendingKey<'a> {
    index: usize,
    key: Protected<'a>,
}

fn parse_entry<'a>(
    r: &mut Reader<'a>,
    kind: JavaStoreKind,
    version: u32,
) -> Result<(JavaEntry, Option<Protected<'a>>), JksError> {
    let tag_offset = r.pos;
    let tag = r.u32("entry tag")?;
    // Reject unknown tags before reading further so the error points at the tag.
    let tag_ok = matches!(tag, TAG_PRIVATE_KEY | TAG_TRUSTED_CERT)
        || (tag == TAG_SECRET_KEY && kind == JavaStoreKind::Jceks);
    if !tag_ok {
        return Err(JksError::BadEntryTag {
            offset: tag_offset,
            tag,
        });
    }
    let alias_offset = r.pos;
    let alias_bytes = r.utf("entry alias")?;
    let alias = decode_modified_utf8(alias_bytes).ok_or(JksError::BadAlias {
        offset: alias_offset,
    })?;
    let timestamp_ms = r.i64("entry timestamp")?;

    let (body, key) = match tag {
        TAG_PRIVATE_KEY => {
            let (key_offset, epki) = r.blob("encrypted private key")?;
            let (protection, key) = parse_epki(epki, key_offset, &alias)?;
            let count_offset = r.pos;
            let count = r.u32("certificate chain length")?;
            if count > MAX_CHAIN {
                return Err(JksError::TooLarge {
                    offset: count_offset,
                    what: "certificate chain length",
                    len: u64::from(count),
                    max: u64::from(MAX_CHAIN),
                });
            }
            let mut chain = Vec::new();
            let mut cert_types = Vec::new();
            for _ in 0..count {
                let (cert_type, cert) = read_cert(r, version)?;
                cert_types.push(cert_type);
                chain.push(cert);
            }
            (
                JavaEntryBody::PrivateKey {
                    pkcs8: None,
                    protection,
                    chain,
                    cert_types,
                },
                Some(key),
            )
        }
        TAG_TRUSTED_CERT => {
            let (cert_type, cert) = read_cert(r, version)?;
            (JavaEntryBody::TrustedCert { cert, cert_type }, None)
        }
        _ => {
            let (seal_algorithm, params_algorithm) = parse_sealed_object(r)?;
            (
                JavaEntryBody::Secret {
                    seal_algorithm,
                    params_algorithm,
                },
                None,
            )
        }
    };
    Ok((
        JavaEntry {
            alias,
            timestamp_ms,
            body,
        },
        key,
    ))
}

fn read_cert(r: &mut Reader<'_>, version: u32) -> Result<(String, Vec<u8>), JksError> {
    let cert_type = if version == 2 {
        r.utf_string("certificate type")?
    } else {
        DEFAULT_CERT_TYPE.to_owned()
    };
    let (_, der) = r.blob("certificate")?;
    Ok((cert_type, der.to_vec()))
}

// ---------------------------------------------------------------------------
// DER
// ---------------------------------------------------------------------------

const DER_SEQUENCE: u8 = 0x30;
const DER_OCTET_STRING: u8 = 0x04;
const DER_INTEGER: u8 = 0x02;
const DER_OID: u8 = 0x06;

/// Minimal bounds-checked DER reader over a slice located at `base` in the file.
struct Der<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

struct Tlv<'a> {
    tag: u8,
    /// File offset of the tag byte.
    offset: usize,
    /// File offset of the content.
    content_offset: usize,
    content: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(data: &'a [u8], base: usize) -> Self {
        Der { data, pos: 0, base }
    }

    fn abs(&self, pos: usize) -> usize {
        self.base.saturating_add(pos)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn tlv(&mut self, what: &'static str) -> Result<Tlv<'a>, JksError> {
        let offset = self.abs(self.pos);
        let mal = |what| JksError::Malformed { offset, what };
        let tag = *self.data.get(self.pos).ok_or(mal(what))?;
        if tag & 0x1F == 0x1F {
            return Err(mal("DER tag with a single-byte tag number"));
        }
        let first = *self.data.get(self.pos.saturating_add(1)).ok_or(mal(what))?;
        let mut p = self.pos.saturating_add(2);
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = first & 0x7F;
            if n == 0 || n > 4 {
                return Err(mal("DER definite length of at most 4 bytes"));
            }
            let mut len = 0usize;
            for _ in 0..n {
                let b = *self.data.get(p).ok_or(mal("DER length bytes"))?;
                len = (len << 8) | usize::from(b);
                p = p.saturating_add(1);
            }
            len
        };
        let content = p
            .checked_add(len)
            .and_then(|end| self.data.get(p..end))
            .ok_or(mal("DER element within the enclosing data"))?;
        self.pos = p.saturating_add(len);
        Ok(Tlv {
            tag,
            offset,
            content_offset: self.abs(p),
            content,
        })
    }

    fn expect(&mut self, tag: u8, what: &'static str) -> Result<Tlv<'a>, JksError> {
        let tlv = self.tlv(what)?;
        if tlv.tag != tag {
            return Err(JksError::Malformed {
                offset: tlv.offset,
                what,
            });
        }
        Ok(tlv)
    }

    fn finish(&self, what: &'static str) -> Result<(), JksError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(JksError::Malformed {
                offset: self.abs(self.pos),
                what,
            })
        }
    }
}

/// True if `data` is exactly one DER SEQUENCE.
fn is_der_sequence(data: &[u8]) -> bool {
    let mut d = Der::new(data, 0);
    d.expect(DER_SEQUENCE, "SEQUENCE").is_ok() && d.at_end()
}

/// Dotted form of an OID's DER content; `None` if malformed.
fn oid_to_string(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() || bytes.len() > MAX_OID_LEN {
        return None;
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    let mut pending = false;
    for &b in bytes {
        if value > (u64::MAX >> 7) {
            return None;
        }
        value = (value << 7) | u64::from(b & 0x7F);
        pending = b & 0x80 != 0;
        if !pending {
            arcs.push(value);
            value = 0;
        }
    }
    if pending {
        return None;
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in rest {
        out.push('.');
        out.push_str(&arc.to_string());
    }
    Some(out)
}

/// Parses `EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }`.
fn parse_epki<'a>(
    der: &'a [u8],
    base: usize,
    alias: &str,
) -> Result<(KeyProtection, Protected<'a>), JksError> {
    let mut outer = Der::new(der, base);
    let seq = outer.expect(DER_SEQUENCE, "EncryptedPrivateKeyInfo SEQUENCE")?;
    outer.finish("end of EncryptedPrivateKeyInfo (no trailing bytes)")?;

    let mut body = Der::new(seq.content, seq.content_offset);
    let alg = body.expect(DER_SEQUENCE, "AlgorithmIdentifier SEQUENCE")?;
    let enc = body.expect(DER_OCTET_STRING, "encryptedData OCTET STRING")?;
    body.finish("end of EncryptedPrivateKeyInfo after encryptedData")?;

    let mut alg_body = Der::new(alg.content, alg.content_offset);
    let oid = alg_body.expect(DER_OID, "algorithm OBJECT IDENTIFIER")?;
    let params = if alg_body.at_end() {
        None
    } else {
        Some(alg_body.tlv("algorithm parameters")?)
    };
    alg_body.finish("end of AlgorithmIdentifier after parameters")?;

    if oid.content == OID_JKS_KEY_PROTECTOR {
        // Parameters (normally NULL) are ignored, as Sun's KeyProtector does.
        if enc.content.len() < 2 * DIGEST_LEN {
            return Err(JksError::Malformed {
                offset: enc.content_offset,
                what: "JKS-protected key of at least 40 bytes (20-byte salt and 20-byte check)",
            });
        }
        return Ok((
            KeyProtection::JksSunProprietary,
            Protected::Jks {
                data: enc.content,
                offset: enc.content_offset,
            },
        ));
    }

    if oid.content == OID_PBE_MD5_3DES {
        let params = params.ok_or(JksError::Malformed {
            offset: alg.offset,
            what: "PBE parameters SEQUENCE { salt, iterationCount }",
        })?;
        let (salt, iterations) = parse_pbe_params(&params)?;
        let ct = enc.content;
        if ct.is_empty() || ct.len() % 8 != 0 {
            return Err(JksError::Malformed {
                offset: enc.content_offset,
                what: "3DES-CBC ciphertext that is a non-empty multiple of 8 bytes",
            });
        }
        return Ok((
            KeyProtection::JcePbeWithMd5AndTripleDes,
            Protected::Pbe {
                salt,
                iterations,
                ciphertext: ct,
                offset: params.offset,
            },
        ));
    }

    match oid_to_string(oid.content) {
        Some(oid) => Err(JksError::UnsupportedKeyProtection {
            alias: alias.to_owned(),
            oid,
        }),
        None => Err(JksError::Malformed {
            offset: oid.offset,
            what: "valid OBJECT IDENTIFIER encoding",
        }),
    }
}

/// `PBEParameter ::= SEQUENCE { salt OCTET STRING (8), iterationCount INTEGER }`.
fn parse_pbe_params(params: &Tlv<'_>) -> Result<([u8; 8], u32), JksError> {
    if params.tag != DER_SEQUENCE {
        return Err(JksError::Malformed {
            offset: params.offset,
            what: "PBE parameters SEQUENCE",
        });
    }
    let mut d = Der::new(params.content, params.content_offset);
    let salt = d.expect(DER_OCTET_STRING, "PBE salt OCTET STRING")?;
    let iter = d.expect(DER_INTEGER, "PBE iteration count INTEGER")?;
    d.finish("end of PBE parameters after the iteration count")?;

    let salt: [u8; 8] = salt.content.try_into().map_err(|_| JksError::Malformed {
        offset: salt.offset,
        what: "8-byte PBE salt",
    })?;

    let digits = iter.content;
    match digits.first() {
        None => {
            return Err(JksError::Malformed {
                offset: iter.offset,
                what: "non-empty INTEGER",
            });
        }
        Some(&b) if b & 0x80 != 0 => {
            return Err(JksError::Malformed {
                offset: iter.offset,
                what: "positive PBE iteration count",
            });
        }
        Some(_) => {}
    }
    let significant: &[u8] = {
        let skip = digits.iter().take_while(|&&b| b == 0).count();
        digits.get(skip..).unwrap_or_default()
    };
    let value = if significant.len() > 8 {
        u64::MAX
    } else {
        significant
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    if value == 0 {
        return Err(JksError::Malformed {
            offset: iter.offset,
            what: "positive PBE iteration count",
        });
    }
    if value > MAX_PBE_ITERATIONS {
        return Err(JksError::TooLarge {
            offset: iter.offset,
            what: "PBE iteration count",
            len: value,
            max: MAX_PBE_ITERATIONS,
        });
    }
    let iterations = u32::try_from(value).map_err(|_| JksError::TooLarge {
        offset: iter.offset,
        what: "PBE iteration count",
        len: value,
        max: MAX_PBE_ITERATIONS,
    })?;
    Ok((salt, iterations))
}

// ---------------------------------------------------------------------------
// Key recovery
// ---------------------------------------------------------------------------

fn recover_key(
    alias: &str,
    key: &Protected<'_>,
    store_password: &str,
    key_password: Option<&str>,
) -> Result<Vec<u8>, JksError> {
    let mut candidates: Vec<&str> = Vec::with_capacity(2);
    if let Some(kp) = key_password {
        candidates.push(kp);
    }
    if key_password != Some(store_password) {
        candidates.push(store_password);
    }
    for pw in candidates {
        match key {
            Protected::Jks { data, offset } => {
                if let Some(plain) = jks_unprotect(data, pw) {
                    if !is_der_sequence(&plain) {
                        return Err(JksError::Malformed {
                            offset: *offset,
                            what: "decrypted private key that is a DER SEQUENCE (PKCS#8)",
                        });
                    }
                    return Ok(plain);
                }
            }
            Protected::Pbe {
                salt,
                iterations,
                ciphertext,
                ..
            } => {
                let Some(pw) = jce_password_bytes(pw) else {
                    continue; // SunJCE could not have used this password
                };
                if let Some(plain) = pbe_md5_3des_decrypt(ciphertext, *salt, *iterations, &pw)
                    && is_der_sequence(&plain)
                {
                    return Ok(plain);
                }
            }
        }
    }
    Err(JksError::WrongKeyPassword {
        alias: alias.to_owned(),
    })
}

/// Sun's JKS key protector. `data` = salt(20) | ciphertext | check(20).
fn jks_unprotect(data: &[u8], password: &str) -> Option<Vec<u8>> {
    let pw = utf16be(password);
    let check_start = data.len().checked_sub(DIGEST_LEN)?;
    let salt = data.get(..DIGEST_LEN)?;
    let ciphertext = data.get(DIGEST_LEN..check_start)?;
    let check = data.get(check_start..)?;

    let mut plain = Vec::with_capacity(ciphertext.len());
    let mut block = Sha1::new().chain_update(&pw).chain_update(salt).finalize();
    for (i, chunk) in ciphertext.chunks(DIGEST_LEN).enumerate() {
        if i > 0 {
            block = Sha1::new().chain_update(&pw).chain_update(block).finalize();
        }
        plain.extend(chunk.iter().zip(block.iter()).map(|(c, k)| c ^ k));
    }
    let computed = Sha1::new()
        .chain_update(&pw)
        .chain_update(&plain)
        .finalize();
    ct_eq(computed.as_slice(), check).then_some(plain)
}

/// Password bytes as SunJCE's `PBEKey` makes them: it only accepts printable
/// ASCII (or the single char `"\0"`), one byte per char. `None` otherwise.
fn jce_password_bytes(password: &str) -> Option<Vec<u8>> {
    if password == "\0" {
        Some(vec![0])
    } else if password.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        Some(password.as_bytes().to_vec())
    } else {
        None
    }
}

/// SunJCE `PBEWithMD5AndTripleDES` decryption (PBES1-like, Sun key derivation).
fn pbe_md5_3des_decrypt(
    ciphertext: &[u8],
    salt: [u8; 8],
    iterations: u32,
    pw: &[u8],
) -> Option<Vec<u8>> {
    let [a0, a1, a2, a3, b0, b1, b2, b3] = salt;
    // Sun quirk: identical halves -> reverse the first half.
    let first = if [a0, a1, a2, a3] == [b0, b1, b2, b3] {
        [a3, a2, a1, a0]
    } else {
        [a0, a1, a2, a3]
    };
    let mut derived: Vec<u8> = Vec::with_capacity(32);
    for half in [first, [b0, b1, b2, b3]] {
        let mut state = Md5::new().chain_update(half).chain_update(pw).finalize();
        for _ in 1..iterations {
            state = Md5::new().chain_update(state).chain_update(pw).finalize();
        }
        derived.extend_from_slice(state.as_slice());
    }
    let key = derived.get(..24)?;
    let iv = derived.get(24..32)?;
    cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .ok()
}

// ---------------------------------------------------------------------------
// Java object serialization (bounded walker for JCEKS secret-key entries)
// ---------------------------------------------------------------------------

const STREAM_MAGIC: u16 = 0xACED;
const STREAM_VERSION: u16 = 5;

const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_CLASS: u8 = 0x76;
const TC_BLOCKDATA: u8 = 0x77;
const TC_ENDBLOCKDATA: u8 = 0x78;
const TC_BLOCKDATALONG: u8 = 0x7A;
const TC_LONGSTRING: u8 = 0x7C;
const TC_PROXYCLASSDESC: u8 = 0x7D;
const TC_ENUM: u8 = 0x7E;

const BASE_WIRE_HANDLE: u32 = 0x007E_0000;

const SC_WRITE_METHOD: u8 = 0x01;
const SC_SERIALIZABLE: u8 = 0x02;
const SC_EXTERNALIZABLE: u8 = 0x04;
const SC_BLOCK_DATA: u8 = 0x08;

const MAX_SER_DEPTH: usize = 32;
const MAX_SER_HANDLES: usize = 10_000;
const MAX_CLASS_CHAIN: usize = 32;
const MAX_PROXY_INTERFACES: i32 = 65_535;

const SEALED_OBJECT_CLASS: &str = "javax.crypto.SealedObject";

struct FieldDesc {
    code: u8,
    name: String,
}

struct ClassDesc {
    name: String,
    flags: u8,
    fields: Vec<FieldDesc>,
    super_desc: Option<Rc<ClassDesc>>,
    /// Number of descriptors in the superclass chain including this one.
    chain_len: usize,
}

enum Handle {
    ClassDesc(Rc<ClassDesc>),
    Str(Rc<str>),
    Other,
}

enum Value {
    Null,
    Str(Rc<str>),
    ClassDesc(Rc<ClassDesc>),
    Other,
}

struct SerParser<'r, 'a> {
    r: &'r mut Reader<'a>,
    handles: Vec<Handle>,
    seal_alg: Option<Rc<str>>,
    params_alg: Option<Rc<str>>,
}

/// Walks one `ObjectOutputStream` stream holding a `SealedObject` and returns
/// its `sealAlg` and `paramsAlg` strings if present.
fn parse_sealed_object(r: &mut Reader<'_>) -> Result<(Option<String>, Option<String>), JksError> {
    let magic_offset = r.pos;
    if r.u16("Java serialization stream magic")? != STREAM_MAGIC {
        return Err(JksError::Malformed {
            offset: magic_offset,
            what: "Java serialization stream magic 0xACED",
        });
    }
    let version_offset = r.pos;
    if r.u16("Java serialization stream version")? != STREAM_VERSION {
        return Err(JksError::Malformed {
            offset: version_offset,
            what: "Java serialization stream version 5",
        });
    }
    let object_offset = r.pos;
    if r.u8("serialized SealedObject")? != TC_OBJECT {
        return Err(JksError::Malformed {
            offset: object_offset,
            what: "serialized SealedObject (TC_OBJECT)",
        });
    }
    let mut p = SerParser {
        r,
        handles: Vec::new(),
        seal_alg: None,
        params_alg: None,
    };
    p.new_object(1, true)?;
    Ok((
        p.seal_alg.map(|s| s.to_string()),
        p.params_alg.map(|s| s.to_string()),
    ))
}

impl SerParser<'_, '_> {
    fn check_depth(&self, depth: usize) -> Result<(), JksError> {
        if depth > MAX_SER_DEPTH {
            return Err(JksError::TooLarge {
                offset: self.r.pos,
                what: "Java serialization nesting depth",
                len: depth as u64,
                max: MAX_SER_DEPTH as u64,
            });
        }
        Ok(())
    }

    fn push(&mut self, handle: Handle) -> Result<usize, JksError> {
        if self.handles.len() >= MAX_SER_HANDLES {
            return Err(JksError::TooLarge {
                offset: self.r.pos,
                what: "Java serialization handle count",
                len: self.handles.len() as u64 + 1,
                max: MAX_SER_HANDLES as u64,
            });
        }
        self.handles.push(handle);
        Ok(self.handles.len() - 1)
    }

    fn reference(&mut self, offset: usize) -> Result<Value, JksError> {
        let handle = self.r.u32("Java serialization handle")?;
        let entry = handle
            .checked_sub(BASE_WIRE_HANDLE)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.handles.get(i))
            .ok_or(JksError::Malformed {
                offset,
                what: "reference to a previously defined serialization handle",
            })?;
        Ok(match entry {
            Handle::ClassDesc(d) => Value::ClassDesc(Rc::clone(d)),
            Handle::Str(s) => Value::Str(Rc::clone(s)),
            Handle::Other => Value::Other,
        })
    }

    fn new_string(&mut self, offset: usize, bytes: &[u8]) -> Result<Value, JksError> {
        let s: Rc<str> = decode_modified_utf8(bytes)
            .ok_or(JksError::Malformed {
                offset,
                what: "serialized string in valid modified UTF-8",
            })?
            .into();
        self.push(Handle::Str(Rc::clone(&s)))?;
        Ok(Value::Str(s))
    }

    /// `content`: any object (block data is only accepted inside annotations).
    fn content(&mut self, depth: usize) -> Result<Value, JksError> {
        self.check_depth(depth)?;
        let offset = self.r.pos;
        let tc = self.r.u8("Java serialization type code")?;
        match tc {
            TC_NULL => Ok(Value::Null),
            TC_REFERENCE => self.reference(offset),
            TC_STRING => {
                let bytes = self.r.utf("serialized string")?;
                self.new_string(offset, bytes)
            }
            TC_LONGSTRING => {
                let len_offset = self.r.pos;
                let len = self.r.u64("serialized long string")?;
                let bytes = self.r.sized(len, len_offset, "serialized long string")?;
                self.new_string(offset, bytes)
            }
            TC_CLASSDESC => Ok(Value::ClassDesc(self.new_class_desc(depth)?)),
            TC_PROXYCLASSDESC => Ok(Value::ClassDesc(self.new_proxy_class_desc(depth)?)),
            TC_OBJECT => {
                self.new_object(depth, false)?;
                Ok(Value::Other)
            }
            TC_ARRAY => {
                self.new_array(depth)?;
                Ok(Value::Other)
            }
            TC_CLASS => {
                self.required_class_desc(depth)?;
                self.push(Handle::Other)?;
                Ok(Value::Other)
            }
            TC_ENUM => {
                self.required_class_desc(depth)?;
                self.push(Handle::Other)?;
                let name_offset = self.r.pos;
                match self.content(depth + 1)? {
                    Value::Str(_) => Ok(Value::Other),
                    _ => Err(JksError::Malformed {
                        offset: name_offset,
                        what: "enum constant name string",
                    }),
                }
            }
            _ => Err(JksError::Malformed {
                offset,
                what: "supported Java serialization type code",
            }),
        }
    }

    /// `classDesc`: new descriptor, proxy descriptor, reference or null.
    fn class_desc(&mut self, depth: usize) -> Result<Option<Rc<ClassDesc>>, JksError> {
        self.check_depth(depth)?;
        let offset = self.r.pos;
        let tc = self.r.u8("class descriptor")?;
        match tc {
            TC_NULL => Ok(None),
            TC_CLASSDESC => self.new_class_desc(depth).map(Some),
            TC_PROXYCLASSDESC => self.new_proxy_class_desc(depth).map(Some),
            TC_REFERENCE => match self.reference(offset)? {
                Value::ClassDesc(d) => Ok(Some(d)),
                _ => Err(JksError::Malformed {
                    offset,
                    what: "reference to a class descriptor",
                }),
            },
            _ => Err(JksError::Malformed {
                offset,
                what: "class descriptor (TC_CLASSDESC, TC_PROXYCLASSDESC, TC_REFERENCE or TC_NULL)",
            }),
        }
    }

    fn required_class_desc(&mut self, depth: usize) -> Result<Rc<ClassDesc>, JksError> {
        let offset = self.r.pos;
        self.class_desc(depth + 1)?.ok_or(JksError::Malformed {
            offset,
            what: "non-null class descriptor",
        })
    }

    fn finish_class_desc(
        &mut self,
        handle: usize,
        name: String,
        flags: u8,
        fields: Vec<FieldDesc>,
        depth: usize,
    ) -> Result<Rc<ClassDesc>, JksError> {
        self.annotation(depth + 1)?;
        let super_offset = self.r.pos;
        let super_desc = self.class_desc(depth + 1)?;
        let chain_len = super_desc
            .as_ref()
            .map_or(1, |s| s.chain_len.saturating_add(1));
        if chain_len > MAX_CLASS_CHAIN {
            return Err(JksError::TooLarge {
                offset: super_offset,
                what: "Java class hierarchy depth",
                len: chain_len as u64,
                max: MAX_CLASS_CHAIN as u64,
            });
        }
        let desc = Rc::new(ClassDesc {
            name,
            flags,
            fields,
            super_desc,
            chain_len,
        });
        if let Some(slot) = self.handles.get_mut(handle) {
            *slot = Handle::ClassDesc(Rc::clone(&desc));
        }
        Ok(desc)
    }

    fn placeholder_desc() -> Handle {
        Handle::ClassDesc(Rc::new(ClassDesc {
            name: String::new(),
            flags: 0,
            fields: Vec::new(),
            super_desc: None,
            chain_len: 1,
        }))
    }

    /// After `TC_CLASSDESC`: name, serialVersionUID, flags, fields, annotation, super.
    fn new_class_desc(&mut self, depth: usize) -> Result<Rc<ClassDesc>, JksError> {
        let name = self.r.utf_string("class name")?;
        self.r.take(8, "serialVersionUID")?;
        let handle = self.push(Self::placeholder_desc())?;
        let flags = self.r.u8("class descriptor flags")?;
        let count = self.r.u16("class field count")?;
        let mut fields = Vec::new();
        for _ in 0..count {
            let code_offset = self.r.pos;
            let code = self.r.u8("field type code")?;
            let name = self.r.utf_string("field name")?;
            match code {
                b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' => {}
                b'L' | b'[' => {
                    let type_offset = self.r.pos;
                    if !matches!(self.content(depth + 1)?, Value::Str(_)) {
                        return Err(JksError::Malformed {
                            offset: type_offset,
                            what: "field class name string",
                        });
                    }
                }
                _ => {
                    return Err(JksError::Malformed {
                        offset: code_offset,
                        what: "field type code (one of B C D F I J S Z L [)",
                    });
                }
            }
            fields.push(FieldDesc { code, name });
        }
        self.finish_class_desc(handle, name, flags, fields, depth)
    }

    /// After `TC_PROXYCLASSDESC`: interface names, annotation, super.
    fn new_proxy_class_desc(&mut self, depth: usize) -> Result<Rc<ClassDesc>, JksError> {
        let handle = self.push(Self::placeholder_desc())?;
        let count_offset = self.r.pos;
        let count = self.r.i32("proxy interface count")?;
        if !(0..=MAX_PROXY_INTERFACES).contains(&count) {
            return Err(JksError::Malformed {
                offset: count_offset,
                what: "proxy interface count between 0 and 65535",
            });
        }
        for _ in 0..count {
            self.r.utf("proxy interface name")?;
        }
        self.finish_class_desc(handle, String::new(), SC_SERIALIZABLE, Vec::new(), depth)
    }

    /// `classAnnotation` / `objectAnnotation`: contents up to `TC_ENDBLOCKDATA`.
    fn annotation(&mut self, depth: usize) -> Result<(), JksError> {
        self.check_depth(depth)?;
        loop {
            match self.r.peek_u8("annotation end marker (TC_ENDBLOCKDATA)")? {
                TC_ENDBLOCKDATA => {
                    self.r.u8("annotation end marker")?;
                    return Ok(());
                }
                TC_BLOCKDATA => {
                    self.r.u8("block data")?;
                    let len = self.r.u8("block data length")?;
                    self.r.take(usize::from(len), "block data")?;
                }
                TC_BLOCKDATALONG => {
                    self.r.u8("block data")?;
                    let len_offset = self.r.pos;
                    let len = self.r.i32("long block data length")?;
                    let len = u64::try_from(len).map_err(|_| JksError::Malformed {
                        offset: len_offset,
                        what: "non-negative block data length",
                    })?;
                    self.r.sized(len, len_offset, "long block data")?;
                }
                _ => {
                    self.content(depth + 1)?;
                }
            }
        }
    }

    /// After `TC_OBJECT`: class descriptor, then class data super-first.
    fn new_object(&mut self, depth: usize, capture: bool) -> Result<(), JksError> {
        self.check_depth(depth)?;
        let desc = self.required_class_desc(depth)?;
        self.push(Handle::Other)?;

        if desc.flags & SC_EXTERNALIZABLE != 0 {
            if desc.flags & SC_BLOCK_DATA != 0 {
                return self.annotation(depth + 1);
            }
            return Err(JksError::Malformed {
                offset: self.r.pos,
                what: "externalizable object written in block-data mode",
            });
        }

        let mut chain: Vec<Rc<ClassDesc>> = Vec::with_capacity(desc.chain_len.min(MAX_CLASS_CHAIN));
        let mut cur = Some(desc);
        while let Some(d) = cur {
            cur = d.super_desc.clone();
            chain.push(d);
        }

        for class in chain.iter().rev() {
            if class.flags & SC_SERIALIZABLE == 0 {
                continue;
            }
            let is_sealed = capture && class.name == SEALED_OBJECT_CLASS;
            for field in &class.fields {
                let value = self.field_value(field.code, depth)?;
                if is_sealed && let Value::Str(s) = value {
                    match field.name.as_str() {
                        "sealAlg" => self.seal_alg = Some(s),
                        "paramsAlg" => self.params_alg = Some(s),
                        _ => {}
                    }
                }
            }
            if class.flags & SC_WRITE_METHOD != 0 {
                self.annotation(depth + 1)?;
            }
        }
        Ok(())
    }

    fn field_value(&mut self, code: u8, depth: usize) -> Result<Value, JksError> {
        let size = match code {
            b'B' | b'Z' => 1,
            b'C' | b'S' => 2,
            b'I' | b'F' => 4,
            b'J' | b'D' => 8,
            _ => return self.content(depth + 1),
        };
        self.r.take(size, "primitive field value")?;
        Ok(Value::Null)
    }

    /// After `TC_ARRAY`: class descriptor, size, elements.
    fn new_array(&mut self, depth: usize) -> Result<(), JksError> {
        let desc_offset = self.r.pos;
        let desc = self.required_class_desc(depth)?;
        self.push(Handle::Other)?;
        let size_offset = self.r.pos;
        let size = self.r.i32("array length")?;
        let size = usize::try_from(size).map_err(|_| JksError::Malformed {
            offset: size_offset,
            what: "non-negative array length",
        })?;
        let name = desc.name.as_bytes();
        let width = match (name.first(), name.get(1)) {
            (Some(b'['), Some(b'B' | b'Z')) => 1,
            (Some(b'['), Some(b'C' | b'S')) => 2,
            (Some(b'['), Some(b'I' | b'F')) => 4,
            (Some(b'['), Some(b'J' | b'D')) => 8,
            (Some(b'['), Some(b'L' | b'[')) => 0,
            _ => {
                return Err(JksError::Malformed {
                    offset: desc_offset,
                    what: "array class descriptor (name starting with '[')",
                });
            }
        };
        if width == 0 {
            // Each element takes at least one byte.
            if size > self.r.remaining() {
                return Err(JksError::Truncated {
                    offset: self.r.pos,
                    needed: size,
                    what: "array elements",
                });
            }
            for _ in 0..size {
                self.content(depth + 1)?;
            }
        } else {
            let bytes = size.checked_mul(width).ok_or(JksError::Truncated {
                offset: self.r.pos,
                needed: usize::MAX,
                what: "array elements",
            })?;
            self.r.take(bytes, "array elements")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const PBE_OID_DER: &[u8] = &[
        0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x13, 0x01,
    ];

    fn fixture_path(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name)
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = fixture_path(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    fn find<'s>(store: &'s JavaStore, alias: &str) -> &'s JavaEntry {
        store
            .entries
            .iter()
            .find(|e| e.alias == alias)
            .unwrap_or_else(|| panic!("alias {alias} not found"))
    }

    fn pkcs8_of(entry: &JavaEntry) -> Option<&[u8]> {
        match &entry.body {
            JavaEntryBody::PrivateKey { pkcs8, .. } => pkcs8.as_deref(),
            _ => panic!("{} is not a private key entry", entry.alias),
        }
    }

    // ---- synthetic store construction -------------------------------------

    fn utf(s: &str) -> Vec<u8> {
        let mut v = u16::try_from(s.len())
            .expect("short")
            .to_be_bytes()
            .to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn u32b(n: usize) -> [u8; 4] {
        u32::try_from(n).expect("fits").to_be_bytes()
    }

    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(u8::try_from(n).expect("short"));
        } else {
            v.push(0x82);
            v.extend_from_slice(&u16::try_from(n).expect("fits").to_be_bytes());
        }
        v.extend_from_slice(content);
        v
    }

    fn header(magic: u32, version: u32, count: u32) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        v.extend_from_slice(&version.to_be_bytes());
        v.extend_from_slice(&count.to_be_bytes());
        v
    }

    fn entry_head(tag: u32, alias: &str) -> Vec<u8> {
        let mut v = tag.to_be_bytes().to_vec();
        v.extend(utf(alias));
        v.extend_from_slice(&1_700_000_000_000i64.to_be_bytes());
        v
    }

    fn seal(mut body: Vec<u8>, password: &str) -> Vec<u8> {
        let d = Sha1::new()
            .chain_update(utf16be(password))
            .chain_update(INTEGRITY_SALT)
            .chain_update(&body)
            .finalize();
        body.extend_from_slice(d.as_slice());
        body
    }

    fn jks_protect(plain: &[u8], password: &str, salt: [u8; 20]) -> Vec<u8> {
        let pw = utf16be(password);
        let mut out = salt.to_vec();
        let mut block = salt.to_vec();
        for chunk in plain.chunks(20) {
            block = Sha1::new()
                .chain_update(&pw)
                .chain_update(&block)
                .finalize()
                .to_vec();
            out.extend(chunk.iter().zip(&block).map(|(a, b)| a ^ b));
        }
        out.extend_from_slice(
            Sha1::new()
                .chain_update(&pw)
                .chain_update(plain)
                .finalize()
                .as_slice(),
        );
        out
    }

    fn jks_epki(encrypted: &[u8]) -> Vec<u8> {
        let mut alg = der(DER_OID, OID_JKS_KEY_PROTECTOR);
        alg.extend_from_slice(&[0x05, 0x00]);
        let mut body = der(DER_SEQUENCE, &alg);
        body.extend(der(DER_OCTET_STRING, encrypted));
        der(DER_SEQUENCE, &body)
    }

    fn trusted_cert_entry(alias: &str, cert: &[u8]) -> Vec<u8> {
        let mut v = entry_head(TAG_TRUSTED_CERT, alias);
        v.extend(utf("X.509"));
        v.extend_from_slice(&u32b(cert.len()));
        v.extend_from_slice(cert);
        v
    }

    fn key_entry(alias: &str, epki: &[u8], chain: &[&[u8]]) -> Vec<u8> {
        let mut v = entry_head(TAG_PRIVATE_KEY, alias);
        v.extend_from_slice(&u32b(epki.len()));
        v.extend_from_slice(epki);
        v.extend_from_slice(&u32b(chain.len()));
        for c in chain {
            v.extend(utf("X.509"));
            v.extend_from_slice(&u32b(c.len()));
            v.extend_from_slice(c);
        }
        v
    }

    /// A hand-assembled `ObjectOutputStream` stream shaped like SunJCE's
    /// `SealedObjectForKeyProtector` (with handle references like Java emits).
    fn sealed_object_stream(seal_alg: &str) -> Vec<u8> {
        let mut v = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        v.extend(utf("com.sun.crypto.provider.SealedObjectForKeyProtector"));
        v.extend_from_slice(&[0xCD, 0x57, 0xCA, 0x59, 0xE7, 0x30, 0xBB, 0x53]); // h0
        v.extend_from_slice(&[SC_SERIALIZABLE, 0, 0, TC_ENDBLOCKDATA, TC_CLASSDESC]);
        v.extend(utf(SEALED_OBJECT_CLASS));
        v.extend_from_slice(&[0x3E, 0x36, 0x3D, 0xA6, 0xC3, 0xB7, 0x54, 0x70]); // h1
        v.extend_from_slice(&[SC_SERIALIZABLE, 0, 4]);
        v.push(b'[');
        v.extend(utf("encodedParams"));
        v.push(TC_STRING); // h2
        v.extend(utf("[B"));
        v.push(b'[');
        v.extend(utf("encryptedContent"));
        v.extend_from_slice(&[TC_REFERENCE, 0x00, 0x7E, 0x00, 0x02]);
        v.push(b'L');
        v.extend(utf("paramsAlg"));
        v.push(TC_STRING); // h3
        v.extend(utf("Ljava/lang/String;"));
        v.push(b'L');
        v.extend(utf("sealAlg"));
        v.extend_from_slice(&[TC_REFERENCE, 0x00, 0x7E, 0x00, 0x03]);
        v.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
        // h4 = the object itself; class data for SealedObject:
        v.extend_from_slice(&[TC_ARRAY, TC_CLASSDESC]);
        v.extend(utf("[B")); // h5
        v.extend_from_slice(&[0xAC, 0xF3, 0x17, 0xF8, 0x06, 0x08, 0x54, 0xE0]);
        v.extend_from_slice(&[SC_SERIALIZABLE, 0, 0, TC_ENDBLOCKDATA, TC_NULL]);
        v.extend_from_slice(&3u32.to_be_bytes()); // h6
        v.extend_from_slice(&[1, 2, 3]);
        v.extend_from_slice(&[TC_ARRAY, TC_REFERENCE, 0x00, 0x7E, 0x00, 0x05]); // h7
        v.extend_from_slice(&16u32.to_be_bytes());
        v.extend_from_slice(&[0x55; 16]);
        v.push(TC_STRING); // h8
        v.extend(utf("PBEWithMD5AndTripleDES"));
        v.push(TC_STRING); // h9
        v.extend(utf(seal_alg));
        v
    }

    // ---- fixtures made by keytool ------------------------------------------

    #[test]
    fn detects_magic() {
        let jks = fixture("jks/keytool-rsa.jks");
        let jceks = fixture("jceks/mixed.jceks");
        assert_eq!(is_java_store(&jks), Some(JavaStoreKind::Jks));
        assert_eq!(is_java_store(&jceks), Some(JavaStoreKind::Jceks));
        assert_eq!(is_java_store(b"\x30\x82\x01\x00"), None);
        assert_eq!(is_java_store(b"\xFE\xED"), None);
        assert!(matches!(
            parse(b"hello world", None, None),
            Err(JksError::NotJavaKeystore)
        ));
        assert!(matches!(
            parse(b"", None, None),
            Err(JksError::NotJavaKeystore)
        ));
        assert!(matches!(
            parse(b"\xFE\xED", None, None),
            Err(JksError::Truncated { offset: 0, .. })
        ));
    }

    #[test]
    fn rsa_key_decrypts_and_matches_openssl() {
        let data = fixture("jks/keytool-rsa.jks");
        let store = parse(&data, Some("changeit"), None).expect("parse");
        assert_eq!(store.kind, JavaStoreKind::Jks);
        assert_eq!(store.version, 2);
        assert!(store.integrity_checked);
        assert_eq!(store.entries.len(), 1);
        let entry = find(&store, "mykey");
        assert!(entry.timestamp_ms > 1_500_000_000_000);
        let JavaEntryBody::PrivateKey {
            pkcs8,
            protection,
            chain,
            cert_types,
        } = &entry.body
        else {
            panic!("mykey is not a private key");
        };
        assert_eq!(*protection, KeyProtection::JksSunProprietary);
        assert_eq!(chain.len(), 1);
        assert_eq!(cert_types, &["X.509".to_owned()]);
        let pkcs8 = pkcs8.as_deref().expect("decrypted");
        assert!(is_der_sequence(pkcs8));
        assert_eq!(pkcs8.first(), Some(&0x30));
        // rsaEncryption OID 1.2.840.113549.1.1.1 inside the AlgorithmIdentifier
        let rsa_oid = [
            0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
        ];
        assert!(pkcs8.windows(rsa_oid.len()).any(|w| w == rsa_oid));
        if let Some(reference) =
            openssl_reference_pkcs8(&fixture_path("jks/keytool-rsa.jks"), "mykey", "changeit")
        {
            // OpenSSL 3.0 `pkey -outform DER` writes RSA keys as PKCS#1
            // RSAPrivateKey, other versions as PKCS#8: accept either form.
            let inner = pkcs8_private_key(pkcs8);
            assert!(
                reference == pkcs8 || reference == inner,
                "decrypted key differs from the openssl reference"
            );
        }
    }

    /// `PrivateKeyInfo.privateKey` contents (for RSA: the PKCS#1 RSAPrivateKey).
    fn pkcs8_private_key(pkcs8: &[u8]) -> &[u8] {
        let mut outer = Der::new(pkcs8, 0);
        let seq = outer
            .expect(DER_SEQUENCE, "PrivateKeyInfo")
            .expect("PrivateKeyInfo");
        let mut body = Der::new(seq.content, 0);
        body.expect(DER_INTEGER, "version").expect("version");
        body.expect(DER_SEQUENCE, "algorithm").expect("algorithm");
        body.expect(DER_OCTET_STRING, "privateKey")
            .expect("privateKey")
            .content
    }

    /// keytool -importkeystore -> PKCS12 -> openssl pkcs12 -nocerts -nodes ->
    /// openssl pkey -outform DER. `None` when keytool or openssl is missing.
    fn openssl_reference_pkcs8(jks: &Path, alias: &str, password: &str) -> Option<Vec<u8>> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("credkit-jks-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let p12 = dir.join("k.p12");
        let pem = dir.join("k.pem");
        let der_path = dir.join("k.der");
        let pass = format!("pass:{password}");
        let mut keytool = Command::new("keytool");
        keytool
            .args(["-importkeystore", "-noprompt", "-srcstoretype", "JKS"])
            .args(["-srcstorepass", password, "-srcalias", alias])
            .args(["-deststoretype", "PKCS12", "-deststorepass", password])
            .arg("-srckeystore")
            .arg(jks)
            .arg("-destkeystore")
            .arg(&p12);
        let mut pkcs12 = Command::new("openssl");
        pkcs12
            .args(["pkcs12", "-nocerts", "-nodes", "-passin", &pass, "-in"])
            .arg(&p12)
            .arg("-out")
            .arg(&pem);
        let mut pkey = Command::new("openssl");
        pkey.args(["pkey", "-outform", "DER", "-in"])
            .arg(&pem)
            .arg("-out")
            .arg(&der_path);
        let result = Some(());
        for cmd in [&mut keytool, &mut pkcs12, &mut pkey] {
            match cmd.output() {
                Err(e) => panic!(
                    "running {cmd:?}: {e} (the test command `bash scripts/test.sh` installs keytool and openssl)"
                ),
                Ok(out) => assert!(
                    out.status.success(),
                    "{cmd:?} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        let result = result.map(|()| std::fs::read(&der_path).expect("openssl output"));
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn business_pair_lists_chains_and_decrypts() {
        let data = fixture("jks/business-pair.jks");
        let store = parse(&data, Some("changeit"), None).expect("parse");
        assert!(store.integrity_checked);
        assert_eq!(store.entries.len(), 3);
        let JavaEntryBody::TrustedCert {
            cert: root,
            cert_type,
        } = &find(&store, "testroot").body
        else {
            panic!("testroot is not a trusted cert");
        };
        assert_eq!(cert_type, "X.509");
        for alias in ["auth", "sign"] {
            let entry = find(&store, alias);
            let JavaEntryBody::PrivateKey {
                pkcs8,
                protection,
                chain,
                cert_types,
            } = &entry.body
            else {
                panic!("{alias} is not a key");
            };
            assert_eq!(*protection, KeyProtection::JksSunProprietary);
            assert_eq!(chain.len(), 3);
            assert_eq!(cert_types.len(), 3);
            assert!(cert_types.iter().all(|t| t == "X.509"));
            assert!(chain.iter().all(|c| is_der_sequence(c)));
            assert_eq!(chain.last(), Some(root), "chain ends with the root");
            assert_ne!(chain.first(), Some(root), "leaf first");
            assert!(chain.first() != chain.get(1) && chain.get(1) != chain.get(2));
            assert!(is_der_sequence(pkcs8.as_deref().expect("decrypted")));
        }
        // A wrong key password falls back to the store password.
        let store = parse(&data, Some("changeit"), Some("not-the-key-password")).expect("fallback");
        assert!(pkcs8_of(find(&store, "auth")).is_some());
    }

    #[test]
    fn wrong_store_password_fails_integrity() {
        for (name, pw) in [
            ("jks/keytool-rsa.jks", "changeme"),
            ("jks/truststore.jks", ""),
            ("jceks/mixed.jceks", "Changeit"),
        ] {
            let data = fixture(name);
            assert!(
                matches!(
                    parse(&data, Some(pw), None),
                    Err(JksError::IntegrityCheckFailed)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn no_password_lists_without_decrypting() {
        for name in [
            "jks/keytool-rsa.jks",
            "jks/business-pair.jks",
            "jks/keypass-differs.jks",
            "jks/nonascii.jks",
            "jks/truststore.jks",
            "jceks/mixed.jceks",
        ] {
            let data = fixture(name);
            let store = parse(&data, None, None).expect(name);
            assert!(!store.integrity_checked);
            assert!(!store.entries.is_empty());
            for e in &store.entries {
                if let JavaEntryBody::PrivateKey { pkcs8, chain, .. } = &e.body {
                    assert!(pkcs8.is_none());
                    assert!(!chain.is_empty());
                }
            }
            // Key password alone does not decrypt without the store password.
            let store = parse(&data, None, Some("changeit")).expect(name);
            assert!(!store.integrity_checked);
        }
    }

    #[test]
    fn key_password_differs() {
        let data = fixture("jks/keypass-differs.jks");
        let store = parse(&data, Some("changeit"), Some("keypass1")).expect("parse");
        let pkcs8 = pkcs8_of(find(&store, "mykey")).expect("decrypted");
        assert!(is_der_sequence(pkcs8));
        for key_pw in [None, Some("changeit"), Some("keypass2")] {
            match parse(&data, Some("changeit"), key_pw) {
                Err(JksError::WrongKeyPassword { alias }) => assert_eq!(alias, "mykey"),
                other => panic!("expected WrongKeyPassword, got {other:?}"),
            }
        }
    }

    #[test]
    fn non_ascii_password() {
        let data = fixture("jks/nonascii.jks");
        let store = parse(&data, Some("pässwörd"), None).expect("parse");
        assert!(store.integrity_checked);
        assert!(is_der_sequence(
            pkcs8_of(find(&store, "mykey")).expect("decrypted")
        ));
        assert!(matches!(
            parse(&data, Some("passwort"), None),
            Err(JksError::IntegrityCheckFailed)
        ));
        // Latin-1 bytes vs UTF-16: a lookalike password must not verify.
        assert!(matches!(
            parse(&data, Some("pa\u{0308}sswo\u{0308}rd"), None),
            Err(JksError::IntegrityCheckFailed)
        ));
    }

    #[test]
    fn truststore_lists_certs() {
        let data = fixture("jks/truststore.jks");
        let store = parse(&data, Some("changeit"), None).expect("parse");
        assert!(store.integrity_checked);
        assert!(!store.entries.is_empty());
        for e in &store.entries {
            let JavaEntryBody::TrustedCert { cert, cert_type } = &e.body else {
                panic!("{} is not a trusted cert", e.alias);
            };
            assert_eq!(cert_type, "X.509");
            assert!(is_der_sequence(cert));
        }
    }

    #[test]
    fn jceks_mixed() {
        let data = fixture("jceks/mixed.jceks");
        let store = parse(&data, Some("changeit"), None).expect("parse");
        assert_eq!(store.kind, JavaStoreKind::Jceks);
        assert!(store.integrity_checked);
        assert_eq!(store.entries.len(), 4);
        let key = find(&store, "mykey");
        let JavaEntryBody::PrivateKey {
            pkcs8, protection, ..
        } = &key.body
        else {
            panic!("mykey is not a key");
        };
        assert_eq!(*protection, KeyProtection::JcePbeWithMd5AndTripleDes);
        assert!(is_der_sequence(pkcs8.as_deref().expect("decrypted")));
        assert!(matches!(
            find(&store, "testroot").body,
            JavaEntryBody::TrustedCert { .. }
        ));
        for alias in ["aeskey", "hmackey"] {
            let JavaEntryBody::Secret {
                seal_algorithm,
                params_algorithm,
            } = &find(&store, alias).body
            else {
                panic!("{alias} is not a secret");
            };
            assert_eq!(seal_algorithm.as_deref(), Some("PBEWithMD5AndTripleDES"));
            assert_eq!(params_algorithm.as_deref(), Some("PBEWithMD5AndTripleDES"));
        }
        assert!(parse(&data, Some("changeit"), Some("wrong")).is_ok());
        // Non-ASCII key password cannot be a JCEKS key password; falls back to store pw.
        assert!(parse(&data, Some("changeit"), Some("pässwörd")).is_ok());
    }

    #[test]
    fn jceks_wrong_key_password() {
        // A JCEKS key can only be tried with printable-ASCII passwords; build a
        // store whose integrity uses one password and key another.
        let data = fixture("jceks/mixed.jceks");
        let store = parse(&data, None, None).expect("parse");
        assert!(!store.integrity_checked);
        // Re-seal the same contents under a different store password, so the
        // key password "changeit" is no longer the store password.
        let body = data.get(..data.len() - 20).expect("len").to_vec();
        let resealed = seal(body, "other");
        match parse(&resealed, Some("other"), None) {
            Err(JksError::WrongKeyPassword { alias }) => assert_eq!(alias, "mykey"),
            other => panic!("expected WrongKeyPassword, got {other:?}"),
        }
        assert!(parse(&resealed, Some("other"), Some("changeit")).is_ok());
        assert!(matches!(
            parse(&resealed, Some("other"), Some("pässwörd")),
            Err(JksError::WrongKeyPassword { .. })
        ));
    }

    // ---- robustness ---------------------------------------------------------

    #[test]
    fn truncation_and_bit_flips_never_panic() {
        for (name, pw) in [
            ("jks/keytool-rsa.jks", "changeit"),
            ("jks/business-pair.jks", "changeit"),
            ("jks/keypass-differs.jks", "changeit"),
            ("jks/nonascii.jks", "pässwörd"),
            ("jks/truststore.jks", "changeit"),
            ("jceks/mixed.jceks", "changeit"),
        ] {
            let data = fixture(name);
            for n in 0..data.len() {
                let cut = data.get(..n).expect("prefix");
                assert!(parse(cut, None, None).is_err(), "{name} cut at {n}");
                assert!(parse(cut, Some(pw), None).is_err(), "{name} cut at {n}");
            }
            let mut buf = data.clone();
            for i in 0..buf.len() {
                if let Some(b) = buf.get_mut(i) {
                    *b ^= 0xFF;
                }
                let _ = parse(&buf, None, None);
                let _ = parse(&buf, Some(pw), None);
                if let Some(b) = buf.get_mut(i) {
                    *b ^= 0xFF;
                }
            }
        }
    }

    #[test]
    fn truncation_and_bit_flips_of_synthetic_jceks() {
        let data = synthetic_jceks("pw");
        assert!(parse(&data, Some("pw"), None).is_ok());
        for n in 0..data.len() {
            assert!(parse(data.get(..n).expect("prefix"), Some("pw"), None).is_err());
        }
        let mut buf = data.clone();
        for i in 0..buf.len() {
            for mask in [0xFF, 0x01, 0x80] {
                if let Some(b) = buf.get_mut(i) {
                    *b ^= mask;
                }
                let _ = parse(&buf, None, None);
                if let Some(b) = buf.get_mut(i) {
                    *b ^= mask;
                }
            }
        }
    }

    // ---- synthetic stores ---------------------------------------------------

    fn synthetic_pkcs8() -> Vec<u8> {
        // Not a real key, just a PKCS#8-shaped SEQUENCE.
        let mut body = der(DER_INTEGER, &[0]);
        body.extend(der(DER_SEQUENCE, &der(DER_OID, &[0x2B, 0x65, 0x70])));
        body.extend(der(DER_OCTET_STRING, &[7; 34]));
        der(DER_SEQUENCE, &body)
    }

    fn synthetic_jceks(password: &str) -> Vec<u8> {
        let cert = der(DER_SEQUENCE, &[0x05, 0x00]);
        let epki = jks_epki(&jks_protect(&synthetic_pkcs8(), password, [3; 20]));
        let mut v = header(MAGIC_JCEKS, 2, 4);
        v.extend(entry_head(TAG_SECRET_KEY, "s1"));
        v.extend(sealed_object_stream("PBEWithMD5AndTripleDES"));
        v.extend(entry_head(TAG_SECRET_KEY, "s2"));
        v.extend(sealed_object_stream("AES"));
        v.extend(trusted_cert_entry("ca", &cert));
        v.extend(key_entry("k", &epki, &[&cert]));
        seal(v, password)
    }

    #[test]
    fn synthetic_jceks_secrets_then_more_entries() {
        let data = synthetic_jceks("pw");
        let store = parse(&data, Some("pw"), None).expect("parse");
        let aliases: Vec<&str> = store.entries.iter().map(|e| e.alias.as_str()).collect();
        assert_eq!(aliases, ["s1", "s2", "ca", "k"]);
        let JavaEntryBody::Secret { seal_algorithm, .. } = &find(&store, "s2").body else {
            panic!("s2 not a secret");
        };
        assert_eq!(seal_algorithm.as_deref(), Some("AES"));
        // JKS-protected key inside a JCEKS store (what importkeystore can leave).
        assert_eq!(
            pkcs8_of(find(&store, "k")),
            Some(synthetic_pkcs8().as_slice())
        );
        assert_eq!(find(&store, "k").timestamp_ms, 1_700_000_000_000);
    }

    #[test]
    fn synthetic_jks_roundtrip_and_structure_errors() {
        let pkcs8 = synthetic_pkcs8();
        let cert = der(DER_SEQUENCE, &[0x05, 0x00]);
        let epki = jks_epki(&jks_protect(&pkcs8, "pw", [9; 20]));
        let mut body = header(MAGIC_JKS, 2, 2);
        body.extend(key_entry("k", &epki, &[&cert, &cert]));
        body.extend(trusted_cert_entry("t", &cert));
        let good = seal(body.clone(), "pw");
        let store = parse(&good, Some("pw"), None).expect("parse");
        assert_eq!(pkcs8_of(find(&store, "k")), Some(pkcs8.as_slice()));

        // trailing data between last entry and digest
        let mut trailing = body.clone();
        trailing.push(0);
        let trailing = seal(trailing, "pw");
        assert!(matches!(
            parse(&trailing, Some("pw"), None),
            Err(JksError::TrailingData { offset }) if offset == body.len()
        ));

        // secret-key tag in a JKS file
        let mut bad_tag = header(MAGIC_JKS, 2, 1);
        bad_tag.extend(entry_head(TAG_SECRET_KEY, "x"));
        assert!(matches!(
            parse(&seal(bad_tag, "pw"), None, None),
            Err(JksError::BadEntryTag { offset: 12, tag: 3 })
        ));
        let mut bad_tag = header(MAGIC_JCEKS, 2, 1);
        bad_tag.extend(entry_head(7, "x"));
        assert!(matches!(
            parse(&seal(bad_tag, "pw"), None, None),
            Err(JksError::BadEntryTag { offset: 12, tag: 7 })
        ));

        // unsupported version
        let v3 = seal(header(MAGIC_JKS, 3, 0), "pw");
        assert!(matches!(
            parse(&v3, None, None),
            Err(JksError::UnsupportedVersion { version: 3 })
        ));

        // empty v1 store is fine
        let empty = seal(header(MAGIC_JKS, 1, 0), "pw");
        let store = parse(&empty, Some("pw"), None).expect("empty");
        assert_eq!(store.version, 1);
        assert!(store.entries.is_empty());

        // caps
        let many = seal(header(MAGIC_JKS, 2, 10_001), "pw");
        assert!(matches!(
            parse(&many, None, None),
            Err(JksError::TooLarge {
                offset: 8,
                len: 10_001,
                max: 10_000,
                ..
            })
        ));
        let mut huge_blob = header(MAGIC_JKS, 2, 1);
        huge_blob.extend(entry_head(TAG_PRIVATE_KEY, "k"));
        huge_blob.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            parse(&huge_blob, None, None),
            Err(JksError::TooLarge { offset: 27, .. })
        ));
        let mut long_chain = header(MAGIC_JKS, 2, 1);
        long_chain.extend(entry_head(TAG_PRIVATE_KEY, "k"));
        long_chain.extend_from_slice(&u32b(epki.len()));
        long_chain.extend_from_slice(&epki);
        long_chain.extend_from_slice(&101u32.to_be_bytes());
        assert!(matches!(
            parse(&long_chain, None, None),
            Err(JksError::TooLarge {
                len: 101,
                max: 100,
                ..
            })
        ));
        // blob claims more than remains
        let mut short = header(MAGIC_JKS, 2, 1);
        short.extend(trusted_cert_entry("t", &cert));
        short.truncate(short.len() - 1);
        assert!(matches!(
            parse(&short, None, None),
            Err(JksError::Truncated {
                what: "certificate",
                ..
            })
        ));
    }

    #[test]
    fn v1_store_has_no_cert_type_strings() {
        let cert = der(DER_SEQUENCE, &[0x05, 0x00]);
        let mut body = header(MAGIC_JKS, 1, 1);
        body.extend(entry_head(TAG_TRUSTED_CERT, "t"));
        body.extend_from_slice(&u32b(cert.len()));
        body.extend_from_slice(&cert);
        let store = parse(&seal(body, "pw"), Some("pw"), None).expect("v1");
        let JavaEntryBody::TrustedCert { cert: c, cert_type } = &find(&store, "t").body else {
            panic!("not a cert");
        };
        assert_eq!(c, &cert);
        assert_eq!(cert_type, "X.509");
    }

    #[test]
    fn modified_utf8_aliases() {
        // "a", NUL as C0 80, U+00E9, U+1F600 as a surrogate pair of 3-byte sequences
        let alias_bytes: &[u8] = &[
            b'a', 0xC0, 0x80, 0xC3, 0xA9, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80,
        ];
        assert_eq!(
            decode_modified_utf8(alias_bytes).as_deref(),
            Some("a\0\u{e9}\u{1F600}")
        );
        assert_eq!(decode_modified_utf8(&[0xED, 0xA0, 0xBD]), None); // lone surrogate
        assert_eq!(decode_modified_utf8(&[0xF0, 0x9F, 0x98, 0x80]), None); // 4-byte form
        assert_eq!(decode_modified_utf8(&[0xC3]), None);
        assert_eq!(decode_modified_utf8(&[0xE2, 0x82]), None);
        assert_eq!(decode_modified_utf8(&[0x80]), None);

        let cert = der(DER_SEQUENCE, &[]);
        let mut body = header(MAGIC_JKS, 2, 1);
        body.extend_from_slice(&TAG_TRUSTED_CERT.to_be_bytes());
        body.extend_from_slice(u32b(alias_bytes.len()).get(2..).expect("u16"));
        body.extend_from_slice(alias_bytes);
        body.extend_from_slice(&0i64.to_be_bytes());
        body.extend(utf("X.509"));
        body.extend_from_slice(&u32b(cert.len()));
        body.extend_from_slice(&cert);
        let store = parse(&seal(body, "pw"), Some("pw"), None).expect("parse");
        assert_eq!(find(&store, "a\0\u{e9}\u{1F600}").timestamp_ms, 0);

        let mut bad = header(MAGIC_JKS, 2, 1);
        bad.extend_from_slice(&TAG_TRUSTED_CERT.to_be_bytes());
        bad.extend_from_slice(&[0, 2, 0xFF, 0xFE]);
        assert!(matches!(
            parse(&bad, None, None),
            Err(JksError::BadAlias { offset: 16 })
        ));
    }

    #[test]
    fn key_protection_errors() {
        let cert = der(DER_SEQUENCE, &[]);
        let build = |epki: &[u8]| {
            let mut body = header(MAGIC_JKS, 2, 1);
            body.extend(key_entry("k", epki, &[&cert]));
            seal(body, "pw")
        };
        // PBES2 OID 1.2.840.113549.1.5.13 is not a Java keystore protection
        let mut alg = der(
            DER_OID,
            &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D],
        );
        alg.extend(der(DER_SEQUENCE, &[]));
        let mut seq = der(DER_SEQUENCE, &alg);
        seq.extend(der(DER_OCTET_STRING, &[0; 16]));
        match parse(&build(&der(DER_SEQUENCE, &seq)), None, None) {
            Err(JksError::UnsupportedKeyProtection { alias, oid }) => {
                assert_eq!(alias, "k");
                assert_eq!(oid, "1.2.840.113549.1.5.13");
            }
            other => panic!("expected UnsupportedKeyProtection, got {other:?}"),
        }
        // not DER at all
        assert!(matches!(
            parse(&build(&[0x04, 0x01, 0x00]), None, None),
            Err(JksError::Malformed { offset: 31, .. })
        ));
        // DER length running past the blob
        assert!(matches!(
            parse(&build(&[0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF]), None, None),
            Err(JksError::Malformed { .. })
        ));
        // JKS protector with too little data
        assert!(matches!(
            parse(&build(&jks_epki(&[0; 39])), None, None),
            Err(JksError::Malformed { .. })
        ));
        // wrong password -> WrongKeyPassword
        let epki = jks_epki(&jks_protect(&synthetic_pkcs8(), "other", [1; 20]));
        assert!(matches!(
            parse(&build(&epki), Some("pw"), None),
            Err(JksError::WrongKeyPassword { .. })
        ));
        // PBE iteration cap
        let pbe = |iterations: &[u8], ct: &[u8]| {
            let mut params = der(DER_OCTET_STRING, &[1, 2, 3, 4, 5, 6, 7, 8]);
            params.extend(der(DER_INTEGER, iterations));
            let mut alg = PBE_OID_DER.to_vec();
            alg.extend(der(DER_SEQUENCE, &params));
            let mut seq = der(DER_SEQUENCE, &alg);
            seq.extend(der(DER_OCTET_STRING, ct));
            der(DER_SEQUENCE, &seq)
        };
        assert!(matches!(
            parse(&build(&pbe(&[0x00, 0x98, 0x96, 0x81], &[0; 8])), None, None),
            Err(JksError::TooLarge {
                len: 10_000_001,
                max: 10_000_000,
                ..
            })
        ));
        assert!(matches!(
            parse(&build(&pbe(&[0x7F; 20], &[0; 8])), None, None),
            Err(JksError::TooLarge { .. })
        ));
        assert!(matches!(
            parse(&build(&pbe(&[0], &[0; 8])), None, None),
            Err(JksError::Malformed { .. })
        ));
        assert!(matches!(
            parse(&build(&pbe(&[0x80], &[0; 8])), None, None),
            Err(JksError::Malformed { .. })
        ));
        assert!(matches!(
            parse(&build(&pbe(&[1], &[0; 7])), None, None),
            Err(JksError::Malformed { .. })
        ));
        let store = parse(&build(&pbe(&[1], &[0; 16])), None, None).expect("listing");
        assert!(matches!(
            store.entries.first().map(|e| &e.body),
            Some(JavaEntryBody::PrivateKey {
                protection: KeyProtection::JcePbeWithMd5AndTripleDes,
                pkcs8: None,
                ..
            })
        ));
        assert!(matches!(
            parse(&build(&pbe(&[1], &[0; 16])), Some("pw"), None),
            Err(JksError::WrongKeyPassword { .. })
        ));

        // Three keys at the per-key maximum exceed the per-store budget; this
        // must fail before any key derivation runs.
        let ten_million = pbe(&[0x00, 0x98, 0x96, 0x80], &[0; 8]);
        let mut body = header(MAGIC_JCEKS, 2, 3);
        for alias in ["a", "b", "c"] {
            body.extend(key_entry(alias, &ten_million, &[&cert]));
        }
        let started = std::time::Instant::now();
        assert!(matches!(
            parse(&seal(body.clone(), "pw"), Some("pw"), None),
            Err(JksError::TooLarge {
                len: 30_000_000,
                max: 20_000_000,
                ..
            })
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(parse(&seal(body, "pw"), None, None).is_ok());
    }

    /// Vectors from SunJCE `Cipher.getInstance("PBEWithMD5AndTripleDES")`,
    /// password "changeit", 1000 iterations.
    #[test]
    fn pbe_md5_3des_matches_sunjce() {
        let plain = [
            0x30, 0x0b, 0x02, 0x01, 0x00, 0x04, 0x06, b'h', b'e', b'l', b'l', b'o', b'!',
        ];
        let equal_halves: [u8; 16] = [
            0xbc, 0x7f, 0xe8, 0xf3, 0x81, 0x03, 0xd5, 0x80, 0xe6, 0xc6, 0xb9, 0x4b, 0x05, 0x76,
            0xff, 0x98,
        ];
        let distinct: [u8; 16] = [
            0x82, 0x47, 0xc0, 0xf5, 0x8e, 0x10, 0xb5, 0xe4, 0x96, 0x09, 0x1a, 0x51, 0x01, 0x22,
            0xfb, 0x85,
        ];
        assert_eq!(
            pbe_md5_3des_decrypt(&equal_halves, [1, 2, 3, 4, 1, 2, 3, 4], 1000, b"changeit")
                .as_deref(),
            Some(plain.as_slice())
        );
        assert_eq!(
            pbe_md5_3des_decrypt(&distinct, [9, 8, 7, 6, 5, 4, 3, 2], 1000, b"changeit").as_deref(),
            Some(plain.as_slice())
        );
        assert_ne!(
            pbe_md5_3des_decrypt(&distinct, [9, 8, 7, 6, 5, 4, 3, 2], 1000, b"changeiT").as_deref(),
            Some(plain.as_slice())
        );
        assert_eq!(jce_password_bytes("ch\u{e4}ngeit"), None);
        assert_eq!(jce_password_bytes("tab\t"), None);
        assert_eq!(jce_password_bytes("\0"), Some(vec![0]));
        assert_eq!(jce_password_bytes("a b~"), Some(b"a b~".to_vec()));
    }

    #[test]
    fn serialization_walker_limits() {
        let wrap = |stream: &[u8]| {
            let mut v = header(MAGIC_JCEKS, 2, 1);
            v.extend(entry_head(TAG_SECRET_KEY, "s"));
            v.extend_from_slice(stream);
            seal(v, "pw")
        };
        // Deeply nested objects: class X { Object f; } x.f = new X(...) ...
        let mut deep = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        deep.extend(utf("X"));
        deep.extend_from_slice(&[0; 8]);
        deep.extend_from_slice(&[SC_SERIALIZABLE, 0, 1, b'L']);
        deep.extend(utf("f"));
        deep.push(TC_STRING);
        deep.extend(utf("Ljava/lang/Object;"));
        deep.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
        for _ in 0..5000 {
            deep.extend_from_slice(&[TC_OBJECT, TC_REFERENCE, 0x00, 0x7E, 0x00, 0x00]);
        }
        deep.push(TC_NULL);
        assert!(matches!(
            parse(&wrap(&deep), None, None),
            Err(JksError::TooLarge {
                what: "Java serialization nesting depth",
                ..
            })
        ));

        // Self-referencing superclass resolves to the placeholder, no loop.
        let mut selfref = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
        selfref.extend(utf("Y"));
        selfref.extend_from_slice(&[0; 8]);
        selfref.extend_from_slice(&[SC_SERIALIZABLE, 0, 0, TC_ENDBLOCKDATA]);
        selfref.extend_from_slice(&[TC_REFERENCE, 0x00, 0x7E, 0x00, 0x00]);
        assert!(parse(&wrap(&selfref), None, None).is_ok());

        // Dangling reference
        let dangling = [
            0xAC,
            0xED,
            0x00,
            0x05,
            TC_OBJECT,
            TC_REFERENCE,
            0x00,
            0x7E,
            0x00,
            0x09,
        ];
        assert!(matches!(
            parse(&wrap(&dangling), None, None),
            Err(JksError::Malformed { .. })
        ));

        // Array length far beyond the input
        let mut arr = sealed_object_stream("x");
        let pos = arr
            .windows(4)
            .position(|w| w == 3u32.to_be_bytes())
            .expect("array length");
        if let Some(s) = arr.get_mut(pos..pos + 4) {
            s.copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
        }
        assert!(matches!(
            parse(&wrap(&arr), None, None),
            Err(JksError::Truncated {
                what: "array elements",
                ..
            })
        ));

        // Not a serialization stream
        assert!(matches!(
            parse(&wrap(&[0xAC, 0xEE, 0, 5]), None, None),
            Err(JksError::Malformed { offset: 27, .. })
        ));
    }

    #[test]
    fn error_messages_say_what_and_where() {
        let e = JksError::Truncated {
            offset: 12,
            needed: 4,
            what: "entry tag",
        };
        assert_eq!(
            e.to_string(),
            "truncated keystore: expected 4 byte(s) of entry tag at offset 12, but the input ends first"
        );
        let e = JksError::WrongKeyPassword {
            alias: "evil\u{1b}[2J".to_owned(),
        };
        assert!(!e.to_string().contains('\u{1b}'), "control chars escaped");
        let e = JksError::Malformed {
            offset: 31,
            what: "EncryptedPrivateKeyInfo SEQUENCE",
        };
        assert_eq!(
            e.to_string(),
            "malformed keystore at offset 31: expected EncryptedPrivateKeyInfo SEQUENCE"
        );
    }
}
