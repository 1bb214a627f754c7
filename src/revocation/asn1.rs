//! The revocation data structures, both ways (decode and encode), shared by
//! the client (`check --revocation`) and the test CA's responder:
//!
//! - OCSP (RFC 6960 §4.1, §4.2): [`OcspRequest`] with its [`CertId`]s and the
//!   nonce extension (RFC 8954), [`OcspResponse`] carrying a
//!   [`BasicOcspResponse`] whose [`SingleResponse`]s say good, revoked (time
//!   and reason) or unknown;
//! - CRLs (RFC 5280 §5): `x509-cert`'s [`CertificateList`], re-exported here
//!   with the few helpers both sides need (revoked entries, reason codes).
//!
//! Types are DER through the `der` crate; the X.509 building blocks
//! (algorithm identifiers, names, extensions, serial numbers, certificates)
//! are `x509-cert`'s. Signatures are checked and made elsewhere: here are only
//! the bytes that are signed ([`tbs_bytes`]).

use der::asn1::{BitString, GeneralizedTime, Null, ObjectIdentifier, OctetString};
use der::{Choice, Decode, Encode, Enumerated, Sequence};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

pub use x509_cert::Certificate as X509Certificate;
pub use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
pub use x509_cert::ext::Extensions;
pub use x509_cert::ext::pkix::CrlReason;
pub use x509_cert::time::Time;

/// Object identifiers used by OCSP and CRLs.
pub mod oid {
    use der::asn1::ObjectIdentifier;
    /// id-pkix-ocsp-basic: the only response type credkit reads and writes.
    pub const OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
    /// id-pkix-ocsp-nonce.
    pub const OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
    /// id-pkix-ocsp-nocheck (a delegated responder's certificate is not itself checked).
    pub const OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
    /// id-kp-OCSPSigning: the extended key usage of a delegated responder.
    pub const KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
    /// id-ad-ocsp (an AIA access method).
    pub const AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
    /// id-ad-caIssuers (an AIA access method).
    pub const AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
    /// authorityInfoAccess.
    pub const AIA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
    /// cRLDistributionPoints.
    pub const CDP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
    /// extKeyUsage.
    pub const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
    /// cRLReason (a CRL entry extension).
    pub const CRL_REASON: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
    /// cRLNumber (a CRL extension).
    pub const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
    /// SHA-1 (the CertID hash every responder understands).
    pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    /// SHA-256.
    pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
}

/// OCSP's Version (only v1 exists).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enumerated)]
#[asn1(type = "INTEGER")]
#[repr(u8)]
pub enum OcspVersion {
    #[default]
    V1 = 0,
}

/// `CertID`: which certificate a request or answer is about, by its
/// issuer's name and key hashes and its serial number.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CertId {
    pub hash_algorithm: AlgorithmIdentifierOwned,
    pub issuer_name_hash: OctetString,
    pub issuer_key_hash: OctetString,
    pub serial_number: SerialNumber,
}

/// The CertID hash algorithms credkit computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertIdHash {
    Sha1,
    Sha256,
}

impl CertIdHash {
    fn oid(self) -> ObjectIdentifier {
        match self {
            CertIdHash::Sha1 => oid::SHA1,
            CertIdHash::Sha256 => oid::SHA256,
        }
    }
    fn from_oid(o: &ObjectIdentifier) -> Option<CertIdHash> {
        if *o == oid::SHA1 {
            Some(CertIdHash::Sha1)
        } else if *o == oid::SHA256 {
            Some(CertIdHash::Sha256)
        } else {
            None
        }
    }
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            CertIdHash::Sha1 => Sha1::digest(data).to_vec(),
            CertIdHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }
}

/// The bits of a SubjectPublicKeyInfo's subjectPublicKey (what the CertID's
/// key hash and the byKey responder id hash).
pub fn public_key_bits(spki_der: &[u8]) -> der::Result<Vec<u8>> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)?;
    Ok(spki.subject_public_key.raw_bytes().to_vec())
}

/// SHA-1 of the subjectPublicKey bits: a `ResponderID` byKey.
pub fn key_hash(spki_der: &[u8]) -> der::Result<Vec<u8>> {
    Ok(Sha1::digest(public_key_bits(spki_der)?).to_vec())
}

impl CertId {
    /// The CertID of the certificate with serial `serial` (the INTEGER's
    /// content bytes, as in a certificate) issued by the CA whose subject
    /// name is `issuer_name_der` and key `issuer_spki_der`.
    pub fn new(
        hash: CertIdHash,
        issuer_name_der: &[u8],
        issuer_spki_der: &[u8],
        serial: &[u8],
    ) -> der::Result<CertId> {
        let key = public_key_bits(issuer_spki_der)?;
        Ok(CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: hash.oid(),
                // SHA-1 with NULL parameters, as openssl writes and every responder reads.
                parameters: Some(Null.into()),
            },
            issuer_name_hash: OctetString::new(hash.digest(issuer_name_der))?,
            issuer_key_hash: OctetString::new(hash.digest(&key))?,
            serial_number: serial_from_content(serial)?,
        })
    }

    /// Is this the CertID of that certificate (whatever hash it uses among
    /// SHA-1 and SHA-256)? False for hashes credkit does not compute.
    pub fn matches(&self, issuer_name_der: &[u8], issuer_spki_der: &[u8], serial: &[u8]) -> bool {
        let Some(hash) = CertIdHash::from_oid(&self.hash_algorithm.oid) else {
            return false;
        };
        match CertId::new(hash, issuer_name_der, issuer_spki_der, serial) {
            Ok(mine) => {
                mine.issuer_name_hash == self.issuer_name_hash
                    && mine.issuer_key_hash == self.issuer_key_hash
                    && mine.serial_number == self.serial_number
            }
            Err(_) => false,
        }
    }
}

/// A serial number from the content bytes of its INTEGER (two's complement,
/// as stored in a certificate).
pub fn serial_from_content(content: &[u8]) -> der::Result<SerialNumber> {
    let tlv = der::asn1::Int::new(content)?.to_der()?;
    SerialNumber::from_der(&tlv)
}

/// `Request`: one certificate asked about.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Request {
    pub req_cert: CertId,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub single_request_extensions: Option<Extensions>,
}

/// `Signature` of a signed request (credkit never signs requests, but reads them).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RequestSignature {
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: BitString,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub certs: Option<Vec<X509Certificate>>,
}

/// `TBSRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TbsRequest {
    #[asn1(
        context_specific = "0",
        default = "Default::default",
        tag_mode = "EXPLICIT"
    )]
    pub version: OcspVersion,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "EXPLICIT")]
    pub requestor_name: Option<GeneralName>,
    pub request_list: Vec<Request>,
    #[asn1(context_specific = "2", optional = "true", tag_mode = "EXPLICIT")]
    pub request_extensions: Option<Extensions>,
}

/// `OCSPRequest`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct OcspRequest {
    pub tbs_request: TbsRequest,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub optional_signature: Option<RequestSignature>,
}

impl OcspRequest {
    /// An unsigned request for these certificates, with a nonce when given.
    pub fn new(certs: Vec<CertId>, nonce: Option<&[u8]>) -> der::Result<OcspRequest> {
        let request_extensions = match nonce {
            Some(n) => Some(vec![nonce_extension(n)?]),
            None => None,
        };
        Ok(OcspRequest {
            tbs_request: TbsRequest {
                version: OcspVersion::V1,
                requestor_name: None,
                request_list: certs
                    .into_iter()
                    .map(|req_cert| Request {
                        req_cert,
                        single_request_extensions: None,
                    })
                    .collect(),
                request_extensions,
            },
            optional_signature: None,
        })
    }

    /// The request's nonce, if it has one.
    pub fn nonce(&self) -> Option<Vec<u8>> {
        find_nonce(self.tbs_request.request_extensions.as_deref())
    }
}

/// The nonce extension (RFC 8954: the value is an OCTET STRING holding the
/// nonce, as openssl writes it).
pub fn nonce_extension(nonce: &[u8]) -> der::Result<Extension> {
    Ok(Extension {
        extn_id: oid::OCSP_NONCE,
        critical: false,
        extn_value: OctetString::new(OctetString::new(nonce)?.to_der()?)?,
    })
}

/// The nonce in a list of extensions. An extension value that is not an
/// OCTET STRING (some old responders put the bare bytes) is taken as it is.
pub fn find_nonce(exts: Option<&[Extension]>) -> Option<Vec<u8>> {
    let e = exts?.iter().find(|e| e.extn_id == oid::OCSP_NONCE)?;
    let raw = e.extn_value.as_bytes();
    Some(match OctetString::from_der(raw) {
        Ok(inner) => inner.as_bytes().to_vec(),
        Err(_) => raw.to_vec(),
    })
}

/// `OCSPResponseStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enumerated)]
#[repr(u8)]
pub enum OcspResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

impl OcspResponseStatus {
    /// The RFC's name for it.
    pub fn name(self) -> &'static str {
        match self {
            OcspResponseStatus::Successful => "successful",
            OcspResponseStatus::MalformedRequest => "malformedRequest",
            OcspResponseStatus::InternalError => "internalError",
            OcspResponseStatus::TryLater => "tryLater",
            OcspResponseStatus::SigRequired => "sigRequired",
            OcspResponseStatus::Unauthorized => "unauthorized",
        }
    }
}

/// `ResponseBytes`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ResponseBytes {
    pub response_type: ObjectIdentifier,
    pub response: OctetString,
}

/// `OCSPResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct OcspResponse {
    pub response_status: OcspResponseStatus,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub response_bytes: Option<ResponseBytes>,
}

impl OcspResponse {
    /// A successful response carrying this basic response (DER).
    pub fn successful(basic_der: Vec<u8>) -> der::Result<OcspResponse> {
        Ok(OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: oid::OCSP_BASIC,
                response: OctetString::new(basic_der)?,
            }),
        })
    }

    /// An error response (no response bytes).
    pub fn error(status: OcspResponseStatus) -> OcspResponse {
        OcspResponse {
            response_status: status,
            response_bytes: None,
        }
    }
}

/// `ResponderID`.
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum ResponderId {
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(Name),
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

/// `RevokedInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RevokedInfo {
    pub revocation_time: GeneralizedTime,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub revocation_reason: Option<CrlReason>,
}

/// `CertStatus`.
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum CertStatus {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

/// `SingleResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SingleResponse {
    pub cert_id: CertId,
    pub cert_status: CertStatus,
    pub this_update: GeneralizedTime,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub next_update: Option<GeneralizedTime>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "EXPLICIT")]
    pub single_extensions: Option<Extensions>,
}

/// `ResponseData`: what the responder signs.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ResponseData {
    #[asn1(
        context_specific = "0",
        default = "Default::default",
        tag_mode = "EXPLICIT"
    )]
    pub version: OcspVersion,
    pub responder_id: ResponderId,
    pub produced_at: GeneralizedTime,
    pub responses: Vec<SingleResponse>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "EXPLICIT")]
    pub response_extensions: Option<Extensions>,
}

impl ResponseData {
    /// The response's nonce, if it has one.
    pub fn nonce(&self) -> Option<Vec<u8>> {
        find_nonce(self.response_extensions.as_deref())
    }
}

/// `BasicOCSPResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct BasicOcspResponse {
    pub tbs_response_data: ResponseData,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    pub signature: BitString,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    pub certs: Option<Vec<X509Certificate>>,
}

/// Why an OCSP answer could not be read as a basic response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OcspDecodeError {
    /// Not DER of an OCSPResponse (or of a BasicOCSPResponse inside it).
    #[error("not an OCSP response: {0}")]
    Malformed(String),
    /// The responder answered with an error status.
    #[error("the responder answered {}", .0.name())]
    Status(OcspResponseStatus),
    /// A response type other than id-pkix-ocsp-basic.
    #[error("the response type {0} is not the basic OCSP response")]
    UnknownType(String),
    /// A successful status without response bytes.
    #[error("the response says successful but carries no response")]
    Empty,
}

/// A decoded OCSP answer: the basic response and the exact bytes its
/// signature covers.
#[derive(Clone, Debug)]
pub struct DecodedOcsp {
    pub basic: BasicOcspResponse,
    /// The DER of `tbsResponseData` as it came (the signed bytes).
    pub tbs: Vec<u8>,
}

/// Decode an HTTP body as an `OCSPResponse` holding a basic response.
pub fn decode_ocsp_response(body: &[u8]) -> Result<DecodedOcsp, OcspDecodeError> {
    let resp =
        OcspResponse::from_der(body).map_err(|e| OcspDecodeError::Malformed(e.to_string()))?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(OcspDecodeError::Status(resp.response_status));
    }
    let bytes = resp.response_bytes.ok_or(OcspDecodeError::Empty)?;
    if bytes.response_type != oid::OCSP_BASIC {
        return Err(OcspDecodeError::UnknownType(
            bytes.response_type.to_string(),
        ));
    }
    let der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(der)
        .map_err(|e| OcspDecodeError::Malformed(format!("the basic response: {e}")))?;
    let tbs = tbs_bytes(der).map_err(|e| OcspDecodeError::Malformed(e.to_string()))?;
    Ok(DecodedOcsp { basic, tbs })
}

/// The first element of a signed SEQUENCE (a BasicOCSPResponse's
/// tbsResponseData, a CertificateList's tbsCertList), byte for byte as it came.
pub fn tbs_bytes(signed_der: &[u8]) -> Result<Vec<u8>, crate::asn1::Asn1Error> {
    let outer = crate::asn1::parse_single(signed_der)?
        .expect(crate::asn1::tag::SEQUENCE, "a signed SEQUENCE")?;
    Ok(outer.reader().read()?.raw.to_vec())
}

/// A CRL entry's reason code (the cRLReason entry extension), if it has one.
pub fn entry_reason(entry: &RevokedCert) -> Option<CrlReason> {
    let e = entry
        .crl_entry_extensions
        .as_deref()?
        .iter()
        .find(|e| e.extn_id == oid::CRL_REASON)?;
    CrlReason::from_der(e.extn_value.as_bytes()).ok()
}

/// The cRLReason entry extension for `reason`.
pub fn reason_extension(reason: CrlReason) -> der::Result<Extension> {
    Ok(Extension {
        extn_id: oid::CRL_REASON,
        critical: false,
        extn_value: OctetString::new(reason.to_der()?)?,
    })
}

/// The RFC 5280 name of a reason code (`keyCompromise`, ...).
pub fn reason_name(r: CrlReason) -> &'static str {
    match r {
        CrlReason::Unspecified => "unspecified",
        CrlReason::KeyCompromise => "keyCompromise",
        CrlReason::CaCompromise => "cACompromise",
        CrlReason::AffiliationChanged => "affiliationChanged",
        CrlReason::Superseded => "superseded",
        CrlReason::CessationOfOperation => "cessationOfOperation",
        CrlReason::CertificateHold => "certificateHold",
        CrlReason::RemoveFromCRL => "removeFromCRL",
        CrlReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        CrlReason::AaCompromise => "aACompromise",
    }
}

/// A reason code by its RFC 5280 name (case-insensitive), for lists users edit.
pub fn reason_from_name(name: &str) -> Option<CrlReason> {
    const ALL: [CrlReason; 10] = [
        CrlReason::Unspecified,
        CrlReason::KeyCompromise,
        CrlReason::CaCompromise,
        CrlReason::AffiliationChanged,
        CrlReason::Superseded,
        CrlReason::CessationOfOperation,
        CrlReason::CertificateHold,
        CrlReason::RemoveFromCRL,
        CrlReason::PrivilegeWithdrawn,
        CrlReason::AaCompromise,
    ];
    ALL.into_iter()
        .find(|r| reason_name(*r).eq_ignore_ascii_case(name))
}

/// Unix seconds of a GeneralizedTime.
pub fn unix(t: &GeneralizedTime) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Unix seconds of an X.509 Time (UTCTime or GeneralizedTime).
pub fn unix_time(t: &Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// A GeneralizedTime at `unix` seconds (whole seconds, as DER requires).
pub fn generalized_time(unix: i64) -> der::Result<GeneralizedTime> {
    let secs = u64::try_from(unix).map_err(|_| der::ErrorKind::DateTime)?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
}

/// Where a certificate says its revocation data is: the OCSP responders and
/// CA issuers of its authorityInfoAccess, the URLs of its CRL distribution
/// points. Only URI names are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RevocationUrls {
    pub ocsp: Vec<String>,
    pub ca_issuers: Vec<String>,
    pub crl: Vec<String>,
}

/// Read a certificate's extensions with the `x509-cert` decoder.
fn extensions(cert_der: &[u8]) -> der::Result<Vec<Extension>> {
    let c = X509Certificate::from_der(cert_der)?;
    Ok(c.tbs_certificate()
        .extensions()
        .cloned()
        .unwrap_or_default())
}

/// The revocation URLs a certificate names, as the certificate parser read
/// them (`Certificate::crl_urls`, `ocsp_urls`, `ca_issuers_urls`).
pub fn revocation_urls(cert: &crate::cert::Certificate) -> RevocationUrls {
    RevocationUrls {
        ocsp: cert.ocsp_urls.clone(),
        ca_issuers: cert.ca_issuers_urls.clone(),
        crl: cert.crl_urls.clone(),
    }
}

/// Does the certificate's extended key usage include id-kp-OCSPSigning?
pub fn has_ocsp_signing(cert_der: &[u8]) -> bool {
    extensions(cert_der).is_ok_and(|exts| {
        exts.iter().any(|e| {
            e.extn_id == oid::EXT_KEY_USAGE
                && ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                    .is_ok_and(|eku| eku.0.contains(&oid::KP_OCSP_SIGNING))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/revocation")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn pem_der(pem: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(pem);
        let b64: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("");
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .expect("base64")
    }

    #[test]
    fn request_round_trip_with_nonce() {
        let ca = pem_der(&fixture("ca.pem"));
        let leaf = pem_der(&fixture("good.pem"));
        let ca = crate::cert::Certificate::from_der(&ca).expect("ca");
        let leaf = crate::cert::Certificate::from_der(&leaf).expect("leaf");
        let id =
            CertId::new(CertIdHash::Sha1, &ca.subject.raw, &ca.spki, &leaf.serial).expect("certid");
        assert!(id.matches(&ca.subject.raw, &ca.spki, &leaf.serial));
        assert!(!id.matches(&ca.subject.raw, &ca.spki, &[0x01, 0x02]));
        let req = OcspRequest::new(vec![id.clone()], Some(b"0123456789abcdef")).expect("req");
        let der = req.to_der().expect("der");
        let back = OcspRequest::from_der(&der).expect("decode");
        assert_eq!(back, req);
        assert_eq!(back.nonce().as_deref(), Some(&b"0123456789abcdef"[..]));
        assert_eq!(back.tbs_request.request_list[0].req_cert, id);
    }

    #[test]
    fn request_made_by_openssl_decodes() {
        // `openssl ocsp -issuer ca.pem -cert good.pem -reqout good.req` (regen.sh).
        let der = fixture("good.req");
        let req = OcspRequest::from_der(&der).expect("decode");
        let ca = crate::cert::Certificate::from_der(&pem_der(&fixture("ca.pem"))).expect("ca");
        let leaf = crate::cert::Certificate::from_der(&pem_der(&fixture("good.pem"))).expect("l");
        assert_eq!(req.tbs_request.request_list.len(), 1);
        assert!(req.tbs_request.request_list[0].req_cert.matches(
            &ca.subject.raw,
            &ca.spki,
            &leaf.serial
        ));
        assert!(req.nonce().is_some_and(|n| !n.is_empty()));
        assert_eq!(req.to_der().expect("der"), der);
    }

    #[test]
    fn responses_made_by_openssl_decode_and_round_trip() {
        let ca = crate::cert::Certificate::from_der(&pem_der(&fixture("ca.pem"))).expect("ca");
        for (name, cert, want) in [
            ("good.resp", "good.pem", "good"),
            ("revoked.resp", "revoked.pem", "revoked"),
        ] {
            let body = fixture(name);
            let leaf = crate::cert::Certificate::from_der(&pem_der(&fixture(cert))).expect("l");
            let d = decode_ocsp_response(&body).expect(name);
            let single = &d.basic.tbs_response_data.responses[0];
            assert!(
                single
                    .cert_id
                    .matches(&ca.subject.raw, &ca.spki, &leaf.serial)
            );
            let got = match &single.cert_status {
                CertStatus::Good(_) => "good",
                CertStatus::Revoked(info) => {
                    assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise));
                    assert!(unix(&info.revocation_time) > 1_600_000_000);
                    "revoked"
                }
                CertStatus::Unknown(_) => "unknown",
            };
            assert_eq!(got, want, "{name}");
            assert!(
                single.next_update.is_some(),
                "{name}: openssl -ndays sets it"
            );
            // The signed bytes are the re-encoding of what was decoded.
            assert_eq!(d.tbs, d.basic.tbs_response_data.to_der().expect("der"));
            // Whole response round trip.
            let again = OcspResponse::successful(d.basic.to_der().expect("der"))
                .expect("resp")
                .to_der()
                .expect("der");
            assert_eq!(again, body, "{name}");
        }
    }

    #[test]
    fn crl_made_by_openssl_decodes_and_round_trips() {
        let der = pem_der(&fixture("ca.crl.pem"));
        let crl = CertificateList::from_der(&der).expect("crl");
        let revoked =
            crate::cert::Certificate::from_der(&pem_der(&fixture("revoked.pem"))).expect("revoked");
        let entries = crl
            .tbs_cert_list
            .revoked_certificates
            .clone()
            .unwrap_or_default();
        let want = serial_from_content(&revoked.serial).expect("serial");
        let e = entries
            .iter()
            .find(|e| e.serial_number == want)
            .expect("the revoked certificate is listed");
        assert_eq!(entry_reason(e), Some(CrlReason::KeyCompromise));
        assert!(crl.tbs_cert_list.next_update.is_some());
        assert_eq!(crl.to_der().expect("der"), der);
        assert_eq!(
            tbs_bytes(&der).expect("tbs"),
            crl.tbs_cert_list.to_der().expect("der")
        );
    }

    #[test]
    fn urls_from_a_certificate() {
        let good =
            crate::cert::Certificate::from_der(&pem_der(&fixture("good.pem"))).expect("cert");
        let urls = revocation_urls(&good);
        assert_eq!(urls.ocsp, vec!["http://127.0.0.1:1/ocsp".to_string()]);
        assert_eq!(urls.crl, vec!["http://127.0.0.1:1/ca.crl".to_string()]);
        assert_eq!(
            urls.ca_issuers,
            vec!["http://127.0.0.1:1/ca.cer".to_string()]
        );
        assert!(has_ocsp_signing(&pem_der(&fixture("responder.pem"))));
        assert!(!has_ocsp_signing(&pem_der(&fixture("good.pem"))));
    }

    #[test]
    fn basic_response_round_trip() {
        let ca = crate::cert::Certificate::from_der(&pem_der(&fixture("ca.pem"))).expect("ca");
        let id = CertId::new(CertIdHash::Sha256, &ca.subject.raw, &ca.spki, &[0x10]).expect("id");
        let t = generalized_time(1_700_000_000).expect("time");
        let data = ResponseData {
            version: OcspVersion::V1,
            responder_id: ResponderId::ByKey(
                OctetString::new(key_hash(&ca.spki).expect("hash")).expect("os"),
            ),
            produced_at: t,
            responses: vec![SingleResponse {
                cert_id: id,
                cert_status: CertStatus::Revoked(RevokedInfo {
                    revocation_time: t,
                    revocation_reason: Some(CrlReason::Superseded),
                }),
                this_update: t,
                next_update: Some(generalized_time(1_700_086_400).expect("t")),
                single_extensions: None,
            }],
            response_extensions: Some(vec![nonce_extension(b"abc").expect("n")]),
        };
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"),
                parameters: Some(Null.into()),
            },
            signature: BitString::from_bytes(&[1, 2, 3]).expect("bits"),
            certs: None,
        };
        let body = OcspResponse::successful(basic.to_der().expect("der"))
            .expect("r")
            .to_der()
            .expect("der");
        let d = decode_ocsp_response(&body).expect("decode");
        assert_eq!(d.basic, basic);
        assert_eq!(
            d.basic.tbs_response_data.nonce().as_deref(),
            Some(&b"abc"[..])
        );
        let err = OcspResponse::error(OcspResponseStatus::TryLater)
            .to_der()
            .expect("der");
        assert_eq!(
            decode_ocsp_response(&err).expect_err("an error status"),
            OcspDecodeError::Status(OcspResponseStatus::TryLater)
        );
        assert_eq!(
            reason_from_name("KEYCOMPROMISE"),
            Some(CrlReason::KeyCompromise)
        );
    }
}
