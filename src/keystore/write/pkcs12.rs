//! PKCS#12 writer: certificates in an encrypted SafeContents, keys in
//! shrouded key bags, friendlyName = alias, a MAC over everything.
//! Defaults (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC) open in
//! openssl 3 and keytool 17 without extra flags; legacy mode (3DES, SHA-1 MAC)
//! is for Java 8 and Windows Server 2016.

use super::{Output, WriteError, WriteOptions, Written, alias_or_default, trusted_entries};
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
pub fn write(entries: &[Entry], opts: &WriteOptions) -> Result<Output, WriteError> {
    let password = opts.password.clone().ok_or(WriteError::NeedsPassword {
        format: "PKCS#12",
        detail: "the input had none to reuse".into(),
    })?;
    let mut bags = Bags::default();
    for (i, e) in entries.iter().enumerate() {
        bags.add(e, alias_or_default(e, i), opts, &password)?;
    }
    if bags.certs.is_empty() && bags.keys.is_empty() {
        return Err(WriteError::Nothing {
            detail: "no private key or certificate among the chosen entries".into(),
        });
    }
    let auth_safe = auth_safe(&bags, opts, &password)?;
    let mac_data = mac_data(&auth_safe, opts, &password)?;
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
            private: bags.private,
            aliases: bags.aliases,
        }],
        notes: bags.notes,
    })
}

/// The bags of a PFX as the entries are added, in order.
#[derive(Default)]
struct Bags {
    certs: Vec<Vec<u8>>,
    keys: Vec<Vec<u8>>,
    /// Every certificate written so far (a CA shared by two chains once).
    written_certs: Vec<Vec<u8>>,
    aliases: Vec<String>,
    private: bool,
    notes: Vec<String>,
}

impl Bags {
    fn add(
        &mut self,
        e: &Entry,
        alias: String,
        opts: &WriteOptions,
        password: &str,
    ) -> Result<(), WriteError> {
        if self.aliases.contains(&alias) {
            return Err(WriteError::DuplicateAlias {
                format: "PKCS#12",
                alias,
            });
        }
        match e.kind {
            EntryKind::PrivateKey => self.add_key(e, &alias, opts, password)?,
            EntryKind::TrustedCertificate | EntryKind::Certificate => {
                self.add_trusted(e, &alias, opts)?;
            }
            EntryKind::PublicKey => {
                self.notes.push(format!(
                    "skipped \"{alias}\": PKCS#12 cannot hold a bare public key (use PEM or JWK)"
                ));
                return Ok(());
            }
            EntryKind::Secret => {
                self.notes.push(format!(
                    "skipped secret entry \"{alias}\": it is never decrypted"
                ));
                return Ok(());
            }
        }
        self.aliases.push(alias);
        Ok(())
    }

    /// A shrouded key bag, and its chain: the leaf named like the key, the
    /// CAs not yet written without attributes.
    fn add_key(
        &mut self,
        e: &Entry,
        alias: &str,
        opts: &WriteOptions,
        password: &str,
    ) -> Result<(), WriteError> {
        let Some(key) = &e.private_key else {
            return Err(WriteError::KeyLocked {
                alias: alias.to_string(),
            });
        };
        self.private = true;
        let id: Vec<u8> = match e.chain.first() {
            Some(c) => Sha1::digest(&c.der).to_vec(),
            None => {
                self.notes.push(format!(
                    "entry \"{alias}\" has no certificate: keytool lists it, but Java cannot sign with it"
                ));
                Sha1::digest(&key.pkcs8).to_vec()
            }
        };
        let epki = pbe::encrypt_pkcs8(opts.protection(), password, &key.pkcs8)?;
        self.keys.push(bag(
            SHROUDED_KEY_BAG,
            epki,
            vec![friendly_name(alias), local_key_id(&id)],
        ));
        let chain: &[crate::cert::Certificate] = if opts.leaf_only {
            &e.chain[..e.chain.len().min(1)]
        } else {
            &e.chain
        };
        for (j, c) in chain.iter().enumerate() {
            if j == 0 {
                self.certs.push(cert_bag(
                    &c.der,
                    vec![friendly_name(alias), local_key_id(&id)],
                ));
            } else if !self.written_certs.contains(&c.der) {
                self.certs.push(cert_bag(&c.der, vec![]));
            }
            self.written_certs.push(c.der.clone());
        }
        Ok(())
    }

    /// Each certificate of a loose chain is its own trusted entry, named as
    /// in the JKS writer (Java keeps one per friendlyName).
    fn add_trusted(
        &mut self,
        e: &Entry,
        alias: &str,
        opts: &WriteOptions,
    ) -> Result<(), WriteError> {
        let entries = trusted_entries(
            e,
            alias,
            opts,
            &mut self.written_certs,
            &self.aliases,
            "PKCS#12",
        )?;
        for (j, name, c) in entries {
            let trust = attribute(ORACLE_TRUSTED_KEY_USAGE, oid(ANY_EKU));
            self.certs
                .push(cert_bag(&c.der, vec![friendly_name(&name), trust]));
            if j > 0 {
                self.aliases.push(name);
            }
        }
        Ok(())
    }
}

/// The AuthenticatedSafe: the certificate bags encrypted, the (shrouded)
/// key bags in plain data.
fn auth_safe(bags: &Bags, opts: &WriteOptions, password: &str) -> Result<Vec<u8>, WriteError> {
    let mut safes = Vec::new();
    if !bags.certs.is_empty() {
        let plain = seq(&bags.certs);
        let (alg, ct) = pbe::encrypt(opts.protection(), password, &plain)?;
        let eci = seq(&[oid(DATA), alg, asn1::encode(0x80, &ct)]);
        let ed = seq(&[encode_u64(0), eci]);
        safes.push(seq(&[oid(ENCRYPTED_DATA), explicit0(&ed)]));
    }
    if !bags.keys.is_empty() {
        let plain = seq(&bags.keys);
        safes.push(seq(&[
            oid(DATA),
            explicit0(&asn1::encode(tag::OCTET_STRING, &plain)),
        ]));
    }
    Ok(seq(&safes))
}

/// The MacData over the AuthenticatedSafe (SHA-1 in the legacy form).
fn mac_data(auth_safe: &[u8], opts: &WriteOptions, password: &str) -> Result<Vec<u8>, WriteError> {
    let mac_iter = opts.protection().iterations();
    let (hash, hash_oid, salt_len) = if opts.legacy {
        (HashAlg::Sha1, SHA1_OID, 8)
    } else {
        (HashAlg::Sha256, SHA256_OID, 16)
    };
    let salt = pbe::random_bytes(salt_len)?;
    let mac_key = pbe::pkcs12_kdf(
        hash,
        3,
        &pbe::bmp_password(password),
        &salt,
        mac_iter.max(1),
        hash.output_len(),
    );
    let mac = hash.hmac(&mac_key, auth_safe);
    Ok(seq(&[
        seq(&[
            seq(&[oid(hash_oid), asn1::encode(tag::NULL, &[])]),
            asn1::encode(tag::OCTET_STRING, &mac),
        ]),
        asn1::encode(tag::OCTET_STRING, &salt),
        encode_u64(u64::from(mac_iter)),
    ]))
}
