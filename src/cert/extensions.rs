//! The extensions that make `keygen`'s look-alikes realistic: certificate
//! policies, CRL distribution points and authority information access.
//!
//! Real business certificates carry all three. Buypass's test business
//! certificates (SEID 1, soft certificates) carry the policy
//! `2.16.578.1.26.1.0.3.2`; Commfides' G3 test certificates carry
//! `2.16.578.1.29.913.210.1.0` (authentication) and `2.16.578.1.29.913.200.1.0`
//! (signing). Sources: magnuswatn/sertifikatsok `constants.py`
//! (`KNOWN_CERT_TYPES`) and the OID lists of navikt's and Difi's certificate
//! validators, read 2026-12. credkit's business certificates get the Buypass
//! test OID unless `--policy` says otherwise.
//!
//! CDP and AIA point where `credkit serve revocation` serves the issuing CA's
//! data, under one base URL:
//! - CRL: `BASE/crl/SLUG.crl` (DER, signed by the CA);
//! - OCSP: `BASE/ocsp` (one responder for every CA served);
//! - caIssuers: `BASE/ca/SLUG.crt` (the CA certificate, DER);
//!
//! where SLUG is the issuing CA's common name in lower case with every run of
//! other characters made a `-` (`credkit-test-intermediate-ca`).

use crate::asn1::{self, oid, seq, tag};
use crate::cert::oid as cert_oid;

/// Buypass's policy for test business certificates (SEID 1 soft certificates).
pub(crate) const BUYPASS_TEST_BUSINESS_POLICY: &str = "2.16.578.1.26.1.0.3.2";

#[cfg(feature = "cli")]
/// The port `credkit serve revocation` listens on by default.
pub(crate) const DEFAULT_REVOCATION_PORT: u16 = 7825;

#[cfg(feature = "cli")]
/// The base URL a fixture set points its CDP and AIA at when no
/// `--revocation-base` is given: where `credkit serve revocation` listens by
/// default.
pub(crate) fn default_revocation_base() -> String {
    format!("http://127.0.0.1:{DEFAULT_REVOCATION_PORT}")
}

/// What `keygen` adds beyond the profile's own extensions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Realism {
    /// certificatePolicies of end-entity certificates. `None`: the default,
    /// Buypass's test business-certificate policy (2.16.578.1.26.1.0.3.2)
    /// for business certificates and none otherwise; `Some(empty)`: none.
    pub policies: Option<Vec<String>>,
    /// Where the issuing CA's CRL, OCSP responder and certificate are served
    /// (no trailing slash). `None`: no CDP and no AIA.
    pub revocation_base: Option<String>,
}

#[cfg(feature = "cli")]
/// A bad `--policy` or `--revocation-base` value.
#[derive(Debug, thiserror::Error)]
#[error("{what} {value:?}: {detail}")]
pub(crate) struct RealismError {
    pub(crate) what: &'static str,
    pub(crate) value: String,
    pub(crate) detail: String,
}

#[cfg(feature = "cli")]
/// Check a dotted policy OID (two arcs at least, the first 0, 1 or 2).
pub(crate) fn check_policy(value: &str) -> Result<(), RealismError> {
    let err = |detail: &str| RealismError {
        what: "policy OID",
        value: value.to_string(),
        detail: detail.to_string(),
    };
    let arcs: Vec<&str> = value.split('.').collect();
    if arcs.len() < 2
        || arcs
            .iter()
            .any(|a| a.is_empty() || a.len() > 19 || !a.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(err("it is not a dotted OID such as 2.16.578.1.26.1.0.3.2"));
    }
    if !matches!(arcs[0], "0" | "1" | "2") {
        return Err(err("an OID starts with 0, 1 or 2"));
    }
    Ok(())
}

#[cfg(feature = "cli")]
/// Check a `--revocation-base` URL (http or https, no query or fragment)
/// and return it without a trailing slash.
pub(crate) fn check_base(value: &str) -> Result<String, RealismError> {
    let err = |detail: &str| RealismError {
        what: "revocation base URL",
        value: value.to_string(),
        detail: detail.to_string(),
    };
    let u = url::Url::parse(value).map_err(|e| err(&e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(err("it must be an http:// or https:// URL with a host"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(err("it must not have a query or fragment"));
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

/// The file-name form of a CA's common name (see the module documentation).
pub(crate) fn ca_slug(common_name: Option<&str>) -> String {
    let mut s = String::new();
    for c in common_name.unwrap_or("ca").chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    if s.is_empty() { "ca".into() } else { s.into() }
}

/// The URL of a CA's CRL under `base`.
pub(crate) fn crl_url(base: &str, slug: &str) -> String {
    format!("{base}/crl/{slug}.crl")
}

/// The OCSP responder's URL under `base`.
pub(crate) fn ocsp_url(base: &str) -> String {
    format!("{base}/ocsp")
}

/// The URL of a CA's certificate under `base`.
pub(crate) fn ca_issuers_url(base: &str, slug: &str) -> String {
    format!("{base}/ca/{slug}.crt")
}

fn extension(id: &str, value: Vec<u8>) -> Vec<u8> {
    seq(&[oid(id), asn1::encode(tag::OCTET_STRING, &value)])
}

fn uri(u: &str) -> Vec<u8> {
    asn1::encode(0x86, u.as_bytes())
}

/// certificatePolicies with these OIDs (no qualifiers), not critical.
pub(crate) fn policies_extension(oids: &[String]) -> Vec<u8> {
    let infos: Vec<Vec<u8>> = oids.iter().map(|o| seq(&[oid(o)])).collect();
    extension(cert_oid::POLICIES, seq(&infos))
}

/// cRLDistributionPoints with one full-name URI, not critical.
pub(crate) fn crl_distribution_points(url: &str) -> Vec<u8> {
    // DistributionPoint { distributionPoint [0] { fullName [0] { URI } } }
    let dp = seq(&[asn1::encode(0xa0, &asn1::encode(0xa0, &uri(url)))]);
    extension(cert_oid::CRL_DISTRIBUTION_POINTS, seq(&[dp]))
}

/// authorityInfoAccess with an OCSP and a caIssuers URI, not critical.
pub(crate) fn authority_info_access(ocsp: &str, ca_issuers: &str) -> Vec<u8> {
    extension(
        cert_oid::AUTHORITY_INFO_ACCESS,
        seq(&[
            seq(&[oid(cert_oid::AD_OCSP), uri(ocsp)]),
            seq(&[oid(cert_oid::AD_CA_ISSUERS), uri(ca_issuers)]),
        ]),
    )
}

impl Realism {
    /// The extra extensions of one certificate. `end_entity`: a leaf (gets
    /// policies); `business`: it has an organisation number (gets the
    /// default policy); `issuer_cn`: the issuing CA's common name when a CA
    /// issues it (gets CDP and AIA), `None` when it is self-signed.
    pub(crate) fn extensions(
        &self,
        end_entity: bool,
        business: bool,
        issuer_cn: Option<Option<&str>>,
    ) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if end_entity {
            let policies = match &self.policies {
                Some(p) => p.clone(),
                None if business => vec![BUYPASS_TEST_BUSINESS_POLICY.to_string()],
                None => Vec::new(),
            };
            if !policies.is_empty() {
                out.push(policies_extension(&policies));
            }
        }
        if let (Some(base), Some(cn)) = (&self.revocation_base, issuer_cn) {
            let slug = ca_slug(cn);
            out.push(crl_distribution_points(&crl_url(base, &slug)));
            out.push(authority_info_access(
                &ocsp_url(base),
                &ca_issuers_url(base, &slug),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_bases_and_policies() {
        assert_eq!(
            ca_slug(Some("Credkit Test Intermediate CA")),
            "credkit-test-intermediate-ca"
        );
        assert_eq!(ca_slug(Some("  ")), "ca");
        assert_eq!(ca_slug(None), "ca");
        assert_eq!(
            check_base("http://127.0.0.1:7825/").expect("ok"),
            "http://127.0.0.1:7825"
        );
        assert_eq!(
            check_base("https://crl.example/test4").expect("ok"),
            "https://crl.example/test4"
        );
        for bad in ["ftp://x/", "http://x/?a=1", "not a url"] {
            assert!(check_base(bad).is_err(), "{bad}");
        }
        check_policy(BUYPASS_TEST_BUSINESS_POLICY).expect("ok");
        for bad in ["2", "3.1", "1..2", "x.1", ""] {
            assert!(check_policy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_follow_the_kind_of_certificate() {
        let r = Realism {
            policies: None,
            revocation_base: Some("http://h".into()),
        };
        assert_eq!(r.extensions(true, true, None).len(), 1);
        assert_eq!(r.extensions(true, false, None).len(), 0);
        assert_eq!(r.extensions(false, true, Some(Some("X"))).len(), 2);
        assert_eq!(r.extensions(true, true, Some(Some("X"))).len(), 3);
        let none = Realism {
            policies: Some(Vec::new()),
            revocation_base: None,
        };
        assert!(none.extensions(true, true, Some(Some("X"))).is_empty());
    }
}
