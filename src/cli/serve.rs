//! `credkit serve`.

use super::jwt::parse_duration;
use super::password::PasswordArgs;
use std::net::IpAddr;
use std::path::PathBuf;

/// A signed duration: `-15s`, `+2m`, `30s`.
pub fn parse_offset(s: &str) -> Result<i64, String> {
    let t = s.trim();
    match t.strip_prefix('-') {
        Some(rest) => parse_duration(rest).map(|v| -v),
        None => parse_duration(t.strip_prefix('+').unwrap_or(t)),
    }
}

/// `CLIENT_ID=CASE`.
pub fn parse_forced(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((c, e)) if !c.is_empty() && !e.is_empty() => Ok((c.to_string(), e.to_string())),
        _ => Err(format!("{s:?} is not CLIENT_ID=CASE (like 0b7c…=MP-250)")),
    }
}

/// Local services: a token broker for Postman and curl, a Maskinporten look-alike, a test CA's revocation data
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub command: ServeCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ServeCommand {
    Broker(BrokerArgs),
    MockMaskinporten(MockArgs),
    Revocation(RevocationArgs),
}

const BROKER_HELP: &str = "\
The broker listens on 127.0.0.1 only. It answers GET /token/<profile> with a cached token, or
fetches a new one (minting a fresh grant, as `credkit token --profile` does) when there is none
or it expires within a quarter of its life (at most 60 s). `?refresh=1` forces a new one.

Every call needs the per-run secret printed at start, in the X-Credkit-Secret header. Calls whose
Host is not 127.0.0.1:PORT or localhost:PORT are refused (421, against DNS rebinding), so are calls
from web pages (an Origin header that is not the broker's; no CORS header is ever sent).

Answers (JSON unless ?format=plain or Accept: text/plain, which give the bare token):
  200 {\"schema\":\"credkit.broker.token/1\",\"profile\",\"access_token\",\"token_type\",
       \"expires_in\",\"expires_at\",\"scope\",\"cached\"}
  401 secret missing or wrong; 404 unknown profile; 421 wrong Host; 403 web origin
  502 the authorization server refused: {\"error\":\"refused\",\"message\",\"server_error\",
      \"server_error_description\",\"cause\",\"fix\"}
  504 the server could not be reached or gave no usable answer
  400 two Host headers; 421 an absolute-form target (GET http://host/...) naming another host
GET /profiles lists the profiles, whether a token is cached and how often each was fetched.
No token or secret is ever in a 502/504 body or the log, whatever the server answered.

Limits (broker and mock-maskinporten): 64 open connections per peer address, 1024 in all (a
connection past a cap is closed at once); 10 s to send a request's head; 64 KiB of body.

Profiles come from the config file `credkit token --profile` reads; their passwords from the
variables or files the profile names (CREDKIT_PASSWORD, else a prompt at start on a terminal).
Every profile is loaded and checked at start, so a broken one stops the broker at once.
A profile of an interactive grant (grant = \"authorization-code\" or \"device-code\") signs in
once at start, on this console (the URL or user code is printed here; a refresh token kept by an
earlier sign-in is used instead while the server takes it); its kept refresh token renews it after.

Examples:
  credkit serve broker --profile mp-test --postman-script
  curl -H \"X-Credkit-Secret: $SECRET\" http://127.0.0.1:7823/token/mp-test?format=plain
  credkit serve broker --config team.toml --port 0 --json    # first stdout line: the URL and secret

Exit status: 2 when it cannot start (config, keystore, port in use); it runs until stopped.";

/// Serve access tokens to Postman and curl on 127.0.0.1, fetched and cached per profile
#[derive(Debug, clap::Args)]
#[command(after_long_help = BROKER_HELP)]
pub struct BrokerArgs {
    /// Serve this profile (repeatable; default: every profile in the config file)
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// The config file with profiles (default: $XDG_CONFIG_HOME/credkit/config.toml)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The port on 127.0.0.1 (0: any free port)
    #[arg(long, value_name = "P", default_value_t = 7823)]
    pub port: u16,
    /// Print a Postman pre-request script for each profile
    #[arg(long)]
    pub postman_script: bool,
    /// Also write this run's secret to this file (mode 0600)
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// Replace an existing --secret-file
    #[arg(long, requires = "secret_file")]
    pub force: bool,
    /// Worker threads (default: the number of cores)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Log the token requests to the authorization server on stderr (secrets redacted)
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub passwords: PasswordArgs,
}

const MOCK_HELP: &str = "\
A local authorization server that behaves like Maskinporten, for integration tests and demos.
It serves GET /.well-known/oauth-authorization-server, GET /jwk and POST /token (the
jwt-bearer grant only), and checks a grant as Maskinporten does: the x5c certificate against
--ca (chain, validity, digitalSignature) or a registered key by kid, the RS256/384/512
signature, aud = its issuer, iss = a known client, the certificate's organisation number
against the client's, exp - iat <= 120 s, iat within --iat-skew of its clock, jti not reused,
only documented claims, consumer_org and its delegations, with --revocation-list a revoked
certificate (MP-120, as Maskinporten refuses one), authorization_details, and the
scopes granted to the client. Each failure gets Maskinporten's documented error and text.
Tokens are RS256 JWTs with Maskinporten's claims (client_id, consumer, scope, client_amr,
aud from resource), verifiable with GET /jwk.

Limits: 64 open connections per peer address, 1024 in all (a connection past a cap is closed
at once); 10 s to send a request's head; 64 KiB of body. Two Host headers are refused (400), and
so is an absolute-form target (GET http://host/...) that does not name this listener (421).

clients.toml (`credkit keygen --fixture-set DIR` writes a ready one as DIR/mock-clients.toml):
  user_login_scopes = [\"openid\"]                 # scopes refused with MP-201
  [access]                                        # who may have a scope (MP-250); others open
  \"test:restricted\" = [\"123456785\"]
  [[client]]
  client_id = \"0b7c5c8e-1111-2222-3333-444455556666\"
  org = \"123456785\"                               # the owner's organisation number
  scopes = [\"test:read\"]
  # auth = \"key\"; keys = [{ kid = \"k1\", file = \"k1.jwk\", expires = \"2027-11-23T00:00:00Z\" }]
  # consumers = { \"987654325\" = [\"test:read\"] }   # delegations to this supplier (MP-251)
  # token_lifetime = 600; force_error = \"MP-250\"

Examples:
  credkit keygen --fixture-set fx --seed demo
  credkit serve mock-maskinporten --ca fx/ca-chain.pem --clients fx/mock-clients.toml
  credkit serve mock-maskinporten --ca fx/ca-chain.pem --clients fx/mock-clients.toml \\
      --clock-offset=-15s --force-error 00000000-0000-4000-8000-000000000003=MP-250

Exit status: 2 when it cannot start (CA file, clients file, port in use); it runs until stopped.";

/// Run a local Maskinporten look-alike: metadata, /jwk and /token with its checks and errors
#[derive(Debug, clap::Args)]
#[command(after_long_help = MOCK_HELP)]
pub struct MockArgs {
    /// The CA certificates business certificates must chain to (PEM or DER; every one is trusted)
    #[arg(long, value_name = "FILE")]
    pub ca: PathBuf,
    /// The registered clients (TOML; see below)
    #[arg(long, value_name = "FILE")]
    pub clients: PathBuf,
    /// The port (0: any free port)
    #[arg(long, value_name = "P", default_value_t = 7824)]
    pub port: u16,
    /// The address to listen on (use 0.0.0.0 inside a container)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// The issuer (and grant aud) it announces (default: http://127.0.0.1:PORT/)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Lifetime of the access tokens it issues, like 120s or 10m (clients may override)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "120s")]
    pub token_lifetime: i64,
    /// Run the server's clock this far ahead (or, with -, behind), like -15s
    #[arg(long, value_name = "DURATION", value_parser = parse_offset, allow_hyphen_values = true, default_value = "0s")]
    pub clock_offset: i64,
    /// How far iat may be from the server's clock (Maskinporten: 10 s)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10s")]
    pub iat_skew: i64,
    /// Answer every grant of this client with this documented error (CLIENT_ID=CASE; repeatable)
    #[arg(long = "force-error", value_name = "CLIENT_ID=CASE", value_parser = parse_forced)]
    pub force_errors: Vec<(String, String)>,
    /// Refuse certificates this revocation list (TOML, `credkit keygen --revoke`) revokes, with
    /// MP-120 as Maskinporten does
    #[arg(long, value_name = "FILE")]
    pub revocation_list: Option<PathBuf>,
    /// Sign tokens with this RSA key (any format `inspect` reads; default: a new key each start)
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// Worker threads (default: the number of cores)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub passwords: PasswordArgs,
}

const REVOCATION_HELP: &str = "\
Serves a test CA's revocation data, made at each request from the revocation list:
  GET  /crl/SLUG.crl    the CA's CRL, DER, signed by the CA (thisUpdate = the clock, nextUpdate =
                        thisUpdate + --validity, every certificate listed with its date and reason)
  GET  /ca/SLUG.crt     the CA certificate, DER (the caIssuers URL)
  POST /ocsp            OCSP (RFC 6960): good, revoked (time and reason) or unknown, the nonce
  GET  /ocsp/BASE64     echoed, signed by the CA or by --responder; the same by GET
  GET  /                what is served (JSON)
SLUG is the CA's common name in lower case with other characters made '-'
(credkit-test-intermediate-ca): the URLs `credkit keygen --revocation-base` puts in CDP and AIA.
A certificate of a served CA that the list does not revoke is good; a CertID of another issuer is
unknown. Entries dated after the clock do not count yet. The list file is read again when it
changes: `credkit keygen --revoke CERT --ca CA` or an edit shows at the next request.

Limits: OCSP requests up to 16 KiB; otherwise as mock-maskinporten (64 open connections per
peer, 1024 in all, 10 s for a request head, 64 KiB of body).

Examples:
  credkit keygen --fixture-set fx --seed demo
  credkit serve revocation --ca fx/ca-intermediate.p12 --ca fx/ca-root.p12
  credkit serve revocation --ca fx/ca-intermediate.p12 --responder fx/ocsp-responder.p12
  openssl ocsp -issuer fx/ca-intermediate.cert.pem -cert fx/revoked.pem \\
      -url http://127.0.0.1:7825/ocsp -CAfile fx/ca-chain.pem
  curl -s http://127.0.0.1:7825/crl/credkit-test-intermediate-ca.crl | openssl crl -inform DER -text

Exit status: 2 when it cannot start (CA file, list, responder, port in use); it runs until stopped.";

/// Serve a test CA's CRL and answer OCSP requests from its revocation list
#[derive(Debug, clap::Args)]
#[command(after_long_help = REVOCATION_HELP)]
pub struct RevocationArgs {
    /// A CA file (PKCS#12, JKS, PEM) whose CA entries to serve: every entry with a CA
    /// certificate and its key (repeatable)
    #[arg(long = "ca", value_name = "CA_FILE", required = true)]
    pub cas: Vec<PathBuf>,
    /// The revocation list (TOML; default: the first CA file's name with .revoked.toml, next
    /// to it, as `keygen --revoke` writes it; a missing file revokes nothing)
    #[arg(long, value_name = "FILE")]
    pub revocation_list: Option<PathBuf>,
    /// Sign OCSP answers for its issuing CA with this delegated responder (a key and a
    /// certificate with extended key usage OCSPSigning, `keygen --usage ocsp`)
    #[arg(long, value_name = "FILE")]
    pub responder: Option<PathBuf>,
    /// How long CRLs and OCSP answers are valid (nextUpdate - thisUpdate), like 1h or 24h
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
    pub validity: i64,
    /// The port (0: any free port)
    #[arg(long, value_name = "P", default_value_t = crate::cert::extensions::DEFAULT_REVOCATION_PORT)]
    pub port: u16,
    /// The address to listen on (use 0.0.0.0 inside a container)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Worker threads (default: the number of cores)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub passwords: PasswordArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("-15s"), Ok(-15));
        assert_eq!(parse_offset("+2m"), Ok(120));
        assert_eq!(parse_offset("30"), Ok(30));
        assert!(parse_offset("-x").is_err());
        assert_eq!(
            parse_forced("a=MP-250"),
            Ok(("a".to_string(), "MP-250".to_string()))
        );
        assert!(parse_forced("=MP-250").is_err());
    }
}
