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
//!
//! The tree: the container's entries in `container.rs`, the key
//! protectors in `protect.rs` (their DER read with [`crate::asn1::Reader`]),
//! the serialization walker in `serial.rs`, and the `DataInput` byte reader
//! both use in `input.rs`.

mod container;
mod input;
mod protect;
mod serial;
#[cfg(test)]
mod tests;

use container::parse_entry;
use input::Reader;
use protect::{PendingKey, Protected, recover_key};
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
    },
    /// A trusted certificate.
    TrustedCert {
        /// Certificate DER.
        cert: Vec<u8>,
    },
    /// JCEKS only: a Java-serialized `SealedObject`; listed, never decrypted.
    Secret {
        /// `sealAlg` field of the sealed object, if found.
        seal_algorithm: Option<String>,
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

/// Errors from reading a JKS or JCEKS file. Offsets are byte offsets into the input.
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
/// The longest byte run (a key, a certificate, a string) read.
const MAX_BLOB: u64 = 1 << 20;
/// Cap on the sum of the PBE iteration counts of all keys in one store.
const MAX_TOTAL_PBE_ITERATIONS: u64 = 20_000_000;
/// SHA-1 digests: the store's integrity check and the JKS protector's.
const DIGEST_LEN: usize = 20;

const INTEGRITY_SALT: &[u8] = b"Mighty Aphrodite";

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
    let kind = kind_of(data)?;
    let mut r = Reader::new(data);
    let (version, count) = read_header(&mut r)?;
    let (mut entries, pending) = read_entries(&mut r, kind, version, count)?;
    let (digest_offset, stored_digest) = read_digest(&mut r)?;

    let Some(store_pw) = store_password else {
        return Ok(JavaStore {
            version,
            entries,
            integrity_checked: false,
        });
    };
    check_integrity(data, digest_offset, stored_digest, store_pw)?;
    check_pbe_budget(&pending)?;
    decrypt_keys(&mut entries, pending, store_pw, key_password)?;
    Ok(JavaStore {
        version,
        entries,
        integrity_checked: true,
    })
}

/// The format, from the magic number (a short prefix of one is truncation).
fn kind_of(data: &[u8]) -> Result<JavaStoreKind, JksError> {
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
    Ok(kind)
}

/// Magic, version and entry count.
fn read_header(r: &mut Reader<'_>) -> Result<(u32, u32), JksError> {
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
    Ok((version, count))
}

/// The entries, and each private key's protected material.
fn read_entries<'a>(
    r: &mut Reader<'a>,
    kind: JavaStoreKind,
    version: u32,
    count: u32,
) -> Result<(Vec<JavaEntry>, Vec<PendingKey<'a>>), JksError> {
    let mut entries = Vec::new();
    let mut pending: Vec<PendingKey<'_>> = Vec::new();
    for _ in 0..count {
        let (entry, key) = parse_entry(r, kind, version)?;
        if let Some(key) = key {
            pending.push(PendingKey {
                index: entries.len(),
                key,
            });
        }
        entries.push(entry);
    }
    Ok((entries, pending))
}

/// The trailing SHA-1, which must end the file.
fn read_digest<'a>(r: &mut Reader<'a>) -> Result<(usize, &'a [u8]), JksError> {
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
    Ok((digest_offset, stored_digest))
}

/// The SHA-1 over password, salt and contents matches.
fn check_integrity(
    data: &[u8],
    digest_offset: usize,
    stored_digest: &[u8],
    store_pw: &str,
) -> Result<(), JksError> {
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
    Ok(())
}

/// Bound the CPU spent on PBE key derivation for the whole store before
/// doing any of it (each key is capped separately at parse time).
fn check_pbe_budget(pending: &[PendingKey<'_>]) -> Result<(), JksError> {
    let mut total_iterations: u64 = 0;
    for p in pending {
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
    Ok(())
}

/// Each private key, decrypted into its entry.
fn decrypt_keys(
    entries: &mut [JavaEntry],
    pending: Vec<PendingKey<'_>>,
    store_pw: &str,
    key_password: Option<&str>,
) -> Result<(), JksError> {
    for p in pending {
        let Some(entry) = entries.get_mut(p.index) else {
            continue;
        };
        let pkcs8_out = recover_key(&entry.alias, &p.key, store_pw, key_password)?;
        if let JavaEntryBody::PrivateKey { pkcs8, .. } = &mut entry.body {
            *pkcs8 = Some(pkcs8_out);
        }
    }
    Ok(())
}

fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
