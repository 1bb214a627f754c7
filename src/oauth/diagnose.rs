//! Explaining a refusal: the catalogue of known token-endpoint answers
//! (Maskinporten, Okta, Entra ID, Keycloak, RFC 6749), matched on the
//! description text and codes, combined with local facts (aud against the
//! issuer, the clock against the server's `Date`, the grant's lifetime, the
//! certificate's environment against the endpoint's) and the credential
//! check's findings. Pure functions: no I/O, no printing.

use super::discovery::Discovered;
use super::exchange::{Auth, ErrorResponse, Grant};
use crate::cert::Certificate;
use crate::diagnostics::Finding;
use crate::diagnostics::findings::{ConvertTo, Part, Setting, Text};
use crate::error_id::ErrorId;
use crate::keystore::model::Entry;
use crate::target::MaskinportenEnv;
use crate::target::Target;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// What a known answer is about; decides which local facts are worth showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// The client: its id, its authentication method, its tenant.
    Client,
    /// The JWT's `aud` claim.
    Aud,
    /// The certificate sent (x5c) or registered.
    Certificate,
    /// The key: its id (kid), its registration, its age.
    Key,
    /// The JWT's signature or signature algorithm.
    Signature,
    /// `iat`, `exp`, `nbf` and the clocks.
    Time,
    /// A JWT (its `jti`) sent twice.
    Replay,
    /// The scope asked for.
    Scope,
    /// Access given to the organisation, or delegated by another one.
    Delegation,
    /// The request's form: a malformed grant, an unknown claim or value.
    Request,
    /// The grant type.
    Grant,
    /// A client secret.
    Secret,
    /// The server's access policy.
    Policy,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Known {
    /// Stable id, e.g. `maskinporten-aud`.
    pub(crate) id: &'static str,
    /// Who gives this answer: `Maskinporten`, `Okta`, `Entra ID`, `Keycloak`.
    pub(crate) provider: &'static str,
    /// The provider's own code (MP-110, AADSTS700027), if it has one.
    pub(crate) code: Option<&'static str>,
    /// Every one must occur in the description (case-insensitive).
    pub(crate) patterns: &'static [&'static str],
    pub(crate) topic: Topic,
    pub(crate) cause: &'static str,
    /// What to do about it; the settings it names are typed, and
    /// `output::remedy` words them as flags.
    pub(crate) fix: &'static [Part],
}

/// Words in a catalogue text.
const fn w(words: &'static str) -> Part {
    Part::Words(Cow::Borrowed(words))
}

/// A setting in a catalogue text (worded as its flag by `output::remedy`).
const fn s(setting: Setting) -> Part {
    Part::Setting(setting)
}

const MP: &str = "Maskinporten";

/// Known answers, most specific first. Texts are from Digdir's trouble-shooting
/// page and the vendors' documentation; where each comes from is in
/// `docs/maskinporten-errors.md`.
pub(crate) const CATALOGUE: &[Known] = &[
    // Maskinporten (docs/maskinporten-errors.md, "Error answers").
    Known {
        id: "maskinporten-aud",
        provider: MP,
        code: Some("MP-110"),
        patterns: &["Invalid JWT claim aud"],
        topic: Topic::Aud,
        cause: "the grant's aud is not this Maskinporten environment's issuer: the wrong environment, a typo, the token endpoint URL instead of the issuer, a missing trailing slash, or several values",
        fix: &[
            w(
                "set aud to the issuer from the environment's metadata, with its trailing slash (https://test.maskinporten.no/ or https://maskinporten.no/): use ",
            ),
            s(Setting::Env(None)),
            w(" test|prod"),
        ],
    },
    Known {
        id: "maskinporten-invalid-certificate",
        provider: MP,
        code: Some("MP-120"),
        patterns: &["signed with an invalid certificate"],
        topic: Topic::Certificate,
        cause: "the certificate in x5c is invalid, expired, revoked or from an unknown CA, or a production certificate was sent to test (or a test certificate to production)",
        fix: &[w(
            "use a valid business certificate (Buypass or Commfides) issued for this environment",
        )],
    },
    Known {
        id: "maskinporten-expired-key",
        provider: MP,
        code: Some("MP-121"),
        patterns: &["Expired key"],
        topic: Topic::Key,
        cause: "the key registered on the client was uploaded more than a year ago",
        fix: &[w(
            "upload a new key to the client in Samarbeidsportalen (re-posting the same key renews it)",
        )],
    },
    Known {
        id: "maskinporten-unknown-kid",
        provider: MP,
        code: None,
        patterns: &["Unknown key identifier"],
        topic: Topic::Key,
        cause: "the kid in the header is not registered on this client; often iss is set to the kid or to another client",
        fix: &[w(
            "set iss to the client that owns the key, and kid exactly as registered",
        )],
    },
    Known {
        id: "maskinporten-kid-required",
        provider: MP,
        code: None,
        patterns: &["requires pre-registered jwk"],
        topic: Topic::Key,
        cause: "the client is set up for registered keys (JWK), but the grant carries only a certificate (x5c) and no kid",
        fix: &[
            w("send the registered key's id with "),
            s(Setting::Kid(None)),
            w(" (or set the client up for a business certificate)"),
        ],
    },
    Known {
        id: "maskinporten-signature",
        provider: MP,
        code: Some("MP-124"),
        patterns: &["JWT signature"],
        topic: Topic::Signature,
        cause: "the signature does not verify: the private key does not belong to the certificate in x5c or to the registered key, or test and production were mixed up",
        fix: &[w(
            "sign with the private key of the certificate (or registered key) the client uses",
        )],
    },
    Known {
        id: "maskinporten-signature",
        provider: MP,
        code: Some("MP-124"),
        patterns: &["Could not validate JWT Signature"],
        topic: Topic::Signature,
        cause: "the signature does not verify: the private key does not belong to the certificate in x5c or to the registered key, or test and production were mixed up",
        fix: &[w(
            "sign with the private key of the certificate (or registered key) the client uses",
        )],
    },
    Known {
        id: "maskinporten-orgno-mismatch",
        provider: MP,
        code: Some("MP-122"),
        patterns: &["Does not match certificate orgno"],
        topic: Topic::Certificate,
        cause: "the certificate was issued to another organisation than the one that owns the client",
        fix: &[w(
            "use the certificate of the client's organisation, or create the client under the certificate's organisation",
        )],
    },
    Known {
        id: "maskinporten-x5c",
        provider: MP,
        code: Some("MP-123"),
        patterns: &["Invalid JWT header x5c"],
        topic: Topic::Certificate,
        cause: "Maskinporten could not read a certificate from x5c: x5c is missing (the key was named by kid instead), not an array, or not standard base64 DER",
        fix: &[w(
            "send x5c as [\"<base64 DER of the leaf>\"]: a JSON array holding the business certificate",
        )],
    },
    Known {
        id: "maskinporten-x5c",
        provider: MP,
        code: Some("MP-123"),
        patterns: &["Failed to extract certificate from jwt"],
        topic: Topic::Certificate,
        cause: "Maskinporten could not read a certificate from x5c: x5c is missing (the key was named by kid instead), not an array, or not standard base64 DER",
        fix: &[w(
            "send x5c as [\"<base64 DER of the leaf>\"]: a JSON array holding the business certificate",
        )],
    },
    Known {
        id: "maskinporten-iat-future",
        provider: MP,
        code: None,
        patterns: &["Issue time is after now"],
        topic: Topic::Time,
        cause: "iat is in the future for Maskinporten: the local clock is ahead, or local time was used as UTC",
        fix: &[w("synchronise the clock (NTP) and use UTC epoch seconds")],
    },
    Known {
        id: "maskinporten-expired",
        provider: MP,
        code: Some("MP-130"),
        patterns: &["JWT is expired"],
        topic: Topic::Time,
        cause: "exp had passed when Maskinporten read the grant: it was sent late, or the local clock is behind",
        fix: &[w(
            "mint just before sending (credkit does) and synchronise the clock (NTP)",
        )],
    },
    Known {
        id: "maskinporten-replay",
        provider: MP,
        code: Some("MP-012"),
        patterns: &["Grant is used before"],
        topic: Topic::Replay,
        cause: "this grant's jti was used before: a grant was replayed",
        fix: &[
            w(
                "mint a new grant with a fresh jti for every request, retries included (credkit does unless ",
            ),
            s(Setting::Assertion),
            w(" is given)"),
        ],
    },
    Known {
        id: "maskinporten-consumer-org-own",
        provider: MP,
        code: None,
        patterns: &["combination consumer_org"],
        topic: Topic::Delegation,
        cause: "consumer_org is the client's own organisation",
        fix: &[w("drop "), s(Setting::ConsumerOrg)],
    },
    Known {
        id: "maskinporten-scope-not-on-client",
        provider: MP,
        code: Some("MP-200"),
        patterns: &["invalid scopes for client"],
        topic: Topic::Scope,
        cause: "a scope asked for is not added to this client (even if the organisation was granted it), or it is misspelt",
        fix: &[w(
            "add the scope to the client in Samarbeidsportalen (self-service), or fix its spelling",
        )],
    },
    Known {
        id: "maskinporten-scope-integration-type",
        provider: MP,
        code: Some("MP-201"),
        patterns: &["scopes not allowed for maskinporten"],
        topic: Topic::Scope,
        cause: "the scope is not allowed for this client's integration type",
        fix: &[w(
            "create a Maskinporten client (integration type maskinporten) for this scope",
        )],
    },
    Known {
        id: "maskinporten-scope-integration-type",
        provider: MP,
        code: Some("MP-201"),
        patterns: &["only allowed for user login"],
        topic: Topic::Scope,
        cause: "the scope is not allowed for this client's integration type",
        fix: &[w(
            "create a Maskinporten client (integration type maskinporten) for this scope",
        )],
    },
    Known {
        id: "maskinporten-rar-type",
        provider: MP,
        code: Some("MP-301"),
        patterns: &["Unknown authorization details type"],
        topic: Topic::Request,
        cause: "authorization_details has a type Maskinporten does not support",
        fix: &[w(
            "use a type from authorization_details_types_supported in the metadata",
        )],
    },
    Known {
        id: "maskinporten-rar-fields",
        provider: MP,
        code: Some("MP-302"),
        patterns: &["Unknown fields in the authorization details"],
        topic: Topic::Request,
        cause: "authorization_details has fields Maskinporten does not know",
        fix: &[w("remove the extra fields")],
    },
    Known {
        id: "maskinporten-rar-values",
        provider: MP,
        code: Some("MP-303"),
        patterns: &["Invalid authorization details values"],
        topic: Topic::Request,
        cause: "a value in authorization_details is invalid (for Altinn system users: the system has no client id, or externalRef is missing or different)",
        fix: &[w("fix the system register entry, or include externalRef")],
    },
    Known {
        id: "maskinporten-not-delegated",
        provider: MP,
        code: Some("MP-251"),
        patterns: &["has not delegated access to the scope"],
        topic: Topic::Delegation,
        cause: "the consumer has not delegated the scope to you as supplier in Altinn (delegations in Altinn TT02 do not count for production, nor the other way round)",
        fix: &[w("ask the consumer to delegate the right in Altinn")],
    },
    Known {
        id: "maskinporten-no-access",
        provider: MP,
        code: Some("MP-250"),
        patterns: &["has not been granted access to the scope"],
        topic: Topic::Delegation,
        cause: "your organisation has no access to the scope; or you act for a consumer and forgot consumer_org",
        fix: &[
            w("ask the API owner for access to the scope, or add "),
            s(Setting::ConsumerOrg),
            w(" with the consumer's organisation number"),
        ],
    },
    Known {
        id: "maskinporten-client-not-found",
        provider: MP,
        code: Some("MP-100"),
        patterns: &["Client not found"],
        topic: Topic::Client,
        cause: "no client with this id in this environment: a typo in iss, iss is not the client id, or the client was created in the other environment",
        fix: &[
            w("use the exact client id from Samarbeidsportalen, and the environment ("),
            s(Setting::Env(None)),
            w(") where the client was created"),
        ],
    },
    Known {
        id: "maskinporten-invalid-parameter",
        provider: MP,
        code: Some("MP-011"),
        patterns: &["Invalid assertion. Invalid parameter value"],
        topic: Topic::Request,
        cause: "the grant is malformed (line breaks, bad encoding, wrong types)",
        fix: &[
            w(
                "rebuild the grant without stray whitespace (credkit's grants are well-formed; check a grant given with ",
            ),
            s(Setting::Assertion),
            w(")"),
        ],
    },
    Known {
        id: "maskinporten-client-auth",
        provider: MP,
        code: Some("MP-100"),
        patterns: &["Invalid assertion. Client authentication failed."],
        topic: Topic::Client,
        cause: "iss is not a client id Maskinporten knows (a typo, or the kid instead of the client id)",
        fix: &[
            w("use the exact client id from Samarbeidsportalen as "),
            s(Setting::ClientId),
        ],
    },
    Known {
        id: "maskinporten-invalid-assertion",
        provider: MP,
        code: None,
        patterns: &["Invalid assertion"],
        topic: Topic::Request,
        cause: "the grant carries something Maskinporten does not accept, often a claim it does not document",
        fix: &[
            w("remove extra claims ("),
            s(Setting::Claim),
            w("); keep to aud, iss, iat, exp, jti, scope, resource, consumer_org, pid"),
        ],
    },
    // Okta (docs/maskinporten-errors.md, "Okta").
    Known {
        id: "okta-signature",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion signature is invalid"],
        topic: Topic::Signature,
        cause: "the private key does not match the public key registered on the app, the alg is wrong, or another key is active",
        fix: &[w("sign with the registered key; check alg and kid")],
    },
    Known {
        id: "okta-kid",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion JWT kid is invalid"],
        topic: Topic::Key,
        cause: "the kid is missing (the app has several keys) or does not match a registered key",
        fix: &[
            w("put the registered key's kid in the header ("),
            s(Setting::Kid(None)),
            w(")"),
        ],
    },
    Known {
        id: "okta-aud",
        provider: "Okta",
        code: None,
        patterns: &["audience claim for client_assertion must be the endpoint invoked"],
        topic: Topic::Aud,
        cause: "aud is not the exact token URL called (org versus custom authorization server, a trailing path)",
        fix: &[w(
            "set aud to the URL you POST to (credkit's default for okta)",
        )],
    },
    Known {
        id: "okta-exp-too-far",
        provider: "Okta",
        code: None,
        patterns: &["expiration too far into the future"],
        topic: Topic::Time,
        cause: "exp is more than an hour ahead, or the local clock is ahead",
        fix: &[w("a lifetime of 5 minutes; synchronise the clock")],
    },
    Known {
        id: "okta-expired",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion token is expired"],
        topic: Topic::Time,
        cause: "exp had passed: the assertion was old or the local clock is behind",
        fix: &[w("mint a fresh assertion; synchronise the clock")],
    },
    Known {
        id: "okta-replay",
        provider: "Okta",
        code: None,
        patterns: &["client_assertion token has already been used"],
        topic: Topic::Replay,
        cause: "the jti was used before",
        fix: &[w("a new assertion for every request")],
    },
    Known {
        id: "okta-parse",
        provider: "Okta",
        code: None,
        patterns: &["parsing of the client_assertion failed"],
        topic: Topic::Request,
        cause: "the client assertion is not a well-formed JWS",
        fix: &[w("rebuild the assertion")],
    },
    Known {
        id: "okta-client-auth",
        provider: "Okta",
        code: None,
        patterns: &["Either the client or the client credentials are invalid"],
        topic: Topic::Client,
        cause: "unknown client_id, or the app uses another authentication method",
        fix: &[
            w("check "),
            s(Setting::ClientId),
            w(" and the app's client authentication setting"),
        ],
    },
    Known {
        id: "okta-scope",
        provider: "Okta",
        code: None,
        patterns: &["scopes are not configured for the authorization server"],
        topic: Topic::Scope,
        cause: "a scope is not defined on this authorization server",
        fix: &[w(
            "add the scope to the authorization server, or use the right server",
        )],
    },
    Known {
        id: "okta-policy",
        provider: "Okta",
        code: None,
        patterns: &["Policy evaluation failed"],
        topic: Topic::Policy,
        cause: "no access policy rule on the authorization server allows this client and scope",
        fix: &[w("add an access policy rule for the client and scope")],
    },
    Known {
        id: "okta-org-as-needs-pkjwt",
        provider: "Okta",
        code: None,
        patterns: &["Org Authorization Server must use the private_key_jwt"],
        topic: Topic::Client,
        cause: "the org authorization server accepts client credentials only with private_key_jwt",
        fix: &[
            w("use "),
            s(Setting::Auth(Some(Auth::PrivateKeyJwt))),
            w(" with the app's key"),
        ],
    },
    // Entra ID (docs/maskinporten-errors.md, "Microsoft Entra ID"): the AADSTS number is the key.
    Known {
        id: "entra-signature",
        provider: "Entra ID",
        code: Some("AADSTS700027"),
        patterns: &["AADSTS700027"],
        topic: Topic::Signature,
        cause: "the certificate is not uploaded to the app, its thumbprint does not match, the key is another one, or the certificate has expired",
        fix: &[w(
            "upload the certificate to the app registration and sign with its key (x5t#S256 of that certificate)",
        )],
    },
    Known {
        id: "entra-signature",
        provider: "Entra ID",
        code: Some("AADSTS50012"),
        patterns: &["AADSTS50012"],
        topic: Topic::Signature,
        cause: "the assertion's certificate or signature was not accepted",
        fix: &[w(
            "upload the certificate to the app registration and sign with its key",
        )],
    },
    Known {
        id: "entra-time",
        provider: "Entra ID",
        code: Some("AADSTS700024"),
        patterns: &["AADSTS700024"],
        topic: Topic::Time,
        cause: "the assertion is not within its valid time range: nbf/exp wrong, clock skew, too long a lifetime, or an old assertion replayed",
        fix: &[w(
            "nbf = iat = now, exp 5-10 minutes later; synchronise the clock",
        )],
    },
    Known {
        id: "entra-client-id-mismatch",
        provider: "Entra ID",
        code: Some("AADSTS700021"),
        patterns: &["AADSTS700021"],
        topic: Topic::Client,
        cause: "iss/sub of the assertion differ from the client_id sent",
        fix: &[w("iss = sub = client_id")],
    },
    Known {
        id: "entra-no-thumbprint",
        provider: "Entra ID",
        code: Some("AADSTS5002723"),
        patterns: &["AADSTS5002723"],
        topic: Topic::Certificate,
        cause: "the header has no x5t, x5t#S256 or kid",
        fix: &[w("add x5t#S256 (the entra profile does)")],
    },
    Known {
        id: "entra-alg",
        provider: "Entra ID",
        code: Some("AADSTS5002738"),
        patterns: &["AADSTS5002738"],
        topic: Topic::Signature,
        cause: "the signature algorithm is not supported",
        fix: &[w("use RS256 or PS256")],
    },
    Known {
        id: "entra-missing-claim",
        provider: "Entra ID",
        code: Some("AADSTS90014"),
        patterns: &["AADSTS90014"],
        topic: Topic::Request,
        cause: "a required claim (iss, aud) is missing",
        fix: &[w("add the claim")],
    },
    Known {
        id: "entra-malformed",
        provider: "Entra ID",
        code: Some("AADSTS50027"),
        patterns: &["AADSTS50027"],
        topic: Topic::Aud,
        cause: "the assertion is malformed or its aud is wrong (for example /common instead of the tenant)",
        fix: &[w("use the tenant-specific token URL as aud")],
    },
    Known {
        id: "entra-app-not-found",
        provider: "Entra ID",
        code: Some("AADSTS700016"),
        patterns: &["AADSTS700016"],
        topic: Topic::Client,
        cause: "no application with this client id in the tenant",
        fix: &[
            w("check "),
            s(Setting::ClientId),
            w(" and the tenant in the URL; an admin may need to consent in this tenant"),
        ],
    },
    Known {
        id: "entra-secret-id",
        provider: "Entra ID",
        code: Some("AADSTS7000215"),
        patterns: &["AADSTS7000215"],
        topic: Topic::Secret,
        cause: "the secret is wrong, often the secret's ID instead of its value",
        fix: &[w("use the secret's value, or switch to a certificate")],
    },
    Known {
        id: "entra-secret-expired",
        provider: "Entra ID",
        code: Some("AADSTS7000222"),
        patterns: &["AADSTS7000222"],
        topic: Topic::Secret,
        cause: "the client secret has expired",
        fix: &[w("create a new secret, or switch to a certificate")],
    },
    Known {
        id: "entra-no-credential",
        provider: "Entra ID",
        code: Some("AADSTS7000218"),
        patterns: &["AADSTS7000218"],
        topic: Topic::Client,
        cause: "no credential was sent",
        fix: &[
            w("send a client assertion ("),
            s(Setting::Key),
            w(") or a secret"),
        ],
    },
    Known {
        id: "entra-scope",
        provider: "Entra ID",
        code: Some("AADSTS70011"),
        patterns: &["AADSTS70011"],
        topic: Topic::Scope,
        cause: "the scope is not valid; client credentials need <resource>/.default",
        fix: &[s(Setting::Scope), w(" 'https://<resource>/.default'")],
    },
    Known {
        id: "entra-tenant",
        provider: "Entra ID",
        code: Some("AADSTS90002"),
        patterns: &["AADSTS90002"],
        topic: Topic::Client,
        cause: "the tenant does not exist (or is in another cloud)",
        fix: &[w("fix the tenant in the token URL")],
    },
    // Keycloak (docs/maskinporten-errors.md, "Keycloak").
    Known {
        id: "keycloak-aud",
        provider: "Keycloak",
        code: None,
        patterns: &["audience from token"],
        topic: Topic::Aud,
        cause: "aud is not the realm's issuer URL (nor its token endpoint)",
        fix: &[w(
            "set aud to the realm issuer URL, e.g. https://host/realms/REALM",
        )],
    },
    Known {
        id: "keycloak-signature",
        provider: "Keycloak",
        code: None,
        patterns: &["Signature on JWT token failed validation"],
        topic: Topic::Signature,
        cause: "the key does not match the client's registered certificate or JWKS, the JWKS URL is unreachable, or the kid is unknown",
        fix: &[w(
            "register the certificate (or JWKS) on the client, with the same kid",
        )],
    },
    Known {
        id: "keycloak-expired",
        provider: "Keycloak",
        code: None,
        patterns: &["Token is not active"],
        topic: Topic::Time,
        cause: "exp has passed or nbf is in the future: the clock is off, or the assertion is old",
        fix: &[w("mint a fresh assertion; synchronise the clock")],
    },
    Known {
        id: "keycloak-replay",
        provider: "Keycloak",
        code: None,
        patterns: &["Token reuse detected"],
        topic: Topic::Replay,
        cause: "the jti was used before",
        fix: &[w("a new jti for every request")],
    },
    Known {
        id: "keycloak-no-jti",
        provider: "Keycloak",
        code: None,
        patterns: &["Missing ID on the token"],
        topic: Topic::Request,
        cause: "the assertion has no jti",
        fix: &[w("add a jti (credkit always does)")],
    },
    Known {
        id: "keycloak-iss-sub",
        provider: "Keycloak",
        code: None,
        patterns: &["issuer should match the subject"],
        topic: Topic::Client,
        cause: "iss differs from sub",
        fix: &[w("iss = sub = client id")],
    },
    Known {
        id: "keycloak-no-sub",
        provider: "Keycloak",
        code: None,
        patterns: &["Subject missing on JWT token"],
        topic: Topic::Client,
        cause: "the assertion has no sub",
        fix: &[w("sub = client id (the keycloak profile sets it)")],
    },
    Known {
        id: "keycloak-client-id-mismatch",
        provider: "Keycloak",
        code: None,
        patterns: &["client_id parameter not matching"],
        topic: Topic::Client,
        cause: "the client_id sent differs from the assertion's sub",
        fix: &[w("use the same client id in both")],
    },
    Known {
        id: "keycloak-alg",
        provider: "Keycloak",
        code: None,
        patterns: &["invalid signature algorithm"],
        topic: Topic::Signature,
        cause: "the alg differs from the one configured on the client",
        fix: &[
            w("use the client's configured algorithm ("),
            s(Setting::Alg),
            w(")"),
        ],
    },
    Known {
        id: "keycloak-client",
        provider: "Keycloak",
        code: None,
        patterns: &["Invalid client or Invalid client credentials"],
        topic: Topic::Client,
        cause: "unknown or disabled client, a wrong secret, or the client uses another authenticator",
        fix: &[
            w("check "),
            s(Setting::ClientId),
            w(", the secret, and the client's authenticator (Signed JWT for "),
            s(Setting::Key),
            w(")"),
        ],
    },
];

/// A catalogue match, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// The catalogue entry's stable id, e.g. `maskinporten-aud`.
    pub id: &'static str,
    /// Who gives this answer: `Maskinporten`, `Okta`, `Entra ID`, `Keycloak`.
    pub provider: &'static str,
    /// The provider's own code (MP-110, AADSTS700027), if it has one.
    pub code: Option<&'static str>,
    /// What the answer is about.
    pub topic: Topic,
    /// The likely cause, in plain words.
    pub cause: String,
    /// What to do, made specific to what was sent; in JSON a string with
    /// the settings worded as flags.
    pub fix: Text,
}

/// A local fact that bears on the refusal.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Fact {
    /// Stable id: `aud-mismatch`, `aud-sent`, `clock-skew`, `lifetime`,
    /// `certificate-env-mismatch`, `scope-sent`, `client-id`, `assertion-given`, `assertion-expired`.
    pub id: &'static str,
    /// What credkit found, in plain words with typed settings; in JSON a
    /// string with the settings worded as flags.
    pub message: Text,
    /// Is it (probably) the problem, or just context?
    pub problem: bool,
}

/// What was sent and what is known about the endpoint.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The token endpoint called; empty when unknown (an answer copied
    /// without its URL).
    pub endpoint: String,
    /// The issuer the endpoint belongs to (env, metadata), if known.
    pub issuer: Option<String>,
    /// The grant type sent; None when unknown.
    pub grant: Option<Grant>,
    /// How the client authenticated; None when unknown.
    pub auth: Option<Auth>,
    /// The authorization server's kind (its rules); None when unknown.
    pub profile: Option<Target>,
    /// The client id sent, if any.
    pub client_id: Option<String>,
    /// The scope asked for, if any.
    pub scope: Option<String>,
    /// The signed JWT's claims as sent.
    pub claims: Option<Map<String, Value>>,
    /// The assertion came from --assertion (not minted now).
    pub assertion_given: bool,
    /// The clock was pinned with --now.
    pub now_pinned: bool,
    /// The server's Date header (Unix seconds), when it sent one.
    pub server_date: Option<i64>,
    /// The local clock when the answer came (Unix seconds), as credkit
    /// judged time: --now plus the time elapsed.
    pub local_received: i64,
    /// The environment of the certificate's CA (known Buypass/Commfides CAs).
    pub cert_env: Option<MaskinportenEnv>,
    /// The credential check's warnings and errors for the signing entry.
    pub findings: Vec<Finding>,
    /// The signed JWT's JOSE header as sent.
    pub header: Option<Map<String, Value>>,
    /// The key that signed (its thumbprint and certificate), when known.
    pub local_key: Option<LocalKey>,
    /// The organisation that should own the client (9 digits), when given.
    pub client_org: Option<String>,
    /// The issuer's metadata, looked up after an answer that was not OAuth.
    pub metadata: Option<Discovered>,
    /// The answer was copied from elsewhere (`explain`): credkit sent nothing.
    pub copied: bool,
    /// Facts from the grant's earlier steps (an interactive grant's
    /// authorization request, redirect URI, PKCE challenge, polling).
    pub flow: Vec<Fact>,
    /// The certificate's revocation status was checked before sending
    /// (`token --revocation`).
    pub revocation_checked: bool,
    /// DPoP and mutual TLS as sent.
    pub proofs: SentProofs,
}

/// The proofs a request carried, for the diagnosis.
#[derive(Debug, Clone, Default)]
pub struct SentProofs {
    /// The `DPoP` header sent (a proof JWT).
    pub dpop_proof: Option<String>,
    /// The `DPoP-Nonce` the refusal carried.
    pub server_nonce: Option<String>,
    /// The request was the retry with the server's nonce.
    pub nonce_retried: bool,
    /// The TLS client certificate presented: its `x5t#S256`.
    pub tls_x5t: Option<String>,
    /// The TLS client certificate presented: its subject.
    pub tls_subject: Option<String>,
    /// The endpoint was the metadata's `mtls_endpoint_aliases` entry.
    pub mtls_alias: bool,
}

/// The signing key as credkit holds it.
#[derive(Debug, Clone, Default)]
pub struct LocalKey {
    /// RFC 7638 thumbprint of the public key.
    pub thumbprint: Option<String>,
    /// The certificate (leaf) that goes with the key, DER.
    pub certificate: Option<Vec<u8>>,
}

impl LocalKey {
    /// The thumbprint and leaf certificate of a keystore entry.
    pub fn of(entry: &Entry) -> LocalKey {
        LocalKey {
            thumbprint: entry.public().and_then(|k| k.jwk_thumbprint()),
            certificate: entry.chain.first().map(|c| c.der.clone()),
        }
    }
}

/// The JOSE header of a JWT (not verified).
pub fn header_of(jwt: &str) -> Option<Map<String, Value>> {
    crate::jwt::decode::decode(jwt).ok().map(|d| d.header)
}

/// An answer with neither `error` nor `error_description` is not OAuth's.
pub fn not_oauth(e: &ErrorResponse) -> bool {
    e.error.is_none() && e.error_description.is_none()
}

/// For an answer that is not OAuth (no `error`): the issuer whose metadata
/// names the real token endpoint: the one known, else the endpoint's origin.
pub fn issuer_to_ask(e: &ErrorResponse, endpoint: &str, issuer: Option<&str>) -> Option<String> {
    if !not_oauth(e) {
        return None;
    }
    issuer.map(str::to_string).or_else(|| {
        let u = url::Url::parse(endpoint).ok()?;
        Some(format!("{}/", u.origin().ascii_serialization()))
    })
}

/// The whole explanation of a refusal.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// The token endpoint called; empty when unknown.
    pub endpoint: String,
    /// The server's answer as read (status, error, description, ...).
    pub server: ErrorResponse,
    /// The catalogue entry the answer matched, if any.
    pub known: Option<Match>,
    /// What the error code means (RFC 6749 §5.2) when nothing more specific matched.
    pub general: Option<String>,
    /// Candidate causes when the server does not say (oidc-provider hides
    /// reasons); in JSON strings with the settings worded as flags.
    pub candidates: Vec<Text>,
    /// What credkit found in what was sent and knows locally, each marked
    /// as (probably) the problem or as context.
    pub facts: Vec<Fact>,
    /// Warnings and errors from the credential check.
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    /// Stable error id: `oauth-invalid-grant` etc.
    pub fn error_id(&self) -> ErrorId {
        match self.server.error.as_deref() {
            Some("invalid_request") => ErrorId::OauthInvalidRequest,
            Some("invalid_client") => ErrorId::OauthInvalidClient,
            Some("invalid_grant") => ErrorId::OauthInvalidGrant,
            Some("unauthorized_client") => ErrorId::OauthUnauthorizedClient,
            Some("unsupported_grant_type") => ErrorId::OauthUnsupportedGrantType,
            Some("invalid_scope") => ErrorId::OauthInvalidScope,
            Some("access_denied") => ErrorId::OauthAccessDenied,
            Some("forbidden") => ErrorId::OauthForbidden,
            Some("invalid_dpop_proof") => ErrorId::OauthInvalidDpopProof,
            Some("use_dpop_nonce") => ErrorId::OauthUseDpopNonce,
            Some("authorization_pending") => ErrorId::OauthAuthorizationPending,
            Some("slow_down") => ErrorId::OauthSlowDown,
            Some("expired_token") => ErrorId::OauthExpiredToken,
            Some("invalid_redirect_uri") => ErrorId::OauthInvalidRedirectUri,
            _ => ErrorId::OauthRefused,
        }
    }
}

/// Find the catalogue entry for an answer.
pub(crate) fn lookup(e: &ErrorResponse) -> Option<&'static Known> {
    let desc = e.error_description.as_deref().unwrap_or("").to_lowercase();
    let codes: Vec<String> = e.error_codes.iter().map(|c| format!("aadsts{c}")).collect();
    // An AADSTS code matches only whole (AADSTS700021 is not in AADSTS7000215).
    let has = |p: &str| {
        desc.match_indices(p).any(|(i, _)| {
            !p.starts_with("aadsts")
                || !desc[i + p.len()..].starts_with(|c: char| c.is_ascii_digit())
        })
    };
    CATALOGUE.iter().find(|k| {
        k.patterns.iter().all(|p| {
            let p = p.to_lowercase();
            has(&p) || codes.contains(&p)
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
        "access_denied" => {
            "access was denied: the user declined (an interactive grant), or the server's policy denies this client or scope"
        }
        "authorization_pending" => {
            "the user has not approved the request yet (RFC 8628 §3.5): the client keeps asking, at the interval the server gave"
        }
        "slow_down" => {
            "the client asked too often (RFC 8628 §3.5): it waits 5 s more between requests"
        }
        "expired_token" => {
            "the device code expired before the user approved it (RFC 8628 §3.5): start again"
        }
        "invalid_redirect_uri" => "the redirect_uri is not one registered on the client",
        "forbidden" => "the client is authenticated but has no access to what it asked for",
        "invalid_dpop_proof" => {
            "the DPoP proof was not accepted (RFC 9449 §7.1): its signature, typ, alg, htm, htu, iat or jti, or the key, is not what the server checks for"
        }
        "use_dpop_nonce" => {
            "the server wants a nonce it issued in the DPoP proof (RFC 9449 §8); it gives the nonce in the DPoP-Nonce header"
        }
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
pub fn endpoint_env(url: &str) -> Option<MaskinportenEnv> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    match host.as_str() {
        "test.maskinporten.no" | "test.sky.maskinporten.no" => Some(MaskinportenEnv::Test),
        "maskinporten.no" | "sky.maskinporten.no" => Some(MaskinportenEnv::Prod),
        _ => None,
    }
}

/// Local facts: what credkit can tell without the server.
pub(crate) fn facts(ctx: &Context) -> Vec<Fact> {
    let mut out = Vec::new();
    if let Some(c) = &ctx.claims {
        aud_facts(ctx, c, &mut out);
        time_facts(ctx, c, &mut out);
        out.extend(jti_fact(ctx, c));
    }
    out.extend(clock_skew_fact(ctx));
    out.extend(certificate_env_fact(ctx));
    if let Some(s) = &ctx.scope {
        out.push(fact("scope-sent", false, format!("scope sent: {s}")));
    }
    if let Some(id) = &ctx.client_id {
        out.push(fact("client-id", false, format!("client id sent: {id}")));
    }
    out
}

/// The grant's aud against the issuer and the endpoint called.
fn aud_facts(ctx: &Context, c: &Map<String, Value>, out: &mut Vec<Fact>) {
    let pkjwt = ctx.auth == Some(Auth::PrivateKeyJwt);
    let auds = aud_values(c);
    let shown = auds.join(", ");
    let trim = |s: &str| s.trim_end_matches('/').to_string();
    let maskinporten = ctx.profile == Some(Target::Maskinporten);
    let matches_issuer = ctx.issuer.as_deref().map(|i| auds.iter().any(|a| a == i));
    let matches_endpoint = auds.contains(&ctx.endpoint);
    if auds.len() > 1 && maskinporten {
        out.push(fact(
            "aud-mismatch",
            true,
            format!(
                "the grant's aud has {} values ({shown}); Maskinporten wants exactly one",
                auds.len()
            ),
        ));
    }
    out.push(match (&ctx.issuer, matches_issuer) {
        (Some(iss), Some(false)) if !(pkjwt && matches_endpoint) => {
            let slash = auds.iter().any(|a| trim(a) == trim(iss));
            fact(
                "aud-mismatch",
                true,
                if slash {
                    format!("the aud sent ({shown}) differs from the issuer {iss} only in the trailing slash; the issuer must be copied exactly")
                } else if matches_endpoint {
                    format!("the aud sent ({shown}) is the token endpoint; this server's issuer is {iss}")
                } else {
                    format!("the aud sent ({shown}) is neither the issuer ({iss}) nor the token endpoint ({})", ctx.endpoint)
                },
            )
        }
        (None, _) if pkjwt && !matches_endpoint => fact(
            "aud-mismatch",
            true,
            format!(
                "the aud sent ({shown}) is not the token endpoint called ({})",
                ctx.endpoint
            ),
        ),
        _ => fact(
            "aud-sent",
            false,
            match &ctx.issuer {
                Some(i) => format!("aud sent: {shown}; the endpoint's issuer: {i}"),
                None => format!("aud sent: {shown}; token endpoint: {}", ctx.endpoint),
            },
        ),
    });
}

/// The JWT's lifetime against the target's limit, and exp and iat against
/// the clock the server judged them by.
fn time_facts(ctx: &Context, c: &Map<String, Value>, out: &mut Vec<Fact>) {
    let (Some(iat), Some(exp)) = (num(c, "iat"), num(c, "exp")) else {
        return;
    };
    let life = exp - iat;
    let max = ctx.profile.and_then(Target::max_lifetime);
    out.push(fact(
        "lifetime",
        max.is_some_and(|m| life > m),
        match max {
            Some(m) if life > m => {
                format!("the JWT lives {life} s (exp - iat); the limit is {m} s")
            }
            _ => format!("the JWT lives {life} s (exp - iat)"),
        },
    ));
    let reference = ctx.server_date.unwrap_or(ctx.local_received);
    if exp <= reference {
        out.push(fact(
            "assertion-expired",
            true,
            format!(
                "the JWT had expired when the server read it: exp is {} s before the {}",
                reference - exp,
                if ctx.server_date.is_some() {
                    "server's clock"
                } else {
                    "local clock"
                }
            ),
        ));
    } else if iat > reference + 10 {
        out.push(fact(
            "assertion-from-future",
            true,
            format!(
                "the JWT's iat is {} s ahead of the server's clock",
                iat - reference
            ),
        ));
    }
}

/// The jti sent, and whether credkit minted the JWT or was given it.
fn jti_fact(ctx: &Context, c: &Map<String, Value>) -> Option<Fact> {
    let j = c.get("jti").and_then(Value::as_str)?;
    let message = if ctx.copied {
        Text::from(format!(
            "jti sent: {j}; a server accepts each jti only once"
        ))
    } else if ctx.assertion_given {
        Text::from("the JWT was given with ")
            .setting(Setting::Assertion)
            .words(&format!(
                " (jti {j}); a server accepts each jti only once, so it cannot be sent again"
            ))
    } else {
        Text::from(format!(
            "the JWT was minted just now with a fresh jti ({j})"
        ))
    };
    let id = if ctx.assertion_given {
        "assertion-given"
    } else {
        "jti"
    };
    Some(fact(id, false, message))
}

/// The local clock against the server's `Date`.
fn clock_skew_fact(ctx: &Context) -> Option<Fact> {
    let skew = ctx.local_received - ctx.server_date?;
    // Date has one-second resolution and the request takes time.
    if skew.abs() <= 5 {
        return None;
    }
    let mut message = Text::from("the local clock");
    if ctx.now_pinned {
        message = message.words(" (").flag(Setting::Now).words(")");
    }
    Some(fact(
        "clock-skew",
        true,
        message.words(&format!(
            " is {} s {} the server's (its Date header); servers allow a few seconds (Maskinporten 10 s)",
            skew.abs(),
            if skew > 0 { "ahead of" } else { "behind" }
        )),
    ))
}

/// The certificate's environment against the Maskinporten endpoint's.
fn certificate_env_fact(ctx: &Context) -> Option<Fact> {
    let (cert, ep) = (ctx.cert_env?, endpoint_env(&ctx.endpoint)?);
    (cert != ep).then(|| {
        fact(
            "certificate-env-mismatch",
            true,
            format!(
                "the certificate is from a {} CA, but the endpoint is Maskinporten {}: test certificates work only in test, production ones only in production",
                cert.label(),
                ep.label()
            ),
        )
    })
}

fn fact(id: &'static str, problem: bool, message: impl Into<Text>) -> Fact {
    Fact {
        id,
        message: message.into(),
        problem,
    }
}

/// The certificates of the `x5c` header sent: Err with what is wrong with it.
fn x5c_sent(header: &Map<String, Value>) -> Option<Result<Vec<Certificate>, String>> {
    let v = header.get("x5c")?;
    let Some(items) = v.as_array() else {
        return Some(Err(format!(
            "x5c was sent as a JSON {}, not as an array of certificates",
            json_kind(v)
        )));
    };
    if items.is_empty() {
        return Some(Err("x5c was sent as an empty array".into()));
    }
    let mut certs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(text) = item.as_str() else {
            return Some(Err(format!(
                "x5c[{i}] is a JSON {}, not a base64 string",
                json_kind(item)
            )));
        };
        let der = match STANDARD.decode(text) {
            Ok(d) => d,
            Err(e) => {
                return Some(Err(format!(
                    "x5c[{i}] is not standard base64 (x5c uses +/ with padding, not base64url): {e}"
                )));
            }
        };
        match Certificate::from_der(&der) {
            Ok(c) => certs.push(c),
            Err(e) => return Some(Err(format!("x5c[{i}] is not a DER certificate: {e}"))),
        }
    }
    Some(Ok(certs))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The certificate that went with the JWT: the x5c leaf, else the key's own.
fn certificate_sent(ctx: &Context) -> Option<(Certificate, &'static str)> {
    if let Some(Some(Ok(certs))) = ctx.header.as_ref().map(x5c_sent)
        && let Some(leaf) = certs.into_iter().next()
    {
        return Some((leaf, "the certificate sent in x5c"));
    }
    let der = ctx.local_key.as_ref()?.certificate.as_ref()?;
    Certificate::from_der(der)
        .ok()
        .map(|c| (c, "the signing key's certificate"))
}

fn header_str<'a>(ctx: &'a Context, k: &str) -> Option<&'a str> {
    ctx.header.as_ref()?.get(k)?.as_str()
}

fn org_of(c: &Certificate) -> String {
    c.subject
        .get("2.5.4.10")
        .or_else(|| c.subject.get(crate::cert::oid::COMMON_NAME))
        .unwrap_or("(no O or CN)")
        .to_string()
}

/// What the header named the key with, in words.
fn header_summary(h: &Map<String, Value>) -> String {
    let mut parts = Vec::new();
    for k in ["alg", "typ", "kid", "x5t", "x5t#S256"] {
        if let Some(v) = h.get(k) {
            parts.push(format!(
                "{k} {}",
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            ));
        }
    }
    match h.get("x5c") {
        Some(Value::Array(a)) => parts.push(format!("x5c with {} certificate(s)", a.len())),
        Some(_) => parts.push("x5c (not an array)".into()),
        None => parts.push("no x5c".into()),
    }
    parts.join(", ")
}

/// The key's thumbprints: what a server may have registered it under.
fn thumbprints(ctx: &Context) -> Option<String> {
    let t = ctx.local_key.as_ref()?.thumbprint.clone();
    let s = certificate_sent(ctx).map(|(c, _)| c.x5t_s256());
    match (t, s) {
        (Some(t), Some(s)) => Some(format!(
            "this key's RFC 7638 thumbprint is {t}; its certificate's x5t#S256 is {s}"
        )),
        (Some(t), None) => Some(format!("this key's RFC 7638 thumbprint is {t}")),
        (None, Some(s)) => Some(format!("the certificate's x5t#S256 is {s}")),
        (None, None) => None,
    }
}

/// Where to see the key's public JWK, to compare with the one registered.
fn see_jwk() -> Text {
    Text::from(
        "to compare with the key registered on the client, see this key's public JWK with \
         `credkit convert <key file> ",
    )
    .setting(Setting::ConvertTo(ConvertTo::Jwk))
    .words("`")
}

/// Facts read from the request actually sent (header, certificate, jti,
/// endpoint) that the server's text does not give, for the answer matched.
pub(crate) fn sent_facts(e: &ErrorResponse, known: Option<&Known>, ctx: &Context) -> Vec<Fact> {
    let mut out = Vec::new();
    if not_oauth(e) {
        not_a_token_endpoint_facts(e, ctx, &mut out);
    }
    let Some(k) = known else {
        return out;
    };
    let header = ctx.header.as_ref();
    if let (Topic::Certificate | Topic::Key | Topic::Signature, Some(h)) = (k.topic, header) {
        out.push(fact(
            "header-sent",
            false,
            format!("header sent: {}", header_summary(h)),
        ));
    }
    match k.id {
        "maskinporten-x5c" => out.extend(x5c_fact(ctx)),
        "maskinporten-orgno-mismatch" => orgno_facts(ctx, &mut out),
        "maskinporten-invalid-certificate" => invalid_certificate_facts(ctx, &mut out),
        "maskinporten-unknown-kid"
        | "okta-kid"
        | "keycloak-signature"
        | "maskinporten-expired-key" => kid_facts(k, ctx, &mut out),
        "maskinporten-kid-required" => kid_required_facts(ctx, &mut out),
        "entra-signature" | "entra-no-thumbprint" => x5t_facts(k, ctx, &mut out),
        _ => {}
    }
    if k.topic == Topic::Replay {
        out.push(replay_fact(ctx));
    }
    out
}

/// An answer that is not OAuth at all: the URL is not a token endpoint;
/// the metadata names the real one, when it was looked up.
fn not_a_token_endpoint_facts(e: &ErrorResponse, ctx: &Context, out: &mut Vec<Fact>) {
    out.push(fact(
        "not-a-token-endpoint",
        true,
        format!(
            "the answer (HTTP {}{}) is not an OAuth error response: {} is not a token endpoint",
            e.status,
            if e.body
                .as_deref()
                .is_some_and(|b| b.trim_start().starts_with('<'))
            {
                ", an HTML page"
            } else {
                ""
            },
            if ctx.endpoint.is_empty() {
                "the URL called"
            } else {
                &ctx.endpoint
            }
        ),
    ));
    if let Some(d) = &ctx.metadata
        && let Some(url) = &d.metadata_url
    {
        out.push(fact(
            "token-endpoint-from-metadata",
            d.token_endpoint != ctx.endpoint,
            if d.token_endpoint == ctx.endpoint {
                format!("the metadata ({url}) names this same URL as token_endpoint: the server itself is misconfigured")
            } else {
                format!(
                    "the issuer {}'s metadata ({url}) names the token endpoint {}",
                    d.issuer, d.token_endpoint
                )
            },
        ));
    }
}

/// MP-123: what the header's x5c was (missing, malformed, or fine).
fn x5c_fact(ctx: &Context) -> Option<Fact> {
    let kid = header_str(ctx, "kid");
    Some(match ctx.header.as_ref().map(x5c_sent)? {
        None => fact(
            "x5c-not-sent",
            true,
            match kid {
                Some(kid) => format!(
                    "no x5c was sent: the header named the key with kid {kid:?} instead, so there was no certificate to read"
                ),
                None => "no x5c was sent: the header carried neither x5c nor kid".into(),
            },
        ),
        Some(Err(why)) => fact("x5c-malformed", true, why),
        Some(Ok(certs)) => fact(
            "x5c-sent",
            false,
            format!(
                "x5c was sent as an array of {} standard-base64 DER certificate(s) that parse; the leaf is {}",
                certs.len(),
                certs
                    .first()
                    .map(|c| c.subject.to_display())
                    .unwrap_or_default()
            ),
        ),
    })
}

/// The `certificate-org` fact: whose organisation number the certificate
/// sent carries, and where in the certificate it was found.
fn certificate_org(c: &Certificate, what: &str, org: Option<&(String, &str)>) -> Fact {
    fact(
        "certificate-org",
        false,
        match org {
            Some((n, from)) => format!(
                "{what} belongs to {} with organisation number {n} (from its {from})",
                org_of(c)
            ),
            None => format!(
                "{what} ({}) carries no Norwegian organisation number",
                c.subject.to_display()
            ),
        },
    )
}

/// MP-122: the certificate's organisation against the client's.
fn orgno_facts(ctx: &Context, out: &mut Vec<Fact>) {
    let Some((c, what)) = certificate_sent(ctx) else {
        return;
    };
    let org = c.org_number();
    out.push(certificate_org(&c, what, org.as_ref()));
    let client = ctx.client_id.as_deref().unwrap_or("(the client)");
    match (&org, &ctx.client_org) {
        (Some((n, _)), Some(want)) if n != want => out.push(fact(
            "client-org-mismatch",
            true,
            format!("the client's organisation was given as {want}, but the certificate is organisation {n}'s: use organisation {want}'s certificate, or a client owned by {n}"),
        )),
        (Some((n, _)), Some(_)) => out.push(fact(
            "client-owner",
            true,
            format!("the certificate is organisation {n}'s, as expected, so client {client} is not owned by {n} in this environment: check the client's owner in Samarbeidsportalen"),
        )),
        (Some((n, _)), None) => out.push(fact(
            "client-owner",
            true,
            format!("client {client} must be owned by organisation {n} for this certificate to be accepted; if another organisation owns it, use that organisation's certificate"),
        )),
        (None, _) => {}
    }
}

/// MP-120: the certificate sent, its validity when the server read it, and
/// its key usage.
fn invalid_certificate_facts(ctx: &Context, out: &mut Vec<Fact>) {
    let Some((c, what)) = certificate_sent(ctx) else {
        return;
    };
    out.push(fact(
        "certificate-sent",
        false,
        format!(
            "{what}: {}, issued by {}, valid {} to {}",
            c.subject.to_display(),
            c.issuer.to_display(),
            crate::timefmt::rfc3339(c.not_before),
            crate::timefmt::rfc3339(c.not_after)
        ),
    ));
    let at = ctx.server_date.unwrap_or(ctx.local_received);
    if at > c.not_after || at < c.not_before {
        out.push(fact(
            "certificate-not-valid",
            true,
            format!("{what} is not valid at {}", crate::timefmt::rfc3339(at)),
        ));
    }
    if c.key_usage.is_some() && !c.has_key_usage("digitalSignature") {
        out.push(fact(
            "certificate-key-usage",
            true,
            format!("{what} lacks keyUsage digitalSignature (it is the non-repudiation certificate; use the authentication one)"),
        ));
    }
}

/// An unknown or unregistered key: the kid sent, iss set to it, the key's
/// thumbprints, and where to see its public JWK.
fn kid_facts(k: &Known, ctx: &Context, out: &mut Vec<Fact>) {
    match header_str(ctx, "kid") {
        Some(kid) => {
            out.push(fact("kid-sent", false, format!("kid sent: {kid}")));
            let iss = ctx
                .claims
                .as_ref()
                .and_then(|c| c.get("iss"))
                .and_then(Value::as_str);
            if iss == Some(kid) {
                out.push(fact(
                    "iss-is-kid",
                    true,
                    format!("iss is the kid ({kid}); iss must be the client id that owns the key"),
                ));
            }
            if ctx.local_key.as_ref().and_then(|l| l.thumbprint.as_deref()) == Some(kid) {
                out.push(fact(
                    "kid-is-thumbprint",
                    false,
                    "the kid sent is this key's RFC 7638 thumbprint, credkit's default; the client may know the key under another id",
                ));
            }
        }
        None if ctx.header.is_some() && k.id != "keycloak-signature" => {
            out.push(fact("kid-not-sent", true, "no kid was sent in the header"))
        }
        None => {}
    }
    if let Some(t) = thumbprints(ctx) {
        out.push(fact("key-thumbprints", false, t));
    }
    if k.id != "maskinporten-expired-key" {
        out.push(fact(
            "public-jwk",
            false,
            see_jwk().words(
                "; the usual mix-ups: iss set to the kid, or the key registered on another client",
            ),
        ));
    }
}

/// A client that wants a registered key named by kid: none was sent; the
/// likely registered id.
fn kid_required_facts(ctx: &Context, out: &mut Vec<Fact>) {
    let header = ctx.header.as_ref();
    if header.is_some() && header_str(ctx, "kid").is_none() {
        out.push(fact(
            "kid-not-sent",
            true,
            format!(
                "the header carried no kid ({}): the client uses registered keys, and the server picks one by kid",
                header.map(header_summary).unwrap_or_default()
            ),
        ));
    }
    if let Some(t) = ctx.local_key.as_ref().and_then(|l| l.thumbprint.as_deref()) {
        out.push(fact(
            "likely-kid",
            false,
            format!("this key's RFC 7638 thumbprint {t} is the likely registered id if the key was uploaded as a JWK without its own kid"),
        ));
    }
}

/// Entra ID: the x5t#S256 sent against the signing certificate's.
fn x5t_facts(k: &Known, ctx: &Context, out: &mut Vec<Fact>) {
    let sent = header_str(ctx, "x5t#S256");
    let mine = certificate_sent(ctx).map(|(c, _)| c.x5t_s256());
    match (sent, &mine) {
        (Some(s), Some(m)) if s != m => out.push(fact(
            "x5t-s256-mismatch",
            true,
            format!("x5t#S256 sent ({s}) is not the signing key's certificate's ({m})"),
        )),
        (Some(s), _) => out.push(fact("x5t-s256-sent", false, format!("x5t#S256 sent: {s}; the app registration must hold the certificate with this thumbprint"))),
        (None, Some(m)) => out.push(fact(
            "x5t-s256-not-sent",
            k.id == "entra-no-thumbprint",
            format!("no x5t#S256 was sent; the certificate's is {m}"),
        )),
        (None, None) => {}
    }
    if let Some(kid) = header_str(ctx, "kid") {
        out.push(fact("kid-sent", false, format!("kid sent: {kid}")));
    }
}

/// A replayed JWT: who minted it, so who must mint a new one.
fn replay_fact(ctx: &Context) -> Fact {
    let jti = ctx
        .claims
        .as_ref()
        .and_then(|c| c.get("jti"))
        .and_then(Value::as_str);
    fact(
        "replay",
        true,
        match (jti, ctx.assertion_given && !ctx.copied) {
            (Some(j), _) if ctx.copied => format!("the JWT with jti {j} had been sent before: the sender must mint a new JWT (a fresh jti) for every request, retries included; if it does, look for a proxy or gateway that replays requests"),
            (None, _) if ctx.copied => "a JWT was sent twice: the sender must mint a new JWT (a fresh jti) for every request, retries included; if it does, look for a proxy or gateway that replays requests".into(),
            (Some(j), true) => format!("the JWT (jti {j}) was given ready-made: sending the same JWT twice is the cause; a server accepts each jti once"),
            (None, true) => "the JWT was given ready-made and has no jti: sending the same JWT twice is the cause".into(),
            (Some(j), false) => format!("credkit minted this JWT (jti {j}) just before sending it, and mints a new one for every attempt: something between replayed it; look for a proxy or gateway that retries requests"),
            (None, false) => "credkit mints a new JWT for every attempt: look for a proxy or gateway that replays requests".into(),
        },
    )
}

/// The fix, made specific to what was sent (never claiming what was not done).
fn fix_for(k: &Known, ctx: &Context) -> Text {
    let custom_issuer = ctx.issuer.as_deref().filter(|i| endpoint_env(i).is_none());
    let thumb = ctx.local_key.as_ref().and_then(|l| l.thumbprint.as_deref());
    match (k.id, k.topic) {
        ("maskinporten-x5c", _) => match ctx.header.as_ref().map(x5c_sent) {
            Some(None) if ctx.copied => "put the business certificate in the header as x5c = [\"<base64 DER of the leaf>\"] instead of kid (credkit token sends it so under the maskinporten rules)".into(),
            Some(None) => Text::from("send the business certificate as x5c = [\"<base64 DER of the leaf>\"] instead of kid: drop ")
                .setting(Setting::Kid(None))
                .words(", and credkit's maskinporten rules send x5c"),
            Some(Some(Ok(_))) => Text::from("x5c was well-formed: check that the certificate is a business certificate for this environment (credkit check ")
                .setting(Setting::Target(Some(Target::Maskinporten)))
                .words(")"),
            _ => Text::of(k.fix),
        },
        ("maskinporten-kid-required", _) => match thumb {
            Some(t) => Text::from("send the registered key's id with ")
                .setting(Setting::Kid(None))
                .words(" ID (likely ")
                .setting(Setting::Kid(Some(t.to_string())))
                .words("), or set the client up for a business certificate"),
            None => Text::of(k.fix),
        },
        (_, Topic::Aud) if k.id != "okta-aud" => match custom_issuer {
            Some(i) => format!("set aud to this server's issuer exactly, trailing slash and all: {i}").into(),
            None => Text::of(k.fix),
        },
        ("okta-aud", _) => format!("set aud to the URL you POST to: {}", ctx.endpoint).into(),
        // Revocation is the one cause of MP-120 nothing local shows.
        ("maskinporten-invalid-certificate", _) if !ctx.revocation_checked => Text::of(k.fix)
            .words("; a revoked certificate gets the same answer, and only the CA can tell: `credkit check KEYFILE ")
            .setting(Setting::Revocation)
            .words("` asks it (or token ")
            .setting(Setting::Revocation)
            .words(", before sending)"),
        (_, Topic::Replay) if ctx.copied => "mint a new JWT with a fresh jti for every request, retries included (credkit token does)".into(),
        (_, Topic::Replay) if ctx.assertion_given => Text::from("mint a new JWT for every request: a ready-made JWT (")
            .setting(Setting::Assertion)
            .words(") can be sent only once"),
        (_, Topic::Replay) => "credkit already mints a fresh jti for every attempt: find what replays the request (a proxy, gateway or retrying client)".into(),
        _ => Text::of(k.fix),
    }
}

/// RFC 7638 thumbprint of a public JWK (its required members, in order).
fn jwk_thumbprint(j: &Map<String, Value>) -> Option<String> {
    use base64::Engine;
    let members: &[&str] = match j.get("kty")?.as_str()? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canon = serde_json::Map::new();
    for m in members {
        canon.insert(
            (*m).to_string(),
            Value::String(j.get(*m)?.as_str()?.to_string()),
        );
    }
    let text = Value::Object(canon).to_string();
    Some(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(crate::key::sha256(text.as_bytes())),
    )
}

/// Facts about DPoP and mutual TLS, read from the request actually sent.
fn proof_facts(e: &ErrorResponse, ctx: &Context) -> Vec<Fact> {
    let p = &ctx.proofs;
    let mut out = Vec::new();
    let error = e.error.as_deref();
    if let Some(proof) = &p.dpop_proof
        && matches!(error, Some("invalid_dpop_proof" | "use_dpop_nonce"))
    {
        let h = header_of(proof).unwrap_or_default();
        let c = crate::jwt::decode::decode(proof)
            .map(|d| d.claims)
            .unwrap_or_default();
        let s = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_str)
                .unwrap_or("(none)")
                .to_string()
        };
        let jkt = h
            .get("jwk")
            .and_then(Value::as_object)
            .and_then(jwk_thumbprint)
            .unwrap_or_else(|| "(unreadable)".into());
        out.push(fact(
            "dpop-sent",
            false,
            format!(
                "the DPoP proof sent: typ {}, alg {}, key thumbprint {jkt}, htm {}, htu {}, iat {}, nonce {}",
                s(&h, "typ"),
                s(&h, "alg"),
                s(&c, "htm"),
                s(&c, "htu"),
                num(&c, "iat").map_or("(none)".into(), |v| v.to_string()),
                s(&c, "nonce"),
            ),
        ));
        if let (Some(iat), Some(date)) = (num(&c, "iat"), ctx.server_date) {
            let skew = iat - date;
            if skew.abs() > 60 {
                out.push(fact(
                    "dpop-iat-skew",
                    true,
                    format!(
                        "the proof's iat is {skew} s from the server's Date: without a nonce, servers accept only a recent iat"
                    ),
                ));
            }
        }
        if error == Some("use_dpop_nonce") {
            out.push(match (&p.server_nonce, p.nonce_retried) {
                (None, _) => fact(
                    "dpop-nonce",
                    true,
                    "the server asked for a DPoP nonce but gave no DPoP-Nonce header to use",
                ),
                (Some(n), true) => fact(
                    "dpop-nonce",
                    true,
                    format!(
                        "credkit sent the request again with the server's nonce and was refused again; the server now offers nonce {n}: its nonces may expire faster than a request takes, or differ per server instance"
                    ),
                ),
                (Some(n), false) => fact(
                    "dpop-nonce",
                    false,
                    format!("the server offers nonce {n} in DPoP-Nonce"),
                ),
            });
        }
    }
    out.extend(tls_client_certificate_fact(e, ctx));
    out
}

/// Mutual TLS refused (or a server that talks of certificates): which TLS
/// client certificate the request actually made offered, and to which
/// endpoint (the metadata's mtls alias or not); none over plain http.
fn tls_client_certificate_fact(e: &ErrorResponse, ctx: &Context) -> Option<Fact> {
    let p = &ctx.proofs;
    let desc = e.error_description.as_deref().unwrap_or("").to_lowercase();
    let mtls = matches!(
        ctx.auth,
        Some(Auth::TlsClientAuth | Auth::SelfSignedTlsClientAuth)
    );
    let refused = matches!(
        e.error.as_deref(),
        Some("invalid_client" | "invalid_grant" | "invalid_request" | "unauthorized_client")
    );
    // No client authentication at all, refused as an unknown client: a
    // client registered for mutual TLS is one reason (the server rarely says).
    let none_sent =
        matches!(ctx.auth, Some(Auth::None)) && e.error.as_deref() == Some("invalid_client");
    if !refused || !(mtls || none_sent || desc.contains("certificate")) {
        return None;
    }
    let to = if p.mtls_alias {
        format!(
            "{} (the metadata's mtls_endpoint_aliases.token_endpoint)",
            ctx.endpoint
        )
    } else {
        ctx.endpoint.clone()
    };
    let (message, problem) = match (&p.tls_x5t, ctx.endpoint.starts_with("http://")) {
        (_, true) => (
            Text::from(format!(
                "{} is plain http: no TLS client certificate can be presented there (use the https endpoint, or the metadata's mtls_endpoint_aliases)",
                ctx.endpoint
            )),
            true,
        ),
        (None, false) if none_sent => (
            Text::from(format!(
                "credkit sent no client authentication to {to}: no client assertion, no secret and no TLS client certificate in the handshake; a client registered for tls_client_auth needs "
            ))
            .setting(Setting::Auth(Some(Auth::TlsClientAuth)))
            .words(" (or self-signed-tls-client-auth) and a ")
            .setting(Setting::Key)
            .words(" entry with its certificate"),
            true,
        ),
        (None, false) => (
            Text::from(format!(
                "credkit presented no TLS client certificate in the handshake with {to}: mutual TLS needs "
            ))
            .setting(Setting::Auth(Some(Auth::TlsClientAuth)))
            .words(" or self-signed-tls-client-auth with a ")
            .setting(Setting::Key)
            .words(" entry that has a certificate"),
            true,
        ),
        (Some(x5t), false) => (
            Text::from(format!(
                "credkit presented the TLS client certificate subject {}, x5t#S256 {x5t}, in the handshake with {to}; if the server says none arrived, a TLS-terminating proxy in between may drop it, or the server did not ask for one on this endpoint (see mtls_endpoint_aliases)",
                p.tls_subject
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .unwrap_or("(unknown)")
            )),
            desc.contains("certificate"),
        ),
    };
    Some(fact("tls-client-certificate", problem, message))
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
        Topic::Replay => false,
        _ => false,
    }
}

/// Put it all together.
pub fn diagnose(e: &ErrorResponse, ctx: &Context) -> Diagnosis {
    let known = lookup(e);
    let topic = known.map(|k| k.topic);
    let mut facts: Vec<Fact> = facts(ctx)
        .into_iter()
        .filter(|f| relevant(f, topic, e.error.as_deref()))
        .filter(|f| !(topic == Some(Topic::Replay) && f.id == "assertion-given"))
        .collect();
    facts.extend(sent_facts(e, known, ctx));
    facts.extend(proof_facts(e, ctx));
    facts.extend(ctx.flow.iter().cloned());
    let candidates = if known.is_none() {
        client_candidates(e, ctx)
            .or_else(|| user_candidates(e, ctx))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Diagnosis {
        endpoint: ctx.endpoint.clone(),
        server: e.clone(),
        known: known.map(|k| Match {
            id: k.id,
            provider: k.provider,
            code: k.code,
            topic: k.topic,
            cause: k.cause.to_string(),
            fix: fix_for(k, ctx),
        }),
        general: e.error.as_deref().and_then(general).map(str::to_string),
        candidates,
        facts,
        findings: ctx.findings.clone(),
    }
}

/// Texts from plain words.
fn texts(words: &[&str]) -> Vec<Text> {
    words.iter().map(|w| Text::from(*w)).collect()
}

/// The usual causes of a refusal the server does not explain, for a client
/// that authenticated itself (a signed JWT, a secret) or a refresh token,
/// and for a scope; None when none of those fit.
fn client_candidates(e: &ErrorResponse, ctx: &Context) -> Option<Vec<Text>> {
    let signed = ctx.claims.is_some();
    Some(match (e.error.as_deref(), ctx.auth, ctx.grant) {
        (Some("invalid_client"), Some(Auth::PrivateKeyJwt), _)
        | (Some("invalid_grant"), _, Some(Grant::JwtBearer))
            if signed =>
        {
            texts(&[
                "the public key registered on the client is not the one of the signing key (or the kid does not match)",
                "the client id (iss) is unknown to this server",
                "aud is not what this server expects",
                "the JWT expired before it arrived (clock skew)",
                "the jti was used before (a replayed JWT)",
            ])
        }
        (Some("invalid_client"), Some(Auth::ClientSecretBasic | Auth::ClientSecretPost), _) => {
            let mut v = texts(&[
                "the client id is unknown to this server",
                "the secret is wrong or expired (Entra: the secret's value, not its ID)",
            ]);
            v.push(
                Text::from(
                    "the client is set up for another authentication method (try the other of ",
                )
                .setting(Setting::Auth(Some(Auth::ClientSecretBasic)))
                .words(" / client-secret-post)"),
            );
            v
        }
        (Some("invalid_grant"), _, Some(Grant::RefreshToken)) => texts(&[
            "the refresh token was already used (the server rotates refresh tokens)",
            "the refresh token expired or was revoked",
            "the refresh token belongs to another client",
        ]),
        (Some("invalid_scope"), _, _) => {
            texts(&["the scope must be added to (or granted to) this client on the server"])
        }
        _ => return None,
    })
}

/// The usual causes of a refusal the server does not explain, for the
/// grants a user takes part in (authorization code, device code); None when
/// none fit.
fn user_candidates(e: &ErrorResponse, ctx: &Context) -> Option<Vec<Text>> {
    let says = |what: &str| {
        e.error_description
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains(what))
    };
    Some(match (e.error.as_deref(), ctx.grant) {
        (Some("invalid_grant"), Some(Grant::AuthorizationCode)) => texts(&[
            "the code_verifier does not match the code_challenge of the authorization request (PKCE): the request that reached the server was changed on its way, or the code belongs to another login",
            "the redirect_uri differs from the one in the authorization request",
            "the code was already used, or expired (codes live for seconds to minutes)",
            "the code was issued to another client",
        ]),
        (Some("invalid_redirect_uri" | "invalid_request"), Some(Grant::AuthorizationCode))
            if e.error_description
                .as_deref()
                .is_some_and(|d| d.contains("redirect_uri")) =>
        {
            texts(&[
                "the redirect_uri sent is not registered on the client: register it exactly, or give the registered one (a loopback one, RFC 8252 §7.3)",
            ])
        }
        (Some("invalid_request"), Some(Grant::AuthorizationCode))
            if says("pushed authorization request") =>
        {
            texts(&[
                "the client (or the server) requires pushed authorization requests (PAR, RFC 9126): push the request first",
            ])
        }
        (Some("access_denied"), Some(Grant::AuthorizationCode | Grant::DeviceCode)) => texts(&[
            "the user declined, or cancelled the sign-in",
            "the server's policy does not let this user or client have what was asked for",
        ]),
        (Some("expired_token"), Some(Grant::DeviceCode)) => texts(&[
            "nobody entered and approved the user code before it expired: start again and approve it sooner",
        ]),
        _ => return None,
    })
}

/// An answer copied from a log, a console or another program.
#[derive(Debug, Clone)]
pub struct Copied {
    /// The answer as read from the text (status 0 when none was named).
    pub response: ErrorResponse,
    /// `trace_id` or correlation id, for the provider's support.
    pub trace_id: Option<String>,
}

const OAUTH_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "forbidden",
];

/// Read what was copied: a JSON error body (anywhere in the text), a raw
/// `error_description`, or a whole log line. None when there is no text.
pub fn parse_copied(text: &str) -> Option<Copied> {
    let text = text.trim().trim_start_matches('\u{feff}');
    if text.is_empty() {
        return None;
    }
    let str_of =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    // A JSON object with error or error_description, wherever it starts.
    let json = text.match_indices('{').find_map(|(i, _)| {
        let mut it = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
        match it.next() {
            Some(Ok(Value::Object(m)))
                if m.contains_key("error") || m.contains_key("error_description") =>
            {
                Some(m)
            }
            _ => None,
        }
    });
    let (error, description, uri, mut codes) = match &json {
        Some(m) => (
            str_of(m, "error"),
            str_of(m, "error_description"),
            str_of(m, "error_uri"),
            m.get("error_codes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default(),
        ),
        // An HTML page: not an OAuth answer at all.
        None if text.starts_with('<') => (None, None, None, Vec::new()),
        None => {
            let found = OAUTH_ERRORS
                .iter()
                .find_map(|c| word_at(text, c).map(|i| (*c, i)));
            // In a log line the description follows the error code.
            let description = match found {
                Some((c, i)) if !text.contains("error_description") => {
                    let rest = text[i + c.len()..].trim_start_matches(|ch: char| {
                        ch == ':' || ch == '-' || ch.is_whitespace()
                    });
                    if rest.is_empty() {
                        text.to_string()
                    } else {
                        rest.to_string()
                    }
                }
                _ => description_in(text),
            };
            (
                found.map(|(c, _)| c.to_string()),
                Some(description),
                None,
                Vec::new(),
            )
        }
    };
    let html = json.is_none() && text.starts_with('<');
    let haystack = description.as_deref().unwrap_or(text);
    for (i, _) in haystack.match_indices("AADSTS") {
        let digits: String = haystack[i + 6..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse::<i64>()
            && !codes.contains(&n)
        {
            codes.push(n);
        }
    }
    Some(Copied {
        response: ErrorResponse {
            status: status_in(text),
            error,
            error_description: description,
            error_uri: uri,
            error_codes: codes,
            body: html.then(|| text.chars().take(500).collect()),
        },
        trace_id: trace_id_in(text),
    })
}

/// Where `w` occurs as a whole word.
fn word_at(text: &str, w: &str) -> Option<usize> {
    text.match_indices(w).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + w.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        edge(before) && edge(after)
    })
}

/// The description in a log line: after `error_description=`/`:`, else the text.
fn description_in(text: &str) -> String {
    let Some(i) = text.find("error_description") else {
        return text.to_string();
    };
    let rest = text[i + "error_description".len()..]
        .trim_start_matches(['"', '\''])
        .trim_start();
    let rest = rest
        .strip_prefix('=')
        .or_else(|| rest.strip_prefix(':'))
        .unwrap_or(rest)
        .trim_start();
    match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or("").to_string(),
        _ => rest.to_string(),
    }
}

/// An HTTP status named in a log line (`HTTP/1.1 400`, `status=400`, `400 Bad Request`).
fn status_in(text: &str) -> u16 {
    let lower = text.to_ascii_lowercase();
    let three = |s: &str| -> Option<u16> {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        (d.len() == 3)
            .then(|| d.parse().ok())
            .flatten()
            .filter(|n| (400..600).contains(n))
    };
    for marker in [
        "http/1.1 ",
        "http/1.0 ",
        "http/2 ",
        "http ",
        "status=",
        "status: ",
        "status:",
        "status ",
        "\"status\":",
    ] {
        for (i, _) in lower.match_indices(marker) {
            if let Some(n) = three(lower[i + marker.len()..].trim_start()) {
                return n;
            }
        }
    }
    for (phrase, n) in [
        ("bad request", 400),
        ("unauthorized", 401),
        ("forbidden", 403),
        ("not found", 404),
    ] {
        if let Some(i) = lower.find(phrase)
            && lower[..i].trim_end().ends_with(&n.to_string())
        {
            return n;
        }
    }
    0
}

/// `trace_id: X`, `trace_id=X`, `correlation id: X`, `correlation_id: X`.
fn trace_id_in(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    for marker in ["trace_id", "correlation id", "correlation_id"] {
        if let Some(i) = lower.find(marker) {
            let rest = text[i + marker.len()..].trim_start_matches(|c: char| {
                c == '"' || c == ':' || c == '=' || c.is_whitespace()
            });
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !id.is_empty() {
                return Some(id);
            }
        }
    }
    None
}

/// Every fact that can be read from the JWT and key given, whatever the answer:
/// the header (x5c or kid), the certificate (organisation, validity and key
/// usage at `at`), whether the key is the certificate's, the jti.
pub fn local_facts(ctx: &Context, at: i64) -> Vec<Fact> {
    let mut out = Vec::new();
    if let Some(h) = &ctx.header {
        out.push(fact(
            "header-sent",
            false,
            format!("header sent: {}", header_summary(h)),
        ));
        if let Some(Err(why)) = x5c_sent(h) {
            out.push(fact("x5c-malformed", true, why));
        }
    }
    if let Some((c, what)) = certificate_sent(ctx) {
        out.push(certificate_org(&c, what, c.org_number().as_ref()));
        if let (Some(want), Some((n, _))) = (&ctx.client_org, c.org_number())
            && *want != n
        {
            out.push(fact(
                "client-org-mismatch",
                true,
                format!("the client's organisation was given as {want}, but {what} is organisation {n}'s"),
            ));
        }
        let valid = c.not_before <= at && at <= c.not_after;
        out.push(fact(
            "certificate-validity",
            !valid,
            format!(
                "{what} is valid {} to {}: {} at {}",
                crate::timefmt::rfc3339(c.not_before),
                crate::timefmt::rfc3339(c.not_after),
                if valid { "valid" } else { "NOT valid" },
                crate::timefmt::rfc3339(at)
            ),
        ));
        if let Some(ku) = &c.key_usage {
            let ok = c.has_key_usage("digitalSignature");
            out.push(fact(
                "certificate-key-usage",
                !ok,
                format!(
                    "{what} has keyUsage {}{}",
                    ku.join(", "),
                    if ok { "" } else { ": without digitalSignature it cannot sign grants (use the authentication certificate, not the non-repudiation one)" }
                ),
            ));
        }
        if let (Some(mine), Some(Some(Ok(certs)))) = (
            ctx.local_key.as_ref().and_then(|l| l.thumbprint.as_deref()),
            ctx.header.as_ref().map(x5c_sent),
        ) && let Some(leaf) = certs.first()
        {
            let theirs = leaf
                .public_key
                .as_ref()
                .ok()
                .and_then(|k| k.jwk_thumbprint());
            let same = theirs.as_deref() == Some(mine);
            out.push(fact(
                "key-matches-x5c",
                !same,
                if same {
                    "the key given is the key of the certificate in x5c"
                } else {
                    "the key given is NOT the key of the certificate in x5c: a signature made with it does not verify against x5c"
                },
            ));
        }
    }
    if let Some(t) = thumbprints(ctx) {
        out.push(fact("key-thumbprints", false, t));
    }
    if let Some(j) = ctx
        .claims
        .as_ref()
        .and_then(|c| c.get("jti"))
        .and_then(Value::as_str)
    {
        out.push(fact(
            "jti",
            false,
            format!("jti sent: {j}; a server accepts each jti only once"),
        ));
    }
    out
}

/// The diagnosis of an answer copied from elsewhere: the same as for a
/// refusal credkit received, plus every fact the JWT and key given show.
pub fn explain(e: &ErrorResponse, ctx: &Context, at: i64) -> Diagnosis {
    let mut d = diagnose(e, ctx);
    for f in local_facts(ctx, at) {
        if !d.facts.iter().any(|g| g.id == f.id) {
            d.facts.push(f);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text as the output layer words it.
    fn said(t: &Text) -> String {
        crate::output::remedy::text(t)
    }

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
    fn dpop_nonce_refused_twice_is_named() {
        // A proof as credkit sends it (header and claims; the signature is not read).
        use base64::Engine;
        let b = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let proof = format!(
            "{}.{}.c2ln",
            b(serde_json::json!({"typ": "dpop+jwt", "alg": "ES256",
                "jwk": {"kty": "EC", "crv": "P-256", "x": "AQ", "y": "Ag"}})),
            b(
                serde_json::json!({"htm": "POST", "htu": "https://as/token", "iat": 1000, "jti": "j", "nonce": "n1"})
            )
        );
        let ctx = Context {
            endpoint: "https://as/token".into(),
            server_date: Some(1000),
            proofs: SentProofs {
                dpop_proof: Some(proof),
                server_nonce: Some("n2".into()),
                nonce_retried: true,
                ..SentProofs::default()
            },
            ..Context::default()
        };
        let d = diagnose(&err("use_dpop_nonce", "invalid nonce in DPoP proof"), &ctx);
        assert_eq!(d.error_id(), "oauth-use-dpop-nonce");
        let sent = d.facts.iter().find(|f| f.id == "dpop-sent").expect("sent");
        assert!(
            said(&sent.message).contains("nonce n1") && said(&sent.message).contains("alg ES256"),
            "{:?}",
            sent.message
        );
        let n = d
            .facts
            .iter()
            .find(|f| f.id == "dpop-nonce")
            .expect("nonce");
        assert!(
            n.problem && said(&n.message).contains("n2"),
            "{:?}",
            n.message
        );
        assert!(!d.facts.iter().any(|f| f.id == "dpop-iat-skew"));
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
    fn mp120_suggests_the_revocation_check_until_it_was_made() {
        let e = ErrorResponse {
            status: 400,
            error: Some("invalid_grant".into()),
            error_description: Some("The JWT is signed with an invalid certificate".into()),
            error_uri: None,
            error_codes: Vec::new(),
            body: None,
        };
        let d = diagnose(&e, &Context::default());
        let fix = d.known.map(|k| said(&k.fix)).unwrap_or_default();
        assert!(fix.contains("--revocation"), "{fix}");
        let checked = Context {
            revocation_checked: true,
            ..Context::default()
        };
        let d = diagnose(&e, &checked);
        let fix = d.known.map(|k| said(&k.fix)).unwrap_or_default();
        assert!(!fix.contains("revocation"), "{fix}");
    }

    #[test]
    fn aud_trailing_slash_is_named() {
        let mut claims = Map::new();
        claims.insert("aud".into(), Value::from("https://test.maskinporten.no"));
        let ctx = Context {
            endpoint: "https://test.maskinporten.no/token".into(),
            issuer: Some("https://test.maskinporten.no/".into()),
            profile: Some(Target::Maskinporten),
            claims: Some(claims),
            ..Default::default()
        };
        let f = facts(&ctx);
        assert!(
            f.iter()
                .any(|f| f.id == "aud-mismatch" && said(&f.message).contains("trailing slash")),
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
            profile: Some(Target::Maskinporten),
            claims: Some(claims),
            server_date: Some(1300),
            local_received: 1001,
            cert_env: Some(MaskinportenEnv::Test),
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
                .any(|f| f.id == "clock-skew" && said(&f.message).contains("299 s behind"))
        );
    }

    /// A description that hits a catalogue entry (its patterns joined).
    fn text_of(k: &Known) -> String {
        k.patterns.join(" ")
    }

    #[test]
    fn explain_finds_every_catalogue_entry_in_each_form_it_is_copied_in() {
        for k in CATALOGUE {
            let desc = format!("{} (trace_id: 0a1b2c)", text_of(k));
            let forms = [
                serde_json::json!({"error": "invalid_grant", "error_description": desc})
                    .to_string(),
                desc.clone(),
                format!(
                    "2026-11-23 12:00:01 ERROR c.a.TokenClient - HTTP/1.1 400 invalid_grant error_description=\"{desc}\""
                ),
            ];
            for form in forms {
                let c = parse_copied(&form).expect("parsed");
                assert_eq!(lookup(&c.response).map(|m| m.id), Some(k.id), "{form}");
                assert_eq!(c.trace_id.as_deref(), Some("0a1b2c"), "{form}");
                let d = explain(
                    &c.response,
                    &Context {
                        copied: true,
                        ..Context::default()
                    },
                    0,
                );
                assert_eq!(d.known.map(|m| m.id), Some(k.id));
                assert!(
                    !d.facts.iter().any(|f| f.id == "not-a-token-endpoint"),
                    "{form}: {:?}",
                    d.facts
                );
            }
        }
        let c = parse_copied("<html><title>404 Not Found</title></html>").expect("html");
        assert_eq!(c.response.status, 404);
        let d = explain(&c.response, &Context::default(), 0);
        assert!(
            d.facts
                .iter()
                .any(|f| f.id == "not-a-token-endpoint" && f.problem)
        );
        assert!(parse_copied(" \n").is_none());
        let c = parse_copied(
            "status=401 invalid_client AADSTS700027: Client assertion failed signature validation.",
        )
        .expect("entra");
        assert_eq!(
            (c.response.status, c.response.error_codes.as_slice()),
            (401, &[700027][..])
        );
    }

    fn header(v: serde_json::Value) -> Option<Map<String, Value>> {
        v.as_object().cloned()
    }

    #[test]
    fn okta_entra_and_keycloak_get_kid_thumbprint_aud_and_reuse_facts() {
        let local = LocalKey {
            thumbprint: Some("THUMB".into()),
            certificate: None,
        };
        let facts_of =
            |desc: &str, h: serde_json::Value, claims: serde_json::Value, given: bool| {
                let c = parse_copied(desc).expect("parsed");
                let ctx = Context {
                    endpoint: "https://example.okta.com/oauth2/v1/token".into(),
                    auth: Some(Auth::PrivateKeyJwt),
                    header: header(h),
                    claims: claims.as_object().cloned(),
                    local_key: Some(local.clone()),
                    assertion_given: given,
                    ..Context::default()
                };
                diagnose(&c.response, &ctx)
            };
        // Okta kid: the kid sent beside this key's thumbprint.
        let d = facts_of(
            "The client_assertion JWT kid is invalid.",
            serde_json::json!({"alg": "RS256", "kid": "old"}),
            serde_json::json!({"iss": "c", "aud": "https://example.okta.com/oauth2/v1/token"}),
            false,
        );
        let ids: Vec<&str> = d.facts.iter().map(|f| f.id).collect();
        assert!(
            ids.contains(&"kid-sent") && ids.contains(&"key-thumbprints"),
            "{ids:?}"
        );
        assert!(d.facts.iter().any(|f| said(&f.message).contains("THUMB")));
        // Okta aud: the URL called is the fix; the aud sent is named.
        let d = facts_of(
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
            serde_json::json!({"alg": "RS256", "kid": "THUMB"}),
            serde_json::json!({"iss": "c", "aud": "https://example.okta.com/oauth2/default/v1/token"}),
            false,
        );
        assert!(
            d.facts.iter().any(|f| f.id == "aud-mismatch" && f.problem),
            "{:?}",
            d.facts
        );
        assert!(
            d.known
                .is_some_and(|k| said(&k.fix).contains("https://example.okta.com/oauth2/v1/token"))
        );
        // Okta and Keycloak reuse: jti named; --assertion is the cause when given.
        for (desc, given, want) in [
            (
                "The client_assertion token has already been used.",
                true,
                "sending the same JWT twice is the cause",
            ),
            (
                "Client authentication with signed JWT failed: Token reuse detected",
                false,
                "proxy",
            ),
        ] {
            let d = facts_of(
                desc,
                serde_json::json!({"alg": "RS256"}),
                serde_json::json!({"iss": "c", "jti": "J-1"}),
                given,
            );
            assert!(
                d.facts.iter().any(|f| f.id == "replay"
                    && said(&f.message).contains("J-1")
                    && said(&f.message).contains(want)),
                "{desc}: {:?}",
                d.facts
            );
        }
        // Keycloak signature: kid sent, thumbprints.
        let d = facts_of(
            "Client authentication with signed JWT failed: Signature on JWT token failed validation",
            serde_json::json!({"alg": "RS256", "kid": "k9"}),
            serde_json::json!({"iss": "c"}),
            false,
        );
        assert!(
            d.facts
                .iter()
                .any(|f| f.id == "kid-sent" && said(&f.message).contains("k9"))
        );
        // Entra: x5t#S256 sent against the certificate's (none known here: just named).
        let d = facts_of(
            "AADSTS700027: Client assertion failed signature validation.",
            serde_json::json!({"alg": "PS256", "x5t#S256": "abc"}),
            serde_json::json!({"iss": "c"}),
            false,
        );
        assert!(
            d.facts
                .iter()
                .any(|f| f.id == "x5t-s256-sent" && said(&f.message).contains("abc")),
            "{:?}",
            d.facts
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
