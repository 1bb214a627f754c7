//! `jwt mint | decode | verify`, checked against PyJWT (and cryptography).

use crate::support::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};

fn pyjwt(args: &[&str]) -> Value {
    let tool = root().join("tests/tools/pyjwt_peer.py");
    let mut full = vec![path_str(&tool)];
    full.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    let out = peer("python3", &refs);
    serde_json::from_str(&out).expect("pyjwt json")
}

fn mint(args: &[&str]) -> Run {
    let mut c = credkit();
    c.args(["jwt", "mint"])
        .args(args)
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_no_panic();
    r
}

fn write_tmp(dir: &Path, name: &str, data: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).expect("write");
    path_str(&p)
}

/// Every algorithm and header mode, verified by PyJWT, with x5c and
/// x5t#S256 recomputed by Python.
#[test]
fn minted_tokens_verify_in_pyjwt() {
    let dir = tempfile::tempdir().expect("tmp");
    let cases: &[(&str, Option<&str>, &str, &[&str])] = &[
        (
            "p12/keytool-business-pair.p12",
            Some("auth"),
            "business/auth.cert.pem",
            &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        ),
        (
            "p12/openssl3-ec-p256.p12",
            None,
            "pem/ec-p256.cert.pem",
            &["ES256"],
        ),
        (
            "p12/openssl3-ec-p384.p12",
            None,
            "pem/ec-p384.cert.pem",
            &["ES384"],
        ),
        (
            "p12/openssl3-ed25519.p12",
            None,
            "pem/ed25519.cert.pem",
            &["EdDSA"],
        ),
    ];
    let modes: &[&[&str]] = &[
        &["--x5c"],
        &["--x5c-chain"],
        &["--kid", "k-1"],
        &["--x5t"],
        &["--x5t-s256"],
        &[],
    ];
    for (key, alias, cert, algs) in cases {
        for alg in *algs {
            for mode in modes {
                let mut args = vec![
                    "--key",
                    key_path(key),
                    "--iss",
                    "client-1",
                    "--aud",
                    "https://as.example/token",
                    "--alg",
                    alg,
                ];
                if let Some(a) = alias {
                    args.extend(["--alias", a]);
                }
                args.extend(mode.iter());
                let r = mint(&args);
                assert_eq!(r.code, 0, "{key} {alg} {mode:?}: {}", r.stderr);
                let token = r.stdout.trim();
                let tf = write_tmp(dir.path(), "t.jwt", token);
                let v = pyjwt(&["verify", &tf, &path_str(&fixture(cert))]);
                assert_eq!(v["header"]["alg"], *alg);
                assert_eq!(v["claims"]["iss"], "client-1");
                assert_eq!(v["claims"]["aud"], "https://as.example/token");
                let exp = v["claims"]["exp"].as_i64().expect("exp");
                let iat = v["claims"]["iat"].as_i64().expect("iat");
                assert_eq!(exp - iat, 300);
                if mode.first().is_some_and(|m| m.starts_with("--x5c")) {
                    let x = pyjwt(&["x5c", &tf]);
                    let n = x["header"]["x5c"].as_array().expect("x5c").len();
                    assert_eq!(
                        n,
                        if mode[0] == "--x5c-chain" && alias.is_some() {
                            3
                        } else {
                            1
                        }
                    );
                }
                if mode.first() == Some(&"--x5t-s256") || mode.first() == Some(&"--x5t") {
                    // Recompute the thumbprint from the certificate file in Python.
                    let c = std::fs::read_to_string(fixture(cert)).expect("cert");
                    let der = pem_der(&c);
                    let name = if mode[0] == "--x5t" {
                        "x5t"
                    } else {
                        "x5t#S256"
                    };
                    let want = thumb(&der, mode[0] == "--x5t");
                    assert_eq!(v["header"][name], want, "{key} {mode:?}");
                }
                if mode.is_empty() {
                    // Generic default: kid = RFC 7638 thumbprint of the key.
                    let report = inspect_json(key);
                    assert_eq!(
                        v["header"]["kid"],
                        report["entries"][0]["key"]["jwk_thumbprint"]
                    );
                }
            }
        }
    }
}

fn key_path(rel: &str) -> &'static str {
    Box::leak(path_str(&fixture(rel)).into_boxed_str())
}

fn pem_der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("b64")
}

fn thumb(der: &[u8], sha1: bool) -> String {
    let tool = "import sys,hashlib,base64; d=open(sys.argv[1],'rb').read(); h=hashlib.sha1 if sys.argv[2]=='1' else hashlib.sha256; print(base64.urlsafe_b64encode(h(d).digest()).rstrip(b'=').decode())";
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("c.der");
    std::fs::write(&p, der).expect("w");
    peer(
        "python3",
        &["-c", tool, &path_str(&p), if sha1 { "1" } else { "0" }],
    )
    .trim()
    .to_string()
}

#[test]
fn maskinporten_profile_follows_the_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    let key = key_path("p12/keytool-business-pair.p12");
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--profile",
        "maskinporten",
        "--env",
        "test",
        "--iss",
        "c1",
        "--scope",
        "nav:a nav:b",
        "--consumer-org",
        "123456785",
        "--resource",
        "https://api.example",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tf = write_tmp(dir.path(), "t.jwt", r.stdout.trim());
    let v = pyjwt(&["x5c", &tf]);
    let h = v["header"].as_object().expect("header");
    let mut hk: Vec<&str> = h.keys().map(String::as_str).collect();
    hk.sort();
    assert_eq!(hk, ["alg", "x5c"], "only alg and x5c in the header");
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["x5c"].as_array().expect("x5c").len(), 1);
    let c = &v["claims"];
    assert_eq!(c["aud"], "https://test.maskinporten.no/");
    assert_eq!(c["iss"], "c1");
    assert_eq!(c["scope"], "nav:a nav:b");
    assert_eq!(c["consumer_org"], "123456785");
    assert_eq!(c["resource"], "https://api.example");
    assert_eq!(
        c["exp"].as_i64().expect("exp") - c["iat"].as_i64().expect("iat"),
        120
    );
    let jti = c["jti"].as_str().expect("jti");
    assert_eq!(jti.len(), 36);
    assert_eq!(&jti[14..15], "4", "UUID version 4: {jti}");
    let mut ck: Vec<&str> = c
        .as_object()
        .expect("c")
        .keys()
        .map(String::as_str)
        .collect();
    ck.sort();
    assert_eq!(
        ck,
        [
            "aud",
            "consumer_org",
            "exp",
            "iat",
            "iss",
            "jti",
            "resource",
            "scope"
        ]
    );
    // Prod issuer.
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--profile",
        "maskinporten",
        "--env",
        "prod",
        "--iss",
        "c1",
        "--scope",
        "s",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tf = write_tmp(dir.path(), "p.jwt", r.stdout.trim());
    assert_eq!(
        pyjwt(&["x5c", &tf])["claims"]["aud"],
        "https://maskinporten.no/"
    );
    // Broken rules are refused with exit 2 and an explanation.
    for (extra, words) in [
        (vec!["--lifetime", "5m"], "120"),
        (vec!["--claim", "sub=x"], "not documented"),
        (vec!["--alg", "PS256"], "RS256, RS384 and RS512"),
        (
            vec!["--aud", "https://test.maskinporten.no"],
            "trailing slash",
        ),
        (
            vec!["--aud", "https://test.maskinporten.no/token"],
            "token endpoint",
        ),
    ] {
        let mut args = vec![
            "--key",
            key,
            "--alias",
            "auth",
            "--profile",
            "maskinporten",
            "--env",
            "test",
            "--iss",
            "c1",
            "--scope",
            "s",
        ];
        args.extend(extra.iter());
        let r = mint(&args);
        assert_eq!(r.code, 2, "{extra:?}");
        assert!(
            r.stderr.contains("jwt-profile-rule"),
            "{extra:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(words), "{extra:?}: {}", r.stderr);
        // --force breaks the rule on purpose.
        args.push("--force");
        assert_eq!(mint(&args).code, 0, "{extra:?} --force");
    }
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--profile",
        "maskinporten",
        "--iss",
        "c1",
        "--scope",
        "s",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--env"), "{}", r.stderr);
    // An EC key is not accepted by Maskinporten: the credential check says so.
    let r = mint(&[
        "--key",
        key_path("p12/openssl3-ec-p256.p12"),
        "--profile",
        "maskinporten",
        "--env",
        "test",
        "--iss",
        "c1",
        "--scope",
        "s",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("key-algorithm-not-accepted"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_credential_check_gates_minting() {
    let key = key_path("p12/openssl3-aes-sign.p12");
    let args = [
        "--key",
        key,
        "--profile",
        "maskinporten",
        "--env",
        "test",
        "--iss",
        "c1",
        "--scope",
        "s",
    ];
    let r = mint(&args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no token on stdout");
    assert!(
        r.stderr.contains("key-usage-non-repudiation"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    let mut forced = args.to_vec();
    forced.push("--force");
    let r = mint(&forced);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim().split('.').count(), 3);
}

#[test]
fn okta_keycloak_and_entra_profiles() {
    let dir = tempfile::tempdir().expect("tmp");
    let key = key_path("p12/keytool-business-pair.p12");
    let ep = "https://example.okta.com/oauth2/v1/token";
    for profile in ["okta", "keycloak"] {
        let r = mint(&[
            "--key",
            key,
            "--alias",
            "auth",
            "--profile",
            profile,
            "--iss",
            "0oa1",
            "--aud",
            ep,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let tf = write_tmp(dir.path(), "o.jwt", r.stdout.trim());
        let v = pyjwt(&["verify", &tf, &path_str(&fixture("business/auth.cert.pem"))]);
        assert_eq!(v["claims"]["iss"], "0oa1");
        assert_eq!(v["claims"]["sub"], "0oa1");
        assert_eq!(v["claims"]["aud"], ep);
        assert!(v["claims"]["jti"].is_string());
        assert_eq!(v["header"]["typ"], "JWT");
        assert!(v["header"]["kid"].is_string());
        let r = mint(&[
            "--key",
            key,
            "--alias",
            "auth",
            "--profile",
            profile,
            "--iss",
            "0oa1",
            "--aud",
            ep,
            "--sub",
            "other",
        ]);
        assert_eq!(r.code, 2, "iss must equal sub");
    }
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--profile",
        "okta",
        "--iss",
        "0oa1",
        "--aud",
        ep,
        "--lifetime",
        "2h",
    ]);
    assert_eq!(r.code, 2);
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--profile",
        "okta",
        "--iss",
        "0oa1",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--aud"), "{}", r.stderr);
    // Entra: PS256 and x5t#S256 by default, nbf set.
    let entra = "https://login.microsoftonline.com/tenant/oauth2/v2.0/token";
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--profile",
        "entra",
        "--iss",
        "app",
        "--aud",
        entra,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tf = write_tmp(dir.path(), "e.jwt", r.stdout.trim());
    let v = pyjwt(&["verify", &tf, &path_str(&fixture("business/auth.cert.pem"))]);
    assert_eq!(v["header"]["alg"], "PS256");
    let der = pem_der(&std::fs::read_to_string(fixture("business/auth.cert.pem")).expect("c"));
    assert_eq!(v["header"]["x5t#S256"], thumb(&der, false));
    assert_eq!(v["claims"]["nbf"], v["claims"]["iat"]);
    assert_eq!(v["claims"]["sub"], "app");
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--profile",
        "entra",
        "--iss",
        "app",
        "--aud",
        entra,
        "--alg",
        "ES256",
    ]);
    assert_eq!(r.code, 2);
}

#[test]
fn count_mints_distinct_tokens() {
    let r = mint(&[
        "--key",
        key_path("pem/ec-pkcs8.key"),
        "--iss",
        "a",
        "--aud",
        "b",
        "--count",
        "200",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 200);
    let mut jtis = std::collections::BTreeSet::new();
    for l in &lines {
        let mut c = credkit();
        c.args(["jwt", "decode", "--json", l]);
        let v = run(c).json();
        jtis.insert(v["claims"]["jti"].as_str().expect("jti").to_string());
    }
    assert_eq!(jtis.len(), 200);
}

/// Tokens made by PyJWT are decoded and verified by credkit.
#[test]
fn pyjwt_tokens_verify_in_credkit() {
    let dir = tempfile::tempdir().expect("tmp");
    // NOW = 2026-11-23T12:00:00Z = 1795435200
    let claims = json!({"iss": "c", "aud": "https://as.example/token", "iat": 1795435200, "exp": 1795435320, "jti": "j1"}).to_string();
    let cases = [
        ("RS256", "business/auth.key.pem", "business/auth.cert.pem"),
        ("PS256", "business/auth.key.pem", "jwk/rsa-public.jwk"),
        ("ES256", "pem/ec-pkcs8.key", "jwk/ec-p256-public.jwk"),
        ("ES384", "pem/ec-p384-pkcs8.key", "pem/ec-p384.cert.pem"),
        ("EdDSA", "pem/ed25519.key", "pem/ed25519.cert.pem"),
    ];
    for (alg, key, verify_with) in cases {
        let tool = root().join("tests/tools/pyjwt_peer.py");
        let token = peer(
            "python3",
            &[
                &path_str(&tool),
                "mint",
                alg,
                &path_str(&fixture(key)),
                &claims,
            ],
        );
        let token = token.trim();
        let mut c = credkit();
        c.args(["jwt", "verify", "--json", token, "--key"])
            .arg(fixture(verify_with))
            .args(["--aud", "https://as.example/token", "--iss", "c"]);
        let r = run(c);
        assert_eq!(r.code, 0, "{alg}: {}", r.stdout);
        assert_eq!(r.json()["valid"], true);
        // Tampered payload: invalid, exit 1.
        let parts: Vec<&str> = token.split('.').collect();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forged = b64.encode(json!({"iss": "c", "aud": "https://as.example/token", "iat": 1795435200, "exp": 1895435320}).to_string());
        let bad = format!("{}.{}.{}", parts[0], forged, parts[2]);
        let mut c = credkit();
        c.args(["jwt", "verify", &bad, "--key"])
            .arg(fixture(verify_with));
        let r = run(c);
        assert_eq!(r.code, 1, "{alg}");
        assert!(r.stdout.contains("jwt-bad-signature"), "{}", r.stdout);
        // decode shows it, with no problem but the unverified banner.
        let mut c = credkit();
        c.args(["jwt", "decode", token]);
        let r = run(c);
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert!(r.stderr.contains("NOT verified"));
        assert!(r.stdout.contains("2026-11-23T12:02:00Z"), "{}", r.stdout);
    }
    // A JWKS file holding several keys: the right one is found by kid.
    let token = peer(
        "python3",
        &[
            &path_str(&root().join("tests/tools/pyjwt_peer.py")),
            "mint",
            "ES256",
            &path_str(&fixture("pem/ec-pkcs8.key")),
            &claims,
            &json!({"kid": expected_kid("jwks.json#1")}).to_string(),
        ],
    );
    let mut c = credkit();
    c.args(["jwt", "verify", token.trim(), "--jwks"])
        .arg(fixture("jwk/jwks.json"));
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let _ = dir;
}

fn expected_kid(name: &str) -> String {
    std::fs::read_to_string(fixture("jwk/expected-thumbprints.txt"))
        .expect("thumbprints")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
        .expect("kid")
}

#[test]
fn verify_refuses_none_and_algorithm_confusion() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = b64.encode(r#"{"iss":"c","exp":1895435320}"#);
    let none = format!("{}.{}.", b64.encode(r#"{"alg":"none"}"#), claims);
    let mut c = credkit();
    c.args(["jwt", "verify", &none, "--key"])
        .arg(fixture("business/auth.cert.pem"));
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("jwt-alg-none"), "{}", r.stdout);
    let mut c = credkit();
    c.args(["jwt", "decode", "--check", &none]);
    let r = run(c);
    assert_eq!(r.code, 1, "decode --check flags alg none as an error");
    assert!(r.stdout.contains("jwt-alg-none"));
    // HS256 signed with the public key's PEM as the secret (the classic confusion attack).
    let secret = std::fs::read(fixture("pem/rsa-public.pem")).expect("pem");
    // (PyJWT refuses to do this, so the token is built by hand.)
    let tool = "import sys,hmac,hashlib,base64\nb=lambda d: base64.urlsafe_b64encode(d).rstrip(b'=')\nsi=b(b'{\"alg\":\"HS256\"}')+b'.'+b(b'{\"iss\":\"c\"}')\nprint((si+b'.'+b(hmac.new(sys.stdin.buffer.read(), si, hashlib.sha256).digest())).decode())";
    let mut c = Command::new("python3");
    c.args(["-c", tool]);
    let token = with_stdin(c, &String::from_utf8_lossy(&secret)).stdout;
    let mut c = credkit();
    c.args(["jwt", "verify", token.trim(), "--key"])
        .arg(fixture("pem/rsa-public.pem"));
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("jwt-alg-confusion"), "{}", r.stdout);
}

#[test]
fn verify_x5c_with_and_without_a_ca() {
    let key = key_path("p12/keytool-business-pair.p12");
    let r = mint(&[
        "--key",
        key,
        "--alias",
        "auth",
        "--iss",
        "a",
        "--aud",
        "b",
        "--x5c-chain",
    ]);
    let chained = r.stdout.trim().to_string();
    let r = mint(&[
        "--key", key, "--alias", "auth", "--iss", "a", "--aud", "b", "--x5c",
    ]);
    let leaf_only = r.stdout.trim().to_string();
    let verify = |token: &str, ca: Option<&str>| {
        let mut c = credkit();
        c.args(["jwt", "verify", token, "--x5c"]);
        if let Some(ca) = ca {
            c.arg("--ca").arg(fixture(ca));
        }
        run(c)
    };
    // Without a CA nothing vouches for the certificate: never "valid".
    let r = verify(&leaf_only, None);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("jwt-x5c-unanchored"), "{}", r.stdout);
    assert_eq!(verify(&chained, Some("ca/root.cert.pem")).code, 0);
    assert_eq!(verify(&leaf_only, Some("ca/chain.pem")).code, 0);
    let r = verify(&leaf_only, Some("ca/root.cert.pem"));
    assert_eq!(r.code, 1, "the intermediate is missing");
    assert!(r.stdout.contains("jwt-x5c-untrusted"), "{}", r.stdout);
    let r = verify(&leaf_only, Some("pem/ec-p256.cert.pem"));
    assert_eq!(r.code, 1, "another CA");
}

#[test]
fn verify_with_a_jwks_url_on_loopback() {
    // A JWKS served by Python's http.server on 127.0.0.1.
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::copy(fixture("jwk/jwks.json"), dir.path().join("jwks.json")).expect("copy");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
            &path_str(dir.path()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python http.server");
    let url = format!("http://127.0.0.1:{port}/jwks.json");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let claims = json!({"iss": "c", "aud": "x", "iat": 1795435200, "exp": 1795435320}).to_string();
    let token = peer(
        "python3",
        &[
            &path_str(&root().join("tests/tools/pyjwt_peer.py")),
            "mint",
            "RS256",
            &path_str(&fixture("business/auth.key.pem")),
            &claims,
        ],
    );
    let mut c = credkit();
    c.args(["jwt", "verify", token.trim(), "--jwks", &url]);
    let r = run(c);
    let mut c = credkit();
    c.args([
        "jwt",
        "verify",
        token.trim(),
        "--jwks",
        &format!("http://127.0.0.1:{port}/missing.json"),
    ]);
    let missing = run(c);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("network"), "{}", missing.stderr);
}

#[test]
fn decode_takes_what_people_paste() {
    let r = mint(&[
        "--key",
        key_path("pem/ec-pkcs8.key"),
        "--iss",
        "a",
        "--aud",
        "https://test.maskinporten.no/",
    ]);
    let t = r.stdout.trim().to_string();
    for input in [
        format!("Bearer {t}"),
        format!("{{\"access_token\":\"{t}\",\"token_type\":\"Bearer\",\"expires_in\":120}}"),
        format!("  '{t}'\n"),
    ] {
        let mut c = credkit();
        c.args(["jwt", "decode", "--json", "-"]);
        let r = with_stdin(c, &input);
        assert!(r.code == 0 || r.code == 1, "{input}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).expect("json");
        assert_eq!(v["claims"]["iss"], "a");
        assert_eq!(v["verified"], false);
        // aud says Maskinporten: judged by its rules (ES256 is not accepted there).
        assert_eq!(v["profile"], "maskinporten");
        let ids: Vec<&str> = v["problems"]
            .as_array()
            .expect("p")
            .iter()
            .map(|p| p["id"].as_str().expect("id"))
            .collect();
        assert!(ids.contains(&"jwt-alg-not-accepted"), "{ids:?}");
    }
    let mut c = credkit();
    c.args(["jwt", "decode", "not-a-token"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("jwt-malformed"), "{}", r.stderr);
}

#[test]
fn decode_flags_time_and_claim_problems() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = |claims: Value| {
        format!(
            "{}.{}.c2ln",
            b64.encode(r#"{"alg":"RS256","x5c":["AA=="]}"#),
            b64.encode(claims.to_string())
        )
    };
    let now = 1_795_435_200i64;
    for (claims, id) in [
        (
            json!({"aud": "https://maskinporten.no/", "iss": "c", "iat": now - 600, "exp": now - 480, "jti": "j"}),
            "jwt-expired",
        ),
        (
            json!({"aud": "https://maskinporten.no/", "iss": "c", "iat": now + 60, "exp": now + 180, "jti": "j"}),
            "jwt-iat-in-future",
        ),
        (
            json!({"aud": "https://maskinporten.no/", "iss": "c", "iat": now, "exp": now + 600, "jti": "j"}),
            "jwt-lifetime-too-long",
        ),
        (
            json!({"aud": "https://maskinporten.no/", "iss": "c", "iat": now, "exp": now + 60, "jti": "j", "sub": "x"}),
            "jwt-undocumented-claims",
        ),
        (
            json!({"aud": "x", "iat": now, "exp": now + 60}),
            "jwt-iss-missing",
        ),
    ] {
        let mut c = credkit();
        c.args(["jwt", "decode", "--json", &token(claims.clone())]);
        let r = run(c);
        let v = r.json();
        let ids: Vec<&str> = v["problems"]
            .as_array()
            .expect("p")
            .iter()
            .map(|p| p["id"].as_str().expect("id"))
            .collect();
        assert!(ids.contains(&id), "{claims}: {ids:?}");
        // A decoder shows the token: exit 0; --strict makes the problem count.
        assert_eq!(r.code, 0, "{claims}");
        let mut c = credkit();
        c.args([
            "jwt",
            "decode",
            "--strict",
            "--json",
            &token(claims.clone()),
        ]);
        assert_eq!(run(c).code, 1, "{claims}");
    }
}

/// issue 20: an access token pasted from a log has no aud; decode judges it
/// as an access token, not as a grant, and exits 0 even with --strict.
#[test]
fn decode_judges_a_token_by_its_kind() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let tok = |h: &str, c: Value| format!("{}.{}.c2ln", b64.encode(h), b64.encode(c.to_string()));
    let now = 1_795_435_200i64;
    // A Maskinporten access token: iss the issuer, client_id, scope, no aud.
    let at = tok(
        r#"{"alg":"RS256","kid":"k"}"#,
        json!({"iss": "https://test.maskinporten.no/", "client_id": "c", "scope": "a:b",
               "client_amr": "virksomhetssertifikat", "iat": now - 10, "exp": now + 100, "jti": "j"}),
    );
    for strict in [false, true] {
        let mut c = credkit();
        c.args(["--now", "2026-11-23T12:00:00Z", "jwt", "decode", "--json"]);
        if strict {
            c.arg("--strict");
        }
        c.arg(&at);
        let r = run(c);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        let v = r.json();
        assert_eq!(v["kind"], "access-token");
        assert!(
            !v["problems"]
                .as_array()
                .expect("p")
                .iter()
                .any(|p| p["id"] == "jwt-aud-missing"),
            "{v}"
        );
    }
    // The same without aud, as a grant (iss = a client id): an error, exit 1 with --strict.
    let grant = tok(
        r#"{"alg":"RS256"}"#,
        json!({"iss": "c", "scope": "a:b", "iat": now, "exp": now + 60, "jti": "j"}),
    );
    let mut c = credkit();
    c.args([
        "--now",
        "2026-11-23T12:00:00Z",
        "jwt",
        "decode",
        "--check",
        "--json",
        &grant,
    ]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.json()["kind"], "grant");
    // Not a JWT: 2, strict or not.
    let mut c = credkit();
    c.args(["jwt", "decode", "--strict", "not.a-token"]);
    assert_eq!(run(c).code, 2);
}
