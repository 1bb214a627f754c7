//! The `certificate-not-der` check: certificates credkit (like openssl) read
//! leniently because they are not strict DER.

use super::check::Checker;
use super::findings::{Finding, Severity};
use crate::cert::Certificate;

impl Checker<'_> {
    /// Warn about a certificate that is not strict DER (BER inside it, bytes
    /// after an extension's value).
    pub(super) fn check_encoding(&mut self, c: &Certificate, is_leaf: bool, alias: Option<&str>) {
        if c.not_der.is_empty() {
            return;
        }
        let who = if is_leaf {
            "the certificate".to_string()
        } else {
            format!(
                "the CA certificate \"{}\" in the chain",
                c.subject.to_display()
            )
        };
        self.push(
            Finding::new(
                Severity::Warning,
                "certificate-not-der",
                format!("{who} is not strict DER: {}", c.not_der.join("; ")),
                "X.509 certificates must be DER (RFC 5280). credkit and openssl read this one \
                 leniently, but strict verifiers (rustls/webpki, Go's crypto/x509, some Java \
                 versions) refuse it, and a server may reject the x5c it travels in.",
                "Ask the issuer for a correctly encoded certificate; re-encoding it yourself \
                 breaks its signature.",
            )
            .entry(alias),
        );
    }
}
