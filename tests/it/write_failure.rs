//! Failure safety: `convert` that fails while writing leaves an existing
//! output file untouched and no partial or temporary file behind.
//!
//! Writes are made to fail with RLIMIT_FSIZE (`prlimit --fsize`), which
//! applies to root too (file permissions do not stop root, and a tiny tmpfs
//! needs privileges). SIGXFSZ is ignored (`trap '' XFSZ`, inherited across
//! exec) so the write returns EFBIG, as a full disk returns ENOSPC; credkit
//! also ignores it itself, which one test checks without the trap.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};

const PRLIMIT: &str = "prlimit";

/// Run `credkit convert ARGS` with a file size limit of `limit` bytes.
/// With `ignore_xfsz`, writes past the limit fail with EFBIG; without it the
/// kernel kills credkit with SIGXFSZ mid-write.
fn convert_limited(limit: u64, ignore_xfsz: bool, args: &[&str]) -> Run {
    limited(limit, ignore_xfsz, "convert", args)
}

/// Run `credkit keygen ARGS` with a file size limit of `limit` bytes (EFBIG).
fn keygen_limited(limit: u64, args: &[&str]) -> Run {
    limited(limit, true, "keygen", args)
}

fn limited(limit: u64, ignore_xfsz: bool, subcommand: &str, args: &[&str]) -> Run {
    let mut script = String::new();
    if ignore_xfsz {
        script.push_str("trap '' XFSZ; ");
    }
    script.push_str(r#"exec "$@""#);
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(&script)
        .arg("sh")
        .arg(PRLIMIT)
        .arg(format!("--fsize={limit}:{limit}"))
        .arg(env!("CARGO_BIN_EXE_credkit"))
        .arg("--now")
        .arg(NOW)
        .arg(subcommand)
        .args(args)
        .env("CREDKIT_PASSWORD", "changeit")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    run(c)
}

const ORIGINAL: &str = "ORIGINAL CONTENT: must survive a failed convert\n";

#[test]
fn failed_write_keeps_the_existing_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.pem");
    std::fs::write(&out, ORIGINAL).expect("write");
    let input = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    let out_s = path_str(&out);
    // The PEM output (key and three certificates) is about 6 KB.
    let r = convert_limited(
        1000,
        true,
        &[&input, "-o", &out_s, "--no-encrypt", "--force"],
    );
    r.assert_no_panic();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: cannot write "), "{}", r.stderr);
    assert!(r.stderr.contains(&out_s), "names the output: {}", r.stderr);
    assert!(
        !r.stderr.contains(".credkit-"),
        "does not name the temporary file: {}",
        r.stderr
    );
    assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).expect("read"), ORIGINAL);
    assert_eq!(file_names(dir.path()), vec!["out.pem".to_string()]);

    // Without --force and no existing file: nothing at all is left.
    std::fs::remove_file(&out).expect("rm");
    let r = convert_limited(1000, true, &[&input, "-o", &out_s, "--no-encrypt"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        file_names(dir.path()).is_empty(),
        "{:?}",
        file_names(dir.path())
    );

    // The same command without the limit works (the limit was the cause).
    let r = convert_limited(1 << 30, true, &[&input, "-o", &out_s, "--no-encrypt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::read_to_string(&out)
            .expect("read")
            .contains("-----BEGIN PRIVATE KEY-----")
    );
}

#[test]
fn failed_split_write_leaves_none_of_the_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.pem");
    let input = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    let out_s = path_str(&out);
    // key (~1.7 KB) and cert (~1.4 KB) fit under 2500 bytes, the chain
    // (~3 KB) does not: before staging, key and cert were left behind.
    let r = convert_limited(
        2500,
        true,
        &[&input, "-o", &out_s, "--no-encrypt", "--split"],
    );
    r.assert_no_panic();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        file_names(dir.path()).is_empty(),
        "{:?}",
        file_names(dir.path())
    );

    // With --force over existing parts: all three stay as they were.
    for part in ["key", "cert", "chain"] {
        std::fs::write(dir.path().join(format!("out.{part}.pem")), ORIGINAL).expect("write");
    }
    let r = convert_limited(
        2500,
        true,
        &[&input, "-o", &out_s, "--no-encrypt", "--split", "--force"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    for part in ["key", "cert", "chain"] {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(format!("out.{part}.pem"))).expect("read"),
            ORIGINAL,
            "out.{part}.pem changed"
        );
    }
    assert_eq!(
        file_names(dir.path()).len(),
        3,
        "{:?}",
        file_names(dir.path())
    );
}

/// SIGXFSZ at its default disposition (not ignored by the caller): credkit
/// ignores it itself, so a write past the limit fails with EFBIG, the
/// error is reported and the temporary file is removed. Before, the kernel
/// killed credkit half-way and left a `.credkit-*` file holding part of a
/// plaintext key.
#[test]
fn sigxfsz_at_its_default_disposition_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.pem");
    std::fs::write(&out, ORIGINAL).expect("write");
    let input = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    let out_s = path_str(&out);
    for force in [true, false] {
        if !force {
            std::fs::remove_file(&out).expect("rm");
        }
        let mut args = vec![input.as_str(), "-o", &out_s, "--no-encrypt"];
        if force {
            args.push("--force");
        }
        let r = convert_limited(1000, false, &args);
        r.assert_no_panic();
        assert_eq!(r.code, 2, "not killed by SIGXFSZ: {}", r.stderr);
        assert!(r.stderr.starts_with("error: cannot write "), "{}", r.stderr);
        assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
        let left = file_names(dir.path());
        assert!(
            !left.iter().any(|n| n.starts_with(".credkit-")),
            "a temporary file with part of the key is left: {left:?}"
        );
        if force {
            assert_eq!(std::fs::read_to_string(&out).expect("read"), ORIGINAL);
            assert_eq!(left, vec!["out.pem".to_string()]);
        } else {
            assert!(left.is_empty(), "{left:?}");
        }
    }
    // keygen too (the same writer).
    let r = limited(
        200,
        false,
        "keygen",
        &[
            "--algorithm",
            "p256",
            "--self-signed",
            "--seed",
            "xfsz",
            "-o",
            &out_s,
            "--no-encrypt",
        ],
    );
    r.assert_no_panic();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        file_names(dir.path()).is_empty(),
        "{:?}",
        file_names(dir.path())
    );
}

// ---- keygen ----
//
// `keygen` writes through the same atomic writer as `convert`. The key
// generation is seeded (`--seed`), so a run without the limit makes the same
// bytes and tells what a complete file looks like.

/// Exit 2, one `error:` line naming `path` first, a `hint:` line, no panic.
fn assert_write_error(r: &Run, path: &str) {
    r.assert_no_panic();
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: cannot write "), "{}", r.stderr);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(first.contains(path), "names {path}: {}", r.stderr);
    let errors = r.stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(errors, 1, "one error line: {}", r.stderr);
    assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "stdout: {}", r.stdout);
}

/// Names of the hidden temporary files (`.credkit-*`) in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    file_names(dir)
        .into_iter()
        .filter(|n| n.starts_with(".credkit-"))
        .collect()
}

#[test]
fn keygen_failed_write_keeps_the_existing_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Every one of these is far over 200 bytes (a P-256 PKCS#12 is ~1.2 KB).
    for (name, extra) in [
        ("out.p12", &[][..]),
        ("out.jks", &[][..]),
        ("out.pem", &[][..]),
        ("out.jwk", &["--private"][..]),
    ] {
        let out = dir.path().join(name);
        let out_s = path_str(&out);
        std::fs::write(&out, ORIGINAL).expect("write");
        let mut args = vec![
            "--self-signed",
            "--algorithm",
            "p256",
            "--seed",
            "write-failure",
            "-o",
            &out_s,
            "--force",
        ];
        args.extend(extra);
        let r = keygen_limited(200, &args);
        assert_write_error(&r, &out_s);
        assert_eq!(
            std::fs::read_to_string(&out).expect("read"),
            ORIGINAL,
            "{name} changed"
        );
        assert_eq!(file_names(dir.path()), vec![name.to_string()], "{name}");

        // The same error as JSON.
        args.push("--json");
        let r = keygen_limited(200, &args);
        r.assert_no_panic();
        assert_eq!(r.code, 2, "{}", r.stderr);
        let e = r.error_json();
        assert_eq!(e["error"]["code"], "io-write", "{}", r.stderr);
        assert!(
            e["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(&out_s)),
            "{}",
            r.stderr
        );
        assert_eq!(std::fs::read_to_string(&out).expect("read"), ORIGINAL);

        // No existing file and no --force: nothing at all is left.
        std::fs::remove_file(&out).expect("rm");
        let args: Vec<&str> = args
            .into_iter()
            .filter(|a| *a != "--force" && *a != "--json")
            .collect();
        let r = keygen_limited(200, &args);
        assert_write_error(&r, &out_s);
        assert!(
            file_names(dir.path()).is_empty(),
            "{:?}",
            file_names(dir.path())
        );

        // Without the limit the same command works (the limit was the cause).
        let r = keygen_limited(1 << 30, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        std::fs::remove_file(&out).expect("rm");
    }
}

/// Make the fixture set of seed `write-failure` without a limit, in `dir`.
fn reference_set(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let r = keygen_limited(
        1 << 30,
        &["--fixture-set", &path_str(dir), "--seed", "write-failure"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    file_names(dir)
        .into_iter()
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).expect("read");
            (n, b)
        })
        .collect()
}

/// A fixture set is some 50 files of 1.2 to 12 KB. With a limit of 4000
/// bytes the first files fit and a later one does not: credkit stops there,
/// with no partial or temporary file, and files that existed are untouched.
#[test]
fn keygen_fixture_set_failed_write_leaves_no_partial_file() {
    const LIMIT: usize = 4000;
    let scratch = tempfile::tempdir().expect("tempdir");
    let reference = reference_set(&scratch.path().join("reference"));
    assert!(reference.iter().any(|(_, b)| b.len() < LIMIT));
    assert!(reference.iter().any(|(_, b)| b.len() > LIMIT));
    let complete = |n: &str| reference.iter().find(|(r, _)| r == n).map(|(_, b)| b);

    // Into a new directory.
    let set = scratch.path().join("set");
    let set_s = path_str(&set);
    let args = ["--fixture-set", &set_s, "--seed", "write-failure"];
    let r = keygen_limited(LIMIT as u64, &args);
    assert_write_error(&r, &set_s);
    // The file named is one of the set, and one the limit cannot hold.
    let failed = reference
        .iter()
        .find(|(n, _)| {
            r.stderr
                .lines()
                .next()
                .is_some_and(|l| l.contains(&format!("{set_s}/{n}:")))
        })
        .unwrap_or_else(|| panic!("names a file of the set: {}", r.stderr));
    assert!(failed.1.len() > LIMIT, "{}", failed.0);
    if set.exists() {
        assert!(temporaries(&set).is_empty(), "{:?}", file_names(&set));
        assert!(!set.join(&failed.0).exists(), "{} left", failed.0);
        // Whatever is there is a complete file of the set.
        for n in file_names(&set) {
            let b = complete(&n).unwrap_or_else(|| panic!("{n} is not in the set"));
            assert!(
                std::fs::read(set.join(&n)).expect("read") == *b,
                "{n} is partial"
            );
        }
    }

    // With --force over an existing set: the files after the failure, the
    // one that failed, mock-clients.toml and README.md stay as they were.
    let set = scratch.path().join("again");
    let set_s = path_str(&set);
    std::fs::create_dir(&set).expect("mkdir");
    let kept = [
        failed.0.as_str(),
        "org1-pair.pem",
        "README.md",
        "mock-clients.toml",
    ];
    for n in kept {
        std::fs::write(set.join(n), ORIGINAL).expect("write");
    }
    let r = keygen_limited(
        LIMIT as u64,
        &[
            "--fixture-set",
            &set_s,
            "--seed",
            "write-failure",
            "--force",
        ],
    );
    assert_write_error(&r, &set_s);
    for n in kept {
        assert_eq!(
            std::fs::read_to_string(set.join(n)).expect("read"),
            ORIGINAL,
            "{n} changed"
        );
    }
    assert!(temporaries(&set).is_empty(), "{:?}", file_names(&set));
    for n in file_names(&set) {
        if !kept.contains(&n.as_str()) {
            let b = complete(&n).unwrap_or_else(|| panic!("{n} is not in the set"));
            assert!(
                std::fs::read(set.join(&n)).expect("read") == *b,
                "{n} is partial"
            );
        }
    }
}

/// A directory credkit cannot write into. Running as root (as CI does)
/// ignores the mode bits, so a 0500 directory is only tried when it really
/// refuses a new file; a path through a regular file (ENOTDIR) fails for
/// everyone and is always tried.
#[test]
fn keygen_into_an_unwritable_directory_fails_cleanly() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let plain = scratch.path().join("plain");
    std::fs::write(&plain, ORIGINAL).expect("write");
    let mut dirs = vec![plain.clone()];

    let locked = scratch.path().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).expect("chmod");
    }
    let probe = locked.join("probe");
    if std::fs::write(&probe, "x").is_ok() {
        // Root: the mode bits do not stop us, so they would not stop credkit.
        std::fs::remove_file(&probe).expect("rm");
    } else {
        dirs.push(locked.clone());
    }

    for dir in &dirs {
        let out = path_str(&dir.join("out.p12"));
        let r = keygen_limited(
            1 << 30,
            &[
                "--self-signed",
                "--algorithm",
                "p256",
                "--seed",
                "u",
                "-o",
                &out,
            ],
        );
        assert_write_error(&r, &out);

        let set = path_str(&dir.join("set"));
        let r = keygen_limited(1 << 30, &["--fixture-set", &set, "--seed", "u"]);
        assert_write_error(&r, &set);
    }
    assert_eq!(std::fs::read_to_string(&plain).expect("read"), ORIGINAL);
    if dirs.contains(&locked) {
        assert!(file_names(&locked).is_empty(), "{:?}", file_names(&locked));
    }
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
}

// Known gaps (issue 8), ignored until credkit is fixed; each states the
// behaviour the hint promises ("no existing file was changed and no partial
// file was left").

/// `keygen --split` writes its parts one after the other, not staged as
/// `convert --split` does: a failure on the second part comes after the first
/// replaced an existing file.
#[test]
fn keygen_failed_split_write_replaces_none_of_the_parts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = path_str(&dir.path().join("ca.p12"));
    // ca-root.p12 is ~1.2 KB, ca-intermediate.p12 ~1.8 KB.
    let args = [
        "--make-ca",
        "--intermediate",
        "--split",
        "--algorithm",
        "p256",
        "--seed",
        "write-failure",
        "-o",
        &out,
    ];
    let r = keygen_limited(1500, &args);
    assert_write_error(&r, &path_str(&dir.path().join("ca-intermediate.p12")));
    assert!(
        file_names(dir.path()).is_empty(),
        "{:?}",
        file_names(dir.path())
    );

    for part in ["root", "intermediate"] {
        std::fs::write(dir.path().join(format!("ca-{part}.p12")), ORIGINAL).expect("write");
    }
    let mut forced = args.to_vec();
    forced.push("--force");
    let r = keygen_limited(1500, &forced);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for part in ["root", "intermediate"] {
        assert!(
            std::fs::read(dir.path().join(format!("ca-{part}.p12"))).expect("read")
                == ORIGINAL.as_bytes(),
            "ca-{part}.p12 was replaced"
        );
    }
}

/// `--fixture-set --force` replaces the files before the one that fails.
#[test]
fn keygen_fixture_set_failed_write_replaces_no_file() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let set = scratch.path().join("set");
    std::fs::create_dir(&set).expect("mkdir");
    // ca-root.p12 (~2.7 KB) is the first file written, well under the limit.
    std::fs::write(set.join("ca-root.p12"), ORIGINAL).expect("write");
    let r = keygen_limited(
        4000,
        &[
            "--fixture-set",
            &path_str(&set),
            "--seed",
            "write-failure",
            "--force",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        std::fs::read(set.join("ca-root.p12")).expect("read") == ORIGINAL.as_bytes(),
        "ca-root.p12 was replaced"
    );
    assert_eq!(file_names(&set), vec!["ca-root.p12".to_string()]);
}

/// When the temporary file cannot be created (ENOTDIR, EACCES), the message
/// names the temporary file that never existed (`... at path
/// "DIR/.credkit-XXXXXX"`, from the tempfile crate); `convert` too.
#[test]
fn write_errors_do_not_name_the_temporary_file() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let plain = scratch.path().join("plain");
    std::fs::write(&plain, ORIGINAL).expect("write");
    let out = path_str(&plain.join("out.p12"));
    let r = keygen_limited(
        1 << 30,
        &[
            "--self-signed",
            "--algorithm",
            "p256",
            "--seed",
            "u",
            "-o",
            &out,
        ],
    );
    assert_write_error(&r, &out);
    assert!(!r.stderr.contains(".credkit-"), "{}", r.stderr);
    let input = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    let out = path_str(&plain.join("out.pem"));
    let r = convert_limited(1 << 30, true, &[&input, "-o", &out, "--no-encrypt"]);
    assert_write_error(&r, &out);
    assert!(!r.stderr.contains(".credkit-"), "{}", r.stderr);
}
