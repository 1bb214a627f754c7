//! `inspect` cross-checked against openssl, keytool and jwcrypto.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

const P12_FILES: &[&str] = &[
    "p12/openssl3-aes-auth.p12",
    "p12/openssl3-aes-sign.p12",
    "p12/openssl3-legacy-auth.p12",
    "p12/openssl3-3des-auth.p12",
    "p12/openssl3-nomac-auth.p12",
    "p12/openssl3-noenc-auth.p12",
    "p12/openssl3-noenc-nomac-auth.p12",
    "p12/openssl3-truststore-nokeys.p12",
    "p12/openssl3-nonascii-aes.p12",
    "p12/openssl3-nonascii-legacy.p12",
    "p12/openssl3-ec-p256.p12",
    "p12/openssl3-ec-p384.p12",
    "p12/openssl3-ed25519.p12",
    "p12/ber-indefinite-auth.p12",
    "p12/ber-indefinite-chunked-auth.p12",
    "p12/keytool-jdk17-rsa.p12",
    "p12/keytool-multi.p12",
    "p12/keytool-business-pair.p12",
];

/// openssl pkcs12 output (stdout + stderr), with -legacy when the file needs it.
fn openssl_pkcs12(rel: &str, extra: &[&str]) -> String {
    let path = path_str(&fixture(rel));
    let pass = format!("pass:{}", password_for(rel));
    let attempt = |legacy: bool| {
        let mut args = vec!["pkcs12", "-in", &path, "-passin", &pass];
        if legacy {
            args.push("-legacy");
        }
        args.extend_from_slice(extra);
        Command::new("openssl")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .expect("openssl is installed (bash scripts/test.sh installs it)")
    };
    let mut out = attempt(false);
    if !out.status.success() {
        out = attempt(true);
    }
    assert!(
        out.status.success(),
        "openssl pkcs12 {rel}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn pkcs12_certificates_match_openssl() {
    for rel in P12_FILES {
        let report = inspect_json(rel);
        assert_eq!(report["format"], "pkcs12", "{rel}");
        let text = openssl_pkcs12(rel, &["-nokeys"]);
        let mut theirs: Vec<String> = pem_certs(&text)
            .iter()
            .map(|c| openssl_fingerprint(c, "sha256"))
            .collect();
        let mut ours = reported_fingerprints(&report);
        theirs.sort();
        theirs.dedup();
        ours.sort();
        ours.dedup();
        assert_eq!(
            ours, theirs,
            "{rel}: certificate fingerprints differ from openssl"
        );
    }
}

#[test]
fn pkcs12_protection_matches_openssl_info() {
    for rel in P12_FILES {
        let report = inspect_json(rel);
        let info = openssl_pkcs12(rel, &["-info", "-noout"]);
        let p = &report["pkcs12"];
        // MAC: sha256, Iteration 2048
        match info.lines().find_map(|l| l.strip_prefix("MAC: ")) {
            Some(mac) => {
                let (alg, iter) = mac.split_once(", Iteration ").expect("MAC line");
                assert_eq!(p["mac"]["algorithm"], alg, "{rel}");
                assert_eq!(p["mac"]["iterations"].to_string(), iter.trim(), "{rel}");
                assert_eq!(p["mac"]["verified"], true, "{rel}");
            }
            None => assert!(p["mac"].is_null(), "{rel}: openssl sees no MAC"),
        }
        // PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256
        let cert_lines: Vec<&str> = info
            .lines()
            .filter_map(|l| l.strip_prefix("PKCS7 Encrypted data: "))
            .collect();
        let certs = p["certificates"].as_array().expect("certificates");
        assert_eq!(certs.len(), cert_lines.len(), "{rel}: encrypted contents");
        for (ours, theirs) in certs.iter().zip(&cert_lines) {
            assert_pbe_matches(ours, theirs, rel);
        }
        let key_lines: Vec<&str> = info
            .lines()
            .filter_map(|l| l.strip_prefix("Shrouded Keybag: "))
            .collect();
        let keys = p["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), key_lines.len(), "{rel}: shrouded key bags");
        for (ours, theirs) in keys.iter().zip(&key_lines) {
            assert_pbe_matches(ours, theirs, rel);
        }
    }
}

fn assert_pbe_matches(ours: &Value, theirs: &str, rel: &str) {
    let parts: Vec<&str> = theirs.split(", ").collect();
    let iter = parts
        .iter()
        .find_map(|p| p.strip_prefix("Iteration "))
        .expect("iteration");
    assert_eq!(ours["iterations"].to_string(), iter, "{rel}: {theirs}");
    if parts[0] == "PBES2" {
        assert_eq!(ours["scheme"], "PBES2", "{rel}");
        assert_eq!(ours["cipher"], parts[2], "{rel}: {theirs}");
        let prf = parts
            .iter()
            .find_map(|p| p.strip_prefix("PRF "))
            .unwrap_or("hmacWithSHA1");
        assert_eq!(ours["prf"], prf, "{rel}: {theirs}");
    } else {
        assert_eq!(ours["scheme"], parts[0], "{rel}: {theirs}");
    }
}

/// One entry of `keytool -list -v`.
#[derive(Debug, Default)]
struct KeytoolEntry {
    kind: String,
    chain_length: usize,
    serials: Vec<String>,
    sha256: Vec<String>,
    until: Vec<String>,
    created: String,
}

fn keytool_list(rel: &str, storetype: &str) -> BTreeMap<String, KeytoolEntry> {
    let path = path_str(&fixture(rel));
    let out = peer(
        "keytool",
        &[
            "-J-Duser.language=en",
            "-J-Duser.country=US",
            "-J-Duser.timezone=UTC",
            "-list",
            "-v",
            "-storetype",
            storetype,
            "-keystore",
            &path,
            "-storepass",
            password_for(rel),
        ],
    );
    let mut map = BTreeMap::new();
    for block in out.split("Alias name: ").skip(1) {
        let mut e = KeytoolEntry::default();
        let alias = block.lines().next().expect("alias").trim().to_string();
        for line in block.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("Entry type: ") {
                e.kind = v.to_string();
            } else if let Some(v) = line.strip_prefix("Certificate chain length: ") {
                e.chain_length = v.parse().expect("chain length");
            } else if let Some(v) = line.strip_prefix("Serial number: ") {
                e.serials.push(v.to_string());
            } else if let Some(v) = line.strip_prefix("SHA256: ") {
                e.sha256.push(v.to_string());
            } else if let Some((_, v)) = line.split_once(" until: ") {
                e.until.push(v.to_string());
            } else if let Some(v) = line.strip_prefix("Creation date: ") {
                e.created = v.to_string();
            }
        }
        if e.kind == "trustedCertEntry" {
            e.chain_length = 1;
        }
        map.insert(alias, e);
    }
    map
}

/// keytool's `until:` format: `Wed Jan 01 00:00:00 UTC 2045`.
fn keytool_date(rfc3339: &str) -> String {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .expect("rfc3339");
    let f = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]",
    )
    .expect("format");
    t.format(&f).expect("format")
}

fn kind_name(kind: &Value) -> &'static str {
    match kind.as_str() {
        Some("private_key") => "PrivateKeyEntry",
        Some("trusted_certificate") => "trustedCertEntry",
        Some("secret") => "SecretKeyEntry",
        _ => "other",
    }
}

fn compare_with_keytool(rel: &str, storetype: &str, extra_env: &[(&str, &str)]) {
    let theirs = keytool_list(rel, storetype);
    let mut c = credkit();
    c.arg("inspect")
        .arg("--json")
        .arg(fixture(rel))
        .env("CREDKIT_PASSWORD", password_for(rel));
    for (k, v) in extra_env {
        c.env(k, v).arg("--key-password-env").arg(k);
    }
    let r = run(c);
    r.assert_ok();
    let report = r.json();
    let entries = report["entries"].as_array().expect("entries");
    let ours: BTreeMap<String, &Value> = entries
        .iter()
        .map(|e| (e["alias"].as_str().expect("alias").to_string(), e))
        .collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "{rel}: aliases differ from keytool"
    );
    for (alias, k) in &theirs {
        let e = ours[alias];
        assert_eq!(kind_name(&e["kind"]), k.kind, "{rel} {alias}: entry type");
        let certs = e["certificates"].as_array().expect("certs");
        assert_eq!(certs.len(), k.chain_length, "{rel} {alias}: chain length");
        for (i, c) in certs.iter().enumerate() {
            assert_eq!(
                c["fingerprints"]["sha256"], k.sha256[i],
                "{rel} {alias} [{i}]"
            );
            assert_eq!(
                c["serial"]
                    .as_str()
                    .expect("serial")
                    .trim_start_matches('0'),
                k.serials[i],
                "{rel} {alias} [{i}]: serial"
            );
            assert_eq!(
                keytool_date(c["not_after"].as_str().expect("not_after")),
                k.until[i],
                "{rel} {alias} [{i}]: notAfter"
            );
        }
        if storetype != "PKCS12" {
            // keytool: "Nov 23, 2026"
            let created = e["created"].as_str().expect("created");
            let t = time::OffsetDateTime::parse(
                created,
                &time::format_description::well_known::Rfc3339,
            )
            .expect("created date");
            let f = time::format_description::parse_borrowed::<2>(
                "[month repr:short] [day padding:none], [year]",
            )
            .expect("fmt");
            assert_eq!(
                t.format(&f).expect("fmt"),
                k.created,
                "{rel} {alias}: created"
            );
        }
        if k.kind == "PrivateKeyEntry" {
            assert_eq!(e["key_matches_certificate"], true, "{rel} {alias}");
        }
    }
}

#[test]
fn pkcs12_entries_match_keytool() {
    // keytool cannot open the non-ASCII-password files ("Password is not ASCII"),
    // and it hides certificates that carry no Java trust attribute, which is
    // every certificate in an `openssl -nokeys` store; those are checked
    // against openssl above.
    for rel in [
        "p12/keytool-jdk17-rsa.p12",
        "p12/keytool-multi.p12",
        "p12/keytool-business-pair.p12",
        "p12/openssl3-aes-auth.p12",
        "p12/openssl3-legacy-auth.p12",
        "p12/openssl3-ec-p256.p12",
    ] {
        compare_with_keytool(rel, "PKCS12", &[]);
    }
}

#[test]
fn jks_and_jceks_entries_match_keytool() {
    for rel in [
        "jks/keytool-rsa.jks",
        "jks/business-pair.jks",
        "jks/nonascii.jks",
        "jks/truststore.jks",
        "jks/ec-p256.jks",
    ] {
        compare_with_keytool(rel, "JKS", &[]);
    }
    compare_with_keytool("jceks/mixed.jceks", "JCEKS", &[]);
    compare_with_keytool(
        "jks/keypass-differs.jks",
        "JKS",
        &[("CREDKIT_TEST_KEYPASS", "keypass1")],
    );
}

#[test]
fn certificate_fields_match_openssl_x509() {
    let report = inspect_json("pem/chain.pem");
    let certs = report["entries"][0]["certificates"]
        .as_array()
        .expect("certs")
        .clone();
    let pems = pem_certs(&std::fs::read_to_string(fixture("pem/chain.pem")).expect("read"));
    assert_eq!(certs.len(), 3);
    for (c, pem) in certs.iter().zip(&pems) {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.pem");
        std::fs::write(&p, pem).expect("write");
        let out = peer(
            "openssl",
            &[
                "x509",
                "-in",
                &path_str(&p),
                "-noout",
                "-subject",
                "-issuer",
                "-nameopt",
                "sep_comma_plus_space,sname,utf8",
                "-serial",
                "-dates",
                "-fingerprint",
                "-sha1",
                "-ext",
                "keyUsage,extendedKeyUsage,certificatePolicies,basicConstraints",
            ],
        );
        let field = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("openssl printed no {name}: {out}"))
                .to_string()
        };
        assert_eq!(c["subject"], field("subject="));
        assert_eq!(c["issuer"], field("issuer="));
        assert_eq!(
            c["serial"].as_str().expect("serial").to_uppercase(),
            field("serial=")
        );
        assert_eq!(c["fingerprints"]["sha1"], field("sha1 Fingerprint="));
        // notAfter=Jan  1 00:00:00 2045 GMT
        let t = time::OffsetDateTime::parse(
            c["not_after"].as_str().expect("na"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("date");
        let f = time::format_description::parse_borrowed::<2>(
            "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT",
        )
        .expect("fmt");
        assert_eq!(t.format(&f).expect("fmt"), field("notAfter="));
        // Key usage in openssl's words.
        let ku_line = out
            .lines()
            .skip_while(|l| !l.starts_with("X509v3 Key Usage"))
            .nth(1)
            .map(str::trim)
            .unwrap_or("");
        let words: Vec<&str> = c["key_usage"]
            .as_array()
            .expect("ku")
            .iter()
            .map(|k| match k.as_str().expect("ku name") {
                "digitalSignature" => "Digital Signature",
                "nonRepudiation" => "Non Repudiation",
                "keyEncipherment" => "Key Encipherment",
                "keyCertSign" => "Certificate Sign",
                "cRLSign" => "CRL Sign",
                other => panic!("unexpected {other}"),
            })
            .collect();
        assert_eq!(words.join(", "), ku_line);
        assert_eq!(
            c["key_usage_critical"],
            out.contains("X509v3 Key Usage: critical")
        );
        assert_eq!(c["is_ca"] == true, out.contains("CA:TRUE"));
    }
}

#[test]
fn business_certificate_pair_is_described() {
    let auth = &inspect_json("business/auth.cert.pem")["entries"][0]["certificates"][0];
    assert_eq!(auth["org_number"]["value"], "123456785");
    assert_eq!(auth["org_number"]["source"], "organizationIdentifier");
    assert_eq!(
        auth["key_usage"],
        serde_json::json!(["digitalSignature", "keyEncipherment"])
    );
    assert_eq!(
        auth["extended_key_usage"],
        serde_json::json!(["clientAuth"])
    );
    assert_eq!(auth["policies"], serde_json::json!(["2.16.578.1.26.1.3.5"]));
    let attrs = auth["subject_attributes"].as_array().expect("attrs");
    let by_name = |n: &str| {
        attrs
            .iter()
            .find(|a| a["name"] == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    assert_eq!(by_name("C")["string_type"], "PrintableString");
    assert_eq!(by_name("serialNumber")["string_type"], "PrintableString");
    assert_eq!(
        by_name("organizationIdentifier")["value"],
        "NTRNO-123456785"
    );
    let sign = &inspect_json("business/sign.cert.pem")["entries"][0]["certificates"][0];
    assert_eq!(sign["key_usage"], serde_json::json!(["nonRepudiation"]));
    assert_eq!(sign["org_number"]["value"], "123456785");
    // Both in one keystore, with the chain analysed.
    let pair = inspect_json("jks/business-pair.jks");
    for e in pair["entries"].as_array().expect("entries") {
        if e["kind"] == "private_key" {
            assert_eq!(e["chain"]["length"], 3);
            assert_eq!(e["chain"]["in_order"], true);
            assert_eq!(e["chain"]["reaches_root"], true);
        }
    }
}

#[test]
fn x5t_values_are_base64url_digests_of_the_der() {
    use base64::Engine;
    let der = std::fs::read(fixture("der/auth.cert.der")).expect("der");
    let c = &inspect_json("der/auth.cert.der")["entries"][0]["certificates"][0];
    let sha256 = peer_digest(&der, "-sha256");
    let sha1 = peer_digest(&der, "-sha1");
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    assert_eq!(c["x5t#S256"], b64.encode(&sha256));
    assert_eq!(c["x5t"], b64.encode(&sha1));
}

fn peer_digest(data: &[u8], alg: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("d");
    std::fs::write(&p, data).expect("write");
    let out = Command::new("openssl")
        .args(["dgst", alg, "-binary", &path_str(&p)])
        .output()
        .expect("openssl");
    out.stdout
}

/// RFC 7638 thumbprints computed by jwcrypto when the fixtures were made.
fn expected_thumbprints() -> BTreeMap<String, String> {
    std::fs::read_to_string(fixture("jwk/expected-thumbprints.txt"))
        .expect("thumbprints")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect()
}

#[test]
fn jwk_thumbprints_match_jwcrypto() {
    let expected = expected_thumbprints();
    for (file, thumb) in &expected {
        let (name, index) = match file.split_once('#') {
            Some((n, i)) => (n, i.parse::<usize>().expect("index")),
            None => (file.as_str(), 0),
        };
        let report = inspect_json(&format!("jwk/{name}"));
        assert_eq!(
            report["entries"][index]["key"]["jwk_thumbprint"], *thumb,
            "{file}"
        );
    }
}

#[test]
fn every_key_format_gives_the_same_key() {
    // Every file holding the business auth key must report the thumbprint
    // jwcrypto computed for it, whatever the encoding.
    let rsa = expected_thumbprints()["rsa-public.jwk"].clone();
    let ec = expected_thumbprints()["ec-p256-public.jwk"].clone();
    let ed = expected_thumbprints()["ed25519-private.jwk"].clone();
    let cases = [
        ("business/auth.key.pem", &rsa),
        ("pem/rsa-pkcs1.key", &rsa),
        ("pem/rsa-pkcs8.key", &rsa),
        ("pem/rsa-pkcs8-encrypted.key", &rsa),
        ("pem/rsa-legacy-aes256.key", &rsa),
        ("pem/rsa-legacy-des3.key", &rsa),
        ("pem/rsa-public.pem", &rsa),
        ("pem/rsa-public-pkcs1.pem", &rsa),
        ("pem/key-and-chain.pem", &rsa),
        ("der/rsa-pkcs8.key.der", &rsa),
        ("der/rsa-pkcs1.key.der", &rsa),
        ("der/rsa-public.der", &rsa),
        ("p12/openssl3-aes-auth.p12", &rsa),
        ("p12/ber-indefinite-auth.p12", &rsa),
        ("pem/ec-pkcs8.key", &ec),
        ("pem/ec-sec1.key", &ec),
        ("pem/ec-legacy-aes128.key", &ec),
        ("der/ec-pkcs8.key.der", &ec),
        ("p12/openssl3-ec-p256.p12", &ec),
        ("pem/ed25519.key", &ed),
        ("p12/openssl3-ed25519.p12", &ed),
    ];
    for (rel, thumb) in cases {
        let report = inspect_json(rel);
        assert_eq!(
            report["entries"][0]["key"]["jwk_thumbprint"], **thumb,
            "{rel}"
        );
    }
}

#[test]
fn private_keys_match_openssl_public_keys() {
    // The public key credkit derives from each private key equals the one
    // openssl derives, compared through the certificate it belongs to.
    for (key, cert) in [
        ("pem/ec-sec1.key", "pem/ec-p256.cert.pem"),
        ("pem/ec-p384-pkcs8.key", "pem/ec-p384.cert.pem"),
        ("pem/ed25519.key", "pem/ed25519.cert.pem"),
        ("business/sign.key.pem", "business/sign.cert.pem"),
    ] {
        let k = inspect_json(key);
        let c = inspect_json(cert);
        assert_eq!(
            k["entries"][0]["key"]["jwk_thumbprint"],
            c["entries"][0]["certificates"][0]["jwk_thumbprint"],
            "{key} vs {cert}"
        );
        let pub_der = Command::new("openssl")
            .args(["pkey", "-pubout", "-outform", "DER", "-in"])
            .arg(fixture(key))
            .output()
            .expect("openssl")
            .stdout;
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("pub.der");
        std::fs::write(&p, pub_der).expect("write");
        let from_openssl = {
            let mut c = credkit();
            c.args(["inspect", "--json"]).arg(&p);
            let r = run(c);
            r.assert_ok();
            r.json()
        };
        assert_eq!(
            from_openssl["entries"][0]["key"]["jwk_thumbprint"],
            k["entries"][0]["key"]["jwk_thumbprint"],
            "{key}"
        );
    }
}

#[test]
fn validity_follows_now() {
    let mut c = credkit();
    c.args(["--now", "2046-03-01T00:00:00Z", "inspect", "--json"])
        .arg(fixture("business/auth.cert.pem"));
    let r = run(c);
    r.assert_ok();
    let cert = &r.json()["entries"][0]["certificates"][0];
    assert_eq!(cert["validity"]["status"], "expired");
    assert_eq!(cert["validity"]["days"], 424);
    let mut c = credkit();
    c.args(["--now", "2024-12-31T00:00:00Z", "inspect"])
        .arg(fixture("business/auth.cert.pem"));
    let r = run(c);
    r.assert_ok();
    assert!(
        r.stdout.contains("NOT YET VALID, starts in 1 days"),
        "{}",
        r.stdout
    );
    let c = &inspect_json("business/auth.cert.pem")["entries"][0]["certificates"][0];
    // 2026-11-23T12:00Z to 2045-01-01T00:00Z
    assert_eq!(c["validity"]["status"], "valid");
    assert_eq!(c["validity"]["days"], 6613);
}

#[test]
fn jceks_secret_entries_are_listed_not_decrypted() {
    let r = inspect_json("jceks/mixed.jceks");
    let kinds: BTreeMap<&str, &str> = r["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["alias"].as_str().expect("alias"),
                e["kind"].as_str().expect("kind"),
            )
        })
        .collect();
    assert_eq!(kinds["aeskey"], "secret");
    assert_eq!(kinds["hmackey"], "secret");
    assert_eq!(kinds["mykey"], "private_key");
    assert_eq!(kinds["testroot"], "trusted_certificate");
}

#[test]
fn ber_files_are_noted_and_read() {
    for rel in [
        "p12/ber-indefinite-auth.p12",
        "p12/ber-indefinite-chunked-auth.p12",
    ] {
        let r = inspect_json(rel);
        assert_eq!(r["pkcs12"]["ber"], true, "{rel}");
        assert_eq!(r["entries"][0]["alias"], "auth", "{rel}");
    }
    assert_eq!(
        inspect_json("p12/openssl3-aes-auth.p12")["pkcs12"]["ber"],
        false
    );
}
