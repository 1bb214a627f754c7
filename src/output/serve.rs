//! `serve`: what the services print at start, the access log, and the JSON
//! the broker answers when a fetch fails.

use super::Render;
use super::sanitize;
use crate::error::Error;
use crate::oauth::redact;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

/// What a service prints on stdout once it listens (one JSON line with --json).
/// Its `Debug` leaves out the secret and the Postman scripts (which hold it).
#[derive(Serialize)]
pub(crate) struct Started {
    pub(crate) schema: &'static str,
    pub(crate) url: String,
    pub(crate) port: u16,
    /// Broker: the per-run secret and the header that carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret_header: Option<&'static str>,
    /// Broker: the profiles served.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) profiles: Vec<String>,
    /// Broker with --postman-script: one script per profile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) postman_scripts: Vec<(String, String)>,
    /// Mock: the issuer (the grant's aud), token endpoint and JWKS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) clients: Vec<String>,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("schema", &self.schema)
            .field("url", &self.url)
            .field("port", &self.port)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("profiles", &self.profiles)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Render for Started {
    fn render_text(&self, out: &mut String) {
        if let Some(secret) = &self.secret {
            let _ = writeln!(out, "credkit broker listening on {}", self.url);
            let _ = writeln!(out, "secret: {secret}");
            let _ = writeln!(out, "profiles: {}", self.profiles.join(", "));
            if let Some(p) = self.profiles.first() {
                let p: String = url::form_urlencoded::byte_serialize(p.as_bytes()).collect();
                let _ = writeln!(
                    out,
                    "try: curl -H 'X-Credkit-Secret: {secret}' {}/token/{p}",
                    self.url
                );
            }
            for (name, script) in &self.postman_scripts {
                let _ = writeln!(
                    out,
                    "\n// ---- Postman pre-request script for profile {name} ----\n{script}"
                );
            }
        } else {
            let _ = writeln!(out, "credkit mock-maskinporten listening on {}", self.url);
            if let Some(i) = &self.issuer {
                let _ = writeln!(out, "issuer (the grant's aud): {i}");
            }
            if let Some(t) = &self.token_endpoint {
                let _ = writeln!(out, "token endpoint: {t}");
            }
            if let Some(j) = &self.jwks_uri {
                let _ = writeln!(out, "JWKS: {j}");
            }
            let _ = writeln!(out, "clients: {}", self.clients.join(", "));
        }
    }
}

/// What `serve revocation` prints once it listens (schema
/// `credkit.serve.revocation/1`; one JSON line with --json).
#[derive(Debug, Serialize)]
pub(crate) struct RevocationStarted {
    pub(crate) schema: &'static str,
    pub(crate) url: String,
    pub(crate) port: u16,
    /// The OCSP responder's URL.
    pub(crate) ocsp_url: String,
    /// The revocation list read (it may not exist yet: nothing is revoked).
    pub(crate) revocation_list: Option<String>,
    /// Entries in the list at start.
    pub(crate) revoked: usize,
    pub(crate) cas: Vec<ServedCa>,
}

/// One CA `serve revocation` serves.
#[derive(Debug, Serialize)]
pub(crate) struct ServedCa {
    pub(crate) subject: String,
    pub(crate) crl_url: String,
    pub(crate) certificate_url: String,
    /// The subject of the delegated responder that signs its OCSP answers,
    /// null when the CA signs them.
    pub(crate) ocsp_responder: Option<String>,
}

impl Render for RevocationStarted {
    fn render_text(&self, out: &mut String) {
        let _ = writeln!(out, "credkit revocation listening on {}", self.url);
        let _ = writeln!(out, "OCSP: {}", self.ocsp_url);
        for c in &self.cas {
            let _ = writeln!(out, "CA {}", sanitize::line(&c.subject));
            let _ = writeln!(out, "  CRL:         {}", c.crl_url);
            let _ = writeln!(out, "  certificate: {}", c.certificate_url);
            if let Some(r) = &c.ocsp_responder {
                let _ = writeln!(out, "  OCSP signed by {}", sanitize::line(r));
            }
        }
        match &self.revocation_list {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "revocation list: {} ({} revoked)",
                    sanitize::line(l),
                    self.revoked
                );
            }
            None => {
                let _ = writeln!(out, "revocation list: none");
            }
        }
    }
}

/// One access-log line (method, path, status, time; never headers or bodies).
pub(crate) fn log_line(method: &str, path: &str, status: u16, micros: u128) -> String {
    format!(
        "credkit: {} {} {status} {:.1} ms",
        sanitize::line(method),
        sanitize::line(path),
        micros as f64 / 1000.0
    )
}

/// The broker's answer when a token could not be had. Every text in it
/// passes [`redact::text`]: what a server said (a refusal, an error page)
/// goes to whoever asked the broker, and no token or secret may go with it.
pub(crate) fn failure(e: &Error) -> (u16, Value) {
    let shown = |t: &str| sanitize::line(&redact::text(t));
    let message = shown(&e.to_string());
    let hint = e.hint().map(|h| shown(&h));
    match e {
        Error::Refused(d) => (
            502,
            json!({
                "error": "refused",
                "message": message,
                "server_status": d.server.status,
                "server_error": d.server.error.as_deref().map(shown),
                "server_error_description": d.server.error_description.as_deref().map(shown),
                "cause": d.known.as_ref().map(|k| k.cause.clone()).or(d.general.clone()),
                "fix": d.known.as_ref().map(|k| k.fix.clone()),
                "facts": d.facts.iter().filter(|f| f.problem).map(|f| shown(&super::remedy::text(&f.message))).collect::<Vec<_>>(),
                "hint": hint,
            }),
        ),
        Error::Network(_) | Error::Server { .. } => (
            504,
            json!({"error": "unreachable", "code": e.id(), "message": message, "hint": hint}),
        ),
        _ => (
            500,
            json!({"error": "credential", "code": e.id(), "message": message, "hint": hint}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_out_the_secret() {
        let s = Started {
            schema: "credkit.serve.broker/1",
            url: "http://127.0.0.1:1".into(),
            port: 1,
            secret: Some("per-run-secret-value".into()),
            secret_header: Some("X-Credkit-Secret"),
            profiles: vec!["p".into()],
            postman_scripts: vec![("p".into(), "per-run-secret-value".into())],
            issuer: None,
            token_endpoint: None,
            jwks_uri: None,
            clients: Vec::new(),
        };
        let d = format!("{s:?}");
        assert!(!d.contains("per-run-secret-value"), "{d}");
        assert!(d.contains("<redacted>"), "{d}");
    }
}
