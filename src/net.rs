//! The one HTTP client. Every request credkit sends goes through [`Http`]:
//! token requests, issuer discovery, `jwt verify --jwks URL` and the broker's
//! fetches. Its rules hold for all of them:
//!
//! - https only, except plain http to a loopback address (tests, local
//!   look-alikes): [`check_url`]; one deliberate allowance: revocation data
//!   (OCSP, CRLs, caIssuers certificates) may come over plain http anywhere,
//!   because RFC 5280 and RFC 6960 publish it there and its own signatures
//!   protect it ([`check_signed_data_url`], used only by
//!   [`Http::get_signed_data`] and [`Http::post_ocsp`]);
//! - TLS always verified (the platform's roots, plus a given CA bundle);
//! - redirects are never followed (a 3xx comes back as it is, so an https URL
//!   can never turn into plain http, and credentials never move host);
//! - loopback requests never go through a proxy, whatever `HTTP_PROXY`,
//!   `HTTPS_PROXY` or `ALL_PROXY` say; elsewhere the environment's proxy is
//!   used and [`proxy_for`] names it for the trace and the diagnoses;
//! - every answer's body is read up to a cap that depends on what it is
//!   ([`BodyCap`]), so a server cannot make credkit use unbounded memory;
//! - connect and total timeouts.
// Without the `client` feature only the rules (URLs, proxies, caps, errors)
// are built, not the client.
#![cfg_attr(not(feature = "client"), allow(dead_code, unused_imports))]

use crate::error_id::ErrorId;
use serde::Serialize;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

/// How large an answer may be, by what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum BodyCap {
    /// A token endpoint's answer (real ones are a few kilobytes).
    Token,
    /// An authorization server's metadata document.
    Metadata,
    /// A JWK Set (large multi-tenant sets reach hundreds of keys).
    Jwks,
    /// An OCSP response or a CA certificate from caIssuers.
    Ocsp,
    /// A certificate revocation list (a large CA's CRL reaches megabytes).
    Crl,
}

impl BodyCap {
    /// The cap in bytes.
    pub(crate) fn bytes(self) -> usize {
        match self {
            BodyCap::Token | BodyCap::Metadata | BodyCap::Ocsp => 1 << 20,
            BodyCap::Jwks => 16 << 20,
            BodyCap::Crl => 32 << 20,
        }
    }
    fn what(self) -> &'static str {
        match self {
            BodyCap::Token => "token endpoint answer",
            BodyCap::Metadata => "metadata document",
            BodyCap::Jwks => "JWK Set",
            BodyCap::Ocsp => "OCSP response or certificate",
            BodyCap::Crl => "CRL",
        }
    }
}

/// Connection settings.
#[derive(Debug, Clone)]
pub(crate) struct HttpOptions {
    /// Time to establish a connection.
    pub(crate) connect_timeout: Duration,
    /// Time for the whole request, body included.
    pub(crate) timeout: Duration,
    /// Extra trusted CA certificates (PEM), on top of the platform's roots.
    pub(crate) ca_pem: Option<Vec<u8>>,
    /// The TLS client certificate and key to present (RFC 8705 mutual TLS).
    pub(crate) identity: Option<ClientIdentity>,
}

/// A TLS client certificate chain with its private key, as PEM (a PKCS#8
/// key block and the chain, leaf first). `Debug` names neither; the bytes
/// are wiped from memory on drop.
#[derive(Clone)]
pub(crate) struct ClientIdentity {
    pem: zeroize::Zeroizing<Vec<u8>>,
    /// The leaf certificate's SHA-256 thumbprint (base64url), RFC 8705's `x5t#S256`.
    pub(crate) x5t_s256: String,
    /// The leaf certificate's subject, as shown to people (set by the caller
    /// that parsed the certificate; empty when unknown).
    pub(crate) subject: String,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("x5t_s256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// From a PKCS#8 private key and the certificate chain (DER, leaf first).
    pub(crate) fn new(pkcs8: &[u8], chain: &[&[u8]]) -> Result<ClientIdentity, String> {
        use base64::Engine;
        let leaf = chain.first().ok_or("no certificate to present")?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let block = |label: &str, der: &[u8]| -> String {
            let body = b64.encode(der);
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            format!(
                "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                lines.join("\n")
            )
        };
        let mut pem = zeroize::Zeroizing::new(block("PRIVATE KEY", pkcs8).into_bytes());
        for c in chain {
            pem.extend_from_slice(block("CERTIFICATE", c).as_bytes());
        }
        #[cfg(feature = "client")]
        reqwest::Identity::from_pem(&pem)
            .map_err(|e| format!("the client certificate cannot be used: {e}"))?;
        Ok(ClientIdentity {
            pem,
            x5t_s256: base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(crate::key::sha256(leaf)),
            subject: String::new(),
        })
    }
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            ca_pem: None,
            identity: None,
        }
    }
}

/// What kind of network failure, in the words a user needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NetKind {
    /// The host name could not be resolved.
    Dns,
    /// No connection could be made (refused, unreachable, reset).
    Connect,
    /// The TLS handshake failed (an untrusted or mismatched certificate).
    Tls,
    /// The proxy refused or failed the connection.
    Proxy,
    /// No answer within the connect or request timeout.
    Timeout,
    /// The URL is not one credkit sends requests to: not https, and not
    /// plain http to a loopback address.
    NotAllowed,
    /// The answer's body is larger than its cap.
    TooLarge,
    /// Any other failure (an HTTP protocol error, a body cut short).
    Other,
}

impl NetKind {
    /// The stable error id.
    pub fn id(self) -> ErrorId {
        match self {
            NetKind::Dns => ErrorId::NetworkDns,
            NetKind::Connect => ErrorId::NetworkConnect,
            NetKind::Tls => ErrorId::NetworkTls,
            NetKind::Proxy => ErrorId::NetworkProxy,
            NetKind::Timeout => ErrorId::NetworkTimeout,
            NetKind::NotAllowed => ErrorId::UrlNotAllowed,
            NetKind::TooLarge => ErrorId::ResponseTooLarge,
            NetKind::Other => ErrorId::Network,
        }
    }
    /// Worth another attempt?
    pub fn retryable(self) -> bool {
        matches!(self, NetKind::Connect | NetKind::Timeout | NetKind::Other)
    }
    /// What it means and what to do, in plain words. `proxy` is the proxy
    /// the request went through, if any.
    pub fn explain(self, host: &str, proxy: Option<&str>) -> (String, String) {
        let via = proxy
            .map(|p| format!(" (through the proxy {p})"))
            .unwrap_or_default();
        match self {
            NetKind::Dns => (
                format!("the name {host} could not be resolved (DNS){via}"),
                "check the spelling of the URL, your DNS settings, and whether the host is only \
                 reachable on a VPN or an internal network"
                    .into(),
            ),
            NetKind::Connect => (
                format!(
                    "nothing answered at {host}{via}: the connection was refused or could not be made"
                ),
                match proxy {
                    Some(_) => "check that the proxy runs and lets this host through, or set \
                                NO_PROXY for this host"
                        .into(),
                    None => "check the port and that the server runs; a firewall or a required \
                             proxy (HTTPS_PROXY) may block the way out"
                        .into(),
                },
            ),
            NetKind::Tls => (
                format!(
                    "the TLS connection to {host}{via} failed: its certificate is not trusted, \
                     does not match the name, or has expired"
                ),
                "credkit always verifies TLS, against the system's roots; a company proxy that \
                 inspects TLS needs its CA given with the CA-file option"
                    .into(),
            ),
            NetKind::Proxy => (
                format!(
                    "the proxy {} refused or failed the connection to {host}",
                    proxy.unwrap_or("(HTTPS_PROXY / HTTP_PROXY / ALL_PROXY)")
                ),
                "check the proxy URL and its credentials, or set NO_PROXY for this host".into(),
            ),
            NetKind::Timeout => (
                format!("{host} did not answer in time{via}"),
                "try again; raise the timeouts on a slow network".into(),
            ),
            NetKind::NotAllowed => (
                format!("credkit does not send requests to {host} this way"),
                "use an https URL (plain http is allowed only to loopback addresses)".into(),
            ),
            NetKind::TooLarge => (
                format!("{host} sent an answer larger than credkit reads"),
                "check that the URL is the right one: OAuth answers are small".into(),
            ),
            NetKind::Other => (
                format!("the request to {host} failed{via}"),
                "check the network and the URL".into(),
            ),
        }
    }
}

/// Why no usable HTTP answer came back.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{detail}")]
pub struct NetError {
    /// What kind of failure.
    pub kind: NetKind,
    /// The URL the request was for.
    pub url: String,
    /// The failure as the HTTP client or credkit's checks described it
    /// (the error's `Display`).
    pub detail: String,
    /// The proxy the request went through (credentials removed), if any.
    pub proxy: Option<String>,
}

impl NetError {
    /// What it means and what to do, in plain words.
    pub fn explain(&self) -> (String, String) {
        let host = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| self.url.clone());
        self.kind.explain(&host, self.proxy.as_deref())
    }
}

/// An HTTP answer, its body read up to its cap.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// Headers as text (Set-Cookie left out, binary values shown as `<binary>`).
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// A header's value (the first one), by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Is this host a loopback address (or `localhost`)?
pub(crate) fn is_loopback_host(host: Option<url::Host<&str>>) -> bool {
    match host {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// Is this URL allowed: https anywhere, http only to a loopback address?
pub(crate) fn check_url(url: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match u.scheme() {
        "https" => Ok(u),
        "http" if is_loopback_host(u.host()) => Ok(u),
        "http" => Err(format!(
            "{url} uses plain http; credkit sends requests over https only (http is allowed to \
             loopback addresses, for tests)"
        )),
        s => Err(format!("{url}: the scheme {s:?} is not http or https")),
    }
}

/// The allowance for revocation data (OCSP requests, CRLs, caIssuers
/// certificates): https, or plain http to any host. That data is signed by
/// the CA, and credkit checks the signature before believing it; RFC 5280
/// and RFC 6960 publish it over http, and real CAs name http URLs.
/// Nothing secret is ever sent this way.
pub(crate) fn check_signed_data_url(url: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    match u.scheme() {
        "https" | "http" if u.host().is_some() => Ok(u),
        "https" | "http" => Err(format!("{url} names no host")),
        s => Err(format!("{url}: the scheme {s:?} is not http or https")),
    }
}

fn env_var(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

/// Does `NO_PROXY` exempt this host? (`*`, a host name, a `.domain`
/// suffix, or an IP address; ports are ignored.)
fn no_proxy_matches(host: &str) -> bool {
    let Some(list) = env_var(&["NO_PROXY", "no_proxy"]) else {
        return false;
    };
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    list.split(',').map(str::trim).any(|entry| {
        let e = entry.to_ascii_lowercase();
        let e = e.split(':').next().unwrap_or("").trim_start_matches('.');
        !e.is_empty() && (e == "*" || host == e || host.ends_with(&format!(".{e}")))
    })
}

/// The proxy a request to `url` goes through, from the environment, with any
/// credentials removed; None for loopback (never proxied) and for hosts
/// `NO_PROXY` exempts.
pub(crate) fn proxy_for(url: &url::Url) -> Option<String> {
    if is_loopback_host(url.host()) {
        return None;
    }
    if no_proxy_matches(url.host_str().unwrap_or("")) {
        return None;
    }
    let raw = match url.scheme() {
        "https" => env_var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
        _ => env_var(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]),
    }?;
    Some(match url::Url::parse(&raw) {
        Ok(mut p) => {
            let _ = p.set_username("");
            let _ = p.set_password(None);
            p.to_string()
        }
        Err(_) => "(unreadable proxy setting)".into(),
    })
}

#[cfg(feature = "client")]
/// Which underlying client serves a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Loopback over plain http: no proxy, no trust store needed.
    LoopbackPlain,
    /// Loopback over https: no proxy.
    LoopbackTls,
    /// Anywhere else: the environment's proxy applies.
    Outside,
}

/// The HTTP client. Cheap to make: the underlying clients (and the
/// platform's trust store, which costs tens of milliseconds to load) are
/// built on first use, per route.
#[cfg(feature = "client")]
#[derive(Debug)]
pub(crate) struct Http {
    opts: HttpOptions,
    /// `opts.ca_pem` parsed once, in [`Http::new`].
    extra_roots: Vec<reqwest::Certificate>,
    clients: Mutex<Vec<(Route, reqwest::blocking::Client)>>,
}

#[cfg(feature = "client")]
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

#[cfg(feature = "client")]
/// Sort a reqwest error into a [`NetKind`].
fn classify(e: &reqwest::Error, url: &str, proxy: Option<String>) -> NetError {
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
    } else if low.contains("proxy") || proxy.is_some() && e.is_connect() {
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
        proxy,
    }
}

#[cfg(feature = "client")]
impl Http {
    /// A client with these options. Fails when the CA bundle is not PEM
    /// certificates.
    pub(crate) fn new(opts: HttpOptions) -> Result<Http, String> {
        let extra_roots = match &opts.ca_pem {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("the CA file is not PEM certificates: {e}"))?,
            None => Vec::new(),
        };
        if opts.ca_pem.is_some() && extra_roots.is_empty() {
            return Err("the CA file holds no PEM certificate".into());
        }
        Ok(Http {
            opts,
            extra_roots,
            clients: Mutex::new(Vec::new()),
        })
    }

    /// The TLS client certificate a request to `url` offers in the handshake
    /// (the rule of `build`: none over plain http), or None.
    pub(crate) fn client_certificate_for(&self, url: &str) -> Option<&ClientIdentity> {
        let u = url::Url::parse(url).ok()?;
        (u.scheme() == "https")
            .then_some(self.opts.identity.as_ref())
            .flatten()
    }

    fn build(&self, route: Route) -> Result<reqwest::blocking::Client, String> {
        let mut b = reqwest::blocking::Client::builder()
            .connect_timeout(self.opts.connect_timeout)
            .timeout(self.opts.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("credkit/", env!("CARGO_PKG_VERSION")));
        if route != Route::Outside {
            b = b.no_proxy();
        }
        let extra = self.extra_roots.clone();
        if let Some(id) = &self.opts.identity
            && route != Route::LoopbackPlain
        {
            b = b.identity(reqwest::Identity::from_pem(&id.pem).map_err(|e| e.to_string())?);
        }
        b = match route {
            // Plain http to loopback: no trust store to load (any https
            // would fail, so nothing is trusted by accident).
            Route::LoopbackPlain => b.tls_certs_only(extra),
            _ if extra.is_empty() => b,
            _ => b.tls_certs_merge(extra),
        };
        b.build().map_err(|e| e.to_string())
    }

    fn client(&self, route: Route) -> Result<reqwest::blocking::Client, String> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, c)) = clients.iter().find(|(r, _)| *r == route) {
            return Ok(c.clone());
        }
        let c = self.build(route)?;
        clients.push((route, c.clone()));
        Ok(c)
    }

    /// Check the URL and pick the client and the proxy for it.
    fn prepare(
        &self,
        url: &str,
    ) -> Result<(reqwest::blocking::Client, url::Url, Option<String>), NetError> {
        self.prepare_with(url, check_url)
    }

    /// [`Http::prepare`] with another URL rule.
    fn prepare_with(
        &self,
        url: &str,
        allowed: fn(&str) -> Result<url::Url, String>,
    ) -> Result<(reqwest::blocking::Client, url::Url, Option<String>), NetError> {
        let fail = |kind, detail| NetError {
            kind,
            url: url.to_string(),
            detail,
            proxy: None,
        };
        let u = allowed(url).map_err(|d| fail(NetKind::NotAllowed, d))?;
        let route = match (is_loopback_host(u.host()), u.scheme()) {
            (true, "http") => Route::LoopbackPlain,
            (true, _) => Route::LoopbackTls,
            (false, _) => Route::Outside,
        };
        let client = self.client(route).map_err(|d| fail(NetKind::Other, d))?;
        let proxy = proxy_for(&u);
        Ok((client, u, proxy))
    }

    /// GET `url`, asking for `accept`.
    pub(crate) fn get(&self, url: &str, accept: &str, cap: BodyCap) -> Result<Answer, NetError> {
        let (client, u, proxy) = self.prepare(url)?;
        let rb = client
            .get(u)
            .header(reqwest::header::ACCEPT, accept.to_string());
        send(rb, url, proxy, cap)
    }

    /// GET signed revocation data (a CRL, a caIssuers certificate): plain
    /// http is allowed to any host ([`check_signed_data_url`]).
    pub(crate) fn get_signed_data(&self, url: &str, cap: BodyCap) -> Result<Answer, NetError> {
        let (client, u, proxy) = self.prepare_with(url, check_signed_data_url)?;
        send(client.get(u), url, proxy, cap)
    }

    /// POST a DER OCSP request (RFC 6960 appendix A.1); plain http is allowed
    /// to any host ([`check_signed_data_url`]): the answer is signed.
    pub(crate) fn post_ocsp(&self, url: &str, request_der: Vec<u8>) -> Result<Answer, NetError> {
        let (client, u, proxy) = self.prepare_with(url, check_signed_data_url)?;
        let rb = client
            .post(u)
            .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
            .header(reqwest::header::ACCEPT, "application/ocsp-response")
            .body(request_der);
        send(rb, url, proxy, BodyCap::Ocsp)
    }

    /// POST a form to `url` (`basic`: HTTP Basic credentials) with extra
    /// request headers (such as `DPoP`).
    pub(crate) fn post_form_with(
        &self,
        url: &str,
        form: &[(String, String)],
        basic: Option<(&str, &str)>,
        headers: &[(String, String)],
        cap: BodyCap,
    ) -> Result<Answer, NetError> {
        let (client, u, proxy) = self.prepare(url)?;
        let mut rb = client
            .post(u)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some((user, pass)) = basic {
            rb = rb.basic_auth(user, Some(pass));
        }
        send(rb, url, proxy, cap)
    }
}

#[cfg(feature = "client")]
fn send(
    rb: reqwest::blocking::RequestBuilder,
    url: &str,
    proxy: Option<String>,
    cap: BodyCap,
) -> Result<Answer, NetError> {
    let resp = rb.send().map_err(|e| classify(&e, url, proxy.clone()))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| *k != reqwest::header::SET_COOKIE)
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("<binary>").to_string()))
        .collect();
    let limit = cap.bytes();
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large(url, proxy, cap));
    }
    let mut body = Vec::new();
    let mut reader = resp.take(limit as u64 + 1);
    reader.read_to_end(&mut body).map_err(|e| {
        match e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
            Some(re) => classify(re, url, proxy.clone()),
            None => NetError {
                kind: NetKind::Other,
                url: url.to_string(),
                detail: e.to_string(),
                proxy: proxy.clone(),
            },
        }
    })?;
    if body.len() > limit {
        return Err(too_large(url, proxy, cap));
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

#[cfg(feature = "client")]
fn too_large(url: &str, proxy: Option<String>, cap: BodyCap) -> NetError {
    NetError {
        kind: NetKind::TooLarge,
        url: url.to_string(),
        detail: format!(
            "the {} is larger than {} MiB, credkit's cap for it; nothing more was read",
            cap.what(),
            cap.bytes() >> 20
        ),
        proxy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("https://maskinporten.no/token").is_ok());
        assert!(check_url("http://127.0.0.1:8080/token").is_ok());
        assert!(check_url("http://[::1]:8080/token").is_ok());
        assert!(check_url("http://localhost/token").is_ok());
        assert!(check_url("http://example.com/token").is_err());
        assert!(check_url("http://127.0.0.1.example.com/").is_err());
        assert!(check_url("ftp://example.com/").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn loopback_is_never_proxied() {
        let u = url::Url::parse("http://127.0.0.1:9/token").expect("url");
        assert_eq!(proxy_for(&u), None);
        let u = url::Url::parse("https://localhost/token").expect("url");
        assert_eq!(proxy_for(&u), None);
    }

    #[test]
    fn signed_data_may_use_plain_http_anywhere() {
        assert!(check_signed_data_url("http://crl.test4.buypass.no/crl/BPClass3T4CA3.crl").is_ok());
        assert!(check_signed_data_url("https://ocsp.example/").is_ok());
        assert!(check_signed_data_url("ldap://example.com/cn=CA").is_err());
        assert!(check_signed_data_url("file:///etc/passwd").is_err());
        // The general rule is unchanged.
        assert!(check_url("http://crl.test4.buypass.no/crl/BPClass3T4CA3.crl").is_err());
    }

    #[test]
    fn caps() {
        assert_eq!(BodyCap::Token.bytes(), 1 << 20);
        assert_eq!(BodyCap::Jwks.bytes(), 16 << 20);
    }
}
