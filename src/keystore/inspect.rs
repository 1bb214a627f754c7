//! The `inspect` report: everything credkit can say about a store, as a
//! stable, serializable structure (schema `credkit.inspect/1`).

use super::model::{EntryKind, Format, Pkcs12Protection, Store};
use crate::cert::{self, Certificate, NameAttribute, Validity, chain::ChainReport};
use crate::key::KeyDescription;
use crate::timefmt::rfc3339;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) const SCHEMA: &str = "credkit.inspect/1";

#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub(crate) schema: &'static str,
    pub(crate) file: String,
    /// `pkcs12`, `jks`, `jceks`, `pem`, `der`, `jwk`, `jwks` or `pkcs7` (a
    /// PKCS#7 certificate bundle, DER, BER or PEM).
    pub(crate) format: Format,
    /// The moment validity was judged against.
    pub(crate) now: String,
    /// Store integrity (MAC or JKS digest): true, false, or null when absent/unchecked.
    pub(crate) integrity_verified: Option<bool>,
    pub(crate) pkcs12: Option<Pkcs12Protection>,
    /// JKS/JCEKS file version.
    pub(crate) version: Option<u32>,
    pub(crate) notes: Vec<crate::diagnostics::findings::Text>,
    pub(crate) entries: Vec<EntryReport>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct EntryReport {
    pub(crate) alias: Option<String>,
    pub(crate) kind: EntryKind,
    /// JKS/JCEKS creation date.
    pub(crate) created: Option<String>,
    pub(crate) kid: Option<String>,
    pub(crate) key: Option<KeyReport>,
    /// Does the private (or JWK public) key belong to the leaf certificate?
    /// null when there is no key or no certificate.
    pub(crate) key_matches_certificate: Option<bool>,
    pub(crate) secret_algorithm: Option<String>,
    pub(crate) chain: Option<ChainReport>,
    pub(crate) certificates: Vec<CertReport>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct KeyReport {
    #[serde(flatten)]
    pub(crate) description: KeyDescription,
    /// The key holds private parameters.
    pub(crate) private: bool,
    /// A private key is present but was not decrypted.
    pub(crate) locked: bool,
    /// RFC 7638 SHA-256 thumbprint.
    pub(crate) jwk_thumbprint: Option<String>,
    /// How the key is protected in the file.
    pub(crate) protection: Option<String>,
    /// Why credkit cannot sign with a key of this type (DSA, Ed448, X25519,
    /// X448, secp256k1, unknown curves); null when it can.
    pub(crate) cannot_sign: Option<String>,
    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (what
    /// `openssl pkey -pubout -outform DER | sha256sum` prints); null when the
    /// public key is not known (an Ed448 or X448 private key without it).
    pub(crate) public_key_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ValidityReport {
    /// `valid`, `expired` or `not_yet_valid`.
    pub(crate) status: &'static str,
    /// Days left (valid), days since expiry (expired), or days until valid.
    pub(crate) days: i64,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct OrgNumber {
    pub(crate) value: String,
    /// `organizationIdentifier`, `serialNumber` or `CN`.
    pub(crate) source: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fingerprints {
    pub(crate) sha1: String,
    pub(crate) sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CertReport {
    pub(crate) subject: String,
    pub(crate) subject_attributes: Vec<NameAttribute>,
    pub(crate) issuer: String,
    /// Serial number, lowercase hex.
    pub(crate) serial: String,
    pub(crate) version: u64,
    pub(crate) signature_algorithm: String,
    pub(crate) not_before: String,
    pub(crate) not_after: String,
    pub(crate) validity: ValidityReport,
    /// null when the certificate has no keyUsage extension.
    pub(crate) key_usage: Option<Vec<String>>,
    pub(crate) key_usage_critical: bool,
    pub(crate) extended_key_usage: Option<Vec<String>>,
    pub(crate) policies: Vec<String>,
    pub(crate) is_ca: Option<bool>,
    /// Self-issued and its own signature verifies.
    pub(crate) self_signed: bool,
    /// For a self-issued certificate: `valid`, `invalid`, or `not checked:
    /// algorithm X` when credkit cannot check that algorithm; null when the
    /// certificate is not self-issued.
    pub(crate) self_signature: Option<String>,
    /// Why the certificate is not strict DER (it was read leniently, as
    /// openssl reads it); empty for DER.
    pub(crate) not_der: Vec<String>,
    pub(crate) subject_alt_names: Vec<String>,
    /// cRLDistributionPoints URIs (where the issuer's CRL is).
    pub(crate) crl_urls: Vec<String>,
    /// authorityInfoAccess OCSP responder URIs.
    pub(crate) ocsp_urls: Vec<String>,
    /// authorityInfoAccess caIssuers URIs (where the issuer's certificate is).
    pub(crate) ca_issuers_urls: Vec<String>,
    pub(crate) org_number: Option<OrgNumber>,
    pub(crate) public_key: Option<KeyDescription>,
    pub(crate) jwk_thumbprint: Option<String>,
    pub(crate) fingerprints: Fingerprints,
    pub(crate) x5t: String,
    #[serde(rename = "x5t#S256")]
    pub(crate) x5t_s256: String,
}

pub(crate) fn cert_report(c: &Certificate, now: OffsetDateTime) -> CertReport {
    let validity = match c.validity_at(now) {
        Validity::Valid { days_left } => ValidityReport {
            status: "valid",
            days: days_left,
        },
        Validity::Expired { days } => ValidityReport {
            status: "expired",
            days,
        },
        Validity::NotYetValid { days } => ValidityReport {
            status: "not_yet_valid",
            days,
        },
    };
    let pk = c.public_key.as_ref().ok();
    let self_check = c.is_self_issued().then(|| match pk {
        Some(k) => cert::check_signature(c, k),
        None => cert::SignatureCheck::Unsupported(format!(
            "{} (the public key cannot be read)",
            cert::signature_algorithm_name(&c.signature_algorithm)
        )),
    });
    CertReport {
        subject: c.subject.to_display(),
        subject_attributes: c.subject.attributes.clone(),
        issuer: c.issuer.to_display(),
        serial: cert::hex(&c.serial),
        version: c.version,
        signature_algorithm: cert::signature_algorithm_name(&c.signature_algorithm),
        not_before: rfc3339(c.not_before),
        not_after: rfc3339(c.not_after),
        validity,
        key_usage: c.key_usage.clone(),
        key_usage_critical: c.key_usage_critical,
        extended_key_usage: c.extended_key_usage.clone(),
        policies: c.policies.clone(),
        is_ca: c.is_ca,
        self_signed: self_check.as_ref().is_some_and(|s| s.is_valid()),
        self_signature: self_check.map(|s| match s {
            cert::SignatureCheck::Valid => "valid".to_string(),
            cert::SignatureCheck::Invalid => "invalid".to_string(),
            cert::SignatureCheck::Unsupported(alg) => format!("not checked: algorithm {alg}"),
        }),
        not_der: c.not_der.clone(),
        subject_alt_names: c.subject_alt_names.clone(),
        crl_urls: c.crl_urls.clone(),
        ocsp_urls: c.ocsp_urls.clone(),
        ca_issuers_urls: c.ca_issuers_urls.clone(),
        org_number: c
            .org_number()
            .map(|(value, source)| OrgNumber { value, source }),
        public_key: pk.map(|k| k.describe()),
        jwk_thumbprint: pk.and_then(|k| k.jwk_thumbprint()),
        fingerprints: Fingerprints {
            sha1: cert::hex_colon(&c.sha1()),
            sha256: cert::hex_colon(&c.sha256()),
        },
        x5t: c.x5t(),
        x5t_s256: c.x5t_s256(),
    }
}

fn spki_sha256(k: &crate::key::PublicKey) -> Option<String> {
    k.to_spki().map(|d| cert::hex(&crate::key::sha256(&d)))
}

/// Build the report for a loaded store.
pub fn report(store: &Store, file: &str, now: OffsetDateTime) -> InspectReport {
    let entries = store
        .entries
        .iter()
        .map(|e| {
            let key = if let Some(k) = &e.private_key {
                Some(KeyReport {
                    description: k.describe(),
                    private: true,
                    locked: false,
                    jwk_thumbprint: k.public.jwk_thumbprint(),
                    protection: e.key_protection.clone(),
                    cannot_sign: k.public.cannot_sign_reason(),
                    public_key_sha256: spki_sha256(&k.public),
                })
            } else if let Some(p) = &e.public_key {
                Some(KeyReport {
                    description: p.describe(),
                    private: false,
                    locked: false,
                    jwk_thumbprint: p.jwk_thumbprint(),
                    protection: None,
                    cannot_sign: p.cannot_sign_reason(),
                    public_key_sha256: spki_sha256(p),
                })
            } else if e.key_locked {
                let d = e.chain.first().and_then(|c| c.public_key.as_ref().ok());
                Some(KeyReport {
                    description: d.map(|p| p.describe()).unwrap_or(KeyDescription {
                        algorithm: "unknown".into(),
                        bits: None,
                        curve: None,
                    }),
                    private: true,
                    locked: true,
                    jwk_thumbprint: d.and_then(|p| p.jwk_thumbprint()),
                    protection: e.key_protection.clone(),
                    cannot_sign: d.and_then(|p| p.cannot_sign_reason()),
                    public_key_sha256: d.and_then(spki_sha256),
                })
            } else {
                None
            };
            let leaf_key = e.chain.first().and_then(|c| c.public_key.as_ref().ok());
            let own = e
                .private_key
                .as_ref()
                .map(|k| &k.public)
                .or(e.public_key.as_ref());
            let key_matches_certificate = match (own, leaf_key) {
                (Some(a), Some(b)) => Some(a == b),
                _ => None,
            };
            EntryReport {
                alias: e.alias.clone(),
                kind: e.kind,
                created: e.created_ms.map(|ms| rfc3339(ms.div_euclid(1000))),
                kid: e.kid.clone(),
                key,
                key_matches_certificate,
                secret_algorithm: e.secret_algorithm.clone(),
                chain: (!e.chain.is_empty()).then(|| cert::chain::analyse(&e.chain)),
                certificates: e.chain.iter().map(|c| cert_report(c, now)).collect(),
            }
        })
        .collect();
    InspectReport {
        schema: SCHEMA,
        file: file.to_string(),
        format: store.format,
        now: now.format(&Rfc3339).unwrap_or_default(),
        integrity_verified: store.integrity_verified,
        pkcs12: store.pkcs12.clone(),
        version: store.version,
        notes: store.notes.clone(),
        entries,
    }
}
