//! The token request: building the form, sending it (TLS always verified,
//! plain http only to loopback, timeouts, retries with backoff on connection
//! errors, 5xx and 429 only), and reading the response. No printing: the
//! caller sees what happens through [`Event`]s.

use super::redact;
#[cfg(feature = "client")]
use crate::net::{BodyCap, Http};
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;

/// `grant_type` of RFC 7523 §2.1.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// `client_assertion_type` of RFC 7523 §2.2.
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `grant_type` of RFC 8693 §2.1.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Which grant is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// RFC 7523 JWT grant (Maskinporten).
    JwtBearer,
    /// RFC 6749 client_credentials.
    ClientCredentials,
    /// RFC 6749 refresh_token.
    RefreshToken,
    /// RFC 8693 token exchange: a subject token (and an actor token) for a new token.
    TokenExchange,
    /// Entra ID's on-behalf-of: the jwt-bearer grant with the user's token as the
    /// assertion, `requested_token_use=on_behalf_of`, and client authentication.
    OnBehalfOf,
    /// RFC 6749 authorization_code, with PKCE (S256) and a loopback redirect: a user signs in.
    AuthorizationCode,
    /// RFC 8628 device authorization: a user approves a code on another device.
    DeviceCode,
}

impl Grant {
    /// The name on the command line (`--grant`), in config files and in
    /// JSON reports (kebab-case).
    pub fn name(self) -> &'static str {
        match self {
            Grant::JwtBearer => "jwt-bearer",
            Grant::ClientCredentials => "client-credentials",
            Grant::RefreshToken => "refresh-token",
            Grant::TokenExchange => "token-exchange",
            Grant::OnBehalfOf => "on-behalf-of",
            Grant::AuthorizationCode => "authorization-code",
            Grant::DeviceCode => "device-code",
        }
    }
    /// The `grant_type` form value.
    pub fn grant_type(self) -> &'static str {
        match self {
            Grant::JwtBearer => JWT_BEARER,
            Grant::ClientCredentials => "client_credentials",
            Grant::RefreshToken => "refresh_token",
            Grant::TokenExchange => TOKEN_EXCHANGE,
            Grant::OnBehalfOf => JWT_BEARER,
            Grant::AuthorizationCode => "authorization_code",
            Grant::DeviceCode => super::interactive::DEVICE_CODE,
        }
    }
}

/// How the client authenticates (RFC 6749 §2.3, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// A signed client assertion (RFC 7523 §2.2).
    PrivateKeyJwt,
    /// client_id and secret in HTTP Basic.
    ClientSecretBasic,
    /// client_id and secret in the form body.
    ClientSecretPost,
    /// An HS256 client assertion made with the client secret (OIDC Core §9).
    ClientSecretJwt,
    /// Mutual TLS with a CA-issued certificate from the keystore (RFC 8705 §2.1).
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate registered with the client (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
    /// No client authentication (the jwt-bearer grant authenticates by its signature).
    None,
}

impl Auth {
    /// The name on the command line (`--auth`), in config files and in JSON
    /// reports (kebab-case).
    pub fn name(self) -> &'static str {
        match self {
            Auth::PrivateKeyJwt => "private-key-jwt",
            Auth::ClientSecretBasic => "client-secret-basic",
            Auth::ClientSecretPost => "client-secret-post",
            Auth::ClientSecretJwt => "client-secret-jwt",
            Auth::TlsClientAuth => "tls-client-auth",
            Auth::SelfSignedTlsClientAuth => "self-signed-tls-client-auth",
            Auth::None => "none",
        }
    }
    /// Mutual TLS: the keystore's certificate is presented in the handshake.
    pub fn is_mtls(self) -> bool {
        matches!(self, Auth::TlsClientAuth | Auth::SelfSignedTlsClientAuth)
    }
}

/// One prepared token request.
// Made and sent only by the network side (feature `client`).
#[cfg_attr(not(feature = "client"), allow(dead_code))]
#[derive(Debug, Clone)]
pub(crate) struct TokenRequest {
    /// The token endpoint's URL.
    pub(crate) endpoint: String,
    /// The form members, in order (sent as
    /// `application/x-www-form-urlencoded`).
    pub(crate) form: Vec<(String, String)>,
    /// client_id and secret for HTTP Basic.
    pub(crate) basic: Option<(String, String)>,
    /// Extra request headers (the `DPoP` proof).
    pub(crate) headers: Vec<(String, String)>,
}

/// How failed requests are tried again.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// How many times to try again after a retryable failure.
    pub retries: u32,
    /// The first backoff; doubled per attempt (saturating).
    pub backoff: Duration,
    /// The longest wait, whether from the backoff or from Retry-After.
    pub max_wait: Duration,
}

/// Most retries accepted: past it the waits are all at `max_wait` anyway.
pub const MAX_RETRIES: u32 = 10;

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 2,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` when the server gave no hint.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff.saturating_mul(factor).min(self.max_wait)
    }
}

pub use crate::net::{NetError, NetKind};

/// An HTTP answer from a token endpoint: what [`parse`] reads and the
/// refusal explainer looks at.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `Date` header as sent (an IMF-fixdate, see [`parse_http_date`]),
    /// or `None` without one: the server's clock, for clock-skew findings.
    pub date: Option<String>,
    /// The `Retry-After` header as sent (seconds or an HTTP date, see
    /// [`retry_after`]), or `None` without one.
    pub retry_after: Option<String>,
    /// The `Content-Type` header, or `None` without one.
    pub content_type: Option<String>,
    /// The `DPoP-Nonce` the server asks the next proof to carry (RFC 9449 §8).
    pub dpop_nonce: Option<String>,
    /// The body, decoded as UTF-8 (invalid bytes replaced), as received:
    /// it may hold a token; redact it before showing it.
    pub body: String,
    /// The local clock when the answer arrived (unix seconds).
    pub received_at: i64,
}

/// What happened, for `--verbose` and status lines.
#[derive(Debug, Clone)]
pub enum Event {
    /// A request is about to go out (secrets already redacted).
    Request {
        /// Which attempt this is, from 1.
        attempt: u32,
        /// The HTTP method (`POST`, `GET`).
        method: &'static str,
        /// The URL the request goes to.
        url: String,
        /// The proxy it goes through (credentials removed), if any.
        proxy: Option<String>,
        /// The request headers (secrets shown as `<redacted>`).
        headers: Vec<(String, String)>,
        /// The request body (secrets and signatures redacted).
        body: String,
    },
    /// An answer came back (tokens already redacted).
    Response {
        /// The HTTP status code.
        status: u16,
        /// The response headers, as received.
        headers: Vec<(String, String)>,
        /// The body with tokens redacted.
        body: String,
        /// How long the request took, in milliseconds.
        millis: u128,
    },
    /// The token endpoint was found in the issuer's metadata.
    Discovered {
        /// The token endpoint the metadata names.
        token_endpoint: String,
        /// The metadata URL that answered (RFC 8414 or OpenID Connect
        /// Discovery).
        metadata_url: String,
    },
    /// A user must sign in at `url` (the browser was opened when `browser`).
    Authorize {
        /// The authorization URL to open.
        url: String,
        /// Whether a browser was opened at `url`.
        browser: bool,
        /// Where the redirect is awaited.
        redirect_uri: String,
        /// How long the redirect is awaited.
        timeout: Duration,
    },
    /// A user must approve `user_code` at the verification URI (RFC 8628 §3.3).
    DeviceCode {
        /// The code the user types in.
        user_code: String,
        /// Where the user types it (`verification_uri`).
        verification_uri: String,
        /// The URI with the code filled in, when the server gives one.
        verification_uri_complete: Option<String>,
        /// How long the code is good for, in seconds.
        expires_in: u64,
    },
    /// The device grant is not approved yet (`authorization_pending`,
    /// `slow_down`): the next poll is in `next_in`.
    Pending {
        /// The error code the server answered with.
        error: String,
        /// The wait before the next poll.
        next_in: Duration,
    },
    /// Waiting before the next attempt.
    Retry {
        /// The attempt that failed, from 1.
        attempt: u32,
        /// How long credkit waits before the next one.
        wait: Duration,
        /// Why: a network error id, or `HTTP <status>`.
        reason: String,
    },
}

// The redaction rules live in `super::redact`; these names stay for callers.
pub use super::redact::{body as redact_body, form as redact_form, jwt as redact_jwt};

/// Send one request.
#[cfg(feature = "client")]
pub(crate) fn send_once(
    http: &Http,
    req: &TokenRequest,
    attempt: u32,
    on_event: &mut dyn FnMut(Event),
) -> Result<HttpResponse, NetError> {
    let mut shown_headers = vec![(
        "Content-Type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    // RFC 6749 §2.3.1: form-urlencode both before Basic.
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = req
        .basic
        .as_ref()
        .map(|(id, secret)| (enc(id), enc(secret)));
    if basic.is_some() {
        shown_headers.push(("Authorization".into(), "Basic <redacted>".into()));
    }
    for (k, v) in &req.headers {
        shown_headers.push((k.clone(), redact_jwt(v)));
    }
    let proxy = url::Url::parse(&req.endpoint)
        .ok()
        .and_then(|u| crate::net::proxy_for(&u));
    on_event(Event::Request {
        attempt,
        method: "POST",
        url: req.endpoint.clone(),
        proxy,
        headers: shown_headers,
        body: redact_form(&req.form),
    });
    let t0 = std::time::Instant::now();
    let answer = http.post_form_with(
        &req.endpoint,
        &req.form,
        basic.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
        &req.headers,
        BodyCap::Token,
    )?;
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    on_event(Event::Response {
        status: answer.status,
        headers: answer.headers.clone(),
        body: redact_body(&body),
        millis: t0.elapsed().as_millis(),
    });
    let h = |name: &str| answer.header(name).map(str::to_string);
    Ok(HttpResponse {
        status: answer.status,
        date: h("date"),
        retry_after: h("retry-after"),
        content_type: h("content-type"),
        dpop_nonce: h("dpop-nonce"),
        body,
        received_at: time::OffsetDateTime::now_utc().unix_timestamp(),
    })
}

/// Parse `Retry-After` (RFC 9110 §10.2.3): seconds, or an HTTP date, as the
/// wait from `now` (unix seconds; a date in the past is no wait). `None`:
/// neither form.
pub fn retry_after(value: &str, now: i64) -> Option<Duration> {
    let v = value.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = parse_http_date(v)?;
    Some(Duration::from_secs((at - now).max(0) as u64))
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7)
/// into unix seconds. `None`: not that form (the obsolete forms are not read).
pub fn parse_http_date(v: &str) -> Option<i64> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(v.trim(), &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// The result of all attempts.
// Made and sent only by the network side (feature `client`).
#[cfg_attr(not(feature = "client"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The last request sent (its assertion is the one the answer is about).
    pub(crate) request: TokenRequest,
    /// The last answer, or why none came.
    pub(crate) result: Result<HttpResponse, NetError>,
    /// The request was sent once more with the server's `DPoP-Nonce`.
    pub(crate) nonce_retried: bool,
}

/// Send, retrying with backoff on connection errors, 5xx and 429 (honouring
/// Retry-After). `make` builds each attempt's request, so a signed grant is
/// minted fresh (new jti) every time. 4xx is never retried.
#[cfg(feature = "client")]
pub(crate) fn send<E>(
    http: &Http,
    policy: &RetryPolicy,
    make: &mut dyn FnMut(u32) -> Result<TokenRequest, E>,
    on_event: &mut dyn FnMut(Event),
) -> Result<Outcome, E> {
    let mut attempt = 1;
    loop {
        let req = make(attempt)?;
        let result = send_once(http, &req, attempt, on_event);
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
            Some((hinted, reason)) if attempt <= policy.retries => {
                let wait = hinted
                    .unwrap_or_else(|| policy.backoff(attempt))
                    .min(policy.max_wait);
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
                    request: req,
                    result,
                    nonce_retried: false,
                });
            }
        }
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: String,
    /// `token_type` (`Bearer`, `DPoP`, `N_A`...), or `None` when absent.
    pub token_type: Option<String>,
    /// `expires_in`: the token's lifetime in seconds (a number, or a string
    /// holding one, as some servers send), or `None` when absent.
    pub expires_in: Option<i64>,
    /// `scope`, the granted scopes space-separated, or `None` when absent
    /// (RFC 6749 §5.1: then as asked).
    pub scope: Option<String>,
    /// `refresh_token`, or `None` when absent.
    pub refresh_token: Option<String>,
    /// Every member as received.
    pub raw: Map<String, Value>,
}

/// An error response (RFC 6749 §5.2), or what could be read of one.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The `error` code (`invalid_grant`, `invalid_client`...), secrets
    /// redacted; `None` when the body is not a JSON object with one.
    pub error: Option<String>,
    /// `error_description`, secrets redacted; `None` when absent.
    pub error_description: Option<String>,
    /// `error_uri`, `None` when absent.
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
    use crate::net::check_url;

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
            dpop_nonce: None,
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
