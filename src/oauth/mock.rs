//! A local Maskinporten look-alike: the token endpoint's rules as a pure
//! function of (request, time), for tests and offline development. The HTTP
//! layer (`credkit serve`) calls [`Mock::metadata`], [`Mock::jwks`] and
//! [`Mock::token`]; nothing here prints, listens or reads the clock.
//!
//! # clients.toml
//!
//! ```toml
//! # Scopes that exist only for user login (ID-porten): asking for one in a
//! # grant gets MP-201.
//! user_login_scopes = ["openid"]
//!
//! # Optional: which organisations have access to a scope (MP-250). Scopes
//! # not listed here are open to every client that has them.
//! [access]
//! "test:restricted" = ["123456785"]
//!
//! [[client]]
//! client_id = "0b7c5c8e-1111-2222-3333-444455556666"
//! org = "123456785"                  # the client owner's organisation number (9 digits)
//! scopes = ["test:read", "test:write"]
//! # auth = "certificate"  grants carry x5c (a business certificate); the
//! #                       default when the client has no keys
//! # auth = "key"          grants carry kid, one of `keys`; the default when
//! #                       the client has keys
//! # keys = [{ kid = "k1", file = "k1.jwk", expires = "2027-11-23T00:00:00Z" }]
//! #   file: any format credkit reads (JWK, PEM, DER, PKCS#12 without a
//! #   password...), relative to this file; only the public key is used.
//! #   expires (optional, RFC 3339): after it, grants with this kid get MP-121.
//! # consumers = { "987654325" = ["test:read"] }
//! #   delegations to this client as a supplier: grants with
//! #   consumer_org = "987654325" may ask for these scopes (else MP-251)
//! # token_lifetime = 600             # seconds; overrides the server default
//! # force_error = "MP-250"           # always answer this documented case
//! ```
//!
//! Unknown keys, duplicate client ids, organisation numbers that are not 9
//! digits and unknown case ids are refused, naming the file and the client.
//!
//! # The token endpoint
//!
//! `POST /token` takes `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
//! and `assertion=<JWT>` and checks, in this order (the first failure wins;
//! the case ids and texts are those of [`CASES`], from Digdir's error page):
//!
//! 1. `grant_type` → 400 `unsupported_grant_type`, with the RFC 6749 §5.2
//!    text "The authorization grant type is not supported by the
//!    authorization server." (Maskinporten's own text is undocumented).
//! 2. The assertion has three base64url parts, header and payload JSON
//!    objects, and is at most 64 KiB → MP-011. A repeated `grant_type` or
//!    `assertion` parameter is MP-011 too.
//! 3. Header `alg` is RS256, RS384 or RS512 → MP-124. Upstream documents the
//!    accepted algorithms but not the error for others; a signature that
//!    cannot be checked is the nearest documented case.
//! 4. Only documented claims → `extra-claim`.
//! 5. `iss` present (MP-100) and a known client (MP-100-not-found).
//! 6. A forced error for the client ([`MockOptions::forced`] or
//!    `force_error`) is answered here, before any check of the key.
//! 7. `aud` is exactly the issuer (a string, trailing slash included) → MP-110.
//! 8. The key. A `kid` header wins over `x5c`: it must name one of the
//!    client's keys (`unknown-kid`) that has not expired (MP-121). Without
//!    `kid`, a key client gets `kid-required`. Otherwise `x5c` must be an
//!    array of 1 to 10 standard-base64 DER certificates (MP-123). The leaf
//!    must chain to a CA-file certificate (every one is a trust anchor;
//!    `x5c[1..]` may add intermediates) by credkit's one path validator,
//!    `cert::path`: every issuer is a CA (CA:TRUE, keyCertSign when keyUsage
//!    is present) within its pathLenConstraint, every certificate on the
//!    path is valid at `now`, and a leaf with a keyUsage extension must have
//!    digitalSignature → MP-120. The path is at most 8 certificates long.
//!    A certificate of the x5c on the revocation list (`--revocation-list`),
//!    from its revocation date on → MP-120. The leaf's organisation
//!    number must be the client's `org` → MP-122. Validated chains are cached
//!    by the SHA-256 of the x5c certificates (for the usual leaf-only x5c,
//!    the leaf's SHA-256), with the path's validity window re-checked on
//!    every use.
//! 9. The signature, with the leaf's or the registered key → MP-124.
//! 10. `exp` and `iat` are integers (MP-011); `exp` ≤ now → MP-130; `iat` more
//!     than `iat_skew` seconds ahead → `iat-future`; more than `iat_skew`
//!     seconds behind → MP-130 (a stale grant: Digdir accepts iat only "less
//!     than 10 seconds ahead/after our clock"); `exp − iat` over 120 s, or
//!     `exp` not after `iat` → MP-011. Then claim types: `jti` (a string of
//!     at most 256 characters), `pid`, `consumer_org` (9 digits),
//!     `iss_onbehalfof` strings, `resource` a string or an array of strings
//!     → MP-011.
//! 11. `jti` used before by the same client and not yet expired → MP-012.
//!     A jti is remembered until its grant's `exp`, from this step on: a
//!     grant refused by a later step has still used up its jti. A grant
//!     without `jti` is accepted (Digdir only recommends it) and cannot be
//!     checked for replay.
//! 12. `consumer_org` equal to the client's own org → `consumer-org-own`.
//! 13. `authorization_details` is an array of objects (MP-011); each `type`
//!     is `urn:altinn:systemuser` or `urn:altinn:consent` (MP-301); a
//!     systemuser entry has only `type`, `systemuser_org` and `externalRef`
//!     (MP-302), `systemuser_org` is exactly
//!     `{"authority":"iso6523-actorid-upis","ID":"0192:<9 digits>"}` and
//!     `externalRef` a string (MP-303). Consent entries are not checked
//!     further.
//! 14. `scope`: a user-login scope → MP-201; missing, empty, not a string or
//!     not on the client → MP-200 (before delegation, so a typo is named as
//!     a typo); with another `consumer_org`, every scope delegated to the
//!     client (`consumers`) → MP-251 naming the first scope missing; a scope
//!     listed in `[access]` without the consumer's org (`consumer_org`, else
//!     the client's) → MP-250.
//! 15. Success: 200 with `access_token` (an RS256 JWT signed with the
//!     server's key, `kid` in its header, verifiable with [`Mock::jwks`]),
//!     `token_type`, `expires_in` and `scope`. The token's `aud` is the
//!     grant's `resource`, else `unspecified` as Maskinporten writes it.
//!     `iss_onbehalfof` is accepted and not copied into the token.
//!
//! Refusals are HTTP 400, or 403 for MP-250 and MP-251, with `error`,
//! `error_description` ending in `(trace_id: <32 hex>)`, and `error_uri`
//! for MP-121. A server whose replay store is full (a million live grants)
//! answers 503 `temporarily_unavailable`.

use crate::cert::Certificate;
use crate::cert::path::{self, Policy};
use crate::jwt::decode::MASKINPORTEN_CLAIMS;
use crate::jwt::jws::{Alg, JwsError, Signer};
use crate::key::{PrivateKey, PublicKey};
use crate::keystore::model::{Entry, EntryKind};
use crate::keystore::write::jwk::entry_jwk;
use crate::secret::SecretCell;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// The only grant type the token endpoint takes (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The `error_uri` Maskinporten sends with MP-121.
pub const MP_121_URI: &str = "https://maskinporten.no/errors/MP-121";

/// The documented refusals: (case id, HTTP status, `error`, description).
/// In MP-250 and MP-251, `{scope}`, `{consumer}` and `{supplier}` are filled
/// in per request. Ids and texts are those of tests/peer/maskinporten-errors.mjs.
pub const CASES: &[(&str, u16, &str, &str)] = &[
    (
        "MP-100",
        400,
        "invalid_grant",
        "Invalid assertion. Client authentication failed.",
    ),
    ("MP-100-not-found", 400, "invalid_grant", "Client not found"),
    (
        "MP-110",
        400,
        "invalid_grant",
        "Invalid assertion. Client authentication failed. Invalid JWT claim aud",
    ),
    (
        "MP-120",
        400,
        "invalid_grant",
        "Invalid assertion. Client authentication failed. The JWT is signed with an invalid certificate.",
    ),
    (
        "MP-121",
        400,
        "invalid_grant",
        "Invalid assertion. Client authentication failed. Expired key",
    ),
    (
        "unknown-kid",
        400,
        "invalid_grant",
        "Invalid assertion. Client authentication failed. Unknown key identifier (kid) for client.",
    ),
    (
        "kid-required",
        400,
        "invalid_grant",
        "Invalid assertion. Client authentication failed. Invalid JWT. The client requires pre-registered jwk and no key identifier (kid) provided",
    ),
    (
        "MP-124",
        400,
        "invalid_grant",
        "Invalid assertion. Client authentication failed. Invalid JWT signature.",
    ),
    (
        "MP-011",
        400,
        "invalid_request",
        "Invalid assertion. Invalid parameter value",
    ),
    ("extra-claim", 400, "invalid_request", "Invalid assertion"),
    (
        "consumer-org-own",
        400,
        "invalid_request",
        "Validation of JWT claim failed: The combination consumer_org in claim and delegation scope on client is invalid",
    ),
    (
        "MP-200",
        400,
        "invalid_scope",
        "Token request contains invalid scopes for client",
    ),
    (
        "MP-201",
        400,
        "invalid_scope",
        "Token request contains scopes not allowed for maskinporten",
    ),
    ("MP-012", 400, "invalid_grant", "Grant is used before"),
    ("MP-130", 400, "invalid_grant", "JWT is expired"),
    (
        "MP-122",
        400,
        "invalid_grant",
        "Invalid JWT. Invalid organization number for client. Does not match certificate orgno",
    ),
    ("MP-123", 400, "invalid_grant", "Invalid JWT header x5c"),
    (
        "iat-future",
        400,
        "invalid_grant",
        "Issue time is after now",
    ),
    (
        "MP-301",
        400,
        "invalid_request",
        "Unknown authorization details type",
    ),
    (
        "MP-302",
        400,
        "invalid_request",
        "Unknown fields in the authorization details",
    ),
    (
        "MP-303",
        400,
        "invalid_request",
        "Invalid authorization details values",
    ),
    (
        "MP-250",
        403,
        "forbidden",
        "Consumer has not been granted access to the scope {scope}.",
    ),
    (
        "MP-251",
        403,
        "forbidden",
        "Consumer {consumer} has not delegated access to the scope {scope} to supplier {supplier}.",
    ),
];

/// The cases, in [`CASES`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Mp100,
    Mp100NotFound,
    Mp110,
    Mp120,
    Mp121,
    UnknownKid,
    KidRequired,
    Mp124,
    Mp011,
    ExtraClaim,
    ConsumerOrgOwn,
    Mp200,
    Mp201,
    Mp012,
    Mp130,
    Mp122,
    Mp123,
    IatFuture,
    Mp301,
    Mp302,
    Mp303,
    Mp250,
    Mp251,
}

const ALL_CASES: [Case; 23] = [
    Case::Mp100,
    Case::Mp100NotFound,
    Case::Mp110,
    Case::Mp120,
    Case::Mp121,
    Case::UnknownKid,
    Case::KidRequired,
    Case::Mp124,
    Case::Mp011,
    Case::ExtraClaim,
    Case::ConsumerOrgOwn,
    Case::Mp200,
    Case::Mp201,
    Case::Mp012,
    Case::Mp130,
    Case::Mp122,
    Case::Mp123,
    Case::IatFuture,
    Case::Mp301,
    Case::Mp302,
    Case::Mp303,
    Case::Mp250,
    Case::Mp251,
];

impl Case {
    fn entry(self) -> Option<&'static (&'static str, u16, &'static str, &'static str)> {
        CASES.get(self as usize)
    }

    fn from_id(id: &str) -> Option<Case> {
        ALL_CASES
            .iter()
            .copied()
            .find(|c| c.entry().is_some_and(|e| e.0 == id))
    }
}

/// The case ids, for messages.
fn case_ids() -> String {
    CASES.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
}

/// Server settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockOptions {
    /// The issuer, e.g. `http://127.0.0.1:7824/` (with the trailing slash
    /// Maskinporten's issuers have). Grants must carry it as `aud`.
    pub issuer: String,
    /// Access-token lifetime in seconds, unless the client sets its own.
    pub token_lifetime: i64,
    /// How far `iat` may be from the server's clock, in seconds.
    pub iat_skew: i64,
    /// (client_id, case id): always answer this case for this client.
    /// Wins over the client's `force_error`.
    pub forced: Vec<(String, String)>,
}

impl Default for MockOptions {
    fn default() -> MockOptions {
        MockOptions {
            issuer: "http://127.0.0.1:7824/".into(),
            token_lifetime: 120,
            iat_skew: 10,
            forced: Vec::new(),
        }
    }
}

/// How a client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `x5c` with a business certificate.
    Certificate,
    /// `kid` naming a registered key.
    Key,
}

/// A key registered on a client.
#[derive(Debug, Clone)]
pub struct RegisteredKey {
    pub kid: String,
    /// The file it was read from (resolved against clients.toml's directory).
    pub file: PathBuf,
    pub public: PublicKey,
    /// Unix seconds; grants with this kid get MP-121 from then on.
    pub expires: Option<i64>,
}

/// One `[[client]]`.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub org: String,
    pub scopes: Vec<String>,
    pub auth: ClientAuth,
    pub keys: Vec<RegisteredKey>,
    /// Consumer org → scopes it delegated to this client.
    pub consumers: BTreeMap<String, Vec<String>>,
    pub token_lifetime: Option<i64>,
    /// A case id from [`CASES`].
    pub force_error: Option<String>,
}

/// A parsed clients.toml.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    /// The file, for messages.
    pub path: PathBuf,
    pub user_login_scopes: Vec<String>,
    /// Scope → organisations with access.
    pub access: BTreeMap<String, Vec<String>>,
    pub clients: Vec<Client>,
}

/// Why the mock cannot start.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// clients.toml is not valid TOML or has unknown keys or wrong types.
    #[error("{path}: {at}{message}")]
    ClientsToml {
        path: String,
        /// `line 12, client 2 ("id"): ` or empty.
        at: String,
        message: String,
    },
    /// A value in clients.toml is not acceptable.
    #[error("{path}: {client}: {message}")]
    Client {
        path: String,
        /// `client 2 (client_id "id")` or `[access]`.
        client: String,
        message: String,
        hint: Option<String>,
    },
    /// A registered key file cannot be read.
    #[error("{path}: {client}: key {kid:?}: cannot use {file}: {detail}")]
    KeyFile {
        path: String,
        client: String,
        kid: String,
        file: String,
        detail: String,
    },
    /// A forced error names an unknown case or client.
    #[error("forced error for client {client:?}: {message}")]
    Forced { client: String, message: String },
    /// A certificate in the CA file cannot be a trust anchor.
    #[error("CA certificate {index} ({subject}): {detail}")]
    Ca {
        index: usize,
        subject: String,
        detail: String,
    },
    /// The server's signing key cannot sign RS256 tokens.
    #[error("the token signing key cannot be used: {0}")]
    SigningKey(String),
    /// An option is out of range.
    #[error("{0}")]
    Options(String),
    /// Generating the signing key failed.
    #[error("cannot make a signing key: {0}")]
    KeyGen(String),
}

impl MockError {
    /// Stable error id.
    pub fn id(&self) -> &'static str {
        match self {
            MockError::ClientsToml { .. } => "mock-clients-toml",
            MockError::Client { .. } => "mock-client-invalid",
            MockError::KeyFile { .. } => "mock-key-file",
            MockError::Forced { .. } => "mock-forced-error",
            MockError::Ca { .. } => "mock-ca",
            MockError::SigningKey(_) => "mock-signing-key",
            MockError::Options(_) => "usage",
            MockError::KeyGen(_) => "keygen-failed",
        }
    }

    /// Advice for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            MockError::ClientsToml { .. } => Some(
                "clients.toml takes user_login_scopes, [access] and [[client]] tables with \
                 client_id, org, scopes, auth, keys, consumers, token_lifetime and force_error"
                    .into(),
            ),
            MockError::Client { hint, .. } => hint.clone(),
            MockError::KeyFile { .. } => Some(
                "give a file with the public key (a JWK, a PEM public key or certificate); \
                 the path is relative to clients.toml"
                    .into(),
            ),
            MockError::Forced { .. } => Some(format!("known cases: {}", case_ids())),
            MockError::Ca { .. } => Some(
                "give the CA certificates (PEM) your test certificates are issued by, e.g. \
                 ca-chain.pem from `credkit keygen --fixture-set`"
                    .into(),
            ),
            MockError::SigningKey(_) => {
                Some("the mock signs RS256 tokens: give an RSA key of 2048 bits or more".into())
            }
            MockError::Options(_) | MockError::KeyGen(_) => None,
        }
    }
}

// ---------------------------------------------------------------------------
// clients.toml
// ---------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    #[serde(default)]
    user_login_scopes: Vec<String>,
    #[serde(default)]
    access: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    client: Vec<ClientToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientToml {
    client_id: String,
    org: String,
    #[serde(default)]
    scopes: Vec<String>,
    auth: Option<String>,
    #[serde(default)]
    keys: Vec<KeyToml>,
    #[serde(default)]
    consumers: BTreeMap<String, Vec<String>>,
    token_lifetime: Option<i64>,
    force_error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyToml {
    kid: String,
    file: PathBuf,
    /// A string or a TOML date-time.
    expires: Option<toml::Value>,
}

fn nine_digits(s: &str) -> bool {
    s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit())
}

fn valid_scope(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `client 2 (client_id "x")`
fn client_label(index: usize, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("client {} (client_id {id:?})", index + 1),
        None => format!("client {}", index + 1),
    }
}

/// Which `[[client]]` a byte offset falls in, and its client_id if the text
/// can be read that far.
fn client_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let count = before
        .lines()
        .filter(|l| {
            let code = l.split('#').next().unwrap_or("");
            code.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                == "[[client]]"
        })
        .count();
    if count == 0 {
        return None;
    }
    let index = count - 1;
    let id = text.parse::<toml::Table>().ok().and_then(|t| {
        t.get("client")?
            .as_array()?
            .get(index)?
            .get("client_id")?
            .as_str()
            .map(str::to_owned)
    });
    Some(client_label(index, id.as_deref()))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|b| b.matches('\n').count() + 1)
        .unwrap_or(1)
}

fn parse_time(value: &toml::Value) -> Option<i64> {
    let s = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => return None,
    };
    time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Read a key file and pick the public key for `kid`.
fn load_public_key(file: &Path, kid: &str) -> Result<PublicKey, String> {
    let meta = std::fs::metadata(file).map_err(|e| e.to_string())?;
    if meta.len() > crate::keystore::MAX_INPUT {
        return Err(format!(
            "it is {} bytes, too large for a key file",
            meta.len()
        ));
    }
    let data = std::fs::read(file).map_err(|e| e.to_string())?;
    let store = crate::keystore::load(
        &data,
        &mut SecretCell::with_value(None),
        &mut SecretCell::with_value(None),
    )
    .map_err(|e| e.to_string())?;
    let key_of = |e: &crate::keystore::Entry| -> Option<PublicKey> {
        e.public_key
            .clone()
            .or_else(|| e.private_key.as_ref().map(|k| k.public.clone()))
            .or_else(|| e.chain.first().and_then(|c| c.public_key.clone().ok()))
    };
    if let Some(k) = store
        .entries
        .iter()
        .filter(|e| e.alias.as_deref() == Some(kid))
        .find_map(key_of)
    {
        return Ok(k);
    }
    let mut keys: Vec<PublicKey> = Vec::new();
    for k in store.entries.iter().filter_map(key_of) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    match keys.len() {
        0 => Err("it holds no public key".into()),
        1 => Ok(keys.remove(0)),
        n => Err(format!(
            "it holds {n} keys and none has kid (alias) {kid:?}: give a file with one key"
        )),
    }
}

/// Parse clients.toml. Key files are read relative to `path`'s directory.
pub fn parse_clients(text: &str, path: &Path) -> Result<Clients, MockError> {
    let p = path.display().to_string();
    let file: ClientsFile = toml::from_str(text).map_err(|e| {
        let (at, message) = match e.span() {
            Some(span) => {
                let mut at = format!("line {}", line_of(text, span.start));
                if let Some(c) = client_at(text, span.start) {
                    at.push_str(&format!(", {c}"));
                }
                (format!("{at}: "), e.message().trim().to_string())
            }
            None => (String::new(), e.message().trim().to_string()),
        };
        MockError::ClientsToml {
            path: p.clone(),
            at,
            message,
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let bad = |client: String, message: String, hint: Option<&str>| MockError::Client {
        path: p.clone(),
        client,
        message,
        hint: hint.map(str::to_owned),
    };
    const ORG_HINT: &str = "an organisation number has 9 digits, e.g. 123456785";
    const SCOPE_HINT: &str = "a scope is one word such as \"prefix:name\", without spaces";

    for s in &file.user_login_scopes {
        if !valid_scope(s) {
            return Err(bad(
                "user_login_scopes".into(),
                format!("{s:?} is not a scope"),
                Some(SCOPE_HINT),
            ));
        }
    }
    for (scope, orgs) in &file.access {
        if !valid_scope(scope) {
            return Err(bad(
                "[access]".into(),
                format!("{scope:?} is not a scope"),
                Some(SCOPE_HINT),
            ));
        }
        if let Some(o) = orgs.iter().find(|o| !nine_digits(o)) {
            return Err(bad(
                "[access]".into(),
                format!("scope {scope:?}: {o:?} is not a 9-digit organisation number"),
                Some(ORG_HINT),
            ));
        }
    }

    let mut clients = Vec::with_capacity(file.client.len());
    let mut seen: HashSet<String> = HashSet::new();
    for (i, c) in file.client.into_iter().enumerate() {
        let who = client_label(i, Some(&c.client_id));
        if c.client_id.trim().is_empty() || c.client_id.chars().any(char::is_control) {
            return Err(bad(
                client_label(i, None),
                "client_id is empty".into(),
                Some("client_id is the client's id, usually a UUID"),
            ));
        }
        if !seen.insert(c.client_id.clone()) {
            return Err(bad(
                who,
                "the same client_id is registered twice".into(),
                Some("give every [[client]] its own client_id"),
            ));
        }
        if !nine_digits(&c.org) {
            return Err(bad(
                who,
                format!("org {:?} is not a 9-digit organisation number", c.org),
                Some(ORG_HINT),
            ));
        }
        if let Some(s) = c.scopes.iter().find(|s| !valid_scope(s)) {
            return Err(bad(who, format!("{s:?} is not a scope"), Some(SCOPE_HINT)));
        }
        let auth = match c.auth.as_deref() {
            None if c.keys.is_empty() => ClientAuth::Certificate,
            None => ClientAuth::Key,
            Some("certificate") => ClientAuth::Certificate,
            Some("key") => ClientAuth::Key,
            Some(other) => {
                return Err(bad(
                    who,
                    format!("auth = {other:?} is neither \"certificate\" nor \"key\""),
                    Some("auth = \"certificate\" (x5c) or \"key\" (kid of a registered key)"),
                ));
            }
        };
        if auth == ClientAuth::Key && c.keys.is_empty() {
            return Err(bad(
                who,
                "auth = \"key\", but no keys are registered".into(),
                Some("add keys = [{ kid = \"...\", file = \"key.jwk\" }]"),
            ));
        }
        let mut keys: Vec<RegisteredKey> = Vec::with_capacity(c.keys.len());
        for k in c.keys {
            if k.kid.is_empty() {
                return Err(bad(who, "a key has an empty kid".into(), None));
            }
            if keys.iter().any(|x| x.kid == k.kid) {
                return Err(bad(
                    who,
                    format!("kid {:?} is registered twice", k.kid),
                    Some("give every key its own kid"),
                ));
            }
            let expires = match &k.expires {
                None => None,
                Some(v) => Some(parse_time(v).ok_or_else(|| {
                    bad(
                        who.clone(),
                        format!(
                            "key {:?}: expires = {} is not an RFC 3339 time",
                            k.kid,
                            match v {
                                toml::Value::String(s) => format!("{s:?}"),
                                toml::Value::Datetime(d) => d.to_string(),
                                other => format!("a {}", other.type_str()),
                            }
                        ),
                        Some("write it like \"2027-11-23T00:00:00Z\""),
                    )
                })?),
            };
            let file = if k.file.is_absolute() {
                k.file.clone()
            } else {
                base.join(&k.file)
            };
            let public = load_public_key(&file, &k.kid).map_err(|detail| MockError::KeyFile {
                path: p.clone(),
                client: who.clone(),
                kid: k.kid.clone(),
                file: file.display().to_string(),
                detail,
            })?;
            keys.push(RegisteredKey {
                kid: k.kid,
                file,
                public,
                expires,
            });
        }
        for (org, scopes) in &c.consumers {
            if !nine_digits(org) {
                return Err(bad(
                    who,
                    format!("consumers: {org:?} is not a 9-digit organisation number"),
                    Some(ORG_HINT),
                ));
            }
            if org == &c.org {
                return Err(bad(
                    who,
                    format!("consumers: {org} is the client's own organisation"),
                    Some("list the organisations that delegated scopes to this client"),
                ));
            }
            if let Some(s) = scopes.iter().find(|s| !valid_scope(s)) {
                return Err(bad(
                    who,
                    format!("consumers.{org}: {s:?} is not a scope"),
                    Some(SCOPE_HINT),
                ));
            }
        }
        if let Some(t) = c.token_lifetime
            && !(1..=31_536_000).contains(&t)
        {
            return Err(bad(
                who,
                format!("token_lifetime = {t} is not between 1 second and a year"),
                None,
            ));
        }
        if let Some(f) = &c.force_error
            && Case::from_id(f).is_none()
        {
            return Err(bad(
                who,
                format!("force_error = {f:?} is not a documented case"),
                Some(&format!("known cases: {}", case_ids())),
            ));
        }
        clients.push(Client {
            client_id: c.client_id,
            org: c.org,
            scopes: c.scopes,
            auth,
            keys,
            consumers: c.consumers,
            token_lifetime: c.token_lifetime,
            force_error: c.force_error,
        });
    }
    Ok(Clients {
        path: path.to_path_buf(),
        user_login_scopes: file.user_login_scopes,
        access: file.access,
        clients,
    })
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// An answer for the HTTP layer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

/// Longest assertion accepted (real grants are a few kilobytes).
pub const MAX_ASSERTION: usize = 64 * 1024;
/// Most certificates accepted in `x5c`.
pub const MAX_X5C: usize = 10;
/// Longest certification path built (leaf and anchor included).
pub const MAX_PATH: usize = 8;
/// Most live grants remembered for replay detection.
pub const MAX_JTIS: usize = 1_000_000;
/// Most validated chains cached (the cache is emptied when full).
pub const MAX_CACHED_CHAINS: usize = 4096;
/// Longest `jti` accepted.
pub const MAX_JTI: usize = 256;
/// Longest grant lifetime (exp − iat) Maskinporten accepts.
pub const MAX_GRANT_LIFETIME: i64 = 120;

struct ClientState {
    client: Client,
    scopes: HashSet<String>,
    forced: Option<Case>,
}

/// A validated x5c chain.
struct Verified {
    key: PublicKey,
    org: Option<String>,
    /// The validity window common to every certificate on the path.
    not_before: i64,
    not_after: i64,
    /// From when a certificate of the x5c is revoked (the revocation list).
    revoked_from: Option<i64>,
}

/// Replay store: jti → exp, and a heap to drop them when they expire.
#[derive(Default)]
struct JtiStore {
    live: HashMap<String, i64>,
    by_exp: BinaryHeap<Reverse<(i64, String)>>,
}

enum Remember {
    New,
    Seen,
    Full,
}

impl JtiStore {
    fn prune(&mut self, now: i64) {
        while let Some(Reverse((exp, _))) = self.by_exp.peek() {
            if *exp > now {
                break;
            }
            if let Some(Reverse((exp, key))) = self.by_exp.pop()
                && self.live.get(&key) == Some(&exp)
            {
                self.live.remove(&key);
            }
        }
    }

    fn remember(&mut self, key: String, exp: i64, now: i64) -> Remember {
        self.prune(now);
        if self.live.contains_key(&key) {
            return Remember::Seen;
        }
        if self.live.len() >= MAX_JTIS {
            return Remember::Full;
        }
        self.live.insert(key.clone(), exp);
        self.by_exp.push(Reverse((exp, key)));
        Remember::New
    }
}

/// What goes into an error description's placeholders.
#[derive(Debug, Default)]
struct Fill {
    scope: String,
    consumer: String,
    supplier: String,
}

enum Fail {
    Case(Case, Option<Fill>),
    UnsupportedGrantType,
    Busy,
    Internal,
}

impl From<Case> for Fail {
    fn from(c: Case) -> Fail {
        Fail::Case(c, None)
    }
}

/// The key a grant must be signed with.
enum KeyRef<'a> {
    Registered(&'a PublicKey),
    Certificate(Arc<Verified>),
}

impl KeyRef<'_> {
    fn public(&self) -> &PublicKey {
        match self {
            KeyRef::Registered(k) => k,
            KeyRef::Certificate(v) => &v.key,
        }
    }
    fn amr(&self) -> &'static str {
        match self {
            KeyRef::Registered(_) => "private_key_jwt",
            KeyRef::Certificate(_) => "virksomhetssertifikat",
        }
    }
}

/// A Maskinporten-like authorization server. Send + Sync: share it between
/// the HTTP server's threads.
pub struct Mock {
    issuer: String,
    token_lifetime: i64,
    iat_skew: i64,
    /// Trust anchors for business certificates (each key checked readable).
    anchors: Vec<Certificate>,
    clients: HashMap<String, ClientState>,
    user_login: HashSet<String>,
    access: HashMap<String, HashSet<String>>,
    signer: Signer,
    /// The access tokens' JOSE header, serialized once.
    header: Vec<u8>,
    jwk: Value,
    jtis: Mutex<JtiStore>,
    chains: Mutex<HashMap<Vec<u8>, Arc<Verified>>>,
    /// What the test CA has revoked (see [`Mock::with_revocation_list`]).
    revoked: crate::revocation::list::RevocationList,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves consistent data here (plain
    // inserts and removals), so a poisoned lock is used as it is.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    if getrandom::fill(&mut b).is_err() {
        b.fill(0);
    }
    crate::cert::hex(&b)
}

fn b64_json(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.as_bytes()).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn org_id(org: &str) -> Value {
    json!({"authority": "iso6523-actorid-upis", "ID": format!("0192:{org}")})
}

impl Mock {
    /// Refuse the certificates this list revokes (from their revocation
    /// date on) with MP-120, as Maskinporten refuses a revoked certificate.
    pub fn with_revocation_list(mut self, list: crate::revocation::list::RevocationList) -> Mock {
        self.revoked = list;
        self
    }

    /// Build the server. `cas` are the trust anchors for business
    /// certificates; `signing_key` signs the access tokens (RSA, RS256), and
    /// with `None` a fresh RSA-2048 key is made.
    pub fn new(
        cas: Vec<Certificate>,
        clients: Clients,
        opts: MockOptions,
        signing_key: Option<PrivateKey>,
    ) -> Result<Mock, MockError> {
        if opts.issuer.is_empty() {
            return Err(MockError::Options("the issuer is empty".into()));
        }
        if opts.token_lifetime <= 0 {
            return Err(MockError::Options(format!(
                "the token lifetime must be positive, not {}",
                opts.token_lifetime
            )));
        }
        if opts.iat_skew < 0 {
            return Err(MockError::Options(format!(
                "the iat tolerance must not be negative, not {}",
                opts.iat_skew
            )));
        }
        let mut anchors = Vec::with_capacity(cas.len());
        for (i, cert) in cas.into_iter().enumerate() {
            match &cert.public_key {
                Ok(_) => anchors.push(cert),
                Err(e) => {
                    return Err(MockError::Ca {
                        index: i + 1,
                        subject: cert.subject.to_display(),
                        detail: format!("its key cannot be read: {e}"),
                    });
                }
            }
        }

        let mut states: HashMap<String, ClientState> = HashMap::new();
        for c in clients.clients {
            let forced = c.force_error.as_deref().and_then(Case::from_id);
            states.insert(
                c.client_id.clone(),
                ClientState {
                    scopes: c.scopes.iter().cloned().collect(),
                    client: c,
                    forced,
                },
            );
        }
        for (client, case) in &opts.forced {
            let c = Case::from_id(case).ok_or_else(|| MockError::Forced {
                client: client.clone(),
                message: format!("{case:?} is not a documented case"),
            })?;
            let state = states.get_mut(client).ok_or_else(|| MockError::Forced {
                client: client.clone(),
                message: format!("there is no such client in {}", clients.path.display()),
            })?;
            state.forced = Some(c);
        }

        let key = match signing_key {
            Some(k) => k,
            None => {
                let mut rng = crate::cert::keygen::Random::from_os()
                    .map_err(|e| MockError::KeyGen(e.to_string()))?;
                crate::cert::keygen::generate_key(
                    crate::cert::keygen::KeySpec::Rsa { bits: 2048 },
                    &mut rng,
                )
                .map_err(|e| MockError::KeyGen(e.to_string()))?
            }
        };
        let PublicKey::Rsa { .. } = &key.public else {
            return Err(MockError::SigningKey(format!(
                "it is a {} key, and the tokens are RS256",
                key.describe()
            )));
        };
        let signer = Signer::new(&key, Alg::RS256).map_err(|e| match e {
            JwsError::KeyRejected(d) => MockError::SigningKey(d),
            other => MockError::SigningKey(other.to_string()),
        })?;
        let kid = key
            .public
            .jwk_thumbprint()
            .ok_or_else(|| MockError::SigningKey("no JWK thumbprint".into()))?;
        // The public JWK as `convert` writes it: kty, n, e, use, alg, kid.
        let mut entry = Entry::new(EntryKind::PrivateKey);
        entry.private_key = Some(key.clone());
        let jwk = Value::Object(
            entry_jwk(&entry, "token signing key", false, Some(&kid))
                .map_err(|e| MockError::SigningKey(e.to_string()))?,
        );
        let header = serde_json::to_vec(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"}))
            .map_err(|e| MockError::SigningKey(e.to_string()))?;

        Ok(Mock {
            issuer: opts.issuer,
            token_lifetime: opts.token_lifetime,
            iat_skew: opts.iat_skew,
            anchors,
            clients: states,
            user_login: clients.user_login_scopes.into_iter().collect(),
            access: clients
                .access
                .into_iter()
                .map(|(s, orgs)| (s, orgs.into_iter().collect()))
                .collect(),
            signer,
            header,
            jwk,
            jtis: Mutex::new(JtiStore::default()),
            chains: Mutex::new(HashMap::new()),
            revoked: Default::default(),
        })
    }

    /// The issuer (the `aud` grants must carry).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn endpoint(&self, path: &str) -> String {
        if self.issuer.ends_with('/') {
            format!("{}{path}", self.issuer)
        } else {
            format!("{}/{path}", self.issuer)
        }
    }

    /// `/.well-known/oauth-authorization-server` (RFC 8414).
    pub fn metadata(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "token_endpoint": self.endpoint("token"),
            "jwks_uri": self.endpoint("jwk"),
            "grant_types_supported": [GRANT_TYPE],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512"],
            "authorization_details_types_supported": ["urn:altinn:systemuser", "urn:altinn:consent"],
        })
    }

    /// `/jwk`: the key that signs the access tokens.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk.clone()] })
    }

    /// How many grants are remembered for replay detection right now.
    pub fn remembered_grants(&self) -> usize {
        lock(&self.jtis).live.len()
    }

    /// `POST /token` with an `application/x-www-form-urlencoded` body, at
    /// `now` (Unix seconds).
    pub fn token(&self, form_body: &[u8], now: i64) -> Reply {
        match self.grant(form_body, now) {
            Ok(body) => Reply { status: 200, body },
            Err(f) => refusal(f),
        }
    }

    fn grant(&self, form_body: &[u8], now: i64) -> Result<Value, Fail> {
        // 1. grant_type
        let mut grant_type: Option<String> = None;
        let mut assertion: Option<String> = None;
        let mut repeated = false;
        for (k, v) in url::form_urlencoded::parse(form_body) {
            let slot = match k.as_ref() {
                "grant_type" => &mut grant_type,
                "assertion" => &mut assertion,
                _ => continue,
            };
            if slot.replace(v.into_owned()).is_some() {
                repeated = true;
            }
        }
        if grant_type.as_deref() != Some(GRANT_TYPE) {
            return Err(Fail::UnsupportedGrantType);
        }
        // 2. the assertion's shape
        let assertion = assertion.ok_or(Case::Mp011)?;
        if repeated || assertion.len() > MAX_ASSERTION {
            return Err(Case::Mp011.into());
        }
        let mut parts = assertion.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Case::Mp011.into());
        };
        let header = b64_json(h).ok_or(Case::Mp011)?;
        let claims = b64_json(p).ok_or(Case::Mp011)?;
        let signature = URL_SAFE_NO_PAD
            .decode(s.as_bytes())
            .map_err(|_| Case::Mp011)?;
        let signing_input = &assertion[..h.len() + 1 + p.len()];

        // 3. alg
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => Alg::RS256,
            Some("RS384") => Alg::RS384,
            Some("RS512") => Alg::RS512,
            _ => return Err(Case::Mp124.into()),
        };
        // 4. documented claims only
        if claims
            .keys()
            .any(|k| !MASKINPORTEN_CLAIMS.contains(&k.as_str()))
        {
            return Err(Case::ExtraClaim.into());
        }
        // 5. the client
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(Case::Mp100)?;
        let state = self.clients.get(iss).ok_or(Case::Mp100NotFound)?;
        let client = &state.client;
        let scope_text = claims.get("scope").and_then(Value::as_str).unwrap_or("");
        let scopes: Vec<&str> = scope_text.split_ascii_whitespace().collect();
        let consumer_org = claims.get("consumer_org").and_then(Value::as_str);
        // 6. forced errors
        if let Some(case) = state.forced {
            let fill = Fill {
                scope: scopes.first().copied().unwrap_or_default().to_string(),
                consumer: consumer_org.unwrap_or(&client.org).to_string(),
                supplier: client.org.clone(),
            };
            return Err(Fail::Case(case, Some(fill)));
        }
        // 7. aud
        if claims.get("aud").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(Case::Mp110.into());
        }
        // 8. the key
        let key = self.key_for(client, &header, now)?;
        // 9. the signature
        if !crate::jwt::jws::verify(alg, key.public(), signing_input.as_bytes(), &signature) {
            return Err(Case::Mp124.into());
        }
        // 10. times and claim types
        let int = |name: &str| claims.get(name).and_then(Value::as_i64).ok_or(Case::Mp011);
        let exp = int("exp")?;
        let iat = int("iat")?;
        if exp <= now {
            return Err(Case::Mp130.into());
        }
        if iat > now.saturating_add(self.iat_skew) {
            return Err(Case::IatFuture.into());
        }
        if iat < now.saturating_sub(self.iat_skew) {
            return Err(Case::Mp130.into());
        }
        let lifetime = exp.saturating_sub(iat);
        if lifetime <= 0 || lifetime > MAX_GRANT_LIFETIME {
            return Err(Case::Mp011.into());
        }
        let string_or_absent = |name: &str| match claims.get(name) {
            None | Some(Value::String(_)) => Ok(()),
            Some(_) => Err(Case::Mp011),
        };
        for name in ["jti", "pid", "consumer_org", "iss_onbehalfof"] {
            string_or_absent(name)?;
        }
        let jti = claims.get("jti").and_then(Value::as_str);
        if jti.is_some_and(|j| j.is_empty() || j.len() > MAX_JTI) {
            return Err(Case::Mp011.into());
        }
        match claims.get("resource") {
            None | Some(Value::String(_)) => {}
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
            Some(_) => return Err(Case::Mp011.into()),
        }
        if consumer_org.is_some_and(|c| !nine_digits(c)) {
            return Err(Case::Mp011.into());
        }
        // 11. replay
        if let Some(jti) = jti {
            let key = format!("{}\n{jti}", client.client_id);
            match lock(&self.jtis).remember(key, exp, now) {
                Remember::New => {}
                Remember::Seen => return Err(Case::Mp012.into()),
                Remember::Full => return Err(Fail::Busy),
            }
        }
        // 12. consumer_org: not the client's own organisation
        if consumer_org.is_some_and(|c| c == client.org) {
            return Err(Case::ConsumerOrgOwn.into());
        }
        // 13. authorization_details
        if let Some(ad) = claims.get("authorization_details") {
            check_authorization_details(ad)?;
        }
        // 14. scopes: known to the client first, so that a typo is named as
        // one and not as a missing delegation
        if scopes.iter().any(|s| self.user_login.contains(*s)) {
            return Err(Case::Mp201.into());
        }
        if scopes.is_empty() || scopes.iter().any(|s| !state.scopes.contains(*s)) {
            return Err(Case::Mp200.into());
        }
        // then delegated by the consumer, and open to the consumer
        if let Some(c) = consumer_org {
            let granted = client.consumers.get(c);
            if let Some(s) = scopes
                .iter()
                .find(|s| !granted.is_some_and(|g| g.iter().any(|x| x == **s)))
            {
                return Err(Fail::Case(
                    Case::Mp251,
                    Some(Fill {
                        scope: (*s).to_string(),
                        consumer: c.to_string(),
                        supplier: client.org.clone(),
                    }),
                ));
            }
        }
        let consumer = consumer_org.unwrap_or(&client.org);
        if let Some(s) = scopes.iter().find(|s| {
            self.access
                .get(**s)
                .is_some_and(|orgs| !orgs.contains(consumer))
        }) {
            return Err(Fail::Case(
                Case::Mp250,
                Some(Fill {
                    scope: (*s).to_string(),
                    ..Fill::default()
                }),
            ));
        }
        // 15. the token
        let lifetime = client.token_lifetime.unwrap_or(self.token_lifetime);
        let scope = scopes.join(" ");
        let mut t = Map::new();
        t.insert("iss".into(), json!(self.issuer));
        t.insert("client_amr".into(), json!(key.amr()));
        t.insert("token_type".into(), json!("Bearer"));
        // Maskinporten's tokens say "unspecified" when no resource was asked for.
        t.insert(
            "aud".into(),
            claims
                .get("resource")
                .cloned()
                .unwrap_or_else(|| json!("unspecified")),
        );
        t.insert("scope".into(), json!(scope));
        t.insert("client_id".into(), json!(client.client_id));
        t.insert("consumer".into(), org_id(consumer));
        if consumer_org.is_some() {
            t.insert("supplier".into(), org_id(&client.org));
        }
        if let Some(pid) = claims.get("pid") {
            t.insert("pid".into(), pid.clone());
        }
        if let Some(ad) = claims.get("authorization_details") {
            t.insert("authorization_details".into(), ad.clone());
        }
        t.insert("iat".into(), json!(now));
        t.insert("exp".into(), json!(now.saturating_add(lifetime)));
        let mut r = [0u8; 16];
        getrandom::fill(&mut r).map_err(|_| Fail::Internal)?;
        t.insert("jti".into(), json!(crate::jwt::mint::uuid_v4(&r)));
        let payload = serde_json::to_vec(&t).map_err(|_| Fail::Internal)?;
        let token = self
            .signer
            .sign(&self.header, &payload)
            .map_err(|_| Fail::Internal)?;
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
        }))
    }

    /// Step 8: the key that must have signed the grant.
    fn key_for<'a>(
        &'a self,
        client: &'a Client,
        header: &Map<String, Value>,
        now: i64,
    ) -> Result<KeyRef<'a>, Fail> {
        if let Some(kid) = header.get("kid") {
            let k = kid
                .as_str()
                .and_then(|kid| client.keys.iter().find(|k| k.kid == kid))
                .ok_or(Case::UnknownKid)?;
            if k.expires.is_some_and(|e| e <= now) {
                return Err(Case::Mp121.into());
            }
            return Ok(KeyRef::Registered(&k.public));
        }
        if client.auth == ClientAuth::Key {
            return Err(Case::KidRequired.into());
        }
        let x5c = header
            .get("x5c")
            .and_then(Value::as_array)
            .ok_or(Case::Mp123)?;
        if x5c.is_empty() || x5c.len() > MAX_X5C {
            return Err(Case::Mp123.into());
        }
        let ders = x5c
            .iter()
            .map(|v| v.as_str().and_then(|s| STANDARD.decode(s).ok()))
            .collect::<Option<Vec<Vec<u8>>>>()
            .ok_or(Case::Mp123)?;
        let mut h = Sha256::new();
        for d in &ders {
            h.update((d.len() as u64).to_be_bytes());
            h.update(d);
        }
        let id = h.finalize().to_vec();
        let cached = lock(&self.chains).get(&id).cloned();
        let verified = match cached {
            Some(v) => v,
            None => {
                let v = Arc::new(self.validate_chain(&ders, now)?);
                let mut cache = lock(&self.chains);
                if cache.len() >= MAX_CACHED_CHAINS {
                    cache.clear();
                }
                cache.insert(id, Arc::clone(&v));
                v
            }
        };
        if now < verified.not_before
            || now > verified.not_after
            || verified.revoked_from.is_some_and(|t| t <= now)
        {
            return Err(Case::Mp120.into());
        }
        if verified.org.as_deref() != Some(client.org.as_str()) {
            return Err(Case::Mp122.into());
        }
        Ok(KeyRef::Certificate(verified))
    }

    /// Parse the x5c certificates and validate the leaf's path to an
    /// anchor (the one path validator, `cert::path`, signing purpose).
    fn validate_chain(&self, ders: &[Vec<u8>], now: i64) -> Result<Verified, Fail> {
        let certs = ders
            .iter()
            .map(|d| Certificate::from_der(d).ok())
            .collect::<Option<Vec<Certificate>>>()
            .ok_or(Case::Mp123)?;
        let (leaf, extra) = certs.split_first().ok_or(Case::Mp123)?;
        let key = leaf.public_key.clone().map_err(|_| Case::Mp120)?;
        let policy = Policy {
            max_depth: MAX_PATH,
            ..Policy::signing(&self.anchors, now)
        };
        let valid = path::validate(leaf, extra, &policy).map_err(|_| Case::Mp120)?;
        Ok(Verified {
            key,
            org: leaf.org_number().map(|(o, _)| o),
            not_before: valid.not_before,
            not_after: valid.not_after,
            revoked_from: certs
                .iter()
                .filter_map(|c| self.revoked.lookup(c).map(|r| r.date))
                .min(),
        })
    }
}

/// Step 13.
fn check_authorization_details(ad: &Value) -> Result<(), Fail> {
    let list = ad.as_array().ok_or(Case::Mp011)?;
    for item in list {
        let obj = item.as_object().ok_or(Case::Mp011)?;
        match obj.get("type").and_then(Value::as_str) {
            Some("urn:altinn:systemuser") => {}
            Some("urn:altinn:consent") => continue,
            _ => return Err(Case::Mp301.into()),
        }
        if obj
            .keys()
            .any(|k| !["type", "systemuser_org", "externalRef"].contains(&k.as_str()))
        {
            return Err(Case::Mp302.into());
        }
        let org_ok = obj
            .get("systemuser_org")
            .and_then(Value::as_object)
            .is_some_and(|o| {
                o.len() == 2
                    && o.get("authority").and_then(Value::as_str) == Some("iso6523-actorid-upis")
                    && o.get("ID")
                        .and_then(Value::as_str)
                        .and_then(|id| id.strip_prefix("0192:"))
                        .is_some_and(nine_digits)
            });
        let ref_ok = obj.get("externalRef").is_none_or(Value::is_string);
        if !org_ok || !ref_ok {
            return Err(Case::Mp303.into());
        }
    }
    Ok(())
}

fn error_body(error: &str, description: &str, uri: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("error".into(), json!(error));
    m.insert(
        "error_description".into(),
        json!(format!("{description} (trace_id: {})", random_hex(16))),
    );
    if let Some(u) = uri {
        m.insert("error_uri".into(), json!(u));
    }
    Value::Object(m)
}

fn refusal(f: Fail) -> Reply {
    match f {
        Fail::Case(case, fill) => match case.entry() {
            Some((id, status, error, text)) => {
                let mut text = (*text).to_string();
                if let Some(fill) = fill {
                    text = text
                        .replace("{scope}", &fill.scope)
                        .replace("{consumer}", &fill.consumer)
                        .replace("{supplier}", &fill.supplier);
                }
                let uri = (*id == "MP-121").then_some(MP_121_URI);
                Reply {
                    status: *status,
                    body: error_body(error, &text, uri),
                }
            }
            None => refusal(Fail::Internal),
        },
        Fail::UnsupportedGrantType => Reply {
            status: 400,
            body: error_body(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
                None,
            ),
        },
        Fail::Busy => Reply {
            status: 503,
            body: error_body(
                "temporarily_unavailable",
                "Too many live grants to remember; try again shortly",
                None,
            ),
        },
        Fail::Internal => Reply {
            status: 500,
            body: error_body("server_error", "The token could not be made", None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::keygen::{
        self, CertSpec, Issuer, KeySpec, Mode, Profile, Random, Request, business_subject,
    };
    use crate::jwt::jws;
    use crate::key::Curve;
    use std::sync::OnceLock;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = 86_400;
    const ISSUER: &str = "http://127.0.0.1:7824/";
    const ORG1: &str = "123456785";
    const ORG2: &str = "987654325";

    /// Keys and certificates shared by every test (RSA keys are slow to make).
    struct Fx {
        root: Certificate,
        int: Certificate,
        int_key: PrivateKey,
        /// The client's RSA key, certified by `leaf`.
        client_key: PrivateKey,
        /// Another RSA key: the server's, and a wrong key for grants.
        server_key: PrivateKey,
        /// ORG1 business certificate (auth) for `client_key`, issued by `int`.
        leaf: Certificate,
    }

    fn fx() -> &'static Fx {
        static FX: OnceLock<Fx> = OnceLock::new();
        FX.get_or_init(|| {
            let mut rng = Random::from_seed("mock tests");
            let mut req = Request::new(Mode::Ca { intermediate: true }, NOW - 10 * DAY);
            req.key = KeySpec::Ec(Curve::P256);
            let cas = keygen::generate(&req, None, &mut rng).expect("CAs");
            let root = cas.entries[0].chain[0].clone();
            let int = cas.entries[1].chain[0].clone();
            let int_key = cas.entries[1].private_key.clone().expect("int key");
            let client_key =
                keygen::generate_key(KeySpec::Rsa { bits: 2048 }, &mut rng).expect("client key");
            let server_key =
                keygen::generate_key(KeySpec::Rsa { bits: 2048 }, &mut rng).expect("server key");
            let subject = business_subject(ORG1, None);
            let spec = CertSpec {
                subject: &subject,
                public_key: &client_key.public,
                not_before: NOW - DAY,
                not_after: NOW + 365 * DAY,
                profile: Profile::Auth,
            };
            let leaf =
                keygen::issue(&spec, &Issuer::from_ca(&int, &int_key), &mut rng).expect("leaf");
            Fx {
                root,
                int,
                int_key,
                client_key,
                server_key,
                leaf,
            }
        })
    }

    /// A certificate for the client key, issued by the intermediate.
    fn issue(fx: &Fx, org: &str, profile: Profile, nb: i64, na: i64) -> Certificate {
        let subject = business_subject(org, None);
        let spec = CertSpec {
            subject: &subject,
            public_key: &fx.client_key.public,
            not_before: nb,
            not_after: na,
            profile,
        };
        keygen::issue(
            &spec,
            &Issuer::from_ca(&fx.int, &fx.int_key),
            &mut Random::from_seed(&format!("{org} {nb} {na} {profile:?}")),
        )
        .expect("issue")
    }

    const CLIENTS: &str = r#"
user_login_scopes = ["openid"]

[access]
"test:restricted" = ["123456785"]

[[client]]
client_id = "cert-client"
org = "123456785"
scopes = ["test:read", "test:write", "test:restricted", "openid"]
consumers = { "987654325" = ["test:read", "test:restricted"] }

[[client]]
client_id = "key-client"
org = "123456785"
scopes = ["test:read"]
token_lifetime = 600
keys = [
  { kid = "k1", file = "client.jwk" },
  { kid = "old", file = "client.jwk", expires = "2020-01-01T00:00:00Z" },
]

[[client]]
client_id = "other-org"
org = "987654325"
scopes = ["test:read"]
"#;

    fn clients_with(text: &str) -> Result<Clients, MockError> {
        let dir = tempfile::tempdir().expect("tmp");
        let jwk = fx().client_key.public.thumbprint_input().expect("jwk");
        std::fs::write(dir.path().join("client.jwk"), jwk).expect("write jwk");
        parse_clients(text, &dir.path().join("clients.toml"))
    }

    fn mock_with(anchors: Vec<Certificate>, opts: MockOptions) -> Mock {
        Mock::new(
            anchors,
            clients_with(CLIENTS).expect("clients"),
            opts,
            Some(fx().server_key.clone()),
        )
        .expect("mock")
    }

    fn mock() -> Mock {
        mock_with(vec![fx().root.clone()], opts())
    }

    fn opts() -> MockOptions {
        MockOptions {
            issuer: ISSUER.into(),
            ..MockOptions::default()
        }
    }

    fn b64(c: &Certificate) -> Value {
        json!(STANDARD.encode(&c.der))
    }

    /// The usual header: leaf and intermediate in x5c.
    fn x5c_header(leaf: &Certificate) -> Value {
        json!({"alg": "RS256", "x5c": [b64(leaf), b64(&fx().int)]})
    }

    fn claims(iss: &str, scope: &str) -> Value {
        let mut r = [0u8; 16];
        getrandom::fill(&mut r).expect("random");
        json!({
            "aud": ISSUER,
            "iss": iss,
            "scope": scope,
            "iat": NOW,
            "exp": NOW + 120,
            "jti": crate::jwt::mint::uuid_v4(&r),
        })
    }

    fn sign_with(header: &Value, claims: &Value, key: &PrivateKey, alg: Alg) -> String {
        let h = serde_json::to_vec(header).expect("header");
        let c = serde_json::to_vec(claims).expect("claims");
        Signer::new(key, alg)
            .expect("signer")
            .sign(&h, &c)
            .expect("sign")
    }

    fn sign(header: &Value, claims: &Value) -> String {
        sign_with(header, claims, &fx().client_key, Alg::RS256)
    }

    fn form(assertion: &str) -> Vec<u8> {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", GRANT_TYPE)
            .append_pair("assertion", assertion)
            .finish()
            .into_bytes()
    }

    fn post(m: &Mock, header: &Value, claims: &Value) -> Reply {
        m.token(&form(&sign(header, claims)), NOW)
    }

    fn with(mut v: Value, key: &str, value: Value) -> Value {
        if let Some(o) = v.as_object_mut() {
            o.insert(key.into(), value);
        }
        v
    }

    fn without(mut v: Value, key: &str) -> Value {
        if let Some(o) = v.as_object_mut() {
            o.remove(key);
        }
        v
    }

    /// The reply is exactly the documented case `id`.
    fn assert_case(r: &Reply, id: &str) {
        let (_, status, error, text) = CASES
            .iter()
            .find(|c| c.0 == id)
            .unwrap_or_else(|| panic!("no case {id}"));
        assert_eq!(r.status, *status, "{id}: {}", r.body);
        assert_eq!(r.body["error"], *error, "{id}: {}", r.body);
        let d = r.body["error_description"].as_str().expect("description");
        // The whole text, exactly (several texts are prefixes of others);
        // for the templates, the fixed parts around the filled-in values.
        let said = description(r);
        if text.contains('{') {
            let prefix = text.split('{').next().unwrap_or(text);
            let suffix = text.rsplit('}').next().unwrap_or(text);
            assert!(
                said.starts_with(prefix) && said.ends_with(suffix),
                "{id}: {said}"
            );
        } else {
            assert_eq!(said, *text, "{id}");
        }
        let (_, trace) = d.rsplit_once(" (trace_id: ").expect("trace id");
        let hex = trace.strip_suffix(')').expect(")");
        assert!(
            hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "{d}"
        );
        assert_eq!(
            r.body.get("error_uri").and_then(Value::as_str),
            (id == "MP-121").then_some(MP_121_URI),
            "{id}"
        );
    }

    fn description(r: &Reply) -> String {
        let d = r.body["error_description"].as_str().expect("description");
        d.rsplit_once(" (trace_id: ").expect("trace").0.to_string()
    }

    #[test]
    fn cases_table_matches_the_enum() {
        assert_eq!(CASES.len(), ALL_CASES.len());
        for (i, c) in ALL_CASES.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(Case::from_id(CASES[i].0), Some(*c));
        }
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Mock>();
    }

    /// Every documented case comes out of a realistic grant, through the
    /// path that causes it upstream. None needs `forced`.
    #[test]
    fn every_case_arises_naturally() {
        let m = mock();
        let fx = fx();
        let leaf = &fx.leaf;
        let ok = || claims("cert-client", "test:read");
        let hdr = || x5c_header(leaf);
        let kid = |k: &str| json!({"alg": "RS256", "kid": k});
        let sign_only = issue(fx, ORG1, Profile::Sign, NOW - DAY, NOW + DAY);
        let system_user = |extra: (&str, Value)| {
            let mut o = json!({
                "type": "urn:altinn:systemuser",
                "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:987654325"},
                "externalRef": "ref-1",
            });
            o = with(o, extra.0, extra.1);
            json!([o])
        };
        let replayed = sign(&hdr(), &ok());
        assert_eq!(m.token(&form(&replayed), NOW).status, 200);

        let mut got: Vec<(&str, Reply)> = vec![
            ("MP-100", post(&m, &hdr(), &without(ok(), "iss"))),
            (
                "MP-100-not-found",
                post(&m, &hdr(), &with(ok(), "iss", json!("nobody"))),
            ),
            (
                "MP-110",
                post(
                    &m,
                    &hdr(),
                    &with(ok(), "aud", json!("http://127.0.0.1:7824")),
                ),
            ),
            (
                "MP-120",
                post(
                    &m,
                    &json!({"alg": "RS256", "x5c": [b64(&sign_only), b64(&fx.int)]}),
                    &ok(),
                ),
            ),
            (
                "MP-121",
                post(&m, &kid("old"), &claims("key-client", "test:read")),
            ),
            (
                "unknown-kid",
                post(&m, &kid("nope"), &claims("key-client", "test:read")),
            ),
            (
                "kid-required",
                post(&m, &hdr(), &claims("key-client", "test:read")),
            ),
            (
                "MP-124",
                m.token(
                    &form(&sign_with(&hdr(), &ok(), &fx.server_key, Alg::RS256)),
                    NOW,
                ),
            ),
            (
                "MP-011",
                post(&m, &hdr(), &with(ok(), "exp", json!(NOW + 300))),
            ),
            (
                "extra-claim",
                post(&m, &hdr(), &with(ok(), "sub", json!("x"))),
            ),
            (
                "consumer-org-own",
                post(&m, &hdr(), &with(ok(), "consumer_org", json!(ORG1))),
            ),
            (
                "MP-200",
                post(&m, &hdr(), &claims("cert-client", "test:read test:admin")),
            ),
            (
                "MP-201",
                post(&m, &hdr(), &claims("cert-client", "test:read openid")),
            ),
            ("MP-012", m.token(&form(&replayed), NOW + 5)),
            (
                "MP-130",
                post(
                    &m,
                    &hdr(),
                    &with(with(ok(), "iat", json!(NOW - 130)), "exp", json!(NOW - 10)),
                ),
            ),
            (
                "MP-122",
                post(&m, &hdr(), &claims("other-org", "test:read")),
            ),
            (
                "MP-123",
                post(
                    &m,
                    &json!({"alg": "RS256", "x5c": STANDARD.encode(&leaf.der)}),
                    &ok(),
                ),
            ),
            (
                "iat-future",
                post(&m, &hdr(), &with(ok(), "iat", json!(NOW + 60))),
            ),
            (
                "MP-301",
                post(
                    &m,
                    &hdr(),
                    &with(
                        ok(),
                        "authorization_details",
                        json!([{"type": "urn:altinn:other"}]),
                    ),
                ),
            ),
            (
                "MP-302",
                post(
                    &m,
                    &hdr(),
                    &with(
                        ok(),
                        "authorization_details",
                        system_user(("reportee", json!("x"))),
                    ),
                ),
            ),
            (
                "MP-303",
                post(
                    &m,
                    &hdr(),
                    &with(
                        ok(),
                        "authorization_details",
                        system_user((
                            "systemuser_org",
                            json!({"authority": "iso6523-actorid-upis", "ID": "0192:98765"}),
                        )),
                    ),
                ),
            ),
            (
                "MP-250",
                post(
                    &m,
                    &hdr(),
                    &with(
                        claims("cert-client", "test:restricted"),
                        "consumer_org",
                        json!(ORG2),
                    ),
                ),
            ),
            (
                "MP-251",
                post(
                    &m,
                    &hdr(),
                    &with(
                        claims("cert-client", "test:read test:write"),
                        "consumer_org",
                        json!(ORG2),
                    ),
                ),
            ),
        ];
        for (id, r) in &got {
            assert_case(r, id);
        }
        let (_, r250) = got.remove(got.len() - 2);
        assert_eq!(
            description(&r250),
            "Consumer has not been granted access to the scope test:restricted."
        );
        let (_, r251) = got.remove(got.len() - 1);
        assert_eq!(
            description(&r251),
            "Consumer 987654325 has not delegated access to the scope test:write to supplier 123456785."
        );
        let mut ids: Vec<&str> = got.iter().map(|(id, _)| *id).collect();
        ids.extend(["MP-250", "MP-251"]);
        for (id, ..) in CASES {
            assert!(ids.contains(id), "no grant produced {id}");
        }
    }

    #[test]
    fn more_malformed_grants() {
        let m = mock();
        let leaf = &fx().leaf;
        let ok = claims("cert-client", "test:read");
        let good = sign(&x5c_header(leaf), &ok);
        let (h, rest) = good.split_once('.').expect("dot");
        for bad in [
            "".to_string(),
            "a.b".to_string(),
            format!("{good}.x"),
            format!("{h}.!!!.{}", rest.split_once('.').expect("dot").1),
            format!("{}.{rest}", URL_SAFE_NO_PAD.encode("[1]")),
        ] {
            assert_case(&m.token(&form(&bad), NOW), "MP-011");
        }
        // Repeated parameters.
        let twice = [form(&good), format!("&assertion={good}").into_bytes()].concat();
        assert_case(&m.token(&twice, NOW), "MP-011");
        // Wrong types.
        let hdr = x5c_header(leaf);
        for (k, v) in [
            ("exp", json!("soon")),
            ("iat", json!(1.5)),
            ("jti", json!(7)),
            ("jti", json!("x".repeat(300))),
            ("resource", json!({"a": 1})),
            ("pid", json!(12345678901_i64)),
            ("consumer_org", json!("12345")),
            (
                "authorization_details",
                json!({"type": "urn:altinn:systemuser"}),
            ),
        ] {
            assert_case(&post(&m, &hdr, &with(ok.clone(), k, v)), "MP-011");
        }
        // exp not after iat.
        let back = with(
            with(ok.clone(), "iat", json!(NOW + 5)),
            "exp",
            json!(NOW + 3),
        );
        assert_case(&post(&m, &hdr, &back), "MP-011");
        // Stale: iat too old, though exp is ahead.
        let stale = with(
            with(ok.clone(), "iat", json!(NOW - 11)),
            "exp",
            json!(NOW + 100),
        );
        assert_case(&post(&m, &hdr, &stale), "MP-130");
        // alg
        for alg in [json!("PS256"), json!("none"), json!("HS256"), Value::Null] {
            assert_case(&post(&m, &with(hdr.clone(), "alg", alg), &ok), "MP-124");
        }
        // x5c shapes
        for x5c in [
            json!([]),
            json!(["not base64!"]),
            json!([STANDARD.encode(b"junk")]),
            json!([1]),
        ] {
            assert_case(&post(&m, &with(hdr.clone(), "x5c", x5c), &ok), "MP-123");
        }
        assert_case(&post(&m, &json!({"alg": "RS256"}), &ok), "MP-123");
        // Scope missing or empty (each grant with its own jti: step 11 used it up).
        assert_case(
            &post(&m, &hdr, &without(claims("cert-client", "x"), "scope")),
            "MP-200",
        );
        assert_case(&post(&m, &hdr, &claims("cert-client", " ")), "MP-200");
        // Not the jwt-bearer grant.
        let r = m.token(b"grant_type=client_credentials&scope=x", NOW);
        assert_eq!(r.status, 400);
        assert_eq!(r.body["error"], "unsupported_grant_type");
    }

    fn token_claims(r: &Reply) -> (Map<String, Value>, Map<String, Value>) {
        let t = r.body["access_token"].as_str().expect("token");
        let d = crate::jwt::decode::decode(t).expect("decode");
        (d.header, d.claims)
    }

    #[test]
    fn a_valid_grant_gets_a_token_that_verifies_with_the_jwks() {
        let m = mock();
        let c = with(
            claims("cert-client", "test:read test:write"),
            "resource",
            json!(["https://api.example/"]),
        );
        let c = with(c, "pid", json!("12345678901"));
        let r = post(&m, &x5c_header(&fx().leaf), &c);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["token_type"], "Bearer");
        assert_eq!(r.body["expires_in"], 120);
        assert_eq!(r.body["scope"], "test:read test:write");

        let token = r.body["access_token"].as_str().expect("token");
        let d = crate::jwt::decode::decode(token).expect("decode");
        let jwks = crate::keystore::jwk::read(&m.jwks().to_string()).expect("jwks");
        let key = jwks.entries[0].public_key.as_ref().expect("key");
        assert!(jws::verify(
            Alg::RS256,
            key,
            d.signing_input.as_bytes(),
            &d.signature
        ));
        assert_eq!(d.header["alg"], "RS256");
        assert_eq!(d.header["typ"], "JWT");
        assert_eq!(d.header["kid"], m.jwks()["keys"][0]["kid"]);
        assert_eq!(m.jwks()["keys"][0]["use"], "sig");
        let t = &d.claims;
        assert_eq!(t["iss"], ISSUER);
        assert_eq!(t["client_amr"], "virksomhetssertifikat");
        assert_eq!(t["token_type"], "Bearer");
        assert_eq!(t["aud"], json!(["https://api.example/"]));
        assert_eq!(t["scope"], "test:read test:write");
        assert_eq!(t["client_id"], "cert-client");
        assert_eq!(
            t["consumer"],
            json!({"authority": "iso6523-actorid-upis", "ID": "0192:123456785"})
        );
        assert!(t.get("supplier").is_none());
        assert_eq!(t["pid"], "12345678901");
        assert_eq!(t["iat"], NOW);
        assert_eq!(t["exp"], NOW + 120);
        let jti = t["jti"].as_str().expect("jti");
        assert_eq!(jti.len(), 36);
        assert_eq!(&jti[14..15], "4");
        // A string resource stays a string; no resource, aud "unspecified".
        let r = post(
            &m,
            &x5c_header(&fx().leaf),
            &with(
                claims("cert-client", "test:read"),
                "resource",
                json!("urn:x"),
            ),
        );
        assert_eq!(token_claims(&r).1["aud"], "urn:x");
        let r = post(
            &m,
            &x5c_header(&fx().leaf),
            &claims("cert-client", "test:read"),
        );
        assert_eq!(token_claims(&r).1["aud"], "unspecified");
        // RS384 and RS512 grants are accepted too.
        for alg in [Alg::RS384, Alg::RS512] {
            let h = with(x5c_header(&fx().leaf), "alg", json!(alg.name()));
            let g = sign_with(
                &h,
                &claims("cert-client", "test:read"),
                &fx().client_key,
                alg,
            );
            assert_eq!(m.token(&form(&g), NOW).status, 200, "{}", alg.name());
        }
    }

    #[test]
    fn key_clients_delegation_and_system_users() {
        let m = mock();
        let r = post(
            &m,
            &json!({"alg": "RS256", "kid": "k1"}),
            &claims("key-client", "test:read"),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["expires_in"], 600);
        let (_, t) = token_claims(&r);
        assert_eq!(t["client_amr"], "private_key_jwt");
        assert_eq!(t["exp"], NOW + 600);
        // kid wins over x5c.
        let h = json!({"alg": "RS256", "kid": "k1", "x5c": ["junk"]});
        assert_eq!(post(&m, &h, &claims("key-client", "test:read")).status, 200);
        // A certificate client with no keys: unknown kid.
        let r = post(
            &m,
            &json!({"alg": "RS256", "kid": "k1"}),
            &claims("cert-client", "test:read"),
        );
        assert_case(&r, "unknown-kid");

        // Delegation: supplier cert-client acting for ORG2.
        let c = with(
            claims("cert-client", "test:read"),
            "consumer_org",
            json!(ORG2),
        );
        let r = post(&m, &x5c_header(&fx().leaf), &c);
        assert_eq!(r.status, 200, "{}", r.body);
        let (_, t) = token_claims(&r);
        assert_eq!(t["consumer"]["ID"], "0192:987654325");
        assert_eq!(t["supplier"]["ID"], "0192:123456785");
        // An org with access to the restricted scope gets it.
        let r = post(
            &m,
            &x5c_header(&fx().leaf),
            &claims("cert-client", "test:restricted"),
        );
        assert_eq!(r.status, 200, "{}", r.body);

        // System user authorization details are copied.
        let ad = json!([{
            "type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:987654325"},
        }, {"type": "urn:altinn:consent", "id": "c-1"}]);
        let c = with(
            claims("cert-client", "test:read"),
            "authorization_details",
            ad.clone(),
        );
        let r = post(&m, &x5c_header(&fx().leaf), &c);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(token_claims(&r).1["authorization_details"], ad);
    }

    #[test]
    fn certificates_are_checked() {
        let fx = fx();
        let m = mock();
        let ok = || claims("cert-client", "test:read");
        let with_cert = |c: &Certificate| json!({"alg": "RS256", "x5c": [b64(c), b64(&fx.int)]});
        // Expired and not yet valid.
        let expired = issue(fx, ORG1, Profile::Auth, NOW - 400 * DAY, NOW - 30 * DAY);
        assert_case(&post(&m, &with_cert(&expired), &ok()), "MP-120");
        let early = issue(fx, ORG1, Profile::Auth, NOW + DAY, NOW + 400 * DAY);
        assert_case(&post(&m, &with_cert(&early), &ok()), "MP-120");
        // nonRepudiation only.
        let sign_only = issue(fx, ORG1, Profile::Sign, NOW - DAY, NOW + DAY);
        assert_case(&post(&m, &with_cert(&sign_only), &ok()), "MP-120");
        // Another organisation's certificate.
        let org2 = issue(fx, ORG2, Profile::Auth, NOW - DAY, NOW + DAY);
        assert_case(&post(&m, &with_cert(&org2), &ok()), "MP-122");
        assert_eq!(
            post(&m, &with_cert(&org2), &claims("other-org", "test:read")).status,
            200
        );
        // A self-signed certificate that no anchor issued.
        let mut req = Request::new(Mode::SelfSigned, NOW - DAY);
        req.key = KeySpec::Ec(Curve::P256);
        req.org_number = Some(ORG1.into());
        let stranger = keygen::generate(&req, None, &mut Random::from_seed("stranger"))
            .expect("gen")
            .entries[0]
            .chain[0]
            .clone();
        let h = json!({"alg": "RS256", "x5c": [b64(&stranger)]});
        assert_case(&post(&m, &h, &ok()), "MP-120");
        // A leaf passed off as an intermediate is not a CA.
        let h = json!({"alg": "RS256", "x5c": [b64(&fx.leaf), b64(&org2)]});
        assert_case(&post(&m, &h, &ok()), "MP-120");
    }

    #[test]
    fn chains_through_an_intermediate() {
        let fx = fx();
        let leaf_only = json!({"alg": "RS256", "x5c": [b64(&fx.leaf)]});
        let ok = || claims("cert-client", "test:read");
        // Root as the only anchor: the intermediate must come in x5c.
        let m = mock();
        assert_eq!(post(&m, &x5c_header(&fx.leaf), &ok()).status, 200);
        assert_case(&post(&m, &leaf_only, &ok()), "MP-120");
        // Root and intermediate as anchors: the leaf alone is enough.
        let m = mock_with(vec![fx.root.clone(), fx.int.clone()], opts());
        assert_eq!(post(&m, &leaf_only, &ok()).status, 200);
        // The intermediate alone as the anchor works too.
        let m = mock_with(vec![fx.int.clone()], opts());
        assert_eq!(post(&m, &leaf_only, &ok()).status, 200);
        // No anchors: nothing verifies.
        let m = mock_with(vec![], opts());
        assert_case(&post(&m, &x5c_header(&fx.leaf), &ok()), "MP-120");
    }

    #[test]
    fn cached_chains_are_rechecked_for_validity() {
        let fx = fx();
        let m = mock();
        let short = issue(fx, ORG1, Profile::Auth, NOW - DAY, NOW + 100);
        let h = json!({"alg": "RS256", "x5c": [b64(&short), b64(&fx.int)]});
        assert_eq!(
            post(&m, &h, &claims("cert-client", "test:read")).status,
            200
        );
        assert_eq!(lock(&m.chains).len(), 1);
        let later = NOW + 200;
        let c = json!({
            "aud": ISSUER, "iss": "cert-client", "scope": "test:read",
            "iat": later, "exp": later + 60, "jti": "later",
        });
        assert_case(&m.token(&form(&sign(&h, &c)), later), "MP-120");
        // The cache holds the org check too, per client.
        assert_case(&post(&m, &h, &claims("other-org", "test:read")), "MP-122");
    }

    #[test]
    fn replays_are_refused_and_the_store_stays_bounded() {
        let m = mock();
        let h = x5c_header(&fx().leaf);
        let g = |now: i64, jti: &str| {
            let c = json!({
                "aud": ISSUER, "iss": "cert-client", "scope": "test:read",
                "iat": now, "exp": now + 60, "jti": jti,
            });
            form(&sign(&h, &c))
        };
        for i in 0..20 {
            assert_eq!(m.token(&g(NOW, &format!("j{i}")), NOW).status, 200);
        }
        assert_eq!(m.remembered_grants(), 20);
        assert_case(&m.token(&g(NOW, "j3"), NOW + 1), "MP-012");
        // Another client may use the same jti.
        let c = json!({
            "aud": ISSUER, "iss": "key-client", "scope": "test:read",
            "iat": NOW, "exp": NOW + 60, "jti": "j3",
        });
        let r = m.token(&form(&sign(&json!({"alg": "RS256", "kid": "k1"}), &c)), NOW);
        assert_eq!(r.status, 200, "{}", r.body);
        // Once the grants have expired they are forgotten.
        let later = NOW + 61;
        assert_eq!(m.token(&g(later, "j3"), later).status, 200);
        assert_eq!(m.remembered_grants(), 1);
        // A grant without jti is accepted and not remembered.
        let c = json!({
            "aud": ISSUER, "iss": "cert-client", "scope": "test:read",
            "iat": later, "exp": later + 60,
        });
        assert_eq!(m.token(&form(&sign(&h, &c)), later).status, 200);
        assert_eq!(m.remembered_grants(), 1);
        // A store at its limit refuses rather than forgets.
        {
            let mut s = lock(&m.jtis);
            for i in 0..MAX_JTIS {
                s.live.insert(format!("fill{i}"), i64::MAX);
            }
        }
        let r = m.token(&g(later, "new"), later);
        assert_eq!(r.status, 503);
        assert_eq!(r.body["error"], "temporarily_unavailable");
    }

    #[test]
    fn forced_errors() {
        let text = format!("{CLIENTS}\nforce_error = \"MP-303\"\n");
        let clients = clients_with(&text).expect("clients");
        assert_eq!(clients.clients[2].force_error.as_deref(), Some("MP-303"));
        let mut o = opts();
        o.forced = vec![("cert-client".into(), "MP-251".into())];
        let m = Mock::new(
            vec![fx().root.clone()],
            clients,
            o,
            Some(fx().server_key.clone()),
        )
        .expect("mock");
        // Forced before the key is looked at: any signature will do.
        let c = with(
            claims("cert-client", "test:write"),
            "consumer_org",
            json!(ORG2),
        );
        let r = m.token(
            &form(&sign_with(
                &x5c_header(&fx().leaf),
                &c,
                &fx().server_key,
                Alg::RS256,
            )),
            NOW,
        );
        assert_case(&r, "MP-251");
        assert_eq!(
            description(&r),
            "Consumer 987654325 has not delegated access to the scope test:write to supplier 123456785."
        );
        assert_case(
            &post(&m, &x5c_header(&fx().leaf), &claims("other-org", "x")),
            "MP-303",
        );
        // Unknown case or client.
        for (client, case, needle) in [
            ("cert-client", "MP-999", "MP-999"),
            ("nobody", "MP-250", "no such client"),
        ] {
            let mut o = opts();
            o.forced = vec![(client.into(), case.into())];
            let e = Mock::new(
                vec![],
                clients_with(CLIENTS).expect("clients"),
                o,
                Some(fx().server_key.clone()),
            )
            .err()
            .expect("refused");
            assert_eq!(e.id(), "mock-forced-error");
            assert!(e.to_string().contains(needle), "{e}");
            assert!(e.hint().is_some_and(|h| h.contains("MP-250")));
        }
    }

    #[test]
    fn clients_toml_errors_name_the_file_and_the_client() {
        let cases: [(&str, &str, &[&str]); 11] = [
            (
                "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nscopez = [\"x\"]\n",
                "mock-clients-toml",
                &[
                    "clients.toml",
                    "line 4",
                    "client 1 (client_id \"a\")",
                    "scopez",
                ],
            ),
            ("user_login = []\n", "mock-clients-toml", &["user_login"]),
            (
                "[[client]\n",
                "mock-clients-toml",
                &["clients.toml", "line 1"],
            ),
            (
                "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\n[[client]]\nclient_id = \"a\"\norg = \"123456785\"\n",
                "mock-client-invalid",
                &["client 2 (client_id \"a\")", "twice"],
            ),
            (
                "[[client]]\nclient_id = \"a\"\norg = \"12345678\"\n",
                "mock-client-invalid",
                &["client 1 (client_id \"a\")", "\"12345678\"", "9-digit"],
            ),
            (
                "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nforce_error = \"MP-999\"\n",
                "mock-client-invalid",
                &["MP-999", "client 1"],
            ),
            (
                "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nauth = \"password\"\n",
                "mock-client-invalid",
                &["password"],
            ),
            (
                "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nauth = \"key\"\n",
                "mock-client-invalid",
                &["no keys"],
            ),
            (
                "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nkeys = [{ kid = \"k\", file = \"missing.jwk\" }]\n",
                "mock-key-file",
                &["client 1 (client_id \"a\")", "missing.jwk", "\"k\""],
            ),
            (
                "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nconsumers = { \"123456785\" = [\"x\"] }\n",
                "mock-client-invalid",
                &["own organisation"],
            ),
            (
                "[access]\n\"s\" = [\"1\"]\n",
                "mock-client-invalid",
                &["[access]", "\"1\""],
            ),
        ];
        for (text, id, needles) in cases {
            let e = clients_with(text)
                .err()
                .unwrap_or_else(|| panic!("accepted {text}"));
            let msg = e.to_string();
            assert_eq!(e.id(), id, "{msg}");
            assert!(msg.contains("clients.toml"), "{msg}");
            for n in needles {
                assert!(msg.contains(n), "{n:?} not in {msg}");
            }
        }
        // Bad expiry times.
        let e = clients_with(
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nkeys = [{ kid = \"k\", file = \"client.jwk\", expires = \"tomorrow\" }]\n",
        )
        .expect_err("refused");
        assert!(e.to_string().contains("RFC 3339"), "{e}");
        // A TOML date-time works as well as a string.
        let c = clients_with(
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nkeys = [{ kid = \"k\", file = \"client.jwk\", expires = 2027-11-23T00:00:00Z }]\n",
        )
        .expect("clients");
        assert_eq!(c.clients[0].keys[0].expires, Some(1_826_928_000));
        assert_eq!(c.clients[0].auth, ClientAuth::Key);
        // The example in the module documentation parses.
        let c = clients_with(CLIENTS).expect("clients");
        assert_eq!(c.clients.len(), 3);
        assert_eq!(c.clients[0].auth, ClientAuth::Certificate);
    }

    #[test]
    fn metadata_and_options() {
        let m = mock();
        let md = m.metadata();
        assert_eq!(md["issuer"], ISSUER);
        assert_eq!(md["token_endpoint"], "http://127.0.0.1:7824/token");
        assert_eq!(md["jwks_uri"], "http://127.0.0.1:7824/jwk");
        assert_eq!(md["grant_types_supported"], json!([GRANT_TYPE]));
        // The signing key must be RSA.
        let ec = keygen::generate_key(KeySpec::Ec(Curve::P256), &mut Random::from_seed("ec"))
            .expect("ec");
        let e = Mock::new(vec![], Clients::default(), opts(), Some(ec))
            .err()
            .expect("refused");
        assert_eq!(e.id(), "mock-signing-key");
        let mut o = opts();
        o.token_lifetime = 0;
        assert!(Mock::new(vec![], Clients::default(), o, Some(fx().server_key.clone())).is_err());
    }
}
