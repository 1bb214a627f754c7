//! `convert`, checked with the tools people use for each output: openssl for
//! PKCS#12/PEM/DER, keytool (and keytool -> PKCS#12 -> openssl) for JKS, and
//! jwcrypto for JWK/JWKS. Expected keys and certificates come from the same
//! peers reading the input, never from credkit itself.

use crate::support::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PW: &str = "changeit";

fn sha256_hex(data: &[u8]) -> String {
    let out = peer_stdin("openssl", &["dgst", "-sha256", "-r"], data);
    out.split_whitespace().next().expect("digest").to_string()
}

fn peer_stdin(program: &str, args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn peer_bytes(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Split PEM text into (label, block) pairs.
fn pem_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(l) = line.strip_prefix("-----BEGIN ") {
            cur = Some((l.trim_end_matches('-').to_string(), String::new()));
        }
        if let Some((_, b)) = cur.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
        if line.starts_with("-----END ") {
            out.extend(cur.take());
        }
    }
    out
}

/// SHA-256 of the SubjectPublicKeyInfo openssl derives from a PEM key block.
fn openssl_pub_hash(pem_key: &str, password: &str) -> String {
    let pass = format!("pass:{password}");
    let der = {
        use std::io::Write;
        let mut child = Command::new("openssl")
            .args(["pkey", "-passin", &pass, "-pubout", "-outform", "DER"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(pem_key.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "openssl pkey: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    sha256_hex(&der)
}

/// What the peers find in a file: private-key SPKI hashes and certificate fingerprints.
#[derive(Debug, PartialEq, Eq, Default)]
struct Seen {
    keys: BTreeSet<String>,
    certs: BTreeSet<String>,
}

fn from_pem_text(text: &str, password: &str) -> Seen {
    let mut s = Seen::default();
    for (label, block) in pem_blocks(text) {
        if label.contains("PRIVATE KEY") {
            s.keys.insert(openssl_pub_hash(&block, password));
        } else if label == "CERTIFICATE" {
            s.certs.insert(openssl_fingerprint(&block, "sha256"));
        }
    }
    s
}

fn p12_seen(path: &Path, password: &str, legacy: bool) -> Seen {
    let p = path_str(path);
    let pass = format!("pass:{password}");
    let mut args = vec!["pkcs12", "-in", &p, "-passin", &pass, "-nodes"];
    if legacy {
        args.push("-legacy");
    }
    let text = String::from_utf8(peer_bytes("openssl", &args)).expect("utf8");
    from_pem_text(&text, password)
}

fn jks_seen(path: &Path, storetype: &str, password: &str) -> Seen {
    let dir = tempfile::tempdir().expect("tmp");
    let p12 = dir.path().join("via-keytool.p12");
    keytool_import(
        Store::new(path, storetype, password),
        Store::new(&p12, "PKCS12", PW),
        &["-destkeypass", PW],
    );
    // keytool refuses non-ASCII PKCS#12 passwords, so the copy uses an ASCII one.
    let mut s = p12_seen(&p12, PW, false);
    // keytool lists trusted certificates too; PKCS#12 export keeps them.
    let list = peer(
        "keytool",
        &[
            "-list",
            "-v",
            "-storetype",
            storetype,
            "-keystore",
            &path_str(path),
            "-storepass",
            password,
        ],
    );
    for l in list.lines() {
        if let Some(f) = l.trim().strip_prefix("SHA256: ") {
            s.certs.insert(f.to_string());
        }
    }
    s
}

fn jwk_seen(path: &Path) -> (Seen, BTreeSet<String>) {
    jwk_seen_kid(path, true)
}

fn jwk_seen_kid(path: &Path, check_kid: bool) -> (Seen, BTreeSet<String>) {
    let tool = root().join("tests/tools/jose_peer.py");
    let keys = peer("python3", &[&path_str(&tool), "keys", &path_str(path)]);
    let mut s = Seen::default();
    let mut public = BTreeSet::new();
    for l in keys.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        assert!(
            !check_kid || f[1] == f[2],
            "{}: kid {} is not the RFC 7638 thumbprint jwcrypto computes ({})",
            path.display(),
            f[2],
            f[1]
        );
        public.insert(f[0].to_string());
        if f[3] == "1" {
            s.keys.insert(f[0].to_string());
        }
    }
    let certs = peer("python3", &[&path_str(&tool), "certs", &path_str(path)]);
    s.certs = certs.lines().map(str::to_string).collect();
    (s, public)
}

/// Peers' view of any fixture or output.
fn seen(path: &Path, password: &str) -> Seen {
    let name = path_str(path);
    let data = std::fs::read(path).expect("read");
    if data.starts_with(&[0xfe, 0xed, 0xfe, 0xed]) {
        return jks_seen(path, "JKS", password);
    }
    if data.starts_with(&[0xce, 0xce, 0xce, 0xce]) {
        return jks_seen(path, "JCEKS", password);
    }
    if name.ends_with(".p12") {
        let legacy = name.contains("legacy") && !name.contains("/out");
        return p12_seen(path, password, legacy);
    }
    if data.first() == Some(&b'{') {
        return jwk_seen_kid(path, false).0;
    }
    if data.starts_with(b"-----") || data.windows(11).any(|w| w == b"-----BEGIN ") {
        return from_pem_text(&String::from_utf8_lossy(&data), password);
    }
    // DER: a certificate or a key.
    let mut s = Seen::default();
    let cert = Command::new("openssl")
        .args([
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            &name,
        ])
        .output()
        .expect("openssl");
    if cert.status.success() {
        let t = String::from_utf8_lossy(&cert.stdout);
        s.certs
            .insert(t.trim().split_once('=').expect("fp").1.to_string());
    } else {
        let pem = peer_bytes(
            "openssl",
            &[
                "pkey",
                "-inform",
                "DER",
                "-in",
                &name,
                "-passin",
                &format!("pass:{password}"),
            ],
        );
        s.keys
            .insert(openssl_pub_hash(&String::from_utf8_lossy(&pem), password));
    }
    s
}

fn convert(input: &str, output: &Path, extra: &[&str]) -> Run {
    let mut c = credkit();
    c.arg("convert")
        .arg(fixture(input))
        .arg("-o")
        .arg(output)
        .args(extra)
        .env("CREDKIT_PASSWORD", password_for(input))
        .env("OUT_PW", PW);
    let r = run(c);
    r.assert_no_panic();
    r
}

/// Every fixture that holds a private key or a certificate (public-key-only
/// files have their own test; `jks/keypass-differs.jks` needs a key password
/// and is converted in `key_password_inputs_and_outputs`).
const INPUTS: &[&str] = &[
    "p12/openssl3-aes-auth.p12",
    "p12/openssl3-legacy-auth.p12",
    "p12/openssl3-nonascii-aes.p12",
    "p12/keytool-business-pair.p12",
    "p12/keytool-multi.p12",
    "p12/openssl3-ec-p384.p12",
    "p12/openssl3-ed25519.p12",
    "p12/openssl3-truststore-nokeys.p12",
    "p12/ber-indefinite-chunked-auth.p12",
    "jks/business-pair.jks",
    "jks/ec-p256.jks",
    "jks/nonascii.jks",
    "jks/truststore.jks",
    "jceks/mixed.jceks",
    "pem/key-and-chain.pem",
    "pem/chain.pem",
    "pem/rsa-legacy-des3.key",
    "pem/ec-sec1.key",
    "der/auth.cert.der",
    "jwk/rsa-private.jwk",
    "jwk/ec-p256-private.jwk",
    "p12/openssl3-aes-sign.p12",
    "p12/openssl3-3des-auth.p12",
    "p12/openssl3-nomac-auth.p12",
    "p12/openssl3-noenc-auth.p12",
    "p12/openssl3-noenc-nomac-auth.p12",
    "p12/openssl3-nonascii-legacy.p12",
    "p12/openssl3-ec-p256.p12",
    "p12/ber-indefinite-auth.p12",
    "p12/keytool-jdk17-rsa.p12",
    "jks/keytool-rsa.jks",
    "pem/rsa-pkcs1.key",
    "pem/rsa-pkcs8.key",
    "pem/rsa-pkcs8-encrypted.key",
    "pem/rsa-legacy-aes256.key",
    "pem/ec-pkcs8.key",
    "pem/ec-legacy-aes128.key",
    "pem/ec-p384-pkcs8.key",
    "pem/ed25519.key",
    "pem/auth.cert.pem",
    "business/sign.cert.pem",
    "der/rsa-pkcs8.key.der",
    "der/rsa-pkcs1.key.der",
    "der/ec-pkcs8.key.der",
    "jwk/ed25519-private.jwk",
];

#[test]
fn to_pkcs12_opens_in_openssl_and_keytool() {
    let dir = tempfile::tempdir().expect("tmp");
    for (i, input) in INPUTS.iter().enumerate() {
        let out = dir.path().join(format!("out{i}.p12"));
        let r = convert(input, &out, &["--out-password-env", "OUT_PW"]);
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        let want = seen(&fixture(input), password_for(input));
        // openssl 3 reads it without -legacy.
        peer(
            "openssl",
            &[
                "pkcs12",
                "-info",
                "-noout",
                "-in",
                &path_str(&out),
                "-passin",
                "pass:changeit",
            ],
        );
        assert_eq!(p12_seen(&out, PW, false), want, "{input} -> p12 (openssl)");
        // keytool lists it, and sees one PrivateKeyEntry per private key.
        let list = peer(
            "keytool",
            &[
                "-list",
                "-storetype",
                "PKCS12",
                "-keystore",
                &path_str(&out),
                "-storepass",
                PW,
            ],
        );
        let report = inspect_json(input);
        let keys_with_certs = report["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["kind"] == "private_key")
            .count();
        assert_eq!(
            list.matches("PrivateKeyEntry").count(),
            keys_with_certs,
            "{input} -> p12 (keytool):\n{list}"
        );
    }
}

#[test]
fn legacy_pkcs12_uses_3des_and_sha1() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("legacy.p12");
    let r = convert("jks/business-pair.jks", &out, &["--legacy"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let info = peer_all_openssl_info(&out);
    assert!(info.contains("MAC: sha1"), "{info}");
    assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");
    assert!(!info.contains("AES"), "{info}");
    assert_eq!(
        p12_seen(&out, PW, false),
        seen(&fixture("jks/business-pair.jks"), PW)
    );
}

fn peer_all_openssl_info(p: &Path) -> String {
    let out = Command::new("openssl")
        .args([
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            &path_str(p),
            "-passin",
            "pass:changeit",
        ])
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn to_jks_opens_in_keytool_and_survives_export() {
    let dir = tempfile::tempdir().expect("tmp");
    for (i, input) in INPUTS.iter().enumerate() {
        let report = inspect_json(input);
        let keyless_key = report["entries"].as_array().expect("e").iter().any(|e| {
            e["kind"] == "private_key" && e["certificates"].as_array().is_some_and(|c| c.is_empty())
        });
        let out = dir.path().join(format!("out{i}.jks"));
        let r = convert(input, &out, &["--out-password-env", "OUT_PW"]);
        if keyless_key {
            // Java needs a certificate for every private key.
            assert_eq!(r.code, 2, "{input}");
            assert!(
                r.stderr.contains("convert-unsupported"),
                "{input}: {}",
                r.stderr
            );
            continue;
        }
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        assert_eq!(
            jks_seen(&out, "JKS", PW),
            seen(&fixture(input), password_for(input)),
            "{input} -> jks (keytool -importkeystore -> openssl)"
        );
    }
}

#[test]
fn to_pem_opens_in_openssl() {
    let dir = tempfile::tempdir().expect("tmp");
    for (i, input) in INPUTS.iter().enumerate() {
        let want = seen(&fixture(input), password_for(input));
        for (j, flags) in [vec!["--out-password-env", "OUT_PW"], vec!["--no-encrypt"]]
            .iter()
            .enumerate()
        {
            let out = dir.path().join(format!("out{i}-{j}.pem"));
            let r = convert(input, &out, flags);
            assert_eq!(r.code, 0, "{input} {flags:?}: {}", r.stderr);
            let text = std::fs::read_to_string(&out).expect("read");
            if j == 0 && !want.keys.is_empty() {
                assert!(
                    text.contains("ENCRYPTED PRIVATE KEY"),
                    "{input}: key not encrypted"
                );
            }
            if j == 1 {
                assert!(!text.contains("ENCRYPTED"), "{input}: --no-encrypt");
            }
            assert_eq!(from_pem_text(&text, PW), want, "{input} -> pem {flags:?}");
        }
    }
}

#[test]
fn to_der_opens_in_openssl() {
    let dir = tempfile::tempdir().expect("tmp");
    for (i, input) in [
        "p12/openssl3-aes-auth.p12",
        "jks/ec-p256.jks",
        "pem/ec-sec1.key",
        "der/auth.cert.der",
    ]
    .iter()
    .enumerate()
    {
        let want = seen(&fixture(input), password_for(input));
        if !want.keys.is_empty() {
            let out = dir.path().join(format!("k{i}.der"));
            let r = convert(input, &out, &["--key-only", "--out-password-env", "OUT_PW"]);
            assert_eq!(r.code, 0, "{input}: {}", r.stderr);
            assert_eq!(seen(&out, PW).keys, want.keys, "{input} -> der key");
        }
        if !want.certs.is_empty() {
            let out = dir.path().join(format!("c{i}.der"));
            let r = convert(input, &out, &["--cert-only"]);
            assert_eq!(r.code, 0, "{input}: {}", r.stderr);
            let got = seen(&out, PW).certs;
            assert_eq!(got.len(), 1);
            assert!(want.certs.is_superset(&got), "{input} -> der cert");
        }
    }
}

#[test]
fn to_jwks_loads_in_jwcrypto_and_signatures_verify() {
    let dir = tempfile::tempdir().expect("tmp");
    let tool = root().join("tests/tools/jose_peer.py");
    for (i, input) in INPUTS.iter().enumerate() {
        let want = seen(&fixture(input), password_for(input));
        let public = dir.path().join(format!("pub{i}.json"));
        let private = dir.path().join(format!("priv{i}.json"));
        let r = convert(input, &public, &[]);
        if want.keys.is_empty() {
            // Certificates only: their public keys with x5c.
            assert_eq!(r.code, 0, "{input}: {}", r.stderr);
            let (s, _) = jwk_seen(&public);
            assert!(s.keys.is_empty());
            assert!(want.certs.is_superset(&s.certs), "{input}: x5c");
            continue;
        }
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        let (pub_seen, pub_keys) = jwk_seen(&public);
        assert!(
            pub_seen.keys.is_empty(),
            "{input}: public JWKS holds private keys"
        );
        assert!(want.keys.is_subset(&pub_keys), "{input}: public keys");
        let r = convert(input, &private, &["--private"]);
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        let (priv_seen, _) = jwk_seen(&private);
        assert_eq!(priv_seen.keys, want.keys, "{input} -> jwks --private");
        let mode = std::fs::metadata(&private).expect("meta");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(mode.permissions().mode() & 0o777, 0o600, "{input}");
        }
        let ok = peer(
            "python3",
            &[
                &path_str(&tool),
                "sign",
                &path_str(&private),
                &path_str(&public),
            ],
        );
        assert_eq!(ok.trim(), "ok", "{input}");
    }
}

#[test]
fn single_jwk_with_x5c_and_custom_kid() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("auth.jwk");
    let r = convert(
        "p12/keytool-business-pair.p12",
        &out,
        &["--alias", "auth", "--kid", "my-key-1"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("r")).expect("json");
    assert_eq!(v["kid"], "my-key-1");
    assert_eq!(v["use"], "sig");
    assert_eq!(v["alg"], "RS256");
    assert_eq!(v["x5c"].as_array().expect("x5c").len(), 3);
    let leaf = &inspect_json("p12/keytool-business-pair.p12")["entries"][0]["certificates"][0];
    assert_eq!(v["x5t#S256"], leaf["x5t#S256"]);
    // Two keys into one JWK is ambiguous.
    let r = convert(
        "p12/keytool-business-pair.p12",
        &dir.path().join("two.jwk"),
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("convert-ambiguous"), "{}", r.stderr);
}

/// p12 -> jks -> p12 -> pem -> jwk -> pem keeps keys and certificates byte for byte.
#[test]
fn round_trip_keeps_bytes() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = |n: &str| dir.path().join(n);
    let step = |input: &Path, output: &Path, extra: &[&str]| {
        let mut c = credkit();
        c.arg("convert")
            .arg(input)
            .arg("-o")
            .arg(output)
            .args(extra)
            .env("CREDKIT_PASSWORD", PW);
        let r = run(c);
        assert_eq!(
            r.code,
            0,
            "{} -> {}: {}",
            input.display(),
            output.display(),
            r.stderr
        );
    };
    let start = fixture("p12/openssl3-aes-auth.p12");
    step(&start, &d("1.jks"), &[]);
    step(&d("1.jks"), &d("2.p12"), &[]);
    step(&d("2.p12"), &d("3.pem"), &["--no-encrypt"]);
    step(&d("3.pem"), &d("4.jwk"), &["--private"]);
    step(&d("4.jwk"), &d("5.pem"), &["--no-encrypt"]);
    let key_der = |p: &PathBuf, legacy_p12: bool| -> Vec<u8> {
        let text = if legacy_p12 {
            String::from_utf8(peer_bytes(
                "openssl",
                &[
                    "pkcs12",
                    "-in",
                    &path_str(p),
                    "-passin",
                    "pass:changeit",
                    "-nodes",
                    "-nocerts",
                ],
            ))
            .expect("utf8")
        } else {
            std::fs::read_to_string(p).expect("read")
        };
        let (_, block) = pem_blocks(&text)
            .into_iter()
            .find(|(l, _)| l.contains("PRIVATE KEY"))
            .expect("key");
        peer_stdin_bytes(&block)
    };
    let original = key_der(&start, true);
    assert_eq!(key_der(&d("3.pem"), false), original);
    assert_eq!(key_der(&d("5.pem"), false), original);
    // Certificates: the same DER, in the same order, after the whole trip.
    let certs =
        |p: &PathBuf| -> Vec<String> { pem_certs(&std::fs::read_to_string(p).expect("read")) };
    let first = certs(&d("3.pem"));
    assert_eq!(first.len(), 3);
    assert_eq!(certs(&d("5.pem")), first);
    assert_eq!(
        pem_certs(
            &String::from_utf8(peer_bytes(
                "openssl",
                &[
                    "pkcs12",
                    "-in",
                    &path_str(&start),
                    "-passin",
                    "pass:changeit",
                    "-nokeys"
                ]
            ))
            .expect("utf8")
        )
        .iter()
        .map(|c| openssl_fingerprint(c, "sha256"))
        .collect::<BTreeSet<_>>(),
        first
            .iter()
            .map(|c| openssl_fingerprint(c, "sha256"))
            .collect::<BTreeSet<_>>()
    );
    // And the PKCS#8 bytes credkit writes are the ones it read.
    let a = inspect_json("p12/openssl3-aes-auth.p12");
    let mut c = credkit();
    c.args(["inspect", "--json"]).arg(d("5.pem"));
    let b = run(c).json();
    assert_eq!(
        a["entries"][0]["key"]["jwk_thumbprint"],
        b["entries"][0]["key"]["jwk_thumbprint"]
    );
}

fn peer_stdin_bytes(pem_key: &str) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(["pkey", "-outform", "DER"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(pem_key.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    out.stdout
}

#[test]
fn split_writes_three_files_and_keys_are_0600() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("client.pem");
    let r = convert(
        "p12/openssl3-aes-auth.p12",
        &out,
        &["--split", "--no-encrypt"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = dir.path().join("client.key.pem");
    let cert = dir.path().join("client.cert.pem");
    let chain = dir.path().join("client.chain.pem");
    assert_eq!(
        pem_certs(&std::fs::read_to_string(&cert).expect("c")).len(),
        1
    );
    assert_eq!(
        pem_certs(&std::fs::read_to_string(&chain).expect("c")).len(),
        2
    );
    peer("openssl", &["pkey", "-in", &path_str(&key), "-noout"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("m").permissions().mode() & 0o777;
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&cert), 0o644);
    }
    // openssl verifies the leaf against the chain file.
    let v = peer(
        "openssl",
        &[
            "verify",
            "-CAfile",
            &path_str(&fixture("ca/root.cert.pem")),
            "-untrusted",
            &path_str(&chain),
            &path_str(&cert),
        ],
    );
    assert!(v.contains("OK"), "{v}");
}

#[test]
fn nothing_is_overwritten_without_force() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("existing.pem");
    std::fs::write(&out, "precious").expect("write");
    let r = convert("pem/chain.pem", &out, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("output-exists"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).expect("r"), "precious");
    let r = convert("pem/chain.pem", &out, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        pem_certs(&std::fs::read_to_string(&out).expect("r")).len(),
        3
    );
    // The input as output needs --force too.
    let copy = dir.path().join("in.pem");
    std::fs::copy(fixture("pem/chain.pem"), &copy).expect("copy");
    let mut c = credkit();
    c.arg("convert").arg(&copy).arg("-o").arg(&copy);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is the input file"), "{}", r.stderr);
    // No temporary files are left behind after a refusal.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn aliases_select_rename_and_lowercase() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("one.jks");
    let r = convert(
        "p12/keytool-business-pair.p12",
        &out,
        &["--alias", "sign", "--out-alias", "Signing Cert"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("lower case"), "{}", r.stderr);
    let list = peer(
        "keytool",
        &["-list", "-keystore", &path_str(&out), "-storepass", PW],
    );
    assert!(list.contains("signing cert, "), "{list}");
    assert!(list.contains("contains 1 entry"), "{list}");
    // Non-ASCII aliases survive Java's modified UTF-8.
    let out = dir.path().join("utf.jks");
    let r = convert(
        "p12/keytool-business-pair.p12",
        &out,
        &["--alias", "auth", "--out-alias", "nøkkel 🔑"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let list = peer(
        "keytool",
        &["-list", "-keystore", &path_str(&out), "-storepass", PW],
    );
    assert!(list.contains("nøkkel 🔑, "), "{list}");
    // A wrong alias: the closest one is suggested.
    let r = convert(
        "p12/keytool-business-pair.p12",
        &dir.path().join("x.pem"),
        &["--alias", "Auht"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean \"auth\""), "{}", r.stderr);
    assert!(r.stderr.contains("alias-not-found"), "{}", r.stderr);
}

#[test]
fn text_formats_go_to_stdout_but_binary_and_keys_to_terminals_do_not() {
    let mut c = credkit();
    c.args(["convert"])
        .arg(fixture("pem/chain.pem"))
        .args(["-o", "-", "--to", "jwks"]);
    let r = run(c);
    r.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["keys"].as_array().expect("keys").len(), 1);
    let mut c = credkit();
    c.args(["convert"])
        .arg(fixture("pem/chain.pem"))
        .args(["-o", "-", "--to", "pkcs12"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("binary"), "{}", r.stderr);
}

#[test]
fn json_report_describes_outputs() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("pair.p12");
    let mut c = credkit();
    c.args(["convert", "--json"])
        .arg(fixture("jks/business-pair.jks"))
        .arg("-o")
        .arg(&out)
        .env("CREDKIT_PASSWORD", PW);
    let r = run(c);
    r.assert_ok();
    let v = r.json();
    assert_eq!(v["schema"], "credkit.convert/1");
    assert_eq!(v["input_format"], "jks");
    assert_eq!(v["outputs"][0]["format"], "pkcs12");
    assert_eq!(v["outputs"][0]["private_key"], true);
    let mut aliases: Vec<&str> = v["outputs"][0]["aliases"]
        .as_array()
        .expect("a")
        .iter()
        .map(|a| a.as_str().expect("s"))
        .collect();
    aliases.sort();
    assert_eq!(aliases, ["auth", "sign", "testroot"]);
}

#[test]
fn private_keys_are_never_printed_to_a_terminal() {
    // `script` gives credkit a pseudo-terminal as stdout.
    let cmd = format!(
        "{} --now {NOW} convert {} -o - --to jwk --private",
        env!("CARGO_BIN_EXE_credkit"),
        path_str(&fixture("pem/rsa-pkcs8.key"))
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("CREDKIT_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("script (bsdutils) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("refusing to print a private key to the terminal"),
        "{text}"
    );
    assert!(!text.contains("\"d\""), "{text}");
    // The public JWK may go to the terminal.
    let cmd = format!(
        "{} --now {NOW} convert {} -o - --to jwk",
        env!("CARGO_BIN_EXE_credkit"),
        path_str(&fixture("pem/rsa-pkcs8.key"))
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"kty\": \"RSA\""));
}

#[test]
fn pem_parts_can_be_chosen() {
    let dir = tempfile::tempdir().expect("tmp");
    let want = seen(&fixture("p12/openssl3-aes-auth.p12"), PW);
    let key = dir.path().join("k.pem");
    let r = convert(
        "p12/openssl3-aes-auth.p12",
        &key,
        &["--key-only", "--no-encrypt"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = seen(&key, PW);
    assert_eq!(s.keys, want.keys);
    assert!(s.certs.is_empty());
    let certs = dir.path().join("c.pem");
    let r = convert("p12/openssl3-aes-auth.p12", &certs, &["--cert-only"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = seen(&certs, PW);
    assert!(s.keys.is_empty());
    assert_eq!(s.certs, want.certs);
    let leaf = dir.path().join("l.pem");
    let r = convert(
        "p12/openssl3-aes-auth.p12",
        &leaf,
        &["--cert-only", "--leaf-only"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(seen(&leaf, PW).certs.len(), 1);
    // A clear key into encrypted PEM needs a password from somewhere.
    let mut c = credkit();
    c.arg("convert")
        .arg(fixture("pem/rsa-pkcs8.key"))
        .arg("-o")
        .arg(dir.path().join("e.pem"));
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("password-required"), "{}", r.stderr);
    assert!(r.stderr.contains("--no-encrypt"), "{}", r.stderr);
}

#[test]
fn public_keys_convert_to_pem_and_jwk_but_not_to_keystores() {
    let dir = tempfile::tempdir().expect("tmp");
    for input in [
        "pem/rsa-public.pem",
        "der/rsa-public.der",
        "jwk/rsa-public.jwk",
    ] {
        let pem = dir.path().join("pub.pem");
        let r = convert(input, &pem, &["--force"]);
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        let spki = peer_bytes(
            "openssl",
            &["pkey", "-pubin", "-in", &path_str(&pem), "-outform", "DER"],
        );
        let jwk = dir.path().join("pub.jwk");
        let r = convert(input, &jwk, &["--force"]);
        assert_eq!(r.code, 0, "{input}: {}", r.stderr);
        let (_, keys) = jwk_seen(&jwk);
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            vec![sha256_hex(&spki)],
            "{input}"
        );
        let r = convert(
            input,
            &dir.path().join("x.p12"),
            &["--out-password-env", "OUT_PW"],
        );
        assert_eq!(r.code, 2, "{input}");
        assert!(
            r.stderr.contains("convert-nothing-to-write"),
            "{input}: {}",
            r.stderr
        );
    }
}

#[test]
fn key_password_inputs_and_outputs() {
    let dir = tempfile::tempdir().expect("tmp");
    // Input with its own key password, output JKS with another one.
    let out = dir.path().join("kp.jks");
    let mut c = credkit();
    c.arg("convert")
        .arg(fixture("jks/keypass-differs.jks"))
        .arg("-o")
        .arg(&out)
        .args([
            "--key-password-env",
            "IN_KP",
            "--out-key-password-env",
            "OUT_KP",
        ])
        .env("CREDKIT_PASSWORD", PW)
        .env("IN_KP", "keypass1")
        .env("OUT_KP", "other-key-pw");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("key password differs"), "{}", r.stderr);
    // keytool needs the new key password to export the key.
    let p12 = dir.path().join("kp.p12");
    keytool_import(
        Store::new(&out, "JKS", PW),
        Store::new(&p12, "PKCS12", PW),
        &[
            "-srckeypass",
            "other-key-pw",
            "-srcalias",
            "mykey",
            "-destkeypass",
            PW,
        ],
    );
    let got = p12_seen(&p12, PW, false);
    let mut c = credkit();
    c.args(["inspect", "--json", "--key-password-env", "IN_KP"])
        .arg(fixture("jks/keypass-differs.jks"))
        .env("CREDKIT_PASSWORD", PW)
        .env("IN_KP", "keypass1");
    let thumb = run(c).json()["entries"][0]["key"]["jwk_thumbprint"].clone();
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(&p12)
        .env("CREDKIT_PASSWORD", PW);
    assert_eq!(run(c).json()["entries"][0]["key"]["jwk_thumbprint"], thumb);
    assert_eq!(got.keys.len(), 1);
}

/// The `hint:` line of a refused run.
fn hint_of(r: &Run) -> &str {
    r.stderr
        .lines()
        .find_map(|l| l.strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{}", r.stderr))
}

/// Several entries for one output: each hint names what really works, and
/// running what it names succeeds (the output opened by openssl).
#[test]
fn ambiguity_hints_name_what_works() {
    const MULTI: &str = "p12/keytool-multi.p12"; // first (RSA), second (EC), trustedroot
    let dir = tempfile::tempdir().expect("tmp");
    let want = seen(&fixture(MULTI), password_for(MULTI));
    assert_eq!(want.certs.len(), 3, "{want:?}");

    // DER holds one object: --key-only or --cert-only alone does not help.
    let der = dir.path().join("out.der");
    let r = convert(MULTI, &der, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        hint_of(&r),
        "pick one entry with --alias (adding --key-only or --cert-only if it holds both), or \
         write them all as PEM (--to pem)"
    );
    let r = convert(MULTI, &der, &["--cert-only"]);
    assert_eq!(r.code, 2, "--cert-only is no way out: {}", r.stderr);
    let r = convert(MULTI, &der, &["--alias", "trustedroot"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = seen(&der, PW).certs;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(want.certs.is_superset(&got));
    let der = dir.path().join("first.der");
    let r = convert(MULTI, &der, &["--alias", "first", "--cert-only"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(seen(&der, PW).certs.len(), 1);
    let all = dir.path().join("all.der");
    let r = convert(
        MULTI,
        &all,
        &["--to", "pem", "--out-password-env", "OUT_PW"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&all).expect("pem");
    assert_eq!(from_pem_text(&text, PW), want, "PEM holds every entry");

    // --split writes one entry; a JWKS is no way out (--split is PEM only).
    let split = dir.path().join("split.pem");
    let r = convert(MULTI, &split, &["--split", "--no-encrypt"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        hint_of(&r),
        "pick one entry with --alias, or leave out --split to write them all to one PEM file"
    );
    let r = convert(
        MULTI,
        &dir.path().join("split.jwks"),
        &["--split", "--to", "jwks"],
    );
    assert_eq!(r.code, 2, "the old hint's JWKS: {}", r.stderr);
    let r = convert(
        MULTI,
        &split,
        &["--split", "--no-encrypt", "--alias", "second"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = std::fs::read_to_string(dir.path().join("split.key.pem")).expect("the key part");
    assert_eq!(from_pem_text(&key, PW).keys.len(), 1);
    let r = convert(MULTI, &split, &["--no-encrypt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&split).expect("pem");
    assert_eq!(from_pem_text(&text, PW), want, "one PEM holds every entry");

    // --kid names one key, in a JWKS as well.
    let jwks = dir.path().join("keys.jwks");
    let r = convert(MULTI, &jwks, &["--kid", "k1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        hint_of(&r),
        "pick one entry with --alias, or leave out --kid (each key's kid is then its thumbprint)"
    );
    let r = convert(MULTI, &jwks, &["--kid", "k1", "--alias", "first"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = convert(MULTI, &jwks, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // jwcrypto finds both public keys, each kid its RFC 7638 thumbprint.
    assert_eq!(jwk_seen(&jwks).1.len(), 2, "both keys in the JWKS");
}
