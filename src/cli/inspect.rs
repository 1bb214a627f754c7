//! `credkit inspect`.

use super::password::PasswordArgs;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  credkit inspect virksomhetssertifikat.p12 --password-file pw.txt
  CREDKIT_PASSWORD=changeit credkit inspect keystore.jks --json
  credkit inspect --key-password-env KEYPASS keystore.jks
  credkit inspect key.jwk

Exit status:
  0  the file was read and described
  2  it could not be read: missing, corrupt, unknown format, wrong password, unsupported algorithm,
     or a format credkit names but does not read (BKS, UBER, a CRL, a CSR)";

/// Show what a keystore or key file holds: entries, keys, certificates, validity and usage
///
/// Reads PKCS#12 (.p12/.pfx, new AES and legacy 3DES/RC2, BER exports, empty and NULL
/// passwords), JKS, JCEKS, PEM (certificates, PKCS#1/PKCS#8/SEC1/DSA keys, encrypted keys),
/// OpenSSH private keys (unencrypted Ed25519, RSA, ECDSA), DER, PKCS#7 certificate bundles
/// (.p7b/.p7c: DER, BER or PEM `PKCS7`, ordered into chains), JWK and JWKS. The format is
/// detected from the content. BouncyCastle BKS and UBER keystores, CRLs, certificate signing
/// requests and PKCS#7 messages with no certificate are named and refused (exit 2) with the
/// way out. For each entry it shows the alias, kind, key algorithm, size and curve, RFC 7638
/// thumbprint, whether the key matches its certificate, and for each certificate the subject,
/// issuer, serial, validity (against --now), key usage, extended key usage, policies,
/// Norwegian organisation number, fingerprints, x5t and x5t#S256.
///
/// Keys credkit cannot sign with (DSA, Ed448, X25519, X448, secp256k1, other curves) are
/// shown with the reason. Self-signatures are verified for RSA (PKCS#1 v1.5 and PSS, any
/// size), ECDSA (SHA-1, SHA-2), DSA and Ed25519; any other algorithm is reported as "not
/// checked". Certificates that are not strict DER are read as openssl reads them and
/// flagged.
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct InspectArgs {
    /// The file to inspect (`-` reads standard input)
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) passwords: PasswordArgs,
}
