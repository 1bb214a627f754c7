//! CLI behaviour: help, man pages, completions, broken pipes, stdin input.

use crate::support::*;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

#[test]
fn man_pages_are_current() {
    let pages = credkit::commands::meta::render_man_pages().expect("render");
    let overwrite = std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite");
    for (name, bytes) in pages {
        let path = root().join("man").join(&name);
        if overwrite {
            std::fs::create_dir_all(root().join("man")).expect("mkdir");
            std::fs::write(&path, &bytes).expect("write");
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "man/{name} is stale: run `cargo run -- man` (or SNAPSHOTS=overwrite cargo test)"
        );
    }
}

#[test]
fn completions_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let mut c = credkit();
        c.args(["completions", shell]);
        let r = run(c);
        r.assert_ok();
        assert!(r.stdout.contains("inspect"), "{shell}");
        assert!(r.stdout.contains("password-file"), "{shell}");
    }
}

#[test]
fn closed_stdout_is_not_an_error() {
    let mut c = credkit();
    c.arg("inspect")
        .arg(fixture("pem/chain.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    {
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        BufReader::new(stdout).read_line(&mut first).expect("line");
        assert!(first.contains("PEM"));
        // dropping the reader closes the pipe, like `| head -1`
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn input_from_stdin() {
    let mut c = credkit();
    c.args(["inspect", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let data = std::fs::read(fixture("jwk/jwks.json")).expect("read");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&data)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["format"], "jwks");
    assert_eq!(v["entries"].as_array().expect("e").len(), 3);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let mut c = credkit();
    c.args(["inspect"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    let mut c = credkit();
    c.args(["inspect", "--help"]);
    let r = run(c);
    r.assert_ok();
    assert!(r.stdout.contains("--password-file"));
    assert!(r.stdout.contains("Exit status"));
    let mut c = credkit();
    c.args(["--now", "yesterday", "inspect"])
        .arg(fixture("pem/chain.pem"));
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--now"), "{}", r.stderr);
}

#[test]
fn json_shape_is_stable() {
    let v = inspect_json("p12/openssl3-aes-auth.p12");
    assert_eq!(v["schema"], "credkit.inspect/1");
    for key in [
        "file",
        "format",
        "now",
        "integrity_verified",
        "pkcs12",
        "version",
        "notes",
        "entries",
    ] {
        assert!(v.get(key).is_some(), "missing top-level {key}");
    }
    let e = &v["entries"][0];
    for key in [
        "alias",
        "kind",
        "created",
        "kid",
        "key",
        "key_matches_certificate",
        "secret_algorithm",
        "chain",
        "certificates",
    ] {
        assert!(e.get(key).is_some(), "missing entry {key}");
    }
    let c = &e["certificates"][0];
    for key in [
        "subject",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "validity",
        "key_usage",
        "extended_key_usage",
        "policies",
        "org_number",
        "fingerprints",
        "x5t",
        "x5t#S256",
        "jwk_thumbprint",
        "public_key",
    ] {
        assert!(c.get(key).is_some(), "missing certificate {key}");
    }
    assert_eq!(v["now"], NOW);
}

#[test]
fn terminal_control_characters_are_escaped() {
    // A JWK whose kid carries an ANSI escape must not reach the terminal raw.
    let dir = tempfile::tempdir().expect("tmp");
    let mut jwk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("jwk/rsa-public.jwk")).expect("r"))
            .expect("json");
    jwk["kid"] = serde_json::Value::String("evil\u{1b}[2Jkid".into());
    let p = dir.path().join("evil.jwk");
    std::fs::write(&p, jwk.to_string()).expect("write");
    let mut c = credkit();
    c.arg("inspect").arg(&p);
    let r = run(c);
    r.assert_ok();
    assert!(!r.stdout.contains('\u{1b}'), "raw ESC in output");
    assert!(r.stdout.contains("evil\\u{1b}[2Jkid"));
}

/// The README's first command (credkit's main job on the bundled fixtures)
/// must keep working.
#[test]
fn readme_demo_command_works() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let line = readme
        .lines()
        .find(|l| l.starts_with("CREDKIT_PASSWORD=changeit cargo run --release -- "))
        .expect("the demo command in README.md");
    let args: Vec<&str> = line
        .trim_start_matches("CREDKIT_PASSWORD=changeit cargo run --release -- ")
        .split_whitespace()
        .collect();
    let mut c = credkit();
    c.current_dir(root())
        .args(&args)
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_eq!(r.code, 0, "{line}\n{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("Fit to sign Maskinporten grants"),
        "{}",
        r.stdout
    );
}
