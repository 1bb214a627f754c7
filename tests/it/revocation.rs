//! `check --revocation` against peers credkit did not write: a test CA run
//! with `openssl ca` (fixtures/revocation/, its openssl.cnf), `openssl ocsp`
//! responders answering from the CA's index.txt, and the CRL of `openssl ca
//! -gencrl`, served on 127.0.0.1 by tests/tools/revocation_peer.py.
//!
//! The certificates are issued by each test with `openssl ca`, because their
//! authorityInfoAccess and cRLDistributionPoints must name the ports the
//! servers listen on.

use super::support::{fixture, openssl_rsa_key, path_str, peer, root, run};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Processes started by a test, killed (by their own handle) when it ends.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The first line of a child's stdout.
fn first_line(child: &mut Child) -> String {
    let out = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).expect("read");
    line
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

struct Ca {
    dir: tempfile::TempDir,
    procs: Procs,
    /// The HTTP peer's port (CRL, ca.cer, OCSP routes).
    port: u16,
}

impl Ca {
    /// A copy of the committed CA with an empty database, and the HTTP peer.
    fn new() -> Ca {
        let dir = tempfile::tempdir().expect("tmp");
        for f in [
            "ca.pem",
            "ca.key",
            "responder.pem",
            "responder.key",
            "no-authority.pem",
            "no-authority.key",
        ] {
            std::fs::copy(fixture(&format!("revocation/{f}")), dir.path().join(f)).expect("copy");
        }
        std::fs::write(dir.path().join("index.txt"), "").expect("index");
        std::fs::write(dir.path().join("serial"), "2000\n").expect("serial");
        std::fs::write(dir.path().join("crlnumber"), "01\n").expect("crlnumber");
        std::fs::write(dir.path().join("routes.json"), "{}").expect("routes");
        // The CA certificate, DER, where caIssuers points.
        peer(
            "openssl",
            &[
                "x509",
                "-in",
                &path_str(&dir.path().join("ca.pem")),
                "-outform",
                "DER",
                "-out",
                &path_str(&dir.path().join("ca.cer")),
            ],
        );
        let mut server = Command::new("python3")
            .arg(root().join("tests/tools/revocation_peer.py"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("python3");
        let port = first_line(&mut server).trim().parse().expect("port");
        Ca {
            dir,
            procs: Procs(vec![server]),
            port,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `openssl` with the CA's configuration and these URLs in the environment.
    fn openssl(&self, base: &str, ocsp: &str, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .env("REV_DIR", self.dir.path())
            .env("REV_BASE", base)
            .env("REV_OCSP", ocsp)
            .stdin(Stdio::null())
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Issue NAME (key + certificate, one PEM file NAME.pem with both) whose
    /// AIA names `ocsp` and caIssuers under `base`, and CDP `base`/ca.crl.
    /// `in_index`: issued with `openssl ca` (known to the responder) or
    /// with `openssl x509 -req` (unknown).
    fn issue(&self, name: &str, base: &str, ocsp: &str, in_index: bool) -> PathBuf {
        let cnf = path_str(&fixture("revocation/openssl.cnf"));
        let key = format!("{name}.key");
        let csr = format!("{name}.csr");
        let crt = format!("{name}.crt");
        openssl_rsa_key(&self.dir.path().join(&key));
        let subj = format!("/C=NO/O={name} AS/serialNumber=310000001/CN={name}");
        self.openssl(
            base,
            ocsp,
            &[
                "req", "-config", &cnf, "-new", "-key", &key, "-subj", &subj, "-out", &csr,
            ],
        );
        if in_index {
            self.openssl(
                base,
                ocsp,
                &[
                    "ca",
                    "-config",
                    &cnf,
                    "-batch",
                    "-notext",
                    "-extensions",
                    "leaf",
                    "-in",
                    &csr,
                    "-out",
                    &crt,
                ],
            );
        } else {
            self.openssl(
                base,
                ocsp,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-set_serial",
                    "0x7777",
                    "-days",
                    "30",
                    "-extfile",
                    &cnf,
                    "-extensions",
                    "leaf",
                    "-out",
                    &crt,
                ],
            );
        }
        let both = std::fs::read_to_string(self.path(&key)).expect("key")
            + &std::fs::read_to_string(self.path(&crt)).expect("crt");
        let out = self.path(&format!("{name}.pem"));
        std::fs::write(&out, both).expect("write");
        out
    }

    fn revoke(&self, name: &str, reason: &str) {
        let cnf = path_str(&fixture("revocation/openssl.cnf"));
        let crt = format!("{name}.crt");
        let b = self.base();
        self.openssl(
            &b,
            &b,
            &[
                "ca",
                "-config",
                &cnf,
                "-revoke",
                &crt,
                "-crl_reason",
                reason,
            ],
        );
    }

    fn gencrl(&self) {
        let cnf = path_str(&fixture("revocation/openssl.cnf"));
        let b = self.base();
        self.openssl(
            &b,
            &b,
            &["ca", "-config", &cnf, "-gencrl", "-out", "ca.crl"],
        );
    }

    /// Start `openssl ocsp` signing with SIGNER (a .pem/.key pair in the
    /// CA's directory) and route `route` (and `route-tamper`) to it.
    fn responder(&mut self, route: &str, signer: &str) {
        let mut child = Command::new("openssl")
            .args([
                "ocsp",
                "-index",
                "index.txt",
                "-port",
                "0",
                "-CA",
                "ca.pem",
                "-rsigner",
                &format!("{signer}.pem"),
                "-rkey",
                &format!("{signer}.key"),
                "-ndays",
                "1",
            ])
            // The CA's own answers carry no certificate, so their last byte is
            // the signature's (see revocation_peer.py's tamper); a delegated
            // responder's carry its certificate.
            .args(if signer == "ca" {
                &["-resp_no_certs"][..]
            } else {
                &[]
            })
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("openssl ocsp");
        // "ACCEPT [::]:PORT PID=…"
        let line = first_line(&mut child);
        self.procs.0.push(child);
        let port: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("openssl ocsp said {line:?}"));
        let p = self.path("routes.json");
        let mut routes: serde_json::Map<String, Value> =
            serde_json::from_str(&std::fs::read_to_string(&p).expect("routes")).expect("json");
        routes.insert(route.into(), serde_json::json!({ "port": port }));
        routes.insert(
            format!("{route}-tamper"),
            serde_json::json!({ "port": port, "tamper": true }),
        );
        std::fs::write(&p, Value::Object(routes).to_string()).expect("routes");
    }
}

/// The current time: the CA's answers are dated by the real clock.
fn now_plus(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// `credkit check --revocation --json FILE` at `now`, with the CA given.
fn check(file: &Path, ca: &Path, now: &str) -> (i32, Value) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.env_remove("CREDKIT_PASSWORD")
        .env("RUST_BACKTRACE", "0")
        .args(["--now", now, "check", "--json", "--revocation", "--ca-file"])
        .arg(ca)
        .arg(file)
        .stdin(Stdio::null());
    let r = run(c);
    r.assert_no_panic();
    (r.code, r.json())
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect()
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

fn leaf(report: &Value) -> &Value {
    &report["revocation"]["certificates"][0]
}

#[test]
fn ocsp_good_revoked_and_unknown_from_openssl_ocsp() {
    let mut ca = Ca::new();
    let b = ca.base();
    let ocsp = format!("{b}/ocsp");
    let good = ca.issue("good", &b, &ocsp, true);
    let revoked = ca.issue("revoked", &b, &ocsp, true);
    let unknown = ca.issue("unknown", &b, &ocsp, false);
    ca.revoke("revoked", "keyCompromise");
    ca.gencrl();
    ca.responder("ocsp", "ca");
    let cap = ca.path("ca.pem");
    let now = now_plus(0);

    let (code, r) = check(&good, &cap, &now);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(leaf(&r)["status"], "good", "{r:#}");
    assert_eq!(leaf(&r)["source"], "ocsp");
    assert_eq!(leaf(&r)["url"], ocsp.as_str());
    assert!(leaf(&r)["next_update"].is_string());
    assert!(
        !ids(&r)
            .iter()
            .any(|i| i.starts_with("revocation") || i == "certificate-revoked")
    );

    let (code, r) = check(&revoked, &cap, &now);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(leaf(&r)["status"], "revoked", "{r:#}");
    assert_eq!(leaf(&r)["reason"], "keyCompromise");
    assert!(
        leaf(&r)["revoked_at"]
            .as_str()
            .expect("date")
            .starts_with(&now[..10])
    );
    let f = finding(&r, "certificate-revoked");
    assert_eq!(f["severity"], "error");
    assert!(
        f["message"].as_str().expect("m").contains("keyCompromise"),
        "{f}"
    );
    assert!(f["message"].as_str().expect("m").contains(&ocsp), "{f}");
    assert!(f["why"].as_str().expect("w").contains("MP-120"));

    let (code, r) = check(&unknown, &cap, &now);
    assert_eq!(code, 0, "a warning: {r:#}");
    assert_eq!(leaf(&r)["status"], "unknown", "{r:#}");
    assert_eq!(finding(&r, "revocation-unknown")["severity"], "warning");
}

#[test]
fn a_delegated_responder_is_believed_one_without_authority_is_not() {
    let mut ca = Ca::new();
    let b = ca.base();
    let delegated = ca.issue("delegated", &b, &format!("{b}/ocsp-delegated"), true);
    let noauth_ocsp = format!("{b}/ocsp-noauth");
    let noauth = ca.issue("noauth", &b, &noauth_ocsp, true);
    ca.revoke("noauth", "superseded");
    ca.gencrl();
    ca.responder("ocsp-delegated", "responder");
    ca.responder("ocsp-noauth", "no-authority");
    let cap = ca.path("ca.pem");
    let now = now_plus(0);

    let (code, r) = check(&delegated, &cap, &now);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(leaf(&r)["status"], "good", "{r:#}");
    assert_eq!(leaf(&r)["source"], "ocsp");

    // The responder without id-kp-OCSPSigning is not believed; the CRL
    // (the fallback) says revoked.
    let (code, r) = check(&noauth, &cap, &now);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(leaf(&r)["status"], "revoked", "{r:#}");
    assert_eq!(leaf(&r)["reason"], "superseded");
    assert_eq!(leaf(&r)["source"], "crl");
    assert_eq!(leaf(&r)["url"], format!("{b}/ca.crl"));
    let first = &leaf(&r)["attempts"][0];
    assert_eq!(first["kind"], "ocsp");
    assert_eq!(first["url"], noauth_ocsp.as_str());
    assert!(
        first["problem"]
            .as_str()
            .expect("p")
            .contains("OCSPSigning"),
        "{first}"
    );
}

#[test]
fn a_bad_responder_signature_is_refused_and_the_crl_answers() {
    let mut ca = Ca::new();
    let b = ca.base();
    let tampered = format!("{b}/ocsp-tamper");
    let revoked = ca.issue("revoked", &b, &tampered, true);
    ca.revoke("revoked", "keyCompromise");
    ca.gencrl();
    ca.responder("ocsp", "ca");
    let (code, r) = check(&revoked, &ca.path("ca.pem"), &now_plus(0));
    assert_eq!(code, 1, "{r:#}");
    let first = &leaf(&r)["attempts"][0];
    assert!(
        first["problem"]
            .as_str()
            .expect("p")
            .contains("signature does not verify"),
        "{first}"
    );
    assert_eq!(leaf(&r)["status"], "revoked");
    assert_eq!(leaf(&r)["source"], "crl");
    assert_eq!(leaf(&r)["reason"], "keyCompromise");
    assert!(
        finding(&r, "certificate-revoked")["message"]
            .as_str()
            .expect("m")
            .contains("ca.crl")
    );
}

#[test]
fn stale_answers_and_unreachable_servers_are_unavailable_with_the_url_and_why() {
    let mut ca = Ca::new();
    let b = ca.base();
    let ocsp = format!("{b}/ocsp");
    let good = ca.issue("good", &b, &ocsp, true);
    let dead_ocsp = format!("http://127.0.0.1:{}/ocsp", closed_port());
    let fallback = ca.issue("fallback", &b, &dead_ocsp, true);
    let dead_base = format!("http://127.0.0.1:{}", closed_port());
    let dead = ca.issue("dead", &dead_base, &dead_ocsp, true);
    ca.gencrl();
    ca.responder("ocsp", "ca");
    let cap = ca.path("ca.pem");

    // Ten days on, the OCSP answer (1 day) and the CRL (7 days) are stale.
    let (code, r) = check(&good, &cap, &now_plus(10));
    assert_eq!(code, 0, "a warning: {r:#}");
    assert_eq!(leaf(&r)["status"], "unavailable", "{r:#}");
    let m = finding(&r, "revocation-unavailable")["message"]
        .as_str()
        .expect("m")
        .to_string();
    assert!(
        m.contains(&format!("OCSP {ocsp}: the OCSP response is stale")),
        "{m}"
    );
    assert!(
        m.contains(&format!("CRL {b}/ca.crl: the CRL is stale")),
        "{m}"
    );

    // An unreachable responder: the CRL answers.
    let (code, r) = check(&fallback, &cap, &now_plus(0));
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(leaf(&r)["status"], "good", "{r:#}");
    assert_eq!(leaf(&r)["source"], "crl");
    assert_eq!(leaf(&r)["attempts"][0]["url"], dead_ocsp.as_str());
    assert!(
        leaf(&r)["attempts"][0]["problem"]
            .as_str()
            .expect("p")
            .contains("nothing answered")
    );

    // Nothing reachable: unavailable, naming both URLs.
    let (_, r) = check(&dead, &cap, &now_plus(0));
    assert_eq!(leaf(&r)["status"], "unavailable", "{r:#}");
    let m = finding(&r, "revocation-unavailable")["message"]
        .as_str()
        .expect("m")
        .to_string();
    assert!(
        m.contains(&dead_ocsp) && m.contains(&format!("{dead_base}/ca.crl")),
        "{m}"
    );
}

#[test]
fn a_missing_issuer_is_fetched_from_ca_issuers_and_said() {
    let mut ca = Ca::new();
    let b = ca.base();
    let good = ca.issue("good", &b, &format!("{b}/ocsp"), true);
    ca.gencrl();
    ca.responder("ocsp", "ca");
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.env("RUST_BACKTRACE", "0")
        .args(["--now", &now_plus(0), "check", "--json", "--revocation"])
        .arg(&good)
        .stdin(Stdio::null());
    let r = run(c);
    r.assert_ok();
    let r = r.json();
    assert_eq!(leaf(&r)["status"], "good", "{r:#}");
    assert_eq!(
        r["revocation"]["fetched_issuers"][0]["url"],
        format!("{b}/ca.cer")
    );
    let f = finding(&r, "revocation-issuer-fetched");
    assert!(f["message"].as_str().expect("m").contains("ca.cer"));
}

#[test]
fn without_the_flag_nothing_goes_online_and_revocation_is_null() {
    let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
    c.args(["check", "--json"])
        .arg(fixture("revocation/good.pem"))
        .stdin(Stdio::null());
    let r = run(c);
    r.assert_no_panic();
    assert!(r.json()["revocation"].is_null());
}

#[test]
fn token_with_revocation_stops_before_sending_a_revoked_certificate() {
    let mut ca = Ca::new();
    let b = ca.base();
    let revoked = ca.issue("revoked", &b, &format!("{b}/ocsp"), true);
    ca.revoke("revoked", "keyCompromise");
    ca.gencrl();
    ca.responder("ocsp", "ca");
    // Nothing listens at the token endpoint: had credkit sent the request,
    // the answer would be a network error (exit 2).
    let endpoint = format!("http://127.0.0.1:{}/token", closed_port());
    let token = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_credkit"));
        c.env("RUST_BACKTRACE", "0")
            .args(["--now", &now_plus(0), "token", "--json", "--key"])
            .arg(&revoked)
            .args([
                "--env",
                "test",
                "--token-endpoint",
                &endpoint,
                "--client-id",
                "revocation-test",
                "--scope",
                "test:scope",
                "--no-cache",
            ])
            .args(extra)
            .stdin(Stdio::null());
        let r = run(c);
        r.assert_no_panic();
        r
    };
    let r = token(&["--revocation"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The check's report, then the error.
    assert!(
        r.stderr.contains("\"code\":\"credential-unfit\"")
            && r.stderr.contains("\"id\":\"certificate-revoked\""),
        "{}",
        r.stderr
    );
    // Without the flag nothing asks the CA, and the request goes out.
    let r = token(&[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("certificate-revoked"), "{}", r.stderr);
}
