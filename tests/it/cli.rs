//! CLI behaviour: help, man pages, completions, broken pipes, stdin input.

use crate::support::*;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

/// `credkit man --out-dir DIR` writes exactly the committed `man/` pages.
#[test]
fn man_pages_are_current() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = credkit();
    c.arg("man").arg("--out-dir").arg(dir.path());
    run(c).assert_ok();
    let list = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .expect("read man dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let made = list(dir.path());
    assert!(made.contains(&"credkit.1".to_string()), "{made:?}");
    assert_eq!(
        made,
        list(&root().join("man")),
        "man/ has other pages than `credkit man` writes: run `cargo run -- man`"
    );
    for name in made {
        let fresh = std::fs::read(dir.path().join(&name)).expect("read");
        let committed = std::fs::read(root().join("man").join(&name)).expect("read");
        assert!(
            committed == fresh,
            "man/{name} is stale: run `cargo run -- man`"
        );
    }
}

#[test]
fn completions_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let mut c = credkit();
        c.args(["completions", shell]);
        let r = run(c);
        r.assert_ok();
        assert!(r.stdout.contains("inspect"), "{shell}");
        assert!(r.stdout.contains("password-file"), "{shell}");
    }
}

#[test]
fn closed_stdout_is_not_an_error() {
    let mut c = credkit();
    c.arg("inspect")
        .arg(fixture("pem/chain.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    {
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).expect("line");
        assert!(first.contains("PEM"));
        // dropping the reader closes the pipe, like `| head -1`
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn input_from_stdin() {
    let mut c = credkit();
    c.args(["inspect", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let data = std::fs::read(fixture("jwk/jwks.json")).expect("read");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&data)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["format"], "jwks");
    assert_eq!(v["entries"].as_array().expect("e").len(), 3);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let mut c = credkit();
    c.args(["inspect"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    let mut c = credkit();
    c.args(["inspect", "--help"]);
    let r = run(c);
    r.assert_ok();
    assert!(r.stdout.contains("--password-file"));
    assert!(r.stdout.contains("Exit status"));
    let mut c = credkit();
    c.args(["--now", "yesterday", "inspect"])
        .arg(fixture("pem/chain.pem"));
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--now"), "{}", r.stderr);
}

#[test]
fn json_shape_is_stable() {
    // Every field of credkit.inspect/1, with its type and value, for the
    // baseline PKCS#12 file (fixtures/README.md says how it was made).
    use serde_json::json;
    let v = inspect_json("p12/openssl3-aes-auth.p12");
    let pbes2 = json!({
        "scheme": "PBES2", "kdf": "PBKDF2", "prf": "hmacWithSHA256",
        "cipher": "AES-256-CBC", "iterations": 2048
    });
    let mut top = v.clone();
    let entries = top["entries"].take();
    assert_eq!(
        top,
        json!({
            "schema": "credkit.inspect/1",
            "file": path_str(&fixture("p12/openssl3-aes-auth.p12")),
            "format": "pkcs12",
            "now": NOW,
            "integrity_verified": true,
            "pkcs12": {
                "mac": {"algorithm": "sha256", "iterations": 2048, "salt_length": 8, "verified": true},
                "certificates": [pbes2.clone()],
                "keys": [pbes2],
                "unencrypted_content": false,
                "ber": false,
                "empty_password": null
            },
            "version": null,
            "notes": [],
            "entries": null
        })
    );
    let entries = entries.as_array().expect("entries is an array");
    assert_eq!(entries.len(), 1);
    let mut e = entries[0].clone();
    let certs = e["certificates"].take();
    let thumbprint = e["key"]["jwk_thumbprint"].clone();
    assert!(
        thumbprint.as_str().is_some_and(|t| t.len() == 43),
        "jwk_thumbprint is 43 base64url characters: {thumbprint}"
    );
    let spki_sha256 = e["key"]["public_key_sha256"].clone();
    assert!(
        spki_sha256
            .as_str()
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())),
        "public_key_sha256 is 64 hex digits: {spki_sha256}"
    );
    assert_eq!(
        e,
        json!({
            "alias": "auth",
            "kind": "private_key",
            "created": null,
            "kid": null,
            "key": {
                "algorithm": "RSA", "bits": 2048, "curve": null, "private": true,
                "locked": false, "jwk_thumbprint": thumbprint,
                "protection": "PBES2, PBKDF2, hmacWithSHA256, AES-256-CBC, 2048 iterations",
                "cannot_sign": null, "public_key_sha256": spki_sha256
            },
            "key_matches_certificate": true,
            "secret_algorithm": null,
            "chain": {"length": 3, "in_order": true, "reaches_root": true, "problems": [], "unchecked": []},
            "certificates": null
        })
    );
    let certs = certs.as_array().expect("certificates is an array");
    assert_eq!(certs.len(), 3);
    // The fingerprints are openssl's; x5t and x5t#S256 are the same digests
    // in base64url.
    let leaf_pem = std::fs::read_to_string(fixture("business/auth.cert.pem")).expect("read");
    let sha1 = openssl_fingerprint(&leaf_pem, "sha1");
    let sha256 = openssl_fingerprint(&leaf_pem, "sha256");
    let b64 = |colon_hex: &str| {
        use base64::Engine;
        let bytes: Vec<u8> = colon_hex
            .split(':')
            .map(|h| u8::from_str_radix(h, 16).expect("hex"))
            .collect();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let attr = |name: &str, oid: &str, value: &str, ty: &str| json!({"name": name, "oid": oid, "value": value, "string_type": ty});
    assert_eq!(
        certs[0],
        json!({
            "subject": "C=NO, O=TESTORGANISASJON AS, organizationIdentifier=NTRNO-123456785, serialNumber=123456785, CN=TESTORGANISASJON AS",
            "subject_attributes": [
                attr("C", "2.5.4.6", "NO", "PrintableString"),
                attr("O", "2.5.4.10", "TESTORGANISASJON AS", "UTF8String"),
                attr("organizationIdentifier", "2.5.4.97", "NTRNO-123456785", "UTF8String"),
                attr("serialNumber", "2.5.4.5", "123456785", "PrintableString"),
                attr("CN", "2.5.4.3", "TESTORGANISASJON AS", "UTF8String")
            ],
            "issuer": "C=NO, O=Credkit Test CA, CN=Credkit Test Intermediate CA",
            "serial": "1001",
            "version": 3,
            "signature_algorithm": "sha256WithRSAEncryption",
            "not_before": "2025-01-01T00:00:00Z",
            "not_after": "2045-01-01T00:00:00Z",
            // 2026-11-23T12:00Z to 2045-01-01T00:00Z: 6613 whole days.
            "validity": {"status": "valid", "days": 6613},
            "key_usage": ["digitalSignature", "keyEncipherment"],
            "key_usage_critical": true,
            "extended_key_usage": ["clientAuth"],
            "policies": ["2.16.578.1.26.1.3.5"],
            // The fixture names no CRL, OCSP responder or caIssuers URL
            // (`openssl x509 -text` shows no CDP or AIA extension).
            "crl_urls": [],
            "ocsp_urls": [],
            "ca_issuers_urls": [],
            "is_ca": false,
            "self_signed": false,
            "self_signature": null,
            "not_der": [],
            "subject_alt_names": [],
            "org_number": {"value": "123456785", "source": "organizationIdentifier"},
            "public_key": {"algorithm": "RSA", "bits": 2048, "curve": null},
            "jwk_thumbprint": e["key"]["jwk_thumbprint"],
            "fingerprints": {"sha1": sha1, "sha256": sha256},
            "x5t": b64(&sha1),
            "x5t#S256": b64(&sha256)
        })
    );
    // The CA certificates: the same fields, with the CA's values.
    for (c, subject, is_ca_root) in [
        (
            &certs[1],
            "C=NO, O=Credkit Test CA, CN=Credkit Test Intermediate CA",
            false,
        ),
        (
            &certs[2],
            "C=NO, O=Credkit Test CA, CN=Credkit Test Root CA",
            true,
        ),
    ] {
        assert_eq!(c["subject"], subject);
        assert_eq!(c["is_ca"], true);
        assert_eq!(c["self_signed"], is_ca_root);
        assert_eq!(c["key_usage"], json!(["keyCertSign", "cRLSign"]));
        assert_eq!(c["validity"]["status"], "valid");
        assert!(c["validity"]["days"].is_u64(), "{c}");
        assert_eq!(c["org_number"], serde_json::Value::Null);
        assert_eq!(
            c.as_object().map(|o| o.len()),
            certs[0].as_object().map(|o| o.len()),
            "every certificate has the same fields"
        );
    }
}

#[test]
fn terminal_control_characters_are_escaped() {
    // A JWK whose kid carries an ANSI escape must not reach the terminal raw.
    let dir = tempfile::tempdir().expect("tmp");
    let mut jwk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("jwk/rsa-public.jwk")).expect("r"))
            .expect("json");
    jwk["kid"] = serde_json::Value::String("evil\u{1b}[2Jkid".into());
    let p = dir.path().join("evil.jwk");
    std::fs::write(&p, jwk.to_string()).expect("write");
    let mut c = credkit();
    c.arg("inspect").arg(&p);
    let r = run(c);
    r.assert_ok();
    assert!(!r.stdout.contains('\u{1b}'), "raw ESC in output");
    assert!(r.stdout.contains("evil\\u{1b}[2Jkid"));
}

/// The README's first command (credkit's main job on the bundled fixtures)
/// must keep working.
#[test]
fn readme_demo_command_works() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let line = readme
        .lines()
        .find(|l| l.starts_with("CREDKIT_PASSWORD=changeit cargo run --release -- "))
        .expect("the demo command in README.md");
    let args: Vec<&str> = line
        .trim_start_matches("CREDKIT_PASSWORD=changeit cargo run --release -- ")
        .split_whitespace()
        .collect();
    let mut c = credkit();
    c.current_dir(root())
        .args(&args)
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_eq!(r.code, 0, "{line}\n{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Fit to sign Maskinporten grants"),
        "{}",
        r.stdout
    );
}
