//! Issue 16 and the cache part of issue 17: `jwt mint --jobs`, parallel
//! `keygen --fixture-set`, and the token cache: found without decrypting the
//! keystore, never for a changed keystore, and refusing what is not the
//! user's own (real processes, a real token server on 127.0.0.1).

use crate::support::*;
use crate::token::Peer;
use base64::Engine;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn claims(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).expect("jwt payload");
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(p)
        .expect("base64url");
    serde_json::from_slice(&b).expect("json")
}

fn mint(key: &str, extra: &[&str]) -> Run {
    let mut c = credkit();
    c.args(["jwt", "mint", "--key"])
        .arg(fixture(key))
        .args(["--iss", "client", "--aud", "https://as.example/token"])
        .args(extra);
    let r = run(c);
    r.assert_no_panic();
    r
}

/// Parallel tokens: all there, each with its own jti, the same claims
/// otherwise, and each verifies.
#[test]
fn mint_jobs_tokens_are_complete_unique_and_valid() {
    for jobs in ["1", "2", "5"] {
        let r = mint("pem/ec-pkcs8.key", &["--count", "1500", "--jobs", jobs]);
        assert_eq!(r.code, 0, "--jobs {jobs}: {}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 1500, "--jobs {jobs}");
        let mut jtis = BTreeSet::new();
        let first = claims(lines[0]);
        for l in &lines {
            let mut c = claims(l);
            jtis.insert(c["jti"].as_str().expect("jti").to_string());
            c["jti"] = first["jti"].clone();
            assert_eq!(c, first, "only the jti differs");
            assert!(c["iat"].is_i64() && c["exp"].is_i64());
        }
        assert_eq!(jtis.len(), 1500, "--jobs {jobs}: jti repeated");
        // Tokens from the start, the middle and the end verify.
        for l in [lines[0], lines[777], lines[1499]] {
            let mut c = credkit();
            c.args(["jwt", "verify", "--json", l, "--key"])
                .arg(fixture("jwk/ec-p256-public.jwk"))
                .args(["--aud", "https://as.example/token"]);
            assert_eq!(run(c).json()["valid"], true);
        }
    }
    // --json: the same with the default number of jobs.
    let r = mint("business/auth.key.pem", &["--count", "300", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tokens = r.json()["tokens"].as_array().expect("tokens").clone();
    let jtis: BTreeSet<String> = tokens
        .iter()
        .map(|t| claims(t.as_str().expect("token"))["jti"].to_string())
        .collect();
    assert_eq!(jtis.len(), 300);
    // --jobs 0 is refused by the parser.
    let r = mint("pem/ec-pkcs8.key", &["--jobs", "0"]);
    assert_eq!(r.code, 2);
}

/// A reader that goes away early stops the minting (no hang, no error).
#[test]
fn mint_jobs_stops_when_the_reader_goes_away() {
    let mut c = credkit();
    c.args(["jwt", "mint", "--key"])
        .arg(fixture("pem/ec-pkcs8.key"))
        .args([
            "--iss", "a", "--aud", "b", "--count", "10000000", "--jobs", "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 4096];
    std::io::Read::read_exact(&mut out, &mut buf).expect("some tokens");
    drop(out);
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.code().is_some(), "killed by a signal: {status:?}");
            break;
        }
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("credkit kept minting after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A seeded fixture set is byte for byte the same on one thread and on several.
#[test]
fn fixture_set_is_the_same_whatever_jobs() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    for (name, jobs) in [("one", "1"), ("three", "3")] {
        let mut c = credkit();
        c.current_dir(d)
            .env("CREDKIT_PASSWORD", "changeit")
            .args(["keygen", "--algorithm", "p256", "-q", "--seed", "same"])
            .args(["--fixture-set", name, "--jobs", jobs]);
        let r = run(c);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let mut names: Vec<_> = std::fs::read_dir(d.join("one"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert!(names.len() > 40, "{names:?}");
    for n in &names {
        let a = std::fs::read(d.join("one").join(n)).expect("a");
        let b = std::fs::read(d.join("three").join(n)).expect("b");
        assert!(a == b, "{n:?} differs between --jobs 1 and --jobs 3");
    }
    // The set is still what openssl accepts: the chain verifies.
    let out = Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(d.join("one/ca-root.cert.pem"))
        .arg("-untrusted")
        .arg(d.join("one/ca-intermediate.cert.pem"))
        .arg(d.join("one/org1-auth.pem"))
        .output()
        .expect("openssl");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("OK"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `credkit token` with a private cache directory and the real clock.
struct Cache {
    home: tempfile::TempDir,
    keystore: PathBuf,
}

impl Cache {
    fn new() -> Cache {
        let home = tempfile::tempdir().expect("tmp");
        let keystore = home.path().join("auth.p12");
        std::fs::copy(fixture("p12/openssl3-aes-auth.p12"), &keystore).expect("copy");
        Cache { home, keystore }
    }
    fn tokens_dir(&self) -> PathBuf {
        self.home.path().join("cache/credkit/tokens")
    }
    fn cmd(&self, peer: &Peer, password: &str) -> Command {
        let mut c = credkit_with(Clock::Real);
        isolated(&mut c, self.home.path())
            .env("CREDKIT_PASSWORD", password)
            .arg("token")
            .arg("--key")
            .arg(&self.keystore)
            .args(["--alias", "auth", "--env", "test", "--token-endpoint"])
            .arg(peer.token_endpoint())
            .args([
                "--client-id",
                "0b7c5c8e-1111-2222-3333-444455556666",
                "--scope",
                "cache:perf",
            ]);
        c
    }
    fn token(&self, peer: &Peer) -> Run {
        self.token_pw(peer, "changeit")
    }
    fn token_pw(&self, peer: &Peer, password: &str) -> Run {
        let r = run(self.cmd(peer, password));
        r.assert_no_panic();
        r
    }
    /// The one cache entry.
    fn entry(&self) -> PathBuf {
        let files: Vec<PathBuf> = std::fs::read_dir(self.tokens_dir())
            .expect("cache dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files[0].clone()
    }
}

fn fresh(r: &Run) -> String {
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("from the cache"), "{}", r.stderr);
    r.stdout.trim().to_string()
}

fn cached(r: &Run) -> String {
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("from the cache"), "{}", r.stderr);
    r.stdout.trim().to_string()
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p)
        .expect("meta")
        .permissions()
        .mode()
        & 0o7777
}

/// The cache is found without decrypting the keystore (a wrong password
/// still gets the cached token), and a changed keystore file never gets the
/// token cached for the old one.
#[test]
fn cache_needs_no_decryption_and_refuses_a_changed_keystore() {
    let peer = Peer::maskinporten();
    let c = Cache::new();
    let t = fresh(&c.token(&peer));
    assert_eq!(cached(&c.token(&peer)), t);
    // No key derivation on the cached path: the password is not even used.
    assert_eq!(cached(&c.token_pw(&peer, "not-the-password")), t);
    // The same key in a re-encrypted keystore: other bytes, another entry.
    let mut conv = credkit();
    conv.env("CREDKIT_PASSWORD", "changeit")
        .arg("convert")
        .arg(&c.keystore)
        .arg("-o")
        .arg(c.home.path().join("again.p12"));
    let r = run(conv);
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::rename(c.home.path().join("again.p12"), &c.keystore).expect("mv");
    let t2 = fresh(&c.token(&peer));
    assert_ne!(t2, t);
    assert_eq!(cached(&c.token(&peer)), t2);
    // One changed byte (a corrupt keystore) is not answered from the cache either.
    let mut bytes = std::fs::read(&c.keystore).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&c.keystore, &bytes).expect("write");
    let r = c.token(&peer);
    assert!(!r.stderr.contains("from the cache"), "{}", r.stderr);
    assert_ne!(r.stdout.trim(), t2);
}

/// Issue 17 item 7: an entry planted by another user, in a directory others
/// may write to, is refused with a warning; a fresh token is fetched, and the
/// directory's mode is corrected.
#[test]
fn cache_refuses_an_entry_owned_by_someone_else() {
    use std::os::unix::fs::PermissionsExt;
    let peer = Peer::maskinporten();
    let c = Cache::new();
    let t = fresh(&c.token(&peer));
    let entry = c.entry();
    let text = std::fs::read_to_string(&entry).expect("read");
    std::fs::set_permissions(c.tokens_dir(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let planted = text.replace(&t, "PLANTED-TOKEN");
    assert!(planted.contains("PLANTED-TOKEN"));
    std::fs::remove_file(&entry).expect("rm");
    std::fs::write(&entry, planted).expect("plant");
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::os::unix::fs::chown(&entry, Some(65534), Some(65534)).expect("chown (tests run as root)");
    let r = c.token(&peer);
    let t2 = fresh(&r);
    assert!(!r.stdout.contains("PLANTED"), "{}", r.stdout);
    assert_ne!(t2, t);
    assert!(
        r.stderr.contains("warning: not using the token cache")
            && r.stderr.contains("belongs to user 65534"),
        "{}",
        r.stderr
    );
    assert_eq!(mode(&c.tokens_dir()), 0o700);
    // The fresh token replaced the planted entry, as the user's own.
    assert_eq!(cached(&c.token(&peer)), t2);
    assert_eq!(mode(&c.entry()), 0o600);

    // Mode bits for others on the user's own entry: refused too.
    std::fs::set_permissions(c.entry(), std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let r = c.token(&peer);
    fresh(&r);
    assert!(
        r.stderr.contains("can be read or written by others"),
        "{}",
        r.stderr
    );

    // A directory owned by someone else: not used, not written.
    std::os::unix::fs::chown(c.tokens_dir(), Some(65534), Some(65534)).expect("chown");
    let r = c.token(&peer);
    fresh(&r);
    assert!(r.stderr.contains("belongs to user 65534"), "{}", r.stderr);
    assert!(r.stderr.contains("cannot write the cache"), "{}", r.stderr);
}

/// A symlinked tokens directory is not followed.
#[test]
fn cache_refuses_a_symlinked_directory() {
    let peer = Peer::maskinporten();
    let c = Cache::new();
    let t = fresh(&c.token(&peer));
    let elsewhere = c.home.path().join("elsewhere");
    std::fs::rename(c.tokens_dir(), &elsewhere).expect("mv");
    std::os::unix::fs::symlink(&elsewhere, c.tokens_dir()).expect("ln");
    let r = c.token(&peer);
    assert_ne!(fresh(&r), t);
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);
}

/// An entry that is a symlink to /dev/zero, or a FIFO: refused at once, no
/// endless read, no hang.
#[test]
fn cache_refuses_dev_zero_and_fifo_entries() {
    let peer = Peer::maskinporten();
    let c = Cache::new();
    fresh(&c.token(&peer));
    let entry = c.entry();
    std::fs::remove_file(&entry).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", &entry).expect("ln");
    let r = c.token(&peer);
    fresh(&r);
    assert!(r.stderr.contains("is a symbolic link"), "{}", r.stderr);

    std::fs::remove_file(&entry).expect("rm");
    let mk = Command::new("mkfifo").arg(&entry).status().expect("mkfifo");
    assert!(mk.success());
    let mut child = c
        .cmd(&peer, "changeit")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let t0 = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("credkit hangs on a FIFO in the cache");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("is not a regular file"), "{stderr}");
}
