//! The token request: building the form, sending it (TLS always verified,
//! plain http only to loopback, timeouts, retries with backoff on connection
//! errors, 5xx and 429 only), and reading the response. No printing: the
//! caller sees what happens through [`Event`]s.

use super::redact;
use reqwest::blocking::Client;
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;

/// `grant_type` of RFC 7523 §2.1.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// `client_assertion_type` of RFC 7523 §2.2.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Which grant is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// RFC 7523 JWT grant (Maskinporten).
    JwtBearer,
    /// RFC 6749 client_credentials.
    ClientCredentials,
    /// RFC 6749 refresh_token.
    RefreshToken,
}

impl Grant {
    pub fn name(self) -> &'static str {
        match self {
            Grant::JwtBearer => "jwt-bearer",
            Grant::ClientCredentials => "client-credentials",
            Grant::RefreshToken => "refresh-token",
        }
    }
    /// The `grant_type` form value.
    pub fn grant_type(self) -> &'static str {
        match self {
            Grant::JwtBearer => JWT_BEARER,
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken => "refresh_token",
        }
    }
}

/// How the client authenticates (RFC 6749 §2.3, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// A signed client assertion (RFC 7523 §2.2).
    PrivateKeyJwt,
    /// client_id and secret in HTTP Basic.
    ClientSecretBasic,
    /// client_id and secret in the form body.
    ClientSecretPost,
    /// No client authentication (the jwt-bearer grant authenticates by its signature).
    None,
}

impl Auth {
    pub fn name(self) -> &'static str {
        match self {
            Auth::PrivateKeyJwt => "private-key-jwt",
            Auth::ClientSecretBasic => "client-secret-basic",
            Auth::ClientSecretPost => "client-secret-post",
            Auth::None => "none",
        }
    }
}

/// One prepared token request.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub endpoint: String,
    pub form: Vec<(String, String)>,
    /// client_id and secret for HTTP Basic.
    pub basic: Option<(String, String)>,
}

/// Network settings.
#[derive(Debug, Clone)]
pub struct NetOptions {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Extra trusted CA certificates (PEM), on top of the platform's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// How many times to try again after a retryable failure.
    pub retries: u32,
    /// The first backoff; doubled per attempt.
    pub backoff: Duration,
    /// The longest wait honoured from Retry-After.
    pub max_wait: Duration,
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            ca_pem: None,
            retries: 2,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// What kind of network failure, in the words a user needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetKind {
    Dns,
    Connect,
    Tls,
    Proxy,
    Timeout,
    Other,
}

impl NetKind {
    pub fn id(self) -> &'static str {
        match self {
            NetKind::Dns => "network-dns",
            NetKind::Connect => "network-connect",
            NetKind::Tls => "network-tls",
            NetKind::Proxy => "network-proxy",
            NetKind::Timeout => "network-timeout",
            NetKind::Other => "network",
        }
    }
    /// Worth another attempt?
    pub fn retryable(self) -> bool {
        matches!(self, NetKind::Connect | NetKind::Timeout | NetKind::Other)
    }
    /// What it means and what to do, in plain words.
    pub fn explain(self, host: &str) -> (String, String) {
        match self {
            NetKind::Dns => (
                format!("the name {host} could not be resolved (DNS)"),
                "check the spelling of the URL, your DNS settings, and whether the host is only \
                 reachable on a VPN or an internal network"
                    .into(),
            ),
            NetKind::Connect => (
                format!(
                    "nothing answered at {host}: the connection was refused or could not be made"
                ),
                "check the port and that the server runs; a firewall or a required proxy \
                 (HTTPS_PROXY) may block the way out"
                    .into(),
            ),
            NetKind::Tls => (
                format!(
                    "the TLS connection to {host} failed: its certificate is not trusted, does not match the name, or has expired"
                ),
                "credkit always verifies TLS, against the system's roots; a company proxy that \
                 inspects TLS needs its CA given with --ca-file"
                    .into(),
            ),
            NetKind::Proxy => (
                "the proxy (HTTPS_PROXY / HTTP_PROXY) refused or failed the connection".into(),
                "check the proxy URL and its credentials, or set NO_PROXY for this host".into(),
            ),
            NetKind::Timeout => (
                format!("{host} did not answer in time"),
                "try again; raise --timeout or --connect-timeout on a slow network".into(),
            ),
            NetKind::Other => (
                format!("the request to {host} failed"),
                "check the network and the URL".into(),
            ),
        }
    }
}

/// Why no HTTP answer came back.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct NetError {
    pub kind: NetKind,
    pub url: String,
    pub detail: String,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub date: Option<String>,
    pub retry_after: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    /// The local clock when the answer arrived (unix seconds).
    pub received_at: i64,
}

/// What happened, for `--verbose` and status lines.
#[derive(Debug, Clone)]
pub enum Event {
    /// A request is about to go out (secrets already redacted).
    Request {
        attempt: u32,
        method: &'static str,
        url: String,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// An answer came back (tokens already redacted).
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
        millis: u128,
    },
    /// Waiting before the next attempt.
    Retry {
        attempt: u32,
        wait: Duration,
        reason: String,
    },
}

/// Is this URL allowed: https anywhere, http only to a loopback address?
pub fn check_url(url: &str) -> Result<reqwest::Url, String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match u.scheme() {
        "https" => Ok(u),
        "http" => {
            let loopback = match u.host() {
                Some(url::Host::Ipv4(a)) => a.is_loopback(),
                Some(url::Host::Ipv6(a)) => a.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if loopback {
                Ok(u)
            } else {
                Err(format!(
                    "{url} uses plain http; credkit sends credentials over https only (http is \
                     allowed to loopback addresses, for tests)"
                ))
            }
        }
        s => Err(format!("{url}: the scheme {s:?} is not http or https")),
    }
}

/// Build the HTTP client. `tls`: will an https URL be called? Loading the
/// platform's trust store costs tens of milliseconds, so a client for plain
/// http to loopback trusts nothing at all (any https would fail, verified).
pub fn client(net: &NetOptions, tls: bool) -> Result<Client, String> {
    let mut b = Client::builder()
        .connect_timeout(net.connect_timeout)
        .timeout(net.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("credkit/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &net.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("the --ca-file is not PEM certificates: {e}"))?;
        if certs.is_empty() {
            return Err("the --ca-file holds no PEM certificate".into());
        }
        b = if tls {
            b.tls_certs_merge(certs)
        } else {
            b.tls_certs_only(certs)
        };
    } else if !tls {
        b = b.tls_certs_only(Vec::new());
    }
    b.build().map_err(|e| e.to_string())
}

fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Sort a reqwest error into a [`NetKind`].
pub fn classify(e: &reqwest::Error, url: &str) -> NetError {
    let detail = chain_text(e);
    let low = detail.to_ascii_lowercase();
    let kind = if e.is_timeout() || low.contains("timed out") {
        NetKind::Timeout
    } else if low.contains("dns error")
        || low.contains("failed to lookup address")
        || low.contains("name or service not known")
        || low.contains("no such host")
    {
        NetKind::Dns
    } else if low.contains("certificate")
        || low.contains("tls")
        || low.contains("handshake")
        || low.contains("invalid peer")
    {
        NetKind::Tls
    } else if low.contains("proxy") {
        NetKind::Proxy
    } else if e.is_connect() {
        NetKind::Connect
    } else {
        NetKind::Other
    };
    NetError {
        kind,
        url: url.to_string(),
        detail,
    }
}

// The redaction rules live in `super::redact`; these names stay for callers.
pub use super::redact::{body as redact_body, form as redact_form, jwt as redact_jwt};

fn header(resp: &reqwest::blocking::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Send one request.
pub fn send_once(
    client: &Client,
    req: &TokenRequest,
    attempt: u32,
    on_event: &mut dyn FnMut(Event),
) -> Result<HttpResponse, NetError> {
    let mut shown_headers = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    let mut rb = client
        .post(&req.endpoint)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&req.form);
    if let Some((id, secret)) = &req.basic {
        // RFC 6749 §2.3.1: form-urlencode both before Basic.
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        rb = rb.basic_auth(enc(id), Some(enc(secret)));
        shown_headers.push(("Authorization".into(), "Basic <redacted>".into()));
    }
    on_event(Event::Request {
        attempt,
        method: "POST",
        url: req.endpoint.clone(),
        headers: shown_headers,
        body: redact_form(&req.form),
    });
    let t0 = std::time::Instant::now();
    let resp = rb.send().map_err(|e| classify(&e, &req.endpoint))?;
    let status = resp.status().as_u16();
    let date = header(&resp, reqwest::header::DATE);
    let retry_after = header(&resp, reqwest::header::RETRY_AFTER);
    let content_type = header(&resp, reqwest::header::CONTENT_TYPE);
    let mut shown = Vec::new();
    for (k, v) in resp.headers() {
        if k == reqwest::header::SET_COOKIE {
            continue;
        }
        shown.push((k.to_string(), v.to_str().unwrap_or("<binary>").to_string()));
    }
    let bytes = resp.bytes().map_err(|e| classify(&e, &req.endpoint))?;
    let body = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 20)]).into_owned();
    on_event(Event::Response {
        status,
        headers: shown,
        body: redact_body(&body),
        millis: t0.elapsed().as_millis(),
    });
    Ok(HttpResponse {
        status,
        date,
        retry_after,
        content_type,
        body,
        received_at: time::OffsetDateTime::now_utc().unix_timestamp(),
    })
}

/// Parse `Retry-After`: seconds, or an HTTP date.
pub fn retry_after(value: &str, now: i64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = parse_http_date(v)?;
    Some(Duration::from_secs((at - now).max(0) as u64))
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) into unix seconds.
pub fn parse_http_date(v: &str) -> Option<i64> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(v.trim(), &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// The result of all attempts.
#[derive(Debug)]
pub struct Outcome {
    pub attempts: u32,
    /// The last request sent (its assertion is the one the answer is about).
    pub request: TokenRequest,
    pub result: Result<HttpResponse, NetError>,
}

/// Send, retrying with backoff on connection errors, 5xx and 429 (honouring
/// Retry-After). `make` builds each attempt's request, so a signed grant is
/// minted fresh (new jti) every time. 4xx is never retried.
pub fn send<E>(
    client: &Client,
    net: &NetOptions,
    make: &mut dyn FnMut(u32) -> Result<TokenRequest, E>,
    on_event: &mut dyn FnMut(Event),
) -> Result<Outcome, E> {
    let mut attempt = 1;
    loop {
        let req = make(attempt)?;
        let result = send_once(client, &req, attempt, on_event);
        let wait = match &result {
            Err(e) if e.kind.retryable() => Some((None, e.kind.id().to_string())),
            Ok(r) if r.status == 429 || r.status >= 500 => Some((
                r.retry_after
                    .as_deref()
                    .and_then(|v| retry_after(v, r.received_at)),
                format!("HTTP {}", r.status),
            )),
            _ => None,
        };
        match wait {
            Some((hinted, reason)) if attempt <= net.retries => {
                let backoff = net.backoff * 2u32.pow(attempt - 1);
                let wait = hinted.unwrap_or(backoff).min(net.max_wait);
                on_event(Event::Retry {
                    attempt,
                    wait,
                    reason,
                });
                std::thread::sleep(wait);
                attempt += 1;
            }
            _ => {
                return Ok(Outcome {
                    attempts: attempt,
                    request: req,
                    result,
                });
            }
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: Option<String>,
    pub expires_in: Option<i64>,
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    /// Every member as received.
    pub raw: Map<String, Value>,
}

/// An error response (RFC 6749 §5.2), or what could be read of one.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorResponse {
    pub status: u16,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
    /// Entra's numeric codes (AADSTS...).
    pub error_codes: Vec<i64>,
    /// The body when it was not JSON (truncated).
    pub body: Option<String>,
}

/// Read a token-endpoint answer.
pub fn parse(resp: &HttpResponse) -> Result<TokenResponse, Box<ErrorResponse>> {
    let json: Option<Map<String, Value>> = match serde_json::from_str(&resp.body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    };
    let s = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    if (200..300).contains(&resp.status)
        && let Some(m) = &json
        && let Some(token) = s(m, "access_token")
    {
        let expires_in = m.get("expires_in").and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        return Ok(TokenResponse {
            access_token: token,
            token_type: s(m, "token_type"),
            expires_in,
            scope: s(m, "scope"),
            refresh_token: s(m, "refresh_token"),
            raw: m.clone(),
        });
    }
    match json {
        Some(m) => Err(Box::new(ErrorResponse {
            status: resp.status,
            error: s(&m, "error").map(|t| redact::text(&t)),
            error_description: s(&m, "error_description").map(|t| redact::text(&t)),
            error_uri: s(&m, "error_uri"),
            error_codes: m
                .get("error_codes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default(),
            body: if m.contains_key("error") {
                None
            } else {
                Some(redact_body(&resp.body))
            },
        })),
        None => Err(Box::new(ErrorResponse {
            status: resp.status,
            error: None,
            error_description: None,
            error_uri: None,
            error_codes: Vec::new(),
            body: Some(redact::excerpt(&resp.body, 500)),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_to_loopback() {
        assert!(check_url("http://127.0.0.1:3000/token").is_ok());
        assert!(check_url("http://[::1]:3000/token").is_ok());
        assert!(check_url("http://localhost/token").is_ok());
        assert!(check_url("http://maskinporten.no/token").is_err());
        assert!(check_url("https://maskinporten.no/token").is_ok());
        assert!(check_url("ftp://x/").is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let form = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_secret".to_string(), "hunter2".to_string()),
            (
                "client_assertion".to_string(),
                "aaa.bbb.SIGVALUE".to_string(),
            ),
        ];
        let s = redact_form(&form);
        assert!(!s.contains("hunter2") && !s.contains("SIGVALUE"), "{s}");
        assert!(s.contains("aaa.bbb."), "{s}");
        let b = redact_body(r#"{"access_token":"h.p.s","refresh_token":"rt","expires_in":5}"#);
        assert!(!b.contains("h.p.s") && !b.contains("\"rt\""), "{b}");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after("3", 0), Some(Duration::from_secs(3)));
        let at = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").expect("date");
        assert_eq!(at, 784111777);
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:40 GMT", at),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn parses_success_and_error() {
        let ok = HttpResponse {
            status: 200,
            date: None,
            retry_after: None,
            content_type: None,
            body: r#"{"access_token":"t","expires_in":"120","token_type":"Bearer"}"#.into(),
            received_at: 0,
        };
        assert_eq!(parse(&ok).expect("ok").expires_in, Some(120));
        let err = HttpResponse {
            status: 400,
            body: r#"{"error":"invalid_grant","error_description":"x"}"#.into(),
            ..ok
        };
        let e = parse(&err).expect_err("err");
        assert_eq!(e.error.as_deref(), Some("invalid_grant"));
    }
}
