//! Output of `credkit token`: the token (plain, header, export line, JSON),
//! the verbose transcript, the diagnosis of a refusal, the Postman file.

use super::Render;
use super::sanitize::line as safe;
use crate::diagnostics::Finding;
use crate::oauth::cache::Cached;
use crate::oauth::client::{CacheNotice, TokenSettings};
use crate::oauth::diagnose::Diagnosis;
use crate::oauth::exchange::Event;
use crate::oauth::redact;
use crate::timefmt::rfc3339;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

/// A token. JSON: the server's response members, plus `expires_at`
/// (RFC 3339, null when the server gave no `expires_in`), `cached` and
/// `schema` = `credkit.token/1`.
#[derive(Debug)]
pub(crate) struct TokenReport {
    pub(crate) response: Map<String, Value>,
    pub(crate) expires_at: Option<String>,
    pub(crate) cached: bool,
    pub(crate) token_type: Option<String>,
    /// Text form: `Authorization: Bearer ...`.
    pub(crate) header: bool,
    /// Text form: `export VAR=...`.
    pub(crate) env_export: Option<String>,
    /// `binding` (sender-constrained tokens): `dpop_jkt`, `x5t#S256` (the
    /// TLS client certificate's thumbprint), `token_cnf` (the token's own
    /// `cnf`, when it is a JWT) and `cnf_matches` (true, false, or null when
    /// there is nothing to compare).
    pub(crate) binding: Option<Value>,
    /// Where the refresh token was kept (0600), when it was; JSON
    /// `refresh_token_file` (absent otherwise).
    pub(crate) refresh_token_file: Option<String>,
}

impl Serialize for TokenReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema", "credkit.token/1")?;
        for (k, v) in &self.response {
            if !matches!(
                k.as_str(),
                "schema" | "expires_at" | "cached" | "refresh_token_file"
            ) {
                m.serialize_entry(k, v)?;
            }
        }
        m.serialize_entry("expires_at", &self.expires_at)?;
        m.serialize_entry("cached", &self.cached)?;
        if let Some(b) = &self.binding {
            m.serialize_entry("binding", b)?;
        }
        if let Some(f) = &self.refresh_token_file {
            m.serialize_entry("refresh_token_file", f)?;
        }
        m.end()
    }
}

/// Quote for a POSIX shell (tokens are normally plain, but a server could send anything).
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl Render for TokenReport {
    fn render_text(&self, out: &mut String) {
        let token = self
            .response
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default();
        // A token is one line: control characters would be an attack on the terminal.
        let token: String = token.chars().filter(|c| !c.is_control()).collect();
        if self.header {
            let scheme = match self.token_type.as_deref() {
                Some(t) if t.eq_ignore_ascii_case("dpop") => "DPoP",
                _ => "Bearer",
            };
            let _ = writeln!(out, "Authorization: {scheme} {token}");
        } else if let Some(var) = &self.env_export {
            let _ = writeln!(out, "export {var}={}", sh(&token));
        } else {
            out.push_str(&token);
            out.push('\n');
        }
    }
}

/// Warning and error findings of the credential check, as status lines.
pub(crate) fn findings(findings: &[Finding], quiet: bool) {
    for f in findings {
        super::status(
            quiet,
            &format!(
                "{}[{}]: {}",
                f.severity.label(),
                f.id,
                safe(&super::remedy::text(&f.message))
            ),
        );
    }
}

/// `--verbose` transcript and retry notices, on stderr.
pub(crate) fn event(e: &Event, verbose: bool, quiet: bool) {
    let mut s = String::new();
    match e {
        Event::Request {
            attempt,
            method,
            url,
            proxy,
            headers,
            body,
        } if verbose => request(
            &mut s,
            *attempt,
            method,
            url,
            proxy.as_deref(),
            headers,
            body,
        ),
        Event::Response {
            status,
            headers,
            body,
            millis,
        } if verbose => response(&mut s, *status, headers, body, *millis),
        Event::Discovered {
            token_endpoint,
            metadata_url,
        } if verbose => {
            let _ = writeln!(
                s,
                "credkit: token endpoint {} (from {})",
                safe(token_endpoint),
                safe(metadata_url)
            );
        }
        // The user's part of an interactive grant: shown even with --quiet
        // (nothing happens without it).
        Event::Authorize {
            url,
            browser,
            redirect_uri,
            timeout,
        } => sign_in(&mut s, url, *browser, redirect_uri, *timeout),
        Event::DeviceCode {
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in,
        } => device_approval(
            &mut s,
            user_code,
            verification_uri,
            verification_uri_complete.as_deref(),
            *expires_in,
        ),
        Event::Pending { error, next_in } if verbose => pending(&mut s, error, *next_in),
        Event::Retry {
            attempt,
            wait,
            reason,
        } if !quiet => retry(&mut s, *attempt, *wait, reason),
        _ => {}
    }
    if !s.is_empty() {
        let _ = std::io::stderr().lock().write_all(s.as_bytes());
    }
}

/// The transcript of a request about to go out (secrets already redacted).
fn request(
    s: &mut String,
    attempt: u32,
    method: &str,
    url: &str,
    proxy: Option<&str>,
    headers: &[(String, String)],
    body: &str,
) {
    let _ = writeln!(s, "> {method} {url}  (attempt {attempt})");
    if let Some(p) = proxy {
        let _ = writeln!(s, "> (through the proxy {p})");
    }
    for (k, v) in headers {
        let _ = writeln!(s, "> {k}: {v}");
    }
    let _ = writeln!(s, ">");
    let _ = writeln!(s, "> {}", safe(body));
}

/// The transcript of an answer (tokens already redacted; header values are
/// redacted again here).
fn response(s: &mut String, status: u16, headers: &[(String, String)], body: &str, millis: u128) {
    let _ = writeln!(s, "< HTTP {status}  ({millis} ms)");
    for (k, v) in headers {
        let _ = writeln!(s, "< {k}: {}", safe(&redact::text(v)));
    }
    let _ = writeln!(s, "<");
    let _ = writeln!(s, "< {}", safe(body));
}

/// The device grant is not approved yet; when the next poll is.
fn pending(s: &mut String, error: &str, next_in: Duration) {
    let _ = writeln!(
        s,
        "credkit: {}: not approved yet, asking again in {} s",
        safe(error),
        next_in.as_secs()
    );
}

/// An attempt failed and another follows (a new JWT is minted for it).
fn retry(s: &mut String, attempt: u32, wait: Duration, reason: &str) {
    let _ = writeln!(
        s,
        "credkit: attempt {attempt} failed ({}), trying again in {:.1} s with a new JWT",
        safe(reason),
        wait.as_secs_f64()
    );
}

/// The authorization code grant's part for the user: the URL to sign in at
/// and where the redirect is awaited.
fn sign_in(s: &mut String, url: &str, browser: bool, redirect_uri: &str, timeout: Duration) {
    if browser {
        let _ = writeln!(
            s,
            "credkit: sign in in the browser that opened; if none did, open this URL:"
        );
    } else {
        let _ = writeln!(s, "credkit: open this URL in a browser and sign in:");
    }
    let _ = writeln!(s, "  {}", safe(url));
    let _ = writeln!(
        s,
        "credkit: waiting up to {} s for the redirect to {}",
        timeout.as_secs(),
        safe(redirect_uri)
    );
}

/// The device grant's part for the user: where to enter which code.
fn device_approval(
    s: &mut String,
    user_code: &str,
    verification_uri: &str,
    complete: Option<&str>,
    expires_in: u64,
) {
    let _ = writeln!(
        s,
        "credkit: on any device, open {} and enter the code {}",
        safe(verification_uri),
        safe(user_code)
    );
    if let Some(c) = complete {
        let _ = writeln!(s, "credkit: or open {} (the code filled in)", safe(c));
    }
    let _ = writeln!(
        s,
        "credkit: waiting for the approval (the code is valid for {expires_in} s)"
    );
}

/// The text explanation of a refusal (after the `error:` line).
pub(crate) fn render_diagnosis(d: &Diagnosis, out: &mut String) {
    let s = &d.server;
    if !d.endpoint.is_empty() {
        let _ = writeln!(out, "  endpoint:          {}", safe(&d.endpoint));
    }
    if s.status != 0 {
        let _ = writeln!(out, "  HTTP status:       {}", s.status);
    }
    let _ = writeln!(
        out,
        "  error:             {}",
        safe(s.error.as_deref().unwrap_or("(none)"))
    );
    if let Some(desc) = &s.error_description {
        let _ = writeln!(out, "  error_description: {}", safe(desc));
    }
    if let Some(u) = &s.error_uri {
        let _ = writeln!(out, "  error_uri:         {}", safe(u));
    }
    if let Some(b) = &s.body {
        // Redacted when it was read (oauth::exchange::parse); once more here,
        // because this is where it meets the terminal.
        let _ = writeln!(out, "  body:              {}", safe(&redact::text(b)));
    }
    if let Some(k) = &d.known {
        let code = k.code.map(|c| format!(" {c}")).unwrap_or_default();
        let _ = writeln!(out, "known answer: {}{code} ({})", k.provider, k.id);
        let _ = writeln!(out, "likely cause: {}", k.cause);
        let _ = writeln!(out, "fix: {}", super::remedy::text(&k.fix));
    } else if let Some(g) = &d.general {
        let _ = writeln!(out, "meaning: {g}");
    }
    if !d.candidates.is_empty() {
        let _ = writeln!(out, "the server does not say which; the usual causes are:");
        for c in &d.candidates {
            let _ = writeln!(out, "  - {}", super::remedy::text(c));
        }
    }
    for f in &d.facts {
        let tag = if f.problem { "problem" } else { "fact" };
        let _ = writeln!(
            out,
            "{tag}[{}]: {}",
            f.id,
            safe(&super::remedy::text(&f.message))
        );
    }
    for f in &d.findings {
        let _ = writeln!(
            out,
            "{}[{}]: {} -> {}",
            f.severity.label(),
            f.id,
            safe(&super::remedy::text(&f.message)),
            safe(&super::remedy::text(&f.fix))
        );
    }
}

impl TokenReport {
    /// The report of a token response (`header`, `env_export`: the text form).
    pub(crate) fn of(
        c: &Cached,
        cached: bool,
        header: bool,
        env_export: Option<String>,
    ) -> TokenReport {
        TokenReport {
            response: c.response.clone(),
            expires_at: c.expires_at_rfc3339(),
            cached,
            token_type: c
                .response
                .get("token_type")
                .and_then(Value::as_str)
                .map(str::to_string),
            header,
            env_export,
            binding: crate::oauth::client::binding_report(c),
            refresh_token_file: None,
        }
    }

    /// Warn on stderr when the token's `cnf` names another key or
    /// certificate than the one credkit holds.
    pub(crate) fn warn_binding(&self, quiet: bool) {
        let matches = self
            .binding
            .as_ref()
            .and_then(|b| b["cnf_matches"].as_bool());
        if matches == Some(false) {
            super::status(
                quiet,
                "credkit: warning: the token's cnf names another key or certificate than the one \
                 credkit holds",
            );
        }
    }

    /// With the file the refresh token was kept in (announced on stderr).
    pub(crate) fn kept(mut self, file: Option<&std::path::Path>, quiet: bool) -> TokenReport {
        if let Some(f) = file {
            let f = f.display().to_string();
            super::status(quiet, &format!("credkit: refresh token kept in {f}"));
            self.refresh_token_file = Some(f);
        }
        self
    }
}

/// What happened with the token cache, on stderr (`quiet` silences the
/// warnings; `quiet_status` also the "from the cache" line, as with --json).
pub(crate) fn cache_notice(n: &CacheNotice<'_>, quiet: bool, quiet_status: bool) {
    match n {
        CacheNotice::Skipped(r) => super::status(
            quiet,
            &format!(
                "credkit: warning: not using the token cache: {r} ({}); fetching a new token",
                r.hint()
            ),
        ),
        CacheNotice::Hit { expires_in } => super::status(
            quiet_status,
            &format!("credkit: token from the cache (expires in {expires_in} s)"),
        ),
        CacheNotice::NotWritten { dir, error } => super::status(
            quiet,
            &format!(
                "credkit: warning: cannot write the cache in {}: {error}",
                dir.display()
            ),
        ),
    }
}

/// Write (or update) the Postman environment `path` with the token `c`
/// obtained with settings `s`. An existing Postman environment keeps its
/// other variables; any other existing file is left alone (an
/// `AlreadyExists` error).
pub(crate) fn write_postman(
    path: &Path,
    now: i64,
    s: &TokenSettings,
    c: &Cached,
) -> std::io::Result<()> {
    let existing = match std::fs::read(path) {
        Ok(b) => match serde_json::from_slice::<Value>(&b) {
            Ok(v) if v.get("_postman_variable_scope").is_some() => Some(v),
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the file exists and is not a Postman environment",
                ));
            }
        },
        Err(_) => None,
    };
    let expires_at = c.expires_at_rfc3339();
    let vars = postman_values(
        c.access_token(),
        expires_at.as_deref(),
        &c.endpoint,
        s.client_id.as_deref(),
        s.scope.as_deref(),
        s.issuer.as_deref().or(s.env.map(|e| e.issuer())),
    );
    let mut r = [0u8; 16];
    let _ = getrandom::fill(&mut r);
    let doc = postman_env(
        existing,
        vars,
        &rfc3339(now),
        &crate::jwt::mint::uuid_v4(&r),
    );
    let bytes = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    super::files::write_atomic(path, &bytes, true, true)
}

/// The variables credkit writes into a Postman environment.
pub(crate) fn postman_values(
    token: &str,
    expires_at: Option<&str>,
    endpoint: &str,
    client_id: Option<&str>,
    scope: Option<&str>,
    issuer: Option<&str>,
) -> Vec<Value> {
    let mut v = vec![
        json!({"key": "access_token", "value": token, "type": "secret", "enabled": true}),
        json!({"key": "token_expires_at", "value": expires_at.unwrap_or(""), "type": "default", "enabled": true}),
        json!({"key": "token_endpoint", "value": endpoint, "type": "default", "enabled": true}),
    ];
    for (k, val) in [
        ("client_id", client_id),
        ("scope", scope),
        ("issuer", issuer),
    ] {
        if let Some(x) = val {
            v.push(json!({"key": k, "value": x, "type": "default", "enabled": true}));
        }
    }
    v
}

/// A Postman environment document: a new one, or `existing` with credkit's
/// variables replaced and the others kept.
pub(crate) fn postman_env(
    existing: Option<Value>,
    values: Vec<Value>,
    now: &str,
    id: &str,
) -> Value {
    let mut doc = existing.unwrap_or_else(|| {
        json!({"id": id, "name": "credkit token", "values": [], "_postman_variable_scope": "environment"})
    });
    let ours: Vec<String> = values
        .iter()
        .filter_map(|v| v["key"].as_str().map(str::to_string))
        .collect();
    let mut kept: Vec<Value> = doc["values"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|v| {
            !v["key"]
                .as_str()
                .is_some_and(|k| ours.iter().any(|o| o == k))
        })
        .collect();
    kept.extend(values);
    doc["values"] = Value::Array(kept);
    doc["_postman_exported_at"] = json!(now);
    doc["_postman_exported_using"] = json!(concat!("credkit/", env!("CARGO_PKG_VERSION")));
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms() {
        let mut m = Map::new();
        m.insert("access_token".into(), json!("abc.def.ghi"));
        let mut r = TokenReport {
            response: m,
            expires_at: None,
            cached: false,
            token_type: Some("Bearer".into()),
            header: false,
            env_export: None,
            binding: None,
            refresh_token_file: None,
        };
        let mut s = String::new();
        r.render_text(&mut s);
        assert_eq!(s, "abc.def.ghi\n");
        r.header = true;
        s.clear();
        r.render_text(&mut s);
        assert_eq!(s, "Authorization: Bearer abc.def.ghi\n");
        r.header = false;
        r.env_export = Some("TOK".into());
        s.clear();
        r.render_text(&mut s);
        assert_eq!(s, "export TOK=abc.def.ghi\n");
    }

    #[test]
    fn postman_keeps_other_variables() {
        let existing = json!({"id": "x", "name": "mine", "values": [
            {"key": "baseUrl", "value": "https://api", "enabled": true},
            {"key": "access_token", "value": "old", "enabled": true}
        ], "_postman_variable_scope": "environment"});
        let doc = postman_env(
            Some(existing),
            postman_values(
                "new",
                Some("2026-01-01T00:00:00Z"),
                "https://e/token",
                None,
                None,
                None,
            ),
            "now",
            "id",
        );
        let vals = doc["values"].as_array().expect("values");
        assert!(vals.iter().any(|v| v["key"] == "baseUrl"));
        assert_eq!(
            vals.iter().filter(|v| v["key"] == "access_token").count(),
            1
        );
        assert_eq!(doc["name"], "mine");
    }
}

/// `credkit explain` (schema `credkit.explain/1`): the diagnosis object a
/// refusal of `credkit token` carries, for an answer copied from elsewhere.
#[derive(Debug, Serialize)]
pub(crate) struct ExplainReport {
    pub(crate) schema: &'static str,
    /// `trace_id` (or correlation id) found in the text, for the provider's support.
    pub(crate) trace_id: Option<String>,
    pub(crate) diagnosis: Diagnosis,
}

impl ExplainReport {
    pub(crate) fn new(trace_id: Option<String>, diagnosis: Diagnosis) -> ExplainReport {
        ExplainReport {
            schema: "credkit.explain/1",
            trace_id,
            diagnosis,
        }
    }
}

impl Render for ExplainReport {
    fn render_text(&self, out: &mut String) {
        render_diagnosis(&self.diagnosis, out);
        if let Some(t) = &self.trace_id {
            let _ = writeln!(
                out,
                "trace id: {} (quote it to the provider's support)",
                safe(t)
            );
        }
    }
}
