//! X.509 v3 certificates for `credkit keygen`: subjects, extensions, the
//! TBS encoding and the chains `keygen` issues. The keys come from
//! [`crate::key::generate`] and are signed by [`crate::key::sign`]; every
//! signature is deterministic, so the same seed and clock give the same bytes.
//!
//! Certificates are DER written here, as the rest of credkit's writers are:
//! countryName and serialNumber are PrintableString, validity is always set,
//! serials are random and positive, and every certificate carries subject and
//! authority key identifiers (RFC 5280 method 1: SHA-1 of the public key).

use crate::asn1::{self, Reader, oid, seq, tag};
use crate::cert::Certificate;
pub use crate::cert::extensions::Realism;
use crate::error_id::ErrorId;
use crate::key::generate::{Algorithm, KeySpec, Random, generate_key};
use crate::key::sign::{sign, signature_algorithm};
use crate::key::{self, PrivateKey, PublicKey};
use crate::keystore::model::{Entry, EntryKind};
use crate::orgnr;
use crate::timefmt::rfc3339;
use serde::Serialize;
use sha1::Sha1;
use sha2::Digest;

/// Seconds in a day.
const DAY: i64 = 86_400;
/// How far `--expired` and `--not-yet-valid` move a certificate from `now`.
pub const BROKEN_SHIFT_DAYS: i64 = 30;
/// Default lifetimes.
pub const LEAF_DAYS: u32 = 365;
/// Default lifetime of CA certificates, in days.
pub const CA_DAYS: u32 = 3650;
/// The longest `--days` accepted (100 years).
pub const MAX_DAYS: u32 = 36_525;

mod oids {
    pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
    pub const KEY_USAGE: &str = "2.5.29.15";
    pub const EXT_KEY_USAGE: &str = "2.5.29.37";
    pub const SUBJECT_KEY_ID: &str = "2.5.29.14";
    pub const AUTHORITY_KEY_ID: &str = "2.5.29.35";
    pub const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
    pub const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";
    pub const OCSP_NOCHECK: &str = "1.3.6.1.5.5.7.48.1.5";
    pub const COUNTRY: &str = "2.5.4.6";
    pub const SERIAL_NUMBER: &str = "2.5.4.5";
    pub const DN_QUALIFIER: &str = "2.5.4.46";
    pub const ORGANIZATION: &str = "2.5.4.10";
    pub const ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";
    pub const COMMON_NAME: &str = "2.5.4.3";
    pub const EMAIL: &str = "1.2.840.113549.1.9.1";
    pub const DOMAIN_COMPONENT: &str = "0.9.2342.19200300.100.1.25";
}

/// What went wrong while making keys or certificates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeygenError {
    /// The subject does not parse.
    #[error("invalid subject {input:?}: {detail}")]
    Subject {
        /// The subject as given.
        input: String,
        /// What is wrong.
        detail: String,
    },
    /// The organisation number is not valid.
    #[error("invalid organisation number {value:?}: {detail}")]
    OrgNumber {
        /// The number as given.
        value: String,
        /// What is wrong.
        detail: String,
    },
    /// The validity period is impossible.
    #[error("invalid validity: {detail}")]
    Validity {
        /// What is wrong.
        detail: String,
    },
    /// The CA given cannot issue.
    #[error("the CA {detail}")]
    Ca {
        /// Why, completing "the CA ...".
        detail: String,
    },
    /// The issuing key's type cannot sign certificates here.
    #[error("credkit cannot sign with {what} keys")]
    UnsupportedSigner {
        /// The key type.
        what: String,
    },
    /// Key generation failed; why.
    #[error("key generation failed: {0}")]
    KeyGen(String),
    /// Signing failed; why.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The operating system gave no random bytes; why.
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

impl KeygenError {
    /// The error's stable id.
    pub fn id(&self) -> ErrorId {
        match self {
            KeygenError::Subject { .. } => ErrorId::KeygenSubject,
            KeygenError::OrgNumber { .. } => ErrorId::KeygenOrgNumber,
            KeygenError::Validity { .. } => ErrorId::KeygenValidity,
            KeygenError::Ca { .. } => ErrorId::KeygenCaUnusable,
            KeygenError::UnsupportedSigner { .. } => ErrorId::AlgorithmUnsupported,
            KeygenError::KeyGen(_) | KeygenError::Sign(_) => ErrorId::KeygenFailed,
            KeygenError::Random(_) => ErrorId::IoRandom,
        }
    }
}

// ---------------------------------------------------------------------------
// Distinguished names
// ---------------------------------------------------------------------------

/// Attribute names `--subject` understands, and their OIDs.
pub const DN_NAMES: [(&str, &str); 18] = [
    ("C", oids::COUNTRY),
    ("ST", "2.5.4.8"),
    ("L", "2.5.4.7"),
    ("street", "2.5.4.9"),
    ("postalCode", "2.5.4.17"),
    ("O", oids::ORGANIZATION),
    ("OU", "2.5.4.11"),
    ("organizationIdentifier", oids::ORGANIZATION_IDENTIFIER),
    ("serialNumber", oids::SERIAL_NUMBER),
    ("CN", oids::COMMON_NAME),
    ("title", "2.5.4.12"),
    ("GN", "2.5.4.42"),
    ("SN", "2.5.4.4"),
    ("dnQualifier", oids::DN_QUALIFIER),
    ("emailAddress", oids::EMAIL),
    ("DC", oids::DOMAIN_COMPONENT),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("name", "2.5.4.41"),
];

/// A distinguished name to write, in certificate order: (OID, value).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dn(pub Vec<(String, String)>);

fn subject_error(input: &str, detail: impl Into<String>) -> KeygenError {
    KeygenError::Subject {
        input: input.to_string(),
        detail: detail.into(),
    }
}

fn attribute_oid(name: &str) -> Option<String> {
    if name.contains('.') && name.split('.').all(|a| a.parse::<u64>().is_ok()) {
        return Some(name.to_string());
    }
    DN_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, o)| (*o).to_string())
}

/// The RFC 4514-style short name for an OID (for display).
pub fn attribute_label(oid: &str) -> String {
    DN_NAMES
        .iter()
        .find(|(_, o)| *o == oid)
        .map(|(n, _)| (*n).to_string())
        .unwrap_or_else(|| oid.to_string())
}

fn is_printable(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
}

impl Dn {
    /// Parse `C=NO, O=Example AS, CN=x` or `/C=NO/O=Example AS/CN=x`, in
    /// certificate order (the order `credkit inspect` and openssl print).
    /// A backslash escapes the next character.
    pub fn parse(input: &str) -> Result<Dn, KeygenError> {
        let text = input.trim();
        let (sep, body) = match text.strip_prefix('/') {
            Some(rest) => ('/', rest),
            None => (',', text),
        };
        let mut parts: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n) => {
                        cur.push('\\');
                        cur.push(n);
                    }
                    None => return Err(subject_error(input, "it ends with a lone backslash")),
                }
            } else if c == sep {
                parts.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        parts.push(cur);
        let mut attrs = Vec::new();
        for part in parts {
            if part.trim().is_empty() {
                if sep == ',' || !attrs.is_empty() {
                    return Err(subject_error(input, "it has an empty attribute"));
                }
                continue;
            }
            let Some(eq) = find_unescaped(&part, '=') else {
                return Err(subject_error(
                    input,
                    format!("\"{}\" is not NAME=value", part.trim()),
                ));
            };
            let name = part[..eq].trim();
            let value = unescape(part[eq + 1..].trim());
            let oid = attribute_oid(name)
                .ok_or_else(|| subject_error(input, format!("unknown attribute \"{name}\"")))?;
            if value.is_empty() {
                return Err(subject_error(input, format!("{name} has no value")));
            }
            attrs.push((oid, value));
        }
        if attrs.is_empty() {
            return Err(subject_error(input, "it names no attribute"));
        }
        let dn = Dn(attrs);
        dn.to_der().map_err(|e| match e {
            KeygenError::Subject { detail, .. } => subject_error(input, detail),
            other => other,
        })?;
        Ok(dn)
    }

    /// The first value of an attribute type (dotted OID).
    pub fn get(&self, oid: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(o, _)| o == oid)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, oid: &str, value: &str) {
        match self.0.iter_mut().find(|(o, _)| o == oid) {
            Some(slot) => slot.1 = value.to_string(),
            None => {
                // New attributes go before CN, which business certificates keep last.
                let at = self
                    .0
                    .iter()
                    .position(|(o, _)| o == oids::COMMON_NAME)
                    .unwrap_or(self.0.len());
                self.0.insert(at, (oid.to_string(), value.to_string()));
            }
        }
    }

    /// `C=NO, O=..., CN=...` for display.
    pub fn display(&self) -> String {
        self.0
            .iter()
            .map(|(o, v)| format!("{}={v}", attribute_label(o)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The DER Name: one attribute per RDN. C, serialNumber and dnQualifier
    /// are PrintableString (RFC 5280 requires it for C), emailAddress and DC
    /// IA5String, everything else UTF8String.
    pub fn to_der(&self) -> Result<Vec<u8>, KeygenError> {
        let mut rdns = Vec::new();
        for (o, v) in &self.0 {
            let label = attribute_label(o);
            let value = match o.as_str() {
                oids::COUNTRY => {
                    if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(subject_error(
                            &self.display(),
                            format!("C must be two capital letters (ISO 3166), not {v:?}"),
                        ));
                    }
                    asn1::encode(tag::PRINTABLE_STRING, v.as_bytes())
                }
                oids::SERIAL_NUMBER | oids::DN_QUALIFIER => {
                    if !is_printable(v) {
                        return Err(subject_error(
                            &self.display(),
                            format!(
                                "{label} is a PrintableString: letters, digits, space and '()+,-./:=? only"
                            ),
                        ));
                    }
                    asn1::encode(tag::PRINTABLE_STRING, v.as_bytes())
                }
                oids::EMAIL | oids::DOMAIN_COMPONENT => {
                    if !v.is_ascii() {
                        return Err(subject_error(
                            &self.display(),
                            format!("{label} must be ASCII"),
                        ));
                    }
                    asn1::encode(tag::IA5_STRING, v.as_bytes())
                }
                _ => asn1::encode(tag::UTF8_STRING, v.as_bytes()),
            };
            rdns.push(asn1::encode(tag::SET, &seq(&[oid(o), value])));
        }
        Ok(seq(&rdns))
    }
}

fn find_unescaped(s: &str, wanted: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == wanted {
            return Some(i);
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Check a Norwegian organisation number: 9 digits. Returns a remark when
/// the modulus-11 check digit is wrong (allowed: tests may want that).
pub fn check_org_number(value: &str) -> Result<Option<String>, KeygenError> {
    if !orgnr::is_nine_digits(value) {
        return Err(KeygenError::OrgNumber {
            value: value.to_string(),
            detail: "it must be exactly 9 digits".into(),
        });
    }
    Ok((!orgnr::has_valid_check_digit(value)).then(|| {
        format!(
            "organisation number {value} fails the modulus-11 check (Enhetsregisteret would not issue it)"
        )
    }))
}

/// The subject a Norwegian business certificate (virksomhetssertifikat)
/// has: C=NO, O, organizationIdentifier `NTRNO-<orgno>` (SEID 2),
/// serialNumber `<orgno>` (SEID 1), CN = the organisation's name. Attributes
/// in `overrides` replace those of the same type; an O without a CN sets both.
pub fn business_subject(org_number: &str, overrides: Option<&Dn>) -> Dn {
    let name = format!("TESTORGANISASJON {org_number}");
    let mut dn = Dn(vec![
        (oids::COUNTRY.into(), "NO".into()),
        (oids::ORGANIZATION.into(), name.clone()),
        (
            oids::ORGANIZATION_IDENTIFIER.into(),
            format!("{}{org_number}", orgnr::NTRNO_PREFIX),
        ),
        (oids::SERIAL_NUMBER.into(), org_number.into()),
        (oids::COMMON_NAME.into(), name),
    ]);
    if let Some(o) = overrides {
        for (k, v) in &o.0 {
            dn.set(k, v);
        }
        if let Some(org) = o.get(oids::ORGANIZATION)
            && o.get(oids::COMMON_NAME).is_none()
        {
            dn.set(oids::COMMON_NAME, org);
        }
    }
    dn
}

/// Default subjects.
pub fn default_root_subject() -> Dn {
    Dn(vec![
        (oids::COUNTRY.into(), "NO".into()),
        (oids::ORGANIZATION.into(), "Credkit Test CA".into()),
        (oids::COMMON_NAME.into(), "Credkit Test Root CA".into()),
    ])
}

/// The subject of a test intermediate CA.
pub fn default_intermediate_subject() -> Dn {
    Dn(vec![
        (oids::COUNTRY.into(), "NO".into()),
        (oids::ORGANIZATION.into(), "Credkit Test CA".into()),
        (
            oids::COMMON_NAME.into(),
            "Credkit Test Intermediate CA".into(),
        ),
    ])
}

/// The subject of a test end-entity certificate without an organisation number.
pub fn default_leaf_subject() -> Dn {
    Dn(vec![
        (oids::ORGANIZATION.into(), "Credkit test".into()),
        (oids::COMMON_NAME.into(), "credkit test client".into()),
    ])
}

// ---------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertKind {
    /// Self-signed CA: CA:TRUE, keyCertSign and cRLSign.
    RootCa,
    /// CA issued by another CA: CA:TRUE with pathLen 0.
    IntermediateCa,
    /// Authentication: digitalSignature and keyEncipherment, EKU clientAuth.
    Auth,
    /// Signing (the business certificate's "signering" half): nonRepudiation only.
    Sign,
    /// A delegated OCSP responder (RFC 6960 §4.2.2.2): digitalSignature, EKU
    /// OCSPSigning, and id-pkix-ocsp-nocheck.
    OcspSigning,
}

/// `--usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Usage {
    /// digitalSignature + keyEncipherment, extended key usage clientAuth
    Auth,
    /// nonRepudiation only
    Sign,
    /// both certificates, with separate keys, under the aliases auth and sign
    Both,
    /// a delegated OCSP responder for the CA: digitalSignature, EKU OCSPSigning, ocsp-nocheck
    Ocsp,
}

impl Usage {
    /// The certificate kinds this usage makes, in order.
    pub fn kinds(self) -> Vec<CertKind> {
        match self {
            Usage::Auth => vec![CertKind::Auth],
            Usage::Sign => vec![CertKind::Sign],
            Usage::Both => vec![CertKind::Auth, CertKind::Sign],
            Usage::Ocsp => vec![CertKind::OcspSigning],
        }
    }
}

/// The default alias of an end-entity certificate of this profile.
fn kind_alias(p: CertKind) -> &'static str {
    match p {
        CertKind::Sign => "sign",
        CertKind::OcspSigning => "ocsp",
        _ => "auth",
    }
}

/// RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value.
pub fn key_identifier(public: &PublicKey) -> Option<Vec<u8>> {
    let spki = public.to_spki()?;
    let outer = asn1::parse_single(&spki).ok()?;
    let mut r = outer.reader();
    r.read().ok()?;
    let bits = r.read().ok()?.bit_string().ok()?;
    Some(Sha1::digest(bits).to_vec())
}

/// The subjectKeyIdentifier extension of a certificate, if it has one.
pub fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    let tbs = asn1::parse_single(&cert.tbs).ok()?;
    let mut r = tbs.reader();
    while !r.is_empty() {
        let t = r.read().ok()?;
        if t.tag != 0xa3 {
            continue;
        }
        let exts = asn1::parse_single(t.content).ok()?;
        let mut er = exts.reader();
        while !er.is_empty() {
            let ext = er.read().ok()?;
            let mut x: Reader<'_> = ext.reader();
            if x.read().ok()?.oid().ok()? != oids::SUBJECT_KEY_ID {
                continue;
            }
            let _critical = x.optional(tag::BOOLEAN).ok()?;
            let value = x.expect(tag::OCTET_STRING, "the value").ok()?.content;
            let inner = asn1::parse_single(value).ok()?;
            return (inner.tag == tag::OCTET_STRING).then(|| inner.content.to_vec());
        }
    }
    None
}

/// Who signs a certificate.
pub struct Issuer<'a> {
    /// The issuer's subject Name, DER, copied byte for byte.
    pub name: Vec<u8>,
    /// The issuer's private key, which signs.
    pub key: &'a PrivateKey,
    /// Goes into the authorityKeyIdentifier.
    pub key_id: Vec<u8>,
}

impl<'a> Issuer<'a> {
    /// A CA certificate and its key.
    pub fn from_ca(cert: &Certificate, key: &'a PrivateKey) -> Issuer<'a> {
        let key_id = subject_key_identifier(cert)
            .or_else(|| key_identifier(&key.public))
            .unwrap_or_default();
        Issuer {
            name: cert.subject.raw.clone(),
            key,
            key_id,
        }
    }
}

/// What goes into one certificate.
pub struct CertSpec<'a> {
    /// The subject Name.
    pub subject: &'a Dn,
    /// The subject's public key.
    pub public_key: &'a PublicKey,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// Which profile of extensions it gets.
    pub kind: CertKind,
}

fn encode_time(secs: i64) -> Result<Vec<u8>, KeygenError> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).map_err(|e| KeygenError::Validity {
        detail: e.to_string(),
    })?;
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return Err(KeygenError::Validity {
            detail: format!("year {year} cannot be written in a certificate"),
        });
    }
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    Ok(if (1950..2050).contains(&year) {
        asn1::encode(0x17, format!("{:02}{rest}", year % 100).as_bytes())
    } else {
        asn1::encode(0x18, format!("{year:04}{rest}").as_bytes())
    })
}

fn extension(id: &str, critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(id)];
    if critical {
        parts.push(asn1::encode(tag::BOOLEAN, &[0xff]));
    }
    parts.push(asn1::encode(tag::OCTET_STRING, &value));
    seq(&parts)
}

/// A DER KeyUsage BIT STRING for bit numbers (0 = digitalSignature).
fn key_usage_bits(bits: &[u8]) -> Vec<u8> {
    let mut v: u16 = 0;
    for b in bits {
        v |= 0x8000 >> b;
    }
    let bytes = v.to_be_bytes();
    let used = if bytes[1] == 0 { 1 } else { 2 };
    let last = bytes[used - 1];
    let unused = if last == 0 {
        0
    } else {
        last.trailing_zeros() as u8
    };
    let mut content = vec![unused];
    content.extend_from_slice(&bytes[..used]);
    asn1::encode(tag::BIT_STRING, &content)
}

/// A random positive 16-byte serial (top bit clear, second bit set, so the
/// DER INTEGER is always 16 bytes long and never negative).
fn serial(rng: &mut Random) -> Vec<u8> {
    let mut s = rng.bytes(16);
    s[0] = (s[0] & 0x7f) | 0x40;
    s
}

/// Build, sign and parse back one certificate.
pub fn issue(
    spec: &CertSpec<'_>,
    issuer: &Issuer<'_>,
    rng: &mut Random,
) -> Result<Certificate, KeygenError> {
    issue_with(spec, issuer, rng, &[])
}

/// [`issue`] with `extra` DER extensions (certificatePolicies, CRL
/// distribution points, authorityInfoAccess) after
/// the profile's own and before the key identifiers.
pub fn issue_with(
    spec: &CertSpec<'_>,
    issuer: &Issuer<'_>,
    rng: &mut Random,
    extra: &[Vec<u8>],
) -> Result<Certificate, KeygenError> {
    if spec.not_after <= spec.not_before {
        return Err(KeygenError::Validity {
            detail: "notAfter must be later than notBefore".into(),
        });
    }
    let spki = spec
        .public_key
        .to_spki()
        .ok_or_else(|| KeygenError::KeyGen("a public key credkit cannot encode".into()))?;
    let ski = key_identifier(spec.public_key)
        .ok_or_else(|| KeygenError::KeyGen("a public key credkit cannot encode".into()))?;
    let mut exts = Vec::new();
    match spec.kind {
        CertKind::RootCa => {
            exts.push(extension(
                oids::BASIC_CONSTRAINTS,
                true,
                seq(&[asn1::encode(tag::BOOLEAN, &[0xff])]),
            ));
            exts.push(extension(oids::KEY_USAGE, true, key_usage_bits(&[5, 6])));
        }
        CertKind::IntermediateCa => {
            exts.push(extension(
                oids::BASIC_CONSTRAINTS,
                true,
                seq(&[
                    asn1::encode(tag::BOOLEAN, &[0xff]),
                    asn1::encode(tag::INTEGER, &[0]),
                ]),
            ));
            exts.push(extension(oids::KEY_USAGE, true, key_usage_bits(&[5, 6])));
        }
        CertKind::Auth => {
            exts.push(extension(oids::BASIC_CONSTRAINTS, false, seq(&[])));
            exts.push(extension(oids::KEY_USAGE, true, key_usage_bits(&[0, 2])));
            exts.push(extension(
                oids::EXT_KEY_USAGE,
                false,
                seq(&[oid(oids::CLIENT_AUTH)]),
            ));
        }
        CertKind::Sign => {
            exts.push(extension(oids::BASIC_CONSTRAINTS, false, seq(&[])));
            exts.push(extension(oids::KEY_USAGE, true, key_usage_bits(&[1])));
        }
        CertKind::OcspSigning => {
            exts.push(extension(oids::BASIC_CONSTRAINTS, false, seq(&[])));
            exts.push(extension(oids::KEY_USAGE, true, key_usage_bits(&[0])));
            exts.push(extension(
                oids::EXT_KEY_USAGE,
                false,
                seq(&[oid(oids::OCSP_SIGNING)]),
            ));
            exts.push(extension(
                oids::OCSP_NOCHECK,
                false,
                asn1::encode(tag::NULL, &[]),
            ));
        }
    }
    exts.extend(extra.iter().cloned());
    exts.push(extension(
        oids::SUBJECT_KEY_ID,
        false,
        asn1::encode(tag::OCTET_STRING, &ski),
    ));
    exts.push(extension(
        oids::AUTHORITY_KEY_ID,
        false,
        seq(&[asn1::encode(0x80, &issuer.key_id)]),
    ));
    let alg = signature_algorithm(issuer.key)?;
    let tbs = seq(&[
        asn1::encode(0xa0, &asn1::encode(tag::INTEGER, &[2])),
        key::encode_uint(&serial(rng)),
        alg.clone(),
        issuer.name.clone(),
        seq(&[encode_time(spec.not_before)?, encode_time(spec.not_after)?]),
        spec.subject.to_der()?,
        spki,
        asn1::encode(0xa3, &seq(&exts)),
    ]);
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sign(issuer.key, &tbs)?);
    let der = seq(&[tbs, alg, asn1::encode(tag::BIT_STRING, &bits)]);
    Certificate::from_der(&der)
        .map_err(|e| KeygenError::Sign(format!("re-reading the certificate: {e}")))
}

// ---------------------------------------------------------------------------
// One `keygen` request
// ---------------------------------------------------------------------------

/// Which certificate, if any, to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A bare key pair.
    KeyOnly,
    /// End-entity certificates signed by their own key.
    SelfSigned,
    /// End-entity certificates issued by the CA passed to [`generate`].
    Issued,
    /// A CA: with no CA passed, a self-signed root (and, with
    /// `intermediate`, an intermediate issued by it in the same store);
    /// with a CA passed, an intermediate issued by that CA.
    Ca {
        /// Also issue an intermediate CA under the new root.
        intermediate: bool,
    },
}

/// Defects made on purpose. `wrong_key` and `missing_intermediate` apply to
/// end-entity certificates only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Broken {
    /// Validity ends [`BROKEN_SHIFT_DAYS`] before `now`.
    pub expired: bool,
    /// Validity starts [`BROKEN_SHIFT_DAYS`] after `now`.
    pub not_yet_valid: bool,
    /// The store holds a different key than the one the certificate names.
    pub wrong_key: bool,
    /// The chain skips the issuing (intermediate) CA.
    pub missing_intermediate: bool,
}

/// Everything one `keygen` run asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The key to generate for each certificate.
    pub key: KeySpec,
    /// What to make: end-entity certificates or a CA.
    pub mode: Mode,
    /// The subject; with `org_number`, attributes that override the business subject.
    pub subject: Option<Dn>,
    /// The Norwegian organisation number (9 digits) for a business subject.
    pub org_number: Option<String>,
    /// Which certificates (auth, sign, both, an OCSP responder).
    pub usage: Usage,
    /// Lifetime in days from `now` (default [`LEAF_DAYS`], or [`CA_DAYS`] for CAs).
    pub days: Option<u32>,
    /// Explicit notBefore and notAfter (Unix seconds); wins over `days`.
    pub range: Option<(i64, i64)>,
    /// Defects to build in on purpose (expired, wrong key usage, ...).
    pub broken: Broken,
    /// The alias; with two entries it becomes a prefix (`A-auth`, `A-sign`).
    pub alias: Option<String>,
    /// The moment validity is counted from (`--now`), Unix seconds.
    pub now: i64,
    /// Policies, CDP and AIA (see [`Realism`]).
    pub realism: Realism,
}

impl Request {
    /// A plain request: RSA 2048, one `auth` certificate, no defects.
    pub fn new(mode: Mode, now: i64) -> Request {
        Request {
            key: Algorithm::Rsa2048.spec(),
            mode,
            subject: None,
            org_number: None,
            usage: Usage::Auth,
            days: None,
            range: None,
            broken: Broken::default(),
            alias: None,
            now,
            realism: Realism::default(),
        }
    }

    fn window(&self, default_days: u32) -> Result<(i64, i64), KeygenError> {
        let (nb, na) = match self.range {
            Some(r) => r,
            None => {
                let d = self.days.unwrap_or(default_days);
                if d == 0 || d > MAX_DAYS {
                    return Err(KeygenError::Validity {
                        detail: format!("{d} days (1 to {MAX_DAYS} are accepted)"),
                    });
                }
                (self.now, self.now + i64::from(d) * DAY)
            }
        };
        if na <= nb {
            return Err(KeygenError::Validity {
                detail: "notAfter must be later than notBefore".into(),
            });
        }
        let len = na - nb;
        Ok(if self.broken.expired {
            let na = self.now - BROKEN_SHIFT_DAYS * DAY;
            (na - len, na)
        } else if self.broken.not_yet_valid {
            let nb = self.now + BROKEN_SHIFT_DAYS * DAY;
            (nb, nb + len)
        } else {
            (nb, na)
        })
    }

    /// The aliases [`generate`] will use, in order (`has_ca`: a CA is passed).
    pub fn planned_aliases(&self, has_ca: bool) -> Vec<String> {
        match self.mode {
            Mode::KeyOnly => vec![self.alias("key", false)],
            Mode::Ca { intermediate } if !has_ca => {
                let mut v = vec![self.alias("root", intermediate)];
                if intermediate {
                    v.push(self.alias("intermediate", true));
                }
                v
            }
            Mode::Ca { .. } => vec![self.alias("intermediate", false)],
            Mode::SelfSigned | Mode::Issued => {
                let kinds = self.usage.kinds();
                let several = kinds.len() > 1;
                kinds
                    .iter()
                    .map(|p| self.alias(kind_alias(*p), several))
                    .collect()
            }
        }
    }

    fn alias(&self, default: &str, several: bool) -> String {
        match (&self.alias, several) {
            (Some(a), false) => a.clone(),
            (Some(a), true) => format!("{a}-{default}"),
            (None, _) => default.to_string(),
        }
    }
}

/// A CA that can issue: its key and its chain (its own certificate first).
#[derive(Debug, Clone)]
pub struct Ca {
    /// The CA's alias in its store.
    pub alias: String,
    /// The CA's private key.
    pub key: PrivateKey,
    /// Its chain, its own certificate first.
    pub chain: Vec<Certificate>,
}

/// The common name of a CA's certificate (names its CRL and certificate URLs).
fn ca_common_name(ca: &Ca) -> Option<&str> {
    ca.chain
        .first()
        .and_then(|c| c.subject.get(crate::cert::oid::COMMON_NAME))
}

/// The entries of a store that can act as a CA.
pub fn ca_candidates(entries: &[Entry]) -> Vec<&Entry> {
    entries
        .iter()
        .filter(|e| {
            e.kind == EntryKind::PrivateKey
                && e.chain.first().is_some_and(|c| c.is_ca == Some(true))
        })
        .collect()
}

impl Ca {
    /// Check that an entry can issue certificates.
    pub fn from_entry(e: &Entry, alias: &str) -> Result<Ca, KeygenError> {
        let err = |detail: String| KeygenError::Ca { detail };
        let Some(cert) = e.chain.first() else {
            return Err(err(format!("entry \"{alias}\" has no certificate")));
        };
        if cert.is_ca != Some(true) {
            return Err(err(format!(
                "entry \"{alias}\" holds an end-entity certificate, not a CA certificate \
                 (no basicConstraints CA:TRUE)"
            )));
        }
        let Some(key) = &e.private_key else {
            return Err(err(if e.key_locked {
                format!("key of entry \"{alias}\" could not be decrypted: give its password")
            } else {
                format!("entry \"{alias}\" has no private key, so it cannot sign")
            }));
        };
        if cert.public_key.as_ref().ok() != Some(&key.public) {
            return Err(err(format!(
                "key of entry \"{alias}\" does not belong to its certificate"
            )));
        }
        signature_algorithm(key)?;
        Ok(Ca {
            alias: alias.to_string(),
            key: key.clone(),
            chain: e.chain.clone(),
        })
    }
}

/// What a request produced: entries ready for the writers, and remarks.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The entries made, ready for [`crate::keystore::write`].
    pub entries: Vec<Entry>,
    /// Remarks for the user.
    pub notes: Vec<String>,
}

fn key_entry(alias: String, key: PrivateKey, chain: Vec<Certificate>, now: i64) -> Entry {
    let mut e = Entry::new(EntryKind::PrivateKey);
    e.alias = Some(alias);
    e.private_key = Some(key);
    e.chain = chain;
    e.created_ms = Some(now.saturating_mul(1000));
    e
}

fn self_issuer<'a>(subject: &Dn, key: &'a PrivateKey) -> Result<Issuer<'a>, KeygenError> {
    Ok(Issuer {
        name: subject.to_der()?,
        key,
        key_id: key_identifier(&key.public).unwrap_or_default(),
    })
}

fn issuer_notes(ca: &Ca, not_after: i64, now: i64, notes: &mut Vec<String>) {
    let Some(c) = ca.chain.first() else { return };
    if now < c.not_before || now > c.not_after {
        notes.push(format!(
            "the CA certificate \"{}\" is not valid at {} (valid {} to {}): what it issues will not verify",
            ca.alias,
            rfc3339(now),
            rfc3339(c.not_before),
            rfc3339(c.not_after)
        ));
    } else if not_after > c.not_after {
        notes.push(format!(
            "the new certificate outlives its issuer \"{}\" (which ends {})",
            ca.alias,
            rfc3339(c.not_after)
        ));
    }
}

/// Make what `req` asks for. `ca` is required for [`Mode::Issued`] and makes
/// [`Mode::Ca`] an intermediate.
pub fn generate(
    req: &Request,
    ca: Option<&Ca>,
    rng: &mut Random,
) -> Result<Generated, KeygenError> {
    let mut out = Generated::default();
    if let Some(n) = &req.org_number
        && let Some(note) = check_org_number(n)?
    {
        out.notes.push(note);
    }
    match req.mode {
        Mode::KeyOnly => {
            let key = generate_key(req.key, rng)?;
            out.entries
                .push(key_entry(req.alias("key", false), key, Vec::new(), req.now));
        }
        Mode::Ca { intermediate } => match ca {
            None => make_root_ca(req, intermediate, rng, &mut out)?,
            Some(ca) => make_intermediate_ca(req, ca, rng, &mut out)?,
        },
        Mode::SelfSigned | Mode::Issued => make_end_entity(req, ca, rng, &mut out)?,
    }
    Ok(out)
}

/// A self-signed root CA, and with `intermediate` an intermediate it issues.
fn make_root_ca(
    req: &Request,
    intermediate: bool,
    rng: &mut Random,
    out: &mut Generated,
) -> Result<(), KeygenError> {
    let (nb, na) = req.window(CA_DAYS)?;
    let subject = req.subject.clone().unwrap_or_else(default_root_subject);
    let key = generate_key(req.key, rng)?;
    let spec = CertSpec {
        subject: &subject,
        public_key: &key.public,
        not_before: nb,
        not_after: na,
        kind: CertKind::RootCa,
    };
    let root = issue(&spec, &self_issuer(&subject, &key)?, rng)?;
    let root_alias = req.alias("root", intermediate);
    if !intermediate {
        out.entries
            .push(key_entry(root_alias, key, vec![root], req.now));
        return Ok(());
    }
    let int_key = generate_key(req.key, rng)?;
    let int_subject = default_intermediate_subject();
    let spec = CertSpec {
        subject: &int_subject,
        public_key: &int_key.public,
        not_before: nb,
        not_after: na,
        kind: CertKind::IntermediateCa,
    };
    let extra = req
        .realism
        .extensions(false, false, Some(subject.get(oids::COMMON_NAME)));
    let int = issue_with(&spec, &Issuer::from_ca(&root, &key), rng, &extra)?;
    out.entries
        .push(key_entry(root_alias, key, vec![root.clone()], req.now));
    out.entries.push(key_entry(
        req.alias("intermediate", true),
        int_key,
        vec![int, root],
        req.now,
    ));
    Ok(())
}

/// An intermediate CA issued by `ca`.
fn make_intermediate_ca(
    req: &Request,
    ca: &Ca,
    rng: &mut Random,
    out: &mut Generated,
) -> Result<(), KeygenError> {
    let (nb, na) = req.window(CA_DAYS)?;
    let subject = req
        .subject
        .clone()
        .unwrap_or_else(default_intermediate_subject);
    let key = generate_key(req.key, rng)?;
    let spec = CertSpec {
        subject: &subject,
        public_key: &key.public,
        not_before: nb,
        not_after: na,
        kind: CertKind::IntermediateCa,
    };
    let extra = req
        .realism
        .extensions(false, false, Some(ca_common_name(ca)));
    let cert = issue_with(&spec, &Issuer::from_ca(&ca.chain[0], &ca.key), rng, &extra)?;
    issuer_notes(ca, na, req.now, &mut out.notes);
    let mut chain = vec![cert];
    chain.extend(ca.chain.iter().cloned());
    out.entries.push(key_entry(
        req.alias("intermediate", false),
        key,
        chain,
        req.now,
    ));
    Ok(())
}

/// The CA an end-entity request is issued by (`None`: self-signed), checked
/// against what the request asks for.
fn end_entity_issuer<'a>(req: &Request, ca: Option<&'a Ca>) -> Result<Option<&'a Ca>, KeygenError> {
    let ca = match (req.mode, ca) {
        (Mode::Issued, Some(ca)) => Some(ca),
        (Mode::Issued, None) => {
            return Err(KeygenError::Ca {
                detail: "is missing: an issued certificate needs one".into(),
            });
        }
        _ => None,
    };
    if req.broken.missing_intermediate {
        match ca {
            Some(ca) if !ca.chain[0].is_self_issued() => {}
            _ => {
                return Err(KeygenError::Ca {
                    detail: "for a missing intermediate must itself be an intermediate \
                             (issued by another CA), so there is a certificate to leave out"
                        .into(),
                });
            }
        }
    }
    Ok(ca)
}

/// An end-entity (self-signed or issued) certificate for each kind the
/// request's usage asks for, each with its own key.
fn make_end_entity(
    req: &Request,
    ca: Option<&Ca>,
    rng: &mut Random,
    out: &mut Generated,
) -> Result<(), KeygenError> {
    let ca = end_entity_issuer(req, ca)?;
    let subject = match &req.org_number {
        Some(n) => business_subject(n, req.subject.as_ref()),
        None => req.subject.clone().unwrap_or_else(default_leaf_subject),
    };
    let kinds = req.usage.kinds();
    let several = kinds.len() > 1;
    let (nb, na) = req.window(LEAF_DAYS)?;
    if let Some(ca) = ca {
        issuer_notes(ca, na, req.now, &mut out.notes);
    }
    for kind in kinds {
        let key = generate_key(req.key, rng)?;
        let other = if req.broken.wrong_key {
            Some(generate_key(req.key, rng)?)
        } else {
            None
        };
        let named = other.as_ref().unwrap_or(&key);
        let spec = CertSpec {
            subject: &subject,
            public_key: &named.public,
            not_before: nb,
            not_after: na,
            kind,
        };
        let chain = end_entity_chain(req, ca, &spec, named, rng)?;
        let default = kind_alias(kind);
        out.entries
            .push(key_entry(req.alias(default, several), key, chain, req.now));
    }
    Ok(())
}

/// The chain of one end-entity certificate: issued by `ca` (its chain after
/// it, less the intermediate for a broken request) or signed by `named`.
fn end_entity_chain(
    req: &Request,
    ca: Option<&Ca>,
    spec: &CertSpec<'_>,
    named: &PrivateKey,
    rng: &mut Random,
) -> Result<Vec<Certificate>, KeygenError> {
    let business = req.org_number.is_some();
    Ok(match ca {
        None => {
            let extra = req.realism.extensions(true, business, None);
            vec![issue_with(
                spec,
                &self_issuer(spec.subject, named)?,
                rng,
                &extra,
            )?]
        }
        Some(ca) => {
            // A responder with ocsp-nocheck is not itself checked.
            let issuer_cn = (spec.kind != CertKind::OcspSigning).then(|| ca_common_name(ca));
            let extra = req.realism.extensions(true, business, issuer_cn);
            let cert = issue_with(spec, &Issuer::from_ca(&ca.chain[0], &ca.key), rng, &extra)?;
            let skip = usize::from(req.broken.missing_intermediate);
            std::iter::once(cert)
                .chain(ca.chain.iter().skip(skip).cloned())
                .collect()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Curve;

    fn hex(b: &[u8]) -> String {
        crate::cert::hex(b)
    }

    #[test]
    fn subjects_parse_in_both_notations() {
        let a = Dn::parse("C=NO, O=Acme AS, CN=Acme AS").expect("comma form");
        let b = Dn::parse("/C=NO/O=Acme AS/CN=Acme AS").expect("slash form");
        assert_eq!(a, b);
        assert_eq!(a.display(), "C=NO, O=Acme AS, CN=Acme AS");
        let c = Dn::parse(r"O=Smith\, Jones AS, cn=x, 2.5.4.97=NTRNO-123456785").expect("escape");
        assert_eq!(c.get(oids::ORGANIZATION), Some("Smith, Jones AS"));
        assert_eq!(
            c.get(oids::ORGANIZATION_IDENTIFIER),
            Some("NTRNO-123456785")
        );
        for bad in [
            "",
            "CN",
            "XX=1",
            "C=no",
            "C=NOR",
            "serialNumber=æ",
            "CN=",
            "CN=a,,O=b",
        ] {
            let e = Dn::parse(bad).expect_err(bad);
            assert_eq!(e.id(), "keygen-subject", "{bad}");
        }
    }

    #[test]
    fn names_use_printable_string_for_c_and_serial_number() {
        let dn = business_subject("123456785", None);
        let der = dn.to_der().expect("der");
        let name = Certificate::from_der(&self_signed_der(&dn))
            .expect("cert")
            .subject;
        assert_eq!(name.raw, der);
        let types: Vec<(&str, &str)> = name
            .attributes
            .iter()
            .map(|a| (a.name.as_str(), a.string_type.as_str()))
            .collect();
        assert_eq!(
            types,
            [
                ("C", "PrintableString"),
                ("O", "UTF8String"),
                ("organizationIdentifier", "UTF8String"),
                ("serialNumber", "PrintableString"),
                ("CN", "UTF8String"),
            ]
        );
    }

    fn self_signed_der(dn: &Dn) -> Vec<u8> {
        let mut rng = Random::from_seed("names");
        let key = generate_key(KeySpec::Ec(Curve::P256), &mut rng).expect("key");
        let spec = CertSpec {
            subject: dn,
            public_key: &key.public,
            not_before: 0,
            not_after: 86_400,
            kind: CertKind::Auth,
        };
        issue(&spec, &self_issuer(dn, &key).expect("issuer"), &mut rng)
            .expect("issue")
            .der
    }

    #[test]
    fn business_subject_overrides_keep_the_shape() {
        let o = Dn::parse("O=Acme AS").expect("dn");
        let dn = business_subject("123456785", Some(&o));
        assert_eq!(
            dn.display(),
            "C=NO, O=Acme AS, organizationIdentifier=NTRNO-123456785, serialNumber=123456785, CN=Acme AS"
        );
        let o = Dn::parse("OU=Test, CN=Other").expect("dn");
        let dn = business_subject("123456785", Some(&o));
        assert_eq!(
            dn.display(),
            "C=NO, O=TESTORGANISASJON 123456785, organizationIdentifier=NTRNO-123456785, serialNumber=123456785, OU=Test, CN=Other"
        );
    }

    #[test]
    fn org_numbers_are_checked() {
        assert!(check_org_number("123456785").expect("ok").is_none());
        assert!(check_org_number("987654325").expect("ok").is_none());
        assert!(check_org_number("123456789").expect("ok").is_some());
        for bad in ["12345678", "1234567890", "12345678x"] {
            assert!(check_org_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_usage_bit_strings_are_minimal_der() {
        assert_eq!(hex(&key_usage_bits(&[0, 2])), "030205a0");
        assert_eq!(hex(&key_usage_bits(&[1])), "03020640");
        assert_eq!(hex(&key_usage_bits(&[5, 6])), "03020106");
        assert_eq!(hex(&key_usage_bits(&[0, 8])), "0303078080");
    }

    #[test]
    fn times_switch_to_generalized_time_in_2050() {
        let t = |s: &str| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .expect("time")
                .unix_timestamp()
        };
        assert_eq!(
            encode_time(t("2049-12-31T23:59:59Z")).expect("utc"),
            asn1::encode(0x17, b"491231235959Z")
        );
        assert_eq!(
            encode_time(t("2050-01-01T00:00:00Z")).expect("gen"),
            asn1::encode(0x18, b"20500101000000Z")
        );
        assert_eq!(
            encode_time(t("1949-06-01T00:00:00Z")).expect("gen"),
            asn1::encode(0x18, b"19490601000000Z")
        );
    }

    fn chain_request(now: i64) -> (Generated, Ca) {
        let mut rng = Random::from_seed("chain");
        let mut req = Request::new(Mode::Ca { intermediate: true }, now);
        req.key = KeySpec::Ec(Curve::P256);
        let cas = generate(&req, None, &mut rng).expect("ca");
        let ca = Ca::from_entry(&cas.entries[1], "intermediate").expect("ca entry");
        (cas, ca)
    }

    #[test]
    fn issued_certificates_link_to_their_issuer() {
        let now = 1_800_000_000;
        let (cas, ca) = chain_request(now);
        let root = &cas.entries[0].chain[0];
        let int = &cas.entries[1].chain[0];
        assert_eq!(cas.entries[1].chain.len(), 2);
        assert!(crate::cert::verify_signature(
            root,
            root.public_key.as_ref().expect("k")
        ));
        assert!(crate::cert::verify_signature(
            int,
            root.public_key.as_ref().expect("k")
        ));
        for spec in [
            KeySpec::Rsa { bits: 2048 },
            KeySpec::Ec(Curve::P384),
            KeySpec::Ed25519,
        ] {
            let mut req = Request::new(Mode::Issued, now);
            req.key = spec;
            req.org_number = Some("123456785".into());
            req.usage = Usage::Both;
            let out = generate(&req, Some(&ca), &mut Random::from_seed("leaf")).expect("leaf");
            assert_eq!(out.entries.len(), 2);
            for (e, alias, ku) in [
                (
                    &out.entries[0],
                    "auth",
                    vec!["digitalSignature", "keyEncipherment"],
                ),
                (&out.entries[1], "sign", vec!["nonRepudiation"]),
            ] {
                assert_eq!(e.alias.as_deref(), Some(alias));
                let leaf = &e.chain[0];
                assert_eq!(e.chain.len(), 3);
                assert!(crate::cert::verify_signature(
                    leaf,
                    int.public_key.as_ref().expect("k")
                ));
                assert_eq!(
                    leaf.key_usage.as_deref(),
                    Some(&ku.iter().map(|s| s.to_string()).collect::<Vec<_>>()[..])
                );
                assert!(leaf.key_usage_critical);
                assert_eq!(leaf.issuer.raw, int.subject.raw);
                assert_eq!(leaf.not_before, now);
                assert_eq!(leaf.not_after, now + 365 * DAY);
                assert_eq!(leaf.org_number().map(|o| o.0).as_deref(), Some("123456785"));
                assert!(leaf.serial.len() == 16 && leaf.serial[0] & 0x80 == 0);
                assert_eq!(
                    e.private_key.as_ref().map(|k| &k.public),
                    leaf.public_key.as_ref().ok()
                );
                // AKI = the intermediate's SKI.
                let aki = authority_key_id(leaf).expect("aki");
                assert_eq!(Some(aki), subject_key_identifier(int));
            }
            assert_ne!(
                out.entries[0].chain[0].serial,
                out.entries[1].chain[0].serial
            );
        }
    }

    fn authority_key_id(cert: &Certificate) -> Option<Vec<u8>> {
        let needle = [0x06, 0x03, 0x55, 0x1d, 0x23];
        let at = cert.tbs.windows(5).position(|w| w == needle)?;
        // OID, OCTET STRING { SEQUENCE { [0] keyid } }
        let rest = &cert.tbs[at + 5..];
        let os = asn1::Reader::new(rest).read().ok()?;
        let s = asn1::parse_single(os.content).ok()?;
        let k = asn1::parse_single(s.content).ok()?;
        Some(k.content.to_vec())
    }

    #[test]
    fn seeds_reproduce_keys_and_certificates() {
        let run = |seed: &str| {
            let mut req = Request::new(Mode::SelfSigned, 1_800_000_000);
            req.key = KeySpec::Rsa { bits: 1024 };
            let out = generate(&req, None, &mut Random::from_seed(seed)).expect("gen");
            let e = &out.entries[0];
            (
                e.private_key.as_ref().expect("key").pkcs8.clone(),
                e.chain[0].der.clone(),
            )
        };
        assert_eq!(run("a"), run("a"));
        let (ka, ca) = run("a");
        let (kb, cb) = run("b");
        assert_ne!(ka, kb);
        assert_ne!(ca, cb);
        let mut x = Random::from_os().expect("os");
        let mut y = Random::from_os().expect("os");
        assert_ne!(x.bytes(32), y.bytes(32));
    }

    #[test]
    fn broken_variants() {
        let now = 1_800_000_000;
        let (_, ca) = chain_request(now);
        let mut req = Request::new(Mode::Issued, now);
        req.key = KeySpec::Ec(Curve::P256);
        req.broken.expired = true;
        let e = &generate(&req, Some(&ca), &mut Random::from_seed("x"))
            .expect("gen")
            .entries[0];
        assert_eq!(e.chain[0].not_after, now - 30 * DAY);
        assert_eq!(e.chain[0].not_before, now - 30 * DAY - 365 * DAY);
        req.broken = Broken {
            not_yet_valid: true,
            ..Broken::default()
        };
        let e = &generate(&req, Some(&ca), &mut Random::from_seed("x"))
            .expect("gen")
            .entries[0];
        assert_eq!(e.chain[0].not_before, now + 30 * DAY);
        req.broken = Broken {
            wrong_key: true,
            ..Broken::default()
        };
        let e = &generate(&req, Some(&ca), &mut Random::from_seed("x"))
            .expect("gen")
            .entries[0];
        assert_ne!(
            e.private_key.as_ref().map(|k| &k.public),
            e.chain[0].public_key.as_ref().ok()
        );
        req.broken = Broken {
            missing_intermediate: true,
            ..Broken::default()
        };
        let e = &generate(&req, Some(&ca), &mut Random::from_seed("x"))
            .expect("gen")
            .entries[0];
        assert_eq!(e.chain.len(), 2);
        assert_eq!(e.chain[1].subject.raw, ca.chain[1].subject.raw);
        assert_ne!(e.chain[0].issuer.raw, e.chain[1].subject.raw);
        // A root cannot lose an intermediate it does not have.
        let root = Ca {
            alias: "root".into(),
            key: ca.key.clone(),
            chain: vec![ca.chain[1].clone()],
        };
        assert!(generate(&req, Some(&root), &mut Random::from_seed("x")).is_err());
    }

    #[test]
    fn a_leaf_cannot_act_as_ca() {
        let mut req = Request::new(Mode::SelfSigned, 1_800_000_000);
        req.key = KeySpec::Ed25519;
        let out = generate(&req, None, &mut Random::from_seed("x")).expect("gen");
        let e = Ca::from_entry(&out.entries[0], "auth").expect_err("leaf");
        assert_eq!(e.id(), "keygen-ca-unusable");
        assert!(ca_candidates(&out.entries).is_empty());
    }
}
