//! Text rendering of the `inspect` report.

use super::Render;
use super::sanitize::line as safe;
use crate::keystore::inspect::{CertReport, EntryReport, InspectReport};
use std::fmt::Write;

impl Render for InspectReport {
    fn render_text(&self, out: &mut String) {
        let n = self.entries.len();
        let _ = writeln!(
            out,
            "{}: {}{}, {} entr{}",
            safe(&self.file),
            self.format.label(),
            self.version
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default(),
            n,
            if n == 1 { "y" } else { "ies" }
        );
        match self.integrity_verified {
            Some(true) => {
                let how = self
                    .pkcs12
                    .as_ref()
                    .and_then(|p| p.mac.as_ref())
                    .map(|m| format!("MAC {}, {} iterations, ", m.algorithm, m.iterations))
                    .unwrap_or_default();
                let _ = writeln!(out, "  integrity:    {how}verified");
            }
            Some(false) => {
                let _ = writeln!(out, "  integrity:    FAILED");
            }
            None => {
                let _ = writeln!(out, "  integrity:    not checked");
            }
        }
        if let Some(p) = &self.pkcs12 {
            for c in &p.certificates {
                let _ = writeln!(out, "  certificates: {c}");
            }
            for k in dedup(&p.keys) {
                let _ = writeln!(out, "  keys:         {k}");
            }
            if let Some(ep) = &p.empty_password {
                let _ = writeln!(out, "  password:     empty; {}", empty_password(ep));
            }
            if p.unencrypted_content {
                let _ = writeln!(
                    out,
                    "  unencrypted:  some certificates or keys are stored without encryption"
                );
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {}", safe(&super::remedy::text(note)));
        }
        for e in &self.entries {
            out.push('\n');
            render_entry(e, out);
        }
    }
}

/// Which encoding of the empty password opened each part, e.g. "MAC as
/// NULL (no bytes), certificates as empty string (00 00), keys as NULL (no bytes)".
fn empty_password(ep: &crate::keystore::model::EmptyPasswordReport) -> String {
    use crate::keystore::model::EmptyPasswordEncoding as E;
    let list = |v: &[Option<E>]| -> Option<String> {
        let labels = dedup(&v.iter().flatten().map(|e| e.label()).collect::<Vec<_>>());
        (!labels.is_empty()).then(|| labels.join(" and "))
    };
    let mut parts = Vec::new();
    if let Some(m) = ep.mac {
        parts.push(format!("MAC as {}", m.label()));
    }
    if let Some(c) = list(&ep.certificates) {
        parts.push(format!("certificates as {c}"));
    }
    if let Some(k) = list(&ep.keys) {
        parts.push(format!("keys as {k}"));
    }
    if parts.is_empty() {
        "no part uses the PKCS#12 key derivation, so its two encodings do not matter".into()
    } else {
        format!("opened {}", parts.join(", "))
    }
}

fn dedup<T: ToString>(v: &[T]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in v {
        let s = x.to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn render_entry(e: &EntryReport, out: &mut String) {
    let alias = e
        .alias
        .as_deref()
        .map(|a| format!("\"{}\"", safe(a)))
        .unwrap_or_else(|| "(no alias)".into());
    let key = e
        .key
        .as_ref()
        .map(|k| format!(", {}", k.description))
        .unwrap_or_default();
    let _ = writeln!(out, "Entry {alias}: {}{key}", e.kind.label());
    if let Some(c) = &e.created {
        let _ = writeln!(out, "  created:      {c}");
    }
    if let Some(k) = &e.kid {
        let _ = writeln!(out, "  kid:          {}", safe(k));
    }
    if let Some(k) = &e.key {
        if k.locked {
            let _ = writeln!(out, "  key:          present, not decrypted");
        }
        if let Some(t) = &k.jwk_thumbprint {
            let _ = writeln!(out, "  thumbprint:   {t} (RFC 7638, SHA-256)");
        }
        if let Some(p) = &k.protection {
            let _ = writeln!(out, "  protection:   {}", safe(p));
        }
        if let Some(why) = &k.cannot_sign {
            let _ = writeln!(out, "  signing:      not possible: {why}");
        }
    }
    if let Some(s) = &e.secret_algorithm {
        let _ = writeln!(out, "  algorithm:    {}", safe(s));
    }
    match e.key_matches_certificate {
        Some(true) => {
            let _ = writeln!(
                out,
                "  key matches:  yes, the key belongs to the certificate"
            );
        }
        Some(false) => {
            let _ = writeln!(
                out,
                "  key matches:  NO, the key does not belong to the first certificate"
            );
        }
        None => {}
    }
    if let Some(ch) = &e.chain {
        let order = if ch.length == 1 {
            String::new()
        } else if ch.in_order {
            ", in order".into()
        } else {
            ", NOT in order".into()
        };
        let root = if ch.reaches_root && ch.unchecked.iter().any(|u| u.starts_with("self-")) {
            "ends at a self-issued root"
        } else if ch.reaches_root {
            "ends at a self-signed root"
        } else {
            "does not reach a self-signed root"
        };
        let _ = writeln!(
            out,
            "  chain:        {} certificate{}{order}, {root}",
            ch.length,
            if ch.length == 1 { "" } else { "s" }
        );
        for p in ch.problems.iter().chain(&ch.unchecked) {
            let _ = writeln!(out, "                - {}", safe(p));
        }
    }
    for (i, c) in e.certificates.iter().enumerate() {
        render_cert(i, c, out);
    }
}

fn render_cert(i: usize, c: &CertReport, out: &mut String) {
    let _ = writeln!(out, "  [{i}] subject:      {}", safe(&c.subject));
    let _ = writeln!(out, "      issuer:       {}", safe(&c.issuer));
    let _ = writeln!(out, "      serial:       {}", c.serial);
    let when = match c.validity.status {
        "valid" => format!("{} days left", c.validity.days),
        "expired" => format!("EXPIRED {} days ago", c.validity.days),
        _ => format!("NOT YET VALID, starts in {} days", c.validity.days),
    };
    let _ = writeln!(
        out,
        "      valid:        {} to {} ({when})",
        c.not_before, c.not_after
    );
    if let Some(k) = &c.public_key {
        let _ = writeln!(out, "      public key:   {k}");
    }
    let _ = writeln!(out, "      signature:    {}", c.signature_algorithm);
    if let Some(s) = &c.self_signature
        && s != "valid"
    {
        let _ = writeln!(out, "      self-signed:  {}", safe(s));
    }
    for n in &c.not_der {
        let _ = writeln!(
            out,
            "      not DER:      {} (read as openssl reads it)",
            safe(n)
        );
    }
    match &c.key_usage {
        Some(ku) => {
            let _ = writeln!(
                out,
                "      key usage:    {}{}",
                ku.join(", "),
                if c.key_usage_critical {
                    " (critical)"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(out, "      key usage:    (none: any use)");
        }
    }
    if let Some(eku) = &c.extended_key_usage {
        let _ = writeln!(out, "      ext usage:    {}", eku.join(", "));
    }
    if !c.policies.is_empty() {
        let _ = writeln!(out, "      policies:     {}", c.policies.join(", "));
    }
    if c.is_ca == Some(true) {
        let _ = writeln!(out, "      CA:           yes");
    }
    if !c.subject_alt_names.is_empty() {
        let _ = writeln!(
            out,
            "      alt names:    {}",
            safe(&c.subject_alt_names.join(", "))
        );
    }
    for (label, urls) in [
        ("CRL:          ", &c.crl_urls),
        ("OCSP:         ", &c.ocsp_urls),
        ("CA issuers:   ", &c.ca_issuers_urls),
    ] {
        if !urls.is_empty() {
            let _ = writeln!(out, "      {label}{}", safe(&urls.join(", ")));
        }
    }
    if let Some(o) = &c.org_number {
        let _ = writeln!(out, "      org number:   {} (from {})", o.value, o.source);
    }
    let _ = writeln!(out, "      SHA-1:        {}", c.fingerprints.sha1);
    let _ = writeln!(out, "      SHA-256:      {}", c.fingerprints.sha256);
    let _ = writeln!(out, "      x5t:          {}", c.x5t);
    let _ = writeln!(out, "      x5t#S256:     {}", c.x5t_s256);
}
