//! The test CA's side of revocation: CRLs (RFC 5280 §5) and OCSP answers
//! (RFC 6960), made from the revocation list a user edits ([`super::list`])
//! and signed by the CA, or for OCSP by a delegated responder (a certificate
//! the CA issued with id-kp-OCSPSigning, `keygen --usage ocsp`). The
//! structures are [`super::asn1`]'s; the signatures are `keygen`'s.
//!
//! What a served CA answers:
//! - a CRL: version 2, thisUpdate = now, nextUpdate = now + the validity,
//!   every listed certificate revoked at or before now (with its cRLReason
//!   unless unspecified), authorityKeyIdentifier and a cRLNumber (the Unix
//!   time of thisUpdate, so numbers only grow);
//! - OCSP: for each CertID whose issuer hashes (SHA-1 or SHA-256) are a
//!   served CA's, `revoked` (time and reason) when the list revokes the
//!   serial at now, else `good`; `unknown` for a CertID of any other issuer
//!   or hash. The nonce of the request is echoed; the responder id is byKey;
//!   a delegated responder's certificate goes in `certs`.

use super::asn1::{
    BasicOcspResponse, CertId, CertStatus, CertificateList, Extensions, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseData, RevokedCert, RevokedInfo, SingleResponse,
    TbsCertList, Time, X509Certificate, generalized_time, key_hash, nonce_extension,
    reason_extension,
};
use super::list::{Reason, RevocationList};
use crate::cert::Certificate;
use crate::cert::issue::{self as keygen, KeygenError};
use crate::key::PrivateKey;
use crate::key::sign::{sign, signature_algorithm};
use der::asn1::{BitString, Null, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;

/// A request body larger than this is refused as malformed: an OCSP request
/// for a few certificates is a few hundred bytes.
pub(crate) const MAX_OCSP_REQUEST: usize = 16 * 1024;

/// Who signs: a key and its certificate.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    pub(crate) cert: Certificate,
    pub(crate) key: PrivateKey,
}

/// A CA whose revocation data is served.
#[derive(Debug, Clone)]
pub(crate) struct Authority {
    /// The CA itself: signs its CRLs, and OCSP answers without a responder.
    pub(crate) ca: Signer,
    /// A delegated OCSP responder the CA issued.
    pub(crate) responder: Option<Signer>,
}

/// What went wrong making revocation data.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IssueError {
    #[error("encoding: {0}")]
    Der(#[from] der::Error),
    #[error(transparent)]
    Sign(#[from] KeygenError),
    #[error("{0}")]
    Responder(String),
    /// The delegated responder (its subject) was issued by none of the CAs served.
    #[error("the responder {0} was not issued by a CA served here")]
    ResponderIssuer(String),
}

fn algorithm(key: &PrivateKey) -> Result<AlgorithmIdentifierOwned, IssueError> {
    let der = signature_algorithm(key)?;
    Ok(AlgorithmIdentifierOwned::from_der(&der)?)
}

fn time(unix: i64) -> Result<Time, IssueError> {
    let secs = u64::try_from(unix).map_err(|_| der::Error::from(der::ErrorKind::DateTime))?;
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))?;
    Ok(Time::from(dt))
}

/// Check that `responder` may answer for `ca`: issued by it (name and
/// signature) with id-kp-OCSPSigning, and the key is its certificate's.
pub(crate) fn check_responder(ca: &Certificate, responder: &Signer) -> Result<(), IssueError> {
    let r = &responder.cert;
    let ca_key = ca
        .public_key
        .as_ref()
        .map_err(|e| IssueError::Responder(format!("the CA's key cannot be read: {e}")))?;
    if r.issuer.raw != ca.subject.raw || !crate::cert::verify_signature(r, ca_key) {
        return Err(IssueError::Responder(format!(
            "the responder {} was not issued by {}",
            r.subject.to_display(),
            ca.subject.to_display()
        )));
    }
    if !r
        .extended_key_usage
        .as_ref()
        .is_some_and(|e| e.iter().any(|u| u == "OCSPSigning"))
    {
        return Err(IssueError::Responder(format!(
            "the responder {} has no extended key usage OCSPSigning",
            r.subject.to_display()
        )));
    }
    if r.public_key.as_ref().ok() != Some(&responder.key.public) {
        return Err(IssueError::Responder(
            "the responder's key is not its certificate's".into(),
        ));
    }
    Ok(())
}

/// The authorities to serve: each CA once (the first of equal certificates),
/// and the delegated responder, if any, under the CA that issued it (checked
/// by [`check_responder`]).
pub(crate) fn authorities(
    cas: Vec<Signer>,
    responder: Option<Signer>,
) -> Result<Vec<Authority>, IssueError> {
    let mut authorities: Vec<Authority> = Vec::new();
    for ca in cas {
        if !authorities.iter().any(|a| a.ca.cert.der == ca.cert.der) {
            authorities.push(Authority {
                ca,
                responder: None,
            });
        }
    }
    if let Some(resp) = responder {
        let Some(a) = authorities
            .iter_mut()
            .find(|a| a.ca.cert.subject.raw == resp.cert.issuer.raw)
        else {
            return Err(IssueError::ResponderIssuer(resp.cert.subject.to_display()));
        };
        check_responder(&a.ca.cert, &resp)?;
        a.responder = Some(resp);
    }
    Ok(authorities)
}

/// The CA's CRL (DER) at `now`, valid for `validity` seconds.
pub(crate) fn crl(
    ca: &Signer,
    list: &RevocationList,
    now: i64,
    validity: i64,
) -> Result<Vec<u8>, IssueError> {
    let issuer = ca.cert.subject.to_display();
    let mut revoked = Vec::new();
    for e in list.of_issuer(&issuer).filter(|e| e.date <= now) {
        let exts = if e.reason == Reason::Unspecified {
            None
        } else {
            Some(vec![reason_extension(e.reason)?])
        };
        revoked.push(RevokedCert {
            serial_number: super::asn1::serial_from_content(&positive(&e.serial))?,
            revocation_date: time(e.date)?,
            crl_entry_extensions: exts,
        });
    }
    let key_id = keygen::subject_key_identifier(&ca.cert)
        .or_else(|| keygen::key_identifier(&ca.key.public))
        .unwrap_or_default();
    let aki = crate::asn1::seq(&[crate::asn1::encode(0x80, &key_id)]);
    let number = crate::asn1::encode_uint(&u64::try_from(now).unwrap_or(0).to_be_bytes());
    let exts: Extensions = vec![
        Extension {
            extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.35"),
            critical: false,
            extn_value: OctetString::new(aki)?,
        },
        Extension {
            extn_id: super::asn1::oid::CRL_NUMBER,
            critical: false,
            extn_value: OctetString::new(number)?,
        },
    ];
    let alg = algorithm(&ca.key)?;
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: alg.clone(),
        issuer: x509_cert::name::Name::from_der(&ca.cert.subject.raw)?,
        this_update: time(now)?,
        next_update: Some(time(now.saturating_add(validity))?),
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: Some(exts),
    };
    let tbs_der = tbs.to_der()?;
    let sig = sign(&ca.key, &tbs_der)?;
    let crl = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&sig)?,
    };
    Ok(crl.to_der()?)
}

/// A serial's INTEGER content: a leading zero when the top bit is set.
fn positive(mag: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(mag.len() + 1);
    if mag.first().is_none_or(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(mag);
    v
}

/// The status of one CertID, and which authority answered it.
fn status_of<'a>(
    id: &CertId,
    authorities: &'a [Authority],
    list: &RevocationList,
    now: i64,
) -> (CertStatus, Option<&'a Authority>) {
    let serial = id.serial_number.as_bytes();
    for a in authorities {
        if id.matches(&a.ca.cert.subject.raw, &a.ca.cert.spki, serial) {
            let issuer = a.ca.cert.subject.to_display();
            return match list.find(&issuer, serial).filter(|e| e.date <= now) {
                Some(e) => {
                    let info = generalized_time(e.date).map(|t| RevokedInfo {
                        revocation_time: t,
                        revocation_reason: (e.reason != Reason::Unspecified).then_some(e.reason),
                    });
                    match info {
                        Ok(i) => (CertStatus::Revoked(i), Some(a)),
                        Err(_) => (CertStatus::Unknown(Null), Some(a)),
                    }
                }
                None => (CertStatus::Good(Null), Some(a)),
            };
        }
    }
    (CertStatus::Unknown(Null), None)
}

/// The DER OCSPResponse for a DER OCSPRequest at `now`, with answers valid
/// for `validity` seconds. A request that cannot be read gets
/// malformedRequest; every answer is an OCSPResponse.
pub(crate) fn ocsp(
    request: &[u8],
    authorities: &[Authority],
    list: &RevocationList,
    now: i64,
    validity: i64,
) -> Vec<u8> {
    let answer = if request.len() > MAX_OCSP_REQUEST {
        None
    } else {
        OcspRequest::from_der(request).ok()
    };
    let Some(req) = answer else {
        return error_response(OcspResponseStatus::MalformedRequest);
    };
    if req.tbs_request.request_list.is_empty() {
        return error_response(OcspResponseStatus::MalformedRequest);
    }
    match answer_request(&req, authorities, list, now, validity) {
        Ok(der) => der,
        Err(_) => error_response(OcspResponseStatus::InternalError),
    }
}

fn error_response(status: OcspResponseStatus) -> Vec<u8> {
    // Two fixed bytes and an ENUMERATED: encoding cannot fail.
    OcspResponse::error(status).to_der().unwrap_or_default()
}

fn answer_request(
    req: &OcspRequest,
    authorities: &[Authority],
    list: &RevocationList,
    now: i64,
    validity: i64,
) -> Result<Vec<u8>, IssueError> {
    let mut responses = Vec::new();
    let mut signer_of: Option<&Authority> = None;
    for r in &req.tbs_request.request_list {
        let (status, by) = status_of(&r.req_cert, authorities, list, now);
        if signer_of.is_none() {
            signer_of = by;
        }
        responses.push(SingleResponse {
            cert_id: r.req_cert.clone(),
            cert_status: status,
            this_update: generalized_time(now)?,
            next_update: Some(generalized_time(now.saturating_add(validity))?),
            single_extensions: None,
        });
    }
    // One signature: the first known CA's (or its responder's); a request
    // about no served CA is answered (all unknown) by the first CA.
    let Some(auth) = signer_of.or(authorities.first()) else {
        return Err(IssueError::Responder("no CA is served".into()));
    };
    let signer = auth.responder.as_ref().unwrap_or(&auth.ca);
    let response_extensions = match req.nonce() {
        Some(n) => Some(vec![nonce_extension(&n)?]),
        None => None,
    };
    let data = ResponseData {
        version: Default::default(),
        responder_id: ResponderId::ByKey(OctetString::new(key_hash(&signer.cert.spki)?)?),
        produced_at: generalized_time(now)?,
        responses,
        response_extensions,
    };
    let tbs = data.to_der()?;
    let sig = sign(&signer.key, &tbs)?;
    let certs = match &auth.responder {
        Some(r) => Some(vec![X509Certificate::from_der(&r.cert.der)?]),
        None => None,
    };
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: algorithm(&signer.key)?,
        signature: BitString::from_bytes(&sig)?,
        certs,
    };
    Ok(OcspResponse::successful(basic.to_der()?)?.to_der()?)
}
