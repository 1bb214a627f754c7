//! Text rendering of the `check` report: one block per finding
//! (`error[id]: message`, then `why:`, `fix:` and `run:`), a count and a verdict.

use super::Render;
use super::remedy::{command, text};
use super::sanitize::line as safe;
use crate::diagnostics::check::CheckReport;
use crate::revocation::check::Status;
use crate::target::Target;
use std::fmt::Write;

/// Text wider than this is wrapped (commands never are).
const WIDTH: usize = 100;

impl Render for CheckReport {
    fn render_text(&self, out: &mut String) {
        let target = match self.target {
            Target::Generic => "any token endpoint (--for generic)".to_string(),
            t => t.server().to_string(),
        };
        let env = self
            .env
            .map(|e| format!(", --env {}", e.name()))
            .unwrap_or_default();
        let what = match (&self.checked, &self.entry) {
            (Some(_), Some(alias)) => format!("checked entry \"{}\"", safe(alias)),
            (Some(_), None) => "checked the private key".to_string(),
            (None, _) => "no entry could be checked".to_string(),
        };
        let _ = writeln!(out, "{}: {what}, for {target}{env}", safe(&self.file));
        render_checked(self, out);
        render_revocation(self, out);
        render_findings(self, out);
        render_summary(self, out);
    }
}

/// The checked entry: key, certificate, issuer, validity, org number.
fn render_checked(r: &CheckReport, out: &mut String) {
    if let Some(c) = &r.checked {
        let rows = [
            ("key", c.key.as_deref()),
            ("certificate", c.subject.as_deref()),
            ("issuer", c.issuer.as_deref()),
            ("valid until", c.not_after.as_deref()),
            ("org number", c.org_number.as_deref()),
        ];
        for (name, value) in rows {
            if let Some(v) = value {
                let _ = writeln!(out, "  {:<13} {}", format!("{name}:"), safe(v));
            }
        }
        if c.subject.is_none() {
            let _ = writeln!(out, "  certificate:  none");
        }
    }
}

/// One line per certificate whose revocation status was asked.
fn render_revocation(r: &CheckReport, out: &mut String) {
    if let Some(rev) = &r.revocation {
        for c in &rev.certificates {
            let status = match &c.status {
                Status::Good => "good".to_string(),
                Status::Revoked { revoked_at, .. } => format!("REVOKED on {revoked_at}"),
                Status::Unknown => "unknown to the CA".to_string(),
                Status::Unavailable => "not available".to_string(),
            };
            let from = match (c.source, &c.url) {
                (Some(src), Some(u)) => format!(" ({} {u})", src.to_uppercase()),
                _ => String::new(),
            };
            let whose = if c.index == 0 {
                String::new()
            } else {
                format!(" [CA \"{}\"]", c.subject)
            };
            let _ = writeln!(
                out,
                "  {:<13} {}",
                "revocation:",
                safe(&format!("{status}{from}{whose}"))
            );
        }
    }
}

/// One block per finding: `error[id]: message`, then why, fix and run.
fn render_findings(r: &CheckReport, out: &mut String) {
    for f in &r.findings {
        out.push('\n');
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            f.severity.label(),
            f.id,
            safe(&text(&f.message))
        );
        wrap_into(out, "  why: ", &safe(&text(&f.why)));
        wrap_into(out, "  fix: ", &safe(&text(&f.fix)));
        if let Some(cmd) = &f.command {
            let _ = writeln!(out, "  run: {}", safe(&command(cmd)));
        }
    }
}

/// The counts and the verdict.
fn render_summary(r: &CheckReport, out: &mut String) {
    out.push('\n');
    let s = &r.summary;
    let _ = writeln!(
        out,
        "{}, {}, {}",
        count(s.errors, "error", "errors"),
        count(s.warnings, "warning", "warnings"),
        count(s.infos, "info", "infos")
    );
    let purpose = r.target.purpose();
    if s.errors > 0 {
        let _ = writeln!(
            out,
            "NOT fit to sign {purpose}: fix the {} above.",
            if s.errors == 1 { "error" } else { "errors" }
        );
    } else if s.warnings > 0 {
        let _ = writeln!(
            out,
            "Fit to sign {purpose}, but read the {} above.",
            if s.warnings == 1 {
                "warning"
            } else {
                "warnings"
            }
        );
    } else {
        let _ = writeln!(out, "Fit to sign {purpose}.");
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Write `prefix` + `text`, wrapped at [`WIDTH`] with continuation lines
/// indented to the text.
fn wrap_into(out: &mut String, prefix: &str, text: &str) {
    let indent = " ".repeat(prefix.chars().count());
    let mut line = prefix.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = indent.clone();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    #[test]
    fn wraps_long_text_under_its_label() {
        let mut s = String::new();
        let text = "word ".repeat(40);
        super::wrap_into(&mut s, "  why: ", text.trim());
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= super::WIDTH));
        assert!(lines[0].starts_with("  why: word"));
        assert!(lines[1].starts_with("       word"));
    }
}
