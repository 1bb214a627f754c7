//! The revocation list a user edits: which certificates a test CA has
//! revoked, when and why. `credkit keygen --revoke CERT --ca CA` adds to it,
//! a text editor may too; `credkit serve revocation` makes the CA's CRL and
//! OCSP answers from it, and `serve mock-maskinporten` refuses what it lists.
//!
//! ```toml
//! # Certificates revoked by credkit test CAs.
//! [[revoked]]
//! issuer = "C=NO, O=Credkit Test CA, CN=Credkit Test Intermediate CA"
//! serial = "4A1B…"                 # hex, as `credkit inspect` prints it
//! date = "2026-12-01T12:00:00Z"     # the revocation date (RFC 3339)
//! reason = "keyCompromise"          # RFC 5280 CRLReason name; optional
//! subject = "C=NO, O=…"             # a note for people; not read
//! ```
//!
//! An entry names its issuer by the display form of the issuer's name (as
//! `inspect` prints it), so one file can hold several CAs' revocations.

use crate::cert::Certificate;
use serde::Deserialize;

/// The default file name next to a CA file: `ca.p12` → `ca.revoked.toml`.
pub(crate) fn default_path(ca_file: &std::path::Path) -> std::path::PathBuf {
    let stem = ca_file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("ca")
        .to_string();
    ca_file.with_file_name(format!("{stem}.revoked.toml"))
}

/// RFC 5280 §5.3.1 CRLReason (the type the CRL and OCSP structures use).
pub(crate) use super::asn1::CrlReason as Reason;

/// The reasons a list entry may give, by RFC 5280 name (removeFromCRL is
/// for delta CRLs only, and is not one).
pub(crate) fn reason_names() -> String {
    [
        Reason::Unspecified,
        Reason::KeyCompromise,
        Reason::CaCompromise,
        Reason::AffiliationChanged,
        Reason::Superseded,
        Reason::CessationOfOperation,
        Reason::CertificateHold,
        Reason::PrivilegeWithdrawn,
        Reason::AaCompromise,
    ]
    .map(reason_name)
    .join(", ")
}

/// The RFC 5280 name of a reason (`keyCompromise`).
pub(crate) fn reason_name(r: Reason) -> &'static str {
    super::asn1::reason_name(r)
}

/// A reason from its RFC 5280 name, any case, with or without dashes
/// (`key-compromise`, `keyCompromise`); removeFromCRL is refused.
pub(crate) fn parse_reason(s: &str) -> Option<Reason> {
    let plain: String = s.chars().filter(|c| *c != '-' && *c != '_').collect();
    super::asn1::reason_from_name(&plain).filter(|r| *r != Reason::RemoveFromCRL)
}

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Revoked {
    /// The issuer's name, display form.
    pub(crate) issuer: String,
    /// The serial's magnitude, big-endian, without leading zero bytes.
    pub(crate) serial: Vec<u8>,
    /// The revocation date, Unix seconds.
    pub(crate) date: i64,
    pub(crate) reason: Reason,
    /// A note for people (the subject), not used.
    pub(crate) subject: Option<String>,
}

/// A revocation list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RevocationList {
    pub(crate) entries: Vec<Revoked>,
}

/// A list that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{detail}")]
pub(crate) struct ListError {
    pub(crate) detail: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    revoked: Vec<EntryToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryToml {
    issuer: String,
    serial: String,
    date: String,
    reason: Option<String>,
    subject: Option<String>,
}

/// The serial's magnitude without leading zeros (at least one byte).
pub(crate) fn trim_serial(serial: &[u8]) -> Vec<u8> {
    let start = serial
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(serial.len().saturating_sub(1));
    serial[start..].to_vec()
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let clean: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | ' '))
        .collect::<String>();
    let clean = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
        .unwrap_or(&clean);
    if clean.is_empty() || clean.len() > 80 || !clean.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let padded = if clean.len() % 2 == 1 {
        format!("0{clean}")
    } else {
        clean.to_string()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16).ok())
        .collect()
}

fn parse_date(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The certificates in `entries`' chains that `issuer` issued (its name, and
/// a signature its key verifies), each once, in file order: what
/// `keygen --revoke` puts on the CA's list.
pub(crate) fn issued_by<'a>(
    issuer: &Certificate,
    entries: &'a [crate::keystore::model::Entry],
) -> Vec<&'a Certificate> {
    let issuer_key = issuer.public_key.as_ref().ok();
    let mut certs: Vec<&Certificate> = Vec::new();
    for e in entries {
        for c in &e.chain {
            let issued = c.issuer.raw == issuer.subject.raw
                && issuer_key.is_some_and(|k| crate::cert::verify_signature(c, k));
            if issued && !certs.iter().any(|x| x.der == c.der) {
                certs.push(c);
            }
        }
    }
    certs
}

impl RevocationList {
    /// Parse the TOML text (`name` is for messages).
    pub(crate) fn parse(text: &str, name: &str) -> Result<RevocationList, ListError> {
        let f: FileToml = toml::from_str(text).map_err(|e| ListError {
            detail: format!("{name}: {}", e.to_string().trim()),
        })?;
        let mut entries = Vec::with_capacity(f.revoked.len());
        for (i, e) in f.revoked.into_iter().enumerate() {
            let at = |what: String| ListError {
                detail: format!("{name}: revoked entry {}: {what}", i + 1),
            };
            let serial = parse_hex(&e.serial)
                .ok_or_else(|| at(format!("serial {:?} is not hex", e.serial)))?;
            let date = parse_date(&e.date).ok_or_else(|| {
                at(format!(
                    "date {:?} is not RFC 3339 (2026-12-01T12:00:00Z)",
                    e.date
                ))
            })?;
            let reason = match &e.reason {
                None => Reason::Unspecified,
                Some(r) => parse_reason(r)
                    .ok_or_else(|| at(format!("reason {r:?} is not one of {}", reason_names())))?,
            };
            entries.push(Revoked {
                issuer: e.issuer,
                serial: trim_serial(&serial),
                date,
                reason,
                subject: e.subject,
            });
        }
        Ok(RevocationList { entries })
    }

    /// The TOML text (what [`RevocationList::parse`] reads back): the
    /// comment lines `about` (which commands write and read the file; the
    /// output layer words them), the reason names, then the entries.
    pub(crate) fn to_toml(&self, about: &str) -> String {
        let mut s = String::from(about);
        s.push_str(
            "# reason: unspecified, keyCompromise, cACompromise, affiliationChanged,\n\
             # superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise\n",
        );
        for e in &self.entries {
            s.push_str("\n[[revoked]]\n");
            s.push_str(&format!("issuer = {}\n", quote(&e.issuer)));
            s.push_str(&format!(
                "serial = {}\n",
                quote(&crate::cert::hex(&e.serial).to_uppercase())
            ));
            s.push_str(&format!(
                "date = {}\n",
                quote(&crate::timefmt::rfc3339(e.date))
            ));
            s.push_str(&format!("reason = {}\n", quote(reason_name(e.reason))));
            if let Some(subj) = &e.subject {
                s.push_str(&format!("subject = {}\n", quote(subj)));
            }
        }
        s
    }

    /// The entry for a certificate (issuer name and serial), if revoked.
    pub(crate) fn find(&self, issuer: &str, serial: &[u8]) -> Option<&Revoked> {
        let serial = trim_serial(serial);
        self.entries
            .iter()
            .find(|e| e.issuer == issuer && e.serial == serial)
    }

    /// The entry for a certificate, if it is revoked.
    pub(crate) fn lookup(&self, cert: &Certificate) -> Option<&Revoked> {
        self.find(&cert.issuer.to_display(), &cert.serial)
    }

    /// The entries of one issuer, in file order.
    pub(crate) fn of_issuer<'a>(
        &'a self,
        issuer: &'a str,
    ) -> impl Iterator<Item = &'a Revoked> + 'a {
        self.entries.iter().filter(move |e| e.issuer == issuer)
    }

    /// Add a certificate; false when it is listed already (nothing changes).
    pub(crate) fn revoke(&mut self, cert: &Certificate, date: i64, reason: Reason) -> bool {
        if self.lookup(cert).is_some() {
            return false;
        }
        self.entries.push(Revoked {
            issuer: cert.issuer.to_display(),
            serial: trim_serial(&cert.serial),
            date,
            reason,
            subject: Some(cert.subject.to_display()),
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let list = RevocationList {
            entries: vec![Revoked {
                issuer: "C=NO, O=A \"B\", CN=C\\D".into(),
                serial: vec![0x4a, 0x01],
                date: 1_800_000_000,
                reason: Reason::KeyCompromise,
                subject: Some("CN=x".into()),
            }],
        };
        let text = list.to_toml("# about\n");
        assert!(text.starts_with("# about\n# reason: "), "{text}");
        assert_eq!(RevocationList::parse(&text, "l").expect("parse"), list);
        let l = RevocationList::parse(
            "[[revoked]]\nissuer = \"CN=I\"\nserial = \"00:4a:01\"\ndate = \"2027-01-15T08:00:00Z\"\nreason = \"key-compromise\"\n",
            "l",
        )
        .expect("parse");
        assert_eq!(l.entries[0].serial, vec![0x4a, 0x01]);
        assert!(l.find("CN=I", &[0, 0x4a, 1]).is_some());
        assert!(l.find("CN=J", &[0x4a, 1]).is_none());
        assert!(
            RevocationList::parse("", "l")
                .expect("empty")
                .entries
                .is_empty()
        );
        for bad in [
            "[[revoked]]\nissuer = \"CN=I\"\nserial = \"xyz\"\ndate = \"2027-01-15T08:00:00Z\"\n",
            "[[revoked]]\nissuer = \"CN=I\"\nserial = \"01\"\ndate = \"yesterday\"\n",
            "[[revoked]]\nissuer = \"CN=I\"\nserial = \"01\"\ndate = \"2027-01-15T08:00:00Z\"\nreason = \"bored\"\n",
            "[[revoked]]\nissuer = \"CN=I\"\nserial = \"01\"\ndate = \"2027-01-15T08:00:00Z\"\ncolour = 1\n",
        ] {
            let e = RevocationList::parse(bad, "l").expect_err(bad);
            assert!(e.detail.starts_with("l:"), "{}", e.detail);
        }
        assert_eq!(parse_reason("CACompromise"), Some(Reason::CaCompromise));
        assert_eq!(parse_reason("key-compromise"), Some(Reason::KeyCompromise));
        assert_eq!(parse_reason("removeFromCRL"), None);
    }

    #[test]
    fn default_path_is_next_to_the_ca() {
        assert_eq!(
            default_path(std::path::Path::new("dir/ca-intermediate.p12")),
            std::path::Path::new("dir/ca-intermediate.revoked.toml")
        );
    }
}
