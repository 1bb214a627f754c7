//! `credkit explain`: the diagnosis of a token-endpoint error copied from
//! elsewhere, with the facts the JWT and key given show. Nothing is sent.

use super::input::{load, read_input};
use crate::cli::explain::ExplainArgs;
use crate::ctx::Ctx;
use crate::diagnostics::check::{self as diag, CheckOptions};
use crate::diagnostics::{Finding, Severity, cas};
use crate::error::{Error, Result, exit};
use crate::jwt::decode;
use crate::oauth::diagnose::{self, Context, LocalKey};
use crate::output::{self, token::ExplainReport};
use crate::target::{MaskinportenEnv, Target};
use std::path::Path;

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// An argument, `@FILE`, or standard input (`-` or nothing).
fn read_arg(arg: Option<&str>) -> Result<String> {
    let bytes = match arg {
        None | Some("-") => read_input(Path::new("-"))?,
        Some(a) if a.starts_with('@') => read_input(Path::new(&a[1..]))?,
        Some(a) => return Ok(a.to_string()),
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The provider: --for, else the JWT's aud, else the catalogue's answer.
fn provider(
    a: &ExplainArgs,
    jwt: Option<&decode::Decoded>,
    e: &crate::oauth::exchange::ErrorResponse,
) -> Target {
    if let Some(p) = a.target {
        return p;
    }
    if let Some(d) = jwt {
        let p = Target::detect(&d.audiences());
        if p != Target::Generic {
            return p;
        }
    }
    match diagnose::lookup(e).map(|k| k.provider) {
        Some("Maskinporten") => Target::Maskinporten,
        Some("Okta") => Target::Okta,
        Some("Entra ID") => Target::Entra,
        Some("Keycloak") => Target::Keycloak,
        _ => Target::Generic,
    }
}

pub(crate) fn run(ctx: &Ctx, a: ExplainArgs) -> Result<u8> {
    let stdin_answer = matches!(a.answer.as_deref(), None | Some("-"));
    if stdin_answer && a.assertion.as_deref() == Some("-") {
        return Err(usage(
            "only one value can come from standard input",
            "give the answer as an argument or @FILE when --assertion is -",
        ));
    }
    let text = read_arg(a.answer.as_deref())?;
    let copied = diagnose::parse_copied(&text).ok_or_else(|| {
        usage(
            "there is no answer to explain: the input is empty",
            "give the server's answer as an argument, @FILE or on standard input",
        )
    })?;
    let jwt = match &a.assertion {
        Some(arg) => Some(decode::decode(&read_arg(Some(arg))?)?),
        None => None,
    };
    let client_org = client_org(&a)?;
    let at = at(&a)?;
    // Without --at: the JWT was sent when it was minted (its iat), else now.
    let moment = at
        .or_else(|| jwt.as_ref().and_then(|d| d.num("iat")))
        .unwrap_or(ctx.now.unix_timestamp());
    let profile = provider(&a, jwt.as_ref(), &copied.response);
    let key = match &a.key {
        Some(path) => key_facts(ctx, &a, path, profile, client_org.clone(), moment)?,
        None => KeyFacts::default(),
    };
    let dctx = Context {
        endpoint: a.token_endpoint.clone().unwrap_or_default(),
        issuer: a.issuer.clone(),
        profile: Some(profile),
        client_id: a.client_id.clone().or_else(|| {
            jwt.as_ref()
                .and_then(|d| d.str_claim("iss").map(str::to_string))
        }),
        scope: jwt
            .as_ref()
            .and_then(|d| d.str_claim("scope").map(str::to_string)),
        claims: jwt.as_ref().map(|d| d.claims.clone()),
        header: jwt.as_ref().map(|d| d.header.clone()),
        server_date: at,
        local_received: moment,
        cert_env: key.cert_env,
        findings: key.findings,
        local_key: key.local_key,
        client_org,
        copied: true,
        ..Context::default()
    };
    let d = diagnose::explain(&copied.response, &dctx, moment);
    let report = ExplainReport::new(copied.trace_id, d);
    output::emit(&report, ctx.json).map_err(Error::stdout)?;
    Ok(exit::OK)
}

/// --client-org, checked and written as nine digits.
fn client_org(a: &ExplainArgs) -> Result<Option<String>> {
    let Some(v) = &a.client_org else {
        return Ok(None);
    };
    crate::orgnr::OrgNr::parse(v)
        .map(|o| Some(o.to_string()))
        .map_err(|e| {
            usage(
                e.to_string(),
                "give the 9-digit organisation number that owns the client",
            )
        })
}

/// --at as Unix seconds.
fn at(a: &ExplainArgs) -> Result<Option<i64>> {
    let Some(v) = &a.at else {
        return Ok(None);
    };
    crate::timefmt::parse_rfc3339(v)
        .map(|t| Some(t.unix_timestamp()))
        .map_err(|_| {
            usage(
                format!("--at {v:?} is not an RFC 3339 time"),
                "write it as 2026-11-23T12:00:00Z",
            )
        })
}

/// What the --key file shows about the signing entry.
#[derive(Default)]
struct KeyFacts {
    local_key: Option<LocalKey>,
    /// The Maskinporten environment of the certificate's CA, when known.
    cert_env: Option<MaskinportenEnv>,
    /// `check`'s warnings and errors for the entry, judged at `moment`.
    findings: Vec<Finding>,
}

fn key_facts(
    ctx: &Ctx,
    a: &ExplainArgs,
    path: &Path,
    profile: Target,
    client_org: Option<String>,
    moment: i64,
) -> Result<KeyFacts> {
    let loaded = load(path, &a.passwords)?;
    let mut copts = CheckOptions::new(path.display().to_string());
    copts.alias = a.alias.clone();
    copts.target = profile;
    copts.client_org = client_org;
    // The entry that signed, as `check`, `jwt mint` and `token` choose it; a
    // file with no key that can sign still has its named or only entry explained.
    let entry = crate::diagnostics::described_entry(&loaded.store, &copts).ok_or_else(|| {
        usage(
            format!("{} has no entry credkit can choose", path.display()),
            "name it with --alias (see `credkit inspect`)",
        )
    })?;
    copts.alias = entry.alias.clone();
    let when = time::OffsetDateTime::from_unix_timestamp(moment).unwrap_or(ctx.now);
    Ok(KeyFacts {
        local_key: Some(LocalKey::of(entry)),
        cert_env: entry
            .chain
            .first()
            .and_then(|c| cas::lookup(&c.issuer))
            .map(|ca| ca.env),
        findings: diag::run(&loaded.store, &copts, when)
            .findings
            .into_iter()
            .filter(|f| f.severity != Severity::Info)
            .collect(),
    })
}
