//! `credkit check FILE`.

use super::input::load;
use crate::cli::check::CheckArgs;
use crate::ctx::Ctx;
use crate::diagnostics::check::{self, CheckOptions};
use crate::error::{Error, Result, exit};
use crate::output;

pub(crate) fn run(ctx: &Ctx, args: CheckArgs) -> Result<u8> {
    let client_org = match &args.client_org {
        Some(v) => Some(
            crate::orgnr::OrgNr::parse(v)
                .map(|o| o.to_string())
                .map_err(|e| e.to_string())
                .map_err(|message| Error::Usage {
                    message: format!("--client-org: {message}"),
                    hint: Some(
                        "give the 9-digit organisation number of the client's owner, as in \
                     Enhetsregisteret (spaces and an NTRNO- prefix are allowed)"
                            .into(),
                    ),
                })?,
        ),
        None => None,
    };
    let loaded = load(&args.file, &args.passwords)?;
    let mut opts = CheckOptions::new(args.file.display().to_string());
    opts.alias = args.alias;
    opts.target = args.target;
    opts.env = args.env;
    opts.client_org = client_org;
    opts.expiry_warning_days = args.expiry_warning_days;
    opts.key_password_differs =
        loaded.key_password.is_some() && loaded.key_password != loaded.store_password;
    let mut report = check::run(&loaded.store, &opts, ctx.now);
    if args.revocation {
        revocation(ctx, &mut report, &loaded.store, args.ca_file.as_deref())?;
    }
    output::emit(&report, ctx.json).map_err(Error::stdout)?;
    Ok(if report.fit { exit::OK } else { exit::NEGATIVE })
}

/// `--revocation`: ask the CA about the checked entry's certificate and its
/// CA certificates, and add what it says to the report.
fn revocation(
    ctx: &Ctx,
    report: &mut check::CheckReport,
    store: &crate::keystore::Store,
    ca_file: Option<&std::path::Path>,
) -> Result<()> {
    let extra = match ca_file {
        Some(p) => ca_certificates(p)?,
        None => Vec::new(),
    };
    crate::revocation::add_to_report(report, store, &extra, ctx.now.unix_timestamp()).map_err(
        |message| Error::Usage {
            message,
            hint: None,
        },
    )
}

/// Every certificate in a file (PEM, DER, or any store `inspect` reads).
pub(crate) fn ca_certificates(path: &std::path::Path) -> Result<Vec<crate::cert::Certificate>> {
    let store = super::input::load_store(path, &Default::default())?;
    let certs: Vec<_> = store.entries.into_iter().flat_map(|e| e.chain).collect();
    if certs.is_empty() {
        return Err(Error::Usage {
            message: format!(
                "--ca-file {}: the file holds no certificate",
                path.display()
            ),
            hint: Some("give the issuing CA's certificate, PEM or DER".into()),
        });
    }
    Ok(certs)
}
