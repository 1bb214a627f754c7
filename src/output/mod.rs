//! The only place that prints. Reports become text or JSON on stdout; errors
//! become `error:` / `hint:` lines (or a JSON object) on stderr. A closed
//! stdout (`| head`) is not an error.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub(crate) mod check;
pub(crate) mod files;
#[cfg(feature = "cli")]
pub(crate) mod fixture_set;
pub(crate) mod inspect;
pub(crate) mod jwt;
pub(crate) mod remedy;
#[cfg(feature = "cli")]
pub(crate) mod revocation;
pub(crate) mod sanitize;
#[cfg(feature = "cli")]
pub(crate) mod serve;
pub(crate) mod token;

#[cfg(feature = "cli")]
use crate::error::Error;
use serde::Serialize;
use std::io::Write;

/// A command result that can be shown as text and as JSON.
pub(crate) trait Render: Serialize {
    fn render_text(&self, out: &mut String);
}

/// Write bytes to stdout; a broken pipe is a quiet success.
pub(crate) fn write_stdout(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Lines to stdout through a buffer; a closed pipe ends the output quietly.
pub(crate) struct TokenWriter {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    closed: bool,
}

impl TokenWriter {
    pub(crate) fn new() -> TokenWriter {
        TokenWriter {
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
            closed: false,
        }
    }

    pub(crate) fn line(&mut self, s: &str) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self
            .out
            .write_all(s.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
        {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }

    /// Has the reader gone away (a broken pipe)? Nothing more is written then.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        match self.out.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

impl Default for TokenWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// Print a report in the chosen format.
pub(crate) fn emit<R: Render>(report: &R, json: bool) -> std::io::Result<()> {
    let mut s = String::new();
    if json {
        s = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
        s.push('\n');
    } else {
        report.render_text(&mut s);
    }
    write_stdout(s.as_bytes())
}

/// Print a report on stderr (diagnostics that accompany data on stdout).
pub(crate) fn emit_stderr<R: Render>(report: &R, json: bool) {
    let mut s = String::new();
    if json {
        s = serde_json::to_string(report).unwrap_or_default();
        s.push('\n');
    } else {
        report.render_text(&mut s);
    }
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// A status line on stderr (suppressed by `--quiet`).
pub(crate) fn status(quiet: bool, msg: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr().lock(), "{msg}");
    }
}

#[derive(Serialize)]
struct JsonError<'a> {
    error: JsonErrorBody<'a>,
}

#[derive(Serialize)]
struct JsonErrorBody<'a> {
    code: crate::error_id::ErrorId,
    message: String,
    causes: Vec<String>,
    hints: Vec<String>,
    exit_code: u8,
    /// For a refusal by the token endpoint: the whole diagnosis.
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnosis: Option<&'a crate::oauth::diagnose::Diagnosis>,
}

/// Report an error on stderr (with the hints the command layer adds).
#[cfg(feature = "cli")]
pub(crate) fn report_error(e: &Error, json: bool) {
    let mut s = String::new();
    if json {
        let body = JsonError {
            error: JsonErrorBody {
                code: e.id(),
                message: e.to_string(),
                causes: e.causes(),
                hints: e.hint().into_iter().collect(),
                exit_code: e.exit_code(),
                diagnosis: match e {
                    Error::Refused(d) => Some(d),
                    _ => None,
                },
            },
        };
        s = serde_json::to_string(&body).unwrap_or_default();
        s.push('\n');
    } else {
        s.push_str(&format!("error: {}\n", sanitize::line(&e.to_string())));
        for c in e.causes() {
            s.push_str(&format!("  caused by: {}\n", sanitize::line(&c)));
        }
        if let Error::Refused(d) = e {
            token::render_diagnosis(d, &mut s);
        } else if let Some(h) = e.hint() {
            s.push_str(&format!("hint: {h}\n"));
        }
        s.push_str(&format!("(error id: {})\n", e.id()));
    }
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}
