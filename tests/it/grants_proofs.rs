//! `credkit token` with DPoP, mutual TLS, RAR, client_secret_jwt and token
//! exchange against panva's oidc-provider on 127.0.0.1
//! (tests/peer/proofs-server.mjs): the server's own code checks the proofs,
//! the client certificate and the authorization details; the token-exchange
//! handler is the test's own. Each test starts its own server.

use crate::support::*;
use crate::token::{Peer, claims};
use serde_json::Value;
use std::process::Command;

fn secret(client: &str) -> String {
    format!("{client}-secret-0123456789abcdef0123456789abcdef")
}

/// A proofs-server.mjs peer, its token endpoint, and a private home for
/// credkit's cache and config.
struct Proofs {
    peer: Peer,
    te: String,
    home: tempfile::TempDir,
}

impl Proofs {
    fn start() -> Proofs {
        Proofs::start_with(&[])
    }
    fn start_with(envs: &[(&str, String)]) -> Proofs {
        let peer = Peer::start_with("proofs-server.mjs", envs);
        Proofs {
            te: peer.token_endpoint(),
            peer,
            home: tempfile::tempdir().expect("tmp"),
        }
    }
    /// `credkit token --client-id CLIENT --retries 0 ARGS` with the private
    /// home, the client's secret in $S and `changeit` in CREDKIT_PASSWORD.
    fn cmd(&self, client: &str, args: &[&str]) -> Command {
        let mut c = credkit_with(Clock::Real);
        isolated(&mut c, self.home.path())
            .env("S", secret(client))
            .env("CREDKIT_PASSWORD", "changeit")
            .args(["token", "--client-id", client, "--retries", "0"])
            .args(args);
        c
    }
    fn token(&self, client: &str, args: &[&str]) -> Run {
        let r = run(self.cmd(client, args));
        r.assert_no_panic();
        r
    }
    /// [`Proofs::token`] with the client's secret (`--client-secret-env S`)
    /// sent to the token endpoint, and `args`.
    fn with_secret(&self, client: &str, args: &[&str]) -> Run {
        let base = ["--client-secret-env", "S", "--token-endpoint", &self.te];
        self.token(client, &[&base[..], args].concat())
    }
    /// The token response of a run that must succeed (with `--json`).
    fn json(&self, r: &Run) -> Value {
        r.assert_code(
            0,
            &format!("expected a token; peer log:\n{}", self.peer.log()),
        );
        serde_json::from_str(&r.stdout).expect("json")
    }
    /// A run refused by the server (exit code 1) whose stderr says each of `needles`.
    fn refused(&self, r: &Run, needles: &[&str]) {
        r.assert_code(1, &format!("peer log:\n{}", self.peer.log()))
            .assert_stderr_has(needles);
    }
    /// An access token (scope api:read) this server issued to exchange-client:
    /// a subject or user token for the exchange grants.
    fn issued_token(&self) -> String {
        let r = self.with_secret(
            "exchange-client",
            &["--scope", "api:read", "--no-cache", "--json"],
        );
        self.json(&r)["access_token"]
            .as_str()
            .expect("at")
            .to_string()
    }
}

/// base64url of SHA-256.
fn s256(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(data))
}

/// x5t#S256 of a PEM certificate file, as openssl's DER gives it.
fn openssl_x5t(cert: &str) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-in", cert, "-outform", "DER"])
        .output()
        .expect("openssl");
    assert!(out.status.success(), "openssl x509 -in {cert}");
    s256(&out.stdout)
}

/// `credkit keygen ARGS`, which must succeed.
fn keygen(dir: &std::path::Path, args: &[&str]) {
    keygen_at(Clock::Real, dir, "changeit", args).assert_code(0, "");
}

#[test]
fn dpop_with_a_server_nonce_gives_a_bound_token() {
    let p = Proofs::start_with(&[("DPOP_REQUIRE_NONCE", "1".into())]);
    let r = p.with_secret(
        "dpop-client",
        &["--scope", "api:read", "--dpop", "--json", "--verbose"],
    );
    let v = p.json(&r);
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
    r.assert_stderr_has(&["use_dpop_nonce"]);
    assert_eq!(r.stderr.matches("POST ").count(), 2, "{}", r.stderr);
    // The generated key is kept 0600 and reused: the next token is bound to the same key.
    let key = p.home.path().join("cache/credkit/dpop-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let v = p.json(&p.with_secret("dpop-client", &["--scope", "api:write", "--dpop", "--json"]));
    assert_eq!(v["binding"]["dpop_jkt"], jkt.as_str());

    // A proof for an API call with the same key, checked by the server's library's rules.
    let at = v["access_token"].as_str().expect("at");
    let tokfile = p.home.path().join("at");
    std::fs::write(&tokfile, at).expect("write");
    let mut c = credkit_with(Clock::Real);
    isolated(&mut c, p.home.path()).args([
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
    let proof = run(c).assert_code(0, "").json();
    assert_eq!(proof["jkt"], jkt.as_str());
    let pc = claims(proof["proof"].as_str().expect("proof"));
    assert_eq!(pc["htm"], "GET");
    assert_eq!(pc["htu"], "https://api.example.test/things");
    assert_eq!(pc["ath"], s256(at.as_bytes()).as_str());
}

#[test]
fn a_dpop_nonce_refused_twice_is_diagnosed() {
    // Every nonce the server hands out is one it does not accept (a second
    // instance's): credkit retries once with it, and explains the refusal.
    let p = Proofs::start_with(&[
        ("DPOP_REQUIRE_NONCE", "1".into()),
        ("DPOP_FOREIGN_NONCE", "1".into()),
    ]);
    let r = p.with_secret("dpop-client", &["--dpop", "--no-cache", "--verbose"]);
    p.refused(
        &r,
        &[
            "use_dpop_nonce",
            "sent the request again with the server's nonce and was refused again",
        ],
    );
    // Two requests: the first without a nonce, the retry with the server's.
    assert_eq!(r.stderr.matches("POST ").count(), 2, "{}", r.stderr);
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
    let p = Proofs::start_with(&[("DPOP_ALGS", "ES256".into())]);
    let key = path_str(&fixture("business/auth.key.pem"));
    let r = p.with_secret(
        "dpop-client",
        &["--dpop", "credential", "--key", &key, "--no-cache"],
    );
    // The fact names what was sent: alg and typ.
    p.refused(
        &r,
        &[
            "invalid_dpop_proof",
            "oauth-invalid-dpop-proof",
            "alg RS256",
            "typ dpop+jwt",
        ],
    );
}

#[test]
fn client_secret_jwt_is_accepted_and_a_wrong_secret_refused() {
    let p = Proofs::start();
    let args = ["--auth", "client-secret-jwt", "--no-cache", "--json"];
    let v = p.json(&p.with_secret("csjwt-client", &args));
    assert_eq!(v["token_type"], "Bearer");
    let r = p.token("csjwt-client", &[]);
    r.assert_code(2, "no destination");
    // Another client's secret: oidc-provider's own HS256 check refuses it.
    let mut c = p.cmd(
        "csjwt-client",
        &[
            &["--client-secret-env", "S", "--token-endpoint", &p.te][..],
            &args,
        ]
        .concat(),
    );
    c.env("S", secret("other"));
    p.refused(&run(c), &["invalid_client"]);
}

#[test]
fn authorization_details_are_checked_and_granted() {
    let p = Proofs::start();
    let rar = |details: &str, extra: &[&str]| {
        let base = [
            "--client-secret-env",
            "S",
            "--issuer",
            &p.peer.base,
            "--authorization-details",
            details,
        ];
        p.token("rar-client", &[&base[..], extra].concat())
    };
    let details = r#"[{"type":"urn:test:payment","amount":5}]"#;
    let v = p.json(&rar(details, &["--no-cache", "--json"]));
    assert_eq!(
        v["authorization_details"][0]["type"], "urn:test:payment",
        "{v}"
    );
    assert_eq!(v["authorization_details"][0]["amount"], 5);
    // A type the metadata does not list: refused before anything is sent.
    let r = rar(r#"[{"type":"urn:other"}]"#, &["--verbose"]);
    r.assert_code(2, "").assert_stderr_has(&[
        "authorization_details_types_supported",
        "(error id: authorization-details)",
    ]);
    assert!(!r.stderr.contains("POST "), "nothing sent: {}", r.stderr);
    // Not JSON.
    rar("[{", &[])
        .assert_code(2, "")
        .assert_stderr_has(&["not JSON"]);
    // The server's own validation (amount must be a number) refuses, and credkit says so.
    let r = p.with_secret(
        "rar-client",
        &[
            "--authorization-details",
            r#"{"type":"urn:test:payment","amount":"five"}"#,
        ],
    );
    p.refused(&r, &["invalid_authorization_details"]);
}

#[test]
fn token_exchange_swaps_a_token_for_another_audience() {
    let p = Proofs::start();
    let subject = p.home.path().join("subject.jwt");
    std::fs::write(&subject, p.issued_token()).expect("write");
    let subject_arg = format!("@{}", subject.display());
    let exchange = ["--grant", "token-exchange", "--subject-token", &subject_arg];
    let v = p.json(
        &p.with_secret(
            "exchange-client",
            &[
                &exchange[..],
                &["--audience", "https://other.example.test", "--json"],
            ]
            .concat(),
        ),
    );
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let c = claims(v["access_token"].as_str().expect("token"));
    assert_eq!(c["aud"], "https://other.example.test", "{c}");
    // A token that is not the server's: refused, explained as invalid_grant.
    std::fs::write(&subject, "e30.e30.c2ln").expect("write");
    p.refused(
        &p.with_secret("exchange-client", &exchange),
        &["invalid_grant"],
    );
    // A token on the command line is refused before anything happens.
    p.token(
        "exchange-client",
        &[
            "--grant",
            "token-exchange",
            "--subject-token",
            "eyJhbGciOi.x.y",
        ],
    )
    .assert_code(2, "")
    .assert_stderr_has(&["@FILE"]);
}

#[test]
fn on_behalf_of_sends_the_users_token_as_the_assertion() {
    let p = Proofs::start();
    // The "user's" token: one this server issued (to another client).
    let user_token = p.issued_token();
    let mut c = p.cmd(
        "obo-client",
        &[
            "--client-secret-env",
            "S",
            "--auth",
            "client-secret-post",
            "--token-endpoint",
            &p.te,
            "--grant",
            "on-behalf-of",
            "--subject-token",
            "env:USER_TOKEN",
            "--scope",
            "api:read",
            "--json",
            "--verbose",
        ],
    );
    c.env("USER_TOKEN", &user_token);
    let r = run(c);
    let v = p.json(&r);
    assert_eq!(v["obo_of"], "exchange-client", "{v}");
    r.assert_stderr_has(&["requested_token_use=on_behalf_of"]);
    // The user's token is shown without its signature, the secret not at all.
    let user_sig = user_token.rsplit('.').next().expect("sig");
    assert!(!r.stderr.contains(user_sig), "{}", r.stderr);
    assert!(!r.stderr.contains(&secret("obo-client")), "{}", r.stderr);
}

#[test]
fn tls_client_auth_with_a_keygen_ca_binds_the_token_to_the_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let p = |n: &str| path_str(&d.join(n));
    let pem = ["--to", "pem", "--no-encrypt", "-o"];
    // The client CA and certificates: credkit keygen.
    let issue = |how: &[&str], subject: &str, file: &str| {
        keygen(
            d,
            &[how, &["--subject", subject], &pem[..], &[&p(file)]].concat(),
        );
    };
    issue(&["--make-ca"], "CN=Test Client CA", "client-ca.pem");
    issue(
        &["--ca", &p("client-ca.pem")],
        "CN=mtls-client",
        "client.pem",
    );
    issue(&["--self-signed"], "CN=selfsigned-client", "self.pem");
    let ca = std::fs::read_to_string(d.join("client-ca.pem")).expect("read");
    std::fs::write(d.join("client-ca-cert.pem"), pem_certs(&ca).concat()).expect("write");
    // The server's certificate: openssl, from its own CA, for 127.0.0.1.
    crate::token::loopback_server_cert(d);
    let s = Proofs::start_with(&[
        ("TLS_CERT", p("srv.pem")),
        ("TLS_KEY", p("srv.key")),
        ("CLIENT_CA", p("client-ca-cert.pem")),
        ("SELF_SIGNED_CERT", p("self.pem")),
    ]);
    let ca_file = p("ca.pem");
    let mtls = |client: &str, auth: &[&str]| {
        let tail = [
            "--token-endpoint",
            &s.te,
            "--ca-file",
            &ca_file,
            "--no-cache",
        ];
        s.token(client, &[auth, &tail[..]].concat())
    };
    let v = s.json(&mtls(
        "mtls-client",
        &[
            "--auth",
            "tls-client-auth",
            "--key",
            &p("client.pem"),
            "--json",
        ],
    ));
    let x5t = v["binding"]["x5t#S256"].as_str().expect("x5t").to_string();
    let c = claims(v["access_token"].as_str().expect("token"));
    assert_eq!(c["cnf"]["x5t#S256"], x5t.as_str(), "{c}");
    assert_eq!(v["binding"]["cnf_matches"], true);
    // The same thumbprint as openssl computes for the certificate.
    assert_eq!(x5t, openssl_x5t(&p("client.pem")));

    // self_signed_tls_client_auth: the certificate registered in the client's jwks.
    let v = s.json(&mtls(
        "selfsigned-client",
        &[
            "--auth",
            "self-signed-tls-client-auth",
            "--key",
            &p("self.pem"),
            "--json",
        ],
    ));
    assert_eq!(v["binding"]["cnf_matches"], true, "{v}");

    // Without a client certificate the server refuses; credkit names what was (not) presented.
    let te = &s.te;
    s.refused(
        &mtls("mtls-client", &["--auth", "none"]),
        &[
            "invalid_client",
            &format!(
                "credkit sent no client authentication to {te}: no client assertion, no secret and no TLS client certificate in the handshake"
            ),
        ],
    );

    // Another certificate of the same CA (another subject): refused, and
    // credkit names the one it presented, by subject and x5t#S256.
    issue(
        &["--ca", &p("client-ca.pem")],
        "CN=other-client",
        "other.pem",
    );
    let other_x5t = openssl_x5t(&p("other.pem"));
    s.refused(
        &mtls(
            "mtls-client",
            &["--auth", "tls-client-auth", "--key", &p("other.pem")],
        ),
        &[
            "invalid_client",
            &format!(
                "credkit presented the TLS client certificate subject CN=other-client, x5t#S256 {other_x5t}, in the handshake with {te}"
            ),
        ],
    );
}

#[test]
fn mutual_tls_over_plain_http_is_diagnosed() {
    let p = Proofs::start();
    let key = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    let r = p.token(
        "mtls-client",
        &[
            "--auth",
            "tls-client-auth",
            "--key",
            &key,
            "--token-endpoint",
            &p.te,
            "--no-cache",
            "--force",
        ],
    );
    p.refused(
        &r,
        &[
            "invalid_client",
            "no TLS client certificate can be presented",
        ],
    );
}

#[test]
fn broker_serves_profiles_with_dpop_rar_and_token_exchange() {
    use crate::serve::{Service, http};
    let srv = Proofs::start_with(&[("DPOP_REQUIRE_NONCE", "1".into())]);
    let (peer, te) = (&srv.peer, &srv.te);
    let dir = tempfile::tempdir().expect("tmp");
    // The subject token the exchange profile reads from a file (as a mounted token would be).
    std::fs::write(dir.path().join("subject.jwt"), srv.issued_token()).expect("write");
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
    let with_secret = [("X-Credkit-Secret", s.as_str())];
    // GET `path` from the broker, with its secret or with no header.
    let broker = |path: &str, headers: &[(&str, &str)]| http(b.port, "GET", path, headers, "");
    let get = |name: &str| {
        let (st, body) = broker(&format!("/token/{name}"), &with_secret);
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
    let (st, body) = broker(&format!("/profiles/bound/dpop-proof?{q}"), &with_secret);
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
    let (st, _) = broker(&format!("/profiles/bound/dpop-proof?{q}"), &[]);
    assert_eq!(st, 401);
    let (st, body) = broker(&format!("/profiles/rar/dpop-proof?{q}"), &with_secret);
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
        let mut c = credkit_with(Clock::Real);
        c.current_dir(dir.path())
            .env("CREDKIT_PASSWORD", "changeit")
            .env("NO_PROXY", "*")
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
