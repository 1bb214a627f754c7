//! `credkit check`.

use super::password::PasswordArgs;
use crate::target::{MaskinportenEnv, Target};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  credkit check virksomhetssertifikat.p12 --for maskinporten --env prod --client-org 123456785
  credkit check keystore.jks --alias 'auth' --for maskinporten
  CREDKIT_PASSWORD=changeit credkit check keystore.p12 --json
  credkit check client-key.pem --for okta --expiry-warning 60
  credkit check virksomhetssertifikat.p12 --for maskinporten --revocation

What it checks (each finding has a stable id; the README lists them all):
  entry        which entry signs: --alias missing (with suggestions), a trusted-certificate
               entry, several keys that can sign (best first), keys that never can and why
  key          the private key belongs to the certificate; RSA of 2048 bits or more; an
               algorithm the target accepts (Maskinporten: RS256/RS384/RS512 only)
  certificate  key usage (digitalSignature, not the non-repudiation certificate of the pair),
               extended key usage, validity against --now (expired, not yet valid, expiring)
  chain        stored in order, no missing intermediate CA
  organisation a Norwegian organisation number (Maskinporten), equal to --client-org
  environment  a Buypass/Commfides test certificate used for prod, or the other way round
  revocation   with --revocation: revoked (date, reason), unknown to the CA's responder, or
               no verified answer to be had (each URL and why)
  file         PKCS#12 encryption old Java/Windows or OpenSSL 3 cannot read; JKS key
               password different from the store password

Exit status:
  0  no errors (warnings and infos allowed): fit to sign for the target
  1  at least one error: not fit to sign; each error says what to do
  2  the file could not be read (missing, corrupt, unknown format, wrong password), or a
     usage error such as an invalid --client-org";

/// Tell whether a credential can sign grants or client assertions, and if not, why
///
/// Checks the private key and certificate in FILE (any format `inspect` reads) for the
/// target given with --for: which entry signs, whether the key belongs to the certificate,
/// key usage, validity, the chain, the key type and size, the organisation number, test
/// versus production CA, and how the file is protected. Each finding says what is wrong,
/// why it matters for the target, and what to do, often with a ready command.
///
/// Without --alias credkit checks the only private key in the file. With several, it judges
/// each for the target (key usage, key type and size, key and certificate match, --client-org,
/// --env): it checks the only one that can sign (and says why), or lists those that can, best
/// first (valid before expired, with an organisation number for Maskinporten), and says why the
/// others cannot. jwt mint, token and serve broker sign with the entry check chooses. The
/// non-repudiation certificate's pair is an authentication certificate of the same organisation
/// from the same CA, never another organisation's. The default target is `generic`; use
/// --for maskinporten for business certificates.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct CheckArgs {
    /// The keystore or key file to check (`-` reads standard input)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The entry to check (as keytool -list shows it); default: the one that can sign
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// Where the credential will be used
    #[arg(
        long = "for",
        value_enum,
        value_name = "TARGET",
        default_value = "generic"
    )]
    pub target: Target,
    /// The Maskinporten environment: a test certificate for prod (or the reverse) is an error
    #[arg(long, value_enum, value_name = "ENV")]
    pub env: Option<MaskinportenEnv>,
    /// The organisation number of the client's owner; the certificate must carry it, and
    /// without --alias only that organisation's keys are candidates
    #[arg(long, value_name = "ORGNO")]
    pub client_org: Option<String>,
    /// Warn when a certificate expires within this many days
    #[arg(long = "expiry-warning", value_name = "DAYS", default_value_t = 30)]
    pub expiry_warning_days: u32,
    /// Ask the CA whether the certificate and each CA certificate in its chain are revoked
    /// (goes online): the OCSP responder named in the certificate (authorityInfoAccess), then
    /// its CRL (cRLDistributionPoints). Answers are believed only when the CA (or a responder
    /// it authorised) signed them and they are current against --now. Plain http is used
    /// where the certificate names it: the data is signed.
    #[arg(long)]
    pub revocation: bool,
    /// CA certificates (PEM or DER) that issued the certificate, when the file does not hold
    /// them; used with --revocation (missing ones are otherwise fetched from the
    /// certificate's caIssuers URL, and the report says so)
    #[arg(long, value_name = "FILE", requires = "revocation")]
    pub ca_file: Option<PathBuf>,
    #[command(flatten)]
    pub passwords: PasswordArgs,
}
