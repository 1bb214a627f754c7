//! Secret hygiene and supply chain (issue 17, items 8, 12, 13, 15 and 16):
//! `--force` replaces only regular files, weak output is announced, the
//! fixture README is private, RSA keys are checked on read, .properties
//! files are read as Java reads them, and seeded output is pinned.
//!
//! Every key or file under test is made by a tool other than credkit
//! (openssl, Python `cryptography`, jwcrypto), and every written file that
//! matters is opened again by openssl.

use crate::support::*;
use serde_json::Value;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

const PW: &str = "changeit";

/// `credkit keygen ARGS` in `dir` with the password in CREDKIT_PASSWORD.
fn keygen(dir: &Path, args: &[&str]) -> Run {
    keygen_at(Clock::Pinned, dir, PW, args)
}

fn credkit_in(dir: &Path, args: &[&str]) -> Run {
    let mut c = credkit();
    c.current_dir(dir).env("CREDKIT_PASSWORD", PW).args(args);
    let r = run(c);
    r.assert_no_panic();
    r
}

// ---- item 8: --force replaces only regular files (or links to them) ----

#[test]
fn force_never_writes_into_a_device_fifo_socket_or_directory() {
    let dir = tmp();
    let d = dir.path();
    // A character device (the same one as /dev/null), a FIFO, a socket, a
    // directory, and links to a device, to this process's stdout and to a FIFO.
    sh(&format!(
        "cd '{}' && mknod chr.pem c 1 3 && mkfifo fifo.pem && mkdir dir.pem \
         && ln -s /dev/null null-link.pem && ln -s /proc/self/fd/1 stdout-link.pem \
         && ln -s fifo.pem fifo-link.pem",
        d.display()
    ));
    let _sock = std::os::unix::net::UnixListener::bind(d.join("sock.pem")).expect("bind");
    let before = |p: &Path| {
        let m = std::fs::symlink_metadata(p).expect("lstat");
        (m.file_type(), std::fs::read_link(p).ok())
    };
    for (name, kind) in [
        ("chr.pem", "a character device"),
        ("fifo.pem", "a named pipe (FIFO)"),
        ("sock.pem", "a socket"),
        ("dir.pem", "a directory"),
        ("null-link.pem", "a symbolic link to a character device"),
        ("stdout-link.pem", "a symbolic link to"),
        ("fifo-link.pem", "a symbolic link to a named pipe (FIFO)"),
    ] {
        let path = d.join(name);
        let was = before(&path);
        let r = keygen(
            d,
            &[
                "--algorithm",
                "p256",
                "--seed",
                "force",
                "--no-encrypt",
                "-o",
                name,
                "--force",
            ],
        );
        assert_eq!(r.code, 2, "{name}: {}\n{}", r.stderr, r.stdout);
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("error: cannot write {name}: it is {kind}")),
            "{name}: {}",
            r.stderr
        );
        assert!(first.contains("only a regular file is replaced"), "{first}");
        assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
        assert!(
            !r.stdout.contains("PRIVATE KEY") && !r.stderr.contains("PRIVATE KEY"),
            "{name}: the key went to the terminal"
        );
        assert_eq!(before(&path), was, "{name} was replaced");
        // The JSON error: a write error, exit 2.
        let r = keygen(
            d,
            &[
                "--algorithm",
                "p256",
                "--seed",
                "force",
                "--no-encrypt",
                "-o",
                name,
                "--force",
                "--json",
            ],
        );
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert_eq!(r.error_json()["error"]["code"], "io-write", "{}", r.stderr);
    }
    assert!(
        std::fs::symlink_metadata(d.join("chr.pem"))
            .expect("lstat")
            .file_type()
            .is_char_device()
    );
    assert!(
        !file_names(d).iter().any(|n| n.starts_with(".credkit-")),
        "{:?}",
        file_names(d)
    );

    // A regular file, and a link to one, are replaced (the link itself is
    // replaced by the new file; its target stays as it was).
    std::fs::write(d.join("plain.pem"), "old\n").expect("write");
    std::fs::write(d.join("target.txt"), "target\n").expect("write");
    std::os::unix::fs::symlink("target.txt", d.join("link.pem")).expect("symlink");
    for name in ["plain.pem", "link.pem"] {
        let r = keygen(
            d,
            &[
                "--algorithm",
                "p256",
                "--seed",
                "force",
                "--no-encrypt",
                "-o",
                name,
                "--force",
            ],
        );
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let text = std::fs::read_to_string(d.join(name)).expect("read");
        assert!(text.contains("-----BEGIN PRIVATE KEY-----"), "{name}");
        let mode = std::fs::metadata(d.join(name))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    assert_eq!(
        std::fs::read_to_string(d.join("target.txt")).expect("read"),
        "target\n"
    );
    // openssl reads what was written.
    let out = peer(
        "openssl",
        &["pkey", "-in", &path_str(&d.join("plain.pem")), "-noout"],
    );
    assert!(out.is_empty() || !out.contains("error"), "{out}");
}

// ---- item 12: weak output is announced ----

#[test]
fn weak_output_protection_is_warned_about() {
    let dir = tmp();
    let d = dir.path();
    let input = path_str(&fixture("p12/openssl3-aes-auth.p12"));
    std::fs::write(d.join("empty-pw"), "").expect("write");

    // --iterations 1: written (openssl opens it), with a warning and a JSON warning.
    let r = credkit_in(
        d,
        &["convert", &input, "-o", "weak.p12", "--iterations", "1"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.lines().any(|l| l.starts_with("warning: ")
            && l.contains("1 key-derivation iteration ")
            && l.contains("fewer than 2048")),
        "{}",
        r.stderr
    );
    // openssl opens it (and says 1 iteration, on standard error).
    let out = Command::new("openssl")
        .args([
            "pkcs12",
            "-info",
            "-noout",
            "-passin",
            &format!("pass:{PW}"),
            "-in",
        ])
        .arg(d.join("weak.p12"))
        .output()
        .expect("openssl");
    let info = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{info}");
    assert!(info.contains("AES-256-CBC, Iteration 1,"), "{info}");
    let r = credkit_in(
        d,
        &[
            "convert",
            &input,
            "-o",
            "weak2.p12",
            "--iterations",
            "100",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = r.json();
    let w = v["warnings"].as_array().expect("warnings");
    assert_eq!(w.len(), 1, "{v}");
    assert!(
        w[0].as_str()
            .is_some_and(|s| s.contains("100 key-derivation iterations"))
    );

    // An empty output password.
    // (Encrypted PEM already refuses an empty password.)
    for out in ["empty.p12", "empty.jks"] {
        let args = [
            "convert",
            &input,
            "-o",
            out,
            "--out-password-file",
            "empty-pw",
        ];
        let r = credkit_in(d, &args);
        assert_eq!(r.code, 0, "{out}: {}", r.stderr);
        assert!(
            r.stderr
                .lines()
                .any(|l| l.starts_with("warning: ") && l.contains("password is empty")),
            "{out}: {}",
            r.stderr
        );
    }
    // keygen says the same.
    let r = keygen(
        d,
        &[
            "--algorithm",
            "p256",
            "--self-signed",
            "-o",
            "kg.p12",
            "--iterations",
            "1",
            "--out-password-file",
            "empty-pw",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = r.json();
    let w: Vec<&str> = v["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w.iter().any(|s| s.contains("password is empty")), "{w:?}");
    assert!(
        w.iter().any(|s| s.contains("1 key-derivation iteration ")),
        "{w:?}"
    );

    // The defaults, clear PEM (asked for with --no-encrypt) and public
    // output give no warning.
    for args in [
        &["convert", &input, "-o", "ok.p12"][..],
        &["convert", &input, "-o", "ok.pem", "--no-encrypt"][..],
        &[
            "convert",
            &input,
            "-o",
            "ok.crt",
            "--to",
            "pem",
            "--cert-only",
            "--iterations",
            "1",
        ][..],
    ] {
        let r = credkit_in(d, args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("warning:"), "{args:?}: {}", r.stderr);
    }
}

// ---- item 13: the fixture set's README (it holds the password) is 0600 ----

#[test]
fn fixture_set_readme_is_private() {
    let dir = tmp();
    let d = dir.path();
    let r = keygen(d, &["--fixture-set", "set", "--seed", "readme", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let readme = d.join("set/README.md");
    assert!(
        std::fs::read_to_string(&readme).expect("read").contains(PW),
        "the README holds the password"
    );
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&readme), 0o600);
    // Replaced with --force over a world-readable one: private again.
    std::fs::set_permissions(&readme, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let r = keygen(
        d,
        &["--fixture-set", "set", "--seed", "readme", "-q", "--force"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(mode(&readme), 0o600);
}

// ---- item 15: RSA private keys are checked on read ----

/// Python: read the RSA key `src` (made by openssl), change one of its
/// numbers, and write it as a PKCS#1 PEM (`RSA PRIVATE KEY`) to `dst`. The
/// DER is encoded here by hand, because `cryptography` refuses to build an
/// inconsistent key.
const CORRUPT_RSA: &str = r#"
import base64, sys
from cryptography.hazmat.primitives import serialization
src, dst, field = sys.argv[1], sys.argv[2], sys.argv[3]
k = serialization.load_pem_private_key(open(src, 'rb').read(), password=None)
n = k.private_numbers()
v = {'n': n.public_numbers.n, 'e': n.public_numbers.e, 'd': n.d, 'p': n.p, 'q': n.q,
     'dp': n.dmp1, 'dq': n.dmq1, 'qi': n.iqmp}
if field == 'd':
    v['d'] ^= 1 << 100
elif field == 'p':
    v['p'] += 2
elif field == 'q':
    v['q'] -= 2
elif field == 'dp':
    v['dp'] ^= 1 << 7
elif field == 'qi':
    v['qi'] += 1
def length(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b
def integer(x):
    b = x.to_bytes(x.bit_length() // 8 + 1, 'big')
    return b'\x02' + length(len(b)) + b
body = integer(0) + b''.join(integer(v[f]) for f in ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'])
der = b'\x30' + length(len(body)) + body
b64 = base64.encodebytes(der).decode().replace('\n', '')
lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
open(dst, 'w').write('-----BEGIN RSA PRIVATE KEY-----\n' + '\n'.join(lines) + '\n-----END RSA PRIVATE KEY-----\n')
"#;

/// jwcrypto: make an RSA JWK with its private part and spoil `d`.
const CORRUPT_JWK: &str = r#"
import json, sys, base64
from jwcrypto import jwk
k = json.loads(jwk.JWK.generate(kty='RSA', size=2048).export_private())
d = bytearray(base64.urlsafe_b64decode(k['d'] + '=='))
d[20] ^= 0x01
k['d'] = base64.urlsafe_b64encode(bytes(d)).decode().rstrip('=')
open(sys.argv[1], 'w').write(json.dumps(k))
"#;

fn inspect_code(path: &Path) -> (i32, Value, String) {
    let mut c = credkit();
    c.args(["inspect", "--json", &path_str(path)]);
    let r = run(c);
    r.assert_no_panic();
    let v = if r.code == 0 {
        r.json()
    } else {
        r.error_json()
    };
    (r.code, v, r.stderr)
}

#[test]
fn inconsistent_rsa_private_keys_are_refused() {
    let dir = tmp();
    let d = dir.path();
    let good = d.join("good.pem");
    openssl_rsa_key(&good);
    let script = d.join("corrupt.py");
    std::fs::write(&script, CORRUPT_RSA).expect("write");
    // The same key re-encoded unchanged is read (the encoder is right).
    let same = d.join("same.pem");
    peer(
        "python3",
        &[
            &path_str(&script),
            &path_str(&good),
            &path_str(&same),
            "none",
        ],
    );
    let (code, _, stderr) = inspect_code(&same);
    assert_eq!(code, 0, "{stderr}");
    for field in ["d", "p", "q", "dp", "qi"] {
        let bad = d.join(format!("bad-{field}.pem"));
        peer(
            "python3",
            &[&path_str(&script), &path_str(&good), &path_str(&bad), field],
        );
        // openssl agrees that the key is broken.
        let (ok, text) = {
            let out = Command::new("openssl")
                .args(["pkey", "-check", "-noout", "-in", &path_str(&bad)])
                .output()
                .expect("openssl");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        assert!(
            !ok,
            "openssl accepts the key with a damaged {field}: {text}"
        );
        let (code, v, stderr) = inspect_code(&bad);
        assert_eq!(code, 2, "{field}: {stderr}");
        assert_eq!(v["error"]["code"], "key-invalid", "{field}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("RSA private key")),
            "{v}"
        );
        // convert refuses it too, and writes nothing.
        let out = d.join(format!("out-{field}.p12"));
        let mut c = credkit();
        c.env("CREDKIT_PASSWORD", PW)
            .args(["convert", &path_str(&bad), "-o", &path_str(&out)]);
        let r = run(c);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(!out.exists());
    }

    // A JWK (jwcrypto) with a wrong d.
    let jscript = d.join("jwk.py");
    std::fs::write(&jscript, CORRUPT_JWK).expect("write");
    let jwk = d.join("bad.jwk");
    peer("python3", &[&path_str(&jscript), &path_str(&jwk)]);
    let (code, v, stderr) = inspect_code(&jwk);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(v["error"]["code"], "key-invalid", "{v}");
}

// ---- item 15: .properties files are read as Java reads them ----

#[test]
fn properties_are_read_as_latin1_with_unicode_escapes() {
    let peer_server = crate::token::Peer::maskinporten();
    let dir = tmp();
    let d = dir.path();
    // The registered key in a PKCS#12 whose password is "pässwörd" (openssl).
    let pem = d.join("auth.pem");
    peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(&fixture("p12/openssl3-aes-auth.p12")),
            "-passin",
            &format!("pass:{PW}"),
            "-nodes",
            "-out",
            &path_str(&pem),
        ],
    );
    let p12 = d.join("umlaut.p12");
    peer(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-in",
            &path_str(&pem),
            "-name",
            "auth",
            "-passout",
            "pass:pässwörd",
            "-out",
            &path_str(&p12),
        ],
    );
    // Java's Properties.load(InputStream) reads ISO-8859-1: ä is one byte,
    // 0xE4. The key password is the same, written as \u escapes.
    let mut text = format!(
        "# jwt-grant-generator\nissuer=0b7c5c8e-1111-2222-3333-444455556666\n\
         audience=https://test.maskinporten.no/\nscope=props:scope\ntoken.endpoint={}\n\
         keystore.type=PKCS12\nkeystore.file={}\nkeystore.alias=auth\n",
        peer_server.token_endpoint(),
        path_str(&p12)
    )
    .into_bytes();
    text.extend_from_slice(b"keystore.password=p\xe4ssw\xf6rd\n");
    text.extend_from_slice(b"keystore.alias.password=p\\u00e4ssw\\u00F6rd\n");
    let props = d.join("client.properties");
    std::fs::write(&props, &text).expect("write");
    let mut c = credkit_with(Clock::Real);
    isolated(&mut c, d).args(["token", "--properties", &path_str(&props), "--no-cache"]);
    let r = run(c);
    r.assert_no_panic();
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, r.stdout);
    assert!(r.stdout.trim().starts_with("mp."), "{}", r.stdout);
}

// ---- item 16: seeded output is pinned, one base64 ----

fn read_toml(rel: &str) -> toml::Table {
    std::fs::read_to_string(root().join(rel))
        .expect("read")
        .parse()
        .expect("toml")
}

/// The crates that decide the bytes of `keygen --seed` are pinned with `=`.
#[test]
fn crates_behind_seeded_output_are_pinned() {
    let manifest = read_toml("Cargo.toml");
    let deps = manifest["dependencies"].as_table().expect("deps");
    for name in [
        "rsa",
        "crypto-primes",
        "crypto-bigint",
        "p256",
        "p384",
        "ecdsa",
        "elliptic-curve",
        "rfc6979",
        "chacha20",
        "rand_core",
    ] {
        let spec = deps
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not a direct dependency"));
        let version = spec
            .as_str()
            .or_else(|| spec.get("version").and_then(|v| v.as_str()))
            .unwrap_or_default();
        assert!(
            version.starts_with('='),
            "{name} = {version:?} is not pinned"
        );
    }
}

#[test]
fn one_base64_major_version() {
    let lock = read_toml("Cargo.lock");
    let versions: Vec<&str> = lock["package"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["name"].as_str() == Some("base64"))
        .filter_map(|p| p["version"].as_str())
        .collect();
    assert_eq!(versions.len(), 1, "base64 versions: {versions:?}");
}

/// SHA-256 of `keygen --seed pinned --now NOW` output, per algorithm. A
/// change here means seeded fixtures are no longer byte-identical: that is
/// a breaking change for anyone who committed them (see README, --seed).
const SEEDED: &[(&str, &str, &str)] = &[
    (
        "rsa2048",
        "k.pem",
        "074d306227d9441f457436d6f49e3ad710b0c77dced7e69773f4f2d708e22d1b",
    ),
    (
        "rsa3072",
        "k.pem",
        "801104fad9032dd5b42056b47df6eca3819f28e30bdbb92f13cbc69d9dc8e4e1",
    ),
    (
        "rsa4096",
        "k.pem",
        "fa0a4b2b3d0e23ad4e36ac42120084f27cff9b970bff1e741e2a60cf02cf462d",
    ),
    (
        "p256",
        "k.pem",
        "c9278efb8ddf225d75defd0c295aa16f55257a7ea825fad53502cd6c57d0f36e",
    ),
    (
        "p384",
        "k.pem",
        "4ad6e95c4b83ed99500d476d888a3f3a0ddcb4dcb896d6ad5f7493a8a72bb03c",
    ),
    (
        "ed25519",
        "k.pem",
        "3297c859d4929827674391d8b901cbe4144b364dbff8fc4c4f3a719fb9472e84",
    ),
    (
        "p256",
        "k.p12",
        "34347d39b7d7d224f461f88e81389f5f9bd999e0cc71754c41508e510c8a1c57",
    ),
    (
        "rsa2048",
        "k.jks",
        "03b52d10a3d8ddbd13f085e4f9c5262cd294a843bb5a4ac98c943709e3919d39",
    ),
];

#[test]
fn seeded_keygen_output_matches_committed_digests() {
    use sha2::{Digest, Sha256};
    let dir = tmp();
    let mut got = Vec::new();
    for (alg, file, _) in SEEDED {
        let sub: PathBuf = dir.path().join(format!("{alg}-{file}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let r = keygen(
            &sub,
            &[
                "--algorithm",
                alg,
                "--self-signed",
                "--seed",
                "pinned",
                "-o",
                file,
            ],
        );
        assert_eq!(r.code, 0, "{alg}: {}", r.stderr);
        let bytes = std::fs::read(sub.join(file)).expect("read");
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        got.push((*alg, *file, hex));
    }
    let want: Vec<(&str, &str, String)> = SEEDED
        .iter()
        .map(|(a, f, h)| (*a, *f, h.to_string()))
        .collect();
    assert_eq!(got, want, "seeded output changed");
}
