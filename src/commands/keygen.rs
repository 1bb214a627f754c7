//! `credkit keygen -o OUTPUT` and `credkit keygen --fixture-set DIR`.

use super::convert::{OutputFile, finish};
use super::input::{Loaded, load, out_cell};
use crate::cert::extensions::{self, Realism};
use crate::cert::fixture_set;
use crate::cert::issue::{self, Broken, Ca, Dn, KeygenError, Mode, Request, Usage};
use crate::cli::keygen::KeygenArgs;
use crate::ctx::Ctx;
use crate::error::IoAction;
use crate::error::{Error, Result, exit};
use crate::key::KeyDescription;
use crate::key::generate::{self, Random, WEAK};
use crate::keystore::model::Entry;
use crate::keystore::pbe;
use crate::keystore::select;
use crate::keystore::write::{self, OutFormat, Output, Parts, WriteOptions, Written};
use crate::output::fixture_set::ReadmeInfo;
use crate::output::{self, Render, files};
use crate::revocation::list::{self, Reason, RevocationList};
use crate::secret::{SecretCell, SecretSource};
use crate::timefmt::rfc3339;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// What `keygen --json` prints (schema `credkit.keygen/1`).
#[derive(Debug, Serialize)]
pub(crate) struct KeygenReport {
    pub(crate) schema: &'static str,
    /// Made from `--seed` (reproducible) rather than the operating system's randomness.
    pub(crate) seeded: bool,
    pub(crate) outputs: Vec<OutputFile>,
    pub(crate) entries: Vec<EntryReport>,
    /// With --fixture-set: the README's path.
    pub(crate) readme: Option<String>,
    pub(crate) notes: Vec<String>,
    /// Weak protection that was asked for: an empty output password, fewer
    /// than 2048 key-derivation iterations. The files are still written.
    pub(crate) warnings: Vec<String>,
    /// With --revoke: the revocation list written, else null.
    pub(crate) revocation_list: Option<String>,
    /// With --revoke: the certificates added to the list (or listed already).
    pub(crate) revoked: Vec<RevokedReport>,
}

/// A certificate `--revoke` put on the revocation list.
#[derive(Debug, Serialize)]
pub(crate) struct RevokedReport {
    pub(crate) subject: String,
    pub(crate) issuer: String,
    /// Uppercase hex.
    pub(crate) serial: String,
    /// The revocation date (RFC 3339): --now, or the date already listed.
    pub(crate) date: String,
    /// RFC 5280 CRLReason name.
    pub(crate) reason: String,
    /// False when the certificate was listed already (the list is unchanged for it).
    pub(crate) added: bool,
}

/// One generated key (and certificate).
#[derive(Debug, Serialize)]
pub(crate) struct EntryReport {
    /// With --fixture-set: the credential's name (`org1-auth`), else null.
    pub(crate) name: Option<String>,
    pub(crate) alias: String,
    pub(crate) key: KeyDescription,
    /// RFC 7638 thumbprint of the stored private key's public half.
    pub(crate) thumbprint: Option<String>,
    pub(crate) certificate: Option<CertificateReport>,
}

/// The end-entity (or CA) certificate of an entry.
#[derive(Debug, Serialize)]
pub(crate) struct CertificateReport {
    pub(crate) subject: String,
    pub(crate) issuer: String,
    /// Uppercase hex.
    pub(crate) serial: String,
    pub(crate) not_before: String,
    pub(crate) not_after: String,
    pub(crate) key_usage: Vec<String>,
    pub(crate) extended_key_usage: Vec<String>,
    pub(crate) ca: bool,
    pub(crate) self_signed: bool,
    /// Certificates stored with the key, this one included.
    pub(crate) chain_length: usize,
    /// Whether the stored key is the certificate's (false for --wrong-key).
    pub(crate) key_matches: bool,
    pub(crate) sha256: String,
}

fn entry_report(name: Option<&str>, e: &Entry) -> Option<EntryReport> {
    let key = e.private_key.as_ref()?;
    let certificate = e.chain.first().map(|c| CertificateReport {
        subject: c.subject.to_display(),
        issuer: c.issuer.to_display(),
        serial: c.serial_hex().to_uppercase(),
        not_before: rfc3339(c.not_before),
        not_after: rfc3339(c.not_after),
        key_usage: c.key_usage.clone().unwrap_or_default(),
        extended_key_usage: c.extended_key_usage.clone().unwrap_or_default(),
        ca: c.is_ca == Some(true),
        self_signed: c.is_self_issued(),
        chain_length: e.chain.len(),
        key_matches: c.public_key.as_ref().ok() == Some(&key.public),
        sha256: crate::cert::hex_colon(&c.sha256()),
    });
    Some(EntryReport {
        name: name.map(str::to_owned),
        alias: e.alias.clone().unwrap_or_default(),
        key: key.describe(),
        thumbprint: key.public.jwk_thumbprint(),
        certificate,
    })
}

impl Render for KeygenReport {
    fn render_text(&self, out: &mut String) {
        let line = output::sanitize::line;
        for w in &self.warnings {
            out.push_str(&format!("warning: {}\n", line(w)));
        }
        for n in &self.notes {
            out.push_str(&format!("note: {}\n", line(n)));
        }
        if let Some(list) = &self.revocation_list {
            for r in &self.revoked {
                out.push_str(&format!(
                    "{} {} (serial {}, {}, {}){}\n",
                    if r.added {
                        "revoked"
                    } else {
                        "already revoked:"
                    },
                    line(&r.subject),
                    r.serial,
                    r.date,
                    r.reason,
                    if r.added { "" } else { "; left as it was" }
                ));
            }
            out.push_str(&format!("revocation list: {}\n", line(list)));
            return;
        }
        if let Some(readme) = &self.readme {
            out.push_str(&format!(
                "wrote {} files ({} credentials as PKCS#12, JKS, PEM and JWK, CA certificates, README); see {}\n",
                self.outputs.len() + 1,
                self.entries
                    .iter()
                    .filter_map(|e| e.name.as_deref())
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
                line(readme)
            ));
            return;
        }
        for o in &self.outputs {
            out.push_str(&format!(
                "wrote {} ({}, {}{})\n",
                line(&o.path),
                o.format.label(),
                line(&o.aliases.join(", ")),
                if o.private_key {
                    ", private key, mode 0600"
                } else {
                    ""
                }
            ));
        }
        for e in &self.entries {
            out.push_str(&format!("  {}: {}", line(&e.alias), e.key));
            if let Some(c) = &e.certificate {
                out.push_str(&format!(
                    "\n    subject: {}\n    issuer:  {}{}\n    valid:   {} to {}\n    usage:   {}{}\n    serial:  {}",
                    line(&c.subject),
                    line(&c.issuer),
                    if c.self_signed { " (self-signed)" } else { "" },
                    c.not_before,
                    c.not_after,
                    c.key_usage.join(", "),
                    if c.extended_key_usage.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", c.extended_key_usage.join(", "))
                    },
                    c.serial
                ));
                if !c.key_matches {
                    out.push_str("\n    key:     NOT the certificate's key (--wrong-key)");
                }
            } else if let Some(t) = &e.thumbprint {
                out.push_str(&format!(", thumbprint {t}"));
            }
            out.push('\n');
        }
    }
}

fn usage(message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::Usage {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

fn exists_error(path: &Path) -> Error {
    Error::Io {
        action: IoAction::Write,
        path: path.display().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the file exists (use --force to replace it)",
        ),
    }
}

/// OUTPUT-ALIAS.EXT for --split.
fn split_path(output: &Path, alias: &str) -> PathBuf {
    let name = output
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("keygen");
    let file = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}-{alias}.{ext}"),
        _ => format!("{name}-{alias}"),
    };
    output.with_file_name(file)
}

fn parse_time(flag: &str, value: &str) -> Result<i64> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| {
            usage(
                format!("invalid {flag} value {value:?}: {e}"),
                "use RFC 3339, e.g. 2026-01-31T12:00:00Z",
            )
        })
}

fn write_options(ctx: &Ctx, args: &KeygenArgs, password: Option<String>) -> Result<WriteOptions> {
    let mut key_pw = out_cell(
        &args.out_passwords,
        true,
        "Key password for the JKS keys".into(),
    );
    Ok(WriteOptions {
        password,
        key_password: key_pw.get()?.map(|p| p.to_string()),
        legacy: args.legacy,
        encrypt_keys: !args.no_encrypt,
        parts: Parts::All,
        leaf_only: false,
        private_jwk: args.private,
        kid: args.kid.clone(),
        now_ms: (ctx.now.unix_timestamp_nanos() / 1_000_000) as i64,
        iterations: args.iterations,
    })
}

fn stdin_uses(args: &KeygenArgs) -> usize {
    [
        args.ca.as_deref() == Some(Path::new("-")),
        args.passwords.password_stdin,
        args.passwords.key_password_stdin,
        args.out_passwords.out_password_stdin,
        args.out_passwords.out_key_password_stdin,
    ]
    .iter()
    .filter(|b| **b)
    .count()
}

/// Turn writer output into bytes, with seeded salts when --seed is given.
fn render<T>(seed: Option<&str>, f: impl FnOnce() -> T) -> T {
    match seed {
        Some(s) => pbe::with_seeded_random(generate::derive_seed(s, "salts"), f),
        None => f(),
    }
}

/// --policy and --revocation-base (`default_base` when the flag is absent).
fn realism(args: &KeygenArgs, default_base: Option<String>) -> Result<Realism> {
    let bad = |e: extensions::RealismError, hint: &str| usage(e.to_string(), hint);
    let policies = if args.policies.is_empty() {
        None
    } else if args.policies.iter().any(|p| p == "none") {
        if args.policies.len() > 1 {
            return Err(usage(
                "--policy none cannot be combined with policy OIDs",
                "give either --policy none or one --policy OID per policy",
            ));
        }
        Some(Vec::new())
    } else {
        for p in &args.policies {
            extensions::check_policy(p).map_err(|e| {
                bad(
                    e,
                    "give a dotted OID, e.g. --policy 2.16.578.1.26.1.0.3.2, or --policy none",
                )
            })?;
        }
        Some(args.policies.clone())
    };
    let revocation_base = match &args.revocation_base {
        Some(b) => Some(extensions::check_base(b).map_err(|e| {
            bad(e, "give the base URL `credkit serve revocation` is reached at, e.g. http://127.0.0.1:7825")
        })?),
        None => default_base,
    };
    Ok(Realism {
        policies,
        revocation_base,
    })
}

/// `keygen --revoke CERT --ca CA`: add CERT's certificates issued by CA to
/// CA's revocation list.
fn run_revoke(ctx: &Ctx, args: &KeygenArgs, cert_path: &Path) -> Result<u8> {
    let Some(ca_path) = &args.ca else {
        return Err(usage(
            "--revoke needs --ca",
            "add --ca CA_FILE: the CA that issued CERT",
        ));
    };
    let reason = match &args.reason {
        Some(r) => list::parse_reason(r).ok_or_else(|| {
            usage(
                format!("--reason {r:?} is not an RFC 5280 revocation reason"),
                format!("use one of {}", list::reason_names()),
            )
        })?,
        None => Reason::Unspecified,
    };
    let (ca, loaded) = load_ca(args, ca_path)?;
    // CERT opens with the CA file's password (a fixture set has one), else none.
    let data = super::input::read_input(cert_path)?;
    let mut store_pw =
        SecretCell::with_value(loaded.store_password.as_ref().map(|p| p.to_string()));
    let mut key_pw = SecretCell::new(SecretSource::Absent, "");
    let store = crate::keystore::load(&data, &mut store_pw, &mut key_pw).map_err(|source| {
        Error::Input {
            path: cert_path.display().to_string(),
            source,
        }
    })?;
    let issuer = &ca.chain[0];
    let certs = list::issued_by(issuer, &store.entries);
    if certs.is_empty() {
        return Err(Error::Revocation {
            id: crate::error_id::ErrorId::RevocationNotIssued,
            message: format!(
                "{} holds no certificate issued by {} ({})",
                cert_path.display(),
                ca.alias,
                issuer.subject.to_display()
            ),
            hint:
                "give the CA that issued the certificate (`credkit inspect CERT` shows its issuer)"
                    .into(),
        });
    }
    let list_path = args
        .revocation_list
        .clone()
        .unwrap_or_else(|| list::default_path(ca_path));
    let mut rl = if list_path.exists() {
        super::input::revocation_list(&list_path)?
    } else {
        RevocationList::default()
    };
    let now = ctx.now.unix_timestamp();
    let mut revoked = Vec::new();
    for c in certs {
        let added = rl.revoke(c, now, reason);
        let entry = rl.lookup(c);
        revoked.push(RevokedReport {
            subject: c.subject.to_display(),
            issuer: c.issuer.to_display(),
            serial: c.serial_hex().to_uppercase(),
            date: rfc3339(entry.map_or(now, |e| e.date)),
            reason: list::reason_name(entry.map_or(reason, |e| e.reason)).to_string(),
            added,
        });
    }
    // Updating the list is what --revoke is for: no --force needed.
    files::write_atomic(
        &list_path,
        crate::output::revocation::list_file(&rl).as_bytes(),
        true,
        false,
    )
    .map_err(|source| Error::Io {
        action: crate::error::IoAction::Write,
        path: list_path.display().to_string(),
        source,
    })?;
    let report = KeygenReport {
        schema: "credkit.keygen/1",
        seeded: false,
        outputs: Vec::new(),
        entries: Vec::new(),
        readme: None,
        notes: Vec::new(),
        warnings: Vec::new(),
        revocation_list: Some(list_path.display().to_string()),
        revoked,
    };
    finish(ctx, &report)
}

fn write_error(output: &Path) -> impl Fn(write::WriteError) -> Error + '_ {
    move |source| Error::write(output.display().to_string(), source)
}

/// Open the --ca file and pick the entry that issues.
fn load_ca(args: &KeygenArgs, path: &Path) -> Result<(Ca, Loaded)> {
    let loaded = load(path, &args.passwords)?;
    let name = path.display().to_string();
    let entry = match &args.ca_alias {
        Some(a) => select::select(&loaded.store.entries, std::slice::from_ref(a))
            .map_err(|source| Error::Alias {
                path: name.clone(),
                source,
            })?
            .remove(0),
        None => {
            let c = issue::ca_candidates(&loaded.store.entries);
            match c[..] {
                [one] => one.clone(),
                [] => {
                    return Err(KeygenError::Ca {
                        detail: format!("file {name} holds no private key with a CA certificate"),
                    }
                    .into());
                }
                _ => {
                    let aliases: Vec<String> = c
                        .iter()
                        .map(|e| format!("\"{}\"", e.alias.as_deref().unwrap_or("?")))
                        .collect();
                    return Err(usage(
                        format!(
                            "{name} holds {} CA keys ({}): which one issues?",
                            c.len(),
                            aliases.join(", ")
                        ),
                        "pick one with --ca-alias",
                    ));
                }
            }
        }
    };
    let alias = entry.alias.clone().unwrap_or_else(|| "ca".into());
    let ca = Ca::from_entry(&entry, &alias).map_err(|e| match e {
        KeygenError::Ca { detail } => KeygenError::Ca {
            detail: format!("in {name}: {detail}"),
        },
        other => other,
    })?;
    Ok((ca, loaded))
}

pub(crate) fn run(ctx: &Ctx, args: KeygenArgs) -> Result<u8> {
    check_flags(&args)?;
    if let Some(dir) = &args.fixture_set {
        return run_fixture_set(ctx, &args, dir);
    }
    if let Some(cert) = &args.revoke {
        return run_revoke(ctx, &args, cert);
    }
    let Some(output) = args.output.clone() else {
        return Err(usage(
            "keygen needs -o OUTPUT or --fixture-set DIR",
            "add -o client.p12",
        ));
    };
    let to_stdout = output == Path::new("-");
    let format = output_format(ctx, &args, &output, to_stdout)?;
    let mode = mode_of(&args);
    check_mode_fits(&args, mode, format)?;
    let req = request(ctx, &args, mode)?;
    let targets = targets(&args, &req, &output, to_stdout)?;

    let (ca, loaded) = match &args.ca {
        Some(path) => {
            let (ca, loaded) = load_ca(&args, path)?;
            (Some(ca), Some(loaded))
        }
        None => (None, None),
    };
    // Passwords before the (slow) key generation, so a prompt comes first.
    let needs_password = match format {
        OutFormat::Pkcs12 | OutFormat::Jks => true,
        OutFormat::Pem | OutFormat::Der => !args.no_encrypt,
        OutFormat::Jwk | OutFormat::Jwks => false,
    };
    let prompt = format!("Password for {}", output.display());
    let password = output_password(&args, loaded.as_ref(), needs_password, &prompt)?;
    let opts = write_options(ctx, &args, password)?;
    let mut rng = match &args.seed {
        Some(s) => Random::from_seed(s),
        None => Random::from_os()?,
    };
    let generated = issue::generate(&req, ca.as_ref(), &mut rng)?;

    let targets: Vec<FilePlan> = targets
        .into_iter()
        .map(|(path, alias)| {
            let chosen = generated
                .entries
                .iter()
                .filter(|e| alias.is_none() || e.alias == alias)
                .cloned()
                .collect();
            (path, format, chosen)
        })
        .collect();
    let (files, notes, warnings) = render_files(&args, &opts, &targets, generated.notes.clone())?;

    let mut report = KeygenReport {
        schema: "credkit.keygen/1",
        seeded: args.seed.is_some(),
        outputs: Vec::new(),
        entries: generated
            .entries
            .iter()
            .filter_map(|e| entry_report(None, e))
            .collect(),
        readme: None,
        notes,
        warnings,
        revocation_list: None,
        revoked: Vec::new(),
    };
    if to_stdout {
        return print_files(ctx, &files, &report);
    }
    write_together(
        files
            .iter()
            .map(|(p, _, f)| (p.as_path(), f.bytes.as_slice(), f.private)),
        args.force,
    )?;
    report.outputs = output_files(&files);
    finish(ctx, &report)
}

/// Flags that cannot go together, whatever is made.
fn check_flags(args: &KeygenArgs) -> Result<()> {
    if args.weak && !args.insecure {
        return Err(usage(
            "--weak makes an RSA 1024-bit key, which anyone can factor with enough effort",
            "add --insecure to make it anyway (for testing that weak keys are refused)",
        ));
    }
    if stdin_uses(args) > 1 {
        return Err(usage(
            "only one thing can be read from standard input",
            "give the other passwords with --*-password-file or --*-password-env",
        ));
    }
    let p = &args.passwords;
    if args.ca.is_none()
        && (p.password_file.is_some()
            || p.password_env.is_some()
            || p.password_stdin
            || p.key_password_file.is_some()
            || p.key_password_env.is_some()
            || p.key_password_stdin)
    {
        return Err(usage(
            "--password-* and --key-password-* open the CA file, and no --ca was given",
            "give the password of what keygen writes with --out-password-file, \
             --out-password-env or --out-password-stdin",
        ));
    }
    Ok(())
}

/// `--to`, else the format the output's name says.
fn output_format(
    ctx: &Ctx,
    args: &KeygenArgs,
    output: &Path,
    to_stdout: bool,
) -> Result<OutFormat> {
    let format = match args.to {
        Some(f) => f,
        None if to_stdout => {
            return Err(usage(
                "writing to standard output needs --to",
                "add --to pem or --to jwk",
            ));
        }
        None => OutFormat::from_path(output).ok_or_else(|| {
            usage(
                format!(
                    "cannot tell the output format from the name {}",
                    output.display()
                ),
                "add --to pkcs12|jks|pem|der|jwk|jwks, or use an extension such as .p12, .jks, .pem, .jwk",
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
    Ok(format)
}

/// What is made: a CA, an issued certificate, a self-signed one or a bare key.
fn mode_of(args: &KeygenArgs) -> Mode {
    if args.make_ca {
        Mode::Ca {
            intermediate: args.intermediate,
        }
    } else if args.ca.is_some() {
        Mode::Issued
    } else if args.self_signed {
        Mode::SelfSigned
    } else {
        Mode::KeyOnly
    }
}

/// The certificate flags and the format fit what is made.
fn check_mode_fits(args: &KeygenArgs, mode: Mode, format: OutFormat) -> Result<()> {
    if mode == Mode::KeyOnly {
        let cert_options = [
            (args.subject.is_some(), "--subject"),
            (args.org_number.is_some(), "--org-number"),
            (args.usage.is_some(), "--usage"),
            (args.days.is_some(), "--days"),
            (args.not_before.is_some(), "--not-before"),
            (args.expired, "--expired"),
            (args.not_yet_valid, "--not-yet-valid"),
            (args.wrong_key, "--wrong-key"),
        ];
        if let Some((_, flag)) = cert_options.iter().find(|(given, _)| *given) {
            return Err(usage(
                format!(
                    "{flag} describes a certificate, and without --self-signed, --ca or --make-ca keygen makes a bare key pair"
                ),
                "add --self-signed, or --ca CA_FILE to have a CA issue the certificate",
            ));
        }
        if format == OutFormat::Jks {
            return Err(usage(
                "a JKS key entry needs a certificate",
                "add --self-signed, or --ca CA_FILE, or write PEM, PKCS#12 or JWK",
            ));
        }
    } else if format == OutFormat::Der {
        return Err(usage(
            "DER holds one object, and keygen makes a key and a certificate",
            "write PEM, PKCS#12 or JKS, which keep them together (DER is for a bare key)",
        ));
    }
    if matches!(format, OutFormat::Jwk | OutFormat::Jwks) && !args.private {
        return Err(usage(
            "a public JWK alone would lose the new private key",
            "add --private to write the private key into the JWK (in the clear, mode 0600), \
             or write PKCS#12 or PEM and run `credkit convert` for the public JWK",
        ));
    }
    Ok(())
}

/// The domain's request: key, mode, subject, validity and broken variants.
fn request(ctx: &Ctx, args: &KeygenArgs, mode: Mode) -> Result<Request> {
    let subject = args.subject.as_deref().map(Dn::parse).transpose()?;
    let range = match (&args.not_before, &args.not_after) {
        (Some(a), Some(b)) => Some((
            parse_time("--not-before", a)?,
            parse_time("--not-after", b)?,
        )),
        _ => None,
    };
    Ok(Request {
        key: if args.weak {
            WEAK
        } else {
            args.algorithm.spec()
        },
        mode,
        subject,
        org_number: args.org_number.clone(),
        usage: args.usage.unwrap_or(Usage::Auth),
        days: args.days,
        range,
        broken: Broken {
            expired: args.expired,
            not_yet_valid: args.not_yet_valid,
            wrong_key: args.wrong_key,
            missing_intermediate: args.missing_intermediate,
        },
        alias: args.alias.clone(),
        now: ctx.now.unix_timestamp(),
        realism: realism(args, None)?,
    })
}

/// The files written (one per entry with `--split`), none of them there
/// already (without `--force`) or the CA file.
fn targets(
    args: &KeygenArgs,
    req: &Request,
    output: &Path,
    to_stdout: bool,
) -> Result<Vec<(PathBuf, Option<String>)>> {
    let aliases = req.planned_aliases(args.ca.is_some());
    if args.split && aliases.len() < 2 {
        return Err(usage(
            "--split writes one file per entry, and this makes one entry",
            "use --split with --usage both or --make-ca --intermediate",
        ));
    }
    let targets: Vec<(PathBuf, Option<String>)> = if args.split {
        aliases
            .iter()
            .map(|a| (split_path(output, a), Some(a.clone())))
            .collect()
    } else {
        vec![(output.to_path_buf(), None)]
    };
    if !to_stdout && !args.force {
        if let Some((t, _)) = targets.iter().find(|(t, _)| t.exists()) {
            return Err(exists_error(t));
        }
        if let Some(ca) = &args.ca
            && targets.iter().any(|(t, _)| files::same_file(ca, t))
        {
            return Err(usage(
                format!("the output {} is the CA file", output.display()),
                "choose another output name",
            ));
        }
    }
    Ok(targets)
}

/// What to write: a file, its format and the entries it holds.
type FilePlan = (PathBuf, OutFormat, Vec<Entry>);

/// The rendered files (path, format and contents), notes and warnings.
type Rendered = (Vec<(PathBuf, OutFormat, Written)>, Vec<String>, Vec<String>);

/// Every file made in memory first, so a failure writes nothing; with the
/// writers' notes (after `notes`) and warnings.
fn render_files(
    args: &KeygenArgs,
    opts: &WriteOptions,
    targets: &[FilePlan],
    mut notes: Vec<String>,
) -> Result<Rendered> {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    render(args.seed.as_deref(), || -> Result<()> {
        for (path, format, entries) in targets {
            let out = write::write(entries, *format, opts, false).map_err(write_error(path))?;
            add_warnings(&mut warnings, *format, opts, &out);
            notes.extend(out.notes);
            for f in out.files {
                files.push((path.clone(), *format, f));
            }
        }
        Ok(())
    })?;
    Ok((files, notes, warnings))
}

/// `-o -`: the files to standard output (never a private key to a
/// terminal), the report to standard error.
fn print_files(
    ctx: &Ctx,
    files: &[(PathBuf, OutFormat, Written)],
    report: &KeygenReport,
) -> Result<u8> {
    if files.iter().any(|(_, _, f)| f.private) && std::io::stdout().is_terminal() {
        return Err(usage(
            "refusing to print a private key to the terminal",
            "redirect standard output to a file, or use -o FILE",
        ));
    }
    for (_, _, f) in files {
        output::write_stdout(&f.bytes).map_err(Error::stdout)?;
    }
    let mut s = String::new();
    report.render_text(&mut s);
    output::status(ctx.quiet, s.trim_end());
    Ok(exit::OK)
}

/// Add the weak-protection warnings of one written output, once each.
fn add_warnings(warnings: &mut Vec<String>, format: OutFormat, opts: &WriteOptions, out: &Output) {
    for w in write::weak_protection(format, opts, &out.files) {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    }
}

/// All the files or none (see `files::write_all_atomic`).
fn write_together<'a>(
    items: impl IntoIterator<Item = (&'a Path, &'a [u8], bool)>,
    force: bool,
) -> Result<()> {
    files::write_all_atomic(items, force).map_err(|(path, source)| Error::Io {
        action: IoAction::Write,
        path: path.display().to_string(),
        source,
    })
}

/// The output password: --out-password-*, else the CA file's, else
/// CREDKIT_PASSWORD or a prompt (only asked when the format needs one).
fn output_password(
    args: &KeygenArgs,
    ca: Option<&Loaded>,
    needed: bool,
    prompt: &str,
) -> Result<Option<String>> {
    let mut cell = out_cell(&args.out_passwords, false, prompt.to_string());
    if let Some(p) = cell.get()? {
        return Ok(Some(p.to_string()));
    }
    if !needed {
        return Ok(None);
    }
    if let Some(p) = ca.and_then(|l| l.store_password.as_ref()) {
        return Ok(Some(p.to_string()));
    }
    Ok(SecretCell::new(SecretSource::Default, prompt)
        .get()?
        .map(|p| p.to_string()))
}

/// What was written, for the report.
fn output_files(files: &[(PathBuf, OutFormat, Written)]) -> Vec<OutputFile> {
    files
        .iter()
        .map(|(path, format, f)| OutputFile {
            path: path.display().to_string(),
            format: *format,
            part: None,
            aliases: f.aliases.clone(),
            private_key: f.private,
        })
        .collect()
}

/// The fixture set's one password (for PKCS#12, JKS stores and keys, PEM):
/// --out-password-*, else CREDKIT_PASSWORD or a prompt; never empty.
fn fixture_password(args: &KeygenArgs, dir: &Path) -> Result<String> {
    let o = &args.out_passwords;
    if o.out_key_password_file.is_some()
        || o.out_key_password_env.is_some()
        || o.out_key_password_stdin
    {
        return Err(usage(
            "a fixture set uses the store password for JKS keys",
            "drop --out-key-password-*",
        ));
    }
    let prompt = format!("Password for the fixture set in {}", dir.display());
    let password = output_password(args, None, true, &prompt)?.ok_or_else(|| {
        usage(
            "a fixture set needs a password for its PKCS#12, JKS and PEM files",
            "give one with --out-password-file, --out-password-env or --out-password-stdin, \
             or set CREDKIT_PASSWORD",
        )
    })?;
    if password.is_empty() {
        return Err(usage(
            "an empty password would not protect the keys",
            "choose a test password such as changeit",
        ));
    }
    Ok(password)
}

/// DIR is a directory (or not there yet) and, without --force, holds none of
/// the files the set writes: checked before the (slow) key generation.
fn check_fixture_dir(args: &KeygenArgs, dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(usage(
            format!("{} exists and is not a directory", dir.display()),
            "give a directory for --fixture-set",
        ));
    }
    if !args.force
        && let Some(t) = fixture_set::planned_files()
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
    {
        return Err(exists_error(&t));
    }
    Ok(())
}

/// Make the fixture set's credentials: seeded or from the operating system,
/// on --jobs threads (default: one per core).
fn build_fixture_set(ctx: &Ctx, args: &KeygenArgs) -> Result<fixture_set::FixtureSet> {
    let randomness = match &args.seed {
        Some(s) => fixture_set::Randomness::Seeded(s),
        None => fixture_set::Randomness::Os,
    };
    let jobs = args.jobs.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    });
    let realism = realism(args, Some(extensions::default_revocation_base()))?;
    Ok(fixture_set::build(
        args.algorithm.spec(),
        args.days,
        ctx.now.unix_timestamp(),
        &randomness,
        jobs,
        &realism,
    )?)
}

/// Every file of the set: each credential in each of its formats, then the
/// CA certificates.
fn fixture_targets(set: &fixture_set::FixtureSet, dir: &Path) -> Vec<FilePlan> {
    let mut targets: Vec<FilePlan> = Vec::new();
    for item in &set.items {
        for (name, format) in item.files() {
            targets.push((dir.join(name), format, item.entries.clone()));
        }
    }
    for f in &set.cert_files {
        targets.push((dir.join(f.name), OutFormat::Pem, vec![f.entry.clone()]));
    }
    targets
}

fn run_fixture_set(ctx: &Ctx, args: &KeygenArgs, dir: &Path) -> Result<u8> {
    let readme_path = dir.join("README.md");
    let password = fixture_password(args, dir)?;
    let now = ctx.now.unix_timestamp();
    check_fixture_dir(args, dir)?;
    let set = build_fixture_set(ctx, args)?;
    let targets = fixture_targets(&set, dir);

    let opts = write_options(ctx, args, Some(password.clone()))?;
    let (files, notes, warnings) = render_files(args, &opts, &targets, set.notes.clone())?;
    let readme = crate::output::fixture_set::readme(
        &set,
        &ReadmeInfo {
            password: &password,
            seed: args.seed.as_deref(),
            now: &rfc3339(now),
            clear_pem: args.no_encrypt,
            private_jwk: args.private,
            legacy: args.legacy,
        },
    );

    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: IoAction::Write,
        path: dir.display().to_string(),
        source,
    })?;
    let mut report = KeygenReport {
        schema: "credkit.keygen/1",
        seeded: args.seed.is_some(),
        outputs: Vec::new(),
        entries: set
            .items
            .iter()
            .flat_map(|i| {
                i.entries
                    .iter()
                    .filter_map(|e| entry_report(Some(i.name), e))
            })
            .collect(),
        readme: Some(readme_path.display().to_string()),
        notes,
        warnings,
        revocation_list: None,
        revoked: Vec::new(),
    };
    let texts = crate::output::fixture_set::text_files(&set);
    let extra: Vec<(PathBuf, &[u8])> = texts
        .iter()
        .map(|(name, text)| (dir.join(name), text.as_bytes()))
        .collect();
    write_together(
        files
            .iter()
            .map(|(p, _, f)| (p.as_path(), f.bytes.as_slice(), f.private))
            .chain(extra.iter().map(|(p, b)| (p.as_path(), *b, false)))
            // The README holds the password: private (0600), as the keys.
            .chain(std::iter::once((
                readme_path.as_path(),
                readme.as_bytes(),
                true,
            ))),
        args.force,
    )?;
    report.outputs = output_files(&files);
    finish(ctx, &report)
}
