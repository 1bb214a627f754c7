//! The issuing and serving side of revocation: `keygen`'s policies, CDP and
//! AIA read back by `openssl x509 -text`; `keygen --revoke` and the fixture
//! set's revocation list; `credkit serve revocation`'s CRLs checked by
//! `openssl crl -verify` and its OCSP answers by `openssl ocsp` (signed by the
//! CA and by a delegated responder); and the Maskinporten look-alike refusing
//! a revoked certificate with MP-120 through `credkit token`.

use crate::serve::Service;
use crate::support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

const PW: &str = "changeit";
const BUYPASS_TEST: &str = "2.16.578.1.26.1.0.3.2";
const INT_SLUG: &str = "credkit-test-intermediate-ca";

fn keygen(dir: &Path, args: &[&str]) -> Run {
    keygen_at(Clock::Pinned, dir, PW, args)
}

/// `credkit keygen` on the real clock: for what a server (on the real clock)
/// and openssl (on the real clock) judge.
fn keygen_live(dir: &Path, args: &[&str]) -> Run {
    keygen_at(Clock::Real, dir, PW, args)
}

/// A P-256 business certificate (organisation 123456785) issued by the
/// intermediate of DIR/ca.p12, unencrypted in DIR/OUT; `extra`: more flags.
fn business_cert(dir: &Path, out: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--ca",
        "ca.p12",
        "--ca-alias",
        "intermediate",
        "--org-number",
        "123456785",
        "--algorithm",
        "p256",
        "--no-encrypt",
        "-o",
        out,
    ];
    args.extend_from_slice(extra);
    keygen(dir, &args)
}

/// A P-256 fixture set (quick to make) in DIR/fx; `live`: on the real clock.
fn fixture_set(dir: &Path, live: bool) -> PathBuf {
    let args = [
        "--fixture-set",
        "fx",
        "--seed",
        "revserve",
        "--algorithm",
        "p256",
        "-q",
    ];
    if live {
        keygen_live(dir, &args).assert_ok();
    } else {
        keygen(dir, &args).assert_ok();
    }
    dir.join("fx")
}

fn x509_text(cert: &Path) -> String {
    peer(
        "openssl",
        &["x509", "-in", &path_str(cert), "-noout", "-text"],
    )
}

/// `openssl` with its exit status, stdout and stderr together.
fn openssl(args: &[&str]) -> (bool, String) {
    peer_status("openssl", args)
}

/// GET over HTTP/1.1 on 127.0.0.1: (status, content type, body bytes).
fn get(port: u16, path: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head end");
    let head = String::from_utf8_lossy(&raw[..at]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let ct = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ct, raw[at + 4..].to_vec())
}

fn serve_revocation(args: &[String]) -> Service {
    let mut a = vec!["revocation".to_string(), "--port".into(), "0".into()];
    a.extend(args.iter().cloned());
    Service::start(&a, &[("CREDKIT_PASSWORD", PW)])
}

fn ocsp(issuer: &Path, cert: &Path, port: u16, ca_file: &Path, extra: &[&str]) -> (bool, String) {
    let url = format!("http://127.0.0.1:{port}/ocsp");
    let mut args = vec!["ocsp", "-issuer"];
    let (i, c, f) = (path_str(issuer), path_str(cert), path_str(ca_file));
    args.extend([
        i.as_str(),
        "-cert",
        c.as_str(),
        "-url",
        url.as_str(),
        "-CAfile",
        f.as_str(),
    ]);
    args.extend_from_slice(extra);
    openssl(&args)
}

#[test]
fn keygen_writes_policies_cdp_and_aia_that_openssl_reads() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    keygen(
        d,
        &[
            "--make-ca",
            "--intermediate",
            "--algorithm",
            "p256",
            "-o",
            "ca.p12",
        ],
    )
    .assert_ok();
    let base = "http://127.0.0.1:7825/test4/";
    business_cert(d, "v.pem", &["--revocation-base", base]).assert_ok();
    let text = x509_text(&d.join("v.pem"));
    assert!(text.contains(&format!("Policy: {BUYPASS_TEST}")), "{text}");
    assert!(
        text.contains(&format!(
            "URI:http://127.0.0.1:7825/test4/crl/{INT_SLUG}.crl"
        )),
        "{text}"
    );
    assert!(
        text.contains("OCSP - URI:http://127.0.0.1:7825/test4/ocsp"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "CA Issuers - URI:http://127.0.0.1:7825/test4/ca/{INT_SLUG}.crt"
        )),
        "{text}"
    );
    // inspect reads the same back.
    let mut c = credkit();
    c.current_dir(d).args(["inspect", "--json", "v.pem"]);
    let r = run(c);
    r.assert_ok();
    let cert = &r.json()["entries"][0]["certificates"][0];
    assert_eq!(
        cert["policies"],
        serde_json::json!([BUYPASS_TEST]),
        "{cert}"
    );
    assert_eq!(
        cert["crl_urls"],
        serde_json::json!([format!("http://127.0.0.1:7825/test4/crl/{INT_SLUG}.crl")])
    );
    assert_eq!(
        cert["ocsp_urls"],
        serde_json::json!(["http://127.0.0.1:7825/test4/ocsp"])
    );

    // --policy replaces the default (Commfides G3 test, authentication), twice
    // gives two; --policy none gives none; no --revocation-base: no CDP/AIA.
    business_cert(
        d,
        "c.pem",
        &[
            "--policy",
            "2.16.578.1.29.913.210.1.0",
            "--policy",
            "1.2.3.4",
        ],
    )
    .assert_ok();
    let text = x509_text(&d.join("c.pem"));
    assert!(text.contains("Policy: 2.16.578.1.29.913.210.1.0"), "{text}");
    assert!(text.contains("Policy: 1.2.3.4"), "{text}");
    assert!(!text.contains(BUYPASS_TEST), "{text}");
    assert!(!text.contains("CRL Distribution Points"), "{text}");
    assert!(!text.contains("Authority Information Access"), "{text}");
    business_cert(d, "n.pem", &["--policy", "none"]).assert_ok();
    assert!(!x509_text(&d.join("n.pem")).contains("Certificate Policies"));
    // A certificate that is not a business certificate has no default policy.
    keygen(
        d,
        &[
            "--self-signed",
            "--algorithm",
            "p256",
            "--no-encrypt",
            "-o",
            "s.pem",
        ],
    )
    .assert_ok();
    assert!(!x509_text(&d.join("s.pem")).contains("Certificate Policies"));
    // An intermediate issued with --revocation-base points at its issuer's data.
    keygen(
        d,
        &[
            "--make-ca",
            "--ca",
            "ca.p12",
            "--ca-alias",
            "root",
            "--algorithm",
            "p256",
            "--subject",
            "C=NO, O=X, CN=Second Intermediate",
            "--revocation-base",
            "http://127.0.0.1:7825",
            "-o",
            "int2.p12",
        ],
    )
    .assert_ok();
    let mut c = credkit();
    c.current_dir(d)
        .args(["inspect", "--json", "int2.p12"])
        .env("CREDKIT_PASSWORD", PW);
    let r = run(c);
    r.assert_ok();
    assert_eq!(
        r.json()["entries"][0]["certificates"][0]["crl_urls"],
        serde_json::json!(["http://127.0.0.1:7825/crl/credkit-test-root-ca.crl"])
    );
    // Bad values are usage errors.
    for (flag, value) in [
        ("--policy", "not-an-oid"),
        ("--revocation-base", "ftp://x/"),
    ] {
        let r = keygen(
            d,
            &[
                "--self-signed",
                "--algorithm",
                "p256",
                flag,
                value,
                "-o",
                "bad.pem",
            ],
        );
        assert_eq!(r.code, 2, "{flag} {value}: {}", r.stderr);
        assert!(r.stderr.contains(value), "{}", r.stderr);
        assert!(!d.join("bad.pem").exists());
    }
}

#[test]
fn revoke_adds_to_the_list_next_to_the_ca() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let fx = fixture_set(d, false);
    // The set's own list revokes `revoked`, with its CRL to match.
    let list = std::fs::read_to_string(fx.join("ca-intermediate.revoked.toml")).expect("list");
    let serial = |name: &str| {
        let out = peer(
            "openssl",
            &[
                "x509",
                "-in",
                &path_str(&fx.join(name)),
                "-noout",
                "-serial",
            ],
        );
        out.trim().trim_start_matches("serial=").to_uppercase()
    };
    let revoked_serial = serial("revoked.pem");
    assert!(
        list.contains(&format!("serial = \"{revoked_serial}\"")),
        "{list}"
    );
    assert!(list.contains("reason = \"keyCompromise\""), "{list}");
    let crl = path_str(&fx.join("ca-intermediate.crl.pem"));
    let (ok, out) = openssl(&[
        "crl",
        "-in",
        &crl,
        "-CAfile",
        &path_str(&fx.join("ca-chain.pem")),
        "-verify",
        "-noout",
        "-text",
    ]);
    assert!(ok && out.contains("verify OK"), "{out}");
    assert!(
        out.contains(&format!("Serial Number: {revoked_serial}")),
        "{out}"
    );
    assert!(out.contains("Key Compromise"), "{out}");
    assert!(!out.contains(&serial("org1-auth.pem")), "{out}");
    // openssl verify -crl_check: revoked is refused, org1-auth accepted.
    for (name, good) in [("revoked.pem", false), ("org1-auth.pem", true)] {
        let (ok, out) = openssl(&[
            "verify",
            "-attime",
            "1795435200",
            "-crl_check",
            "-CRLfile",
            &crl,
            "-CAfile",
            &path_str(&fx.join("ca-root.cert.pem")),
            "-untrusted",
            &path_str(&fx.join("ca-intermediate.cert.pem")),
            &path_str(&fx.join(name)),
        ]);
        assert_eq!(ok, good, "{name}: {out}");
        if !good {
            assert!(out.contains("certificate revoked"), "{out}");
        }
    }

    // keygen --revoke adds org1-auth (the pair file: both its certificates).
    let r = keygen(
        d,
        &[
            "--revoke",
            "fx/org1-pair.p12",
            "--ca",
            "fx/ca-intermediate.p12",
            "--reason",
            "superseded",
            "--json",
        ],
    );
    r.assert_ok();
    let v = r.json();
    assert_eq!(v["schema"], "credkit.keygen/1");
    assert_eq!(
        v["revocation_list"],
        path_str(Path::new("fx/ca-intermediate.revoked.toml"))
    );
    let added = v["revoked"].as_array().expect("revoked");
    assert_eq!(added.len(), 2, "{v}");
    assert!(
        added
            .iter()
            .all(|a| a["added"] == true && a["reason"] == "superseded")
    );
    assert!(added.iter().all(|a| a["date"] == NOW), "{v}");
    let list = std::fs::read_to_string(fx.join("ca-intermediate.revoked.toml")).expect("list");
    assert_eq!(list.matches("[[revoked]]").count(), 3, "{list}");
    assert!(list.contains(&serial("org1-auth.pem")), "{list}");
    // Again: nothing changes.
    let r = keygen(
        d,
        &[
            "--revoke",
            "fx/org1-auth.pem",
            "--ca",
            "fx/ca-intermediate.p12",
            "--json",
        ],
    );
    r.assert_ok();
    assert_eq!(r.json()["revoked"][0]["added"], false);
    assert_eq!(r.json()["revoked"][0]["reason"], "superseded");
    let again = std::fs::read_to_string(fx.join("ca-intermediate.revoked.toml")).expect("list");
    assert_eq!(again, list);
    // --revocation-list FILE: a new file elsewhere.
    keygen(
        d,
        &[
            "--revoke",
            "fx/org2-auth.pem",
            "--ca",
            "fx/ca-intermediate.p12",
            "--revocation-list",
            "other.toml",
        ],
    )
    .assert_ok();
    assert!(
        std::fs::read_to_string(d.join("other.toml"))
            .expect("other")
            .contains(&serial("org2-auth.pem"))
    );
    // A certificate from another CA, an unknown reason, a broken list: exit 2.
    let r = keygen(
        d,
        &[
            "--revoke",
            "fx/ca-intermediate.cert.pem",
            "--ca",
            "fx/ca-intermediate.p12",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no certificate issued by"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("revocation-not-issued"), "{}", r.stderr);
    let r = keygen(
        d,
        &[
            "--revoke",
            "fx/org2-auth.pem",
            "--ca",
            "fx/ca-intermediate.p12",
            "--reason",
            "bored",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("keyCompromise"), "{}", r.stderr);
    std::fs::write(d.join("broken.toml"), "[[revoked]]\nserial = 5\n").expect("write");
    let r = keygen(
        d,
        &[
            "--revoke",
            "fx/org2-auth.pem",
            "--ca",
            "fx/ca-intermediate.p12",
            "--revocation-list",
            "broken.toml",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("broken.toml"), "{}", r.stderr);
    assert!(r.stderr.contains("revocation-list"), "{}", r.stderr);
}

#[test]
fn served_crls_and_ocsp_answers_pass_openssl() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let fx = fixture_set(d, true);
    let chain = fx.join("ca-chain.pem");
    let int = fx.join("ca-intermediate.cert.pem");
    let s = serve_revocation(&[
        "--ca".into(),
        path_str(&fx.join("ca-intermediate.p12")),
        "--ca".into(),
        path_str(&fx.join("ca-root.p12")),
        "--validity".into(),
        "2h".into(),
    ]);
    assert_eq!(s.started["schema"], "credkit.serve.revocation/1");
    assert_eq!(s.started["revoked"], 1);
    let port = s.port;

    // The CRL at the URL keygen wrote into the certificates.
    let (st, ct, crl) = get(port, &format!("/crl/{INT_SLUG}.crl"));
    assert_eq!((st, ct.as_str()), (200, "application/pkix-crl"));
    let crl_file = d.join("int.crl");
    std::fs::write(&crl_file, &crl).expect("write");
    let (ok, out) = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &path_str(&crl_file),
        "-CAfile",
        &path_str(&chain),
        "-verify",
        "-noout",
        "-text",
    ]);
    assert!(ok && out.contains("verify OK"), "{out}");
    assert!(out.contains("Key Compromise"), "{out}");
    let (_, dates) = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &path_str(&crl_file),
        "-noout",
        "-lastupdate",
        "-nextupdate",
        "-dateopt",
        "iso_8601",
    ]);
    let at = |key: &str| -> i64 {
        let line = dates.lines().find(|l| l.starts_with(key)).expect(key);
        let v = line.split_once('=').expect("=").1.trim().replace(' ', "T");
        time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{v}: {e}"))
            .unix_timestamp()
    };
    assert_eq!(at("nextUpdate") - at("lastUpdate"), 7200, "{dates}");
    // The root's CRL is served too (it revokes nothing), and the CA certificate.
    let (st, _, root_crl) = get(port, "/crl/credkit-test-root-ca.crl");
    assert_eq!(st, 200);
    std::fs::write(d.join("root.crl"), &root_crl).expect("write");
    let (ok, out) = openssl(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &path_str(&d.join("root.crl")),
        "-CAfile",
        &path_str(&fx.join("ca-root.cert.pem")),
        "-verify",
        "-noout",
        "-text",
    ]);
    assert!(ok && out.contains("No Revoked Certificates"), "{out}");
    let (st, ct, der) = get(port, &format!("/ca/{INT_SLUG}.crt"));
    assert_eq!((st, ct.as_str()), (200, "application/pkix-cert"));
    std::fs::write(d.join("int.der"), &der).expect("write");
    let pem = peer(
        "openssl",
        &[
            "x509",
            "-inform",
            "DER",
            "-in",
            &path_str(&d.join("int.der")),
        ],
    );
    assert_eq!(
        pem.trim(),
        std::fs::read_to_string(&int).expect("int").trim()
    );
    assert_eq!(get(port, "/crl/nobody.crl").0, 404);

    // OCSP signed by the CA: revoked and good, the nonce echoed (openssl
    // sends one and warns when the answer lacks it).
    let (ok, out) = ocsp(&int, &fx.join("revoked.pem"), port, &chain, &["-resp_text"]);
    assert!(ok && out.contains("Response verify OK"), "{out}");
    assert!(out.contains("revoked.pem: revoked"), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");
    assert!(out.contains("OCSP Nonce"), "{out}");
    assert!(!out.contains("WARNING: no nonce"), "{out}");
    let (ok, out) = ocsp(&int, &fx.join("org1-auth.pem"), port, &chain, &[]);
    assert!(ok && out.contains("Response verify OK"), "{out}");
    assert!(out.contains("org1-auth.pem: good"), "{out}");
    // The intermediate asked of the root: good, signed by the root.
    let (ok, out) = ocsp(&fx.join("ca-root.cert.pem"), &int, port, &chain, &[]);
    assert!(ok && out.contains(": good"), "{out}");
    // By GET (RFC 6960 appendix A), without a nonce.
    let req = d.join("req.der");
    let (ok, out) = openssl(&[
        "ocsp",
        "-issuer",
        &path_str(&int),
        "-cert",
        &path_str(&fx.join("revoked.pem")),
        "-no_nonce",
        "-reqout",
        &path_str(&req),
    ]);
    assert!(ok, "{out}");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&req).expect("req"));
    let enc: String = b64
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_string(),
            '/' => "%2F".to_string(),
            '=' => "%3D".to_string(),
            c => c.to_string(),
        })
        .collect();
    let (st, ct, body) = get(port, &format!("/ocsp/{enc}"));
    assert_eq!((st, ct.as_str()), (200, "application/ocsp-response"));
    let resp = d.join("resp.der");
    std::fs::write(&resp, &body).expect("write");
    let (ok, out) = openssl(&[
        "ocsp",
        "-respin",
        &path_str(&resp),
        "-issuer",
        &path_str(&int),
        "-cert",
        &path_str(&fx.join("revoked.pem")),
        "-CAfile",
        &path_str(&chain),
    ]);
    assert!(ok && out.contains("revoked.pem: revoked"), "{out}");
    // Garbage gets malformedRequest (OCSPResponse, status 1).
    let (st, _, body) = get(port, "/ocsp/AAAA");
    assert_eq!(
        (st, body.as_slice()),
        (200, &[0x30, 0x03, 0x0a, 0x01, 0x01][..])
    );

    // An edit of the list shows at the next request: revoke org2-auth, dated
    // an hour ago (the server's clock counts whole seconds from its start, so
    // a revocation dated this very second may not count there yet).
    let hour_ago = (time::OffsetDateTime::now_utc() - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("time");
    keygen_live(
        d,
        &[
            "--now",
            &hour_ago,
            "--revoke",
            "fx/org2-auth.pem",
            "--ca",
            "fx/ca-intermediate.p12",
            "--reason",
            "affiliationChanged",
        ],
    )
    .assert_ok();
    let (ok, out) = ocsp(&int, &fx.join("org2-auth.pem"), port, &chain, &[]);
    assert!(ok && out.contains("org2-auth.pem: revoked"), "{out}");
    assert!(out.contains("Reason: affiliationChanged"), "{out}");
    drop(s);

    // Only the intermediate served: a certificate of the root is unknown.
    let s = serve_revocation(&["--ca".into(), path_str(&fx.join("ca-intermediate.p12"))]);
    let (_, out) = ocsp(
        &fx.join("ca-root.cert.pem"),
        &int,
        s.port,
        &chain,
        &["-noverify"],
    );
    assert!(out.contains(": unknown"), "{out}");
}

#[test]
fn a_delegated_responder_signs_ocsp_answers() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let fx = fixture_set(d, true);
    let chain = fx.join("ca-chain.pem");
    let int = fx.join("ca-intermediate.cert.pem");
    // The set's responder: EKU OCSPSigning and ocsp-nocheck.
    let text = x509_text(&fx.join("ocsp-responder.pem"));
    assert!(text.contains("OCSP Signing"), "{text}");
    assert!(text.contains("OCSP No Check"), "{text}");
    let s = serve_revocation(&[
        "--ca".into(),
        path_str(&fx.join("ca-intermediate.p12")),
        "--responder".into(),
        path_str(&fx.join("ocsp-responder.p12")),
    ]);
    assert_eq!(
        s.started["cas"][0]["ocsp_responder"],
        "C=NO, O=Credkit Test CA, CN=Credkit Test OCSP Responder"
    );
    let key_id = |pem: &Path| -> String {
        let t = x509_text(pem);
        let at = t.find("Subject Key Identifier").expect("ski");
        t[at..]
            .lines()
            .nth(1)
            .expect("line")
            .trim()
            .replace(':', "")
    };
    for (name, status) in [("revoked.pem", "revoked"), ("org1-auth.pem", "good")] {
        let (ok, out) = ocsp(&int, &fx.join(name), s.port, &chain, &["-resp_text"]);
        assert!(ok && out.contains("Response verify OK"), "{out}");
        assert!(out.contains(&format!("{name}: {status}")), "{out}");
        // Signed by the responder (byKey names its key), which is included.
        assert!(
            out.contains(&format!(
                "Responder Id: {}",
                key_id(&fx.join("ocsp-responder.pem"))
            )),
            "{out}"
        );
        assert!(out.contains("Credkit Test OCSP Responder"), "{out}");
    }
    drop(s);
    // A certificate without OCSPSigning cannot be the responder.
    let mut c = credkit();
    c.args(["serve", "revocation", "--port", "0", "--ca"])
        .arg(fx.join("ca-intermediate.p12"))
        .arg("--responder")
        .arg(fx.join("org1-auth.p12"))
        .env("CREDKIT_PASSWORD", PW);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("OCSPSigning"), "{}", r.stderr);
    assert!(r.stderr.contains("revocation-responder"), "{}", r.stderr);
    // A responder whose issuing CA is not served: the hint names --ca.
    let mut c = credkit();
    c.args(["serve", "revocation", "--port", "0", "--ca"])
        .arg(fx.join("ca-root.p12"))
        .arg("--responder")
        .arg(fx.join("ocsp-responder.p12"))
        .env("CREDKIT_PASSWORD", PW);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("was not issued by a CA served here"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hint: give its issuing CA with --ca"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("revocation-responder"), "{}", r.stderr);
}

#[test]
fn the_look_alike_refuses_a_revoked_certificate_with_mp_120() {
    // The serve tests' RSA fixture set and clients (org1 = 123456785).
    let dir = crate::serve::mock_fixtures();
    let d = dir.path();
    let list = path_str(&d.join("fx/ca-intermediate.revoked.toml"));
    let m = crate::serve::start_mock(d, &["--revocation-list", &list]);
    let issuer = m.started["issuer"].as_str().expect("issuer").to_string();
    // On the real clock, as the look-alike judges the grant.
    let token = |issuer: &str, key: &str| {
        let mut c = credkit_with(Clock::Real);
        isolated(&mut c, d)
            .current_dir(d)
            .env("CREDKIT_PASSWORD", PW)
            .args(["token", "--no-cache", "--issuer", issuer])
            .args(["--jwt-profile", "maskinporten", "--key", key])
            .args(["--client-id", crate::serve::ORG1, "--scope", "test:read"]);
        run(c)
    };
    token(&issuer, "fx/org1-auth.p12").assert_ok();
    let r = token(&issuer, "fx/revoked.p12");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("The JWT is signed with an invalid certificate"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("MP-120"), "{}", r.stderr);
    drop(m);
    // Without the list the same certificate gets a token: the list refused it.
    let m = crate::serve::start_mock(d, &[]);
    let issuer2 = m.started["issuer"].as_str().expect("issuer").to_string();
    token(&issuer2, "fx/revoked.p12").assert_ok();
    // A broken list stops the look-alike at start.
    std::fs::write(d.join("bad.toml"), "[[revoked]]\nissuer = 1\n").expect("write");
    let mut c = credkit();
    c.current_dir(d).args([
        "serve",
        "mock-maskinporten",
        "--ca",
        "fx/ca-chain.pem",
        "--clients",
        "clients.toml",
        "--port",
        "0",
        "--revocation-list",
        "bad.toml",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.toml"), "{}", r.stderr);
    assert!(r.stderr.contains("revocation-list"), "{}", r.stderr);
}
