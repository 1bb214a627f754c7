//! Minting JWT grants (RFC 7523) and client assertions (`private_key_jwt`)
//! with each target's rules built in.

use super::decode::{MASKINPORTEN_CLAIMS, Profile};
use super::jws::{Alg, JwsError, Signer};
use crate::keystore::model::Entry;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Maskinporten environments and their issuers (the grant's `aud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Test,
    Prod,
}

impl Env {
    pub fn maskinporten_issuer(self) -> &'static str {
        match self {
            Env::Test => "https://test.maskinporten.no/",
            Env::Prod => "https://maskinporten.no/",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Env::Test => "test",
            Env::Prod => "prod",
        }
    }
}

/// What to put in the JOSE header to identify the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderChoice {
    pub x5c: bool,
    pub x5c_chain: bool,
    pub kid: Option<String>,
    pub x5t: bool,
    pub x5t_s256: bool,
}

impl HeaderChoice {
    fn is_empty(&self) -> bool {
        *self == HeaderChoice::default()
    }
}

/// Everything `jwt mint` takes.
#[derive(Debug, Clone)]
pub struct MintOptions {
    pub profile: Profile,
    pub env: Option<Env>,
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<String>,
    pub scope: Option<String>,
    pub resource: Option<String>,
    pub consumer_org: Option<String>,
    /// Extra claims (`--claim k=v`; v is JSON when it parses as JSON).
    pub claims: Vec<(String, Value)>,
    /// Seconds between iat and exp.
    pub lifetime: Option<i64>,
    pub alg: Option<Alg>,
    pub header: HeaderChoice,
    /// Break the target's rules anyway (tests of error handling).
    pub force: bool,
    /// `aud` is the issuer a server announced in its metadata, so
    /// the Maskinporten rule about known issuers does not apply (a look-alike
    /// such as `credkit serve mock-maskinporten`).
    pub aud_from_issuer: bool,
}

/// Why a token cannot be minted as asked.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("{0}")]
    Missing(String),
    #[error("{message}")]
    Rule { message: String, fix: String },
    #[error(transparent)]
    Jws(#[from] JwsError),
    #[error("{0}")]
    NoKey(String),
    #[error("cannot write the tokens: {0}")]
    Output(String),
}

impl MintError {
    pub fn id(&self) -> &'static str {
        match self {
            MintError::Missing(_) => "jwt-missing-option",
            MintError::Rule { .. } => "jwt-profile-rule",
            MintError::Jws(JwsError::KeyAlgMismatch { .. }) => "jwt-alg-key-mismatch",
            MintError::Jws(_) => "jwt-sign-failed",
            MintError::NoKey(_) => "alias-no-private-key",
            MintError::Output(_) => "io-write",
        }
    }
    pub fn hint(&self) -> Option<String> {
        match self {
            MintError::Missing(_) => Some("see `credkit jwt mint --help` for the options each profile needs".into()),
            MintError::Rule { fix, .. } => Some(format!("{fix} (or --force to break the rule on purpose)")),
            MintError::Jws(JwsError::KeyAlgMismatch { .. }) => Some("choose --alg to fit the key: RS*/PS* for RSA, ES256 for P-256, ES384 for P-384, EdDSA for Ed25519".into()),
            MintError::Jws(_) => None,
            MintError::Output(_) => None,
            MintError::NoKey(_) => Some("pick an entry that holds a private key with --alias (see `credkit inspect`)".into()),
        }
    }
}

/// A ready-to-sign template: header, claims without the per-token parts.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub profile: Profile,
    pub alg: Alg,
    pub header: Map<String, Value>,
    /// Claims except iat/nbf/exp/jti, which are set per token.
    pub claims: Map<String, Value>,
    pub lifetime: i64,
    pub set_nbf: bool,
    pub set_jti: bool,
}

fn rule(force: bool, message: String, fix: &str) -> Result<(), MintError> {
    if force {
        Ok(())
    } else {
        Err(MintError::Rule {
            message,
            fix: fix.into(),
        })
    }
}

/// Work out header and claims for a key entry under a profile.
pub fn plan(entry: &Entry, o: &MintOptions) -> Result<Plan, MintError> {
    let key = entry.private_key.as_ref().ok_or_else(|| {
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
    })?;
    let p = o.profile;
    let alg = match o.alg {
        Some(a) => a,
        None => match p {
            Profile::Maskinporten => Alg::RS256,
            Profile::Entra if matches!(key.public, crate::key::PublicKey::Rsa { .. }) => Alg::PS256,
            _ => Alg::default_for(&key.public).ok_or_else(|| {
                MintError::Missing(format!(
                    "no JWS algorithm fits a {} key{}",
                    key.describe(),
                    key.public
                        .cannot_sign_reason()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ))
            })?,
        },
    };
    match p {
        Profile::Maskinporten if !matches!(alg, Alg::RS256 | Alg::RS384 | Alg::RS512) => rule(
            o.force,
            format!(
                "Maskinporten accepts RS256, RS384 and RS512, not {} (and so only RSA keys)",
                alg.name()
            ),
            "use --alg RS256 with the RSA key of your business certificate",
        )?,
        Profile::Entra if !matches!(alg, Alg::PS256 | Alg::RS256) => rule(
            o.force,
            format!("Entra ID expects PS256 (or RS256), not {}", alg.name()),
            "use --alg PS256",
        )?,
        _ => {}
    }
    let iss = o.iss.clone().ok_or_else(|| {
        MintError::Missing(match p {
            Profile::Maskinporten => "--iss is required: Maskinporten's grant has iss = your client id (from Samarbeidsportalen)".into(),
            Profile::Generic => "--iss is required".into(),
            _ => format!("--iss is required: {} wants iss = sub = the client id", p.name()),
        })
    })?;
    let aud = match (&o.aud, p, o.env) {
        (Some(a), Profile::Maskinporten, env) => {
            let known = [Env::Test, Env::Prod].map(Env::maskinporten_issuer);
            if !known.contains(&a.as_str()) && !o.aud_from_issuer {
                let fix = match env {
                    Some(e) => format!("use --env {} (aud {})", e.name(), e.maskinporten_issuer()),
                    None => "use --env test or --env prod instead of --aud".into(),
                };
                let why = if known.iter().any(|k| k.trim_end_matches('/') == a.as_str()) {
                    "lacks the trailing slash of Maskinporten's issuer"
                } else if a.ends_with("/token") {
                    "is the token endpoint; Maskinporten wants its issuer"
                } else {
                    "is not a Maskinporten issuer"
                };
                rule(
                    o.force,
                    format!("aud {a:?} {why} (Maskinporten answers \"Invalid JWT claim aud\")"),
                    &fix,
                )?;
            }
            a.clone()
        }
        (Some(a), _, _) => a.clone(),
        (None, Profile::Maskinporten, Some(env)) => env.maskinporten_issuer().to_string(),
        (None, Profile::Maskinporten, None) => {
            return Err(MintError::Missing(
                "--env test|prod (or --aud) is required: the grant's aud is the Maskinporten environment's issuer".into(),
            ));
        }
        (None, _, _) => {
            return Err(MintError::Missing(format!(
                "--aud is required: {} wants aud = the token endpoint URL you POST to",
                p.name()
            )));
        }
    };
    let lifetime = o.lifetime.unwrap_or(match p {
        Profile::Maskinporten => 120,
        _ => 300,
    });
    if lifetime <= 0 {
        return Err(MintError::Missing("--lifetime must be positive".into()));
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
            &format!("use --lifetime {max}s or less"),
        )?;
    }

    let mut claims = Map::new();
    claims.insert("aud".into(), json!(aud));
    claims.insert("iss".into(), json!(iss));
    match p {
        Profile::Maskinporten => {
            if let Some(s) = &o.sub {
                rule(
                    o.force,
                    format!("sub {s:?} is not a documented Maskinporten claim"),
                    "drop --sub",
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
                    "add --scope \"prefix:scope\" (space-separated for several)",
                )?,
            }
        }
        Profile::Okta | Profile::Keycloak | Profile::Entra => {
            let sub = o.sub.clone().unwrap_or_else(|| iss.clone());
            if sub != iss {
                rule(
                    o.force,
                    format!(
                        "{} requires iss = sub = the client id, but sub is {sub:?}",
                        p.name()
                    ),
                    "drop --sub",
                )?;
            }
            claims.insert("sub".into(), json!(sub));
            if let Some(s) = &o.scope {
                claims.insert("scope".into(), json!(s));
            }
        }
        Profile::Generic => {
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
                "give the consumer's 9-digit organisation number",
            )?;
        }
        claims.insert("consumer_org".into(), json!(c));
    }
    for (k, v) in &o.claims {
        if p == Profile::Maskinporten && !MASKINPORTEN_CLAIMS.contains(&k.as_str()) {
            rule(
                o.force,
                format!(
                    "claim {k:?} is not documented by Maskinporten, which answers \"Invalid assertion\" to grants that carry it"
                ),
                "remove the claim",
            )?;
        }
        if ["iat", "exp", "nbf", "jti"].contains(&k.as_str()) {
            rule(
                o.force,
                format!("{k} is set by credkit"),
                "use --lifetime for exp",
            )?;
        }
        claims.insert(k.clone(), v.clone());
    }

    // Header.
    let mut header = Map::new();
    header.insert("alg".into(), json!(alg.name()));
    let choice = if o.header.is_empty() {
        match p {
            Profile::Maskinporten => HeaderChoice {
                x5c: true,
                ..Default::default()
            },
            Profile::Entra => HeaderChoice {
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
    if p != Profile::Maskinporten {
        header.insert("typ".into(), json!("JWT"));
    }
    if let Some(k) = &choice.kid {
        header.insert("kid".into(), json!(k));
    }
    let needs_cert = choice.x5c || choice.x5c_chain || choice.x5t || choice.x5t_s256;
    if needs_cert {
        let leaf = entry.chain.first().ok_or_else(|| {
            MintError::Missing("x5c, x5t and x5t#S256 need a certificate, and this entry has none (use --kid, or a keystore with the certificate)".into())
        })?;
        if !key.matches(
            leaf.public_key
                .as_ref()
                .map_err(|e| MintError::Missing(e.clone()))?,
        ) {
            rule(
                o.force,
                "the private key does not belong to the certificate that would go in the header"
                    .into(),
                "use the keystore entry whose certificate matches the key (credkit check)",
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
    if p == Profile::Maskinporten && header.get("x5c").is_none() && header.get("kid").is_none() {
        rule(
            o.force,
            "Maskinporten needs x5c (business certificate) or kid (registered key) in the header"
                .into(),
            "add --x5c or --kid ID",
        )?;
    }
    if p == Profile::Entra
        && ["x5t", "x5t#S256", "kid"]
            .iter()
            .all(|h| header.get(*h).is_none())
    {
        rule(
            o.force,
            "Entra ID needs x5t#S256, x5t or kid in the header (AADSTS5002723)".into(),
            "add --x5t-s256",
        )?;
    }
    Ok(Plan {
        profile: p,
        alg,
        header,
        claims,
        lifetime,
        set_nbf: p == Profile::Entra,
        set_jti: true,
    })
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
        Ok(())
    })?;
    Ok(out)
}

/// Sign `count` tokens and hand each to `sink` as it is made (constant memory
/// for `--count` runs of any size).
pub fn mint_each(
    plan: &Plan,
    signer: &Signer,
    now: i64,
    count: usize,
    mut sink: impl FnMut(&str) -> Result<(), MintError>,
) -> Result<(), MintError> {
    let header = serde_json::to_vec(&plan.header).map_err(|_| MintError::Jws(JwsError::Sign))?;
    let mut claims = plan.claims.clone();
    claims.insert("iat".into(), json!(now));
    if plan.set_nbf {
        claims.insert("nbf".into(), json!(now));
    }
    claims.insert("exp".into(), json!(now + plan.lifetime));
    let mut random = [0u8; 16 * 64];
    for i in 0..count {
        if plan.set_jti {
            let slot = i % 64;
            if slot == 0 {
                getrandom::fill(&mut random).map_err(|_| MintError::Jws(JwsError::Sign))?;
            }
            let mut r = [0u8; 16];
            r.copy_from_slice(&random[slot * 16..slot * 16 + 16]);
            claims.insert("jti".into(), json!(uuid_v4(&r)));
        }
        let payload = serde_json::to_vec(&claims).map_err(|_| MintError::Jws(JwsError::Sign))?;
        sink(&signer.sign(&header, &payload)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_has_version_and_variant() {
        let u = super::uuid_v4(&[0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }
}
