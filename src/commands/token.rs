//! `credkit token`: settings from flags, a profile or a .properties file;
//! the cache; the credential check; minting; the exchange; the diagnosis.

use super::input::read_input;
use crate::cli::token::TokenArgs;
use crate::ctx::Ctx;
use crate::diagnostics::check::{self as diag, CheckOptions, Target};
use crate::diagnostics::{Finding, Severity};
use crate::error::{Error, Result, exit};
use crate::jwt::decode::Profile;
use crate::jwt::jws::Signer;
use crate::jwt::mint::{self, Env, HeaderChoice, MintOptions};
use crate::keystore::{self, EntryKind, Store};
use crate::oauth::cache::{self, CacheKey, Cached};
use crate::oauth::config::{self, KeySource, Secret, Settings};
use crate::oauth::diagnose::{self, Context};
use crate::oauth::discovery;
use crate::oauth::exchange::{self, Auth, Grant, NetOptions, TokenRequest};
use crate::output::{self, token as out};
use crate::secret::{SecretCell, SecretSource};
use base64::Engine;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn no_destination() -> Error {
    usage(
        "say where to send the request",
        "give --env test|prod (Maskinporten), --issuer URL or --token-endpoint URL",
    )
}

/// Flags over the profile (or .properties) settings.
fn merge(a: &TokenArgs, s: Settings) -> Settings {
    let pw = &a.passwords;
    Settings {
        key: a.key.clone().map(KeySource::File).or(s.key),
        alias: a.alias.clone().or(s.alias),
        store_password: pw
            .password_file
            .clone()
            .map(Secret::File)
            .or(pw.password_env.clone().map(Secret::Env))
            .or(s.store_password),
        key_password: pw
            .key_password_file
            .clone()
            .map(Secret::File)
            .or(pw.key_password_env.clone().map(Secret::Env))
            .or(s.key_password),
        client_id: a.client_id.clone().or(s.client_id),
        scope: a.scope.clone().or(s.scope),
        resource: a.resource.clone().or(s.resource),
        consumer_org: a.consumer_org.clone().or(s.consumer_org),
        claims: {
            let mut c = s.claims;
            c.extend(a.claims.iter().cloned());
            c
        },
        env: a.env.or(if a.issuer.is_some() { None } else { s.env }),
        issuer: a
            .issuer
            .clone()
            .or(if a.env.is_some() { None } else { s.issuer }),
        token_endpoint: a.token_endpoint.clone().or(s.token_endpoint),
        aud: a.aud.clone().or(s.aud),
        grant: a.grant.or(s.grant),
        auth: a.auth.or(s.auth),
        jwt_profile: a.jwt_profile.or(s.jwt_profile),
        kid: a.kid.clone().or(s.kid),
        client_secret: a
            .client_secret_file
            .clone()
            .map(Secret::File)
            .or(a.client_secret_env.clone().map(Secret::Env))
            .or(s.client_secret),
        ca_file: a.ca_file.clone().or(s.ca_file),
    }
}

fn settings(a: &TokenArgs) -> Result<Settings> {
    if let Some(p) = &a.properties {
        let bytes = read_input(p)?;
        // ISO-8859-1, as Java's Properties.load(InputStream) reads it.
        return Ok(config::from_properties_bytes(&bytes, p)?);
    }
    let (path, explicit) = match &a.config {
        Some(p) => (Some(p.clone()), true),
        None => (config::default_path(), false),
    };
    let Some(path) = path else {
        if let Some(name) = &a.profile {
            return Err(Error::Usage {
                message: format!("no config file to read profile {name:?} from"),
                hint: Some("give --config FILE".into()),
            });
        }
        return Ok(Settings::default());
    };
    if !explicit && a.profile.is_none() && !path.exists() {
        return Ok(Settings::default());
    }
    let bytes = read_input(&path)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(config::profile_from_toml(
        &text,
        &path,
        a.profile.as_deref(),
    )?)
}

fn secret_cell(s: Option<&Secret>, stdin: bool, prompt: &str) -> SecretCell {
    match (s, stdin) {
        (_, true) => SecretCell::new(SecretSource::Stdin, prompt),
        (Some(Secret::File(p)), _) => SecretCell::new(SecretSource::File(p.clone()), prompt),
        (Some(Secret::Env(v)), _) => SecretCell::new(SecretSource::Env(v.clone()), prompt),
        (Some(Secret::Value(v)), _) => SecretCell::with_value(Some(v.clone())),
        (None, false) => SecretCell::new(SecretSource::Absent, prompt),
    }
}

fn load_key(src: &KeySource, s: &Settings, a: &TokenArgs) -> Result<(Store, String)> {
    let pw = &a.passwords;
    let label = match src {
        KeySource::File(p) => p.display().to_string(),
        KeySource::Inline { label, .. } => label.clone(),
    };
    let mut store_pw = match (&s.store_password, pw.password_stdin) {
        (None, false) => SecretCell::new(SecretSource::Default, format!("Password for {label}")),
        (other, stdin) => secret_cell(other.as_ref(), stdin, &format!("Password for {label}")),
    };
    let mut key_pw = secret_cell(
        s.key_password.as_ref(),
        pw.key_password_stdin,
        &format!("Key password for {label}"),
    );
    let data = match src {
        KeySource::File(p) => read_input(p)?,
        KeySource::Inline { data, .. } => data.clone(),
    };
    let store =
        keystore::load(&data, &mut store_pw, &mut key_pw).map_err(|e| e.at(Path::new(&label)))?;
    Ok((store, label))
}

/// The entry that signs: --alias, else the only private key.
fn pick_entry<'a>(store: &'a Store, alias: Option<&str>) -> Option<&'a keystore::Entry> {
    match alias {
        Some(a) => store.entries.iter().find(|e| e.alias.as_deref() == Some(a)),
        None => {
            let keys: Vec<_> = store
                .entries
                .iter()
                .filter(|e| e.kind == EntryKind::PrivateKey)
                .collect();
            (keys.len() == 1).then(|| keys[0])
        }
    }
}

fn target_of(p: Profile) -> Target {
    match p {
        Profile::Maskinporten => Target::Maskinporten,
        Profile::Okta => Target::Okta,
        Profile::Entra => Target::Entra,
        Profile::Keycloak => Target::Keycloak,
        Profile::Generic => Target::Generic,
    }
}

fn diag_env(e: Env) -> diag::Env {
    match e {
        Env::Test => diag::Env::Test,
        Env::Prod => diag::Env::Prod,
    }
}

/// The JWT rules by endpoint host, when not given.
fn guess_profile(endpoint: Option<&str>, env: Option<Env>) -> Profile {
    if env.is_some() {
        return Profile::Maskinporten;
    }
    let Some(ep) = endpoint else {
        return Profile::Generic;
    };
    if diagnose::endpoint_env(ep).is_some() {
        return Profile::Maskinporten;
    }
    let host = reqwest::Url::parse(ep)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    if host.ends_with(".okta.com") || host.ends_with(".oktapreview.com") {
        Profile::Okta
    } else if host == "login.microsoftonline.com" || host.ends_with(".microsoftonline.us") {
        Profile::Entra
    } else if ep.contains("/realms/") {
        Profile::Keycloak
    } else {
        Profile::Generic
    }
}

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
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

fn read_assertion(arg: &str) -> Result<String> {
    let raw = if arg == "-" {
        String::from_utf8_lossy(&read_input(Path::new("-"))?).into_owned()
    } else if let Some(f) = arg.strip_prefix('@') {
        String::from_utf8_lossy(&read_input(Path::new(f))?).into_owned()
    } else {
        arg.to_string()
    };
    Ok(raw.split_whitespace().next().unwrap_or("").to_string())
}

fn rfc3339(ts: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// Everything known before any network: the settings, the key, the cache key.
struct Plan {
    s: Settings,
    grant: Grant,
    auth: Auth,
    rt_given: bool,
    secret_given: bool,
    client_id: Option<String>,
    issuer: Option<String>,
    loaded: Option<(Store, String)>,
    key: CacheKey,
}

/// Ready to fetch tokens: the endpoint is known, the credential checked, the
/// signer made and the secrets read. `fetch` mints a fresh JWT every time.
pub struct Session {
    s: Settings,
    grant: Grant,
    auth: Auth,
    client_id: Option<String>,
    endpoint: String,
    known_issuer: Option<String>,
    profile: Profile,
    client: reqwest::blocking::Client,
    net: NetOptions,
    signing: Option<(mint::Plan, Signer)>,
    given_assertion: Option<String>,
    secret: Option<String>,
    refresh_token: Option<String>,
    /// The credential check's warnings (errors stop before this).
    pub findings: Vec<Finding>,
    cert_env: Option<diag::Env>,
    verbose: bool,
    /// The cache key of what this session fetches.
    pub key: CacheKey,
    /// The clock (`Ctx::clock`), --quiet and whether --now pinned the clock.
    ctx: Ctx,
}

impl Session {
    /// The clock credkit judges with: --now (then moving with real time) or the real clock.
    pub fn clock(&self) -> i64 {
        self.ctx.clock()
    }
}

pub fn run(ctx: &Ctx, a: TokenArgs) -> Result<u8> {
    let plan = plan(&a)?;
    let use_cache = !a.no_cache && plan.grant != Grant::RefreshToken && a.assertion.is_none();
    let cache_dir = if use_cache { cache::dir() } else { None };
    if let Some(dir) = &cache_dir
        && !a.refresh
        && let Some(c) = cache::get(dir, &plan.key, ctx.clock())
    {
        output::status(
            ctx.quiet || ctx.json,
            &format!(
                "credkit: token from the cache (expires in {} s)",
                c.expires_at - ctx.clock()
            ),
        );
        return finish(ctx, &a, &plan.s, &c, true);
    }
    let session = session(ctx, &a, plan)?;
    match session.fetch() {
        Ok(c) => {
            if let Some(dir) = &cache_dir
                && c.expires_at > c.obtained_at
                && let Err(e) = cache::put(dir, &session.key, &c)
            {
                output::status(
                    ctx.quiet,
                    &format!(
                        "credkit: warning: cannot write the cache in {}: {e}",
                        dir.display()
                    ),
                );
            }
            // Warnings of the credential check (on a refusal they are part of the diagnosis).
            out::findings(&session.findings, ctx.quiet || ctx.json);
            finish(ctx, &a, &session.s, &c, false)
        }
        Err(e) => {
            // The server answered, and not with a token: forget the cached one
            // (an unreachable server says nothing about it).
            if let Some(dir) = &cache_dir
                && matches!(e, Error::Refused(_) | Error::Server { .. })
            {
                cache::remove(dir, &session.key);
            }
            Err(e)
        }
    }
}

/// Settings, checks of the options, the key and the cache key.
fn plan(a: &TokenArgs) -> Result<Plan> {
    let s = merge(a, settings(a)?);

    // Which grant and which client authentication.
    let rt_given =
        a.refresh_token_file.is_some() || a.refresh_token_env.is_some() || a.refresh_token_stdin;
    let secret_given = s.client_secret.is_some() || a.client_secret_stdin;
    let grant = s.grant.unwrap_or(if rt_given {
        Grant::RefreshToken
    } else if s.env.is_some() || s.jwt_profile == Some(Profile::Maskinporten) {
        Grant::JwtBearer
    } else {
        Grant::ClientCredentials
    });
    let auth = match grant {
        Grant::JwtBearer => Auth::None,
        _ => s.auth.unwrap_or(if secret_given {
            Auth::ClientSecretBasic
        } else if s.key.is_some() || a.assertion.is_some() {
            Auth::PrivateKeyJwt
        } else {
            Auth::None
        }),
    };
    if grant == Grant::JwtBearer && s.auth.is_some_and(|x| x != Auth::None) {
        return Err(usage(
            "the jwt-bearer grant has no separate client authentication",
            "drop --auth, or use --grant client-credentials",
        ));
    }
    let signs = grant == Grant::JwtBearer || auth == Auth::PrivateKeyJwt;
    if signs && s.key.is_none() && a.assertion.is_none() {
        return Err(usage(
            format!(
                "{} needs a key to sign with",
                if grant == Grant::JwtBearer {
                    "the jwt-bearer grant"
                } else {
                    "private-key-jwt"
                }
            ),
            "give --key FILE (and --alias), or a profile that has one",
        ));
    }
    if matches!(auth, Auth::ClientSecretBasic | Auth::ClientSecretPost) && !secret_given {
        return Err(usage(
            format!("--auth {} needs the client secret", auth.name()),
            "give --client-secret-file PATH, --client-secret-env VAR or --client-secret-stdin (never on the command line)",
        ));
    }
    if grant == Grant::RefreshToken && !rt_given {
        return Err(usage(
            "the refresh-token grant needs a refresh token",
            "give --refresh-token-file PATH, --refresh-token-env VAR or --refresh-token-stdin",
        ));
    }
    if a.client_secret_stdin && a.refresh_token_stdin
        || (a.client_secret_stdin || a.refresh_token_stdin)
            && (a.passwords.password_stdin || a.passwords.key_password_stdin)
        || a.assertion.as_deref() == Some("-")
            && (a.client_secret_stdin || a.refresh_token_stdin || a.passwords.password_stdin)
    {
        return Err(usage(
            "only one value can come from standard input",
            "read the others from a file or an environment variable",
        ));
    }
    let client_id = s.client_id.clone();
    if client_id.is_none() && a.assertion.is_none() {
        return Err(usage(
            "--client-id is required",
            "give the client id the server knows (Maskinporten: from Samarbeidsportalen)",
        ));
    }

    // Where to send it (without network yet, for the cache key).
    let issuer = s
        .issuer
        .clone()
        .or(s.env.map(|e| e.maskinporten_issuer().to_string()));
    if s.token_endpoint.is_none() && issuer.is_none() {
        return Err(no_destination());
    }
    for u in [s.token_endpoint.as_deref(), issuer.as_deref()]
        .into_iter()
        .flatten()
    {
        exchange::check_url(u).map_err(|message| Error::Url { message })?;
    }

    // The key (its thumbprint is part of the cache key).
    let loaded = match (&s.key, signs) {
        (Some(src), true) => Some(load_key(src, &s, a)?),
        _ => None,
    };
    let thumb = loaded
        .as_ref()
        .and_then(|(st, _)| pick_entry(st, s.alias.as_deref()))
        .and_then(|e| e.public())
        .and_then(|k| k.jwk_thumbprint())
        .unwrap_or_default();
    let key = CacheKey {
        endpoint: s
            .token_endpoint
            .clone()
            .unwrap_or_else(|| format!("issuer:{}", issuer.clone().unwrap_or_default())),
        client_id: client_id.clone().unwrap_or_default(),
        scope: s.scope.clone().unwrap_or_default(),
        resource: s.resource.clone().unwrap_or_default(),
        key: thumb,
        grant: grant.name().into(),
        auth: auth.name().into(),
        consumer_org: s.consumer_org.clone().unwrap_or_default(),
        aud: s.aud.clone().unwrap_or_default(),
    };
    Ok(Plan {
        s,
        grant,
        auth,
        rt_given,
        secret_given,
        client_id,
        issuer,
        loaded,
        key,
    })
}

/// Find the endpoint, check the credential, make the signer, read the secrets.
pub fn prepare(ctx: &Ctx, a: &TokenArgs) -> Result<Session> {
    session(ctx, a, plan(a)?)
}

fn session(ctx: &Ctx, a: &TokenArgs, plan: Plan) -> Result<Session> {
    let Plan {
        s,
        grant,
        auth,
        rt_given,
        secret_given,
        client_id,
        issuer,
        loaded,
        key,
    } = plan;
    // The credential check gates signing.
    let mut findings: Vec<Finding> = Vec::new();
    let mut cert_env = None;
    let mut signing = None;
    let net = NetOptions {
        connect_timeout: Duration::from_secs(a.connect_timeout.max(1) as u64),
        timeout: Duration::from_secs(a.timeout.max(1) as u64),
        ca_pem: match &s.ca_file {
            Some(p) => Some(read_input(p)?),
            None => None,
        },
        retries: a.retries,
        ..NetOptions::default()
    };
    let is_https = |u: &str| {
        u.get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
    };
    let client_tls = s.token_endpoint.as_deref().is_some_and(is_https)
        || s.token_endpoint.is_none() && issuer.as_deref().is_some_and(is_https);
    let mut client =
        exchange::client(&net, client_tls).map_err(|message| Error::Url { message })?;

    // Endpoint: --token-endpoint, else Maskinporten's, else discovery.
    // The issuer is the server's own word only when its metadata said so.
    let mut issuer_from_metadata = false;
    let (endpoint, known_issuer) = match (&s.token_endpoint, s.env, &s.issuer) {
        (Some(te), env, iss) => (
            te.clone(),
            iss.clone()
                .or(env.map(|e| e.maskinporten_issuer().to_string())),
        ),
        (None, Some(env), _) => (
            discovery::fallback_endpoint(env.maskinporten_issuer()),
            Some(env.maskinporten_issuer().to_string()),
        ),
        (None, None, Some(iss)) => {
            let d = discovery::discover(&client, iss).map_err(Error::Network)?;
            if let Some(m) = &d.metadata_url {
                output::status(
                    !a.verbose || ctx.quiet,
                    &format!("credkit: token endpoint {} (from {m})", d.token_endpoint),
                );
            }
            exchange::check_url(&d.token_endpoint).map_err(|message| Error::Url { message })?;
            if is_https(&d.token_endpoint) && !client_tls {
                client = exchange::client(&net, true).map_err(|message| Error::Url { message })?;
            }
            issuer_from_metadata = d.metadata_url.is_some();
            (d.token_endpoint, Some(d.issuer))
        }
        // Refused above already; an error here, never a panic.
        (None, None, None) => return Err(no_destination()),
    };
    let profile = s
        .jwt_profile
        .unwrap_or_else(|| guess_profile(Some(&endpoint), s.env));

    if let Some((store, label)) = &loaded {
        let mut copts = CheckOptions::new(label.clone());
        copts.alias = s.alias.clone();
        copts.target = target_of(profile);
        copts.env = s.env.map(diag_env);
        let check = diag::run(store, &copts, ctx.now);
        if !check.fit && !a.force {
            output::emit_stderr(&check, ctx.json);
            let errors: Vec<&str> = check
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.id)
                .collect();
            return Err(Error::Unfit {
                file: label.clone(),
                errors: errors.join(", "),
            });
        }
        findings = check
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .cloned()
            .collect();
        let entry = match &check.entry {
            Some(al) => store
                .entries
                .iter()
                .find(|e| e.alias.as_deref() == Some(al.as_str())),
            None => pick_entry(store, s.alias.as_deref()),
        }
        .ok_or_else(|| {
            Error::Mint(mint::MintError::NoKey(format!(
                "{label} has no private key credkit can choose (add --alias)"
            )))
        })?;
        cert_env = entry
            .chain
            .first()
            .and_then(|c| crate::diagnostics::cas::lookup(&c.issuer))
            .map(|ca| ca.env);
        // aud by the profile's rules.
        let aud = s.aud.clone().or_else(|| match (grant, profile) {
            (_, Profile::Maskinporten) if s.env.is_some() => None,
            (Grant::JwtBearer, _) | (_, Profile::Keycloak) => {
                Some(known_issuer.clone().unwrap_or_else(|| endpoint.clone()))
            }
            _ => Some(endpoint.clone()),
        });
        let opts = MintOptions {
            profile,
            env: s.env,
            iss: client_id.clone(),
            sub: (auth == Auth::PrivateKeyJwt && profile == Profile::Generic)
                .then(|| client_id.clone())
                .flatten(),
            aud,
            scope: if grant == Grant::JwtBearer {
                s.scope.clone()
            } else {
                None
            },
            resource: if grant == Grant::JwtBearer {
                s.resource.clone()
            } else {
                None
            },
            consumer_org: s.consumer_org.clone(),
            claims: s.claims.clone(),
            lifetime: a.lifetime.or(if grant == Grant::JwtBearer {
                Some(120)
            } else {
                None
            }),
            alg: a.alg,
            header: HeaderChoice {
                kid: s.kid.clone(),
                x5c: s.kid.is_none() && profile == Profile::Maskinporten,
                ..HeaderChoice::default()
            },
            force: a.force,
            aud_from_issuer: s.aud.is_none() && issuer_from_metadata,
        };
        let plan = mint::plan(entry, &opts)?;
        let pk = entry
            .private_key
            .as_ref()
            .ok_or_else(|| Error::Mint(mint::MintError::NoKey("no private key".into())))?;
        let signer = Signer::new(pk, plan.alg).map_err(mint::MintError::from)?;
        signing = Some((plan, signer));
    }
    let given_assertion = match &a.assertion {
        Some(arg) => Some(read_assertion(arg)?),
        None => None,
    };

    // Secrets (read once).
    let mut secret = secret_cell(
        s.client_secret.as_ref(),
        a.client_secret_stdin,
        "Client secret",
    );
    let secret = if secret_given {
        Some(secret.get()?.ok_or_else(|| Error::PasswordSource {
            source_name: "the client secret option".into(),
            detail: "no value".into(),
        })?)
    } else {
        None
    };
    let refresh_token = if rt_given {
        let src = if let Some(p) = &a.refresh_token_file {
            SecretSource::File(p.clone())
        } else if let Some(v) = &a.refresh_token_env {
            SecretSource::Env(v.clone())
        } else {
            SecretSource::Stdin
        };
        SecretCell::new(src, "Refresh token").get()?
    } else {
        None
    };
    Ok(Session {
        s,
        grant,
        auth,
        client_id,
        endpoint,
        known_issuer,
        profile,
        client,
        net,
        signing,
        given_assertion,
        secret,
        refresh_token,
        findings,
        cert_env,
        verbose: a.verbose && !ctx.quiet,
        key,
        ctx: ctx.clone(),
    })
}

impl Session {
    /// One request (with its retries): a token, or why not. Prints only the
    /// --verbose trace and retry notices; caches nothing.
    pub fn fetch(&self) -> Result<Cached> {
        let (s, grant, auth) = (&self.s, self.grant, self.auth);
        let cid = self.client_id.clone().unwrap_or_default();
        // Each attempt mints a fresh JWT (new jti, iat now).
        let mut make = |_attempt: u32| -> Result<TokenRequest> {
            let jwt = match (&self.given_assertion, &self.signing) {
                (Some(j), _) => Some(j.clone()),
                (None, Some((plan, signer))) => {
                    Some(mint::mint(plan, signer, self.clock(), 1)?.remove(0))
                }
                (None, None) => None,
            };
            let mut form: Vec<(String, String)> =
                vec![("grant_type".into(), grant.grant_type().into())];
            let mut basic = None;
            match grant {
                Grant::JwtBearer => {
                    form.push(("assertion".into(), jwt.clone().unwrap_or_default()));
                }
                Grant::ClientCredentials | Grant::RefreshToken => {
                    if grant == Grant::RefreshToken {
                        form.push((
                            "refresh_token".into(),
                            self.refresh_token.clone().unwrap_or_default(),
                        ));
                    }
                    if let Some(sc) = &s.scope {
                        form.push(("scope".into(), sc.clone()));
                    }
                    if let Some(r) = &s.resource {
                        form.push(("resource".into(), r.clone()));
                    }
                    match auth {
                        Auth::PrivateKeyJwt => {
                            if !cid.is_empty() {
                                form.push(("client_id".into(), cid.clone()));
                            }
                            form.push((
                                "client_assertion_type".into(),
                                exchange::CLIENT_ASSERTION_TYPE.into(),
                            ));
                            form.push(("client_assertion".into(), jwt.clone().unwrap_or_default()));
                        }
                        Auth::ClientSecretBasic => {
                            basic = Some((cid.clone(), self.secret.clone().unwrap_or_default()));
                        }
                        Auth::ClientSecretPost => {
                            form.push(("client_id".into(), cid.clone()));
                            form.push((
                                "client_secret".into(),
                                self.secret.clone().unwrap_or_default(),
                            ));
                        }
                        Auth::None => form.push(("client_id".into(), cid.clone())),
                    }
                }
            }
            Ok(TokenRequest {
                endpoint: self.endpoint.clone(),
                form,
                basic,
            })
        };
        let (verbose, quiet) = (self.verbose, self.ctx.quiet);
        let mut on_event = |e: exchange::Event| out::event(&e, verbose, quiet);
        let outcome = exchange::send(&self.client, &self.net, &mut make, &mut on_event)?;
        let resp = outcome.result.map_err(Error::Network)?;
        match exchange::parse(&resp) {
            Ok(tok) => {
                let now = self.clock();
                let life = tok.expires_in.unwrap_or(0).max(0);
                Ok(Cached {
                    endpoint: self.key.endpoint.clone(),
                    client_id: cid,
                    response: tok.raw.clone(),
                    obtained_at: now,
                    expires_at: now.saturating_add(life),
                })
            }
            Err(err) => {
                // 5xx and 429 (after the retries), and answers that are not OAuth
                // at all, mean no usable answer (exit 2), not a refusal.
                let looks_oauth = err.error.is_some();
                if resp.status >= 500 || resp.status == 429 || !looks_oauth && resp.status < 400 {
                    let detail = match (&err.error, &err.error_description, &err.body) {
                        (Some(e), Some(d), _) => Some(format!("{e}: {d}")),
                        (Some(e), None, _) => Some(e.clone()),
                        (None, _, b) => b.clone(),
                    };
                    return Err(Error::Server {
                        endpoint: self.endpoint.clone(),
                        status: resp.status,
                        detail: detail.map(|b| output::sanitize::line(&b)),
                    });
                }
                let jwt = outcome
                    .request
                    .form
                    .iter()
                    .find(|(k, _)| k == "assertion" || k == "client_assertion")
                    .map(|(_, v)| v.clone());
                let dctx = Context {
                    endpoint: self.endpoint.clone(),
                    issuer: self.known_issuer.clone(),
                    grant: Some(grant),
                    auth: Some(auth),
                    profile: Some(self.profile),
                    client_id: self.client_id.clone(),
                    scope: s.scope.clone(),
                    claims: jwt.as_deref().and_then(claims_of),
                    assertion_given: self.given_assertion.is_some(),
                    now_pinned: self.ctx.now_pinned,
                    server_date: resp.date.as_deref().and_then(exchange::parse_http_date),
                    local_received: self.clock(),
                    cert_env: self.cert_env,
                    findings: self.findings.clone(),
                };
                Err(Error::Refused(Box::new(diagnose::diagnose(&err, &dctx))))
            }
        }
    }
}

/// Print the token in the chosen form; write the Postman environment.
fn finish(ctx: &Ctx, a: &TokenArgs, s: &Settings, c: &Cached, cached: bool) -> Result<u8> {
    let token = c
        .response
        .get("access_token")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let expires_at = (c.expires_at > c.obtained_at)
        .then(|| rfc3339(c.expires_at))
        .flatten();
    if let Some(p) = &a.postman_env {
        write_postman(p, ctx, s, &token, expires_at.as_deref(), &c.endpoint)?;
        output::status(
            ctx.quiet || ctx.json,
            &format!("credkit: wrote the Postman environment {}", p.display()),
        );
    }
    let report = out::TokenReport {
        response: c.response.clone(),
        expires_at,
        cached,
        token_type: c
            .response
            .get("token_type")
            .and_then(Value::as_str)
            .map(str::to_string),
        header: a.header,
        env_export: a.env_export.clone(),
    };
    output::emit(&report, ctx.json).map_err(|source| Error::Io {
        action: "write",
        path: "standard output".into(),
        source,
    })?;
    Ok(exit::OK)
}

fn write_postman(
    path: &PathBuf,
    ctx: &Ctx,
    s: &Settings,
    token: &str,
    expires_at: Option<&str>,
    endpoint: &str,
) -> Result<()> {
    let io = |source| Error::Io {
        action: "write",
        path: path.display().to_string(),
        source,
    };
    // An existing Postman environment is updated (its other variables kept);
    // any other file is left alone.
    let existing = match std::fs::read(path) {
        Ok(b) => match serde_json::from_slice::<Value>(&b) {
            Ok(v) if v.get("_postman_variable_scope").is_some() => Some(v),
            _ => {
                return Err(io(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the file exists and is not a Postman environment",
                )));
            }
        },
        Err(_) => None,
    };
    let now = rfc3339(ctx.now.unix_timestamp()).unwrap_or_default();
    let vars = out::postman_values(
        token,
        expires_at,
        endpoint,
        s.client_id.as_deref(),
        s.scope.as_deref(),
        s.issuer
            .as_deref()
            .or(s.env.map(|e| e.maskinporten_issuer())),
    );
    let doc = out::postman_env(existing, vars, &now, &mint_uuid());
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| io(std::io::Error::other(e)))?;
    crate::output::files::write_atomic(path, &bytes, true, true).map_err(io)
}

fn mint_uuid() -> String {
    let mut r = [0u8; 16];
    let _ = getrandom::fill(&mut r);
    mint::uuid_v4(&r)
}
