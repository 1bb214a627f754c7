//! PKCS#12 (RFC 7292) reader: PBES2/AES and legacy 3DES/RC2, with or without
//! MAC or encryption, trust-only stores, BER input, and non-ASCII passwords.

use super::KeystoreError;
use super::model::{
    EmptyPasswordEncoding, EmptyPasswordReport, Entry, EntryKind, Format, MacInfo,
    Pkcs12Protection, Store,
};
use super::pbe::{self, HashAlg, PbeError};
use crate::asn1::{self, Tlv, tag};
use crate::cert::{Certificate, chain};
use crate::key::{PrivateKey, read_algorithm};

/// Most bags / certificates accepted in one file.
const MAX_BAGS: usize = 10_000;

/// Most key-derivation iterations spent on one file: the MAC, the encrypted
/// certificate bags and the key bags together (each one is also capped at
/// [`pbe::MAX_ITERATIONS`]). The NSS fixture, the most expensive real file,
/// needs 1.8 million; without a total, a file of many bags of 10 million
/// iterations each would keep credkit busy for hours. 10 million PBKDF2
/// iterations take about 2 s in a release build (much longer in a debug one).
const MAX_TOTAL_ITERATIONS: u64 = 10_000_000;

mod oid {
    pub(crate) const DATA: &str = "1.2.840.113549.1.7.1";
    pub(crate) const ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
    pub(crate) const ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
    pub(crate) const KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
    pub(crate) const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
    pub(crate) const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
    pub(crate) const CRL_BAG: &str = "1.2.840.113549.1.12.10.1.4";
    pub(crate) const SECRET_BAG: &str = "1.2.840.113549.1.12.10.1.5";
    pub(crate) const SAFE_CONTENTS_BAG: &str = "1.2.840.113549.1.12.10.1.6";
    pub(crate) const X509_CERT: &str = "1.2.840.113549.1.9.22.1";
    pub(crate) const FRIENDLY_NAME: &str = "1.2.840.113549.1.9.20";
    pub(crate) const LOCAL_KEY_ID: &str = "1.2.840.113549.1.9.21";
    pub(crate) const ORACLE_TRUSTED_KEY_USAGE: &str = "2.16.840.1.113894.746875.1.1";
}

/// Does this look like a PKCS#12 PFX (SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ...}})?
pub fn looks_like(data: &[u8]) -> bool {
    let Ok(mut r) = asn1::Reader::new(data).read().map(|t| t.reader()) else {
        return false;
    };
    let Ok(v) = r.read() else { return false };
    if v.tag != tag::INTEGER || v.u64().ok() != Some(3) {
        return false;
    }
    r.read()
        .ok()
        .filter(|t| t.tag == tag::SEQUENCE)
        .and_then(|t| t.reader().read().ok())
        .and_then(|t| t.oid().ok())
        .is_some_and(|o| o == oid::DATA || o == "1.2.840.113549.1.7.2")
}

#[derive(Default)]
struct Attrs {
    friendly_name: Option<String>,
    local_key_id: Option<Vec<u8>>,
    trusted: bool,
}

struct KeyBag {
    key: Option<PrivateKey>,
    attrs: Attrs,
    protection: Option<String>,
}

struct CertBag {
    cert: Certificate,
    attrs: Attrs,
}

struct Parsed {
    keys: Vec<KeyBag>,
    certs: Vec<CertBag>,
    secrets: Vec<Attrs>,
    protection: Pkcs12Protection,
    /// Key-derivation iterations spent so far (see [`MAX_TOTAL_ITERATIONS`]).
    iterations_spent: u64,
    /// With an empty password: which encoding opened each encrypted part.
    empty_password: EmptyPasswordReport,
    /// The encoding that opened the MAC (or the last part), tried first.
    bmp_hint: Option<Vec<u8>>,
}

impl Parsed {
    /// Account for a key derivation before doing it. A single count over
    /// the per-derivation cap is left to the decryption, which refuses it
    /// with its own message.
    fn spend(&mut self, iterations: u64) -> Result<(), KeystoreError> {
        if iterations > pbe::MAX_ITERATIONS {
            return Ok(());
        }
        self.iterations_spent = spend(self.iterations_spent, iterations)?;
        Ok(())
    }
}

fn spend(spent: u64, iterations: u64) -> Result<u64, KeystoreError> {
    let total = spent.saturating_add(iterations);
    if total > MAX_TOTAL_ITERATIONS {
        return Err(KeystoreError::TooLarge {
            what: "sum of the key-derivation iteration counts in the file".into(),
            value: total,
            max: MAX_TOTAL_ITERATIONS,
        });
    }
    Ok(total)
}

/// The iteration counts visible before anything is decrypted: the MAC's
/// (per password candidate), the encrypted certificate bags' and the key
/// bags in plain SafeContents. Errors, and single counts over the cap per
/// derivation, are left to the reader proper (which reports them as such).
fn declared_iterations(auth_bytes: &[u8], mac_iterations: u64) -> u64 {
    let mut total = mac_iterations;
    let Ok(seq) = asn1::parse_single(auth_bytes) else {
        return total;
    };
    let mut r = seq.reader();
    while let Ok(ci) = r.read() {
        let Ok((ctype, Some(content))) = content_info(&ci) else {
            continue;
        };
        if ctype == oid::ENCRYPTED_DATA {
            let found = (|| -> Option<u64> {
                let mut er = content.reader();
                er.read().ok()?;
                let mut ecr = er.read().ok()?.reader();
                ecr.read().ok()?;
                let (alg, params) = read_algorithm(&mut ecr).ok()?;
                pbe::describe(&alg, params.as_ref())
                    .ok()
                    .map(|i| i.iterations)
            })()
            .filter(|n| *n <= pbe::MAX_ITERATIONS);
            total = total.saturating_add(found.unwrap_or(0));
        } else if ctype == oid::DATA {
            let Ok(bytes) = content.octets() else {
                continue;
            };
            let Ok(sc) = asn1::parse_single(&bytes) else {
                continue;
            };
            let mut br = sc.reader();
            while let Ok(bag) = br.read() {
                let mut f = bag.reader();
                let is_shrouded = f
                    .read()
                    .ok()
                    .and_then(|t| t.oid().ok())
                    .is_some_and(|o| o == oid::SHROUDED_KEY_BAG);
                if !is_shrouded {
                    continue;
                }
                if let Some(info) = f
                    .read()
                    .ok()
                    .and_then(|t| t.reader().read().ok())
                    .and_then(|v| pbe::describe_pkcs8(v.raw).ok())
                    .filter(|i| i.iterations <= pbe::MAX_ITERATIONS)
                {
                    total = total.saturating_add(info.iterations);
                }
            }
        }
    }
    total
}

fn malformed(e: asn1::Asn1Error) -> KeystoreError {
    KeystoreError::Malformed {
        format: "PKCS#12",
        source: e,
    }
}

fn pbe_err(e: PbeError, what: &str) -> KeystoreError {
    match e {
        PbeError::Decrypt => KeystoreError::WrongPassword {
            what: what.to_string(),
        },
        PbeError::Unsupported { what, name } => KeystoreError::Unsupported {
            what: what.to_string(),
            name,
        },
        PbeError::Malformed(e) => malformed(e),
        PbeError::TooManyIterations { count } => KeystoreError::TooLarge {
            what: "iteration count".into(),
            value: count,
            max: pbe::MAX_ITERATIONS,
        },
    }
}

/// The password candidates: RFC 7292 lets an empty password be either the
/// BMPString "" with its terminator (two zero bytes, what OpenSSL writes) or
/// no bytes at all (a NULL password: Windows, .NET, Java). Both are tried,
/// for the MAC and for each encrypted part separately, `first` first.
fn bmp_candidates(password: &str, first: Option<&[u8]>) -> Vec<Vec<u8>> {
    if password.is_empty() {
        let mut v = vec![vec![0, 0], Vec::new()];
        if first == Some(&[][..]) {
            v.reverse();
        }
        v
    } else {
        vec![pbe::bmp_password(password)]
    }
}

/// Which encoding of the empty password these KDF input bytes are.
fn encoding_of(bmp: &[u8]) -> EmptyPasswordEncoding {
    if bmp.is_empty() {
        EmptyPasswordEncoding::Null
    } else {
        EmptyPasswordEncoding::EmptyString
    }
}

/// Read a PKCS#12 file. `password` None means "no password was given":
/// the empty password is tried, and a MAC failure then asks for one.
pub fn read(data: &[u8], password: Option<&str>) -> Result<Store, KeystoreError> {
    let outer = asn1::parse_single(data).map_err(malformed)?;
    let ber = asn1::is_ber(data);
    let der_owned;
    let outer = if ber {
        der_owned = asn1::to_der(&outer).map_err(malformed)?;
        asn1::parse_single(&der_owned).map_err(malformed)?
    } else {
        outer
    };
    let pfx = outer
        .expect(tag::SEQUENCE, "a PFX SEQUENCE")
        .map_err(malformed)?;
    let mut r = pfx.reader();
    let version = r
        .expect(tag::INTEGER, "the PFX version")
        .and_then(|t| t.u64())
        .map_err(malformed)?;
    if version != 3 {
        return Err(KeystoreError::Invalid {
            format: "PKCS#12",
            detail: format!("PFX version {version}, expected 3"),
        });
    }
    let auth_safe = r
        .expect(tag::SEQUENCE, "the authSafe ContentInfo")
        .map_err(malformed)?;
    let mac_data = r.optional(tag::SEQUENCE).map_err(malformed)?;
    // Anything else here (a macData that is not a SEQUENCE, trailing data)
    // must not be skipped: the file would read as having no MAC at all.
    r.finish("the PFX (after the macData)").map_err(malformed)?;
    let auth_bytes = auth_safe_bytes(&auth_safe)?;

    let given = password.unwrap_or("");
    let mut protection = Pkcs12Protection {
        ber,
        ..Default::default()
    };
    let mac_iterations = mac_budget(mac_data.as_ref(), &auth_bytes, given)?;
    // Verify the MAC first: it tells a wrong password apart from everything else.
    let bmp_used = match mac_data {
        Some(mac) => Some(check_mac(&mac, &auth_bytes, password, &mut protection)?),
        None => None,
    };
    let mut parsed = parse_auth_safe(
        &auth_bytes,
        given,
        bmp_used.as_deref(),
        protection,
        password,
        mac_iterations,
    )?;
    let protected = parsed.protection.mac.is_some()
        || !parsed.protection.certificates.is_empty()
        || !parsed.protection.keys.is_empty();
    if given.is_empty() && protected {
        parsed.empty_password.mac = bmp_used.as_deref().map(encoding_of);
        parsed.protection.empty_password = Some(parsed.empty_password.clone());
    }
    Ok(assemble(parsed))
}

/// The authSafe's content: password integrity (`data`) only.
fn auth_safe_bytes(auth_safe: &Tlv<'_>) -> Result<Vec<u8>, KeystoreError> {
    let (ctype, content) = content_info(auth_safe).map_err(malformed)?;
    if ctype != oid::DATA {
        return Err(KeystoreError::Unsupported {
            what: "PKCS#12 integrity mode".into(),
            name: if ctype == "1.2.840.113549.1.7.2" {
                "public-key integrity (signedData)".into()
            } else {
                format!("content type {ctype}")
            },
        });
    }
    content
        .ok_or_else(|| {
            malformed(asn1::Asn1Error {
                offset: auth_safe.content_offset,
                expected: "authSafe content".into(),
            })
        })
        .and_then(|c| c.octets().map_err(malformed))
}

/// Refuse a file whose declared key derivations add up to too much before
/// doing any of them. Returns the iterations the MAC will spend.
fn mac_budget(
    mac_data: Option<&Tlv<'_>>,
    auth_bytes: &[u8],
    given: &str,
) -> Result<u64, KeystoreError> {
    let mac_iterations = match mac_data {
        Some(mac) => mac_iteration_count(mac)?,
        None => 0,
    };
    Ok(if mac_iterations <= pbe::MAX_ITERATIONS {
        let total = mac_iterations.saturating_mul(bmp_candidates(given, None).len() as u64);
        spend(0, declared_iterations(auth_bytes, total))?;
        total
    } else {
        0 // verify_mac refuses it, naming the MAC
    })
}

/// Verify the MAC; returns the password encoding (BMPString) that verified
/// it, or says the password is missing or wrong.
fn check_mac(
    mac: &Tlv<'_>,
    auth_bytes: &[u8],
    password: Option<&str>,
    protection: &mut Pkcs12Protection,
) -> Result<Vec<u8>, KeystoreError> {
    let (info, ok_bmp) = verify_mac(mac, auth_bytes, password.unwrap_or(""))?;
    protection.mac = Some(info);
    ok_bmp.ok_or(if password.is_none() {
        KeystoreError::PasswordRequired { format: "PKCS#12" }
    } else {
        KeystoreError::WrongPassword {
            what: "PKCS#12 MAC".into(),
        }
    })
}

fn content_info<'a>(ci: &Tlv<'a>) -> asn1::Result<(String, Option<Tlv<'a>>)> {
    let mut r = ci.reader();
    let ctype = r.expect(tag::OID, "a content type OID")?.oid()?;
    let content = match r.optional(0xa0)? {
        Some(explicit) => Some(explicit.reader().read()?),
        None => None,
    };
    Ok((ctype, content))
}

/// The MAC's iteration count (1 when absent), or a structural error.
fn mac_iteration_count(mac: &Tlv<'_>) -> Result<u64, KeystoreError> {
    let mut r = mac.reader();
    r.expect(tag::SEQUENCE, "the MAC DigestInfo")
        .map_err(malformed)?;
    r.expect(tag::OCTET_STRING, "the MAC salt")
        .map_err(malformed)?;
    match r.optional(tag::INTEGER).map_err(malformed)? {
        Some(i) => i.u64().map_err(malformed),
        None => Ok(1),
    }
}

fn verify_mac(
    mac: &Tlv<'_>,
    auth_bytes: &[u8],
    password: &str,
) -> Result<(MacInfo, Option<Vec<u8>>), KeystoreError> {
    let mut r = mac.reader();
    let digest_info = r
        .expect(tag::SEQUENCE, "the MAC DigestInfo")
        .map_err(malformed)?;
    let mut dr = digest_info.reader();
    let (alg, _) = read_algorithm(&mut dr).map_err(malformed)?;
    let expected = dr
        .expect(tag::OCTET_STRING, "the MAC value")
        .map_err(malformed)?
        .content;
    let salt = r
        .expect(tag::OCTET_STRING, "the MAC salt")
        .map_err(malformed)?
        .content;
    let iterations = match r.optional(tag::INTEGER).map_err(malformed)? {
        Some(i) => i.u64().map_err(malformed)?,
        None => 1,
    };
    let hash = HashAlg::from_digest_oid(&alg).ok_or_else(|| KeystoreError::Unsupported {
        what: "MAC algorithm".into(),
        name: pbe::pbe_name(&alg),
    })?;
    if iterations == 0 || iterations > pbe::MAX_ITERATIONS {
        return Err(KeystoreError::TooLarge {
            what: "MAC iteration count".into(),
            value: iterations,
            max: pbe::MAX_ITERATIONS,
        });
    }
    let mut info = MacInfo {
        algorithm: hash.name().into(),
        iterations,
        salt_length: salt.len(),
        verified: false,
    };
    for bmp in bmp_candidates(password, None) {
        let key = zeroize::Zeroizing::new(pbe::pkcs12_kdf(
            hash,
            3,
            &bmp,
            salt,
            iterations as u32,
            hash.output_len(),
        ));
        // Constant time: how much of the MAC matched must not show in timing.
        let mac = hash.hmac(&key, auth_bytes);
        if bool::from(subtle::ConstantTimeEq::ct_eq(mac.as_slice(), expected)) {
            info.verified = true;
            return Ok((info, Some(bmp)));
        }
    }
    Ok((info, None))
}

fn parse_auth_safe(
    auth_bytes: &[u8],
    password: &str,
    bmp: Option<&[u8]>,
    protection: Pkcs12Protection,
    given: Option<&str>,
    mac_iterations: u64,
) -> Result<Parsed, KeystoreError> {
    let mut parsed = Parsed {
        keys: Vec::new(),
        certs: Vec::new(),
        secrets: Vec::new(),
        protection,
        iterations_spent: mac_iterations,
        empty_password: EmptyPasswordReport::default(),
        bmp_hint: bmp.map(<[u8]>::to_vec),
    };
    let seq = asn1::parse_single(auth_bytes)
        .and_then(|t| t.expect(tag::SEQUENCE, "an AuthenticatedSafe SEQUENCE"))
        .map_err(malformed)?;
    let mut r = seq.reader();
    let mut index = 0usize;
    while !r.is_empty() {
        index += 1;
        let ci = r
            .expect(tag::SEQUENCE, "a ContentInfo")
            .map_err(malformed)?;
        let (ctype, content) = content_info(&ci).map_err(malformed)?;
        match ctype.as_str() {
            oid::DATA => {
                let bytes = content
                    .map(|c| c.octets())
                    .transpose()
                    .map_err(malformed)?
                    .unwrap_or_default();
                parse_safe_contents(&bytes, password, &mut parsed, 0, true)?;
            }
            oid::ENCRYPTED_DATA => {
                // openssl refuses this too; reading on would show an empty
                // keystore where the file meant to hold something.
                let Some(ed) = content else {
                    return Err(empty_section(index));
                };
                let plain = open_encrypted_data(&mut parsed, &ed, index, password, given)?;
                parse_safe_contents(&plain, password, &mut parsed, 0, false)?;
            }
            oid::ENVELOPED_DATA => {
                return Err(KeystoreError::Unsupported {
                    what: "PKCS#12 privacy mode".into(),
                    name: "public-key encryption (envelopedData)".into(),
                });
            }
            other => {
                return Err(KeystoreError::Unsupported {
                    what: "PKCS#12 content type".into(),
                    name: other.to_string(),
                });
            }
        }
    }
    Ok(parsed)
}

/// Decrypt an EncryptedData section of the authenticated safe (the
/// certificates, usually); returns its SafeContents.
fn open_encrypted_data(
    parsed: &mut Parsed,
    ed: &Tlv<'_>,
    index: usize,
    password: &str,
    given: Option<&str>,
) -> Result<Vec<u8>, KeystoreError> {
    let mut er = ed
        .expect(tag::SEQUENCE, "EncryptedData")
        .map_err(malformed)?
        .reader();
    let _version = er.expect(tag::INTEGER, "the version").map_err(malformed)?;
    let eci = er
        .expect(tag::SEQUENCE, "EncryptedContentInfo")
        .map_err(malformed)?;
    let mut ecr = eci.reader();
    let _ct = ecr.expect(tag::OID, "a content type").map_err(malformed)?;
    let (alg, params) = read_algorithm(&mut ecr).map_err(malformed)?;
    let info = pbe::describe(&alg, params.as_ref()).map_err(|e| pbe_err(e, ""))?;
    let iterations = info.iterations;
    parsed.protection.certificates.push(info);
    if ecr.is_empty() {
        return Err(empty_section(index));
    }
    let enc = encrypted_content(&ecr.read().map_err(malformed)?)?;
    let (plain, used) = with_candidates(
        parsed,
        password,
        &alg,
        iterations,
        Some(given),
        "PKCS#12 certificate bag",
        |bmp| {
            let plain = pbe::decrypt(&alg, params.as_ref(), password, bmp, &enc)?;
            // A wrong password can survive the padding check by
            // chance (1 in 256 for RC2-40); garbage then fails to parse.
            asn1::parse_single(&plain).map_err(|_| PbeError::Decrypt)?;
            Ok(plain)
        },
    )?;
    parsed.empty_password.certificates.push(used);
    Ok(plain)
}

/// The `[0]` encryptedContent: primitive, or constructed of OCTET STRINGs.
fn encrypted_content(t: &Tlv<'_>) -> Result<Vec<u8>, KeystoreError> {
    match t.tag {
        0x80 => Ok(t.content.to_vec()),
        0xa0 => {
            let mut v = Vec::new();
            let mut cr = t.reader();
            while !cr.is_empty() {
                v.extend_from_slice(&cr.read().map_err(malformed)?.octets().map_err(malformed)?);
            }
            Ok(v)
        }
        _ => Err(malformed(asn1::Asn1Error {
            offset: t.content_offset,
            expected: "the encrypted content [0]".into(),
        })),
    }
}

/// An EncryptedData section with nothing in it.
fn empty_section(index: usize) -> KeystoreError {
    KeystoreError::Invalid {
        format: "PKCS#12",
        detail: format!(
            "encrypted section {index} of the authenticated safe has no content (openssl \
             refuses such a file too)"
        ),
    }
}

/// Decrypt one encrypted part. A PKCS#12-KDF part with an empty password
/// is tried with both encodings of it, the one that worked last first;
/// each try is accounted for before it is made. Returns the plaintext and,
/// for an empty password and a PKCS#12-KDF part, the encoding that opened it.
#[allow(clippy::too_many_arguments)]
fn with_candidates<T>(
    parsed: &mut Parsed,
    password: &str,
    alg: &str,
    iterations: u64,
    given: Option<Option<&str>>,
    what: &str,
    mut attempt: impl FnMut(Option<&[u8]>) -> Result<T, PbeError>,
) -> Result<(T, Option<EmptyPasswordEncoding>), KeystoreError> {
    let wrong = |e: PbeError| match (e, given) {
        (PbeError::Decrypt, Some(None)) => KeystoreError::PasswordRequired { format: "PKCS#12" },
        (e, _) => pbe_err(e, what),
    };
    if !(password.is_empty() && pbe::uses_pkcs12_kdf(alg)) {
        parsed.spend(iterations)?;
        return Ok((attempt(None).map_err(wrong)?, None));
    }
    let mut last = PbeError::Decrypt;
    for bmp in bmp_candidates(password, parsed.bmp_hint.as_deref()) {
        parsed.spend(iterations)?;
        match attempt(Some(&bmp)) {
            Ok(v) => {
                let enc = encoding_of(&bmp);
                parsed.bmp_hint = Some(bmp);
                return Ok((v, Some(enc)));
            }
            Err(PbeError::Decrypt) => {}
            Err(e) => {
                last = e;
                break;
            }
        }
    }
    Err(wrong(last))
}

fn parse_attrs(set: &Tlv<'_>) -> asn1::Result<Attrs> {
    let mut a = Attrs::default();
    let mut r = set.reader();
    while !r.is_empty() {
        let attr = r.expect(tag::SEQUENCE, "an Attribute")?;
        let mut ar = attr.reader();
        let oid = ar.expect(tag::OID, "an attribute type")?.oid()?;
        let values = ar.expect(tag::SET, "attribute values")?;
        let first = values.reader().read().ok();
        match (oid.as_str(), first) {
            (oid::FRIENDLY_NAME, Some(v)) => {
                a.friendly_name = Some(crate::cert::decode_string(&v).0);
            }
            (oid::LOCAL_KEY_ID, Some(v)) => a.local_key_id = Some(v.content.to_vec()),
            (oid::ORACLE_TRUSTED_KEY_USAGE, _) => a.trusted = true,
            _ => {}
        }
    }
    Ok(a)
}

fn parse_safe_contents(
    bytes: &[u8],
    password: &str,
    parsed: &mut Parsed,
    depth: usize,
    depth_plain: bool,
) -> Result<(), KeystoreError> {
    if depth > 4 {
        return Err(KeystoreError::Invalid {
            format: "PKCS#12",
            detail: "safe contents nested too deeply".into(),
        });
    }
    let seq = asn1::parse_single(bytes)
        .and_then(|t| t.expect(tag::SEQUENCE, "a SafeContents SEQUENCE"))
        .map_err(malformed)?;
    let mut r = seq.reader();
    while !r.is_empty() {
        if parsed.keys.len() + parsed.certs.len() + parsed.secrets.len() > MAX_BAGS {
            return Err(KeystoreError::TooLarge {
                what: "number of bags".into(),
                value: MAX_BAGS as u64 + 1,
                max: MAX_BAGS as u64,
            });
        }
        let bag = r.expect(tag::SEQUENCE, "a SafeBag").map_err(malformed)?;
        let mut br = bag.reader();
        let bag_id = br
            .expect(tag::OID, "a bag type")
            .and_then(|t| t.oid())
            .map_err(malformed)?;
        let value = br
            .expect(0xa0, "the bag value [0]")
            .and_then(|t| t.reader().read())
            .map_err(malformed)?;
        let attrs = match br.optional(tag::SET).map_err(malformed)? {
            Some(s) => parse_attrs(&s).map_err(malformed)?,
            None => Attrs::default(),
        };
        match bag_id.as_str() {
            oid::KEY_BAG => {
                parsed.protection.unencrypted_content = true;
                let key = PrivateKey::from_pkcs8(value.raw).map_err(KeystoreError::Key)?;
                parsed.keys.push(KeyBag {
                    key: Some(key),
                    attrs,
                    protection: Some("none (keyBag)".into()),
                });
            }
            oid::SHROUDED_KEY_BAG => open_shrouded_key(parsed, value.raw, attrs, password)?,
            oid::CERT_BAG => {
                // SDSI certificates are skipped: nothing anyone uses.
                if let Some(cert) = x509_cert_bag(&value)? {
                    if depth_plain {
                        parsed.protection.unencrypted_content = true;
                    }
                    parsed.certs.push(CertBag { cert, attrs });
                }
            }
            oid::SECRET_BAG => parsed.secrets.push(attrs),
            oid::SAFE_CONTENTS_BAG => {
                parse_safe_contents(value.raw, password, parsed, depth + 1, depth_plain)?;
            }
            oid::CRL_BAG => {}
            _ => {}
        }
    }
    Ok(())
}

/// A pkcs8ShroudedKeyBag: decrypt it (each try accounted for) and keep the
/// key with how it was protected.
fn open_shrouded_key(
    parsed: &mut Parsed,
    raw: &[u8],
    attrs: Attrs,
    password: &str,
) -> Result<(), KeystoreError> {
    let info = pbe::describe_pkcs8(raw).map_err(|e| pbe_err(e, ""))?;
    let alg = pbe::pkcs8_algorithm(raw).map_err(|e| pbe_err(e, ""))?;
    let (pkcs8, used) = with_candidates(
        parsed,
        password,
        &alg,
        info.iterations,
        None,
        "PKCS#12 key bag",
        |bmp| pbe::decrypt_pkcs8_with(raw, password, bmp),
    )?;
    parsed.empty_password.keys.push(used);
    let key = PrivateKey::from_pkcs8(&pkcs8).map_err(KeystoreError::Key)?;
    parsed.keys.push(KeyBag {
        key: Some(key),
        attrs,
        protection: Some(info.to_string()),
    });
    parsed.protection.keys.push(info);
    Ok(())
}

/// A CertBag's X.509 certificate; `None` for other certificate types.
fn x509_cert_bag(value: &Tlv<'_>) -> Result<Option<Certificate>, KeystoreError> {
    let mut cr = value
        .expect(tag::SEQUENCE, "a CertBag")
        .map_err(malformed)?
        .reader();
    let cert_type = cr
        .expect(tag::OID, "a certificate type")
        .and_then(|t| t.oid())
        .map_err(malformed)?;
    if cert_type != oid::X509_CERT {
        return Ok(None);
    }
    let der = cr
        .expect(0xa0, "the certificate value [0]")
        .and_then(|t| t.reader().read())
        .and_then(|t| t.octets())
        .map_err(malformed)?;
    Certificate::from_der(&der)
        .map(Some)
        .map_err(KeystoreError::Cert)
}

fn assemble(p: Parsed) -> Store {
    let mut store = Store::new(Format::Pkcs12);
    store.integrity_verified = p.protection.mac.as_ref().map(|m| m.verified);
    if p.protection.mac.is_none() {
        store
            .notes
            .push("the file has no MAC: its integrity cannot be checked".into());
    }
    if p.protection.ber {
        store.notes.push(
            "the file uses BER indefinite lengths (Windows/NSS export); it was read as DER".into(),
        );
    }
    let pool: Vec<Certificate> = p.certs.iter().map(|c| c.cert.clone()).collect();
    let mut used = vec![false; p.certs.len()];
    // Keys that share a leaf share its chain: build it once (thousands of
    // keys over thousands of certificates would otherwise take hours).
    let mut chains: std::collections::HashMap<usize, Vec<Certificate>> =
        std::collections::HashMap::new();
    let (mut chain_certs, mut cut) = (0usize, 0usize);
    for kb in p.keys {
        let mut e = Entry::new(EntryKind::PrivateKey);
        let key = kb.key;
        // The leaf: same localKeyId, else the certificate with the same public key.
        let leaf_idx = kb
            .attrs
            .local_key_id
            .as_ref()
            .and_then(|id| {
                p.certs
                    .iter()
                    .position(|c| c.attrs.local_key_id.as_ref() == Some(id))
            })
            .or_else(|| {
                key.as_ref().and_then(|k| {
                    p.certs
                        .iter()
                        .position(|c| c.cert.public_key.as_ref().ok() == Some(&k.public))
                })
            });
        if let Some(i) = leaf_idx {
            let leaf = &p.certs[i];
            e.chain = match chains.get(&i) {
                _ if chain_certs >= chain::MAX_CHAIN_CERTS_PER_FILE => {
                    cut += 1;
                    vec![leaf.cert.clone()]
                }
                Some(c) => c.clone(),
                None => {
                    let built = chain::build(&leaf.cert, &pool);
                    for c in &built {
                        for (j, x) in pool.iter().enumerate() {
                            if x.der == c.der {
                                used[j] = true;
                            }
                        }
                    }
                    chains.insert(i, built.clone());
                    built
                }
            };
            chain_certs += e.chain.len();
            e.alias = kb
                .attrs
                .friendly_name
                .clone()
                .or_else(|| leaf.attrs.friendly_name.clone());
        } else {
            e.alias = kb.attrs.friendly_name.clone();
        }
        e.private_key = key;
        e.key_protection = kb.protection;
        store.entries.push(e);
    }
    if cut > 0 {
        store.notes.push(chain::chains_cut_note(cut).into());
    }
    for (i, cb) in p.certs.into_iter().enumerate() {
        if used[i] && !cb.attrs.trusted {
            continue;
        }
        let mut e = Entry::new(EntryKind::TrustedCertificate);
        e.alias = cb.attrs.friendly_name;
        e.chain = vec![cb.cert];
        store.entries.push(e);
    }
    for s in p.secrets {
        let mut e = Entry::new(EntryKind::Secret);
        e.alias = s.friendly_name;
        store.entries.push(e);
    }
    store.pkcs12 = Some(p.protection);
    store
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        std::fs::read(p).expect("fixture")
    }

    /// Regression (hostile corpus `type-p12-mac-not-sequence.p12`): a macData
    /// that is not a SEQUENCE was skipped and the file read as "no MAC".
    #[test]
    fn mac_data_of_the_wrong_type_is_refused() {
        let der = fixture("p12/openssl3-aes-auth.p12");
        let pfx = asn1::parse_single(&der).expect("pfx");
        let mut r = pfx.reader();
        let version = r.read().expect("version");
        let auth_safe = r.read().expect("authSafe");
        let content = [
            version.raw,
            auth_safe.raw,
            &asn1::encode(tag::OCTET_STRING, b"mac"),
        ]
        .concat();
        let bad = asn1::encode(tag::SEQUENCE, &content);
        let e = read(&bad, Some("changeit")).expect_err("must fail");
        assert!(
            matches!(e, KeystoreError::Malformed { .. }),
            "unexpected error: {e}"
        );
        // Trailing data after a real macData is refused too.
        let mut tail = pfx.content.to_vec();
        tail.extend_from_slice(&asn1::encode(tag::NULL, &[]));
        let e = read(&asn1::encode(tag::SEQUENCE, &tail), Some("changeit")).expect_err("trailing");
        assert!(matches!(e, KeystoreError::Malformed { .. }), "{e}");
        // The untouched file still reads.
        assert!(read(&der, Some("changeit")).is_ok());
    }

    fn oid_tlv(dotted: &str) -> Vec<u8> {
        asn1::encode(tag::OID, &crate::key::oid_bytes(dotted))
    }

    /// A MAC-less PFX with `bags` plain SafeContents, each holding one
    /// PBES2 key bag that declares `iterations` (nothing valid to decrypt).
    fn pfx_with_key_bags(bags: usize, iterations: u32) -> Vec<u8> {
        let seq = |parts: &[Vec<u8>]| asn1::encode(tag::SEQUENCE, &parts.concat());
        let kdf = seq(&[
            oid_tlv(pbe::oid::PBKDF2),
            seq(&[
                asn1::encode(tag::OCTET_STRING, &[1; 16]),
                asn1::encode(tag::INTEGER, &iterations.to_be_bytes()),
            ]),
        ]);
        let enc = seq(&[
            oid_tlv(pbe::oid::AES256_CBC),
            asn1::encode(tag::OCTET_STRING, &[2; 16]),
        ]);
        let epki = seq(&[
            seq(&[oid_tlv(pbe::oid::PBES2), seq(&[kdf, enc])]),
            asn1::encode(tag::OCTET_STRING, &[3; 32]),
        ]);
        let bag = seq(&[oid_tlv(oid::SHROUDED_KEY_BAG), asn1::encode(0xa0, &epki)]);
        let ci = seq(&[
            oid_tlv(oid::DATA),
            asn1::encode(0xa0, &asn1::encode(tag::OCTET_STRING, &seq(&[bag]))),
        ]);
        let auth_safe = seq(&vec![ci; bags]);
        seq(&[
            asn1::encode(tag::INTEGER, &[3]),
            seq(&[
                oid_tlv(oid::DATA),
                asn1::encode(0xa0, &asn1::encode(tag::OCTET_STRING, &auth_safe)),
            ]),
        ])
    }

    /// Regression: each key bag was capped at 10 million iterations, but not
    /// the file: bags adding up to more are refused before any derivation.
    #[test]
    fn total_iterations_are_capped_before_any_work() {
        let start = std::time::Instant::now();
        let e = read(&pfx_with_key_bags(3, 9_000_000), Some("changeit")).expect_err("refused");
        assert!(
            matches!(&e, KeystoreError::TooLarge { what, value: 27_000_000, .. } if what.contains("sum")),
            "{e}"
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
        let e = read(&pfx_with_key_bags(2, 6_000_000), Some("changeit")).expect_err("refused");
        assert!(matches!(e, KeystoreError::TooLarge { .. }), "{e}");
        // Within the total, the bag is derived (and fails to decrypt).
        let e = read(&pfx_with_key_bags(1, 1000), Some("changeit")).expect_err("garbage");
        assert!(matches!(e, KeystoreError::WrongPassword { .. }), "{e}");
    }
}
