//! Failure safety: `convert` that fails while writing leaves an existing
//! output file untouched and no partial or temporary file behind.
//!
//! Writes are made to fail with RLIMIT_FSIZE (`prlimit --fsize`), which
//! applies to root too (file permissions do not stop root, and a tiny tmpfs
//! needs privileges). SIGXFSZ is ignored (`trap '' XFSZ`, inherited across
//! exec) so the write returns EFBIG, as a full disk returns ENOSPC.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};

const PRLIMIT: &str = "prlimit";

/// Run `credkit convert ARGS` with a file size limit of `limit` bytes.
/// With `ignore_xfsz`, writes past the limit fail with EFBIG; without it the
/// kernel kills credkit with SIGXFSZ mid-write.
fn convert_limited(limit: u64, ignore_xfsz: bool, args: &[&str]) -> Run {
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
        .arg("convert")
        .args(args)
        .env("CREDKIT_PASSWORD", "changeit")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    run(c)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
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
    assert_eq!(names(dir.path()), vec!["out.pem".to_string()]);

    // Without --force and no existing file: nothing at all is left.
    std::fs::remove_file(&out).expect("rm");
    let r = convert_limited(1000, true, &[&input, "-o", &out_s, "--no-encrypt"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

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
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

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
    assert_eq!(names(dir.path()).len(), 3, "{:?}", names(dir.path()));
}

/// Killed mid-write (SIGXFSZ not ignored): the existing output is still
/// untouched, because it is only ever replaced by a rename. A killed process
/// cannot remove its temporary file, so a hidden `.credkit-*` file (mode
/// 0600 when it holds a key) may remain; this test documents that.
#[test]
fn killed_while_writing_keeps_the_existing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.pem");
    std::fs::write(&out, ORIGINAL).expect("write");
    let input = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    let out_s = path_str(&out);
    let r = convert_limited(
        1000,
        false,
        &[&input, "-o", &out_s, "--no-encrypt", "--force"],
    );
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).expect("read"), ORIGINAL);
    for n in names(dir.path()) {
        assert!(n == "out.pem" || n.starts_with(".credkit-"), "{n}");
        if n.starts_with(".credkit-") {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(&n))
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "temporary key file is private: {mode:o}");
        }
    }
}
