//! Secrets stay secret (issue 8): `credkit token --verbose` shows the
//! exchange but no client secret, keystore password, private key, complete
//! assertion or complete access token; and an error about a wrong password
//! never echoes the password.
//!
//! The servers are the ones of tests/it/token.rs: panva's oidc-provider
//! (tests/peer/server.mjs, clients basic-client, post-client, pkjwt-client)
//! and the Maskinporten-compatible one (tests/peer/maskinporten-errors.mjs).
//! The keystores are the fixture auth key, re-protected here with a password
//! that appears nowhere else, so finding it in the output means a leak.

use crate::support::*;
use crate::token::Peer;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The keystores' password, given with --password-env or --password-file.
const STORE_PW: &str = "Kp-7Qz-store-pw-unique";
/// The client secrets of tests/peer/server.mjs.
const BASIC_SECRET: &str = "basic-secret";
const POST_SECRET: &str = "post-secret";
const MP_CLIENT: &str = "0b7c5c8e-1111-2222-3333-444455556666";

/// `credkit token` with the real clock (real servers judge exp), a private
/// cache and config directory, and no proxy.
fn token(home: &Path) -> Command {
    let mut c = credkit_with(Clock::Real);
    isolated(&mut c, home).arg("token");
    c
}

/// The fixture auth key and its certificates as PKCS#12, JKS and encrypted
/// PEM under [`STORE_PW`].
fn keystores(dir: &Path) -> Vec<PathBuf> {
    ["ks.p12", "ks.jks", "ks.pem"]
        .iter()
        .map(|n| {
            let out = dir.join(n);
            let mut c = credkit();
            c.arg("convert")
                .arg(fixture("p12/openssl3-aes-auth.p12"))
                .arg("-o")
                .arg(&out)
                .args(["--out-password-env", "STORE_PW"])
                .env("CREDKIT_PASSWORD", "changeit")
                .env("STORE_PW", STORE_PW);
            run(c).assert_ok();
            out
        })
        .collect()
}

/// Every `A.B.C` of base64url parts whose third part (the signature) is
/// longer than 20 characters: a complete signed JWT.
fn signed_jwts(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let b64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    for word in text.split(|c: char| !b64url(c)) {
        let parts: Vec<&str> = word.split('.').collect();
        for w in parts.windows(3) {
            if !w[0].is_empty() && !w[1].is_empty() && w[2].len() > 20 {
                found.push(w.join("."));
            }
        }
    }
    found
}

/// What no output of `token` may hold: the secrets, the password, the HTTP
/// Basic credentials, a private key, a complete JWT on stderr, and on
/// stdout no JWT but the access token. Returns the access token.
fn assert_nothing_secret(what: &str, r: &Run) -> String {
    use base64::Engine;
    r.assert_no_panic();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("basic-client:{BASIC_SECRET}").as_bytes());
    for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        for secret in [BASIC_SECRET, POST_SECRET, STORE_PW, basic.as_str()] {
            assert!(
                !text.contains(secret),
                "{what}: {secret:?} on {name}:\n{text}"
            );
        }
        assert!(
            !text.contains("PRIVATE KEY"),
            "{what}: a private key on {name}:\n{text}"
        );
    }
    // The request's Authorization header (not the server's WWW-Authenticate).
    for line in r.stderr.lines() {
        if line.to_ascii_lowercase().contains("authorization: basic") {
            assert!(
                line.ends_with("Basic <redacted>"),
                "{what}: HTTP Basic credentials on stderr: {line}"
            );
        }
    }
    let leaked = signed_jwts(&r.stderr);
    assert!(
        leaked.is_empty(),
        "{what}: a complete JWT on stderr: {leaked:?}\n{}",
        r.stderr
    );
    let access_token = if r.code != 0 {
        String::new()
    } else if r.stdout.trim_start().starts_with('{') {
        r.json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    } else {
        r.stdout.trim().to_string()
    };
    for jwt in signed_jwts(&r.stdout) {
        assert_eq!(
            jwt, access_token,
            "{what}: a JWT on stdout that is not the token"
        );
    }
    if !access_token.is_empty() {
        assert!(
            !r.stderr.contains(&access_token),
            "{what}: the access token on stderr:\n{}",
            r.stderr
        );
    }
    access_token
}

/// Run `token ARGS --verbose`, in text and in --json, expecting `code`.
fn verbose_runs(
    home: &Path,
    what: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    code: i32,
) -> Vec<String> {
    let mut tokens = Vec::new();
    for json in [false, true] {
        let mut c = token(home);
        c.args(args).arg("--verbose");
        if json {
            c.arg("--json");
        }
        c.envs(envs.iter().copied());
        let r = run(c);
        let what = format!("{what}{}", if json { " --json" } else { "" });
        assert_eq!(
            r.code, code,
            "{what}\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
        assert!(
            r.stderr.contains("> POST "),
            "{what}: no trace:\n{}",
            r.stderr
        );
        tokens.push(assert_nothing_secret(&what, &r));
    }
    tokens
}

#[test]
fn token_verbose_holds_no_secret_oidc_provider() {
    let peer = Peer::start("server.mjs");
    let home = tempfile::tempdir().expect("tmp");
    let ep = peer.token_endpoint();
    let base = |id: &'static str| vec!["--client-id", id, "--token-endpoint", ep.as_str()];

    // client_secret_basic and client_secret_post, the secret from the environment.
    let mut a = base("basic-client");
    a.extend([
        "--client-secret-env",
        "SECRET",
        "--scope",
        "api:read",
        "--no-cache",
    ]);
    let t = verbose_runs(home.path(), "basic", &a, &[("SECRET", BASIC_SECRET)], 0);
    // The detector sees the token where it belongs (so it would see a leak).
    assert_eq!(signed_jwts(&t[0]), vec![t[0].clone()]);

    let mut a = base("post-client");
    a.extend([
        "--client-secret-env",
        "SECRET",
        "--auth",
        "client-secret-post",
        "--scope",
        "api:read",
        "--no-cache",
    ]);
    verbose_runs(home.path(), "post", &a, &[("SECRET", POST_SECRET)], 0);

    // A wrong secret: the refusal and its diagnosis hold the secret neither.
    let mut a = base("basic-client");
    a.extend(["--client-secret-env", "SECRET", "--no-cache"]);
    verbose_runs(
        home.path(),
        "basic refused",
        &a,
        &[("SECRET", POST_SECRET)],
        1,
    );

    // private_key_jwt from each keystore, the password from the environment
    // and from a file.
    let dir = tempfile::tempdir().expect("tmp");
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, format!("{STORE_PW}\n")).expect("write");
    let pw_file = path_str(&pw_file);
    for ks in keystores(dir.path()) {
        let ks = path_str(&ks);
        let mut a = base("pkjwt-client");
        a.extend([
            "--key",
            &ks,
            "--password-env",
            "STORE_PW",
            "--scope",
            "api:read",
            "--no-cache",
        ]);
        verbose_runs(home.path(), &ks, &a, &[("STORE_PW", STORE_PW)], 0);

        // A scope the client lacks: refused, with the diagnosis.
        let mut a = base("pkjwt-client");
        a.extend([
            "--key",
            &ks,
            "--password-file",
            &pw_file,
            "--scope",
            "offline_access",
            "--no-cache",
        ]);
        verbose_runs(home.path(), &format!("{ks} refused"), &a, &[], 1);
    }

    // From the cache: the second run sends nothing and prints the token only.
    let ks = path_str(&dir.path().join("ks.p12"));
    let mut a = base("pkjwt-client");
    a.extend([
        "--key",
        &ks,
        "--password-env",
        "STORE_PW",
        "--scope",
        "api:write",
    ]);
    let mut fresh = token(home.path());
    fresh.args(&a).arg("--verbose").env("STORE_PW", STORE_PW);
    let first = run(fresh);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let t = assert_nothing_secret("cache (first)", &first);
    let mut cached = token(home.path());
    cached.args(&a).arg("--verbose").env("STORE_PW", STORE_PW);
    let r = run(cached);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(assert_nothing_secret("cache (second)", &r), t);
}

#[test]
fn token_verbose_holds_no_secret_maskinporten() {
    let peer = Peer::maskinporten();
    let home = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    let ep = peer.token_endpoint();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, format!("{STORE_PW}\n")).expect("write");
    let pw_file = path_str(&pw_file);
    let p12 = path_str(&keystores(dir.path())[0]);
    let args = |scope: &'static str| {
        vec![
            "--key",
            p12.as_str(),
            "--alias",
            "auth",
            "--env",
            "test",
            "--token-endpoint",
            ep.as_str(),
            "--client-id",
            MP_CLIENT,
            "--scope",
            scope,
            "--no-cache",
        ]
    };
    // The jwt-bearer grant (the assertion is the grant, with x5c).
    let mut a = args("api:read");
    a.extend(["--password-env", "STORE_PW"]);
    let t = verbose_runs(home.path(), "jwt-bearer", &a, &[("STORE_PW", STORE_PW)], 0);
    assert!(t[0].starts_with("mp."), "{}", t[0]);

    // A 503 first: the retry mints a second assertion; neither is shown.
    let mut a = args("retry:503");
    a.extend(["--password-file", &pw_file]);
    verbose_runs(home.path(), "retried", &a, &[], 0);

    // Refusals, whose diagnosis compares the assertion's claims.
    for scope in ["case:MP-110", "case:MP-124", "case:MP-130"] {
        let mut a = args(scope);
        a.extend(["--password-env", "STORE_PW"]);
        verbose_runs(home.path(), scope, &a, &[("STORE_PW", STORE_PW)], 1);
    }
}

/// A wrong password, from the environment or a file, in text and JSON, for
/// each keystore type and each command that opens one: the error is
/// `password-wrong` and the password text appears nowhere.
#[test]
fn wrong_password_is_never_echoed() {
    let dir = tempfile::tempdir().expect("tmp");
    let home = tempfile::tempdir().expect("tmp");
    let stores = keystores(dir.path());
    let out = dir.path().join("out.pem");
    let out_s = path_str(&out);
    for wrong in ["Wrong-Pw-4711-zq", "pässwörd-Ünïcode-9 "] {
        let pw_file = dir.path().join("wrong");
        std::fs::write(&pw_file, format!("{wrong}\n")).expect("write");
        let pw_file = path_str(&pw_file);
        for ks in &stores {
            let ks = path_str(ks);
            let commands: [(&str, Vec<&str>); 4] = [
                ("inspect", vec![&ks]),
                ("check", vec![&ks]),
                ("convert", vec![&ks, "-o", &out_s, "--no-encrypt"]),
                (
                    "token",
                    vec![
                        "--key",
                        &ks,
                        "--client-id",
                        "c",
                        "--token-endpoint",
                        "http://127.0.0.1:9/token",
                        "--no-cache",
                        "--retries",
                        "0",
                        "--verbose",
                    ],
                ),
            ];
            for (cmd, args) in &commands {
                for source in [
                    ["--password-env", "WRONG_PW"],
                    ["--password-file", &pw_file],
                ] {
                    for json in [false, true] {
                        let mut c = if *cmd == "token" {
                            token(home.path())
                        } else {
                            let mut c = credkit();
                            c.arg(cmd);
                            c
                        };
                        c.args(args).args(source).env("WRONG_PW", wrong);
                        if json {
                            c.arg("--json");
                        }
                        let r = run(c);
                        let what = format!("{cmd} {ks} {} json={json}", source[0]);
                        r.assert_no_panic();
                        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
                        assert!(r.stderr.contains("password-wrong"), "{what}: {}", r.stderr);
                        // The whole password and its visible core (without
                        // the trailing space).
                        for text in [&r.stdout, &r.stderr] {
                            assert!(!text.contains(wrong.trim()), "{what}: echoed:\n{text}");
                        }
                        assert!(!out.exists(), "{what}: wrote {out_s}");
                    }
                }
            }
        }
    }
}

// ---- Issue 17, item 9: tokens in answers that are not a token ----------
//
// A token endpoint on 127.0.0.1 (Python's http.server, below) answers with
// tokens where credkit does not expect them: a form-encoded 200, JSON with
// the token nested, an error whose description quotes a JWT, HTML error
// pages with a JWT and a form-encoded token in them, plain text. None of
// those tokens may reach stdout, stderr, the JSON error, the --verbose trace
// or the broker's 502/504 bodies.

/// A signed access token (its signature is what must never be shown).
const LEAK_JWT: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJsZWFrLXRlc3QiLCJzY29wZSI6ImFwaTpyZWFkIn0.LeakSig0x7Yq2Zr9Vb4Nm1Kp6Wd3Hs8Jf5Tg0Ac2Ex4Rr";
const LEAK_JWT_SIG: &str = "LeakSig0x7Yq2Zr9Vb4Nm1Kp6Wd3Hs8Jf5Tg0Ac2Ex4Rr";
/// An id token, signed too.
const LEAK_ID: &str =
    "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJpZC10b2tlbiJ9.IdSig3Mx8Qw1Er5Ty9Ui2Op6As0Df4Gh7Jk3Lz";
const LEAK_ID_SIG: &str = "IdSig3Mx8Qw1Er5Ty9Ui2Op6As0Df4Gh7Jk3Lz";
/// An opaque access token and a refresh token.
const LEAK_OPAQUE: &str = "AtOpq7Hx2Kd9Lm4Np1Qr8St3Uv6Wx0Yz5BcQ";
const LEAK_REFRESH: &str = "Rt5Lm2Kd8Hx1Np7Qr4St9Uv3Wx6Yz0BcOpq";
/// The client secret the runs send.
const LEAK_SECRET: &str = "Cs-leak-test-secret-4711";

/// The answers, by path: (status, content type, body).
const LEAKY_SERVER: &str = r#"
import http.server, json, sys
JWT, ID, OPQ, RT = sys.argv[1:5]
ANSWERS = {
    "/form/token": (200, "application/x-www-form-urlencoded",
        f"access_token={OPQ}&token_type=bearer&expires_in=3600&refresh_token={RT}&id_token={ID}"),
    "/formjwt/token": (200, "application/x-www-form-urlencoded",
        f"access_token={JWT}&token_type=bearer&expires_in=3600"),
    "/nested/token": (400, "application/json", json.dumps({
        "error": "invalid_grant",
        "error_description": f"token {JWT} was revoked; access_token={OPQ}",
        "details": {"previous": {"access_token": OPQ, "refresh_token": RT},
                    "issued": [{"id_token": ID}, {"note": f"see {OPQ}"}]}})),
    "/data/token": (200, "application/json", json.dumps({"data": {"access_token": JWT, "refresh_token": RT}})),
    "/html500/token": (500, "text/html",
        f"<html><body><h1>Internal error</h1><p>while handling Bearer {JWT}</p>"
        f"<pre>access_token={OPQ}&amp;refresh_token={RT}</pre></body></html>"),
    "/html401/token": (401, "text/html",
        f"<html><body><p>Unauthorized. Your session {OPQ} with {JWT} ended.</p></body></html>"),
    "/text/token": (200, "text/plain", f"your token is {OPQ} and the id {ID}\n"),
}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, ctype, body = ANSWERS.get(self.path, (404, "text/plain", "no"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Debug-Token", OPQ)
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"listening on http://127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
"#;

/// The Python server above, killed when dropped.
struct Leaky {
    child: std::process::Child,
    base: String,
}

impl Leaky {
    fn start() -> Leaky {
        use std::io::BufRead;
        let mut child = Command::new("python3")
            .args([
                "-c",
                LEAKY_SERVER,
                LEAK_JWT,
                LEAK_ID,
                LEAK_OPAQUE,
                LEAK_REFRESH,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (the test command installs it)");
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("read");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the leaky server did not start: {line:?}"))
            .to_string();
        Leaky { child, base }
    }
}

impl Drop for Leaky {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// No token, signature or secret of the leaky server in `text`.
fn assert_no_leak(what: &str, text: &str) {
    for secret in [
        LEAK_JWT,
        LEAK_JWT_SIG,
        LEAK_ID,
        LEAK_ID_SIG,
        LEAK_OPAQUE,
        LEAK_REFRESH,
        LEAK_SECRET,
    ] {
        assert!(!text.contains(secret), "{what}: {secret:?} leaked:\n{text}");
    }
    // Not even a long piece of one.
    for secret in [LEAK_OPAQUE, LEAK_REFRESH, LEAK_JWT_SIG] {
        assert!(
            !text.contains(&secret[..16]),
            "{what}: part of {secret:?} leaked:\n{text}"
        );
    }
}

#[test]
fn r17_9_tokens_in_unexpected_answers_are_redacted_everywhere() {
    let server = Leaky::start();
    let home = tempfile::tempdir().expect("tmp");
    // (path, exit code, what must still be shown)
    let cases: [(&str, i32, &str); 7] = [
        ("form", 2, "token_type=bearer"),
        ("formjwt", 2, "token_type=bearer"),
        ("nested", 1, "invalid_grant"),
        ("data", 2, "HTTP 200"),
        ("html500", 2, "Internal error"),
        ("html401", 1, "Unauthorized"),
        ("text", 2, "your token is"),
    ];
    for (path, code, shown) in cases {
        let ep = format!("{}/{path}/token", server.base);
        for (verbose, json) in [(false, false), (false, true), (true, false), (true, true)] {
            let mut c = token(home.path());
            c.args(["--token-endpoint", &ep, "--client-id", "leak-client"])
                .args([
                    "--client-secret-env",
                    "LEAK_SECRET",
                    "--auth",
                    "client-secret-post",
                ])
                .args(["--no-cache", "--retries", "0"])
                .env("LEAK_SECRET", LEAK_SECRET);
            if verbose {
                c.arg("--verbose");
            }
            if json {
                c.arg("--json");
            }
            let r = run(c);
            let what = format!("{path} verbose={verbose} json={json}");
            r.assert_no_panic();
            assert_eq!(r.code, code, "{what}\n{}\n{}", r.stdout, r.stderr);
            assert_no_leak(&format!("{what} stdout"), &r.stdout);
            assert_no_leak(&format!("{what} stderr"), &r.stderr);
            // Redacted, not dropped: the answer is still described.
            assert!(
                r.stderr.contains(shown),
                "{what}: {shown:?} missing:\n{}",
                r.stderr
            );
            if json {
                // The JSON error is the last line (after the --verbose trace).
                let last = r.stderr.trim_end().lines().last().unwrap_or_default();
                let e: serde_json::Value = serde_json::from_str(last)
                    .unwrap_or_else(|e| panic!("{what}: no JSON error ({e}):\n{}", r.stderr));
                assert_eq!(e["error"]["exit_code"], code, "{what}");
            }
            if verbose {
                assert!(
                    r.stderr.contains("< HTTP "),
                    "{what}: no trace:\n{}",
                    r.stderr
                );
                // The JWT is still recognisable: header and payload kept.
                if path == "formjwt" {
                    assert!(
                        r.stderr.contains("eyJzdWIiOiJsZWFrLXRlc3QiLCJzY29wZSI6ImFwaTpyZWFkIn0.<signature-redacted>"),
                        "{what}:\n{}",
                        r.stderr
                    );
                }
            }
        }
    }

    // The broker: its 502 (refused) and 504 (no usable answer) bodies.
    let dir = tempfile::tempdir().expect("tmp");
    let mut cfg = String::new();
    for (path, _, _) in cases {
        cfg.push_str(&format!(
            "[profiles.{path}]\nclient_id = \"leak-client\"\ntoken_endpoint = \"{}/{path}/token\"\n\
             grant = \"client-credentials\"\nauth = \"client-secret-post\"\nclient_secret_env = \"LEAK_SECRET\"\n\n",
            server.base
        ));
    }
    let cfg_path = dir.path().join("config.toml");
    std::fs::write(&cfg_path, cfg).expect("write");
    let b = crate::serve::Service::start(
        &[
            "broker".into(),
            "--config".into(),
            path_str(&cfg_path),
            "--port".into(),
            "0".into(),
            "--verbose".into(),
        ],
        &[("LEAK_SECRET", LEAK_SECRET)],
    );
    let secret = b.secret();
    for (path, code, _) in cases {
        let (status, body) = crate::serve::http(
            b.port,
            "GET",
            &format!("/token/{path}"),
            &[("X-Credkit-Secret", secret.as_str())],
            "",
        );
        let want = if code == 1 { 502 } else { 504 };
        assert_eq!(status, want, "broker {path}: {body}");
        assert_no_leak(&format!("broker {path}"), &body);
    }
    // Its --verbose trace and access log.
    assert_no_leak("broker stderr", &b.stderr());
    assert!(b.stderr().contains("< HTTP 200"), "{}", b.stderr());
}
