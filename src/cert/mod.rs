//! X.509 certificates: a bounds-checked parser for the fields credkit reports,
//! fingerprints, organisation numbers, and chain analysis.

use crate::asn1::{self, Reader, Tlv, tag};
use crate::key::{self, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub mod chain;
pub mod extensions;
pub mod fixture_set;
pub mod issue;
pub mod path;
mod sigcheck;

pub use sigcheck::{SignatureCheck, check as check_signed_data, check_signature};

/// A parse failure inside a certificate, named by the structure where it
/// happened ("certificate 2, extension keyUsage"), not by a byte offset.
#[derive(Debug, thiserror::Error)]
#[error("malformed X.509 certificate: {place}: expected {}", source.expected)]
pub struct CertError {
    /// The structure: "the validity", "extension keyUsage", with
    /// "certificate N, " in front when the caller knows the position.
    pub place: String,
    /// The reader's failure (its offset is relative to the certificate).
    pub source: asn1::Asn1Error,
}

impl From<asn1::Asn1Error> for CertError {
    fn from(source: asn1::Asn1Error) -> CertError {
        CertError {
            place: "the certificate".into(),
            source,
        }
    }
}

impl CertError {
    /// Name the certificate's position in its file or bag (1-based).
    pub fn in_certificate(mut self, number: usize) -> CertError {
        self.place = format!("certificate {number}, {}", self.place);
        self
    }
}

/// Map a reader error to the structure being read.
fn at(place: impl Into<String>) -> impl FnOnce(asn1::Asn1Error) -> CertError {
    let place = place.into();
    move |source| CertError { place, source }
}

/// One attribute of a distinguished name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameAttribute {
    /// Short name (`CN`, `O`, `organizationIdentifier`) or the dotted OID.
    pub name: String,
    pub oid: String,
    pub value: String,
    /// The ASN.1 string type: `PrintableString`, `UTF8String`, ...
    pub string_type: String,
}

/// A distinguished name, in certificate order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub attributes: Vec<NameAttribute>,
    pub raw: Vec<u8>,
}

impl Name {
    /// `C=NO, O=Example AS, CN=Example` (certificate order, like openssl).
    pub fn to_display(&self) -> String {
        self.attributes
            .iter()
            .map(|a| format!("{}={}", a.name, a.value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn get(&self, oid: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.oid == oid)
            .map(|a| a.value.as_str())
    }
}

/// Key usage bits, named as in RFC 5280.
pub const KEY_USAGE_NAMES: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// A parsed certificate.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub version: u64,
    pub serial: Vec<u8>,
    pub signature_algorithm: String,
    /// The DER parameters of the signature algorithm (RSASSA-PSS needs them).
    pub signature_params: Option<Vec<u8>>,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: i64,
    pub not_after: i64,
    pub spki: Vec<u8>,
    pub public_key: Result<PublicKey, String>,
    pub key_usage: Option<Vec<String>>,
    pub key_usage_critical: bool,
    pub extended_key_usage: Option<Vec<String>>,
    pub policies: Vec<String>,
    pub is_ca: Option<bool>,
    /// basicConstraints pathLenConstraint: how many intermediate CA
    /// certificates may follow this one on a path.
    pub path_len: Option<u64>,
    pub subject_alt_names: Vec<String>,
    /// cRLDistributionPoints: the URIs of the full names (other names skipped).
    pub crl_urls: Vec<String>,
    /// authorityInfoAccess id-ad-ocsp URIs: where the OCSP responder is.
    pub ocsp_urls: Vec<String>,
    /// authorityInfoAccess id-ad-caIssuers URIs: where the issuer's certificate is.
    pub ca_issuers_urls: Vec<String>,
    pub tbs: Vec<u8>,
    pub signature: Vec<u8>,
    /// Why the certificate is not strict DER, when it is not ("extension
    /// keyUsage: 3 bytes after the value"). Such certificates are read, as
    /// openssl reads them, and `check` warns (`certificate-not-der`).
    pub not_der: Vec<String>,
}

pub mod oid {
    pub const KEY_USAGE: &str = "2.5.29.15";
    pub const EXT_KEY_USAGE: &str = "2.5.29.37";
    pub const POLICIES: &str = "2.5.29.32";
    pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
    pub const SAN: &str = "2.5.29.17";
    pub const CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
    pub const AUTHORITY_INFO_ACCESS: &str = "1.3.6.1.5.5.7.1.1";
    pub const AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";
    pub const AD_CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";
    pub const SERIAL_NUMBER: &str = "2.5.4.5";
    pub const ORGANIZATION_IDENTIFIER: &str = "2.5.4.97";
    pub const COMMON_NAME: &str = "2.5.4.3";
}

fn attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.17" => "postalCode",
        "2.5.4.42" => "GN",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

fn eku_name(oid: &str) -> String {
    match oid {
        "1.3.6.1.5.5.7.3.1" => "serverAuth".into(),
        "1.3.6.1.5.5.7.3.2" => "clientAuth".into(),
        "1.3.6.1.5.5.7.3.3" => "codeSigning".into(),
        "1.3.6.1.5.5.7.3.4" => "emailProtection".into(),
        "1.3.6.1.5.5.7.3.8" => "timeStamping".into(),
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning".into(),
        "2.5.29.37.0" => "anyExtendedKeyUsage".into(),
        "1.3.6.1.4.1.311.10.3.12" => "documentSigning".into(),
        other => other.to_string(),
    }
}

/// Human name for a signature algorithm OID.
pub fn signature_algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".into(),
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption".into(),
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1".into(),
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224".into(),
        "1.2.840.10040.4.3" => "dsa-with-SHA1".into(),
        "2.16.840.1.101.3.4.3.1" => "dsa-with-SHA224".into(),
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256".into(),
        "1.3.101.113" => "Ed448".into(),
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".into(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.3.101.112" => "Ed25519".into(),
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption".into(),
        other => other.to_string(),
    }
}

/// Decode an ASN.1 character string value.
pub fn decode_string(t: &Tlv<'_>) -> (String, &'static str) {
    match t.tag {
        tag::UTF8_STRING => (
            String::from_utf8_lossy(t.content).into_owned(),
            "UTF8String",
        ),
        tag::PRINTABLE_STRING => (
            String::from_utf8_lossy(t.content).into_owned(),
            "PrintableString",
        ),
        tag::IA5_STRING => (String::from_utf8_lossy(t.content).into_owned(), "IA5String"),
        0x14 => (
            t.content.iter().map(|b| char::from(*b)).collect(),
            "TeletexString",
        ),
        tag::BMP_STRING => {
            let units: Vec<u16> = t
                .content
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            (String::from_utf16_lossy(&units), "BMPString")
        }
        0x1c => {
            let s = t
                .content
                .chunks(4)
                .filter_map(|c| {
                    let v = c.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b));
                    char::from_u32(v)
                })
                .collect();
            (s, "UniversalString")
        }
        _ => (hex(t.content), "other"),
    }
}

/// Lowercase hex without separators.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Uppercase hex with colons, the way keytool and openssl print fingerprints.
pub fn hex_colon(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub(crate) fn parse_name(t: &Tlv<'_>) -> asn1::Result<Name> {
    let seq = t.expect(tag::SEQUENCE, "a Name SEQUENCE")?;
    let mut attributes = Vec::new();
    let mut r = seq.reader();
    while !r.is_empty() {
        let set = r.expect(tag::SET, "a RelativeDistinguishedName SET")?;
        let mut sr = set.reader();
        while !sr.is_empty() {
            let atv = sr.expect(tag::SEQUENCE, "an AttributeTypeAndValue")?;
            let mut ar = atv.reader();
            let oid = ar.expect(tag::OID, "an attribute type")?.oid()?;
            let v = ar.read()?;
            let (value, st) = decode_string(&v);
            attributes.push(NameAttribute {
                name: attribute_name(&oid)
                    .map(str::to_owned)
                    .unwrap_or_else(|| oid.clone()),
                oid,
                value,
                string_type: st.to_string(),
            });
        }
    }
    Ok(Name {
        attributes,
        raw: t.raw.to_vec(),
    })
}

fn parse_time(t: &Tlv<'_>) -> asn1::Result<i64> {
    let s = std::str::from_utf8(t.content).map_err(|_| asn1::Asn1Error {
        offset: t.content_offset,
        expected: "an ASCII time".into(),
    })?;
    let bad = || asn1::Asn1Error {
        offset: t.content_offset,
        expected: format!("a time like YYMMDDHHMMSSZ, found {s:?}"),
    };
    let (year, rest) = match t.tag {
        0x17 => {
            let yy: i32 = s.get(0..2).and_then(|x| x.parse().ok()).ok_or_else(bad)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..))
        }
        0x18 => (
            s.get(0..4).and_then(|x| x.parse().ok()).ok_or_else(bad)?,
            s.get(4..),
        ),
        _ => return Err(bad()),
    };
    let rest = rest.ok_or_else(bad)?;
    let num = |r: std::ops::Range<usize>| -> asn1::Result<u8> {
        rest.get(r).and_then(|x| x.parse().ok()).ok_or_else(bad)
    };
    if !rest.ends_with('Z') || rest.len() < 11 {
        return Err(bad());
    }
    let month = time::Month::try_from(num(0..2)?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(year, month, num(2..4)?).map_err(|_| bad())?;
    let tod = time::Time::from_hms(num(4..6)?, num(6..8)?, num(8..10)?).map_err(|_| bad())?;
    Ok(date.with_time(tod).assume_utc().unix_timestamp())
}

/// The outer Certificate SEQUENCE: the TBSCertificate and its signature.
struct Signed<'a> {
    outer: Tlv<'a>,
    tbs: Tlv<'a>,
    sig_alg: String,
    sig_params: Option<Vec<u8>>,
    signature: Vec<u8>,
}

impl<'a> Signed<'a> {
    fn read(der: &'a [u8]) -> Result<Signed<'a>, CertError> {
        let outer = asn1::parse_single(der)
            .and_then(|t| t.expect(tag::SEQUENCE, "a Certificate SEQUENCE"))
            .map_err(at("the outer Certificate SEQUENCE"))?;
        let mut r = outer.reader();
        let tbs = r
            .expect(tag::SEQUENCE, "a TBSCertificate SEQUENCE")
            .map_err(at("the TBSCertificate"))?;
        let (sig_alg, sig_params) =
            key::read_algorithm(&mut r).map_err(at("the signature algorithm"))?;
        let signature = r
            .expect(tag::BIT_STRING, "the signature BIT STRING")
            .and_then(|t| t.bit_string())
            .map_err(at("the signature"))?
            .to_vec();
        r.finish("the certificate")
            .map_err(at("the end of the Certificate SEQUENCE"))?;
        Ok(Signed {
            outer,
            tbs,
            sig_alg,
            sig_params: sig_params.map(|p| p.raw.to_vec()),
            signature,
        })
    }
}

/// The TBSCertificate fields before the extensions.
struct TbsHead {
    version: u64,
    serial: Vec<u8>,
    issuer: Name,
    not_before: i64,
    not_after: i64,
    subject: Name,
    spki: Vec<u8>,
}

impl TbsHead {
    fn read(t: &mut Reader<'_>) -> Result<TbsHead, CertError> {
        let version = match t.optional(0xa0).map_err(at("the version"))? {
            Some(v) => asn1::parse_single(v.content)
                .and_then(|v| v.u64())
                .map_err(at("the version"))?,
            None => 0,
        };
        let serial = t
            .expect(tag::INTEGER, "the serial number")
            .map_err(at("the serial number"))?
            .content
            .to_vec();
        let _inner_sig =
            key::read_algorithm(t).map_err(at("the TBSCertificate signature algorithm"))?;
        let issuer = t
            .read()
            .and_then(|n| parse_name(&n))
            .map_err(at("the issuer name"))?;
        let validity = t
            .expect(tag::SEQUENCE, "the Validity SEQUENCE")
            .map_err(at("the validity"))?;
        let mut vr = validity.reader();
        let not_before = vr
            .read()
            .and_then(|v| parse_time(&v))
            .map_err(at("the validity (notBefore)"))?;
        let not_after = vr
            .read()
            .and_then(|v| parse_time(&v))
            .map_err(at("the validity (notAfter)"))?;
        let subject = t
            .read()
            .and_then(|n| parse_name(&n))
            .map_err(at("the subject name"))?;
        let spki_t = t
            .expect(tag::SEQUENCE, "the SubjectPublicKeyInfo")
            .map_err(at("the subject public key info"))?;
        let spki = asn1::to_der(&spki_t).map_err(at("the subject public key info"))?;
        Ok(TbsHead {
            version,
            serial,
            issuer,
            not_before,
            not_after,
            subject,
            spki,
        })
    }
}

impl Certificate {
    /// Parse one DER certificate. Trailing bytes after the certificate are
    /// an error; BER inside it and bytes after an extension's value are read
    /// and listed in [`Certificate::not_der`].
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        let signed = Signed::read(der)?;
        let mut t = signed.tbs.reader();
        let head = TbsHead::read(&mut t)?;
        let public_key = PublicKey::from_spki(&head.spki).map_err(|e| e.to_string());
        // A BER certificate is kept (and fingerprinted, as openssl does) in
        // its DER form; the signed TBSCertificate keeps its own bytes.
        let outer = &signed.outer;
        let kept = if outer.indefinite || asn1::is_ber(der) {
            asn1::to_der(outer).map_err(at("the certificate"))?
        } else {
            der.to_vec()
        };
        let mut cert = Certificate {
            der: kept,
            version: head.version + 1,
            serial: head.serial,
            signature_algorithm: signed.sig_alg,
            signature_params: signed.sig_params,
            issuer: head.issuer,
            subject: head.subject,
            not_before: head.not_before,
            not_after: head.not_after,
            spki: head.spki,
            public_key,
            key_usage: None,
            key_usage_critical: false,
            extended_key_usage: None,
            policies: Vec::new(),
            is_ca: None,
            path_len: None,
            subject_alt_names: Vec::new(),
            crl_urls: Vec::new(),
            ocsp_urls: Vec::new(),
            ca_issuers_urls: Vec::new(),
            tbs: signed.tbs.raw.to_vec(),
            signature: signed.signature,
            not_der: Vec::new(),
        };
        cert.read_extensions(&mut t)?;
        if let Some(why) = ber_in(der) {
            cert.not_der.insert(0, why);
        }
        Ok(cert)
    }

    /// What follows the subject public key info in the TBSCertificate: the
    /// `[3]` extensions (other fields are skipped).
    fn read_extensions(&mut self, t: &mut Reader<'_>) -> Result<(), CertError> {
        while !t.is_empty() {
            let x = t.read().map_err(at("the extensions"))?;
            if x.tag == 0xa3 {
                let exts = asn1::parse_single(x.content)
                    .and_then(|e| e.expect(tag::SEQUENCE, "Extensions"))
                    .map_err(at("the extensions"))?;
                let mut er = exts.reader();
                let mut n = 0usize;
                while !er.is_empty() {
                    n += 1;
                    let ext = er
                        .expect(tag::SEQUENCE, "an Extension")
                        .map_err(at(format!("extension {n}")))?;
                    self.read_extension(&ext, n)?;
                }
            }
        }
        Ok(())
    }

    /// The value inside an extension's OCTET STRING. Bytes after it are
    /// tolerated (openssl reads such certificates) and noted.
    fn extension_value<'a>(&mut self, value: &'a [u8], name: &str) -> Result<Tlv<'a>, CertError> {
        let place = || format!("extension {name}");
        let mut r = Reader::new(value);
        let t = r.read().map_err(at(place()))?;
        let extra = value.len() - t.raw.len();
        if extra > 0 {
            self.not_der.push(format!(
                "extension {name}: {extra} byte{} after the value",
                if extra == 1 { "" } else { "s" }
            ));
        }
        Ok(t)
    }

    fn read_extension(&mut self, ext: &Tlv<'_>, n: usize) -> Result<(), CertError> {
        let mut r = ext.reader();
        let oid = r
            .expect(tag::OID, "an extension OID")
            .and_then(|o| o.oid())
            .map_err(at(format!("extension {n}")))?;
        let name = extension_name(&oid);
        let place = || format!("extension {name}");
        let critical = match r.optional(tag::BOOLEAN).map_err(at(place()))? {
            Some(b) => b.content.first().is_some_and(|v| *v != 0),
            None => false,
        };
        let value = r
            .expect(tag::OCTET_STRING, "the extension value")
            .map_err(at(place()))?
            .content;
        let known = matches!(
            oid.as_str(),
            oid::KEY_USAGE
                | oid::EXT_KEY_USAGE
                | oid::POLICIES
                | oid::BASIC_CONSTRAINTS
                | oid::SAN
                | oid::CRL_DISTRIBUTION_POINTS
                | oid::AUTHORITY_INFO_ACCESS
        );
        if !known {
            return Ok(());
        }
        let v = self.extension_value(value, &name)?;
        self.read_extension_value(&oid, &v, critical)
            .map_err(at(place()))
    }

    fn read_extension_value(&mut self, oid: &str, v: &Tlv<'_>, critical: bool) -> asn1::Result<()> {
        match oid {
            oid::KEY_USAGE => {
                self.key_usage = Some(key_usage_names(v)?);
                self.key_usage_critical = critical;
            }
            oid::EXT_KEY_USAGE => self.extended_key_usage = Some(extended_key_usage(v)?),
            oid::POLICIES => self.policies.extend(policy_oids(v)?),
            oid::BASIC_CONSTRAINTS => {
                let seq = v.expect(tag::SEQUENCE, "BasicConstraints")?;
                let mut br = seq.reader();
                let ca = match br.optional(tag::BOOLEAN)? {
                    Some(b) => b.content.first().is_some_and(|v| *v != 0),
                    None => false,
                };
                self.is_ca = Some(ca);
                self.path_len = br.optional(tag::INTEGER)?.map(|n| n.u64()).transpose()?;
            }
            oid::SAN => self.subject_alt_names.extend(alt_names(v)?),
            oid::CRL_DISTRIBUTION_POINTS => self.crl_urls.extend(crl_distribution_urls(v)?),
            oid::AUTHORITY_INFO_ACCESS => {
                for (method, url) in access_urls(v)? {
                    match method.as_str() {
                        oid::AD_OCSP => self.ocsp_urls.push(url),
                        oid::AD_CA_ISSUERS => self.ca_issuers_urls.push(url),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    pub fn sha1(&self) -> Vec<u8> {
        Sha1::digest(&self.der).to_vec()
    }

    pub fn sha256(&self) -> Vec<u8> {
        Sha256::digest(&self.der).to_vec()
    }

    /// JOSE `x5t`: base64url SHA-1 of the DER.
    pub fn x5t(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.sha1())
    }

    /// JOSE `x5t#S256`: base64url SHA-256 of the DER.
    pub fn x5t_s256(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.sha256())
    }

    pub fn is_self_issued(&self) -> bool {
        self.subject.raw == self.issuer.raw
    }

    /// The Norwegian organisation number, and where it was found.
    pub fn org_number(&self) -> Option<(String, &'static str)> {
        org_number(&self.subject)
    }

    /// Serial as uppercase hex, as keytool prints it (no leading zeros).
    pub fn serial_hex(&self) -> String {
        let s = hex(&self.serial);
        let t = s.trim_start_matches('0');
        if t.is_empty() {
            "0".into()
        } else {
            t.to_string()
        }
    }

    pub fn has_key_usage(&self, name: &str) -> bool {
        self.key_usage
            .as_ref()
            .is_some_and(|k| k.iter().any(|n| n == name))
    }

    /// Validity relative to `now`.
    pub fn validity_at(&self, now: OffsetDateTime) -> Validity {
        let now = now.unix_timestamp();
        if now < self.not_before {
            Validity::NotYetValid {
                days: (self.not_before - now + 86_399) / 86_400,
            }
        } else if now > self.not_after {
            Validity::Expired {
                days: (now - self.not_after) / 86_400,
            }
        } else {
            Validity::Valid {
                days_left: (self.not_after - now) / 86_400,
            }
        }
    }
}

/// keyUsage: the names of the bits that are set.
fn key_usage_names(v: &Tlv<'_>) -> asn1::Result<Vec<String>> {
    let bytes = v.bit_string()?;
    let mut names = Vec::new();
    for (i, name) in KEY_USAGE_NAMES.iter().enumerate() {
        let byte = bytes.get(i / 8).copied().unwrap_or(0);
        if byte & (0x80 >> (i % 8)) != 0 {
            names.push((*name).to_string());
        }
    }
    Ok(names)
}

/// extKeyUsage: the purposes, by name where known.
fn extended_key_usage(v: &Tlv<'_>) -> asn1::Result<Vec<String>> {
    let seq = v.expect(tag::SEQUENCE, "ExtKeyUsageSyntax")?;
    let mut sr = seq.reader();
    let mut out = Vec::new();
    while !sr.is_empty() {
        out.push(eku_name(&sr.expect(tag::OID, "a key purpose OID")?.oid()?));
    }
    Ok(out)
}

/// certificatePolicies: the policy OIDs.
fn policy_oids(v: &Tlv<'_>) -> asn1::Result<Vec<String>> {
    let seq = v.expect(tag::SEQUENCE, "certificatePolicies")?;
    let mut sr = seq.reader();
    let mut out = Vec::new();
    while !sr.is_empty() {
        let pi = sr.expect(tag::SEQUENCE, "a PolicyInformation")?;
        let mut pr = pi.reader();
        out.push(pr.expect(tag::OID, "a policy OID")?.oid()?);
    }
    Ok(out)
}

/// subjectAltName: e-mail, DNS, URI and IP names, as openssl prints them.
fn alt_names(v: &Tlv<'_>) -> asn1::Result<Vec<String>> {
    let seq = v.expect(tag::SEQUENCE, "GeneralNames")?;
    let mut sr = seq.reader();
    let mut out = Vec::new();
    while !sr.is_empty() {
        let g = sr.read()?;
        let text = String::from_utf8_lossy(g.content);
        match g.tag {
            0x81 => out.push(format!("email:{text}")),
            0x82 => out.push(format!("DNS:{text}")),
            0x86 => out.push(format!("URI:{text}")),
            0x87 => out.push(format!("IP:{}", ip_text(g.content))),
            _ => {}
        }
    }
    Ok(out)
}

/// cRLDistributionPoints: the URIs of the full names (other names skipped).
/// SEQUENCE OF DistributionPoint { [0] { [0] fullName GeneralNames } ... }
fn crl_distribution_urls(v: &Tlv<'_>) -> asn1::Result<Vec<String>> {
    let seq = v.expect(tag::SEQUENCE, "CRLDistributionPoints")?;
    let mut sr = seq.reader();
    let mut out = Vec::new();
    while !sr.is_empty() {
        let dp = sr.expect(tag::SEQUENCE, "a DistributionPoint")?;
        let mut dr = dp.reader();
        let Some(name) = dr.optional(0xa0)? else {
            continue;
        };
        let mut nr = name.reader();
        if let Some(full) = nr.optional(0xa0)? {
            let mut fr = full.reader();
            while !fr.is_empty() {
                let g = fr.read()?;
                if g.tag == 0x86 {
                    out.push(String::from_utf8_lossy(g.content).into_owned());
                }
            }
        }
    }
    Ok(out)
}

/// authorityInfoAccess: (access method OID, URI) for each URI location.
fn access_urls(v: &Tlv<'_>) -> asn1::Result<Vec<(String, String)>> {
    let seq = v.expect(tag::SEQUENCE, "AuthorityInfoAccessSyntax")?;
    let mut sr = seq.reader();
    let mut out = Vec::new();
    while !sr.is_empty() {
        let ad = sr.expect(tag::SEQUENCE, "an AccessDescription")?;
        let mut ar = ad.reader();
        let method = ar.expect(tag::OID, "an access method")?.oid()?;
        let g = ar.read()?;
        if g.tag == 0x86 {
            out.push((method, String::from_utf8_lossy(g.content).into_owned()));
        }
    }
    Ok(out)
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]),
        16 => b
            .chunks(2)
            .map(|c| format!("{:x}", u16::from_be_bytes([c[0], c[1]])))
            .collect::<Vec<_>>()
            .join(":"),
        _ => hex(b),
    }
}

/// Validity state at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid { days_left: i64 },
    Expired { days: i64 },
    NotYetValid { days: i64 },
}

/// Find a Norwegian organisation number in a subject: `organizationIdentifier`
/// NTRNO-<9 digits>, a 9-digit `serialNumber`, or a CN that starts with 9 digits.
pub fn org_number(name: &Name) -> Option<(String, &'static str)> {
    let nine = crate::orgnr::is_nine_digits;
    if let Some(v) = name.get(oid::ORGANIZATION_IDENTIFIER)
        && let Some(n) = v.strip_prefix(crate::orgnr::NTRNO_PREFIX)
        && nine(n)
    {
        return Some((n.to_string(), "organizationIdentifier"));
    }
    if let Some(v) = name.get(oid::SERIAL_NUMBER)
        && nine(v)
    {
        return Some((v.to_string(), "serialNumber"));
    }
    if let Some(cn) = name.get(oid::COMMON_NAME)
        && let Some(prefix) = cn.get(0..9)
        && nine(prefix)
        && cn.as_bytes().get(9).is_none_or(|b| !b.is_ascii_digit())
    {
        return Some((prefix.to_string(), "CN"));
    }
    None
}

/// Verify that `cert` was signed by `issuer_key`: true only when the
/// signature was checked and is good (see [`check_signature`] for the
/// three answers).
pub fn verify_signature(cert: &Certificate, issuer_key: &PublicKey) -> bool {
    check_signature(cert, issuer_key).is_valid()
}

/// The name of an extension, for messages.
fn extension_name(oid: &str) -> String {
    match oid {
        oid::KEY_USAGE => "keyUsage".into(),
        oid::EXT_KEY_USAGE => "extendedKeyUsage".into(),
        oid::POLICIES => "certificatePolicies".into(),
        oid::BASIC_CONSTRAINTS => "basicConstraints".into(),
        oid::SAN => "subjectAltName".into(),
        oid::CRL_DISTRIBUTION_POINTS => "cRLDistributionPoints".into(),
        oid::AUTHORITY_INFO_ACCESS => "authorityInfoAccess".into(),
        other => other.into(),
    }
}

/// Where a certificate departs from DER in its encoding: indefinite or
/// non-minimal lengths, constructed strings, BOOLEANs other than 00/FF.
/// `None` for strict DER (as far as lengths and these forms go).
fn ber_in(der: &[u8]) -> Option<String> {
    fn walk(t: &Tlv<'_>, depth: usize) -> Option<&'static str> {
        if depth > 32 {
            return None;
        }
        if t.indefinite {
            return Some("an indefinite length");
        }
        let header = t.raw.len() - t.content.len();
        if header > 2 {
            // Long form: it must be needed, with no leading zero byte.
            let first = t.raw.get(2).copied().unwrap_or(0);
            if first == 0 || (header == 3 && t.content.len() < 0x80) {
                return Some("a length in more bytes than needed");
            }
        }
        if t.tag == tag::BOOLEAN && !matches!(t.content, [0x00] | [0xff]) {
            return Some("a BOOLEAN that is not 00 or FF");
        }
        // Constructed forms of string types (BIT/OCTET/UTF8/Printable/IA5...).
        if t.is_constructed()
            && matches!(t.tag & 0x1f, 0x03 | 0x04 | 0x0c | 0x13 | 0x14 | 0x16 | 0x1e)
            && t.tag & 0xc0 == 0
        {
            return Some("a constructed string");
        }
        if t.is_constructed() {
            let mut r = t.reader();
            while !r.is_empty() {
                let c = r.read().ok()?;
                if let Some(w) = walk(&c, depth + 1) {
                    return Some(w);
                }
            }
        }
        None
    }
    let t = asn1::parse_single(der).ok()?;
    walk(&t, 0).map(|w| format!("BER encoding: {w}"))
}

/// Split a run of concatenated DER certificates.
pub fn read_der_sequence(data: &[u8]) -> asn1::Result<Vec<Vec<u8>>> {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(r.read()?.raw.to_vec());
    }
    Ok(out)
}
