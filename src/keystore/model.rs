//! The format-independent view of what a keystore or key file holds.

use crate::cert::Certificate;
use crate::key::{PrivateKey, PublicKey};
use crate::keystore::pbe::PbeInfo;
use serde::Serialize;

/// The container format, detected from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A PKCS#12 file (`.p12`, `.pfx`).
    Pkcs12,
    /// A Sun JKS keystore.
    Jks,
    /// A SunJCE JCEKS keystore.
    Jceks,
    /// PEM text (certificates and keys, possibly several).
    Pem,
    /// A single DER certificate or key.
    Der,
    /// A JSON Web Key.
    Jwk,
    /// A JWK Set.
    Jwks,
    /// A PKCS#7 / CMS certificate bundle (.p7b, .p7c; DER, BER or PEM).
    Pkcs7,
}

impl Format {
    /// The format's name as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Format::Pkcs12 => "PKCS#12",
            Format::Jks => "JKS",
            Format::Jceks => "JCEKS",
            Format::Pem => "PEM",
            Format::Der => "DER",
            Format::Jwk => "JWK",
            Format::Jwks => "JWKS",
            Format::Pkcs7 => "PKCS#7 certificate bundle",
        }
    }
}

/// What kind of entry this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A private key, usually with its certificate chain.
    PrivateKey,
    /// A certificate with no private key (a trust anchor or a loose certificate).
    TrustedCertificate,
    /// A certificate (or chain) found loose in a PEM/DER file, with no key.
    Certificate,
    /// A public key with no certificate (PEM `PUBLIC KEY`, public JWK).
    PublicKey,
    /// A symmetric secret (JCEKS, PKCS#12 secret bag); listed, never decrypted.
    Secret,
}

impl EntryKind {
    /// The kind's name as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::PrivateKey => "private key",
            EntryKind::TrustedCertificate => "trusted certificate",
            EntryKind::Certificate => "certificate",
            EntryKind::PublicKey => "public key",
            EntryKind::Secret => "secret",
        }
    }
}

/// One entry of a store.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The alias; `None` for formats without aliases (PEM, DER).
    pub alias: Option<String>,
    /// What the entry holds.
    pub kind: EntryKind,
    /// The decrypted private key, when there is one and it could be opened.
    pub private_key: Option<PrivateKey>,
    /// A private key is present but was not decrypted (no password given).
    pub key_locked: bool,
    /// A bare public key (no certificate).
    pub public_key: Option<PublicKey>,
    /// The certificate chain, leaf first, as stored.
    pub chain: Vec<Certificate>,
    /// How this entry's key is protected, when the format says so.
    pub key_protection: Option<String>,
    /// Secret entries: the algorithm, when known.
    pub secret_algorithm: Option<String>,
    /// Creation date (JKS/JCEKS), ms since the epoch.
    pub created_ms: Option<i64>,
    /// JWK `kid`, when the entry came from a JWK.
    pub kid: Option<String>,
    /// The file held this chain in another order than leaf first, then each
    /// issuer (PEM/DER: the reader put it in order; `chain` is the ordered one).
    pub chain_reordered: bool,
}

impl Entry {
    /// An empty entry of `kind`.
    pub fn new(kind: EntryKind) -> Entry {
        Entry {
            alias: None,
            kind,
            private_key: None,
            key_locked: false,
            public_key: None,
            chain: Vec::new(),
            key_protection: None,
            secret_algorithm: None,
            created_ms: None,
            kid: None,
            chain_reordered: false,
        }
    }

    /// The public key this entry is about: the key's, else the leaf's.
    pub fn public(&self) -> Option<&PublicKey> {
        self.private_key
            .as_ref()
            .map(|k| &k.public)
            .or(self.public_key.as_ref())
            .or_else(|| self.chain.first().and_then(|c| c.public_key.as_ref().ok()))
    }
}

/// PKCS#12 protection details, as `openssl pkcs12 -info` shows them.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Pkcs12Protection {
    /// `None` when the file has no MAC.
    pub mac: Option<MacInfo>,
    /// How the certificates are protected (one per encrypted content).
    pub certificates: Vec<PbeInfo>,
    /// How each shrouded key bag is protected.
    pub keys: Vec<PbeInfo>,
    /// Certificates or keys are stored without encryption.
    pub unencrypted_content: bool,
    /// The file used BER (indefinite lengths); it was read as DER.
    pub ber: bool,
    /// Set when the file was opened with no password or an empty one: which
    /// of RFC 7292's two encodings of the empty password opened each part.
    /// `null` when a non-empty password was used.
    pub empty_password: Option<EmptyPasswordReport>,
}

/// How the empty password was encoded for the PKCS#12 key derivation.
/// OpenSSL writes the empty string; Windows, .NET and Java may write NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyPasswordEncoding {
    /// The BMPString "" with its terminator: two zero bytes
    /// (`openssl pkcs12 -export -passout pass:`).
    EmptyString,
    /// No password bytes at all: a NULL password.
    Null,
}

impl EmptyPasswordEncoding {
    /// A short description for reports.
    pub fn label(self) -> &'static str {
        match self {
            EmptyPasswordEncoding::EmptyString => "empty string (00 00)",
            EmptyPasswordEncoding::Null => "NULL (no bytes)",
        }
    }
}

/// Which encoding of the empty password opened the MAC and each encrypted
/// part of a PKCS#12 file. The lists line up with
/// [`Pkcs12Protection::certificates`] and [`Pkcs12Protection::keys`]; an
/// element is `null` for a PBES2 part, whose PBKDF2 reads both encodings as
/// no bytes.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct EmptyPasswordReport {
    /// `null` when the file has no MAC.
    pub mac: Option<EmptyPasswordEncoding>,
    /// One per encrypted certificate content; `None` for PBES2.
    pub certificates: Vec<Option<EmptyPasswordEncoding>>,
    /// One per shrouded key bag; `None` for PBES2.
    pub keys: Vec<Option<EmptyPasswordEncoding>>,
}

/// The PKCS#12 integrity MAC.
#[derive(Debug, Clone, Serialize)]
pub struct MacInfo {
    /// `sha1`, `sha256`, ...
    pub algorithm: String,
    /// PBKDF iteration count.
    pub iterations: u64,
    /// Salt length in bytes.
    pub salt_length: usize,
    /// The MAC checked out with the password given.
    pub verified: bool,
}

/// A loaded store.
#[derive(Debug, Clone)]
pub struct Store {
    /// The file's format.
    pub format: Format,
    /// The entries in file order.
    pub entries: Vec<Entry>,
    /// PKCS#12 protection details; `None` for other formats.
    pub pkcs12: Option<Pkcs12Protection>,
    /// Whether the store-level integrity check (MAC, JKS digest) passed.
    /// `None` when the format has none, or no password was given.
    pub integrity_verified: Option<bool>,
    /// Things the reader wants the user to know: words, and the settings
    /// (a password) a note asks for, which the output layer words as flags.
    pub notes: Vec<crate::diagnostics::findings::Text>,
    /// JKS/JCEKS file version.
    pub version: Option<u32>,
}

impl Store {
    /// An empty store of `format`.
    pub fn new(format: Format) -> Store {
        Store {
            format,
            entries: Vec::new(),
            pkcs12: None,
            integrity_verified: None,
            notes: Vec::new(),
            version: None,
        }
    }
}
