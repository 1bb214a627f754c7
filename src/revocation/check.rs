//! The revocation client: is each certificate of a chain revoked?
//!
//! For every certificate that has an issuer (the leaf and each CA
//! certificate below the root):
//!
//! 1. ask each OCSP responder its authorityInfoAccess names (POST, with a
//!    nonce), and believe the answer only when its signature verifies with the
//!    key of the CA itself or of a delegated responder (a certificate the CA
//!    issued with id-kp-OCSPSigning, valid now), it is about this
//!    certificate (CertID), it echoes the nonce (when it carries one), and
//!    `thisUpdate`/`nextUpdate` hold `now`;
//! 2. when no responder gave such an answer, fetch each CRL its
//!    cRLDistributionPoints name, and believe it only when the issuer's key
//!    signed it (and may sign CRLs), its issuer is the certificate's issuer and
//!    `thisUpdate`/`nextUpdate` hold `now`;
//! 3. otherwise the status is unavailable, with each URL and why.
//!
//! An OCSP "unknown" is an answer: the CA's responder does not know the
//! certificate, which a CA says of certificates it did not issue; it is not
//! overruled by a CRL. Missing issuers are looked for in the given pool, then
//! fetched from the caIssuers URL (and reported as fetched).
#![cfg_attr(not(feature = "client"), allow(dead_code, unused_imports))]

use super::asn1::{
    self as a, CertId, CertIdHash, CertStatus, CertificateList, OcspRequest, ResponderId,
};
use crate::cert::path::{Link, issued_by};
use crate::cert::{Certificate, SignatureCheck};
#[cfg(feature = "client")]
use crate::net::{BodyCap, Http, NetError};
use der::{Decode, Encode};
use serde::Serialize;

/// How much later than `now` a `thisUpdate` may be (clock skew).
const SKEW_SECS: i64 = 300;

/// Most issuer certificates fetched from caIssuers URLs for one chain.
const MAX_FETCHED_ISSUERS: usize = 4;

/// The status of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum Status {
    /// Not revoked, by a verified OCSP answer or CRL.
    Good,
    /// Revoked at `revoked_at` (RFC 3339), for `reason` (RFC 5280's name) if given.
    Revoked {
        revoked_at: String,
        reason: Option<String>,
    },
    /// The CA's OCSP responder does not know the certificate.
    Unknown,
    /// No verified answer could be had.
    Unavailable,
}

/// One revocation source tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// `ocsp` or `crl` (or `issuer`, when the issuer itself was missing).
    pub kind: &'static str,
    /// The URL asked (null when there was none to ask).
    pub url: Option<String>,
    /// Null when this source gave the answer; otherwise why it did not.
    pub problem: Option<String>,
}

/// The outcome for one certificate of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertRevocation {
    /// 0 for the checked certificate, then its CA certificates upwards.
    pub index: usize,
    pub subject: String,
    /// The serial number in hex.
    pub serial: String,
    #[serde(flatten)]
    pub status: Status,
    /// `ocsp` or `crl`: where the answer came from; null when unavailable.
    pub source: Option<&'static str>,
    /// The URL that answered; null when unavailable.
    pub url: Option<String>,
    /// `nextUpdate` of the answer (RFC 3339), when it has one.
    pub next_update: Option<String>,
    /// Every source tried, in order.
    pub attempts: Vec<Attempt>,
}

/// A CA certificate fetched from a caIssuers URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchedIssuer {
    pub url: String,
    pub subject: String,
}

/// The revocation report for a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revocation {
    /// The certificates checked, leaf first (a self-signed root is not).
    pub certificates: Vec<CertRevocation>,
    /// Issuer certificates fetched from caIssuers URLs.
    pub fetched_issuers: Vec<FetchedIssuer>,
}

/// The HTTP client for revocation data: the one client, with shorter
/// timeouts (a responder that does not answer in 10 s is down for users too).
#[cfg(feature = "client")]
pub fn http() -> Result<Http, String> {
    Http::new(crate::net::HttpOptions {
        connect_timeout: std::time::Duration::from_secs(5),
        timeout: std::time::Duration::from_secs(10),
        ca_pem: None,
        identity: None,
    })
}

/// Check the certificate of entry `index` of `store` and its CA
/// certificates; the store's other certificates and `extra` (given CA
/// certificates) may be its issuers. None when the entry has no certificate.
#[cfg(feature = "client")]
pub fn check_entry(
    store: &crate::keystore::Store,
    index: usize,
    extra: &[Certificate],
    http: &Http,
    now: i64,
) -> Option<Revocation> {
    let entry = store.entries.get(index)?;
    let leaf = entry.chain.first()?;
    let mut pool: Vec<Certificate> = entry.chain[1..].to_vec();
    for (i, e) in store.entries.iter().enumerate() {
        if i != index {
            pool.extend(e.chain.iter().cloned());
        }
    }
    pool.extend(extra.iter().cloned());
    Some(check_chain(leaf, &pool, http, now))
}

/// Check `leaf` and its CA certificates. `pool` holds the certificates that
/// may be its issuers (the file's chain, given CA certificates); missing
/// issuers are fetched from caIssuers.
#[cfg(feature = "client")]
pub fn check_chain(leaf: &Certificate, pool: &[Certificate], http: &Http, now: i64) -> Revocation {
    let (chain, fetched) = complete_chain(leaf, pool, http);
    let mut certificates = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        if cert.is_self_issued() && i > 0 {
            break;
        }
        let issuer = chain.get(i + 1);
        certificates.push(check_one(i, cert, issuer, http, now));
        if issuer.is_none() {
            break;
        }
    }
    Revocation {
        certificates,
        fetched_issuers: fetched,
    }
}

/// The chain from `leaf` upwards, through the pool and then caIssuers URLs.
#[cfg(feature = "client")]
fn complete_chain(
    leaf: &Certificate,
    pool: &[Certificate],
    http: &Http,
) -> (Vec<Certificate>, Vec<FetchedIssuer>) {
    let mut chain = crate::cert::path::build(leaf, pool);
    let mut fetched = Vec::new();
    while fetched.len() < MAX_FETCHED_ISSUERS {
        let Some(top) = chain.last() else { break };
        if top.is_self_issued() {
            break;
        }
        let urls = a::revocation_urls(top);
        let found = urls.ca_issuers.iter().find_map(|url| {
            let cert = fetch_certificate(http, url).ok()?;
            (issued_by(top, &cert) == Link::Signed).then(|| (url.clone(), cert))
        });
        let Some((url, cert)) = found else { break };
        fetched.push(FetchedIssuer {
            url,
            subject: cert.subject.to_display(),
        });
        let mut pool2: Vec<Certificate> = pool.to_vec();
        pool2.push(cert);
        chain = crate::cert::path::build(leaf, &pool2);
        if chain.len() <= 1 {
            break;
        }
    }
    (chain, fetched)
}

/// A certificate from a caIssuers URL: DER, or PEM.
#[cfg(feature = "client")]
fn fetch_certificate(http: &Http, url: &str) -> Result<Certificate, String> {
    let answer = http
        .get_signed_data(url, BodyCap::Ocsp)
        .map_err(|e| net_problem(&e))?;
    if answer.status != 200 {
        return Err(format!("HTTP {}", answer.status));
    }
    let der = pem_or_der(&answer.body, "CERTIFICATE");
    Certificate::from_der(&der).map_err(|e| e.to_string())
}

fn pem_or_der(body: &[u8], label: &str) -> Vec<u8> {
    if crate::keystore::pem::looks_like(body)
        && let Ok(blocks) = crate::keystore::pem::parse_blocks(&String::from_utf8_lossy(body))
        && let Some(b) = blocks.into_iter().find(|b| b.label == label)
    {
        return b.der;
    }
    body.to_vec()
}

#[cfg(feature = "client")]
fn net_problem(e: &NetError) -> String {
    let (what, _) = e.explain();
    format!("{what} ({})", e.detail)
}

#[cfg(feature = "client")]
fn check_one(
    index: usize,
    cert: &Certificate,
    issuer: Option<&Certificate>,
    http: &Http,
    now: i64,
) -> CertRevocation {
    let mut out = CertRevocation {
        index,
        subject: cert.subject.to_display(),
        serial: cert.serial_hex(),
        status: Status::Unavailable,
        source: None,
        url: None,
        next_update: None,
        attempts: Vec::new(),
    };
    let Some(issuer) = issuer else {
        out.attempts.push(Attempt {
            kind: "issuer",
            url: None,
            problem: Some(format!(
                "the certificate of its issuer \"{}\" is neither in the file nor given, and \
                 could not be fetched from a caIssuers URL; revocation data is checked with \
                 the issuer's key",
                cert.issuer.to_display()
            )),
        });
        return out;
    };
    let urls = a::revocation_urls(cert);
    if urls.ocsp.is_empty() && urls.crl.is_empty() {
        out.attempts.push(Attempt {
            kind: "ocsp",
            url: None,
            problem: Some(
                "the certificate names no OCSP responder (authorityInfoAccess) and no CRL \
                 (cRLDistributionPoints)"
                    .into(),
            ),
        });
        return out;
    }
    // OCSP first, then the CRLs; the first source that answers decides.
    type Ask = fn(&Http, &str, &Certificate, &Certificate, i64) -> Result<Answer, String>;
    let sources: [(&'static str, &[String], Ask); 2] = [
        ("ocsp", &urls.ocsp, ask_ocsp),
        ("crl", &urls.crl, check_crl),
    ];
    for (kind, list, ask) in sources {
        for url in list {
            let result = ask(http, url, cert, issuer, now);
            let problem = result.as_ref().err().cloned();
            out.attempts.push(Attempt {
                kind,
                url: Some(url.clone()),
                problem,
            });
            if let Ok(answer) = result {
                out.status = answer.status;
                out.source = Some(kind);
                out.url = Some(url.clone());
                out.next_update = answer.next_update.map(crate::timefmt::rfc3339);
                return out;
            }
        }
    }
    out
}

/// A verified answer.
#[derive(Debug)]
struct Answer {
    status: Status,
    next_update: Option<i64>,
}

fn revoked(at: i64, reason: Option<a::CrlReason>) -> Status {
    Status::Revoked {
        revoked_at: crate::timefmt::rfc3339(at),
        reason: reason.map(|r| a::reason_name(r).to_string()),
    }
}

/// Is `now` inside `this_update ..= next_update`? The problem when not.
fn fresh(this_update: i64, next_update: Option<i64>, now: i64, what: &str) -> Result<(), String> {
    if this_update > now + SKEW_SECS {
        return Err(format!(
            "the {what} is dated {} (thisUpdate), after now ({}): a wrong clock on one side",
            crate::timefmt::rfc3339(this_update),
            crate::timefmt::rfc3339(now)
        ));
    }
    if let Some(next) = next_update
        && next < now
    {
        return Err(format!(
            "the {what} is stale: its nextUpdate {} is before now ({}); newer data should \
             have replaced it",
            crate::timefmt::rfc3339(next),
            crate::timefmt::rfc3339(now)
        ));
    }
    Ok(())
}

/// Check a signature over `tbs` with a certificate's key.
fn signed_by(
    signer: &Certificate,
    alg: &x509_cert::spki::AlgorithmIdentifierOwned,
    tbs: &[u8],
    signature: &[u8],
) -> SignatureCheck {
    let Ok(key) = &signer.public_key else {
        return SignatureCheck::Unsupported("an unreadable key".into());
    };
    let params = alg.parameters.as_ref().and_then(|p| p.to_der().ok());
    crate::cert::check_signed_data(&alg.oid.to_string(), params.as_deref(), key, tbs, signature)
}

#[cfg(feature = "client")]
fn ask_ocsp(
    http: &Http,
    url: &str,
    cert: &Certificate,
    issuer: &Certificate,
    now: i64,
) -> Result<Answer, String> {
    let id = CertId::new(
        CertIdHash::Sha1,
        &issuer.subject.raw,
        &issuer.spki,
        &cert.serial,
    )
    .map_err(|e| format!("no OCSP request could be made: {e}"))?;
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| format!("no random nonce: {e}"))?;
    let req = OcspRequest::new(vec![id], Some(&nonce))
        .and_then(|r| r.to_der())
        .map_err(|e| format!("no OCSP request could be made: {e}"))?;
    let answer = http.post_ocsp(url, req).map_err(|e| net_problem(&e))?;
    if answer.status != 200 {
        return Err(format!("the responder answered HTTP {}", answer.status));
    }
    verify_ocsp(&answer.body, cert, issuer, &nonce, now)
}

/// Believe an OCSP answer about `cert` (issued by `issuer`) to a request
/// with `nonce`, or say why not.
fn verify_ocsp(
    body: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    nonce: &[u8],
    now: i64,
) -> Result<Answer, String> {
    let decoded = a::decode_ocsp_response(body).map_err(|e| e.to_string())?;
    let basic = &decoded.basic;
    let data = &basic.tbs_response_data;

    // Who signed it, and may they answer for this CA?
    let signer = responder(basic, issuer, now)?;
    match signed_by(
        &signer,
        &basic.signature_algorithm,
        &decoded.tbs,
        basic.signature.raw_bytes(),
    ) {
        SignatureCheck::Valid => {}
        SignatureCheck::Invalid => {
            return Err(format!(
                "the response's signature does not verify with the key of \"{}\": it may be \
                 forged or damaged",
                signer.subject.to_display()
            ));
        }
        SignatureCheck::Unsupported(alg) => {
            return Err(format!(
                "the response is signed with {alg}, which credkit cannot check"
            ));
        }
    }
    match data.nonce() {
        Some(n) if n != nonce => {
            return Err("the response's nonce is not the request's: a replayed answer".into());
        }
        _ => {}
    }
    let single = data
        .responses
        .iter()
        .find(|r| {
            r.cert_id
                .matches(&issuer.subject.raw, &issuer.spki, &cert.serial)
        })
        .ok_or_else(|| {
            "the response is not about this certificate (no CertID matches)".to_string()
        })?;
    let this_update = a::unix(&single.this_update);
    let next_update = single.next_update.as_ref().map(a::unix);
    fresh(this_update, next_update, now, "OCSP response")?;
    let status = match &single.cert_status {
        CertStatus::Good(_) => Status::Good,
        CertStatus::Revoked(info) => {
            revoked(a::unix(&info.revocation_time), info.revocation_reason)
        }
        CertStatus::Unknown(_) => Status::Unknown,
    };
    Ok(Answer {
        status,
        next_update,
    })
}

/// The certificate whose key must have signed an OCSP response: the CA
/// itself, or a delegated responder the CA issued with id-kp-OCSPSigning,
/// valid now (RFC 6960 §4.2.2.2).
fn responder(
    basic: &a::BasicOcspResponse,
    issuer: &Certificate,
    now: i64,
) -> Result<Certificate, String> {
    let names = |c: &Certificate| match &basic.tbs_response_data.responder_id {
        ResponderId::ByName(n) => n.to_der().is_ok_and(|d| d == c.subject.raw),
        ResponderId::ByKey(h) => a::key_hash(&c.spki).is_ok_and(|k| k == h.as_bytes()),
    };
    if names(issuer) {
        return Ok(issuer.clone());
    }
    let delegated = basic
        .certs
        .iter()
        .flatten()
        .filter_map(|c| c.to_der().ok())
        .filter_map(|d| Certificate::from_der(&d).ok())
        .find(|c| names(c));
    let Some(r) = delegated else {
        let who = match &basic.tbs_response_data.responder_id {
            ResponderId::ByName(n) => format!("\"{n}\""),
            ResponderId::ByKey(h) => format!("the key {}", crate::cert::hex(h.as_bytes())),
        };
        return Err(format!(
            "the response is signed by {who}, which is neither the CA \"{}\" nor a responder \
             certificate included in the response: no authority to answer for this CA",
            issuer.subject.to_display()
        ));
    };
    let subject = r.subject.to_display();
    let ca = issuer.subject.to_display();
    if issued_by(&r, issuer) != Link::Signed {
        return Err(format!(
            "the response is signed by \"{subject}\", which the CA \"{ca}\" did not issue: no \
             authority to answer for this CA"
        ));
    }
    if !a::has_ocsp_signing(&r.der) {
        return Err(format!(
            "the response is signed by \"{subject}\", which the CA issued without \
             id-kp-OCSPSigning (extended key usage OCSPSigning): no authority to answer for \
             this CA"
        ));
    }
    if now < r.not_before || now > r.not_after {
        return Err(format!(
            "the response is signed by the delegated responder \"{subject}\", whose \
             certificate is not valid now ({} to {})",
            crate::timefmt::rfc3339(r.not_before),
            crate::timefmt::rfc3339(r.not_after)
        ));
    }
    Ok(r)
}

#[cfg(feature = "client")]
fn check_crl(
    http: &Http,
    url: &str,
    cert: &Certificate,
    issuer: &Certificate,
    now: i64,
) -> Result<Answer, String> {
    let answer = http
        .get_signed_data(url, BodyCap::Crl)
        .map_err(|e| net_problem(&e))?;
    if answer.status != 200 {
        return Err(format!("the server answered HTTP {}", answer.status));
    }
    let der = pem_or_der(&answer.body, "X509 CRL");
    let crl = CertificateList::from_der(&der).map_err(|e| format!("not a CRL: {e}"))?;
    let tbs = &crl.tbs_cert_list;
    let issuer_name = tbs.issuer.to_der().map_err(|e| format!("not a CRL: {e}"))?;
    if issuer_name != issuer.subject.raw {
        return Err(format!(
            "the CRL is issued by \"{}\", not by the certificate's issuer \"{}\" (indirect CRLs \
             are not read)",
            tbs.issuer,
            issuer.subject.to_display()
        ));
    }
    if issuer.key_usage.is_some() && !issuer.has_key_usage("cRLSign") {
        return Err(format!(
            "\"{}\" signed the CRL, but its key usage does not allow cRLSign",
            issuer.subject.to_display()
        ));
    }
    let signed = a::tbs_bytes(&der).map_err(|e| format!("not a CRL: {e}"))?;
    let alg = x509_cert::spki::AlgorithmIdentifierOwned {
        oid: crl.signature_algorithm.oid,
        parameters: crl.signature_algorithm.parameters.clone(),
    };
    match signed_by(issuer, &alg, &signed, crl.signature.raw_bytes()) {
        SignatureCheck::Valid => {}
        SignatureCheck::Invalid => {
            return Err(format!(
                "the CRL's signature does not verify with the key of \"{}\"",
                issuer.subject.to_display()
            ));
        }
        SignatureCheck::Unsupported(alg) => {
            return Err(format!(
                "the CRL is signed with {alg}, which credkit cannot check"
            ));
        }
    }
    let this_update = a::unix_time(&tbs.this_update);
    let next_update = tbs.next_update.as_ref().map(a::unix_time);
    fresh(this_update, next_update, now, "CRL")?;
    let serial = a::serial_from_content(&cert.serial).map_err(|e| e.to_string())?;
    let status = match tbs
        .revoked_certificates
        .iter()
        .flatten()
        .find(|e| e.serial_number == serial)
    {
        // removeFromCRL in a delta CRL means "no longer revoked"; in a full
        // CRL it does not appear.
        Some(e) if a::entry_reason(e) == Some(a::CrlReason::RemoveFromCRL) => Status::Good,
        Some(e) => revoked(a::unix_time(&e.revocation_date), a::entry_reason(e)),
        None => Status::Good,
    };
    Ok(Answer {
        status,
        next_update,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(name: &str) -> Certificate {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/revocation")
            .join(name);
        let pem = std::fs::read(&p).expect("fixture");
        Certificate::from_der(&pem_or_der(&pem, "CERTIFICATE")).expect("certificate")
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/revocation")
                .join(name),
        )
        .expect("fixture")
    }

    /// The request's nonce and the response's thisUpdate (the fixtures are
    /// dated when they were made).
    fn nonce_and_time(req: &str, resp: &str) -> (Vec<u8>, i64) {
        let nonce = OcspRequest::from_der(&fixture(req))
            .expect("request")
            .nonce()
            .expect("nonce");
        let d = a::decode_ocsp_response(&fixture(resp)).expect("response");
        (
            nonce,
            a::unix(&d.basic.tbs_response_data.responses[0].this_update),
        )
    }

    #[test]
    fn openssl_answers_are_believed_with_their_nonce_and_time() {
        let ca = cert("ca.pem");
        let (nonce, t) = nonce_and_time("good.req", "good.resp");
        let ok = verify_ocsp(
            &fixture("good.resp"),
            &cert("good.pem"),
            &ca,
            &nonce,
            t + 60,
        )
        .expect("good");
        assert_eq!(ok.status, Status::Good);
        // Signed by the delegated responder (its certificate in the answer).
        let (nonce, t) = nonce_and_time("revoked.req", "revoked.resp");
        let r = verify_ocsp(
            &fixture("revoked.resp"),
            &cert("revoked.pem"),
            &ca,
            &nonce,
            t + 60,
        )
        .expect("revoked");
        assert!(matches!(
            r.status,
            Status::Revoked { reason: Some(ref why), .. } if why == "keyCompromise"
        ));
    }

    #[test]
    fn a_wrong_nonce_another_certificate_staleness_and_another_ca_are_refused() {
        let ca = cert("ca.pem");
        let good = cert("good.pem");
        let body = fixture("good.resp");
        let (nonce, t) = nonce_and_time("good.req", "good.resp");
        let e = verify_ocsp(&body, &good, &ca, b"another nonce", t + 60).expect_err("nonce");
        assert!(e.contains("nonce"), "{e}");
        let e = verify_ocsp(&body, &cert("revoked.pem"), &ca, &nonce, t + 60)
            .expect_err("other certificate");
        assert!(e.contains("CertID"), "{e}");
        let e = verify_ocsp(&body, &good, &ca, &nonce, t + 3 * 86_400).expect_err("stale");
        assert!(e.contains("stale"), "{e}");
        let e = verify_ocsp(&body, &good, &ca, &nonce, t - 86_400).expect_err("future");
        assert!(e.contains("after now"), "{e}");
        // Checked as if another CA (the responder's certificate) issued it:
        // the CA's signature is no authority for it.
        let e = verify_ocsp(&body, &good, &cert("responder.pem"), &nonce, t + 60)
            .expect_err("no authority");
        assert!(e.contains("authority"), "{e}");
    }
}
