//! Recognising what kind of authorization server a metadata document
//! (RFC 8414) describes, so that a grant follows that server's rules even when
//! its host name says nothing (test clones, API gateways, local look-alikes).

use super::discovery::Discovered;

/// RFC 7523 §2.1's grant type.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Why the metadata looks like Maskinporten's, or None when it does not.
///
/// Maskinporten's metadata (and its look-alikes') has at least one of:
/// `grant_types_supported` listing only the jwt-bearer grant;
/// `token_endpoint_auth_signing_alg_values_supported` listing only RS*
/// algorithms; `authorization_details_types_supported` (Altinn system users
/// and consents). A general-purpose server (Keycloak, Okta, Entra,
/// oidc-provider) lists more grant types and more algorithms, and no
/// authorization details types.
pub(crate) fn maskinporten_style(d: &Discovered) -> Option<&'static str> {
    // Without metadata there is nothing to recognise.
    d.metadata_url.as_ref()?;
    if !d.grant_types_supported.is_empty()
        && d.grant_types_supported.iter().all(|g| g == JWT_BEARER)
    {
        return Some("its grant_types_supported lists only the jwt-bearer grant");
    }
    if !d.signing_algs_supported.is_empty()
        && d.signing_algs_supported.iter().all(|a| a.starts_with("RS"))
    {
        return Some(
            "its token_endpoint_auth_signing_alg_values_supported lists only RS* algorithms",
        );
    }
    if !d.authorization_details_types_supported.is_empty() {
        return Some("it lists authorization_details_types_supported");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::discovery::from_metadata;

    fn meta(json: &str) -> Discovered {
        from_metadata(
            json.as_bytes(),
            "http://127.0.0.1:1/.well-known/oauth-authorization-server",
            "http://127.0.0.1:1/",
        )
        .expect("metadata")
    }

    #[test]
    fn maskinporten_metadata_is_recognised_by_each_sign() {
        for doc in [
            r#"{"token_endpoint":"x","grant_types_supported":["urn:ietf:params:oauth:grant-type:jwt-bearer"]}"#,
            r#"{"token_endpoint":"x","token_endpoint_auth_signing_alg_values_supported":["RS256","RS384","RS512"]}"#,
            r#"{"token_endpoint":"x","authorization_details_types_supported":["urn:altinn:systemuser"]}"#,
        ] {
            assert!(maskinporten_style(&meta(doc)).is_some(), "{doc}");
        }
    }

    #[test]
    fn general_servers_are_not() {
        for doc in [
            r#"{"token_endpoint":"x"}"#,
            r#"{"token_endpoint":"x","grant_types_supported":["client_credentials","urn:ietf:params:oauth:grant-type:jwt-bearer"],
                "token_endpoint_auth_signing_alg_values_supported":["RS256","PS256","ES256"]}"#,
        ] {
            assert_eq!(maskinporten_style(&meta(doc)), None, "{doc}");
        }
        let mut d = meta(
            r#"{"token_endpoint":"x","grant_types_supported":["urn:ietf:params:oauth:grant-type:jwt-bearer"]}"#,
        );
        d.metadata_url = None;
        assert_eq!(maskinporten_style(&d), None, "no metadata, no recognition");
    }
}
