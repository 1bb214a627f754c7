//! `credkit token`: flags, a config profile and a .properties file become
//! one [`TokenSettings`]; the library's token client (`oauth::client`) does
//! the rest. Here: the cache, printing, and the hints that name flags.

use super::input::read_input;
use crate::cli::token::TokenArgs;
use crate::ctx::Ctx;
use crate::error::IoAction;
use crate::error::{Error, Result, exit};
use crate::oauth::cache;
use crate::oauth::client::{self, CacheNotice, Observer, TokenSettings};
use crate::oauth::config::{self, KeySource};
use crate::oauth::interactive::Interactive;
use crate::output::{self, token as out};
use crate::secret::SecretSource;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// Where a secret comes from, by its file, environment and stdin options.
pub(crate) fn flag_secret(
    file: &Option<PathBuf>,
    env: &Option<String>,
    stdin: bool,
) -> Option<SecretSource> {
    file.clone()
        .map(SecretSource::File)
        .or(env.clone().map(SecretSource::Env))
        .or(stdin.then_some(SecretSource::Stdin))
}

fn secs(d: i64) -> Duration {
    Duration::from_secs(d.max(1) as u64)
}

/// What the flags say, as settings.
pub(crate) fn from_flags(a: &TokenArgs) -> Result<TokenSettings> {
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
            Some(v) => Some(
                crate::orgnr::OrgNr::parse(v)
                    .map(|o| o.to_string())
                    .map_err(|e| e.to_string())
                    .map_err(|m| {
                        usage(
                            m,
                            "give the 9-digit organisation number that owns the client",
                        )
                    })?,
            ),
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
        revocation: a.revocation.then_some(true),
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
        interactive: Interactive {
            redirect_port: a.interactive.redirect_port,
            redirect_uri: a.interactive.redirect_uri.clone(),
            no_browser: a.interactive.no_browser.then_some(true),
            par: a.interactive.par.then_some(true),
            login_timeout: a.interactive.login_timeout.map(secs),
            authorization_endpoint: a.interactive.authorization_endpoint.clone(),
            device_authorization_endpoint: a.interactive.device_authorization_endpoint.clone(),
            show_refresh_token: a.interactive.show_refresh_token.then_some(true),
        },
    })
}

/// Flags over the profile or the .properties file.
pub(crate) fn settings_of(a: &TokenArgs) -> Result<TokenSettings> {
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
pub(crate) fn observer(ctx: &Ctx, verbose: bool) -> Observer {
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
    let raw = arg_text(arg)?;
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

pub(crate) fn run(ctx: &Ctx, a: TokenArgs) -> Result<u8> {
    let plan = client::plan(settings_of(&a)?)?;
    let use_cache = !a.no_cache && plan.cacheable();
    let cache_dir = if use_cache { cache::dir() } else { None };
    let mut notice = |n: CacheNotice<'_>| out::cache_notice(&n, ctx.quiet, ctx.quiet || ctx.json);
    let got = client::obtain(
        ctx,
        plan,
        cache_dir.as_deref(),
        a.refresh,
        observer(ctx, a.verbose),
        &mut notice,
    )
    .map_err(|e| show_unfit(ctx, e.into()))?;
    // Warnings of the credential check (on a refusal they are part of the diagnosis).
    out::findings(&got.findings, ctx.quiet || ctx.json);
    if let Some(p) = &a.postman_env {
        out::write_postman(p, ctx.now.unix_timestamp(), &got.settings, &got.token).map_err(
            |source| Error::Io {
                action: IoAction::Write,
                path: p.display().to_string(),
                source,
            },
        )?;
        output::status(
            ctx.quiet || ctx.json,
            &format!("credkit: wrote the Postman environment {}", p.display()),
        );
    }
    let report = out::TokenReport::of(&got.token, got.from_cache, a.header, a.env_export.clone())
        .kept(got.refresh_token_file.as_deref(), ctx.quiet || ctx.json);
    report.warn_binding(ctx.quiet);
    output::emit(&report, ctx.json).map_err(Error::stdout)?;
    Ok(exit::OK)
}
