//! The HTTP face of the test CA's revocation data ([`crate::revocation::issue`]):
//!
//! - `GET /crl/SLUG.crl`: the CA's CRL, DER (`application/pkix-crl`), made at
//!   each request from the revocation list as it is then;
//! - `GET /ca/SLUG.crt`: the CA certificate, DER (`application/pkix-cert`);
//! - `POST /ocsp` (`application/ocsp-request`) and `GET /ocsp/BASE64`
//!   (RFC 6960 appendix A): an `application/ocsp-response`;
//! - `GET /`: what is served, JSON.
//!
//! SLUG is [`crate::cert::extensions::ca_slug`] of the CA's common name, the
//! name `keygen --revocation-base` writes into CDP and AIA. The list file is
//! read again when it changes (by modification time and length), so an edit
//! or a `keygen --revoke` shows at the next request; a list that no longer
//! parses is not used (the last good one is, and `GET /` says why).

use super::http::{Handler, Request, Response, http_date};
use crate::cert::extensions::ca_slug;
use crate::revocation::issue::{self, Authority, MAX_OCSP_REQUEST};
use crate::revocation::list::RevocationList;
use base64::Engine;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Mutex;

pub type Clock = Box<dyn Fn() -> i64 + Send + Sync>;

/// Where the list comes from.
pub enum ListSource {
    /// A file, read again when it changes; a missing file is an empty list.
    File(PathBuf),
}

struct Loaded {
    stamp: Option<(std::time::SystemTime, u64)>,
    list: RevocationList,
    problem: Option<String>,
}

pub struct RevocationServer {
    pub authorities: Vec<Authority>,
    pub source: ListSource,
    /// nextUpdate - thisUpdate of CRLs and OCSP answers, seconds.
    pub validity: i64,
    pub clock: Clock,
    loaded: Mutex<Loaded>,
}

/// The largest revocation list file read (a list of thousands of entries).
const MAX_LIST: u64 = 4 * 1024 * 1024;

impl RevocationServer {
    pub fn new(
        authorities: Vec<Authority>,
        source: ListSource,
        validity: i64,
        clock: Clock,
    ) -> RevocationServer {
        let s = RevocationServer {
            authorities,
            source,
            validity,
            clock,
            loaded: Mutex::new(Loaded {
                stamp: None,
                list: RevocationList::default(),
                problem: None,
            }),
        };
        s.list();
        s
    }

    /// The list as it is now.
    fn list(&self) -> RevocationList {
        let ListSource::File(path) = &self.source;
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        let meta = std::fs::metadata(path).ok();
        let stamp = meta
            .as_ref()
            .and_then(|m| Some((m.modified().ok()?, m.len())));
        if meta.is_none() {
            loaded.stamp = None;
            loaded.list = RevocationList::default();
            loaded.problem = None;
        } else if stamp != loaded.stamp || stamp.is_none() {
            let read = match meta.as_ref().map(|m| m.len()) {
                Some(n) if n > MAX_LIST => Err(format!("{} is larger than 4 MiB", path.display())),
                _ => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display())),
            };
            match read.and_then(|b| {
                RevocationList::parse(&String::from_utf8_lossy(&b), &path.display().to_string())
                    .map_err(|e| e.detail)
            }) {
                Ok(l) => {
                    loaded.list = l;
                    loaded.problem = None;
                }
                Err(e) => loaded.problem = Some(e),
            }
            loaded.stamp = stamp;
        }
        loaded.list.clone()
    }

    fn problem(&self) -> Option<String> {
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .problem
            .clone()
    }

    fn by_slug(&self, slug: &str) -> Option<&Authority> {
        self.authorities
            .iter()
            .find(|a| ca_slug(a.ca.cert.subject.get(crate::cert::oid::COMMON_NAME)) == slug)
    }

    fn binary(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    fn ocsp_answer(&self, der: &[u8], now: i64) -> Response {
        let list = self.list();
        let body = issue::ocsp(der, &self.authorities, &list, now, self.validity);
        Self::binary(200, "application/ocsp-response", body)
    }

    fn index(&self) -> Response {
        let cas: Vec<_> = self
            .authorities
            .iter()
            .map(|a| {
                let slug = ca_slug(a.ca.cert.subject.get(crate::cert::oid::COMMON_NAME));
                json!({
                    "subject": a.ca.cert.subject.to_display(),
                    "crl": format!("/crl/{slug}.crl"),
                    "certificate": format!("/ca/{slug}.crt"),
                    "ocsp_signer": a.responder.as_ref().map_or("the CA".to_string(), |r| r.cert.subject.to_display()),
                })
            })
            .collect();
        let list = self.list();
        Response::json(
            200,
            &json!({
                "schema": "credkit.serve.revocation.index/1",
                "ocsp": "/ocsp",
                "cas": cas,
                "revoked": list.entries.len(),
                "list_problem": self.problem(),
            }),
        )
    }
}

impl Handler for RevocationServer {
    fn handle(&self, req: Request) -> Response {
        let now = (self.clock)();
        let path = req.path.as_str();
        let method = req.method.as_str();
        let r = match (method, path) {
            ("GET" | "HEAD", "/") => self.index(),
            ("POST", "/ocsp" | "/ocsp/") => {
                let ct = req.header("content-type").unwrap_or("");
                if !ct
                    .to_ascii_lowercase()
                    .starts_with("application/ocsp-request")
                {
                    Response::text(415, "an OCSP request is sent as application/ocsp-request\n")
                } else {
                    self.ocsp_answer(&req.body, now)
                }
            }
            ("GET" | "HEAD", p) if p.starts_with("/ocsp/") => {
                let enc = &p["/ocsp/".len()..];
                if enc.len() > MAX_OCSP_REQUEST * 2 {
                    Response::text(414, "the OCSP request is too long\n")
                } else {
                    // Form decoding as the broker's paths, with a literal '+' kept:
                    // base64 has it, and form decoding would make it a space.
                    let text: String = url::form_urlencoded::parse(
                        format!("x={}", enc.replace('+', "%2B")).as_bytes(),
                    )
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                    match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                        Ok(der) => self.ocsp_answer(&der, now),
                        Err(_) => self.ocsp_answer(&[], now),
                    }
                }
            }
            ("GET" | "HEAD", p) if p.starts_with("/crl/") && p.ends_with(".crl") => {
                let slug = &p["/crl/".len()..p.len() - ".crl".len()];
                match self.by_slug(slug) {
                    Some(a) => {
                        let list = self.list();
                        match issue::crl(&a.ca, &list, now, self.validity) {
                            Ok(der) => Self::binary(200, "application/pkix-crl", der),
                            Err(e) => {
                                Response::text(500, format!("the CRL could not be made: {e}\n"))
                            }
                        }
                    }
                    None => Response::text(404, format!("no CA named {slug} is served here\n")),
                }
            }
            ("GET" | "HEAD", p) if p.starts_with("/ca/") && p.ends_with(".crt") => {
                let slug = &p["/ca/".len()..p.len() - ".crt".len()];
                match self.by_slug(slug) {
                    Some(a) => Self::binary(200, "application/pkix-cert", a.ca.cert.der.clone()),
                    None => Response::text(404, format!("no CA named {slug} is served here\n")),
                }
            }
            (_, "/" | "/ocsp") => Response::text(405, format!("{method} is not allowed here\n")),
            _ => Response::text(404, format!("nothing is served at {path}\n")),
        };
        r.with_header("date", http_date(now))
    }
}
