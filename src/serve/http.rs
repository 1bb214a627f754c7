//! A small HTTP/1.1 server on hyper and tokio for `serve`: it reads a whole
//! request (bodies up to [`MAX_BODY`]), hands it to a synchronous handler on
//! tokio's blocking pool (handlers may sign, verify or call a token endpoint),
//! and writes the answer. Keep-alive, header read timeout, no TLS: it serves
//! loopback and test networks only.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest request body read (a token request is a few KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// Open connections at most; beyond, new ones wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1024;

/// Time allowed for a request's headers, and then for its body.
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
    pub peer: SocketAddr,
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

/// Bind a TCP listener (port 0: a free port).
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let l = TcpListener::bind(addr)?;
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
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return Ok(());
            };
            let (stream, peer) = match listener.accept().await {
                Ok(x) => x,
                // Too many open files and the like: wait a little, go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let _permit = permit;
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    let log = log.clone();
                    async move { Ok::<_, Infallible>(answer(req, peer, handler, log).await) }
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

async fn answer(
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    handler: Arc<dyn Handler>,
    log: Option<Logger>,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let body = tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY).collect()).await;
    let resp = match body {
        Err(_) => Response::json(
            408,
            &serde_json::json!({"error": "invalid_request", "error_description": "the request body did not arrive in time"}),
        ),
        Ok(Ok(b)) => {
            let r = Request {
                method: method.clone(),
                path: path.clone(),
                query: parts.uri.query().map(str::to_string),
                headers: parts
                    .headers
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.into())))
                    .collect(),
                body: b.to_bytes().to_vec(),
                peer,
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
        Ok(Err(_)) => Response::json(
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

    #[test]
    fn query_parameters() {
        let r = Request {
            method: "GET".into(),
            path: "/token/x".into(),
            query: Some("format=plain&refresh=1&a=%20b".into()),
            headers: vec![("host".into(), "127.0.0.1:1".into())],
            body: Vec::new(),
            peer: "127.0.0.1:2".parse().expect("addr"),
        };
        assert_eq!(r.query_param("format").as_deref(), Some("plain"));
        assert_eq!(r.query_param("a").as_deref(), Some(" b"));
        assert_eq!(r.query_param("x"), None);
        assert_eq!(r.header("host"), Some("127.0.0.1:1"));
    }
}
