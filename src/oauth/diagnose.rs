//! Explaining a refusal: the catalogue of known token-endpoint answers
//! (Maskinporten, Okta, Entra ID, Keycloak, RFC 6749), matched on the
//! description text and codes, combined with local facts (aud against the
//! issuer, the clock against the server's `Date`, the grant's lifetime, the
//! certificate's environment against the endpoint's) and the credential
//! check's findings. Pure functions: no I/O, no printing.

use super::exchange::{Auth, ErrorResponse, Grant};
use crate::diagnostics::{Env, Finding};
use crate::jwt::decode::Profile;
use serde::Serialize;
use serde_json::{Map, Value};

/// What a known answer is about; decides which local facts are worth showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    Client,
    Aud,
    Certificate,
    Key,
    Signature,
    Time,
    Replay,
    Scope,
    Delegation,
    Request,
    Grant,
    Secret,
    Policy,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// Stable id, e.g. `maskinporten-aud`.
    pub id: &'static str,
    pub provider: &'static str,
    /// The provider's own code (MP-110, AADSTS700027), if it has one.
    pub code: Option<&'static str>,
    /// Every one must occur in the description (case-insensitive).
    pub patterns: &'static [&'static str],
    pub topic: Topic,
    pub cause: &'static str,
    pub fix: &'static str,
}

const MP: &str = "Maskinporten";

/// Known answers, most specific first. Texts are from Digdir's trouble-shooting
/// page and the vendors' documentation (see token-endpoints-and-errors.md).
pub const CATALOGUE: &[Known] = &[
    // Maskinporten (§2).
    Known {
        id: "maskinporten-aud",
        provider: MP,
        code: Some("MP-110"),
        patterns: &["Invalid JWT claim aud"],
        topic: Topic::Aud,
        cause: "the grant's aud is not this Maskinporten environment's issuer: the wrong environment, a typo, the token endpoint URL instead of the issuer, a missing trailing slash, or several values",
        fix: "set aud to the issuer from the environment's metadata, with its trailing slash (https://test.maskinporten.no/ or https://maskinporten.no/): use --env test|prod",
    },
    Known {
        id: "maskinporten-invalid-certificate",
        provider: MP,
        code: Some("MP-120"),
        patterns: &["signed with an invalid certificate"],
        topic: Topic::Certificate,
        cause: "the certificate in x5c is invalid, expired, revoked or from an unknown CA, or a production certificate was sent to test (or a test certificate to production)",
        fix: "use a valid business certificate (Buypass or Commfides) issued for this environment",
    },
    Known {
        id: "maskinporten-expired-key",
        provider: MP,
        code: Some("MP-121"),
        patterns: &["Expired key"],
        topic: Topic::Key,
        cause: "the key registered on the client was uploaded more than a year ago",
        fix: "upload a new key to the client in Samarbeidsportalen (re-posting the same key renews it)",
    },
    Known {
        id: "maskinporten-unknown-kid",
        provider: MP,
        code: None,
        patterns: &["Unknown key identifier"],
        topic: Topic::Key,
        cause: "the kid in the header is not registered on this client; often iss is set to the kid or to another client",
        fix: "set iss to the client that owns the key, and kid exactly as registered",
    },
    Known {
        id: "maskinporten-kid-required",
        provider: MP,
        code: None,
        patterns: &["requires pre-registered jwk"],
        topic: Topic::Key,
        cause: "the client is set up for registered keys (JWK), but the grant carries only a certificate (x5c) and no kid",
        fix: "send the registered key's id with --kid (or set the client up for a business certificate)",
    },
    Known {
        id: "maskinporten-signature",
        provider: MP,
        code: Some("MP-124"),
        patterns: &["JWT signature"],
        topic: Topic::Signature,
        cause: "the signature does not verify: the private key does not belong to the certificate in x5c or to the registered key, or test and production were mixed up",
        fix: "sign with the private key of the certificate (or registered key) the client uses",
    },
    Known {
        id: "maskinporten-signature",
        provider: MP,
        code: Some("MP-124"),
        patterns: &["Could not validate JWT Signature"],
        topic: Topic::Signature,
        cause: "the signature does not verify: the private key does not belong to the certificate in x5c or to the registered key, or test and production were mixed up",
        fix: "sign with the private key of the certificate (or registered key) the client uses",
    },
    Known {
        id: "maskinporten-orgno-mismatch",
        provider: MP,
        code: Some("MP-122"),
        patterns: &["Does not match certificate orgno"],
        topic: Topic::Certificate,
        cause: "the certificate was issued to another organisation than the one that owns the client",
        fix: "use the certificate of the client's organisation, or create the client under the certificate's organisation",
    },
    Known {
        id: "maskinporten-x5c",
        provider: MP,
        code: Some("MP-123"),
        patterns: &["Invalid JWT header x5c"],
        topic: Topic::Certificate,
        cause: "x5c is not an array of base64 DER certificates (a string, bad base64 or bad DER)",
        fix: "send x5c as [\"<base64 DER of the leaf>\"] (credkit does)",
    },
    Known {
        id: "maskinporten-x5c",
        provider: MP,
        code: Some("MP-123"),
        patterns: &["Failed to extract certificate from jwt"],
        topic: Topic::Certificate,
        cause: "x5c is not an array of base64 DER certificates (a string, bad base64 or bad DER)",
        fix: "send x5c as [\"<base64 DER of the leaf>\"] (credkit does)",
    },
    Known {
        id: "maskinporten-iat-future",
        provider: MP,
        code: None,
        patterns: &["Issue time is after now"],
        topic: Topic::Time,
        cause: "iat is in the future for Maskinporten: the local clock is ahead, or local time was used as UTC",
        fix: "synchronise the clock (NTP) and use UTC epoch seconds",
    },
    Known {
        id: "maskinporten-expired",
        provider: MP,
        code: Some("MP-130"),
        patterns: &["JWT is expired"],
        topic: Topic::Time,
        cause: "exp had passed when Maskinporten read the grant: it was sent late, or the local clock is behind",
        fix: "mint just before sending (credkit does) and synchronise the clock (NTP)",
    },
    Known {
        id: "maskinporten-replay",
        provider: MP,
        code: Some("MP-012"),
        patterns: &["Grant is used before"],
        topic: Topic::Replay,
        cause: "this grant's jti was used before: a grant was replayed",
        fix: "mint a new grant with a fresh jti for every request, retries included (credkit does unless --assertion is given)",
    },
    Known {
        id: "maskinporten-consumer-org-own",
        provider: MP,
        code: None,
        patterns: &["combination consumer_org"],
        topic: Topic::Delegation,
        cause: "consumer_org is the client's own organisation",
        fix: "drop --consumer-org",
    },
    Known {
        id: "maskinporten-scope-not-on-client",
        provider: MP,
        code: Some("MP-200"),
        patterns: &["invalid scopes for client"],
        topic: Topic::Scope,
        cause: "a scope asked for is not added to this client (even if the organisation was granted it), or it is misspelt",
        fix: "add the scope to the client in Samarbeidsportalen (self-service), or fix its spelling",
    },
    Known {
        id: "maskinporten-scope-integration-type",
        provider: MP,
        code: Some("MP-201"),
        patterns: &["scopes not allowed for maskinporten"],
        topic: Topic::Scope,
        cause: "the scope is not allowed for this client's integration type",
        fix: "create a Maskinporten client (integration type maskinporten) for this scope",
    },
    Known {
        id: "maskinporten-scope-integration-type",
        provider: MP,
        code: Some("MP-201"),
        patterns: &["only allowed for user login"],
        topic: Topic::Scope,
        cause: "the scope is not allowed for this client's integration type",
        fix: "create a Maskinporten client (integration type maskinporten) for this scope",
    },
    Known {
        id: "maskinporten-rar-type",
        provider: MP,
        code: Some("MP-301"),
        patterns: &["Unknown authorization details type"],
        topic: Topic::Request,
        cause: "authorization_details has a type Maskinporten does not support",
        fix: "use a type from authorization_details_types_supported in the metadata",
    },
    Known {
        id: "maskinporten-rar-fields",
        provider: MP,
        code: Some("MP-302"),
        patterns: &["Unknown fields in the authorization details"],
        topic: Topic::Request,
        cause: "authorization_details has fields Maskinporten does not know",
        fix: "remove the extra fields",
    },
    Known {
        id: "maskinporten-rar-values",
        provider: MP,
        code: Some("MP-303"),
        patterns: &["Invalid authorization details values"],
        topic: Topic::Request,
        cause: "a value in authorization_details is invalid (for Altinn system users: the system has no client id, or externalRef is missing or different)",
        fix: "fix the system register entry, or include externalRef",
    },
    Known {
        id: "maskinporten-not-delegated",
        provider: MP,
        code: Some("MP-251"),
        patterns: &["has not delegated access to the scope"],
        topic: Topic::Delegation,
        cause: "the consumer has not delegated the scope to you as supplier in Altinn (delegations in Altinn TT02 do not count for production, nor the other way round)",
        fix: "ask the consumer to delegate the right in Altinn",
    },
    Known {
        id: "maskinporten-no-access",
        provider: MP,
        code: Some("MP-250"),
        patterns: &["has not been granted access to the scope"],
        topic: Topic::Delegation,
        cause: "your organisation has no access to the scope; or you act for a consumer and forgot consumer_org",
        fix: "ask the API owner for access to the scope, or add --consumer-org with the consumer's organisation number",
    },
    Known {
        id: "maskinporten-client-not-found",
        provider: MP,
        code: Some("MP-100"),
        patterns: &["Client not found"],
        topic: Topic::Client,
        cause: "no client with this id in this environment: a typo in iss, iss is not the client id, or the client was created in the other environment",
        fix: "use the exact client id from Samarbeidsportalen, and the environment (--env) where the client was created",
    },
    Known {
        id: "maskinporten-invalid-parameter",
        provider: MP,
        code: Some("MP-011"),
        patterns: &["Invalid assertion. Invalid parameter value"],
        topic: Topic::Request,
        cause: "the grant is malformed (line breaks, bad encoding, wrong types)",
        fix: "rebuild the grant without stray whitespace (credkit's grants are well-formed; check a grant given with --assertion)",
    },
    Known {
        id: "maskinporten-client-auth",
        provider: MP,
        code: Some("MP-100"),
        patterns: &["Invalid assertion. Client authentication failed."],
        topic: Topic::Client,
        cause: "iss is not a client id Maskinporten knows (a typo, or the kid instead of the client id)",
        fix: "use the exact client id from Samarbeidsportalen as --client-id",
    },
    Known {
        id: "maskinporten-invalid-assertion",
        provider: MP,
        code: None,
        patterns: &["Invalid assertion"],
        topic: Topic::Request,
        cause: "the grant carries something Maskinporten does not accept, often a claim it does not document",
        fix: "remove extra claims (--claim); keep to aud, iss, iat, exp, jti, scope, resource, consumer_org, pid",
    },
    // Okta (§3.2).
    Known {
        id: "okta-signature",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion signature is invalid"],
        topic: Topic::Signature,
        cause: "the private key does not match the public key registered on the app, the alg is wrong, or another key is active",
        fix: "sign with the registered key; check alg and kid",
    },
    Known {
        id: "okta-kid",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion JWT kid is invalid"],
        topic: Topic::Key,
        cause: "the kid is missing (the app has several keys) or does not match a registered key",
        fix: "put the registered key's kid in the header (--kid)",
    },
    Known {
        id: "okta-aud",
        provider: "Okta",
        code: None,
        patterns: &["audience claim for client_assertion must be the endpoint invoked"],
        topic: Topic::Aud,
        cause: "aud is not the exact token URL called (org versus custom authorization server, a trailing path)",
        fix: "set aud to the URL you POST to (credkit's default for okta)",
    },
    Known {
        id: "okta-exp-too-far",
        provider: "Okta",
        code: None,
        patterns: &["expiration too far into the future"],
        topic: Topic::Time,
        cause: "exp is more than an hour ahead, or the local clock is ahead",
        fix: "a lifetime of 5 minutes; synchronise the clock",
    },
    Known {
        id: "okta-expired",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion token is expired"],
        topic: Topic::Time,
        cause: "exp had passed: the assertion was old or the local clock is behind",
        fix: "mint a fresh assertion; synchronise the clock",
    },
    Known {
        id: "okta-replay",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion token has already been used"],
        topic: Topic::Replay,
        cause: "the jti was used before",
        fix: "a new assertion for every request",
    },
    Known {
        id: "okta-parse",
        provider: "Okta",
        code: None,
        patterns: &["parsing of the client_assertion failed"],
        topic: Topic::Request,
        cause: "the client assertion is not a well-formed JWS",
        fix: "rebuild the assertion",
    },
    Known {
        id: "okta-client-auth",
        provider: "Okta",
        code: None,
        patterns: &["Either the client or the client credentials are invalid"],
        topic: Topic::Client,
        cause: "unknown client_id, or the app uses another authentication method",
        fix: "check --client-id and the app's client authentication setting",
    },
    Known {
        id: "okta-scope",
        provider: "Okta",
        code: None,
        patterns: &["scopes are not configured for the authorization server"],
        topic: Topic::Scope,
        cause: "a scope is not defined on this authorization server",
        fix: "add the scope to the authorization server, or use the right server",
    },
    Known {
        id: "okta-policy",
        provider: "Okta",
        code: None,
        patterns: &["Policy evaluation failed"],
        topic: Topic::Policy,
        cause: "no access policy rule on the authorization server allows this client and scope",
        fix: "add an access policy rule for the client and scope",
    },
    Known {
        id: "okta-org-as-needs-pkjwt",
        provider: "Okta",
        code: None,
        patterns: &["Org Authorization Server must use the private_key_jwt"],
        topic: Topic::Client,
        cause: "the org authorization server accepts client credentials only with private_key_jwt",
        fix: "use --auth private-key-jwt with the app's key",
    },
    // Entra ID (§3.3): the AADSTS number is the key.
    Known {
        id: "entra-signature",
        provider: "Entra ID",
        code: Some("AADSTS700027"),
        patterns: &["AADSTS700027"],
        topic: Topic::Signature,
        cause: "the certificate is not uploaded to the app, its thumbprint does not match, the key is another one, or the certificate has expired",
        fix: "upload the certificate to the app registration and sign with its key (x5t#S256 of that certificate)",
    },
    Known {
        id: "entra-signature",
        provider: "Entra ID",
        code: Some("AADSTS50012"),
        patterns: &["AADSTS50012"],
        topic: Topic::Signature,
        cause: "the assertion's certificate or signature was not accepted",
        fix: "upload the certificate to the app registration and sign with its key",
    },
    Known {
        id: "entra-time",
        provider: "Entra ID",
        code: Some("AADSTS700024"),
        patterns: &["AADSTS700024"],
        topic: Topic::Time,
        cause: "the assertion is not within its valid time range: nbf/exp wrong, clock skew, too long a lifetime, or an old assertion replayed",
        fix: "nbf = iat = now, exp 5-10 minutes later; synchronise the clock",
    },
    Known {
        id: "entra-client-id-mismatch",
        provider: "Entra ID",
        code: Some("AADSTS700021"),
        patterns: &["AADSTS700021"],
        topic: Topic::Client,
        cause: "iss/sub of the assertion differ from the client_id sent",
        fix: "iss = sub = client_id",
    },
    Known {
        id: "entra-no-thumbprint",
        provider: "Entra ID",
        code: Some("AADSTS5002723"),
        patterns: &["AADSTS5002723"],
        topic: Topic::Certificate,
        cause: "the header has no x5t, x5t#S256 or kid",
        fix: "add x5t#S256 (the entra profile does)",
    },
    Known {
        id: "entra-alg",
        provider: "Entra ID",
        code: Some("AADSTS5002738"),
        patterns: &["AADSTS5002738"],
        topic: Topic::Signature,
        cause: "the signature algorithm is not supported",
        fix: "use RS256 or PS256",
    },
    Known {
        id: "entra-missing-claim",
        provider: "Entra ID",
        code: Some("AADSTS90014"),
        patterns: &["AADSTS90014"],
        topic: Topic::Request,
        cause: "a required claim (iss, aud) is missing",
        fix: "add the claim",
    },
    Known {
        id: "entra-malformed",
        provider: "Entra ID",
        code: Some("AADSTS50027"),
        patterns: &["AADSTS50027"],
        topic: Topic::Aud,
        cause: "the assertion is malformed or its aud is wrong (for example /common instead of the tenant)",
        fix: "use the tenant-specific token URL as aud",
    },
    Known {
        id: "entra-app-not-found",
        provider: "Entra ID",
        code: Some("AADSTS700016"),
        patterns: &["AADSTS700016"],
        topic: Topic::Client,
        cause: "no application with this client id in the tenant",
        fix: "check --client-id and the tenant in the URL; an admin may need to consent in this tenant",
    },
    Known {
        id: "entra-secret-id",
        provider: "Entra ID",
        code: Some("AADSTS7000215"),
        patterns: &["AADSTS7000215"],
        topic: Topic::Secret,
        cause: "the secret is wrong, often the secret's ID instead of its value",
        fix: "use the secret's value, or switch to a certificate",
    },
    Known {
        id: "entra-secret-expired",
        provider: "Entra ID",
        code: Some("AADSTS7000222"),
        patterns: &["AADSTS7000222"],
        topic: Topic::Secret,
        cause: "the client secret has expired",
        fix: "create a new secret, or switch to a certificate",
    },
    Known {
        id: "entra-no-credential",
        provider: "Entra ID",
        code: Some("AADSTS7000218"),
        patterns: &["AADSTS7000218"],
        topic: Topic::Client,
        cause: "no credential was sent",
        fix: "send a client assertion (--key) or a secret",
    },
    Known {
        id: "entra-scope",
        provider: "Entra ID",
        code: Some("AADSTS70011"),
        patterns: &["AADSTS70011"],
        topic: Topic::Scope,
        cause: "the scope is not valid; client credentials need <resource>/.default",
        fix: "--scope 'https://<resource>/.default'",
    },
    Known {
        id: "entra-tenant",
        provider: "Entra ID",
        code: Some("AADSTS90002"),
        patterns: &["AADSTS90002"],
        topic: Topic::Client,
        cause: "the tenant does not exist (or is in another cloud)",
        fix: "fix the tenant in the token URL",
    },
    // Keycloak (§3.4).
    Known {
        id: "keycloak-aud",
        provider: "Keycloak",
        code: None,
        patterns: &["audience from token"],
        topic: Topic::Aud,
        cause: "aud is not the realm's issuer URL (nor its token endpoint)",
        fix: "set aud to the realm issuer URL, e.g. https://host/realms/REALM",
    },
    Known {
        id: "keycloak-signature",
        provider: "Keycloak",
        code: None,
        patterns: &["Signature on JWT token failed validation"],
        topic: Topic::Signature,
        cause: "the key does not match the client's registered certificate or JWKS, the JWKS URL is unreachable, or the kid is unknown",
        fix: "register the certificate (or JWKS) on the client, with the same kid",
    },
    Known {
        id: "keycloak-expired",
        provider: "Keycloak",
        code: None,
        patterns: &["Token is not active"],
        topic: Topic::Time,
        cause: "exp has passed or nbf is in the future: the clock is off, or the assertion is old",
        fix: "mint a fresh assertion; synchronise the clock",
    },
    Known {
        id: "keycloak-replay",
        provider: "Keycloak",
        code: None,
        patterns: &["Token reuse detected"],
        topic: Topic::Replay,
        cause: "the jti was used before",
        fix: "a new jti for every request",
    },
    Known {
        id: "keycloak-no-jti",
        provider: "Keycloak",
        code: None,
        patterns: &["Missing ID on the token"],
        topic: Topic::Request,
        cause: "the assertion has no jti",
        fix: "add a jti (credkit always does)",
    },
    Known {
        id: "keycloak-iss-sub",
        provider: "Keycloak",
        code: None,
        patterns: &["issuer should match the subject"],
        topic: Topic::Client,
        cause: "iss differs from sub",
        fix: "iss = sub = client id",
    },
    Known {
        id: "keycloak-no-sub",
        provider: "Keycloak",
        code: None,
        patterns: &["Subject missing on JWT token"],
        topic: Topic::Client,
        cause: "the assertion has no sub",
        fix: "sub = client id (the keycloak profile sets it)",
    },
    Known {
        id: "keycloak-client-id-mismatch",
        provider: "Keycloak",
        code: None,
        patterns: &["client_id parameter not matching"],
        topic: Topic::Client,
        cause: "the client_id sent differs from the assertion's sub",
        fix: "use the same client id in both",
    },
    Known {
        id: "keycloak-alg",
        provider: "Keycloak",
        code: None,
        patterns: &["invalid signature algorithm"],
        topic: Topic::Signature,
        cause: "the alg differs from the one configured on the client",
        fix: "use the client's configured algorithm (--alg)",
    },
    Known {
        id: "keycloak-client",
        provider: "Keycloak",
        code: None,
        patterns: &["Invalid client or Invalid client credentials"],
        topic: Topic::Client,
        cause: "unknown or disabled client, a wrong secret, or the client uses another authenticator",
        fix: "check --client-id, the secret, and the client's authenticator (Signed JWT for --key)",
    },
];

/// A catalogue match, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    pub id: &'static str,
    pub provider: &'static str,
    pub code: Option<&'static str>,
    pub topic: Topic,
    pub cause: String,
    pub fix: String,
}

/// A local fact that bears on the refusal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Fact {
    /// Stable id: `aud-mismatch`, `aud-sent`, `clock-skew`, `lifetime`,
    /// `certificate-env-mismatch`, `scope-sent`, `client-id`, `assertion-given`, `assertion-expired`.
    pub id: &'static str,
    pub message: String,
    /// Is it (probably) the problem, or just context?
    pub problem: bool,
}

/// What was sent and what is known about the endpoint.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub endpoint: String,
    /// The issuer the endpoint belongs to (env, metadata), if known.
    pub issuer: Option<String>,
    pub grant: Option<Grant>,
    pub auth: Option<Auth>,
    pub profile: Option<Profile>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    /// The signed JWT's claims as sent.
    pub claims: Option<Map<String, Value>>,
    /// The assertion came from --assertion (not minted now).
    pub assertion_given: bool,
    /// The clock was pinned with --now.
    pub now_pinned: bool,
    /// The server's Date header (unix s) and the local clock (as credkit
    /// judged time: --now plus the time elapsed) when the answer came.
    pub server_date: Option<i64>,
    pub local_received: i64,
    /// The environment of the certificate's CA (known Buypass/Commfides CAs).
    pub cert_env: Option<Env>,
    pub findings: Vec<Finding>,
}

/// The whole explanation of a refusal.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub endpoint: String,
    pub server: ErrorResponse,
    /// The catalogue entry the answer matched, if any.
    pub known: Option<Match>,
    /// What the error code means (RFC 6749 §5.2) when nothing more specific matched.
    pub general: Option<String>,
    /// Candidate causes when the server does not say (oidc-provider hides reasons).
    pub candidates: Vec<String>,
    pub facts: Vec<Fact>,
    /// Warnings and errors from the credential check.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// Stable error id: `oauth-invalid-grant` etc.
    pub fn error_id(&self) -> &'static str {
        match self.server.error.as_deref() {
            Some("invalid_request") => "oauth-invalid-request",
            Some("invalid_client") => "oauth-invalid-client",
            Some("invalid_grant") => "oauth-invalid-grant",
            Some("unauthorized_client") => "oauth-unauthorized-client",
            Some("unsupported_grant_type") => "oauth-unsupported-grant-type",
            Some("invalid_scope") => "oauth-invalid-scope",
            Some("access_denied") => "oauth-access-denied",
            Some("forbidden") => "oauth-forbidden",
            _ => "oauth-refused",
        }
    }
}

/// Find the catalogue entry for an answer.
pub fn lookup(e: &ErrorResponse) -> Option<&'static Known> {
    let desc = e.error_description.as_deref().unwrap_or("").to_lowercase();
    let codes: Vec<String> = e.error_codes.iter().map(|c| format!("aadsts{c}")).collect();
    CATALOGUE.iter().find(|k| {
        k.patterns.iter().all(|p| {
            let p = p.to_lowercase();
            desc.contains(&p) || codes.contains(&p)
        })
    })
}

fn general(error: &str) -> Option<&'static str> {
    Some(match error {
        "invalid_request" => {
            "the request is malformed: a parameter is missing, repeated or not supported, or the client authenticated in more than one way"
        }
        "invalid_client" => {
            "client authentication failed: the client is unknown, or its assertion or secret was not accepted"
        }
        "invalid_grant" => {
            "the grant (the signed JWT, or the refresh token) was not accepted: invalid, expired, already used, or for another client"
        }
        "unauthorized_client" => "this client may not use this grant type",
        "unsupported_grant_type" => "the server does not support this grant type",
        "invalid_scope" => "a scope asked for is invalid, unknown, or not allowed for this client",
        "access_denied" => "the server's policy denies this client or scope",
        "forbidden" => "the client is authenticated but has no access to what it asked for",
        _ => return None,
    })
}

fn num(m: &Map<String, Value>, k: &str) -> Option<i64> {
    m.get(k).and_then(Value::as_i64)
}

fn aud_values(m: &Map<String, Value>) -> Vec<String> {
    match m.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The Maskinporten environment of an endpoint URL, by host.
pub fn endpoint_env(url: &str) -> Option<Env> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    match host.as_str() {
        "test.maskinporten.no" | "test.sky.maskinporten.no" => Some(Env::Test),
        "maskinporten.no" | "sky.maskinporten.no" => Some(Env::Prod),
        _ => None,
    }
}

/// Local facts: what credkit can tell without the server.
pub fn facts(ctx: &Context) -> Vec<Fact> {
    let mut out = Vec::new();
    let pkjwt = ctx.auth == Some(Auth::PrivateKeyJwt);
    if let Some(c) = &ctx.claims {
        let auds = aud_values(c);
        let shown = auds.join(", ");
        let trim = |s: &str| s.trim_end_matches('/').to_string();
        let maskinporten = ctx.profile == Some(Profile::Maskinporten);
        let matches_issuer = ctx.issuer.as_deref().map(|i| auds.iter().any(|a| a == i));
        let matches_endpoint = auds.contains(&ctx.endpoint);
        if auds.len() > 1 && maskinporten {
            out.push(Fact {
                id: "aud-mismatch",
                message: format!(
                    "the grant's aud has {} values ({shown}); Maskinporten wants exactly one",
                    auds.len()
                ),
                problem: true,
            });
        }
        match (&ctx.issuer, matches_issuer) {
            (Some(iss), Some(false)) if !(pkjwt && matches_endpoint) => {
                let slash = auds.iter().any(|a| trim(a) == trim(iss));
                out.push(Fact {
                    id: "aud-mismatch",
                    message: if slash {
                        format!("the aud sent ({shown}) differs from the issuer {iss} only in the trailing slash; the issuer must be copied exactly")
                    } else if matches_endpoint {
                        format!("the aud sent ({shown}) is the token endpoint; this server's issuer is {iss}")
                    } else {
                        format!("the aud sent ({shown}) is neither the issuer ({iss}) nor the token endpoint ({})", ctx.endpoint)
                    },
                    problem: true,
                });
            }
            (None, _) if pkjwt && !matches_endpoint => out.push(Fact {
                id: "aud-mismatch",
                message: format!(
                    "the aud sent ({shown}) is not the token endpoint called ({})",
                    ctx.endpoint
                ),
                problem: true,
            }),
            _ => out.push(Fact {
                id: "aud-sent",
                message: match &ctx.issuer {
                    Some(i) => format!("aud sent: {shown}; the endpoint's issuer: {i}"),
                    None => format!("aud sent: {shown}; token endpoint: {}", ctx.endpoint),
                },
                problem: false,
            }),
        }
        if let (Some(iat), Some(exp)) = (num(c, "iat"), num(c, "exp")) {
            let life = exp - iat;
            let max = ctx.profile.and_then(Profile::max_lifetime);
            out.push(Fact {
                id: "lifetime",
                message: match max {
                    Some(m) if life > m => {
                        format!("the JWT lives {life} s (exp - iat); the limit is {m} s")
                    }
                    _ => format!("the JWT lives {life} s (exp - iat)"),
                },
                problem: max.is_some_and(|m| life > m),
            });
            let reference = ctx.server_date.unwrap_or(ctx.local_received);
            if exp <= reference {
                out.push(Fact {
                    id: "assertion-expired",
                    message: format!(
                        "the JWT had expired when the server read it: exp is {} s before the {}",
                        reference - exp,
                        if ctx.server_date.is_some() {
                            "server's clock"
                        } else {
                            "local clock"
                        }
                    ),
                    problem: true,
                });
            } else if iat > reference + 10 {
                out.push(Fact {
                    id: "assertion-from-future",
                    message: format!(
                        "the JWT's iat is {} s ahead of the server's clock",
                        iat - reference
                    ),
                    problem: true,
                });
            }
        }
        if let Some(j) = c.get("jti").and_then(Value::as_str) {
            out.push(Fact {
                id: if ctx.assertion_given { "assertion-given" } else { "jti" },
                message: if ctx.assertion_given {
                    format!("the JWT was given with --assertion (jti {j}); a server accepts each jti only once, so it cannot be sent again")
                } else {
                    format!("the JWT was minted just now with a fresh jti ({j})")
                },
                problem: false,
            });
        }
    }
    if let Some(server) = ctx.server_date {
        let skew = ctx.local_received - server;
        // Date has one-second resolution and the request takes time.
        if skew.abs() > 5 {
            out.push(Fact {
                id: "clock-skew",
                message: format!(
                    "the local clock{} is {} s {} the server's (its Date header); servers allow a few seconds (Maskinporten 10 s)",
                    if ctx.now_pinned { " (--now)" } else { "" },
                    skew.abs(),
                    if skew > 0 { "ahead of" } else { "behind" }
                ),
                problem: true,
            });
        }
    }
    if let (Some(cert), Some(ep)) = (ctx.cert_env, endpoint_env(&ctx.endpoint))
        && cert != ep
    {
        out.push(Fact {
            id: "certificate-env-mismatch",
            message: format!(
                "the certificate is from a {} CA, but the endpoint is Maskinporten {}: test certificates work only in test, production ones only in production",
                cert.label(),
                ep.label()
            ),
            problem: true,
        });
    }
    if let Some(s) = &ctx.scope {
        out.push(Fact {
            id: "scope-sent",
            message: format!("scope sent: {s}"),
            problem: false,
        });
    }
    if let Some(id) = &ctx.client_id {
        out.push(Fact {
            id: "client-id",
            message: format!("client id sent: {id}"),
            problem: false,
        });
    }
    out
}

/// Which facts are worth showing for a topic (problems always are).
fn relevant(f: &Fact, topic: Option<Topic>, error: Option<&str>) -> bool {
    if f.problem {
        return true;
    }
    let t = match topic {
        Some(t) => t,
        None => {
            return match error {
                Some("invalid_scope") => f.id == "scope-sent",
                Some("invalid_client") | Some("invalid_grant") => {
                    matches!(
                        f.id,
                        "aud-sent" | "client-id" | "jti" | "assertion-given" | "lifetime"
                    )
                }
                _ => false,
            };
        }
    };
    match t {
        Topic::Aud => f.id == "aud-sent",
        Topic::Scope | Topic::Delegation => f.id == "scope-sent",
        Topic::Client => f.id == "client-id" || f.id == "aud-sent",
        Topic::Time => f.id == "lifetime",
        Topic::Replay => f.id == "jti" || f.id == "assertion-given",
        _ => false,
    }
}

/// Put it all together.
pub fn diagnose(e: &ErrorResponse, ctx: &Context) -> Diagnosis {
    let known = lookup(e);
    let topic = known.map(|k| k.topic);
    let all = facts(ctx);
    let facts: Vec<Fact> = all
        .into_iter()
        .filter(|f| relevant(f, topic, e.error.as_deref()))
        .collect();
    let mut candidates = Vec::new();
    if known.is_none() {
        let signed = ctx.claims.is_some();
        match (e.error.as_deref(), ctx.auth, ctx.grant) {
            (Some("invalid_client"), Some(Auth::PrivateKeyJwt), _)
            | (Some("invalid_grant"), _, Some(Grant::JwtBearer))
                if signed =>
            {
                candidates.extend([
                    "the public key registered on the client is not the one of the signing key (or the kid does not match)".to_string(),
                    "the client id (iss) is unknown to this server".to_string(),
                    "aud is not what this server expects".to_string(),
                    "the JWT expired before it arrived (clock skew)".to_string(),
                    "the jti was used before (a replayed JWT)".to_string(),
                ]);
            }
            (Some("invalid_client"), Some(Auth::ClientSecretBasic | Auth::ClientSecretPost), _) => {
                candidates.extend([
                    "the client id is unknown to this server".to_string(),
                    "the secret is wrong or expired (Entra: the secret's value, not its ID)".to_string(),
                    "the client is set up for another authentication method (try the other of --auth client-secret-basic / client-secret-post)".to_string(),
                ]);
            }
            (Some("invalid_grant"), _, Some(Grant::RefreshToken)) => {
                candidates.extend([
                    "the refresh token was already used (the server rotates refresh tokens)"
                        .to_string(),
                    "the refresh token expired or was revoked".to_string(),
                    "the refresh token belongs to another client".to_string(),
                ]);
            }
            (Some("invalid_scope"), _, _) => {
                candidates.push(
                    "the scope must be added to (or granted to) this client on the server"
                        .to_string(),
                );
            }
            _ => {}
        }
    }
    Diagnosis {
        endpoint: ctx.endpoint.clone(),
        server: e.clone(),
        known: known.map(|k| Match {
            id: k.id,
            provider: k.provider,
            code: k.code,
            topic: k.topic,
            cause: k.cause.to_string(),
            fix: k.fix.to_string(),
        }),
        general: e.error.as_deref().and_then(general).map(str::to_string),
        candidates,
        facts,
        findings: ctx.findings.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(error: &str, desc: &str) -> ErrorResponse {
        ErrorResponse {
            status: 400,
            error: Some(error.into()),
            error_description: Some(desc.into()),
            error_uri: None,
            error_codes: Vec::new(),
            body: None,
        }
    }

    #[test]
    fn maskinporten_texts_match_the_specific_entry() {
        let cases = [
            (
                "Invalid assertion. Client authentication failed. Invalid JWT claim aud (trace_id: x)",
                "maskinporten-aud",
            ),
            (
                "Invalid assertion. Client authentication failed. Expired key",
                "maskinporten-expired-key",
            ),
            (
                "Invalid assertion. Client authentication failed.",
                "maskinporten-client-auth",
            ),
            ("Grant is used before", "maskinporten-replay"),
            (
                "Token request contains invalid scopes for client",
                "maskinporten-scope-not-on-client",
            ),
            (
                "Consumer 123456785 has not delegated access to the scope a:b to supplier 987654321.",
                "maskinporten-not-delegated",
            ),
            (
                "Consumer has not been granted access to the scope a:b.",
                "maskinporten-no-access",
            ),
        ];
        for (d, id) in cases {
            assert_eq!(
                lookup(&err("invalid_grant", d)).map(|k| k.id),
                Some(id),
                "{d}"
            );
        }
    }

    #[test]
    fn entra_matches_on_code() {
        let mut e = err(
            "invalid_client",
            "AADSTS700027: Client assertion failed signature validation.",
        );
        assert_eq!(lookup(&e).map(|k| k.id), Some("entra-signature"));
        e.error_description = Some("something new".into());
        e.error_codes = vec![700024];
        assert_eq!(lookup(&e).map(|k| k.id), Some("entra-time"));
    }

    #[test]
    fn aud_trailing_slash_is_named() {
        let mut claims = Map::new();
        claims.insert("aud".into(), Value::from("https://test.maskinporten.no"));
        let ctx = Context {
            endpoint: "https://test.maskinporten.no/token".into(),
            issuer: Some("https://test.maskinporten.no/".into()),
            profile: Some(Profile::Maskinporten),
            claims: Some(claims),
            ..Default::default()
        };
        let f = facts(&ctx);
        assert!(
            f.iter()
                .any(|f| f.id == "aud-mismatch" && f.message.contains("trailing slash")),
            "{f:?}"
        );
    }

    #[test]
    fn skew_lifetime_and_certificate_environment() {
        let mut claims = Map::new();
        claims.insert("aud".into(), Value::from("https://maskinporten.no/"));
        claims.insert("iat".into(), Value::from(1000));
        claims.insert("exp".into(), Value::from(1200));
        let ctx = Context {
            endpoint: "https://maskinporten.no/token".into(),
            issuer: Some("https://maskinporten.no/".into()),
            profile: Some(Profile::Maskinporten),
            claims: Some(claims),
            server_date: Some(1300),
            local_received: 1001,
            cert_env: Some(Env::Test),
            ..Default::default()
        };
        let f = facts(&ctx);
        let ids: Vec<&str> = f.iter().filter(|f| f.problem).map(|f| f.id).collect();
        assert_eq!(
            ids,
            [
                "lifetime",
                "assertion-expired",
                "clock-skew",
                "certificate-env-mismatch"
            ],
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|f| f.id == "clock-skew" && f.message.contains("299 s behind"))
        );
    }

    #[test]
    fn every_catalogue_id_is_kebab_case_with_a_fix() {
        for k in CATALOGUE {
            assert!(
                k.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                k.id
            );
            assert!(!k.fix.is_empty() && !k.cause.is_empty(), "{}", k.id);
            assert!(!k.patterns.is_empty(), "{}", k.id);
        }
    }
}
