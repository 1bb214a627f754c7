//! Snapshot cases: every file `tests/cmd/NAME.toml` is one credkit run (its
//! arguments, environment, standard input and exit status), and
//! `NAME.stdout` / `NAME.stderr` hold its exact output. README.md's
//! ```` ```console ```` examples are cases too: the command after `$ `, then
//! its output (standard error merged), `? N` when it exits with N.
//!
//! Every run is `credkit --now NOW ...` (see `credkit-at-now.sh`), from the
//! repository root, so paths like `fixtures/p12/...` work and dates are fixed.
//! HACKING.md says how to add a case and how to update the snapshots
//! (`TRYCMD=overwrite`).

use crate::support::{NOW, root};

#[test]
fn cli_snapshots_and_readme_examples() {
    let wrapper = root().join("tests/it/credkit-at-now.sh");
    trycmd::TestCases::new()
        .register_bin("credkit", wrapper)
        .env("CREDKIT_TEST_BIN", env!("CARGO_BIN_EXE_credkit"))
        .env("CREDKIT_TEST_NOW", NOW)
        .env("COLUMNS", "100")
        .case("tests/cmd/*.toml")
        .case("README.md");
}
