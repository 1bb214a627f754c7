//! Who a credential or token is for: the kind of token endpoint
//! ([`Target`]) and, for Maskinporten, which environment
//! ([`MaskinportenEnv`]). `check --for`, `jwt decode/mint/verify --profile`,
//! `token --jwt-profile`, `explain --for` and the diagnosis of refusals all
//! use these two types.

use serde::Serialize;

/// The kind of token endpoint: it sets the rules a credential or a signed
/// JWT is judged by. The default is `generic`: only rules that hold for every
/// token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Digdir's Maskinporten: business certificate, RS256/384/512, organisation number
    Maskinporten,
    /// Okta private_key_jwt: RSA or EC keys
    Okta,
    /// Microsoft Entra ID certificate credentials: RSA keys with a certificate
    Entra,
    /// Keycloak signed-JWT client authentication
    Keycloak,
    /// Any token endpoint that takes signed JWTs (only the rules that hold everywhere)
    #[default]
    Generic,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 5] = [
        Target::Maskinporten,
        Target::Okta,
        Target::Entra,
        Target::Keycloak,
        Target::Generic,
    ];

    /// The name on the command line and in JSON (`maskinporten`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Target::Maskinporten => "maskinporten",
            Target::Okta => "okta",
            Target::Entra => "entra",
            Target::Keycloak => "keycloak",
            Target::Generic => "generic",
        }
    }

    /// The server, in a sentence.
    pub fn server(self) -> &'static str {
        match self {
            Target::Generic => "the token endpoint",
            Target::Maskinporten => "Maskinporten",
            Target::Okta => "Okta",
            Target::Entra => "Entra ID",
            Target::Keycloak => "Keycloak",
        }
    }

    /// What the credential signs for this target.
    pub fn purpose(self) -> &'static str {
        match self {
            Target::Generic => "JWT client assertions and grants",
            Target::Maskinporten => "Maskinporten grants",
            Target::Okta => "Okta client assertions",
            Target::Entra => "Entra ID client assertions",
            Target::Keycloak => "Keycloak client assertions",
        }
    }

    /// JWS algorithms the target accepts for a signed client JWT, or `None`
    /// for any. Where each list comes from: `docs/maskinporten-errors.md`
    /// ("Algorithms each target accepts").
    pub fn accepted_algorithms(self) -> Option<&'static [&'static str]> {
        match self {
            Target::Generic => None,
            Target::Maskinporten => Some(&["RS256", "RS384", "RS512"]),
            Target::Entra => Some(&["RS256", "RS384", "RS512", "PS256"]),
            Target::Okta => Some(&["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]),
            Target::Keycloak => Some(&[
                "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                "EdDSA",
            ]),
        }
    }

    /// Longest lifetime (exp − iat) of a signed client JWT the target
    /// accepts, in seconds.
    pub fn max_lifetime(self) -> Option<i64> {
        match self {
            Target::Maskinporten => Some(120),
            Target::Okta => Some(3600),
            Target::Entra => Some(600),
            Target::Keycloak | Target::Generic => None,
        }
    }

    /// Guess the target from a JWT's audiences (or a token endpoint URL).
    pub fn detect<S: AsRef<str>>(audiences: &[S]) -> Target {
        let auds = audiences
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(" ");
        if auds.contains("maskinporten.no") {
            Target::Maskinporten
        } else if auds.contains("login.microsoftonline.com") {
            Target::Entra
        } else if auds.contains("/realms/") {
            Target::Keycloak
        } else if auds.contains("okta") || auds.contains("/oauth2/") && auds.contains("/v1/token") {
            Target::Okta
        } else {
            Target::Generic
        }
    }
}

/// A Maskinporten environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum MaskinportenEnv {
    /// test.maskinporten.no: test certificates only
    Test,
    /// maskinporten.no: production certificates only
    Prod,
}

impl MaskinportenEnv {
    /// Both environments.
    pub const ALL: [MaskinportenEnv; 2] = [MaskinportenEnv::Test, MaskinportenEnv::Prod];

    /// The name on the command line and in JSON (`test`, `prod`).
    pub fn name(self) -> &'static str {
        match self {
            MaskinportenEnv::Test => "test",
            MaskinportenEnv::Prod => "prod",
        }
    }

    /// `TEST` or `production`, for messages.
    pub fn label(self) -> &'static str {
        match self {
            MaskinportenEnv::Test => "TEST",
            MaskinportenEnv::Prod => "production",
        }
    }

    /// The Maskinporten host of this environment.
    pub fn host(self) -> &'static str {
        match self {
            MaskinportenEnv::Test => "test.maskinporten.no",
            MaskinportenEnv::Prod => "maskinporten.no",
        }
    }

    /// The issuer, which is also the `aud` of a grant (with its trailing slash).
    pub fn issuer(self) -> &'static str {
        match self {
            MaskinportenEnv::Test => "https://test.maskinporten.no/",
            MaskinportenEnv::Prod => "https://maskinporten.no/",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        for t in Target::ALL {
            assert_eq!(
                serde_json::to_value(t).expect("json"),
                serde_json::json!(t.name())
            );
        }
        for e in MaskinportenEnv::ALL {
            assert_eq!(
                serde_json::to_value(e).expect("json"),
                serde_json::json!(e.name())
            );
            assert!(e.issuer().contains(e.host()));
        }
    }

    #[test]
    fn detect_reads_the_audience() {
        assert_eq!(
            Target::detect(&["https://test.maskinporten.no/"]),
            Target::Maskinporten
        );
        assert_eq!(
            Target::detect(&["https://login.microsoftonline.com/t/oauth2/v2.0/token"]),
            Target::Entra
        );
        assert_eq!(
            Target::detect(&["https://kc.example/realms/x/protocol/openid-connect/token"]),
            Target::Keycloak
        );
        assert_eq!(
            Target::detect(&["https://dev-1.okta.com/oauth2/default/v1/token"]),
            Target::Okta
        );
        assert_eq!(
            Target::detect(&["https://as.example/token"]),
            Target::Generic
        );
        assert_eq!(Target::detect::<&str>(&[]), Target::Generic);
    }
}
