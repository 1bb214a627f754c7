//! Hostile input: every command over every file in `fixtures/hostile/`
//! (`serve` as its CA file, its clients file and the broker's config file)
//! (written by `fixtures/tools/make_hostile.py`, classes in fixtures/README.md).
//!
//! Each run must end with exit code 2, one `error:` line and a `hint:` on
//! stderr, no panic, no file left in the output directory, a peak resident
//! set under 64 MiB (measured by GNU time, `/usr/bin/time -f %M`) and within
//! 10 seconds, even in a debug build. The few files that are still valid
//! after the damage are listed in [`still_valid`], each with the reason.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MAX_RSS_KIB: u64 = 64 * 1024;
const MAX_TIME: Duration = Duration::from_secs(10);
const GNU_TIME: &str = "/usr/bin/time";

/// Files that survive their damage as valid input, and why. For these,
/// `inspect`, `check` and `convert` may also exit 0 or 1 (`convert` then
/// writes its output, removed before the next run); `jwt decode` still fails
/// (none is a JWT).
fn still_valid(name: &str) -> Option<&'static str> {
    Some(match name {
        // x509 parsing does not verify signatures: a flipped byte inside the
        // signature, a name or the key bits leaves a well-formed certificate.
        "flip-cert-00200.der"
        | "flip-cert-00488.der"
        | "flip-cert-00743.der"
        | "flip-cert-00848.der"
        | "flip-cert-00913.der" => "flip inside a certificate value",
        // RSA private keys are not cross-checked (n = p*q, d*e = 1): a flip
        // inside d, p, q or the CRT values is read as a (broken) key. Known
        // gap, reported on issue 8; aws-lc only validates 2048..8192 bits.
        "flip-rsakey-00097.der"
        | "flip-rsakey-00539.der"
        | "flip-rsakey-01049.der"
        | "flip-rsakey-01061.der"
        | "flip-rsakey-01100.der" => "flip inside an RSA private value",
        "type-jwk-rsa-private-inconsistent.jwk" => "RSA private JWK with a wrong d (same gap)",
        // Public RSA parameters are shown as they are; `check` judges them.
        "huge-jwk-rsa-exponent.jwk" | "huge-jwk-rsa-modulus-64k-bits.jwk" => {
            "odd but well-formed RSA public key"
        }
        // A PUBLIC KEY block with an unknown algorithm OID is listed as such.
        "type-public-garbage.pem" => "public key of an unknown algorithm",
        // Unknown PEM labels are skipped with a note each; the file is a
        // (useless) valid PEM file with no entries.
        "many-pem-unknown-blocks-3000.pem" => "only unknown PEM blocks",
        // A valid (MAC-less) PKCS#12 with 300 keys and a chain of 300
        // certificates: the hostile part was the cost (before chains were
        // capped at 16 certificates, and at 1000 per file, it took 9 s and
        // 340 MiB), which the memory and time limits here check.
        "many-p12-keys-long-chain.p12" => "valid PKCS#12 of 300 keys and a 300-certificate chain",
        _ => return None,
    })
}

fn corpus() -> Vec<PathBuf> {
    let dir = fixture("hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/hostile exists (python3 fixtures/tools/make_hostile.py)")
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    assert!(files.len() > 150, "the hostile corpus is missing files");
    files
}

struct Measured {
    run: Run,
    rss_kib: u64,
    elapsed: Duration,
}

/// Run credkit under GNU time with a wall-clock limit.
fn measured(args: &[&std::ffi::OsStr], scratch: &Path) -> Measured {
    let time_out = scratch.join("time.txt");
    let mut c = Command::new(GNU_TIME);
    c.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&time_out)
        .arg(env!("CARGO_BIN_EXE_credkit"))
        .arg("--now")
        .arg(NOW)
        .args(args)
        .env("CREDKIT_PASSWORD", "changeit")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so a run that overstays can be stopped whole.
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    let start = Instant::now();
    let mut child = c.spawn().unwrap_or_else(|e| {
        panic!("cannot run {GNU_TIME} ({e}); run `bash scripts/test.sh`, which installs it")
    });
    // Read both pipes on threads so a chatty run cannot block on a full pipe.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut s).ok();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > MAX_TIME * 3 {
            // GNU time runs credkit as its child: stop the whole group.
            Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status()
                .ok();
            child.kill().ok();
            child.wait().ok();
            panic!("credkit {args:?} still ran after {:?}", start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&t_out.join().expect("stdout thread")).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().expect("stderr thread")).into_owned();
    let time_text = std::fs::read_to_string(&time_out).unwrap_or_default();
    std::fs::remove_file(&time_out).ok();
    // GNU time prints "Command exited with non-zero status N" before the
    // number when the command fails; the last line is %M.
    let rss_kib = time_text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no %M from GNU time: {time_text:?}"));
    Measured {
        run: Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        },
        rss_kib,
        elapsed,
    }
}

#[derive(Clone, Copy, Debug)]
enum Cmd {
    Inspect,
    Check,
    Convert,
    JwtDecode,
    /// `serve mock-maskinporten --ca FILE` (the clients file is missing, so
    /// even a usable CA file ends in exit 2 before anything listens).
    MockCa,
    /// `serve mock-maskinporten --clients FILE` with a good CA file.
    MockClients,
    /// `serve broker --config FILE`.
    BrokerConfig,
}

fn check_one(cmd: Cmd, file: &Path, scratch: &Path, out_dir: &Path) -> Result<(), String> {
    let name = file.file_name().and_then(|n| n.to_str()).expect("name");
    let out = out_dir.join("out.pem");
    let at_file = format!("@{}", file.display());
    let missing = out_dir.join("no-such-clients.toml");
    let ca = fixture("ca/chain.pem");
    let args: Vec<&std::ffi::OsStr> = match cmd {
        Cmd::Inspect => vec!["inspect".as_ref(), file.as_os_str()],
        Cmd::Check => vec!["check".as_ref(), file.as_os_str()],
        Cmd::Convert => vec![
            "convert".as_ref(),
            file.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
            "--no-encrypt".as_ref(),
        ],
        Cmd::JwtDecode => vec!["jwt".as_ref(), "decode".as_ref(), at_file.as_ref()],
        Cmd::MockCa => vec![
            "serve".as_ref(),
            "mock-maskinporten".as_ref(),
            "--port".as_ref(),
            "0".as_ref(),
            "--ca".as_ref(),
            file.as_os_str(),
            "--clients".as_ref(),
            missing.as_os_str(),
        ],
        Cmd::MockClients => vec![
            "serve".as_ref(),
            "mock-maskinporten".as_ref(),
            "--port".as_ref(),
            "0".as_ref(),
            "--ca".as_ref(),
            ca.as_os_str(),
            "--clients".as_ref(),
            file.as_os_str(),
        ],
        Cmd::BrokerConfig => vec![
            "serve".as_ref(),
            "broker".as_ref(),
            "--port".as_ref(),
            "0".as_ref(),
            "--config".as_ref(),
            file.as_os_str(),
        ],
    };
    let m = measured(&args, scratch);
    let r = &m.run;
    let what = format!("{cmd:?} {name}");
    let mut problems = Vec::new();
    if r.stderr.contains("panicked") || r.stderr.contains("RUST_BACKTRACE") {
        problems.push("panicked".to_string());
    }
    if m.rss_kib > MAX_RSS_KIB {
        problems.push(format!("peak memory {} KiB", m.rss_kib));
    }
    if m.elapsed > MAX_TIME {
        problems.push(format!("took {:?}", m.elapsed));
    }
    // A still-valid file may also fail cleanly (e.g. `convert` has nothing
    // to write from a file of unknown PEM blocks).
    let valid =
        matches!(cmd, Cmd::Inspect | Cmd::Check | Cmd::Convert) && still_valid(name).is_some();
    if !(valid && (r.code == 0 || r.code == 1)) {
        if r.code != 2 {
            problems.push(format!("exit {} (expected 2)", r.code));
        }
        let errors = r.stderr.lines().filter(|l| l.starts_with("error:")).count();
        if !r.stderr.starts_with("error: ") || errors != 1 {
            problems.push("stderr is not one `error:` line".into());
        }
        if !r.stderr.contains("\nhint: ") {
            problems.push("no `hint:` line".into());
        }
        if !r.stdout.is_empty() && !matches!(cmd, Cmd::Check) {
            problems.push("output on stdout".into());
        }
    }
    // Nothing may be left in the output directory (no partial or temporary
    // file), except the output of a successful conversion of a valid file.
    let mut left: Vec<String> = std::fs::read_dir(out_dir)
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    if valid && r.code == 0 && matches!(cmd, Cmd::Convert) {
        left.retain(|n| n != "out.pem");
    }
    if !left.is_empty() {
        problems.push(format!("left behind: {left:?}"));
    }
    for e in std::fs::read_dir(out_dir).expect("out dir") {
        std::fs::remove_file(e.expect("entry").path()).ok();
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {}\n  stderr: {}",
            problems.join("; "),
            r.stderr.lines().take(3).collect::<Vec<_>>().join(" / ")
        ))
    }
}

fn run_corpus(cmd: Cmd) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out_dir = scratch.path().join("out");
    std::fs::create_dir(&out_dir).expect("out dir");
    let mut failures = Vec::new();
    for f in corpus() {
        if let Err(e) = check_one(cmd, &f, scratch.path(), &out_dir) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} hostile file(s) misbehaved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn hostile_corpus_inspect() {
    run_corpus(Cmd::Inspect);
}

#[test]
fn hostile_corpus_check() {
    run_corpus(Cmd::Check);
}

#[test]
fn hostile_corpus_convert() {
    run_corpus(Cmd::Convert);
}

#[test]
fn hostile_corpus_jwt_decode() {
    run_corpus(Cmd::JwtDecode);
}

#[test]
fn hostile_corpus_serve_mock_ca() {
    run_corpus(Cmd::MockCa);
}

#[test]
fn hostile_corpus_serve_mock_clients() {
    run_corpus(Cmd::MockClients);
}

#[test]
fn hostile_corpus_serve_broker_config() {
    run_corpus(Cmd::BrokerConfig);
}

fn b64u(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Inputs too big to commit, made here: a JWT with a 1 MB claim, a file one
/// byte over the 16 MiB input cap, and 16 MiB of tiny PEM blocks.
#[test]
fn hostile_large_inputs() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let out_dir = scratch.path().join("out");
    std::fs::create_dir(&out_dir).expect("out dir");

    let claim = format!("{{\"sub\":\"{}\"}}", "a".repeat(1_000_000));
    let jwt = format!("{}.{}.", b64u(br#"{"alg":"none"}"#), b64u(claim.as_bytes()));
    let p = scratch.path().join("jwt-1mb-claim.jwt");
    std::fs::write(&p, &jwt).expect("write");
    check_one(Cmd::JwtDecode, &p, scratch.path(), &out_dir).unwrap_or_else(|e| panic!("{e}"));
    check_one(Cmd::Inspect, &p, scratch.path(), &out_dir).unwrap_or_else(|e| panic!("{e}"));

    // Just under the token cap (1 MiB): decoded, with a bounded footprint.
    let claim = format!("{{\"sub\":\"{}\"}}", "a".repeat(700_000));
    let jwt = format!("{}.{}.", b64u(br#"{"alg":"none"}"#), b64u(claim.as_bytes()));
    std::fs::write(&p, &jwt).expect("write");
    let at = format!("@{}", p.display());
    let m = measured(
        &["jwt".as_ref(), "decode".as_ref(), at.as_ref()],
        scratch.path(),
    );
    m.run.assert_no_panic();
    assert!(m.rss_kib < MAX_RSS_KIB, "{} KiB", m.rss_kib);
    assert!(m.elapsed < MAX_TIME, "{:?}", m.elapsed);

    let big = scratch.path().join("over-cap.bin");
    std::fs::write(&big, vec![0x30u8; 16 * 1024 * 1024 + 1]).expect("write");
    for cmd in [Cmd::Inspect, Cmd::Check, Cmd::Convert] {
        check_one(cmd, &big, scratch.path(), &out_dir).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::remove_file(&big).ok();

    let blocks = scratch.path().join("many-blocks.pem");
    let block = "-----BEGIN X-----\n-----END X-----\n";
    std::fs::write(&blocks, block.repeat(16 * 1024 * 1024 / block.len())).expect("write");
    for cmd in [Cmd::Inspect, Cmd::Convert] {
        check_one(cmd, &blocks, scratch.path(), &out_dir).unwrap_or_else(|e| panic!("{e}"));
    }
}
