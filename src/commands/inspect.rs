//! `credkit inspect FILE`.

use super::input::load_store;
use crate::cli::inspect::InspectArgs;
use crate::ctx::Ctx;
use crate::error::{Error, Result, exit};
use crate::keystore::inspect::report;
use crate::output;

pub(crate) fn run(ctx: &Ctx, args: InspectArgs) -> Result<u8> {
    let store = load_store(&args.file, &args.passwords)?;
    let r = report(&store, &args.file.display().to_string(), ctx.now);
    output::emit(&r, ctx.json).map_err(Error::stdout)?;
    Ok(exit::OK)
}
