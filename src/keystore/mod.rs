//! Keystore and key-file readers. The format is detected from the content,
//! never from the file name.

// The `inspect` command's report (and a fuzz target's).
fuzz_visible! {
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    mod inspect;
}
fuzz_visible! { mod java; }
fuzz_visible! { mod jwk; }
pub(crate) mod model;
pub(crate) mod named;
fuzz_visible! { mod pbe; }
fuzz_visible! { mod pem; }
fuzz_visible! { mod pkcs12; }
pub(crate) mod pkcs7;
// Alias selection for the command layer (`--alias`).
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) mod select;
pub mod write;

pub use java::JksError;
pub use model::{
    EmptyPasswordEncoding, EmptyPasswordReport, Entry, EntryKind, Format, MacInfo,
    Pkcs12Protection, Store,
};
pub use pbe::PbeInfo;

use crate::asn1::Asn1Error;
use crate::cert::CertError;
use crate::diagnostics::findings::{Setting, Text};
use crate::error_id::ErrorId;
use crate::key::KeyError;
use crate::secret::SecretCell;

/// Largest input file credkit reads (keystores are kilobytes).
pub const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Read a whole input file (standard input for `-`), up to one byte past
/// [`MAX_INPUT`] (the reader then refuses it as too large).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut data = Vec::new();
    if path == std::path::Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut data)?;
    } else {
        let f = std::fs::File::open(path)?;
        if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            return Err(std::io::Error::other("it is a directory"));
        }
        f.take(MAX_INPUT + 1).read_to_end(&mut data)?;
    }
    Ok(data)
}

/// What went wrong while reading a keystore or key file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// The content matches no format credkit reads.
    #[error("not a keystore or key file credkit can read: {detail}")]
    UnknownFormat {
        /// What it looked like.
        detail: String,
    },
    /// A DER structure did not parse.
    #[error("malformed {format} data: {source}")]
    Malformed {
        /// The format being read (`PKCS#12`, ...).
        format: &'static str,
        /// The reader's failure.
        source: Asn1Error,
    },
    /// The structure parsed but its content is wrong.
    #[error("invalid {format} data: {detail}")]
    Invalid {
        /// The format being read.
        format: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The password did not open the file.
    #[error("wrong password, or the file was changed after it was protected ({what})")]
    WrongPassword {
        /// What failed to open (`the MAC`, ...).
        what: String,
    },
    /// The key password did not open an entry.
    #[error("wrong key password for entry \"{alias}\" (the store password was right)")]
    WrongKeyPassword {
        /// The entry.
        alias: String,
    },
    /// The file is protected and no password was given.
    #[error("a password is needed to open this {format} file, and none was given")]
    PasswordRequired {
        /// The format.
        format: &'static str,
    },
    /// An algorithm or structure credkit does not read.
    #[error("unsupported {what}: {name}")]
    Unsupported {
        /// What kind of thing (`PBE scheme`, ...).
        what: String,
        /// Its name or OID.
        name: String,
    },
    /// A format credkit recognises but does not read (BKS, UBER, a CRL, a
    /// CSR, a PKCS#7 message with no certificates): named, with the way out.
    #[error("{detail}")]
    NotReadable {
        /// What the file is.
        detail: String,
        /// The command that makes it readable.
        way_out: String,
    },
    /// A size is over credkit's limit.
    #[error("{what} {value} is larger than credkit accepts ({max})")]
    TooLarge {
        /// What is too large.
        what: String,
        /// Its size.
        value: u64,
        /// The limit.
        max: u64,
    },
    /// An error inside one PEM block.
    #[error("{source} (in the \"{label}\" block on line {line})")]
    InBlock {
        /// The block's label (`PRIVATE KEY`, ...).
        label: String,
        /// Line of the block's BEGIN, 1-based.
        line: usize,
        /// The error inside it.
        source: Box<KeystoreError>,
    },
    /// A key did not parse.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A certificate did not parse.
    #[error(transparent)]
    Cert(#[from] CertError),
    /// The JKS or JCEKS reader failed.
    #[error(transparent)]
    Java(#[from] java::JksError),
    /// The password could not be read from where it was said to be.
    #[error(transparent)]
    Secret(#[from] crate::secret::SecretError),
}

impl KeystoreError {
    /// Stable error id.
    pub fn id(&self) -> ErrorId {
        match self {
            KeystoreError::UnknownFormat { .. } => ErrorId::InputUnknownFormat,
            KeystoreError::Malformed { .. } => ErrorId::InputMalformed,
            KeystoreError::Invalid { .. } => ErrorId::InputInvalid,
            KeystoreError::WrongPassword { .. } => ErrorId::PasswordWrong,
            KeystoreError::WrongKeyPassword { .. } => ErrorId::KeyPasswordWrong,
            KeystoreError::PasswordRequired { .. } => ErrorId::PasswordRequired,
            KeystoreError::Unsupported { .. } => ErrorId::AlgorithmUnsupported,
            KeystoreError::NotReadable { .. } => ErrorId::InputFormatUnsupported,
            KeystoreError::TooLarge { .. } => ErrorId::InputTooLarge,
            KeystoreError::InBlock { source, .. } => source.id(),
            KeystoreError::Secret(e) => e.id(),
            KeystoreError::Key(KeyError::Unsupported { .. } | KeyError::NeedsConversion { .. }) => {
                ErrorId::AlgorithmUnsupported
            }
            KeystoreError::Key(_) => ErrorId::KeyInvalid,
            KeystoreError::Cert(_) => ErrorId::CertificateMalformed,
            KeystoreError::Java(e) => match e {
                java::JksError::IntegrityCheckFailed => ErrorId::PasswordWrong,
                java::JksError::WrongKeyPassword { .. } => ErrorId::KeyPasswordWrong,
                java::JksError::UnsupportedKeyProtection { .. } => ErrorId::AlgorithmUnsupported,
                java::JksError::UnsupportedVersion { .. } => ErrorId::InputInvalid,
                java::JksError::TooLarge { .. } => ErrorId::InputTooLarge,
                java::JksError::NotJavaKeystore => ErrorId::InputUnknownFormat,
                _ => ErrorId::InputMalformed,
            },
        }
    }

    /// The way out when the file cannot be read as it is: the conversion a
    /// key needs (an encrypted OpenSSH key), or what to do with a format
    /// credkit names but does not read.
    pub fn way_out(&self) -> Option<&str> {
        match self {
            KeystoreError::NotReadable { way_out, .. } => Some(way_out),
            KeystoreError::Key(KeyError::NeedsConversion { way_out, .. }) => Some(way_out),
            KeystoreError::InBlock { source, .. } => source.way_out(),
            _ => None,
        }
    }
}

/// What the input starts with, for an "unknown format" message.
fn describe_unknown(data: &[u8]) -> String {
    if data.is_empty() {
        return "the file is empty".into();
    }
    let magic: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive"),
        (b"%PDF", "a PDF document"),
        (b"\x1f\x8b", "a gzip file"),
        (b"ssh-", "an OpenSSH public key"),
        (b"-----BEGIN OPENSSH", "an OpenSSH private key"),
        (b"PuTTY", "a PuTTY key"),
        (b"eyJ", "what looks like a JWT (use `credkit jwt decode`)"),
    ];
    for (m, name) in magic {
        if data.starts_with(m) {
            return format!("it is {name}");
        }
    }
    let head: Vec<String> = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if std::str::from_utf8(data).is_ok() {
        "it is text with no PEM block (-----BEGIN ...-----) and no JSON object".into()
    } else {
        format!("it starts with bytes {}", head.join(" "))
    }
}

/// Load a store from bytes. Passwords are asked for only when needed.
pub fn load(
    data: &[u8],
    store_pw: &mut SecretCell,
    key_pw: &mut SecretCell,
) -> Result<Store, KeystoreError> {
    if data.len() as u64 > MAX_INPUT {
        return Err(KeystoreError::TooLarge {
            what: "file size".into(),
            value: data.len() as u64,
            max: MAX_INPUT,
        });
    }
    if let Some(kind) = java::is_java_store(data) {
        let store_password = store_pw.get()?;
        let key_password = key_pw.get_explicit()?;
        let label = label(kind);
        let map = |e: java::JksError| match e {
            java::JksError::IntegrityCheckFailed => KeystoreError::WrongPassword {
                what: format!("{label} integrity check"),
            },
            java::JksError::WrongKeyPassword { alias } => KeystoreError::WrongKeyPassword { alias },
            other => KeystoreError::Java(other),
        };
        match java::parse(
            data,
            store_password.as_ref().map(|p| p.as_str()),
            key_password.as_ref().map(|p| p.as_str()),
        ) {
            Ok(js) => return Ok(from_java(js, kind)),
            // The store password was right (the integrity check comes first),
            // but a key has a password of its own and none was given: list the
            // store as keytool -list does, with that key left locked.
            Err(java::JksError::WrongKeyPassword { alias }) if key_password.is_none() => {
                let js = java::parse(data, None, None).map_err(map)?;
                return Ok(with_key_locked(js, kind, &alias));
            }
            Err(e) => return Err(map(e)),
        }
    }
    if let Some(refusal) = named::bouncycastle(data) {
        return Err(refusal);
    }
    if pkcs12::looks_like(data) {
        if store_pw.has_explicit() {
            let pw = store_pw.get()?;
            return pkcs12::read(data, pw.as_ref().map(|p| p.as_str()));
        }
        return match pkcs12::read(data, None) {
            Err(KeystoreError::PasswordRequired { format }) => match store_pw.get()? {
                Some(pw) => Ok(pkcs12::read(data, Some(&pw))?),
                None => Err(KeystoreError::PasswordRequired { format }),
            },
            other => Ok(other?),
        };
    }
    if jwk::looks_like(data) {
        let text = std::str::from_utf8(data).map_err(|e| KeystoreError::Invalid {
            format: "JWK",
            detail: format!("not UTF-8 text (byte {})", e.valid_up_to()),
        })?;
        return jwk::read(text);
    }
    if pem::looks_like(data) {
        let text = String::from_utf8_lossy(data);
        let mut ask = || store_pw.get().map_err(KeystoreError::from);
        return pem::read(&text, &mut ask);
    }
    if pkcs7::looks_like(data) {
        return pkcs7::read(data);
    }
    if let Some(refusal) = named::signed_object(data) {
        return Err(refusal);
    }
    if pem::looks_like_der(data) {
        let mut ask = || store_pw.get().map_err(KeystoreError::from);
        return pem::read_der(data, &mut ask);
    }
    if data.first() == Some(&0x30) {
        // A DER SEQUENCE that does not parse: say where it broke.
        if let Err(e) = crate::asn1::Reader::new(data).read() {
            return Err(KeystoreError::Malformed {
                format: "DER",
                source: e,
            });
        }
    }
    Err(KeystoreError::UnknownFormat {
        detail: describe_unknown(data),
    })
}

/// A Java store whose store password was right (its integrity was checked
/// before the key was met) but whose key `alias` has a password of its own
/// that was not given: read without decrypting keys, with a note that asks
/// for the key password.
fn with_key_locked(mut js: java::JavaStore, kind: java::JavaStoreKind, alias: &str) -> Store {
    js.integrity_checked = true;
    let mut store = from_java(js, kind);
    store.notes.push(
        Text::from(format!(
            "entry \"{alias}\": the key has a password of its own, so it was not decrypted \
             (give it with "
        ))
        .setting(Setting::KeyPassword)
        .words(")"),
    );
    store
}

fn from_java(js: java::JavaStore, kind: java::JavaStoreKind) -> Store {
    let format = match kind {
        java::JavaStoreKind::Jks => Format::Jks,
        java::JavaStoreKind::Jceks => Format::Jceks,
    };
    let mut store = Store::new(format);
    store.version = Some(js.version);
    store.integrity_verified = if js.integrity_checked {
        Some(true)
    } else {
        None
    };
    if !js.integrity_checked {
        store.notes.push(
            "no password given: the store's integrity was not checked and private keys were \
             not decrypted"
                .into(),
        );
    }
    for je in js.entries {
        let mut e;
        match je.body {
            java::JavaEntryBody::PrivateKey {
                pkcs8,
                protection,
                chain,
                ..
            } => {
                e = Entry::new(EntryKind::PrivateKey);
                e.key_protection = Some(
                    match protection {
                        java::KeyProtection::JksSunProprietary => {
                            "JKS key protector (SHA-1 stream)"
                        }
                        java::KeyProtection::JcePbeWithMd5AndTripleDes => {
                            "PBEWithMD5AndTripleDES (JCEKS)"
                        }
                    }
                    .into(),
                );
                match pkcs8 {
                    Some(der) => match crate::key::PrivateKey::from_pkcs8(&der) {
                        Ok(k) => e.private_key = Some(k),
                        Err(err) => store.notes.push(
                            format!("entry \"{}\": the key could not be read: {err}", je.alias)
                                .into(),
                        ),
                    },
                    None => e.key_locked = true,
                }
                for der in chain {
                    match crate::cert::Certificate::from_der(&der) {
                        Ok(c) => e.chain.push(c),
                        Err(err) => store.notes.push(
                            format!(
                                "entry \"{}\": a certificate could not be read: {err}",
                                je.alias
                            )
                            .into(),
                        ),
                    }
                }
            }
            java::JavaEntryBody::TrustedCert { cert, .. } => {
                e = Entry::new(EntryKind::TrustedCertificate);
                match crate::cert::Certificate::from_der(&cert) {
                    Ok(c) => e.chain.push(c),
                    Err(err) => store.notes.push(
                        format!(
                            "entry \"{}\": the certificate could not be read: {err}",
                            je.alias
                        )
                        .into(),
                    ),
                }
            }
            java::JavaEntryBody::Secret { seal_algorithm, .. } => {
                e = Entry::new(EntryKind::Secret);
                e.key_protection = seal_algorithm;
            }
        }
        e.alias = Some(je.alias);
        e.created_ms = Some(je.timestamp_ms);
        store.entries.push(e);
    }
    store.notes.extend(
        duplicate_alias_notes(&store.entries, label(kind))
            .into_iter()
            .map(Text::from),
    );
    store
}

fn label(kind: java::JavaStoreKind) -> &'static str {
    match kind {
        java::JavaStoreKind::Jks => "JKS",
        java::JavaStoreKind::Jceks => "JCEKS",
    }
}

/// Java keeps one entry per alias (compared without case): when a file
/// holds an alias twice, keytool and Java load only the last of them.
fn duplicate_alias_notes(entries: &[Entry], format: &str) -> Vec<String> {
    // alias (lower case) -> (first position, count, last position)
    let mut seen: std::collections::HashMap<String, (usize, usize, usize)> =
        std::collections::HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some(a) = &e.alias {
            let s = seen.entry(a.to_lowercase()).or_insert((i, 0, i));
            s.1 += 1;
            s.2 = i;
        }
    }
    let mut dups: Vec<(String, (usize, usize, usize))> =
        seen.into_iter().filter(|(_, (_, n, _))| *n > 1).collect();
    dups.sort_by_key(|(_, (first, _, _))| *first);
    dups.into_iter()
        .map(|(a, (_, count, last))| {
            format!(
                "the alias \"{a}\" appears {count} times in this {format} file; keytool \
                 and Java load only the last of them (entry {} here)",
                last + 1
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: an unsupported key type got the "convert the file … to
    /// PBES2/AES" hint, which cannot help.
    #[test]
    fn duplicate_aliases_are_counted_without_case() {
        let mut entries = Vec::new();
        for a in ["ca", "leaf", "CA", "ca"] {
            let mut e = Entry::new(EntryKind::TrustedCertificate);
            e.alias = Some(a.into());
            entries.push(e);
        }
        let notes = duplicate_alias_notes(&entries, "JKS");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("\"ca\" appears 3 times"), "{notes:?}");
        assert!(notes[0].contains("(entry 4 here)"), "{notes:?}");
    }
}
