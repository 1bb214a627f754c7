//! The catalogue of stable error ids: every id an error can carry (the
//! `(error id: …)` line, `code` in JSON errors, the broker's `code`) is a
//! variant here, and README's error table lists exactly these
//! (`tests::readme_lists_every_error_id`). Domain errors name their id with
//! this type; nothing compares id strings.

use serde::Serialize;
use std::fmt;

macro_rules! catalogue {
    ($($(#[$doc:meta])* $variant:ident = $id:literal,)*) => {
        /// A stable error id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorId {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorId {
            /// Every id, in README order.
            pub const ALL: &'static [ErrorId] = &[$(ErrorId::$variant,)*];

            /// The id as written (kebab-case).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorId::$variant => $id,)*
                }
            }
        }
    };
}

catalogue! {
    /// Bad options or arguments.
    Usage = "usage",
    /// A file could not be read.
    IoRead = "io-read",
    /// A file could not be written.
    IoWrite = "io-write",
    InputUnknownFormat = "input-unknown-format",
    InputFormatUnsupported = "input-format-unsupported",
    InputMalformed = "input-malformed",
    InputInvalid = "input-invalid",
    InputTooLarge = "input-too-large",
    CertificateMalformed = "certificate-malformed",
    KeyInvalid = "key-invalid",
    PasswordWrong = "password-wrong",
    PasswordRequired = "password-required",
    KeyPasswordWrong = "key-password-wrong",
    PasswordSource = "password-source",
    AliasNotFound = "alias-not-found",
    OutputExists = "output-exists",
    ConvertAmbiguous = "convert-ambiguous",
    ConvertUnsupported = "convert-unsupported",
    ConvertNothingToWrite = "convert-nothing-to-write",
    ConvertDuplicateAlias = "convert-duplicate-alias",
    IoRandom = "io-random",
    KeygenSubject = "keygen-subject",
    KeygenOrgNumber = "keygen-org-number",
    KeygenValidity = "keygen-validity",
    KeygenCaUnusable = "keygen-ca-unusable",
    KeygenFailed = "keygen-failed",
    JwtMalformed = "jwt-malformed",
    JwtMissingOption = "jwt-missing-option",
    JwtProfileRule = "jwt-profile-rule",
    JwtAlgKeyMismatch = "jwt-alg-key-mismatch",
    JwtSignFailed = "jwt-sign-failed",
    AliasNoPrivateKey = "alias-no-private-key",
    Network = "network",
    NetworkDns = "network-dns",
    NetworkConnect = "network-connect",
    NetworkTls = "network-tls",
    NetworkProxy = "network-proxy",
    NetworkTimeout = "network-timeout",
    ServerError = "server-error",
    UrlNotAllowed = "url-not-allowed",
    ResponseTooLarge = "response-too-large",
    Config = "config",
    CredentialUnfit = "credential-unfit",
    OauthInvalidRequest = "oauth-invalid-request",
    OauthInvalidClient = "oauth-invalid-client",
    OauthInvalidGrant = "oauth-invalid-grant",
    OauthUnauthorizedClient = "oauth-unauthorized-client",
    OauthUnsupportedGrantType = "oauth-unsupported-grant-type",
    OauthInvalidScope = "oauth-invalid-scope",
    OauthAccessDenied = "oauth-access-denied",
    OauthForbidden = "oauth-forbidden",
    OauthInvalidDpopProof = "oauth-invalid-dpop-proof",
    OauthUseDpopNonce = "oauth-use-dpop-nonce",
    OauthAuthorizationPending = "oauth-authorization-pending",
    OauthSlowDown = "oauth-slow-down",
    OauthExpiredToken = "oauth-expired-token",
    OauthInvalidRedirectUri = "oauth-invalid-redirect-uri",
    OauthRefused = "oauth-refused",
    /// The DPoP key file cannot be read or written.
    DpopKey = "dpop-key",
    /// A DPoP proof cannot be signed with the key.
    DpopSign = "dpop-sign",
    /// authorization_details that are not usable (RFC 9396).
    AuthorizationDetails = "authorization-details",
    /// Mutual TLS without a usable client certificate.
    MtlsCertificate = "mtls-certificate",
    LoginTimeout = "login-timeout",
    OauthStateMismatch = "oauth-state-mismatch",
    OauthNonceMismatch = "oauth-nonce-mismatch",
    RedirectUri = "redirect-uri",
    RedirectListen = "redirect-listen",
    InteractiveNoEndpoint = "interactive-no-endpoint",
    AlgorithmUnsupported = "algorithm-unsupported",
    MockClientsToml = "mock-clients-toml",
    MockClientInvalid = "mock-client-invalid",
    MockKeyFile = "mock-key-file",
    MockForcedError = "mock-forced-error",
    MockCa = "mock-ca",
    MockSigningKey = "mock-signing-key",
    /// A revocation list cannot be read.
    RevocationList = "revocation-list",
    /// `keygen --revoke`: no certificate the CA issued.
    RevocationNotIssued = "revocation-not-issued",
    /// `serve revocation`: the responder cannot answer for the CA.
    RevocationResponder = "revocation-responder",
}

impl fmt::Display for ErrorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The ids in the first column of README's error table (the table after
    /// "Error ids:").
    fn readme_ids() -> Vec<String> {
        let readme = include_str!("../README.md");
        let start = readme
            .find("Error ids:")
            .expect("README has the error table");
        let mut ids = Vec::new();
        for line in readme[start..]
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
        {
            let first = line.split('|').nth(1).unwrap_or("");
            ids.extend(first.split('`').skip(1).step_by(2).map(str::to_string));
        }
        ids
    }

    #[test]
    fn readme_lists_every_error_id() {
        let readme = readme_ids();
        let code: Vec<&str> = ErrorId::ALL.iter().map(|i| i.as_str()).collect();
        let readme_set: BTreeSet<&str> = readme.iter().map(String::as_str).collect();
        let code_set: BTreeSet<&str> = code.iter().copied().collect();
        assert_eq!(
            readme.len(),
            readme_set.len(),
            "an id is listed twice in README"
        );
        assert_eq!(
            readme_set.difference(&code_set).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "README lists ids no error carries"
        );
        assert_eq!(
            code_set.difference(&readme_set).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "ids missing from README's error table"
        );
        // Same order, so the table reads like the catalogue.
        assert_eq!(readme, code);
    }

    #[test]
    fn ids_are_unique_kebab_case() {
        let set: BTreeSet<&str> = ErrorId::ALL.iter().map(|i| i.as_str()).collect();
        assert_eq!(set.len(), ErrorId::ALL.len());
        for id in set {
            assert!(
                id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{id}"
            );
        }
    }
}
