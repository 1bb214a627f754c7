//! Test harness: run the credkit binary with a pinned clock and a clean
//! environment, and run the peer tools (openssl, keytool) on the same files.

#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The moment all tests judge validity against.
pub const NOW: &str = "2026-11-23T12:00:00Z";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The password a fixture was made with (see fixtures/README.md).
pub fn password_for(rel: &str) -> &'static str {
    if rel.contains("nonascii") {
        "pässwörd"
    } else {
        "changeit"
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
    pub fn error_json(&self) -> Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not a JSON error ({e}):\n{}", self.stderr))
    }
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    /// The exit code is `code`; else fail showing both streams and
    /// `context` (a peer server's log, say; "" for none).
    pub fn assert_code(&self, code: i32, context: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}\n{context}",
            self.stdout, self.stderr
        );
        self
    }
    /// Every one of `needles` is in stderr.
    pub fn assert_stderr_has(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "stderr lacks {n:?}:\n{}",
                self.stderr
            );
        }
        self
    }
    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "credkit panicked:\n{}",
            self.stderr
        );
        assert!(
            self.code == 0 || self.code == 1 || self.code == 2,
            "unexpected exit code {}:\n{}",
            self.code,
            self.stderr
        );
    }
}

/// Which clock a credkit run judges dates by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// `--now NOW`, before the command.
    Pinned,
    /// The system clock (real servers judge `exp` and `iat` by it).
    Real,
}

/// The one way the tests start credkit: no inherited password, no
/// backtrace, standard input closed, and the clock as asked. Add
/// [`isolated`] for runs that touch the cache, config or network.
pub fn credkit_with(clock: Clock) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.env_remove("CREDKIT_PASSWORD")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    if clock == Clock::Pinned {
        c.arg("--now").arg(NOW);
    }
    c
}

/// A credkit invocation with a pinned clock and no inherited password.
pub fn credkit() -> Command {
    credkit_with(Clock::Pinned)
}

/// A private token cache and config directory under `home`, and no proxy
/// from the environment (tests talk to 127.0.0.1 only).
pub fn isolated<'a>(c: &'a mut Command, home: &Path) -> &'a mut Command {
    c.env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("NO_PROXY", "*")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
}

pub fn run(mut c: Command) -> Run {
    let out: Output = c.output().expect("run credkit");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `credkit inspect --json FILE` with the fixture's password in CREDKIT_PASSWORD.
pub fn inspect_json(rel: &str) -> Value {
    let mut c = credkit();
    c.arg("inspect")
        .arg("--json")
        .arg(fixture(rel))
        .env("CREDKIT_PASSWORD", password_for(rel));
    let r = run(c);
    r.assert_ok();
    r.json()
}

/// Run a peer tool; the test command installs them, so a missing tool fails.
pub fn peer(program: &str, args: &[&str]) -> String {
    let out = peer_output(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn path_str(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

/// Uppercase colon hex of SHA-256 over a file's certificate, via openssl.
pub fn openssl_fingerprint(pem_cert: &str, alg: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("c.pem");
    std::fs::write(&p, pem_cert).expect("write");
    let out = peer(
        "openssl",
        &[
            "x509",
            "-noout",
            "-fingerprint",
            &format!("-{alg}"),
            "-in",
            &path_str(&p),
        ],
    );
    out.trim()
        .split_once('=')
        .map(|(_, v)| v.to_string())
        .expect("fingerprint line")
}

/// Split PEM text into its certificate blocks.
pub fn pem_certs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("-----BEGIN CERTIFICATE-----") {
            inside = true;
            cur.clear();
        }
        if inside {
            cur.push_str(line);
            cur.push('\n');
        }
        if line.starts_with("-----END CERTIFICATE-----") {
            inside = false;
            out.push(cur.clone());
        }
    }
    out
}

/// All certificate SHA-256 fingerprints credkit reported, in order.
pub fn reported_fingerprints(report: &Value) -> Vec<String> {
    let mut v = Vec::new();
    for e in report["entries"].as_array().expect("entries") {
        for c in e["certificates"].as_array().expect("certificates") {
            v.push(
                c["fingerprints"]["sha256"]
                    .as_str()
                    .expect("sha256")
                    .to_string(),
            );
        }
    }
    v
}

/// Run with `input` on standard input.
pub fn with_stdin(mut c: Command, input: &str) -> Run {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A temporary directory, removed when dropped.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// The names in a directory, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `credkit keygen ARGS` in `dir`, on `clock`, with `password` in
/// CREDKIT_PASSWORD. Never a panic, whatever the exit code.
pub fn keygen_at(clock: Clock, dir: &Path, password: &str, args: &[&str]) -> Run {
    let mut c = credkit_with(clock);
    c.current_dir(dir)
        .env("CREDKIT_PASSWORD", password)
        .arg("keygen")
        .args(args);
    let r = run(c);
    r.assert_no_panic();
    r
}

/// A peer tool's exit status and its stdout and stderr together, for tests
/// that expect it to refuse something (a missing tool still fails).
pub fn peer_status(program: &str, args: &[&str]) -> (bool, String) {
    let out = peer_output(program, args);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `sh -c SCRIPT`, which must succeed.
pub fn sh(script: &str) {
    let (ok, out) = peer_status("sh", &["-c", script]);
    assert!(ok, "{script}: {out}");
}

/// A peer tool's output, in the C.UTF-8 locale and UTC; the test command
/// installs the tools, so a missing one fails.
fn peer_output(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("LANG", "C.UTF-8")
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}); run `bash scripts/test.sh`, which installs it")
        })
}

/// A fresh RSA-2048 private key (PKCS#8 PEM) made by openssl.
pub fn openssl_rsa_key(out: &Path) {
    peer(
        "openssl",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &path_str(out),
        ],
    );
}

/// One side of `keytool -importkeystore`: the file, its store type and its
/// store password.
pub struct Store<'a> {
    pub path: &'a Path,
    pub kind: &'a str,
    pub password: &'a str,
}

impl<'a> Store<'a> {
    pub fn new(path: &'a Path, kind: &'a str, password: &'a str) -> Self {
        Store {
            path,
            kind,
            password,
        }
    }
}

/// `keytool -importkeystore -noprompt` from one store into another; `extra`
/// adds flags (`-srcalias`, key passwords, `-destalias`).
pub fn keytool_import(src: Store<'_>, dest: Store<'_>, extra: &[&str]) -> String {
    let (from, to) = (path_str(src.path), path_str(dest.path));
    let mut args = vec![
        "-importkeystore",
        "-noprompt",
        "-srckeystore",
        &from,
        "-srcstoretype",
        src.kind,
        "-srcstorepass",
        src.password,
        "-destkeystore",
        &to,
        "-deststoretype",
        dest.kind,
        "-deststorepass",
        dest.password,
    ];
    args.extend_from_slice(extra);
    peer("keytool", &args)
}

/// `keytool -list` of a store (its type detected by keytool).
pub fn keytool_list(store: &Path, password: &str) -> String {
    peer(
        "keytool",
        &[
            "-list",
            "-keystore",
            &path_str(store),
            "-storepass",
            password,
        ],
    )
}
