//! The application error: what a command reports, with a stable id
//! ([`ErrorId`]), a message, causes, a hint and the exit code. Domain
//! modules never build it: they return their own error types, and the
//! command layer converts them (`commands/errors.rs`, which also writes the
//! hints that name flags).

use crate::error_id::ErrorId;
use crate::keystore::KeystoreError;

/// Exit codes, documented in the README and the man page.
pub(crate) mod exit {
    /// Success.
    pub(crate) const OK: u8 = 0;
    /// The command ran and the answer is negative (findings, bad signature, refusal).
    pub(crate) const NEGATIVE: u8 = 1;
    /// The command could not do its job (usage, unreadable input, wrong password, I/O).
    pub(crate) const FAILURE: u8 = 2;
}

/// What an [`Error::Io`] was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum IoAction {
    Read,
    Write,
    /// Binding a listening socket.
    ListenOn,
    /// Accepting or serving connections.
    ServeOn,
    /// Drawing from the operating system's random source.
    MakeSecretWith,
}

impl IoAction {
    /// The verb in "cannot … PATH".
    pub(crate) fn verb(self) -> &'static str {
        match self {
            IoAction::Read => "read",
            IoAction::Write => "write",
            IoAction::ListenOn => "listen on",
            IoAction::ServeOn => "serve on",
            IoAction::MakeSecretWith => "make a secret with",
        }
    }
}

/// A command's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Error {
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("cannot {} {path}: {source}", .action.verb())]
    Io {
        action: IoAction,
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Input { path: String, source: KeystoreError },
    /// A keystore error not yet tied to a file name (wrapped by `at`).
    #[error(transparent)]
    Keystore(KeystoreError),
    #[error("{path}: {source}")]
    Alias {
        path: String,
        source: crate::keystore::select::AliasNotFound,
    },
    /// Writing an output failed; the message is worded by the command
    /// layer, in terms of its flags.
    #[error("cannot write {output}: {message}")]
    Write {
        output: String,
        message: String,
        error: crate::keystore::write::WriteError,
    },
    #[error("not a usable JWT: {0}")]
    Jwt(crate::jwt::decode::DecodeError),
    /// A token cannot be minted; the message is worded by the command
    /// layer, in terms of its flags.
    #[error("cannot mint: {message}")]
    Mint {
        message: String,
        error: crate::jwt::mint::MintError,
    },
    #[error("cannot fetch {url}: {detail}")]
    Fetch { url: String, detail: String },
    #[error(transparent)]
    PasswordSource(crate::secret::SecretError),
    #[error(transparent)]
    Keygen(crate::cert::issue::KeygenError),
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
    Config(crate::oauth::config::ConfigError),
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
    Mock(crate::oauth::mock::MockError),
    /// A DPoP proof could not be made (its key file, its key).
    #[error(transparent)]
    Dpop(crate::oauth::dpop::DpopError),
    /// authorization_details that are not usable (RFC 9396).
    #[error(transparent)]
    Rar(crate::oauth::grants::RarError),
    /// Mutual TLS without a usable client certificate.
    #[error("{file} cannot be the TLS client certificate: {detail}")]
    Mtls { file: String, detail: String },
    /// An interactive grant (authorization code, device code) could not be completed.
    #[error(transparent)]
    Interactive(crate::oauth::interactive::InteractiveError),
    /// A revocation list, a certificate to revoke or an OCSP responder that
    /// cannot be used.
    #[error("{message}")]
    Revocation {
        id: ErrorId,
        message: String,
        hint: String,
    },
}

fn refused_message(d: &crate::oauth::diagnose::Diagnosis) -> String {
    let s = &d.server;
    let mut m = if s.status == 0 {
        "the authorization server refused the sign-in".to_string()
    } else {
        format!("the token endpoint refused (HTTP {})", s.status)
    };
    if let Some(e) = &s.error {
        m.push_str(&format!(": {e}"));
    }
    if let Some(e) = &s.error_description {
        m.push_str(&format!(": {e}"));
    }
    m
}

impl Error {
    /// Writing a report to standard output failed (a closed pipe, a full disk).
    pub(crate) fn stdout(source: std::io::Error) -> Self {
        Error::Io {
            action: IoAction::Write,
            path: "standard output".into(),
            source,
        }
    }

    /// A stable, kebab-case identifier (also `code` in JSON errors).
    pub(crate) fn id(&self) -> ErrorId {
        match self {
            Error::Usage { .. } => ErrorId::Usage,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
                ErrorId::OutputExists
            }
            Error::Io {
                action: IoAction::Write,
                ..
            } => ErrorId::IoWrite,
            Error::Io { .. } => ErrorId::IoRead,
            Error::Input { source, .. } | Error::Keystore(source) => source.id(),
            Error::PasswordSource(_) => ErrorId::PasswordSource,
            Error::Alias { .. } => ErrorId::AliasNotFound,
            Error::Jwt(_) => ErrorId::JwtMalformed,
            Error::Mint { error, .. } => error.id(),
            Error::Fetch { .. } => ErrorId::Network,
            Error::Write { error, .. } => error.id(),
            Error::Keygen(e) => e.id(),
            Error::Refused(d) => d.error_id(),
            Error::Network(n) => n.kind.id(),
            Error::Server { .. } => ErrorId::ServerError,
            Error::Url { .. } => ErrorId::UrlNotAllowed,
            Error::Config(_) => ErrorId::Config,
            Error::Unfit { .. } => ErrorId::CredentialUnfit,
            Error::Mock(e) => e.id(),
            Error::Dpop(e) => e.id(),
            Error::Rar(e) => e.id(),
            Error::Mtls { .. } => ErrorId::MtlsCertificate,
            Error::Interactive(e) => e.id(),
            Error::Revocation { id, .. } => *id,
        }
    }

    /// The process exit code for this error.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Refused(_) | Error::Unfit { .. } => exit::NEGATIVE,
            _ => exit::FAILURE,
        }
    }

    /// The chain of causes below the message, for `caused by:` lines.
    pub(crate) fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = match self {
            Error::Io { source, .. } => std::error::Error::source(source),
            Error::Network(n) => {
                out.push(n.detail.clone());
                None
            }
            Error::Interactive(crate::oauth::interactive::InteractiveError::Timeout {
                facts,
                ..
            }) => {
                out.extend(
                    facts
                        .iter()
                        .map(|f| crate::output::remedy::text(&f.message)),
                );
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
}

pub(crate) type Result<T> = std::result::Result<T, Error>;
