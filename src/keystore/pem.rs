//! PEM and DER: certificates and chains, PKCS#1, PKCS#8 and SEC1 keys,
//! encrypted PKCS#8, OpenSSL's legacy `Proc-Type` encryption, public keys.

use super::KeystoreError;
use super::model::{Entry, EntryKind, Format, Store};
use super::pbe;
use crate::asn1::{self, tag};
use crate::cert::{Certificate, chain};
use crate::diagnostics::findings::Text;
use crate::key::{PrivateKey, PublicKey, openssh};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Most PEM blocks accepted in one file.
const MAX_BLOCKS: usize = 10_000;

/// Most key-derivation iterations spent on the encrypted keys of one file
/// (as for PKCS#12: one key may use the whole per-key cap).
const MAX_TOTAL_ITERATIONS: u64 = 10_000_000;

/// One PEM block.
#[derive(Debug, Clone)]
pub struct Block {
    pub label: String,
    pub headers: Vec<(String, String)>,
    pub der: Vec<u8>,
    /// 1-based line number of the BEGIN line.
    pub line: usize,
}

/// Is there at least one PEM BEGIN line?
pub(crate) fn looks_like(data: &[u8]) -> bool {
    let head = &data[..data.len().min(64 * 1024)];
    head.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Split text into PEM blocks.
pub fn parse_blocks(text: &str) -> Result<Vec<Block>, KeystoreError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((no, line)) = lines.next() {
        let line = line.trim();
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        if blocks.len() >= MAX_BLOCKS {
            return Err(KeystoreError::TooLarge {
                what: "number of PEM blocks".into(),
                value: MAX_BLOCKS as u64 + 1,
                max: MAX_BLOCKS as u64,
            });
        }
        let end = format!("-----END {label}-----");
        let mut headers = Vec::new();
        let mut b64 = String::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            let l = l.trim();
            if l == end {
                closed = true;
                break;
            }
            if l.starts_with("-----") {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && b64.is_empty()
            {
                headers.push((k.trim().to_string(), v.trim().to_string()));
                continue;
            }
            b64.push_str(l);
        }
        if !closed {
            return Err(KeystoreError::Invalid {
                format: "PEM",
                detail: format!(
                    "the \"{label}\" block that starts on line {} has no END line (file truncated?)",
                    no + 1
                ),
            });
        }
        let der = STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| KeystoreError::Invalid {
                format: "PEM",
                detail: format!(
                    "the \"{label}\" block that starts on line {} is not valid base64 ({e})",
                    no + 1
                ),
            })?;
        blocks.push(Block {
            label: label.to_string(),
            headers,
            der,
            line: no + 1,
        });
    }
    Ok(blocks)
}

fn header<'a>(b: &'a Block, name: &str) -> Option<&'a str> {
    b.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Ask for a password lazily: returns None when none is available.
pub type PasswordFn<'a> =
    dyn FnMut() -> Result<Option<zeroize::Zeroizing<String>>, KeystoreError> + 'a;

fn need_password(
    password: &mut PasswordFn<'_>,
    what: &str,
) -> Result<zeroize::Zeroizing<String>, KeystoreError> {
    match password()? {
        Some(p) => Ok(p),
        None => Err(KeystoreError::PasswordRequired {
            format: if what.contains("PKCS#8") {
                "encrypted PKCS#8"
            } else {
                "encrypted PEM"
            },
        }),
    }
}

/// Read PEM text into a store.
pub fn read(text: &str, password: &mut PasswordFn<'_>) -> Result<Store, KeystoreError> {
    let blocks = parse_blocks(text)?;
    if blocks.is_empty() {
        return Err(KeystoreError::UnknownFormat {
            detail: "the text holds no PEM block (-----BEGIN ...-----)".into(),
        });
    }
    check_iterations(&blocks)?;
    let mut found = Found::default();
    for b in &blocks {
        found.add(b, password)?;
    }
    if found.keys.is_empty()
        && found.certs.is_empty()
        && found.publics.is_empty()
        && let Some(refusal) = super::named::pem_blocks(&blocks)
    {
        return Err(refusal);
    }
    if blocks
        .iter()
        .all(|b| matches!(b.label.as_str(), "PKCS7" | "CMS"))
    {
        return Ok(super::pkcs7::store_from(super::pkcs7::Bundle {
            certificates: found.certs,
            notes: found.notes,
        }));
    }
    let mut store = assemble(Format::Pem, found.keys, found.certs, found.publics);
    store.notes.extend(found.notes.into_iter().map(Text::from));
    Ok(store)
}

/// Each encrypted key is capped by its decryption; the file as a whole
/// here, before any derivation (thousands of blocks of 10 million
/// iterations each would take hours). Counts over the per-key cap are
/// left to the decryption, which names them.
fn check_iterations(blocks: &[Block]) -> Result<(), KeystoreError> {
    let declared = blocks
        .iter()
        .filter(|b| b.label == "ENCRYPTED PRIVATE KEY")
        .filter_map(|b| pbe::describe_pkcs8(&b.der).ok())
        .map(|i| i.iterations)
        .filter(|n| *n <= pbe::MAX_ITERATIONS)
        .fold(0u64, u64::saturating_add);
    if declared > MAX_TOTAL_ITERATIONS {
        return Err(KeystoreError::TooLarge {
            what: "sum of the key-derivation iteration counts in the file".into(),
            value: declared,
            max: MAX_TOTAL_ITERATIONS,
        });
    }
    Ok(())
}

/// What the blocks of a PEM file hold, in file order.
#[derive(Default)]
struct Found {
    /// Each key with how it was protected.
    keys: Vec<(PrivateKey, String)>,
    certs: Vec<Certificate>,
    publics: Vec<PublicKey>,
    notes: Vec<String>,
}

impl Found {
    fn add(&mut self, b: &Block, password: &mut PasswordFn<'_>) -> Result<(), KeystoreError> {
        let at = |e: KeystoreError| -> KeystoreError {
            KeystoreError::InBlock {
                label: b.label.clone(),
                line: b.line,
                source: Box::new(e),
            }
        };
        match b.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                self.certs.push(block_certificate(b).map_err(at)?);
            }
            "PRIVATE KEY" => self.keys.push((
                PrivateKey::from_pkcs8(&b.der).map_err(|e| at(KeystoreError::Key(e)))?,
                "none (PKCS#8)".into(),
            )),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "DSA PRIVATE KEY" => {
                self.keys.push(traditional_key(b, password, at)?);
            }
            "ENCRYPTED PRIVATE KEY" => self.keys.push(open_pkcs8(&b.der, password, at)?),
            "OPENSSH PRIVATE KEY" => {
                for (key, comment) in
                    openssh::parse(&b.der).map_err(|e| at(KeystoreError::Key(e)))?
                {
                    let prot = if comment.is_empty() {
                        "none (OpenSSH)".to_string()
                    } else {
                        format!("none (OpenSSH, comment \"{comment}\")")
                    };
                    self.keys.push((key, prot));
                }
            }
            "PUBLIC KEY" => self
                .publics
                .push(PublicKey::from_spki(&b.der).map_err(|e| at(KeystoreError::Key(e)))?),
            "RSA PUBLIC KEY" => self
                .publics
                .push(PublicKey::from_pkcs1_public(&b.der).map_err(|e| at(KeystoreError::Key(e)))?),
            "EC PARAMETERS" => {}
            "PKCS7" | "CMS" => {
                let bundle = super::pkcs7::read_bundle(&b.der).map_err(at)?;
                self.certs.extend(bundle.certificates);
                self.notes.extend(bundle.notes);
            }
            other => self.notes.push(format!(
                "skipped a \"{other}\" block on line {} (not a key or certificate)",
                b.line
            )),
        }
        Ok(())
    }
}

/// A certificate block; OpenSSL's TRUSTED CERTIFICATE is the certificate
/// followed by trust settings.
fn block_certificate(b: &Block) -> Result<Certificate, KeystoreError> {
    let der = if b.label == "TRUSTED CERTIFICATE" {
        asn1::Reader::new(&b.der)
            .read()
            .map(|t| t.raw.to_vec())
            .map_err(|e| KeystoreError::Malformed {
                format: "PEM",
                source: e,
            })?
    } else {
        b.der.clone()
    };
    Certificate::from_der(&der).map_err(KeystoreError::Cert)
}

/// A PKCS#1, SEC1 or DSA key block, in the clear or with OpenSSL's legacy
/// `Proc-Type: 4,ENCRYPTED` and `DEK-Info` headers; with how it was protected.
fn traditional_key(
    b: &Block,
    password: &mut PasswordFn<'_>,
    at: impl Fn(KeystoreError) -> KeystoreError,
) -> Result<(PrivateKey, String), KeystoreError> {
    let (der, prot) = if header(b, "Proc-Type").is_some_and(|v| v.contains("ENCRYPTED")) {
        let dek = header(b, "DEK-Info").ok_or_else(|| {
            at(KeystoreError::Invalid {
                format: "PEM",
                detail: "Proc-Type says ENCRYPTED but there is no DEK-Info header".into(),
            })
        })?;
        let (cipher, iv) = dek.split_once(',').unwrap_or((dek, ""));
        let pw = need_password(password, "legacy PEM")?;
        let plain = pbe::decrypt_legacy_pem(cipher.trim(), iv.trim(), &pw, &b.der)
            .map_err(|e| at(pem_pbe_err(e)))?;
        if asn1::parse_single(&plain).is_err() {
            return Err(at(KeystoreError::WrongPassword {
                what: "legacy PEM key".into(),
            }));
        }
        (plain, format!("legacy PEM encryption ({})", cipher.trim()))
    } else {
        (b.der.clone(), "none".into())
    };
    let key = if b.label.starts_with("RSA") {
        PrivateKey::from_pkcs1(&der)
    } else if b.label.starts_with("DSA") {
        crate::key::dsa::from_traditional(&der)
    } else {
        PrivateKey::from_sec1(&der)
    }
    .map_err(|e| at(KeystoreError::Key(e)))?;
    Ok((key, prot))
}

/// Decrypt an encrypted PKCS#8 key (EncryptedPrivateKeyInfo DER). With no
/// password given, the empty one is tried, as for PKCS#12 and JKS. Returns
/// the key and how it was protected.
fn open_pkcs8(
    der: &[u8],
    password: &mut PasswordFn<'_>,
    at: impl Fn(KeystoreError) -> KeystoreError,
) -> Result<(PrivateKey, String), KeystoreError> {
    let info = pbe::describe_pkcs8(der).map_err(|e| at(pem_pbe_err(e)))?;
    let (plain, how) = match password()? {
        Some(pw) => (
            pbe::decrypt_pkcs8(der, &pw).map_err(|e| at(pem_pbe_err(e)))?,
            info.to_string(),
        ),
        None => match pbe::decrypt_pkcs8(der, "") {
            Ok(plain) => (plain, format!("{info}, empty password")),
            Err(pbe::PbeError::Decrypt) => {
                return Err(at(KeystoreError::PasswordRequired {
                    format: "encrypted PKCS#8",
                }));
            }
            Err(e) => return Err(at(pem_pbe_err(e))),
        },
    };
    let key = PrivateKey::from_pkcs8(&plain).map_err(|e| match e {
        // The password was right (the plaintext is a DER structure), the key
        // type is one credkit does not use: say so, not "wrong password".
        crate::key::KeyError::Unsupported { .. } => at(KeystoreError::Key(e)),
        _ => at(KeystoreError::WrongPassword {
            what: "encrypted PKCS#8 key".into(),
        }),
    })?;
    Ok((key, how))
}

fn pem_pbe_err(e: pbe::PbeError) -> KeystoreError {
    match e {
        pbe::PbeError::Decrypt => KeystoreError::WrongPassword {
            what: "encrypted key".into(),
        },
        pbe::PbeError::Unsupported { what, name } => KeystoreError::Unsupported {
            what: what.into(),
            name,
        },
        pbe::PbeError::Malformed(e) => KeystoreError::Malformed {
            format: "PEM",
            source: e,
        },
        pbe::PbeError::TooManyIterations { count } => KeystoreError::TooLarge {
            what: "iteration count".into(),
            value: count,
            max: pbe::MAX_ITERATIONS,
        },
    }
}

/// Pair keys with certificates (by public key), build chains, and list the rest.
pub(crate) fn assemble(
    format: Format,
    keys: Vec<(PrivateKey, String)>,
    certs: Vec<Certificate>,
    publics: Vec<PublicKey>,
) -> Store {
    let mut store = Store::new(format);
    let mut used = vec![false; certs.len()];
    let single_key = keys.len() == 1;
    // Keys that share a leaf share its chain: build it once (thousands of
    // keys over thousands of certificates would otherwise take hours).
    let mut chains: std::collections::HashMap<usize, (Vec<Certificate>, bool)> =
        std::collections::HashMap::new();
    let (mut chain_certs, mut cut) = (0usize, 0usize);
    for (key, prot) in keys {
        let mut e = Entry::new(EntryKind::PrivateKey);
        if let Some(i) = certs
            .iter()
            .position(|c| c.public_key.as_ref().ok() == Some(&key.public))
        {
            let (chain, reordered) = if chain_certs >= chain::MAX_CHAIN_CERTS_PER_FILE {
                cut += 1;
                (vec![certs[i].clone()], false)
            } else {
                chains
                    .entry(i)
                    .or_insert_with(|| {
                        let built = chain::build(&certs[i], &certs);
                        let mut positions = Vec::new();
                        for c in &built {
                            if let Some(j) = certs.iter().position(|x| x.der == c.der) {
                                used[j] = true;
                                positions.push(j);
                            }
                        }
                        let reordered = positions.windows(2).any(|w| w[0] > w[1]);
                        (built, reordered)
                    })
                    .clone()
            };
            chain_certs += chain.len();
            e.chain = chain;
            e.chain_reordered = reordered;
        } else if single_key && !certs.is_empty() {
            // The only key, with certificates that are not its own: keep them
            // together (the first certificate as the leaf, the way key+chain
            // files are written) so the mismatch is reported, not hidden.
            e.chain = chain::build(&certs[0], &certs);
            for c in &e.chain {
                for (j, x) in certs.iter().enumerate() {
                    if x.der == c.der {
                        used[j] = true;
                    }
                }
            }
        }
        if e.chain_reordered {
            store.notes.push(
                "the key's certificates were not in issuing order in the file (leaf first, \
                 then each issuer); they are shown in order"
                    .into(),
            );
        }
        e.private_key = Some(key);
        e.key_protection = Some(prot);
        store.entries.push(e);
    }
    if cut > 0 {
        store.notes.push(chain::chains_cut_note(cut).into());
    }
    // Loose certificates: a chain file is one entry, leaf first, as stored.
    let rest: Vec<Certificate> = certs
        .into_iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(c, _)| c)
        .collect();
    if !rest.is_empty() {
        if store.entries.is_empty() && chain::analyse(&rest).in_order && rest.len() > 1 {
            let mut e = Entry::new(EntryKind::Certificate);
            e.chain = rest;
            store.entries.push(e);
        } else {
            for c in rest {
                let mut e = Entry::new(EntryKind::Certificate);
                e.chain = vec![c];
                store.entries.push(e);
            }
        }
    }
    for p in publics {
        let mut e = Entry::new(EntryKind::PublicKey);
        e.public_key = Some(p);
        store.entries.push(e);
    }
    store
}

/// Read one DER object: a certificate, a PKCS#8/PKCS#1/SEC1 key, an encrypted
/// PKCS#8 key, a public key, or a run of concatenated certificates.
pub fn read_der(data: &[u8], password: &mut PasswordFn<'_>) -> Result<Store, KeystoreError> {
    let first = asn1::Reader::new(data)
        .read()
        .map_err(|e| KeystoreError::Malformed {
            format: "DER",
            source: e,
        })?;
    if first.raw.len() < data.len() {
        // Several objects back to back: must all be certificates.
        let ders = crate::cert::read_der_sequence(data).map_err(|e| KeystoreError::Malformed {
            format: "DER",
            source: e,
        })?;
        let mut certs = Vec::new();
        for (i, d) in ders.iter().enumerate() {
            certs.push(
                Certificate::from_der(d)
                    .map_err(|e| KeystoreError::Cert(e.in_certificate(i + 1)))?,
            );
        }
        return Ok(assemble(Format::Der, vec![], certs, vec![]));
    }
    match classify_der(data) {
        DerKind::Certificate => {
            let c = Certificate::from_der(data).map_err(KeystoreError::Cert)?;
            Ok(assemble(Format::Der, vec![], vec![c], vec![]))
        }
        DerKind::Pkcs8 => {
            let k = PrivateKey::from_pkcs8(data).map_err(KeystoreError::Key)?;
            Ok(assemble(
                Format::Der,
                vec![(k, "none (PKCS#8)".into())],
                vec![],
                vec![],
            ))
        }
        DerKind::EncryptedPkcs8 => {
            let key = open_pkcs8(data, password, std::convert::identity)?;
            Ok(assemble(Format::Der, vec![key], vec![], vec![]))
        }
        DerKind::Pkcs1 => {
            let k = PrivateKey::from_pkcs1(data).map_err(KeystoreError::Key)?;
            Ok(assemble(
                Format::Der,
                vec![(k, "none (PKCS#1)".into())],
                vec![],
                vec![],
            ))
        }
        DerKind::DsaPrivate => {
            let k = crate::key::dsa::from_traditional(data).map_err(KeystoreError::Key)?;
            Ok(assemble(
                Format::Der,
                vec![(k, "none (DSA)".into())],
                vec![],
                vec![],
            ))
        }
        DerKind::Sec1 => {
            let k = PrivateKey::from_sec1(data).map_err(KeystoreError::Key)?;
            Ok(assemble(
                Format::Der,
                vec![(k, "none (SEC1)".into())],
                vec![],
                vec![],
            ))
        }
        DerKind::Spki => {
            let p = PublicKey::from_spki(data).map_err(KeystoreError::Key)?;
            Ok(assemble(Format::Der, vec![], vec![], vec![p]))
        }
        DerKind::RsaPublic => {
            let p = PublicKey::from_pkcs1_public(data).map_err(KeystoreError::Key)?;
            Ok(assemble(Format::Der, vec![], vec![], vec![p]))
        }
        DerKind::Unknown => Err(KeystoreError::UnknownFormat {
            detail: "a DER SEQUENCE that is not a certificate, key or keystore".into(),
        }),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum DerKind {
    Certificate,
    Pkcs8,
    EncryptedPkcs8,
    Pkcs1,
    Sec1,
    DsaPrivate,
    Spki,
    RsaPublic,
    Unknown,
}

/// Tell DER structures apart by their shape.
fn classify_der(data: &[u8]) -> DerKind {
    let Ok(outer) = asn1::parse_single(data) else {
        return DerKind::Unknown;
    };
    if outer.tag != tag::SEQUENCE {
        return DerKind::Unknown;
    }
    let mut r = outer.reader();
    let mut tags = Vec::new();
    let mut children = Vec::new();
    while let Ok(t) = r.read() {
        tags.push(t.tag);
        children.push(t);
        if tags.len() > 10 {
            break;
        }
    }
    match tags.as_slice() {
        [tag::SEQUENCE, tag::SEQUENCE, tag::BIT_STRING] => DerKind::Certificate,
        [tag::SEQUENCE, tag::BIT_STRING] => DerKind::Spki,
        [tag::SEQUENCE, tag::OCTET_STRING] => DerKind::EncryptedPkcs8,
        [tag::INTEGER, tag::SEQUENCE, tag::OCTET_STRING, ..] => DerKind::Pkcs8,
        [tag::INTEGER, tag::OCTET_STRING, ..] => DerKind::Sec1,
        [tag::INTEGER, tag::INTEGER] => DerKind::RsaPublic,
        t if t.len() == 6 && t.iter().all(|x| *x == tag::INTEGER) => DerKind::DsaPrivate,
        t if t.len() >= 9 && t.iter().all(|x| *x == tag::INTEGER) => DerKind::Pkcs1,
        _ => DerKind::Unknown,
    }
}

/// Is this binary data a single DER structure credkit could read?
pub(crate) fn looks_like_der(data: &[u8]) -> bool {
    data.first() == Some(&tag::SEQUENCE) && asn1::Reader::new(data).read().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An EncryptedPrivateKeyInfo (PBES2, PBKDF2, AES-256-CBC) declaring
    /// `iterations`, with nothing valid to decrypt.
    fn epki(iterations: u32) -> Vec<u8> {
        let oid = |d: &str| asn1::encode(tag::OID, &crate::key::oid_bytes(d));
        let seq = |parts: &[Vec<u8>]| asn1::encode(tag::SEQUENCE, &parts.concat());
        let kdf = seq(&[
            oid(pbe::oid::PBKDF2),
            seq(&[
                asn1::encode(tag::OCTET_STRING, &[1; 16]),
                asn1::encode(tag::INTEGER, &iterations.to_be_bytes()),
            ]),
        ]);
        let enc = seq(&[
            oid(pbe::oid::AES256_CBC),
            asn1::encode(tag::OCTET_STRING, &[2; 16]),
        ]);
        seq(&[
            seq(&[oid(pbe::oid::PBES2), seq(&[kdf, enc])]),
            asn1::encode(tag::OCTET_STRING, &[3; 32]),
        ])
    }

    fn pem_block(der: &[u8]) -> String {
        format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n{}\n-----END ENCRYPTED PRIVATE KEY-----\n",
            STANDARD.encode(der)
        )
    }

    /// Regression: each encrypted key was capped at 10 million iterations,
    /// the file was not: keys adding up to more are refused before any
    /// derivation (no password is even asked for).
    #[test]
    fn total_iterations_are_capped_before_any_work() {
        let text = [pem_block(&epki(6_000_000)), pem_block(&epki(6_000_000))].concat();
        let mut asked = 0;
        let mut pw = || {
            asked += 1;
            Ok(Some(zeroize::Zeroizing::new("changeit".to_string())))
        };
        let start = std::time::Instant::now();
        let e = read(&text, &mut pw).expect_err("refused");
        assert!(
            e.to_string()
                .contains("sum of the key-derivation iteration counts"),
            "{e}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        assert_eq!(asked, 0);
        // Within the total, the key is derived (and the garbage fails).
        let mut pw = || Ok(Some(zeroize::Zeroizing::new("changeit".to_string())));
        let e = read(&pem_block(&epki(1000)), &mut pw).expect_err("garbage");
        assert!(e.to_string().contains("wrong password"), "{e}");
    }
}
