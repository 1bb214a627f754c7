//! The findings a revocation check adds to `check`'s report:
//! `certificate-revoked`, `revocation-unknown`, `revocation-unavailable`.

use super::check::{CertRevocation, Revocation, Status};
use crate::diagnostics::findings::{Finding, Setting, Severity, Text};

/// Findings for a revocation report, about the entry `entry`.
pub(crate) fn findings(rev: &Revocation, entry: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &rev.certificates {
        let f = match &c.status {
            Status::Good => continue,
            Status::Revoked { revoked_at, reason } => revoked(c, revoked_at, reason.as_deref()),
            Status::Unknown => unknown(c),
            Status::Unavailable => unavailable(c),
        };
        out.push(f.entry(entry));
    }
    for f in &rev.fetched_issuers {
        out.push(
            Finding::new(
                Severity::Info,
                "revocation-issuer-fetched",
                format!(
                    "the CA certificate \"{}\" is not in the file; it was fetched from {} (its \
                     signature on the certificate below it verifies)",
                    f.subject, f.url
                ),
                "revocation data is verified with the issuer's key, and x5c chains and other \
                 verifiers may need the CA certificate too",
                Text::from("to check without fetching, give the CA certificate with ")
                    .setting(Setting::CaFile),
            )
            .entry(entry),
        );
    }
    out
}

fn what(c: &CertRevocation) -> String {
    if c.index == 0 {
        format!("the certificate \"{}\" (serial {})", c.subject, c.serial)
    } else {
        format!(
            "the CA certificate \"{}\" (serial {}) in its chain",
            c.subject, c.serial
        )
    }
}

fn said_by(c: &CertRevocation) -> String {
    match (c.source, &c.url) {
        (Some("ocsp"), Some(u)) => format!("the OCSP responder {u}"),
        (Some(_), Some(u)) => format!("the CRL {u}"),
        _ => "the CA".into(),
    }
}

fn revoked(c: &CertRevocation, at: &str, reason: Option<&str>) -> Finding {
    let reason = reason.map(|r| format!(", reason {r}")).unwrap_or_default();
    let message = format!(
        "{} was revoked on {at}{reason}, says {}",
        what(c),
        said_by(c)
    );
    let fix = if c.index == 0 {
        "order a new certificate from the CA (Buypass or Commfides for business certificates) \
         and register it where the old one was; when the reason is keyCompromise, make a new \
         key too and stop using the old one everywhere"
    } else {
        "the CA certificate that issued yours was revoked, so every certificate under it is \
         refused: get a new certificate from the CA's current intermediate, and use its current \
         chain"
    };
    Finding::new(
        Severity::Error,
        "certificate-revoked",
        message,
        "a server that checks revocation refuses the certificate; Maskinporten answers MP-120 \
         \"The JWT is signed with an invalid certificate\", the same words as for an expired or \
         foreign certificate",
        fix,
    )
}

fn unknown(c: &CertRevocation) -> Finding {
    Finding::new(
        Severity::Warning,
        "revocation-unknown",
        format!(
            "{}: {} answers \"unknown\": it does not know this certificate",
            what(c),
            said_by(c)
        ),
        "a CA's responder says unknown of certificates the CA did not issue (a look-alike, a \
         certificate from another CA with the same name) or has not registered yet; servers \
         that check revocation refuse it",
        Text::from(
            "check that the certificate comes from this CA and that the issuer used is the right \
             one (",
        )
        .setting(Setting::CaFile)
        .words(
            "); a certificate issued minutes ago may be known later; otherwise ask \
             the CA",
        ),
    )
}

fn unavailable(c: &CertRevocation) -> Finding {
    let tried: Vec<String> = c
        .attempts
        .iter()
        .filter_map(|a| {
            let p = a.problem.as_deref()?;
            Some(match &a.url {
                Some(u) => format!("{} {u}: {p}", a.kind.to_uppercase()),
                None => p.to_string(),
            })
        })
        .collect();
    Finding::new(
        Severity::Warning,
        "revocation-unavailable",
        format!(
            "the revocation status of {} could not be checked: {}",
            what(c),
            tried.join("; ")
        ),
        "credkit believes only revocation data the CA signed and that is current; without it, \
         a revoked certificate looks like a good one until a server refuses it",
        Text::from(
            "let credkit reach the URLs named (a proxy is taken from HTTP_PROXY / HTTPS_PROXY), \
             give the issuing CA certificate with ",
        )
        .setting(Setting::CaFile)
        .words(" when it is missing, or try again later"),
    )
}
