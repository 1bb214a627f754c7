//! Every way of giving a password, and that none needs the command line.

use crate::support::*;
use std::io::Write;
use std::process::Stdio;

const P12: &str = "p12/openssl3-nonascii-aes.p12";

fn alias_of(r: &Run) -> String {
    r.json()["entries"][0]["alias"]
        .as_str()
        .expect("alias")
        .to_string()
}

#[test]
fn password_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pässwörd\n").expect("write");
    let mut c = credkit();
    c.args(["inspect", "--json", "--password-file"])
        .arg(&pw)
        .arg(fixture(P12));
    let r = run(c);
    r.assert_ok();
    assert_eq!(alias_of(&r), "auth");
}

#[test]
fn password_env() {
    let mut c = credkit();
    c.args(["inspect", "--json", "--password-env", "MY_P12_PW"])
        .arg(fixture(P12))
        .env("MY_P12_PW", "pässwörd");
    let r = run(c);
    r.assert_ok();
    assert_eq!(alias_of(&r), "auth");
}

#[test]
fn password_stdin() {
    let mut c = credkit();
    c.args(["inspect", "--json", "--password-stdin"])
        .arg(fixture(P12))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all("pässwörd\n".as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["entries"][0]["alias"], "auth");
}

#[test]
fn credkit_password_env_is_the_default() {
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(fixture(P12))
        .env("CREDKIT_PASSWORD", "pässwörd");
    let r = run(c);
    r.assert_ok();
    assert_eq!(alias_of(&r), "auth");
}

#[test]
fn no_password_and_no_terminal_says_what_to_do() {
    let mut c = credkit();
    c.args(["inspect", "--json"]).arg(fixture(P12));
    let r = run(c);
    assert_eq!(r.code, 2);
    let e = r.error_json();
    assert_eq!(e["error"]["code"], "password-required");
    let hint = e["error"]["hints"][0].as_str().expect("hint");
    assert!(hint.contains("--password-file") && hint.contains("CREDKIT_PASSWORD"));
}

#[test]
fn files_without_protection_need_no_password() {
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(fixture("p12/openssl3-noenc-nomac-auth.p12"));
    let r = run(c);
    r.assert_ok();
    let v = r.json();
    assert_eq!(v["integrity_verified"], serde_json::Value::Null);
    assert_eq!(v["entries"][0]["key_matches_certificate"], true);
}

#[test]
fn jks_without_password_lists_entries_unverified() {
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(fixture("jks/business-pair.jks"));
    let r = run(c);
    r.assert_ok();
    let v = r.json();
    assert_eq!(v["integrity_verified"], serde_json::Value::Null);
    assert_eq!(v["entries"].as_array().expect("entries").len(), 3);
    assert!(
        v["notes"][0]
            .as_str()
            .expect("note")
            .contains("not checked"),
        "{v}"
    );
    for e in v["entries"].as_array().expect("entries") {
        if e["kind"] == "private_key" {
            assert_eq!(e["key"]["locked"], true);
            assert_eq!(e["certificates"].as_array().expect("c").len(), 3);
        }
    }
}

#[test]
fn jks_key_password_that_differs() {
    let mut c = credkit();
    c.args(["inspect", "--json", "--key-password-env", "KP"])
        .arg(fixture("jks/keypass-differs.jks"))
        .env("CREDKIT_PASSWORD", "changeit")
        .env("KP", "keypass1");
    let r = run(c);
    r.assert_ok();
    assert_eq!(r.json()["entries"][0]["key"]["locked"], false);
    // Without it: listed like keytool -list does, the key locked, and a note
    // naming the entry and the option.
    let mut c = credkit();
    c.args(["inspect", "--json"])
        .arg(fixture("jks/keypass-differs.jks"))
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_ok();
    let v = r.json();
    assert_eq!(v["integrity_verified"], true);
    assert_eq!(v["entries"][0]["key"]["locked"], true);
    let note = v["notes"][0].as_str().expect("note");
    assert!(
        note.contains("mykey") && note.contains("--key-password-"),
        "{note}"
    );
    // A wrong key password: a clear error naming the entry and the option.
    let mut c = credkit();
    c.args(["inspect", "--json", "--key-password-env", "KP"])
        .arg(fixture("jks/keypass-differs.jks"))
        .env("CREDKIT_PASSWORD", "changeit")
        .env("KP", "not-it");
    let r = run(c);
    assert_eq!(r.code, 2);
    let e = r.error_json();
    assert_eq!(e["error"]["code"], "key-password-wrong");
    assert!(e["error"]["message"].as_str().expect("m").contains("mykey"));
    assert!(
        e["error"]["hints"][0]
            .as_str()
            .expect("h")
            .contains("--key-password-")
    );
}

#[test]
fn missing_password_sources_are_reported() {
    let mut c = credkit();
    c.args(["inspect", "--password-env", "CREDKIT_TEST_UNSET_VAR"])
        .arg(fixture(P12));
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("CREDKIT_TEST_UNSET_VAR"), "{}", r.stderr);
    assert!(r.stderr.contains("password-source"));
    let mut c = credkit();
    c.args(["inspect", "--password-file", "/nonexistent/pw"])
        .arg(fixture(P12));
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("/nonexistent/pw"), "{}", r.stderr);
}

#[test]
fn both_passwords_from_stdin_is_a_usage_error() {
    let mut c = credkit();
    c.args(["inspect", "--password-stdin", "--key-password-stdin"])
        .arg(fixture("jks/keypass-differs.jks"));
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("(error id: usage)"), "{}", r.stderr);
}
