//! `credkit jwt mint | decode | verify`.

use super::password::PasswordArgs;
use crate::jwt::jws::Alg;
use crate::target::MaskinportenEnv;
use crate::target::Target;
use std::path::PathBuf;

/// Parse `120s`, `2m`, `1h` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, mul) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        _ => (s, 1),
    };
    num.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (0..=10 * 365 * 86_400).contains(n))
        .map(|n| n * mul)
        .ok_or_else(|| format!("{s:?} is not a duration like 120s, 5m or 1h"))
}

/// Parse `--claim k=v`; v is JSON when it parses as JSON, else a string.
pub fn parse_claim(s: &str) -> Result<(String, serde_json::Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))?;
    if k.is_empty() {
        return Err("the claim name is empty".into());
    }
    let value = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
    Ok((k.to_string(), value))
}

/// Mint, decode and verify JWT grants and client assertions
#[derive(Debug, clap::Args)]
pub struct JwtArgs {
    #[command(subcommand)]
    pub command: JwtCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum JwtCommand {
    Mint(Box<MintArgs>),
    Decode(DecodeArgs),
    Verify(Box<VerifyArgs>),
}

const MINT_HELP: &str = "\
Profiles:
  maskinporten  RFC 7523 grant: aud = the environment's issuer (--env test|prod, with the
                trailing slash), iss = client id, scope, exp - iat <= 120 s, a UUID jti, x5c with
                the leaf certificate (or --kid), RS256/384/512, only documented claims
  okta          client assertion: iss = sub = client id, aud = the token endpoint (--aud), jti,
                exp at most 1 h ahead (default 5 min), kid = RFC 7638 thumbprint
  keycloak      as okta (jti is required by Keycloak)
  entra         iss = sub = client id, aud = the token endpoint, nbf/iat/exp (at most 10 min),
                x5t#S256 by default, PS256 by default (or RS256)
  generic       what the flags say; kid = RFC 7638 thumbprint

The credential is checked first (as `credkit check --for PROFILE`); an error-level finding
stops minting unless --force is given. Tokens go to standard output, one per line.

Examples:
  credkit jwt mint --key virksomhet.p12 --alias auth --profile maskinporten --env test \\
      --iss 0b7c5c8e-1111-2222-3333-444455556666 --scope 'nav:example'
  credkit jwt mint --key app.pem --profile okta --iss 0oa1b2c3 \\
      --aud https://example.okta.com/oauth2/v1/token
  credkit jwt mint --key app.p12 --profile entra --iss $APP_ID \\
      --aud https://login.microsoftonline.com/$TENANT/oauth2/v2.0/token
  credkit jwt mint --key app.p12 --iss x --aud y --count 10000 > tokens.txt

--count N signs on every core (--jobs J to choose; --jobs 1 is one thread). The tokens come
out in a stable order as they are made, so memory stays small for any N; each has its own jti.

Exit status:
  0  minted
  1  the credential failed its checks (findings on stderr)
  2  could not mint: unreadable key, missing option, a rule of the profile broken";

/// Mint a JWT grant or client assertion signed with a keystore entry
#[derive(Debug, clap::Args)]
#[command(after_long_help = MINT_HELP)]
pub struct MintArgs {
    /// The keystore or key file to sign with (any format `inspect` reads); with
    /// --dpop-proof, default: the DPoP key `token --dpop` keeps beside the cache
    #[arg(long, value_name = "FILE", required_unless_present = "dpop_proof")]
    pub key: Option<PathBuf>,
    /// The entry to sign with (default: the only one able to sign)
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// The target whose rules the token follows
    #[arg(long, value_enum, default_value = "generic")]
    pub profile: Target,
    /// Maskinporten environment: sets aud to its issuer
    #[arg(long, value_enum)]
    pub env: Option<MaskinportenEnv>,
    /// Issuer: the client id
    #[arg(long, value_name = "ID")]
    pub iss: Option<String>,
    /// Subject (okta, keycloak, entra: defaults to --iss)
    #[arg(long, value_name = "S")]
    pub sub: Option<String>,
    /// Audience (okta, keycloak, entra: the token endpoint URL)
    #[arg(long, value_name = "URL")]
    pub aud: Option<String>,
    /// Scopes, space-separated
    #[arg(long, value_name = "SCOPES")]
    pub scope: Option<String>,
    /// Maskinporten resource (audience restriction of the access token)
    #[arg(long, value_name = "R")]
    pub resource: Option<String>,
    /// Maskinporten consumer_org: the organisation a supplier acts for
    #[arg(long, value_name = "ORGNO")]
    pub consumer_org: Option<String>,
    /// An extra claim NAME=VALUE (VALUE is JSON if it parses as JSON); repeatable
    #[arg(long = "claim", value_name = "NAME=VALUE", value_parser = parse_claim)]
    pub claims: Vec<(String, serde_json::Value)>,
    /// Time from iat to exp, like 120s, 5m or 1h (default: 120s for maskinporten, else 5m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lifetime: Option<i64>,
    /// Signature algorithm (default: by profile and key type)
    #[arg(long, value_enum, ignore_case = true)]
    pub alg: Option<Alg>,
    /// Put the leaf certificate in x5c
    #[arg(long)]
    pub x5c: bool,
    /// Put the whole certificate chain in x5c
    #[arg(long, conflicts_with = "x5c")]
    pub x5c_chain: bool,
    /// Put this key id in the header
    #[arg(long, value_name = "ID")]
    pub kid: Option<String>,
    /// Put the certificate's SHA-1 thumbprint (x5t) in the header
    #[arg(long)]
    pub x5t: bool,
    /// Put the certificate's SHA-256 thumbprint (x5t#S256) in the header
    #[arg(long)]
    pub x5t_s256: bool,
    /// How many tokens to mint, one per line (each with its own jti)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub count: u32,
    /// Sign on this many threads (default: one per core); the tokens keep their order
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Mint even when the credential check or the profile's rules say no
    #[arg(long)]
    pub force: bool,
    /// Mint a DPoP proof (RFC 9449) for one API request instead: --htm, --htu, and --ath for
    /// the access token it goes with
    #[arg(long, requires_all = ["htm", "htu"], help_heading = "DPoP")]
    pub dpop_proof: bool,
    /// The request's HTTP method (DPoP htm)
    #[arg(
        long,
        value_name = "METHOD",
        requires = "dpop_proof",
        help_heading = "DPoP"
    )]
    pub htm: Option<String>,
    /// The request's URL (DPoP htu; query and fragment are dropped)
    #[arg(
        long,
        value_name = "URL",
        requires = "dpop_proof",
        help_heading = "DPoP"
    )]
    pub htu: Option<String>,
    /// The access token the request carries, for ath: `@FILE`, `-` or `env:VAR`
    #[arg(long, value_name = "@FILE|-|env:VAR", requires = "dpop_proof", value_parser = super::token::parse_token_source, help_heading = "DPoP")]
    pub ath: Option<crate::secret::SecretSource>,
    /// The server's DPoP-Nonce to put in the proof
    #[arg(
        long,
        value_name = "NONCE",
        requires = "dpop_proof",
        help_heading = "DPoP"
    )]
    pub nonce: Option<String>,
    #[command(flatten)]
    pub passwords: PasswordArgs,
}

const DECODE_HELP: &str = "\
TOKEN may be a bare JWT, `Bearer ...`, a JSON token response (access_token is taken), with
quotes, whitespace or newlines around it, or `\\u003d` for padding. `-` (or nothing) reads standard
input; `@FILE` reads a file. A token is a credential: prefer stdin or a file to the command line.

The signature is NOT verified: use `credkit jwt verify` for that.

The token is judged by what it is: a grant or client assertion (iss = a client id, aud = a token
endpoint or issuer) by the target's rules (--profile, else guessed from aud); an access token
(typ at+jwt, client_id, or scope from an issuer URL) and an ID token (nonce or at_hash) only by
what holds for every JWT (alg, exp, nbf, iat). A missing aud is an error only in a grant.

Exit status:
  0  decoded (problems are shown, and do not change the status)
  1  --strict (or --check) and an error-level problem (expired, alg none, lifetime too long, ...)
  2  not a JWT";

/// Show a JWT's header and claims, with times as dates, and flag what is wrong
#[derive(Debug, clap::Args)]
#[command(after_long_help = DECODE_HELP)]
pub struct DecodeArgs {
    /// The token (`-` or nothing: standard input; `@FILE`: a file)
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
    /// Judge the token by this target's rules (default: guessed from aud)
    #[arg(long, value_enum)]
    pub profile: Option<Target>,
    /// Exit 1 when an error-level problem is found (a lint); without it,
    /// decode exits 0 whenever the token could be read
    #[arg(long, visible_alias = "check")]
    pub strict: bool,
}

const VERIFY_HELP: &str = "\
Keys: --key takes any file `inspect` reads (a certificate, a public or private key, a keystore:
every key in it is tried, by kid when the token names one). --jwks takes a JWKS file or an
http(s) URL. --x5c uses the certificate in the token's header; with --ca it must chain to a CA
certificate in that file and be valid at --now.

alg none and HMAC algorithms (algorithm confusion) are always refused.

Exit status:
  0  valid
  1  invalid (the reason is printed)
  2  the token or the keys could not be read";

/// Verify a JWT's signature (and optionally aud, iss) with a key, a JWKS or its x5c
#[derive(Debug, clap::Args)]
#[command(after_long_help = VERIFY_HELP)]
pub struct VerifyArgs {
    /// The token (`-` or nothing: standard input; `@FILE`: a file)
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
    /// A file holding the verification key(s)
    #[arg(long, value_name = "FILE", group = "keysource")]
    pub key: Option<PathBuf>,
    /// A JWKS file or URL
    #[arg(long, value_name = "FILE_OR_URL", group = "keysource")]
    pub jwks: Option<String>,
    /// Use the certificate in the token's x5c header
    #[arg(long, group = "keysource")]
    pub x5c: bool,
    /// With --x5c: CA certificate(s) the x5c chain must lead to
    #[arg(long, value_name = "FILE", requires = "x5c")]
    pub ca: Option<PathBuf>,
    /// Require this audience
    #[arg(long, value_name = "AUD")]
    pub aud: Option<String>,
    /// Require this issuer
    #[arg(long, value_name = "ISS")]
    pub iss: Option<String>,
    /// Clock tolerance for exp and nbf, like 30s
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub leeway: i64,
    #[command(flatten)]
    pub passwords: PasswordArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("120s"), Ok(120));
        assert_eq!(parse_duration("2m"), Ok(120));
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("90"), Ok(90));
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn claims() {
        assert_eq!(
            parse_claim("pid=12345678901"),
            Ok(("pid".into(), serde_json::json!(12345678901u64)))
        );
        assert_eq!(
            parse_claim("name=ola"),
            Ok(("name".into(), serde_json::json!("ola")))
        );
        assert!(parse_claim("novalue").is_err());
    }
}
