//! `credkit token` with DPoP, mutual TLS, RAR, client_secret_jwt and token
//! exchange against panva's oidc-provider on 127.0.0.1
//! (tests/peer/proofs-server.mjs): the server's own code checks the proofs,
//! the client certificate and the authorization details; the token-exchange
//! handler is the test's own. Each test starts its own server.

use crate::support::*;
use crate::token::Peer;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

fn secret(client: &str) -> String {
    format!("{client}-secret-0123456789abcdef0123456789abcdef")
}

/// `credkit token` with a private cache and config, the client secret in $S.
fn token(home: &Path, client: &str, args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .env("RUST_BACKTRACE", "0")
        .env("S", secret(client))
        .env("CREDKIT_PASSWORD", "changeit")
        .stdin(Stdio::null())
        .args(["token", "--client-id", client, "--retries", "0"])
        .args(args);
    let r = run(c);
    r.assert_no_panic();
    r
}

fn json(r: &Run, peer: &Peer) -> Value {
    assert_eq!(
        r.code,
        0,
        "expected a token\nstdout:\n{}\nstderr:\n{}\npeer log:\n{}",
        r.stdout,
        r.stderr,
        peer.log()
    );
    serde_json::from_str(&r.stdout).expect("json")
}

fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let p = jwt.split('.').nth(1).expect("jwt payload");
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p)
        .expect("base64url");
    serde_json::from_slice(&b).expect("json")
}

#[test]
fn dpop_with_a_server_nonce_gives_a_bound_token() {
    let peer = Peer::start_with("proofs-server.mjs", &[("DPOP_REQUIRE_NONCE", "1".into())]);
    let home = tempfile::tempdir().expect("tmp");
    let te = peer.token_endpoint();
    let r = token(
        home.path(),
        "dpop-client",
        &[
            "--client-secret-env",
            "S",
            "--token-endpoint",
            &te,
            "--scope",
            "api:read",
            "--dpop",
            "--json",
            "--verbose",
        ],
    );
    let v = json(&r, &peer);
    assert_eq!(v["token_type"], "DPoP", "{v}");
    let jkt = v["binding"]["dpop_jkt"].as_str().expect("jkt").to_string();
    let at = claims(v["access_token"].as_str().expect("token"));
    assert_eq!(
        at["cnf"]["jkt"],
        jkt.as_str(),
        "the server bound the token to credkit's key"
    );
    assert_eq!(v["binding"]["cnf_matches"], true);
    // The first proof had no nonce; the server asked for one; credkit sent it once more.
    assert!(r.stderr.contains("use_dpop_nonce"), "{}", r.stderr);
    assert_eq!(r.stderr.matches("POST ").count(), 2, "{}", r.stderr);
    // The generated key is kept 0600 and reused: the next token is bound to the same key.
    let key = home.path().join("cache/credkit/dpop-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let r = token(
        home.path(),
        "dpop-client",
        &[
            "--client-secret-env",
            "S",
            "--token-endpoint",
            &te,
            "--scope",
            "api:write",
            "--dpop",
            "--json",
        ],
    );
    let v = json(&r, &peer);
    assert_eq!(v["binding"]["dpop_jkt"], jkt.as_str());

    // A proof for an API call with the same key, checked by the server's library's rules.
    let tokfile = home.path().join("at");
    std::fs::write(&tokfile, v["access_token"].as_str().expect("at")).expect("write");
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.env("XDG_CACHE_HOME", home.path().join("cache")).args([
        "--json",
        "jwt",
        "mint",
        "--dpop-proof",
        "--htm",
        "get",
        "--htu",
        "https://api.example.test/things?x=1",
        "--ath",
        &format!("@{}", tokfile.display()),
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(p["jkt"], jkt.as_str());
    let pc = claims(p["proof"].as_str().expect("proof"));
    assert_eq!(pc["htm"], "GET");
    assert_eq!(pc["htu"], "https://api.example.test/things");
    use base64::Engine;
    let ath = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        <sha2::Sha256 as sha2::Digest>::digest(v["access_token"].as_str().expect("at")),
    );
    assert_eq!(pc["ath"], ath.as_str());
}

#[test]
fn a_dpop_nonce_refused_twice_is_diagnosed() {
    // Every nonce the server hands out is one it does not accept (a second
    // instance's): credkit retries once with it, and explains the refusal.
    let peer = Peer::start_with(
        "proofs-server.mjs",
        &[
            ("DPOP_REQUIRE_NONCE", "1".into()),
            ("DPOP_FOREIGN_NONCE", "1".into()),
        ],
    );
    let home = tempfile::tempdir().expect("tmp");
    let r = token(
        home.path(),
        "dpop-client",
        &[
            "--client-secret-env",
            "S",
            "--token-endpoint",
            &peer.token_endpoint(),
            "--dpop",
            "--no-cache",
            "--verbose",
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, peer.log());
    assert!(r.stderr.contains("use_dpop_nonce"), "{}", r.stderr);
    // Two requests: the first without a nonce, the retry with the server's.
    assert_eq!(r.stderr.matches("POST ").count(), 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("sent the request again with the server's nonce and was refused again"),
        "{}",
        r.stderr
    );
    // The proof named is the retry's, which carried a nonce.
    let sent = r
        .stderr
        .lines()
        .find(|l| l.contains("the DPoP proof sent"))
        .expect("the proof sent");
    assert!(!sent.contains("nonce (none)"), "{sent}");
}

#[test]
fn invalid_dpop_proof_is_diagnosed_from_the_proof_sent() {
    // The server takes ES256 proofs only; the credential's RSA key signs RS256.
    let peer = Peer::start_with("proofs-server.mjs", &[("DPOP_ALGS", "ES256".into())]);
    let home = tempfile::tempdir().expect("tmp");
    let key = path_str(&fixture("business/auth.key.pem"));
    let r = token(
        home.path(),
        "dpop-client",
        &[
            "--client-secret-env",
            "S",
            "--token-endpoint",
            &peer.token_endpoint(),
            "--dpop",
            "credential",
            "--key",
            &key,
            "--no-cache",
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, peer.log());
    assert!(r.stderr.contains("invalid_dpop_proof"), "{}", r.stderr);
    assert!(
        r.stderr.contains("oauth-invalid-dpop-proof"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("alg RS256"),
        "the fact names what was sent: {}",
        r.stderr
    );
    assert!(r.stderr.contains("typ dpop+jwt"), "{}", r.stderr);
}

#[test]
fn client_secret_jwt_is_accepted_and_a_wrong_secret_refused() {
    let peer = Peer::start("proofs-server.mjs");
    let home = tempfile::tempdir().expect("tmp");
    let te = peer.token_endpoint();
    let args = [
        "--client-secret-env",
        "S",
        "--auth",
        "client-secret-jwt",
        "--token-endpoint",
        &te,
        "--no-cache",
        "--json",
    ];
    let v = json(&token(home.path(), "csjwt-client", &args), &peer);
    assert_eq!(v["token_type"], "Bearer");
    // Another client's secret: oidc-provider's own HS256 check refuses it.
    let r = token(home.path(), "csjwt-client", &args[..0]);
    assert_eq!(r.code, 2, "no destination: {}", r.stderr);
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.env("S", secret("other"))
        .env("NO_PROXY", "*")
        .args(["token", "--client-id", "csjwt-client", "--retries", "0"])
        .args(args);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("invalid_client"), "{}", r.stderr);
}

#[test]
fn authorization_details_are_checked_and_granted() {
    let peer = Peer::start("proofs-server.mjs");
    let home = tempfile::tempdir().expect("tmp");
    let details = r#"[{"type":"urn:test:payment","amount":5}]"#;
    let v = json(
        &token(
            home.path(),
            "rar-client",
            &[
                "--client-secret-env",
                "S",
                "--issuer",
                &peer.base,
                "--authorization-details",
                details,
                "--no-cache",
                "--json",
            ],
        ),
        &peer,
    );
    assert_eq!(
        v["authorization_details"][0]["type"], "urn:test:payment",
        "{v}"
    );
    assert_eq!(v["authorization_details"][0]["amount"], 5);
    // A type the metadata does not list: refused before anything is sent.
    let r = token(
        home.path(),
        "rar-client",
        &[
            "--client-secret-env",
            "S",
            "--issuer",
            &peer.base,
            "--authorization-details",
            r#"[{"type":"urn:other"}]"#,
            "--verbose",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("authorization_details_types_supported"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("(error id: authorization-details)"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("POST "), "nothing sent: {}", r.stderr);
    // Not JSON.
    let r = token(
        home.path(),
        "rar-client",
        &[
            "--client-secret-env",
            "S",
            "--issuer",
            &peer.base,
            "--authorization-details",
            "[{",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not JSON"), "{}", r.stderr);
    // The server's own validation (amount must be a number) refuses, and credkit says so.
    let r = token(
        home.path(),
        "rar-client",
        &[
            "--client-secret-env",
            "S",
            "--token-endpoint",
            &peer.token_endpoint(),
            "--authorization-details",
            r#"{"type":"urn:test:payment","amount":"five"}"#,
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("invalid_authorization_details"),
        "{}",
        r.stderr
    );
}

#[test]
fn token_exchange_swaps_a_token_for_another_audience() {
    let peer = Peer::start("proofs-server.mjs");
    let home = tempfile::tempdir().expect("tmp");
    let te = peer.token_endpoint();
    let first = json(
        &token(
            home.path(),
            "exchange-client",
            &[
                "--client-secret-env",
                "S",
                "--token-endpoint",
                &te,
                "--scope",
                "api:read",
                "--json",
            ],
        ),
        &peer,
    );
    let subject = home.path().join("subject.jwt");
    std::fs::write(&subject, first["access_token"].as_str().expect("at")).expect("write");
    let v = json(
        &token(
            home.path(),
            "exchange-client",
            &[
                "--client-secret-env",
                "S",
                "--token-endpoint",
                &te,
                "--grant",
                "token-exchange",
                "--subject-token",
                &format!("@{}", subject.display()),
                "--audience",
                "https://other.example.test",
                "--json",
            ],
        ),
        &peer,
    );
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let c = claims(v["access_token"].as_str().expect("token"));
    assert_eq!(c["aud"], "https://other.example.test", "{c}");
    // A token that is not the server's: refused, explained as invalid_grant.
    std::fs::write(&subject, "e30.e30.c2ln").expect("write");
    let r = token(
        home.path(),
        "exchange-client",
        &[
            "--client-secret-env",
            "S",
            "--token-endpoint",
            &te,
            "--grant",
            "token-exchange",
            "--subject-token",
            &format!("@{}", subject.display()),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("invalid_grant"), "{}", r.stderr);
    // A token on the command line is refused before anything happens.
    let r = token(
        home.path(),
        "exchange-client",
        &[
            "--grant",
            "token-exchange",
            "--subject-token",
            "eyJhbGciOi.x.y",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("@FILE"), "{}", r.stderr);
}

#[test]
fn on_behalf_of_sends_the_users_token_as_the_assertion() {
    let peer = Peer::start("proofs-server.mjs");
    let home = tempfile::tempdir().expect("tmp");
    let te = peer.token_endpoint();
    // The "user's" token: one this server issued (to another client).
    let first = json(
        &token(
            home.path(),
            "exchange-client",
            &[
                "--client-secret-env",
                "S",
                "--token-endpoint",
                &te,
                "--no-cache",
                "--json",
            ],
        ),
        &peer,
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.env("NO_PROXY", "*")
        .env("S", secret("obo-client"))
        .env("USER_TOKEN", first["access_token"].as_str().expect("at"))
        .args([
            "token",
            "--client-id",
            "obo-client",
            "--client-secret-env",
            "S",
            "--auth",
            "client-secret-post",
            "--token-endpoint",
            &te,
            "--grant",
            "on-behalf-of",
            "--subject-token",
            "env:USER_TOKEN",
            "--scope",
            "api:read",
            "--json",
            "--verbose",
        ]);
    let r = run(c);
    let v = json(&r, &peer);
    assert_eq!(v["obo_of"], "exchange-client", "{v}");
    assert!(
        r.stderr.contains("requested_token_use=on_behalf_of"),
        "{}",
        r.stderr
    );
    // The user's token is shown without its signature, the secret not at all.
    let user_sig = first["access_token"]
        .as_str()
        .and_then(|t| t.rsplit('.').next())
        .expect("sig");
    assert!(!r.stderr.contains(user_sig), "{}", r.stderr);
    assert!(!r.stderr.contains(&secret("obo-client")), "{}", r.stderr);
}

fn keygen(args: &[&str]) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.arg("keygen").args(args);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The CERTIFICATE blocks of a PEM file.
fn certs_only(pem: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for l in pem.lines() {
        if l == "-----BEGIN CERTIFICATE-----" {
            inside = true;
        }
        if inside {
            out.push_str(l);
            out.push('\n');
        }
        if l == "-----END CERTIFICATE-----" {
            inside = false;
        }
    }
    out
}

#[test]
fn tls_client_auth_with_a_keygen_ca_binds_the_token_to_the_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = |n: &str| path_str(&dir.path().join(n));
    // The client CA and certificate: credkit keygen.
    keygen(&[
        "--make-ca",
        "--subject",
        "CN=Test Client CA",
        "--to",
        "pem",
        "--no-encrypt",
        "-o",
        &p("client-ca.pem"),
    ]);
    keygen(&[
        "--ca",
        &p("client-ca.pem"),
        "--subject",
        "CN=mtls-client",
        "--to",
        "pem",
        "--no-encrypt",
        "-o",
        &p("client.pem"),
    ]);
    keygen(&[
        "--self-signed",
        "--subject",
        "CN=selfsigned-client",
        "--to",
        "pem",
        "--no-encrypt",
        "-o",
        &p("self.pem"),
    ]);
    std::fs::write(
        dir.path().join("client-ca-cert.pem"),
        certs_only(&std::fs::read_to_string(dir.path().join("client-ca.pem")).expect("read")),
    )
    .expect("write");
    // The server's certificate: openssl, from its own CA, for 127.0.0.1.
    crate::token::loopback_server_cert(dir.path());
    let peer = Peer::start_with(
        "proofs-server.mjs",
        &[
            ("TLS_CERT", p("srv.pem")),
            ("TLS_KEY", p("srv.key")),
            ("CLIENT_CA", p("client-ca-cert.pem")),
            ("SELF_SIGNED_CERT", p("self.pem")),
        ],
    );
    let home = tempfile::tempdir().expect("tmp");
    let te = peer.token_endpoint();
    let v = json(
        &token(
            home.path(),
            "mtls-client",
            &[
                "--auth",
                "tls-client-auth",
                "--key",
                &p("client.pem"),
                "--token-endpoint",
                &te,
                "--ca-file",
                &p("ca.pem"),
                "--no-cache",
                "--json",
            ],
        ),
        &peer,
    );
    let x5t = v["binding"]["x5t#S256"].as_str().expect("x5t").to_string();
    let c = claims(v["access_token"].as_str().expect("token"));
    assert_eq!(c["cnf"]["x5t#S256"], x5t.as_str(), "{c}");
    assert_eq!(v["binding"]["cnf_matches"], true);
    // The same thumbprint as openssl computes for the certificate.
    let out = Command::new("openssl")
        .args(["x509", "-in", &p("client.pem"), "-outform", "DER"])
        .output()
        .expect("openssl");
    use base64::Engine;
    let want = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(&out.stdout));
    assert_eq!(x5t, want);

    // self_signed_tls_client_auth: the certificate registered in the client's jwks.
    let v = json(
        &token(
            home.path(),
            "selfsigned-client",
            &[
                "--auth",
                "self-signed-tls-client-auth",
                "--key",
                &p("self.pem"),
                "--token-endpoint",
                &te,
                "--ca-file",
                &p("ca.pem"),
                "--no-cache",
                "--json",
            ],
        ),
        &peer,
    );
    assert_eq!(v["binding"]["cnf_matches"], true, "{v}");

    // Without a client certificate the server refuses; credkit names what was (not) presented.
    let r = token(
        home.path(),
        "mtls-client",
        &[
            "--auth",
            "none",
            "--token-endpoint",
            &te,
            "--ca-file",
            &p("ca.pem"),
            "--no-cache",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("invalid_client"), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "credkit sent no client authentication to {te}: no client assertion, no secret and no TLS client certificate in the handshake"
        )),
        "{}",
        r.stderr
    );

    // Another certificate of the same CA (another subject): refused, and
    // credkit names the one it presented, by subject and x5t#S256.
    keygen(&[
        "--ca",
        &p("client-ca.pem"),
        "--subject",
        "CN=other-client",
        "--to",
        "pem",
        "--no-encrypt",
        "-o",
        &p("other.pem"),
    ]);
    let r = token(
        home.path(),
        "mtls-client",
        &[
            "--auth",
            "tls-client-auth",
            "--key",
            &p("other.pem"),
            "--token-endpoint",
            &te,
            "--ca-file",
            &p("ca.pem"),
            "--no-cache",
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, peer.log());
    assert!(r.stderr.contains("invalid_client"), "{}", r.stderr);
    let out = Command::new("openssl")
        .args(["x509", "-in", &p("other.pem"), "-outform", "DER"])
        .output()
        .expect("openssl");
    let other_x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(&out.stdout));
    assert!(
        r.stderr.contains(&format!(
            "credkit presented the TLS client certificate subject CN=other-client, x5t#S256 {other_x5t}, in the handshake with {te}"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn mutual_tls_over_plain_http_is_diagnosed() {
    let peer = Peer::start("proofs-server.mjs");
    let home = tempfile::tempdir().expect("tmp");
    let key = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    let r = token(
        home.path(),
        "mtls-client",
        &[
            "--auth",
            "tls-client-auth",
            "--key",
            &key,
            "--token-endpoint",
            &peer.token_endpoint(),
            "--no-cache",
            "--force",
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stderr, peer.log());
    assert!(r.stderr.contains("invalid_client"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no TLS client certificate can be presented"),
        "{}",
        r.stderr
    );
}

#[test]
fn broker_serves_profiles_with_dpop_rar_and_token_exchange() {
    use crate::serve::{Service, http};
    let peer = Peer::start_with("proofs-server.mjs", &[("DPOP_REQUIRE_NONCE", "1".into())]);
    let dir = tempfile::tempdir().expect("tmp");
    let te = peer.token_endpoint();
    // The subject token the exchange profile reads from a file (as a mounted token would be).
    let home = tempfile::tempdir().expect("tmp");
    let first = json(
        &token(
            home.path(),
            "exchange-client",
            &[
                "--client-secret-env",
                "S",
                "--token-endpoint",
                &te,
                "--no-cache",
                "--json",
            ],
        ),
        &peer,
    );
    std::fs::write(
        dir.path().join("subject.jwt"),
        first["access_token"].as_str().expect("at"),
    )
    .expect("write");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[profiles.bound]\nclient_id = \"dpop-client\"\nclient_secret_env = \"DPOP_S\"\n\
             token_endpoint = {te:?}\ndpop = \"generated\"\n\n\
             [profiles.rar]\nclient_id = \"rar-client\"\nclient_secret_env = \"RAR_S\"\n\
             token_endpoint = {te:?}\n\
             authorization_details = '[{{\"type\":\"urn:test:payment\",\"amount\":7}}]'\n\n\
             [profiles.exchanged]\nclient_id = \"exchange-client\"\nclient_secret_env = \"EX_S\"\n\
             token_endpoint = {te:?}\ngrant = \"token-exchange\"\nsubject_token_file = \"subject.jwt\"\n\
             audience = \"https://other.example.test\"\n"
        ),
    )
    .expect("write");
    let b = Service::start(
        &[
            "broker".into(),
            "--config".into(),
            path_str(&cfg),
            "--port".into(),
            "0".into(),
        ],
        &[
            ("DPOP_S", &secret("dpop-client")),
            ("RAR_S", &secret("rar-client")),
            ("EX_S", &secret("exchange-client")),
        ],
    );
    let s = b.secret();
    let get = |name: &str| {
        let (st, body) = http(
            b.port,
            "GET",
            &format!("/token/{name}"),
            &[("X-Credkit-Secret", &s)],
            "",
        );
        assert_eq!(st, 200, "{name}: {body}\n{}\n{}", b.stderr(), peer.log());
        serde_json::from_str::<Value>(&body).expect("json")
    };
    let v = get("bound");
    assert_eq!(v["token_type"], "DPoP", "{v}");
    let jkt = claims(v["access_token"].as_str().expect("at"))["cnf"]["jkt"].clone();
    assert!(jkt.is_string(), "{v}");

    // A proof per API call: bound to the profile's key, with ath of the token
    // served beside it; checked by jose, not by credkit.
    let api = "https://api.example.test/v1/things?page=2";
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("htm", "POST")
        .append_pair("htu", api)
        .append_pair("nonce", "rs-nonce-1")
        .finish();
    let (st, body) = http(
        b.port,
        "GET",
        &format!("/profiles/bound/dpop-proof?{q}"),
        &[("X-Credkit-Secret", &s)],
        "",
    );
    assert_eq!(st, 200, "{body}\n{}", b.stderr());
    let p: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(p["schema"], "credkit.broker.dpop-proof/1");
    assert_eq!(p["dpop_jkt"], jkt, "{p}");
    let verifier = crate::support::root().join("tests/peer/verify-dpop.mjs");
    let out = crate::support::peer(
        "node",
        &[
            &path_str(&verifier),
            p["dpop"].as_str().expect("proof"),
            p["access_token"].as_str().expect("token"),
        ],
    );
    let checked: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(checked["jkt"], jkt, "{checked}");
    assert_eq!(checked["ath_matches"], true, "{checked}");
    assert_eq!(checked["claims"]["htm"], "POST");
    // htu without the query (RFC 9449 §4.2).
    assert_eq!(
        checked["claims"]["htu"],
        "https://api.example.test/v1/things"
    );
    assert_eq!(checked["claims"]["nonce"], "rs-nonce-1");
    // Not without the secret; and a profile without DPoP has no proofs.
    let (st, _) = http(
        b.port,
        "GET",
        &format!("/profiles/bound/dpop-proof?{q}"),
        &[],
        "",
    );
    assert_eq!(st, 401);
    let (st, body) = http(
        b.port,
        "GET",
        &format!("/profiles/rar/dpop-proof?{q}"),
        &[("X-Credkit-Secret", &s)],
        "",
    );
    assert_eq!(st, 404, "{body}");
    assert!(body.contains("no_dpop_key"), "{body}");
    let v = get("rar");
    let c = claims(v["access_token"].as_str().expect("at"));
    assert_eq!(c["authorization_details"][0]["amount"], 7, "{c}");
    let v = get("exchanged");
    assert_eq!(
        claims(v["access_token"].as_str().expect("at"))["aud"],
        "https://other.example.test"
    );
}

#[test]
fn systemuser_org_goes_in_the_jwt_grant_and_maskinporten_refusals_are_explained() {
    use crate::serve::{ORG1, mock_fixtures, start_mock};
    let dir = mock_fixtures();
    let m = start_mock(dir.path(), &[]);
    let issuer = m.started["issuer"].as_str().expect("issuer").to_string();
    let cmd = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
        c.current_dir(dir.path())
            .env("CREDKIT_PASSWORD", "changeit")
            .env("RUST_BACKTRACE", "0")
            .env("NO_PROXY", "*")
            .stdin(Stdio::null())
            .args(["token", "--no-cache", "--jwt-profile", "maskinporten"])
            .args([
                "--key",
                "fx/org1-auth.p12",
                "--client-id",
                ORG1,
                "--scope",
                "test:read",
            ])
            .args(extra);
        let r = run(c);
        r.assert_no_panic();
        r
    };
    let r = cmd(&[
        "--issuer",
        &issuer,
        "--systemuser-org",
        "987654325",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    let c = claims(v["access_token"].as_str().expect("at"));
    assert_eq!(
        c["authorization_details"][0],
        serde_json::json!({"type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:987654325"}}),
        "{c}"
    );
    // Not an organisation number: refused before anything is sent.
    let r = cmd(&["--issuer", &issuer, "--systemuser-org", "12345"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("9 digits"), "{}", r.stderr);
    // Nine digits with a wrong mod-11 check digit: the check digit is named.
    let r = cmd(&["--issuer", &issuer, "--systemuser-org", "987654321"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("its check digit should be 5"),
        "{}",
        r.stderr
    );
    // Maskinporten's own answers, explained (the token endpoint given: no metadata check
    // first; --force: the look-alike's issuer is not one of Maskinporten's).
    let te = format!("{issuer}token");
    for (details, code) in [
        (r#"[{"type":"urn:other"}]"#, "MP-301"),
        (
            r#"[{"type":"urn:altinn:systemuser","extra":1,"systemuser_org":{"authority":"iso6523-actorid-upis","ID":"0192:987654325"}}]"#,
            "MP-302",
        ),
        (
            r#"[{"type":"urn:altinn:systemuser","systemuser_org":{"authority":"x","ID":"1"}}]"#,
            "MP-303",
        ),
    ] {
        let r = cmd(&[
            "--issuer",
            &issuer,
            "--token-endpoint",
            &te,
            "--authorization-details",
            details,
            "--force",
        ]);
        assert_eq!(r.code, 1, "{code}: {}", r.stderr);
        assert!(r.stderr.contains(code), "{code}: {}", r.stderr);
    }
    // With the metadata, a type it does not list is caught locally.
    let r = cmd(&[
        "--issuer",
        &issuer,
        "--authorization-details",
        r#"[{"type":"urn:other"}]"#,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("urn:altinn:systemuser"), "{}", r.stderr);
}
