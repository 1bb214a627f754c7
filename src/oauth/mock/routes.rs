//! The look-alike's routes as the HTTP layer (`serve::mock`) calls them:
//! metadata, the JWKS and the token endpoint, and how a refusal is written.

use super::grant::Fail;
use super::{GRANT_TYPE, Mock};
use serde_json::{Map, Value, json};

/// An answer for the HTTP layer: status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The JSON body: the token response, or an RFC 6749 §5.2 error.
    pub body: Value,
}

impl Mock {
    fn endpoint(&self, path: &str) -> String {
        if self.issuer.ends_with('/') {
            format!("{}{path}", self.issuer)
        } else {
            format!("{}/{path}", self.issuer)
        }
    }

    /// `/.well-known/oauth-authorization-server` (RFC 8414).
    pub fn metadata(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "token_endpoint": self.endpoint("token"),
            "jwks_uri": self.endpoint("jwk"),
            "grant_types_supported": [GRANT_TYPE],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS384", "RS512"],
            "authorization_details_types_supported": ["urn:altinn:systemuser", "urn:altinn:consent"],
        })
    }

    /// `/jwk`: the key that signs the access tokens.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk.clone()] })
    }

    /// `POST /token` with an `application/x-www-form-urlencoded` body, at
    /// `now` (Unix seconds).
    pub fn token(&self, form_body: &[u8], now: i64) -> Reply {
        match self.grant(form_body, now) {
            Ok(body) => Reply { status: 200, body },
            Err(f) => refusal(f),
        }
    }
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    if getrandom::fill(&mut b).is_err() {
        b.fill(0);
    }
    crate::cert::hex(&b)
}

fn error_body(error: &str, description: &str, uri: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("error".into(), json!(error));
    m.insert(
        "error_description".into(),
        json!(format!("{description} (trace_id: {})", random_hex(16))),
    );
    if let Some(u) = uri {
        m.insert("error_uri".into(), json!(u));
    }
    Value::Object(m)
}

fn refusal(f: Fail) -> Reply {
    match f {
        Fail::Case(case, fill) => {
            let mut text = case.description().to_string();
            if let Some(fill) = fill {
                text = text
                    .replace("{scope}", &fill.scope)
                    .replace("{consumer}", &fill.consumer)
                    .replace("{supplier}", &fill.supplier);
            }
            Reply {
                status: case.status(),
                body: error_body(case.error(), &text, case.uri()),
            }
        }
        Fail::UnsupportedGrantType => Reply {
            status: 400,
            body: error_body(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
                None,
            ),
        },
        Fail::Busy => Reply {
            status: 503,
            body: error_body(
                "temporarily_unavailable",
                "Too many live grants to remember; try again shortly",
                None,
            ),
        },
        Fail::Internal => Reply {
            status: 500,
            body: error_body("server_error", "The token could not be made", None),
        },
    }
}
