//! `credkit convert INPUT -o OUTPUT`.

use super::input::{load, out_cell};
use crate::cli::convert::ConvertArgs;
use crate::ctx::Ctx;
use crate::error::IoAction;
use crate::error::{Error, Result, exit};
use crate::keystore::select;
use crate::keystore::write::{self, OutFormat, Parts, WriteOptions};
use crate::output::{self, Render, files};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// What `convert --json` prints (schema `credkit.convert/1`).
#[derive(Debug, Serialize)]
pub struct ConvertReport {
    pub schema: &'static str,
    pub input: String,
    pub input_format: crate::keystore::Format,
    pub outputs: Vec<OutputFile>,
    /// Remarks (renamed aliases, skipped entries).
    pub notes: Vec<String>,
    /// Weak protection that was asked for: an empty output password, fewer
    /// than 2048 key-derivation iterations. The output is still written.
    pub warnings: Vec<String>,
}

/// One written file.
#[derive(Debug, Serialize)]
pub struct OutputFile {
    pub path: String,
    pub format: OutFormat,
    /// `key`, `cert` or `chain` with --split, else null.
    pub part: Option<&'static str>,
    pub aliases: Vec<String>,
    /// The file holds private key material (mode 0600).
    pub private_key: bool,
}

impl Render for ConvertReport {
    fn render_text(&self, out: &mut String) {
        for w in &self.warnings {
            out.push_str(&format!("warning: {}\n", output::sanitize::line(w)));
        }
        for n in &self.notes {
            out.push_str(&format!("note: {}\n", output::sanitize::line(n)));
        }
        for o in &self.outputs {
            out.push_str(&format!(
                "wrote {} ({}{}, {}{})\n",
                output::sanitize::line(&o.path),
                o.format.label(),
                o.part.map(|p| format!(" {p}")).unwrap_or_default(),
                if o.aliases.is_empty() {
                    "no entries".to_string()
                } else {
                    output::sanitize::line(&o.aliases.join(", "))
                },
                if o.private_key {
                    ", private key, mode 0600"
                } else {
                    ""
                }
            ));
        }
    }
}

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// OUTPUT.key.pem, OUTPUT.cert.pem, OUTPUT.chain.pem for --split.
fn split_path(output: &Path, part: &str) -> PathBuf {
    let name = output
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("out.pem");
    let stem = name.strip_suffix(".pem").unwrap_or(name);
    output.with_file_name(format!("{stem}.{part}.pem"))
}

fn needs_password(format: OutFormat, args: &ConvertArgs) -> bool {
    match format {
        OutFormat::Pkcs12 | OutFormat::Jks => true,
        OutFormat::Pem | OutFormat::Der => !args.no_encrypt && !args.cert_only,
        OutFormat::Jwk | OutFormat::Jwks => false,
    }
}

pub fn run(ctx: &Ctx, args: ConvertArgs) -> Result<u8> {
    let to_stdout = args.output == Path::new("-");
    let format = match args.to {
        Some(f) => f,
        None if to_stdout => {
            return Err(usage(
                "writing to standard output needs --to",
                "add --to pem, --to jwk or --to jwks",
            ));
        }
        None => OutFormat::from_path(&args.output).ok_or_else(|| {
            usage(
                format!(
                    "cannot tell the output format from the name {}",
                    args.output.display()
                ),
                "add --to pkcs12|jks|pem|der|jwk|jwks, or use an extension such as .p12, .jks, .pem, .der, .jwk, .json",
            )
        })?,
    };
    if to_stdout && !format.is_text() {
        return Err(usage(
            format!(
                "{} is binary and is not written to standard output",
                format.label()
            ),
            "give a file name with -o",
        ));
    }
    if to_stdout && (args.split || ctx.json) {
        return Err(usage(
            "--split and --json need -o FILE, not -o -",
            "give a file name with -o",
        ));
    }
    if args.split && format != OutFormat::Pem {
        return Err(usage(
            "--split is for PEM output",
            "add --to pem or use a .pem name",
        ));
    }
    let stdin_uses = [
        args.input == Path::new("-"),
        args.passwords.password_stdin,
        args.passwords.key_password_stdin,
        args.out_passwords.out_password_stdin,
        args.out_passwords.out_key_password_stdin,
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if stdin_uses > 1 {
        return Err(usage(
            "only one thing can be read from standard input",
            "give the other passwords with --*-password-file or --*-password-env",
        ));
    }
    if !to_stdout && !args.force {
        if files::same_file(&args.input, &args.output) {
            return Err(usage(
                format!("the output {} is the input file", args.output.display()),
                "add --force to replace the input, or choose another output name",
            ));
        }
        let targets: Vec<PathBuf> = if args.split {
            ["key", "cert", "chain"]
                .iter()
                .map(|p| split_path(&args.output, p))
                .collect()
        } else {
            vec![args.output.clone()]
        };
        for t in targets {
            if t.exists() {
                return Err(Error::Io {
                    action: IoAction::Write,
                    path: t.display().to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "the file exists (use --force to replace it)",
                    ),
                });
            }
        }
    }

    let mut loaded = load(&args.input, &args.passwords)?;
    let input_name = args.input.display().to_string();
    let mut entries =
        select::select(&loaded.store.entries, &args.aliases).map_err(|source| Error::Alias {
            path: input_name.clone(),
            source,
        })?;
    if let Some(name) = &args.out_alias {
        if entries.len() != 1 {
            return Err(usage(
                format!(
                    "--out-alias renames one entry, and {} were chosen",
                    entries.len()
                ),
                "pick the entry with --alias",
            ));
        }
        entries[0].alias = Some(name.clone());
    }

    let mut out_pw = out_cell(
        &args.out_passwords,
        false,
        format!("Password for {}", args.output.display()),
    );
    let mut out_key_pw = out_cell(
        &args.out_passwords,
        true,
        format!("Key password for {}", args.output.display()),
    );
    let password = match out_pw.get()? {
        Some(p) => Some(p),
        None => match loaded.store_password.clone() {
            Some(p) => Some(p),
            // The input needed no password (clear PEM, JWK): use the input
            // password source anyway (CREDKIT_PASSWORD, --password-*, prompt)
            // when the output format protects keys.
            None if needs_password(format, &args) => loaded.store_cell.get()?,
            None => None,
        },
    };
    let opts = WriteOptions {
        password: password.map(|p| p.to_string()),
        key_password: out_key_pw.get()?.map(|p| p.to_string()),
        legacy: args.legacy,
        encrypt_keys: !args.no_encrypt,
        parts: if args.key_only {
            Parts::KeyOnly
        } else if args.cert_only {
            Parts::CertOnly
        } else {
            Parts::All
        },
        leaf_only: args.leaf_only,
        private_jwk: args.private,
        kid: args.kid.clone(),
        now_ms: (ctx.now.unix_timestamp_nanos() / 1_000_000) as i64,
        iterations: args.iterations,
    };
    let out_name = args.output.display().to_string();
    let written = write::write(&entries, format, &opts, args.split)
        .map_err(|source| Error::write(out_name.clone(), source))?;

    let mut report = ConvertReport {
        schema: "credkit.convert/1",
        input: input_name,
        input_format: loaded.store.format,
        outputs: Vec::new(),
        notes: written.notes.clone(),
        warnings: write::weak_protection(format, &opts, &written.files),
    };
    if to_stdout {
        if written.files.iter().any(|f| f.private) && std::io::stdout().is_terminal() {
            return Err(usage(
                "refusing to print a private key to the terminal",
                "redirect standard output to a file, or use -o FILE",
            ));
        }
        for f in &written.files {
            output::write_stdout(&f.bytes).map_err(|source| Error::Io {
                action: IoAction::Write,
                path: "standard output".into(),
                source,
            })?;
        }
        let mut s = String::new();
        for w in &report.warnings {
            s.push_str(&format!("warning: {}\n", output::sanitize::line(w)));
        }
        for n in &report.notes {
            s.push_str(&format!("note: {}", output::sanitize::line(n)));
        }
        if !s.is_empty() {
            output::status(ctx.quiet, &s);
        }
        return Ok(exit::OK);
    }
    // Write every file (all of --split's parts) to a temporary name first;
    // only when all are written are they renamed into place. A failure on
    // the way leaves no output file and every existing one untouched.
    let mut staged = Vec::with_capacity(written.files.len());
    for f in &written.files {
        let path = match f.part {
            Some(p) => split_path(&args.output, p),
            None => args.output.clone(),
        };
        let io = |source| Error::Io {
            action: IoAction::Write,
            path: path.display().to_string(),
            source,
        };
        staged.push(files::stage(&path, &f.bytes, args.force, f.private).map_err(io)?);
    }
    for (s, f) in staged.into_iter().zip(&written.files) {
        let path = s.path().to_path_buf();
        s.commit().map_err(|source| Error::Io {
            action: IoAction::Write,
            path: path.display().to_string(),
            source,
        })?;
        report.outputs.push(OutputFile {
            path: path.display().to_string(),
            format,
            part: f.part,
            aliases: f.aliases.clone(),
            private_key: f.private,
        });
    }
    if ctx.json {
        output::emit(&report, true).map_err(|source| Error::Io {
            action: IoAction::Write,
            path: "standard output".into(),
            source,
        })?;
    } else {
        let mut s = String::new();
        report.render_text(&mut s);
        output::status(ctx.quiet, s.trim_end());
    }
    Ok(exit::OK)
}
