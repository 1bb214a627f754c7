//! `credkit check FILE`.

use super::input::load;
use crate::cli::check::{CheckArgs, EnvArg, TargetArg};
use crate::ctx::Ctx;
use crate::diagnostics::check::{self, CheckOptions, Env, Target};
use crate::error::{Error, Result, exit};
use crate::output;

pub fn run(ctx: &Ctx, args: CheckArgs) -> Result<u8> {
    let client_org = match &args.client_org {
        Some(v) => Some(check::parse_org_number(v).map_err(|message| {
            Error::Usage {
                message: format!("--client-org: {message}"),
                hint: Some(
                    "give the 9-digit organisation number of the client's owner, as in \
                     Enhetsregisteret (spaces and an NTRNO- prefix are allowed)"
                        .into(),
                ),
            }
        })?),
        None => None,
    };
    let loaded = load(&args.file, &args.passwords)?;
    let mut opts = CheckOptions::new(args.file.display().to_string());
    opts.alias = args.alias;
    opts.target = match args.target {
        TargetArg::Generic => Target::Generic,
        TargetArg::Maskinporten => Target::Maskinporten,
        TargetArg::Okta => Target::Okta,
        TargetArg::Entra => Target::Entra,
        TargetArg::Keycloak => Target::Keycloak,
    };
    opts.env = args.env.map(|e| match e {
        EnvArg::Test => Env::Test,
        EnvArg::Prod => Env::Prod,
    });
    opts.client_org = client_org;
    opts.expiry_warning_days = args.expiry_warning_days;
    opts.key_password_differs =
        loaded.key_password.is_some() && loaded.key_password != loaded.store_password;
    let report = check::run(&loaded.store, &opts, ctx.now);
    output::emit(&report, ctx.json).map_err(|source| Error::Io {
        action: "write",
        path: "standard output".into(),
        source,
    })?;
    Ok(if report.fit { exit::OK } else { exit::NEGATIVE })
}
