//! Finding the token endpoint from an issuer: RFC 8414
//! (`/.well-known/oauth-authorization-server`), then OpenID Connect
//! Discovery (`/.well-known/openid-configuration`), then `{issuer}token`.

#[cfg(feature = "client")]
use crate::net::{BodyCap, Http, NetError, NetKind};
use serde::Serialize;
use serde_json::Value;

/// Where the token endpoint came from.
#[derive(Debug, Clone, Serialize)]
pub struct Discovered {
    /// The issuer as the metadata states it (or as given when no metadata was found).
    pub issuer: String,
    /// The token endpoint: the metadata's `token_endpoint`, or
    /// `{issuer}token` when no metadata was found.
    pub token_endpoint: String,
    /// The metadata URL that answered; null when the fallback was used.
    pub metadata_url: Option<String>,
    /// `grant_types_supported`, when the metadata lists it.
    pub grant_types_supported: Vec<String>,
    /// `token_endpoint_auth_methods_supported`, when listed.
    pub auth_methods_supported: Vec<String>,
    /// `token_endpoint_auth_signing_alg_values_supported`, when listed.
    pub signing_algs_supported: Vec<String>,
    /// `authorization_details_types_supported` (RFC 9396), when listed.
    pub authorization_details_types_supported: Vec<String>,
    /// `mtls_endpoint_aliases.token_endpoint` (RFC 8705 §5), when listed.
    pub mtls_token_endpoint: Option<String>,
    /// `authorization_endpoint`, when listed.
    pub authorization_endpoint: Option<String>,
    /// `device_authorization_endpoint` (RFC 8628), when listed.
    pub device_authorization_endpoint: Option<String>,
    /// `pushed_authorization_request_endpoint` (RFC 9126), when listed.
    pub pushed_authorization_request_endpoint: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §5).
    pub require_pushed_authorization_requests: bool,
}

/// The metadata URLs to try, in order.
pub fn metadata_urls(issuer: &str) -> Vec<String> {
    let trimmed = issuer.trim_end_matches('/');
    let mut out = Vec::new();
    if let Ok(u) = url::Url::parse(trimmed) {
        let path = u.path().trim_end_matches('/');
        let origin = u.origin().ascii_serialization();
        // RFC 8414 §3: the well-known segment goes between host and path.
        out.push(format!(
            "{origin}/.well-known/oauth-authorization-server{path}"
        ));
        if !path.is_empty() {
            out.push(format!("{trimmed}/.well-known/oauth-authorization-server"));
        }
    }
    out.push(format!("{trimmed}/.well-known/openid-configuration"));
    out
}

/// `{issuer}token`, with one slash between.
pub fn fallback_endpoint(issuer: &str) -> String {
    format!("{}/token", issuer.trim_end_matches('/'))
}

/// Read an authorization server's metadata document (fetched from `url`
/// for `issuer`): None when it is not a JSON object with a `token_endpoint`.
pub fn from_metadata(body: &[u8], url: &str, issuer: &str) -> Option<Discovered> {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let te = m.get("token_endpoint").and_then(Value::as_str)?;
    let list = |k: &str| -> Vec<String> {
        m.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    Some(Discovered {
        issuer: m
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or(issuer)
            .to_string(),
        token_endpoint: te.to_string(),
        metadata_url: Some(url.to_string()),
        grant_types_supported: list("grant_types_supported"),
        auth_methods_supported: list("token_endpoint_auth_methods_supported"),
        signing_algs_supported: list("token_endpoint_auth_signing_alg_values_supported"),
        authorization_details_types_supported: list("authorization_details_types_supported"),
        mtls_token_endpoint: m
            .get("mtls_endpoint_aliases")
            .and_then(|a| a.get("token_endpoint"))
            .and_then(Value::as_str)
            .map(str::to_string),
        authorization_endpoint: text("authorization_endpoint"),
        device_authorization_endpoint: text("device_authorization_endpoint"),
        pushed_authorization_request_endpoint: text("pushed_authorization_request_endpoint"),
        require_pushed_authorization_requests: m
            .get("require_pushed_authorization_requests")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Look the issuer up. A failure to connect is an error; metadata that is
/// missing (404, not JSON, no token_endpoint) falls back to `{issuer}token`.
/// Every URL goes through the one HTTP client (its URL rules, no redirects,
/// the metadata body cap).
#[cfg(feature = "client")]
pub(crate) fn discover(http: &Http, issuer: &str) -> Result<Discovered, NetError> {
    crate::net::check_url(issuer).map_err(|detail| NetError {
        kind: NetKind::NotAllowed,
        url: issuer.to_string(),
        detail,
        proxy: None,
    })?;
    for url in metadata_urls(issuer) {
        let answer = http.get(&url, "application/json", BodyCap::Metadata)?;
        if !(200..300).contains(&answer.status) {
            continue;
        }
        if let Some(d) = from_metadata(&answer.body, &url, issuer) {
            // The metadata's token endpoint obeys the same URL rules.
            crate::net::check_url(&d.token_endpoint).map_err(|detail| NetError {
                kind: NetKind::NotAllowed,
                url: d.token_endpoint.clone(),
                detail,
                proxy: None,
            })?;
            return Ok(d);
        }
    }
    Ok(Discovered {
        issuer: issuer.to_string(),
        token_endpoint: fallback_endpoint(issuer),
        metadata_url: None,
        grant_types_supported: Vec::new(),
        auth_methods_supported: Vec::new(),
        signing_algs_supported: Vec::new(),
        authorization_details_types_supported: Vec::new(),
        mtls_token_endpoint: None,
        authorization_endpoint: None,
        device_authorization_endpoint: None,
        pushed_authorization_request_endpoint: None,
        require_pushed_authorization_requests: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtls_endpoint_alias_is_read() {
        let d = from_metadata(
            br#"{"token_endpoint":"https://as/token","mtls_endpoint_aliases":{"token_endpoint":"https://mtls.as/token"}}"#,
            "https://as/.well-known/oauth-authorization-server",
            "https://as",
        )
        .expect("metadata");
        assert_eq!(
            d.mtls_token_endpoint.as_deref(),
            Some("https://mtls.as/token")
        );
    }

    #[test]
    fn well_known_urls() {
        assert_eq!(
            metadata_urls("https://test.maskinporten.no/"),
            vec![
                "https://test.maskinporten.no/.well-known/oauth-authorization-server",
                "https://test.maskinporten.no/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            metadata_urls("https://kc.example/realms/r1"),
            vec![
                "https://kc.example/.well-known/oauth-authorization-server/realms/r1",
                "https://kc.example/realms/r1/.well-known/oauth-authorization-server",
                "https://kc.example/realms/r1/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            fallback_endpoint("https://maskinporten.no/"),
            "https://maskinporten.no/token"
        );
    }
}
