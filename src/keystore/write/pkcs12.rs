//! PKCS#12 writer: certificates in an encrypted SafeContents, keys in
//! shrouded key bags, friendlyName = alias, a MAC over everything.
//! Defaults (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC) open in
//! openssl 3 and keytool 17 without extra flags; legacy mode (3DES, SHA-1 MAC)
//! is for Java 8 and Windows Server 2016.

use super::{Output, WriteError, WriteOptions, Written, alias_or_default, key_less_certs};
use crate::asn1::{self, encode_u64, oid, seq, tag};
use crate::keystore::model::{Entry, EntryKind};
use crate::keystore::pbe::{self, HashAlg};
use sha1::{Digest, Sha1};

const DATA: &str = "1.2.840.113549.1.7.1";
const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
const X509_CERT: &str = "1.2.840.113549.1.9.22.1";
const FRIENDLY_NAME: &str = "1.2.840.113549.1.9.20";
const LOCAL_KEY_ID: &str = "1.2.840.113549.1.9.21";
const ORACLE_TRUSTED_KEY_USAGE: &str = "2.16.840.1.113894.746875.1.1";
const ANY_EKU: &str = "2.5.29.37.0";
const SHA1_OID: &str = "1.3.14.3.2.26";
const SHA256_OID: &str = "2.16.840.1.101.3.4.2.1";

/// DER SET OF: elements sorted by their encoding.
fn set_of(mut parts: Vec<Vec<u8>>) -> Vec<u8> {
    parts.sort();
    asn1::encode(tag::SET, &parts.concat())
}

fn explicit0(inner: &[u8]) -> Vec<u8> {
    asn1::encode(0xa0, inner)
}

fn attribute(kind: &str, value: Vec<u8>) -> Vec<u8> {
    seq(&[oid(kind), set_of(vec![value])])
}

fn friendly_name(alias: &str) -> Vec<u8> {
    let bmp: Vec<u8> = alias.encode_utf16().flat_map(u16::to_be_bytes).collect();
    attribute(FRIENDLY_NAME, asn1::encode(tag::BMP_STRING, &bmp))
}

fn local_key_id(id: &[u8]) -> Vec<u8> {
    attribute(LOCAL_KEY_ID, asn1::encode(tag::OCTET_STRING, id))
}

fn bag(bag_type: &str, value: Vec<u8>, attrs: Vec<Vec<u8>>) -> Vec<u8> {
    let mut parts = vec![oid(bag_type), explicit0(&value)];
    if !attrs.is_empty() {
        parts.push(set_of(attrs));
    }
    seq(&parts)
}

fn cert_bag(der: &[u8], attrs: Vec<Vec<u8>>) -> Vec<u8> {
    let value = seq(&[
        oid(X509_CERT),
        explicit0(&asn1::encode(tag::OCTET_STRING, der)),
    ]);
    bag(CERT_BAG, value, attrs)
}

/// Write the entries as a PKCS#12 file.
pub(crate) fn write(entries: &[Entry], opts: &WriteOptions) -> Result<Output, WriteError> {
    let password = opts.password.clone().ok_or(WriteError::NeedsPassword {
        format: "PKCS#12",
        detail: "the input had none to reuse".into(),
    })?;
    let protection = opts.protection();
    let mut notes = Vec::new();
    let mut cert_bags: Vec<Vec<u8>> = Vec::new();
    let mut key_bags: Vec<Vec<u8>> = Vec::new();
    let mut written_certs: Vec<Vec<u8>> = Vec::new();
    let mut aliases: Vec<String> = Vec::new();
    let mut private = false;
    for (i, e) in entries.iter().enumerate() {
        let alias = alias_or_default(e, i);
        if aliases.contains(&alias) {
            return Err(WriteError::DuplicateAlias {
                format: "PKCS#12",
                alias,
            });
        }
        match e.kind {
            EntryKind::PrivateKey => {
                let Some(key) = &e.private_key else {
                    return Err(WriteError::KeyLocked { alias });
                };
                private = true;
                let id: Vec<u8> = match e.chain.first() {
                    Some(c) => Sha1::digest(&c.der).to_vec(),
                    None => {
                        notes.push(format!(
                            "entry \"{alias}\" has no certificate: keytool lists it, but Java cannot sign with it"
                        ));
                        Sha1::digest(&key.pkcs8).to_vec()
                    }
                };
                let epki = pbe::encrypt_pkcs8(protection, &password, &key.pkcs8)?;
                key_bags.push(bag(
                    SHROUDED_KEY_BAG,
                    epki,
                    vec![friendly_name(&alias), local_key_id(&id)],
                ));
                let chain: &[crate::cert::Certificate] = if opts.leaf_only {
                    &e.chain[..e.chain.len().min(1)]
                } else {
                    &e.chain
                };
                for (j, c) in chain.iter().enumerate() {
                    if j == 0 {
                        cert_bags.push(cert_bag(
                            &c.der,
                            vec![friendly_name(&alias), local_key_id(&id)],
                        ));
                    } else if !written_certs.contains(&c.der) {
                        cert_bags.push(cert_bag(&c.der, vec![]));
                    }
                    written_certs.push(c.der.clone());
                }
            }
            EntryKind::TrustedCertificate | EntryKind::Certificate => {
                // Each certificate of a loose chain is its own trusted entry,
                // named as in the JKS writer (Java keeps one per friendlyName).
                for (j, c) in key_less_certs(e, opts, &mut written_certs) {
                    let name = if j == 0 {
                        alias.clone()
                    } else {
                        format!("{alias}-{j}")
                    };
                    if j > 0 && aliases.contains(&name) {
                        return Err(WriteError::DuplicateAlias {
                            format: "PKCS#12",
                            alias: name,
                        });
                    }
                    let trust = attribute(ORACLE_TRUSTED_KEY_USAGE, oid(ANY_EKU));
                    cert_bags.push(cert_bag(&c.der, vec![friendly_name(&name), trust]));
                    if j > 0 {
                        aliases.push(name);
                    }
                }
            }
            EntryKind::PublicKey => {
                notes.push(format!(
                    "skipped \"{alias}\": PKCS#12 cannot hold a bare public key (use PEM or JWK)"
                ));
                continue;
            }
            EntryKind::Secret => {
                notes.push(format!(
                    "skipped secret entry \"{alias}\": it is never decrypted"
                ));
                continue;
            }
        }
        aliases.push(alias);
    }
    if cert_bags.is_empty() && key_bags.is_empty() {
        return Err(WriteError::Nothing {
            detail: "no private key or certificate among the chosen entries".into(),
        });
    }
    let mut safes = Vec::new();
    if !cert_bags.is_empty() {
        let plain = seq(&cert_bags);
        let (alg, ct) = pbe::encrypt(protection, &password, &plain)?;
        let eci = seq(&[oid(DATA), alg, asn1::encode(0x80, &ct)]);
        let ed = seq(&[encode_u64(0), eci]);
        safes.push(seq(&[oid(ENCRYPTED_DATA), explicit0(&ed)]));
    }
    if !key_bags.is_empty() {
        let plain = seq(&key_bags);
        safes.push(seq(&[
            oid(DATA),
            explicit0(&asn1::encode(tag::OCTET_STRING, &plain)),
        ]));
    }
    let auth_safe = seq(&safes);
    let (hash, hash_oid, salt_len, mac_iter) = if opts.legacy {
        (HashAlg::Sha1, SHA1_OID, 8, protection.iterations())
    } else {
        (HashAlg::Sha256, SHA256_OID, 16, protection.iterations())
    };
    let salt = pbe::random_bytes(salt_len)?;
    let mac_key = pbe::pkcs12_kdf(
        hash,
        3,
        &pbe::bmp_password(&password),
        &salt,
        mac_iter.max(1),
        hash.output_len(),
    );
    let mac = hash.hmac(&mac_key, &auth_safe);
    let mac_data = seq(&[
        seq(&[
            seq(&[oid(hash_oid), asn1::encode(tag::NULL, &[])]),
            asn1::encode(tag::OCTET_STRING, &mac),
        ]),
        asn1::encode(tag::OCTET_STRING, &salt),
        encode_u64(u64::from(mac_iter)),
    ]);
    let pfx = seq(&[
        encode_u64(3),
        seq(&[
            oid(DATA),
            explicit0(&asn1::encode(tag::OCTET_STRING, &auth_safe)),
        ]),
        mac_data,
    ]);
    Ok(Output {
        files: vec![Written {
            part: None,
            bytes: pfx,
            private,
            aliases,
        }],
        notes,
    })
}
