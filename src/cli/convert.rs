//! `credkit convert`.

pub(crate) use super::password::OutPasswordArgs;
use super::password::PasswordArgs;
use crate::keystore::write::OutFormat;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Output formats (from OUTPUT's extension unless --to is given):
  pkcs12  .p12 .pfx     AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC (openssl 3, keytool 17);
                        --legacy: 3DES with a SHA-1 MAC (Java 8, Windows Server 2016)
  jks     .jks          aliases in lower case, as keytool stores them
  pem     .pem .crt .key  key (PKCS#8, encrypted unless --no-encrypt), certificate, chain
  der     .der .cer     one object: a certificate or a key (--key-only / --cert-only)
  jwk     .jwk          one public key (--private adds the private part); kid = RFC 7638 thumbprint
  jwks    .json .jwks   every chosen key

Passwords: the input's come from --password-* (or CREDKIT_PASSWORD, or a prompt). The output
password is the input password unless --out-password-* gives another. A JKS key password is the
store password unless --out-key-password-* gives another.

Safety: an existing file is replaced only with --force; files are written to a temporary file
and renamed into place; files holding private keys are created with mode 0600; private keys
are never written to a terminal.

Examples:
  credkit convert virksomhetssertifikat.p12 -o keystore.jks
  credkit convert keystore.jks -o client.p12 --legacy --alias auth
  credkit convert client.p12 -o client.pem --split --no-encrypt
  credkit convert client.p12 -o - --to jwk
  credkit convert key.pem -o key.jwk --private

Exit status:
  0  the output was written
  2  it could not be: unreadable input, wrong password, alias not found, output exists, ...";

/// Convert between PKCS#12, JKS, PEM, DER, JWK and JWKS, in every direction
///
/// Reads everything `inspect` reads and writes the chosen entries (all by default) in the
/// output format, keeping keys and certificates byte for byte. A PKCS#7 bundle becomes a PEM
/// file, a JKS or PKCS#12 truststore (each certificate once) or a JWKS with one key per chain
/// (x5c); a JWKS holds each key once. An empty output password is written as OpenSSL writes
/// it (openssl `-passin pass:` and keytool `-storepass ''` both open it).
#[derive(Debug, clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub(crate) struct ConvertArgs {
    /// The file to convert (`-` reads standard input)
    #[arg(value_name = "INPUT")]
    pub(crate) input: PathBuf,
    /// Where to write (`-` writes a text format to standard output)
    #[arg(short, long, value_name = "OUTPUT")]
    pub(crate) output: PathBuf,
    /// The output format (default: from OUTPUT's extension)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) to: Option<OutFormat>,
    /// Convert only the entry with this alias (repeatable; default: all entries)
    #[arg(long = "alias", value_name = "ALIAS")]
    pub(crate) aliases: Vec<String>,
    /// Give the single chosen entry this alias in the output
    #[arg(long, value_name = "NAME")]
    pub(crate) out_alias: Option<String>,
    /// PKCS#12: write 3DES with a SHA-1 MAC, for Java 8 and Windows Server 2016
    #[arg(long)]
    pub(crate) legacy: bool,
    /// PEM/DER: write the private key unencrypted
    #[arg(long)]
    pub(crate) no_encrypt: bool,
    /// PEM/DER: write only the key
    #[arg(long, conflicts_with = "cert_only")]
    pub(crate) key_only: bool,
    /// PEM/DER: write only certificates
    #[arg(long)]
    pub(crate) cert_only: bool,
    /// Write only the leaf certificate, not the chain
    #[arg(long)]
    pub(crate) leaf_only: bool,
    /// PEM: write the key, the certificate and the chain to OUTPUT.key.pem, OUTPUT.cert.pem and OUTPUT.chain.pem
    #[arg(long, conflicts_with_all = ["key_only", "cert_only", "leaf_only"])]
    pub(crate) split: bool,
    /// JWK/JWKS: include the private key parameters
    #[arg(long)]
    pub(crate) private: bool,
    /// JWK: use this kid instead of the RFC 7638 thumbprint
    #[arg(long, value_name = "ID")]
    pub(crate) kid: Option<String>,
    /// Key-derivation iterations for what credkit encrypts (default 10000; 2048 with --legacy;
    /// fewer than 2048 is written with a warning)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub(crate) iterations: Option<u32>,
    /// Replace an existing output file (also needed when OUTPUT is INPUT); only a regular file
    /// or a link to one is replaced, never a device, FIFO, socket or directory
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) passwords: PasswordArgs,
    #[command(flatten)]
    pub(crate) out_passwords: OutPasswordArgs,
}
