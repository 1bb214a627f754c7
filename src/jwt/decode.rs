//! Taking a JWT apart without a key, and flagging what is wrong with it.

use crate::target::Target;
use crate::timefmt::rfc3339;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Longest token accepted (real ones are a few kilobytes).
pub const MAX_TOKEN: usize = 1024 * 1024;

/// Why a token could not be taken apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input held no token (only whitespace, or what the string says).
    #[error("no token found: {0}")]
    Empty(String),
    /// A JWE (five parts): encrypted tokens are not read.
    #[error(
        "this is an encrypted JWT (JWE, 5 parts): it cannot be read without the decryption key"
    )]
    Encrypted,
    /// Not three dot-separated parts; the number found.
    #[error("a JWT has 3 parts separated by dots, and this has {0}")]
    Parts(usize),
    /// A part is not base64url.
    #[error("the {part} is not valid base64url: {detail}")]
    Base64 {
        /// `header`, `payload` or `signature`.
        part: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// A part is not a JSON object.
    #[error("the {part} is not a JSON object: {detail}")]
    Json {
        /// `header` or `payload`.
        part: &'static str,
        /// What the JSON parser said.
        detail: String,
    },
    /// The token is longer than [`MAX_TOKEN`]; its length in bytes.
    #[error("the token is {0} bytes long, more than credkit accepts")]
    TooLong(usize),
}

/// A decoded (not verified) JWT.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The token as read (whitespace and a `Bearer ` prefix removed).
    pub token: String,
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims (payload).
    pub claims: Map<String, Value>,
    /// `header.payload` as sent: the bytes the signature covers.
    pub signing_input: String,
    /// The signature, base64url-decoded.
    pub signature: Vec<u8>,
}

impl Decoded {
    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
    /// A numeric claim (`exp`, `iat`, ...) as whole seconds, if it is a number.
    pub fn num(&self, claim: &str) -> Option<i64> {
        self.claims.get(claim).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        })
    }
    /// A string claim, if present and a string.
    pub fn str_claim(&self, claim: &str) -> Option<&str> {
        self.claims.get(claim).and_then(Value::as_str)
    }
    /// `aud` as a list (it may be a string or an array).
    pub fn audiences(&self) -> Vec<String> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Pull the token out of what people paste: `Bearer …`, a JSON token
/// response, quotes, whitespace, JSON-escaped `=` (`\u003d`).
pub fn normalize(input: &str) -> Result<String, DecodeError> {
    if input.len() > MAX_TOKEN {
        return Err(DecodeError::TooLong(input.len()));
    }
    let mut s = input
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_string();
    if s.starts_with('{') {
        let v: Value = serde_json::from_str(&s).map_err(|e| DecodeError::Json {
            part: "input",
            detail: e.to_string(),
        })?;
        let found = [
            "access_token",
            "id_token",
            "assertion",
            "client_assertion",
            "token",
        ]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str));
        match found {
            Some(t) => s = t.to_string(),
            None => {
                return Err(DecodeError::Empty(
                    "the JSON has no access_token, id_token or assertion member".into(),
                ));
            }
        }
    }
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            s = s[1..s.len() - 1].to_string();
        }
    }
    let lower = s.to_ascii_lowercase();
    for prefix in ["authorization:", "bearer "] {
        if lower.trim_start().starts_with(prefix) {
            let cut = s.to_ascii_lowercase().find(prefix).unwrap_or(0) + prefix.len();
            s = s[cut..].trim().to_string();
        }
    }
    if s.to_ascii_lowercase().starts_with("bearer ") {
        s = s[7..].to_string();
    }
    s = s.replace("\\u003d", "=").replace("\\u003D", "=");
    s.retain(|c| !c.is_whitespace());
    if s.is_empty() {
        return Err(DecodeError::Empty("the input is empty".into()));
    }
    Ok(s)
}

fn b64(part: &'static str, s: &str) -> Result<Vec<u8>, DecodeError> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('=').as_bytes())
        .map_err(|e| DecodeError::Base64 {
            part,
            detail: e.to_string(),
        })
}

fn object(part: &'static str, bytes: &[u8]) -> Result<Map<String, Value>, DecodeError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DecodeError::Json {
            part,
            detail: "it is JSON, but not an object".into(),
        }),
        Err(e) => Err(DecodeError::Json {
            part,
            detail: e.to_string(),
        }),
    }
}

/// Decode a normalized token.
pub fn decode(input: &str) -> Result<Decoded, DecodeError> {
    let token = normalize(input)?;
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(DecodeError::Encrypted),
        n => return Err(DecodeError::Parts(n)),
    }
    let header = object("header", &b64("header", parts[0])?)?;
    let claims = object("payload", &b64("payload", parts[1])?)?;
    let signature = b64("signature", parts[2])?;
    Ok(Decoded {
        signing_input: format!(
            "{}.{}",
            parts[0].trim_end_matches('='),
            parts[1].trim_end_matches('=')
        ),
        token: token.clone(),
        header,
        claims,
        signature,
    })
}

/// What a token is, judged from its claims; it decides which problems count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A JWT grant (RFC 7523 §2.1) or client assertion (§2.2): `iss` is a
    /// client, `aud` a token endpoint or issuer.
    Grant,
    /// An access token (RFC 9068): `scope` or `client_id` from an issuer.
    AccessToken,
    /// An OpenID Connect ID token: `nonce` or `at_hash`.
    IdToken,
    /// None of these signs.
    Unknown,
}

impl Kind {
    /// Read the signs: ID token (nonce, at_hash), access token (header typ
    /// `at+jwt`, a `client_id` claim, or `scope` with an issuer URL as iss),
    /// grant or client assertion (iss that is not a URL: a client id).
    pub fn of(d: &Decoded) -> Kind {
        let has = |c: &str| d.claims.contains_key(c);
        let iss_is_url = d
            .str_claim("iss")
            .is_some_and(|i| i.starts_with("https://") || i.starts_with("http://"));
        let typ = d
            .header
            .get("typ")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if has("nonce") || has("at_hash") {
            Kind::IdToken
        } else if typ == "at+jwt"
            || typ == "application/at+jwt"
            || has("client_id")
            || has("scope") && iss_is_url
        {
            Kind::AccessToken
        } else if has("iss") && !iss_is_url {
            Kind::Grant
        } else {
            Kind::Unknown
        }
    }

    /// The kind's name as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Grant => "grant or client assertion",
            Kind::AccessToken => "access token",
            Kind::IdToken => "ID token",
            Kind::Unknown => "unknown kind",
        }
    }
}

/// Claims Maskinporten documents for a JWT grant; others are refused.
pub const MASKINPORTEN_CLAIMS: &[&str] = &[
    "aud",
    "iss",
    "iat",
    "exp",
    "jti",
    "scope",
    "resource",
    "pid",
    "consumer_org",
    "iss_onbehalfof",
    "authorization_details",
];

/// Something wrong (or worth knowing) about a token.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// `error` or `warning`.
    pub severity: &'static str,
    /// Stable id, e.g. `jwt-expired`.
    pub id: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
}

fn problem(severity: &'static str, id: &'static str, message: String) -> Problem {
    Problem {
        severity,
        id,
        message,
    }
}

/// Everything a reader should worry about, judged at `now`. The target's
/// rules (lifetime, claims, header) apply to grants and client assertions;
/// a token of another kind is judged only by what holds for every JWT.
pub fn problems(d: &Decoded, profile: Target, now: OffsetDateTime) -> Vec<Problem> {
    let now = now.unix_timestamp();
    let kind = Kind::of(d);
    let grant = matches!(kind, Kind::Grant | Kind::Unknown);
    let profile = if grant { profile } else { Target::Generic };
    let mut out = Vec::new();
    alg_problems(d, &mut out);
    time_problems(d, profile, now, &mut out);
    missing_claims(d, kind, profile, &mut out);
    if profile == Target::Maskinporten {
        maskinporten_problems(d, &mut out);
    }
    out
}

/// An unsigned token, a shared-secret MAC, no alg at all.
fn alg_problems(d: &Decoded, out: &mut Vec<Problem>) {
    match d.alg() {
        Some(a) if a.eq_ignore_ascii_case("none") => out.push(problem(
            "error",
            "jwt-alg-none",
            "alg is \"none\": the token is unsigned, and no server should accept it".into(),
        )),
        Some(a) if a.starts_with("HS") => out.push(problem(
            "warning",
            "jwt-alg-hmac",
            format!("alg {a} is a shared-secret MAC; grants and client assertions need a private-key signature"),
        )),
        None => out.push(problem("error", "jwt-alg-missing", "the header has no alg".into())),
        _ => {}
    }
}

/// exp, nbf and iat against `now`, the lifetime against the target's limit,
/// and a missing exp.
fn time_problems(d: &Decoded, profile: Target, now: i64, out: &mut Vec<Problem>) {
    let exp = d.num("exp");
    let iat = d.num("iat");
    if let Some(exp) = exp
        && exp < now
    {
        out.push(problem(
            "error",
            "jwt-expired",
            format!(
                "expired {} ago (exp {})",
                human_span(now - exp),
                rfc3339(exp)
            ),
        ));
    }
    if let Some(nbf) = d.num("nbf")
        && nbf > now
    {
        out.push(problem(
            "error",
            "jwt-not-yet-valid",
            format!(
                "not valid for another {} (nbf {})",
                human_span(nbf - now),
                rfc3339(nbf)
            ),
        ));
    }
    if let Some(iat) = iat
        && iat > now
    {
        out.push(problem(
            if iat - now > 10 { "error" } else { "warning" },
            "jwt-iat-in-future",
            format!(
                "issued {} in the future (iat {}): the signer's clock is ahead, or local time was used as UTC{}",
                human_span(iat - now),
                rfc3339(iat),
                if profile == Target::Maskinporten {
                    "; Maskinporten refuses iat more than 10 s away from its clock (\"Issue time is after now\")"
                } else {
                    ""
                }
            ),
        ));
    }
    if let (Some(exp), Some(iat), Some(max)) = (exp, iat, profile.max_lifetime())
        && exp - iat > max
    {
        out.push(problem(
            "error",
            "jwt-lifetime-too-long",
            format!(
                "lifetime (exp − iat) is {} s; {} accepts at most {} s",
                exp - iat,
                profile.name(),
                max
            ),
        ));
    }
    if exp.is_none() {
        out.push(problem(
            "error",
            "jwt-exp-missing",
            "there is no exp claim".into(),
        ));
    }
}

/// jti, aud and iss: how much a missing one matters depends on the kind of
/// token and the target.
fn missing_claims(d: &Decoded, kind: Kind, profile: Target, out: &mut Vec<Problem>) {
    for (claim, id) in [
        ("jti", "jwt-jti-missing"),
        ("aud", "jwt-aud-missing"),
        ("iss", "jwt-iss-missing"),
    ] {
        if !d.claims.contains_key(claim) {
            // Keycloak requires jti; elsewhere it is recommended (replay protection).
            // A missing aud is an error only in a grant or client assertion.
            let sev = match (claim, kind) {
                ("jti", Kind::Grant) if profile == Target::Keycloak => "error",
                ("jti", Kind::Grant | Kind::Unknown) => "warning",
                ("jti", _) => continue,
                ("aud", Kind::Grant) => "error",
                ("aud", Kind::Unknown) => "warning",
                ("aud", _) => continue,
                (_, Kind::Grant | Kind::Unknown) => "error",
                _ => "warning",
            };
            out.push(problem(sev, id, format!("there is no {claim} claim")));
        }
    }
}

/// Maskinporten's own rules: only documented claims, x5c an array, x5c or
/// kid present, an RS alg.
fn maskinporten_problems(d: &Decoded, out: &mut Vec<Problem>) {
    let extra: Vec<&str> = d
        .claims
        .keys()
        .map(String::as_str)
        .filter(|k| !MASKINPORTEN_CLAIMS.contains(k))
        .collect();
    if !extra.is_empty() {
        out.push(problem(
            "error",
            "jwt-undocumented-claims",
            format!(
                "claims Maskinporten does not document: {}; it answers \"Invalid assertion\" to grants that carry them",
                extra.join(", ")
            ),
        ));
    }
    if d.header.get("x5c").is_some_and(|v| !v.is_array()) {
        out.push(problem(
            "error",
            "jwt-x5c-not-array",
            "x5c must be a JSON array of base64 certificates (Maskinporten: \"Invalid JWT header x5c\")".into(),
        ));
    }
    if d.header.get("x5c").is_none() && d.header.get("kid").is_none() {
        out.push(problem(
            "error",
            "jwt-no-x5c-or-kid",
            "the header has neither x5c nor kid, so Maskinporten cannot tell which key signed it"
                .into(),
        ));
    }
    if let Some(a) = d.alg()
        && !["RS256", "RS384", "RS512"].contains(&a)
    {
        out.push(problem(
            "error",
            "jwt-alg-not-accepted",
            format!("Maskinporten accepts RS256, RS384 and RS512, not {a}"),
        ));
    }
}

/// `2 min 5 s`, `3 days`
pub fn human_span(secs: i64) -> String {
    let s = secs.abs();
    if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min {} s", s / 60, s % 60)
    } else if s < 172_800 {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} days", s / 86_400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln";

    #[test]
    fn pasted_forms_are_normalized() {
        for input in [
            T.to_string(),
            format!("Bearer {T}"),
            format!("  \"{T}\"\n"),
            format!("Authorization: Bearer {T}"),
            format!("{{\"access_token\":\"{T}\",\"token_type\":\"Bearer\"}}"),
            format!("{}\n.{}", &T[..20], &T[21..]),
        ] {
            assert_eq!(normalize(&input).expect("normalize"), T, "{input:?}");
        }
        assert_eq!(
            normalize("eyJhbGciOiJub25lIn0\\u003d.e30.").expect("n"),
            "eyJhbGciOiJub25lIn0=.e30."
        );
    }

    fn token(header: &str, claims: &str) -> Decoded {
        let t = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        decode(&t).expect("decode")
    }

    #[test]
    fn kinds_are_told_apart_and_aud_matters_only_for_grants() {
        let now = OffsetDateTime::from_unix_timestamp(1000).expect("t");
        let cases = [
            (
                r#"{"iss":"https://maskinporten.no/","client_id":"c","scope":"a:b","exp":2000}"#,
                Kind::AccessToken,
            ),
            (
                r#"{"iss":"https://idp/","sub":"u","nonce":"n","exp":2000}"#,
                Kind::IdToken,
            ),
            (
                r#"{"iss":"0b7c5c8e","scope":"a:b","exp":2000}"#,
                Kind::Grant,
            ),
            (r#"{"exp":2000}"#, Kind::Unknown),
        ];
        for (claims, kind) in cases {
            let d = token(r#"{"alg":"RS256"}"#, claims);
            assert_eq!(Kind::of(&d), kind, "{claims}");
            let aud = problems(&d, Target::Generic, now)
                .into_iter()
                .find(|p| p.id == "jwt-aud-missing")
                .map(|p| p.severity);
            let want = match kind {
                Kind::Grant => Some("error"),
                Kind::Unknown => Some("warning"),
                _ => None,
            };
            assert_eq!(aud, want, "{claims}");
        }
        let at = token(
            r#"{"alg":"RS256","typ":"at+jwt"}"#,
            r#"{"iss":"x","exp":2000}"#,
        );
        assert_eq!(Kind::of(&at), Kind::AccessToken);
    }

    #[test]
    fn decode_parts() {
        let d = decode(T).expect("decode");
        assert_eq!(d.alg(), Some("RS256"));
        assert_eq!(d.str_claim("iss"), Some("x"));
        assert_eq!(d.signature, b"sig");
        assert!(matches!(decode("a.b.c.d.e"), Err(DecodeError::Encrypted)));
        assert!(matches!(decode("a.b"), Err(DecodeError::Parts(2))));
    }
}
