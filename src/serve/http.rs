//! A small HTTP/1.1 server on hyper and tokio for `serve`: it reads a whole
//! request (bodies up to [`MAX_BODY`]), hands it to a synchronous handler on
//! tokio's blocking pool (handlers may sign, verify or call a token endpoint),
//! and writes the answer. Keep-alive, header read timeout, no TLS: it serves
//! loopback and test networks only.
//!
//! What no handler has to think about, because it is refused here:
//! - more than [`MAX_PER_PEER`] open connections from one address, or more
//!   than [`MAX_CONNECTIONS`] in all: the connection past the cap is closed at
//!   once, so one client holding idle sockets cannot starve the others;
//! - a connection that sends no complete request head within
//!   [`READ_TIMEOUT`] (also between two requests of a kept-alive one);
//! - a request with more than one `Host` header (400: which one would a
//!   handler's Host rule judge?);
//! - an absolute-form target (`GET http://host/path`) that does not name this
//!   listener (421). One that does stands for the `Host` header, as RFC 9112
//!   §3.2.2 says, so a handler's Host rule judges what the client asked for.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The largest request body read (a token request is a few KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// Open connections at most; a connection past it is closed at once.
pub const MAX_CONNECTIONS: usize = 1024;

/// Open connections at most from one address (IPv4, or IPv6 with an
/// IPv4-mapped address counted as IPv4); a connection past it is closed at
/// once. Postman, curl and a load test with 32 connections stay far below.
pub const MAX_PER_PEER: usize = 64;

/// Time allowed for a request's head (from the connection's start, or from
/// the previous answer on a kept-alive one), and then for its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A request, read whole.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query, percent-encoding kept.
    pub path: String,
    pub query: Option<String>,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of this (lower-case) name whose value is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON answer (pretty only when it is small enough not to matter).
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// A plain-text answer.
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: body.into().into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
}

/// What serves the requests.
pub trait Handler: Send + Sync + 'static {
    /// Answer a request; may block (it runs on tokio's blocking pool).
    fn handle(&self, req: Request) -> Response;

    /// Answer at once if that needs no blocking work (None: call `handle`).
    fn handle_now(&self, _req: &Request) -> Option<Response> {
        None
    }
}

/// One served request, for the access log (never the body or headers).
#[derive(Debug, Clone)]
pub struct LogLine {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub elapsed: Duration,
}

pub type Logger = Arc<dyn Fn(&LogLine) + Send + Sync>;

/// Open connections by peer address, with the caps.
struct Peers {
    open: Mutex<HashMap<IpAddr, usize>>,
    total: AtomicUsize,
}

/// One admitted connection; dropping it gives its place back.
struct Admitted {
    peers: Arc<Peers>,
    ip: IpAddr,
}

impl Peers {
    fn new() -> Arc<Peers> {
        Arc::new(Peers {
            open: Mutex::new(HashMap::new()),
            total: AtomicUsize::new(0),
        })
    }

    /// A place for a new connection from `ip`, or None past a cap.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let ip = ip.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if self.total.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            return None;
        }
        let n = open.entry(ip).or_insert(0);
        if *n >= MAX_PER_PEER {
            return None;
        }
        *n += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Admitted {
            peers: self.clone(),
            ip,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.peers.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
        self.peers.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The listen backlog: room for a burst of connections while the accept
/// loop closes those past a cap (the standard library's 128 overflows under
/// a flood, and an overflowed handshake waits a second or more).
pub const BACKLOG: u32 = 1024;

/// Bind a TCP listener (port 0: a free port), with [`BACKLOG`].
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    // tokio's socket sets the backlog; it needs a reactor only while it is
    // made, and leaves it as a plain listener.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let _reactor = rt.enter();
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As the standard library does on Unix: a restarted server can bind
    // while old connections linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let l = socket.listen(BACKLOG)?.into_std()?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serve forever (until the process ends), on `workers` threads.
pub fn serve(
    listener: TcpListener,
    handler: Arc<dyn Handler>,
    workers: usize,
    log: Option<Logger>,
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_io()
        .enable_time()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let peers = Peers::new();
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                // Too many open files and the like: wait a little, go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Past a cap: closed at once (dropped), never queued.
            let Some(admitted) = peers.admit(peer.ip()) else {
                continue;
            };
            let Ok(local) = stream.local_addr() else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let _admitted = admitted;
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    let log = log.clone();
                    async move { Ok::<_, Infallible>(answer(req, local, handler, log).await) }
                });
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(READ_TIMEOUT)
                    .max_buf_size(64 * 1024)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// Is this authority (`host[:port]`, port 80 when left out) the listener
/// at `local`: its own address, or `localhost` when that is loopback?
fn names_listener(authority: &hyper::http::uri::Authority, local: SocketAddr) -> bool {
    if authority.port_u16().unwrap_or(80) != local.port() {
        return false;
    }
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_canonical() == local.ip().to_canonical(),
        Err(_) => host.eq_ignore_ascii_case("localhost") && local.ip().is_loopback(),
    }
}

/// The request's headers as handlers see them, or the refusal: one `Host`
/// at most, and an absolute-form target only when it names this listener
/// (it then replaces the `Host` header).
fn target_headers(
    parts: &hyper::http::request::Parts,
    local: SocketAddr,
) -> Result<Vec<(String, String)>, Response> {
    let refuse = |status: u16, text: String| {
        Response::json(
            status,
            &serde_json::json!({"error": "invalid_request", "error_description": text}),
        )
    };
    if parts.headers.get_all(hyper::header::HOST).iter().count() > 1 {
        return Err(refuse(
            400,
            "more than one Host header; send exactly one".into(),
        ));
    }
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.into())))
        .collect();
    if let Some(authority) = parts.uri.authority() {
        let http = parts
            .uri
            .scheme_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("http"));
        if !http || !names_listener(authority, local) {
            return Err(refuse(
                421,
                format!(
                    "the request target names {authority}, not this server ({local}); this is not a proxy"
                ),
            ));
        }
        headers.retain(|(k, _)| k != "host");
        headers.push(("host".into(), authority.as_str().to_string()));
    }
    Ok(headers)
}

async fn answer(
    req: hyper::Request<Incoming>,
    local: SocketAddr,
    handler: Arc<dyn Handler>,
    log: Option<Logger>,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let headers = target_headers(&parts, local);
    let body = match &headers {
        // Refused on its head: the body is not read (hyper closes the
        // connection when the body is left unread).
        Err(_) => Ok(Ok(Bytes::new())),
        Ok(_) => tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY).collect())
            .await
            .map(|r| r.map(|b| b.to_bytes())),
    };
    let resp = match (headers, body) {
        (Err(refusal), _) => refusal,
        (Ok(_), Err(_)) => Response::json(
            408,
            &serde_json::json!({"error": "invalid_request", "error_description": "the request body did not arrive in time"}),
        ),
        (Ok(headers), Ok(Ok(b))) => {
            let r = Request {
                method: method.clone(),
                path: path.clone(),
                query: parts.uri.query().map(str::to_string),
                headers,
                body: b.to_vec(),
            };
            match handler.handle_now(&r) {
                Some(quick) => quick,
                None => {
                    let h = handler.clone();
                    match tokio::task::spawn_blocking(move || h.handle(r)).await {
                        Ok(r) => r,
                        Err(_) => Response::json(
                            500,
                            &serde_json::json!({"error": "server_error", "error_description": "the handler failed"}),
                        ),
                    }
                }
            }
        }
        (Ok(_), Ok(Err(_))) => Response::json(
            413,
            &serde_json::json!({"error": "invalid_request", "error_description": format!("the request body is larger than {MAX_BODY} bytes or could not be read")}),
        ),
    };
    if let Some(log) = &log {
        log(&LogLine {
            method,
            path,
            status: resp.status,
            elapsed: started.elapsed(),
        });
    }
    to_hyper(resp)
}

fn to_hyper(r: Response) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder()
        .status(r.status)
        .header("content-type", r.content_type)
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff");
    for (k, v) in &r.headers {
        b = b.header(*k, v.as_str());
    }
    b.body(Full::new(Bytes::from(r.body))).unwrap_or_else(|_| {
        let mut fallback = hyper::Response::new(Full::new(Bytes::from_static(
            b"{\"error\":\"server_error\"}",
        )));
        *fallback.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// An HTTP date (RFC 9110 IMF-fixdate) for a unix time.
pub fn http_date(ts: i64) -> String {
    use time::format_description::well_known::Rfc2822;
    let t =
        time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // RFC 2822 gives "Mon, 23 Nov 2026 17:00:00 +0000"; HTTP wants "GMT".
    t.format(&Rfc2822)
        .map(|s| s.replace("+0000", "GMT"))
        .unwrap_or_default()
}

/// Compare two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date(1_795_453_200), "Mon, 23 Nov 2026 17:00:00 GMT");
        assert_eq!(
            crate::oauth::exchange::parse_http_date(&http_date(1_795_453_200)),
            Some(1_795_453_200)
        );
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }

    fn parts(raw_target: &str, hosts: &[&str]) -> hyper::http::request::Parts {
        let mut b = hyper::Request::builder().uri(raw_target);
        for h in hosts {
            b = b.header("host", *h);
        }
        b.body(()).expect("request").into_parts().0
    }

    #[test]
    fn one_host_and_no_foreign_absolute_targets() {
        let local: SocketAddr = "127.0.0.1:7823".parse().expect("addr");
        let host = |r: Result<Vec<(String, String)>, Response>| {
            r.map(|h| {
                h.into_iter()
                    .filter(|(k, _)| k == "host")
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>()
            })
            .map_err(|r| r.status)
        };
        assert_eq!(
            host(target_headers(
                &parts("/token/x", &["127.0.0.1:7823"]),
                local
            )),
            Ok(vec!["127.0.0.1:7823".to_string()])
        );
        assert_eq!(
            host(target_headers(
                &parts("/token/x", &["127.0.0.1:7823", "evil.example"]),
                local
            )),
            Err(400)
        );
        for foreign in [
            "http://evil.example/token/x",
            "http://127.0.0.1:7824/token/x",
            "http://127.0.0.1/token/x",
            "https://127.0.0.1:7823/token/x",
            "http://127.0.0.2:7823/token/x",
        ] {
            assert_eq!(
                host(target_headers(&parts(foreign, &["127.0.0.1:7823"]), local)),
                Err(421),
                "{foreign}"
            );
        }
        // Naming the listener is allowed, and replaces the Host header.
        for own in [
            "http://127.0.0.1:7823/token/x",
            "http://LOCALHOST:7823/token/x",
        ] {
            let authority = own
                .trim_start_matches("http://")
                .trim_end_matches("/token/x");
            assert_eq!(
                host(target_headers(&parts(own, &["evil.example"]), local)),
                Ok(vec![authority.to_string()]),
                "{own}"
            );
        }
        let v6: SocketAddr = "[::1]:80".parse().expect("addr");
        assert!(target_headers(&parts("http://[::1]/x", &[]), v6).is_ok());
        let any: SocketAddr = "10.0.0.5:7824".parse().expect("addr");
        assert_eq!(
            host(target_headers(&parts("http://localhost:7824/x", &[]), any)),
            Err(421)
        );
    }

    #[test]
    fn connections_are_capped_per_peer_and_in_all() {
        let peers = Peers::new();
        let a: IpAddr = "127.0.0.2".parse().expect("ip");
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().expect("ip");
        let b: IpAddr = "127.0.0.1".parse().expect("ip");
        let mut held: Vec<Admitted> = (0..MAX_PER_PEER)
            .map(|i| {
                peers
                    .admit(if i % 2 == 0 { a } else { mapped })
                    .expect("admitted")
            })
            .collect();
        assert!(peers.admit(a).is_none());
        assert!(peers.admit(mapped).is_none());
        assert!(peers.admit(b).is_some());
        held.pop();
        assert!(peers.admit(a).is_some());
        drop(held);
        assert_eq!(peers.total.load(Ordering::Relaxed), 0);
        assert!(peers.open.lock().expect("lock").is_empty());
        // The total cap, over many peers.
        let all: Vec<Admitted> = (0..MAX_CONNECTIONS)
            .map(|i| {
                let ip = IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]);
                peers.admit(ip).expect("admitted")
            })
            .collect();
        assert!(peers.admit(b).is_none());
        drop(all);
        assert!(peers.admit(b).is_some());
    }

    #[test]
    fn query_parameters() {
        let r = Request {
            method: "GET".into(),
            path: "/token/x".into(),
            query: Some("format=plain&refresh=1&a=%20b".into()),
            headers: vec![("host".into(), "127.0.0.1:1".into())],
            body: Vec::new(),
        };
        assert_eq!(r.query_param("format").as_deref(), Some("plain"));
        assert_eq!(r.query_param("a").as_deref(), Some(" b"));
        assert_eq!(r.query_param("x"), None);
        assert_eq!(r.header("host"), Some("127.0.0.1:1"));
    }
}
