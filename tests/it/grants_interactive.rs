//! The interactive grants end to end against panva's oidc-provider
//! (tests/peer/server.mjs, clients native-client, par-client, device-slow,
//! device-short): credkit runs with --no-browser, and tests/tools/browser.py
//! acts as the user's browser (it follows the URL credkit printed through
//! the devInteractions login and consent forms, or the device flow's user
//! code forms, back to credkit's loopback listener). The refusals are
//! provoked for real: a redirect URI the client does not have, a browser
//! that changes the PKCE challenge, a user who cancels, a device code nobody
//! approves.

use crate::support::*;
use crate::token::{Peer, claims};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const SCOPE: &str = "openid offline_access api:read";

/// `--grant authorization-code` for `client` at `peer`, with no browser
/// started; `extra` adds the flags a test varies.
fn code_grant<'a>(peer: &'a Peer, client: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--grant",
        "authorization-code",
        "--issuer",
        &peer.base,
        "--client-id",
        client,
        "--no-browser",
    ];
    v.extend_from_slice(extra);
    v
}

/// `--grant refresh-token` for native-client at `peer`; `extra` adds flags.
fn refresh_grant<'a>(peer: &'a Peer, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--grant",
        "refresh-token",
        "--issuer",
        &peer.base,
        "--client-id",
        "native-client",
    ];
    v.extend_from_slice(extra);
    v
}

/// A private cache and config directory.
struct Home {
    dir: tempfile::TempDir,
}

/// One sign-in through the browser: the authorization URL credkit printed,
/// the page the browser ended on, and how credkit's run ended.
struct SignIn {
    url: String,
    page: Value,
    run: Run,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("tmp"),
        }
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.base();
        c.arg("token").args(args);
        c
    }
    /// credkit on the real clock, with this home's cache and config, no
    /// proxy, par-client's secret in CLIENT_SECRET, and no browser to start.
    fn base(&self) -> Command {
        let mut c = credkit_with(Clock::Real);
        isolated(&mut c, self.dir.path())
            .env("CLIENT_SECRET", "par-secret")
            // No browser is started, even where one is installed.
            .env("PATH", "/nonexistent");
        c
    }
    fn run(&self, args: &[&str]) -> Run {
        let r = run(self.cmd(args));
        r.assert_no_panic();
        r
    }
    /// Start `credkit token`; its stderr is read line by line as it comes.
    fn start(&self, args: &[&str]) -> Flow {
        Home::spawn(self.cmd(args))
    }
    /// `credkit token ARGS` through one sign-in: the browser (browser.py
    /// with `browser` flags) opens the URL credkit printed.
    fn sign_in(&self, args: &[&str], browser: &[&str]) -> SignIn {
        let mut flow = self.start(args);
        let url = flow.authorization_url();
        let page = browse(&url, browser);
        SignIn {
            url,
            page,
            run: flow.finish(),
        }
    }
    fn spawn(mut c: Command) -> Flow {
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run credkit");
        let (tx, rx) = channel();
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(l) = line else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Flow {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }
}

/// A credkit run in progress.
struct Flow {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Flow {
    /// The first stderr line (from now on) that `pick` takes, within 60 s.
    fn wait_for(&mut self, pick: impl Fn(&str) -> Option<String>) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if let Some(v) = pick(&l) {
                        return v;
                    }
                }
                Err(_) => panic!(
                    "credkit never said it; stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
    /// The authorization URL credkit printed.
    fn authorization_url(&mut self) -> String {
        self.wait_for(|l| {
            let t = l.trim();
            t.starts_with("http://127.0.0.1").then(|| t.to_string())
        })
    }
    /// The device flow's verification URL with the user code in it.
    fn verification_url(&mut self) -> String {
        self.wait_for(|l| {
            l.strip_prefix("credkit: or open ")
                .map(|r| r.split(' ').next().unwrap_or("").to_string())
        })
    }
    /// The rest of stderr, once the process has ended.
    fn drain(&mut self) {
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(10)) {
            self.seen.push(l);
        }
    }
    fn finish(mut self) -> Run {
        let status = self.child.wait().expect("wait");
        let mut stdout = String::new();
        if let Some(mut o) = self.child.stdout.take() {
            o.read_to_string(&mut stdout).expect("read");
        }
        self.drain();
        let r = Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: self.seen.join("\n"),
        };
        r.assert_no_panic();
        r
    }
}

/// The user's browser: tests/tools/browser.py from `url`.
fn browse(url: &str, extra: &[&str]) -> Value {
    let out = Command::new("python3")
        .arg(root().join("tests/tools/browser.py"))
        .arg(url)
        .args(extra)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "browser.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("browser.py's JSON")
}

fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect()
}

fn param(url: &str, k: &str) -> Option<String> {
    query(url).into_iter().find(|(n, _)| n == k).map(|(_, v)| v)
}

fn s256(v: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()))
}

/// A token: exit code 0 (the peer's log shown if not).
fn ok<'r>(r: &'r Run, peer: &Peer) -> &'r Run {
    r.assert_code(0, &format!("expected a token; peer log:\n{}", peer.log()))
}

/// A refusal: exit code 1 and nothing on stdout.
fn refused<'r>(r: &'r Run, peer: &Peer) -> &'r Run {
    r.assert_code(1, &format!("expected a refusal; peer log:\n{}", peer.log()));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    r
}

/// The JSON error: the last line of stderr (the lines before it tell the
/// user what to open).
fn err_json(r: &Run) -> Value {
    let last = r.stderr.trim().lines().last().unwrap_or("");
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("stderr does not end in a JSON error ({e}):\n{}", r.stderr))
}

/// A fact of the diagnosis with this id whose message holds `needle`.
fn has_fact(d: &Value, id: &str, needle: &str) -> bool {
    d["facts"].as_array().is_some_and(|a| {
        a.iter()
            .any(|f| f["id"] == id && f["message"].as_str().is_some_and(|m| m.contains(needle)))
    })
}

/// A candidate cause of the diagnosis that holds `needle`.
fn has_candidate(d: &Value, needle: &str) -> bool {
    d["candidates"].as_array().is_some_and(|a| {
        a.iter()
            .any(|c| c.as_str().is_some_and(|c| c.contains(needle)))
    })
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
}

/// The refresh token kept in a refresh-token file.
fn stored_refresh_token(file: &Path) -> String {
    let stored: Value = serde_json::from_slice(&std::fs::read(file).expect("read")).expect("json");
    stored["refresh_token"]
        .as_str()
        .expect("stored")
        .to_string()
}

#[test]
fn authorization_code_with_pkce_keeps_the_refresh_token_and_refresh_uses_it() {
    let peer = Peer::start("server.mjs");
    let home = Home::new();
    let args = code_grant(
        &peer,
        "native-client",
        &["--scope", SCOPE, "--json", "--verbose"],
    );
    let SignIn { url, page, run: r } = home.sign_in(&args, &[]);
    // The authorization request: PKCE S256, state, nonce, a loopback redirect.
    assert!(url.starts_with(&format!("{}/auth?", peer.base)), "{url}");
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let challenge = param(&url, "code_challenge").expect("code_challenge");
    assert_eq!(challenge.len(), 43, "base64url of SHA-256: {challenge}");
    assert!(param(&url, "state").is_some_and(|s| s.len() >= 16));
    let nonce = param(&url, "nonce").expect("nonce");
    let redirect = param(&url, "redirect_uri").expect("redirect_uri");
    assert!(
        redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"),
        "{redirect}"
    );
    let back = page["url"].as_str().expect("url");
    assert!(back.starts_with(&redirect), "{page}");
    assert_eq!(page["status"], 200, "{page}");
    let code = param(back, "code").expect("code in the redirect");
    let j = ok(&r, &peer).json();
    let at = claims(j["access_token"].as_str().expect("access_token"));
    assert_eq!(at["client_id"], "native-client");
    assert_eq!(at["sub"], "alice", "the user who signed in");
    assert_eq!(
        claims(j["id_token"].as_str().expect("id_token"))["nonce"],
        nonce.as_str()
    );
    // The refresh token is kept 0600 and printed nowhere.
    assert!(j.get("refresh_token").is_none(), "{j}");
    let file = PathBuf::from(
        j["refresh_token_file"]
            .as_str()
            .expect("refresh_token_file"),
    );
    assert_eq!(mode(&file), 0o600);
    assert!(file.starts_with(home.dir.path().join("cache/credkit/refresh-tokens")));
    let rt = stored_refresh_token(&file);
    assert!(!r.stdout.contains(&rt) && !r.stderr.contains(&rt));
    // The verbose trace redacts the code and the verifier.
    assert!(!r.stderr.contains(&code), "the code leaked:\n{}", r.stderr);
    r.assert_stderr_has(&["code_verifier=<redacted>", "grant_type=authorization_code"]);

    // --grant refresh-token with no refresh token option: the stored one, rotated.
    let refresh = refresh_grant(&peer, &["--json"]);
    let j2 = ok(&home.run(&refresh), &peer).json();
    assert_eq!(
        claims(j2["access_token"].as_str().expect("at"))["sub"],
        "alice"
    );
    assert!(j2.get("refresh_token").is_none(), "{j2}");
    let rt2 = stored_refresh_token(&file);
    assert_ne!(
        rt, rt2,
        "oidc-provider rotates refresh tokens; the new one is kept"
    );
    // And again, with the rotated one.
    ok(&home.run(&refresh), &peer);
    // The first refresh token was used: the server refuses it now.
    let mut c = home.cmd(&refresh_grant(&peer, &["--refresh-token-env", "OLD_RT"]));
    c.env("OLD_RT", &rt);
    refused(&run(c), &peer).assert_stderr_has(&["invalid_grant"]);
}

#[test]
fn par_when_the_metadata_requires_it_and_when_asked() {
    let par_client = |peer| {
        code_grant(
            peer,
            "par-client",
            &[
                "--client-secret-env",
                "CLIENT_SECRET",
                "--scope",
                SCOPE,
                "--no-cache",
                "--verbose",
            ],
        )
    };
    let peer = Peer::start_with("server.mjs", &[("REQUIRE_PAR", "1".into())]);
    let home = Home::new();
    let SignIn { url, run: r, .. } = home.sign_in(&par_client(&peer), &[]);
    // Only the request_uri goes through the browser.
    assert!(
        param(&url, "request_uri")
            .is_some_and(|r| r.starts_with("urn:ietf:params:oauth:request_uri:")),
        "{url}"
    );
    assert!(param(&url, "code_challenge").is_none(), "{url}");
    ok(&r, &peer).assert_stderr_has(&[
        &format!("POST {}/request", peer.base),
        "Authorization: Basic <redacted>",
    ]);
    assert!(!r.stderr.contains("par-secret"));

    // The client requires PAR, the metadata does not: a refusal that says so, then --par.
    let peer = Peer::start("server.mjs");
    let mut args = par_client(&peer);
    refused(&home.sign_in(&args, &[]).run, &peer).assert_stderr_has(&[
        "the authorization server refused the sign-in",
        "pushed authorization requests",
    ]);
    args.push("--par");
    ok(&home.sign_in(&args, &[]).run, &peer);
}

#[test]
fn a_redirect_uri_the_client_does_not_have_is_diagnosed() {
    let peer = Peer::start("server.mjs");
    let home = Home::new();
    let elsewhere = ["--redirect-uri", "http://127.0.0.1/elsewhere"];
    // Pushed: the server refuses at once, and the diagnosis names the URI sent.
    let r = home.run(&code_grant(
        &peer,
        "par-client",
        &[
            &["--client-secret-env", "CLIENT_SECRET", "--par", "--json"][..],
            &elsewhere,
        ]
        .concat(),
    ));
    refused(&r, &peer);
    let e = err_json(&r);
    let d = &e["error"]["diagnosis"];
    assert_eq!(d["server"]["error"], "invalid_request", "{e}");
    assert!(has_fact(d, "redirect-uri-sent", "/elsewhere"), "{e}");
    assert!(has_candidate(d, "not registered"), "{e}");

    // Not pushed: the server shows the user an error page and never sends the
    // browser back; credkit stops at its timeout and says what it waited for.
    let args = code_grant(
        &peer,
        "native-client",
        &[&elsewhere[..], &["--login-timeout", "4s"]].concat(),
    );
    let SignIn { page, run: r, .. } = home.sign_in(&args, &[]);
    assert_eq!(page["status"], 400, "{page}");
    assert!(
        page["body"]
            .as_str()
            .is_some_and(|b| b.contains("redirect_uri")),
        "{page}"
    );
    r.assert_code(2, "").assert_stderr_has(&[
        "(error id: login-timeout)",
        "/elsewhere",
        "redirect_uri is not registered",
    ]);
}

#[test]
fn a_pkce_mismatch_is_diagnosed_with_what_was_sent() {
    let peer = Peer::start("server.mjs");
    let home = Home::new();
    let args = code_grant(&peer, "native-client", &["--scope", SCOPE, "--json"]);
    // The browser (or something between) changes the challenge.
    let other = s256("a verifier credkit never made, and never will make");
    let tamper = format!("code_challenge={other}");
    let SignIn { url, run: r, .. } = home.sign_in(&args, &["--tamper", &tamper]);
    let sent = param(&url, "code_challenge").expect("challenge");
    refused(&r, &peer);
    let e = err_json(&r);
    let d = &e["error"]["diagnosis"];
    assert_eq!(e["error"]["code"], "oauth-invalid-grant", "{e}");
    assert!(has_fact(d, "pkce-sent", &sent), "{e}");
    assert!(has_candidate(d, "code_verifier does not match"), "{e}");
}

#[test]
fn a_user_who_cancels_and_a_forged_state() {
    let peer = Peer::start("server.mjs");
    let home = Home::new();
    let args = code_grant(&peer, "native-client", &["--scope", SCOPE]);
    refused(&home.sign_in(&args, &["--deny"]).run, &peer).assert_stderr_has(&[
        "access_denied",
        "the user declined",
        "(error id: oauth-access-denied)",
    ]);

    // An answer for another login (its state is not ours) is not used.
    let r = home
        .sign_in(&args, &["--tamper", "state=forged-state-value"])
        .run;
    r.assert_code(2, "")
        .assert_stderr_has(&["(error id: oauth-state-mismatch)"]);
    assert!(r.stdout.is_empty());
}

#[test]
fn device_flow_honours_slow_down() {
    let peer = Peer::start("server.mjs");
    let home = Home::new();
    let mut flow = home.start(&[
        "--grant",
        "device-code",
        "--issuer",
        &peer.base,
        "--client-id",
        "device-slow",
        "--scope",
        "openid api:read",
        "--verbose",
    ]);
    let user_code = flow.wait_for(|l| {
        l.strip_prefix("credkit: on any device, open ")
            .and_then(|r| r.split(" and enter the code ").nth(1))
            .map(str::to_string)
    });
    let complete = flow.verification_url();
    assert_eq!(
        param(&complete, "user_code").as_deref(),
        Some(user_code.as_str())
    );
    // Approve only after the server has said slow_down.
    flow.wait_for(|l| {
        l.contains("slow_down: not approved yet, asking again in 6 s")
            .then_some(String::new())
    });
    let page = browse(&complete, &[]);
    assert!(
        page["body"]
            .as_str()
            .is_some_and(|b| b.contains("Sign-in Success")),
        "{page}"
    );
    let r = flow.finish();
    ok(&r, &peer).assert_stderr_has(&["device_code=<redacted>"]);
    let at = claims(r.stdout.trim());
    assert_eq!(at["client_id"], "device-slow");
    assert_eq!(at["sub"], "alice");
}

#[test]
fn device_flow_denied_and_expired_are_explained() {
    let peer = Peer::start("server.mjs");
    let home = Home::new();
    // A config profile: the interactive keys as profile keys.
    let cfg = home.dir.path().join("config/credkit");
    std::fs::create_dir_all(&cfg).expect("mkdir");
    std::fs::write(
        cfg.join("config.toml"),
        format!(
            "[profiles.tv]\ngrant = \"device-code\"\nissuer = \"{}\"\nclient_id = \"native-client\"\nscope = \"openid api:read\"\nlogin_timeout = 120\n\n\
             [profiles.short]\ngrant = \"device-code\"\nissuer = \"{}\"\nclient_id = \"device-short\"\nscope = \"openid api:read\"\n",
            peer.base, peer.base
        ),
    )
    .expect("write");
    let mut flow = home.start(&["--profile", "tv", "--no-cache"]);
    browse(&flow.verification_url(), &["--deny"]);
    refused(&flow.finish(), &peer).assert_stderr_has(&["access_denied", "the user declined"]);

    // Nobody approves: the server's code expires (3 s), credkit explains.
    let r = home.run(&["--profile", "short", "--json"]);
    refused(&r, &peer);
    let e = err_json(&r);
    assert_eq!(e["error"]["code"], "oauth-expired-token", "{e}");
    let d = &e["error"]["diagnosis"];
    assert!(
        d["general"]
            .as_str()
            .is_some_and(|g| g.contains("expired before the user approved")),
        "{e}"
    );
    assert!(has_fact(d, "device-polled", "polled"), "{e}");
    assert!(has_candidate(d, "nobody entered and approved"), "{e}");
}

#[test]
fn the_broker_signs_in_once_on_its_console_and_refreshes_after() {
    let peer = Peer::start("server.mjs");
    let home = Home::new();
    let cfg = home.dir.path().join("broker.toml");
    std::fs::write(
        &cfg,
        format!(
            "[profiles.tv]\ngrant = \"device-code\"\nissuer = \"{}\"\nclient_id = \"native-client\"\nscope = \"openid offline_access api:read\"\n",
            peer.base
        ),
    )
    .expect("write");
    let mut c = home.base();
    c.args(["--json", "serve", "broker", "--config"])
        .arg(&cfg)
        .args(["--port", "0", "--profile", "tv"]);
    let mut flow = Home::spawn(c);
    // The sign-in happens on the broker's console, before it serves.
    browse(&flow.verification_url(), &[]);
    let mut line = String::new();
    let mut out = BufReader::new(flow.child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("read");
    let started: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        panic!(
            "not the broker's start ({e}): {line:?}\n{}",
            flow.seen.join("\n")
        )
    });
    let port = started["port"].as_u64().expect("port") as u16;
    let secret = started["secret"].as_str().expect("secret").to_string();
    let ok = [("X-Credkit-Secret", secret.as_str())];
    let (status, body) = crate::serve::http(port, "GET", "/token/tv", &ok, "");
    assert_eq!(status, 200, "{body}");
    let first: Value = serde_json::from_str(&body).expect("json");
    let first_at = first["access_token"].as_str().expect("token").to_string();
    assert_eq!(claims(&first_at)["sub"], "alice");
    // A new token without another sign-in: the kept refresh token.
    let (status, body) = crate::serve::http(port, "GET", "/token/tv?refresh=1", &ok, "");
    assert_eq!(status, 200, "{body}\npeer log:\n{}", peer.log());
    let second: Value = serde_json::from_str(&body).expect("json");
    let second_at = second["access_token"].as_str().expect("token");
    assert_ne!(second_at, first_at);
    assert_eq!(claims(second_at)["sub"], "alice");
    // Stopped by the test (a signal): what it said on its console.
    let _ = flow.child.kill();
    let _ = flow.child.wait();
    flow.drain();
    let console = flow.seen.join("\n");
    assert_eq!(
        console.matches("enter the code").count(),
        1,
        "one sign-in only:\n{console}"
    );
    assert!(
        second.get("refresh_token").is_none(),
        "kept, not served: {body}"
    );
}
