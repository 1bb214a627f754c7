//! The interactive grants: authorization code with PKCE (RFC 6749 §4.1,
//! RFC 7636 S256 always, RFC 8252 loopback redirect, RFC 9126 PAR) and the
//! device authorization grant (RFC 8628). Both end in a token request made
//! by the session like any other (its client authentication, retries,
//! trace and diagnosis); what happens in between (the URL to open, the user
//! code to type) reaches the user through the session's observer.
//!
//! A refresh token that comes back is kept 0600 beside the token cache
//! (`RefreshStore`), so the refresh-token grant can use it later without the
//! user handling it. Nothing here prints.
//!
//! Public are only the grants' inputs ([`Interactive`], a part of
//! [`TokenSettings`](super::client::TokenSettings)) and their errors
//! ([`InteractiveError`]): a library user runs these grants through
//! [`Session::fetch`](super::client::Session::fetch) (feature `client`).
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
pub(crate) const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The path of the loopback redirect when none is given.
pub(crate) const DEFAULT_PATH: &str = "/callback";

/// How long the user has to sign in when nothing else is said.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

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
    /// The endpoint the grant needs was not given and the metadata does not
    /// name it (or there is no metadata).
    #[error("no {what} is known: the issuer's metadata does not name one")]
    NoEndpoint {
        /// Which endpoint (`authorization endpoint`, ...).
        what: &'static str,
    },
    /// The redirect URI given cannot be listened on: not a URL, not plain
    /// http, not loopback, or with a fragment.
    #[error("the redirect URI {uri:?} is not usable: {why}")]
    RedirectUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        why: String,
    },
    /// The loopback address of the redirect cannot be listened on (the port
    /// is taken, for example).
    #[error("cannot listen for the redirect on {addr}: {source}")]
    Listen {
        /// The socket address (`127.0.0.1:PORT`).
        addr: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The user did not sign in, or approve the user code, in time.
    #[error("{what} did not happen within {} s", waited.as_secs())]
    Timeout {
        /// What was waited for (`the sign-in`, ...).
        what: &'static str,
        /// How long credkit waited.
        waited: Duration,
        /// What was sent and where it was waited for.
        facts: Vec<Fact>,
    },
    /// The redirect's `state` is not the one sent: its code or error is not
    /// used.
    #[error(
        "the redirect carried state {got:?}, not the one credkit sent: the answer belongs to another login (or was forged), and was not used"
    )]
    StateMismatch {
        /// The state the redirect carried (empty when none).
        got: String,
    },
    /// The ID token's `nonce` is not the one sent (OpenID Connect).
    #[error(
        "the ID token's nonce is not the one credkit sent: the token belongs to another login, and was not used"
    )]
    NonceMismatch,
    /// An answer that is not an OAuth refusal but cannot be used (a redirect
    /// with neither code nor error, another issuer's redirect, a device
    /// authorization response without its required members).
    #[error("{endpoint} answered {what} that credkit cannot use: {detail}")]
    BadAnswer {
        /// Where the answer came from (the redirect URI, the endpoint).
        endpoint: String,
        /// What kind of answer (`a redirect`, ...).
        what: &'static str,
        /// What is wrong with it.
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
pub(crate) fn random_b64(n: usize) -> Result<String> {
    let mut b = Zeroizing::new(vec![0u8; n]);
    getrandom::fill(&mut b).map_err(|e| Error::Read {
        path: "the system's random source".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(URL_SAFE_NO_PAD.encode(&*b))
}

/// RFC 7636 §4.2 S256: base64url(SHA-256(verifier)).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Where the redirect comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redirect {
    /// The socket address to listen on.
    pub(crate) addr: SocketAddr,
    /// The path the redirect must have.
    pub(crate) path: String,
    /// Given whole (so the port is part of what the server checks).
    pub(crate) given: Option<String>,
}

impl Redirect {
    /// From the settings: a loopback `http` URI, or 127.0.0.1 with a port.
    pub(crate) fn of(i: &Interactive) -> std::result::Result<Redirect, InteractiveError> {
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
pub(crate) struct Listener {
    listener: TcpListener,
    path: String,
    /// The redirect URI to send (with the port actually bound).
    pub(crate) uri: String,
}

/// The longest request line and headers read from the browser.
const MAX_REQUEST: usize = 16 * 1024;

const PAGE_OK: &str = "<!doctype html><title>credkit</title><p>Signed in. You can close this window and return to the terminal.</p>";
const PAGE_ERR: &str = "<!doctype html><title>credkit</title><p>The sign-in did not succeed. The terminal says why.</p>";

impl Listener {
    /// Listen on the redirect's address (a free port when it says 0).
    pub(crate) fn bind(r: &Redirect) -> std::result::Result<Listener, InteractiveError> {
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
    pub(crate) fn wait(&self, deadline: Instant) -> Option<Vec<(String, String)>> {
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
pub(crate) fn open_browser(url: &str) -> bool {
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
pub(crate) fn authorization_code(session: &Session) -> Result<super::cache::Cached> {
    let login = CodeLogin::start(session)?;
    let mut facts = login.facts();
    let url = login.authorization_url(&mut facts)?;
    let answer = login.redirect(&url, &mut facts)?;
    let code = login.code(&answer, &mut facts)?;
    login.exchange(&code, facts)
}

/// One run of the authorization code grant: where the user signs in, where
/// the browser comes back to, and the values that tie the answer to this
/// run.
#[cfg(feature = "client")]
struct CodeLogin<'a> {
    session: &'a Session,
    /// The authorization endpoint.
    authz: String,
    /// Where the redirect comes to (its URI is the `redirect_uri` sent).
    listener: Listener,
    /// PKCE's code_verifier (RFC 7636 §4.1); sent with the code only.
    verifier: Zeroizing<String>,
    /// The verifier's S256 hash, sent in the authorization request.
    challenge: String,
    state: String,
    /// The OpenID nonce (sent only when `oidc`).
    nonce: String,
    /// The scope asks for openid: a nonce goes out, the ID token must carry it.
    oidc: bool,
}

#[cfg(feature = "client")]
impl<'a> CodeLogin<'a> {
    /// Find the authorization endpoint, listen for the redirect, make the
    /// PKCE verifier, the state and the nonce.
    fn start(session: &'a Session) -> Result<CodeLogin<'a>> {
        let s = session.settings();
        let i = &s.interactive;
        let authz = endpoint_of(
            &i.authorization_endpoint,
            session.metadata(),
            |d| d.authorization_endpoint.as_ref(),
            "authorization endpoint",
        )?;
        let redirect = Redirect::of(i)?;
        let listener = Listener::bind(&redirect)?;
        let verifier = Zeroizing::new(random_b64(32)?);
        let challenge = s256(&verifier);
        let state = random_b64(16)?;
        let nonce = random_b64(16)?;
        // OIDC Core §3.1.2.1: a nonce belongs to an OpenID request.
        let oidc = s
            .scope
            .as_deref()
            .is_some_and(|sc| sc.split(' ').any(|x| x == "openid"));
        Ok(CodeLogin {
            session,
            authz,
            listener,
            verifier,
            challenge,
            state,
            nonce,
            oidc,
        })
    }

    /// The client id sent (empty when none is known).
    fn client_id(&self) -> String {
        self.session.client_id().unwrap_or_default().to_string()
    }

    /// What the diagnosis of a later refusal is told about this run.
    fn facts(&self) -> Vec<Fact> {
        vec![
            fact(
                "redirect-uri-sent",
                false,
                format!(
                    "redirect_uri sent: {} (it must be registered on the client; for a loopback URI, RFC 8252 §7.3 lets the port vary, but not every server does)",
                    self.listener.uri
                ),
            ),
            fact(
                "pkce-sent",
                false,
                format!(
                    "PKCE: code_challenge {} (S256) went in the authorization request; the code_verifier sent with the code hashes to it",
                    self.challenge
                ),
            ),
        ]
    }

    /// The authorization request's parameters (RFC 6749 §4.1.1, RFC 7636 §4.3).
    fn request(&self) -> Vec<(String, String)> {
        let s = self.session.settings();
        let mut params: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), self.client_id()),
            ("redirect_uri".into(), self.listener.uri.clone()),
            ("state".into(), self.state.clone()),
            ("code_challenge".into(), self.challenge.clone()),
            ("code_challenge_method".into(), "S256".into()),
        ];
        if let Some(sc) = &s.scope {
            params.push(("scope".into(), sc.clone()));
        }
        if self.oidc {
            params.push(("nonce".into(), self.nonce.clone()));
        }
        if let Some(r) = &s.resource {
            params.push(("resource".into(), r.clone()));
        }
        params
    }

    /// The URL the user opens: the request in its query, or (PAR, when asked
    /// or required by the metadata) only the `request_uri` it was pushed as.
    fn authorization_url(&self, facts: &mut Vec<Fact>) -> Result<String> {
        let params = self.request();
        let meta = self.session.metadata();
        let required = meta.is_some_and(|d| d.require_pushed_authorization_requests);
        if !(self.session.settings().interactive.par.unwrap_or(false) || required) {
            let pairs: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            return Ok(with_query(&self.authz, &pairs));
        }
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
        self.push(&par_ep, &params, facts)
    }

    /// Push the authorization request (RFC 9126 §2.1); the URL with the
    /// `request_uri` the server answered, or its refusal explained.
    fn push(
        &self,
        par_ep: &str,
        params: &[(String, String)],
        facts: &mut Vec<Fact>,
    ) -> Result<String> {
        let outcome = self.session.send(par_ep, params)?;
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
            Some(ru) => Ok(with_query(
                &self.authz,
                &[("client_id", &self.client_id()), ("request_uri", &ru)],
            )),
            None => Err(self.session.refusal(&outcome, resp, std::mem::take(facts))),
        }
    }

    /// Show the URL (and open the browser unless told not to), then wait for
    /// the redirect's query parameters, at most the login timeout.
    fn redirect(&self, url: &str, facts: &mut Vec<Fact>) -> Result<Vec<(String, String)>> {
        let i = &self.session.settings().interactive;
        let browser = !i.no_browser.unwrap_or(false) && open_browser(url);
        let timeout = i.login_timeout.unwrap_or(DEFAULT_TIMEOUT);
        self.session.observe(&Event::Authorize {
            url: url.to_string(),
            browser,
            redirect_uri: self.listener.uri.clone(),
            timeout,
        });
        if let Some(answer) = self.listener.wait(Instant::now() + timeout) {
            return Ok(answer);
        }
        let uri = &self.listener.uri;
        facts.insert(
            0,
            fact(
                "no-redirect",
                true,
                format!(
                    "no redirect came to {uri} within {} s: the sign-in was not finished, or the server did not send the browser back (an error page that says the redirect_uri is not registered means the client must list {uri})",
                    timeout.as_secs(),
                ),
            ),
        );
        Err(InteractiveError::Timeout {
            what: "the sign-in",
            waited: timeout,
            facts: std::mem::take(facts),
        }
        .into())
    }

    /// The code of a redirect that belongs to this run: the state sent, no
    /// error (the server's refusal is explained), the issuer known.
    fn code(
        &self,
        answer: &[(String, String)],
        facts: &mut Vec<Fact>,
    ) -> Result<Zeroizing<String>> {
        let got_state = get(answer, "state").unwrap_or("");
        // An error without any state is still shown (it can do no harm); a
        // code, or an error, for another state is never used.
        let stateless_error = got_state.is_empty() && get(answer, "error").is_some();
        if got_state != self.state && !stateless_error {
            return Err(InteractiveError::StateMismatch {
                got: got_state.into(),
            }
            .into());
        }
        if let Some(err) = get(answer, "error") {
            // The authorization server refused (RFC 6749 §4.1.2.1).
            let e = super::exchange::ErrorResponse {
                status: 0,
                error: Some(super::redact::text(err)),
                error_description: get(answer, "error_description").map(super::redact::text),
                error_uri: get(answer, "error_uri").map(str::to_string),
                error_codes: Vec::new(),
                body: None,
            };
            return Err(self
                .session
                .diagnosis(&e, &self.authz, None, std::mem::take(facts)));
        }
        let bad = |detail: String| InteractiveError::BadAnswer {
            endpoint: self.listener.uri.clone(),
            what: "a redirect",
            detail,
        };
        if let Some(iss) = get(answer, "iss")
            && let Some(known) = self.session.issuer()
            && iss.trim_end_matches('/') != known.trim_end_matches('/')
        {
            // RFC 9207: the answer names another issuer (a mix-up).
            return Err(bad(format!(
                "its iss {iss:?} is not the issuer {known:?} (RFC 9207 mix-up defence)"
            ))
            .into());
        }
        let code = get(answer, "code").ok_or_else(|| bad("neither code nor error".into()))?;
        Ok(Zeroizing::new(code.to_string()))
    }

    /// Exchange the code (with the PKCE verifier) at the token endpoint; an
    /// ID token must carry the nonce sent.
    fn exchange(&self, code: &str, facts: Vec<Fact>) -> Result<super::cache::Cached> {
        let mut form: Vec<(String, String)> = vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.to_string()),
            ("redirect_uri".into(), self.listener.uri.clone()),
            ("code_verifier".into(), self.verifier.to_string()),
        ];
        if let Some(r) = &self.session.settings().resource {
            form.push(("resource".into(), r.clone()));
        }
        let endpoint = self.session.endpoint().to_string();
        let outcome = self.session.send(&endpoint, &form)?;
        let c = self.session.conclude(outcome, facts)?;
        // OIDC Core §3.1.3.7: an ID token carries the nonce of its request.
        if self.oidc
            && let Some(idt) = c.response.get("id_token").and_then(Value::as_str)
            && let Some(claims) = crate::jwt::decode::decode(idt).ok().map(|d| d.claims)
            && claims.get("nonce").and_then(Value::as_str) != Some(self.nonce.as_str())
        {
            return Err(InteractiveError::NonceMismatch.into());
        }
        Ok(c)
    }
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
pub(crate) fn device_code(session: &Session) -> Result<super::cache::Cached> {
    let s = session.settings();
    let ep = endpoint_of(
        &s.interactive.device_authorization_endpoint,
        session.metadata(),
        |d| d.device_authorization_endpoint.as_ref(),
        "device authorization endpoint",
    )?;
    let answer = DeviceAnswer::ask(session, &ep)?;
    session.observe(&Event::DeviceCode {
        user_code: answer.user_code.clone(),
        verification_uri: answer.verification_uri.clone(),
        verification_uri_complete: answer.complete.clone(),
        expires_in: answer.expires_in,
    });
    // Past the code's life by two polls, so that the server says
    // expired_token itself (a refusal it explains) before credkit gives up.
    let limit = Duration::from_secs(
        answer
            .expires_in
            .saturating_add(answer.interval.saturating_mul(2)),
    )
    .min(s.interactive.login_timeout.unwrap_or(Duration::MAX));
    Polling {
        answer: &answer,
        start: Instant::now(),
        limit,
        interval: answer.interval,
        polls: 0,
        slowed: 0,
    }
    .until_answered(session)
}

/// A device authorization response (RFC 8628 §3.2).
#[cfg(feature = "client")]
struct DeviceAnswer {
    device_code: Zeroizing<String>,
    user_code: String,
    verification_uri: String,
    /// `verification_uri_complete`: the URI with the code filled in.
    complete: Option<String>,
    /// The code's life, seconds.
    expires_in: u64,
    /// Seconds between polls (5 when the server says nothing, at least 1).
    interval: u64,
}

#[cfg(feature = "client")]
impl DeviceAnswer {
    /// Ask the device authorization endpoint `ep` for a user code; its
    /// refusal is explained, an answer without the required members is a
    /// bad answer.
    fn ask(session: &Session, ep: &str) -> Result<DeviceAnswer> {
        let s = session.settings();
        let mut params: Vec<(String, String)> = Vec::new();
        if let Some(sc) = &s.scope {
            params.push(("scope".into(), sc.clone()));
        }
        if let Some(r) = &s.resource {
            params.push(("resource".into(), r.clone()));
        }
        let outcome = session.send(ep, &params)?;
        let resp = outcome
            .result
            .as_ref()
            .map_err(|e| Error::Network(e.clone()))?;
        let m: serde_json::Map<String, Value> = match serde_json::from_str(&resp.body) {
            Ok(Value::Object(m)) if (200..300).contains(&resp.status) => m,
            _ => return Err(session.refusal(&outcome, resp, Vec::new())),
        };
        Ok(DeviceAnswer::of(ep, &m)?)
    }

    /// The members credkit needs from the answer's JSON object.
    fn of(
        ep: &str,
        m: &serde_json::Map<String, Value>,
    ) -> std::result::Result<DeviceAnswer, InteractiveError> {
        let str_of = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let bad = |detail: &str| InteractiveError::BadAnswer {
            endpoint: ep.to_string(),
            what: "a device authorization response",
            detail: detail.into(),
        };
        let device_code =
            Zeroizing::new(str_of("device_code").ok_or_else(|| bad("no device_code"))?);
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
        let interval = m
            .get("interval")
            .and_then(Value::as_u64)
            .unwrap_or(5)
            .max(1);
        Ok(DeviceAnswer {
            device_code,
            user_code,
            verification_uri,
            complete,
            expires_in,
            interval,
        })
    }
}

/// The device grant's polling of the token endpoint (RFC 8628 §3.4, §3.5).
#[cfg(feature = "client")]
struct Polling<'a> {
    answer: &'a DeviceAnswer,
    start: Instant,
    /// When credkit gives up.
    limit: Duration,
    /// Seconds until the next poll (grows with slow_down).
    interval: u64,
    polls: u32,
    /// How many times the server said slow_down.
    slowed: u32,
}

#[cfg(feature = "client")]
impl Polling<'_> {
    /// Poll every interval until the server answers with something other
    /// than "not yet" (a token, or a refusal explained), or the limit.
    fn until_answered(mut self, session: &Session) -> Result<super::cache::Cached> {
        let form = vec![
            ("grant_type".to_string(), DEVICE_CODE.to_string()),
            (
                "device_code".to_string(),
                self.answer.device_code.to_string(),
            ),
        ];
        let endpoint = session.endpoint().to_string();
        loop {
            let wait = Duration::from_secs(self.interval);
            if self.start.elapsed() + wait > self.limit {
                return Err(self.not_approved());
            }
            std::thread::sleep(wait);
            self.polls += 1;
            let outcome = session.send(&endpoint, &form)?;
            if self.not_yet(session, &outcome) {
                continue;
            }
            return session.conclude(outcome, self.facts());
        }
    }

    /// Whether the answer says "not approved yet" (`authorization_pending`,
    /// or `slow_down`, which adds 5 s to every later poll: RFC 8628 §3.5).
    fn not_yet(&mut self, session: &Session, outcome: &super::exchange::Outcome) -> bool {
        let Ok(resp) = &outcome.result else {
            return false;
        };
        let Err(e) = super::exchange::parse(resp) else {
            return false;
        };
        match e.error.as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => {
                self.interval += 5;
                self.slowed += 1;
            }
            _ => return false,
        }
        session.observe(&Event::Pending {
            error: e.error.clone().unwrap_or_default(),
            next_in: Duration::from_secs(self.interval),
        });
        true
    }

    /// What the diagnosis of the final answer is told about the polling.
    fn facts(&self) -> Vec<Fact> {
        let a = self.answer;
        vec![fact(
            "device-polled",
            false,
            format!(
                "credkit showed user code {} for {} and polled {} time(s) over {} s, every {} s{}; the server gave the code {} s",
                a.user_code,
                a.verification_uri,
                self.polls,
                self.start.elapsed().as_secs(),
                self.interval,
                if self.slowed > 0 {
                    format!(
                        " (slowed down {} time(s) when the server said slow_down)",
                        self.slowed
                    )
                } else {
                    String::new()
                },
                a.expires_in
            ),
        )]
    }

    /// Nobody approved the code in time.
    fn not_approved(&self) -> Error {
        let a = self.answer;
        let mut facts = self.facts();
        facts.insert(
            0,
            fact(
                "device-not-approved",
                true,
                format!(
                    "nobody approved user code {} at {} within {} s",
                    a.user_code,
                    a.verification_uri,
                    self.limit.as_secs()
                ),
            ),
        );
        InteractiveError::Timeout {
            what: "the approval of the user code",
            waited: self.limit,
            facts,
        }
        .into()
    }
}

/// Refresh tokens kept beside the token cache, one 0600 file per endpoint
/// and client: `$XDG_CACHE_HOME/credkit/refresh-tokens/<sha256>.json`.
pub(crate) struct RefreshStore {
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
    pub(crate) fn beside(cache_dir: &Path) -> RefreshStore {
        RefreshStore {
            dir: cache_dir
                .parent()
                .unwrap_or(cache_dir)
                .join("refresh-tokens"),
        }
    }

    /// The store of the default cache directory.
    pub(crate) fn default_store() -> Option<RefreshStore> {
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

    /// The stored refresh token, if there is one (an unsafe file is refused
    /// as the cache refuses it).
    pub(crate) fn load(
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
    pub(crate) fn save(
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
