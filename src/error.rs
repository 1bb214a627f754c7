//! The top-level error: a stable id, a message, optional causes and a hint,
//! and the exit code. Domain errors are wrapped here.

use crate::keystore::KeystoreError;
use std::path::Path;

/// Exit codes, documented in the README and the man page.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The command ran and the answer is negative (findings, bad signature, refusal).
    pub const NEGATIVE: u8 = 1;
    /// The command could not do its job (usage, unreadable input, wrong password, I/O).
    pub const FAILURE: u8 = 2;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Input { path: String, source: KeystoreError },
    /// A keystore error not yet tied to a file name (wrapped by `at`).
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    #[error("{path}: {source}")]
    Alias {
        path: String,
        source: crate::keystore::select::AliasNotFound,
    },
    #[error("cannot write {output}: {source}")]
    Write {
        output: String,
        source: crate::keystore::write::WriteError,
    },
    #[error("not a usable JWT: {0}")]
    Jwt(#[from] crate::jwt::decode::DecodeError),
    #[error("cannot mint: {0}")]
    Mint(#[from] crate::jwt::mint::MintError),
    #[error("cannot fetch {url}: {detail}")]
    Fetch { url: String, detail: String },
    #[error("cannot read the password from {source_name}: {detail}")]
    PasswordSource { source_name: String, detail: String },
    #[error("invalid --now value {value:?}: {detail}")]
    InvalidNow { value: String, detail: String },
    #[error(transparent)]
    Keygen(#[from] crate::cert::keygen::KeygenError),
    /// The token endpoint refused (exit 1).
    #[error("{}", refused_message(.0))]
    Refused(Box<crate::oauth::diagnose::Diagnosis>),
    /// No HTTP answer: DNS, connection, TLS, proxy, timeout.
    #[error("cannot reach {}: {}", .0.url, .0.explain().0)]
    Network(crate::net::NetError),
    /// An answer that is not a token and not an OAuth refusal (5xx, HTML, ...).
    #[error("{endpoint} answered HTTP {status}{}", .detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Server {
        endpoint: String,
        status: u16,
        detail: Option<String>,
    },
    #[error("{message}")]
    Url { message: String },
    #[error(transparent)]
    Config(#[from] crate::oauth::config::ConfigError),
    /// The credential failed its checks; nothing was sent.
    #[error("not sending: the credential in {file} failed its checks ({errors})")]
    Unfit {
        file: String,
        errors: String,
        /// The check that failed, for the command to show.
        report: Box<crate::diagnostics::check::CheckReport>,
    },
    /// The Maskinporten look-alike cannot start (clients file, CA, options).
    #[error(transparent)]
    Mock(#[from] crate::oauth::mock::MockError),
    /// A DPoP proof could not be made (its key file, its key).
    #[error(transparent)]
    Dpop(#[from] crate::oauth::dpop::DpopError),
    /// authorization_details that are not usable (RFC 9396).
    #[error(transparent)]
    Rar(#[from] crate::oauth::grants::RarError),
    /// Mutual TLS without a usable client certificate.
    #[error("{file} cannot be the TLS client certificate: {detail}")]
    Mtls { file: String, detail: String },
}

fn refused_message(d: &crate::oauth::diagnose::Diagnosis) -> String {
    let s = &d.server;
    let mut m = format!("the token endpoint refused (HTTP {})", s.status);
    if let Some(e) = &s.error {
        m.push_str(&format!(": {e}"));
    }
    if let Some(e) = &s.error_description {
        m.push_str(&format!(": {e}"));
    }
    m
}

impl Error {
    /// A stable, kebab-case identifier (also `code` in JSON errors).
    pub fn id(&self) -> &'static str {
        match self {
            Error::Usage { .. } => "usage",
            Error::Io { action, source, .. } => {
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    "output-exists"
                } else if *action == "write" {
                    "io-write"
                } else {
                    "io-read"
                }
            }
            Error::Input { source, .. } | Error::Keystore(source) => source.id(),
            Error::PasswordSource { .. } => "password-source",
            Error::Alias { .. } => "alias-not-found",
            Error::Jwt(_) => "jwt-malformed",
            Error::Mint(m) => m.id(),
            Error::Fetch { .. } => "network",
            Error::Write { source, .. } => source.id(),
            Error::InvalidNow { .. } => "usage",
            Error::Keygen(e) => e.id(),
            Error::Refused(d) => d.error_id(),
            Error::Network(n) => n.kind.id(),
            Error::Server { .. } => "server-error",
            Error::Url { .. } => "url-not-allowed",
            Error::Config(_) => "config",
            Error::Unfit { .. } => "credential-unfit",
            Error::Mock(e) => e.id(),
            Error::Dpop(e) => e.id(),
            Error::Rar(e) => e.id(),
            Error::Mtls { .. } => "mtls-certificate",
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Refused(_) | Error::Unfit { .. } => exit::NEGATIVE,
            _ => exit::FAILURE,
        }
    }

    /// Advice, kept out of the message.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. } => hint.clone(),
            Error::Io { action, source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => {
                    Some("check the path and the current directory".into())
                }
                std::io::ErrorKind::PermissionDenied => {
                    Some("check the file's permissions (ls -l)".into())
                }
                std::io::ErrorKind::AlreadyExists => {
                    Some("add --force to replace it, or choose another name".into())
                }
                // files::check_replaceable: --force never replaces a device,
                // FIFO, socket or directory.
                std::io::ErrorKind::InvalidInput if *action == "write" => Some(
                    "give the name of a regular file (or a new one); to write to standard \
                     output, use -o -"
                        .into(),
                ),
                _ if *action == "write" => Some(
                    "check the free space, quota and file size limit (ulimit -f) where the \
                     output goes; no existing file was changed and no partial file was left"
                        .into(),
                ),
                _ => None,
            },
            Error::Input { source, .. } | Error::Keystore(source) => source.hint(),
            Error::PasswordSource { .. } => Some(
                "password options: --password-file PATH, --password-env VAR, --password-stdin"
                    .into(),
            ),
            Error::Alias { source, .. } => Some(match &source.closest {
                Some(c) => format!("use --alias '{c}'"),
                None => "run `credkit inspect` on the file to list its entries".into(),
            }),
            Error::Write { source, .. } => source.hint(),
            Error::Jwt(_) => Some(
                "give the token itself (three base64url parts separated by dots), a `Bearer ...` \
                 line, or the token response JSON"
                    .into(),
            ),
            Error::Mint(m) => m.hint(),
            Error::Fetch { .. } => {
                Some("check the URL and the network; or save the JWKS and give the file".into())
            }
            Error::InvalidNow { .. } => Some("use RFC 3339, e.g. 2026-01-31T12:00:00Z".into()),
            Error::Keygen(e) => e.hint(),
            Error::Refused(d) => d
                .known
                .as_ref()
                .map(|k| k.fix.clone())
                .or_else(|| d.facts.iter().find(|f| f.problem).map(|f| format!("look at: {}", f.message))),
            Error::Network(n) if n.kind == crate::net::NetKind::Tls => Some(
                "credkit always verifies TLS, against the system's roots; a company proxy that \
                 inspects TLS needs its CA given with --ca-file"
                    .into(),
            ),
            Error::Network(n) => Some(n.explain().1),
            Error::Server { status, .. } if *status >= 500 => Some(
                "the server failed; credkit retried (--retries). Try again later, or check the provider's status page".into(),
            ),
            Error::Server { .. } => Some(
                "this does not look like a token endpoint: check --token-endpoint / --issuer (a proxy or a login page may have answered)".into(),
            ),
            Error::Url { .. } => Some("use https (plain http only to 127.0.0.1, ::1 or localhost)".into()),
            Error::Config(_) => Some("see `credkit token --help`, Configuration".into()),
            Error::Unfit { .. } => Some(
                "fix the findings above (`credkit check` shows them too), or add --force to send anyway".into(),
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
        }
    }

    /// The chain of causes below the message, for `caused by:` lines.
    pub fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = match self {
            Error::Io { source, .. } => std::error::Error::source(source),
            Error::Network(n) => {
                out.push(n.detail.clone());
                None
            }
            _ => None,
        };
        while let Some(c) = cur {
            out.push(c.to_string());
            cur = c.source();
        }
        out
    }

    /// Tie a keystore error to the file it came from.
    pub fn at(self, path: &Path) -> Error {
        match self {
            Error::Keystore(source) => Error::Input {
                path: path.display().to_string(),
                source,
            },
            other => other,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
