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
pub mod fixture_set;
pub mod keygen;
pub mod path;

/// A parse failure inside a certificate.
#[derive(Debug, thiserror::Error)]
#[error("malformed X.509 certificate: {0}")]
pub struct CertError(#[from] pub asn1::Asn1Error);

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
    pub tbs: Vec<u8>,
    pub signature: Vec<u8>,
}

pub mod oid {
    pub const KEY_USAGE: &str = "2.5.29.15";
    pub const EXT_KEY_USAGE: &str = "2.5.29.37";
    pub const POLICIES: &str = "2.5.29.32";
    pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
    pub const SAN: &str = "2.5.29.17";
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

impl Certificate {
    /// Parse one DER certificate. Trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertError> {
        let outer = asn1::parse_single(der)?.expect(tag::SEQUENCE, "a Certificate SEQUENCE")?;
        let mut r = outer.reader();
        let tbs = r.expect(tag::SEQUENCE, "a TBSCertificate SEQUENCE")?;
        let (sig_alg, _) = key::read_algorithm(&mut r)?;
        let signature = r
            .expect(tag::BIT_STRING, "the signature BIT STRING")?
            .bit_string()?;
        r.finish("the certificate")?;

        let mut t = tbs.reader();
        let version = match t.optional(0xa0)? {
            Some(v) => asn1::parse_single(v.content)?.u64()?,
            None => 0,
        };
        let serial = t
            .expect(tag::INTEGER, "the serial number")?
            .content
            .to_vec();
        let _inner_sig = key::read_algorithm(&mut t)?;
        let issuer = parse_name(&t.read()?)?;
        let validity = t.expect(tag::SEQUENCE, "the Validity SEQUENCE")?;
        let mut vr = validity.reader();
        let not_before = parse_time(&vr.read()?)?;
        let not_after = parse_time(&vr.read()?)?;
        let subject = parse_name(&t.read()?)?;
        let spki_t = t.expect(tag::SEQUENCE, "the SubjectPublicKeyInfo")?;
        let spki = spki_t.raw.to_vec();
        let public_key = PublicKey::from_spki(&spki).map_err(|e| e.to_string());
        let mut cert = Certificate {
            der: der.to_vec(),
            version: version + 1,
            serial,
            signature_algorithm: sig_alg,
            issuer,
            subject,
            not_before,
            not_after,
            spki,
            public_key,
            key_usage: None,
            key_usage_critical: false,
            extended_key_usage: None,
            policies: Vec::new(),
            is_ca: None,
            path_len: None,
            subject_alt_names: Vec::new(),
            tbs: tbs.raw.to_vec(),
            signature: signature.to_vec(),
        };
        while !t.is_empty() {
            let x = t.read()?;
            if x.tag == 0xa3 {
                let exts = asn1::parse_single(x.content)?.expect(tag::SEQUENCE, "Extensions")?;
                let mut er = exts.reader();
                while !er.is_empty() {
                    cert.read_extension(&er.expect(tag::SEQUENCE, "an Extension")?)?;
                }
            }
        }
        Ok(cert)
    }

    fn read_extension(&mut self, ext: &Tlv<'_>) -> asn1::Result<()> {
        let mut r = ext.reader();
        let oid = r.expect(tag::OID, "an extension OID")?.oid()?;
        let critical = match r.optional(tag::BOOLEAN)? {
            Some(b) => b.content.first().is_some_and(|v| *v != 0),
            None => false,
        };
        let value = r.expect(tag::OCTET_STRING, "the extension value")?.content;
        match oid.as_str() {
            oid::KEY_USAGE => {
                let bits = asn1::parse_single(value)?;
                let bytes = bits.bit_string()?;
                let mut names = Vec::new();
                for (i, name) in KEY_USAGE_NAMES.iter().enumerate() {
                    let byte = bytes.get(i / 8).copied().unwrap_or(0);
                    if byte & (0x80 >> (i % 8)) != 0 {
                        names.push((*name).to_string());
                    }
                }
                self.key_usage = Some(names);
                self.key_usage_critical = critical;
            }
            oid::EXT_KEY_USAGE => {
                let seq = asn1::parse_single(value)?.expect(tag::SEQUENCE, "ExtKeyUsageSyntax")?;
                let mut sr = seq.reader();
                let mut v = Vec::new();
                while !sr.is_empty() {
                    v.push(eku_name(&sr.expect(tag::OID, "a key purpose OID")?.oid()?));
                }
                self.extended_key_usage = Some(v);
            }
            oid::POLICIES => {
                let seq =
                    asn1::parse_single(value)?.expect(tag::SEQUENCE, "certificatePolicies")?;
                let mut sr = seq.reader();
                while !sr.is_empty() {
                    let pi = sr.expect(tag::SEQUENCE, "a PolicyInformation")?;
                    let mut pr = pi.reader();
                    self.policies
                        .push(pr.expect(tag::OID, "a policy OID")?.oid()?);
                }
            }
            oid::BASIC_CONSTRAINTS => {
                let seq = asn1::parse_single(value)?.expect(tag::SEQUENCE, "BasicConstraints")?;
                let mut br = seq.reader();
                let ca = match br.optional(tag::BOOLEAN)? {
                    Some(b) => b.content.first().is_some_and(|v| *v != 0),
                    None => false,
                };
                self.is_ca = Some(ca);
                self.path_len = br.optional(tag::INTEGER)?.map(|n| n.u64()).transpose()?;
            }
            oid::SAN => {
                let seq = asn1::parse_single(value)?.expect(tag::SEQUENCE, "GeneralNames")?;
                let mut sr = seq.reader();
                while !sr.is_empty() {
                    let g = sr.read()?;
                    let text = String::from_utf8_lossy(g.content);
                    match g.tag {
                        0x81 => self.subject_alt_names.push(format!("email:{text}")),
                        0x82 => self.subject_alt_names.push(format!("DNS:{text}")),
                        0x86 => self.subject_alt_names.push(format!("URI:{text}")),
                        0x87 => self
                            .subject_alt_names
                            .push(format!("IP:{}", ip_text(g.content))),
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
    let nine = |s: &str| s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(v) = name.get(oid::ORGANIZATION_IDENTIFIER)
        && let Some(n) = v.strip_prefix("NTRNO-")
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

/// Verify that `cert` was signed by `issuer_key`.
pub fn verify_signature(cert: &Certificate, issuer_key: &PublicKey) -> bool {
    use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
    let alg: &'static dyn VerificationAlgorithm =
        match (cert.signature_algorithm.as_str(), issuer_key) {
            ("1.2.840.113549.1.1.11", PublicKey::Rsa { .. }) => &sig::RSA_PKCS1_2048_8192_SHA256,
            ("1.2.840.113549.1.1.12", PublicKey::Rsa { .. }) => &sig::RSA_PKCS1_2048_8192_SHA384,
            ("1.2.840.113549.1.1.13", PublicKey::Rsa { .. }) => &sig::RSA_PKCS1_2048_8192_SHA512,
            ("1.2.840.113549.1.1.5", PublicKey::Rsa { .. }) => {
                &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            (
                "1.2.840.10045.4.3.2",
                PublicKey::Ec {
                    curve: key::Curve::P256,
                    ..
                },
            ) => &sig::ECDSA_P256_SHA256_ASN1,
            (
                "1.2.840.10045.4.3.3",
                PublicKey::Ec {
                    curve: key::Curve::P256,
                    ..
                },
            ) => &sig::ECDSA_P256_SHA384_ASN1,
            (
                "1.2.840.10045.4.3.2",
                PublicKey::Ec {
                    curve: key::Curve::P384,
                    ..
                },
            ) => &sig::ECDSA_P384_SHA256_ASN1,
            (
                "1.2.840.10045.4.3.3",
                PublicKey::Ec {
                    curve: key::Curve::P384,
                    ..
                },
            ) => &sig::ECDSA_P384_SHA384_ASN1,
            (
                "1.2.840.10045.4.3.4",
                PublicKey::Ec {
                    curve: key::Curve::P521,
                    ..
                },
            ) => &sig::ECDSA_P521_SHA512_ASN1,
            ("1.3.101.112", PublicKey::Ed25519 { .. }) => &sig::ED25519,
            _ => return false,
        };
    let key_bytes = match issuer_key {
        PublicKey::Rsa { n, e } => asn1::encode(
            tag::SEQUENCE,
            &[key::encode_uint(n), key::encode_uint(e)].concat(),
        ),
        PublicKey::Ec { point, .. } => point.clone(),
        PublicKey::Ed25519 { key } => key.clone(),
        PublicKey::Other { .. } => return false,
    };
    UnparsedPublicKey::new(alg, key_bytes)
        .verify(&cert.tbs, &cert.signature)
        .is_ok()
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
