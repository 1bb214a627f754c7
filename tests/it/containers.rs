//! Containers (issue 15, part A): PKCS#12 with an empty or NULL password,
//! PKCS#7 certificate bundles, the formats credkit names and refuses, JKS
//! duplicate aliases, JWKS deduplication and PKCS#8 with the empty password.
//! Each reading is compared with openssl's or keytool's on the fixtures in
//! `fixtures/containers/` (made by `fixtures/tools/make_containers.sh`).

use crate::support::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// `credkit inspect --json` with no password at all.
fn inspect_no_password(rel: &str) -> Value {
    let mut c = credkit();
    c.args(["inspect", "--json"]).arg(fixture(rel));
    let r = run(c);
    r.assert_ok();
    r.json()
}

fn sorted_set(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

/// SHA-256 fingerprints of the certificates in PEM text, via openssl.
fn openssl_fingerprints(pem: &str) -> BTreeSet<String> {
    pem_certs(pem)
        .iter()
        .map(|c| openssl_fingerprint(c, "sha256"))
        .collect()
}

/// SHA-256 (hex) of the DER SubjectPublicKeyInfo of a PEM key, via openssl.
fn openssl_public_key_hash(key_pem: &Path, passin: Option<&str>) -> String {
    let mut args = vec![
        "pkey".to_string(),
        "-in".into(),
        path_str(key_pem),
        "-pubout".into(),
        "-outform".into(),
        "DER".into(),
    ];
    if let Some(p) = passin {
        args.push("-passin".into());
        args.push(format!("pass:{p}"));
    }
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("pub.der");
    std::fs::write(&p, &out.stdout).expect("write");
    let dgst = peer("openssl", &["dgst", "-sha256", "-r", &path_str(&p)]);
    dgst.split_whitespace().next().expect("hash").to_string()
}

/// The certificates the business auth fixtures hold: leaf, intermediate, root.
fn auth_chain_fingerprints() -> BTreeSet<String> {
    let text = [
        std::fs::read_to_string(fixture("business/auth.cert.pem")).expect("leaf"),
        std::fs::read_to_string(fixture("ca/chain.pem")).expect("chain"),
    ]
    .concat();
    openssl_fingerprints(&text)
}

/// credkit's key, written as unencrypted PEM, hashed by openssl.
fn credkit_public_key_hash(rel: &str, dir: &Path) -> String {
    let out = dir.join(format!("{}.key.pem", rel.replace('/', "_")));
    let mut c = credkit();
    c.args(["convert", "-q", "--key-only", "--no-encrypt", "--to", "pem"])
        .arg(fixture(rel))
        .arg("-o")
        .arg(&out);
    run(c).assert_ok();
    openssl_public_key_hash(&out, None)
}

#[test]
fn empty_and_null_password_pkcs12_match_openssl() {
    let dir = tempfile::tempdir().expect("tmp");
    let source_key = openssl_public_key_hash(&fixture("business/auth.key.pem"), None);
    let e = "empty_string";
    let n = "null";
    let cases: &[(&str, Value, bool)] = &[
        (
            "containers/p12-null-password.p12",
            json!({"mac": n, "certificates": [n], "keys": [n]}),
            true,
        ),
        // openssl cannot read this one (it decrypts every part with the
        // MAC's encoding); keytool can, and so does credkit.
        (
            "containers/p12-mixed-password.p12",
            json!({"mac": e, "certificates": [e], "keys": [n]}),
            false,
        ),
        (
            "containers/p12-empty-password-openssl.p12",
            json!({"mac": e, "certificates": [null], "keys": [null]}),
            true,
        ),
        (
            "containers/p12-empty-password-openssl-legacy.p12",
            json!({"mac": e, "certificates": [e], "keys": [e]}),
            true,
        ),
    ];
    for (rel, encodings, openssl_reads) in cases {
        let report = inspect_no_password(rel);
        assert_eq!(report["pkcs12"]["empty_password"], *encodings, "{rel}");
        assert_eq!(report["integrity_verified"], true, "{rel}");
        let ours = sorted_set(reported_fingerprints(&report));
        assert_eq!(ours, auth_chain_fingerprints(), "{rel}");
        assert_eq!(
            credkit_public_key_hash(rel, dir.path()),
            source_key,
            "{rel}"
        );
        if *openssl_reads {
            let text = peer(
                "openssl",
                &[
                    "pkcs12",
                    "-legacy",
                    "-in",
                    &path_str(&fixture(rel)),
                    "-passin",
                    "pass:",
                    "-nodes",
                ],
            );
            assert_eq!(openssl_fingerprints(&text), ours, "{rel}");
            let key = dir.path().join("openssl.key.pem");
            std::fs::write(&key, &text).expect("write");
            assert_eq!(openssl_public_key_hash(&key, None), source_key, "{rel}");
        }
        // An explicitly empty password reads the same way.
        let mut c = credkit();
        c.args(["inspect", "--json", "--password-env", "EMPTY_PW"])
            .env("EMPTY_PW", "")
            .arg(fixture(rel));
        let r = run(c);
        r.assert_ok();
        assert_eq!(r.json()["pkcs12"]["empty_password"], *encodings, "{rel}");
    }
    // The text report says which encoding opened what.
    let mut c = credkit();
    c.arg("inspect")
        .arg(fixture("containers/p12-mixed-password.p12"));
    let r = run(c);
    r.assert_ok();
    assert!(
        r.stdout.contains(
            "password:     empty; opened MAC as empty string (00 00), certificates as empty \
             string (00 00), keys as NULL (no bytes)"
        ),
        "{}",
        r.stdout
    );
    // A real password leaves the field null.
    let report = inspect_json("p12/openssl3-aes-auth.p12");
    assert_eq!(report["pkcs12"]["empty_password"], Value::Null);
}

#[test]
fn keytool_reads_the_mixed_encoding_file_like_credkit() {
    let dir = tempfile::tempdir().expect("tmp");
    let jks = dir.path().join("out.jks");
    keytool_import(
        Store::new(&fixture("containers/p12-mixed-password.p12"), "PKCS12", ""),
        Store::new(&jks, "JKS", "changeit"),
        &[],
    );
    let list = keytool_list(&jks, "changeit");
    assert!(list.contains("PrivateKeyEntry"), "{list}");
}

/// `convert` writes an empty password that openssl (`-passin pass:`) and
/// keytool (`-srcstorepass ''`) both open, in the default and legacy modes.
#[test]
fn convert_writes_an_empty_password_openssl_and_keytool_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let source_key = openssl_public_key_hash(&fixture("business/auth.key.pem"), None);
    for legacy in [false, true] {
        let out = dir.path().join(format!("empty-{legacy}.p12"));
        let mut c = credkit();
        c.args(["convert", "-q", "--out-password-env", "EMPTY_PW"])
            .env("EMPTY_PW", "")
            .env("CREDKIT_PASSWORD", "changeit")
            .arg(fixture("p12/openssl3-aes-auth.p12"))
            .arg("-o")
            .arg(&out);
        if legacy {
            c.arg("--legacy");
        }
        run(c).assert_ok();
        let mut args = vec!["pkcs12", "-in"];
        let p = path_str(&out);
        args.push(&p);
        args.extend(["-passin", "pass:", "-nodes"]);
        if legacy {
            args.push("-legacy");
        }
        let text = peer("openssl", &args);
        assert_eq!(openssl_fingerprints(&text), auth_chain_fingerprints());
        let key = dir.path().join("k.pem");
        std::fs::write(&key, &text).expect("write");
        assert_eq!(openssl_public_key_hash(&key, None), source_key);
        let jks = dir.path().join(format!("kt-{legacy}.jks"));
        keytool_import(
            Store::new(&out, "PKCS12", ""),
            Store::new(&jks, "JKS", "changeit"),
            &[],
        );
        let list = keytool_list(&jks, "changeit");
        assert!(
            list.contains("auth,") && list.contains("PrivateKeyEntry"),
            "{list}"
        );
    }
}

#[test]
fn an_empty_encrypted_section_is_refused_like_openssl() {
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(fixture("containers/p12-empty-encrypted-section.p12"));
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let e = r.error_json();
    assert_eq!(e["error"]["code"], "input-invalid");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("encrypted section 1") && m.contains("no content")),
        "{e}"
    );
}

const BUNDLES: &[(&str, bool, usize)] = &[
    ("containers/openssl-chain.p7b", false, 1),
    ("containers/openssl-chain-der.p7b", true, 1),
    ("containers/openssl-chain-ber.p7b", true, 1),
    ("containers/nss-chain.p7c", true, 1),
    ("containers/openssl-pair-shuffled.p7b", false, 2),
];

#[test]
fn pkcs7_bundles_match_openssl_and_are_ordered_into_chains() {
    for (rel, der, chains) in BUNDLES {
        let report = inspect_no_password(rel);
        assert_eq!(report["format"], "pkcs7", "{rel}");
        let entries = report["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), *chains, "{rel}");
        for e in entries {
            assert_eq!(e["kind"], "certificate", "{rel}");
            assert_eq!(e["chain"]["length"], 3, "{rel}");
            assert_eq!(e["chain"]["in_order"], true, "{rel}");
            assert_eq!(e["chain"]["reaches_root"], true, "{rel}");
        }
        let path = path_str(&fixture(rel));
        let mut args = vec!["pkcs7", "-print_certs", "-in", &path];
        if *der {
            args.extend(["-inform", "DER"]);
        }
        let theirs = openssl_fingerprints(&peer("openssl", &args));
        assert_eq!(sorted_set(reported_fingerprints(&report)), theirs, "{rel}");
    }
    // The shuffled pair: each chain starts at its own leaf.
    let report = inspect_no_password("containers/openssl-pair-shuffled.p7b");
    let leaves: BTreeSet<String> = report["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["certificates"][0]["fingerprints"]["sha256"].to_string())
        .collect();
    assert_eq!(leaves.len(), 2);
    let r = {
        let mut c = credkit();
        c.arg("inspect").arg(fixture("containers/nss-chain.p7c"));
        run(c)
    };
    assert!(r.stdout.contains("BER indefinite lengths"), "{}", r.stdout);
    assert!(r.stdout.contains("appeared more than once"), "{}", r.stdout);
}

#[test]
fn pkcs7_converts_to_truststores_and_jwks_the_peers_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let input = fixture("containers/openssl-pair-shuffled.p7b");
    let want = openssl_fingerprints(&peer(
        "openssl",
        &["pkcs7", "-print_certs", "-in", &path_str(&input)],
    ));
    assert_eq!(want.len(), 4);
    let convert = |name: &str| {
        let out = dir.path().join(name);
        let mut c = credkit();
        c.args(["convert", "-q", "--out-password-env", "OUT_PW"])
            .env("OUT_PW", "changeit")
            .arg(&input)
            .arg("-o")
            .arg(&out);
        run(c).assert_ok();
        path_str(&out)
    };
    // PEM: each certificate once.
    let pem = std::fs::read_to_string(convert("bundle.pem")).expect("pem");
    assert_eq!(pem_certs(&pem).len(), 4);
    assert_eq!(openssl_fingerprints(&pem), want);
    // JKS and PKCS#12 truststores: keytool lists each certificate once.
    for (name, kind) in [("bundle.jks", "JKS"), ("bundle.p12", "PKCS12")] {
        let p = convert(name);
        let list = peer(
            "keytool",
            &[
                "-list",
                "-rfc",
                "-storetype",
                kind,
                "-keystore",
                &p,
                "-storepass",
                "changeit",
            ],
        );
        assert_eq!(pem_certs(&list).len(), 4, "{name}: {list}");
        assert_eq!(openssl_fingerprints(&list), want, "{name}");
    }
    let p12 = convert("bundle2.p12");
    let text = peer(
        "openssl",
        &["pkcs12", "-in", &p12, "-passin", "pass:changeit", "-nokeys"],
    );
    assert_eq!(openssl_fingerprints(&text), want);
    // JWKS: one key per chain, with the chain as x5c, read by jwcrypto.
    let jwks = convert("bundle.jwks");
    let tool = "import json,sys\nfrom jwcrypto import jwk\n\
                s = jwk.JWKSet.from_json(open(sys.argv[1]).read())\n\
                print(json.dumps(sorted([k.thumbprint() for k in s['keys']])))";
    let theirs: Value = serde_json::from_str(&peer("python3", &["-c", tool, &jwks])).expect("json");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&jwks).expect("read")).expect("jwks");
    let keys = doc["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    let mut kids: Vec<&str> = keys
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    kids.sort();
    assert_eq!(theirs, json!(kids));
    assert!(
        keys.iter()
            .all(|k| k["x5c"].as_array().map(Vec::len) == Some(3))
    );
}

#[test]
fn jwt_verify_and_check_take_a_pkcs7_bundle() {
    let mut c = credkit();
    c.args(["jwt", "mint", "--iss", "a", "--aud", "b", "--x5c", "--key"])
        .arg(fixture("p12/openssl3-aes-auth.p12"))
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_ok();
    let token = r.stdout.trim().to_string();
    for ca in [
        "containers/openssl-chain.p7b",
        "containers/openssl-chain-der.p7b",
        "containers/nss-chain.p7c",
    ] {
        let mut c = credkit();
        c.args(["jwt", "verify", &token, "--x5c", "--ca"])
            .arg(fixture(ca));
        let r = run(c);
        assert_eq!(r.code, 0, "{ca}: {}{}", r.stdout, r.stderr);
    }
    // check reads a bundle like any certificate file: no private key.
    let mut c = credkit();
    c.args(["check", "--json"])
        .arg(fixture("containers/openssl-chain.p7b"));
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("no-private-key"), "{}", r.stdout);
}

#[test]
fn named_formats_are_refused_with_the_way_out() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "containers/keytool-bc.bks",
            "BouncyCastle BKS keystore",
            "-srcstoretype BKS",
        ),
        (
            "containers/keytool-bc.uber",
            "BouncyCastle UBER keystore",
            "-srcstoretype UBER",
        ),
        (
            "containers/openssl.crl.pem",
            "certificate revocation list (CRL)",
            "openssl crl",
        ),
        (
            "containers/openssl.crl.der",
            "listing 1 revoked certificate",
            "openssl crl",
        ),
        (
            "containers/openssl.csr.pem",
            "certificate signing request (CSR)",
            "openssl req",
        ),
        ("containers/openssl.csr.der", "RSA 2048", "openssl req"),
        (
            "containers/openssl-empty.p7b",
            "holds no certificate",
            "openssl pkcs7",
        ),
        (
            "containers/openssl-crl-only.p7b",
            "1 CRL and no certificate",
            "openssl pkcs7",
        ),
    ];
    for (rel, what, way_out) in cases {
        let mut c = credkit();
        c.args(["inspect", "--json"]).arg(fixture(rel));
        let r = run(c);
        assert_eq!(r.code, 2, "{rel}");
        let e = r.error_json();
        assert_eq!(e["error"]["code"], "input-format-unsupported", "{rel}");
        let message = e["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(what), "{rel}: {message}");
        let hints = e["error"]["hints"].to_string();
        assert!(hints.contains(way_out), "{rel}: {hints}");
    }
    // The CSR names its subject as openssl reads it.
    let subject = peer(
        "openssl",
        &[
            "req",
            "-in",
            &path_str(&fixture("containers/openssl.csr.pem")),
            "-noout",
            "-subject",
            "-nameopt",
            "sep_comma_plus_space",
        ],
    );
    let subject = subject.trim().trim_start_matches("subject=").to_string();
    let mut c = credkit();
    c.arg("inspect").arg(fixture("containers/openssl.csr.pem"));
    let r = run(c);
    assert!(
        r.stderr.contains(&format!("\"{subject}\"")),
        "{subject}: {}",
        r.stderr
    );
}

#[test]
fn duplicate_jks_aliases_are_warned_about_and_keytool_keeps_the_last() {
    let report = inspect_json("containers/dup-alias.jks");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("the alias \\\"ca\\\" appears 2 times") && notes.contains("entry 2"),
        "{notes}"
    );
    let ours = reported_fingerprints(&report);
    let list = peer(
        "keytool",
        &[
            "-list",
            "-rfc",
            "-keystore",
            &path_str(&fixture("containers/dup-alias.jks")),
            "-storepass",
            "changeit",
        ],
    );
    let kept: Vec<String> = openssl_fingerprints(&list).into_iter().collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(ours.last(), kept.first(), "keytool keeps the last entry");
}

#[test]
fn jwks_output_holds_each_key_once() {
    // A key entry and a trusted entry of the same certificate (keytool).
    let dir = tempfile::tempdir().expect("tmp");
    let jks_path = dir.path().join("both.jks");
    let jks = path_str(&jks_path);
    keytool_import(
        Store::new(&fixture("p12/openssl3-aes-auth.p12"), "PKCS12", "changeit"),
        Store::new(&jks_path, "JKS", "changeit"),
        &[],
    );
    peer(
        "keytool",
        &[
            "-importcert",
            "-noprompt",
            "-alias",
            "auth-cert",
            "-file",
            &path_str(&fixture("business/auth.cert.pem")),
            "-keystore",
            &jks,
            "-storepass",
            "changeit",
        ],
    );
    let out = dir.path().join("out.jwks");
    let mut c = credkit();
    c.args(["convert", "--json", "--to", "jwks"])
        .arg(&jks)
        .arg("-o")
        .arg(&out)
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_ok();
    assert!(r.stdout.contains("the same key"), "{}", r.stdout);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read")).expect("jwks");
    let keys = doc["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{doc}");
    // The key entry is the one kept (its x5c is the whole chain).
    assert_eq!(keys[0]["x5c"].as_array().map(Vec::len), Some(3));
}

#[test]
fn encrypted_pkcs8_opens_with_the_empty_password_when_none_is_given() {
    let dir = tempfile::tempdir().expect("tmp");
    let pem = fixture("containers/pkcs8-empty-password.key");
    let der = dir.path().join("k.der");
    peer(
        "openssl",
        &[
            "pkcs8",
            "-topk8",
            "-in",
            &path_str(&fixture("business/auth.key.pem")),
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:",
            "-outform",
            "DER",
            "-out",
            &path_str(&der),
        ],
    );
    let theirs = openssl_public_key_hash(&pem, Some(""));
    for file in [pem.clone(), der] {
        let mut c = credkit();
        c.args(["inspect", "--json"]).arg(&file);
        let r = run(c);
        r.assert_ok();
        let key = &r.json()["entries"][0]["key"];
        assert!(
            key["protection"]
                .as_str()
                .is_some_and(|p| p.ends_with("empty password")),
            "{key}"
        );
        let out = dir.path().join("plain.pem");
        let mut c = credkit();
        c.args(["convert", "-q", "--no-encrypt", "--force", "--to", "pem"])
            .arg(&file)
            .arg("-o")
            .arg(&out);
        run(c).assert_ok();
        assert_eq!(openssl_public_key_hash(&out, None), theirs);
    }
    // Another password still needs to be given.
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(fixture("pem/rsa-pkcs8-encrypted.key"));
    let r = run(c);
    assert_eq!(r.code, 2);
    assert_eq!(r.error_json()["error"]["code"], "password-required");
}
