//! Writers: PKCS#12, JKS, PEM, DER, JWK and JWKS. They turn entries into
//! bytes; choosing entries, passwords and files is the caller's business.

pub(crate) mod jks;
pub(crate) mod jwk;
pub(crate) mod pem;
pub(crate) mod pkcs12;

pub use crate::keystore::pbe::RandomError;

use super::model::{Entry, EntryKind};
use super::pbe::Protection;
use crate::error_id::ErrorId;
use serde::Serialize;

/// Output formats: PKCS#12, JKS, PEM, DER, a JWK or a JWK Set.
// Variants: clap prints a variant's doc comment in `--help`, so they are
// named by their value alone (the doc above says what they mean).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum OutFormat {
    Pkcs12,
    Jks,
    Pem,
    Der,
    Jwk,
    Jwks,
}

impl OutFormat {
    /// The format an output file name implies.
    pub fn from_path(path: &std::path::Path) -> Option<OutFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "p12" | "pfx" => OutFormat::Pkcs12,
            "jks" | "keystore" => OutFormat::Jks,
            "pem" | "crt" | "key" | "cert" => OutFormat::Pem,
            "der" | "cer" => OutFormat::Der,
            "jwk" => OutFormat::Jwk,
            "json" | "jwks" => {
                if name.ends_with(".jwk.json") {
                    OutFormat::Jwk
                } else {
                    OutFormat::Jwks
                }
            }
            _ => return None,
        })
    }

    /// The format's name as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            OutFormat::Pkcs12 => "PKCS#12",
            OutFormat::Jks => "JKS",
            OutFormat::Pem => "PEM",
            OutFormat::Der => "DER",
            OutFormat::Jwk => "JWK",
            OutFormat::Jwks => "JWKS",
        }
    }

    /// Text formats may go to stdout.
    pub fn is_text(self) -> bool {
        matches!(self, OutFormat::Pem | OutFormat::Jwk | OutFormat::Jwks)
    }
}

/// Which parts of an entry a PEM or DER file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Keys and certificates.
    All,
    /// Private keys only.
    KeyOnly,
    /// Certificates only.
    CertOnly,
}

/// How to write. `Debug` hides the passwords, and they are wiped from
/// memory on drop.
#[derive(Clone)]
pub struct WriteOptions {
    /// Store password (PKCS#12, JKS) and PEM/DER key encryption password.
    pub password: Option<String>,
    /// JKS key password (defaults to the store password).
    pub key_password: Option<String>,
    /// PKCS#12: 3DES with a SHA-1 MAC instead of AES-256 with HMAC-SHA256.
    pub legacy: bool,
    /// PEM/DER: encrypt private keys (PKCS#8 PBES2/AES-256).
    pub encrypt_keys: bool,
    /// Which parts of each entry to write.
    pub parts: Parts,
    /// Only the leaf certificate, not the chain.
    pub leaf_only: bool,
    /// JWK: include private parameters.
    pub private_jwk: bool,
    /// JWK: explicit `kid` (single entry only).
    pub kid: Option<String>,
    /// JKS entry timestamps (ms since the epoch).
    pub now_ms: i64,
    /// KDF iterations for what credkit encrypts.
    pub iterations: Option<u32>,
}

impl std::fmt::Debug for WriteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |p: &Option<String>| p.as_ref().map(|_| "<redacted>");
        f.debug_struct("WriteOptions")
            .field("password", &hidden(&self.password))
            .field("key_password", &hidden(&self.key_password))
            .field("legacy", &self.legacy)
            .field("encrypt_keys", &self.encrypt_keys)
            .field("parts", &self.parts)
            .field("leaf_only", &self.leaf_only)
            .field("private_jwk", &self.private_jwk)
            .field("kid", &self.kid)
            .field("now_ms", &self.now_ms)
            .field("iterations", &self.iterations)
            .finish()
    }
}

impl Drop for WriteOptions {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.password.zeroize();
        self.key_password.zeroize();
    }
}

impl WriteOptions {
    pub(crate) fn protection(&self) -> Protection {
        if self.legacy {
            Protection::Pkcs12TripleDes {
                iterations: self.iterations.unwrap_or(2048),
            }
        } else {
            Protection::Pbes2Aes256 {
                iterations: self.iterations.unwrap_or(10_000),
            }
        }
    }
}

/// One output file's content.
#[derive(Debug, Clone)]
pub struct Written {
    /// `None` for the main output; `Some("key")`, `Some("cert")`, `Some("chain")`
    /// for a split PEM output.
    pub part: Option<&'static str>,
    /// The file's content.
    pub bytes: Vec<u8>,
    /// It holds private key material (created 0600, never sent to a terminal).
    pub private: bool,
    /// Aliases written.
    pub aliases: Vec<String>,
}

/// What went wrong while writing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// There is nothing of the kind asked for.
    #[error("nothing to write: {detail}")]
    Nothing {
        /// What was missing.
        detail: String,
    },
    /// The format needs a password and none was given.
    #[error("{format} output needs a password: {detail}")]
    NeedsPassword {
        /// The output format.
        format: &'static str,
        /// Why it needs one.
        detail: String,
    },
    /// Only keys or only certificates were asked for, and the chosen
    /// entries hold none.
    #[error("nothing to write: {}", match .part {
        Parts::KeyOnly => "only keys were asked for, but the chosen entries hold no key",
        Parts::CertOnly => "only certificates were asked for, but the chosen entries hold no certificate",
        Parts::All => "the chosen entries hold no key or certificate",
    })]
    /// The chosen entries hold none of the parts asked for.
    NoPart {
        /// The parts asked for.
        part: Parts,
    },
    /// More than one thing fits where the format holds one.
    #[error("{0}")]
    Ambiguous(Ambiguity),
    /// The format cannot hold what would be written.
    #[error("{format} cannot hold {detail}")]
    CannotHold {
        /// The output format.
        format: &'static str,
        /// What it cannot hold.
        detail: String,
    },
    /// Two entries would get the same alias.
    #[error("two entries would both be called \"{alias}\" in the {format} output")]
    DuplicateAlias {
        /// The output format.
        format: &'static str,
        /// The alias.
        alias: String,
    },
    /// An entry's private key was not decrypted (no key password).
    #[error("the private key of entry \"{alias}\" was not decrypted, so it cannot be written")]
    KeyLocked {
        /// The entry.
        alias: String,
    },
    /// No random bytes for salts and IVs.
    #[error(transparent)]
    Random(#[from] crate::keystore::pbe::RandomError),
}

impl WriteError {
    /// The error's stable id.
    pub fn id(&self) -> ErrorId {
        match self {
            WriteError::Nothing { .. } | WriteError::NoPart { .. } => {
                ErrorId::ConvertNothingToWrite
            }
            WriteError::NeedsPassword { .. } => ErrorId::PasswordRequired,
            WriteError::Ambiguous(_) => ErrorId::ConvertAmbiguous,
            WriteError::CannotHold { .. } => ErrorId::ConvertUnsupported,
            WriteError::DuplicateAlias { .. } => ErrorId::ConvertDuplicateAlias,
            WriteError::KeyLocked { .. } => ErrorId::KeyPasswordWrong,
            WriteError::Random(_) => ErrorId::IoRandom,
        }
    }
}

/// Why the chosen entries do not fit one output ([`WriteError::Ambiguous`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Ambiguity {
    /// A split PEM output writes one entry; this many were chosen.
    #[error(
        "a split output writes one entry into separate files, and {chosen} entries were chosen"
    )]
    Split {
        /// Entries chosen.
        chosen: usize,
    },
    /// DER holds one object; this many entries were chosen.
    #[error("DER holds one object, and {chosen} entries were chosen")]
    DerEntries {
        /// Entries chosen.
        chosen: usize,
    },
    /// DER holds one object; this entry has both a key and a certificate.
    #[error("DER holds one object, and entry \"{alias}\" has both a key and a certificate")]
    DerParts {
        /// The entry.
        alias: String,
    },
    /// A JWK holds one key; this many entries with keys were chosen.
    #[error("a JWK holds one key, and {chosen} entries with keys were chosen")]
    JwkKeys {
        /// Entries with keys chosen.
        chosen: usize,
    },
    /// A key id was given for the JWK, and several entries were chosen.
    #[error("a key id names one key, and several entries were chosen")]
    KeyId,
}

/// A name for an entry that has none.
pub fn alias_or_default(e: &Entry, index: usize) -> String {
    e.alias
        .clone()
        .or_else(|| e.kid.clone())
        .unwrap_or_else(|| match e.kind {
            EntryKind::PrivateKey => format!("key{}", index + 1),
            EntryKind::PublicKey => format!("publickey{}", index + 1),
            EntryKind::Secret => format!("secret{}", index + 1),
            EntryKind::TrustedCertificate | EntryKind::Certificate => {
                format!("cert{}", index + 1)
            }
        })
}

/// The certificates a key-less entry (a trusted certificate, a loose chain,
/// a PKCS#7 bundle's chain) contributes to a keystore or PEM file, with their
/// positions in its chain: the chain (only the leaf with `leaf_only`),
/// without the CA certificates an earlier entry already wrote (chains of one
/// bundle share their CAs; a truststore holds each once). `written` collects
/// what was written.
pub fn key_less_certs<'a>(
    e: &'a Entry,
    opts: &WriteOptions,
    written: &mut Vec<Vec<u8>>,
) -> Vec<(usize, &'a crate::cert::Certificate)> {
    let n = if opts.leaf_only { 1 } else { e.chain.len() };
    let mut out = Vec::new();
    for (j, c) in e.chain.iter().take(n).enumerate() {
        if j > 0 && written.contains(&c.der) {
            continue;
        }
        written.push(c.der.clone());
        out.push((j, c));
    }
    out
}

/// The trusted entries a key-less entry becomes in a keystore: each
/// certificate of [`key_less_certs`] under its own name, `alias` for the
/// first of its chain and `alias-J` for the J-th (Java keeps one certificate
/// per alias). A name after the first that is already `taken` is refused.
pub(crate) fn trusted_entries<'a>(
    e: &'a Entry,
    alias: &str,
    opts: &WriteOptions,
    written: &mut Vec<Vec<u8>>,
    taken: &[String],
    format: &'static str,
) -> Result<Vec<(usize, String, &'a crate::cert::Certificate)>, WriteError> {
    let mut out = Vec::new();
    for (j, c) in key_less_certs(e, opts, written) {
        let name = if j == 0 {
            alias.to_string()
        } else {
            format!("{alias}-{j}")
        };
        if j > 0 && taken.contains(&name) {
            return Err(WriteError::DuplicateAlias {
                format,
                alias: name,
            });
        }
        out.push((j, name, c));
    }
    Ok(out)
}

/// The result of a write: files and remarks for the user.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// The files, main output first.
    pub files: Vec<Written>,
    /// Remarks for the user.
    pub notes: Vec<String>,
}

/// The fewest key-derivation iterations written without a warning: the
/// PKCS#12 default of OpenSSL and Java is 2048 or more.
pub const MIN_ITERATIONS: u32 = 2048;

/// Warnings for private keys written with weak protection: an empty
/// password, or fewer than [`MIN_ITERATIONS`] key-derivation iterations.
/// The file is still written (tests and fixtures may want exactly that);
/// the commands show these as `warning:` lines and in `--json` `warnings`.
pub fn weak_protection(format: OutFormat, opts: &WriteOptions, files: &[Written]) -> Vec<String> {
    let encrypted = match format {
        OutFormat::Pkcs12 | OutFormat::Jks => true,
        OutFormat::Pem | OutFormat::Der => opts.encrypt_keys,
        OutFormat::Jwk | OutFormat::Jwks => false,
    };
    if !encrypted || !files.iter().any(|f| f.private) {
        return Vec::new();
    }
    let label = format.label();
    let mut warnings = Vec::new();
    let empty = |p: &Option<String>| p.as_deref() == Some("");
    if empty(&opts.password) || (format == OutFormat::Jks && empty(&opts.key_password)) {
        warnings.push(format!(
            "the {label} output's password is empty: anyone who has the file can read its private key"
        ));
    }
    // JKS's key protector has no iteration count.
    if format != OutFormat::Jks
        && let Some(n) = opts.iterations.filter(|n| *n < MIN_ITERATIONS)
    {
        warnings.push(format!(
            "the {label} output's key is protected with {n} key-derivation iteration{} (fewer \
             than {MIN_ITERATIONS}): its password can be guessed quickly",
            if n == 1 { "" } else { "s" }
        ));
    }
    warnings
}

/// Write entries in a format.
pub fn write(
    entries: &[Entry],
    format: OutFormat,
    opts: &WriteOptions,
    split: bool,
) -> Result<Output, WriteError> {
    for (i, e) in entries.iter().enumerate() {
        if e.key_locked
            && !(matches!(format, OutFormat::Pem | OutFormat::Der) && opts.parts == Parts::CertOnly)
        {
            return Err(WriteError::KeyLocked {
                alias: alias_or_default(e, i),
            });
        }
    }
    match format {
        OutFormat::Pkcs12 => pkcs12::write(entries, opts),
        OutFormat::Jks => jks::write(entries, opts),
        OutFormat::Pem => pem::write_pem(entries, opts, split),
        OutFormat::Der => pem::write_der(entries, opts),
        OutFormat::Jwk => jwk::write(entries, opts, false),
        OutFormat::Jwks => jwk::write(entries, opts, true),
    }
}
