//! Where passwords come from. A secret never has to appear on the command
//! line: it comes from a file, an environment variable, standard input, the
//! `CREDKIT_PASSWORD` variable, or a terminal prompt.

use crate::error_id::ErrorId;
#[cfg(feature = "cli")]
use std::io::IsTerminal;
use std::io::Read;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The environment variable read when no password option is given.
pub const DEFAULT_ENV: &str = "CREDKIT_PASSWORD";

/// Where one secret comes from: the password options of every command,
/// the `*_file`/`*_env` keys of `token` profiles, and .properties files.
/// `Debug` never shows a [`SecretSource::Value`], which is wiped from
/// memory when dropped.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretSource {
    /// The first line of a file (one trailing line ending dropped).
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// The first line of standard input.
    Stdin,
    /// The secret itself: only from a .properties file, which holds the
    /// keystore password in clear text by design.
    Value(Zeroizing<String>),
    /// `CREDKIT_PASSWORD` if set, else a prompt on a terminal, else nothing.
    Default,
    /// Never ask (e.g. a key password that defaults to the store password).
    Absent,
}

impl SecretSource {
    /// A secret given as a value.
    pub fn value(v: impl Into<String>) -> SecretSource {
        SecretSource::Value(Zeroizing::new(v.into()))
    }
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => f.debug_tuple("File").field(p).finish(),
            SecretSource::Env(n) => f.debug_tuple("Env").field(n).finish(),
            SecretSource::Stdin => f.write_str("Stdin"),
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
            SecretSource::Default => f.write_str("Default"),
            SecretSource::Absent => f.write_str("Absent"),
        }
    }
}

/// A secret could not be read from where it was said to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the password from {source_name}: {detail}")]
#[non_exhaustive]
pub struct SecretError {
    /// `password file PATH`, `environment variable NAME`, `standard input`, ...
    pub source_name: String,
    /// What went wrong.
    pub detail: String,
}

impl SecretError {
    /// A secret that could not be read from `source_name`.
    pub fn new(source_name: impl Into<String>, detail: impl Into<String>) -> SecretError {
        SecretError {
            source_name: source_name.into(),
            detail: detail.into(),
        }
    }

    /// The stable error id (`password-source`).
    pub fn id(&self) -> ErrorId {
        ErrorId::PasswordSource
    }
}

/// A secret resolved lazily and at most once. The value is wiped from
/// memory when the cell is dropped, and `Debug` never shows it.
pub struct SecretCell {
    source: SecretSource,
    /// What the prompt says, e.g. `Password for store.p12`.
    prompt: String,
    value: Option<Option<Zeroizing<String>>>,
}

impl std::fmt::Debug for SecretCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = match &self.value {
            None => "not read yet",
            Some(None) => "none",
            Some(Some(_)) => "<redacted>",
        };
        f.debug_struct("SecretCell")
            .field("source", &self.source)
            .field("prompt", &self.prompt)
            .field("value", &value)
            .finish()
    }
}

/// Strip one trailing line ending, as `read` in a shell would.
fn strip_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

impl SecretCell {
    pub fn new(source: SecretSource, prompt: impl Into<String>) -> SecretCell {
        // A value needs no reading: the cell holds it from the start.
        let value = match &source {
            SecretSource::Value(v) => Some(Some(v.clone())),
            _ => None,
        };
        SecretCell {
            source,
            prompt: prompt.into(),
            value,
        }
    }

    /// A cell that already holds a value (tests, library callers).
    pub fn with_value(value: Option<String>) -> SecretCell {
        SecretCell {
            source: SecretSource::Absent,
            prompt: String::new(),
            value: Some(value.map(Zeroizing::new)),
        }
    }

    /// Was a password given explicitly (option or `CREDKIT_PASSWORD`)?
    pub fn has_explicit(&self) -> bool {
        match &self.source {
            SecretSource::File(_)
            | SecretSource::Env(_)
            | SecretSource::Stdin
            | SecretSource::Value(_) => true,
            SecretSource::Default => std::env::var_os(DEFAULT_ENV).is_some(),
            SecretSource::Absent => matches!(self.value, Some(Some(_))),
        }
    }

    /// The secret if one was given explicitly; never prompts.
    pub fn get_explicit(&mut self) -> Result<Option<Zeroizing<String>>, SecretError> {
        if self.has_explicit() {
            self.get()
        } else {
            Ok(None)
        }
    }

    /// The value if it was already resolved; never reads or prompts.
    pub fn peek(&self) -> Option<Zeroizing<String>> {
        self.value.clone().flatten()
    }

    /// The secret, asking for it if needed. `None` when none is available.
    /// The copy handed out is wiped when it is dropped, like the cell's own.
    pub fn get(&mut self) -> Result<Option<Zeroizing<String>>, SecretError> {
        if let Some(v) = &self.value {
            return Ok(v.clone());
        }
        let v = match &self.source {
            SecretSource::File(p) => {
                let s = std::fs::read_to_string(p).map_err(|e| {
                    SecretError::new(format!("password file {}", p.display()), e.to_string())
                })?;
                Some(Zeroizing::new(strip_newline(s)))
            }
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(v) => Some(Zeroizing::new(v)),
                Err(std::env::VarError::NotPresent) => {
                    return Err(SecretError::new(
                        format!("environment variable {name}"),
                        "it is not set",
                    ));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(SecretError::new(
                        format!("environment variable {name}"),
                        "it is not valid UTF-8",
                    ));
                }
            },
            SecretSource::Stdin => {
                let mut s = Zeroizing::new(String::new());
                std::io::stdin()
                    .lock()
                    .take(64 * 1024)
                    .read_to_string(&mut s)
                    .map_err(|e| SecretError::new("standard input", e.to_string()))?;
                // Only the first line is the password.
                let first = s.split('\n').next().unwrap_or("").trim_end_matches('\r');
                Some(Zeroizing::new(first.to_string()))
            }
            SecretSource::Default => match std::env::var(DEFAULT_ENV) {
                Ok(v) => Some(Zeroizing::new(v)),
                #[cfg(feature = "cli")]
                Err(_) if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
                    let p = rpassword::prompt_password(format!("{}: ", self.prompt))
                        .map_err(|e| SecretError::new("the terminal prompt", e.to_string()))?;
                    Some(Zeroizing::new(p))
                }
                Err(_) => None,
            },
            SecretSource::Value(v) => Some(v.clone()),
            SecretSource::Absent => None,
        };
        let out = v.clone();
        self.value = Some(v);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_password_drops_one_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("pw");
        std::fs::write(&p, "pässwörd\r\n").expect("write");
        let mut c = SecretCell::new(SecretSource::File(p), "x");
        assert!(c.has_explicit());
        let got = c.get().expect("get");
        assert_eq!(got.as_ref().map(|p| p.as_str()), Some("pässwörd"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = SecretCell::with_value(Some("hunter2-secret".into()));
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(d.contains("<redacted>"), "{d}");
    }

    #[test]
    fn a_value_is_explicit_and_never_shown() {
        let src = SecretSource::value("changeit");
        assert_eq!(format!("{src:?}"), "Value(<redacted>)");
        let mut c = SecretCell::new(src, "x");
        assert!(c.has_explicit());
        assert_eq!(c.peek().as_deref().map(String::as_str), Some("changeit"));
        assert_eq!(
            c.get().expect("get").as_deref().map(String::as_str),
            Some("changeit")
        );
    }

    #[test]
    fn missing_env_var_is_an_error() {
        let mut c = SecretCell::new(SecretSource::Env("CREDKIT_TEST_SURELY_UNSET".into()), "x");
        let e = c.get().expect_err("unset");
        assert_eq!(e.id(), "password-source");
    }
}
