//! Verifying a JWT's signature and claims with a key, a JWKS, or the
//! certificate in its own `x5c` header (optionally chained to a CA).

use super::decode::Decoded;
use super::jws::{self, Alg};
use crate::cert::Certificate;
use crate::cert::path::{self, PathError, Policy};
use crate::key::PublicKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

/// A candidate verification key.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The key's own `kid` (a JWK's), if it has one.
    pub kid: Option<String>,
    /// Its RFC 7638 thumbprint, which a token's `kid` may also name.
    pub thumbprint: Option<String>,
    /// The key.
    pub key: PublicKey,
    /// Where it came from, for the report (`key.pem`, `jwks.json#1`).
    pub label: String,
}

/// Where verification keys come from.
#[derive(Debug, Clone)]
pub enum Keys {
    /// Keys given (files, a JWKS); the token's `kid` picks among them.
    Given(Vec<Candidate>),
    /// The token's own `x5c`, optionally chained to these CA certificates.
    X5c {
        /// CA certificates the x5c chain must lead to; `None`: the signature alone is checked.
        ca: Option<Vec<Certificate>>,
    },
}

/// What a valid token must also satisfy.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The `aud` the token must carry.
    pub aud: Option<String>,
    /// The `iss` the token must carry.
    pub iss: Option<String>,
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: i64,
}

/// The verdict (schema `credkit.jwt.verify/1`).
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// `credkit.jwt.verify/1`.
    pub schema: &'static str,
    /// Signature and every claim check passed.
    pub valid: bool,
    /// Why the token is invalid (null when valid).
    pub reason: Option<String>,
    /// Stable id of the reason, e.g. `jwt-bad-signature`.
    pub reason_id: Option<&'static str>,
    /// The header's `alg`.
    pub alg: Option<String>,
    /// The key that verified the signature.
    pub key: Option<String>,
    /// The JOSE header.
    pub header: serde_json::Map<String, Value>,
    /// The claims.
    pub claims: serde_json::Map<String, Value>,
}

fn fail(v: &mut Verdict, id: &'static str, reason: String) {
    v.valid = false;
    v.reason_id = Some(id);
    v.reason = Some(reason);
}

/// Verify a decoded token: the algorithm, the header and claim types, the
/// signature with the keys given (or x5c), then the time and claim checks.
/// The first step that fails decides the reason.
pub fn verify(d: &Decoded, keys: &Keys, o: &VerifyOptions, now: OffsetDateTime) -> Verdict {
    let mut v = Verdict {
        schema: "credkit.jwt.verify/1",
        valid: true,
        reason: None,
        reason_id: None,
        alg: d.alg().map(str::to_owned),
        key: None,
        header: d.header.clone(),
        claims: d.claims.clone(),
    };
    if let Err((id, reason)) = check(&mut v, d, keys, o, now) {
        fail(&mut v, id, reason);
    }
    v
}

/// The steps of [`verify`]; the key that verified goes into `v` even when a
/// later step fails.
fn check(
    v: &mut Verdict,
    d: &Decoded,
    keys: &Keys,
    o: &VerifyOptions,
    now: OffsetDateTime,
) -> Result<(), Fail> {
    let alg = algorithm(d)?;
    if let Some(problem) = header_problem(d).or_else(|| claim_type_problem(d)) {
        return Err(problem);
    }
    let candidates = match keys {
        Keys::Given(c) => c.clone(),
        Keys::X5c { ca } => vec![x5c_key(d, ca.as_deref(), now)?],
    };
    let signer = signer(d, alg, &candidates)?;
    v.key = Some(signer.label.clone());
    if let Keys::X5c { ca: None } = keys {
        return Err((
            "jwt-x5c-unanchored",
            format!(
                "the signature matches the certificate in x5c ({}), but nothing vouches \
                 for that certificate: anyone can make one that claims any name",
                signer.label
            ),
        ));
    }
    time_and_claims(d, o, now)
}

/// The header's alg: never none, never an HMAC, and one credkit knows.
fn algorithm(d: &Decoded) -> Result<Alg, Fail> {
    let alg_name = d.alg().unwrap_or("");
    if alg_name.eq_ignore_ascii_case("none") || alg_name.is_empty() {
        return Err((
            "jwt-alg-none",
            "alg is \"none\" (or missing): unsigned tokens are never accepted".into(),
        ));
    }
    if alg_name.starts_with("HS") {
        return Err((
            "jwt-alg-confusion",
            format!(
                "alg {alg_name} is an HMAC: verifying it with a public key is the algorithm-confusion attack, and is refused"
            ),
        ));
    }
    Alg::from_name(alg_name).ok_or_else(|| {
        (
            "jwt-alg-unsupported",
            format!("alg {alg_name:?} is not supported"),
        )
    })
}

/// The candidate whose key verifies the signature, among those the token's
/// kid lets credkit try and that fit the alg.
fn signer<'a>(d: &Decoded, alg: Alg, candidates: &'a [Candidate]) -> Result<&'a Candidate, Fail> {
    let kid = d.header.get("kid").and_then(Value::as_str);
    let by_kid = by_kid(candidates, kid);
    if by_kid.is_empty() {
        return Err((
            "jwt-no-fitting-key",
            format!(
                "kid {:?} names none of the {} key(s) given, and credkit does not try keys \
                 that carry another kid",
                kid.unwrap_or_default(),
                candidates.len()
            ),
        ));
    }
    let fitting: Vec<&Candidate> = by_kid.into_iter().filter(|c| alg.fits(&c.key)).collect();
    if fitting.is_empty() {
        return Err((
            "jwt-no-fitting-key",
            format!(
                "none of the {} key(s) given can check an {} signature{}",
                candidates.len(),
                alg.name(),
                kid.map(|k| format!(" (kid {k:?})")).unwrap_or_default()
            ),
        ));
    }
    fitting
        .iter()
        .find(|c| jws::verify(alg, &c.key, d.signing_input.as_bytes(), &d.signature))
        .copied()
        .ok_or_else(|| {
            (
                "jwt-bad-signature",
                format!(
                    "the signature does not verify with {}: the token was signed with another key, or changed after signing",
                    fitting
                        .iter()
                        .map(|c| c.label.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// exp and nbf at `now` (with the leeway), then aud and iss when asked for.
fn time_and_claims(d: &Decoded, o: &VerifyOptions, now: OffsetDateTime) -> Result<(), Fail> {
    let t = now.unix_timestamp();
    if let Some(exp) = d.num("exp")
        && t > exp + o.leeway
    {
        return Err((
            "jwt-expired",
            format!(
                "expired at {} ({} ago)",
                crate::timefmt::rfc3339(exp),
                super::decode::human_span(t - exp)
            ),
        ));
    }
    if let Some(nbf) = d.num("nbf")
        && t + o.leeway < nbf
    {
        return Err((
            "jwt-not-yet-valid",
            format!("not valid before {}", crate::timefmt::rfc3339(nbf)),
        ));
    }
    if let Some(aud) = &o.aud
        && !d.audiences().contains(aud)
    {
        return Err((
            "jwt-aud-mismatch",
            format!("aud is {:?}, expected {aud:?}", d.audiences()),
        ));
    }
    if let Some(iss) = &o.iss
        && d.str_claim("iss") != Some(iss.as_str())
    {
        return Err((
            "jwt-iss-mismatch",
            format!("iss is {:?}, expected {iss:?}", d.str_claim("iss")),
        ));
    }
    Ok(())
}

type Fail = (&'static str, String);

/// The candidates a token's `kid` lets credkit try: those whose own kid or
/// thumbprint it names; else only keys that carry no kid of their own (a PEM
/// or keystore key given on purpose). A key with another kid is never tried.
fn by_kid<'a>(candidates: &'a [Candidate], kid: Option<&str>) -> Vec<&'a Candidate> {
    let Some(k) = kid else {
        return candidates.iter().collect();
    };
    let named: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.kid.as_deref() == Some(k) || c.thumbprint.as_deref() == Some(k))
        .collect();
    if !named.is_empty() {
        return named;
    }
    candidates.iter().filter(|c| c.kid.is_none()).collect()
}

/// Header parameters a verifier must understand: `crit` (RFC 7515 §4.1.11)
/// lists extensions credkit does not implement, so any entry is refused.
fn header_problem(d: &Decoded) -> Option<Fail> {
    let crit = d.header.get("crit")?;
    let names = match crit {
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => {
            return Some((
                "jwt-crit-unsupported",
                "crit must be a non-empty array of header parameter names".into(),
            ));
        }
    };
    Some((
        "jwt-crit-unsupported",
        format!(
            "the header marks {names} as critical (crit), and credkit does not implement \
             that extension: a verifier must refuse what it does not understand"
        ),
    ))
}

/// `exp`, `nbf` and `iat` must be NumericDate (RFC 7519 §2): a string `exp`
/// would otherwise mean "never expires".
fn claim_type_problem(d: &Decoded) -> Option<Fail> {
    ["exp", "nbf", "iat"].into_iter().find_map(|c| {
        let v = d.claims.get(c)?;
        let numeric = v.as_f64().is_some_and(f64::is_finite);
        (!numeric).then(|| {
            (
                "jwt-claim-invalid",
                format!("{c} is {v}, not a number of seconds (NumericDate)"),
            )
        })
    })
}

/// The key of the certificate in `x5c`, after validating its path to the CA.
fn x5c_key(
    d: &Decoded,
    ca: Option<&[Certificate]>,
    now: OffsetDateTime,
) -> Result<Candidate, Fail> {
    let arr = match d.header.get("x5c") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(_) => {
            return Err((
                "jwt-x5c-invalid",
                "x5c must be a non-empty JSON array".into(),
            ));
        }
        None => return Err(("jwt-x5c-missing", "the header has no x5c".into())),
    };
    if arr.len() > path::MAX_CHAIN_LEN {
        return Err((
            "jwt-x5c-invalid",
            format!(
                "x5c holds {} certificates; credkit reads at most {}",
                arr.len(),
                path::MAX_CHAIN_LEN
            ),
        ));
    }
    let mut chain = Vec::new();
    for (i, item) in arr.iter().enumerate() {
        let der = item.as_str().and_then(|s| STANDARD.decode(s).ok()).ok_or((
            "jwt-x5c-invalid",
            format!("x5c[{i}] is not standard base64"),
        ))?;
        chain.push(
            Certificate::from_der(&der)
                .map_err(|e| ("jwt-x5c-invalid", format!("x5c[{i}]: {e}")))?,
        );
    }
    let leaf = &chain[0];
    if let Some(t) = d.header.get("x5t#S256").and_then(Value::as_str)
        && t != leaf.x5t_s256()
    {
        return Err((
            "jwt-x5t-mismatch",
            "x5t#S256 is not the thumbprint of x5c[0]".into(),
        ));
    }
    if let Some(t) = d.header.get("x5t").and_then(Value::as_str)
        && t != leaf.x5t()
    {
        return Err((
            "jwt-x5t-mismatch",
            "x5t is not the thumbprint of x5c[0]".into(),
        ));
    }
    if let Some(anchors) = ca {
        let policy = Policy::signing(anchors, now.unix_timestamp());
        path::validate(leaf, &chain[1..], &policy).map_err(|e| path_fail(&e))?;
    }
    let key = leaf
        .public_key
        .clone()
        .map_err(|e| ("jwt-x5c-invalid", format!("x5c[0] key: {e}")))?;
    Ok(Candidate {
        kid: None,
        thumbprint: None,
        key,
        label: format!("x5c[0] ({})", leaf.subject.to_display()),
    })
}

/// A path error as a verdict: a stable id and the reason.
fn path_fail(e: &PathError) -> Fail {
    let id = match e {
        PathError::Expired { index: 0, .. } => "jwt-x5c-expired",
        PathError::NotYetValid { index: 0, .. } => "jwt-x5c-not-yet-valid",
        PathError::Expired { .. } | PathError::NotYetValid { .. } => "jwt-ca-expired",
        PathError::LeafKeyUsage { .. } => "jwt-x5c-key-usage",
        _ => "jwt-x5c-untrusted",
    };
    (id, format!("x5c does not chain to the CA: {e}"))
}
