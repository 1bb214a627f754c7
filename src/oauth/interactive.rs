//! The interactive grants: authorization code with PKCE (RFC 6749 §4.1,
//! RFC 7636 S256 always, RFC 8252 loopback redirect, RFC 9126 PAR) and the
//! device authorization grant (RFC 8628). Both end in a token request made
//! by the session like any other (its client authentication, retries,
//! trace and diagnosis); what happens in between (the URL to open, the user
//! code to type) reaches the user through the session's observer.
//!
//! A refresh token that comes back is kept 0600 beside the token cache
//! ([`RefreshStore`]), so `refresh-token` can use it later without the user
//! handling it. Nothing here prints.
#![cfg_attr(not(feature = "client"), allow(dead_code, unused_imports))]

#[cfg(feature = "client")]
use super::client::Session;
use super::client::{ClientError as Error, Problem};
use super::diagnose::Fact;
use super::discovery::Discovered;
use super::exchange::Event;
use crate::error_id::ErrorId;

type Result<T, E = Error> = std::result::Result<T, E>;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The device-code grant's `grant_type` (RFC 8628 §3.4).
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The path of the loopback redirect when none is given.
pub const DEFAULT_PATH: &str = "/callback";

/// How long the user has to sign in when nothing else is said.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The inputs of the interactive grants. `None` = not said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactive {
    /// The loopback port the redirect comes to (0 or none: a free one).
    pub redirect_port: Option<u16>,
    /// The whole redirect URI (`http://127.0.0.1:PORT/PATH`, loopback only).
    pub redirect_uri: Option<String>,
    /// Print the authorization URL instead of opening a browser.
    pub no_browser: Option<bool>,
    /// Push the authorization request first (RFC 9126), even when the
    /// metadata does not require it.
    pub par: Option<bool>,
    /// How long to wait for the user (the redirect, or the device approval).
    pub login_timeout: Option<Duration>,
    /// The authorization endpoint (default: from the issuer's metadata).
    pub authorization_endpoint: Option<String>,
    /// The device authorization endpoint (default: from the metadata).
    pub device_authorization_endpoint: Option<String>,
    /// Show the refresh token in the output (it is stored either way).
    pub show_refresh_token: Option<bool>,
}

impl Interactive {
    /// These settings over `lower`: each field said here wins.
    pub fn over(self, lower: Interactive) -> Interactive {
        Interactive {
            redirect_port: self.redirect_port.or(lower.redirect_port),
            redirect_uri: self.redirect_uri.or(lower.redirect_uri),
            no_browser: self.no_browser.or(lower.no_browser),
            par: self.par.or(lower.par),
            login_timeout: self.login_timeout.or(lower.login_timeout),
            authorization_endpoint: self.authorization_endpoint.or(lower.authorization_endpoint),
            device_authorization_endpoint: self
                .device_authorization_endpoint
                .or(lower.device_authorization_endpoint),
            show_refresh_token: self.show_refresh_token.or(lower.show_refresh_token),
        }
    }
}

/// Why an interactive grant could not be completed (the server's refusals
/// are diagnoses, not these).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InteractiveError {
    #[error("no {what} is known: the issuer's metadata does not name one")]
    NoEndpoint { what: &'static str },
    #[error("the redirect URI {uri:?} is not usable: {why}")]
    RedirectUri { uri: String, why: String },
    #[error("cannot listen for the redirect on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("{what} did not happen within {} s", waited.as_secs())]
    Timeout {
        what: &'static str,
        waited: Duration,
        /// What was sent and where it was waited for.
        facts: Vec<Fact>,
    },
    #[error(
        "the redirect carried state {got:?}, not the one credkit sent: the answer belongs to another login (or was forged), and was not used"
    )]
    StateMismatch { got: String },
    #[error(
        "the ID token's nonce is not the one credkit sent: the token belongs to another login, and was not used"
    )]
    NonceMismatch,
    #[error("{endpoint} answered {what} that credkit cannot use: {detail}")]
    BadAnswer {
        endpoint: String,
        what: &'static str,
        detail: String,
    },
}

impl InteractiveError {
    /// The stable error id.
    pub fn id(&self) -> ErrorId {
        match self {
            InteractiveError::NoEndpoint { .. } => ErrorId::InteractiveNoEndpoint,
            InteractiveError::RedirectUri { .. } => ErrorId::RedirectUri,
            InteractiveError::Listen { .. } => ErrorId::RedirectListen,
            InteractiveError::Timeout { .. } => ErrorId::LoginTimeout,
            InteractiveError::StateMismatch { .. } => ErrorId::OauthStateMismatch,
            InteractiveError::NonceMismatch => ErrorId::OauthNonceMismatch,
            InteractiveError::BadAnswer { .. } => ErrorId::ServerError,
        }
    }
}

/// `n` random bytes, base64url without padding.
pub fn random_b64(n: usize) -> Result<String> {
    let mut b = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut b).map_err(|e| Error::Read {
        path: "the system's random source".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(URL_SAFE_NO_PAD.encode(&*b))
}

/// RFC 7636 §4.2 S256: base64url(SHA-256(verifier)).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Where the redirect comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The socket address to listen on.
    pub addr: SocketAddr,
    /// The path the redirect must have.
    pub path: String,
    /// Given whole (so the port is part of what the server checks).
    pub given: Option<String>,
}

impl Redirect {
    /// From the settings: a loopback `http` URI, or 127.0.0.1 with a port.
    pub fn of(i: &Interactive) -> std::result::Result<Redirect, InteractiveError> {
        let Some(uri) = &i.redirect_uri else {
            return Ok(Redirect {
                addr: SocketAddr::from(([127, 0, 0, 1], i.redirect_port.unwrap_or(0))),
                path: DEFAULT_PATH.into(),
                given: None,
            });
        };
        let bad = |why: &str| InteractiveError::RedirectUri {
            uri: uri.clone(),
            why: why.into(),
        };
        let u = url::Url::parse(uri).map_err(|e| bad(&e.to_string()))?;
        if u.scheme() != "http" {
            return Err(bad(
                "a loopback redirect is plain http (RFC 8252 §7.3); credkit listens only on the loopback interface",
            ));
        }
        let ip: std::net::IpAddr = match u.host() {
            Some(url::Host::Ipv4(a)) if a.is_loopback() => a.into(),
            Some(url::Host::Ipv6(a)) if a.is_loopback() => a.into(),
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                [127, 0, 0, 1].into()
            }
            _ => {
                return Err(bad(
                    "the host must be 127.0.0.1, [::1] or localhost: credkit listens only on the loopback interface",
                ));
            }
        };
        if u.fragment().is_some() {
            return Err(bad("a redirect URI has no fragment (RFC 6749 §3.1.2)"));
        }
        let port = u.port().or(i.redirect_port).unwrap_or(0);
        Ok(Redirect {
            addr: SocketAddr::new(ip, port),
            path: u.path().to_string(),
            given: Some(uri.clone()),
        })
    }
}

/// The loopback listener the browser is sent back to.
pub struct Listener {
    listener: TcpListener,
    path: String,
    /// The redirect URI to send (with the port actually bound).
    pub uri: String,
}

/// The longest request line and headers read from the browser.
const MAX_REQUEST: usize = 16 * 1024;

const PAGE_OK: &str = "<!doctype html><title>credkit</title><p>Signed in. You can close this window and return to the terminal.</p>";
const PAGE_ERR: &str = "<!doctype html><title>credkit</title><p>The sign-in did not succeed. The terminal says why.</p>";

impl Listener {
    /// Listen on the redirect's address (a free port when it says 0).
    pub fn bind(r: &Redirect) -> std::result::Result<Listener, InteractiveError> {
        let listener = TcpListener::bind(r.addr).map_err(|source| InteractiveError::Listen {
            addr: r.addr.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| InteractiveError::Listen {
                addr: r.addr.to_string(),
                source,
            })?
            .port();
        let uri = match &r.given {
            Some(g) => {
                let mut u = url::Url::parse(g).map_err(|e| InteractiveError::RedirectUri {
                    uri: g.clone(),
                    why: e.to_string(),
                })?;
                let _ = u.set_port(Some(port));
                u.to_string()
            }
            None => {
                let host = match r.addr.ip() {
                    std::net::IpAddr::V6(a) => format!("[{a}]"),
                    a => a.to_string(),
                };
                format!("http://{host}:{port}{}", r.path)
            }
        };
        listener
            .set_nonblocking(true)
            .map_err(|source| InteractiveError::Listen {
                addr: r.addr.to_string(),
                source,
            })?;
        Ok(Listener {
            listener,
            path: r.path.clone(),
            uri,
        })
    }

    /// Wait until the redirect arrives (a request for the redirect's path),
    /// or until `deadline`. Other requests (a favicon) get 404. The
    /// answer's query parameters; None on timeout.
    pub fn wait(&self, deadline: Instant) -> Option<Vec<(String, String)>> {
        while Instant::now() < deadline {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if let Some(params) = self.serve(stream) {
                        return Some(params);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        None
    }

    fn serve(&self, mut stream: TcpStream) -> Option<Vec<(String, String)>> {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut buf = Vec::new();
        let mut chunk = [0u8; 2048];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf);
        let line = head.lines().next().unwrap_or("");
        let mut parts = line.split(' ');
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let u = url::Url::parse(&format!("http://loopback{target}")).ok();
        let matches = method == "GET" && u.as_ref().is_some_and(|u| u.path() == self.path);
        if !matches {
            respond(
                &mut stream,
                "404 Not Found",
                "<!doctype html><p>Not here.</p>",
            );
            return None;
        }
        let params: Vec<(String, String)> = u
            .map(|u| u.query_pairs().into_owned().collect())
            .unwrap_or_default();
        let ok = params.iter().any(|(k, _)| k == "code");
        respond(&mut stream, "200 OK", if ok { PAGE_OK } else { PAGE_ERR });
        Some(params)
    }
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Try to open `url` in the user's browser (`xdg-open`, `open`, or
/// `start`). False when no opener could be started; never an error.
pub fn open_browser(url: &str) -> bool {
    let candidates: &[(&str, &[&str])] = if cfg!(target_os = "macos") {
        &[("open", &[])]
    } else if cfg!(windows) {
        &[("rundll32", &["url.dll,FileProtocolHandler"])]
    } else {
        &[("xdg-open", &[])]
    };
    candidates.iter().any(|(prog, pre)| {
        std::process::Command::new(prog)
            .args(*pre)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    })
}

fn fact(id: &'static str, problem: bool, message: String) -> Fact {
    Fact {
        id,
        message: message.into(),
        problem,
    }
}

fn endpoint_of(
    given: &Option<String>,
    meta: Option<&Discovered>,
    pick: fn(&Discovered) -> Option<&String>,
    what: &'static str,
) -> Result<String> {
    let e = given
        .clone()
        .or_else(|| meta.and_then(pick).cloned())
        .ok_or(InteractiveError::NoEndpoint { what })?;
    crate::net::check_url(&e).map_err(|message| Error::Settings(Problem::Url(message)))?;
    Ok(e)
}

fn get<'a>(params: &'a [(String, String)], k: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// The authorization code grant with PKCE: the authorization request
/// (pushed first when asked or required), the browser, the redirect, the
/// code exchanged at the token endpoint.
#[cfg(feature = "client")]
pub fn authorization_code(session: &Session) -> Result<super::cache::Cached> {
    let s = session.settings();
    let i = &s.interactive;
    let meta = session.metadata();
    let authz = endpoint_of(
        &i.authorization_endpoint,
        meta,
        |d| d.authorization_endpoint.as_ref(),
        "authorization endpoint",
    )?;
    let redirect = Redirect::of(i)?;
    let listener = Listener::bind(&redirect)?;
    let verifier = Zeroizing::new(random_b64(32)?);
    let challenge = s256(&verifier);
    let state = random_b64(16)?;
    let nonce = random_b64(16)?;
    let cid = session.client_id().unwrap_or_default().to_string();
    let mut params: Vec<(String, String)> = vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), cid.clone()),
        ("redirect_uri".into(), listener.uri.clone()),
        ("state".into(), state.clone()),
        ("code_challenge".into(), challenge.clone()),
        ("code_challenge_method".into(), "S256".into()),
    ];
    if let Some(sc) = &s.scope {
        params.push(("scope".into(), sc.clone()));
    }
    // OIDC Core §3.1.2.1: a nonce belongs to an OpenID request.
    let oidc = s
        .scope
        .as_deref()
        .is_some_and(|sc| sc.split(' ').any(|x| x == "openid"));
    if oidc {
        params.push(("nonce".into(), nonce.clone()));
    }
    if let Some(r) = &s.resource {
        params.push(("resource".into(), r.clone()));
    }
    let mut facts = vec![
        fact(
            "redirect-uri-sent",
            false,
            format!(
                "redirect_uri sent: {} (it must be registered on the client; for a loopback URI, RFC 8252 §7.3 lets the port vary, but not every server does)",
                listener.uri
            ),
        ),
        fact(
            "pkce-sent",
            false,
            format!(
                "PKCE: code_challenge {challenge} (S256) went in the authorization request; the code_verifier sent with the code hashes to it"
            ),
        ),
    ];
    let required = meta.is_some_and(|d| d.require_pushed_authorization_requests);
    let par = i.par.unwrap_or(false) || required;
    let url = if par {
        let par_ep = endpoint_of(
            &None,
            meta,
            |d| d.pushed_authorization_request_endpoint.as_ref(),
            "pushed authorization request endpoint",
        )?;
        facts.push(fact(
            "par",
            false,
            format!(
                "the authorization request was pushed to {par_ep} (PAR{})",
                if required {
                    ", required by the server's metadata"
                } else {
                    ""
                }
            ),
        ));
        let outcome = session.send(&par_ep, &params)?;
        let resp = outcome
            .result
            .as_ref()
            .map_err(|e| Error::Network(e.clone()))?;
        let json: Option<serde_json::Map<String, Value>> = serde_json::from_str(&resp.body).ok();
        let request_uri = json
            .as_ref()
            .filter(|_| (200..300).contains(&resp.status))
            .and_then(|m| m.get("request_uri"))
            .and_then(Value::as_str)
            .map(str::to_string);
        match request_uri {
            Some(ru) => with_query(&authz, &[("client_id", &cid), ("request_uri", &ru)]),
            None => return Err(session.refusal(&outcome, resp, facts)),
        }
    } else {
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        with_query(&authz, &pairs)
    };
    let browser = !i.no_browser.unwrap_or(false) && open_browser(&url);
    let timeout = i.login_timeout.unwrap_or(DEFAULT_TIMEOUT);
    session.observe(&Event::Authorize {
        url: url.clone(),
        browser,
        redirect_uri: listener.uri.clone(),
        timeout,
    });
    let Some(answer) = listener.wait(Instant::now() + timeout) else {
        facts.insert(
            0,
            fact(
                "no-redirect",
                true,
                format!(
                    "no redirect came to {} within {} s: the sign-in was not finished, or the server did not send the browser back (an error page that says the redirect_uri is not registered means the client must list {})",
                    listener.uri,
                    timeout.as_secs(),
                    listener.uri
                ),
            ),
        );
        return Err(InteractiveError::Timeout {
            what: "the sign-in",
            waited: timeout,
            facts,
        }
        .into());
    };
    let got_state = get(&answer, "state").unwrap_or("");
    // An error without any state is still shown (it can do no harm); a
    // code, or an error, for another state is never used.
    let stateless_error = got_state.is_empty() && get(&answer, "error").is_some();
    if got_state != state && !stateless_error {
        return Err(InteractiveError::StateMismatch {
            got: got_state.into(),
        }
        .into());
    }
    if let Some(err) = get(&answer, "error") {
        // The authorization server refused (RFC 6749 §4.1.2.1).
        let e = super::exchange::ErrorResponse {
            status: 0,
            error: Some(super::redact::text(err)),
            error_description: get(&answer, "error_description").map(super::redact::text),
            error_uri: get(&answer, "error_uri").map(str::to_string),
            error_codes: Vec::new(),
            body: None,
        };
        return Err(session.diagnosis(&e, &authz, None, facts));
    }
    if let Some(iss) = get(&answer, "iss")
        && let Some(known) = session.issuer()
        && iss.trim_end_matches('/') != known.trim_end_matches('/')
    {
        // RFC 9207: the answer names another issuer (a mix-up).
        return Err(InteractiveError::BadAnswer {
            endpoint: listener.uri.clone(),
            what: "a redirect",
            detail: format!(
                "its iss {iss:?} is not the issuer {known:?} (RFC 9207 mix-up defence)"
            ),
        }
        .into());
    }
    let code = Zeroizing::new(
        get(&answer, "code")
            .ok_or_else(|| InteractiveError::BadAnswer {
                endpoint: listener.uri.clone(),
                what: "a redirect",
                detail: "neither code nor error".into(),
            })?
            .to_string(),
    );
    let mut form: Vec<(String, String)> = vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code.to_string()),
        ("redirect_uri".into(), listener.uri.clone()),
        ("code_verifier".into(), verifier.to_string()),
    ];
    if let Some(r) = &s.resource {
        form.push(("resource".into(), r.clone()));
    }
    let endpoint = session.endpoint().to_string();
    let outcome = session.send(&endpoint, &form)?;
    let c = session.conclude(outcome, facts)?;
    // OIDC Core §3.1.3.7: an ID token carries the nonce of its request.
    if oidc
        && let Some(idt) = c.response.get("id_token").and_then(Value::as_str)
        && let Some(claims) = crate::jwt::decode::decode(idt).ok().map(|d| d.claims)
        && claims.get("nonce").and_then(Value::as_str) != Some(nonce.as_str())
    {
        return Err(InteractiveError::NonceMismatch.into());
    }
    Ok(c)
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut u = match url::Url::parse(base) {
        Ok(u) => u,
        Err(_) => return base.to_string(),
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

/// The device authorization grant: ask for a user code, show it, poll.
#[cfg(feature = "client")]
pub fn device_code(session: &Session) -> Result<super::cache::Cached> {
    let s = session.settings();
    let i = &s.interactive;
    let ep = endpoint_of(
        &i.device_authorization_endpoint,
        session.metadata(),
        |d| d.device_authorization_endpoint.as_ref(),
        "device authorization endpoint",
    )?;
    let mut params: Vec<(String, String)> = Vec::new();
    if let Some(sc) = &s.scope {
        params.push(("scope".into(), sc.clone()));
    }
    if let Some(r) = &s.resource {
        params.push(("resource".into(), r.clone()));
    }
    let outcome = session.send(&ep, &params)?;
    let resp = outcome
        .result
        .as_ref()
        .map_err(|e| Error::Network(e.clone()))?;
    let m: serde_json::Map<String, Value> = match serde_json::from_str(&resp.body) {
        Ok(Value::Object(m)) if (200..300).contains(&resp.status) => m,
        _ => return Err(session.refusal(&outcome, resp, Vec::new())),
    };
    let str_of = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let bad = |detail: &str| InteractiveError::BadAnswer {
        endpoint: ep.clone(),
        what: "a device authorization response",
        detail: detail.into(),
    };
    let device_code = Zeroizing::new(str_of("device_code").ok_or_else(|| bad("no device_code"))?);
    let user_code = str_of("user_code").ok_or_else(|| bad("no user_code"))?;
    let verification_uri = str_of("verification_uri")
        .or_else(|| str_of("verification_url"))
        .ok_or_else(|| bad("no verification_uri"))?;
    let complete = str_of("verification_uri_complete");
    let expires_in = m
        .get("expires_in")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("no expires_in"))?;
    // RFC 8628 §3.2: 5 s when the server says nothing.
    let mut interval = m
        .get("interval")
        .and_then(Value::as_u64)
        .unwrap_or(5)
        .max(1);
    session.observe(&Event::DeviceCode {
        user_code: user_code.clone(),
        verification_uri: verification_uri.clone(),
        verification_uri_complete: complete.clone(),
        expires_in,
    });
    // Past the code's life by two polls, so that the server says
    // expired_token itself (a refusal it explains) before credkit gives up.
    let limit = Duration::from_secs(expires_in.saturating_add(interval.saturating_mul(2)))
        .min(i.login_timeout.unwrap_or(Duration::MAX));
    let start = Instant::now();
    let form = vec![
        ("grant_type".to_string(), DEVICE_CODE.to_string()),
        ("device_code".to_string(), device_code.to_string()),
    ];
    let endpoint = session.endpoint().to_string();
    let mut polls = 0u32;
    let mut slowed = 0u32;
    loop {
        let facts = |polls: u32, slowed: u32, interval: u64| {
            vec![fact(
                "device-polled",
                false,
                format!(
                    "credkit showed user code {user_code} for {verification_uri} and polled {polls} time(s) over {} s, every {interval} s{}; the server gave the code {expires_in} s",
                    start.elapsed().as_secs(),
                    if slowed > 0 {
                        format!(" (slowed down {slowed} time(s) when the server said slow_down)")
                    } else {
                        String::new()
                    }
                ),
            )]
        };
        let wait = Duration::from_secs(interval);
        if start.elapsed() + wait > limit {
            let mut f = facts(polls, slowed, interval);
            f.insert(
                0,
                fact(
                    "device-not-approved",
                    true,
                    format!(
                        "nobody approved user code {user_code} at {verification_uri} within {} s",
                        limit.as_secs()
                    ),
                ),
            );
            return Err(InteractiveError::Timeout {
                what: "the approval of the user code",
                waited: limit,
                facts: f,
            }
            .into());
        }
        std::thread::sleep(wait);
        polls += 1;
        let outcome = session.send(&endpoint, &form)?;
        if let Ok(resp) = &outcome.result
            && let Err(e) = super::exchange::parse(resp)
        {
            match e.error.as_deref() {
                Some("authorization_pending") => {
                    session.observe(&Event::Pending {
                        error: "authorization_pending".into(),
                        next_in: Duration::from_secs(interval),
                    });
                    continue;
                }
                Some("slow_down") => {
                    // RFC 8628 §3.5: every later poll waits 5 s more.
                    interval += 5;
                    slowed += 1;
                    session.observe(&Event::Pending {
                        error: "slow_down".into(),
                        next_in: Duration::from_secs(interval),
                    });
                    continue;
                }
                _ => {}
            }
        }
        return session.conclude(outcome, facts(polls, slowed, interval));
    }
}

/// Refresh tokens kept beside the token cache, one 0600 file per endpoint
/// and client: `$XDG_CACHE_HOME/credkit/refresh-tokens/<sha256>.json`.
pub struct RefreshStore {
    dir: PathBuf,
}

/// A stored refresh token.
#[derive(Serialize, Deserialize)]
struct StoredRt {
    format: u32,
    endpoint: String,
    client_id: String,
    refresh_token: String,
    obtained_at: i64,
}

impl Drop for StoredRt {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.refresh_token);
    }
}

impl RefreshStore {
    /// The store beside the token cache directory.
    pub fn beside(cache_dir: &Path) -> RefreshStore {
        RefreshStore {
            dir: cache_dir
                .parent()
                .unwrap_or(cache_dir)
                .join("refresh-tokens"),
        }
    }

    /// The store of the default cache directory.
    pub fn default_store() -> Option<RefreshStore> {
        super::cache::dir().map(|d| RefreshStore::beside(&d))
    }

    fn name(endpoint: &str, client_id: &str) -> String {
        let mut h = Sha256::new();
        h.update(b"credkit refresh token/1\0");
        for p in [endpoint, client_id] {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("{hex}.json")
    }

    /// The file a refresh token of (endpoint, client) is kept in.
    pub fn path(&self, endpoint: &str, client_id: &str) -> PathBuf {
        self.dir.join(Self::name(endpoint, client_id))
    }

    /// The stored refresh token, if there is one (an unsafe file is refused
    /// as the cache refuses it).
    pub fn load(
        &self,
        endpoint: &str,
        client_id: &str,
    ) -> std::result::Result<Option<Zeroizing<String>>, super::cache::Refusal> {
        let Some(bytes) = super::cache::read_private(&self.dir, &Self::name(endpoint, client_id))?
        else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(bytes);
        let Ok(s) = serde_json::from_slice::<StoredRt>(&bytes) else {
            return Ok(None);
        };
        Ok(
            (s.format == 1 && s.endpoint == endpoint && s.client_id == client_id)
                .then(|| Zeroizing::new(s.refresh_token.clone())),
        )
    }

    /// Keep a refresh token (0600, atomically, replacing the one before).
    pub fn save(
        &self,
        endpoint: &str,
        client_id: &str,
        refresh_token: &str,
        now: i64,
    ) -> std::io::Result<PathBuf> {
        let s = StoredRt {
            format: 1,
            endpoint: endpoint.into(),
            client_id: client_id.into(),
            refresh_token: refresh_token.into(),
            obtained_at: now,
        };
        let bytes = Zeroizing::new(serde_json::to_vec_pretty(&s).map_err(std::io::Error::other)?);
        let name = Self::name(endpoint, client_id);
        super::cache::write_private(&self.dir, &name, &bytes)?;
        Ok(self.dir.join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(tag: &str) -> Interactive {
        let n = tag.len() as u16;
        Interactive {
            redirect_port: Some(8000 + n),
            redirect_uri: Some(format!("http://127.0.0.1:{n}/{tag}")),
            no_browser: Some(tag == "upper"),
            par: Some(tag == "upper"),
            login_timeout: Some(Duration::from_secs(u64::from(n))),
            authorization_endpoint: Some(format!("https://{tag}.example/authorize")),
            device_authorization_endpoint: Some(format!("https://{tag}.example/device")),
            show_refresh_token: Some(tag == "upper"),
        }
    }

    #[test]
    fn every_field_said_above_wins() {
        let (upper, lower) = (full("upper"), full("low"));
        let m = upper.clone().over(lower.clone());
        assert_eq!(m.redirect_port, upper.redirect_port);
        assert_eq!(m.redirect_uri, upper.redirect_uri);
        assert_eq!(m.no_browser, upper.no_browser);
        assert_eq!(m.par, upper.par);
        assert_eq!(m.login_timeout, upper.login_timeout);
        assert_eq!(m.authorization_endpoint, upper.authorization_endpoint);
        assert_eq!(
            m.device_authorization_endpoint,
            upper.device_authorization_endpoint
        );
        assert_eq!(m.show_refresh_token, upper.show_refresh_token);
        assert_eq!(Interactive::default().over(lower.clone()), lower);
        assert_eq!(lower.clone().over(Interactive::default()), lower);
    }

    #[test]
    fn s256_is_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn redirect_uris_are_loopback_only() {
        let r = |uri: &str| {
            Redirect::of(&Interactive {
                redirect_uri: Some(uri.into()),
                ..Interactive::default()
            })
        };
        let ok = r("http://127.0.0.1:8765/cb").expect("loopback");
        assert_eq!(ok.addr.port(), 8765);
        assert_eq!(ok.path, "/cb");
        assert!(r("http://[::1]/cb").is_ok());
        assert!(r("http://localhost:1/cb").is_ok());
        assert!(r("https://127.0.0.1/cb").is_err());
        assert!(r("http://example.com/cb").is_err());
        assert!(r("http://127.0.0.1/cb#x").is_err());
        let d = Redirect::of(&Interactive {
            redirect_port: Some(9999),
            ..Interactive::default()
        })
        .expect("port");
        assert_eq!(d.addr.to_string(), "127.0.0.1:9999");
        assert_eq!(d.path, DEFAULT_PATH);
    }

    #[test]
    fn the_listener_takes_only_its_path() {
        let l = Listener::bind(&Redirect::of(&Interactive::default()).expect("r")).expect("bind");
        assert!(l.uri.starts_with("http://127.0.0.1:") && l.uri.ends_with("/callback"));
        let addr = l.listener.local_addr().expect("addr");
        let t = std::thread::spawn(move || {
            let ask = |target: &str| {
                let mut s = TcpStream::connect(addr).expect("connect");
                write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                out
            };
            let a = ask("/favicon.ico");
            let b = ask("/callback?code=abc&state=xyz");
            (a, b)
        });
        let got = l
            .wait(Instant::now() + Duration::from_secs(20))
            .expect("redirect");
        let (a, b) = t.join().expect("client");
        assert!(a.starts_with("HTTP/1.1 404"), "{a}");
        assert!(b.starts_with("HTTP/1.1 200"), "{b}");
        assert_eq!(get(&got, "code"), Some("abc"));
        assert_eq!(get(&got, "state"), Some("xyz"));
    }

    #[test]
    fn refresh_tokens_are_kept_private() {
        let tmp = tempfile::tempdir().expect("tmp");
        let store = RefreshStore::beside(&tmp.path().join("tokens"));
        assert!(store.load("e", "c").expect("load").is_none());
        let p = store.save("e", "c", "rt-1", 0).expect("save");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            store
                .load("e", "c")
                .expect("load")
                .as_deref()
                .map(String::as_str),
            Some("rt-1")
        );
        assert!(store.load("e", "other").expect("load").is_none());
        store.save("e", "c", "rt-2", 1).expect("save");
        assert_eq!(
            store
                .load("e", "c")
                .expect("load")
                .as_deref()
                .map(String::as_str),
            Some("rt-2")
        );
    }
}
