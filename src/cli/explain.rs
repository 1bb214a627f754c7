//! `credkit explain`.

use super::password::PasswordArgs;
use crate::target::Target;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
ANSWER is what the token endpoint said, copied from anywhere (a Java service's log, a Postman
console, a CI job): a JSON error body, a raw error_description line, or a whole log line with
trace_id. `-` (or nothing) reads standard input, `@FILE` reads a file. Nothing is sent.

It prints the known answer, the likely cause and the fix (the same diagnosis `credkit token`
gives when it is refused), and every fact the other inputs show: the JWT that was sent
(--assertion: aud against --issuer, lifetime, x5c or kid, the certificate's organisation
number, validity and key usage at --at, jti), and the credential (--key: its thumbprints,
whether it is the key of the certificate in x5c).

Examples:
  credkit explain '{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT header x5c (trace_id: 4f2a)\"}'
  credkit explain @mp-error.log --assertion @grant.jwt --key virksomhet.p12 --client-org 123456785
  kubectl logs svc/api | grep invalid_grant | tail -1 | credkit explain --for okta --json

Exit status:
  0  explained (a known answer or not)
  2  no answer to explain, or an input that cannot be read";

/// Explain a token-endpoint error copied from a log, offline
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct ExplainArgs {
    /// The server's answer (`-` or nothing: standard input; `@FILE`: a file)
    #[arg(value_name = "ANSWER")]
    pub(crate) answer: Option<String>,
    /// The grant or client assertion that was sent (a JWT, `@FILE` or `-`)
    #[arg(long, value_name = "JWT")]
    pub(crate) assertion: Option<String>,
    /// The keystore or key that signed (any format `inspect` reads)
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// The entry in --key (default: the entry check, jwt mint and token would
    /// sign with; a file without a private key has its only entry explained)
    #[arg(long)]
    pub(crate) alias: Option<String>,
    /// The issuer the JWT was for (its aud is compared with it)
    #[arg(long, value_name = "URL")]
    pub(crate) issuer: Option<String>,
    /// The token endpoint that was called
    #[arg(long, value_name = "URL")]
    pub(crate) token_endpoint: Option<String>,
    /// The provider's rules (default: from the JWT's aud, else from the answer)
    #[arg(long = "for", value_enum, value_name = "PROVIDER")]
    pub(crate) target: Option<Target>,
    /// When the answer came (RFC 3339; the server's Date): the time the
    /// certificate and the JWT are judged at (default: the JWT's iat, else --now)
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// The client id that was used
    #[arg(long)]
    pub(crate) client_id: Option<String>,
    /// The organisation number (9 digits) that owns the client
    #[arg(long, value_name = "ORGNR")]
    pub(crate) client_org: Option<String>,
    #[command(flatten)]
    pub(crate) passwords: PasswordArgs,
}
