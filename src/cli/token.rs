//! `credkit token`.

use super::jwt::{parse_claim, parse_duration};
use super::password::PasswordArgs;
use crate::jwt::jws::Alg;
use crate::oauth::dpop::DpopKeyChoice;
use crate::oauth::exchange::{Auth, Grant};
use crate::secret::SecretSource;
use crate::target::MaskinportenEnv;
use crate::target::Target;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Grants and client authentication:
  jwt-bearer          RFC 7523 grant (Maskinporten): a signed JWT is the grant; no client auth
  client-credentials  with --auth private-key-jwt (Okta, Entra ID, Keycloak: --key), or
                      client-secret-basic / client-secret-post (the secret from
                      --client-secret-file, --client-secret-env or --client-secret-stdin)
  refresh-token       the refresh token from --refresh-token-file/-env/-stdin, else the one an
                      interactive grant kept for this endpoint and client
  authorization-code  a user signs in in a browser: PKCE (S256) always, state and nonce
                      checked, the redirect to a listener on 127.0.0.1 (RFC 8252; a free port,
                      or --redirect-port / --redirect-uri); the browser is opened (xdg-open,
                      open) unless --no-browser, else the URL is printed on stderr. Pushed
                      first (PAR, RFC 9126) with --par or when the metadata requires it.
  device-code         RFC 8628: the user code and the verification URL are printed on stderr;
                      credkit polls at the server's interval (5 s more after slow_down)
  token-exchange      RFC 8693: --subject-token (and --actor-token, --requested-token-type,
                      --audience, --resource), with the client auth chosen
  on-behalf-of        Entra ID's on-behalf-of: the jwt-bearer grant with --subject-token as
                      the assertion and requested_token_use=on_behalf_of, with client auth
  The interactive grants wait --login-timeout (default 5m); they need --issuer (or
  --authorization-endpoint / --device-authorization-endpoint), and the code is exchanged
  with the client authentication chosen (none for a public client). A refresh token that
  comes back is kept 0600 in $XDG_CACHE_HOME/credkit/refresh-tokens (never printed unless
  --show-refresh-token; --json names the file in refresh_token_file), and
  `--grant refresh-token` without a refresh token option uses it (and keeps the rotated one).
Client auth also: client-secret-jwt (an HS256 assertion made with the secret),
tls-client-auth and self-signed-tls-client-auth (RFC 8705: the --key entry's certificate
in the TLS handshake, to the metadata's mtls_endpoint_aliases when it lists them).
Proofs: --dpop sends a DPoP proof (RFC 9449) with each request and answers a server's
use_dpop_nonce once with its DPoP-Nonce; --authorization-details (RFC 9396) goes in the
form, or for jwt-bearer in the JWT grant, as does --systemuser-org (Maskinporten).
Defaults: jwt-bearer with --env or --properties; otherwise client-credentials, with
private-key-jwt when --key is given and client-secret-basic when a secret is.

Where it goes: --env test|prod is Maskinporten (aud = its issuer, endpoint {issuer}token);
--issuer URL reads /.well-known/oauth-authorization-server or openid-configuration (else
{issuer}token); --token-endpoint URL overrides both. The JWT's aud follows the rules of
--jwt-profile (Maskinporten: the issuer; Okta, Entra: the token endpoint; Keycloak: the issuer)
and --aud overrides it.

The JWT's header: a jwt-bearer grant from a key with a certificate sends x5c (the leaf)
whatever the host. Maskinporten rules (--env, a maskinporten.no host, or metadata that looks
like Maskinporten's: grant_types_supported only jwt-bearer, token-endpoint signing algorithms
RS* only, or authorization_details_types_supported; --jwt-profile overrides): x5c alone and no
typ, or with --kid the kid alone. Other servers: x5c and kid (--kid, else the RFC 7638
thumbprint). --properties follows jwt-grant-generator: x5c unless keystore.kid, RS256,
exp = iat + 120 s, only its claims. Client assertions keep each --jwt-profile's header.

TLS is always verified (system roots, plus --ca-file); plain http
only to loopback addresses, which never go through a proxy; redirects are not followed.
Connection errors, 5xx and 429 are retried (--retries) with a
freshly minted JWT each time; 4xx never.

Output (stdout holds only this): the access token; --header: `Authorization: Bearer ...`;
--env-export: `export ACCESS_TOKEN=...`; --json: the whole response plus expires_at.
--postman-env FILE also writes a Postman environment (token, expiry, base variables).

Cache: a token is reused until shortly before it expires, per endpoint, client, scope,
resource and key, from $XDG_CACHE_HOME/credkit/tokens (mode 0600; never keys, secrets or
refresh tokens). --no-cache skips it, --refresh fetches a new token and stores it.

Configuration: --profile NAME reads [profiles.NAME] from --config (default
$XDG_CONFIG_HOME/credkit/config.toml); --properties FILE reads a jwt-grant-generator
.properties file unchanged. Flags override both.

When the server refuses, credkit prints its error and error_description, the likely cause
and the fix (from the known answers of Maskinporten, Okta, Entra ID, Keycloak and RFC 6749),
the credential check's findings, and facts read from the request actually sent: aud against
the issuer (a trailing slash named), the clock against the server's Date, the JWT's lifetime,
whether x5c or kid was sent, the certificate's organisation number and environment, the kid
sent beside the key's thumbprints, the jti of a replayed JWT. An answer that is not OAuth (an
HTML 404) is named as a wrong URL, with the token_endpoint from the issuer's metadata.
`credkit explain` gives the same diagnosis for an error copied from a log.

Examples:
  credkit token --key virksomhet.p12 --alias auth --env test \\
      --client-id 0b7c5c8e-1111-2222-3333-444455556666 --scope 'nav:example'
  curl -H \"$(credkit token --profile mp-test --header)\" https://api.example.no/
  credkit token --properties client.properties
  credkit token --key app.pem --client-id 0oa1b2c3 --jwt-profile okta \\
      --token-endpoint https://example.okta.com/oauth2/v1/token --scope api:read
  credkit token --issuer https://kc.example/realms/r1 --client-id svc \\
      --client-secret-env SVC_SECRET --auth client-secret-post
  eval \"$(credkit token --profile mp-test --env-export MP_TOKEN)\"

Exit status:
  0  a token was printed
  1  the server refused (its error, the likely cause and the fix on stderr), or the
     credential failed its checks (nothing was sent)
  2  the server could not be reached or gave no usable answer, or the input was unusable
     (options, keystore, password)";

/// Get an access token (JWT grant, client credentials, refresh, authorization code with PKCE, device code), cache it, and explain refusals
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct TokenArgs {
    /// Use this profile from the config file
    #[arg(long, value_name = "NAME", conflicts_with = "properties")]
    pub profile: Option<String>,
    /// The config file with profiles (default: $XDG_CONFIG_HOME/credkit/config.toml)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read a jwt-grant-generator .properties file (Digdir's format, unchanged)
    #[arg(long, value_name = "FILE")]
    pub properties: Option<PathBuf>,

    /// The keystore or key file that signs (any format `inspect` reads)
    #[arg(long, value_name = "FILE", help_heading = "Credential")]
    pub key: Option<PathBuf>,
    /// The entry that signs (default: the only one able to sign)
    #[arg(long, value_name = "ALIAS", help_heading = "Credential")]
    pub alias: Option<String>,
    /// The client id (the JWT's iss, and client_id)
    #[arg(long, value_name = "ID", help_heading = "Credential")]
    pub client_id: Option<String>,
    /// Read the client secret from the first line of this file
    #[arg(
        long,
        value_name = "PATH",
        group = "secret",
        help_heading = "Credential"
    )]
    pub client_secret_file: Option<PathBuf>,
    /// Read the client secret from this environment variable
    #[arg(
        long,
        value_name = "VAR",
        group = "secret",
        help_heading = "Credential"
    )]
    pub client_secret_env: Option<String>,
    /// Read the client secret from the first line of standard input
    #[arg(long, group = "secret", help_heading = "Credential")]
    pub client_secret_stdin: bool,
    /// Read the refresh token from the first line of this file
    #[arg(long, value_name = "PATH", group = "rt", help_heading = "Credential")]
    pub refresh_token_file: Option<PathBuf>,
    /// Read the refresh token from this environment variable
    #[arg(long, value_name = "VAR", group = "rt", help_heading = "Credential")]
    pub refresh_token_env: Option<String>,
    /// Read the refresh token from the first line of standard input
    #[arg(long, group = "rt", help_heading = "Credential")]
    pub refresh_token_stdin: bool,
    /// Send this ready-made JWT (`@FILE`, or `-` for standard input) instead of minting one
    #[arg(long, value_name = "JWT", help_heading = "Credential")]
    pub assertion: Option<String>,

    /// Scopes, space-separated
    #[arg(long, value_name = "SCOPES", help_heading = "Request")]
    pub scope: Option<String>,
    /// Resource (RFC 8707; Maskinporten's audience restriction)
    #[arg(long, value_name = "R", help_heading = "Request")]
    pub resource: Option<String>,
    /// The organisation number (9 digits) that owns the client: only its entries may sign, and
    /// a refusal for another organisation (MP-122) is compared with it
    #[arg(long, value_name = "ORGNR", help_heading = "Request")]
    pub client_org: Option<String>,
    /// Maskinporten consumer_org: the organisation a supplier acts for
    #[arg(long, value_name = "ORGNO", help_heading = "Request")]
    pub consumer_org: Option<String>,
    /// The grant to ask for
    #[arg(long, value_enum, help_heading = "Request")]
    pub grant: Option<Grant>,
    /// How the client authenticates (client-credentials and refresh-token)
    #[arg(long, value_enum, help_heading = "Request")]
    pub auth: Option<Auth>,
    /// The rules the signed JWT follows (default: from the endpoint)
    #[arg(long, value_enum, help_heading = "Request")]
    pub jwt_profile: Option<Target>,
    /// The JWT's audience (default: by --jwt-profile)
    #[arg(long, value_name = "URL", help_heading = "Request")]
    pub aud: Option<String>,
    /// Put this key id in the JWT header
    #[arg(long, value_name = "ID", help_heading = "Request")]
    pub kid: Option<String>,
    /// Signature algorithm (default: by profile and key type)
    #[arg(long, value_enum, ignore_case = true, help_heading = "Request")]
    pub alg: Option<Alg>,
    /// Time from iat to exp of the JWT, like 120s or 5m
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Request")]
    pub lifetime: Option<i64>,
    /// An extra JWT claim NAME=VALUE (VALUE is JSON if it parses as JSON); repeatable
    #[arg(long = "claim", value_name = "NAME=VALUE", value_parser = parse_claim, help_heading = "Request")]
    pub claims: Vec<(String, serde_json::Value)>,
    /// Send even when the credential check or the profile's rules say no
    #[arg(long, help_heading = "Request")]
    pub force: bool,
    /// Before sending, ask the CA whether the certificate (and its CA certificates) is
    /// revoked, as `check --revocation` does (goes online); a revoked certificate stops here
    /// unless --force
    #[arg(long, help_heading = "Request")]
    pub revocation: bool,

    /// Maskinporten environment (its issuer and token endpoint)
    #[arg(long, value_enum, conflicts_with = "issuer", help_heading = "Server")]
    pub env: Option<MaskinportenEnv>,
    /// The issuer: the token endpoint is found from its metadata
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub issuer: Option<String>,
    /// The token endpoint (overrides --env and --issuer)
    #[arg(long, value_name = "URL", help_heading = "Server")]
    pub token_endpoint: Option<String>,
    /// Also trust the CA certificates in this PEM file
    #[arg(long, value_name = "FILE", help_heading = "Server")]
    pub ca_file: Option<PathBuf>,
    /// Connect timeout, like 10s
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s", help_heading = "Server")]
    pub connect_timeout: i64,
    /// Total timeout of one request, like 30s
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "30s", help_heading = "Server")]
    pub timeout: i64,
    /// Retries after connection errors, 5xx and 429 (0 to 10; waits double from 0.5 s, at most 30 s)
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10), help_heading = "Server")]
    pub retries: u32,

    /// Print `Authorization: Bearer TOKEN`
    #[arg(long, group = "format", help_heading = "Output")]
    pub header: bool,
    /// Print `export VAR=TOKEN` (VAR defaults to ACCESS_TOKEN)
    #[arg(long, value_name = "VAR", num_args = 0..=1, default_missing_value = "ACCESS_TOKEN", group = "format", help_heading = "Output")]
    pub env_export: Option<String>,
    /// Also write a Postman environment file with the token and its expiry
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub postman_env: Option<PathBuf>,
    /// Do not read or write the token cache
    #[arg(long, help_heading = "Output")]
    pub no_cache: bool,
    /// Fetch a new token even if one is cached (and cache it)
    #[arg(long, conflicts_with = "no_cache", help_heading = "Output")]
    pub refresh: bool,
    /// Show the request and the response on stderr (secrets, signatures and tokens redacted)
    #[arg(long, short, help_heading = "Output")]
    pub verbose: bool,

    /// Send a DPoP proof (RFC 9449) with each request, signed by a key kept 0600 beside the
    /// cache (`generated`, the default) or by the credential's own key (`credential`)
    #[arg(long, value_enum, value_name = "KEY", num_args = 0..=1, default_missing_value = "generated", help_heading = "Proofs and token exchange")]
    pub dpop: Option<DpopKeyChoice>,
    /// RFC 9396 authorization_details: a JSON array (or `@FILE`, `-` for standard input),
    /// checked against the server's authorization_details_types_supported
    #[arg(long, value_name = "JSON", help_heading = "Proofs and token exchange")]
    pub authorization_details: Option<String>,
    /// Maskinporten system user: ask for the urn:altinn:systemuser of this customer
    /// (organisation number, 9 digits)
    #[arg(long, value_name = "ORGNO", help_heading = "Proofs and token exchange")]
    pub systemuser_org: Option<String>,
    /// The subject token (token exchange; on-behalf-of's assertion): `@FILE`, `-` (standard
    /// input) or `env:VAR`, never the token itself
    #[arg(long, value_name = "@FILE|-|env:VAR", value_parser = parse_token_source, help_heading = "Proofs and token exchange")]
    pub subject_token: Option<SecretSource>,
    /// Its type: access_token (default), refresh_token, id_token, jwt, saml1, saml2 or a URI
    #[arg(long, value_name = "TYPE", help_heading = "Proofs and token exchange")]
    pub subject_token_type: Option<String>,
    /// The actor token (RFC 8693 delegation): `@FILE`, `-` or `env:VAR`
    #[arg(long, value_name = "@FILE|-|env:VAR", value_parser = parse_token_source, help_heading = "Proofs and token exchange")]
    pub actor_token: Option<SecretSource>,
    /// The actor token's type (default access_token)
    #[arg(long, value_name = "TYPE", help_heading = "Proofs and token exchange")]
    pub actor_token_type: Option<String>,
    /// The token type to ask for (RFC 8693 requested_token_type)
    #[arg(long, value_name = "TYPE", help_heading = "Proofs and token exchange")]
    pub requested_token_type: Option<String>,
    /// The service the exchanged token is for (RFC 8693 audience)
    #[arg(long, value_name = "NAME", help_heading = "Proofs and token exchange")]
    pub audience: Option<String>,

    #[command(flatten)]
    pub passwords: PasswordArgs,

    #[command(flatten)]
    pub interactive: InteractiveArgs,
}

/// The options of the interactive grants (authorization code, device code).
#[derive(Debug, clap::Args)]
pub struct InteractiveArgs {
    /// The loopback port the browser is sent back to (default: a free one)
    #[arg(long, value_name = "PORT", help_heading = "Interactive grants")]
    pub redirect_port: Option<u16>,
    /// The redirect URI, http://127.0.0.1:PORT/PATH (loopback only; default: http://127.0.0.1:PORT/callback)
    #[arg(long, value_name = "URI", help_heading = "Interactive grants")]
    pub redirect_uri: Option<String>,
    /// Print the authorization URL instead of opening a browser
    #[arg(long, help_heading = "Interactive grants")]
    pub no_browser: bool,
    /// Push the authorization request first (PAR, RFC 9126); automatic when the metadata requires it
    #[arg(long, help_heading = "Interactive grants")]
    pub par: bool,
    /// How long to wait for the user to sign in or approve, like 2m (default 5m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Interactive grants")]
    pub login_timeout: Option<i64>,
    /// The authorization endpoint (default: from the issuer's metadata)
    #[arg(long, value_name = "URL", help_heading = "Interactive grants")]
    pub authorization_endpoint: Option<String>,
    /// The device authorization endpoint (default: from the issuer's metadata)
    #[arg(long, value_name = "URL", help_heading = "Interactive grants")]
    pub device_authorization_endpoint: Option<String>,
    /// Also print the refresh token (--json: in refresh_token); it is kept 0600 either way
    #[arg(long, help_heading = "Interactive grants")]
    pub show_refresh_token: bool,
}

/// A token's source: `@FILE`, `-` or `env:VAR` (a token is never an argument).
pub fn parse_token_source(s: &str) -> Result<SecretSource, String> {
    if s == "-" {
        Ok(SecretSource::Stdin)
    } else if let Some(f) = s.strip_prefix('@').filter(|f| !f.is_empty()) {
        Ok(SecretSource::File(PathBuf::from(f)))
    } else if let Some(v) = s.strip_prefix("env:").filter(|v| !v.is_empty()) {
        Ok(SecretSource::Env(v.to_string()))
    } else {
        Err(
            "give @FILE, - (standard input) or env:VAR; a token on the command line would be \
             visible to other users (ps) and kept in shell history"
                .into(),
        )
    }
}
