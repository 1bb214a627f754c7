//! `credkit serve broker` and `credkit serve mock-maskinporten`, exercised
//! over real HTTP on 127.0.0.1. The broker fetches from the
//! Maskinporten-compatible test server (tests/peer/maskinporten-errors.mjs) and
//! from credkit's own mock; the mock is also fed grants minted by PyJWT.

use crate::support::*;
use crate::token::Peer;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const P12: &str = "p12/openssl3-aes-auth.p12";
const CLIENT: &str = "0b7c5c8e-1111-2222-3333-444455556666";

/// A running `credkit serve …`, killed when dropped.
pub struct Service {
    child: Child,
    pub started: Value,
    pub port: u16,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Service {
    /// Start `credkit --json serve ARGS` and read its first stdout line.
    pub fn start(args: &[String], envs: &[(&str, &str)]) -> Service {
        let dir = tempfile::tempdir().expect("tmp");
        let stderr = dir.path().join("stderr.log");
        let mut child = credkit_with(Clock::Real)
            .arg("--json")
            .arg("serve")
            .args(args)
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env("NO_PROXY", "*")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("run credkit");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("read");
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let started: Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            let _ = child.kill();
            panic!(
                "serve did not start: {line:?}\n{}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            )
        });
        let port = started["port"].as_u64().expect("port") as u16;
        Service {
            child,
            started,
            port,
            stderr,
            _dir: dir,
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn secret(&self) -> String {
        self.started["secret"].as_str().expect("secret").to_string()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection: (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    (status, body.to_string())
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// A config with profiles against the Maskinporten-compatible test server.
fn broker_config(dir: &Path, issuer: &str) -> PathBuf {
    let key = path_str(&fixture(P12));
    let mut t = String::new();
    for (name, scope) in [
        ("mp", "test:read"),
        ("short", "life:2"),
        ("refused", "case:MP-200"),
    ] {
        t.push_str(&format!(
            "[profiles.{name}]\nkey = {key:?}\nalias = \"auth\"\npassword_env = \"MP_PW\"\n\
             client_id = {CLIENT:?}\nscope = {scope:?}\nissuer = {issuer:?}\njwt_profile = \"maskinporten\"\n\n"
        ));
    }
    write(dir, "config.toml", &t)
}

fn start_broker(config: &Path, extra: &[&str]) -> Service {
    let mut args: Vec<String> = vec![
        "broker".into(),
        "--config".into(),
        path_str(config),
        "--port".into(),
        "0".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Service::start(&args, &[("MP_PW", password_for(P12))])
}

#[test]
fn broker_guards_every_door() {
    let peer = Peer::maskinporten();
    let dir = tempfile::tempdir().expect("tmp");
    let secret_file = dir.path().join("broker.secret");
    let cfg = broker_config(dir.path(), &format!("{}/", peer.base));
    let b = start_broker(&cfg, &["--secret-file", &path_str(&secret_file)]);
    assert_eq!(b.started["schema"], "credkit.serve.broker/1");
    // The secret file: the secret, mode 0600, never replaced without --force.
    assert_eq!(
        std::fs::read_to_string(&secret_file)
            .expect("secret file")
            .trim(),
        b.started["secret"].as_str().expect("secret")
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut again = credkit();
    again
        .args([
            "serve",
            "broker",
            "--port",
            "0",
            "--config",
            &path_str(&cfg),
        ])
        .args(["--secret-file", &path_str(&secret_file)])
        .env("MP_PW", password_for(P12));
    let r = run(again);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("broker.secret") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(b.started["profiles"], json!(["mp", "refused", "short"]));
    let secret = b.secret();
    assert!(secret.len() >= 43, "a 256-bit secret: {secret}");
    let port = b.port;
    let ok = [("X-Credkit-Secret", secret.as_str())];

    // No secret, a wrong one, a foreign Host (DNS rebinding), a web page's Origin, POST.
    let (st, body) = http(port, "GET", "/token/mp", &[], "");
    assert_eq!(
        (st, json_of(&body)["error"].clone()),
        (401, json!("secret_missing"))
    );
    let (st, _) = http(
        port,
        "GET",
        "/token/mp",
        &[("X-Credkit-Secret", "guess")],
        "",
    );
    assert_eq!(st, 401);
    let host = format!("attacker.example:{port}");
    let (st, body) = http(port, "GET", "/token/mp", &[ok[0], ("Host", &host)], "");
    assert_eq!(
        (st, json_of(&body)["error"].clone()),
        (421, json!("host_not_allowed"))
    );
    let (st, _) = http(
        port,
        "GET",
        "/token/mp",
        &[ok[0], ("Host", "127.0.0.1:1")],
        "",
    );
    assert_eq!(st, 421);
    let (st, _) = http(
        port,
        "GET",
        "/token/mp",
        &[ok[0], ("Origin", "https://attacker.example")],
        "",
    );
    assert_eq!(st, 403);
    let (st, _) = http(port, "POST", "/token/mp", &ok, "");
    assert_eq!(st, 405);
    let (st, body) = http(port, "GET", "/token/nope", &ok, "");
    assert_eq!(st, 404);
    assert!(
        json_of(&body)["hint"]
            .as_str()
            .unwrap_or("")
            .contains("mp, refused, short")
    );
    // A preflight gets no CORS header either.
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "OPTIONS /token/mp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n").expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    assert!(raw.starts_with("HTTP/1.1 405"), "{raw}");
    assert!(
        !raw.to_ascii_lowercase().contains("access-control-"),
        "{raw}"
    );
    // None of those reached the authorization server.
    let (_, body) = http(port, "GET", "/profiles", &ok, "");
    let profiles = json_of(&body)["profiles"].clone();
    assert!(
        profiles
            .as_array()
            .expect("list")
            .iter()
            .all(|p| p["fetches"] == 0),
        "{profiles}"
    );
}

#[test]
fn broker_caches_refreshes_and_explains() {
    let peer = Peer::maskinporten();
    let dir = tempfile::tempdir().expect("tmp");
    let b = start_broker(&broker_config(dir.path(), &format!("{}/", peer.base)), &[]);
    let secret = b.secret();
    let ok = [("X-Credkit-Secret", secret.as_str())];
    let get = |path: &str, extra: &[(&str, &str)]| {
        let mut h: Vec<(&str, &str)> = ok.to_vec();
        h.extend_from_slice(extra);
        http(b.port, "GET", path, &h, "")
    };

    let (st, body) = get("/token/mp", &[]);
    assert_eq!(st, 200, "{body}");
    let first = json_of(&body);
    assert_eq!(first["schema"], "credkit.broker.token/1");
    assert_eq!(first["cached"], false);
    assert_eq!(first["scope"], "test:read");
    let token = first["access_token"].as_str().expect("token").to_string();
    assert!(token.starts_with("mp."));
    assert!((110..=120).contains(&first["expires_in"].as_i64().expect("expires_in")));

    // Cached: the same token, no new grant.
    let (_, body) = get("/token/mp", &[]);
    assert_eq!(json_of(&body)["access_token"], token);
    assert_eq!(json_of(&body)["cached"], true);
    let (_, plain) = get("/token/mp?format=plain", &[]);
    assert_eq!(plain, token);
    let (_, plain) = get("/token/mp", &[("Accept", "text/plain")]);
    assert_eq!(plain, token);
    // Forced refresh: a new grant, a new token.
    let (_, body) = get("/token/mp?refresh=1", &[]);
    let second = json_of(&body)["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_ne!(second, token);

    // A 2-second token is renewed once it expires.
    let (_, body) = get("/token/short", &[]);
    let short = json_of(&body)["access_token"].clone();
    let (_, body) = get("/token/short", &[]);
    assert_eq!(json_of(&body)["access_token"], short);
    std::thread::sleep(Duration::from_millis(2_600));
    let (_, body) = get("/token/short", &[]);
    assert_eq!(json_of(&body)["cached"], false);
    assert_ne!(json_of(&body)["access_token"], short);

    // A refusal: 502 with the server's words, the cause and the fix.
    let (st, body) = get("/token/refused", &[]);
    assert_eq!(st, 502, "{body}");
    let r = json_of(&body);
    assert_eq!(r["error"], "refused");
    assert_eq!(r["profile"], "refused");
    assert_eq!(r["server_error"], "invalid_scope");
    assert!(
        r["server_error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("Token request contains invalid scopes for client")
    );
    assert!(
        r["fix"]
            .as_str()
            .unwrap_or("")
            .contains("Samarbeidsportalen"),
        "{r}"
    );

    let (_, body) = get("/profiles", &[]);
    let p = json_of(&body);
    let by = |n: &str| {
        p["profiles"]
            .as_array()
            .expect("list")
            .iter()
            .find(|x| x["name"] == n)
            .cloned()
            .expect(n)
    };
    assert_eq!(by("mp")["fetches"], 2);
    assert_eq!(by("short")["fetches"], 2);
    assert_eq!(by("mp")["served"], 5);

    // The access log names requests, never the secret or a token.
    let log = b.stderr();
    assert!(log.contains("GET /token/mp 200"), "{log}");
    assert!(!log.contains(&secret), "{log}");
    assert!(!log.contains(&token) && !log.contains(&second), "{log}");
}

#[test]
fn broker_refuses_to_start_on_a_broken_profile_or_a_busy_port() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = write(
        dir.path(),
        "config.toml",
        &format!(
            "[profiles.wrongpw]\nkey = {:?}\npassword_env = \"MP_PW\"\nclient_id = \"c\"\nscope = \"s\"\nenv = \"test\"\n",
            path_str(&fixture(P12))
        ),
    );
    let mut c = credkit();
    c.args([
        "serve",
        "broker",
        "--config",
        &path_str(&cfg),
        "--port",
        "0",
    ])
    .env("MP_PW", "not-the-password");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("wrongpw"), "{}", r.stderr);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(!r.stderr.contains("not-the-password"));
    r.assert_no_panic();

    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port().to_string();
    let mut c = credkit();
    c.args([
        "serve",
        "broker",
        "--config",
        &path_str(&cfg),
        "--port",
        &port,
    ]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        r.stderr
    );
    r.assert_no_panic();

    let empty = write(dir.path(), "empty.toml", "");
    let mut c = credkit();
    c.args([
        "serve",
        "broker",
        "--config",
        &path_str(&empty),
        "--port",
        "0",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("has no profiles"), "{}", r.stderr);
}

/// The generated Postman pre-request script, run under Node with a `pm` shim.
#[test]
fn postman_script_fetches_the_token() {
    let peer = Peer::maskinporten();
    let dir = tempfile::tempdir().expect("tmp");
    let b = start_broker(
        &broker_config(dir.path(), &format!("{}/", peer.base)),
        &["--profile", "mp", "--postman-script"],
    );
    let scripts = b.started["postman_scripts"]
        .as_array()
        .expect("scripts")
        .clone();
    assert_eq!(scripts.len(), 1);
    assert_eq!(scripts[0][0], "mp");
    let script = scripts[0][1].as_str().expect("script");
    assert!(
        script.len() < 1200,
        "keep the script small: {} bytes",
        script.len()
    );
    let file = write(dir.path(), "pre-request.js", script);
    let shim = root().join("tests/tools/postman_shim.mjs");

    let out = crate::support::peer("node", &[&path_str(&shim), &path_str(&file)]);
    let v = json_of(&out);
    let token = v["environment"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"));
    assert!(token.starts_with("mp."), "{v}");
    assert_eq!(v["variables"]["token"], token);
    // The same token the broker serves from its cache.
    let (_, body) = http(
        b.port,
        "GET",
        "/token/mp",
        &[("X-Credkit-Secret", &b.secret())],
        "",
    );
    assert_eq!(json_of(&body)["access_token"], token);

    // A stale secret (from the variable) is refused, and the script says why.
    let out = crate::support::peer(
        "node",
        &[&path_str(&shim), &path_str(&file), "stale-secret"],
    );
    let v = json_of(&out);
    assert!(v["environment"].get("token").is_none(), "{v}");
    assert!(
        v["errors"].as_array().is_some_and(|e| e
            .iter()
            .any(|m| m.as_str().unwrap_or("").contains("secret"))),
        "{v}"
    );
}

// ---- serve mock-maskinporten ----

pub(crate) const ORG1: &str = "00000000-0000-4000-8000-0000000000c1";
pub(crate) const KEYC: &str = "00000000-0000-4000-8000-0000000000c2";
const SUPP: &str = "00000000-0000-4000-8000-0000000000c3";

/// A fixture set made by `credkit keygen --fixture-set` (seeded), with a
/// clients.toml for the tests: a certificate client of org1, a key client of
/// org1 (kid k1, and an expired old-key), and org2 as a supplier for org1.
pub(crate) fn mock_fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = credkit_with(Clock::Real);
    c.args(["keygen", "--fixture-set"])
        .arg(dir.path().join("fx"))
        .args(["--seed", "serve-tests"])
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_ok();
    write(
        dir.path(),
        "clients.toml",
        &format!(
            r#"user_login_scopes = ["openid"]
[access]
"test:restricted" = ["123456785"]

[[client]]
client_id = "{ORG1}"
org = "123456785"
scopes = ["test:read", "test:write"]

[[client]]
client_id = "{KEYC}"
org = "123456785"
scopes = ["test:read"]
auth = "key"
keys = [{{ kid = "k1", file = "fx/org1-auth.jwk" }},
        {{ kid = "old-key", file = "fx/org1-auth.jwk", expires = "2020-01-01T00:00:00Z" }}]

[[client]]
client_id = "{SUPP}"
org = "987654325"
scopes = ["test:read", "test:write", "test:restricted"]
consumers = {{ "123456785" = ["test:read"] }}
"#
        ),
    );
    dir
}

pub(crate) fn start_mock(dir: &Path, extra: &[&str]) -> Service {
    let mut args: Vec<String> = vec![
        "mock-maskinporten".into(),
        "--ca".into(),
        path_str(&dir.join("fx/ca-chain.pem")),
        "--clients".into(),
        path_str(&dir.join("clients.toml")),
        "--port".into(),
        "0".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Service::start(&args, &[])
}

/// `credkit token` against the mock, with the real clock.
fn token_cmd(dir: &Path, issuer: &str, client: &str, key: &str) -> Command {
    let mut c = credkit_with(Clock::Real);
    c.current_dir(dir)
        .env("CREDKIT_PASSWORD", "changeit")
        .env("NO_PROXY", "*")
        .args(["token", "--no-cache", "--issuer", issuer])
        .args([
            "--jwt-profile",
            "maskinporten",
            "--key",
            key,
            "--client-id",
            client,
        ]);
    c
}

#[test]
fn mock_answers_every_documented_error_to_pyjwt_grants() {
    let dir = mock_fixtures();
    let m = start_mock(dir.path(), &[]);
    assert_eq!(m.started["schema"], "credkit.serve.mock-maskinporten/1");
    let issuer = m.started["issuer"].as_str().expect("issuer").to_string();
    assert_eq!(issuer, format!("http://127.0.0.1:{}/", m.port));

    // Metadata as Maskinporten's.
    let (st, body) = http(
        m.port,
        "GET",
        "/.well-known/oauth-authorization-server",
        &[],
        "",
    );
    assert_eq!(st, 200);
    let meta = json_of(&body);
    assert_eq!(meta["issuer"], issuer);
    assert_eq!(meta["token_endpoint"], format!("{issuer}token"));
    assert_eq!(meta["jwks_uri"], format!("{issuer}jwk"));
    assert_eq!(
        meta["grant_types_supported"],
        json!(["urn:ietf:params:oauth:grant-type:jwt-bearer"])
    );

    let script = root().join("tests/tools/mock_grants.py");
    let out = crate::support::peer(
        "python3",
        &[
            &path_str(&script),
            &issuer,
            &path_str(&dir.path().join("fx")),
            "changeit",
        ],
    );
    let v = json_of(&out);
    for case in credkit::oauth::mock::Case::ALL {
        let (id, status, error, text) =
            (case.id(), case.status(), case.error(), case.description());
        let got = &v[id];
        assert_eq!(got["status"], status, "{id}: {got}");
        assert_eq!(got["error"], error, "{id}: {got}");
        let desc = got["error_description"].as_str().unwrap_or("");
        // Exactly the documented text (several are prefixes of others), then
        // the trace id; the templates (MP-250, MP-251) around their values.
        let (said, trace) = desc
            .rsplit_once(" (trace_id: ")
            .unwrap_or_else(|| panic!("{id}: no trace id in {desc:?}"));
        assert!(trace.ends_with(')'), "{id}: {desc}");
        if text.contains('{') {
            let prefix = text.split('{').next().unwrap_or(text);
            let suffix = text.rsplit('}').next().unwrap_or(text);
            assert!(
                said.starts_with(prefix) && said.ends_with(suffix),
                "{id}: {said:?}"
            );
        } else {
            assert_eq!(said, text, "{id}");
        }
    }
    assert_eq!(
        v["MP-121"]["error_uri"], "https://maskinporten.no/errors/MP-121",
        "{}",
        v["MP-121"]
    );
    assert!(
        v["MP-250"]["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("test:restricted")
    );
    assert!(
        v["MP-251"]["error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("Consumer 123456785 has not delegated access to the scope test:write to supplier 987654325.")
    );
    assert_eq!(v["replay_first_use"]["status"], 200);
    assert_eq!(v["key_client"]["status"], 200, "{}", v["key_client"]);

    // The good grant's token, checked by PyJWT against /jwk: Maskinporten's claims.
    assert_eq!(v["valid"]["status"], 200, "{}", v["valid"]);
    assert_eq!(v["valid"]["body"]["token_type"], "Bearer");
    assert_eq!(v["valid"]["body"]["expires_in"], 120);
    let t = &v["valid_claims"];
    assert_eq!(t["iss"], issuer);
    assert_eq!(t["client_id"], SUPP);
    assert_eq!(t["client_amr"], "virksomhetssertifikat");
    assert_eq!(t["scope"], "test:read");
    assert_eq!(t["aud"], json!(["https://api.example/"]));
    assert_eq!(
        t["consumer"],
        json!({"authority": "iso6523-actorid-upis", "ID": "0192:123456785"})
    );
    assert_eq!(
        t["supplier"],
        json!({"authority": "iso6523-actorid-upis", "ID": "0192:987654325"})
    );
    assert_eq!(
        t["exp"].as_i64().expect("exp") - t["iat"].as_i64().expect("iat"),
        120
    );
}

#[test]
fn mock_serves_credkit_token_and_the_broker_end_to_end() {
    let dir = mock_fixtures();
    let m = start_mock(dir.path(), &["--token-lifetime", "300s"]);
    let issuer = m.started["issuer"].as_str().expect("issuer").to_string();

    // Business certificate (x5c), then a registered key (kid).
    let mut c = token_cmd(dir.path(), &issuer, ORG1, "fx/org1-auth.p12");
    c.args(["--scope", "test:read test:write", "--json"]);
    let r = run(c);
    r.assert_ok();
    let resp = r.json();
    assert_eq!(resp["expires_in"], 300);
    let token = resp["access_token"].as_str().expect("token").to_string();

    // credkit verifies it with the mock's JWKS, fetched from /jwk.
    let mut c = credkit_with(Clock::Real);
    c.args([
        "jwt",
        "verify",
        "--json",
        "--jwks",
        &format!("{issuer}jwk"),
        "-",
    ])
    .env("NO_PROXY", "*");
    let r = with_stdin(c, &token);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    let mut c = token_cmd(dir.path(), &issuer, KEYC, "fx/org1-auth.p12");
    c.args(["--kid", "k1", "--scope", "test:read", "--json"]);
    let r = run(c);
    r.assert_ok();

    // A refusal is explained: org2's certificate for org1's client.
    let mut c = token_cmd(dir.path(), &issuer, ORG1, "fx/org2-auth.p12");
    c.args(["--scope", "test:read"]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("Does not match certificate orgno"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("known answer: Maskinporten MP-122"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("fix: use the certificate of the client's organisation"),
        "{}",
        r.stderr
    );

    // The broker in front of the mock: a token that verifies, then the cache.
    let cfg = write(
        dir.path(),
        "config.toml",
        &format!(
            "[profiles.local]\nkey = \"fx/org1-auth.p12\"\npassword_env = \"FX_PW\"\nclient_id = {ORG1:?}\n\
             scope = \"test:read\"\nissuer = {issuer:?}\njwt_profile = \"maskinporten\"\n"
        ),
    );
    let b = Service::start(
        &[
            "broker".into(),
            "--config".into(),
            path_str(&cfg),
            "--port".into(),
            "0".into(),
        ],
        &[("FX_PW", "changeit")],
    );
    let secret = b.secret();
    let (st, body) = http(
        b.port,
        "GET",
        "/token/local",
        &[("X-Credkit-Secret", &secret)],
        "",
    );
    assert_eq!(st, 200, "{body}");
    let t1 = json_of(&body)["access_token"].clone();
    let (_, body) = http(
        b.port,
        "GET",
        "/token/local",
        &[("X-Credkit-Secret", &secret)],
        "",
    );
    assert_eq!(json_of(&body)["access_token"], t1);
    assert_eq!(json_of(&body)["cached"], true);
    assert!(
        m.stderr().matches("POST /token 200").count() >= 3,
        "{}",
        m.stderr()
    );
}

#[test]
fn mock_clock_offset_and_forced_errors() {
    let dir = mock_fixtures();
    // The mock's clock runs 60 s ahead: credkit's fresh grant is stale there.
    // (Behind, the fixture certificates made a moment ago would not be valid yet.)
    let m = start_mock(dir.path(), &["--clock-offset=+60s"]);
    let issuer = m.started["issuer"].as_str().expect("issuer").to_string();
    let mut c = token_cmd(dir.path(), &issuer, ORG1, "fx/org1-auth.p12");
    c.args(["--scope", "test:read", "--json"]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let e = r.error_json();
    let d = &e["error"]["diagnosis"];
    assert!(
        d["server"]["error_description"]
            .as_str()
            .unwrap_or("")
            .starts_with("JWT is expired"),
        "{e}"
    );
    // credkit sees the skew in the mock's Date header.
    let facts = d["facts"].to_string();
    assert!(facts.contains("clock-skew"), "{facts}");

    // A forced error for one client, whatever the grant.
    let m2 = start_mock(dir.path(), &["--force-error", &format!("{SUPP}=MP-250")]);
    let issuer2 = m2.started["issuer"].as_str().expect("issuer").to_string();
    let mut c = token_cmd(dir.path(), &issuer2, SUPP, "fx/org2-auth.p12");
    c.args(["--scope", "test:read"]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("has not been granted access to the scope"),
        "{}",
        r.stderr
    );
    // Other clients are not affected.
    let mut c = token_cmd(dir.path(), &issuer2, ORG1, "fx/org1-auth.p12");
    c.args(["--scope", "test:read"]);
    run(c).assert_ok();
}

#[test]
fn mock_refuses_to_start_on_bad_input() {
    let dir = mock_fixtures();
    let key_only = path_str(&fixture("business/auth.key.pem"));
    write(dir.path(), "empty.toml", "# nothing yet\n");
    let bad = write(
        dir.path(),
        "bad.toml",
        "[[client]]\nclient_id = \"a\"\norg = \"12\"\nscopes = []\n",
    );
    for (ca, clients, want) in [
        ("fx/ca-chain.pem", "bad.toml", "bad.toml"),
        ("fx/ca-chain.pem", "missing.toml", "missing.toml"),
        ("missing.pem", "clients.toml", "missing.pem"),
        ("fx/ca-chain.pem", "empty.toml", "registers no client"),
        (key_only.as_str(), "clients.toml", "holds no certificate"),
    ] {
        let mut c = credkit();
        c.current_dir(dir.path()).args([
            "serve",
            "mock-maskinporten",
            "--port",
            "0",
            "--ca",
            ca,
            "--clients",
            clients,
        ]);
        let r = run(c);
        assert_eq!(r.code, 2, "{ca} {clients}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
        r.assert_no_panic();
    }
    let _ = bad;
    let mut c = credkit();
    c.current_dir(dir.path()).args([
        "serve",
        "mock-maskinporten",
        "--port",
        "0",
        "--ca",
        "fx/ca-chain.pem",
        "--clients",
        "clients.toml",
        "--force-error",
        "nobody=MP-999",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    r.assert_no_panic();
}

/// The README's quick start, run as it stands (credkit on PATH, port 7824).
#[test]
fn readme_quick_start_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let start = readme
        .find("<!-- quick-start -->")
        .expect("quick-start marker");
    let end = readme.find("<!-- /quick-start -->").expect("end marker");
    let block = &readme[start..end];
    let script: String = block
        .lines()
        .skip_while(|l| !l.starts_with("```sh"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(script.contains("serve mock-maskinporten") && script.contains("jwt decode"));
    let dir = tempfile::tempdir().expect("tmp");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_credkit"), bin.join("credkit")).expect("link");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        // Stop the mock even when a step fails.
        .args([
            "-e",
            "-c",
            &format!("trap 'st=$?; kill $(jobs -p) 2>/dev/null || true; exit $st' EXIT\n{script}"),
        ])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("NO_PROXY", "*")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .expect("bash");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "quick start failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("\"client_amr\": \"virksomhetssertifikat\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("valid: RS256 signature verified"),
        "{stdout}"
    );
    assert!(stderr.contains("POST /token 200"), "{stderr}");
}

// ---- Issue 17, item 14: one peer cannot starve the others; one Host; no proxying

/// One raw request (written as given) over a fresh connection, answered
/// within `limit`: (status, body), or why not.
fn raw_request(port: u16, request: &str, limit: Duration) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(limit)).map_err(|e| e.to_string())?;
    s.write_all(request.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("no answer within {limit:?}: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no HTTP status in {head:?}"))?;
    Ok((status, body.to_string()))
}

/// A broker with one client-credentials profile (nothing is fetched: the
/// tests below call `/profiles`).
fn idle_broker(dir: &Path) -> Service {
    let cfg = write(
        dir,
        "config.toml",
        "[profiles.cc]\nclient_id = \"c\"\ntoken_endpoint = \"http://127.0.0.1:9/token\"\n\
         grant = \"client-credentials\"\nclient_secret_env = \"CC_SECRET\"\n",
    );
    Service::start(
        &[
            "broker".into(),
            "--config".into(),
            path_str(&cfg),
            "--port".into(),
            "0".into(),
        ],
        &[("CC_SECRET", "s")],
    )
}

/// Open `n` connections to 127.0.0.1:`port` from 127.0.0.2 (another peer
/// on the loopback network), all at once, each given 3 s to connect; send
/// nothing. Returns those that connected.
fn flood(port: u16, n: usize) -> Vec<std::net::TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..n {
            tasks.push(tokio::spawn(async move {
                let sock = tokio::net::TcpSocket::new_v4().ok()?;
                sock.bind("127.0.0.2:0".parse().expect("addr")).ok()?;
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                let s = tokio::time::timeout(Duration::from_secs(3), sock.connect(addr))
                    .await
                    .ok()?
                    .ok()?;
                s.into_std().ok()
            }));
        }
        let mut open = Vec::new();
        for t in tasks {
            if let Ok(Some(s)) = t.await {
                open.push(s);
            }
        }
        open
    })
}

/// How many of these connections the server has closed (EOF or reset).
fn closed_by_server(conns: &[std::net::TcpStream]) -> usize {
    conns
        .iter()
        .filter(|s| {
            let _ = s.set_nonblocking(true);
            let mut b = [0u8; 1];
            match (&mut &**s).read(&mut b) {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
            }
        })
        .count()
}

#[test]
fn r17_14_one_peer_cannot_starve_the_others() {
    const FLOOD: usize = 1_500;
    const PER_PEER: usize = 64; // src/serve/http.rs MAX_PER_PEER
    let fx = mock_fixtures();
    let mock = start_mock(fx.path(), &[]);
    let dir = tempfile::tempdir().expect("tmp");
    let broker = idle_broker(dir.path());
    let secret = broker.secret();
    let services = [
        ("mock", mock.port, "/jwk".to_string(), String::new()),
        (
            "broker",
            broker.port,
            "/profiles".to_string(),
            format!("X-Credkit-Secret: {secret}\r\n"),
        ),
    ];
    for (name, port, path, extra) in &services {
        let idle = flood(*port, FLOOD);
        assert!(
            idle.len() > FLOOD / 2,
            "{name}: only {} of {FLOOD} connections could be made",
            idle.len()
        );
        // While the idle sockets are held, another peer is served at once.
        for i in 0..10 {
            let t0 = std::time::Instant::now();
            let req = format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
            );
            let answer = raw_request(*port, &req, Duration::from_secs(3));
            let took = t0.elapsed();
            match answer {
                Ok((200, _)) => {}
                other => panic!(
                    "{name}: request {i} with {} idle connections from one peer open: {other:?}",
                    idle.len()
                ),
            }
            assert!(
                took < Duration::from_secs(2),
                "{name}: request {i} took {took:?}"
            );
        }
        // The connections past the cap were closed at once; the peer keeps
        // at most the cap.
        // (A loaded machine may take a moment to accept them all: up to 4 s,
        // well before the 10 s head timeout would close the rest anyway.)
        let mut closed = 0;
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(200));
            closed = closed_by_server(&idle);
            if idle.len() - closed <= PER_PEER {
                break;
            }
        }
        assert!(
            idle.len() - closed <= PER_PEER,
            "{name}: {} of the flood's connections still open (cap {PER_PEER})",
            idle.len() - closed
        );
        drop(idle);
        // Its place is given back when it goes.
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
        );
        assert_eq!(
            raw_request(*port, &req, Duration::from_secs(3)).map(|r| r.0),
            Ok(200),
            "{name}"
        );
    }
}

#[test]
fn r17_14_one_host_header_and_no_foreign_absolute_targets() {
    let fx = mock_fixtures();
    let mock = start_mock(fx.path(), &[]);
    let dir = tempfile::tempdir().expect("tmp");
    let broker = idle_broker(dir.path());
    let secret = broker.secret();
    let limit = Duration::from_secs(10);
    let (bp, mp) = (broker.port, mock.port);
    let sh = format!("X-Credkit-Secret: {secret}\r\n");

    // Broker: the baseline answers.
    let ok =
        format!("GET /profiles HTTP/1.1\r\nHost: 127.0.0.1:{bp}\r\n{sh}Connection: close\r\n\r\n");
    assert_eq!(raw_request(bp, &ok, limit).map(|r| r.0), Ok(200));
    // Two Host headers, the broker's own first: refused (the first no longer wins).
    for hosts in [
        format!("Host: 127.0.0.1:{bp}\r\nHost: evil.example\r\n"),
        format!("Host: evil.example\r\nHost: 127.0.0.1:{bp}\r\n"),
        format!("Host: 127.0.0.1:{bp}\r\nHost: 127.0.0.1:{bp}\r\n"),
    ] {
        let req = format!("GET /profiles HTTP/1.1\r\n{hosts}{sh}Connection: close\r\n\r\n");
        let (st, body) = raw_request(bp, &req, limit).expect("answer");
        assert_eq!(st, 400, "{hosts:?}: {body}");
        assert!(body.contains("Host"), "{body}");
    }
    // An absolute-form target naming another host: not served, whatever Host says.
    for (target, host) in [
        (
            "http://evil.example/profiles".to_string(),
            format!("127.0.0.1:{bp}"),
        ),
        (
            "http://evil.example/token/cc".to_string(),
            "evil.example".to_string(),
        ),
        (
            format!("http://127.0.0.1:{}/profiles", bp + 1),
            format!("127.0.0.1:{bp}"),
        ),
        (
            format!("https://127.0.0.1:{bp}/profiles"),
            format!("127.0.0.1:{bp}"),
        ),
    ] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n{sh}Connection: close\r\n\r\n");
        let (st, body) = raw_request(bp, &req, limit).expect("answer");
        assert_eq!(st, 421, "{target} (Host {host}): {body}");
        assert!(!body.contains("\"profiles\""), "{body}");
    }
    // Naming the broker itself is the request it is (RFC 9112 §3.2.2).
    let req = format!(
        "GET http://127.0.0.1:{bp}/profiles HTTP/1.1\r\nHost: 127.0.0.1:{bp}\r\n{sh}Connection: close\r\n\r\n"
    );
    assert_eq!(raw_request(bp, &req, limit).map(|r| r.0), Ok(200));

    // The look-alike (any Host is fine; one of them, and no proxying).
    let ok = "GET /jwk HTTP/1.1\r\nHost: mock-maskinporten:7824\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_request(mp, ok, limit).map(|r| r.0), Ok(200));
    let req =
        "GET /jwk HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_request(mp, req, limit).map(|r| r.0), Ok(400));
    let req =
        "GET http://evil.example/jwk HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n";
    assert_eq!(raw_request(mp, req, limit).map(|r| r.0), Ok(421));
    let req = format!(
        "POST http://evil.example/token HTTP/1.1\r\nHost: 127.0.0.1:{mp}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b"
    );
    assert_eq!(raw_request(mp, &req, limit).map(|r| r.0), Ok(421));
    let req = format!(
        "GET http://localhost:{mp}/jwk HTTP/1.1\r\nHost: localhost:{mp}\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(raw_request(mp, &req, limit).map(|r| r.0), Ok(200));
}
