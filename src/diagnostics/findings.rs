//! Findings: what `check` (and later `jwt mint` and `token`) found out about a
//! credential, each with a stable id, a plain-words message, why it matters,
//! and the fix.

use serde::Serialize;

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
    pub message: String,
    /// Why it matters for the chosen target.
    pub why: String,
    /// What to do about it.
    pub fix: String,
    /// A ready command that fixes or checks it, when one helps.
    pub command: Option<String>,
}

impl Finding {
    pub fn new(
        severity: Severity,
        id: &'static str,
        message: impl Into<String>,
        why: impl Into<String>,
        fix: impl Into<String>,
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

    pub fn entry(mut self, alias: Option<&str>) -> Finding {
        self.entry = alias.map(str::to_owned);
        self
    }

    pub fn command(mut self, command: impl Into<String>) -> Finding {
        self.command = Some(command.into());
        self
    }
}

/// Every finding id, with its severity (which may depend on the target) and a
/// one-line summary. The README's table is checked against this list.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    (
        "alias-not-found",
        "error",
        "no entry has the alias given with --alias; the closest aliases are suggested",
    ),
    (
        "alias-no-private-key",
        "error",
        "the alias names a trusted-certificate (or other key-less) entry",
    ),
    (
        "alias-ambiguous",
        "error",
        "several private keys can sign for the target and no --alias says which (listed best first)",
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
        "the certificate expires within --expiry-warning days (default 30)",
    ),
    (
        "certificate-not-der",
        "warning",
        "a certificate is not strict DER (BER inside it, bytes after an extension's value); read as openssl reads it",
    ),
    (
        "certificate-revoked",
        "error",
        "with --revocation: the CA revoked the certificate or a CA certificate in its chain (date and reason)",
    ),
    (
        "revocation-unknown",
        "warning",
        "with --revocation: the CA's OCSP responder does not know the certificate",
    ),
    (
        "revocation-unavailable",
        "warning",
        "with --revocation: no current, verified OCSP answer or CRL could be had (each URL and why)",
    ),
    (
        "revocation-issuer-fetched",
        "info",
        "with --revocation: a CA certificate missing from the file was fetched from its caIssuers URL",
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
        "no Norwegian organisation number in the certificate (error with --client-org)",
    ),
    (
        "org-number-mismatch",
        "error",
        "the certificate's organisation number differs from --client-org",
    ),
    (
        "env-test-cert-in-prod",
        "error",
        "a certificate from a test CA, checked for --env prod",
    ),
    (
        "env-prod-cert-in-test",
        "error",
        "a certificate from a production CA, checked for --env test",
    ),
    (
        "env-unknown-issuer",
        "warning",
        "--env given, but the issuer is not a known Buypass or Commfides CA",
    ),
    (
        "env-detected",
        "info",
        "the certificate comes from a known test or production CA (no --env given)",
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
