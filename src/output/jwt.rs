//! Text and JSON for `jwt mint | decode | verify`.

use super::Render;
use super::sanitize::line as safe;
use crate::diagnostics::findings::Finding;
use crate::jwt::decode::{Decoded, Problem, human_span};
use crate::jwt::verify::Verdict;
use crate::target::Target;
use crate::timefmt::rfc3339;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Write;
use time::OffsetDateTime;

/// `jwt mint --json` (schema `credkit.jwt.mint/1`).
#[derive(Debug, Serialize)]
pub struct MintReport {
    pub schema: &'static str,
    pub profile: Target,
    pub alg: &'static str,
    /// The keystore entry that signed.
    pub entry: Option<String>,
    pub header: Map<String, Value>,
    pub tokens: Vec<String>,
    /// The credential check's findings.
    pub findings: Vec<Finding>,
}

/// `jwt mint --dpop-proof --json` (schema `credkit.jwt.dpop/1`): the proof,
/// its algorithm, the key's RFC 7638 thumbprint (`jkt`), `htm` and `htu`.
#[derive(Debug, Serialize)]
pub struct DpopProofReport {
    pub schema: &'static str,
    pub proof: String,
    pub alg: &'static str,
    pub jkt: String,
    pub htm: String,
    pub htu: String,
}

impl Render for DpopProofReport {
    fn render_text(&self, out: &mut String) {
        out.push_str(&self.proof);
        out.push('\n');
    }
}

impl Render for MintReport {
    fn render_text(&self, out: &mut String) {
        for t in &self.tokens {
            out.push_str(t);
            out.push('\n');
        }
    }
}

/// A time claim shown as a date and relative to --now.
#[derive(Debug, Serialize)]
pub struct TimeClaim {
    pub claim: String,
    pub value: i64,
    pub date: String,
    /// Seconds from --now (negative: in the past).
    pub from_now: i64,
}

/// `jwt decode` (schema `credkit.jwt.decode/1`).
#[derive(Debug, Serialize)]
pub struct DecodeReport {
    pub schema: &'static str,
    /// Always false: decode does not check the signature.
    pub verified: bool,
    /// The rules the token was judged by (given or guessed from aud).
    pub profile: Target,
    /// What the token is: `grant` (or client assertion), `access-token`,
    /// `id-token` or `unknown`; the target's rules apply to grants.
    pub kind: crate::jwt::decode::Kind,
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    pub times: Vec<TimeClaim>,
    pub problems: Vec<Problem>,
}

impl DecodeReport {
    pub fn new(
        d: &Decoded,
        profile: Target,
        problems: Vec<Problem>,
        now: OffsetDateTime,
    ) -> DecodeReport {
        let times = ["iat", "nbf", "exp"]
            .iter()
            .filter_map(|c| {
                d.num(c).map(|v| TimeClaim {
                    claim: c.to_string(),
                    value: v,
                    date: rfc3339(v),
                    from_now: v - now.unix_timestamp(),
                })
            })
            .collect();
        DecodeReport {
            schema: "credkit.jwt.decode/1",
            verified: false,
            profile,
            kind: crate::jwt::decode::Kind::of(d),
            header: d.header.clone(),
            claims: d.claims.clone(),
            times,
            problems,
        }
    }
}

fn pretty(v: &Map<String, Value>) -> String {
    let s = serde_json::to_string_pretty(v).unwrap_or_default();
    // Long x5c values make the header unreadable: shorten them for text.
    s.lines()
        .map(|l| {
            if l.chars().count() > 110 {
                let cut: String = l.chars().take(100).collect();
                format!("{cut}…\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Render for DecodeReport {
    fn render_text(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "Header (signature NOT verified):\n{}",
            safe_block(&pretty(&self.header))
        );
        let _ = writeln!(out, "Claims:\n{}", safe_block(&pretty(&self.claims)));
        if !self.times.is_empty() {
            let _ = writeln!(out, "Times:");
            for t in &self.times {
                let rel = if t.from_now >= 0 {
                    format!("in {}", human_span(t.from_now))
                } else {
                    format!("{} ago", human_span(t.from_now))
                };
                let _ = writeln!(out, "  {:4} {}  ({rel})", t.claim, t.date);
            }
            if let (Some(i), Some(e)) = (
                self.times.iter().find(|t| t.claim == "iat"),
                self.times.iter().find(|t| t.claim == "exp"),
            ) {
                let _ = writeln!(out, "  lifetime (exp − iat): {} s", e.value - i.value);
            }
        }
        let _ = writeln!(
            out,
            "Judged as: {} ({})",
            self.kind.name(),
            self.profile.name()
        );
        if self.problems.is_empty() {
            let _ = writeln!(out, "Problems: none found");
        } else {
            for p in &self.problems {
                let _ = writeln!(out, "{}[{}]: {}", p.severity, p.id, safe(&p.message));
            }
        }
    }
}

fn safe_block(s: &str) -> String {
    s.lines().map(safe).collect::<Vec<_>>().join("\n")
}

impl Render for Verdict {
    fn render_text(&self, out: &mut String) {
        if self.valid {
            let _ = writeln!(
                out,
                "valid: {} signature verified with {}",
                self.alg.as_deref().unwrap_or("?"),
                safe(self.key.as_deref().unwrap_or("?"))
            );
            for c in ["iss", "sub", "aud", "scope"] {
                if let Some(v) = self.claims.get(c) {
                    let _ = writeln!(out, "  {c}: {}", safe(&v.to_string()));
                }
            }
            if let Some(exp) = self.claims.get("exp").and_then(Value::as_i64) {
                let _ = writeln!(out, "  exp: {}", rfc3339(exp));
            }
        } else {
            let _ = writeln!(
                out,
                "INVALID[{}]: {}",
                self.reason_id.unwrap_or("jwt-invalid"),
                safe(self.reason.as_deref().unwrap_or("?"))
            );
        }
    }
}
