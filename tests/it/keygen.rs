//! `keygen`, checked by code other than credkit's: openssl (x509 -text,
//! asn1parse, verify, pkey, pkcs12), keytool, and pyca/cryptography
//! (tests/tools/x509_peer.py) and jwcrypto for JWKs. credkit only writes;
//! every expectation comes from a peer reading the output.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PW: &str = "changeit";
/// One day after `--now`, for `openssl verify -attime` (new certificates start at `--now`).
const VERIFY_AT: &str = "1795521600";
const ORG: &str = "123456785";

fn keygen(dir: &Path, args: &[&str]) -> Run {
    keygen_at(Clock::Pinned, dir, PW, args)
}

fn keygen_ok(dir: &Path, args: &[&str]) -> Run {
    let r = keygen(dir, args);
    r.assert_ok();
    r
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// A command that may fail: (success, stdout + stderr).
fn try_peer(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// openssl's reading of a PKCS#12 file: (certificates with a key, other certificates).
fn p12_certs(path: &Path) -> (Vec<String>, Vec<String>) {
    let p = path_str(path);
    let pass = format!("pass:{PW}");
    let leaf = peer(
        "openssl",
        &["pkcs12", "-in", &p, "-passin", &pass, "-nokeys", "-clcerts"],
    );
    let cas = peer(
        "openssl",
        &["pkcs12", "-in", &p, "-passin", &pass, "-nokeys", "-cacerts"],
    );
    (pem_certs(&leaf), pem_certs(&cas))
}

/// The unencrypted private keys openssl finds in a PKCS#12 file (PEM).
fn p12_key(path: &Path) -> String {
    peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(path),
            "-passin",
            &format!("pass:{PW}"),
            "-nocerts",
            "-nodes",
        ],
    )
}

/// pyca/cryptography's description of the first certificate in a file.
fn describe(path: &Path) -> Value {
    let tool = root().join("tests/tools/x509_peer.py");
    let out = peer("python3", &[&path_str(&tool), "describe", &path_str(path)]);
    serde_json::from_str(&out).expect("x509_peer json")
}

fn issued_by(cert: &Path, issuer: &Path) -> bool {
    let tool = root().join("tests/tools/x509_peer.py");
    try_peer(
        "python3",
        &[
            &path_str(&tool),
            "issued-by",
            &path_str(cert),
            &path_str(issuer),
        ],
    )
    .0
}

/// `openssl verify` at one day after --now.
fn verify(ca: &Path, untrusted: Option<&Path>, leaf: &Path) -> (bool, String) {
    let ca = path_str(ca);
    let leaf = path_str(leaf);
    let mut args = vec!["verify", "-attime", VERIFY_AT, "-CAfile", &ca];
    let u;
    if let Some(p) = untrusted {
        u = path_str(p);
        args.extend(["-untrusted", &u]);
    }
    args.push(&leaf);
    try_peer("openssl", &args)
}

/// `openssl asn1parse` of the first certificate in a PEM file (via `openssl x509`).
fn cert_asn1(pem: &Path) -> String {
    let dir = tmp();
    let cert = dir.path().join("cert.pem");
    peer(
        "openssl",
        &["x509", "-in", &path_str(pem), "-out", &path_str(&cert)],
    );
    peer("openssl", &["asn1parse", "-in", &path_str(&cert)])
}

fn x509_text(cert: &Path) -> String {
    peer(
        "openssl",
        &[
            "x509",
            "-noout",
            "-text",
            "-nameopt",
            "oneline",
            "-in",
            &path_str(cert),
        ],
    )
}

/// SHA-256 of the SubjectPublicKeyInfo, as openssl derives it from a PEM key or certificate.
fn spki_hash(pem: &Path, is_cert: bool) -> String {
    let p = path_str(pem);
    let pubkey = if is_cert {
        peer("openssl", &["x509", "-noout", "-pubkey", "-in", &p])
    } else {
        peer(
            "openssl",
            &[
                "pkey",
                "-pubout",
                "-passin",
                &format!("pass:{PW}"),
                "-in",
                &p,
            ],
        )
    };
    let dir = tmp();
    let f = write(dir.path(), "pub.pem", &pubkey);
    let der = dir.path().join("pub.der");
    peer(
        "openssl",
        &[
            "pkey",
            "-pubin",
            "-in",
            &path_str(&f),
            "-outform",
            "DER",
            "-out",
            &path_str(&der),
        ],
    );
    let out = peer("openssl", &["dgst", "-sha256", "-r", &path_str(&der)]);
    out.split_whitespace().next().expect("digest").to_string()
}

/// Root and intermediate in ca.p12, written out by openssl as root.pem and int.pem.
fn make_ca(dir: &Path, extra: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    let mut args = vec!["--make-ca", "--intermediate", "-o", "ca.p12"];
    args.extend_from_slice(extra);
    keygen_ok(dir, &args);
    let (leafs, _) = p12_certs(&dir.join("ca.p12"));
    assert_eq!(leafs.len(), 2, "root and intermediate, each with its key");
    // keytool-free way to tell them apart: the root is self-issued.
    let mut root = None;
    let mut int = None;
    for c in leafs {
        let p = write(dir, "probe.pem", &c);
        let d = describe(&p);
        if d["subject"] == d["issuer"] {
            root = Some(c);
        } else {
            int = Some(c);
        }
    }
    let root = write(dir, "root.pem", &root.expect("root"));
    let int = write(dir, "int.pem", &int.expect("intermediate"));
    (dir.join("ca.p12"), root, int)
}

fn subject_of(d: &Value, oid: &str) -> Vec<String> {
    d["subject"]
        .as_array()
        .expect("subject")
        .iter()
        .filter(|a| a[0] == oid)
        .map(|a| a[1].as_str().expect("value").to_string())
        .collect()
}

#[test]
fn ca_chain_and_business_pair_verify_with_openssl_and_cryptography() {
    let dir = tmp();
    let d = dir.path();
    let (ca, root, int) = make_ca(d, &[]);
    // The root and the intermediate, as openssl and cryptography see them.
    let r = describe(&root);
    assert_eq!(r["basic_constraints"]["ca"], true);
    assert_eq!(r["basic_constraints"]["critical"], true);
    assert_eq!(
        r["key_usage"],
        serde_json::json!(["cRLSign", "keyCertSign"])
    );
    assert_eq!(r["aki"], r["ski"], "a root's AKI is its own SKI");
    let i = describe(&int);
    assert_eq!(i["basic_constraints"]["ca"], true);
    assert_eq!(i["basic_constraints"]["path_length"], 0);
    assert_eq!(i["aki"], r["ski"]);
    assert_eq!(i["issuer"], r["subject"]);
    assert!(issued_by(&int, &root));
    let (ok, out) = verify(&root, None, &int);
    assert!(ok, "{out}");

    keygen_ok(
        d,
        &[
            "--ca",
            &path_str(&ca),
            "--ca-alias",
            "intermediate",
            "--org-number",
            ORG,
            "--usage",
            "both",
            "-o",
            "virksomhet.p12",
        ],
    );
    let (leafs, chain) = p12_certs(&d.join("virksomhet.p12"));
    assert_eq!(leafs.len(), 2, "auth and sign");
    assert_eq!(chain.len(), 2, "intermediate and root, stored once");
    let mut usages = Vec::new();
    for (n, pem) in leafs.iter().enumerate() {
        let leaf = write(d, &format!("leaf{n}.pem"), pem);
        let (ok, out) = verify(&root, Some(&int), &leaf);
        assert!(ok, "openssl verify: {out}");
        assert!(
            issued_by(&leaf, &int),
            "cryptography: not signed by the intermediate"
        );
        let c = describe(&leaf);
        assert_eq!(c["version"], "v3");
        assert_eq!(subject_of(&c, "2.5.4.6"), ["NO"]);
        assert_eq!(subject_of(&c, "2.5.4.5"), [ORG]);
        assert_eq!(subject_of(&c, "2.5.4.97"), [format!("NTRNO-{ORG}")]);
        assert_eq!(subject_of(&c, "2.5.4.10"), subject_of(&c, "2.5.4.3"));
        assert_eq!(c["issuer"], i["subject"]);
        assert_eq!(c["aki"], i["ski"], "AKI must be the issuer's SKI");
        assert_eq!(c["ski"], c["ski_from_key"], "SKI is RFC 5280 method 1");
        assert_eq!(c["key_usage_critical"], true);
        assert_eq!(c["basic_constraints"]["ca"], false);
        assert_eq!(c["not_before"], NOW);
        assert_eq!(c["not_after"], "2027-11-23T12:00:00Z");
        assert_eq!(c["key"], "RSA 2048");
        assert_eq!(c["signature_oid"], "1.2.840.113549.1.1.11");
        assert!(
            c["serial"]
                .as_str()
                .expect("serial")
                .parse::<u128>()
                .expect("u128")
                > 0
        );
        usages.push((c["key_usage"].clone(), c["extended_key_usage"].clone()));
        // openssl's text view agrees.
        let text = x509_text(&leaf);
        assert!(text.contains("serialNumber = 123456785"), "{text}");
        assert!(
            text.contains("organizationIdentifier = NTRNO-123456785"),
            "{text}"
        );
        assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
    }
    usages.sort_by_key(|u| u.0.to_string());
    assert_eq!(
        usages,
        [
            (
                serde_json::json!(["digitalSignature", "keyEncipherment"]),
                serde_json::json!(["1.3.6.1.5.5.7.3.2"])
            ),
            (serde_json::json!(["nonRepudiation"]), Value::Null),
        ]
    );
    // The two halves have their own keys.
    let keys = p12_key(&d.join("virksomhet.p12"));
    assert_eq!(keys.matches("BEGIN PRIVATE KEY").count(), 2);
}

#[test]
fn country_and_serial_number_are_printable_strings() {
    let dir = tmp();
    let d = dir.path();
    keygen_ok(
        d,
        &[
            "--self-signed",
            "--org-number",
            ORG,
            "--algorithm",
            "p256",
            "-o",
            "c.pem",
            "--no-encrypt",
        ],
    );
    let parsed = cert_asn1(&d.join("c.pem"));
    // In the subject (the second Name), each attribute's type follows its OID line.
    let lines: Vec<&str> = parsed.lines().collect();
    let types_after = |name: &str| -> Vec<String> {
        lines
            .windows(2)
            .filter(|w| w[0].trim_end().ends_with(&format!(":{name}")))
            .map(|w| {
                w[1].split(':')
                    .nth(2)
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(
        types_after("countryName"),
        ["PRINTABLESTRING", "PRINTABLESTRING"],
        "{parsed}"
    );
    assert_eq!(
        types_after("serialNumber"),
        ["PRINTABLESTRING", "PRINTABLESTRING"],
        "{parsed}"
    );
    assert_eq!(
        types_after("organizationName"),
        ["UTF8STRING", "UTF8STRING"],
        "{parsed}"
    );
    assert!(parsed.contains("prim: UTCTIME"), "{parsed}");
}

#[test]
fn subject_validity_and_generalized_time() {
    let dir = tmp();
    let d = dir.path();
    keygen_ok(
        d,
        &[
            "--self-signed",
            "--subject",
            "C=NO, O=Acme AS, OU=Team A, OU=Team B, CN=acme-client",
            "--not-before",
            "2030-01-01T00:00:00Z",
            "--not-after",
            "2051-06-30T12:00:00Z",
            "--algorithm",
            "ed25519",
            "-o",
            "c.pem",
            "--no-encrypt",
        ],
    );
    let c = describe(&d.join("c.pem"));
    assert_eq!(
        c["subject"],
        serde_json::json!([
            ["2.5.4.6", "NO"],
            ["2.5.4.10", "Acme AS"],
            ["2.5.4.11", "Team A"],
            ["2.5.4.11", "Team B"],
            ["2.5.4.3", "acme-client"]
        ])
    );
    assert_eq!(c["not_before"], "2030-01-01T00:00:00Z");
    assert_eq!(c["not_after"], "2051-06-30T12:00:00Z");
    assert_eq!(c["key"], "Ed25519");
    let parsed = cert_asn1(&d.join("c.pem"));
    assert!(
        parsed.contains("prim: UTCTIME"),
        "2030 is UTCTime: {parsed}"
    );
    assert!(
        parsed.contains("prim: GENERALIZEDTIME"),
        "2051 is GeneralizedTime: {parsed}"
    );
    // --days counts from --now.
    keygen_ok(
        d,
        &[
            "--self-signed",
            "--days",
            "30",
            "--algorithm",
            "p256",
            "-o",
            "d.pem",
            "--no-encrypt",
        ],
    );
    let c = describe(&d.join("d.pem"));
    assert_eq!(c["not_before"], NOW);
    assert_eq!(c["not_after"], "2026-12-23T12:00:00Z");
    assert_eq!(subject_of(&c, "2.5.4.3"), ["credkit test client"]);
}

#[test]
fn every_algorithm_makes_a_key_openssl_accepts() {
    let dir = tmp();
    let d = dir.path();
    for (alg, text, sig) in [
        (
            "rsa2048",
            "Public-Key: (2048 bit)",
            "sha256WithRSAEncryption",
        ),
        (
            "rsa3072",
            "Public-Key: (3072 bit)",
            "sha256WithRSAEncryption",
        ),
        (
            "rsa4096",
            "Public-Key: (4096 bit)",
            "sha256WithRSAEncryption",
        ),
        ("p256", "ASN1 OID: prime256v1", "ecdsa-with-SHA256"),
        ("p384", "ASN1 OID: secp384r1", "ecdsa-with-SHA384"),
        ("ed25519", "ED25519", "ED25519"),
    ] {
        let out = format!("{alg}.pem");
        keygen_ok(d, &["--self-signed", "--algorithm", alg, "-o", &out]);
        let pem = d.join(&out);
        let body = std::fs::read_to_string(&pem).expect("read");
        assert!(
            body.contains("BEGIN ENCRYPTED PRIVATE KEY"),
            "{alg}: key not encrypted"
        );
        let t = x509_text(&pem);
        assert!(t.contains(text), "{alg}: {t}");
        assert!(
            t.contains(&format!("Signature Algorithm: {sig}")),
            "{alg}: {t}"
        );
        // The self-signed certificate verifies against itself and belongs to the key.
        let (ok, msg) = verify(&pem, None, &pem);
        assert!(ok, "{alg}: {msg}");
        assert_eq!(spki_hash(&pem, true), spki_hash(&pem, false), "{alg}");
    }
}

#[test]
fn bare_keys_in_every_key_format() {
    let dir = tmp();
    let d = dir.path();
    // PEM, encrypted with CREDKIT_PASSWORD, mode 0600.
    let r = keygen_ok(d, &["--algorithm", "p384", "-o", "key.pem"]);
    assert!(r.stderr.contains("wrote key.pem"), "{}", r.stderr);
    let text = peer(
        "openssl",
        &[
            "pkey",
            "-passin",
            &format!("pass:{PW}"),
            "-noout",
            "-text",
            "-in",
            &path_str(&d.join("key.pem")),
        ],
    );
    assert!(text.contains("NIST CURVE: P-384"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("key.pem"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // DER, encrypted PKCS#8.
    keygen_ok(d, &["--algorithm", "rsa2048", "-o", "key.der"]);
    let text = peer(
        "openssl",
        &[
            "pkey",
            "-inform",
            "DER",
            "-passin",
            &format!("pass:{PW}"),
            "-noout",
            "-text",
            "-in",
            &path_str(&d.join("key.der")),
        ],
    );
    assert!(text.contains("Private-Key: (2048 bit"), "{text}");
    // A private JWK that jwcrypto reads, kid = RFC 7638 thumbprint.
    keygen_ok(d, &["--algorithm", "ed25519", "-o", "key.jwk", "--private"]);
    let tool = root().join("tests/tools/jose_peer.py");
    let keys = peer(
        "python3",
        &[&path_str(&tool), "keys", &path_str(&d.join("key.jwk"))],
    );
    let f: Vec<&str> = keys.split_whitespace().collect();
    assert_eq!(f[1], f[2], "kid is the thumbprint");
    assert_eq!(f[3], "1", "private");
    // A PEM key to standard output (not a terminal here).
    let mut c = credkit();
    c.args([
        "keygen",
        "--algorithm",
        "p256",
        "-o",
        "-",
        "--to",
        "pem",
        "--no-encrypt",
    ]);
    let r = run(c);
    r.assert_ok();
    assert!(
        r.stdout.starts_with("-----BEGIN PRIVATE KEY-----"),
        "{}",
        r.stdout
    );
    // With no password from anywhere, an encrypted format is refused.
    let mut c = credkit();
    c.current_dir(d)
        .args(["keygen", "-o", "nopw.p12", "--self-signed"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("password"), "{}", r.stderr);
    assert!(!d.join("nopw.p12").exists());
}

#[test]
fn keytool_reads_jks_and_pkcs12_output() {
    let dir = tmp();
    let d = dir.path();
    let (ca, _, _) = make_ca(d, &["--algorithm", "p256"]);
    for out in ["pair.jks", "pair.p12"] {
        keygen_ok(
            d,
            &[
                "--ca",
                &path_str(&ca),
                "--ca-alias",
                "intermediate",
                "--org-number",
                ORG,
                "--usage",
                "both",
                "--alias",
                "Virksomhet",
                "-o",
                out,
            ],
        );
        let list = peer(
            "keytool",
            &[
                "-list",
                "-v",
                "-keystore",
                &path_str(&d.join(out)),
                "-storepass",
                PW,
            ],
        );
        for alias in ["virksomhet-auth", "virksomhet-sign"] {
            assert!(
                list.contains(&format!("Alias name: {alias}")),
                "{out}: {list}"
            );
        }
        assert_eq!(
            list.matches("Entry type: PrivateKeyEntry").count(),
            2,
            "{list}"
        );
        assert_eq!(
            list.matches("Certificate chain length: 3").count(),
            2,
            "{list}"
        );
        assert!(
            list.contains("Owner: CN=TESTORGANISASJON 123456785, SERIALNUMBER=123456785, OID.2.5.4.97=NTRNO-123456785, O=TESTORGANISASJON 123456785, C=NO"),
            "{list}"
        );
        assert!(list.contains("DigitalSignature"), "{list}");
        assert!(list.contains("Non_repudiation"), "{list}");
        assert!(list.contains("clientAuth"), "{list}");
    }
    // keytool can take the JKS key out again, and it belongs to its certificate.
    let p12 = d.join("via-keytool.p12");
    keytool_import(
        Store::new(&d.join("pair.jks"), "JKS", PW),
        Store::new(&p12, "PKCS12", PW),
        &["-srcalias", "virksomhet-auth"],
    );
    let key = write(d, "k.pem", &p12_key(&p12));
    let (leafs, _) = p12_certs(&p12);
    let cert = write(d, "c.pem", &leafs[0]);
    assert_eq!(spki_hash(&key, false), spki_hash(&cert, true));
}

#[test]
fn seed_makes_output_reproducible() {
    let dir = tmp();
    let d = dir.path();
    let make = |sub: &str, seed: Option<&str>| -> Vec<(String, Vec<u8>)> {
        let out = d.join(sub);
        std::fs::create_dir_all(&out).expect("mkdir");
        let mut files = Vec::new();
        for (name, extra) in [
            (
                "a.p12",
                vec!["--self-signed", "--org-number", ORG, "--usage", "both"],
            ),
            ("a.jks", vec!["--self-signed", "--algorithm", "p256"]),
            ("a.pem", vec!["--self-signed", "--algorithm", "p384"]),
            ("a.jwk", vec!["--algorithm", "ed25519", "--private"]),
            (
                "ca.p12",
                vec!["--make-ca", "--intermediate", "--algorithm", "p256"],
            ),
        ] {
            let mut args = extra.clone();
            args.extend(["-o", name]);
            if let Some(s) = seed {
                args.extend(["--seed", s]);
            }
            keygen_ok(&out, &args);
            files.push((
                name.to_string(),
                std::fs::read(out.join(name)).expect("read"),
            ));
        }
        files
    };
    let a = make("one", Some("fixtures-v1"));
    let b = make("two", Some("fixtures-v1"));
    let c = make("three", Some("fixtures-v2"));
    let r1 = make("random1", None);
    let r2 = make("random2", None);
    for i in 0..a.len() {
        assert_eq!(
            a[i], b[i],
            "{}: the same seed must give the same bytes",
            a[i].0
        );
        assert_ne!(a[i].1, c[i].1, "{}: another seed must differ", a[i].0);
        assert_ne!(
            r1[i].1, r2[i].1,
            "{}: without a seed output is random",
            a[i].0
        );
    }
    // Same seed, same keys whatever the format: the key in a.pem opened by openssl...
    let x = d.join("x");
    std::fs::create_dir_all(&x).expect("mkdir");
    keygen_ok(
        &x,
        &[
            "--algorithm",
            "p256",
            "--seed",
            "k",
            "-o",
            "k.pem",
            "--no-encrypt",
        ],
    );
    keygen_ok(
        &x,
        &[
            "--algorithm",
            "p256",
            "--seed",
            "k",
            "-o",
            "k.p12",
            "--self-signed",
        ],
    );
    let from_p12 = write(&x, "k2.pem", &p12_key(&x.join("k.p12")));
    assert_eq!(
        spki_hash(&x.join("k.pem"), false),
        spki_hash(&from_p12, false),
        "the seed gives the same key in every format"
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let dir = tmp();
    let d = dir.path();
    let (ca, root, int) = make_ca(d, &["--algorithm", "p256"]);
    let ca = path_str(&ca);
    for (flag, file, start, end, error) in [
        (
            "--expired",
            "expired.pem",
            "2025-10-24T12:00:00Z",
            "2026-10-24T12:00:00Z",
            "certificate has expired",
        ),
        (
            "--not-yet-valid",
            "future.pem",
            "2026-12-23T12:00:00Z",
            "2027-12-23T12:00:00Z",
            "certificate is not yet valid",
        ),
    ] {
        keygen_ok(
            d,
            &[
                "--ca",
                &ca,
                "--ca-alias",
                "intermediate",
                "--org-number",
                ORG,
                flag,
                "-o",
                file,
                "--no-encrypt",
            ],
        );
        let pem = d.join(file);
        let c = describe(&pem);
        assert_eq!(c["not_before"], start, "{flag}");
        assert_eq!(c["not_after"], end, "{flag}");
        let (ok, out) = verify(&root, Some(&int), &pem);
        assert!(!ok, "{flag}: openssl accepted it");
        assert!(out.contains(error), "{flag}: {out}");
        // openssl -checkend, judged against the real clock's notion of --now: the
        // dates above are 30 days from --now either way.
        assert!(
            peer(
                "openssl",
                &["x509", "-noout", "-dates", "-in", &path_str(&pem)]
            )
            .contains("GMT")
        );
    }
}

#[test]
fn wrong_key_is_a_certificate_for_another_key() {
    let dir = tmp();
    let d = dir.path();
    for (flag, out) in [(None, "good.p12"), (Some("--wrong-key"), "wrong.p12")] {
        let mut args = vec!["--self-signed", "--algorithm", "p256", "-o", out];
        args.extend(flag);
        keygen_ok(d, &args);
        let key = write(d, &format!("{out}.key.pem"), &p12_key(&d.join(out)));
        let (leafs, _) = p12_certs(&d.join(out));
        let cert = write(d, &format!("{out}.cert.pem"), &leafs[0]);
        let same = spki_hash(&key, false) == spki_hash(&cert, true);
        assert_eq!(same, flag.is_none(), "{out}");
        // The certificate itself is sound: it verifies against itself.
        let (ok, msg) = verify(&cert, None, &cert);
        assert!(ok, "{out}: {msg}");
    }
    // Issued by a CA, and in JKS, which keytool still lists.
    let (ca, root, int) = make_ca(d, &["--algorithm", "p256"]);
    keygen_ok(
        d,
        &[
            "--ca",
            &path_str(&ca),
            "--ca-alias",
            "intermediate",
            "--wrong-key",
            "-o",
            "wrong.jks",
        ],
    );
    let list = peer(
        "keytool",
        &[
            "-list",
            "-keystore",
            &path_str(&d.join("wrong.jks")),
            "-storepass",
            PW,
        ],
    );
    assert!(list.contains("auth, "), "{list}");
    keygen_ok(
        d,
        &[
            "--ca",
            &path_str(&ca),
            "--ca-alias",
            "intermediate",
            "--wrong-key",
            "-o",
            "wrong-ca.pem",
            "--no-encrypt",
        ],
    );
    let pem = d.join("wrong-ca.pem");
    assert_ne!(spki_hash(&pem, false), spki_hash(&pem, true));
    let (ok, msg) = verify(&root, Some(&int), &pem);
    assert!(ok, "{msg}");
}

#[test]
fn missing_intermediate_fails_without_it() {
    let dir = tmp();
    let d = dir.path();
    let (ca, root, int) = make_ca(d, &["--algorithm", "p256"]);
    keygen_ok(
        d,
        &[
            "--ca",
            &path_str(&ca),
            "--ca-alias",
            "intermediate",
            "--missing-intermediate",
            "-o",
            "broken.p12",
        ],
    );
    let (leafs, chain) = p12_certs(&d.join("broken.p12"));
    assert_eq!(chain.len(), 1, "only the root is left");
    let root_fp = openssl_fingerprint(&std::fs::read_to_string(&root).expect("root"), "sha256");
    assert_eq!(openssl_fingerprint(&chain[0], "sha256"), root_fp);
    let leaf = write(d, "leaf.pem", &leafs[0]);
    let stored_chain = write(d, "chain.pem", &chain.concat());
    // With what the file holds, the chain does not build...
    let (ok, out) = verify(&root, Some(&stored_chain), &leaf);
    assert!(!ok, "verified without the intermediate");
    assert!(
        out.contains("unable to get local issuer certificate"),
        "{out}"
    );
    // ...and with the intermediate it does.
    let (ok, out) = verify(&root, Some(&int), &leaf);
    assert!(ok, "{out}");
    // The CA must be an intermediate for there to be one to leave out.
    let r = keygen(
        d,
        &[
            "--ca",
            &path_str(&ca),
            "--ca-alias",
            "root",
            "--missing-intermediate",
            "-o",
            "x.p12",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("keygen-ca-unusable"), "{}", r.stderr);
}

#[test]
fn weak_needs_insecure_and_is_1024_bits() {
    let dir = tmp();
    let d = dir.path();
    let r = keygen(d, &["--weak", "--self-signed", "-o", "weak.p12"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--insecure"), "{}", r.stderr);
    assert!(!d.join("weak.p12").exists());
    let r = keygen(
        d,
        &[
            "--weak",
            "--algorithm",
            "p256",
            "--insecure",
            "-o",
            "weak.pem",
        ],
    );
    assert_eq!(r.code, 2, "--weak is RSA: {}", r.stderr);
    keygen_ok(
        d,
        &["--weak", "--insecure", "--self-signed", "-o", "weak.p12"],
    );
    let (leafs, _) = p12_certs(&d.join("weak.p12"));
    let cert = write(d, "weak.cert.pem", &leafs[0]);
    assert!(x509_text(&cert).contains("Public-Key: (1024 bit)"));
    let key = write(d, "weak.key.pem", &p12_key(&d.join("weak.p12")));
    let text = peer(
        "openssl",
        &["pkey", "-noout", "-text", "-in", &path_str(&key)],
    );
    assert!(text.contains("Private-Key: (1024 bit"), "{text}");
    assert_eq!(describe(&cert)["key"], "RSA 1024");
}

#[test]
fn a_foreign_ca_made_by_openssl_can_issue() {
    let dir = tmp();
    let d = dir.path();
    let ca = d.join("openssl-ca.pem");
    let body = [
        "ca/intermediate.key.pem",
        "ca/intermediate.cert.pem",
        "ca/root.cert.pem",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(fixture(f)).expect("fixture"))
    .collect::<String>();
    std::fs::write(&ca, body).expect("write");
    keygen_ok(
        d,
        &[
            "--ca",
            &path_str(&ca),
            "--org-number",
            ORG,
            "-o",
            "leaf.pem",
            "--no-encrypt",
        ],
    );
    let leaf = d.join("leaf.pem");
    let (ok, out) = verify(
        &fixture("ca/root.cert.pem"),
        Some(&fixture("ca/intermediate.cert.pem")),
        &leaf,
    );
    assert!(ok, "{out}");
    let c = describe(&leaf);
    let i = describe(&fixture("ca/intermediate.cert.pem"));
    assert_eq!(c["aki"], i["ski"], "AKI copied from openssl's SKI");
    assert_eq!(c["issuer"], i["subject"]);
    // An intermediate CA under openssl's root, then a leaf under it.
    let root_ca = write(
        d,
        "openssl-root.pem",
        &(std::fs::read_to_string(fixture("ca/root.key.pem")).expect("key")
            + &std::fs::read_to_string(fixture("ca/root.cert.pem")).expect("cert")),
    );
    keygen_ok(
        d,
        &[
            "--make-ca",
            "--ca",
            &path_str(&root_ca),
            "-o",
            "sub.pem",
            "--no-encrypt",
        ],
    );
    let sub = d.join("sub.pem");
    let (ok, out) = verify(&fixture("ca/root.cert.pem"), None, &sub);
    assert!(ok, "{out}");
    assert_eq!(describe(&sub)["basic_constraints"]["path_length"], 0);
}

#[test]
fn fixture_set_contents_and_readme() {
    let dir = tmp();
    let d = dir.path();
    let r = keygen_ok(d, &["--fixture-set", "set", "--seed", "it", "--json"]);
    let report = r.json();
    assert_eq!(report["schema"], "credkit.keygen/1");
    assert_eq!(report["seeded"], true);
    let set = d.join("set");
    let mut names: Vec<String> = std::fs::read_dir(&set)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = Vec::new();
    for item in [
        "ca-root",
        "ca-intermediate",
        "org1-auth",
        "org1-sign",
        "org1-pair",
        "org2-auth",
        "expired",
        "not-yet-valid",
        "wrong-key",
        "missing-intermediate",
        "weak-rsa1024",
        "revoked",
        "ocsp-responder",
    ] {
        let jwk = if item == "org1-pair" { "jwks" } else { "jwk" };
        for ext in ["p12", "jks", "pem", jwk] {
            expected.push(format!("{item}.{ext}"));
        }
    }
    expected.extend(
        [
            "ca-root.cert.pem",
            "ca-intermediate.cert.pem",
            "ca-chain.pem",
            "mock-clients.toml",
            "ca-intermediate.revoked.toml",
            "ca-intermediate.crl.pem",
            "README.md",
        ]
        .map(String::from),
    );
    expected.sort();
    assert_eq!(names, expected);
    assert_eq!(
        report["outputs"].as_array().expect("outputs").len(),
        expected.len() - 4
    );

    let readme = std::fs::read_to_string(set.join("README.md")).expect("readme");
    for f in &expected {
        if f != "README.md" {
            assert!(readme.contains(f.as_str()), "README does not list {f}");
        }
    }
    assert!(readme.contains("`changeit`"), "README names the password");
    for finding in [
        "expired",
        "not yet valid",
        "does not match",
        "intermediate CA is missing",
        "RSA 1024",
    ] {
        assert!(readme.contains(finding), "README lacks {finding}");
    }
    assert!(readme.contains("123456785") && readme.contains("987654325"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in &expected {
            let mode = std::fs::metadata(set.join(f))
                .expect("meta")
                .permissions()
                .mode()
                & 0o777;
            let public = f.ends_with(".jwk")
                || f.ends_with(".jwks")
                || f.ends_with("cert.pem")
                || f == "ca-chain.pem"
                || f == "mock-clients.toml"
                || f == "ca-intermediate.revoked.toml"
                || f == "ca-intermediate.crl.pem";
            // README.md holds the password: private, as the keys are.
            assert_eq!(mode, if public { 0o644 } else { 0o600 }, "{f}");
        }
    }

    // openssl's verdict on each PEM, against the set's own trust files.
    let root = set.join("ca-root.cert.pem");
    let int = set.join("ca-intermediate.cert.pem");
    for (name, good) in [
        ("org1-auth", true),
        ("org1-sign", true),
        ("org2-auth", true),
        ("wrong-key", true),
        ("weak-rsa1024", true),
        ("expired", false),
        ("not-yet-valid", false),
    ] {
        let (ok, out) = verify(&root, Some(&int), &set.join(format!("{name}.pem")));
        assert_eq!(ok, good, "{name}: {out}");
    }
    let (ok, _) = verify(
        &root,
        Some(&set.join("missing-intermediate.pem")),
        &set.join("missing-intermediate.pem"),
    );
    assert!(!ok, "missing-intermediate verified with only its own chain");
    let (ok, out) = verify(
        &root,
        Some(&set.join("ca-chain.pem")),
        &set.join("org1-auth.pem"),
    );
    assert!(ok, "{out}");
    // Organisation numbers, read by cryptography from the PKCS#12 copies.
    for (name, org) in [("org1-auth", ORG), ("org2-auth", "987654325")] {
        let (leafs, _) = p12_certs(&set.join(format!("{name}.p12")));
        let c = describe(&write(d, "probe.pem", &leafs[0]));
        assert_eq!(
            subject_of(&c, "2.5.4.97"),
            [format!("NTRNO-{org}")],
            "{name}"
        );
    }
    // keytool reads the pair under two aliases.
    let list = peer(
        "keytool",
        &[
            "-list",
            "-keystore",
            &path_str(&set.join("org1-pair.jks")),
            "-storepass",
            PW,
        ],
    );
    assert!(list.contains("auth, ") && list.contains("sign, "), "{list}");
    // JWKs are public (the keys are in the other files) and jwcrypto reads them.
    let tool = root_dir_tool();
    let keys = peer(
        "python3",
        &[
            &path_str(&tool),
            "keys",
            &path_str(&set.join("org1-pair.jwks")),
        ],
    );
    assert_eq!(keys.lines().count(), 2);
    assert!(keys.lines().all(|l| l.ends_with(" 0")), "{keys}");
    // The weak one really is 1024 bits.
    let (leafs, _) = p12_certs(&set.join("weak-rsa1024.p12"));
    assert_eq!(
        describe(&write(d, "weak.pem", &leafs[0]))["key"],
        "RSA 1024"
    );

    // The same seed and --now again: byte for byte the same set.
    keygen_ok(d, &["--fixture-set", "again", "--seed", "it", "-q"]);
    for f in &expected {
        let a = std::fs::read(set.join(f)).expect("a");
        let b = std::fs::read(d.join("again").join(f)).expect("b");
        assert!(a == b, "{f} differs between two runs with the same seed");
    }
    // It does not overwrite without --force.
    let r = keygen(d, &["--fixture-set", "set", "--seed", "it"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("output-exists"), "{}", r.stderr);
}

fn root_dir_tool() -> PathBuf {
    root().join("tests/tools/jose_peer.py")
}

#[test]
fn split_writes_one_file_per_entry() {
    let dir = tmp();
    let d = dir.path();
    keygen_ok(
        d,
        &[
            "--self-signed",
            "--org-number",
            ORG,
            "--usage",
            "both",
            "--split",
            "--algorithm",
            "p256",
            "-o",
            "virk.p12",
        ],
    );
    for (file, alias) in [("virk-auth.p12", "auth"), ("virk-sign.p12", "sign")] {
        let list = peer(
            "keytool",
            &[
                "-list",
                "-keystore",
                &path_str(&d.join(file)),
                "-storepass",
                PW,
            ],
        );
        assert!(list.contains(&format!("{alias}, ")), "{file}: {list}");
        assert!(list.contains("1 entry"), "{file}: {list}");
    }
    assert!(!d.join("virk.p12").exists());
    // Root and intermediate into two files; the intermediate's file chains to the root.
    keygen_ok(
        d,
        &[
            "--make-ca",
            "--intermediate",
            "--split",
            "--algorithm",
            "p256",
            "-o",
            "ca.pem",
            "--no-encrypt",
        ],
    );
    let (ok, out) = verify(&d.join("ca-root.pem"), None, &d.join("ca-intermediate.pem"));
    assert!(ok, "{out}");
}

#[test]
fn usage_errors_name_the_problem() {
    let dir = tmp();
    let d = dir.path();
    let (ca, _, _) = make_ca(d, &["--algorithm", "p256"]);
    let ca = path_str(&ca);
    for (args, needle) in [
        (vec!["--org-number", ORG, "-o", "a.p12"], "--self-signed"),
        (vec!["-o", "a.jks"], "certificate"),
        (vec!["--self-signed", "-o", "a.der"], "DER"),
        (vec!["--self-signed", "-o", "a.jwk"], "--private"),
        (vec!["--self-signed", "--split", "-o", "a.p12"], "--split"),
        (
            vec!["--self-signed", "--org-number", "12345", "-o", "a.p12"],
            "9 digits",
        ),
        (
            vec!["--self-signed", "--subject", "C=Norway", "-o", "a.p12"],
            "two capital letters",
        ),
        (
            vec!["--self-signed", "--subject", "XX=1", "-o", "a.p12"],
            "unknown attribute",
        ),
        (vec!["--ca", &ca, "-o", "a.p12"], "--ca-alias"),
        (
            vec!["--ca", &ca, "--ca-alias", "nosuch", "-o", "a.p12"],
            "no entry called",
        ),
        (
            vec![
                "--self-signed",
                "--not-before",
                "2027-01-01T00:00:00Z",
                "--not-after",
                "2026-01-01T00:00:00Z",
                "-o",
                "a.p12",
            ],
            "later",
        ),
        (
            vec![
                "--self-signed",
                "--not-before",
                "soon",
                "--not-after",
                "2026-01-01T00:00:00Z",
                "-o",
                "a.p12",
            ],
            "--not-before",
        ),
        (vec!["--self-signed", "-o", "a.txt"], "--to"),
        (vec!["--self-signed", "-o", "-", "--to", "pkcs12"], "binary"),
        (
            vec!["--self-signed", "--password-env", "X", "-o", "a.p12"],
            "--out-password",
        ),
    ] {
        let r = keygen(d, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        r.assert_no_panic();
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(
            !d.join("a.p12").exists() && !d.join("a.jks").exists(),
            "{args:?} wrote a file"
        );
    }
    // A leaf certificate cannot issue.
    keygen_ok(
        d,
        &["--self-signed", "--algorithm", "p256", "-o", "leaf.p12"],
    );
    let r = keygen(d, &["--ca", "leaf.p12", "-o", "b.p12"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("keygen-ca-unusable"), "{}", r.stderr);
    // An existing file is kept without --force, replaced with it.
    let before = std::fs::read(d.join("leaf.p12")).expect("read");
    let r = keygen(
        d,
        &["--self-signed", "--algorithm", "p256", "-o", "leaf.p12"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("output-exists"), "{}", r.stderr);
    assert_eq!(std::fs::read(d.join("leaf.p12")).expect("read"), before);
    keygen_ok(
        d,
        &[
            "--self-signed",
            "--algorithm",
            "p256",
            "-o",
            "leaf.p12",
            "--force",
        ],
    );
    assert_ne!(std::fs::read(d.join("leaf.p12")).expect("read"), before);
}

#[test]
fn json_report_describes_what_was_made() {
    let dir = tmp();
    let d = dir.path();
    let r = keygen_ok(
        d,
        &[
            "--self-signed",
            "--org-number",
            ORG,
            "--usage",
            "sign",
            "--algorithm",
            "p256",
            "-o",
            "s.p12",
            "--json",
        ],
    );
    let v = r.json();
    assert_eq!(v["schema"], "credkit.keygen/1");
    assert_eq!(v["seeded"], false);
    assert_eq!(v["outputs"][0]["path"], "s.p12");
    assert_eq!(v["outputs"][0]["format"], "pkcs12");
    assert_eq!(v["outputs"][0]["private_key"], true);
    let e = &v["entries"][0];
    assert_eq!(e["alias"], "sign");
    assert_eq!(e["key"]["curve"], "P-256");
    assert_eq!(
        e["certificate"]["key_usage"],
        serde_json::json!(["nonRepudiation"])
    );
    assert_eq!(e["certificate"]["not_before"], NOW);
    assert_eq!(e["certificate"]["self_signed"], true);
    assert_eq!(e["certificate"]["key_matches"], true);
    // An organisation number with a bad check digit is written, with a note.
    let r = keygen_ok(
        d,
        &[
            "--self-signed",
            "--org-number",
            "123456789",
            "--algorithm",
            "p256",
            "-o",
            "n.p12",
            "--json",
        ],
    );
    assert!(
        r.json()["notes"][0]
            .as_str()
            .unwrap_or_default()
            .contains("modulus-11"),
        "{}",
        r.stdout
    );
    // The fingerprint credkit reports is the one openssl computes.
    let (leafs, _) = p12_certs(&d.join("s.p12"));
    assert_eq!(
        e["certificate"]["sha256"],
        openssl_fingerprint(&leafs[0], "sha256")
    );
}

#[test]
fn output_passwords_follow_convert_rules() {
    let dir = tmp();
    let d = dir.path();
    let pw = write(d, "pw.txt", "s3cret-fixture\n");
    // --out-password-file, with no CREDKIT_PASSWORD at all.
    let mut c = credkit();
    c.current_dir(d).args([
        "keygen",
        "--self-signed",
        "--algorithm",
        "p256",
        "-o",
        "a.p12",
        "--out-password-file",
        &path_str(&pw),
    ]);
    run(c).assert_ok();
    let (ok, _) = try_peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(&d.join("a.p12")),
            "-passin",
            "pass:s3cret-fixture",
            "-nokeys",
        ],
    );
    assert!(ok, "the output password is the one from the file");
    let (ok, _) = try_peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(&d.join("a.p12")),
            "-passin",
            &format!("pass:{PW}"),
            "-nokeys",
        ],
    );
    assert!(!ok);
    // A CA opened with --password-file: its password protects the output too.
    keygen_ok(d, &["--make-ca", "--algorithm", "p256", "-o", "ca.p12"]);
    let capw = write(d, "capw.txt", PW);
    let mut c = credkit();
    c.current_dir(d)
        .args([
            "keygen",
            "--ca",
            "ca.p12",
            "--password-file",
            &path_str(&capw),
            "--algorithm",
            "p256",
            "-o",
            "leaf.jks",
            "--out-key-password-env",
            "KEYPW",
        ])
        .env("KEYPW", "key-only-pw");
    run(c).assert_ok();
    let p12 = d.join("from-jks.p12");
    keytool_import(
        Store::new(&d.join("leaf.jks"), "JKS", PW),
        Store::new(&p12, "PKCS12", PW),
        &["-srcalias", "auth", "-srckeypass", "key-only-pw"],
    );
    assert!(p12_key(&p12).contains("BEGIN PRIVATE KEY"));
    // Standard input can hold one password only.
    let mut c = credkit();
    c.current_dir(d).args([
        "keygen",
        "--ca",
        "ca.p12",
        "--password-stdin",
        "--out-password-stdin",
        "-o",
        "x.p12",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("standard input"), "{}", r.stderr);
}

/// `credkit check` reports exactly the intended finding for each broken
/// variant of a generated fixture set, in every keystore format, and nothing
/// (but infos) for the good certificate.
#[test]
fn check_reports_the_intended_finding_for_each_variant() {
    let dir = tempfile::tempdir().expect("tmp");
    let set = dir.path().join("set");
    let mut c = crate::support::credkit();
    c.arg("keygen")
        .arg("--fixture-set")
        .arg(&set)
        .args(["--seed", "check-variants"])
        .env("CREDKIT_PASSWORD", "changeit");
    let r = crate::support::run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (name, expected) in [
        ("org1-auth", None),
        ("expired", Some(("error", "certificate-expired"))),
        (
            "not-yet-valid",
            Some(("error", "certificate-not-yet-valid")),
        ),
        ("wrong-key", Some(("error", "key-certificate-mismatch"))),
        (
            "missing-intermediate",
            Some(("warning", "chain-missing-intermediate")),
        ),
        ("weak-rsa1024", Some(("error", "key-too-small"))),
        ("org1-sign", Some(("error", "key-usage-non-repudiation"))),
        ("org2-auth", Some(("error", "org-number-mismatch"))),
    ] {
        for ext in ["p12", "jks", "pem"] {
            let mut c = crate::support::credkit();
            c.args([
                "check",
                "--json",
                "--for",
                "maskinporten",
                "--client-org",
                "123456785",
            ])
            .arg(set.join(format!("{name}.{ext}")))
            .env("CREDKIT_PASSWORD", "changeit");
            let r = crate::support::run(c);
            let v = r.json();
            let got: Vec<(String, String)> = v["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .filter(|f| f["severity"] != "info")
                .map(|f| {
                    (
                        f["severity"].as_str().expect("s").to_string(),
                        f["id"].as_str().expect("id").to_string(),
                    )
                })
                .collect();
            let want: Vec<(String, String)> = expected
                .iter()
                .map(|(s, i)| (s.to_string(), i.to_string()))
                .collect();
            assert_eq!(got, want, "{name}.{ext}");
            let errors = expected.is_some_and(|(s, _)| s == "error");
            assert_eq!(r.code, if errors { 1 } else { 0 }, "{name}.{ext}");
        }
    }
}
