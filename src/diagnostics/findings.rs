//! Findings: what `check` (and later `jwt mint` and `token`) found out about a
//! credential, each with a stable id, a plain-words message, why it matters,
//! and the fix.

use crate::oauth::exchange::Auth;
use crate::target::{MaskinportenEnv, Target};
use serde::Serialize;
use std::borrow::Cow;

/// How bad a finding is. Errors make `check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The credential cannot be used for the target as it is.
    Error,
    /// It may work, but something is off and may bite later.
    Warning,
    /// Worth knowing; nothing to fix for this target.
    Info,
}

impl Severity {
    /// The lower-case name reports print (`error`, `warning`, `info`).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// `error`, `warning` or `info`.
    pub severity: Severity,
    /// Stable kebab-case id (listed in [`CATALOGUE`] and the README).
    pub id: &'static str,
    /// The alias of the entry the finding is about; null for the whole file
    /// or an entry without an alias (PEM, DER, a JWK without `kid`).
    pub entry: Option<String>,
    /// What is wrong, in plain words.
    pub message: Text,
    /// Why it matters for the chosen target.
    pub why: Text,
    /// What to do about it.
    pub fix: Text,
    /// A ready command that fixes or checks it, when one helps.
    pub command: Option<Command>,
}

impl Finding {
    /// A finding with its catalogue id, severity, message, why and fix (the id must be in [`CATALOGUE`]).
    pub fn new(
        severity: Severity,
        id: &'static str,
        message: impl Into<Text>,
        why: impl Into<Text>,
        fix: impl Into<Text>,
    ) -> Finding {
        debug_assert!(
            CATALOGUE.iter().any(|(i, _, _)| *i == id),
            "finding id {id} is not in the catalogue"
        );
        Finding {
            severity,
            id,
            entry: None,
            message: message.into(),
            why: why.into(),
            fix: fix.into(),
            command: None,
        }
    }

    /// Name the entry the finding is about.
    pub fn entry(mut self, alias: Option<&str>) -> Finding {
        self.entry = alias.map(str::to_owned);
        self
    }

    /// Add a command that fixes it.
    pub fn command(mut self, command: impl Into<Command>) -> Finding {
        self.command = Some(command.into());
        self
    }
}

/// The words of a finding: plain text, and mentions of the settings a user
/// can change (the entry's alias, the environment, a password). Domain code
/// never names a command-line flag; the output layer words each [`Setting`]
/// as the flag that sets it (`output::remedy`), in text and in JSON, where
/// a text is a string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(Vec<Part>);

/// A piece of a [`Text`]. A `&'static [Part]` can be written in a `const`
/// (words as `Cow::Borrowed`), so catalogues can hold texts with settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// Plain words.
    Words(Cow<'static, str>),
    /// A setting, worded by the output layer as its flag and value (or a
    /// placeholder for the value).
    Setting(Setting),
    /// A setting the words around it already describe: worded as its flag
    /// alone (`--now` where the text says the clock was pinned).
    Flag(Setting),
}

/// A setting of a command (`check`, the command that signs, `token`,
/// `explain`, `convert`) that a finding, a note or a diagnosis asks the user
/// to give or change, or says was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Setting {
    /// The entry chosen by its alias: the setting itself (`None`), or this alias.
    Alias(Option<String>),
    /// The Maskinporten environment checked for: the setting, or this value.
    Env(Option<MaskinportenEnv>),
    /// The client's organisation number: the setting, or this value.
    ClientOrg(Option<String>),
    /// Every way to give the keystore's password.
    StorePassword,
    /// Every way to give a key's own password.
    KeyPassword,
    /// Judging the file at another moment than now.
    Now,
    /// A file of CA certificates for the revocation check.
    CaFile,
    /// Asking the CA whether the certificate is revoked (OCSP or CRL).
    Revocation,
    /// The authorization server the credential is for: the setting, or this one.
    Target(Option<Target>),
    /// The format `convert` writes.
    ConvertTo(ConvertTo),
    /// The OAuth client id sent to the token endpoint.
    ClientId,
    /// The key file (keystore) that signs the client assertion or grant.
    Key,
    /// The key id put in the JWT header: the setting, or this value.
    Kid(Option<String>),
    /// The signature algorithm of the JWT.
    Alg,
    /// A ready-made JWT sent instead of one credkit mints.
    Assertion,
    /// An extra claim in the JWT.
    Claim,
    /// The scope asked for.
    Scope,
    /// The organisation a supplier acts for (Maskinporten `consumer_org`).
    ConsumerOrg,
    /// How the client authenticates at the token endpoint: the setting, or this method.
    Auth(Option<Auth>),
}

impl Text {
    /// The pieces, in order.
    pub fn parts(&self) -> &[Part] {
        &self.0
    }

    /// This text followed by `words`.
    pub fn words(mut self, words: &str) -> Text {
        self.push_words(words);
        self
    }

    /// This text followed by a setting.
    pub fn setting(mut self, setting: Setting) -> Text {
        self.0.push(Part::Setting(setting));
        self
    }

    /// This text followed by a setting's flag alone (see [`Part::Flag`]).
    pub fn flag(mut self, setting: Setting) -> Text {
        self.0.push(Part::Flag(setting));
        self
    }

    /// A text of these pieces (a catalogue's `&'static [Part]`).
    pub fn of(parts: &[Part]) -> Text {
        let mut t = Text::default();
        for p in parts {
            match p {
                Part::Words(w) => t.push_words(w),
                s => t.0.push(s.clone()),
            }
        }
        t
    }

    /// Add words at the end.
    pub fn push_words(&mut self, words: &str) {
        match self.0.last_mut() {
            Some(Part::Words(w)) => w.to_mut().push_str(words),
            _ => self.0.push(Part::Words(Cow::Owned(words.to_owned()))),
        }
    }

    /// Add another text at the end.
    pub fn push_text(&mut self, other: Text) {
        for p in other.0 {
            match p {
                Part::Words(w) => self.push_words(&w),
                s => self.0.push(s),
            }
        }
    }

    /// Whether the plain words (settings left out) contain `needle`.
    pub fn contains_words(&self, needle: &str) -> bool {
        self.0
            .iter()
            .any(|p| matches!(p, Part::Words(w) if w.contains(needle)))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(vec![Part::Words(Cow::Owned(s))])
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::from(s.to_owned())
    }
}

/// A ready command that fixes or checks what a finding is about; the output
/// layer writes its command line (`output::remedy`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Check the file again, with these settings.
    Check(CheckCommand),
    /// Write the file's contents in another format.
    Convert {
        /// The input file, as the user named it.
        input: String,
        /// The file to write.
        output: String,
        /// The format to write.
        to: ConvertTo,
        /// Write the legacy PKCS#12 protection (3DES, SHA-1 MAC).
        legacy: bool,
    },
    /// List what the file holds, with each key's and certificate's thumbprint.
    Inspect {
        /// The file, as the user named it.
        file: String,
    },
    /// Another program's command, ready to run (openssl, keytool).
    Other(String),
}

/// A `check` to run again: the same file and settings, an alias chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckCommand {
    /// The file, as the user named it.
    pub file: String,
    /// The entry to check.
    pub alias: Option<String>,
    /// The authorization server the credential must work with.
    pub target: Target,
    /// The Maskinporten environment, if one was given.
    pub env: Option<MaskinportenEnv>,
    /// The client's organisation number.
    pub client_org: Option<String>,
    /// The days of warning before expiry, when not the default.
    pub expiry_warning_days: Option<u32>,
    /// An environment to add after the other settings.
    pub and_env: Option<MaskinportenEnv>,
}

/// What [`Command::Convert`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertTo {
    /// PEM (certificate and key).
    Pem,
    /// A JWK.
    Jwk,
    /// PKCS#12.
    Pkcs12,
}

impl From<String> for Command {
    fn from(s: String) -> Command {
        Command::Other(s)
    }
}

impl From<&str> for Command {
    fn from(s: &str) -> Command {
        Command::Other(s.to_owned())
    }
}

impl From<CheckCommand> for Command {
    fn from(c: CheckCommand) -> Command {
        Command::Check(c)
    }
}

/// Every finding id, with its severity (which may depend on the target) and a
/// one-line summary. The README's table is checked against this list.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "alias-not-found",
        "error",
        "no entry has the alias asked for; the closest aliases are suggested",
    ),
    (
        "alias-no-private-key",
        "error",
        "the alias names a trusted-certificate (or other key-less) entry",
    ),
    (
        "alias-ambiguous",
        "error",
        "several private keys can sign for the target and no alias says which (listed best first)",
    ),
    (
        "entries-cannot-sign",
        "info",
        "with alias-ambiguous: the private keys that can never sign for the target, and why",
    ),
    (
        "no-signing-key",
        "error",
        "the file holds several private keys and none can sign for the target",
    ),
    (
        "no-private-key",
        "error",
        "the file holds no private key at all (a truststore, a certificate, a public key)",
    ),
    (
        "entry-selected",
        "info",
        "which entry was checked, when credkit chose it",
    ),
    (
        "key-certificate-mismatch",
        "error",
        "the private key does not belong to the certificate",
    ),
    (
        "key-locked",
        "warning",
        "the private key was not decrypted (no password), so it could not be checked",
    ),
    (
        "certificate-missing",
        "warning / info",
        "a key with no certificate (warning for Maskinporten and Entra ID)",
    ),
    (
        "key-usage-non-repudiation",
        "error",
        "the non-repudiation certificate of a business certificate pair, not the authentication one",
    ),
    (
        "key-usage-no-signature",
        "error",
        "the key usage allows no signatures (an encryption certificate)",
    ),
    (
        "eku-not-client-auth",
        "warning",
        "the extended key usage allows neither client authentication nor signing",
    ),
    (
        "certificate-expired",
        "error",
        "the certificate (or a CA certificate in its chain) has expired",
    ),
    (
        "certificate-not-yet-valid",
        "error",
        "the certificate (or a CA certificate in its chain) is not valid yet",
    ),
    (
        "certificate-expiring",
        "warning",
        "the certificate expires within the days of warning asked for (default 30)",
    ),
    (
        "certificate-not-der",
        "warning",
        "a certificate is not strict DER (BER inside it, bytes after an extension's value); read as openssl reads it",
    ),
    (
        "certificate-revoked",
        "error",
        "with the revocation check: the CA revoked the certificate or a CA certificate in its chain (date and reason)",
    ),
    (
        "revocation-unknown",
        "warning",
        "with the revocation check: the CA's OCSP responder does not know the certificate",
    ),
    (
        "revocation-unavailable",
        "warning",
        "with the revocation check: no current, verified OCSP answer or CRL could be had (each URL and why)",
    ),
    (
        "revocation-issuer-fetched",
        "info",
        "with the revocation check: a CA certificate missing from the file was fetched from its caIssuers URL",
    ),
    (
        "chain-order",
        "warning",
        "the chain is not stored leaf first, then each issuer",
    ),
    (
        "chain-missing-intermediate",
        "warning",
        "the chain has a gap: a CA certificate between the certificate and the rest is missing",
    ),
    (
        "chain-incomplete",
        "info",
        "the file holds the certificate but not the CA certificates that issued it",
    ),
    ("key-too-small", "error", "an RSA key under 2048 bits"),
    (
        "key-algorithm-not-accepted",
        "error",
        "the target accepts no signature algorithm for this key (EC for Maskinporten)",
    ),
    (
        "org-number-missing",
        "warning / error",
        "no Norwegian organisation number in the certificate (error when the client's organisation is given)",
    ),
    (
        "org-number-mismatch",
        "error",
        "the certificate's organisation number differs from the client's organisation",
    ),
    (
        "env-test-cert-in-prod",
        "error",
        "a certificate from a test CA, checked for production",
    ),
    (
        "env-prod-cert-in-test",
        "error",
        "a certificate from a production CA, checked for test",
    ),
    (
        "env-unknown-issuer",
        "warning",
        "an environment was given, but the issuer is not a known Buypass or Commfides CA",
    ),
    (
        "env-detected",
        "info",
        "the certificate comes from a known test or production CA (no environment given)",
    ),
    (
        "pkcs12-aes-not-legacy-readable",
        "info",
        "an AES / SHA-256 PKCS#12 file that old Java and Windows cannot open",
    ),
    (
        "pkcs12-rc2-needs-legacy",
        "info",
        "an RC2 PKCS#12 file that OpenSSL 3 opens only with -legacy",
    ),
    (
        "jks-key-password-differs",
        "info",
        "the key password of a JKS/JCEKS entry differs from the store password",
    ),
];
