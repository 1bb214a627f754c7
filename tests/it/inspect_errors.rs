//! Bad input: every corrupt file gets a clear error, exit code 2, no panic.

use crate::support::*;

fn inspect_err(path: &std::path::Path, password: &str) -> Run {
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(path)
        .env("CREDKIT_PASSWORD", password);
    let r = run(c);
    r.assert_no_panic();
    r
}

#[test]
fn corrupt_fixtures_fail_with_ids_and_hints() {
    for (rel, id, words) in [
        ("corrupt/truncated.p12", "input-malformed", "truncated"),
        (
            "corrupt/flipped-byte.p12",
            "password-wrong",
            "changed after it was protected",
        ),
        ("corrupt/truncated.jks", "input-malformed", "offset"),
        (
            "corrupt/garbage.bin",
            "input-unknown-format",
            "starts with bytes",
        ),
        ("corrupt/empty.pem", "input-unknown-format", "no PEM block"),
        (
            "corrupt/bad-base64.pem",
            "input-invalid",
            "not valid base64",
        ),
    ] {
        let r = inspect_err(&fixture(rel), "changeit");
        assert_eq!(r.code, 2, "{rel}: {}", r.stderr);
        let e = r.error_json();
        assert_eq!(e["error"]["code"], id, "{rel}");
        let msg = e["error"]["message"].as_str().expect("message");
        assert!(msg.contains(words), "{rel}: {msg}");
        assert!(
            msg.contains(rel),
            "{rel}: the message names the file: {msg}"
        );
        assert!(
            !e["error"]["hints"].as_array().expect("hints").is_empty(),
            "{rel}: no hint"
        );
        assert!(r.stdout.is_empty(), "{rel}: nothing on stdout");
    }
}

#[test]
fn text_errors_have_message_hint_and_id() {
    let mut c = credkit();
    c.arg("inspect")
        .arg(fixture("corrupt/truncated.p12"))
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
    assert!(
        r.stderr.contains("(error id: input-malformed)"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_password_is_not_reported_as_corruption() {
    for rel in [
        "p12/openssl3-aes-auth.p12",
        "p12/openssl3-legacy-auth.p12",
        "p12/openssl3-nomac-auth.p12",
        "jks/keytool-rsa.jks",
        "jceks/mixed.jceks",
        "pem/rsa-pkcs8-encrypted.key",
        "pem/rsa-legacy-aes256.key",
        "pem/rsa-legacy-des3.key",
    ] {
        let r = inspect_err(&fixture(rel), "wrong-password");
        assert_eq!(r.code, 2, "{rel}");
        let e = r.error_json();
        assert_eq!(e["error"]["code"], "password-wrong", "{rel}: {}", r.stderr);
        assert!(
            e["error"]["message"]
                .as_str()
                .expect("msg")
                .contains("wrong password, or the file was changed after it was protected"),
            "{rel}"
        );
    }
}

#[test]
fn unsupported_algorithms_are_named() {
    // Re-label the PBES2 cipher of the key bag as AES-256-GCM: credkit must
    // say which algorithm it does not support, not "wrong password".
    let mut data = std::fs::read(fixture("pem/rsa-pkcs8-encrypted.key")).expect("read");
    let text = String::from_utf8(std::mem::take(&mut data)).expect("utf8");
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("b64");
    // aes256-CBC OID 2.16.840.1.101.3.4.1.42 -> .46 (aes256-GCM)
    let cbc = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];
    let pos = der
        .windows(cbc.len())
        .position(|w| w == cbc)
        .expect("AES OID");
    der[pos + cbc.len() - 1] = 0x2e;
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("gcm.der");
    std::fs::write(&p, &der).expect("write");
    let r = inspect_err(&p, "changeit");
    assert_eq!(r.code, 2);
    let e = r.error_json();
    assert_eq!(e["error"]["code"], "algorithm-unsupported", "{}", r.stderr);
    assert!(
        e["error"]["message"]
            .as_str()
            .expect("m")
            .contains("AES-256-GCM")
    );
}

/// Truncate and flip bytes of real fixtures: credkit may refuse them, but must
/// never panic, hang, or exit with anything but 0 or 2.
#[test]
fn mutated_fixtures_never_panic() {
    let dir = tempfile::tempdir().expect("tmp");
    for rel in [
        "p12/openssl3-aes-auth.p12",
        "p12/openssl3-legacy-auth.p12",
        "p12/ber-indefinite-chunked-auth.p12",
        "jks/business-pair.jks",
        "jceks/mixed.jceks",
        "pem/key-and-chain.pem",
        "der/auth.cert.der",
        "jwk/rsa-public-x5c.jwk",
    ] {
        let orig = std::fs::read(fixture(rel)).expect("read");
        let n = orig.len();
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for cut in [0, 1, 4, n / 3, n / 2, n - 1] {
            cases.push(orig[..cut].to_vec());
        }
        for i in 0..24 {
            let pos = (i * 7919 + 13) % n;
            let mut m = orig.clone();
            m[pos] ^= 0xff;
            cases.push(m);
        }
        for (i, case) in cases.iter().enumerate() {
            let p = dir.path().join(format!("m{i}"));
            std::fs::write(&p, case).expect("write");
            let r = inspect_err(&p, password_for(rel));
            assert!(
                r.code == 0 || r.code == 2,
                "{rel} case {i}: exit {}",
                r.code
            );
            if r.code == 2 {
                let e = r.error_json();
                assert!(e["error"]["code"].is_string(), "{rel} case {i}");
            }
        }
    }
}
