//! `credkit serve broker` and `credkit serve mock-maskinporten`: load and
//! check everything at start, bind, print where it listens, then serve.

use super::input::{load_store, read_input};
use super::token;
use crate::cert::extensions;
use crate::cli::password::PasswordArgs;
use crate::cli::serve::{BrokerArgs, MockArgs, RevocationArgs, ServeArgs, ServeCommand};
use crate::ctx::Ctx;
use crate::error::IoAction;
use crate::error::{Error, Result};
use crate::oauth::client::{self, TokenSettings};
use crate::oauth::config;
use crate::oauth::mock::{self, Mock, MockOptions};
use crate::output::{self, serve as out};
use crate::revocation::issue::{self, Authority, IssueError, Signer};
use crate::revocation::list::RevocationList;
use crate::serve::broker::{Broker, Failure, SECRET_HEADER, postman_script};
use crate::serve::http::{self, LogLine, Logger};
use crate::serve::mock::MockServer;
use crate::serve::revocation::{ListSource, RevocationServer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub(crate) fn run(ctx: &Ctx, a: ServeArgs) -> Result<u8> {
    match a.command {
        ServeCommand::Broker(b) => broker(ctx, b),
        ServeCommand::MockMaskinporten(m) => mock(ctx, m),
        ServeCommand::Revocation(r) => revocation(ctx, r),
    }
}

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// Bind, and the port bound (`--port 0` picks a free one).
fn listen(addr: SocketAddr) -> Result<(std::net::TcpListener, u16)> {
    let io = |source| Error::Io {
        action: IoAction::ListenOn,
        path: addr.to_string(),
        source,
    };
    let listener = http::bind(addr).map_err(io)?;
    let port = listener.local_addr().map_err(io)?.port();
    Ok((listener, port))
}

fn logger(quiet: bool) -> Option<Logger> {
    (!quiet).then(|| {
        Arc::new(|l: &LogLine| {
            output::status(
                false,
                &out::log_line(&l.method, &l.path, l.status, l.elapsed.as_micros()),
            )
        }) as Logger
    })
}

fn workers(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// The settings a profile stands for: the profile, under the broker's
/// password options (as `credkit token --profile NAME` would see them).
fn profile_settings(path: &std::path::Path, name: &str, b: &BrokerArgs) -> Result<TokenSettings> {
    let text = read_input(path)?;
    let profile = config::profile_from_toml(&String::from_utf8_lossy(&text), path, Some(name))?;
    let pw = &b.passwords;
    let flags = TokenSettings {
        store_password: token::flag_secret(&pw.password_file, &pw.password_env, pw.password_stdin),
        key_password: token::flag_secret(
            &pw.key_password_file,
            &pw.key_password_env,
            pw.key_password_stdin,
        ),
        ..TokenSettings::default()
    };
    Ok(flags.over(profile))
}

/// The config file and the profiles to serve: those named, else all of the file's.
fn profile_names(b: &BrokerArgs) -> Result<(PathBuf, Vec<String>)> {
    let path = b
        .config
        .clone()
        .or_else(config::default_path)
        .ok_or_else(|| usage("no config file to read profiles from", "give --config FILE"))?;
    let names = if b.profiles.is_empty() {
        let text = read_input(&path)?;
        config::profile_names(&String::from_utf8_lossy(&text), &path)?
    } else {
        b.profiles.clone()
    };
    if names.is_empty() {
        return Err(usage(
            format!("{} has no profiles", path.display()),
            "add a [profiles.NAME] table (see `credkit token --help`)",
        ));
    }
    if names.len() > 1 && (b.passwords.password_stdin || b.passwords.key_password_stdin) {
        return Err(usage(
            "standard input can give the password of one profile only",
            "serve one profile, or name password_env/password_file in each profile",
        ));
    }
    Ok((path, names))
}

/// Prepare each profile's session (asking for passwords, signing in once for
/// an interactive grant) and hand it to the broker.
fn add_profiles(
    ctx: &Ctx,
    broker: &mut Broker,
    path: &std::path::Path,
    names: &[String],
    b: &BrokerArgs,
) -> Result<()> {
    for name in names {
        let settings = profile_settings(path, name, b)?;
        output::status(ctx.quiet, &format!("credkit: loading profile {name}"));
        let session = client::prepare(ctx, settings, token::observer(ctx, b.verbose))
            .map_err(|p| token::show_unfit(ctx, Error::from(p)))?;
        out_findings(&session, ctx);
        // An interactive grant signs in here, on the console, once; its kept
        // refresh token renews the profile's token from then on.
        let first = if session.is_interactive() {
            Some(session.fetch()?)
        } else {
            None
        };
        let session = std::sync::Arc::new(session);
        let fetcher = session.clone();
        broker.add_profile(
            name.clone(),
            Box::new(move || {
                fetcher.fetch().map_err(|e| {
                    let (status, body) = out::failure(&Error::from(e));
                    Failure { status, body }
                })
            }),
        );
        if session.has_dpop() {
            broker.add_prover(
                name,
                Box::new(move |htm, htu, nonce, at| {
                    match session.dpop_proof(htm, htu, nonce, at) {
                        Some(Ok(p)) => Ok(p),
                        Some(Err(e)) => {
                            let (status, body) = out::failure(&Error::from(e));
                            Err(Failure { status, body })
                        }
                        None => Err(Failure {
                            status: 404,
                            body: serde_json::json!({"error": "no_dpop_key"}),
                        }),
                    }
                }),
            );
        }
        if let Some(c) = first {
            broker.seed(name, c);
        }
    }
    Ok(())
}

/// What the broker prints at start.
fn broker_started(b: &BrokerArgs, port: u16, secret: &str, names: &[String]) -> out::Started {
    out::Started {
        schema: "credkit.serve.broker/1",
        url: format!("http://127.0.0.1:{port}"),
        port,
        secret: Some(secret.to_string()),
        secret_header: Some("X-Credkit-Secret"),
        profiles: names.to_vec(),
        postman_scripts: if b.postman_script {
            names
                .iter()
                .map(|n| (n.clone(), postman_script(port, n, secret)))
                .collect()
        } else {
            Vec::new()
        },
        issuer: None,
        token_endpoint: None,
        jwks_uri: None,
        clients: Vec::new(),
    }
}

fn broker(ctx: &Ctx, b: BrokerArgs) -> Result<u8> {
    let (path, names) = profile_names(&b)?;
    // Bind first: a port in use fails before any password is asked.
    let (listener, port) = listen(SocketAddr::from(([127, 0, 0, 1], b.port)))?;
    let secret = crate::serve::random_secret().map_err(|e| Error::Io {
        action: IoAction::MakeSecretWith,
        path: "the system's random source".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let clock = ctx.clone();
    let mut broker = Broker::new(port, secret.clone(), Box::new(move || clock.clock()));
    add_profiles(ctx, &mut broker, &path, &names, &b)?;
    if let Some(f) = &b.secret_file {
        crate::output::files::write_atomic(f, format!("{secret}\n").as_bytes(), b.force, true)
            .map_err(|source| Error::Io {
                action: IoAction::Write,
                path: f.display().to_string(),
                source,
            })?;
    }
    debug_assert_eq!(SECRET_HEADER, "x-credkit-secret");
    emit_started(&broker_started(&b, port, &secret, &names), ctx)?;
    http::serve(
        listener,
        Arc::new(broker),
        workers(b.threads),
        logger(ctx.quiet),
    )
    .map_err(|source| Error::Io {
        action: IoAction::ServeOn,
        path: format!("127.0.0.1:{port}"),
        source,
    })?;
    Ok(0)
}

fn out_findings(session: &client::Session, ctx: &Ctx) {
    crate::output::token::findings(&session.findings, ctx.quiet || ctx.json);
}

fn emit_started<R: output::Render>(r: &R, ctx: &Ctx) -> Result<()> {
    // One line of JSON, so a script can read the first line.
    if ctx.json {
        let mut s = serde_json::to_string(r).unwrap_or_default();
        s.push('\n');
        output::write_stdout(s.as_bytes())
    } else {
        output::emit(r, false)
    }
    .map_err(Error::stdout)
}

fn mock(ctx: &Ctx, m: MockArgs) -> Result<u8> {
    // The CA certificates: every certificate in the file is a trust anchor.
    let cas: Vec<_> = load_store(&m.ca, &PasswordArgs::default())?
        .entries
        .into_iter()
        .flat_map(|e| e.chain)
        .collect();
    if cas.is_empty() {
        return Err(usage(
            format!("{} holds no certificate", m.ca.display()),
            "give the CA certificates (PEM or DER), e.g. ca-chain.pem from `credkit keygen --fixture-set`",
        ));
    }
    let text = read_input(&m.clients)?;
    let clients = mock::parse_clients(&String::from_utf8_lossy(&text), &m.clients)?;
    if clients.clients.is_empty() {
        return Err(usage(
            format!("{} registers no client", m.clients.display()),
            "add a [[client]] table with client_id, org and scopes (see `credkit serve mock-maskinporten --help`)",
        ));
    }
    let signing_key = match &m.signing_key {
        Some(p) => {
            let store = load_store(p, &m.passwords)?;
            let key = store
                .entries
                .into_iter()
                .find_map(|e| e.private_key)
                .ok_or_else(|| {
                    usage(
                        format!("{} holds no private key", p.display()),
                        "give an RSA private key (PEM, PKCS#12, JKS or JWK)",
                    )
                })?;
            Some(key)
        }
        None => None,
    };
    let revoked = match &m.revocation_list {
        Some(p) => super::input::revocation_list(p)?,
        None => Default::default(),
    };
    let (listener, port) = listen(SocketAddr::new(m.bind, m.port))?;
    let issuer = m
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{port}/"));
    let client_ids: Vec<String> = clients
        .clients
        .iter()
        .map(|c| c.client_id.clone())
        .collect();
    let mock = Mock::new(
        cas,
        clients,
        MockOptions {
            issuer: issuer.clone(),
            token_lifetime: m.token_lifetime,
            iat_skew: m.iat_skew,
            forced: m.force_errors.clone(),
        },
        signing_key,
    )?
    .with_revocation_list(revoked);
    let (clock, offset) = (ctx.clone(), m.clock_offset);
    let server = MockServer {
        mock,
        clock: Box::new(move || clock.clock() + offset),
    };
    let base = issuer.trim_end_matches('/').to_string();
    let report = out::Started {
        schema: "credkit.serve.mock-maskinporten/1",
        url: format!("http://{}", SocketAddr::new(m.bind, port)),
        port,
        secret: None,
        secret_header: None,
        profiles: Vec::new(),
        postman_scripts: Vec::new(),
        issuer: Some(issuer.clone()),
        token_endpoint: Some(format!("{base}/token")),
        jwks_uri: Some(format!("{base}/jwk")),
        clients: client_ids,
    };
    emit_started(&report, ctx)?;
    http::serve(
        listener,
        Arc::new(server),
        workers(m.threads),
        logger(ctx.quiet),
    )
    .map_err(|source| Error::Io {
        action: IoAction::ServeOn,
        path: format!("{}:{port}", m.bind),
        source,
    })?;
    Ok(0)
}

/// The CA entries of a file: every entry with a CA certificate and its key.
fn ca_signers(path: &std::path::Path, passwords: &PasswordArgs) -> Result<Vec<Signer>> {
    let store = load_store(path, passwords)?;
    let mut out = Vec::new();
    for e in crate::cert::issue::ca_candidates(&store.entries) {
        let alias = e.alias.clone().unwrap_or_else(|| "ca".into());
        let ca = crate::cert::issue::Ca::from_entry(e, &alias)?;
        out.push(Signer {
            cert: ca.chain[0].clone(),
            key: ca.key,
        });
    }
    if out.is_empty() {
        return Err(usage(
            format!(
                "{} holds no CA certificate with its private key",
                path.display()
            ),
            "give the CA's key store, e.g. ca-intermediate.p12 from `credkit keygen --fixture-set`",
        ));
    }
    Ok(out)
}

/// The key and certificate of `--responder`: its first entry that has both.
fn responder_signer(path: &std::path::Path, passwords: &PasswordArgs) -> Result<Signer> {
    let store = load_store(path, passwords)?;
    let found = store.entries.into_iter().find_map(|e| {
        let cert = e.chain.first()?.clone();
        Some(Signer {
            cert,
            key: e.private_key?,
        })
    });
    found.ok_or_else(|| {
        usage(
            format!("{} holds no private key with a certificate", path.display()),
            "make a responder with `credkit keygen --ca CA --usage ocsp`",
        )
    })
}

/// The CAs of every `--ca` file, and the responder under the CA that issued it.
fn authorities(r: &RevocationArgs) -> Result<Vec<Authority>> {
    let mut cas: Vec<Signer> = Vec::new();
    for path in &r.cas {
        cas.extend(ca_signers(path, &r.passwords)?);
    }
    let responder = match &r.responder {
        Some(p) => Some(responder_signer(p, &r.passwords)?),
        None => None,
    };
    issue::authorities(cas, responder).map_err(|e| {
        let hint = match e {
            IssueError::ResponderIssuer(_) => "give its issuing CA with --ca",
            _ => "make a responder with `credkit keygen --ca CA --usage ocsp`",
        };
        Error::Revocation {
            id: crate::error_id::ErrorId::RevocationResponder,
            message: e.to_string(),
            hint: hint.into(),
        }
    })
}

/// The revocation list's path and its contents at start (read once, so a
/// broken list stops the server at once); a named list must exist.
fn start_list(r: &RevocationArgs) -> Result<(PathBuf, RevocationList)> {
    let list_path = r
        .revocation_list
        .clone()
        .unwrap_or_else(|| crate::revocation::list::default_path(&r.cas[0]));
    let list = if list_path.exists() {
        super::input::revocation_list(&list_path)?
    } else if r.revocation_list.is_some() {
        return Err(Error::Revocation {
            id: crate::error_id::ErrorId::RevocationList,
            message: format!("the revocation list {} does not exist", list_path.display()),
            hint: "make it with `credkit keygen --revoke CERT --ca CA --revocation-list FILE`"
                .into(),
        });
    } else {
        RevocationList::default()
    };
    Ok((list_path, list))
}

/// Where each CA's data is served, for the report.
fn served_cas(authorities: &[Authority], url: &str) -> Vec<out::ServedCa> {
    authorities
        .iter()
        .map(|a| {
            let slug = extensions::ca_slug(a.ca.cert.subject.get(crate::cert::oid::COMMON_NAME));
            out::ServedCa {
                subject: a.ca.cert.subject.to_display(),
                crl_url: extensions::crl_url(url, &slug),
                certificate_url: extensions::ca_issuers_url(url, &slug),
                ocsp_responder: a.responder.as_ref().map(|s| s.cert.subject.to_display()),
            }
        })
        .collect()
}

fn revocation(ctx: &Ctx, r: RevocationArgs) -> Result<u8> {
    let authorities = authorities(&r)?;
    let (list_path, start_list) = start_list(&r)?;
    let (listener, port) = listen(SocketAddr::new(r.bind, r.port))?;
    let url = format!("http://{}", SocketAddr::new(r.bind, port));
    let report = out::RevocationStarted {
        schema: "credkit.serve.revocation/1",
        url: url.clone(),
        port,
        ocsp_url: extensions::ocsp_url(&url),
        revocation_list: Some(list_path.display().to_string()),
        revoked: start_list.entries.len(),
        cas: served_cas(&authorities, &url),
    };
    let clock = ctx.clone();
    let server = RevocationServer::new(
        authorities,
        ListSource::File(list_path),
        r.validity.max(1),
        Box::new(move || clock.clock()),
    );
    emit_started(&report, ctx)?;
    http::serve(
        listener,
        Arc::new(server),
        workers(r.threads),
        logger(ctx.quiet),
    )
    .map_err(|source| Error::Io {
        action: IoAction::ServeOn,
        path: format!("{}:{port}", r.bind),
        source,
    })?;
    Ok(0)
}
