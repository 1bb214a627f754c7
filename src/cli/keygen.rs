//! `credkit keygen`.

use super::password::{OutPasswordArgs, PasswordArgs};
use crate::cert::issue::Usage;
use crate::key::generate::Algorithm;
use crate::keystore::write::OutFormat;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
What is made:
  (default)             a bare key pair, no certificate (PEM, DER, JWK, JWKS or PKCS#12)
  --self-signed         a certificate signed by its own key
  --ca CA_FILE          a certificate issued by a CA (--ca-alias picks the CA's entry)
  --make-ca             a root CA; with --ca, an intermediate CA issued by that CA;
                        with --intermediate, a root and an intermediate in one store

Business certificates (virksomhetssertifikat look-alikes): --org-number N writes
C=NO, O and CN (the organisation's name), organizationIdentifier=NTRNO-N and serialNumber=N;
--subject overrides attributes (\"O=Example AS\" sets O and CN). --usage auth:
digitalSignature+keyEncipherment and clientAuth; sign: nonRepudiation only; both: two keys and
certificates under the aliases auth and sign, in one store (or one file each with --split).

Broken on purpose (for testing error handling): --expired and --not-yet-valid move the
validity 30 days before or after --now; --wrong-key stores a key the certificate is not for;
--missing-intermediate leaves the issuing CA out of the chain (needs an intermediate as --ca);
--weak makes an RSA 1024-bit key and needs --insecure.

Realistic extensions: business certificates carry certificatePolicies (Buypass's test policy
2.16.578.1.26.1.0.3.2 unless --policy is given; Commfides G3 test uses 2.16.578.1.29.913.210.1.0
for authentication and 2.16.578.1.29.913.200.1.0 for signing). With --revocation-base URL,
certificates a CA issues carry a CRL distribution point URL/crl/SLUG.crl and AIA with OCSP
URL/ocsp and caIssuers URL/ca/SLUG.crt (SLUG: the CA's CN in lower case, e.g.
credkit-test-intermediate-ca): where `credkit serve revocation` serves them.

Revocation: --revoke CERT --ca CA adds CERT (issued by CA) to CA's revocation list, a TOML file
(CA.revoked.toml next to the CA file, or --revocation-list FILE) that may be edited by hand;
`credkit serve revocation` serves a CRL and OCSP answers from it, and `credkit serve
mock-maskinporten --revocation-list FILE` refuses what it lists with MP-120.

Dates are counted from the global --now (default: the clock). --seed makes keys, serials,
salts and IVs reproducible: the same seed and --now give byte-identical files. Anyone who
knows the seed can recreate the keys, so use it for test fixtures only.

Output formats as for convert (from OUTPUT's extension unless --to is given): pkcs12, jks,
pem, der (a bare key only), jwk and jwks (need --private: a new key must not be lost).
Passwords: --out-password-* (else the CA file's password, else CREDKIT_PASSWORD, else a
prompt); --password-* open the CA file. PEM and DER keys are encrypted unless --no-encrypt.
Files are never replaced without --force, are written atomically, and files with private
keys get mode 0600.

--fixture-set DIR writes a whole test set: a root and an intermediate CA, auth and sign
certificates for organisation 123456785 (also as a pair in one store), one for 987654325,
and each broken variant (expired, not-yet-valid, wrong-key, missing-intermediate,
weak-rsa1024, revoked), each as .p12, .jks, .pem and .jwk, plus DIR/README.md listing files,
password, purpose and the finding each broken file is meant to produce, and
DIR/mock-clients.toml for `credkit serve mock-maskinporten`. Revocation data to match: the
intermediate's revocation list (ca-intermediate.revoked.toml, listing revoked), its CRL
(ca-intermediate.crl) and an OCSP responder certificate (ocsp-responder.p12) for
`credkit serve revocation`. The README records the
password: use a test password. All files are written, or none.

Examples:
  credkit keygen -o client.jwk --algorithm p256 --private
  credkit keygen --make-ca --intermediate -o ca.p12
  credkit keygen --ca ca.p12 --ca-alias intermediate --org-number 123456785 --usage both -o virksomhet.p12
  credkit keygen --self-signed --subject \"CN=okta-client\" --days 30 -o client.pem
  credkit keygen --ca ca.p12 --ca-alias intermediate --org-number 123456785 --expired -o expired.p12
  credkit keygen --fixture-set fixtures/credkit --seed ci --out-password-env FIXTURE_PASSWORD
  credkit keygen --ca ca.p12 --org-number 123456785 --revocation-base http://127.0.0.1:7825 -o v.p12
  credkit keygen --revoke v.p12 --ca ca.p12 --reason keyCompromise

Exit status:
  0  everything was written
  2  nothing was: bad options, unreadable CA file, wrong password, output exists, ...";

/// Generate test keys, CAs and business-certificate look-alikes, good or broken on purpose
///
/// Makes a key pair, optionally with a self-signed or CA-issued certificate, a CA, or a whole
/// fixture set, and writes it in any format `convert` writes.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct KeygenArgs {
    /// Where to write (`-` writes PEM or JWK to standard output)
    #[arg(
        short,
        long,
        value_name = "OUTPUT",
        required_unless_present_any = ["fixture_set", "revoke"]
    )]
    pub output: Option<PathBuf>,
    /// The output format (default: from OUTPUT's extension)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<OutFormat>,
    /// The key type
    #[arg(long, value_enum, default_value = "rsa2048")]
    pub algorithm: Algorithm,
    /// The certificate subject, in certificate order: "C=NO, O=Example AS, CN=Example AS" or "/C=NO/O=.../CN=..."
    #[arg(long, value_name = "DN")]
    pub subject: Option<String>,
    /// Make a business certificate for this Norwegian organisation number (9 digits)
    #[arg(long, value_name = "N")]
    pub org_number: Option<String>,
    /// What the certificate is for (default: auth)
    #[arg(long, value_enum)]
    pub usage: Option<Usage>,
    /// Valid for N days from --now (default 365; 3650 for CAs)
    #[arg(long, value_name = "N", conflicts_with_all = ["not_before", "not_after"],
          value_parser = clap::value_parser!(u32).range(1..=36_525))]
    pub days: Option<u32>,
    /// The start of validity (RFC 3339); needs --not-after
    #[arg(long, value_name = "RFC3339", requires = "not_after")]
    pub not_before: Option<String>,
    /// The end of validity (RFC 3339); needs --not-before
    #[arg(long, value_name = "RFC3339", requires = "not_before")]
    pub not_after: Option<String>,
    /// Have the certificate issued by the CA in this file (PKCS#12, JKS, PEM, ...)
    #[arg(long, value_name = "CA_FILE", conflicts_with = "self_signed")]
    pub ca: Option<PathBuf>,
    /// The entry of the CA file that issues (when it holds more than one CA key)
    #[arg(long, value_name = "ALIAS", requires = "ca")]
    pub ca_alias: Option<String>,
    /// Make a self-signed certificate
    #[arg(long)]
    pub self_signed: bool,
    /// Make a CA: a root, or with --ca an intermediate issued by that CA
    #[arg(long, conflicts_with_all = ["self_signed", "org_number", "usage"])]
    pub make_ca: bool,
    /// With --make-ca: also make an intermediate CA issued by the new root, in the same output
    #[arg(long, requires = "make_ca", conflicts_with_all = ["ca", "subject"])]
    pub intermediate: bool,
    /// The alias of the new entry (a prefix when two are made: ALIAS-auth, ALIAS-sign)
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// Write each entry to its own file, OUTPUT-ALIAS.EXT (with --usage both or --intermediate)
    #[arg(long)]
    pub split: bool,
    /// Make the certificate expired: its validity ends 30 days before --now
    #[arg(long, help_heading = "Broken on purpose", conflicts_with_all = ["not_yet_valid", "not_before"])]
    pub expired: bool,
    /// Make the certificate not yet valid: its validity starts 30 days after --now
    #[arg(
        long,
        help_heading = "Broken on purpose",
        conflicts_with = "not_before"
    )]
    pub not_yet_valid: bool,
    /// Store a private key that does not belong to the certificate
    #[arg(long, help_heading = "Broken on purpose", conflicts_with = "make_ca")]
    pub wrong_key: bool,
    /// Leave the issuing intermediate CA out of the chain (needs --ca with an intermediate)
    #[arg(
        long,
        help_heading = "Broken on purpose",
        requires = "ca",
        conflicts_with = "make_ca"
    )]
    pub missing_intermediate: bool,
    /// Make an RSA 1024-bit key, too weak for any real use (needs --insecure)
    #[arg(long, help_heading = "Broken on purpose", conflicts_with = "algorithm")]
    pub weak: bool,
    /// Allow what is unsafe on purpose (--weak)
    #[arg(long, help_heading = "Broken on purpose")]
    pub insecure: bool,
    /// Derive every key, serial, salt and IV from this string, so output is reproducible
    #[arg(long, value_name = "SEED")]
    pub seed: Option<String>,
    /// Write a complete test set (CA chain, business pair, second organisation, broken variants) into DIR
    #[arg(long, value_name = "DIR", conflicts_with_all = [
        "output", "to", "subject", "org_number", "usage", "not_before", "not_after", "ca",
        "self_signed", "make_ca", "alias", "split", "expired", "not_yet_valid", "wrong_key",
        "missing_intermediate", "weak", "kid",
    ])]
    pub fixture_set: Option<PathBuf>,
    /// With --fixture-set: make the independent keys on this many threads (default: one per
    /// core); seeded output is the same whatever J is
    #[arg(long, value_name = "J", requires = "fixture_set", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// The certificatePolicies OID of end-entity certificates (repeatable; `none` for no
    /// policy). Default for business certificates: Buypass's test policy 2.16.578.1.26.1.0.3.2
    #[arg(
        long = "policy",
        value_name = "OID",
        help_heading = "Realistic extensions"
    )]
    pub policies: Vec<String>,
    /// Point CDP and AIA (OCSP, caIssuers) of CA-issued certificates at this base URL, where
    /// `credkit serve revocation` serves the CA (default: none; http://127.0.0.1:7825 with
    /// --fixture-set)
    #[arg(long, value_name = "URL", help_heading = "Realistic extensions")]
    pub revocation_base: Option<String>,
    /// Revoke this certificate (any file `inspect` reads): add it to the CA's revocation list
    #[arg(long, value_name = "CERT", help_heading = "Revocation", requires = "ca",
          conflicts_with_all = ["output", "fixture_set", "make_ca", "self_signed", "org_number", "subject"])]
    pub revoke: Option<PathBuf>,
    /// With --revoke: why (RFC 5280: keyCompromise, affiliationChanged, superseded,
    /// cessationOfOperation, ...; default unspecified)
    #[arg(
        long,
        value_name = "REASON",
        help_heading = "Revocation",
        requires = "revoke"
    )]
    pub reason: Option<String>,
    /// The revocation list (TOML) --revoke adds to (default: CA_FILE's name with
    /// .revoked.toml, next to it)
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Revocation",
        requires = "revoke"
    )]
    pub revocation_list: Option<PathBuf>,
    /// PKCS#12: write 3DES with a SHA-1 MAC, for Java 8 and Windows Server 2016
    #[arg(long)]
    pub legacy: bool,
    /// PEM/DER: write the private key unencrypted
    #[arg(long)]
    pub no_encrypt: bool,
    /// JWK/JWKS: include the private key parameters (in the clear, mode 0600)
    #[arg(long)]
    pub private: bool,
    /// JWK: use this kid instead of the RFC 7638 thumbprint
    #[arg(long, value_name = "ID")]
    pub kid: Option<String>,
    /// Key-derivation iterations for what credkit encrypts (default 10000; 2048 with --legacy;
    /// fewer than 2048 is written with a warning)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub iterations: Option<u32>,
    /// Replace existing output files (only regular files or links to them, never a device,
    /// FIFO, socket or directory)
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub passwords: PasswordArgs,
    #[command(flatten)]
    pub out_passwords: OutPasswordArgs,
}
