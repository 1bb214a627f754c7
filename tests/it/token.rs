//! `credkit token` against real servers on 127.0.0.1: panva's oidc-provider
//! (tests/peer/server.mjs) and a Maskinporten-compatible error server
//! (tests/peer/maskinporten-errors.mjs). Each test starts its own server on a
//! free port and stops it. A real server judges exp against the real clock, so
//! these runs do not pin --now (except the one that tests a wrong clock).

use crate::support::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const KEY_PEM: &str = "business/auth.key.pem";
const AUTH_P12: &str = "p12/openssl3-aes-auth.p12";
/// RFC 7638 thumbprint of business/auth.key.pem: the kid in tests/peer/client.jwks.json.
const REGISTERED_KID: &str = "nQmRFZpVyMPAKaTCfmrLppWdDUkubMDbru-LMPAU6O4";

/// A test server, stopped (by its PID) when dropped.
pub struct Peer {
    child: Child,
    pub base: String,
    _log: tempfile::TempDir,
    log: PathBuf,
}

impl Peer {
    pub fn start(script: &str) -> Peer {
        Peer::start_with(script, &[])
    }
    pub fn start_with(script: &str, envs: &[(&str, String)]) -> Peer {
        let dir = root().join("tests/peer");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "tests/peer/node_modules is missing: run `bash scripts/test.sh` (it runs npm ci)"
        );
        let logdir = tempfile::tempdir().expect("tmp");
        let log = logdir.path().join("peer.log");
        let mut child = Command::new("node")
            .arg(dir.join(script))
            .current_dir(&dir)
            .env("PORT", "0")
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("run node (the test command installs it)");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("read");
        // Keep reading, so that a later write to stdout never meets a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "{script} did not start: {line:?}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .to_string();
        Peer {
            child,
            base,
            _log: logdir,
            log,
        }
    }
    fn oidc() -> Peer {
        Peer::start("server.mjs")
    }
    pub fn maskinporten() -> Peer {
        Peer::start("maskinporten-errors.mjs")
    }
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.base)
    }
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `credkit token` with the real clock, a private cache and config directory.
struct Env {
    home: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            home: tempfile::tempdir().expect("tmp"),
        }
    }
    fn cache_dir(&self) -> PathBuf {
        self.home.path().join("cache/credkit/tokens")
    }
    fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }
    fn cmd(&self) -> Command {
        self.cmd_with(&[])
    }
    /// With global options before `token` (such as --now).
    fn cmd_with(&self, global: &[&str]) -> Command {
        let mut c = credkit_with(Clock::Real);
        c.args(global);
        isolated(&mut c, self.home.path()).arg("token");
        c
    }
    fn run(&self, args: &[&str]) -> Run {
        let mut c = self.cmd();
        c.args(args).env("CREDKIT_PASSWORD", "changeit");
        let r = run(c);
        r.assert_no_panic();
        r
    }
    fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut c = self.cmd();
        c.args(args).env("CREDKIT_PASSWORD", "changeit");
        with_stdin(c, input)
    }
}

fn key() -> String {
    path_str(&fixture(KEY_PEM))
}

pub fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let p = jwt.split('.').nth(1).expect("jwt payload");
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p)
        .expect("base64url");
    serde_json::from_slice(&b).expect("json")
}

fn assert_token(r: &Run, peer: &Peer) -> String {
    assert_eq!(
        r.code,
        0,
        "expected a token\nstdout:\n{}\nstderr:\n{}\npeer log:\n{}",
        r.stdout,
        r.stderr,
        peer.log()
    );
    assert_eq!(r.stdout.lines().count(), 1, "stdout: {}", r.stdout);
    r.stdout.trim().to_string()
}

fn assert_refused(r: &Run, peer: &Peer) {
    assert_eq!(
        r.code,
        1,
        "expected a refusal\nstdout:\n{}\nstderr:\n{}\npeer log:\n{}",
        r.stdout,
        r.stderr,
        peer.log()
    );
    assert!(r.stdout.is_empty(), "stdout must stay empty: {}", r.stdout);
}

fn pkjwt_args(peer: &Peer) -> Vec<String> {
    vec![
        "--key".into(),
        key(),
        "--client-id".into(),
        "pkjwt-client".into(),
        "--token-endpoint".into(),
        peer.token_endpoint(),
        "--scope".into(),
        "api:read".into(),
        "--no-cache".into(),
    ]
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn private_key_jwt_client_credentials_and_discovery() {
    let peer = Peer::oidc();
    let env = Env::new();
    let r = env.run(&refs(&pkjwt_args(&peer)));
    let t = assert_token(&r, &peer);
    let c = claims(&t);
    assert_eq!(c["client_id"], "pkjwt-client");
    assert_eq!(c["aud"], "https://api.example.test");
    assert_eq!(c["scope"], "api:read");

    // --issuer: the endpoint comes from the metadata; --json adds expires_at.
    let r = env.run(&[
        "--key",
        &key(),
        "--client-id",
        "pkjwt-client",
        "--issuer",
        &peer.base,
        "--scope",
        "api:read api:write",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, peer.log());
    let j = r.json();
    assert_eq!(j["schema"], "credkit.token/1");
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 300);
    assert_eq!(j["cached"], false);
    let exp = j["expires_at"].as_str().expect("expires_at");
    assert!(exp.starts_with("20"), "{exp}");
    assert_eq!(
        claims(j["access_token"].as_str().expect("t"))["scope"],
        "api:read api:write"
    );
}

#[test]
fn client_secret_basic_and_post_from_env_file_and_stdin() {
    let peer = Peer::oidc();
    let env = Env::new();
    let ep = peer.token_endpoint();
    // Basic, secret from the environment.
    let mut c = env.cmd();
    c.args([
        "--client-id",
        "basic-client",
        "--client-secret-env",
        "SECRET",
        "--token-endpoint",
        &ep,
        "--scope",
        "api:read",
        "--no-cache",
        "--verbose",
    ])
    .env("SECRET", "basic-secret");
    let r = run(c);
    let t = assert_token(&r, &peer);
    assert_eq!(claims(&t)["client_id"], "basic-client");
    // --verbose shows the exchange, never the secret or the token.
    assert!(r.stderr.contains("> POST "), "{}", r.stderr);
    assert!(
        r.stderr.contains("Authorization: Basic <redacted>"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("< HTTP 200"), "{}", r.stderr);
    assert!(!r.stderr.contains("basic-secret"), "{}", r.stderr);
    assert!(!r.stderr.contains(&t), "the token leaked into --verbose");

    // Post, secret from a file.
    let dir = tempfile::tempdir().expect("tmp");
    let sf = dir.path().join("secret");
    std::fs::write(&sf, "post-secret\n").expect("write");
    let r = env.run(&[
        "--client-id",
        "post-client",
        "--client-secret-file",
        &path_str(&sf),
        "--auth",
        "client-secret-post",
        "--token-endpoint",
        &ep,
        "--scope",
        "api:write",
        "--no-cache",
    ]);
    assert_eq!(claims(&assert_token(&r, &peer))["client_id"], "post-client");

    // Post, secret from stdin.
    let r = env.run_stdin(
        &[
            "--client-id",
            "post-client",
            "--client-secret-stdin",
            "--auth",
            "client-secret-post",
            "--token-endpoint",
            &ep,
            "--no-cache",
        ],
        "post-secret\n",
    );
    assert_token(&r, &peer);

    // A wrong secret: refused, and the secret candidates are named.
    let r = env.run_stdin(
        &[
            "--client-id",
            "basic-client",
            "--client-secret-stdin",
            "--token-endpoint",
            &ep,
            "--no-cache",
        ],
        "wrong\n",
    );
    assert_refused(&r, &peer);
    assert!(r.stderr.contains("invalid_client"), "{}", r.stderr);
    assert!(r.stderr.contains("the secret is wrong"), "{}", r.stderr);
    assert!(r.stderr.contains("oauth-invalid-client"), "{}", r.stderr);
}

#[test]
fn refresh_token_grant_and_a_used_refresh_token() {
    let peer = Peer::oidc();
    let env = Env::new();
    let body: Value = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}/__test/refresh-token", peer.base))
        .form(&[("for", "tests")])
        .send()
        .unwrap_or_else(|e| panic!("{e}\n{}", peer.log()))
        .json()
        .expect("json");
    let rt = body["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string();
    let args = [
        "--grant",
        "refresh-token",
        "--refresh-token-env",
        "RT",
        "--client-id",
        "basic-client",
        "--client-secret-env",
        "SECRET",
        "--token-endpoint",
        &peer.token_endpoint(),
        "--json",
    ];
    let mut c = env.cmd();
    c.args(args).env("RT", &rt).env("SECRET", "basic-secret");
    let r = run(c);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, peer.log());
    let j = r.json();
    let new_rt = j["refresh_token"].as_str().expect("rotated refresh token");
    assert_ne!(new_rt, rt);
    assert_eq!(
        claims(j["access_token"].as_str().expect("t"))["sub"],
        "alice"
    );

    // The server rotates refresh tokens: the old one is refused.
    let mut c = env.cmd();
    c.args(&args[..args.len() - 1])
        .env("RT", &rt)
        .env("SECRET", "basic-secret");
    let r = run(c);
    assert_refused(&r, &peer);
    assert!(r.stderr.contains("invalid_grant"), "{}", r.stderr);
    assert!(r.stderr.contains("already used"), "{}", r.stderr);
}

#[test]
fn jwt_bearer_grant_against_oidc_provider() {
    let peer = Peer::oidc();
    let env = Env::new();
    let r = env.run(&[
        "--grant",
        "jwt-bearer",
        "--key",
        &key(),
        "--client-id",
        "mp-client",
        "--issuer",
        &peer.base,
        "--scope",
        "api:read",
        "--no-cache",
    ]);
    let t = assert_token(&r, &peer);
    assert_eq!(claims(&t)["client_id"], "mp-client");

    // A scope the client does not have.
    let r = env.run(&[
        "--grant",
        "jwt-bearer",
        "--key",
        &key(),
        "--client-id",
        "mp-client",
        "--issuer",
        &peer.base,
        "--scope",
        "admin",
        "--no-cache",
    ]);
    assert_refused(&r, &peer);
    assert!(r.stderr.contains("scope sent: admin"), "{}", r.stderr);
    assert!(r.stderr.contains("oauth-invalid-scope"), "{}", r.stderr);
}

/// Bad signature, wrong aud, expired, replayed jti, unknown client, scope:
/// each refused by oidc-provider's own checks, each explained.
#[test]
fn failure_modes_are_refused_and_explained() {
    let peer = Peer::oidc();
    let env = Env::new();
    let dir = tempfile::tempdir().expect("tmp");
    let base = pkjwt_args(&peer);
    let with = |extra: &[&str]| {
        let mut v = refs(&base);
        v.extend(extra);
        env.run(&v)
    };

    // Bad signature: another RSA key, sent under the registered key's kid.
    let other = dir.path().join("other.key.pem");
    peer_tool(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &path_str(&other),
    ]);
    let mut v: Vec<String> = base.clone();
    v[1] = path_str(&other);
    v.extend(["--kid".to_string(), REGISTERED_KID.to_string()]);
    let r = env.run(&refs(&v));
    assert_refused(&r, &peer);
    assert!(
        peer.log().contains("signature verification failed"),
        "{}",
        peer.log()
    );
    assert!(r.stderr.contains("oauth-invalid-client"), "{}", r.stderr);
    assert!(
        r.stderr.contains("public key registered on the client"),
        "{}",
        r.stderr
    );

    // Wrong aud: named as the problem, with the endpoint expected.
    let r = with(&["--aud", "https://wrong.example/token"]);
    assert_refused(&r, &peer);
    assert!(r.stderr.contains("problem[aud-mismatch]"), "{}", r.stderr);
    assert!(
        r.stderr.contains("https://wrong.example/token"),
        "{}",
        r.stderr
    );

    // Expired: a clock an hour behind; the server's Date shows the skew.
    let behind = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let behind = behind
        .format(&time::format_description::well_known::Rfc3339)
        .expect("fmt");
    let mut c = env.cmd_with(&["--now", behind.as_str()]);
    c.args(refs(&base));
    let r = run(c);
    assert_refused(&r, &peer);
    assert!(peer.log().contains("jwt expired"), "{}", peer.log());
    assert!(
        r.stderr.contains("problem[assertion-expired]"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("problem[clock-skew]"), "{}", r.stderr);
    assert!(r.stderr.contains("behind"), "{}", r.stderr);

    // Replayed jti: the same assertion sent twice.
    let mut m = credkit_real_clock();
    m.args([
        "jwt",
        "mint",
        "--key",
        &key(),
        "--iss",
        "pkjwt-client",
        "--sub",
        "pkjwt-client",
        "--aud",
        &peer.token_endpoint(),
    ]);
    let minted = run(m);
    assert_eq!(minted.code, 0, "{}", minted.stderr);
    let af = dir.path().join("assertion.jwt");
    std::fs::write(&af, minted.stdout.trim()).expect("write");
    let at = format!("@{}", path_str(&af));
    let replay = [
        "--client-id",
        "pkjwt-client",
        "--assertion",
        at.as_str(),
        "--token-endpoint",
        &peer.token_endpoint(),
        "--auth",
        "private-key-jwt",
    ];
    let r = env.run(&replay);
    assert_token(&r, &peer);
    let r = env.run(&replay);
    assert_refused(&r, &peer);
    assert!(peer.log().contains("only be used once"), "{}", peer.log());
    assert!(r.stderr.contains("fact[assertion-given]"), "{}", r.stderr);
    assert!(r.stderr.contains("cannot be sent again"), "{}", r.stderr);

    // Unknown client.
    let mut v = base.clone();
    v[3] = "no-such-client".into();
    let r = env.run(&refs(&v));
    assert_refused(&r, &peer);
    assert!(
        r.stderr.contains("client id sent: no-such-client"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("unknown to this server"), "{}", r.stderr);

    // A scope not on the client.
    let mut v = base.clone();
    v[7] = "offline_access".into();
    let r = env.run(&refs(&v));
    assert_refused(&r, &peer);
    assert!(r.stderr.contains("oauth-invalid-scope"), "{}", r.stderr);
    assert!(
        r.stderr.contains("scope sent: offline_access"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("must be added"), "{}", r.stderr);
}

fn credkit_real_clock() -> Command {
    credkit_with(Clock::Real)
}

fn peer_tool(args: &[&str]) {
    peer("openssl", args);
}

fn mp_args(endpoint: &str, scope: &str) -> Vec<String> {
    vec![
        "--key".into(),
        path_str(&fixture(AUTH_P12)),
        "--alias".into(),
        "auth".into(),
        "--env".into(),
        "test".into(),
        "--token-endpoint".into(),
        endpoint.into(),
        "--client-id".into(),
        "0b7c5c8e-1111-2222-3333-444455556666".into(),
        "--scope".into(),
        scope.into(),
        "--no-cache".into(),
    ]
}

/// Every catalogued Maskinporten answer gets its diagnosis.
#[test]
fn every_maskinporten_error_is_diagnosed() {
    let peer = Peer::maskinporten();
    let env = Env::new();
    let cases = [
        ("MP-100", "maskinporten-client-auth"),
        ("MP-100-not-found", "maskinporten-client-not-found"),
        ("MP-110", "maskinporten-aud"),
        ("MP-120", "maskinporten-invalid-certificate"),
        ("MP-121", "maskinporten-expired-key"),
        ("unknown-kid", "maskinporten-unknown-kid"),
        ("kid-required", "maskinporten-kid-required"),
        ("MP-124", "maskinporten-signature"),
        ("MP-011", "maskinporten-invalid-parameter"),
        ("extra-claim", "maskinporten-invalid-assertion"),
        ("consumer-org-own", "maskinporten-consumer-org-own"),
        ("MP-200", "maskinporten-scope-not-on-client"),
        ("MP-201", "maskinporten-scope-integration-type"),
        ("MP-012", "maskinporten-replay"),
        ("MP-130", "maskinporten-expired"),
        ("MP-122", "maskinporten-orgno-mismatch"),
        ("MP-123", "maskinporten-x5c"),
        ("iat-future", "maskinporten-iat-future"),
        ("MP-301", "maskinporten-rar-type"),
        ("MP-302", "maskinporten-rar-fields"),
        ("MP-303", "maskinporten-rar-values"),
        ("MP-250", "maskinporten-no-access"),
        ("MP-251", "maskinporten-not-delegated"),
    ];
    for (case, id) in cases {
        let mut a = mp_args(&peer.token_endpoint(), &format!("case:{case}"));
        a.push("--json".into());
        let r = env.run(&refs(&a));
        assert_refused(&r, &peer);
        let e = r.error_json();
        assert_eq!(e["error"]["exit_code"], 1, "{case}");
        let d = &e["error"]["diagnosis"];
        assert_eq!(d["known"]["id"], id, "{case}: {}", r.stderr);
        assert!(d["known"]["fix"].as_str().is_some_and(|f| !f.is_empty()));
        if case == "MP-120" {
            // Revocation was not checked: the diagnosis says how to.
            assert!(
                d["known"]["fix"]
                    .as_str()
                    .is_some_and(|f| f.contains("--revocation")),
                "{d}"
            );
        }
        assert!(
            d["server"]["error_description"]
                .as_str()
                .is_some_and(|t| t.contains("trace_id")),
            "{case}"
        );
    }

    // The text form: MP-110 shows the aud sent and the issuer expected.
    let r = env.run(&refs(&mp_args(&peer.token_endpoint(), "case:MP-110")));
    assert_refused(&r, &peer);
    assert!(
        r.stderr.contains("known answer: Maskinporten MP-110"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("aud sent: https://test.maskinporten.no/; the endpoint's issuer: https://test.maskinporten.no/"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("(error id: oauth-invalid-grant)"),
        "{}",
        r.stderr
    );
    // MP-130 with a server clock 10 minutes ahead: the skew is named.
    let r = env.run(&refs(&mp_args(&peer.token_endpoint(), "case:MP-130")));
    assert_refused(&r, &peer);
    assert!(r.stderr.contains("problem[clock-skew]"), "{}", r.stderr);
    assert!(
        r.stderr.contains("problem[assertion-expired]"),
        "{}",
        r.stderr
    );
    // MP-200 names the scope sent.
    let r = env.run(&refs(&mp_args(&peer.token_endpoint(), "case:MP-200")));
    assert!(r.stderr.contains("scope sent: case:MP-200"), "{}", r.stderr);
    assert!(
        r.stderr.contains("add the scope to the client"),
        "{}",
        r.stderr
    );
}

#[test]
fn retries_mint_a_fresh_grant_and_4xx_is_not_retried() {
    let peer = Peer::maskinporten();
    let env = Env::new();
    // 503 once: retried with a new jti (the server refuses a reused one).
    let r = env.run(&refs(&mp_args(&peer.token_endpoint(), "retry:503")));
    assert_token(&r, &peer);
    assert!(r.stderr.contains("trying again"), "{}", r.stderr);
    // 429 with Retry-After: 1.
    let t0 = std::time::Instant::now();
    let r = env.run(&refs(&mp_args(&peer.token_endpoint(), "retry:429")));
    assert_token(&r, &peer);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(900));
    // 500 every time: gives up after --retries, exit 2.
    let mut a = mp_args(&peer.token_endpoint(), "always:500");
    a.extend(["--retries".into(), "1".into()]);
    let r = env.run(&refs(&a));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("(error id: server-error)"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("trying again").count(), 1, "{}", r.stderr);
    // 4xx: one attempt only.
    let r = env.run(&refs(&mp_args(&peer.token_endpoint(), "case:MP-110")));
    assert_refused(&r, &peer);
    assert!(!r.stderr.contains("trying again"), "{}", r.stderr);
}

#[test]
fn cached_token_is_used_without_the_network_and_kept_private() {
    let peer = Peer::maskinporten();
    let env = Env::new();
    let ep = peer.token_endpoint();
    let mut a = mp_args(&ep, "cache:test");
    a.retain(|x| x != "--no-cache");
    let first = env.run(&refs(&a));
    let t = assert_token(&first, &peer);
    drop(peer);

    // The server is gone: the cache answers.
    let r = env.run(&refs(&a));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), t);
    assert!(r.stderr.contains("from the cache"), "{}", r.stderr);
    let mut j = a.clone();
    j.push("--json".into());
    assert_eq!(env.run(&refs(&j)).json()["cached"], true);

    // The cache file: 0600, the token, no key and no password.
    let files: Vec<_> = std::fs::read_dir(env.cache_dir())
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).expect("read");
    assert!(text.contains(&t));
    assert!(!text.contains("changeit") && !text.contains("PRIVATE KEY"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // --no-cache and --refresh go to the (stopped) server: exit 2, in plain words.
    for flag in ["--no-cache", "--refresh"] {
        let mut b = a.clone();
        b.push(flag.into());
        let r = env.run(&refs(&b));
        assert_eq!(r.code, 2, "{flag}: {}", r.stderr);
        assert!(
            r.stderr.contains("(error id: network-connect)"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("nothing answered"), "{}", r.stderr);
    }
    // Another scope is another cache entry.
    let mut b = mp_args(&ep, "cache:other");
    b.retain(|x| x != "--no-cache");
    let r = env.run(&refs(&b));
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn output_forms_and_postman_environment() {
    let peer = Peer::maskinporten();
    let env = Env::new();
    let base = mp_args(&peer.token_endpoint(), "api:read");
    let mut a = base.clone();
    a.push("--header".into());
    let r = env.run(&refs(&a));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("Authorization: Bearer mp."),
        "{}",
        r.stdout
    );
    let mut a = base.clone();
    a.extend(["--env-export".into(), "MP_TOKEN".into()]);
    let r = env.run(&refs(&a));
    assert!(r.stdout.starts_with("export MP_TOKEN=mp."), "{}", r.stdout);

    let dir = tempfile::tempdir().expect("tmp");
    let pm = dir.path().join("mp.postman_environment.json");
    let mut a = base.clone();
    a.extend(["--postman-env".into(), path_str(&pm)]);
    let r = env.run(&refs(&a));
    let t = assert_token(&r, &peer);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&pm).expect("pm")).expect("json");
    assert_eq!(doc["_postman_variable_scope"], "environment");
    let vals = doc["values"].as_array().expect("values");
    let get = |k: &str| {
        vals.iter()
            .find(|v| v["key"] == k)
            .map(|v| v["value"].clone())
    };
    assert_eq!(get("access_token"), Some(Value::from(t)));
    assert_eq!(
        vals.iter().find(|v| v["key"] == "access_token").expect("t")["type"],
        "secret"
    );
    assert!(
        get("token_expires_at").is_some_and(|v| v.as_str().is_some_and(|s| s.starts_with("20")))
    );
    assert_eq!(
        get("issuer"),
        Some(Value::from("https://test.maskinporten.no/"))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&pm).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Not a Postman file: left alone.
    let other = dir.path().join("notes.json");
    std::fs::write(&other, "{}").expect("write");
    let mut a = base.clone();
    a.extend(["--postman-env".into(), path_str(&other)]);
    let r = env.run(&refs(&a));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&other).expect("read"), "{}");
}

#[test]
fn properties_file_and_toml_profile() {
    let peer = Peer::maskinporten();
    let env = Env::new();
    let dir = tempfile::tempdir().expect("tmp");
    let p12 = fixture(AUTH_P12);
    // jwt-grant-generator's file, unchanged.
    let props = dir.path().join("client.properties");
    std::fs::write(
        &props,
        format!(
            "# jwt-grant-generator\nissuer=0b7c5c8e-1111-2222-3333-444455556666\naudience=https://test.maskinporten.no/\n\
             scope=props:scope\ntoken.endpoint={}\nkeystore.type=PKCS12\nkeystore.file={}\nkeystore.password=changeit\n\
             keystore.alias=auth\nkeystore.alias.password=changeit\n",
            peer.token_endpoint(),
            path_str(&p12)
        ),
    )
    .expect("write");
    let mut c = env.cmd();
    c.args(["--properties", &path_str(&props), "--no-cache"]);
    let r = run(c);
    let t = assert_token(&r, &peer);
    assert!(t.starts_with("mp."));
    // keystore.file=base64:...
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&p12).expect("p12"));
    let text = std::fs::read_to_string(&props).expect("read").replace(
        &format!("keystore.file={}", path_str(&p12)),
        &format!("keystore.file=base64:{b64}"),
    );
    std::fs::write(&props, text).expect("write");
    let mut c = env.cmd();
    c.args(["--properties", &path_str(&props), "--no-cache"]);
    assert_token(&run(c), &peer);

    // A TOML profile in the default config file.
    let cfg = env.config_dir().join("credkit");
    std::fs::create_dir_all(&cfg).expect("mkdir");
    std::fs::copy(&p12, cfg.join("virksomhet.p12")).expect("copy");
    std::fs::write(
        cfg.join("config.toml"),
        format!(
            "[profiles.mp-test]\nkey = \"virksomhet.p12\"\nalias = \"auth\"\npassword_env = \"MP_PW\"\n\
             client_id = \"0b7c5c8e-1111-2222-3333-444455556666\"\nscope = \"toml:scope\"\nenv = \"test\"\n\
             token_endpoint = \"{}\"\n",
            peer.token_endpoint()
        ),
    )
    .expect("write");
    let mut c = env.cmd();
    c.args(["--profile", "mp-test", "--no-cache"])
        .env("MP_PW", "changeit");
    let r = run(c);
    let t = assert_token(&r, &peer);
    assert!(
        String::from_utf8_lossy(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t.split('.').nth(1).expect("p"))
                .expect("b64")
        )
        .contains("toml:scope")
    );
    // Flags win over the profile.
    let mut c = env.cmd();
    c.args([
        "--profile",
        "mp-test",
        "--no-cache",
        "--scope",
        "flag:scope",
    ])
    .env("MP_PW", "changeit");
    let t = assert_token(&run(c), &peer);
    assert!(
        String::from_utf8_lossy(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t.split('.').nth(1).expect("p"))
                .expect("b64")
        )
        .contains("flag:scope")
    );
    // An unknown profile.
    let r = env.run(&["--profile", "nope"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("mp-test"), "{}", r.stderr);
}

#[test]
fn unusable_input_exits_2_before_any_request() {
    let env = Env::new();
    // Plain http to a non-loopback host.
    let r = env.run(&[
        "--key",
        &key(),
        "--client-id",
        "c",
        "--token-endpoint",
        "http://example.com/token",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("(error id: url-not-allowed)"),
        "{}",
        r.stderr
    );
    // A secret is never taken from argv: there is no such option.
    let r = env.run(&[
        "--client-id",
        "c",
        "--client-secret",
        "x",
        "--issuer",
        "https://x/",
    ]);
    assert_eq!(r.code, 2);
    // The non-repudiation certificate: the check names the other alias.
    let r = env.run(&[
        "--key",
        &path_str(&fixture("p12/keytool-business-pair.p12")),
        "--alias",
        "sign",
        "--env",
        "test",
        "--client-id",
        "c",
        "--scope",
        "s:s",
        "--token-endpoint",
        "http://127.0.0.1:9/token",
    ]);
    // A credential that fails its checks is a negative answer (exit 1), as for
    // `check` and `jwt mint`; nothing is sent.
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("key-usage-non-repudiation"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--alias \"auth\""), "{}", r.stderr);
    assert!(
        r.stderr.contains("(error id: credential-unfit)"),
        "{}",
        r.stderr
    );
    // Nothing listens: a connection error in plain words.
    let r = env.run(&[
        "--key",
        &key(),
        "--client-id",
        "c",
        "--token-endpoint",
        "http://127.0.0.1:9/token",
        "--retries",
        "0",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nothing answered"), "{}", r.stderr);
}

/// A CA (`ca.pem`, `ca.key`) and a server certificate for 127.0.0.1 it
/// issued (`srv.pem`, `srv.key`), made with openssl in `dir`.
pub fn loopback_server_cert(dir: &std::path::Path) {
    let p = |n: &str| path_str(&dir.join(n));
    peer_tool(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=credkit test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
    ]);
    peer_tool(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &p("srv.key"),
        "-out",
        &p("srv.csr"),
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write");
    peer_tool(&[
        "x509",
        "-req",
        "-in",
        &p("srv.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("ext.cnf"),
        "-out",
        &p("srv.pem"),
    ]);
}

/// TLS is always verified: an unknown CA is refused (exit 2, in plain
/// words); --ca-file adds it. The certificates are made here with openssl.
#[test]
fn tls_is_verified_and_ca_file_adds_a_root() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = |n: &str| path_str(&dir.path().join(n));
    loopback_server_cert(dir.path());
    let peer = Peer::start_with(
        "tls-token-server.mjs",
        &[("TLS_CERT", p("srv.pem")), ("TLS_KEY", p("srv.key"))],
    );
    let env = Env::new();
    let mut c = env.cmd();
    c.args([
        "--client-id",
        "c",
        "--client-secret-env",
        "S",
        "--token-endpoint",
        &peer.token_endpoint(),
        "--no-cache",
        "--retries",
        "0",
    ])
    .env("S", "s");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("(error id: network-tls)"), "{}", r.stderr);
    assert!(r.stderr.contains("--ca-file"), "{}", r.stderr);

    let mut c = env.cmd();
    c.args([
        "--client-id",
        "c",
        "--client-secret-env",
        "S",
        "--token-endpoint",
        &peer.token_endpoint(),
        "--no-cache",
        "--ca-file",
        &p("ca.pem"),
    ])
    .env("S", "s");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "tls.token.ok\n");
}

/// issue 20: a jwt-bearer grant sends x5c whatever the host. The look-alike
/// (`serve mock-maskinporten`) requires x5c from a certificate client and is
/// recognised from its metadata; an unchanged jwt-grant-generator .properties
/// file works too.
#[test]
fn jwt_bearer_sends_x5c_to_a_maskinporten_style_server_on_any_host() {
    use crate::serve::{ORG1, mock_fixtures, start_mock};
    let dir = mock_fixtures();
    let m = start_mock(dir.path(), &[]);
    let issuer = m.started["issuer"].as_str().expect("issuer").to_string();
    let env = Env::new();
    let mut c = env.cmd();
    c.current_dir(dir.path())
        .env("CREDKIT_PASSWORD", "changeit")
        .args(["--grant", "jwt-bearer", "--issuer", &issuer])
        .args(["--client-id", ORG1, "--key", "fx/org1-auth.p12"])
        .args(["--scope", "test:read", "--no-cache", "--json"]);
    let r = run(c);
    r.assert_ok();
    assert!(r.json()["access_token"].is_string(), "{}", r.stdout);

    // jwt-grant-generator's file, unchanged (no alias: the only key is used).
    std::fs::write(
        dir.path().join("client.properties"),
        format!(
            "issuer={ORG1}\naudience={issuer}\nscope=test:read\ntoken.endpoint={issuer}token\n\
             keystore.type=PKCS12\nkeystore.file=fx/org1-auth.p12\nkeystore.password=changeit\n\
             keystore.alias.password=changeit\n"
        ),
    )
    .expect("write");
    let mut c = env.cmd();
    c.current_dir(dir.path())
        .args(["--properties", "client.properties", "--no-cache", "--json"]);
    let r = run(c);
    r.assert_ok();
    assert!(r.json()["access_token"].is_string(), "{}", r.stdout);
}

/// The header rules, read back from the grant a refusal carries (`explain`
/// is not needed: the mock-error server echoes nothing, so the diagnosis's
/// header-sent fact shows it).
#[test]
fn header_rules_by_server_kind() {
    let peer = Peer::maskinporten();
    let env = Env::new();
    // Recognised from its metadata (grant_types_supported: jwt-bearer only):
    // x5c alone, no typ, no kid.
    let r = env.run(&[
        "--grant",
        "jwt-bearer",
        "--issuer",
        &format!("{}/", peer.base),
        "--client-id",
        "0b7c5c8e-1111-2222-3333-444455556666",
        "--key",
        &path_str(&fixture(AUTH_P12)),
        "--alias",
        "auth",
        "--scope",
        "case:MP-124",
        "--no-cache",
    ]);
    assert_refused(&r, &peer);
    assert!(
        r.stderr
            .contains("fact[header-sent]: header sent: alg RS256, x5c with 1 certificate(s)\n"),
        "{}",
        r.stderr
    );
    // Generic rules (oidc-provider): x5c plus the thumbprint kid, and the
    // server, which selects keys by kid, gives a token.
    let peer = Peer::oidc();
    let mut c = env.cmd();
    c.args(["--grant", "jwt-bearer", "--issuer", &peer.base])
        .args([
            "--client-id",
            "mp-client",
            "--scope",
            "api:read",
            "--no-cache",
        ])
        .args([
            "--key",
            &path_str(&fixture(AUTH_P12)),
            "--alias",
            "auth",
            "--verbose",
        ])
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_token(&r, &peer);
}

/// issue 20: each refusal ends with a fact the server's text lacks, read
/// from the request actually sent.
#[test]
fn diagnoses_add_facts_from_what_was_sent() {
    let peer = Peer::maskinporten();
    let env = Env::new();
    let ep = peer.token_endpoint();
    let run_case = |case: &str, extra: &[&str]| {
        let mut a = mp_args(&ep, &format!("case:{case}"));
        a.extend(extra.iter().map(|s| s.to_string()));
        let r = env.run(&refs(&a));
        assert_refused(&r, &peer);
        r
    };
    let has = |r: &Run, s: &str| assert!(r.stderr.contains(s), "missing {s:?} in\n{}", r.stderr);
    let thumb = REGISTERED_KID;

    // x5c refused: it was sent, and said so; never "(credkit does)".
    let r = run_case("MP-123", &[]);
    has(
        &r,
        "fact[x5c-sent]: x5c was sent as an array of 1 standard-base64 DER certificate(s)",
    );
    assert!(!r.stderr.contains("(credkit does)"), "{}", r.stderr);
    // kid instead of x5c: named, and the fix says how to send x5c.
    let r = run_case("MP-123", &["--kid", "my-key"]);
    has(
        &r,
        "problem[x5c-not-sent]: no x5c was sent: the header named the key with kid \"my-key\"",
    );
    has(&r, "fix: send the business certificate as x5c");

    // MP-122: the certificate's organisation number and which org must own the client.
    let r = run_case("MP-122", &[]);
    has(
        &r,
        "fact[certificate-org]: the certificate sent in x5c belongs to",
    );
    has(&r, "with organisation number ");
    has(
        &r,
        "problem[client-owner]: client 0b7c5c8e-1111-2222-3333-444455556666 must be owned by organisation",
    );
    // --client-org: a certificate of another organisation cannot sign for
    // it (nothing is sent), and with --force the refusal names the mismatch.
    let r = env.run(&refs(&{
        let mut a = mp_args(&ep, "case:MP-122");
        a.extend(["--client-org".to_string(), "974760673".to_string()]);
        a
    }));
    assert_eq!(r.code, 1, "{}", r.stderr);
    has(&r, "credential-unfit");
    let r = run_case("MP-122", &["--client-org", "974760673", "--force"]);
    has(
        &r,
        "problem[client-org-mismatch]: the client's organisation was given as 974760673, but the certificate is organisation",
    );

    // Unknown kid: the kid sent, the thumbprints, how to see the JWK.
    let r = run_case("unknown-kid", &["--kid", "my-key"]);
    has(&r, "fact[kid-sent]: kid sent: my-key");
    has(
        &r,
        &format!(
            "fact[key-thumbprints]: this key's RFC 7638 thumbprint is {thumb}; its certificate's x5t#S256 is "
        ),
    );
    has(&r, "--to jwk");

    // Registered keys required: the likely kid.
    let r = run_case("kid-required", &[]);
    has(&r, "problem[kid-not-sent]");
    has(&r, &format!("--kid {thumb}"));

    // Reuse: credkit minted it, so something replayed it.
    let r = run_case("MP-012", &[]);
    has(&r, "problem[replay]: credkit minted this JWT (jti ");
    has(&r, "proxy");

    // A ready-made grant sent twice: that is the cause.
    let grant = {
        let mut c = credkit_real_clock();
        c.args([
            "jwt",
            "mint",
            "--key",
            &path_str(&fixture(AUTH_P12)),
            "--alias",
            "auth",
        ])
        .args([
            "--profile",
            "maskinporten",
            "--env",
            "test",
            "--scope",
            "ok",
        ])
        .args(["--iss", "0b7c5c8e-1111-2222-3333-444455556666"])
        .env("CREDKIT_PASSWORD", "changeit");
        let r = run(c);
        r.assert_ok();
        r.stdout.trim().to_string()
    };
    let given = [
        "--assertion",
        grant.as_str(),
        "--token-endpoint",
        ep.as_str(),
        "--grant",
        "jwt-bearer",
        "--no-cache",
    ];
    assert_token(&env.run(&given), &peer);
    let r = env.run(&given);
    assert_refused(&r, &peer);
    has(&r, "problem[replay]: the JWT (jti ");
    has(
        &r,
        "was given ready-made: sending the same JWT twice is the cause",
    );

    // aud at a custom issuer: the fix names that issuer, with its slash.
    let issuer = format!("{}/", peer.base);
    let mp_at_issuer = |scope: &str, extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "--grant".into(),
            "jwt-bearer".into(),
            "--issuer".into(),
            issuer.clone(),
            "--client-id".into(),
            "0b7c5c8e-1111-2222-3333-444455556666".into(),
            "--key".into(),
            path_str(&fixture(AUTH_P12)),
            "--alias".into(),
            "auth".into(),
            "--scope".into(),
            scope.into(),
            "--no-cache".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        env.run(&refs(&a))
    };
    let r = mp_at_issuer("case:MP-110", &[]);
    assert_refused(&r, &peer);
    has(
        &r,
        &format!("fix: set aud to this server's issuer exactly, trailing slash and all: {issuer}"),
    );
    // The same caught before sending, for an aud without the slash.
    let r = mp_at_issuer(
        "ok",
        &["--jwt-profile", "maskinporten", "--aud", &peer.base],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    has(
        &r,
        "differs from this server's issuer in the trailing slash",
    );
    has(
        &r,
        &format!("set aud to this server's issuer exactly: {issuer}"),
    );
    assert!(
        !r.stderr.contains("--env test or --env prod"),
        "{}",
        r.stderr
    );

    // A wrong path answers HTML: not a token endpoint; the metadata names the real one.
    let r = mp_at_issuer(
        "ok",
        &["--token-endpoint", &format!("{}/oauth/token", peer.base)],
    );
    assert_refused(&r, &peer);
    has(
        &r,
        "problem[not-a-token-endpoint]: the answer (HTTP 404, an HTML page) is not an OAuth error response",
    );
    has(
        &r,
        &format!("problem[token-endpoint-from-metadata]: the issuer {issuer}'s metadata ("),
    );
    has(&r, &format!("names the token endpoint {}", ep));
}

/// `credkit explain`: the diagnosis of an answer copied from a log, with the
/// facts of the JWT and key given. Nothing is sent.
#[test]
fn explain_copied_answers_offline() {
    let p12 = path_str(&fixture(AUTH_P12));
    let explain = |args: &[&str], stdin: Option<&str>| {
        let mut c = credkit_real_clock();
        c.arg("explain")
            .args(args)
            .env("CREDKIT_PASSWORD", "changeit");
        let r = match stdin {
            Some(s) => with_stdin(c, s),
            None => run(c),
        };
        r.assert_no_panic();
        r
    };
    let has = |r: &Run, s: &str| {
        assert!(
            r.stdout.contains(s),
            "missing {s:?} in\n{}{}",
            r.stdout,
            r.stderr
        )
    };
    // A kid-only grant (as another program sent it) and Maskinporten's x5c answer.
    let mut c = credkit_real_clock();
    c.args([
        "jwt",
        "mint",
        "--key",
        &p12,
        "--alias",
        "auth",
        "--profile",
        "maskinporten",
    ])
    .args(["--env", "test", "--scope", "nav:x", "--kid", "my-key"])
    .args(["--iss", "0b7c5c8e-1111-2222-3333-444455556666"])
    .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_ok();
    let dir = tempfile::tempdir().expect("tmp");
    let grant = dir.path().join("grant.jwt");
    std::fs::write(&grant, r.stdout.trim()).expect("write");
    let body = r#"{"error":"invalid_grant","error_description":"Invalid JWT header x5c (trace_id: 4f2a9c0d)"}"#;
    let r = explain(
        &[body, "--assertion", &format!("@{}", path_str(&grant))],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    has(&r, "known answer: Maskinporten MP-123 (maskinporten-x5c)");
    has(
        &r,
        "problem[x5c-not-sent]: no x5c was sent: the header named the key with kid \"my-key\"",
    );
    has(&r, "trace id: 4f2a9c0d");
    assert!(!r.stdout.contains("(credkit does)"), "{}", r.stdout);

    // A whole log line from stdin, with the key: certificate facts at --at.
    let line = "2026-11-23 12:00:01 ERROR no.acme.MaskinportenClient - HTTP 400 invalid_grant: Invalid JWT. Invalid organization number for client. Does not match certificate orgno (trace_id: 77aa)";
    let r = explain(
        &[
            "--key",
            &p12,
            "--alias",
            "auth",
            "--client-org",
            "987654325",
            "--at",
            "2050-01-01T00:00:00Z",
        ],
        Some(line),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    has(&r, "known answer: Maskinporten MP-122");
    has(&r, "HTTP status:       400");
    has(
        &r,
        "fact[certificate-org]: the signing key's certificate belongs to",
    );
    has(&r, "organisation number 123456785");
    has(
        &r,
        "problem[client-org-mismatch]: the client's organisation was given as 987654325",
    );
    has(&r, "problem[certificate-validity]");
    has(&r, "NOT valid at 2050-01-01T00:00:00Z");

    // An x5c grant with another key: the key does not match x5c; --json is the token diagnosis object.
    let mut c = credkit_real_clock();
    c.args([
        "jwt",
        "mint",
        "--key",
        &p12,
        "--alias",
        "auth",
        "--profile",
        "maskinporten",
    ])
    .args(["--env", "test", "--scope", "nav:x", "--iss", "c"])
    .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_ok();
    std::fs::write(&grant, r.stdout.trim()).expect("write");
    let other = path_str(&fixture("business/sign.key.pem"));
    let r = explain(
        &[
            "--json",
            "Invalid assertion. Client authentication failed. Invalid JWT signature.",
            "--assertion",
            &format!("@{}", path_str(&grant)),
            "--key",
            &other,
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["schema"], "credkit.explain/1");
    assert_eq!(v["diagnosis"]["known"]["id"], "maskinporten-signature");
    let facts = v["diagnosis"]["facts"].as_array().expect("facts");
    assert!(
        facts
            .iter()
            .any(|f| f["id"] == "key-matches-x5c" && f["problem"] == true),
        "{facts:?}"
    );
    assert!(facts.iter().any(|f| f["id"] == "jti"), "{facts:?}");

    // Nothing to explain: 2.
    let r = explain(&[], Some("  \n"));
    assert_eq!(r.code, 2, "{}", r.stderr);
}
