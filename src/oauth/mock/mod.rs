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
//! the case ids and texts are those of [`Case`], from Digdir's error page):
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

mod case;
mod clients;
mod grant;
mod replay;
mod routes;
#[cfg(test)]
mod tests;

pub use case::Case;
pub use clients::{Client, ClientAuth, Clients, RegisteredKey, parse_clients};
pub use replay::MAX_JTIS;
pub use routes::Reply;

use crate::cert::Certificate;
use crate::error_id::ErrorId;
use crate::jwt::jws::{Alg, JwsError, Signer};
use crate::key::{PrivateKey, PublicKey};
use crate::keystore::model::{Entry, EntryKind};
use crate::keystore::write::jwk::entry_jwk;
use case::case_ids;
use grant::Verified;
use replay::JtiStore;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

/// The only grant type the token endpoint takes (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The `error_uri` Maskinporten sends with MP-121.
pub const MP_121_URI: &str = "https://maskinporten.no/errors/MP-121";

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

/// Why the mock cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// clients.toml is not valid TOML or has unknown keys or wrong types.
    #[error("{path}: {at}{message}")]
    ClientsToml {
        /// The clients.toml file.
        path: String,
        /// `line 12, client 2 ("id"): ` or empty.
        at: String,
        /// The TOML reader's message.
        message: String,
    },
    /// A value in clients.toml is not acceptable.
    #[error("{path}: {client}: {message}")]
    Client {
        /// The clients.toml file.
        path: String,
        /// `client 2 (client_id "id")` or `[access]`.
        client: String,
        /// What is wrong with the value.
        message: String,
        /// What to write instead, when there is advice.
        hint: Option<String>,
    },
    /// A registered key file cannot be read.
    #[error("{path}: {client}: key {kid:?}: cannot use {file}: {detail}")]
    KeyFile {
        /// The clients.toml file.
        path: String,
        /// The client, as in [`MockError::Client`].
        client: String,
        /// The key's `kid`.
        kid: String,
        /// The key file as written in clients.toml.
        file: String,
        /// Why it cannot be used (not found, no public key in it...).
        detail: String,
    },
    /// A forced error names an unknown case or client.
    #[error("forced error for client {client:?}: {message}")]
    Forced {
        /// The client id the error is forced on.
        client: String,
        /// What is wrong: an unknown case id or client.
        message: String,
    },
    /// A certificate in the CA file cannot be a trust anchor.
    #[error("CA certificate {index} ({subject}): {detail}")]
    Ca {
        /// The certificate's position among `cas`, from 1.
        index: usize,
        /// Its subject.
        subject: String,
        /// Why it cannot be an anchor (its public key cannot be read).
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
    pub fn id(&self) -> ErrorId {
        match self {
            MockError::ClientsToml { .. } => ErrorId::MockClientsToml,
            MockError::Client { .. } => ErrorId::MockClientInvalid,
            MockError::KeyFile { .. } => ErrorId::MockKeyFile,
            MockError::Forced { .. } => ErrorId::MockForcedError,
            MockError::Ca { .. } => ErrorId::MockCa,
            MockError::SigningKey(_) => ErrorId::MockSigningKey,
            MockError::Options(_) => ErrorId::Usage,
            MockError::KeyGen(_) => ErrorId::KeygenFailed,
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

/// Longest assertion accepted (real grants are a few kilobytes).
pub const MAX_ASSERTION: usize = 64 * 1024;
/// Most certificates accepted in `x5c`.
pub const MAX_X5C: usize = 10;
/// Longest certification path built (leaf and anchor included).
pub const MAX_PATH: usize = 8;
/// Most validated chains cached (the cache is emptied when full).
pub const MAX_CACHED_CHAINS: usize = 4096;
/// Longest `jti` accepted.
pub const MAX_JTI: usize = 256;
/// Longest grant lifetime (exp − iat) Maskinporten accepts.
pub const MAX_GRANT_LIFETIME: i64 = 120;

/// A client as the server uses it: its scopes as a set, and the case forced on it.
struct ClientState {
    client: Client,
    scopes: HashSet<String>,
    forced: Option<Case>,
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

impl Mock {
    #[cfg(feature = "cli")]
    /// Refuse the certificates this list revokes (from their revocation
    /// date on) with MP-120, as Maskinporten refuses a revoked certificate.
    pub(crate) fn with_revocation_list(
        mut self,
        list: crate::revocation::list::RevocationList,
    ) -> Mock {
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
        check_options(&opts)?;
        let anchors = trust_anchors(cas)?;
        let states = client_states(clients.clients, &opts.forced, &clients.path)?;
        let (signer, header, jwk) = token_signer(signing_key)?;

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

    /// How many grants are remembered for replay detection right now.
    pub fn remembered_grants(&self) -> usize {
        lock(&self.jtis).live.len()
    }
}

/// The options are in range.
fn check_options(opts: &MockOptions) -> Result<(), MockError> {
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
    Ok(())
}

/// The CA file's certificates, each with a readable key.
fn trust_anchors(cas: Vec<Certificate>) -> Result<Vec<Certificate>, MockError> {
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
    Ok(anchors)
}

/// The clients by id, with the cases forced on them (`forced` wins over
/// the client's `force_error`).
fn client_states(
    clients: Vec<Client>,
    forced: &[(String, String)],
    path: &std::path::Path,
) -> Result<HashMap<String, ClientState>, MockError> {
    let mut states: HashMap<String, ClientState> = HashMap::new();
    for c in clients {
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
    for (client, case) in forced {
        let c = Case::from_id(case).ok_or_else(|| MockError::Forced {
            client: client.clone(),
            message: format!("{case:?} is not a documented case"),
        })?;
        let state = states.get_mut(client).ok_or_else(|| MockError::Forced {
            client: client.clone(),
            message: format!("there is no such client in {}", path.display()),
        })?;
        state.forced = Some(c);
    }
    Ok(states)
}

/// The access tokens' signer, their JOSE header and the public JWK, from
/// `signing_key` or a fresh RSA-2048 key.
fn token_signer(signing_key: Option<PrivateKey>) -> Result<(Signer, Vec<u8>, Value), MockError> {
    let key = match signing_key {
        Some(k) => k,
        None => {
            let mut rng = crate::key::generate::Random::from_os()
                .map_err(|e| MockError::KeyGen(e.to_string()))?;
            crate::key::generate::generate_key(
                crate::key::generate::KeySpec::Rsa { bits: 2048 },
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
    Ok((signer, header, jwk))
}
