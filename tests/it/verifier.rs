//! Verify and fetch like a verifier (issue 17, findings 1–6 and 11): chains
//! built by Python `cryptography` (not credkit) and judged by openssl verify
//! too; the one HTTP client against real servers on 127.0.0.1: a stand-in
//! proxy, an endless body, a redirect.

use crate::support::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The forged and honest chains of `tests/tools/forge_chain.py`.
struct Chains {
    dir: tempfile::TempDir,
    tokens: Value,
}

impl Chains {
    fn new() -> Chains {
        let dir = tempfile::tempdir().expect("tmp");
        let out = Command::new("python3")
            .arg(root().join("tests/tools/forge_chain.py"))
            .arg(dir.path())
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "forge_chain.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tokens = serde_json::from_slice(
            &std::fs::read(dir.path().join("tokens.json")).expect("tokens.json"),
        )
        .expect("tokens json");
        Chains { dir, tokens }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn token(&self, name: &str) -> String {
        self.tokens[name].as_str().expect("token").to_string()
    }
    /// `credkit jwt verify TOKEN --x5c [--ca CA] --json`.
    fn verify(&self, token: &str, ca: Option<&str>) -> Run {
        let mut c = credkit();
        c.args(["jwt", "verify", "--json", &self.token(token), "--x5c"]);
        if let Some(ca) = ca {
            c.arg("--ca").arg(self.path(ca));
        }
        run(c)
    }
    /// Does `openssl verify` accept `leaf` with these untrusted certificates?
    fn openssl_accepts(&self, ca: &str, untrusted: &[&str], leaf: &str) -> bool {
        let bundle = self.path("untrusted.pem");
        let mut pem = String::new();
        for u in untrusted {
            pem.push_str(&std::fs::read_to_string(self.path(u)).expect("read"));
        }
        std::fs::write(&bundle, pem).expect("write");
        let mut c = Command::new("openssl");
        c.arg("verify")
            .arg("-attime")
            .arg("1795435200")
            .arg("-CAfile")
            .arg(self.path(ca));
        if !untrusted.is_empty() {
            c.arg("-untrusted").arg(&bundle);
        }
        c.arg(self.path(leaf))
            .output()
            .expect("openssl")
            .status
            .success()
    }
}

fn verdict(r: &Run) -> (bool, String, String) {
    let v = r.json();
    (
        v["valid"].as_bool().expect("valid is a bool"),
        v["reason_id"].as_str().unwrap_or("").to_string(),
        v["reason"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn forged_chains_are_refused_as_openssl_refuses_them() {
    let ch = Chains::new();
    // The honest chain: both accept.
    assert!(ch.openssl_accepts("root.pem", &["int.pem"], "leaf.pem"));
    let r = ch.verify("good", Some("root.pem"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(verdict(&r).0);

    // Finding 1: an end-entity certificate "issues" one for another
    // organisation. openssl refuses it; so does credkit, with the reason.
    assert!(!ch.openssl_accepts("chain.pem", &["leaf.pem"], "forged.pem"));
    assert!(!ch.openssl_accepts("root.pem", &["leaf.pem", "int.pem"], "forged.pem"));
    for (token, ca) in [("forged", "chain.pem"), ("forged_full", "root.pem")] {
        let r = ch.verify(token, Some(ca));
        assert_eq!(r.code, 1, "{token}: {}{}", r.stdout, r.stderr);
        let (valid, id, reason) = verdict(&r);
        assert!(!valid);
        assert_eq!(id, "jwt-x5c-untrusted", "{reason}");
        assert!(reason.contains("not a CA certificate"), "{reason}");
        assert!(!r.stdout.contains("\"valid\": true"));
    }

    // pathLenConstraint 0 on the intermediate: a CA below it is refused by both.
    assert!(!ch.openssl_accepts("root.pem", &["int2.pem", "int.pem"], "leaf2.pem"));
    let r = ch.verify("pathlen", Some("root.pem"));
    assert_eq!(r.code, 1, "{}", r.stdout);
    let (_, id, reason) = verdict(&r);
    assert_eq!(id, "jwt-x5c-untrusted");
    assert!(reason.contains("pathLenConstraint"), "{reason}");
}

#[test]
fn x5c_without_a_ca_is_never_valid() {
    // Finding 2: the signature matches the embedded certificate, but nothing
    // vouches for it.
    let ch = Chains::new();
    let r = ch.verify("forged", None);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let (valid, id, reason) = verdict(&r);
    assert!(!valid);
    assert_eq!(id, "jwt-x5c-unanchored");
    assert!(reason.contains("nothing vouches"), "{reason}");
    // Text output says so too.
    let mut c = credkit();
    c.args(["jwt", "verify", &ch.token("good"), "--x5c"]);
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.starts_with("valid"), "{}", r.stdout);
    assert!(r.stdout.contains("jwt-x5c-unanchored"), "{}", r.stdout);
}

#[test]
fn the_signing_certificate_must_allow_digital_signature() {
    // Finding 11: a token signed with the non-repudiation certificate.
    let ch = Chains::new();
    let r = ch.verify("nonrep", Some("root.pem"));
    assert_eq!(r.code, 1, "{}", r.stdout);
    let (_, id, reason) = verdict(&r);
    assert_eq!(id, "jwt-x5c-key-usage");
    assert!(reason.contains("nonRepudiation"), "{reason}");
}

/// A JWT signed by PyJWT with the fixture RSA key, with this header and these claims.
fn pyjwt_token(header: &str, claims: &str) -> String {
    let tool = "import jwt,json,sys; k=open(sys.argv[1]).read(); \
                print(jwt.encode(json.loads(sys.argv[3]), k, algorithm='RS256', headers=json.loads(sys.argv[2])))";
    let out = Command::new("python3")
        .args(["-c", tool])
        .arg(fixture("pem/rsa-pkcs8.key"))
        .arg(header)
        .arg(claims)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn verify_with_key(token: &str) -> (i32, String) {
    let mut c = credkit();
    c.args(["jwt", "verify", "--json", token, "--key"])
        .arg(fixture("pem/rsa-public.pem"));
    let r = run(c);
    let id = r.json()["reason_id"].as_str().unwrap_or("").to_string();
    (r.code, id)
}

#[test]
fn verify_refuses_crit_string_times_and_unknown_kids() {
    // Control: the same key and a clean token verify.
    let ok = pyjwt_token("{}", r#"{"iss":"a","exp":1895000000}"#);
    assert_eq!(verify_with_key(&ok), (0, String::new()));
    // An unknown critical header parameter.
    let t = pyjwt_token(
        r#"{"crit":["exp-ext"],"exp-ext":1}"#,
        r#"{"iss":"a","exp":1895000000}"#,
    );
    assert_eq!(verify_with_key(&t), (1, "jwt-crit-unsupported".into()));
    // A string exp would otherwise mean "never expires".
    let t = pyjwt_token("{}", r#"{"iss":"a","exp":"1"}"#);
    assert_eq!(verify_with_key(&t), (1, "jwt-claim-invalid".into()));
    let t = pyjwt_token("{}", r#"{"iss":"a","nbf":"soon"}"#);
    assert_eq!(verify_with_key(&t), (1, "jwt-claim-invalid".into()));
    // A kid that names none of a JWKS's keys: no fallback to trying them all.
    let dir = tempfile::tempdir().expect("tmp");
    let jwks = dir.path().join("jwks.json");
    let mut c = credkit();
    c.args(["convert", "--to", "jwks", "-o"])
        .arg(&jwks)
        .arg(fixture("pem/rsa-public.pem"));
    run(c).assert_ok();
    let text = std::fs::read_to_string(&jwks).expect("jwks");
    let mut set: Value = serde_json::from_str(&text).expect("json");
    set["keys"][0]["kid"] = Value::String("the-real-kid".into());
    std::fs::write(&jwks, set.to_string()).expect("write");
    let verify_jwks = |token: &str| {
        let mut c = credkit();
        c.args(["jwt", "verify", "--json", token, "--jwks"])
            .arg(&jwks);
        let r = run(c);
        (
            r.code,
            r.json()["reason_id"].as_str().unwrap_or("").to_string(),
        )
    };
    let t = pyjwt_token(r#"{"kid":"the-real-kid"}"#, r#"{"iss":"a"}"#);
    assert_eq!(verify_jwks(&t), (0, String::new()));
    let t = pyjwt_token(r#"{"kid":"someone-else"}"#, r#"{"iss":"a"}"#);
    assert_eq!(verify_jwks(&t), (1, "jwt-no-fitting-key".into()));
}

/// A `tests/tools/net_peer.py` server; killed when dropped.
struct Peer {
    child: Child,
    port: u16,
}

impl Peer {
    fn start(mode: &str, log: Option<&Path>) -> Peer {
        let mut c = Command::new("python3");
        c.arg(root().join("tests/tools/net_peer.py")).arg(mode);
        if let Some(l) = log {
            c.arg(l);
        }
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        let port = line.trim().parse().expect("port number");
        Peer { child, port }
    }
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_proxy(c: &mut Command, proxy: &str) {
    for v in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env(v, proxy);
    }
    c.env_remove("NO_PROXY").env_remove("no_proxy");
}

#[test]
fn loopback_requests_never_reach_a_proxy() {
    // Finding 5: the proxy stands in for the outside world and logs all it gets.
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("proxy.log");
    let proxy = Peer::start("proxy", Some(&log));
    let server = Peer::start("token", None);
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-client-secret\n").expect("write");
    let mut c = credkit();
    c.args([
        "token",
        "--no-cache",
        "--client-id",
        "cid",
        "--token-endpoint",
    ])
    .arg(server.url("/token"))
    .arg("--client-secret-file")
    .arg(&secret);
    with_proxy(&mut c, &proxy.url(""));
    let r = run(c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("net-peer-token"), "{}", r.stdout);
    // Discovery and a JWKS fetch on loopback, likewise.
    let mut c = credkit();
    c.args(["token", "--no-cache", "--client-id", "cid", "--issuer"])
        .arg(server.url("/"))
        .arg("--client-secret-file")
        .arg(&secret);
    with_proxy(&mut c, &proxy.url(""));
    run(c).assert_ok();
    let logged = std::fs::read(&log).unwrap_or_default();
    assert!(
        logged.is_empty(),
        "the proxy received: {}",
        String::from_utf8_lossy(&logged)
    );
}

#[test]
fn jwks_urls_follow_the_fetch_rules() {
    // Finding 3: plain http off loopback is refused before any connection.
    let token = pyjwt_token("{}", r#"{"iss":"a"}"#);
    let mut c2 = credkit();
    c2.args([
        "jwt",
        "verify",
        &token,
        "--jwks",
        "http://jwks.example.invalid/jwk",
    ]);
    let r = run(c2);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("url-not-allowed"), "{}", r.stderr);
    // Finding 4: a redirect is reported, not followed.
    let redirect = Peer::start("redirect", None);
    let mut c = credkit();
    c.args(["jwt", "verify", &token, "--jwks"])
        .arg(redirect.url("/jwk"));
    let r = run(c);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("does not follow redirects"),
        "{}",
        r.stderr
    );
}

/// Peak resident set of a credkit run, in KiB, by GNU time.
fn peak_kib(args: &[String]) -> (Run, u64) {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("time.txt");
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&out)
        .arg(env!("CARGO_BIN_EXE_credkit"))
        .arg("--now")
        .arg(NOW)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    let r = run(c);
    let kib = std::fs::read_to_string(&out)
        .expect("time output")
        .trim()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("peak KiB");
    (r, kib)
}

#[test]
fn endless_answers_are_capped() {
    // Finding 6: token, discovery and --jwks each stop at their cap, with a
    // clear error, exit 2, and bounded memory.
    let endless = Peer::start("endless", None);
    let dir = tempfile::tempdir().expect("tmp");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s").expect("write");
    let secret = secret.display().to_string();
    let token = pyjwt_token("{}", r#"{"iss":"a"}"#);
    let cases: Vec<Vec<String>> = vec![
        vec![
            "token".into(),
            "--no-cache".into(),
            "--retries".into(),
            "0".into(),
            "--client-id".into(),
            "c".into(),
            "--client-secret-file".into(),
            secret.clone(),
            "--token-endpoint".into(),
            endless.url("/token"),
        ],
        vec![
            "token".into(),
            "--no-cache".into(),
            "--retries".into(),
            "0".into(),
            "--client-id".into(),
            "c".into(),
            "--client-secret-file".into(),
            secret.clone(),
            "--issuer".into(),
            endless.url("/"),
        ],
        vec![
            "jwt".into(),
            "verify".into(),
            token,
            "--jwks".into(),
            endless.url("/jwk"),
        ],
    ];
    for args in cases {
        let (r, kib) = peak_kib(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        r.assert_no_panic();
        assert!(r.stderr.contains("response-too-large"), "{}", r.stderr);
        assert!(r.stderr.contains("MiB"), "{}", r.stderr);
        assert!(kib < 96 * 1024, "{args:?}: peak {kib} KiB");
    }
}

#[test]
fn retries_are_bounded() {
    // `2u32.pow(attempt)` overflowed at 33 retries; the option is now 0 to 10.
    let mut c = credkit();
    c.args([
        "token",
        "--retries",
        "33",
        "--client-id",
        "c",
        "--token-endpoint",
        "http://127.0.0.1:9/token",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2);
    r.assert_no_panic();
    assert!(r.stderr.contains("--retries"), "{}", r.stderr);
}

#[test]
fn a_proxy_that_applies_is_named() {
    // Off loopback the environment's proxy is used, and the failure names it
    // (the stand-in proxy on 127.0.0.1 refuses every CONNECT with 502).
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("proxy.log");
    let proxy = Peer::start("proxy", Some(&log));
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s").expect("write");
    let mut c = credkit();
    c.args([
        "token",
        "--no-cache",
        "--retries",
        "0",
        "--verbose",
        "--client-id",
        "cid",
        "--token-endpoint",
        "https://idp.example.invalid/token",
    ])
    .arg("--client-secret-file")
    .arg(&secret);
    with_proxy(&mut c, &proxy.url(""));
    let r = run(c);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    r.assert_no_panic();
    let named = format!("127.0.0.1:{}", proxy.port);
    assert!(
        r.stderr
            .contains(&format!("> (through the proxy http://{named}/)")),
        "--verbose names the proxy: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("proxy http://{named}/")) && r.stderr.contains("network-proxy"),
        "the error names the proxy: {}",
        r.stderr
    );
    // The proxy saw a CONNECT for the host, never the secret.
    let logged = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    assert!(
        logged.contains("CONNECT idp.example.invalid:443"),
        "{logged}"
    );
    assert!(!logged.contains("client_secret"), "{logged}");
}
