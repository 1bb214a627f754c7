//! Where passwords come from. A secret never has to appear on the command
//! line: it comes from a file, an environment variable, standard input, the
//! `CREDKIT_PASSWORD` variable, or a terminal prompt.

use crate::error::Error;
#[cfg(feature = "cli")]
use std::io::IsTerminal;
use std::io::Read;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The environment variable read when no password option is given.
pub const DEFAULT_ENV: &str = "CREDKIT_PASSWORD";

/// Where one secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
    Stdin,
    /// `CREDKIT_PASSWORD` if set, else a prompt on a terminal, else nothing.
    Default,
    /// Never ask (e.g. a key password that defaults to the store password).
    Absent,
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
        SecretCell {
            source,
            prompt: prompt.into(),
            value: None,
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
            SecretSource::File(_) | SecretSource::Env(_) | SecretSource::Stdin => true,
            SecretSource::Default => std::env::var_os(DEFAULT_ENV).is_some(),
            SecretSource::Absent => matches!(self.value, Some(Some(_))),
        }
    }

    /// The secret if one was given explicitly; never prompts.
    pub fn get_explicit(&mut self) -> Result<Option<Zeroizing<String>>, Error> {
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
    pub fn get(&mut self) -> Result<Option<Zeroizing<String>>, Error> {
        if let Some(v) = &self.value {
            return Ok(v.clone());
        }
        let v = match &self.source {
            SecretSource::File(p) => {
                let s = std::fs::read_to_string(p).map_err(|e| Error::PasswordSource {
                    source_name: format!("password file {}", p.display()),
                    detail: e.to_string(),
                })?;
                Some(Zeroizing::new(strip_newline(s)))
            }
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(v) => Some(Zeroizing::new(v)),
                Err(std::env::VarError::NotPresent) => {
                    return Err(Error::PasswordSource {
                        source_name: format!("environment variable {name}"),
                        detail: "it is not set".into(),
                    });
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(Error::PasswordSource {
                        source_name: format!("environment variable {name}"),
                        detail: "it is not valid UTF-8".into(),
                    });
                }
            },
            SecretSource::Stdin => {
                let mut s = Zeroizing::new(String::new());
                std::io::stdin()
                    .lock()
                    .take(64 * 1024)
                    .read_to_string(&mut s)
                    .map_err(|e| Error::PasswordSource {
                        source_name: "standard input".into(),
                        detail: e.to_string(),
                    })?;
                // Only the first line is the password.
                let first = s.split('\n').next().unwrap_or("").trim_end_matches('\r');
                Some(Zeroizing::new(first.to_string()))
            }
            SecretSource::Default => match std::env::var(DEFAULT_ENV) {
                Ok(v) => Some(Zeroizing::new(v)),
                #[cfg(feature = "cli")]
                Err(_) if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
                    let p =
                        rpassword::prompt_password(format!("{}: ", self.prompt)).map_err(|e| {
                            Error::PasswordSource {
                                source_name: "the terminal prompt".into(),
                                detail: e.to_string(),
                            }
                        })?;
                    Some(Zeroizing::new(p))
                }
                Err(_) => None,
            },
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
    fn missing_env_var_is_an_error() {
        let mut c = SecretCell::new(SecretSource::Env("CREDKIT_TEST_SURELY_UNSET".into()), "x");
        let e = c.get().expect_err("unset");
        assert_eq!(e.id(), "password-source");
    }
}
