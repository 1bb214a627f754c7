//! The `credkit` binary: parse, run, report, exit.

use std::process::ExitCode;

/// Ignore SIGXFSZ: a write past the file size limit (`ulimit -f`) then
/// fails with EFBIG, like a full disk, instead of killing credkit half-way
/// through a file. The writer reports it and removes its temporary file, so
/// no partial copy of a key is left behind. Registering a handler that only
/// sets a flag is signal-hook's safe way to say "ignore".
fn ignore_sigxfsz() {
    #[cfg(unix)]
    {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Failing to register leaves the default, as before: nothing to report.
        let _ = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, flag);
    }
}

fn main() -> ExitCode {
    ignore_sigxfsz();
    credkit::run_cli()
}
