//! Readings of keytool-made stores compared with openssl, synthetic stores
//! for each structure error, and the walkers' limits.

use super::container::*;
use super::input::decode_modified_utf8;
use super::protect::*;
use super::serial::*;
use super::*;
use crate::asn1::{self, tag::INTEGER as DER_INTEGER, tag::OCTET_STRING as DER_OCTET_STRING};
use crate::asn1::{tag::OID as DER_OID, tag::SEQUENCE as DER_SEQUENCE};
use std::path::{Path, PathBuf};
use std::process::Command;

const PBE_OID_DER: &[u8] = &[
    0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x13, 0x01,
];

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_path(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn find<'s>(store: &'s JavaStore, alias: &str) -> &'s JavaEntry {
    store
        .entries
        .iter()
        .find(|e| e.alias == alias)
        .unwrap_or_else(|| panic!("alias {alias} not found"))
}

fn pkcs8_of(entry: &JavaEntry) -> Option<&[u8]> {
    match &entry.body {
        JavaEntryBody::PrivateKey { pkcs8, .. } => pkcs8.as_deref(),
        _ => panic!("{} is not a private key entry", entry.alias),
    }
}

// ---- synthetic store construction -------------------------------------

fn utf(s: &str) -> Vec<u8> {
    let mut v = u16::try_from(s.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

fn u32b(n: usize) -> [u8; 4] {
    u32::try_from(n).expect("fits").to_be_bytes()
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(u8::try_from(n).expect("short"));
    } else {
        v.push(0x82);
        v.extend_from_slice(&u16::try_from(n).expect("fits").to_be_bytes());
    }
    v.extend_from_slice(content);
    v
}

fn header(magic: u32, version: u32, count: u32) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    v.extend_from_slice(&version.to_be_bytes());
    v.extend_from_slice(&count.to_be_bytes());
    v
}

fn entry_head(tag: u32, alias: &str) -> Vec<u8> {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend(utf(alias));
    v.extend_from_slice(&1_700_000_000_000i64.to_be_bytes());
    v
}

fn seal(mut body: Vec<u8>, password: &str) -> Vec<u8> {
    let d = Sha1::new()
        .chain_update(utf16be(password))
        .chain_update(INTEGRITY_SALT)
        .chain_update(&body)
        .finalize();
    body.extend_from_slice(d.as_slice());
    body
}

fn jks_protect(plain: &[u8], password: &str, salt: [u8; 20]) -> Vec<u8> {
    let pw = utf16be(password);
    let mut out = salt.to_vec();
    let mut block = salt.to_vec();
    for chunk in plain.chunks(20) {
        block = Sha1::new()
            .chain_update(&pw)
            .chain_update(&block)
            .finalize()
            .to_vec();
        out.extend(chunk.iter().zip(&block).map(|(a, b)| a ^ b));
    }
    out.extend_from_slice(
        Sha1::new()
            .chain_update(&pw)
            .chain_update(plain)
            .finalize()
            .as_slice(),
    );
    out
}

fn jks_epki(encrypted: &[u8]) -> Vec<u8> {
    let mut alg = der(DER_OID, OID_JKS_KEY_PROTECTOR);
    alg.extend_from_slice(&[0x05, 0x00]);
    let mut body = der(DER_SEQUENCE, &alg);
    body.extend(der(DER_OCTET_STRING, encrypted));
    der(DER_SEQUENCE, &body)
}

fn trusted_cert_entry(alias: &str, cert: &[u8]) -> Vec<u8> {
    let mut v = entry_head(TAG_TRUSTED_CERT, alias);
    v.extend(utf("X.509"));
    v.extend_from_slice(&u32b(cert.len()));
    v.extend_from_slice(cert);
    v
}

fn key_entry(alias: &str, epki: &[u8], chain: &[&[u8]]) -> Vec<u8> {
    let mut v = entry_head(TAG_PRIVATE_KEY, alias);
    v.extend_from_slice(&u32b(epki.len()));
    v.extend_from_slice(epki);
    v.extend_from_slice(&u32b(chain.len()));
    for c in chain {
        v.extend(utf("X.509"));
        v.extend_from_slice(&u32b(c.len()));
        v.extend_from_slice(c);
    }
    v
}

/// A hand-assembled `ObjectOutputStream` stream shaped like SunJCE's
/// `SealedObjectForKeyProtector` (with handle references like Java emits).
fn sealed_object_stream(seal_alg: &str) -> Vec<u8> {
    let mut v = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
    v.extend(utf("com.sun.crypto.provider.SealedObjectForKeyProtector"));
    v.extend_from_slice(&[0xCD, 0x57, 0xCA, 0x59, 0xE7, 0x30, 0xBB, 0x53]); // h0
    v.extend_from_slice(&[SC_SERIALIZABLE, 0, 0, TC_ENDBLOCKDATA, TC_CLASSDESC]);
    v.extend(utf(SEALED_OBJECT_CLASS));
    v.extend_from_slice(&[0x3E, 0x36, 0x3D, 0xA6, 0xC3, 0xB7, 0x54, 0x70]); // h1
    v.extend_from_slice(&[SC_SERIALIZABLE, 0, 4]);
    v.push(b'[');
    v.extend(utf("encodedParams"));
    v.push(TC_STRING); // h2
    v.extend(utf("[B"));
    v.push(b'[');
    v.extend(utf("encryptedContent"));
    v.extend_from_slice(&[TC_REFERENCE, 0x00, 0x7E, 0x00, 0x02]);
    v.push(b'L');
    v.extend(utf("paramsAlg"));
    v.push(TC_STRING); // h3
    v.extend(utf("Ljava/lang/String;"));
    v.push(b'L');
    v.extend(utf("sealAlg"));
    v.extend_from_slice(&[TC_REFERENCE, 0x00, 0x7E, 0x00, 0x03]);
    v.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
    // h4 = the object itself; class data for SealedObject:
    v.extend_from_slice(&[TC_ARRAY, TC_CLASSDESC]);
    v.extend(utf("[B")); // h5
    v.extend_from_slice(&[0xAC, 0xF3, 0x17, 0xF8, 0x06, 0x08, 0x54, 0xE0]);
    v.extend_from_slice(&[SC_SERIALIZABLE, 0, 0, TC_ENDBLOCKDATA, TC_NULL]);
    v.extend_from_slice(&3u32.to_be_bytes()); // h6
    v.extend_from_slice(&[1, 2, 3]);
    v.extend_from_slice(&[TC_ARRAY, TC_REFERENCE, 0x00, 0x7E, 0x00, 0x05]); // h7
    v.extend_from_slice(&16u32.to_be_bytes());
    v.extend_from_slice(&[0x55; 16]);
    v.push(TC_STRING); // h8
    v.extend(utf("PBEWithMD5AndTripleDES"));
    v.push(TC_STRING); // h9
    v.extend(utf(seal_alg));
    v
}

// ---- fixtures made by keytool ------------------------------------------

#[test]
fn detects_magic() {
    let jks = fixture("jks/keytool-rsa.jks");
    let jceks = fixture("jceks/mixed.jceks");
    assert_eq!(is_java_store(&jks), Some(JavaStoreKind::Jks));
    assert_eq!(is_java_store(&jceks), Some(JavaStoreKind::Jceks));
    assert_eq!(is_java_store(b"\x30\x82\x01\x00"), None);
    assert_eq!(is_java_store(b"\xFE\xED"), None);
    assert!(matches!(
        parse(b"hello world", None, None),
        Err(JksError::NotJavaKeystore)
    ));
    assert!(matches!(
        parse(b"", None, None),
        Err(JksError::NotJavaKeystore)
    ));
    assert!(matches!(
        parse(b"\xFE\xED", None, None),
        Err(JksError::Truncated { offset: 0, .. })
    ));
}

#[test]
fn rsa_key_decrypts_and_matches_openssl() {
    let data = fixture("jks/keytool-rsa.jks");
    let store = parse(&data, Some("changeit"), None).expect("parse");
    assert_eq!(store.kind, JavaStoreKind::Jks);
    assert_eq!(store.version, 2);
    assert!(store.integrity_checked);
    assert_eq!(store.entries.len(), 1);
    let entry = find(&store, "mykey");
    assert!(entry.timestamp_ms > 1_500_000_000_000);
    let JavaEntryBody::PrivateKey {
        pkcs8,
        protection,
        chain,
        cert_types,
    } = &entry.body
    else {
        panic!("mykey is not a private key");
    };
    assert_eq!(*protection, KeyProtection::JksSunProprietary);
    assert_eq!(chain.len(), 1);
    assert_eq!(cert_types, &["X.509".to_owned()]);
    let pkcs8 = pkcs8.as_deref().expect("decrypted");
    assert!(is_der_sequence(pkcs8));
    assert_eq!(pkcs8.first(), Some(&0x30));
    // rsaEncryption OID 1.2.840.113549.1.1.1 inside the AlgorithmIdentifier
    let rsa_oid = [
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
    ];
    assert!(pkcs8.windows(rsa_oid.len()).any(|w| w == rsa_oid));
    if let Some(reference) =
        openssl_reference_pkcs8(&fixture_path("jks/keytool-rsa.jks"), "mykey", "changeit")
    {
        // OpenSSL 3.0 `pkey -outform DER` writes RSA keys as PKCS#1
        // RSAPrivateKey, other versions as PKCS#8: accept either form.
        let inner = pkcs8_private_key(pkcs8);
        assert!(
            reference == pkcs8 || reference == inner,
            "decrypted key differs from the openssl reference"
        );
    }
}

/// `PrivateKeyInfo.privateKey` contents (for RSA: the PKCS#1 RSAPrivateKey).
fn pkcs8_private_key(pkcs8: &[u8]) -> &[u8] {
    let mut outer = asn1::Reader::new(pkcs8);
    let seq = outer
        .expect(DER_SEQUENCE, "PrivateKeyInfo")
        .expect("PrivateKeyInfo");
    let mut body = seq.reader();
    body.expect(DER_INTEGER, "version").expect("version");
    body.expect(DER_SEQUENCE, "algorithm").expect("algorithm");
    body.expect(DER_OCTET_STRING, "privateKey")
        .expect("privateKey")
        .content
}

/// keytool -importkeystore -> PKCS12 -> openssl pkcs12 -nocerts -nodes ->
/// openssl pkey -outform DER. `None` when keytool or openssl is missing.
fn openssl_reference_pkcs8(jks: &Path, alias: &str, password: &str) -> Option<Vec<u8>> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("credkit-jks-test-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p12 = dir.join("k.p12");
    let pem = dir.join("k.pem");
    let der_path = dir.join("k.der");
    let pass = format!("pass:{password}");
    let mut keytool = Command::new("keytool");
    keytool
        .args(["-importkeystore", "-noprompt", "-srcstoretype", "JKS"])
        .args(["-srcstorepass", password, "-srcalias", alias])
        .args(["-deststoretype", "PKCS12", "-deststorepass", password])
        .arg("-srckeystore")
        .arg(jks)
        .arg("-destkeystore")
        .arg(&p12);
    let mut pkcs12 = Command::new("openssl");
    pkcs12
        .args(["pkcs12", "-nocerts", "-nodes", "-passin", &pass, "-in"])
        .arg(&p12)
        .arg("-out")
        .arg(&pem);
    let mut pkey = Command::new("openssl");
    pkey.args(["pkey", "-outform", "DER", "-in"])
        .arg(&pem)
        .arg("-out")
        .arg(&der_path);
    let result = Some(());
    for cmd in [&mut keytool, &mut pkcs12, &mut pkey] {
        match cmd.output() {
            Err(e) => panic!(
                "running {cmd:?}: {e} (the test command `bash scripts/test.sh` installs keytool and openssl)"
            ),
            Ok(out) => assert!(
                out.status.success(),
                "{cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    let result = result.map(|()| std::fs::read(&der_path).expect("openssl output"));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[test]
fn business_pair_lists_chains_and_decrypts() {
    let data = fixture("jks/business-pair.jks");
    let store = parse(&data, Some("changeit"), None).expect("parse");
    assert!(store.integrity_checked);
    assert_eq!(store.entries.len(), 3);
    let JavaEntryBody::TrustedCert {
        cert: root,
        cert_type,
    } = &find(&store, "testroot").body
    else {
        panic!("testroot is not a trusted cert");
    };
    assert_eq!(cert_type, "X.509");
    for alias in ["auth", "sign"] {
        let entry = find(&store, alias);
        let JavaEntryBody::PrivateKey {
            pkcs8,
            protection,
            chain,
            cert_types,
        } = &entry.body
        else {
            panic!("{alias} is not a key");
        };
        assert_eq!(*protection, KeyProtection::JksSunProprietary);
        assert_eq!(chain.len(), 3);
        assert_eq!(cert_types.len(), 3);
        assert!(cert_types.iter().all(|t| t == "X.509"));
        assert!(chain.iter().all(|c| is_der_sequence(c)));
        assert_eq!(chain.last(), Some(root), "chain ends with the root");
        assert_ne!(chain.first(), Some(root), "leaf first");
        assert!(chain.first() != chain.get(1) && chain.get(1) != chain.get(2));
        assert!(is_der_sequence(pkcs8.as_deref().expect("decrypted")));
    }
    // A wrong key password falls back to the store password.
    let store = parse(&data, Some("changeit"), Some("not-the-key-password")).expect("fallback");
    assert!(pkcs8_of(find(&store, "auth")).is_some());
}

#[test]
fn wrong_store_password_fails_integrity() {
    for (name, pw) in [
        ("jks/keytool-rsa.jks", "changeme"),
        ("jks/truststore.jks", ""),
        ("jceks/mixed.jceks", "Changeit"),
    ] {
        let data = fixture(name);
        assert!(
            matches!(
                parse(&data, Some(pw), None),
                Err(JksError::IntegrityCheckFailed)
            ),
            "{name}"
        );
    }
}

#[test]
fn no_password_lists_without_decrypting() {
    for name in [
        "jks/keytool-rsa.jks",
        "jks/business-pair.jks",
        "jks/keypass-differs.jks",
        "jks/nonascii.jks",
        "jks/truststore.jks",
        "jceks/mixed.jceks",
    ] {
        let data = fixture(name);
        let store = parse(&data, None, None).expect(name);
        assert!(!store.integrity_checked);
        assert!(!store.entries.is_empty());
        for e in &store.entries {
            if let JavaEntryBody::PrivateKey { pkcs8, chain, .. } = &e.body {
                assert!(pkcs8.is_none());
                assert!(!chain.is_empty());
            }
        }
        // Key password alone does not decrypt without the store password.
        let store = parse(&data, None, Some("changeit")).expect(name);
        assert!(!store.integrity_checked);
    }
}

#[test]
fn key_password_differs() {
    let data = fixture("jks/keypass-differs.jks");
    let store = parse(&data, Some("changeit"), Some("keypass1")).expect("parse");
    let pkcs8 = pkcs8_of(find(&store, "mykey")).expect("decrypted");
    assert!(is_der_sequence(pkcs8));
    for key_pw in [None, Some("changeit"), Some("keypass2")] {
        match parse(&data, Some("changeit"), key_pw) {
            Err(JksError::WrongKeyPassword { alias }) => assert_eq!(alias, "mykey"),
            other => panic!("expected WrongKeyPassword, got {other:?}"),
        }
    }
}

#[test]
fn non_ascii_password() {
    let data = fixture("jks/nonascii.jks");
    let store = parse(&data, Some("pässwörd"), None).expect("parse");
    assert!(store.integrity_checked);
    assert!(is_der_sequence(
        pkcs8_of(find(&store, "mykey")).expect("decrypted")
    ));
    assert!(matches!(
        parse(&data, Some("passwort"), None),
        Err(JksError::IntegrityCheckFailed)
    ));
    // Latin-1 bytes vs UTF-16: a lookalike password must not verify.
    assert!(matches!(
        parse(&data, Some("pa\u{0308}sswo\u{0308}rd"), None),
        Err(JksError::IntegrityCheckFailed)
    ));
}

#[test]
fn truststore_lists_certs() {
    let data = fixture("jks/truststore.jks");
    let store = parse(&data, Some("changeit"), None).expect("parse");
    assert!(store.integrity_checked);
    assert!(!store.entries.is_empty());
    for e in &store.entries {
        let JavaEntryBody::TrustedCert { cert, cert_type } = &e.body else {
            panic!("{} is not a trusted cert", e.alias);
        };
        assert_eq!(cert_type, "X.509");
        assert!(is_der_sequence(cert));
    }
}

#[test]
fn jceks_mixed() {
    let data = fixture("jceks/mixed.jceks");
    let store = parse(&data, Some("changeit"), None).expect("parse");
    assert_eq!(store.kind, JavaStoreKind::Jceks);
    assert!(store.integrity_checked);
    assert_eq!(store.entries.len(), 4);
    let key = find(&store, "mykey");
    let JavaEntryBody::PrivateKey {
        pkcs8, protection, ..
    } = &key.body
    else {
        panic!("mykey is not a key");
    };
    assert_eq!(*protection, KeyProtection::JcePbeWithMd5AndTripleDes);
    assert!(is_der_sequence(pkcs8.as_deref().expect("decrypted")));
    assert!(matches!(
        find(&store, "testroot").body,
        JavaEntryBody::TrustedCert { .. }
    ));
    for alias in ["aeskey", "hmackey"] {
        let JavaEntryBody::Secret {
            seal_algorithm,
            params_algorithm,
        } = &find(&store, alias).body
        else {
            panic!("{alias} is not a secret");
        };
        assert_eq!(seal_algorithm.as_deref(), Some("PBEWithMD5AndTripleDES"));
        assert_eq!(params_algorithm.as_deref(), Some("PBEWithMD5AndTripleDES"));
    }
    assert!(parse(&data, Some("changeit"), Some("wrong")).is_ok());
    // Non-ASCII key password cannot be a JCEKS key password; falls back to store pw.
    assert!(parse(&data, Some("changeit"), Some("pässwörd")).is_ok());
}

#[test]
fn jceks_wrong_key_password() {
    // A JCEKS key can only be tried with printable-ASCII passwords; build a
    // store whose integrity uses one password and key another.
    let data = fixture("jceks/mixed.jceks");
    let store = parse(&data, None, None).expect("parse");
    assert!(!store.integrity_checked);
    // Re-seal the same contents under a different store password, so the
    // key password "changeit" is no longer the store password.
    let body = data.get(..data.len() - 20).expect("len").to_vec();
    let resealed = seal(body, "other");
    match parse(&resealed, Some("other"), None) {
        Err(JksError::WrongKeyPassword { alias }) => assert_eq!(alias, "mykey"),
        other => panic!("expected WrongKeyPassword, got {other:?}"),
    }
    assert!(parse(&resealed, Some("other"), Some("changeit")).is_ok());
    assert!(matches!(
        parse(&resealed, Some("other"), Some("pässwörd")),
        Err(JksError::WrongKeyPassword { .. })
    ));
}

// ---- robustness ---------------------------------------------------------

#[test]
fn truncation_and_bit_flips_never_panic() {
    for (name, pw) in [
        ("jks/keytool-rsa.jks", "changeit"),
        ("jks/business-pair.jks", "changeit"),
        ("jks/keypass-differs.jks", "changeit"),
        ("jks/nonascii.jks", "pässwörd"),
        ("jks/truststore.jks", "changeit"),
        ("jceks/mixed.jceks", "changeit"),
    ] {
        let data = fixture(name);
        for n in 0..data.len() {
            let cut = data.get(..n).expect("prefix");
            assert!(parse(cut, None, None).is_err(), "{name} cut at {n}");
            assert!(parse(cut, Some(pw), None).is_err(), "{name} cut at {n}");
        }
        let mut buf = data.clone();
        for i in 0..buf.len() {
            if let Some(b) = buf.get_mut(i) {
                *b ^= 0xFF;
            }
            let _ = parse(&buf, None, None);
            let _ = parse(&buf, Some(pw), None);
            if let Some(b) = buf.get_mut(i) {
                *b ^= 0xFF;
            }
        }
    }
}

#[test]
fn truncation_and_bit_flips_of_synthetic_jceks() {
    let data = synthetic_jceks("pw");
    assert!(parse(&data, Some("pw"), None).is_ok());
    for n in 0..data.len() {
        assert!(parse(data.get(..n).expect("prefix"), Some("pw"), None).is_err());
    }
    let mut buf = data.clone();
    for i in 0..buf.len() {
        for mask in [0xFF, 0x01, 0x80] {
            if let Some(b) = buf.get_mut(i) {
                *b ^= mask;
            }
            let _ = parse(&buf, None, None);
            if let Some(b) = buf.get_mut(i) {
                *b ^= mask;
            }
        }
    }
}

// ---- synthetic stores ---------------------------------------------------

fn synthetic_pkcs8() -> Vec<u8> {
    // Not a real key, just a PKCS#8-shaped SEQUENCE.
    let mut body = der(DER_INTEGER, &[0]);
    body.extend(der(DER_SEQUENCE, &der(DER_OID, &[0x2B, 0x65, 0x70])));
    body.extend(der(DER_OCTET_STRING, &[7; 34]));
    der(DER_SEQUENCE, &body)
}

fn synthetic_jceks(password: &str) -> Vec<u8> {
    let cert = der(DER_SEQUENCE, &[0x05, 0x00]);
    let epki = jks_epki(&jks_protect(&synthetic_pkcs8(), password, [3; 20]));
    let mut v = header(MAGIC_JCEKS, 2, 4);
    v.extend(entry_head(TAG_SECRET_KEY, "s1"));
    v.extend(sealed_object_stream("PBEWithMD5AndTripleDES"));
    v.extend(entry_head(TAG_SECRET_KEY, "s2"));
    v.extend(sealed_object_stream("AES"));
    v.extend(trusted_cert_entry("ca", &cert));
    v.extend(key_entry("k", &epki, &[&cert]));
    seal(v, password)
}

#[test]
fn synthetic_jceks_secrets_then_more_entries() {
    let data = synthetic_jceks("pw");
    let store = parse(&data, Some("pw"), None).expect("parse");
    let aliases: Vec<&str> = store.entries.iter().map(|e| e.alias.as_str()).collect();
    assert_eq!(aliases, ["s1", "s2", "ca", "k"]);
    let JavaEntryBody::Secret { seal_algorithm, .. } = &find(&store, "s2").body else {
        panic!("s2 not a secret");
    };
    assert_eq!(seal_algorithm.as_deref(), Some("AES"));
    // JKS-protected key inside a JCEKS store (what importkeystore can leave).
    assert_eq!(
        pkcs8_of(find(&store, "k")),
        Some(synthetic_pkcs8().as_slice())
    );
    assert_eq!(find(&store, "k").timestamp_ms, 1_700_000_000_000);
}

#[test]
fn synthetic_jks_roundtrip_and_structure_errors() {
    let pkcs8 = synthetic_pkcs8();
    let cert = der(DER_SEQUENCE, &[0x05, 0x00]);
    let epki = jks_epki(&jks_protect(&pkcs8, "pw", [9; 20]));
    let mut body = header(MAGIC_JKS, 2, 2);
    body.extend(key_entry("k", &epki, &[&cert, &cert]));
    body.extend(trusted_cert_entry("t", &cert));
    let good = seal(body.clone(), "pw");
    let store = parse(&good, Some("pw"), None).expect("parse");
    assert_eq!(pkcs8_of(find(&store, "k")), Some(pkcs8.as_slice()));

    // trailing data between last entry and digest
    let mut trailing = body.clone();
    trailing.push(0);
    let trailing = seal(trailing, "pw");
    assert!(matches!(
        parse(&trailing, Some("pw"), None),
        Err(JksError::TrailingData { offset }) if offset == body.len()
    ));

    // secret-key tag in a JKS file
    let mut bad_tag = header(MAGIC_JKS, 2, 1);
    bad_tag.extend(entry_head(TAG_SECRET_KEY, "x"));
    assert!(matches!(
        parse(&seal(bad_tag, "pw"), None, None),
        Err(JksError::BadEntryTag { offset: 12, tag: 3 })
    ));
    let mut bad_tag = header(MAGIC_JCEKS, 2, 1);
    bad_tag.extend(entry_head(7, "x"));
    assert!(matches!(
        parse(&seal(bad_tag, "pw"), None, None),
        Err(JksError::BadEntryTag { offset: 12, tag: 7 })
    ));

    // unsupported version
    let v3 = seal(header(MAGIC_JKS, 3, 0), "pw");
    assert!(matches!(
        parse(&v3, None, None),
        Err(JksError::UnsupportedVersion { version: 3 })
    ));

    // empty v1 store is fine
    let empty = seal(header(MAGIC_JKS, 1, 0), "pw");
    let store = parse(&empty, Some("pw"), None).expect("empty");
    assert_eq!(store.version, 1);
    assert!(store.entries.is_empty());

    // caps
    let many = seal(header(MAGIC_JKS, 2, 10_001), "pw");
    assert!(matches!(
        parse(&many, None, None),
        Err(JksError::TooLarge {
            offset: 8,
            len: 10_001,
            max: 10_000,
            ..
        })
    ));
    let mut huge_blob = header(MAGIC_JKS, 2, 1);
    huge_blob.extend(entry_head(TAG_PRIVATE_KEY, "k"));
    huge_blob.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        parse(&huge_blob, None, None),
        Err(JksError::TooLarge { offset: 27, .. })
    ));
    let mut long_chain = header(MAGIC_JKS, 2, 1);
    long_chain.extend(entry_head(TAG_PRIVATE_KEY, "k"));
    long_chain.extend_from_slice(&u32b(epki.len()));
    long_chain.extend_from_slice(&epki);
    long_chain.extend_from_slice(&101u32.to_be_bytes());
    assert!(matches!(
        parse(&long_chain, None, None),
        Err(JksError::TooLarge {
            len: 101,
            max: 100,
            ..
        })
    ));
    // blob claims more than remains
    let mut short = header(MAGIC_JKS, 2, 1);
    short.extend(trusted_cert_entry("t", &cert));
    short.truncate(short.len() - 1);
    assert!(matches!(
        parse(&short, None, None),
        Err(JksError::Truncated {
            what: "certificate",
            ..
        })
    ));
}

#[test]
fn v1_store_has_no_cert_type_strings() {
    let cert = der(DER_SEQUENCE, &[0x05, 0x00]);
    let mut body = header(MAGIC_JKS, 1, 1);
    body.extend(entry_head(TAG_TRUSTED_CERT, "t"));
    body.extend_from_slice(&u32b(cert.len()));
    body.extend_from_slice(&cert);
    let store = parse(&seal(body, "pw"), Some("pw"), None).expect("v1");
    let JavaEntryBody::TrustedCert { cert: c, cert_type } = &find(&store, "t").body else {
        panic!("not a cert");
    };
    assert_eq!(c, &cert);
    assert_eq!(cert_type, "X.509");
}

#[test]
fn modified_utf8_aliases() {
    // "a", NUL as C0 80, U+00E9, U+1F600 as a surrogate pair of 3-byte sequences
    let alias_bytes: &[u8] = &[
        b'a', 0xC0, 0x80, 0xC3, 0xA9, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80,
    ];
    assert_eq!(
        decode_modified_utf8(alias_bytes).as_deref(),
        Some("a\0\u{e9}\u{1F600}")
    );
    assert_eq!(decode_modified_utf8(&[0xED, 0xA0, 0xBD]), None); // lone surrogate
    assert_eq!(decode_modified_utf8(&[0xF0, 0x9F, 0x98, 0x80]), None); // 4-byte form
    assert_eq!(decode_modified_utf8(&[0xC3]), None);
    assert_eq!(decode_modified_utf8(&[0xE2, 0x82]), None);
    assert_eq!(decode_modified_utf8(&[0x80]), None);

    let cert = der(DER_SEQUENCE, &[]);
    let mut body = header(MAGIC_JKS, 2, 1);
    body.extend_from_slice(&TAG_TRUSTED_CERT.to_be_bytes());
    body.extend_from_slice(u32b(alias_bytes.len()).get(2..).expect("u16"));
    body.extend_from_slice(alias_bytes);
    body.extend_from_slice(&0i64.to_be_bytes());
    body.extend(utf("X.509"));
    body.extend_from_slice(&u32b(cert.len()));
    body.extend_from_slice(&cert);
    let store = parse(&seal(body, "pw"), Some("pw"), None).expect("parse");
    assert_eq!(find(&store, "a\0\u{e9}\u{1F600}").timestamp_ms, 0);

    let mut bad = header(MAGIC_JKS, 2, 1);
    bad.extend_from_slice(&TAG_TRUSTED_CERT.to_be_bytes());
    bad.extend_from_slice(&[0, 2, 0xFF, 0xFE]);
    assert!(matches!(
        parse(&bad, None, None),
        Err(JksError::BadAlias { offset: 16 })
    ));
}

#[test]
fn key_protection_errors() {
    let cert = der(DER_SEQUENCE, &[]);
    let build = |epki: &[u8]| {
        let mut body = header(MAGIC_JKS, 2, 1);
        body.extend(key_entry("k", epki, &[&cert]));
        seal(body, "pw")
    };
    // PBES2 OID 1.2.840.113549.1.5.13 is not a Java keystore protection
    let mut alg = der(
        DER_OID,
        &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D],
    );
    alg.extend(der(DER_SEQUENCE, &[]));
    let mut seq = der(DER_SEQUENCE, &alg);
    seq.extend(der(DER_OCTET_STRING, &[0; 16]));
    match parse(&build(&der(DER_SEQUENCE, &seq)), None, None) {
        Err(JksError::UnsupportedKeyProtection { alias, oid }) => {
            assert_eq!(alias, "k");
            assert_eq!(oid, "1.2.840.113549.1.5.13");
        }
        other => panic!("expected UnsupportedKeyProtection, got {other:?}"),
    }
    // not DER at all
    assert!(matches!(
        parse(&build(&[0x04, 0x01, 0x00]), None, None),
        Err(JksError::Malformed { offset: 31, .. })
    ));
    // DER length running past the blob
    assert!(matches!(
        parse(&build(&[0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF]), None, None),
        Err(JksError::Malformed { .. })
    ));
    // JKS protector with too little data
    assert!(matches!(
        parse(&build(&jks_epki(&[0; 39])), None, None),
        Err(JksError::Malformed { .. })
    ));
    // wrong password -> WrongKeyPassword
    let epki = jks_epki(&jks_protect(&synthetic_pkcs8(), "other", [1; 20]));
    assert!(matches!(
        parse(&build(&epki), Some("pw"), None),
        Err(JksError::WrongKeyPassword { .. })
    ));
    // PBE iteration cap
    let pbe = |iterations: &[u8], ct: &[u8]| {
        let mut params = der(DER_OCTET_STRING, &[1, 2, 3, 4, 5, 6, 7, 8]);
        params.extend(der(DER_INTEGER, iterations));
        let mut alg = PBE_OID_DER.to_vec();
        alg.extend(der(DER_SEQUENCE, &params));
        let mut seq = der(DER_SEQUENCE, &alg);
        seq.extend(der(DER_OCTET_STRING, ct));
        der(DER_SEQUENCE, &seq)
    };
    assert!(matches!(
        parse(&build(&pbe(&[0x00, 0x98, 0x96, 0x81], &[0; 8])), None, None),
        Err(JksError::TooLarge {
            len: 10_000_001,
            max: 10_000_000,
            ..
        })
    ));
    assert!(matches!(
        parse(&build(&pbe(&[0x7F; 20], &[0; 8])), None, None),
        Err(JksError::TooLarge { .. })
    ));
    assert!(matches!(
        parse(&build(&pbe(&[0], &[0; 8])), None, None),
        Err(JksError::Malformed { .. })
    ));
    assert!(matches!(
        parse(&build(&pbe(&[0x80], &[0; 8])), None, None),
        Err(JksError::Malformed { .. })
    ));
    assert!(matches!(
        parse(&build(&pbe(&[1], &[0; 7])), None, None),
        Err(JksError::Malformed { .. })
    ));
    let store = parse(&build(&pbe(&[1], &[0; 16])), None, None).expect("listing");
    assert!(matches!(
        store.entries.first().map(|e| &e.body),
        Some(JavaEntryBody::PrivateKey {
            protection: KeyProtection::JcePbeWithMd5AndTripleDes,
            pkcs8: None,
            ..
        })
    ));
    assert!(matches!(
        parse(&build(&pbe(&[1], &[0; 16])), Some("pw"), None),
        Err(JksError::WrongKeyPassword { .. })
    ));

    // Three keys at the per-key maximum exceed the per-store budget; this
    // must fail before any key derivation runs.
    let ten_million = pbe(&[0x00, 0x98, 0x96, 0x80], &[0; 8]);
    let mut body = header(MAGIC_JCEKS, 2, 3);
    for alias in ["a", "b", "c"] {
        body.extend(key_entry(alias, &ten_million, &[&cert]));
    }
    let started = std::time::Instant::now();
    assert!(matches!(
        parse(&seal(body.clone(), "pw"), Some("pw"), None),
        Err(JksError::TooLarge {
            len: 30_000_000,
            max: 20_000_000,
            ..
        })
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(parse(&seal(body, "pw"), None, None).is_ok());
}

/// Vectors from SunJCE `Cipher.getInstance("PBEWithMD5AndTripleDES")`,
/// password "changeit", 1000 iterations.
#[test]
fn pbe_md5_3des_matches_sunjce() {
    let plain = [
        0x30, 0x0b, 0x02, 0x01, 0x00, 0x04, 0x06, b'h', b'e', b'l', b'l', b'o', b'!',
    ];
    let equal_halves: [u8; 16] = [
        0xbc, 0x7f, 0xe8, 0xf3, 0x81, 0x03, 0xd5, 0x80, 0xe6, 0xc6, 0xb9, 0x4b, 0x05, 0x76, 0xff,
        0x98,
    ];
    let distinct: [u8; 16] = [
        0x82, 0x47, 0xc0, 0xf5, 0x8e, 0x10, 0xb5, 0xe4, 0x96, 0x09, 0x1a, 0x51, 0x01, 0x22, 0xfb,
        0x85,
    ];
    assert_eq!(
        pbe_md5_3des_decrypt(&equal_halves, [1, 2, 3, 4, 1, 2, 3, 4], 1000, b"changeit").as_deref(),
        Some(plain.as_slice())
    );
    assert_eq!(
        pbe_md5_3des_decrypt(&distinct, [9, 8, 7, 6, 5, 4, 3, 2], 1000, b"changeit").as_deref(),
        Some(plain.as_slice())
    );
    assert_ne!(
        pbe_md5_3des_decrypt(&distinct, [9, 8, 7, 6, 5, 4, 3, 2], 1000, b"changeiT").as_deref(),
        Some(plain.as_slice())
    );
    assert_eq!(jce_password_bytes("ch\u{e4}ngeit"), None);
    assert_eq!(jce_password_bytes("tab\t"), None);
    assert_eq!(jce_password_bytes("\0"), Some(vec![0]));
    assert_eq!(jce_password_bytes("a b~"), Some(b"a b~".to_vec()));
}

#[test]
fn serialization_walker_limits() {
    let wrap = |stream: &[u8]| {
        let mut v = header(MAGIC_JCEKS, 2, 1);
        v.extend(entry_head(TAG_SECRET_KEY, "s"));
        v.extend_from_slice(stream);
        seal(v, "pw")
    };
    // Deeply nested objects: class X { Object f; } x.f = new X(...) ...
    let mut deep = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
    deep.extend(utf("X"));
    deep.extend_from_slice(&[0; 8]);
    deep.extend_from_slice(&[SC_SERIALIZABLE, 0, 1, b'L']);
    deep.extend(utf("f"));
    deep.push(TC_STRING);
    deep.extend(utf("Ljava/lang/Object;"));
    deep.extend_from_slice(&[TC_ENDBLOCKDATA, TC_NULL]);
    for _ in 0..5000 {
        deep.extend_from_slice(&[TC_OBJECT, TC_REFERENCE, 0x00, 0x7E, 0x00, 0x00]);
    }
    deep.push(TC_NULL);
    assert!(matches!(
        parse(&wrap(&deep), None, None),
        Err(JksError::TooLarge {
            what: "Java serialization nesting depth",
            ..
        })
    ));

    // Self-referencing superclass resolves to the placeholder, no loop.
    let mut selfref = vec![0xAC, 0xED, 0x00, 0x05, TC_OBJECT, TC_CLASSDESC];
    selfref.extend(utf("Y"));
    selfref.extend_from_slice(&[0; 8]);
    selfref.extend_from_slice(&[SC_SERIALIZABLE, 0, 0, TC_ENDBLOCKDATA]);
    selfref.extend_from_slice(&[TC_REFERENCE, 0x00, 0x7E, 0x00, 0x00]);
    assert!(parse(&wrap(&selfref), None, None).is_ok());

    // Dangling reference
    let dangling = [
        0xAC,
        0xED,
        0x00,
        0x05,
        TC_OBJECT,
        TC_REFERENCE,
        0x00,
        0x7E,
        0x00,
        0x09,
    ];
    assert!(matches!(
        parse(&wrap(&dangling), None, None),
        Err(JksError::Malformed { .. })
    ));

    // Array length far beyond the input
    let mut arr = sealed_object_stream("x");
    let pos = arr
        .windows(4)
        .position(|w| w == 3u32.to_be_bytes())
        .expect("array length");
    if let Some(s) = arr.get_mut(pos..pos + 4) {
        s.copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
    }
    assert!(matches!(
        parse(&wrap(&arr), None, None),
        Err(JksError::Truncated {
            what: "array elements",
            ..
        })
    ));

    // Not a serialization stream
    assert!(matches!(
        parse(&wrap(&[0xAC, 0xEE, 0, 5]), None, None),
        Err(JksError::Malformed { offset: 27, .. })
    ));
}

#[test]
fn error_messages_say_what_and_where() {
    let e = JksError::Truncated {
        offset: 12,
        needed: 4,
        what: "entry tag",
    };
    assert_eq!(
        e.to_string(),
        "truncated keystore: expected 4 byte(s) of entry tag at offset 12, but the input ends first"
    );
    let e = JksError::WrongKeyPassword {
        alias: "evil\u{1b}[2J".to_owned(),
    };
    assert!(!e.to_string().contains('\u{1b}'), "control chars escaped");
    let e = JksError::Malformed {
        offset: 31,
        what: "EncryptedPrivateKeyInfo SEQUENCE",
    };
    assert_eq!(
        e.to_string(),
        "malformed keystore at offset 31: expected EncryptedPrivateKeyInfo SEQUENCE"
    );
}
