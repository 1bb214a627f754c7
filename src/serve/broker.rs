//! The token broker behind `credkit serve broker`: `GET /token/<profile>`
//! answers with a cached access token, or fetches a new one when there is
//! none or it is about to expire (the `token` command's cache margin: a
//! quarter of its life, at most 60 s). Fetching is the caller's closure.
//!
//! Every request must come to the loopback address the broker serves (the
//! `Host` header: DNS-rebinding protection), from no foreign web origin, and
//! carry the per-run secret in `X-Credkit-Secret`. No CORS header is ever sent.
//!
//! A DPoP profile also answers `GET /profiles/<profile>/dpop-proof?htm=GET&htu=URL`
//! (and `nonce`): a proof for one API call, signed by the profile's DPoP key,
//! with `ath` of the token it returns beside it.

use super::http::{Handler, Request, Response, same_secret};
use crate::oauth::cache::{Cached, is_fresh};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The header that carries the per-run secret.
pub(crate) const SECRET_HEADER: &str = "x-credkit-secret";

/// Why a fetch failed, as the broker answers it.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// 502: the server refused; 504: it could not be reached or answered badly;
    /// 500: the credential could not be used.
    pub(crate) status: u16,
    /// A JSON object with at least `error` and `message`.
    pub(crate) body: Value,
}

pub(crate) type Fetch = Box<dyn Fn() -> Result<Cached, Failure> + Send + Sync>;
/// Signs a DPoP proof for one API call: `(htm, htu, nonce, access_token)`.
pub(crate) type Prover =
    Box<dyn Fn(&str, &str, Option<&str>, &str) -> Result<String, Failure> + Send + Sync>;
pub(crate) type Clock = Box<dyn Fn() -> i64 + Send + Sync>;

/// How long a failed fetch is answered from memory: the requests that
/// queued behind it get its answer instead of each trying again.
const FAILURE_KEPT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    token: Option<Cached>,
    failure: Option<(Instant, Failure)>,
}

struct Slot {
    fetch: Fetch,
    /// The profile's DPoP key, when it has one.
    prover: Option<Prover>,
    token: Mutex<State>,
    fetches: AtomicU64,
    served: AtomicU64,
}

/// The broker's state.
pub(crate) struct Broker {
    port: u16,
    /// The per-run secret, wiped when the broker is dropped.
    secret: zeroize::Zeroizing<String>,
    slots: BTreeMap<String, Slot>,
    clock: Clock,
}

impl Broker {
    pub(crate) fn new(port: u16, secret: String, clock: Clock) -> Broker {
        Broker {
            port,
            secret: zeroize::Zeroizing::new(secret),
            slots: BTreeMap::new(),
            clock,
        }
    }

    pub(crate) fn add_profile(&mut self, name: String, fetch: Fetch) {
        self.slots.insert(
            name,
            Slot {
                fetch,
                prover: None,
                token: Mutex::new(State::default()),
                fetches: AtomicU64::new(0),
                served: AtomicU64::new(0),
            },
        );
    }

    /// Let a DPoP profile answer `/profiles/<name>/dpop-proof`.
    pub(crate) fn add_prover(&mut self, name: &str, prover: Prover) {
        if let Some(slot) = self.slots.get_mut(name) {
            slot.prover = Some(prover);
        }
    }

    /// Start a profile with a token fetched already (an interactive grant
    /// signed in on the console at start); later ones come from its fetch.
    pub(crate) fn seed(&self, name: &str, token: Cached) {
        if let Some(slot) = self.slots.get(name) {
            slot.token.lock().unwrap_or_else(|e| e.into_inner()).token = Some(token);
        }
    }

    pub(crate) fn profiles(&self) -> Vec<String> {
        self.slots.keys().cloned().collect()
    }

    /// Is this `Host` header the broker's own loopback address?
    pub(crate) fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(h) = host else { return false };
        let h = h.to_ascii_lowercase();
        let port = self.port.to_string();
        ["127.0.0.1", "localhost"]
            .iter()
            .any(|name| h.strip_prefix(name).and_then(|r| r.strip_prefix(':')) == Some(&port))
    }

    /// A browser's `Origin` is allowed only when it is the broker itself.
    fn origin_allowed(&self, origin: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(o) => {
                let o = o.to_ascii_lowercase();
                o.strip_prefix("http://")
                    .is_some_and(|h| self.host_allowed(Some(h)))
            }
        }
    }

    /// A token still good now (not within its refresh margin).
    fn fresh(&self, c: &Cached) -> bool {
        is_fresh(c, (self.clock)())
    }

    /// A token for a profile, fetching when needed (one fetch at a time per
    /// profile; a failure is shared for a moment with those who waited).
    fn token(&self, slot: &Slot, refresh: bool) -> Result<(Cached, bool), Failure> {
        let asked = Instant::now();
        let mut state = slot.token.lock().unwrap_or_else(|e| e.into_inner());
        if !refresh
            && let Some(c) = state.token.as_ref()
            && self.fresh(c)
        {
            return Ok((c.clone(), true));
        }
        if !refresh
            && let Some((at, f)) = &state.failure
            && (*at >= asked || at.elapsed() < FAILURE_KEPT)
        {
            return Err(f.clone());
        }
        slot.fetches.fetch_add(1, Ordering::Relaxed);
        match (slot.fetch)() {
            Ok(c) => {
                state.token = Some(c.clone());
                state.failure = None;
                Ok((c, false))
            }
            Err(f) => {
                state.token = None;
                state.failure = Some((Instant::now(), f.clone()));
                Err(f)
            }
        }
    }

    /// Host, Origin, method and secret: the refusal, if any.
    fn gate(&self, req: &Request) -> Result<(), Response> {
        if !self.host_allowed(req.header("host")) {
            return Err(error(
                421,
                "host_not_allowed",
                "the Host header is not the broker's loopback address",
                &format!(
                    "call http://127.0.0.1:{} (or localhost); other names are refused to stop DNS rebinding",
                    self.port
                ),
            ));
        }
        if !self.origin_allowed(req.header("origin")) {
            return Err(error(
                403,
                "origin_not_allowed",
                "requests from web pages are refused",
                "call the broker from Postman, curl or a script, not from a browser page",
            ));
        }
        if req.method != "GET" && req.method != "HEAD" {
            return Err(error(
                405,
                "method_not_allowed",
                &format!("{} is not served", req.method),
                "use GET /token/<profile>",
            )
            .with_header("allow", "GET, HEAD"));
        }
        let given = req.header(SECRET_HEADER).unwrap_or("");
        if !same_secret(given, &self.secret) {
            return Err(error(
                401,
                if given.is_empty() {
                    "secret_missing"
                } else {
                    "secret_wrong"
                },
                "the broker's secret is missing or wrong",
                "send the secret credkit printed at start in the X-Credkit-Secret header (it changes every run)",
            ));
        }
        Ok(())
    }

    /// The profile a `/token/<name>` path names.
    fn target(&self, req: &Request) -> Result<(&Slot, String), Response> {
        let path = req.path.trim_end_matches('/');
        let Some(name) = path.strip_prefix("/token/") else {
            return Err(error(
                404,
                "not_found",
                &format!("nothing is served at {}", req.path),
                "use GET /token/<profile> or GET /profiles",
            ));
        };
        let name = url::form_urlencoded::parse(format!("n={name}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        match self.slots.get(&name) {
            Some(slot) => Ok((slot, name)),
            None => Err(error(
                404,
                "unknown_profile",
                &format!("no profile {name:?}"),
                &format!("profiles served: {}", self.profiles().join(", ")),
            )),
        }
    }

    fn profiles_answer(&self) -> Response {
        let now = (self.clock)();
        let list: Vec<Value> = self
            .slots
            .iter()
            .map(|(name, s)| {
                // A fetch in progress holds the lock: say so, do not wait.
                let (t, fetching) = match s.token.try_lock() {
                    Ok(st) => (st.token.clone(), false),
                    Err(_) => (None, true),
                };
                json!({
                    "name": name,
                    "fetching": fetching,
                    "cached": t.as_ref().is_some_and(|c| c.expires_at > now),
                    "expires_in": t.as_ref().map(|c| c.expires_at.saturating_sub(now)).filter(|s| *s > 0),
                    "fetches": s.fetches.load(Ordering::Relaxed),
                    "served": s.served.load(Ordering::Relaxed),
                })
            })
            .collect();
        Response::json(
            200,
            &json!({"schema": "credkit.broker.profiles/1", "profiles": list}),
        )
    }

    fn token_answer(
        &self,
        req: &Request,
        slot: &Slot,
        name: &str,
        c: &Cached,
        cached: bool,
    ) -> Response {
        slot.served.fetch_add(1, Ordering::Relaxed);
        let token = c
            .response
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let plain = req.query_param("format").as_deref() == Some("plain")
            || req
                .header("accept")
                .is_some_and(|a| a.starts_with("text/plain"));
        if plain {
            return Response::text(200, token);
        }
        let now = (self.clock)();
        Response::json(
            200,
            &json!({
                "schema": "credkit.broker.token/1",
                "profile": name,
                "access_token": token,
                "token_type": c.response.get("token_type").cloned().unwrap_or(json!("Bearer")),
                "expires_in": c.expires_at.saturating_sub(now).max(0),
                "expires_at": crate::timefmt::rfc3339(c.expires_at),
                "scope": c.response.get("scope").cloned().unwrap_or(Value::Null),
                "cached": cached,
            }),
        )
    }
}

/// The profile a `/profiles/<name>/dpop-proof` path names (still encoded).
fn dpop_path(req: &Request) -> Option<&str> {
    req.path
        .trim_end_matches('/')
        .strip_prefix("/profiles/")?
        .strip_suffix("/dpop-proof")
}

impl Broker {
    /// `GET /profiles/<name>/dpop-proof?htm=GET&htu=URL[&nonce=N]`: the
    /// profile's token and a proof for one call with it (RFC 9449 §4, §7:
    /// `ath` is the token's hash).
    fn dpop_answer(&self, req: &Request, name: &str) -> Response {
        let name = url::form_urlencoded::parse(format!("n={name}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let Some(slot) = self.slots.get(&name) else {
            return error(
                404,
                "unknown_profile",
                &format!("no profile {name:?}"),
                &format!("profiles served: {}", self.profiles().join(", ")),
            );
        };
        let Some(prover) = &slot.prover else {
            return error(
                404,
                "no_dpop_key",
                &format!("profile {name:?} does not use DPoP"),
                "set dpop = \"generated\" (or \"credential\") in the profile",
            );
        };
        let htm = req.query_param("htm").unwrap_or_else(|| "GET".into());
        let htu = req.query_param("htu").unwrap_or_default();
        let htu_ok = url::Url::parse(&htu).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if htm.is_empty() || !htm.bytes().all(|b| b.is_ascii_uppercase()) || !htu_ok {
            return error(
                400,
                "invalid_request",
                "a proof needs htm (an HTTP method, e.g. GET) and htu (the API's http(s) URL)",
                "GET /profiles/<profile>/dpop-proof?htm=GET&htu=https%3A%2F%2Fapi.example%2Fv1",
            );
        }
        let (c, cached) = match self.token(slot, false) {
            Ok(x) => x,
            Err(f) => return Response::json(f.status, &f.body),
        };
        let token = c
            .response
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let nonce = req.query_param("nonce");
        let proof = match prover(&htm, &htu, nonce.as_deref(), token) {
            Ok(p) => p,
            Err(f) => return Response::json(f.status, &f.body),
        };
        slot.served.fetch_add(1, Ordering::Relaxed);
        if req.query_param("format").as_deref() == Some("plain") {
            return Response::text(200, &proof);
        }
        Response::json(
            200,
            &json!({
                "schema": "credkit.broker.dpop-proof/1",
                "profile": name,
                "dpop": proof,
                "htm": htm,
                "htu": htu,
                "access_token": token,
                "token_type": c.response.get("token_type").cloned().unwrap_or(json!("DPoP")),
                "dpop_jkt": c.binding.dpop_jkt,
                "cached": cached,
            }),
        )
    }
}

fn refresh_asked(req: &Request) -> bool {
    req.query_param("refresh")
        .is_some_and(|v| v != "0" && v != "false")
}

fn error(status: u16, error: &str, message: &str, hint: &str) -> Response {
    Response::json(
        status,
        &json!({"error": error, "message": message, "hint": hint}),
    )
}

impl Handler for Broker {
    fn handle(&self, req: Request) -> Response {
        if let Err(r) = self.gate(&req) {
            return r;
        }
        if req.path.trim_end_matches('/') == "/profiles" {
            return self.profiles_answer();
        }
        if let Some(name) = dpop_path(&req) {
            return self.dpop_answer(&req, name);
        }
        let (slot, name) = match self.target(&req) {
            Ok(x) => x,
            Err(r) => return r,
        };
        match self.token(slot, refresh_asked(&req)) {
            Ok((c, cached)) => self.token_answer(&req, slot, &name, &c, cached),
            Err(f) => {
                let mut body = f.body;
                if let Value::Object(m) = &mut body {
                    m.insert("profile".into(), json!(name));
                }
                Response::json(f.status, &body)
            }
        }
    }

    /// A cached token is answered on the server's own thread, without the
    /// hand-off to the blocking pool that a fetch needs.
    fn handle_now(&self, req: &Request) -> Option<Response> {
        if let Err(refusal) = self.gate(req) {
            return Some(refusal);
        }
        if req.path.trim_end_matches('/') == "/profiles" {
            return Some(self.profiles_answer());
        }
        // A proof may need a fetch first: on the blocking pool.
        if dpop_path(req).is_some() {
            return None;
        }
        let (slot, name) = match self.target(req) {
            Ok(x) => x,
            Err(not_found) => return Some(not_found),
        };
        if refresh_asked(req) {
            return None;
        }
        let c = {
            let state = slot.token.try_lock().ok()?;
            state.token.as_ref().filter(|c| self.fresh(c))?.clone()
        };
        Some(self.token_answer(req, slot, &name, &c, true))
    }
}

/// A Postman pre-request script that puts a fresh token into the variable
/// `token` (small on purpose; it runs before every request).
pub(crate) fn postman_script(port: u16, profile: &str, secret: &str) -> String {
    // JSON string literals are JavaScript string literals; the profile name
    // is form-encoded in the path, as the broker decodes it.
    let enc: String = url::form_urlencoded::byte_serialize(profile.as_bytes()).collect();
    let js = |v: &str| serde_json::to_string(v).unwrap_or_else(|_| "\"\"".into());
    let url = js(&format!("http://127.0.0.1:{port}/token/{enc}"));
    let (name, secret) = (js(profile), js(secret));
    format!(
        "// credkit serve broker: a fresh token for profile {name} in {{{{token}}}}.\n\
// The broker's secret changes every run: set the variable credkit_secret\n\
// (or replace the fallback below) after each start.\n\
const secret = pm.variables.get('credkit_secret') || {secret};\n\
pm.sendRequest({{ url: {url}, method: 'GET', header: {{ 'X-Credkit-Secret': secret }} }}, (err, res) => {{\n\
  if (err) {{ console.error('credkit broker unreachable', err); return; }}\n\
  const body = res.json();\n\
  if (res.code !== 200) {{ console.error('credkit broker:', body.message, body.hint || ''); return; }}\n\
  pm.variables.set('token', body.access_token);\n\
  pm.environment.set('token', body.access_token);\n\
}});\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use std::sync::Arc;
    use std::sync::atomic::AtomicI64;

    fn cached(token: &str, now: i64, life: i64) -> Cached {
        let mut m = Map::new();
        m.insert("access_token".into(), json!(token));
        m.insert("token_type".into(), json!("Bearer"));
        Cached {
            endpoint: "e".into(),
            client_id: "c".into(),
            response: m,
            obtained_at: now,
            expires_at: now + life,
            binding: Default::default(),
        }
    }

    fn broker() -> (Broker, Arc<AtomicI64>, Arc<AtomicU64>) {
        let now = Arc::new(AtomicI64::new(1_000_000));
        let n = now.clone();
        let mut b = Broker::new(
            7823,
            "s3cret".into(),
            Box::new(move || n.load(Ordering::SeqCst)),
        );
        let calls = Arc::new(AtomicU64::new(0));
        let (c2, n2) = (calls.clone(), now.clone());
        b.add_profile(
            "mp".into(),
            Box::new(move || {
                let i = c2.fetch_add(1, Ordering::SeqCst);
                Ok(cached(&format!("tok{i}"), n2.load(Ordering::SeqCst), 120))
            }),
        );
        b.add_profile(
            "bad".into(),
            Box::new(|| {
                Err(Failure {
                    status: 502,
                    body: json!({"error": "refused", "message": "invalid_scope"}),
                })
            }),
        );
        (b, now, calls)
    }

    fn get(b: &Broker, path: &str, headers: &[(&str, &str)]) -> Response {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (path.to_string(), None),
        };
        b.handle(Request {
            method: "GET".into(),
            path,
            query,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        })
    }

    const OK: [(&str, &str); 2] = [("host", "127.0.0.1:7823"), (SECRET_HEADER, "s3cret")];

    fn body(r: &Response) -> Value {
        serde_json::from_slice(&r.body).expect("json")
    }

    #[test]
    fn caches_until_the_margin_then_refreshes() {
        let (b, now, calls) = broker();
        let r = get(&b, "/token/mp", &OK);
        assert_eq!(r.status, 200);
        assert_eq!(body(&r)["access_token"], "tok0");
        assert_eq!(body(&r)["cached"], false);
        now.fetch_add(80, Ordering::SeqCst);
        let r = get(&b, "/token/mp", &OK);
        assert_eq!(body(&r)["access_token"], "tok0");
        assert_eq!(body(&r)["cached"], true);
        assert_eq!(body(&r)["expires_in"], 40);
        // 120 s token: margin 30 s, so at 91 s it is renewed.
        now.fetch_add(11, Ordering::SeqCst);
        let r = get(&b, "/token/mp", &OK);
        assert_eq!(body(&r)["access_token"], "tok1");
        let r = get(&b, "/token/mp?refresh=1", &OK);
        assert_eq!(body(&r)["access_token"], "tok2");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let r = get(&b, "/token/mp?format=plain", &OK);
        assert_eq!(r.body, b"tok2");
        assert_eq!(r.content_type, "text/plain; charset=utf-8");
    }

    #[test]
    fn refuses_foreign_hosts_origins_and_missing_secrets() {
        let (b, _, calls) = broker();
        for host in [
            "evil.example:7823",
            "127.0.0.1:7824",
            "127.0.0.1",
            "127.0.0.1.evil:7823",
        ] {
            let r = get(
                &b,
                "/token/mp",
                &[("host", host), (SECRET_HEADER, "s3cret")],
            );
            assert_eq!(r.status, 421, "{host}");
        }
        let r = get(&b, "/token/mp", &[(SECRET_HEADER, "s3cret")]);
        assert_eq!(r.status, 421);
        let r = get(
            &b,
            "/token/mp",
            &[("host", "LOCALHOST:7823"), (SECRET_HEADER, "s3cret")],
        );
        assert_eq!(r.status, 200);
        let r = get(
            &b,
            "/token/mp",
            &[OK[0], OK[1], ("origin", "https://evil.example")],
        );
        assert_eq!(r.status, 403);
        let r = get(&b, "/token/mp", &[OK[0]]);
        assert_eq!(
            (r.status, body(&r)["error"].clone()),
            (401, json!("secret_missing"))
        );
        let r = get(&b, "/token/mp", &[OK[0], (SECRET_HEADER, "s3crex")]);
        assert_eq!(
            (r.status, body(&r)["error"].clone()),
            (401, json!("secret_wrong"))
        );
        assert!(
            r.headers
                .iter()
                .all(|(k, _)| !k.starts_with("access-control"))
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn unknown_profiles_and_failures() {
        let (b, _, _) = broker();
        let r = get(&b, "/token/nope", &OK);
        assert_eq!(r.status, 404);
        assert!(body(&r)["hint"].as_str().unwrap_or("").contains("bad, mp"));
        let r = get(&b, "/token/bad", &OK);
        assert_eq!(r.status, 502);
        assert_eq!(body(&r)["profile"], "bad");
        let r = get(&b, "/profiles", &OK);
        assert_eq!(body(&r)["profiles"][1]["name"], "mp");
        let mut req_post = get(&b, "/", &OK);
        assert_eq!(req_post.status, 404);
        req_post = b.handle(Request {
            method: "POST".into(),
            path: "/token/mp".into(),
            query: None,
            headers: OK
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        });
        assert_eq!(req_post.status, 405);
    }

    #[test]
    fn a_failure_is_shared_for_a_moment_and_refresh_retries() {
        let calls = Arc::new(AtomicU64::new(0));
        let c2 = calls.clone();
        let mut b = Broker::new(7823, "s3cret".into(), Box::new(|| 1_000_000));
        b.add_profile(
            "down".into(),
            Box::new(move || {
                c2.fetch_add(1, Ordering::SeqCst);
                Err(Failure {
                    status: 504,
                    body: json!({"error": "unreachable", "message": "connection refused"}),
                })
            }),
        );
        for _ in 0..3 {
            let r = get(&b, "/token/down", &OK);
            assert_eq!(r.status, 504);
            assert_eq!(body(&r)["profile"], "down");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let r = get(&b, "/token/down?refresh=1", &OK);
        assert_eq!(r.status, 504);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn the_postman_script_names_the_profile_and_port() {
        let s = postman_script(7823, "mp-test", "abc");
        assert!(s.contains("\"http://127.0.0.1:7823/token/mp-test\""));
        assert!(s.contains("|| \"abc\";"));
        assert!(s.len() < 1200);
        // A name that would break out of a string literal stays inside one.
        let s = postman_script(7823, "x'); alert(1); ('+\"", "abc");
        assert!(
            s.contains("/token/x%27%29%3B+alert%281%29%3B+%28%27%2B%22\""),
            "{s}"
        );
        assert!(s.contains("profile \"x'); alert(1); ('+\\\"\""), "{s}");
    }
}
