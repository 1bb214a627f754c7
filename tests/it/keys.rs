//! Keys credkit shows but cannot sign with, OpenSSH private keys, the
//! signature algorithms of certificates, and certificates that are not
//! strict DER: all on files made by openssl, keytool and ssh-keygen
//! (fixtures/keys/, fixtures/tools/make_keys.sh), compared with those tools
//! and with Python's `cryptography`.

use crate::support::*;
use credkit::cert::{Certificate, SignatureCheck, check_signature};
use serde_json::Value;
use std::process::Command;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of the DER public key openssl derives from a key file.
fn openssl_pubkey_sha256(rel: &str, extra: &[&str]) -> String {
    let path = path_str(&fixture(rel));
    let mut args = vec!["pkey", "-in", &path, "-pubout", "-outform", "DER"];
    args.extend_from_slice(extra);
    let out = Command::new("openssl")
        .args(&args)
        .output()
        .expect("openssl is installed");
    assert!(out.status.success(), "openssl pkey {rel}");
    hex(&credkit::key::sha256(&out.stdout))
}

/// SHA-256 of the DER public key Python's `cryptography` reads from a key
/// (PEM/PKCS#8 or OpenSSH).
fn python_pubkey_sha256(rel: &str) -> String {
    let script = r#"
import hashlib, sys
from cryptography.hazmat.primitives import serialization as s
data = open(sys.argv[1], 'rb').read()
if b'OPENSSH PRIVATE KEY' in data:
    k = s.load_ssh_private_key(data, None)
else:
    k = s.load_pem_private_key(data, None)
der = k.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
print(hashlib.sha256(der).hexdigest())
"#;
    peer("python3", &["-c", script, &path_str(&fixture(rel))])
        .trim()
        .to_string()
}

fn first_key(report: &Value) -> &Value {
    &report["entries"][0]["key"]
}

#[test]
fn keys_that_cannot_sign_are_shown_with_type_size_and_curve() {
    // (file, algorithm, bits, curve, openssl -pubout extra args or None when
    // credkit does not derive the public key)
    type Case<'a> = (
        &'a str,
        &'a str,
        u64,
        Option<&'a str>,
        Option<&'a [&'a str]>,
    );
    let cases: &[Case] = &[
        ("keys/dsa-pkcs8.key", "DSA", 2048, None, Some(&[])),
        ("keys/dsa-traditional.key", "DSA", 2048, None, Some(&[])),
        ("keys/ed448.key", "Ed448", 456, None, None),
        ("keys/x25519.key", "X25519", 253, None, Some(&[])),
        ("keys/x448.key", "X448", 448, None, None),
        (
            "keys/secp256k1-sec1.key",
            "EC",
            256,
            Some("secp256k1"),
            Some(&[]),
        ),
        (
            "keys/secp256k1-pkcs8.key",
            "EC",
            256,
            Some("secp256k1"),
            Some(&[]),
        ),
    ];
    for (rel, alg, bits, curve, pub_args) in cases {
        let report = inspect_json(rel);
        let k = first_key(&report);
        assert_eq!(k["algorithm"], *alg, "{rel}: {k}");
        assert_eq!(k["bits"], *bits, "{rel}: {k}");
        assert_eq!(k["curve"].as_str(), *curve, "{rel}: {k}");
        assert_eq!(k["private"], true, "{rel}");
        assert!(
            k["cannot_sign"].as_str().is_some_and(|s| !s.is_empty()),
            "{rel}: no reason why it cannot sign: {k}"
        );
        match pub_args {
            Some(args) => assert_eq!(
                k["public_key_sha256"].as_str(),
                Some(openssl_pubkey_sha256(rel, args).as_str()),
                "{rel}: public key differs from openssl's"
            ),
            None => {
                // Not derived (no Ed448/X448 arithmetic in the tree); the peer
                // can, which shows the file does hold a key.
                assert!(k["public_key_sha256"].is_null(), "{rel}");
                assert_eq!(python_pubkey_sha256(rel).len(), 64, "{rel}");
            }
        }
    }
}

#[test]
fn explicit_parameter_ec_keys_are_the_named_curve_and_sign() {
    for (rel, curve) in [
        ("keys/ec-p256-explicit-sec1.key", "P-256"),
        ("keys/ec-p256-explicit-pkcs8.key", "P-256"),
        ("keys/ec-p384-explicit-sec1.key", "P-384"),
        ("keys/ec-p384-explicit-pkcs8.key", "P-384"),
    ] {
        let report = inspect_json(rel);
        let k = first_key(&report);
        assert_eq!(k["algorithm"], "EC", "{rel}");
        assert_eq!(k["curve"], curve, "{rel}");
        assert!(k["cannot_sign"].is_null(), "{rel}: {k}");
        // openssl writes the explicit parameters again unless told otherwise.
        assert_eq!(
            k["public_key_sha256"].as_str(),
            Some(openssl_pubkey_sha256(rel, &["-ec_param_enc", "named_curve"]).as_str()),
            "{rel}"
        );
        let mut c = credkit();
        c.args([
            "jwt", "mint", "--iss", "a", "--aud", "b", "--sub", "c", "--key",
        ])
        .arg(fixture(rel));
        run(c).assert_ok();
    }
}

#[test]
fn containers_holding_a_dsa_key_still_show_their_certificate() {
    // PKCS#12 from openssl and JKS from keytool -genkeypair -keyalg DSA.
    let report = inspect_json("keys/dsa.p12");
    let e = &report["entries"][0];
    assert_eq!(e["key"]["algorithm"], "DSA");
    assert_eq!(e["key"]["bits"], 2048);
    assert_eq!(e["key_matches_certificate"], true, "{e}");
    let pem = std::fs::read_to_string(fixture("keys/dsa-selfsigned.pem")).expect("pem");
    assert_eq!(
        reported_fingerprints(&report),
        vec![openssl_fingerprint(&pem, "sha256")]
    );
    assert_eq!(e["certificates"][0]["self_signature"], "valid");

    let report = inspect_json("keys/dsa.jks");
    let e = &report["entries"][0];
    assert_eq!(e["key"]["algorithm"], "DSA");
    assert_eq!(e["key_matches_certificate"], true, "{e}");
    let exported = peer(
        "keytool",
        &[
            "-exportcert",
            "-rfc",
            "-alias",
            "dsa",
            "-keystore",
            &path_str(&fixture("keys/dsa.jks")),
            "-storepass",
            "changeit",
        ],
    );
    assert_eq!(
        reported_fingerprints(&report),
        vec![openssl_fingerprint(&exported, "sha256")]
    );
    // keytool signs its DSA certificate with SHA256withDSA.
    assert_eq!(
        e["certificates"][0]["signature_algorithm"],
        "dsa-with-SHA256"
    );
    assert_eq!(e["certificates"][0]["self_signature"], "valid");
}

#[test]
fn check_and_mint_say_the_key_type_cannot_sign() {
    for rel in [
        "keys/dsa.p12",
        "keys/ed448.key",
        "keys/x25519.key",
        "keys/secp256k1-pkcs8.key",
    ] {
        let mut c = credkit();
        c.args(["check", "--json"])
            .arg(fixture(rel))
            .env("CREDKIT_PASSWORD", "changeit");
        let r = run(c);
        assert_eq!(r.code, 1, "{rel}: {}", r.stderr);
        let ids: Vec<String> = r.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["id"].as_str().unwrap_or("").to_string())
            .collect();
        assert!(
            ids.iter().any(|i| i == "key-algorithm-not-accepted"),
            "{rel}: {ids:?}"
        );

        let mut c = credkit();
        c.args([
            "jwt", "mint", "--force", "--iss", "a", "--aud", "b", "--key",
        ])
        .arg(fixture(rel))
        .env("CREDKIT_PASSWORD", "changeit");
        let r = run(c);
        assert_eq!(r.code, 2, "{rel}: {}", r.stderr);
        assert!(
            r.stderr.contains("no JWS algorithm fits"),
            "{rel}: {}",
            r.stderr
        );
    }
}

#[test]
fn convert_carries_dsa_keys_to_pkcs12_and_names_them_for_jwks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p12 = dir.path().join("out.p12");
    let mut c = credkit();
    c.arg("convert")
        .arg(fixture("keys/dsa.p12"))
        .arg("-o")
        .arg(&p12)
        .args(["--to", "pkcs12"])
        .env("CREDKIT_PASSWORD", "changeit");
    run(c).assert_ok();
    // openssl opens what credkit wrote, and the key is the same key.
    let key_pem = peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(&p12),
            "-passin",
            "pass:changeit",
            "-nocerts",
            "-nodes",
        ],
    );
    let kfile = dir.path().join("k.pem");
    std::fs::write(&kfile, key_pem).expect("write");
    let out = Command::new("openssl")
        .args([
            "pkey",
            "-pubout",
            "-outform",
            "DER",
            "-in",
            &path_str(&kfile),
        ])
        .output()
        .expect("openssl");
    assert!(out.status.success());
    let original = inspect_json("keys/dsa.p12");
    assert_eq!(
        first_key(&original)["public_key_sha256"].as_str(),
        Some(hex(&credkit::key::sha256(&out.stdout)).as_str())
    );

    // A JWKS holds the RSA key and names the DSA key it cannot hold.
    let both = dir.path().join("both.pem");
    let text = [
        std::fs::read_to_string(fixture("keys/rsa1024.key")).expect("rsa"),
        std::fs::read_to_string(fixture("keys/dsa-traditional.key")).expect("dsa"),
    ]
    .concat();
    std::fs::write(&both, text).expect("write");
    let jwks = dir.path().join("out.jwks");
    let mut c = credkit();
    c.arg("convert")
        .arg(&both)
        .arg("-o")
        .arg(&jwks)
        .args(["--to", "jwks"]);
    let r = run(c);
    r.assert_ok();
    assert!(
        r.stderr.contains("JWK cannot hold a DSA key")
            || r.stdout.contains("JWK cannot hold a DSA key"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&jwks).expect("jwks")).expect("json");
    assert_eq!(doc["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["keys"][0]["kty"], "RSA");
}

#[test]
fn openssh_private_keys_are_read_and_sign() {
    for (rel, alg, curve) in [
        ("keys/openssh-ed25519.key", "Ed25519", None),
        ("keys/openssh-rsa.key", "RSA", None),
        ("keys/openssh-ecdsa.key", "EC", Some("P-256")),
        ("keys/openssh-ecdsa384.key", "EC", Some("P-384")),
    ] {
        let report = inspect_json(rel);
        let k = first_key(&report);
        assert_eq!(k["algorithm"], alg, "{rel}");
        assert_eq!(k["curve"].as_str(), curve, "{rel}");
        assert_eq!(
            k["public_key_sha256"].as_str(),
            Some(python_pubkey_sha256(rel).as_str()),
            "{rel}: public key differs from Python cryptography's"
        );
        // The key signs, and PyJWT verifies the token with the public key
        // ssh-keygen wrote.
        let mut c = credkit();
        c.args([
            "jwt", "mint", "--iss", "a", "--aud", "b", "--sub", "c", "--key",
        ])
        .arg(fixture(rel));
        let r = run(c);
        r.assert_ok();
        let token = r.stdout.trim();
        let script = r#"
import sys, jwt
from cryptography.hazmat.primitives import serialization as s
pub = s.load_ssh_public_key(open(sys.argv[1], 'rb').read())
h = jwt.get_unverified_header(sys.argv[2])
# The token was minted at the tests' pinned clock, so expiry is not checked.
opts = {'verify_exp': False, 'verify_iat': False, 'verify_nbf': False}
print(jwt.decode(sys.argv[2], key=pub, algorithms=[h['alg']], audience='b', options=opts)['iss'])
"#;
        let pubfile = path_str(&fixture(&rel.replace(".key", ".pub")));
        assert_eq!(
            peer("python3", &["-c", script, &pubfile, token]).trim(),
            "a"
        );
    }
}

#[test]
fn encrypted_openssh_keys_name_the_way_out() {
    for (rel, way) in [
        ("keys/openssh-rsa_enc.key", "ssh-keygen -p -m PKCS8 -f"),
        ("keys/openssh-ed25519_enc.key", "ssh-keygen -p -N '' -f"),
    ] {
        let mut c = credkit();
        c.args(["inspect", "--json"]).arg(fixture(rel));
        let r = run(c);
        assert_eq!(r.code, 2, "{rel}");
        let e = r.error_json();
        assert_eq!(e["error"]["code"], "algorithm-unsupported", "{rel}");
        let all = e.to_string();
        assert!(
            all.contains("encrypted OpenSSH private key"),
            "{rel}: {all}"
        );
        assert!(all.contains(way), "{rel}: {all}");
        assert!(
            !all.contains("PBES2"),
            "{rel}: the re-encryption hint: {all}"
        );
    }
}

#[test]
fn self_signatures_of_every_algorithm_agree_with_openssl() {
    for (rel, expected) in [
        ("keys/rsa-pss-selfsigned.pem", "valid"),
        ("keys/rsa-pss-sha384-salt20.pem", "valid"),
        ("keys/rsa1024-selfsigned.pem", "valid"),
        ("keys/ecdsa-sha1-selfsigned.pem", "valid"),
        ("keys/ecdsa-p384-sha1-selfsigned.pem", "valid"),
        ("keys/dsa-selfsigned.pem", "valid"),
        ("keys/secp256k1-selfsigned.pem", "valid"),
        ("keys/ed448-selfsigned.pem", "not checked: algorithm Ed448"),
    ] {
        let path = path_str(&fixture(rel));
        // openssl verifies every one of them.
        peer("openssl", &["verify", "-CAfile", &path, &path]);
        let report = inspect_json(rel);
        let cert = &report["entries"][0]["certificates"][0];
        assert_eq!(cert["self_signature"], expected, "{rel}");
        assert_eq!(cert["self_signed"], expected == "valid", "{rel}");
        let chain = &report["entries"][0]["chain"];
        assert_eq!(chain["reaches_root"], true, "{rel}: {chain}");
        let pem = std::fs::read_to_string(fixture(rel)).expect("pem");
        assert_eq!(
            reported_fingerprints(&report),
            vec![openssl_fingerprint(&pem, "sha256")],
            "{rel}"
        );
        if expected != "valid" {
            assert_eq!(
                chain["unchecked"][0], "self-signature not checked: algorithm Ed448",
                "{rel}"
            );
            assert!(
                !chain["problems"].to_string().contains("self-signed root"),
                "{rel}: {chain}"
            );
        }
    }
}

/// The DER of the first certificate in a PEM fixture.
fn cert_der(rel: &str) -> Vec<u8> {
    use base64::Engine;
    let text = std::fs::read_to_string(fixture(rel)).expect("fixture");
    let b64: String = pem_certs(&text)[0]
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64")
}

#[test]
fn a_changed_signature_is_invalid_for_every_algorithm() {
    for rel in [
        "keys/rsa-pss-selfsigned.pem",
        "keys/rsa-pss-sha384-salt20.pem",
        "keys/rsa1024-selfsigned.pem",
        "keys/ecdsa-sha1-selfsigned.pem",
        "keys/ecdsa-p384-sha1-selfsigned.pem",
        "keys/dsa-selfsigned.pem",
        "keys/secp256k1-selfsigned.pem",
    ] {
        let c = Certificate::from_der(&cert_der(rel)).expect("parses");
        let key = c.public_key.clone().expect("key");
        assert_eq!(check_signature(&c, &key), SignatureCheck::Valid, "{rel}");
        let mut bad = c.clone();
        bad.tbs[20] ^= 1;
        assert_eq!(
            check_signature(&bad, &key),
            SignatureCheck::Invalid,
            "{rel}"
        );
        // Another algorithm's key did not make it.
        let other = Certificate::from_der(&cert_der("keys/rsa1024-selfsigned.pem"))
            .expect("parses")
            .public_key
            .expect("key");
        if !rel.contains("rsa") {
            assert_eq!(
                check_signature(&c, &other),
                SignatureCheck::Invalid,
                "{rel}"
            );
        }
    }
}

#[test]
fn a_chain_signed_with_rsa_pss_is_in_order_and_reaches_its_root() {
    let path = path_str(&fixture("keys/rsa-pss-chain.pem"));
    let text = std::fs::read_to_string(&path).expect("chain");
    let certs = pem_certs(&text);
    let dir = tempfile::tempdir().expect("tempdir");
    let (leaf, root) = (dir.path().join("leaf.pem"), dir.path().join("root.pem"));
    std::fs::write(&leaf, &certs[0]).expect("write");
    std::fs::write(&root, &certs[1]).expect("write");
    peer(
        "openssl",
        &["verify", "-CAfile", &path_str(&root), &path_str(&leaf)],
    );
    let report = inspect_json("keys/rsa-pss-chain.pem");
    let chain = &report["entries"][0]["chain"];
    assert_eq!(chain["length"], 2);
    assert_eq!(chain["in_order"], true, "{chain}");
    assert_eq!(chain["reaches_root"], true, "{chain}");
    assert_eq!(chain["unchecked"], serde_json::json!([]));
}

#[test]
fn check_raises_no_chain_finding_on_an_unchecked_self_signature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let both = dir.path().join("ed448.pem");
    let text = [
        std::fs::read_to_string(fixture("keys/ed448.key")).expect("key"),
        std::fs::read_to_string(fixture("keys/ed448-selfsigned.pem")).expect("cert"),
    ]
    .concat();
    std::fs::write(&both, text).expect("write");
    let mut c = credkit();
    c.args(["check", "--json"]).arg(&both);
    let r = run(c);
    let ids: Vec<String> = r.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        ids.iter().any(|i| i == "key-algorithm-not-accepted"),
        "{ids:?}"
    );
    for id in [
        "chain-incomplete",
        "chain-missing-intermediate",
        "chain-order",
    ] {
        assert!(
            !ids.iter().any(|i| i == id),
            "{id} from an unchecked signature: {ids:?}"
        );
    }
}

#[test]
fn certificates_that_are_not_der_are_read_and_warned_about() {
    for (rel, why) in [
        (
            "keys/keyusage-trailing-bytes-with-key.pem",
            "extension keyUsage: 3 bytes after the value",
        ),
        (
            "keys/ber-certificate-with-key.pem",
            "BER encoding: an indefinite length",
        ),
    ] {
        let path = path_str(&fixture(rel));
        let ku = peer(
            "openssl",
            &["x509", "-in", &path, "-noout", "-ext", "keyUsage"],
        );
        assert!(ku.contains("Digital Signature"), "{ku}");
        let report = inspect_json(rel);
        let cert = &report["entries"][0]["certificates"][0];
        assert_eq!(cert["not_der"][0], why, "{rel}: {cert}");
        assert_eq!(
            cert["key_usage"],
            serde_json::json!(["digitalSignature", "keyCertSign"])
        );
        assert_eq!(cert["self_signature"], "valid", "{rel}");
        let text = std::fs::read_to_string(&path).expect("pem");
        assert_eq!(
            reported_fingerprints(&report),
            vec![openssl_fingerprint(&pem_certs(&text)[0], "sha256")],
            "{rel}"
        );

        let mut c = credkit();
        c.args(["check", "--json"]).arg(&path);
        let r = run(c);
        let f = r.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["id"] == "certificate-not-der")
            .cloned()
            .unwrap_or_else(|| panic!("{rel}: no certificate-not-der: {}", r.stdout));
        assert_eq!(f["severity"], "warning");
        assert!(f["message"].as_str().unwrap_or("").contains(why), "{f}");
    }
}

#[test]
fn malformed_certificates_are_named_by_structure_not_byte_offset() {
    let good = cert_der("keys/rsa1024-selfsigned.pem");
    // Break the notBefore time (UTCTime, 13 bytes) of the second certificate.
    let mut bad = good.clone();
    let at = bad
        .windows(2)
        .position(|w| w == [0x17, 0x0d])
        .expect("a UTCTime");
    bad[at + 2] = b'x';
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("two.der");
    std::fs::write(&file, [good, bad].concat()).expect("write");
    let mut c = credkit();
    c.args(["inspect", "--json"]).arg(&file);
    let r = run(c);
    assert_eq!(r.code, 2);
    let e = r.error_json();
    assert_eq!(e["error"]["code"], "certificate-malformed");
    let msg = e["error"]["message"].as_str().unwrap_or("").to_string();
    assert!(
        msg.contains("certificate 2, the validity (notBefore)"),
        "{msg}"
    );
    assert!(!msg.contains("at byte"), "{msg}");
}
