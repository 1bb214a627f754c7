//! `credkit jwt mint | decode | verify`.

use super::input::{load, load_store, read_input};
use crate::cli::jwt::{DecodeArgs, JwtArgs, JwtCommand, MintArgs, VerifyArgs};
use crate::ctx::Ctx;
use crate::diagnostics::check::{self as diag, CheckOptions};
use crate::error::IoAction;
use crate::error::{Error, Result, exit};
use crate::jwt::decode;
use crate::jwt::jws::Signer;
use crate::jwt::mint::{self, HeaderChoice, MintOptions};
use crate::jwt::verify::{self, Candidate, Keys, VerifyOptions};
use crate::net::{BodyCap, Http, HttpOptions};
use crate::output::{
    self,
    jwt::{DecodeReport, MintReport},
};
use crate::target::Target;
use std::io::Read;
use std::path::Path;

pub(crate) fn run(ctx: &Ctx, args: JwtArgs) -> Result<u8> {
    match args.command {
        JwtCommand::Mint(a) => run_mint(ctx, *a),
        JwtCommand::Decode(a) => run_decode(ctx, a),
        JwtCommand::Verify(a) => run_verify(ctx, *a),
    }
}

/// `jwt mint --dpop-proof`: one proof for an API request.
fn run_dpop_proof(ctx: &Ctx, a: &MintArgs) -> Result<u8> {
    use crate::oauth::dpop::{self, DpopKey};
    let key = match &a.key {
        Some(path) => {
            let loaded = load(path, &a.passwords)?;
            let mut copts = CheckOptions::new(path.display().to_string());
            copts.alias = a.alias.clone();
            let entry = crate::diagnostics::signing_entry(&loaded.store, &copts)
                .and_then(|e| e.private_key.as_ref())
                .ok_or_else(|| {
                    Error::from(mint::MintError::NoKey(format!(
                        "{} has no private key credkit can choose (add --alias)",
                        path.display()
                    )))
                })?;
            DpopKey::from_private(entry, a.alg)?
        }
        None => {
            DpopKey::load_or_create(&dpop::default_key_path().ok_or(dpop::DpopError::NoCacheDir)?)?
        }
    };
    let ath = match &a.ath {
        Some(src) => crate::secret::SecretCell::new(src.clone(), "Access token").get()?,
        None => None,
    };
    let htm = a.htm.clone().unwrap_or_default().to_ascii_uppercase();
    let htu = a.htu.clone().unwrap_or_default();
    crate::net::check_url(&htu).map_err(|message| Error::Url { message })?;
    let proof = key.proof(
        &htm,
        &htu,
        a.nonce.as_deref(),
        ath.as_deref().map(|t| t.trim()),
        ctx.now.unix_timestamp(),
    )?;
    let report = crate::output::jwt::DpopProofReport {
        schema: "credkit.jwt.dpop/1",
        proof,
        alg: key.alg().name(),
        jkt: key.thumbprint.clone(),
        htm,
        htu,
    };
    output::emit(&report, ctx.json).map_err(Error::stdout)?;
    Ok(exit::OK)
}

fn run_mint(ctx: &Ctx, a: MintArgs) -> Result<u8> {
    if a.dpop_proof {
        return run_dpop_proof(ctx, &a);
    }
    let key_path = a.key.clone().unwrap_or_default();
    let loaded = load(&key_path, &a.passwords)?;
    let store = &loaded.store;
    // The credential checks run first.
    let mut copts = CheckOptions::new(key_path.display().to_string());
    copts.alias = a.alias.clone();
    copts.target = a.profile;
    copts.env = a.env;
    let check = diag::run(store, &copts, ctx.now);
    if !check.fit && !a.force {
        output::emit_stderr(&check, ctx.json);
        output::status(
            ctx.quiet || ctx.json,
            "credkit: not minting, because the credential failed its checks (add --force to mint anyway)",
        );
        return Ok(exit::NEGATIVE);
    }
    // The entry the check chose, by the same rule.
    let entry = crate::diagnostics::signing_entry(store, &copts).ok_or_else(|| {
        Error::from(mint::MintError::NoKey(format!(
            "{} has no private key credkit can choose{}",
            key_path.display(),
            if a.alias.is_none() {
                " (add --alias)"
            } else {
                ""
            }
        )))
    })?;
    let (count, jobs) = (a.count as usize, mint_jobs(&a));
    let plan = mint::plan(entry, &mint_options(a))?;
    let key = entry
        .private_key
        .as_ref()
        .ok_or_else(|| Error::from(mint::MintError::NoKey("no private key".into())))?;
    let signer = Signer::new(key, plan.alg).map_err(mint::MintError::from)?;
    let minting = Minting {
        plan: &plan,
        signer: &signer,
        now: ctx.now.unix_timestamp(),
        count,
        jobs,
    };
    if ctx.json {
        return mint_json(&minting, entry.alias.clone(), &check);
    }
    mint_warnings(ctx, &check);
    mint_stream(&minting)
}

/// The mint flags as the domain's options.
fn mint_options(a: MintArgs) -> MintOptions {
    MintOptions {
        profile: a.profile,
        env: a.env,
        iss: a.iss,
        sub: a.sub,
        aud: a.aud,
        scope: a.scope,
        resource: a.resource,
        consumer_org: a.consumer_org,
        claims: a.claims,
        lifetime: a.lifetime,
        alg: a.alg,
        header: HeaderChoice {
            x5c: a.x5c,
            x5c_chain: a.x5c_chain,
            kid: a.kid,
            x5t: a.x5t,
            x5t_s256: a.x5t_s256,
            no_typ: false,
        },
        force: a.force,
        aud_from_issuer: false,
        known_issuer: None,
    }
}

/// --jobs, else one thread per core.
fn mint_jobs(a: &MintArgs) -> usize {
    a.jobs.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    })
}

/// What every way of minting needs.
struct Minting<'a> {
    plan: &'a mint::Plan,
    signer: &'a Signer,
    now: i64,
    count: usize,
    jobs: usize,
}

/// `--json`: every token in one report, with the check's findings.
fn mint_json(m: &Minting<'_>, entry: Option<String>, check: &diag::CheckReport) -> Result<u8> {
    let mut tokens = Vec::with_capacity(m.count);
    mint::mint_parallel(m.plan, m.signer, m.now, m.count, m.jobs, |t| {
        tokens.push(t.to_string());
        Ok(mint::Flow::Continue(()))
    })?;
    let report = MintReport {
        schema: "credkit.jwt.mint/1",
        profile: m.plan.profile,
        alg: m.plan.alg.name(),
        entry,
        header: m.plan.header.clone(),
        tokens,
        findings: check.findings.clone(),
    };
    output::emit(&report, true).map_err(Error::stdout)?;
    Ok(exit::OK)
}

/// The check's warnings and errors (not infos, not `entry-selected`) on
/// standard error before the tokens.
fn mint_warnings(ctx: &Ctx, check: &diag::CheckReport) {
    let warnings = check.findings.iter().filter(|f| {
        f.severity != crate::diagnostics::findings::Severity::Info && f.id != "entry-selected"
    });
    for f in warnings {
        output::status(
            ctx.quiet,
            &format!(
                "{}[{}]: {}",
                f.severity.label(),
                f.id,
                output::sanitize::line(&output::remedy::text(&f.message))
            ),
        );
    }
}

/// Stream the tokens: constant memory whatever --count is.
fn mint_stream(m: &Minting<'_>) -> Result<u8> {
    let mut out = output::TokenWriter::new();
    mint::mint_parallel(m.plan, m.signer, m.now, m.count, m.jobs, |t| {
        out.line(t)
            .map_err(|e| mint::MintError::Output(e.to_string()))?;
        // The reader went away: stop minting.
        Ok(if out.is_closed() {
            mint::Flow::Break(())
        } else {
            mint::Flow::Continue(())
        })
    })?;
    out.finish().map_err(Error::stdout)?;
    Ok(exit::OK)
}

/// The token from the argument, `@FILE`, or standard input.
fn read_token(arg: Option<&str>) -> Result<String> {
    match arg {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .lock()
                .take(decode::MAX_TOKEN as u64 + 1)
                .read_to_string(&mut s)
                .map_err(|source| Error::Io {
                    action: IoAction::Read,
                    path: "standard input".into(),
                    source,
                })?;
            Ok(s)
        }
        Some(a) if a.starts_with('@') => {
            let bytes = read_input(Path::new(&a[1..]))?;
            Ok(String::from_utf8_lossy(&bytes).into_owned())
        }
        Some(a) => Ok(a.to_string()),
    }
}

fn run_decode(ctx: &Ctx, a: DecodeArgs) -> Result<u8> {
    let raw = read_token(a.token.as_deref())?;
    let d = decode::decode(&raw)?;
    let profile = a.profile.unwrap_or_else(|| Target::detect(&d.audiences()));
    let problems = decode::problems(&d, profile, ctx.now);
    let report = DecodeReport::new(&d, profile, problems, ctx.now);
    let errors = report.problems.iter().any(|p| p.severity == "error");
    if !ctx.json {
        output::status(
            ctx.quiet,
            "credkit: the signature was NOT verified (use `credkit jwt verify`)",
        );
    }
    output::emit(&report, ctx.json).map_err(Error::stdout)?;
    // A decoder shows the token: problems change the exit status only with --strict.
    Ok(if errors && a.strict {
        exit::NEGATIVE
    } else {
        exit::OK
    })
}

fn candidates_from_store(store: &crate::keystore::Store, label: &str) -> Vec<Candidate> {
    store
        .entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let key = e.public()?.clone();
            let kid = e.kid.clone();
            let thumbprint = key.jwk_thumbprint();
            let name = e
                .alias
                .clone()
                .map(|a| format!("{label} \"{a}\""))
                .unwrap_or_else(|| {
                    if store.entries.len() > 1 {
                        format!("{label}#{i}")
                    } else {
                        label.to_string()
                    }
                });
            Some(Candidate {
                kid,
                thumbprint,
                key,
                label: name,
            })
        })
        .collect()
}

/// Fetch a JWK Set through the one HTTP client (https only except loopback,
/// no redirects, no proxy for loopback, a 16 MiB cap).
fn fetch_jwks(url: &str) -> Result<Vec<u8>> {
    let http = Http::new(HttpOptions::default()).map_err(|message| Error::Url { message })?;
    let answer = http
        .get(
            url,
            "application/jwk-set+json, application/json",
            BodyCap::Jwks,
        )
        .map_err(Error::Network)?;
    if !(200..300).contains(&answer.status) {
        let detail = match answer.header("location") {
            Some(to) if (300..400).contains(&answer.status) => format!(
                "HTTP {}: the server redirects to {to}; credkit does not follow redirects \
                 (give the final URL, over https)",
                answer.status
            ),
            _ => format!("HTTP {}", answer.status),
        };
        return Err(Error::Fetch {
            url: url.to_string(),
            detail,
        });
    }
    Ok(answer.body)
}

fn run_verify(ctx: &Ctx, a: VerifyArgs) -> Result<u8> {
    if a.key.is_none() && a.jwks.is_none() && !a.x5c {
        return Err(Error::Usage {
            message: "say which key verifies the token".into(),
            hint: Some("add --key FILE, --jwks FILE_OR_URL or --x5c [--ca FILE]".into()),
        });
    }
    if a.token.as_deref().is_none_or(|t| t == "-") && a.passwords.password_stdin {
        return Err(Error::Usage {
            message: "the token and the password cannot both come from standard input".into(),
            hint: Some("give the password with --password-file or --password-env".into()),
        });
    }
    let raw = read_token(a.token.as_deref())?;
    let d = decode::decode(&raw)?;
    let keys = if let Some(path) = &a.key {
        let store = load_store(path, &a.passwords)?;
        Keys::Given(candidates_from_store(&store, &path.display().to_string()))
    } else if let Some(src) = &a.jwks {
        let bytes = if src.starts_with("http://") || src.starts_with("https://") {
            fetch_jwks(src)?
        } else {
            read_input(Path::new(src))?
        };
        let text = String::from_utf8_lossy(&bytes);
        let store = crate::keystore::jwk::read(&text).map_err(|e| Error::Input {
            path: src.clone(),
            source: e,
        })?;
        Keys::Given(candidates_from_store(&store, src))
    } else {
        let ca = match &a.ca {
            Some(p) => {
                let store = load_store(p, &a.passwords)?;
                Some(store.entries.iter().flat_map(|e| e.chain.clone()).collect())
            }
            None => None,
        };
        Keys::X5c { ca }
    };
    let verdict = verify::verify(
        &d,
        &keys,
        &VerifyOptions {
            aud: a.aud,
            iss: a.iss,
            leeway: a.leeway,
        },
        ctx.now,
    );
    output::emit(&verdict, ctx.json).map_err(Error::stdout)?;
    Ok(if verdict.valid {
        exit::OK
    } else {
        exit::NEGATIVE
    })
}
