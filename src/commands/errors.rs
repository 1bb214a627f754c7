//! The command layer's side of errors: each domain error becomes an
//! [`Error`] here, and the hints, which name this program's flags and
//! commands, are written here and nowhere else (domain errors say what is
//! wrong; what to type about it is the command line's business).

use crate::cert::issue::{DN_NAMES, KeygenError};
use crate::error::{Error, IoAction};
use crate::error_id::ErrorId;
use crate::jwt::jws::JwsError;
use crate::jwt::mint::{Fix, MintError, Missing};
use crate::key::KeyError;
use crate::keystore::KeystoreError;
use crate::keystore::write::{Ambiguity, Parts, WriteError};
use crate::oauth::client::{ClientError, Problem};
use crate::output::remedy;
use crate::secret::SecretError;

macro_rules! wrap {
    ($($domain:ty => $variant:ident,)*) => {
        $(impl From<$domain> for Error {
            fn from(e: $domain) -> Error {
                Error::$variant(e)
            }
        })*
    };
}

wrap! {
    KeystoreError => Keystore,
    SecretError => PasswordSource,
    KeygenError => Keygen,
    crate::jwt::decode::DecodeError => Jwt,
    crate::oauth::config::ConfigError => Config,
    crate::oauth::mock::MockError => Mock,
    crate::oauth::dpop::DpopError => Dpop,
    crate::oauth::grants::RarError => Rar,
    crate::oauth::interactive::InteractiveError => Interactive,
}

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// A settings problem of the token client, with the hint in terms of
/// `token`'s flags (and the broker's profile keys, which share the names).
impl From<Problem> for Error {
    fn from(p: Problem) -> Error {
        let message = p.to_string();
        match p {
            Problem::NoDestination => usage(
                message,
                "give --env test|prod (Maskinporten), --issuer URL or --token-endpoint URL",
            ),
            Problem::JwtBearerWithAuth => {
                usage(message, "drop --auth, or use --grant client-credentials")
            }
            Problem::NeedsKey(_) => usage(
                message,
                "give --key FILE (and --alias), or a profile that has one",
            ),
            Problem::NeedsSecret(_) => usage(
                message,
                "give --client-secret-file PATH, --client-secret-env VAR or \
                 --client-secret-stdin (never on the command line)",
            ),
            Problem::NeedsRefreshToken => usage(
                message,
                "give --refresh-token-file PATH, --refresh-token-env VAR or \
                 --refresh-token-stdin, or sign in once with --grant authorization-code or \
                 device-code (the refresh token is kept)",
            ),
            Problem::NeedsClientId => usage(
                "--client-id is required",
                "give the client id the server knows (Maskinporten: from Samarbeidsportalen)",
            ),
            Problem::OneStdin => usage(
                message,
                "read the others from a file or an environment variable",
            ),
            Problem::Url(message) => Error::Url { message },
            Problem::NeedsSubjectToken(_) => usage(
                message,
                "give --subject-token @FILE, - (standard input) or env:VAR",
            ),
            Problem::NeedsKeystore(_) => usage(message, "give --key FILE (and --alias)"),
            Problem::Rar(e) => Error::Rar(e),
        }
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Error {
        match e {
            ClientError::Settings(p) => p.into(),
            ClientError::Read { path, source } => Error::Io {
                action: IoAction::Read,
                path,
                source,
            },
            ClientError::Keystore { path, source } => Error::Input { path, source },
            ClientError::Secret(e) => Error::PasswordSource(e),
            ClientError::Http(message) => Error::Url { message },
            ClientError::Network(n) => Error::Network(n),
            ClientError::Server {
                endpoint,
                status,
                detail,
            } => Error::Server {
                endpoint,
                status,
                detail,
            },
            ClientError::Refused(d) => Error::Refused(d),
            ClientError::Unfit {
                file,
                errors,
                report,
            } => Error::Unfit {
                file,
                errors,
                report,
            },
            ClientError::Mint(m) => m.into(),
            ClientError::Dpop(e) => Error::Dpop(e),
            ClientError::Mtls { file, detail } => Error::Mtls { file, detail },
            ClientError::Interactive(e) => Error::Interactive(e),
        }
    }
}

const PASSWORD_OPTIONS: &str = "give the password with --password-file PATH, --password-env VAR \
     or --password-stdin, or set CREDKIT_PASSWORD";

const PASSWORD_SOURCE_HINT: &str =
    "password options: --password-file PATH, --password-env VAR, --password-stdin";

/// The hint for a key credkit cannot use (never the re-encryption one).
const KEY_TYPE_HINT: &str = "credkit uses RSA, EC (P-256, P-384, P-521) and Ed25519 keys; \
     this key type cannot be used here. Open an issue with the algorithm name if you need it";

impl Error {
    /// Advice, kept out of the message.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } => hint.clone(),
            Error::Revocation { hint, .. } => Some(hint.clone()),
            Error::Io { action, source, .. } => io_hint(*action, source),
            Error::Input { source, .. } | Error::Keystore(source) => keystore_hint(source),
            Error::PasswordSource(_) => Some(PASSWORD_SOURCE_HINT.into()),
            Error::Alias { source, .. } => Some(match &source.closest {
                Some(c) => format!("use --alias '{c}'"),
                None => "run `credkit inspect` on the file to list its entries".into(),
            }),
            Error::Write { error, .. } => write_hint(error),
            Error::Jwt(_) => Some(
                "give the token itself (three base64url parts separated by dots), a `Bearer ...` \
                 line, or the token response JSON"
                    .into(),
            ),
            Error::Mint { error, .. } => mint_hint(error),
            Error::Fetch { .. } => {
                Some("check the URL and the network; or save the JWKS and give the file".into())
            }
            Error::Keygen(e) => keygen_hint(e),
            Error::Refused(d) => d.known.as_ref().map(|k| remedy::text(&k.fix)).or_else(|| {
                d.facts
                    .iter()
                    .find(|f| f.problem)
                    .map(|f| format!("look at: {}", remedy::text(&f.message)))
            }),
            Error::Network(n) if n.kind == crate::net::NetKind::Tls => Some(
                "credkit always verifies TLS, against the system's roots; a company proxy that \
                 inspects TLS needs its CA given with --ca-file"
                    .into(),
            ),
            Error::Network(n) => Some(n.explain().1),
            Error::Server { status, .. } if *status >= 500 => Some(
                "the server failed; credkit retried (--retries). Try again later, or check the \
                 provider's status page"
                    .into(),
            ),
            Error::Server { .. } => Some(
                "this does not look like a token endpoint: check --token-endpoint / --issuer (a \
                 proxy or a login page may have answered)"
                    .into(),
            ),
            Error::Url { .. } => {
                Some("use https (plain http only to 127.0.0.1, ::1 or localhost)".into())
            }
            Error::Config(_) => Some("see `credkit token --help`, Configuration".into()),
            Error::Unfit { .. } => Some(
                "fix the findings above (`credkit check` shows them too), or add --force to send \
                 anyway"
                    .into(),
            ),
            Error::Mock(e) => e.hint(),
            Error::Dpop(_) => Some(
                "check the cache directory's owner and permissions; a key file that is not a \
                 PKCS#8 PEM key can be removed and a new key is made"
                    .into(),
            ),
            Error::Rar(_) => Some(
                "give a JSON array of objects, each with a \"type\" the server supports \
                 (its metadata lists authorization_details_types_supported)"
                    .into(),
            ),
            Error::Mtls { .. } => Some(
                "mutual TLS needs a keystore entry with its private key and certificate \
                 (`credkit inspect` shows them; --alias picks the entry)"
                    .into(),
            ),
            Error::Interactive(e) => Some(interactive_hint(e)),
        }
    }
}

fn interactive_hint(e: &crate::oauth::interactive::InteractiveError) -> String {
    use crate::oauth::interactive::InteractiveError as I;
    match e {
        I::NoEndpoint { .. } => "give --issuer (its metadata names the endpoints), or \
             --authorization-endpoint / --device-authorization-endpoint"
            .into(),
        I::RedirectUri { .. } => {
            "give --redirect-uri http://127.0.0.1:PORT/PATH (or only --redirect-port PORT)".into()
        }
        I::Listen { .. } => {
            "choose another --redirect-port (0 or none: any free one), or stop what listens there"
                .into()
        }
        I::Timeout { .. } => "finish the sign-in sooner, or give a longer --login-timeout".into(),
        I::StateMismatch { .. } | I::NonceMismatch => {
            "start again, and use the URL credkit printed for this run".into()
        }
        I::BadAnswer { .. } => "check --issuer: the server does not follow the RFC here".into(),
    }
}

fn io_hint(action: IoAction, source: &std::io::Error) -> Option<String> {
    let write = action == IoAction::Write;
    match source.kind() {
        std::io::ErrorKind::NotFound => Some("check the path and the current directory".into()),
        std::io::ErrorKind::PermissionDenied => Some("check the file's permissions (ls -l)".into()),
        std::io::ErrorKind::AlreadyExists => {
            Some("add --force to replace it, or choose another name".into())
        }
        // files::check_replaceable: --force never replaces a device, FIFO,
        // socket or directory.
        std::io::ErrorKind::InvalidInput if write => Some(
            "give the name of a regular file (or a new one); to write to standard output, use \
             -o -"
                .into(),
        ),
        _ if write => Some(
            "check the free space, quota and file size limit (ulimit -f) where the output goes; \
             no existing file was changed and no partial file was left"
                .into(),
        ),
        _ => None,
    }
}

fn keystore_hint(e: &KeystoreError) -> Option<String> {
    if let Some(way_out) = e.way_out() {
        return Some(way_out.to_string());
    }
    match e {
        KeystoreError::InBlock { source, .. } => return keystore_hint(source),
        // A key type is not an encryption scheme: re-encrypting the file
        // cannot help.
        KeystoreError::Key(KeyError::Unsupported { .. }) => return Some(KEY_TYPE_HINT.into()),
        KeystoreError::Unsupported { what, .. }
            if what.contains("curve") || what.contains("key type") =>
        {
            return Some(KEY_TYPE_HINT.into());
        }
        KeystoreError::Secret(_) => return Some(PASSWORD_SOURCE_HINT.into()),
        _ => {}
    }
    let pw = PASSWORD_OPTIONS;
    Some(match e.id() {
        ErrorId::PasswordWrong => format!(
            "check the password (it is case-sensitive; a trailing newline in a password file is \
             ignored). If it is right, the file is damaged: get a fresh copy. To {pw}"
        ),
        ErrorId::PasswordRequired => format!("{pw}; credkit prompts when run on a terminal"),
        ErrorId::KeyPasswordWrong => "this entry's key has its own password: give it with \
             --key-password-file, --key-password-env or --key-password-stdin"
            .into(),
        ErrorId::InputUnknownFormat => "credkit reads PKCS#12 (.p12/.pfx), JKS, JCEKS, PEM, DER, \
             PKCS#7 certificate bundles (.p7b), JWK and JWKS; check that this is the file you \
             meant"
            .into(),
        ErrorId::InputInvalid => "the file is damaged or was edited by hand: get a fresh copy \
             from where it came from"
            .into(),
        ErrorId::InputMalformed | ErrorId::CertificateMalformed => {
            "the file is truncated or corrupt: copy it again (binary files break when sent as \
             text or through e-mail)"
                .into()
        }
        ErrorId::AlgorithmUnsupported => "convert the file with a tool that knows this algorithm \
             (e.g. openssl) to PBES2/AES, or open an issue with the algorithm name"
            .into(),
        ErrorId::InputTooLarge => "this limit protects against hostile files; no real keystore \
             comes close to it"
            .into(),
        ErrorId::KeyInvalid => "the key is damaged or is not what its label says: copy it again, \
             or export it afresh from where it came from"
            .into(),
        _ => return None,
    })
}

impl Error {
    /// A write error for `output`, its message worded in terms of `convert`'s
    /// flags.
    pub(crate) fn write(output: String, error: WriteError) -> Error {
        let message = match &error {
            WriteError::NoPart {
                part: Parts::KeyOnly,
            } => "nothing to write: --key-only, but the chosen entries hold no key".into(),
            WriteError::NoPart {
                part: Parts::CertOnly,
            } => "nothing to write: --cert-only, but the chosen entries hold no certificate".into(),
            WriteError::Ambiguous(Ambiguity::Split { chosen }) => format!(
                "--split writes one entry into separate files, and {chosen} entries were chosen"
            ),
            WriteError::Ambiguous(a @ Ambiguity::DerEntries { .. }) => {
                format!("{a}: pick one with --alias")
            }
            WriteError::Ambiguous(Ambiguity::KeyId) => {
                "--kid names one key, and several entries were chosen".into()
            }
            e => e.to_string(),
        };
        Error::Write {
            output,
            message,
            error,
        }
    }
}

fn write_hint(e: &WriteError) -> Option<String> {
    Some(match e {
        WriteError::Nothing { .. } | WriteError::NoPart { .. } => {
            "run `credkit inspect` on the input to see what it holds, and check --alias".into()
        }
        WriteError::NeedsPassword { .. } => "give one with --out-password-file, \
             --out-password-env or --out-password-stdin (or --no-encrypt for PEM/DER)"
            .into(),
        // DER holds one object: --key-only/--cert-only choose the part of one
        // entry; they do not make several entries one.
        WriteError::Ambiguous(Ambiguity::DerEntries { .. }) => {
            "pick one entry with --alias (adding --key-only or --cert-only if it holds both), \
             or write them all as PEM (--to pem)"
                .into()
        }
        WriteError::Ambiguous(Ambiguity::DerParts { .. }) => "add --key-only or --cert-only".into(),
        // --split is PEM only (a JWKS is refused with it): one entry, or one file.
        WriteError::Ambiguous(Ambiguity::Split { .. }) => {
            "pick one entry with --alias, or leave out --split to write them all to one PEM file"
                .into()
        }
        // --kid is refused for a JWKS with several keys as well.
        WriteError::Ambiguous(Ambiguity::KeyId) => {
            "pick one entry with --alias, or leave out --kid (each key's kid is then its \
             thumbprint)"
                .into()
        }
        WriteError::Ambiguous(Ambiguity::JwkKeys { .. }) => {
            "pick one entry with --alias, or write a JWKS (--to jwks)".into()
        }
        WriteError::CannotHold { .. } => {
            "choose another output format (PKCS#12 or PEM hold everything)".into()
        }
        WriteError::DuplicateAlias { .. } => {
            "rename with --out-alias, or pick entries with --alias".into()
        }
        WriteError::Random(_) => "the system has no working random source (/dev/urandom)".into(),
        WriteError::KeyLocked { .. } => "give the input password (--password-*) and, if the key \
             has its own, --key-password-*"
            .into(),
    })
}

/// A mint error, its message worded in terms of `jwt mint`'s flags.
impl From<MintError> for Error {
    fn from(error: MintError) -> Error {
        let message = match &error {
            MintError::Missing(m) => missing_message(m),
            e => e.to_string(),
        };
        Error::Mint { message, error }
    }
}

/// What is missing, named by its flag.
fn missing_message(m: &Missing) -> String {
    let flag = match m {
        Missing::Issuer(_) => "--iss",
        Missing::Audience(_) => "--aud",
        Missing::Environment => "--env test|prod (or --aud)",
        Missing::Lifetime => return "--lifetime must be positive".into(),
        Missing::Certificate => {
            return format!("{m} (use --kid, or a keystore with the certificate)");
        }
        _ => return m.to_string(),
    };
    match m.why() {
        Some(why) => format!("{flag} is required: {why}"),
        None => format!("{flag} is required"),
    }
}

/// How to keep a profile's rule, in terms of `jwt mint`'s flags.
fn mint_fix(fix: &Fix) -> String {
    match fix {
        Fix::RsaAlgorithm => "use --alg RS256 with the RSA key of your business certificate".into(),
        Fix::Algorithm(a) => format!("use --alg {}", a.name()),
        Fix::ServerIssuer(i) => format!("set aud to this server's issuer exactly: {i}"),
        Fix::Environment(Some(e)) => format!("use --env {} (aud {})", e.name(), e.issuer()),
        Fix::Environment(None) => "use --env test or --env prod instead of --aud".into(),
        Fix::MaxLifetime(max) => format!("use --lifetime {max}s or less"),
        Fix::DropSubject => "drop --sub".into(),
        Fix::AddScope => "add --scope \"prefix:scope\" (space-separated for several)".into(),
        Fix::ConsumerOrg => "give the consumer's 9-digit organisation number".into(),
        Fix::RemoveClaim => "remove the claim".into(),
        Fix::LifetimeSetsExpiry => "use --lifetime for exp".into(),
        Fix::MatchingEntry => {
            "use the keystore entry whose certificate matches the key (credkit check)".into()
        }
        Fix::X5cOrKid => "add --x5c or --kid ID".into(),
        Fix::X5tS256 => "add --x5t-s256".into(),
    }
}

fn mint_hint(e: &MintError) -> Option<String> {
    match e {
        MintError::Missing(_) => {
            Some("see `credkit jwt mint --help` for the options each profile needs".into())
        }
        MintError::Rule { fix, .. } => Some(format!(
            "{} (or --force to break the rule on purpose)",
            mint_fix(fix)
        )),
        MintError::Jws(JwsError::KeyAlgMismatch { .. }) => Some(
            "choose --alg to fit the key: RS*/PS* for RSA, ES256 for P-256, ES384 for P-384, \
             EdDSA for Ed25519"
                .into(),
        ),
        MintError::NoKey(_) => Some(
            "pick an entry that holds a private key with --alias (see `credkit inspect`)".into(),
        ),
        _ => None,
    }
}

fn keygen_hint(e: &KeygenError) -> Option<String> {
    Some(match e {
        KeygenError::Subject { .. } => format!(
            "write the subject in certificate order, e.g. \"C=NO, O=Example AS, CN=Example AS\" \
             or \"/C=NO/O=Example AS/CN=Example AS\"; known names: {}",
            DN_NAMES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        KeygenError::OrgNumber { .. } => {
            "a Norwegian organisation number has 9 digits, e.g. 123456785".into()
        }
        KeygenError::Validity { .. } => {
            "use --days N, or --not-before and --not-after in RFC 3339 (2026-01-31T12:00:00Z)"
                .into()
        }
        KeygenError::Ca { .. } => {
            "run `credkit inspect` on the CA file; make a CA with `credkit keygen --make-ca`".into()
        }
        KeygenError::UnsupportedSigner { .. } => {
            "use a CA with an RSA, P-256, P-384 or Ed25519 key".into()
        }
        KeygenError::Random(_) => "the system has no working random source (/dev/urandom)".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_keys_never_get_the_reencryption_hint() {
        let key = KeystoreError::Key(KeyError::Unsupported { name: "DSA".into() });
        let in_block = KeystoreError::InBlock {
            label: "PRIVATE KEY".into(),
            line: 1,
            source: Box::new(KeystoreError::Key(KeyError::Unsupported {
                name: "X448".into(),
            })),
        };
        let curve = KeystoreError::Unsupported {
            what: "JWK curve".into(),
            name: "\"secp256k1\"".into(),
        };
        for e in [key, in_block, curve] {
            assert_eq!(e.id(), ErrorId::AlgorithmUnsupported);
            let hint = keystore_hint(&e).unwrap_or_default();
            assert!(!hint.contains("PBES2"), "{e}: {hint}");
            assert!(hint.contains("Ed25519"), "{e}: {hint}");
        }
        // An encryption scheme still gets it.
        let pbe = KeystoreError::Unsupported {
            what: "encryption algorithm".into(),
            name: "RC4".into(),
        };
        assert!(keystore_hint(&pbe).unwrap_or_default().contains("PBES2"));
    }

    #[test]
    fn io_ids_and_hints_follow_the_action() {
        let err = |action, kind| Error::Io {
            action,
            path: "x".into(),
            source: std::io::Error::from(kind),
        };
        let w = err(IoAction::Write, std::io::ErrorKind::InvalidInput);
        assert_eq!(w.id(), ErrorId::IoWrite);
        assert!(w.hint().is_some_and(|h| h.contains("regular file")));
        let r = err(IoAction::Read, std::io::ErrorKind::InvalidInput);
        assert_eq!(r.id(), ErrorId::IoRead);
        assert_eq!(r.hint(), None);
        let e = err(IoAction::Write, std::io::ErrorKind::AlreadyExists);
        assert_eq!(e.id(), ErrorId::OutputExists);
        assert!(e.hint().is_some_and(|h| h.contains("--force")));
        assert_eq!(r.to_string(), "cannot read x: invalid input parameter");
    }

    #[test]
    fn a_password_source_error_in_a_keystore_keeps_its_id_and_hint() {
        let e = Error::from(KeystoreError::from(SecretError::new(
            "standard input",
            "closed",
        )));
        assert_eq!(e.id(), ErrorId::PasswordSource);
        assert!(e.hint().is_some_and(|h| h.contains("--password-file")));
    }
}
