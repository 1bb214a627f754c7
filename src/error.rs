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
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        exit::FAILURE
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
        }
    }

    /// The chain of causes below the message, for `caused by:` lines.
    pub fn causes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = match self {
            Error::Io { source, .. } => std::error::Error::source(source),
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
