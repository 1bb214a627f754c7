//! The OAuth token client: every input in one [`TokenSettings`], a [`plan`]
//! (checks, the key, the cache key: no network), a [`Session`] (the endpoint
//! found, the credential checked, the signer made, the secrets read) and
//! [`Session::fetch`] (one request with its retries: a token, or a
//! diagnosis of the refusal built from the request actually sent).
//!
//! `credkit token` maps its flags, a config profile and a `.properties` file
//! onto [`TokenSettings`] (flags over profile over `.properties` over
//! defaults, [`TokenSettings::over`]); the broker maps each profile onto it
//! directly. Nothing here prints: the trace goes to the session's
//! [`Observer`].
//!
//! Without the `client` feature only the settings and [`plan`] are built;
//! [`Session`], [`prepare`], [`session`] and [`obtain`] need the network.
//!
//! # Example
//!
//! A Maskinporten token for a client whose key is in a PKCS#12 file (the
//! jwt-bearer grant, picked by the environment):
//!
//! ```no_run
//! use credkit::ctx::Ctx;
//! use credkit::oauth::client::{self, TokenSettings};
//! use credkit::oauth::config::KeySource;
//! use credkit::secret::SecretSource;
//! use credkit::target::MaskinportenEnv;
//!
//! let ctx = Ctx {
//!     now: time::OffsetDateTime::now_utc(),
//!     json: false,
//!     quiet: true,
//!     now_pinned: false,
//!     started: std::time::Instant::now(),
//! };
//! let settings = TokenSettings {
//!     key: Some(KeySource::File("client.p12".into())),
//!     store_password: Some(SecretSource::Env("P12_PASSWORD".into())),
//!     client_id: Some("0b7a5c9e-client-id".into()),
//!     scope: Some("nav:example/scope".into()),
//!     env: Some(MaskinportenEnv::Test),
//!     ..TokenSettings::default()
//! };
//! // The observer sees each request, answer and retry (redacted).
//! let session = client::prepare(&ctx, settings, Box::new(|_event| {}))?;
//! let token = session.fetch()?;
//! println!("{}", token.response["access_token"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// Without the `client` feature only the settings (and `plan`) are built:
// the helpers of the session are unused then.
#![cfg_attr(not(feature = "client"), allow(dead_code, unused_imports))]

use crate::ctx::Ctx;
use crate::diagnostics::check::{self as diag, CheckOptions};
use crate::diagnostics::{Finding, Severity};
use crate::jwt::jws::{Alg, Signer};
use crate::jwt::mint::{self, HeaderChoice, MintOptions};
use crate::keystore::{self, KeystoreError, Store};
use crate::net::NetError;
#[cfg(feature = "client")]
use crate::net::{Http, HttpOptions};
use crate::oauth::cache::{self, CacheKey, Cached};
use crate::oauth::config::KeySource;
use crate::oauth::diagnose::{self, Context, Fact};
use crate::oauth::discovery;
use crate::oauth::dpop::{DpopKey, DpopKeyChoice};
use crate::oauth::exchange::{self, Auth, Event, Grant, RetryPolicy, TokenRequest};
use crate::oauth::grants;
use crate::oauth::interactive::{self, Interactive, InteractiveError, RefreshStore};
use crate::secret::{SecretCell, SecretError, SecretSource};
use crate::target::{MaskinportenEnv, Target};
use base64::Engine;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every input of a token request. `None` = not said (a lower layer, or the
/// default, decides).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenSettings {
    /// The keystore or key file that signs, presents the TLS client
    /// certificate or signs DPoP proofs (any format [`crate::keystore::load`]
    /// reads). None: nothing is signed with a key of the client's.
    pub key: Option<KeySource>,
    /// The keystore entry to use; None: the only entry able to sign.
    pub alias: Option<String>,
    /// Where the keystore password comes from; None: `CREDKIT_PASSWORD`,
    /// else a prompt on a terminal ([`SecretSource::Default`]).
    pub store_password: Option<SecretSource>,
    /// Where the private key entry's own password comes from, when it
    /// differs from the keystore's (JKS, JCEKS); None: the keystore password.
    pub key_password: Option<SecretSource>,
    /// The client id: the JWT's `iss` (and `sub` for a generic
    /// private_key_jwt) and the form's `client_id`. Required unless a
    /// ready-made assertion is sent.
    pub client_id: Option<String>,
    /// The scopes asked for, space-separated (a claim of the jwt-bearer
    /// grant's JWT, a form member otherwise).
    pub scope: Option<String>,
    /// The resource (RFC 8707; Maskinporten's audience restriction).
    pub resource: Option<String>,
    /// Maskinporten's `consumer_org` claim: the organisation (9 digits) a
    /// supplier acts for.
    pub consumer_org: Option<String>,
    /// The organisation number that owns the client (9 digits, checked).
    pub client_org: Option<String>,
    /// Extra claims (pid from .properties, `--claim`); lower layers' first.
    pub claims: Vec<(String, serde_json::Value)>,
    /// The Maskinporten environment: its issuer and token endpoint, and the
    /// jwt-bearer grant by default. Replaces a lower layer's `issuer`.
    pub env: Option<MaskinportenEnv>,
    /// The issuer URL: the token endpoint is found in its metadata (RFC 8414,
    /// OpenID Discovery). Replaces a lower layer's `env`.
    pub issuer: Option<String>,
    /// The token endpoint URL; said, it wins over `env` and `issuer` (which
    /// then only name the issuer).
    pub token_endpoint: Option<String>,
    /// The JWT's `aud`; None: by the profile's rules (the issuer or the
    /// token endpoint).
    pub aud: Option<String>,
    /// The grant; None: refresh-token with a refresh token, jwt-bearer for
    /// Maskinporten, else client-credentials.
    pub grant: Option<Grant>,
    /// How the client authenticates (not for the jwt-bearer grant); None:
    /// client_secret_basic with a secret, private_key_jwt with a key or an
    /// assertion, else none.
    pub auth: Option<Auth>,
    /// Whose rules the signed JWT follows; None: guessed from the endpoint
    /// (and the metadata).
    pub jwt_profile: Option<Target>,
    /// The key id put in the JWT header; under Maskinporten's rules it
    /// replaces the certificate chain (`x5c`).
    pub kid: Option<String>,
    /// Where the client secret comes from (client_secret_basic, _post,
    /// _jwt). The secret itself is never a setting, except from a
    /// `.properties` file.
    pub client_secret: Option<SecretSource>,
    /// Where the refresh token comes from; None with the refresh-token
    /// grant: the one an interactive grant kept.
    pub refresh_token: Option<SecretSource>,
    /// A PEM file of CA certificates trusted for TLS on top of the
    /// platform's roots.
    pub ca_file: Option<PathBuf>,
    /// A ready-made JWT to send instead of minting one.
    pub assertion: Option<String>,
    /// The assertion was read from standard input (it cannot share it).
    pub assertion_from_stdin: bool,
    /// Time to establish a connection; None: 10 s.
    pub connect_timeout: Option<Duration>,
    /// Time for one whole request, body included; None: 30 s.
    pub timeout: Option<Duration>,
    /// Retries after connection errors, 5xx and 429 (at most
    /// [`exchange::MAX_RETRIES`]); None: 2.
    pub retries: Option<u32>,
    /// The minted JWT's lifetime (iat to exp), seconds.
    pub lifetime: Option<i64>,
    /// The JWT's signature algorithm; None: by the profile and the key type.
    pub alg: Option<Alg>,
    /// Send even when the credential check or the profile's rules say no.
    pub force: Option<bool>,
    /// The settings come from a jwt-grant-generator `.properties` file:
    /// its header rule applies (x5c unless a kid is given).
    pub properties: bool,

    // Proofs and the unattended grants beyond RFC 6749 (src/oauth/dpop.rs,
    // src/oauth/grants.rs).
    /// DPoP (RFC 9449): a proof with each request, signed by this key.
    pub dpop: Option<DpopKeyChoice>,
    /// RFC 9396 `authorization_details` (JSON text; checked by [`plan`]).
    pub authorization_details: Option<String>,
    /// Maskinporten's system user: the customer's organisation number.
    pub systemuser_org: Option<String>,
    /// RFC 8693 (and on-behalf-of's assertion): the subject token.
    pub subject_token: Option<SecretSource>,
    /// RFC 8693 `subject_token_type` (a short name or a URI).
    pub subject_token_type: Option<String>,
    /// RFC 8693 `actor_token`.
    pub actor_token: Option<SecretSource>,
    /// RFC 8693 `actor_token_type`.
    pub actor_token_type: Option<String>,
    /// RFC 8693 `requested_token_type`.
    pub requested_token_type: Option<String>,
    /// RFC 8693 `audience`: the logical name of the target service.
    pub audience: Option<String>,
    /// The interactive grants' inputs (authorization code, device code).
    pub interactive: Interactive,
    /// Ask the CA whether the certificate is revoked before sending (online).
    pub revocation: Option<bool>,
}

impl TokenSettings {
    /// These settings over `lower`: each field said here wins. A
    /// destination said here (`env` or `issuer`) replaces the lower one
    /// whole, so a profile's `env` never mixes with a flag's `issuer`.
    /// Claims add up, lower ones first.
    pub fn over(self, lower: TokenSettings) -> TokenSettings {
        let mut claims = lower.claims;
        claims.extend(self.claims);
        TokenSettings {
            key: self.key.or(lower.key),
            alias: self.alias.or(lower.alias),
            store_password: self.store_password.or(lower.store_password),
            key_password: self.key_password.or(lower.key_password),
            client_id: self.client_id.or(lower.client_id),
            scope: self.scope.or(lower.scope),
            resource: self.resource.or(lower.resource),
            consumer_org: self.consumer_org.or(lower.consumer_org),
            client_org: self.client_org.or(lower.client_org),
            claims,
            env: self.env.or(if self.issuer.is_some() {
                None
            } else {
                lower.env
            }),
            issuer: self.issuer.or(if self.env.is_some() {
                None
            } else {
                lower.issuer
            }),
            token_endpoint: self.token_endpoint.or(lower.token_endpoint),
            aud: self.aud.or(lower.aud),
            grant: self.grant.or(lower.grant),
            auth: self.auth.or(lower.auth),
            jwt_profile: self.jwt_profile.or(lower.jwt_profile),
            kid: self.kid.or(lower.kid),
            client_secret: self.client_secret.or(lower.client_secret),
            refresh_token: self.refresh_token.or(lower.refresh_token),
            ca_file: self.ca_file.or(lower.ca_file),
            assertion_from_stdin: if self.assertion.is_some() {
                self.assertion_from_stdin
            } else {
                lower.assertion_from_stdin
            },
            assertion: self.assertion.or(lower.assertion),
            connect_timeout: self.connect_timeout.or(lower.connect_timeout),
            timeout: self.timeout.or(lower.timeout),
            retries: self.retries.or(lower.retries),
            lifetime: self.lifetime.or(lower.lifetime),
            alg: self.alg.or(lower.alg),
            force: self.force.or(lower.force),
            properties: self.properties || lower.properties,
            dpop: self.dpop.or(lower.dpop),
            authorization_details: self.authorization_details.or(lower.authorization_details),
            systemuser_org: self.systemuser_org.or(lower.systemuser_org),
            subject_token: self.subject_token.or(lower.subject_token),
            subject_token_type: self.subject_token_type.or(lower.subject_token_type),
            actor_token: self.actor_token.or(lower.actor_token),
            actor_token_type: self.actor_token_type.or(lower.actor_token_type),
            requested_token_type: self.requested_token_type.or(lower.requested_token_type),
            audience: self.audience.or(lower.audience),
            interactive: self.interactive.over(lower.interactive),
            revocation: self.revocation.or(lower.revocation),
        }
    }
}

/// Why the settings cannot make a request. The command layer words the
/// hints (they name its flags).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Neither a token endpoint, an issuer nor a Maskinporten environment.
    #[error("say where to send the request")]
    NoDestination,
    /// The jwt-bearer grant with a client authentication other than none:
    /// its JWT is the authentication.
    #[error("the jwt-bearer grant has no separate client authentication")]
    JwtBearerWithAuth,
    /// The jwt-bearer grant (or, for another grant, private_key_jwt) has
    /// neither a key nor a ready-made assertion.
    #[error("{} needs a key to sign with", if *.0 == Grant::JwtBearer { "the jwt-bearer grant" } else { "private-key-jwt" })]
    NeedsKey(Grant),
    /// A client-secret authentication (basic, post, JWT) without a secret.
    #[error("client authentication {} needs the client secret", .0.name())]
    NeedsSecret(Auth),
    /// The refresh-token grant without a refresh token, given or kept by an
    /// earlier interactive grant.
    #[error("the refresh-token grant needs a refresh token")]
    NeedsRefreshToken,
    /// No client id, and no ready-made assertion that names the client.
    #[error("the client id is required")]
    NeedsClientId,
    /// More than one value (a secret, a token, a password, the assertion)
    /// would be read from standard input.
    #[error("only one value can come from standard input")]
    OneStdin,
    /// A token endpoint or issuer URL that cannot be used (not a URL, plain
    /// http off loopback); the text says why.
    #[error("{0}")]
    Url(String),
    /// Token exchange or on-behalf-of without the subject token.
    #[error("the {} grant needs the subject token", .0.name())]
    NeedsSubjectToken(Grant),
    /// Mutual TLS or DPoP with the credential's key, but no keystore; the
    /// text names which of them.
    #[error("{0} needs a keystore entry (its key and certificate)")]
    NeedsKeystore(&'static str),
    /// The authorization details (RFC 9396) or the system user's
    /// organisation number cannot be used.
    #[error(transparent)]
    Rar(grants::RarError),
}

/// Why no session could be prepared, or no token fetched. The command layer
/// turns it into its error (with hints that name its flags).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The settings cannot make a request.
    #[error(transparent)]
    Settings(#[from] Problem),
    /// A file the settings name (the keystore, the CA file) cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file (or what was read, such as the refresh token store).
        path: String,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The keystore cannot be opened.
    #[error("{path}: {source}")]
    Keystore {
        /// The keystore's file name or label.
        path: String,
        /// Why it cannot be opened.
        source: KeystoreError,
    },
    /// A password, client secret or refresh token cannot be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The HTTP client cannot be made (the CA file holds no usable certificate).
    #[error("{0}")]
    Http(String),
    /// No HTTP answer: DNS, connection, TLS, proxy, timeout, a refused URL.
    #[error("cannot reach {}: {}", .0.url, .0.explain().0)]
    Network(NetError),
    /// An answer that is not a token and not an OAuth refusal (5xx, HTML, ...).
    #[error("{endpoint} answered HTTP {status}{}", .detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Server {
        /// The URL that answered.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth error (and its description) or the redacted body, when
        /// there is one.
        detail: Option<String>,
    },
    /// The token endpoint refused; the diagnosis says why.
    #[error("the token endpoint refused (HTTP {})", .0.server.status)]
    Refused(Box<diagnose::Diagnosis>),
    /// The credential failed its checks; nothing was sent.
    #[error("not sending: the credential in {file} failed its checks ({errors})")]
    Unfit {
        /// The keystore's file name or label.
        file: String,
        /// The ids of the error findings, comma-separated.
        errors: String,
        /// The check that failed.
        report: Box<diag::CheckReport>,
    },
    /// The grant or client assertion cannot be made.
    #[error(transparent)]
    Mint(#[from] mint::MintError),
    /// A DPoP proof cannot be made (its key file, its key).
    #[error(transparent)]
    Dpop(#[from] crate::oauth::dpop::DpopError),
    /// Mutual TLS without a usable client certificate.
    #[error("{file} cannot be the TLS client certificate: {detail}")]
    Mtls {
        /// The keystore's file name or label.
        file: String,
        /// What is missing or wrong.
        detail: String,
    },
    /// An interactive grant could not be completed.
    #[error(transparent)]
    Interactive(#[from] InteractiveError),
}

type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Sees the trace of a session: requests, answers, retries, discovery.
pub type Observer = Box<dyn Fn(&Event) + Send + Sync>;

fn secret_cell(s: Option<&SecretSource>, prompt: &str) -> SecretCell {
    SecretCell::new(s.cloned().unwrap_or(SecretSource::Absent), prompt)
}

/// The keystore's bytes and its label, read once: hashed for the cache key,
/// decoded only when a token must be fetched.
fn read_key(src: &KeySource) -> Result<(Vec<u8>, String)> {
    Ok(match src {
        KeySource::File(p) => (
            keystore::read_file(p).map_err(|source| ClientError::Read {
                path: p.display().to_string(),
                source,
            })?,
            p.display().to_string(),
        ),
        KeySource::Inline { label, data } => (data.clone(), label.clone()),
    })
}

fn load_key(data: &[u8], label: String, s: &TokenSettings) -> Result<(Store, String)> {
    let prompt = format!("Password for {label}");
    let mut store_pw = match &s.store_password {
        None => SecretCell::new(SecretSource::Default, prompt),
        other => secret_cell(other.as_ref(), &prompt),
    };
    let mut key_pw = secret_cell(
        s.key_password.as_ref(),
        &format!("Key password for {label}"),
    );
    let store = keystore::load(data, &mut store_pw, &mut key_pw).map_err(|source| {
        ClientError::Keystore {
            path: label.clone(),
            source,
        }
    })?;
    Ok((store, label))
}

/// The JWT rules by endpoint host, when not given.
fn guess_profile(endpoint: Option<&str>, env: Option<MaskinportenEnv>) -> Target {
    if env.is_some() {
        return Target::Maskinporten;
    }
    let Some(ep) = endpoint else {
        return Target::Generic;
    };
    if diagnose::endpoint_env(ep).is_some() {
        return Target::Maskinporten;
    }
    let host = url::Url::parse(ep)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    if host.ends_with(".okta.com") || host.ends_with(".oktapreview.com") {
        Target::Okta
    } else if host == "login.microsoftonline.com" || host.ends_with(".microsoftonline.us") {
        Target::Entra
    } else if ep.contains("/realms/") {
        Target::Keycloak
    } else {
        Target::Generic
    }
}

fn claims_of(jwt: &str) -> Option<Map<String, Value>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Everything known before any network: the settings, the key, the cache key.
pub struct Plan {
    pub(crate) s: TokenSettings,
    pub(crate) grant: Grant,
    pub(crate) auth: Auth,
    pub(crate) rt_given: bool,
    pub(crate) secret_given: bool,
    pub(crate) client_id: Option<String>,
    /// The keystore's bytes and label (opened by `session`, not before).
    pub(crate) keystore: Option<(Vec<u8>, String)>,
    pub(crate) key: CacheKey,
    /// RFC 9396 authorization details (checked JSON).
    pub(crate) rar: Option<Vec<Value>>,
    /// The refresh token kept by an earlier interactive grant (when none was given).
    pub(crate) stored_refresh_token: Option<zeroize::Zeroizing<String>>,
}

#[cfg(feature = "client")]
/// Ready to fetch tokens: the endpoint is known, the credential checked, the
/// signer made and the secrets read. `fetch` mints a fresh JWT every time.
pub struct Session {
    s: TokenSettings,
    grant: Grant,
    auth: Auth,
    client_id: Option<String>,
    endpoint: String,
    known_issuer: Option<String>,
    profile: Target,
    http: Http,
    retry: RetryPolicy,
    signing: Option<(mint::Plan, Signer)>,
    given_assertion: Option<String>,
    secret: Option<zeroize::Zeroizing<String>>,
    refresh_token: Option<zeroize::Zeroizing<String>>,
    /// The credential check's warnings (errors stop before this).
    pub findings: Vec<Finding>,
    /// The certificate's revocation was checked (`revocation`).
    revocation_checked: bool,
    cert_env: Option<MaskinportenEnv>,
    /// The signing key's thumbprint and certificate, for the diagnosis.
    local_key: Option<diagnose::LocalKey>,
    /// Sees every request, answer, retry and discovery (the --verbose trace).
    observer: Observer,
    /// The cache key of what this session fetches.
    pub key: CacheKey,
    /// The clock (`Ctx::clock`), --quiet and whether --now pinned the clock.
    ctx: Ctx,
    /// The issuer's metadata, when it was read.
    metadata: Option<discovery::Discovered>,
    /// The refresh token came from the store (a rotated one goes back there).
    rt_from_store: bool,
    /// Where the last refresh token received was kept.
    rt_file: std::sync::Mutex<Option<PathBuf>>,
    /// DPoP, mutual TLS, RAR and token exchange.
    extra: Proofs,
}

/// A session's proofs and the inputs of the grants beyond RFC 6749.
struct Proofs {
    dpop: Option<DpopKey>,
    /// The last `DPoP-Nonce` the server gave (RFC 9449 §8).
    dpop_nonce: std::sync::Mutex<Option<String>>,
    /// The TLS client certificate's thumbprint (mutual TLS).
    tls_x5t: Option<String>,
    rar: Option<Vec<Value>>,
    subject_token: Option<zeroize::Zeroizing<String>>,
    actor_token: Option<zeroize::Zeroizing<String>>,
}

#[cfg(feature = "client")]
impl Session {
    /// The settings this session was made from.
    pub fn settings(&self) -> &TokenSettings {
        &self.s
    }

    /// The clock credkit judges with: --now (then moving with real time) or the real clock.
    pub fn clock(&self) -> i64 {
        self.ctx.clock()
    }

    /// The issuer's metadata, when it was read.
    pub fn metadata(&self) -> Option<&discovery::Discovered> {
        self.metadata.as_ref()
    }

    /// The client id sent.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The token endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The issuer, when known.
    pub fn issuer(&self) -> Option<&str> {
        self.known_issuer.as_deref()
    }

    /// Where the refresh token of the last answer was kept (0600), if it was.
    pub fn refresh_token_file(&self) -> Option<PathBuf> {
        self.rt_file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Tell the observer.
    pub(crate) fn observe(&self, e: &Event) {
        (self.observer)(e)
    }
}

/// Check the settings, load the key and make the cache key (no network).
pub fn plan(s: TokenSettings) -> Result<Plan> {
    let rt_given = s.refresh_token.is_some();
    let secret_given = s.client_secret.is_some();
    let (grant, auth) = grant_and_auth(&s)?;
    let reads_keystore = check_credentials(&s, grant, auth)?;
    if matches!(grant, Grant::TokenExchange | Grant::OnBehalfOf) && s.subject_token.is_none() {
        return Err(Problem::NeedsSubjectToken(grant).into());
    }
    let rar = grants_rar(&s).map_err(Problem::Rar)?;
    check_one_stdin(&s)?;
    let client_id = s.client_id.clone();
    if client_id.is_none() && s.assertion.is_none() {
        return Err(ClientError::Settings(Problem::NeedsClientId));
    }
    let issuer = check_destination(&s)?;
    // The keystore's bytes: their SHA-256 is part of the cache key, so a
    // cached token is found without decrypting anything.
    let keystore = match (&s.key, reads_keystore) {
        (Some(src), true) => Some(read_key(src)?),
        _ => None,
    };
    let key = CacheKey {
        endpoint: s
            .token_endpoint
            .clone()
            .unwrap_or_else(|| format!("issuer:{}", issuer.clone().unwrap_or_default())),
        client_id: client_id.clone().unwrap_or_default(),
        scope: s.scope.clone().unwrap_or_default(),
        resource: s.resource.clone().unwrap_or_default(),
        keystore: keystore
            .as_ref()
            .map(|(data, _)| cache::keystore_digest(data))
            .unwrap_or_default(),
        alias: s.alias.clone().unwrap_or_default(),
        grant: grant.name().into(),
        auth: auth.name().into(),
        consumer_org: s.consumer_org.clone().unwrap_or_default(),
        aud: s.aud.clone().unwrap_or_default(),
        proofs: proofs_key(&s, rar.as_deref()),
    };
    let stored_refresh_token = if grant == Grant::RefreshToken && !rt_given {
        Some(stored_refresh_token(&key)?)
    } else {
        None
    };
    Ok(Plan {
        s,
        grant,
        auth,
        rt_given,
        secret_given,
        client_id,
        keystore,
        key,
        rar,
        stored_refresh_token,
    })
}

/// Which grant and which client authentication: as said, else by what the
/// settings hold (a refresh token, Maskinporten, a secret, a key).
fn grant_and_auth(s: &TokenSettings) -> Result<(Grant, Auth)> {
    let grant = s.grant.unwrap_or(if s.refresh_token.is_some() {
        Grant::RefreshToken
    } else if s.env.is_some() || s.jwt_profile == Some(Target::Maskinporten) {
        Grant::JwtBearer
    } else {
        Grant::ClientCredentials
    });
    let auth = match grant {
        Grant::JwtBearer => Auth::None,
        _ => s.auth.unwrap_or(if s.client_secret.is_some() {
            Auth::ClientSecretBasic
        } else if s.key.is_some() || s.assertion.is_some() {
            Auth::PrivateKeyJwt
        } else {
            Auth::None
        }),
    };
    if grant == Grant::JwtBearer && s.auth.is_some_and(|x| x != Auth::None) {
        return Err(ClientError::Settings(Problem::JwtBearerWithAuth));
    }
    Ok((grant, auth))
}

/// The grant and authentication have what they need: a key (or a ready
/// assertion) to sign with, a secret, a keystore for mutual TLS and DPoP
/// with the credential's key. True when the keystore's bytes are read.
fn check_credentials(s: &TokenSettings, grant: Grant, auth: Auth) -> Result<bool> {
    let signs = grant == Grant::JwtBearer || auth == Auth::PrivateKeyJwt;
    if signs && s.key.is_none() && s.assertion.is_none() {
        return Err(ClientError::Settings(Problem::NeedsKey(grant)));
    }
    if matches!(
        auth,
        Auth::ClientSecretBasic | Auth::ClientSecretPost | Auth::ClientSecretJwt
    ) && s.client_secret.is_none()
    {
        return Err(ClientError::Settings(Problem::NeedsSecret(auth)));
    }
    // The keystore is opened for signing, for mutual TLS and for DPoP proofs
    // made with the credential's key.
    let needs_keystore = (signs && s.assertion.is_none())
        || auth.is_mtls()
        || s.dpop == Some(DpopKeyChoice::Credential);
    if needs_keystore && s.key.is_none() {
        return Err(Problem::NeedsKeystore(if auth.is_mtls() {
            auth.name()
        } else {
            "DPoP with the credential's key"
        })
        .into());
    }
    Ok(signs || needs_keystore)
}

/// At most one value comes from standard input.
fn check_one_stdin(s: &TokenSettings) -> Result<()> {
    let stdin_readers = [
        s.client_secret.as_ref(),
        s.refresh_token.as_ref(),
        s.store_password.as_ref(),
        s.key_password.as_ref(),
        s.subject_token.as_ref(),
        s.actor_token.as_ref(),
    ]
    .into_iter()
    .filter(|x| matches!(x, Some(SecretSource::Stdin)))
    .count()
        + usize::from(s.assertion_from_stdin);
    if stdin_readers > 1 {
        return Err(ClientError::Settings(Problem::OneStdin));
    }
    Ok(())
}

/// Where to send it, without network yet (for the cache key): the issuer
/// said or the environment's, after checking both URLs.
fn check_destination(s: &TokenSettings) -> Result<Option<String>> {
    let issuer = s.issuer.clone().or(s.env.map(|e| e.issuer().to_string()));
    if s.token_endpoint.is_none() && issuer.is_none() {
        return Err(ClientError::Settings(Problem::NoDestination));
    }
    for u in [s.token_endpoint.as_deref(), issuer.as_deref()]
        .into_iter()
        .flatten()
    {
        crate::net::check_url(u).map_err(Problem::Url)?;
    }
    Ok(issuer)
}

/// A refresh grant without a refresh token uses the one an interactive
/// grant kept beside the cache.
fn stored_refresh_token(key: &CacheKey) -> Result<zeroize::Zeroizing<String>> {
    let found = RefreshStore::default_store()
        .map(|st| st.load(&key.endpoint, &key.client_id))
        .transpose()
        .map_err(|r| ClientError::Read {
            path: r.to_string(),
            source: std::io::Error::other(r.hint()),
        })?
        .flatten();
    found.ok_or(ClientError::Settings(Problem::NeedsRefreshToken))
}

/// The authorization details asked for: the given JSON, checked, plus the
/// system-user entry.
fn grants_rar(s: &TokenSettings) -> std::result::Result<Option<Vec<Value>>, grants::RarError> {
    let mut list = match &s.authorization_details {
        Some(t) => grants::parse_details(t)?,
        None => Vec::new(),
    };
    if let Some(org) = &s.systemuser_org {
        list.push(grants::systemuser(org)?);
    }
    Ok((!list.is_empty()).then_some(list))
}

/// The part of the cache key for proofs and RAR (empty without them, so
/// other keys keep their digests).
fn proofs_key(s: &TokenSettings, rar: Option<&[Value]>) -> String {
    let mut k = String::new();
    if let Some(d) = s.dpop {
        k.push_str(&format!("dpop={d:?};"));
    }
    if let Some(r) = rar {
        k.push_str(&format!("rar={};", Value::Array(r.to_vec())));
    }
    k
}

impl Plan {
    /// Whether a token from this plan may come from, and go to, the cache:
    /// not for one-off grants (refresh, token exchange, on-behalf-of: each
    /// answer depends on a token given this time) nor for a given assertion.
    pub fn cacheable(&self) -> bool {
        !matches!(
            self.grant,
            Grant::RefreshToken | Grant::TokenExchange | Grant::OnBehalfOf
        ) && self.s.assertion.is_none()
    }
}

#[cfg(feature = "client")]
/// Plan and open a session in one step (the broker's way).
pub fn prepare(ctx: &Ctx, s: TokenSettings, observer: Observer) -> Result<Session> {
    session(ctx, plan(s)?, observer)
}

#[cfg(feature = "client")]
/// Find the endpoint, check the credential, make the signer, read the secrets.
pub fn session(ctx: &Ctx, mut plan: Plan, observer: Observer) -> Result<Session> {
    // Open the keystore now that a token must be fetched.
    let loaded = match plan.keystore.take() {
        Some((data, label)) => Some(load_key(&data, label, &plan.s)?),
        None => None,
    };
    let mut o = Opening::connect(ctx, plan)?;
    let mut dest = o.destination(&observer)?;
    let profile = o.profile(&dest);
    // The credential check gates signing.
    let mut cred = match &loaded {
        Some((store, label)) => o.credential(store, label, profile, &dest)?,
        None => Credential::default(),
    };
    if o.s.dpop == Some(DpopKeyChoice::Generated) {
        let path = crate::oauth::dpop::default_key_path()
            .ok_or(crate::oauth::dpop::DpopError::NoCacheDir)?;
        cred.dpop = Some(DpopKey::load_or_create(&path)?);
    }
    let secrets = o.read_secrets()?;
    o.interactive_metadata(&mut dest);
    let Opening {
        s,
        grant,
        auth,
        client_id,
        key,
        rar,
        http,
        retry,
        ..
    } = o;
    Ok(Session {
        given_assertion: s.assertion.clone(),
        s,
        grant,
        auth,
        client_id,
        endpoint: dest.endpoint,
        known_issuer: dest.known_issuer,
        profile,
        http,
        retry,
        signing: cred.signing,
        secret: secrets.client_secret,
        refresh_token: secrets.refresh_token,
        findings: cred.findings,
        revocation_checked: cred.revocation_checked,
        cert_env: cred.cert_env,
        local_key: cred.local_key,
        observer,
        key,
        ctx: ctx.clone(),
        extra: Proofs {
            dpop: cred.dpop,
            dpop_nonce: std::sync::Mutex::new(None),
            tls_x5t: cred.tls_x5t,
            rar,
            subject_token: secrets.subject_token,
            actor_token: secrets.actor_token,
        },
        metadata: dest.metadata,
        rt_from_store: secrets.rt_from_store,
        rt_file: std::sync::Mutex::new(None),
    })
}

/// A session being opened: the plan's parts and the HTTP client, which the
/// steps of [`session`] share.
#[cfg(feature = "client")]
struct Opening<'a> {
    ctx: &'a Ctx,
    s: TokenSettings,
    grant: Grant,
    auth: Auth,
    rt_given: bool,
    secret_given: bool,
    client_id: Option<String>,
    key: CacheKey,
    rar: Option<Vec<Value>>,
    stored_refresh_token: Option<zeroize::Zeroizing<String>>,
    /// The HTTP client's options (mutual TLS adds the client certificate).
    http_opts: HttpOptions,
    http: Http,
    retry: RetryPolicy,
}

/// Where the requests go and what is known of the server.
#[cfg(feature = "client")]
struct Destination {
    /// The token endpoint (its mutual-TLS alias for mutual TLS).
    endpoint: String,
    known_issuer: Option<String>,
    /// The issuer is the server's own word: its metadata said so.
    issuer_from_metadata: bool,
    /// The metadata looks like Maskinporten's.
    maskinporten_style: bool,
    /// The issuer's metadata, when it was read.
    metadata: Option<discovery::Discovered>,
}

#[cfg(feature = "client")]
impl Destination {
    /// An endpoint said (or Maskinporten's), no metadata read.
    fn said(endpoint: String, known_issuer: Option<String>) -> Destination {
        Destination {
            endpoint,
            known_issuer,
            issuer_from_metadata: false,
            maskinporten_style: false,
            metadata: None,
        }
    }
}

/// What the credential gives a session (all empty without a keystore).
#[cfg(feature = "client")]
#[derive(Default)]
struct Credential {
    /// The credential check's warnings (errors stop before this).
    findings: Vec<Finding>,
    revocation_checked: bool,
    /// The Maskinporten environment of the certificate's CA.
    cert_env: Option<MaskinportenEnv>,
    local_key: Option<diagnose::LocalKey>,
    /// The JWT's plan and its signer, when the request carries a JWT.
    signing: Option<(mint::Plan, Signer)>,
    /// The TLS client certificate's thumbprint (mutual TLS).
    tls_x5t: Option<String>,
    dpop: Option<DpopKey>,
}

/// The secrets a session sends, each read once.
#[cfg(feature = "client")]
struct Secrets {
    client_secret: Option<zeroize::Zeroizing<String>>,
    refresh_token: Option<zeroize::Zeroizing<String>>,
    /// The refresh token came from the store.
    rt_from_store: bool,
    subject_token: Option<zeroize::Zeroizing<String>>,
    actor_token: Option<zeroize::Zeroizing<String>>,
}

#[cfg(feature = "client")]
impl<'a> Opening<'a> {
    /// The HTTP client (timeouts, the extra CA file) and the retry policy.
    fn connect(ctx: &'a Ctx, plan: Plan) -> Result<Opening<'a>> {
        let Plan {
            s,
            grant,
            auth,
            rt_given,
            secret_given,
            client_id,
            keystore: _,
            key,
            rar,
            stored_refresh_token,
        } = plan;
        let http_opts = HttpOptions {
            connect_timeout: s.connect_timeout.unwrap_or(Duration::from_secs(10)),
            timeout: s.timeout.unwrap_or(Duration::from_secs(30)),
            ca_pem: match &s.ca_file {
                Some(p) => Some(keystore::read_file(p).map_err(|source| ClientError::Read {
                    path: p.display().to_string(),
                    source,
                })?),
                None => None,
            },
            identity: None,
        };
        let http = Http::new(http_opts.clone()).map_err(ClientError::Http)?;
        let retry = RetryPolicy {
            retries: s.retries.unwrap_or(2).min(exchange::MAX_RETRIES),
            ..RetryPolicy::default()
        };
        Ok(Opening {
            ctx,
            s,
            grant,
            auth,
            rt_given,
            secret_given,
            client_id,
            key,
            rar,
            stored_refresh_token,
            http_opts,
            http,
            retry,
        })
    }

    /// The endpoint: the token endpoint said, else Maskinporten's, else
    /// discovery; the mutual-TLS alias for mutual TLS; and the RAR types
    /// checked against the metadata.
    fn destination(&self, observer: &Observer) -> Result<Destination> {
        let s = &self.s;
        let mut d = match (&s.token_endpoint, s.env, &s.issuer) {
            (Some(te), env, iss) => Destination::said(
                te.clone(),
                iss.clone().or(env.map(|e| e.issuer().to_string())),
            ),
            (None, Some(env), _) => Destination::said(
                discovery::fallback_endpoint(env.issuer()),
                Some(env.issuer().to_string()),
            ),
            (None, None, Some(iss)) => self.discover(iss, observer)?,
            // Refused by `plan` already; an error here, never a panic.
            (None, None, None) => return Err(Problem::NoDestination.into()),
        };
        // Mutual TLS goes to the metadata's mtls_endpoint_aliases (RFC 8705 §5).
        if self.auth.is_mtls()
            && s.token_endpoint.is_none()
            && let Some(alias) = d
                .metadata
                .as_ref()
                .and_then(|m| m.mtls_token_endpoint.clone())
        {
            crate::net::check_url(&alias).map_err(ClientError::Http)?;
            d.endpoint = alias;
        }
        // RFC 9396 §10: only the types the server lists, when it lists them.
        if let (Some(list), Some(m)) = (&self.rar, &d.metadata) {
            grants::check_types(list, &m.authorization_details_types_supported)
                .map_err(Problem::Rar)?;
        }
        Ok(d)
    }

    /// The token endpoint from the issuer's metadata. The issuer is the
    /// server's own word only when its metadata said so.
    fn discover(&self, iss: &str, observer: &Observer) -> Result<Destination> {
        let d = discovery::discover(&self.http, iss).map_err(ClientError::Network)?;
        if let Some(m) = &d.metadata_url {
            observer(&Event::Discovered {
                token_endpoint: d.token_endpoint.clone(),
                metadata_url: m.clone(),
            });
        }
        Ok(Destination {
            endpoint: d.token_endpoint.clone(),
            known_issuer: Some(d.issuer.clone()),
            issuer_from_metadata: d.metadata_url.is_some(),
            maskinporten_style: crate::oauth::recognize::maskinporten_style(&d).is_some(),
            metadata: Some(d),
        })
    }

    /// The JWT rules: as said, Maskinporten's for a jwt-bearer grant to a
    /// server that looks like it, else by the endpoint.
    fn profile(&self, d: &Destination) -> Target {
        self.s.jwt_profile.unwrap_or_else(|| {
            if d.maskinporten_style && self.grant == Grant::JwtBearer {
                Target::Maskinporten
            } else {
                guess_profile(Some(&d.endpoint), self.s.env)
            }
        })
    }

    /// Check the credential, then take from its signing entry what the
    /// requests need: the key for the diagnosis, the TLS client
    /// certificate, a DPoP key and the JWT's signer.
    fn credential(
        &mut self,
        store: &Store,
        label: &str,
        profile: Target,
        dest: &Destination,
    ) -> Result<Credential> {
        let mut copts = CheckOptions::new(label.to_string());
        copts.alias = self.s.alias.clone();
        copts.client_org = self.s.client_org.clone();
        copts.target = profile;
        copts.env = self.s.env;
        let (findings, revocation_checked) = self.check(store, label, &copts)?;
        let entry = crate::diagnostics::signing_entry(store, &copts).ok_or_else(|| {
            ClientError::Mint(mint::MintError::NoKey(format!(
                "{label} has no private key credkit can choose"
            )))
        })?;
        let mut cred = Credential {
            findings,
            revocation_checked,
            local_key: Some(diagnose::LocalKey::of(entry)),
            ..Credential::default()
        };
        if self.auth.is_mtls() {
            let id = mtls_identity(entry, label)?;
            cred.tls_x5t = Some(id.x5t_s256.clone());
            self.http = Http::new(HttpOptions {
                identity: Some(id),
                ..self.http_opts.clone()
            })
            .map_err(ClientError::Http)?;
        }
        if self.s.dpop == Some(DpopKeyChoice::Credential) {
            let pk = entry
                .private_key
                .as_ref()
                .ok_or_else(|| ClientError::Mtls {
                    file: label.to_string(),
                    detail: "the entry has no private key to sign DPoP proofs".into(),
                })?;
            cred.dpop = Some(DpopKey::from_private(pk, None)?);
        }
        cred.cert_env = entry
            .chain
            .first()
            .and_then(|c| crate::diagnostics::cas::lookup(&c.issuer))
            .map(|ca| ca.env);
        if self.grant == Grant::JwtBearer || self.auth == Auth::PrivateKeyJwt {
            let plan = mint::plan(entry, &self.mint_options(entry, profile, dest))?;
            let pk = entry.private_key.as_ref().ok_or_else(|| {
                ClientError::Mint(mint::MintError::NoKey("no private key".into()))
            })?;
            let signer = Signer::new(pk, plan.alg).map_err(mint::MintError::from)?;
            cred.signing = Some((plan, signer));
        }
        Ok(cred)
    }

    /// The credential check (and the CA's word on revocation, when asked):
    /// its warnings and whether revocation was checked. An unfit credential
    /// stops here unless forced.
    fn check(
        &self,
        store: &Store,
        label: &str,
        copts: &CheckOptions,
    ) -> Result<(Vec<Finding>, bool)> {
        let now = self.ctx.now;
        let mut check = diag::run(store, copts, now);
        let mut revocation_checked = false;
        if self.s.revocation == Some(true) {
            crate::revocation::add_to_report(&mut check, store, &[], now.unix_timestamp())
                .map_err(ClientError::Http)?;
            revocation_checked = true;
        }
        if !check.fit && !self.s.force.unwrap_or(false) {
            let errors: Vec<&str> = check
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.id)
                .collect();
            return Err(ClientError::Unfit {
                file: label.to_string(),
                errors: errors.join(", "),
                report: Box::new(check),
            });
        }
        let findings = check
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .cloned()
            .collect();
        Ok((findings, revocation_checked))
    }

    /// The JWT's claims by the profile's rules (the jwt-bearer grant carries
    /// scope, resource, authorization_details and a 120 s lifetime).
    fn mint_options(
        &self,
        entry: &keystore::model::Entry,
        profile: Target,
        dest: &Destination,
    ) -> MintOptions {
        let (s, grant, client_id) = (&self.s, self.grant, &self.client_id);
        let (endpoint, known_issuer) = (&dest.endpoint, &dest.known_issuer);
        // aud by the profile's rules.
        let aud = s.aud.clone().or_else(|| match (grant, profile) {
            (_, Target::Maskinporten) if s.env.is_some() => None,
            (Grant::JwtBearer, _) | (_, Target::Keycloak) => {
                Some(known_issuer.clone().unwrap_or_else(|| endpoint.clone()))
            }
            _ => Some(endpoint.clone()),
        });
        let mut claims = s.claims.clone();
        // Maskinporten takes authorization_details as a claim of the JWT grant.
        if let (Grant::JwtBearer, Some(list)) = (grant, &self.rar) {
            claims.push(("authorization_details".into(), Value::Array(list.clone())));
        }
        let bearer = grant == Grant::JwtBearer;
        MintOptions {
            profile,
            env: s.env,
            iss: client_id.clone(),
            sub: (self.auth == Auth::PrivateKeyJwt && profile == Target::Generic)
                .then(|| client_id.clone())
                .flatten(),
            aud,
            scope: if bearer { s.scope.clone() } else { None },
            resource: if bearer { s.resource.clone() } else { None },
            consumer_org: s.consumer_org.clone(),
            claims,
            lifetime: s.lifetime.or(if bearer { Some(120) } else { None }),
            alg: s.alg,
            header: self.header(entry, profile),
            force: s.force.unwrap_or(false),
            aud_from_issuer: s.aud.is_none() && dest.issuer_from_metadata,
            known_issuer: known_issuer.clone().filter(|_| dest.issuer_from_metadata),
        }
    }

    /// How the JWT's header names the key: the grant rules for the
    /// jwt-bearer grant (Maskinporten's also for a `.properties` file), else
    /// the kid said, or x5c for Maskinporten.
    fn header(&self, entry: &keystore::model::Entry, profile: Target) -> HeaderChoice {
        let kid = self.s.kid.clone();
        match (self.grant, profile, self.s.properties) {
            (Grant::JwtBearer, Target::Maskinporten, _) | (Grant::JwtBearer, _, true) => {
                mint::grant_header(mint::GrantRules::Maskinporten, kid, entry)
            }
            (Grant::JwtBearer, _, false) => {
                mint::grant_header(mint::GrantRules::Generic, kid, entry)
            }
            _ => HeaderChoice {
                x5c: kid.is_none() && profile == Target::Maskinporten,
                kid,
                ..HeaderChoice::default()
            },
        }
    }

    /// The client secret, the refresh token (given, or the stored one) and
    /// the token exchange's tokens, each read once, in this order.
    fn read_secrets(&mut self) -> Result<Secrets> {
        let s = &self.s;
        let client_secret = if self.secret_given {
            Some(
                secret_cell(s.client_secret.as_ref(), "Client secret")
                    .get()?
                    .ok_or_else(|| SecretError::new("the client secret option", "no value"))?,
            )
        } else {
            None
        };
        let stored = self.stored_refresh_token.take();
        let rt_from_store = stored.is_some();
        let refresh_token = if self.rt_given {
            secret_cell(s.refresh_token.as_ref(), "Refresh token").get()?
        } else {
            stored
        };
        let subject_token = match &s.subject_token {
            Some(src) => secret_cell(Some(src), "Subject token").get()?,
            None => None,
        };
        let actor_token = match &s.actor_token {
            Some(src) => secret_cell(Some(src), "Actor token").get()?,
            None => None,
        };
        Ok(Secrets {
            client_secret,
            refresh_token,
            rt_from_store,
            subject_token,
            actor_token,
        })
    }

    /// The interactive grants need the metadata's other endpoints, even when
    /// the token endpoint was given: read it now when it was not (failure
    /// is not an error here; the grant says what is missing).
    fn interactive_metadata(&self, dest: &mut Destination) {
        if dest.metadata.is_none()
            && matches!(self.grant, Grant::AuthorizationCode | Grant::DeviceCode)
            && let Some(iss) = dest
                .known_issuer
                .as_deref()
                .filter(|_| self.s.issuer.is_some())
            && let Ok(d) = discovery::discover(&self.http, iss)
            && d.metadata_url.is_some()
        {
            dest.metadata = Some(d);
        }
    }
}

/// The TLS client identity of a keystore entry: its key and its chain.
fn mtls_identity(
    entry: &keystore::model::Entry,
    label: &str,
) -> Result<crate::net::ClientIdentity> {
    let fail = |detail: &str| ClientError::Mtls {
        file: label.to_string(),
        detail: detail.to_string(),
    };
    let pk = entry
        .private_key
        .as_ref()
        .ok_or_else(|| fail("the entry has no private key"))?;
    if entry.chain.is_empty() {
        return Err(fail("the entry has no certificate"));
    }
    let chain: Vec<&[u8]> = entry.chain.iter().map(|c| c.der.as_slice()).collect();
    let mut id = crate::net::ClientIdentity::new(&pk.pkcs8, &chain).map_err(|d| fail(&d))?;
    id.subject = entry.chain[0].subject.to_display();
    Ok(id)
}

/// What happened with the token cache, for the caller to report (this
/// module never prints).
#[derive(Debug)]
#[non_exhaustive]
pub enum CacheNotice<'a> {
    /// The cache was not used (unsafe permissions, a broken file, ...); a
    /// new token is fetched.
    Skipped(&'a cache::Refusal),
    /// A cached token is still good for this many seconds.
    Hit {
        /// Seconds until the cached token expires.
        expires_in: i64,
    },
    /// The new token could not be stored.
    NotWritten {
        /// The cache directory.
        dir: &'a Path,
        /// Why the token could not be written.
        error: &'a std::io::Error,
    },
}

/// A token and where it came from.
#[derive(Debug)]
pub struct Obtained {
    /// The token endpoint's answer, when it was obtained and when it expires.
    pub token: Cached,
    /// From the cache: nothing was sent.
    pub from_cache: bool,
    /// The settings the token was obtained with.
    pub settings: TokenSettings,
    /// The credential check's warnings (none for a cached token).
    pub findings: Vec<Finding>,
    /// Where the refresh token that came with it was kept (0600), if it was.
    pub refresh_token_file: Option<PathBuf>,
}

#[cfg(feature = "client")]
/// A token for `plan`, through the cache in `cache_dir` when one is given:
/// a cached token that is still good (unless `refresh`), else a new one,
/// stored afterwards. A refusal or a server error forgets the cached token
/// (an unreachable server says nothing about it).
pub fn obtain(
    ctx: &Ctx,
    plan: Plan,
    cache_dir: Option<&Path>,
    refresh: bool,
    observer: Observer,
    notice: &mut dyn FnMut(CacheNotice<'_>),
) -> Result<Obtained> {
    if let Some(dir) = cache_dir.filter(|_| !refresh) {
        let found = cache::lookup(dir, &plan.key, ctx.clock()).unwrap_or_else(|r| {
            notice(CacheNotice::Skipped(&r));
            None
        });
        if let Some(c) = found {
            notice(CacheNotice::Hit {
                expires_in: c.expires_at - ctx.clock(),
            });
            return Ok(Obtained {
                token: c,
                from_cache: true,
                settings: plan.s,
                findings: Vec::new(),
                refresh_token_file: None,
            });
        }
    }
    let session = session(ctx, plan, observer)?;
    match session.fetch() {
        Ok(c) => {
            if let Some(dir) = cache_dir
                && c.expires_at > c.obtained_at
                && let Err(error) = cache::put(dir, &session.key, &c)
            {
                notice(CacheNotice::NotWritten { dir, error: &error });
            }
            let refresh_token_file = session.refresh_token_file();
            Ok(Obtained {
                token: c,
                from_cache: false,
                settings: session.s,
                findings: session.findings,
                refresh_token_file,
            })
        }
        Err(e) => {
            if let Some(dir) = cache_dir
                && matches!(e, ClientError::Refused(_) | ClientError::Server { .. })
            {
                cache::remove(dir, &session.key);
            }
            Err(e)
        }
    }
}

#[cfg(feature = "client")]
impl Session {
    /// A token, or why not: one request with its retries for the machine
    /// grants; for the interactive ones, the user's part first (through
    /// the observer), then the token request. Caches nothing; a refresh
    /// token from an interactive grant (or a rotated stored one) is kept
    /// beside the cache.
    pub fn fetch(&self) -> Result<Cached> {
        // A refresh token kept by an earlier sign-in spares the user
        // another one (and keeps the broker's profile warm).
        let kept = if self.is_interactive() {
            self.refresh_kept()?
        } else {
            None
        };
        let mut c = match (kept, self.grant) {
            (Some(c), _) => c,
            (None, Grant::AuthorizationCode) => interactive::authorization_code(self)?,
            (None, Grant::DeviceCode) => interactive::device_code(self)?,
            (
                None,
                Grant::JwtBearer
                | Grant::ClientCredentials
                | Grant::RefreshToken
                | Grant::TokenExchange
                | Grant::OnBehalfOf,
            ) => {
                let outcome = self.send(&self.endpoint, &self.grant_form())?;
                self.conclude(outcome, Vec::new())?
            }
        };
        self.keep_refresh_token(&mut c);
        Ok(c)
    }

    /// The form of a machine grant's token request, before the client's
    /// authentication: the grant's own members, then scope, resource and
    /// authorization_details (the jwt-bearer grant carries those in its JWT).
    fn grant_form(&self) -> Vec<(String, String)> {
        let (s, x) = (&self.s, &self.extra);
        let given =
            |t: &Option<zeroize::Zeroizing<String>>| t.as_deref().cloned().unwrap_or_default();
        let mut form: Vec<(String, String)> =
            vec![("grant_type".into(), self.grant.grant_type().into())];
        match self.grant {
            Grant::JwtBearer => return form,
            Grant::RefreshToken => form.push(("refresh_token".into(), given(&self.refresh_token))),
            Grant::TokenExchange => {
                form.push(("subject_token".into(), given(&x.subject_token)));
                form.push((
                    "subject_token_type".into(),
                    grants::token_type(s.subject_token_type.as_deref().unwrap_or("access_token")),
                ));
                if x.actor_token.is_some() {
                    form.push(("actor_token".into(), given(&x.actor_token)));
                    form.push((
                        "actor_token_type".into(),
                        grants::token_type(s.actor_token_type.as_deref().unwrap_or("access_token")),
                    ));
                }
                if let Some(t) = &s.requested_token_type {
                    form.push(("requested_token_type".into(), grants::token_type(t)));
                }
                if let Some(a) = &s.audience {
                    form.push(("audience".into(), a.clone()));
                }
            }
            Grant::OnBehalfOf => {
                form.push(("assertion".into(), given(&x.subject_token)));
                form.push(("requested_token_use".into(), "on_behalf_of".into()));
            }
            _ => {}
        }
        if let Some(sc) = &s.scope {
            form.push(("scope".into(), sc.clone()));
        }
        if let Some(r) = &s.resource {
            form.push(("resource".into(), r.clone()));
        }
        if let Some(list) = &x.rar {
            form.push((
                "authorization_details".into(),
                Value::Array(list.clone()).to_string(),
            ));
        }
        form
    }

    /// Does this session sign DPoP proofs?
    pub fn has_dpop(&self) -> bool {
        self.extra.dpop.is_some()
    }

    /// A DPoP proof for one call to a resource server with `access_token`
    /// (`ath`), signed by this session's DPoP key; None without DPoP.
    pub fn dpop_proof(
        &self,
        htm: &str,
        htu: &str,
        nonce: Option<&str>,
        access_token: &str,
    ) -> Option<Result<String>> {
        let k = self.extra.dpop.as_ref()?;
        Some(
            k.proof(htm, htu, nonce, Some(access_token), self.clock())
                .map_err(ClientError::from),
        )
    }

    /// Is this an interactive grant (a user signs in or approves)?
    pub fn is_interactive(&self) -> bool {
        matches!(self.grant, Grant::AuthorizationCode | Grant::DeviceCode)
    }

    /// A token from the refresh token an earlier sign-in kept, if there is
    /// one and the server still takes it; None: the user must sign in.
    fn refresh_kept(&self) -> Result<Option<Cached>> {
        let Some(store) = RefreshStore::default_store() else {
            return Ok(None);
        };
        let Ok(Some(rt)) = store.load(&self.key.endpoint, &self.key.client_id) else {
            return Ok(None);
        };
        let mut form: Vec<(String, String)> = vec![
            ("grant_type".into(), Grant::RefreshToken.grant_type().into()),
            ("refresh_token".into(), rt.to_string()),
        ];
        if let Some(sc) = &self.s.scope {
            form.push(("scope".into(), sc.clone()));
        }
        if let Some(r) = &self.s.resource {
            form.push(("resource".into(), r.clone()));
        }
        let outcome = self.send(&self.endpoint, &form)?;
        match self.conclude(outcome, Vec::new()) {
            Ok(c) => Ok(Some(c)),
            // Refused (expired, revoked, another scope): sign in again.
            Err(ClientError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Keep the answer's refresh token (interactive grants, or a rotation of
    /// a stored one) 0600 beside the cache; it leaves the answer unless the
    /// settings ask to show it.
    fn keep_refresh_token(&self, c: &mut Cached) {
        if !(self.is_interactive() || self.rt_from_store) {
            return;
        }
        let Some(rt) = c.response.get("refresh_token").and_then(Value::as_str) else {
            return;
        };
        let Some(store) = RefreshStore::default_store() else {
            return;
        };
        if let Ok(path) = store.save(&self.key.endpoint, &self.key.client_id, rt, self.clock()) {
            *self
                .rt_file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(path);
            if !self.s.interactive.show_refresh_token.unwrap_or(false) {
                c.response.remove("refresh_token");
            }
        }
    }

    /// The signed JWT of one attempt: the given one, or a fresh one.
    fn assertion(&self) -> Result<Option<String>> {
        Ok(match (&self.given_assertion, &self.signing) {
            (Some(j), _) => Some(j.clone()),
            (None, Some((plan, signer))) => {
                Some(mint::mint(plan, signer, self.clock(), 1)?.remove(0))
            }
            (None, None) => None,
        })
    }

    /// The last `DPoP-Nonce` the server gave.
    fn dpop_nonce(&self) -> Option<String> {
        self.extra
            .dpop_nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_dpop_nonce(&self, n: &str) {
        *self
            .extra
            .dpop_nonce
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(n.to_string());
    }

    /// One attempt's request: `params` with the client's authentication
    /// (the jwt-bearer grant's assertion instead) and a DPoP proof; a fresh
    /// JWT and a fresh proof per attempt.
    fn request(&self, endpoint: &str, params: &[(String, String)]) -> Result<TokenRequest> {
        let cid = self.client_id.clone().unwrap_or_default();
        let secret = || self.secret.as_deref().cloned().unwrap_or_default();
        let jwt = self.assertion()?;
        let mut form = params.to_vec();
        let mut basic = None;
        // Once only (an authorization request already carries it).
        let has_id = form.iter().any(|(k, _)| k == "client_id");
        // A client assertion names the client itself; the other ways need
        // the client_id in the form.
        let add_id = |form: &mut Vec<(String, String)>, even_empty: bool| {
            if !has_id && (even_empty || !cid.is_empty()) {
                form.push(("client_id".into(), cid.clone()));
            }
        };
        match (self.grant, self.auth) {
            (Grant::JwtBearer, _) => {
                form.push(("assertion".into(), jwt.unwrap_or_default()));
            }
            (_, Auth::PrivateKeyJwt | Auth::ClientSecretJwt) => {
                add_id(&mut form, false);
                let assertion = if self.auth == Auth::ClientSecretJwt {
                    let aud = self.s.aud.clone().unwrap_or_else(|| endpoint.to_string());
                    let key = zeroize::Zeroizing::new(secret());
                    grants::client_secret_jwt(key.as_bytes(), &cid, &aud, self.clock())
                        .map_err(|detail| SecretError::new("the client secret", detail))?
                } else {
                    jwt.unwrap_or_default()
                };
                form.push((
                    "client_assertion_type".into(),
                    exchange::CLIENT_ASSERTION_TYPE.into(),
                ));
                form.push(("client_assertion".into(), assertion));
            }
            (_, Auth::ClientSecretBasic) => basic = Some((cid.clone(), secret())),
            (_, Auth::ClientSecretPost) => {
                add_id(&mut form, true);
                form.push(("client_secret".into(), secret()));
            }
            // Mutual TLS authenticates in the handshake; the client_id says
            // which client (RFC 8705 §2).
            (_, Auth::TlsClientAuth | Auth::SelfSignedTlsClientAuth | Auth::None) => {
                add_id(&mut form, true)
            }
        }
        let mut headers = Vec::new();
        if let Some(k) = &self.extra.dpop {
            let nonce = self.dpop_nonce();
            let proof = k.proof("POST", endpoint, nonce.as_deref(), None, self.clock())?;
            headers.push(("DPoP".to_string(), proof));
        }
        Ok(TokenRequest {
            endpoint: endpoint.to_string(),
            form,
            basic,
            headers,
        })
    }

    /// POST `params` to `endpoint` with the client's authentication, with
    /// the retries; with DPoP, once more with the server's nonce when it
    /// answers use_dpop_nonce (RFC 9449 §8).
    pub(crate) fn send(
        &self,
        endpoint: &str,
        params: &[(String, String)],
    ) -> Result<exchange::Outcome> {
        let mut make = |_attempt: u32| self.request(endpoint, params);
        let mut on_event = |e: exchange::Event| (self.observer)(&e);
        let mut outcome = exchange::send(&self.http, &self.retry, &mut make, &mut on_event)?;
        if self.extra.dpop.is_none() {
            return Ok(outcome);
        }
        let Ok(r) = &outcome.result else {
            return Ok(outcome);
        };
        let wants_nonce = (r.status == 400 || r.status == 401)
            && exchange::parse(r)
                .err()
                .is_some_and(|e| e.error.as_deref() == Some("use_dpop_nonce"));
        let Some(n) = r.dpop_nonce.clone() else {
            return Ok(outcome);
        };
        self.set_dpop_nonce(&n);
        if wants_nonce {
            outcome = exchange::send(&self.http, &self.retry, &mut make, &mut on_event)?;
            outcome.nonce_retried = true;
            if let Ok(r) = &outcome.result
                && let Some(n) = &r.dpop_nonce
            {
                self.set_dpop_nonce(n);
            }
        }
        Ok(outcome)
    }

    /// A token from the answer, or why not (`flow` adds what the grant's
    /// earlier steps sent to the diagnosis).
    pub(crate) fn conclude(&self, outcome: exchange::Outcome, flow: Vec<Fact>) -> Result<Cached> {
        let resp = outcome
            .result
            .as_ref()
            .map_err(|e| ClientError::Network(e.clone()))?;
        match exchange::parse(resp) {
            Ok(tok) => {
                let now = self.clock();
                let life = tok.expires_in.unwrap_or(0).max(0);
                Ok(Cached {
                    endpoint: self.key.endpoint.clone(),
                    client_id: self.client_id.clone().unwrap_or_default(),
                    response: tok.raw.clone(),
                    obtained_at: now,
                    expires_at: now.saturating_add(life),
                    binding: cache::Binding {
                        dpop_jkt: self.extra.dpop.as_ref().map(|k| k.thumbprint.clone()),
                        x5t_s256: self.extra.tls_x5t.clone(),
                    },
                })
            }
            Err(_) => Err(self.refusal(&outcome, resp, flow)),
        }
    }

    /// The error for an answer that is not what was asked for: no usable
    /// answer (5xx, 429, not OAuth), or a refusal with its diagnosis.
    pub(crate) fn refusal(
        &self,
        outcome: &exchange::Outcome,
        resp: &exchange::HttpResponse,
        flow: Vec<Fact>,
    ) -> ClientError {
        let endpoint = outcome.request.endpoint.clone();
        let err = match exchange::parse(resp) {
            Ok(_) => Box::new(exchange::ErrorResponse {
                status: resp.status,
                error: None,
                error_description: None,
                error_uri: None,
                error_codes: Vec::new(),
                body: Some(exchange::redact_body(&resp.body)),
            }),
            Err(e) => e,
        };
        // 5xx and 429 (after the retries), and answers that are not OAuth
        // at all, mean no usable answer (exit 2), not a refusal.
        let looks_oauth = err.error.is_some();
        if resp.status >= 500 || resp.status == 429 || !looks_oauth && resp.status < 400 {
            let detail = match (&err.error, &err.error_description, &err.body) {
                (Some(e), Some(d), _) => Some(format!("{e}: {d}")),
                (Some(e), None, _) => Some(e.clone()),
                (None, _, b) => b.clone(),
            };
            return ClientError::Server {
                endpoint,
                status: resp.status,
                detail,
            };
        }
        self.diagnosis(&err, &endpoint, Some(outcome), flow)
    }

    /// A refusal explained: the catalogue, and facts from the request
    /// actually sent (`outcome`, when one was sent) and the grant's steps.
    pub(crate) fn diagnosis(
        &self,
        err: &exchange::ErrorResponse,
        endpoint: &str,
        outcome: Option<&exchange::Outcome>,
        flow: Vec<Fact>,
    ) -> ClientError {
        let jwt = outcome.and_then(|o| {
            o.request
                .form
                .iter()
                // On-behalf-of's assertion is the user's token, not credkit's JWT.
                .find(|(k, _)| {
                    k == "client_assertion" || k == "assertion" && self.grant != Grant::OnBehalfOf
                })
                .map(|(_, v)| v.clone())
        });
        let resp = outcome.and_then(|o| o.result.as_ref().ok());
        // The TLS client certificate the request actually made offered.
        let presented = outcome.and_then(|o| self.http.client_certificate_for(&o.request.endpoint));
        let dctx = Context {
            endpoint: endpoint.to_string(),
            issuer: self.known_issuer.clone(),
            grant: Some(self.grant),
            auth: Some(self.auth),
            profile: Some(self.profile),
            client_id: self.client_id.clone(),
            scope: self.s.scope.clone(),
            claims: jwt.as_deref().and_then(claims_of),
            assertion_given: self.given_assertion.is_some(),
            now_pinned: self.ctx.now_pinned,
            server_date: resp
                .and_then(|r| r.date.as_deref())
                .and_then(exchange::parse_http_date),
            local_received: self.clock(),
            cert_env: self.cert_env,
            findings: self.findings.clone(),
            header: jwt.as_deref().and_then(diagnose::header_of),
            client_org: self.s.client_org.clone(),
            local_key: self.local_key.clone(),
            revocation_checked: self.revocation_checked,
            // Not an OAuth answer: where does the metadata put the token endpoint?
            metadata: diagnose::issuer_to_ask(err, endpoint, self.known_issuer.as_deref())
                .and_then(|i| discovery::discover(&self.http, &i).ok()),
            flow,
            proofs: diagnose::SentProofs {
                dpop_proof: outcome.and_then(|o| {
                    o.request
                        .headers
                        .iter()
                        .find(|(k, _)| k == "DPoP")
                        .map(|(_, v)| v.clone())
                }),
                server_nonce: resp.and_then(|r| r.dpop_nonce.clone()),
                nonce_retried: outcome.is_some_and(|o| o.nonce_retried),
                tls_x5t: presented.map(|i| i.x5t_s256.clone()),
                tls_subject: presented.map(|i| i.subject.clone()),
                mtls_alias: self
                    .metadata
                    .as_ref()
                    .and_then(|d| d.mtls_token_endpoint.as_deref())
                    == Some(endpoint),
            },
            ..Context::default()
        };
        ClientError::Refused(Box::new(diagnose::diagnose(err, &dctx)))
    }
}

/// What a sender-constrained token is bound to (the DPoP key's thumbprint,
/// the TLS client certificate's `x5t#S256`), the token's own `cnf` when
/// it is a JWT, and whether the two agree. None for a bearer token.
pub fn binding_report(c: &Cached) -> Option<Value> {
    let b = &c.binding;
    if b.is_empty() {
        return None;
    }
    let cnf = c
        .response
        .get("access_token")
        .and_then(Value::as_str)
        .and_then(claims_of)
        .and_then(|m| m.get("cnf").cloned());
    let said = |k: &str| cnf.as_ref().and_then(|v| v.get(k)).and_then(Value::as_str);
    let mut checks = Vec::new();
    if let Some(j) = &b.dpop_jkt {
        checks.push(said("jkt").map(|t| t == j));
    }
    if let Some(x) = &b.x5t_s256 {
        checks.push(said("x5t#S256").map(|t| t == x));
    }
    // null when the token is opaque or has no cnf member to compare.
    let matches = if checks.contains(&Some(false)) {
        Some(false)
    } else if !checks.is_empty() && checks.iter().all(Option::is_some) {
        Some(true)
    } else {
        None
    };
    Some(serde_json::json!({
        "dpop_jkt": b.dpop_jkt,
        "x5t#S256": b.x5t_s256,
        "token_cnf": cnf,
        "cnf_matches": matches,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings with every field said, each value marked by `tag`.
    fn full(tag: &str) -> TokenSettings {
        TokenSettings {
            key: Some(KeySource::File(PathBuf::from(format!("{tag}.p12")))),
            alias: Some(format!("{tag}-alias")),
            store_password: Some(SecretSource::Env(format!("{tag}_PW"))),
            key_password: Some(SecretSource::File(PathBuf::from(format!("{tag}.kpw")))),
            client_id: Some(format!("{tag}-client")),
            scope: Some(format!("{tag}:scope")),
            resource: Some(format!("https://{tag}.example/api")),
            consumer_org: Some(format!("{tag}-org")),
            client_org: Some(format!("{tag}-owner")),
            claims: vec![(format!("{tag}_claim"), Value::String(tag.into()))],
            env: Some(if tag == "upper" {
                MaskinportenEnv::Prod
            } else {
                MaskinportenEnv::Test
            }),
            issuer: Some(format!("https://{tag}.example/")),
            token_endpoint: Some(format!("https://{tag}.example/token")),
            aud: Some(format!("https://{tag}.example/aud")),
            grant: Some(if tag == "upper" {
                Grant::ClientCredentials
            } else {
                Grant::JwtBearer
            }),
            auth: Some(if tag == "upper" {
                Auth::ClientSecretPost
            } else {
                Auth::PrivateKeyJwt
            }),
            jwt_profile: Some(if tag == "upper" {
                Target::Okta
            } else {
                Target::Maskinporten
            }),
            kid: Some(format!("{tag}-kid")),
            client_secret: Some(SecretSource::Env(format!("{tag}_SECRET"))),
            refresh_token: Some(SecretSource::Env(format!("{tag}_RT"))),
            ca_file: Some(PathBuf::from(format!("{tag}-ca.pem"))),
            assertion: Some(format!("{tag}.jwt.sig")),
            assertion_from_stdin: tag == "upper",
            connect_timeout: Some(Duration::from_secs(tag.len() as u64)),
            timeout: Some(Duration::from_secs(10 * tag.len() as u64)),
            retries: Some(tag.len() as u32),
            lifetime: Some(tag.len() as i64 * 7),
            alg: Some(if tag == "upper" {
                Alg::ES256
            } else {
                Alg::RS256
            }),
            force: Some(tag == "upper"),
            properties: true,
            dpop: Some(if tag == "upper" {
                DpopKeyChoice::Generated
            } else {
                DpopKeyChoice::Credential
            }),
            authorization_details: Some(format!(r#"[{{"type":"{tag}"}}]"#)),
            systemuser_org: Some(format!("{tag}-customer")),
            subject_token: Some(SecretSource::Env(format!("{tag}_SUBJECT"))),
            subject_token_type: Some(format!("{tag}-subject-type")),
            actor_token: Some(SecretSource::File(PathBuf::from(format!("{tag}.actor")))),
            actor_token_type: Some(format!("{tag}-actor-type")),
            requested_token_type: Some(format!("{tag}-requested")),
            audience: Some(format!("{tag}-service")),
            interactive: Interactive {
                redirect_port: Some(tag.len() as u16),
                ..Interactive::default()
            },
            revocation: Some(tag == "upper"),
        }
    }

    #[test]
    fn every_field_said_above_wins() {
        let upper = full("upper");
        let lower = full("low");
        let merged = upper.clone().over(lower.clone());
        // Each field by name, so a new field without a rule fails to compile
        // in `full` and shows up here.
        assert_eq!(merged.key, upper.key);
        assert_eq!(merged.alias, upper.alias);
        assert_eq!(merged.store_password, upper.store_password);
        assert_eq!(merged.key_password, upper.key_password);
        assert_eq!(merged.client_id, upper.client_id);
        assert_eq!(merged.scope, upper.scope);
        assert_eq!(merged.resource, upper.resource);
        assert_eq!(merged.consumer_org, upper.consumer_org);
        assert_eq!(merged.client_org, upper.client_org);
        assert_eq!(merged.env, upper.env);
        assert_eq!(merged.issuer, upper.issuer);
        assert_eq!(merged.token_endpoint, upper.token_endpoint);
        assert_eq!(merged.aud, upper.aud);
        assert_eq!(merged.grant, upper.grant);
        assert_eq!(merged.auth, upper.auth);
        assert_eq!(merged.jwt_profile, upper.jwt_profile);
        assert_eq!(merged.kid, upper.kid);
        assert_eq!(merged.client_secret, upper.client_secret);
        assert_eq!(merged.refresh_token, upper.refresh_token);
        assert_eq!(merged.ca_file, upper.ca_file);
        assert_eq!(merged.assertion, upper.assertion);
        assert_eq!(merged.assertion_from_stdin, upper.assertion_from_stdin);
        assert_eq!(merged.connect_timeout, upper.connect_timeout);
        assert_eq!(merged.timeout, upper.timeout);
        assert_eq!(merged.retries, upper.retries);
        assert_eq!(merged.lifetime, upper.lifetime);
        assert_eq!(merged.alg, upper.alg);
        assert_eq!(merged.force, upper.force);
        // Field by field in `interactive::tests::every_field_said_above_wins`.
        assert_eq!(merged.interactive, upper.interactive);
        assert!(merged.properties);
        assert_eq!(merged.dpop, upper.dpop);
        assert_eq!(merged.authorization_details, upper.authorization_details);
        assert_eq!(merged.systemuser_org, upper.systemuser_org);
        assert_eq!(merged.subject_token, upper.subject_token);
        assert_eq!(merged.subject_token_type, upper.subject_token_type);
        assert_eq!(merged.actor_token, upper.actor_token);
        assert_eq!(merged.actor_token_type, upper.actor_token_type);
        assert_eq!(merged.requested_token_type, upper.requested_token_type);
        assert_eq!(merged.audience, upper.audience);
        assert_eq!(merged.revocation, upper.revocation);
        assert!(
            TokenSettings::default()
                .over(TokenSettings {
                    properties: true,
                    ..TokenSettings::default()
                })
                .properties
        );
        // Claims add up, the lower layer's first.
        let mut claims = lower.claims.clone();
        claims.extend(upper.claims.clone());
        assert_eq!(merged.claims, claims);
    }

    #[test]
    fn fields_not_said_come_from_below() {
        let lower = full("low");
        assert_eq!(TokenSettings::default().over(lower.clone()), lower);
        assert_eq!(
            lower.clone().over(TokenSettings::default()),
            lower,
            "defaults never override"
        );
    }

    #[test]
    fn a_destination_replaces_the_lower_one_whole() {
        let lower = TokenSettings {
            env: Some(MaskinportenEnv::Test),
            ..TokenSettings::default()
        };
        let upper = TokenSettings {
            issuer: Some("https://idp.example/".into()),
            ..TokenSettings::default()
        };
        let m = upper.over(lower);
        assert_eq!(m.env, None);
        assert_eq!(m.issuer.as_deref(), Some("https://idp.example/"));
        let lower = TokenSettings {
            issuer: Some("https://idp.example/".into()),
            ..TokenSettings::default()
        };
        let upper = TokenSettings {
            env: Some(MaskinportenEnv::Prod),
            ..TokenSettings::default()
        };
        let m = upper.over(lower);
        assert_eq!(m.env, Some(MaskinportenEnv::Prod));
        assert_eq!(m.issuer, None);
    }

    #[test]
    fn binding_is_compared_with_the_tokens_cnf() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwt = |cnf: Value| {
            let p = URL_SAFE_NO_PAD.encode(serde_json::json!({ "cnf": cnf }).to_string());
            format!("e30.{p}.sig")
        };
        let cached = |token: String, binding: cache::Binding| Cached {
            endpoint: "e".into(),
            client_id: "c".into(),
            response: serde_json::json!({ "access_token": token })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            obtained_at: 0,
            expires_at: 1,
            binding,
        };
        let bound = cache::Binding {
            dpop_jkt: Some("J".into()),
            x5t_s256: None,
        };
        assert_eq!(
            binding_report(&cached("x".into(), Default::default())),
            None
        );
        let r = binding_report(&cached(jwt(serde_json::json!({"jkt": "J"})), bound.clone()));
        assert_eq!(r.expect("report")["cnf_matches"], true);
        let r = binding_report(&cached(jwt(serde_json::json!({"jkt": "K"})), bound.clone()));
        assert_eq!(r.expect("report")["cnf_matches"], false);
        // An opaque token: nothing to compare.
        let r = binding_report(&cached("opaque".into(), bound));
        assert_eq!(r.expect("report")["cnf_matches"], Value::Null);
    }

    #[test]
    fn proofs_need_their_inputs() {
        let base = TokenSettings {
            client_id: Some("c".into()),
            token_endpoint: Some("https://idp.example/token".into()),
            ..TokenSettings::default()
        };
        assert!(matches!(
            plan(TokenSettings {
                auth: Some(Auth::TlsClientAuth),
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::NeedsKeystore(_)))
        ));
        assert!(matches!(
            plan(TokenSettings {
                grant: Some(Grant::TokenExchange),
                client_secret: Some(SecretSource::Env("S".into())),
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::NeedsSubjectToken(
                Grant::TokenExchange
            )))
        ));
        assert!(matches!(
            plan(TokenSettings {
                auth: Some(Auth::ClientSecretJwt),
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::NeedsSecret(
                Auth::ClientSecretJwt
            )))
        ));
        assert!(matches!(
            plan(TokenSettings {
                authorization_details: Some("{".into()),
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::Rar(_)))
        ));
        // Token exchange is never cached; DPoP and RAR change the cache key.
        let Ok(te) = plan(TokenSettings {
            grant: Some(Grant::TokenExchange),
            subject_token: Some(SecretSource::Env("T".into())),
            ..base.clone()
        }) else {
            panic!("plan")
        };
        assert!(!te.cacheable());
        let Ok(plain) = plan(base.clone()) else {
            panic!("plan")
        };
        let Ok(dpop) = plan(TokenSettings {
            dpop: Some(DpopKeyChoice::Generated),
            ..base.clone()
        }) else {
            panic!("plan")
        };
        assert!(plain.cacheable());
        assert_ne!(plain.key.digest(), dpop.key.digest());
    }

    #[test]
    fn plan_refusals_are_typed() {
        let base = TokenSettings {
            client_id: Some("c".into()),
            token_endpoint: Some("https://idp.example/token".into()),
            ..TokenSettings::default()
        };
        let p = |s: TokenSettings| plan(s).err().map(|e| e.to_string());
        assert!(matches!(
            plan(TokenSettings {
                token_endpoint: None,
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::NoDestination))
        ));
        assert!(matches!(
            plan(TokenSettings {
                grant: Some(Grant::JwtBearer),
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::NeedsKey(Grant::JwtBearer)))
        ));
        assert!(matches!(
            plan(TokenSettings {
                client_secret: Some(SecretSource::Stdin),
                refresh_token: Some(SecretSource::Stdin),
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::OneStdin))
        ));
        assert!(matches!(
            plan(TokenSettings {
                token_endpoint: Some("http://idp.example/token".into()),
                ..base.clone()
            }),
            Err(ClientError::Settings(Problem::Url(_)))
        ));
        assert_eq!(
            p(TokenSettings {
                client_id: None,
                ..base
            }),
            Some("the client id is required".into())
        );
    }
}
