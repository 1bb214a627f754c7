//! `credkit convert INPUT -o OUTPUT`.

use super::input::{Loaded, load, out_cell};
use crate::cli::convert::ConvertArgs;
use crate::ctx::Ctx;
use crate::error::IoAction;
use crate::error::{Error, Result, exit};
use crate::keystore::model::Entry;
use crate::keystore::select;
use crate::keystore::write::{self, OutFormat, Parts, WriteOptions, Written};
use crate::output::{self, Render, files};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// What `convert --json` prints (schema `credkit.convert/1`).
#[derive(Debug, Serialize)]
pub(crate) struct ConvertReport {
    pub(crate) schema: &'static str,
    pub(crate) input: String,
    pub(crate) input_format: crate::keystore::Format,
    pub(crate) outputs: Vec<OutputFile>,
    /// Remarks (renamed aliases, skipped entries).
    pub(crate) notes: Vec<String>,
    /// Weak protection that was asked for: an empty output password, fewer
    /// than 2048 key-derivation iterations. The output is still written.
    pub(crate) warnings: Vec<String>,
}

/// One written file.
#[derive(Debug, Serialize)]
pub(crate) struct OutputFile {
    pub(crate) path: String,
    pub(crate) format: OutFormat,
    /// `key`, `cert` or `chain` with --split, else null.
    pub(crate) part: Option<&'static str>,
    pub(crate) aliases: Vec<String>,
    /// The file holds private key material (mode 0600).
    pub(crate) private_key: bool,
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

pub(crate) fn run(ctx: &Ctx, args: ConvertArgs) -> Result<u8> {
    let to_stdout = args.output == Path::new("-");
    let format = output_format(ctx, &args, to_stdout)?;
    check_stdin(&args)?;
    if !to_stdout && !args.force {
        refuse_replacing(&args)?;
    }

    let mut loaded = load(&args.input, &args.passwords)?;
    let input_name = args.input.display().to_string();
    let entries = chosen_entries(&args, &loaded, &input_name)?;
    let opts = write_options(ctx, &args, format, &mut loaded)?;
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
        return print_files(ctx, &written.files, &report);
    }
    report.outputs = write_files(&args, format, &written.files)?;
    finish(ctx, &report)
}

/// The report of a command that wrote files: JSON on standard output, or the
/// text as a status on standard error.
pub(super) fn finish<R: Render>(ctx: &Ctx, report: &R) -> Result<u8> {
    if ctx.json {
        output::emit(report, true).map_err(Error::stdout)?;
    } else {
        let mut s = String::new();
        report.render_text(&mut s);
        output::status(ctx.quiet, s.trim_end());
    }
    Ok(exit::OK)
}

/// `--to`, else the format the output's name says; and what standard output
/// and --split allow.
fn output_format(ctx: &Ctx, args: &ConvertArgs, to_stdout: bool) -> Result<OutFormat> {
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
    Ok(format)
}

/// At most one of the input and the passwords comes from standard input.
fn check_stdin(args: &ConvertArgs) -> Result<()> {
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
    Ok(())
}

/// Without --force: the output is not the input, and no file to be written
/// (each of --split's parts) exists already.
fn refuse_replacing(args: &ConvertArgs) -> Result<()> {
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
    Ok(())
}

/// The entries --alias chooses, the one renamed by --out-alias.
fn chosen_entries(args: &ConvertArgs, loaded: &Loaded, input_name: &str) -> Result<Vec<Entry>> {
    let mut entries =
        select::select(&loaded.store.entries, &args.aliases).map_err(|source| Error::Alias {
            path: input_name.to_string(),
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
    Ok(entries)
}

/// The writer's options; the output password is --out-password-*, else the
/// input's, else (for a format that protects keys) the input's password source.
fn write_options(
    ctx: &Ctx,
    args: &ConvertArgs,
    format: OutFormat,
    loaded: &mut Loaded,
) -> Result<WriteOptions> {
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
            None if needs_password(format, args) => loaded.store_cell.get()?,
            None => None,
        },
    };
    Ok(WriteOptions {
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
    })
}

/// `-o -`: the files to standard output (never a private key to a
/// terminal), warnings and notes to standard error.
fn print_files(ctx: &Ctx, written: &[Written], report: &ConvertReport) -> Result<u8> {
    if written.iter().any(|f| f.private) && std::io::stdout().is_terminal() {
        return Err(usage(
            "refusing to print a private key to the terminal",
            "redirect standard output to a file, or use -o FILE",
        ));
    }
    for f in written {
        output::write_stdout(&f.bytes).map_err(Error::stdout)?;
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
    Ok(exit::OK)
}

/// Every file (all of --split's parts) or none (see
/// `files::write_all_atomic`); what was written, for the report.
fn write_files(
    args: &ConvertArgs,
    format: OutFormat,
    written: &[Written],
) -> Result<Vec<OutputFile>> {
    let paths: Vec<PathBuf> = written
        .iter()
        .map(|f| match f.part {
            Some(p) => split_path(&args.output, p),
            None => args.output.clone(),
        })
        .collect();
    files::write_all_atomic(
        paths
            .iter()
            .zip(written)
            .map(|(p, f)| (p.as_path(), f.bytes.as_slice(), f.private)),
        args.force,
    )
    .map_err(|(path, source)| Error::Io {
        action: IoAction::Write,
        path: path.display().to_string(),
        source,
    })?;
    Ok(paths
        .iter()
        .zip(written)
        .map(|(path, f)| OutputFile {
            path: path.display().to_string(),
            format,
            part: f.part,
            aliases: f.aliases.clone(),
            private_key: f.private,
        })
        .collect())
}
