//! JKS writer (Sun's format, written here: the `jks` crate is unsafe on
//! hostile input, see `docs/dependencies.md`). Keys use the JKS key
//! protector; the file ends with the SHA-1 "Mighty Aphrodite" digest.

use super::{Output, WriteError, WriteOptions, Written, alias_or_default, trusted_entries};
use crate::asn1::{self, tag};
use crate::keystore::model::{Entry, EntryKind};
use crate::keystore::pbe;
use sha1::{Digest, Sha1};

const MAGIC: u32 = 0xFEED_FEED;
const KEY_PROTECTOR_OID: &str = "1.3.6.1.4.1.42.2.17.1.1";

/// The password as Java hands it to the JKS digests: UTF-16BE, no terminator.
fn utf16be(password: &str) -> Vec<u8> {
    password.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Java's modified UTF-8 with a u16 length prefix (DataOutput.writeUTF).
fn write_utf(out: &mut Vec<u8>, s: &str) -> Result<(), WriteError> {
    let mut b = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            0x0001..=0x007f => b.push(unit as u8),
            0x0000 | 0x0080..=0x07ff => {
                b.push(0xc0 | ((unit >> 6) as u8 & 0x1f));
                b.push(0x80 | (unit as u8 & 0x3f));
            }
            _ => {
                b.push(0xe0 | ((unit >> 12) as u8 & 0x0f));
                b.push(0x80 | ((unit >> 6) as u8 & 0x3f));
                b.push(0x80 | (unit as u8 & 0x3f));
            }
        }
    }
    let len = u16::try_from(b.len()).map_err(|_| WriteError::CannotHold {
        format: "JKS",
        detail: "a name longer than 65535 bytes".into(),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&b);
    Ok(())
}

fn write_cert(out: &mut Vec<u8>, der: &[u8]) -> Result<(), WriteError> {
    write_utf(out, "X.509")?;
    out.extend_from_slice(&(der.len() as u32).to_be_bytes());
    out.extend_from_slice(der);
    Ok(())
}

/// Sun's key protector: salt ‖ (key XOR SHA-1 keystream) ‖ SHA-1(pw ‖ key).
pub fn protect_key(pkcs8: &[u8], password: &str) -> Result<Vec<u8>, pbe::RandomError> {
    let pw = utf16be(password);
    let salt = pbe::random_bytes(20)?;
    let mut stream = Vec::with_capacity(pkcs8.len() + 20);
    let mut d = salt.clone();
    while stream.len() < pkcs8.len() {
        d = Sha1::digest([&pw[..], &d[..]].concat()).to_vec();
        stream.extend_from_slice(&d);
    }
    let mut out = salt;
    out.extend(pkcs8.iter().zip(&stream).map(|(a, b)| a ^ b));
    out.extend_from_slice(&Sha1::digest([&pw[..], pkcs8].concat()));
    let alg = asn1::encode(
        tag::SEQUENCE,
        &[
            asn1::encode(tag::OID, &crate::key::oid_bytes(KEY_PROTECTOR_OID)),
            asn1::encode(tag::NULL, &[]),
        ]
        .concat(),
    );
    Ok(asn1::encode(
        tag::SEQUENCE,
        &[alg, asn1::encode(tag::OCTET_STRING, &out)].concat(),
    ))
}

/// keytool's rule: JKS aliases are case-insensitive and stored in lower case.
pub fn jks_alias(alias: &str) -> String {
    alias.to_lowercase()
}

/// Write the entries as a JKS file.
pub fn write(entries: &[Entry], opts: &WriteOptions) -> Result<Output, WriteError> {
    let password = opts.password.clone().ok_or(WriteError::NeedsPassword {
        format: "JKS",
        detail: "the input had none to reuse".into(),
    })?;
    let key_password = opts
        .key_password
        .clone()
        .unwrap_or_else(|| password.clone());
    let mut body = Body::default();
    for (i, e) in entries.iter().enumerate() {
        body.add(e, alias_or_default(e, i), opts, &key_password)?;
    }
    if body.aliases.is_empty() {
        return Err(WriteError::Nothing {
            detail: "no private key or certificate among the chosen entries".into(),
        });
    }
    let out = keystore_bytes(&body, &password);
    let mut notes = body.notes;
    if opts.key_password.as_deref().is_some_and(|k| k != password) {
        notes.push(
            "the key password differs from the store password: many tools assume they are equal"
                .into(),
        );
    }
    Ok(Output {
        files: vec![Written {
            part: None,
            bytes: out,
            private: body.private,
            aliases: body.aliases,
        }],
        notes,
    })
}

/// The header, the entries and the keyed SHA-1 digest over both.
fn keystore_bytes(body: &Body, password: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.bytes.len() + 32);
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&2u32.to_be_bytes());
    out.extend_from_slice(&(body.aliases.len() as u32).to_be_bytes());
    out.extend_from_slice(&body.bytes);
    let digest = Sha1::digest([&utf16be(password)[..], b"Mighty Aphrodite", &out[..]].concat());
    out.extend_from_slice(&digest);
    out
}

/// The entries of a keystore as they are added, in order.
#[derive(Default)]
struct Body {
    bytes: Vec<u8>,
    aliases: Vec<String>,
    /// Every certificate written so far (a CA shared by two chains once).
    written: Vec<Vec<u8>>,
    private: bool,
    notes: Vec<String>,
}

impl Body {
    fn add(
        &mut self,
        e: &Entry,
        original: String,
        opts: &WriteOptions,
        key_password: &str,
    ) -> Result<(), WriteError> {
        let alias = jks_alias(&original);
        if alias != original {
            self.notes.push(format!(
                "alias \"{original}\" is written as \"{alias}\": JKS aliases are case-insensitive \
                 and keytool stores them in lower case"
            ));
        }
        if self.aliases.contains(&alias) {
            return Err(WriteError::DuplicateAlias {
                format: "JKS",
                alias,
            });
        }
        match e.kind {
            EntryKind::PrivateKey => self.add_key(e, &alias, original, opts, key_password)?,
            EntryKind::TrustedCertificate | EntryKind::Certificate => {
                self.add_trusted(e, &alias, opts)?;
            }
            EntryKind::PublicKey => {
                self.notes.push(format!(
                    "skipped \"{original}\": JKS cannot hold a bare public key (use PEM or JWK)"
                ));
                return Ok(());
            }
            EntryKind::Secret => {
                self.notes.push(format!(
                    "skipped secret entry \"{original}\": it is never decrypted"
                ));
                return Ok(());
            }
        }
        self.aliases.push(alias);
        Ok(())
    }

    /// A PrivateKeyEntry: the protected key and its chain.
    fn add_key(
        &mut self,
        e: &Entry,
        alias: &str,
        original: String,
        opts: &WriteOptions,
        key_password: &str,
    ) -> Result<(), WriteError> {
        let Some(key) = &e.private_key else {
            return Err(WriteError::KeyLocked { alias: original });
        };
        if e.chain.is_empty() {
            return Err(WriteError::CannotHold {
                format: "JKS",
                detail: format!(
                    "the private key \"{original}\" without a certificate (Java needs one)"
                ),
            });
        }
        self.private = true;
        let body = &mut self.bytes;
        body.extend_from_slice(&1u32.to_be_bytes());
        write_utf(body, alias)?;
        body.extend_from_slice(&opts.now_ms.to_be_bytes());
        let protected = protect_key(&key.pkcs8, key_password)?;
        body.extend_from_slice(&(protected.len() as u32).to_be_bytes());
        body.extend_from_slice(&protected);
        let n = if opts.leaf_only { 1 } else { e.chain.len() };
        body.extend_from_slice(&(n as u32).to_be_bytes());
        for c in e.chain.iter().take(n) {
            write_cert(body, &c.der)?;
        }
        Ok(())
    }

    /// Each certificate of a loose chain becomes its own trusted entry.
    fn add_trusted(
        &mut self,
        e: &Entry,
        alias: &str,
        opts: &WriteOptions,
    ) -> Result<(), WriteError> {
        let entries = trusted_entries(e, alias, opts, &mut self.written, &self.aliases, "JKS")?;
        for (j, a, c) in entries {
            self.bytes.extend_from_slice(&2u32.to_be_bytes());
            write_utf(&mut self.bytes, &a)?;
            self.bytes.extend_from_slice(&opts.now_ms.to_be_bytes());
            write_cert(&mut self.bytes, &c.der)?;
            if j > 0 {
                self.aliases.push(a);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::java as reader;

    #[test]
    fn modified_utf8_matches_java() {
        let mut v = Vec::new();
        write_utf(&mut v, "a\u{0}ø€😀").expect("utf");
        assert_eq!(
            v,
            vec![
                0, 14, b'a', 0xc0, 0x80, 0xc3, 0xb8, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xbd, 0xed,
                0xb8, 0x80
            ]
        );
    }

    #[test]
    fn written_store_reads_back() {
        let key =
            crate::key::PrivateKey::from_ec_private(crate::key::Curve::P256, &[7]).expect("key");
        let cert_pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/pem/ec-p256.cert.pem"
        ))
        .expect("fixture");
        let der = crate::keystore::pem::parse_blocks(&cert_pem).expect("pem")[0]
            .der
            .clone();
        let mut e = Entry::new(EntryKind::PrivateKey);
        e.alias = Some("MyKey".into());
        e.private_key = Some(key.clone());
        e.chain = vec![crate::cert::Certificate::from_der(&der).expect("cert")];
        let opts = WriteOptions {
            password: Some("pässwörd".into()),
            key_password: None,
            legacy: false,
            encrypt_keys: true,
            parts: super::super::Parts::All,
            leaf_only: false,
            private_jwk: false,
            kid: None,
            now_ms: 1_700_000_000_000,
            iterations: None,
        };
        let out = write(&[e], &opts).expect("write");
        assert!(out.notes[0].contains("lower case"));
        let store = reader::parse(&out.files[0].bytes, Some("pässwörd"), None).expect("read");
        assert!(store.integrity_checked);
        assert_eq!(store.entries[0].alias, "mykey");
        assert_eq!(store.entries[0].timestamp_ms, 1_700_000_000_000);
        match &store.entries[0].body {
            reader::JavaEntryBody::PrivateKey { pkcs8, chain, .. } => {
                assert_eq!(pkcs8.as_deref(), Some(&key.pkcs8[..]));
                assert_eq!(chain.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }
}
