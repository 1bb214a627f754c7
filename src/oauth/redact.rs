//! The one place that decides what of a token exchange may be shown: the
//! request form, the answer's body (JSON at any depth, form-encoded, HTML or
//! plain text), an error's text and the broker's answers all pass through
//! here before they reach a terminal, a JSON error or a socket.
//!
//! The rules:
//! - a member or parameter named like a credential (`access_token`,
//!   `refresh_token`, `id_token`, `client_secret`, `assertion`, …) is
//!   redacted wherever it is: a JWT keeps its header and payload (they are
//!   not secret, and they say what was issued) and loses its signature
//!   ([`SIGNATURE_REDACTED`]); anything else becomes [`REDACTED`];
//! - in any other text, a signed JWT loses its signature, and a long opaque
//!   value (32 characters or more of base64 or base64url, mixing upper case,
//!   lower case and digits) becomes [`REDACTED`]. GUIDs, hex digests, URLs
//!   and words are kept, so trace ids stay readable.
//!
//! Without its signature a JWT is no longer a bearer credential; an opaque
//! token is shown not at all.

use serde_json::Value;

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";
/// What replaces a JWT's signature (header and payload are kept).
pub const SIGNATURE_REDACTED: &str = "<signature-redacted>";

/// The shortest run of base64 characters that counts as an opaque token.
const OPAQUE_MIN: usize = 32;

/// Names (compared without case) whose value is a token: a JWT keeps its
/// header and payload.
const TOKEN_KEYS: &[&str] = &[
    "access_token",
    "id_token",
    "issued_token",
    "subject_token",
    "actor_token",
    "assertion",
    "client_assertion",
    "token",
];

/// Names whose value is redacted whole.
const SECRET_KEYS: &[&str] = &[
    "refresh_token",
    "client_secret",
    "password",
    "secret",
    "device_code",
    "code_verifier",
];

/// Names whose value is redacted whole in a request form only (in other
/// JSON, `code` is often a harmless number).
const FORM_SECRET_KEYS: &[&str] = &["code"];

/// Names that are matched in free text (`name=value`, `"name": "value"`).
/// `token` and `secret` are left out: in prose they are ordinary words.
const TEXT_KEYS: &[&str] = &[
    "access_token",
    "id_token",
    "issued_token",
    "subject_token",
    "actor_token",
    "client_assertion",
    "assertion",
    "refresh_token",
    "client_secret",
    "password",
    "device_code",
    "code_verifier",
];

fn is_token_key(k: &str) -> bool {
    TOKEN_KEYS.iter().any(|t| t.eq_ignore_ascii_case(k))
}

fn is_secret_key(k: &str) -> bool {
    SECRET_KEYS.iter().any(|t| t.eq_ignore_ascii_case(k))
}

/// A JWT without its signature; anything else not at all. One with no
/// signature (`alg: none`, or already redacted) is kept as it is.
pub fn jwt(s: &str) -> String {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() == 3 && parts[2].is_empty() {
        s.to_string()
    } else if parts.len() == 3 {
        format!("{}.{}.{SIGNATURE_REDACTED}", parts[0], parts[1])
    } else {
        format!("<redacted, {} characters>", s.chars().count())
    }
}

/// The value of a member or parameter named `key`, as it may be shown.
fn value_for(key: &str, v: &str) -> String {
    if v.is_empty() || (v.starts_with("<redacted") && v.ends_with('>')) {
        v.to_string()
    } else if is_token_key(key) {
        jwt(v)
    } else {
        REDACTED.to_string()
    }
}

/// A request form as it may be shown: secrets and assertion signatures
/// redacted, every other value through [`text`].
pub fn form(form: &[(String, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        let shown = if is_token_key(k) || is_secret_key(k) {
            value_for(k, v)
        } else if FORM_SECRET_KEYS.iter().any(|t| t.eq_ignore_ascii_case(k)) && !v.is_empty() {
            REDACTED.to_string()
        } else {
            text(v)
        };
        ser.append_pair(k, &shown);
    }
    // Keep the markers readable.
    ser.finish()
        .replace("%3Csignature-redacted%3E", SIGNATURE_REDACTED)
        .replace("%3Credacted%3E", REDACTED)
        .replace("%3Credacted%2C+", "<redacted, ")
        .replace("+characters%3E", " characters>")
}

/// Redact a JSON value in place, at any depth.
pub fn json(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, member) in m.iter_mut() {
                if is_token_key(k) || is_secret_key(k) {
                    match member {
                        Value::Null | Value::Bool(_) => {}
                        Value::String(s) => *s = value_for(k, s),
                        other => *other = Value::String(REDACTED.to_string()),
                    }
                } else {
                    json(member);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(json),
        Value::String(s) => {
            let shown = text(s);
            if shown != *s {
                *s = shown;
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The longest body shown (characters, after redaction).
pub const BODY_SHOWN: usize = 2000;

/// An answer's body as it may be shown: JSON redacted member by member (at
/// any depth), anything else (form-encoded, HTML, text) through [`text`];
/// at most [`BODY_SHOWN`] characters.
pub fn body(body: &str) -> String {
    excerpt(body, BODY_SHOWN)
}

/// [`body`], cut to `max` characters (after redaction, so a cut never
/// leaves the visible half of a token).
pub fn excerpt(body: &str, max: usize) -> String {
    let shown = match serde_json::from_str::<Value>(body) {
        Ok(mut v @ (Value::Object(_) | Value::Array(_))) => {
            json(&mut v);
            serde_json::to_string(&v).unwrap_or_default()
        }
        _ => text(body),
    };
    let mut s: String = shown.chars().take(max).collect();
    if s.len() < shown.len() {
        s.push('…');
    }
    s
}

/// A character of a base64 or base64url run (and the dots of a JWT).
fn run_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'/' | b'~')
}

/// Where an unquoted value ends.
fn value_end(b: u8) -> bool {
    b.is_ascii_whitespace()
        || b.is_ascii_control()
        || matches!(
            b,
            b'&' | b',' | b';' | b'"' | b'\'' | b'<' | b'>' | b'}' | b']' | b')'
        )
}

/// At `i` (the start of a run): `KEY=VALUE` (a form or a query), or
/// `"KEY": VALUE` (JSON, whole or cut). A bare `KEY:` is prose ("invalid
/// assertion: expired") and is left alone. Returns the key, where the value
/// starts and ends, and where to go on.
fn key_value(s: &[u8], i: usize) -> Option<(&'static str, usize, usize, usize)> {
    let key = TEXT_KEYS.iter().find(|k| {
        s.len() >= i + k.len()
            && s[i..i + k.len()].eq_ignore_ascii_case(k.as_bytes())
            && s.get(i + k.len()).is_none_or(|&b| !run_char(b))
    })?;
    let mut j = i + key.len();
    let opened = i
        .checked_sub(1)
        .map(|p| s[p])
        .filter(|b| matches!(b, b'"' | b'\''));
    if let Some(q) = opened {
        if s.get(j) != Some(&q) {
            return None;
        }
        j += 1;
    }
    while s.get(j).is_some_and(|b| *b == b' ' || *b == b'\t') {
        j += 1;
    }
    match s.get(j) {
        Some(b'=') => {}
        Some(b':') if opened.is_some() => {}
        _ => return None,
    }
    j += 1;
    while s.get(j).is_some_and(|b| *b == b' ' || *b == b'\t') {
        j += 1;
    }
    let quote = match s.get(j) {
        Some(q @ (b'"' | b'\'')) => {
            j += 1;
            Some(*q)
        }
        _ => None,
    };
    let start = j;
    match quote {
        Some(q) => {
            while j < s.len() && s[j] != q && s[j] != b'\n' {
                j += if s[j] == b'\\' { 2 } else { 1 };
            }
            let end = j.min(s.len());
            Some((key, start, end, end))
        }
        None => {
            while j < s.len() && !value_end(s[j]) {
                j += 1;
            }
            Some((key, start, j, j))
        }
    }
}

/// Is this dot-free piece an opaque token?
fn opaque(piece: &str) -> bool {
    piece.len() >= OPAQUE_MIN
        && !piece.starts_with("eyJ")
        && piece.bytes().any(|b| b.is_ascii_uppercase())
        && piece.bytes().any(|b| b.is_ascii_lowercase())
        && piece.bytes().any(|b| b.is_ascii_digit())
}

/// A run of base64 characters as it may be shown.
fn run(r: &str, out: &mut String) {
    let parts: Vec<&str> = r.split('.').collect();
    let jose = parts.len() >= 3 && parts[0].len() >= 10 && parts[0].starts_with("eyJ");
    if jose && parts.len() == 3 {
        // A JWS: header and payload stay. An empty signature (alg none)
        // or one already redacted is kept as it is.
        out.push_str(parts[0]);
        out.push('.');
        out.push_str(parts[1]);
        out.push('.');
        if !parts[2].is_empty() {
            out.push_str(SIGNATURE_REDACTED);
        }
        return;
    }
    if jose {
        // A JWE or something longer: only the header.
        out.push_str(parts[0]);
        out.push('.');
        out.push_str(REDACTED);
        return;
    }
    for (n, p) in parts.iter().enumerate() {
        if n > 0 {
            out.push('.');
        }
        // Standard base64 has '/' and '+' inside: the whole piece counts,
        // unless it starts like a path ("/token/x", "//host/…").
        let hit = if p.starts_with('/') {
            p.split(['/', '+']).any(opaque)
        } else {
            opaque(p)
        };
        if hit {
            out.push_str(REDACTED);
        } else {
            out.push_str(p);
        }
    }
}

/// Free text (an error page, a form-encoded answer, an error description)
/// as it may be shown: credentials named in it and every signed JWT or long
/// opaque value redacted.
pub fn text(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if !run_char(b[i]) {
            i += 1;
            continue;
        }
        out.push_str(&s[copied..i]);
        if let Some((key, start, end, next)) = key_value(b, i) {
            out.push_str(&s[i..start]);
            out.push_str(&value_for(key, &s[start..end]));
            i = next;
        } else {
            let mut j = i;
            while j < b.len() && run_char(b[j]) {
                j += 1;
            }
            run(&s[i..j], &mut out);
            i = j;
        }
        copied = i;
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWT: &str =
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
    const SIG: &str = "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
    const OPAQUE: &str = "Qx7vR2mK9pLw4ZtB8nYc3HdF6sJ1aUe5";

    #[test]
    fn forms_lose_secrets_and_signatures() {
        let sent = vec![
            ("grant_type".to_string(), "client_credentials".to_string()),
            ("client_secret".to_string(), "hunter2".to_string()),
            ("client_assertion".to_string(), JWT.to_string()),
            (
                "client_assertion_type".to_string(),
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
            ),
        ];
        let s = form(&sent);
        assert!(!s.contains("hunter2") && !s.contains(SIG), "{s}");
        assert!(
            s.contains(
                "client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.<signature-redacted>"
            ),
            "{s}"
        );
        assert!(s.contains("client_secret=<redacted>"), "{s}");
        assert!(s.contains("jwt-bearer"), "{s}");
    }

    #[test]
    fn json_at_any_depth() {
        let b = body(&format!(
            r#"{{"error":"invalid_grant","debug":{{"request":{{"access_token":"{JWT}"}},"list":[{{"refresh_token":"rt-1"}},{{"note":"saw {OPAQUE}"}}]}},"token":{{"value":"x"}},"trace_id":"0d5c1a2e-1111-2222-3333-444455556666"}}"#
        ));
        assert!(
            !b.contains(SIG) && !b.contains("rt-1") && !b.contains(OPAQUE),
            "{b}"
        );
        assert!(!b.contains("\"value\""), "{b}");
        assert!(b.contains("0d5c1a2e-1111-2222-3333-444455556666"), "{b}");
        assert!(b.contains("eyJzdWIiOiJhYmMifQ.<signature-redacted>"), "{b}");
        let top = body(&format!(
            r#"{{"access_token":"{JWT}","refresh_token":"rt","expires_in":5}}"#
        ));
        assert!(!top.contains(SIG) && !top.contains("\"rt\""), "{top}");
    }

    #[test]
    fn form_encoded_and_text_answers() {
        let f = text(&format!(
            "access_token={OPAQUE}&token_type=bearer&refresh_token=r1&client_assertion_type=x"
        ));
        assert_eq!(
            f,
            "access_token=<redacted, 32 characters>&token_type=bearer&refresh_token=<redacted>&client_assertion_type=x"
        );
        let html = text(&format!(
            "<html><body><p>Bearer {JWT} was refused</p><pre>\"id_token\": \"short\"</pre></body></html>"
        ));
        assert!(!html.contains(SIG) && !html.contains("short"), "{html}");
        assert!(html.contains("<p>Bearer eyJhbGciOiJSUzI1NiJ9."), "{html}");
        let plain = text(&format!("your token is {OPAQUE}, have fun"));
        assert_eq!(plain, "your token is <redacted>, have fun");
        // Standard base64 with '/' and '+' is one token, not many short words.
        let b64 = text("k=Ab1/Cd2+Ef3/Gh4+Ij5/Kl6+Mn7/Op8+Qr9/St0+Uv1/Wx2");
        assert!(!b64.contains("Wx2"), "{b64}");
    }

    #[test]
    fn ordinary_text_is_kept() {
        for s in [
            "Invalid token: the signature does not match (trace_id: 0d5c1a2e-1111-2222-3333-444455556666)",
            "https://login.example.com/tenant/oauth2/v2.0/token",
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "AADSTS700027: Client assertion contains an invalid signature.",
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "invalid assertion: ERR_JWT_EXPIRED: \"exp\" claim timestamp check failed",
            "password: wrong",
        ] {
            assert_eq!(text(s), s);
        }
    }

    #[test]
    fn redaction_is_stable() {
        for s in [
            format!("access_token={JWT}&x=1"),
            format!("{{\"a\":{{\"access_token\":\"{OPAQUE}\"}}}}"),
            format!("see {JWT} and {OPAQUE}"),
        ] {
            let once = body(&s);
            assert_eq!(body(&once), once, "{s}");
        }
    }

    #[test]
    fn jwe_and_cut_bodies() {
        let jwe = "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5a2V5a2V5.aXZpdg.Y2lwaGVydGV4dA.dGFndGFn";
        assert_eq!(text(jwe), "eyJhbGciOiJSU0EtT0FFUCJ9.<redacted>");
        let long = format!("{}{JWT}", "x ".repeat(10));
        let cut = excerpt(&long, 40);
        assert!(!cut.contains(&SIG[..10]), "{cut}");
        assert!(cut.ends_with('…'), "{cut}");
    }
}
