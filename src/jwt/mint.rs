//! Minting JWT grants (RFC 7523) and client assertions (`private_key_jwt`)
//! with each target's rules built in.

use super::decode::MASKINPORTEN_CLAIMS;
use super::jws::{Alg, JwsError, Signer};
use crate::error_id::ErrorId;
use crate::key::PrivateKey;
use crate::keystore::model::Entry;
use crate::target::{MaskinportenEnv, Target};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// What to put in the JOSE header to identify the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderChoice {
    /// Put the leaf certificate in `x5c`.
    pub x5c: bool,
    /// Put the whole chain in `x5c` (leaf first).
    pub x5c_chain: bool,
    /// The `kid` header.
    pub kid: Option<String>,
    /// Put the SHA-1 certificate thumbprint in `x5t`.
    pub x5t: bool,
    /// Put the SHA-256 certificate thumbprint in `x5t#S256`.
    pub x5t_s256: bool,
    /// Leave `typ` out of the header (as jwt-grant-generator does).
    pub no_typ: bool,
}

impl HeaderChoice {
    fn is_empty(&self) -> bool {
        *self == HeaderChoice::default()
    }
}

/// Which rules name the key in a jwt-bearer grant's header (RFC 7523 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRules {
    /// Maskinporten and Digdir's jwt-grant-generator: `x5c` (the leaf) alone
    /// and no `typ`; a registered key id (`kid`) alone instead when one is given.
    Maskinporten,
    /// Any other server: `x5c` (the leaf) together with `kid` (the given id,
    /// else the RFC 7638 thumbprint), so servers that select keys by `kid`
    /// still find theirs; `kid` alone when the entry has no certificate.
    Generic,
}

/// The header of a jwt-bearer grant: a key with a certificate sends `x5c`
/// whatever the host (client assertions keep each profile's own default).
pub fn grant_header(rules: GrantRules, kid: Option<String>, entry: &Entry) -> HeaderChoice {
    match (rules, kid) {
        (GrantRules::Maskinporten, Some(k)) => HeaderChoice {
            kid: Some(k),
            no_typ: true,
            ..HeaderChoice::default()
        },
        (GrantRules::Maskinporten, None) => HeaderChoice {
            x5c: true,
            no_typ: true,
            ..HeaderChoice::default()
        },
        (GrantRules::Generic, kid) => HeaderChoice {
            x5c: !entry.chain.is_empty(),
            kid: kid.or_else(|| entry.public().and_then(|k| k.jwk_thumbprint())),
            ..HeaderChoice::default()
        },
    }
}

/// Everything `jwt mint` takes.
#[derive(Debug, Clone)]
pub struct MintOptions {
    /// Which authorization server's rules the token follows.
    pub profile: Target,
    /// For Maskinporten: test or production (its issuer becomes `aud`).
    pub env: Option<MaskinportenEnv>,
    /// The `iss` claim (the client id).
    pub iss: Option<String>,
    /// The `sub` claim.
    pub sub: Option<String>,
    /// The `aud` claim.
    pub aud: Option<String>,
    /// The `scope` claim (space-separated).
    pub scope: Option<String>,
    /// The `resource` claim (audience-restricted tokens).
    pub resource: Option<String>,
    /// The `consumer_org` claim: the organisation a supplier acts for (9 digits).
    pub consumer_org: Option<String>,
    /// Extra claims (`--claim k=v`; v is JSON when it parses as JSON).
    pub claims: Vec<(String, Value)>,
    /// Seconds between iat and exp.
    pub lifetime: Option<i64>,
    /// The signing algorithm; `None` picks the key's default.
    pub alg: Option<Alg>,
    /// How the header names the key.
    pub header: HeaderChoice,
    /// Break the target's rules anyway (tests of error handling).
    pub force: bool,
    /// `aud` is the issuer a server announced in its metadata, so
    /// the Maskinporten rule about known issuers does not apply (a look-alike
    /// such as `credkit serve mock-maskinporten`).
    pub aud_from_issuer: bool,
    /// The issuer the server announced (its metadata), if known: a wrong
    /// `aud` is then told to be exactly this.
    pub known_issuer: Option<String>,
}

/// Why a token cannot be minted as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// An input the target needs was not given, or cannot be used.
    #[error("{0}")]
    Missing(Missing),
    /// The token would break a rule of the target's server.
    #[error("{message}")]
    Rule {
        /// The rule that would be broken.
        message: String,
        /// What to change.
        fix: Fix,
    },
    /// Signing failed.
    #[error(transparent)]
    Jws(#[from] JwsError),
    /// The entry has no private key; which entry.
    #[error("{0}")]
    NoKey(String),
    /// Writing the tokens failed; why.
    #[error("cannot write the tokens: {0}")]
    Output(String),
}

/// What [`MintError::Missing`] lacks. The text says what is missing in
/// terms of the token; the command line names its own flag for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Missing {
    /// The issuer (`iss`, the client id) for this target.
    Issuer(Target),
    /// The audience (`aud`, the token endpoint) for this target.
    Audience(Target),
    /// Maskinporten's environment (or an audience): the grant's `aud`.
    Environment,
    /// No JWS algorithm fits the key (its description, and why not).
    Algorithm {
        /// The key, described.
        key: String,
        /// Why no algorithm fits, if known.
        reason: Option<String>,
    },
    /// A lifetime that is not positive.
    Lifetime,
    /// The header needs a certificate, and the entry has none.
    Certificate,
    /// The certificate's public key cannot be read (the reader's words).
    CertificateKey(String),
}

impl Missing {
    /// Why the target needs it: the clause after "is required: ".
    pub fn why(&self) -> Option<String> {
        match self {
            Missing::Issuer(Target::Maskinporten) => Some(
                "Maskinporten's grant has iss = your client id (from Samarbeidsportalen)".into(),
            ),
            Missing::Issuer(Target::Generic) => None,
            Missing::Issuer(t) => Some(format!("{} wants iss = sub = the client id", t.name())),
            Missing::Audience(t) => Some(format!(
                "{} wants aud = the token endpoint URL you POST to",
                t.name()
            )),
            Missing::Environment => {
                Some("the grant's aud is the Maskinporten environment's issuer".into())
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            Missing::Issuer(_) => "the issuer (iss)",
            Missing::Audience(_) => "the audience (aud)",
            Missing::Environment => "the Maskinporten environment (or the audience)",
            Missing::Algorithm { key, reason } => {
                write!(f, "no JWS algorithm fits a {key} key")?;
                if let Some(r) = reason {
                    write!(f, ": {r}")?;
                }
                return Ok(());
            }
            Missing::Lifetime => return f.write_str("the lifetime must be positive"),
            Missing::Certificate => {
                return f.write_str(
                    "x5c, x5t and x5t#S256 need a certificate, and this entry has none",
                );
            }
            Missing::CertificateKey(e) => return f.write_str(e),
        };
        write!(f, "{what} is required")?;
        if let Some(why) = self.why() {
            write!(f, ": {why}")?;
        }
        Ok(())
    }
}

/// How to keep a rule of the target's server ([`MintError::Rule`]); the
/// command line words it in terms of its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fix {
    /// RS256, with the RSA key of the business certificate (Maskinporten).
    RsaAlgorithm,
    /// This algorithm.
    Algorithm(Alg),
    /// `aud` exactly this server's issuer.
    ServerIssuer(String),
    /// The Maskinporten environment (this one, when known) instead of an audience.
    Environment(Option<MaskinportenEnv>),
    /// A lifetime of at most this many seconds.
    MaxLifetime(i64),
    /// No `sub`.
    DropSubject,
    /// A scope.
    AddScope,
    /// The consumer's 9-digit organisation number.
    ConsumerOrg,
    /// No such claim.
    RemoveClaim,
    /// `exp` comes from the lifetime.
    LifetimeSetsExpiry,
    /// The entry whose certificate matches the key.
    MatchingEntry,
    /// `x5c` (a business certificate) or `kid` (a registered key).
    X5cOrKid,
    /// `x5t#S256`.
    X5tS256,
}

impl MintError {
    /// The error's stable id.
    pub fn id(&self) -> ErrorId {
        match self {
            MintError::Missing(_) => ErrorId::JwtMissingOption,
            MintError::Rule { .. } => ErrorId::JwtProfileRule,
            MintError::Jws(JwsError::KeyAlgMismatch { .. }) => ErrorId::JwtAlgKeyMismatch,
            MintError::Jws(_) => ErrorId::JwtSignFailed,
            MintError::NoKey(_) => ErrorId::AliasNoPrivateKey,
            MintError::Output(_) => ErrorId::IoWrite,
        }
    }
}

/// A ready-to-sign template: header, claims without the per-token parts.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Whose rules the token follows.
    pub profile: Target,
    /// The signing algorithm.
    pub alg: Alg,
    /// The JOSE header, complete.
    pub header: Map<String, Value>,
    /// Claims except iat/nbf/exp/jti, which are set per token.
    pub claims: Map<String, Value>,
    /// Seconds from `iat` to `exp`.
    pub lifetime: i64,
    /// Set `nbf` (to `iat`) in each token.
    pub set_nbf: bool,
    /// Set a fresh random `jti` in each token.
    pub set_jti: bool,
}

fn rule(force: bool, message: String, fix: Fix) -> Result<(), MintError> {
    if force {
        Ok(())
    } else {
        Err(MintError::Rule { message, fix })
    }
}

/// Work out header and claims for a key entry under a profile.
pub fn plan(entry: &Entry, o: &MintOptions) -> Result<Plan, MintError> {
    let key = signing_key(entry)?;
    let p = o.profile;
    let alg = algorithm(key, o)?;
    check_algorithm(alg, o)?;
    let iss = issuer(o)?;
    let aud = audience(o)?;
    let lifetime = lifetime(o)?;
    let claims = claims(o, iss, aud)?;
    let header = header(entry, key, alg, o)?;
    check_header(&header, o)?;
    Ok(Plan {
        profile: p,
        alg,
        header,
        claims,
        lifetime,
        set_nbf: p == Target::Entra,
        set_jti: true,
    })
}

/// The entry's private key.
fn signing_key(entry: &Entry) -> Result<&PrivateKey, MintError> {
    entry.private_key.as_ref().ok_or_else(|| {
        MintError::NoKey(format!(
            "entry {} holds no private key{}",
            entry
                .alias
                .as_deref()
                .map(|a| format!("\"{a}\""))
                .unwrap_or_else(|| "(no alias)".into()),
            if entry.key_locked {
                " that could be decrypted"
            } else {
                ""
            }
        ))
    })
}

/// `--alg`, else the profile's algorithm, else the key's usual one.
fn algorithm(key: &PrivateKey, o: &MintOptions) -> Result<Alg, MintError> {
    let p = o.profile;
    Ok(match o.alg {
        Some(a) => a,
        None => match p {
            Target::Maskinporten => Alg::RS256,
            Target::Entra if matches!(key.public, crate::key::PublicKey::Rsa { .. }) => Alg::PS256,
            _ => Alg::default_for(&key.public).ok_or_else(|| {
                MintError::Missing(Missing::Algorithm {
                    key: key.describe().to_string(),
                    reason: key.public.cannot_sign_reason(),
                })
            })?,
        },
    })
}

/// The algorithm is one the profile's server takes.
fn check_algorithm(alg: Alg, o: &MintOptions) -> Result<(), MintError> {
    let p = o.profile;
    match p {
        Target::Maskinporten if !matches!(alg, Alg::RS256 | Alg::RS384 | Alg::RS512) => rule(
            o.force,
            format!(
                "Maskinporten accepts RS256, RS384 and RS512, not {} (and so only RSA keys)",
                alg.name()
            ),
            Fix::RsaAlgorithm,
        )?,
        Target::Entra if !matches!(alg, Alg::PS256 | Alg::RS256) => rule(
            o.force,
            format!("Entra ID expects PS256 (or RS256), not {}", alg.name()),
            Fix::Algorithm(Alg::PS256),
        )?,
        _ => {}
    }
    Ok(())
}

/// `iss`, which every profile needs.
fn issuer(o: &MintOptions) -> Result<String, MintError> {
    let p = o.profile;
    o.iss.clone().ok_or(MintError::Missing(Missing::Issuer(p)))
}

/// `aud`: `--aud` (checked against Maskinporten's issuers), else the
/// Maskinporten environment's issuer.
fn audience(o: &MintOptions) -> Result<String, MintError> {
    let p = o.profile;
    Ok(match (&o.aud, p, o.env) {
        (Some(a), Target::Maskinporten, env) => {
            let known = [MaskinportenEnv::Test, MaskinportenEnv::Prod].map(MaskinportenEnv::issuer);
            let custom = o.known_issuer.as_deref().filter(|i| !known.contains(i));
            if !known.contains(&a.as_str()) && !o.aud_from_issuer && custom != Some(a.as_str()) {
                let fix = match custom {
                    Some(i) => Fix::ServerIssuer(i.to_string()),
                    None => Fix::Environment(env),
                };
                let why =
                    if custom.is_some_and(|i| i.trim_end_matches('/') == a.trim_end_matches('/')) {
                        "differs from this server's issuer in the trailing slash"
                    } else if custom.is_some() {
                        "is not this server's issuer"
                    } else if known.iter().any(|k| k.trim_end_matches('/') == a.as_str()) {
                        "lacks the trailing slash of Maskinporten's issuer"
                    } else if a.ends_with("/token") {
                        "is the token endpoint; Maskinporten wants its issuer"
                    } else {
                        "is not a Maskinporten issuer"
                    };
                rule(
                    o.force,
                    format!("aud {a:?} {why} (Maskinporten answers \"Invalid JWT claim aud\")"),
                    fix,
                )?;
            }
            a.clone()
        }
        (Some(a), _, _) => a.clone(),
        (None, Target::Maskinporten, Some(env)) => env.issuer().to_string(),
        (None, Target::Maskinporten, None) => {
            return Err(MintError::Missing(Missing::Environment));
        }
        (None, _, _) => {
            return Err(MintError::Missing(Missing::Audience(p)));
        }
    })
}

/// The grant's lifetime in seconds, within the profile's maximum.
fn lifetime(o: &MintOptions) -> Result<i64, MintError> {
    let p = o.profile;
    let lifetime = o.lifetime.unwrap_or(match p {
        Target::Maskinporten => 120,
        _ => 300,
    });
    if lifetime <= 0 {
        return Err(MintError::Missing(Missing::Lifetime));
    }
    if let Some(max) = p.max_lifetime()
        && lifetime > max
    {
        rule(
            o.force,
            format!(
                "a lifetime of {lifetime} s is longer than {} accepts ({max} s)",
                p.name()
            ),
            Fix::MaxLifetime(max),
        )?;
    }
    Ok(lifetime)
}

/// The claims except iat/nbf/exp/jti, under the profile's rules.
fn claims(o: &MintOptions, iss: String, aud: String) -> Result<Map<String, Value>, MintError> {
    let p = o.profile;
    let mut claims = Map::new();
    claims.insert("aud".into(), json!(aud));
    claims.insert("iss".into(), json!(iss));
    match p {
        Target::Maskinporten => {
            if let Some(s) = &o.sub {
                rule(
                    o.force,
                    format!("sub {s:?} is not a documented Maskinporten claim"),
                    Fix::DropSubject,
                )?;
                claims.insert("sub".into(), json!(s));
            }
            match &o.scope {
                Some(s) => {
                    claims.insert("scope".into(), json!(s));
                }
                None => rule(
                    o.force,
                    "Maskinporten needs a scope in the grant".into(),
                    Fix::AddScope,
                )?,
            }
        }
        Target::Okta | Target::Keycloak | Target::Entra => {
            let sub = o.sub.clone().unwrap_or_else(|| iss.clone());
            if sub != iss {
                rule(
                    o.force,
                    format!(
                        "{} requires iss = sub = the client id, but sub is {sub:?}",
                        p.name()
                    ),
                    Fix::DropSubject,
                )?;
            }
            claims.insert("sub".into(), json!(sub));
            if let Some(s) = &o.scope {
                claims.insert("scope".into(), json!(s));
            }
        }
        Target::Generic => {
            if let Some(s) = &o.sub {
                claims.insert("sub".into(), json!(s));
            }
            if let Some(s) = &o.scope {
                claims.insert("scope".into(), json!(s));
            }
        }
    }
    if let Some(r) = &o.resource {
        claims.insert("resource".into(), json!(r));
    }
    if let Some(c) = &o.consumer_org {
        if !(c.len() == 9 && c.bytes().all(|b| b.is_ascii_digit())) {
            rule(
                o.force,
                format!("consumer_org {c:?} is not a 9-digit organisation number"),
                Fix::ConsumerOrg,
            )?;
        }
        claims.insert("consumer_org".into(), json!(c));
    }
    for (k, v) in &o.claims {
        if p == Target::Maskinporten && !MASKINPORTEN_CLAIMS.contains(&k.as_str()) {
            rule(
                o.force,
                format!(
                    "claim {k:?} is not documented by Maskinporten, which answers \"Invalid assertion\" to grants that carry it"
                ),
                Fix::RemoveClaim,
            )?;
        }
        if ["iat", "exp", "nbf", "jti"].contains(&k.as_str()) {
            rule(
                o.force,
                format!("{k} is set by credkit"),
                Fix::LifetimeSetsExpiry,
            )?;
        }
        claims.insert(k.clone(), v.clone());
    }
    Ok(claims)
}

/// The JOSE header: alg, typ, and the key or certificate references the
/// options (or the profile's defaults) ask for.
fn header(
    entry: &Entry,
    key: &PrivateKey,
    alg: Alg,
    o: &MintOptions,
) -> Result<Map<String, Value>, MintError> {
    let p = o.profile;
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.name()));
    let choice = if o.header.is_empty() {
        match p {
            Target::Maskinporten => HeaderChoice {
                x5c: true,
                ..Default::default()
            },
            Target::Entra => HeaderChoice {
                x5t_s256: true,
                ..Default::default()
            },
            _ => HeaderChoice {
                kid: key.public.jwk_thumbprint(),
                ..Default::default()
            },
        }
    } else {
        o.header.clone()
    };
    if p != Target::Maskinporten && !choice.no_typ {
        header.insert("typ".into(), json!("JWT"));
    }
    if let Some(k) = &choice.kid {
        header.insert("kid".into(), json!(k));
    }
    let needs_cert = choice.x5c || choice.x5c_chain || choice.x5t || choice.x5t_s256;
    if needs_cert {
        let leaf = entry
            .chain
            .first()
            .ok_or(MintError::Missing(Missing::Certificate))?;
        if !key.matches(
            leaf.public_key
                .as_ref()
                .map_err(|e| MintError::Missing(Missing::CertificateKey(e.clone())))?,
        ) {
            rule(
                o.force,
                "the private key does not belong to the certificate that would go in the header"
                    .into(),
                Fix::MatchingEntry,
            )?;
        }
        if choice.x5c || choice.x5c_chain {
            let certs: Vec<Value> = if choice.x5c_chain {
                entry
                    .chain
                    .iter()
                    .map(|c| json!(STANDARD.encode(&c.der)))
                    .collect()
            } else {
                vec![json!(STANDARD.encode(&leaf.der))]
            };
            header.insert("x5c".into(), Value::Array(certs));
        }
        if choice.x5t {
            header.insert("x5t".into(), json!(leaf.x5t()));
        }
        if choice.x5t_s256 {
            header.insert("x5t#S256".into(), json!(leaf.x5t_s256()));
        }
    }
    Ok(header)
}

/// The header identifies the key the way the profile's server needs.
fn check_header(header: &Map<String, Value>, o: &MintOptions) -> Result<(), MintError> {
    let p = o.profile;
    if p == Target::Maskinporten && header.get("x5c").is_none() && header.get("kid").is_none() {
        rule(
            o.force,
            "Maskinporten needs x5c (business certificate) or kid (registered key) in the header"
                .into(),
            Fix::X5cOrKid,
        )?;
    }
    if p == Target::Entra
        && ["x5t", "x5t#S256", "kid"]
            .iter()
            .all(|h| header.get(*h).is_none())
    {
        rule(
            o.force,
            "Entra ID needs x5t#S256, x5t or kid in the header (AADSTS5002723)".into(),
            Fix::X5tS256,
        )?;
    }
    Ok(())
}

/// A random (version 4) UUID.
pub fn uuid_v4(r: &[u8; 16]) -> String {
    let mut b = *r;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Sign `count` tokens issued at `now` (unix seconds), each with a fresh jti.
pub fn mint(
    plan: &Plan,
    signer: &Signer,
    now: i64,
    count: usize,
) -> Result<Vec<String>, MintError> {
    let mut out = Vec::with_capacity(count);
    mint_each(plan, signer, now, count, |t| {
        out.push(t.to_string());
        Ok(Flow::Continue(()))
    })?;
    Ok(out)
}

/// What a sink says after taking a token: go on, or stop (its reader is gone).
pub type Flow = std::ops::ControlFlow<()>;

/// Sign `count` tokens and hand each to `sink` as it is made (constant memory
/// for `--count` runs of any size), until the sink says stop.
pub fn mint_each(
    plan: &Plan,
    signer: &Signer,
    now: i64,
    count: usize,
    mut sink: impl FnMut(&str) -> Result<Flow, MintError>,
) -> Result<(), MintError> {
    let mut maker = Maker::new(plan, now)?;
    for _ in 0..count {
        if sink(&maker.token(signer)?)?.is_break() {
            break;
        }
    }
    Ok(())
}

/// Tokens a worker signs before handing them over in one piece.
const BATCH: usize = 128;
/// Batches each worker may have made ahead of the writer.
const AHEAD: usize = 2;

/// Sign `count` tokens on `jobs` threads and hand each to `sink` in a stable
/// order, as the batches come in. Memory is bounded by `jobs` × a few batches
/// whatever `count` is; every token has its own jti. One job is
/// [`mint_each`] on the calling thread.
pub fn mint_parallel(
    plan: &Plan,
    signer: &Signer,
    now: i64,
    count: usize,
    jobs: usize,
    sink: impl FnMut(&str) -> Result<Flow, MintError>,
) -> Result<(), MintError> {
    if jobs <= 1 || count <= BATCH {
        return mint_each(plan, signer, now, count, sink);
    }
    in_order(
        count,
        jobs,
        || Maker::new(plan, now),
        |maker, _| maker.token(signer),
        sink,
    )
}

/// Make `count` items on up to `jobs` threads, each thread with its own
/// state (`make` gets the item's index), and hand them to `sink` in the order one thread would have made
/// them: batch b is made by thread b mod jobs and taken from it in turn, and
/// a thread is at most [`AHEAD`] batches ahead of the sink.
fn in_order<S, E: From<MintError> + Send>(
    count: usize,
    jobs: usize,
    state: impl Fn() -> Result<S, E> + Sync,
    make: impl Fn(&mut S, usize) -> Result<String, E> + Sync,
    mut sink: impl FnMut(&str) -> Result<Flow, E>,
) -> Result<(), E> {
    let batches = count.div_ceil(BATCH);
    let jobs = jobs.clamp(1, batches.max(1));
    let size = |b: usize| BATCH.min(count - b * BATCH);
    let (state, make) = (&state, &make);
    std::thread::scope(|scope| {
        let mut inboxes = Vec::with_capacity(jobs);
        for w in 0..jobs {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<String>, E>>(AHEAD);
            inboxes.push(rx);
            scope.spawn(move || {
                let mut st = match state() {
                    Ok(st) => st,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                for b in (w..batches).step_by(jobs) {
                    let batch: Result<Vec<String>, E> =
                        (0..size(b)).map(|i| make(&mut st, b * BATCH + i)).collect();
                    let failed = batch.is_err();
                    // The sink is gone (it failed or stopped): stop too.
                    if tx.send(batch).is_err() || failed {
                        return;
                    }
                }
            });
        }
        for b in 0..batches {
            let batch = inboxes[b % jobs]
                .recv()
                .map_err(|_| E::from(MintError::Jws(JwsError::Sign)))??;
            for t in &batch {
                if sink(t)?.is_break() {
                    // Dropping the inboxes stops the threads.
                    return Ok(());
                }
            }
        }
        Ok(())
    })
}

/// Makes tokens from a plan: the claims fixed at `now`, a fresh jti each.
struct Maker {
    header: Vec<u8>,
    claims: Map<String, Value>,
    set_jti: bool,
    random: [u8; 16 * 64],
    next: usize,
}

impl Maker {
    fn new(plan: &Plan, now: i64) -> Result<Maker, MintError> {
        let header =
            serde_json::to_vec(&plan.header).map_err(|_| MintError::Jws(JwsError::Sign))?;
        let mut claims = plan.claims.clone();
        claims.insert("iat".into(), json!(now));
        if plan.set_nbf {
            claims.insert("nbf".into(), json!(now));
        }
        claims.insert("exp".into(), json!(now + plan.lifetime));
        Ok(Maker {
            header,
            claims,
            set_jti: plan.set_jti,
            random: [0u8; 16 * 64],
            next: 0,
        })
    }

    fn token(&mut self, signer: &Signer) -> Result<String, MintError> {
        if self.set_jti {
            let slot = self.next % 64;
            if slot == 0 {
                getrandom::fill(&mut self.random).map_err(|_| MintError::Jws(JwsError::Sign))?;
            }
            self.next += 1;
            let mut r = [0u8; 16];
            r.copy_from_slice(&self.random[slot * 16..slot * 16 + 16]);
            self.claims.insert("jti".into(), json!(uuid_v4(&r)));
        }
        let payload =
            serde_json::to_vec(&self.claims).map_err(|_| MintError::Jws(JwsError::Sign))?;
        Ok(signer.sign(&self.header, &payload)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the number of threads, items come out in the order one
    /// thread makes them, across batch boundaries and with a last short batch.
    #[test]
    fn parallel_output_keeps_the_order() {
        for (count, jobs) in [
            (1, 4),
            (BATCH, 2),
            (BATCH + 1, 2),
            (10 * BATCH + 7, 3),
            (5000, 8),
        ] {
            let mut seen = Vec::new();
            in_order::<(), MintError>(
                count,
                jobs,
                || Ok(()),
                |_, i| Ok(i.to_string()),
                |t| {
                    seen.push(t.parse::<usize>().expect("number"));
                    Ok(Flow::Continue(()))
                },
            )
            .expect("made");
            assert_eq!(seen, (0..count).collect::<Vec<_>>(), "{count} on {jobs}");
        }
    }

    /// A failing sink stops the threads (no hang, the error comes back).
    #[test]
    fn a_failing_sink_stops_the_workers() {
        let mut n = 0;
        let r = in_order::<(), MintError>(
            100 * BATCH,
            2,
            || Ok(()),
            |_, i| Ok(i.to_string()),
            |_| {
                n += 1;
                if n == 3 {
                    Err(MintError::Output("closed".into()))
                } else {
                    Ok(Flow::Continue(()))
                }
            },
        );
        assert!(matches!(r, Err(MintError::Output(_))));
        // A sink that says stop: no error, nothing more.
        let mut n = 0;
        let r = in_order::<(), MintError>(
            100 * BATCH,
            2,
            || Ok(()),
            |_, i| Ok(i.to_string()),
            |_| {
                n += 1;
                Ok(if n == 5 {
                    Flow::Break(())
                } else {
                    Flow::Continue(())
                })
            },
        );
        assert!(r.is_ok());
        assert_eq!(n, 5);
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = super::uuid_v4(&[0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }
}
