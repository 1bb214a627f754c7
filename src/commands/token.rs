//! `credkit token`: flags, a config profile and a .properties file become
//! one [`TokenSettings`]; the library's token client (`oauth::client`) does
//! the rest. Here: the cache, printing, and the hints that name flags.

use super::input::read_input;
use crate::cli::token::TokenArgs;
use crate::ctx::Ctx;
use crate::error::{Error, Result, exit};
use crate::oauth::cache::{self, Cached};
use crate::oauth::client::{self, Observer, Problem, TokenSettings};
use crate::oauth::config::{self, KeySource, Secret};
use crate::output::{self, token as out};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// A settings problem, with the hint in terms of `token`'s flags.
impl From<Problem> for Error {
    fn from(p: Problem) -> Error {
        let message = p.to_string();
        match p {
            Problem::NoDestination => usage(
                message,
                "give --env test|prod (Maskinporten), --issuer URL or --token-endpoint URL",
            ),
            Problem::JwtBearerWithAuth => {
                usage(message, "drop --auth, or use --grant client-credentials")
            }
            Problem::NeedsKey(_) => usage(
                message,
                "give --key FILE (and --alias), or a profile that has one",
            ),
            Problem::NeedsSecret(_) => usage(
                message,
                "give --client-secret-file PATH, --client-secret-env VAR or \
                 --client-secret-stdin (never on the command line)",
            ),
            Problem::NeedsRefreshToken => usage(
                message,
                "give --refresh-token-file PATH, --refresh-token-env VAR or \
                 --refresh-token-stdin",
            ),
            Problem::NeedsClientId => usage(
                "--client-id is required",
                "give the client id the server knows (Maskinporten: from Samarbeidsportalen)",
            ),
            Problem::OneStdin => usage(
                message,
                "read the others from a file or an environment variable",
            ),
            Problem::Url(message) => Error::Url { message },
            Problem::NeedsSubjectToken(_) => usage(
                message,
                "give --subject-token @FILE, - (standard input) or env:VAR",
            ),
            Problem::NeedsKeystore(_) => usage(message, "give --key FILE (and --alias)"),
            Problem::Rar(e) => e.into(),
            Problem::Other(e) => *e,
        }
    }
}

/// Where a secret comes from, by its file, environment and stdin options.
pub(crate) fn flag_secret(
    file: &Option<PathBuf>,
    env: &Option<String>,
    stdin: bool,
) -> Option<Secret> {
    file.clone()
        .map(Secret::File)
        .or(env.clone().map(Secret::Env))
        .or(stdin.then_some(Secret::Stdin))
}

fn secs(d: i64) -> Duration {
    Duration::from_secs(d.max(1) as u64)
}

/// What the flags say, as settings.
pub fn from_flags(a: &TokenArgs) -> Result<TokenSettings> {
    let pw = &a.passwords;
    let assertion = match &a.assertion {
        Some(arg) => Some(read_assertion(arg)?),
        None => None,
    };
    Ok(TokenSettings {
        key: a.key.clone().map(KeySource::File),
        alias: a.alias.clone(),
        store_password: flag_secret(&pw.password_file, &pw.password_env, pw.password_stdin),
        key_password: flag_secret(
            &pw.key_password_file,
            &pw.key_password_env,
            pw.key_password_stdin,
        ),
        client_id: a.client_id.clone(),
        scope: a.scope.clone(),
        resource: a.resource.clone(),
        consumer_org: a.consumer_org.clone(),
        client_org: match &a.client_org {
            Some(v) => Some(crate::diagnostics::check::parse_org_number(v).map_err(|m| {
                usage(
                    m,
                    "give the 9-digit organisation number that owns the client",
                )
            })?),
            None => None,
        },
        claims: a.claims.clone(),
        env: a.env,
        issuer: a.issuer.clone(),
        token_endpoint: a.token_endpoint.clone(),
        aud: a.aud.clone(),
        grant: a.grant,
        auth: a.auth,
        jwt_profile: a.jwt_profile,
        kid: a.kid.clone(),
        client_secret: flag_secret(
            &a.client_secret_file,
            &a.client_secret_env,
            a.client_secret_stdin,
        ),
        refresh_token: flag_secret(
            &a.refresh_token_file,
            &a.refresh_token_env,
            a.refresh_token_stdin,
        ),
        ca_file: a.ca_file.clone(),
        assertion,
        assertion_from_stdin: a.assertion.as_deref() == Some("-"),
        connect_timeout: Some(secs(a.connect_timeout)),
        timeout: Some(secs(a.timeout)),
        retries: Some(a.retries),
        lifetime: a.lifetime,
        alg: a.alg,
        force: a.force.then_some(true),
        properties: false,
        dpop: a.dpop,
        authorization_details: a
            .authorization_details
            .as_deref()
            .map(arg_text)
            .transpose()?,
        systemuser_org: a.systemuser_org.clone(),
        subject_token: a.subject_token.clone(),
        subject_token_type: a.subject_token_type.clone(),
        actor_token: a.actor_token.clone(),
        actor_token_type: a.actor_token_type.clone(),
        requested_token_type: a.requested_token_type.clone(),
        audience: a.audience.clone(),
    })
}

/// Flags over the profile or the .properties file.
pub fn settings_of(a: &TokenArgs) -> Result<TokenSettings> {
    Ok(from_flags(a)?.over(settings(a)?))
}

/// A credential that failed its checks: print the check (the findings),
/// then pass the error on.
pub(crate) fn show_unfit(ctx: &Ctx, e: Error) -> Error {
    if let Error::Unfit { report, .. } = &e {
        output::emit_stderr(&**report, ctx.json);
    }
    e
}

/// The verbose trace and retry notices, printed on stderr.
pub fn observer(ctx: &Ctx, verbose: bool) -> Observer {
    let (verbose, quiet) = (verbose && !ctx.quiet, ctx.quiet);
    Box::new(move |e| out::event(e, verbose, quiet))
}

fn settings(a: &TokenArgs) -> Result<TokenSettings> {
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
        return Ok(TokenSettings::default());
    };
    if !explicit && a.profile.is_none() && !path.exists() {
        return Ok(TokenSettings::default());
    }
    let bytes = read_input(&path)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(config::profile_from_toml(
        &text,
        &path,
        a.profile.as_deref(),
    )?)
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

/// A value given inline, as `@FILE`, or `-` for standard input.
fn arg_text(arg: &str) -> Result<String> {
    Ok(match arg.strip_prefix('@') {
        Some(f) => String::from_utf8_lossy(&read_input(Path::new(f))?).into_owned(),
        None if arg == "-" => String::from_utf8_lossy(&read_input(Path::new("-"))?).into_owned(),
        None => arg.to_string(),
    })
}

fn rfc3339(ts: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

pub fn run(ctx: &Ctx, a: TokenArgs) -> Result<u8> {
    let plan = client::plan(settings_of(&a)?)?;
    let use_cache = !a.no_cache && plan.cacheable();
    let cache_dir = if use_cache { cache::dir() } else { None };
    let found = match &cache_dir {
        Some(dir) if !a.refresh => cache::lookup(dir, &plan.key, ctx.clock()).unwrap_or_else(|r| {
            output::status(
                ctx.quiet,
                &format!(
                    "credkit: warning: not using the token cache: {r} ({}); fetching a new token",
                    r.hint()
                ),
            );
            None
        }),
        _ => None,
    };
    if let Some(c) = found {
        output::status(
            ctx.quiet || ctx.json,
            &format!(
                "credkit: token from the cache (expires in {} s)",
                c.expires_at - ctx.clock()
            ),
        );
        return finish(ctx, &a, &plan.s, &c, true);
    }
    let session =
        client::session(ctx, plan, observer(ctx, a.verbose)).map_err(|e| show_unfit(ctx, e))?;
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
            finish(ctx, &a, session.settings(), &c, false)
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

/// Print the token in the chosen form; write the Postman environment.
fn finish(ctx: &Ctx, a: &TokenArgs, s: &TokenSettings, c: &Cached, cached: bool) -> Result<u8> {
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
        binding: client::binding_report(c),
    };
    if report
        .binding
        .as_ref()
        .and_then(|b| b["cnf_matches"].as_bool())
        == Some(false)
    {
        output::status(
            ctx.quiet,
            "credkit: warning: the token's cnf names another key or certificate than the one credkit holds",
        );
    }
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
    s: &TokenSettings,
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
    crate::jwt::mint::uuid_v4(&r)
}
