//! The form members of the unattended grants and proofs beyond RFC 6749:
//! token exchange (RFC 8693) and Entra's on-behalf-of, rich authorization
//! requests (RFC 9396, with Maskinporten's system-user shortcut) and the
//! `client_secret_jwt` assertion (HS256 with the client secret).

use crate::error_id::ErrorId;
use serde_json::{Map, Value, json};

/// RFC 8693 §3 token type identifiers, by short name.
pub const TOKEN_TYPES: &[(&str, &str)] = &[
    (
        "access_token",
        "urn:ietf:params:oauth:token-type:access_token",
    ),
    (
        "refresh_token",
        "urn:ietf:params:oauth:token-type:refresh_token",
    ),
    ("id_token", "urn:ietf:params:oauth:token-type:id_token"),
    ("jwt", "urn:ietf:params:oauth:token-type:jwt"),
    ("saml1", "urn:ietf:params:oauth:token-type:saml1"),
    ("saml2", "urn:ietf:params:oauth:token-type:saml2"),
];

/// A token type: a short name of [`TOKEN_TYPES`] or a URI as given.
pub fn token_type(s: &str) -> String {
    TOKEN_TYPES
        .iter()
        .find(|(short, _)| *short == s)
        .map(|(_, uri)| uri.to_string())
        .unwrap_or_else(|| s.to_string())
}

/// Why authorization details are not usable.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum RarError {
    /// The text is not JSON; the parser's message.
    #[error("authorization_details is not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an array of objects (nor a single object).
    #[error("authorization_details must be a JSON array of objects (RFC 9396 §2)")]
    NotArray,
    /// The entry at this index (from 0) has no `type` string.
    #[error("authorization_details[{0}] has no \"type\" string (RFC 9396 §2)")]
    NoType(usize),
    /// An entry's type is not among the metadata's
    /// `authorization_details_types_supported`.
    #[error(
        "authorization_details[{index}] has type {kind:?}, which the server does not list \
         (authorization_details_types_supported: {supported})"
    )]
    Unsupported {
        /// The entry's index, from 0.
        index: usize,
        /// Its `type`.
        kind: String,
        /// The types the server lists, comma-separated.
        supported: String,
    },
    /// The system user's organisation number, as `orgnr` judged it (shape
    /// and mod-11 check digit).
    #[error("the system user's organisation number: {0}")]
    OrgNumber(crate::orgnr::OrgNrError),
}

impl RarError {
    /// The stable error id.
    pub fn id(&self) -> ErrorId {
        ErrorId::AuthorizationDetails
    }
}

/// Parse and check `authorization_details`: a JSON array of objects, each
/// with a `type` (a single object is taken as an array of one).
pub fn parse_details(text: &str) -> Result<Vec<Value>, RarError> {
    let v: Value = serde_json::from_str(text).map_err(|e| RarError::NotJson(e.to_string()))?;
    let list = match v {
        Value::Array(a) => a,
        o @ Value::Object(_) => vec![o],
        _ => return Err(RarError::NotArray),
    };
    for (i, d) in list.iter().enumerate() {
        match d {
            Value::Object(m) if m.get("type").is_some_and(Value::is_string) => {}
            Value::Object(_) => return Err(RarError::NoType(i)),
            _ => return Err(RarError::NotArray),
        }
    }
    Ok(list)
}

/// Each detail's type must be one the metadata lists, when it lists any.
pub fn check_types(details: &[Value], supported: &[String]) -> Result<(), RarError> {
    if supported.is_empty() {
        return Ok(());
    }
    for (index, d) in details.iter().enumerate() {
        let kind = d.get("type").and_then(Value::as_str).unwrap_or_default();
        if !supported.iter().any(|s| s == kind) {
            return Err(RarError::Unsupported {
                index,
                kind: kind.to_string(),
                supported: supported.join(", "),
            });
        }
    }
    Ok(())
}

/// Maskinporten's system-user request for the customer `org` (9 digits).
///
/// Altinn's guide for system vendors ("Using System User", docs.altinn.studio)
/// shows the JWT grant carrying one `authorization_details` entry of type
/// `urn:altinn:systemuser`, whose `systemuser_org` names the customer the
/// ISO 6523 way: `authority` `iso6523-actorid-upis` and `ID` the Norwegian
/// organisation-number scheme `0192` followed by a colon and the number.
/// The look-alike (`oauth::mock`, MP-301..303) checks the same shape.
pub fn systemuser(org: &str) -> Result<Value, RarError> {
    let org = crate::orgnr::OrgNr::parse(org).map_err(RarError::OrgNumber)?;
    Ok(json!({
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": format!("0192:{org}")},
    }))
}

/// The `client_secret_jwt` assertion (OIDC Core §9): HS256 over the
/// claims iss = sub = client id, aud, a fresh jti, iat and exp (60 s).
pub fn client_secret_jwt(
    secret: &[u8],
    client_id: &str,
    aud: &str,
    now: i64,
) -> Result<String, String> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{KeyInit, Mac};
    let mut r = [0u8; 16];
    getrandom::fill(&mut r).map_err(|e| e.to_string())?;
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(client_id));
    claims.insert("sub".into(), json!(client_id));
    claims.insert("aud".into(), json!(aud));
    claims.insert("jti".into(), json!(crate::jwt::mint::uuid_v4(&r)));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 60));
    let mut token = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
    token.push('.');
    token.push_str(
        &URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Value::Object(claims)).unwrap_or_default()),
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|e| e.to_string())?;
    mac.update(token.as_bytes());
    let sig = mac.finalize().into_bytes();
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_checked() {
        assert!(matches!(parse_details("{"), Err(RarError::NotJson(_))));
        assert_eq!(parse_details("3"), Err(RarError::NotArray));
        assert_eq!(parse_details(r#"[{"a":1}]"#), Err(RarError::NoType(0)));
        let one = parse_details(r#"{"type":"x"}"#).expect("object");
        assert_eq!(one.len(), 1);
        assert!(check_types(&one, &[]).is_ok());
        assert!(check_types(&one, &["x".into()]).is_ok());
        let e = check_types(&one, &["y".into(), "z".into()]).expect_err("unlisted");
        assert!(
            e.to_string().contains("\"x\"") && e.to_string().contains("y, z"),
            "{e}"
        );
    }

    #[test]
    fn systemuser_shape() {
        let v = systemuser("987654325").expect("valid");
        assert_eq!(v["type"], "urn:altinn:systemuser");
        assert_eq!(v["systemuser_org"]["authority"], "iso6523-actorid-upis");
        assert_eq!(v["systemuser_org"]["ID"], "0192:987654325");
        assert!(systemuser("12345").is_err());
    }

    #[test]
    fn hs256_assertion_verifies_with_the_secret() {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use hmac::{KeyInit, Mac};
        let t = client_secret_jwt(b"s3cret", "c1", "https://as/token", 100).expect("jwt");
        let (input, sig) = t.rsplit_once('.').expect("3 parts");
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").expect("key");
        mac.update(input.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(sig).expect("b64"))
            .expect("signature");
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(input.split('.').nth(1).expect("payload"))
                .expect("b64"),
        )
        .expect("json");
        assert_eq!(claims["iss"], "c1");
        assert_eq!(claims["sub"], "c1");
        assert_eq!(claims["aud"], "https://as/token");
        assert_eq!(claims["exp"], 160);
        assert_eq!(token_type("jwt"), "urn:ietf:params:oauth:token-type:jwt");
        assert_eq!(token_type("urn:x"), "urn:x");
    }
}
