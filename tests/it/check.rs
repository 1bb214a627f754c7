//! `credkit check`: every finding on a fixture that triggers it (exact id,
//! severity and exit code), a clean fixture, the JSON shape, and the claims
//! behind the findings cross-checked with openssl and keytool.

use crate::support::*;
use credkit::diagnostics::cas;
use credkit::target::MaskinportenEnv;
use serde_json::Value;
use std::collections::BTreeSet;

/// `credkit check --json FIXTURE ARGS...` with the fixture's password.
fn check(rel: &str, args: &[&str]) -> Run {
    let mut c = credkit();
    c.args(["check", "--json"])
        .arg(fixture(rel))
        .args(args)
        .env("CREDKIT_PASSWORD", password_for(rel));
    let r = run(c);
    r.assert_no_panic();
    r
}

/// `(severity, id)` of every finding, in report order.
fn ids(r: &Run) -> Vec<(String, String)> {
    r.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().expect("severity").to_string(),
                f["id"].as_str().expect("id").to_string(),
            )
        })
        .collect()
}

/// The finding with this id; fails (showing the report) when absent.
fn finding(r: &Run, id: &str) -> Value {
    r.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no finding {id}:\n{}\n{}", r.stdout, r.stderr))
}

fn assert_finding(r: &Run, severity: &str, id: &str, code: i32) -> Value {
    let f = finding(r, id);
    assert_eq!(f["severity"], severity, "{id}: {f}");
    assert_eq!(r.code, code, "{id}: exit code\n{}\n{}", r.stdout, r.stderr);
    f
}

fn assert_no_finding(r: &Run, id: &str) {
    assert!(
        !ids(r).iter().any(|(_, i)| i == id),
        "unexpected {id}:\n{}",
        r.stdout
    );
}

fn text(s: &Value) -> &str {
    s.as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Clean fixtures
// ---------------------------------------------------------------------------

#[test]
fn clean_business_certificate_for_maskinporten_test() {
    let r = check(
        "check/buypass-test-auth.p12",
        &[
            "--for",
            "maskinporten",
            "--env",
            "test",
            "--client-org",
            "123456785",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v = r.json();
    assert_eq!(v["fit"], true);
    assert_eq!(v["summary"]["errors"], 0);
    assert_eq!(v["summary"]["warnings"], 0);
    assert_eq!(v["entry"], "auth");
    assert_eq!(v["checked"]["org_number"], "123456785");
    // Only the note about how the (OpenSSL 3 default) file is protected.
    assert_eq!(
        ids(&r),
        vec![(
            "info".to_string(),
            "pkcs12-aes-not-legacy-readable".to_string()
        )]
    );

    // openssl agrees that the chain is whole and valid at the pinned clock.
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| path_str(&dir.path().join(n));
    let f = path_str(&fixture("check/buypass-test-auth.p12"));
    for (flag, out) in [("-clcerts", "leaf.pem"), ("-cacerts", "ca.pem")] {
        let pem = peer(
            "openssl",
            &[
                "pkcs12",
                "-in",
                &f,
                "-passin",
                "pass:changeit",
                "-nokeys",
                flag,
            ],
        );
        std::fs::write(dir.path().join(out), pem).expect("write");
    }
    let at = pinned_epoch();
    peer(
        "openssl",
        &[
            "verify",
            "-attime",
            &at,
            "-purpose",
            "sslclient",
            "-CAfile",
            &path_str(&fixture("ca/root.cert.pem")),
            "-untrusted",
            &p("ca.pem"),
            &p("leaf.pem"),
        ],
    );
}

#[test]
fn clean_text_output_says_fit() {
    let mut c = credkit();
    c.args(["check", "--for", "maskinporten", "--env", "test"])
        .arg(fixture("check/buypass-test-auth.p12"))
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    r.assert_ok();
    assert!(
        r.stdout
            .contains("checked entry \"auth\", for Maskinporten, --env test")
    );
    assert!(
        r.stdout.contains("0 errors, 0 warnings, 1 info"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .trim_end()
            .ends_with("Fit to sign Maskinporten grants."),
        "{}",
        r.stdout
    );
}

#[test]
fn generic_target_is_the_default_and_passes_the_auth_p12() {
    let r = check("p12/openssl3-aes-auth.p12", &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let v = r.json();
    assert_eq!(v["target"], "generic");
    assert_eq!(v["summary"]["errors"], 0);
    assert_eq!(v["summary"]["warnings"], 0);
}

// ---------------------------------------------------------------------------
// Which entry
// ---------------------------------------------------------------------------

#[test]
fn alias_not_found_suggests_the_case_insensitive_match() {
    for rel in ["jks/business-pair.jks", "p12/keytool-business-pair.p12"] {
        let r = check(rel, &["--alias", "Auth"]);
        let f = assert_finding(&r, "error", "alias-not-found", 1);
        assert!(
            text(&f["message"]).contains("did you mean \"auth\"?"),
            "{rel}: {f}"
        );
        for alias in ["\"auth\"", "\"sign\""] {
            assert!(text(&f["fix"]).contains(alias), "{rel}: lists {alias}: {f}");
        }
        assert!(text(&f["command"]).ends_with("--alias 'auth'"), "{f}");
        assert_eq!(r.json()["checked"], Value::Null);
    }
    let r = check("p12/openssl3-aes-auth.p12", &["--alias", "auth "]);
    let f = assert_finding(&r, "error", "alias-not-found", 1);
    assert!(text(&f["fix"]).contains("spaces"), "{f}");
}

#[test]
fn alias_lowercased_by_keytool() {
    // keytool itself shows the alias it stored.
    let listing = peer(
        "keytool",
        &[
            "-list",
            "-storetype",
            "JKS",
            "-keystore",
            &path_str(&fixture("check/keytool-lowercased.jks")),
            "-storepass",
            "changeit",
        ],
    );
    assert!(listing.contains("authentication certificate,"), "{listing}");
    let r = check(
        "check/keytool-lowercased.jks",
        &["--alias", "Authentication Certificate"],
    );
    let f = assert_finding(&r, "error", "alias-not-found", 1);
    assert!(
        text(&f["fix"]).contains("keytool stores JKS aliases in lower case"),
        "{f}"
    );
    assert!(
        text(&f["command"]).ends_with("--alias 'authentication certificate'"),
        "{f}"
    );
    // ...and the suggested command works.
    let r = check(
        "check/keytool-lowercased.jks",
        &["--alias", "authentication certificate"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn alias_of_a_trusted_certificate() {
    let r = check("jks/business-pair.jks", &["--alias", "testroot"]);
    let f = assert_finding(&r, "error", "alias-no-private-key", 1);
    assert_eq!(f["entry"], "testroot");
    assert!(text(&f["message"]).contains("trusted certificate"), "{f}");
    assert!(text(&f["why"]).contains("NullPointerException"), "{f}");
    assert!(text(&f["command"]).ends_with("--alias 'auth'"), "{f}");
}

#[test]
fn two_keys_and_one_can_sign_is_chosen_and_said() {
    for rel in ["jks/business-pair.jks", "p12/keytool-business-pair.p12"] {
        let r = check(rel, &["--for", "maskinporten"]);
        let f = assert_finding(&r, "info", "entry-selected", 0);
        assert_eq!(r.json()["entry"], "auth", "{rel}");
        assert_eq!(
            text(&f["message"]),
            "checked \"auth\" (organisation 123456785): of the 2 private keys in the file it is \
             the only one that can sign Maskinporten grants; the others cannot: \"sign\" because \
             its certificate's key usage is nonRepudiation only (the signing half of a business \
             certificate pair)",
            "{f}"
        );
    }
}

#[test]
fn two_keys_that_can_sign_are_ambiguous() {
    let r = check("p12/keytool-multi.p12", &[]);
    let f = assert_finding(&r, "error", "alias-ambiguous", 1);
    for alias in ["\"first\"", "\"second\""] {
        assert!(text(&f["message"]).contains(alias), "{f}");
    }
    assert!(!text(&f["message"]).contains("trustedroot"), "{f}");
    assert_eq!(r.json()["entry"], Value::Null);
    // Choosing one with --alias resolves it.
    let r = check("p12/keytool-multi.p12", &["--alias", "first"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = check(
        "p12/keytool-multi.p12",
        &["--alias", "second", "--for", "maskinporten"],
    );
    assert_finding(&r, "error", "key-algorithm-not-accepted", 1);
}

#[test]
fn files_without_a_private_key() {
    for rel in [
        "jks/truststore.jks",
        "p12/openssl3-truststore-nokeys.p12",
        "jwk/rsa-public.jwk",
        "pem/auth.cert.pem",
    ] {
        let r = check(rel, &[]);
        assert_finding(&r, "error", "no-private-key", 1);
        assert_eq!(r.json()["checked"], Value::Null, "{rel}");
    }
    let r = check("jks/truststore.jks", &[]);
    assert!(text(&finding(&r, "no-private-key")["why"]).contains("truststore"));
}

// ---------------------------------------------------------------------------
// Multi-purpose keystores (issue 19): two organisations of two vendors, a
// nonRepudiation-only certificate, RSA-1024 test keys and trusted CAs, made with
// openssl and keytool (fixtures/tools/make_check_stores.sh)
// ---------------------------------------------------------------------------

/// Org A's Buypass signing certificate, org B's Commfides authentication
/// certificate, three RSA-1024 keys, two CA certificates.
const MULTI_ORG: [&str; 2] = ["check/multi-org.jks", "check/multi-org.p12"];

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect()
}

/// `ids` without the findings about the file's protection (PKCS#12 only).
fn entry_ids(r: &Run) -> Vec<(String, String)> {
    ids(r)
        .into_iter()
        .filter(|(_, id)| !id.starts_with("pkcs12-"))
        .collect()
}

/// Every `command` of a report.
fn commands(r: &Run) -> Vec<String> {
    r.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["command"].as_str().map(str::to_owned))
        .collect()
}

const RSA1024: &str = "its RSA key has 1024 bits, fewer than the 2048 required";
const NON_REPUDIATION: &str = "its certificate's key usage is nonRepudiation only (the signing \
                               half of a business certificate pair)";

#[test]
fn no_pairing_across_organisations() {
    for rel in MULTI_ORG {
        let r = check(rel, &["--alias", "org-a-signing", "--for", "maskinporten"]);
        assert_eq!(
            entry_ids(&r),
            pairs(&[
                ("error", "key-usage-non-repudiation"),
                ("info", "env-detected")
            ]),
            "{rel}"
        );
        assert_eq!(r.code, 1);
        let f = finding(&r, "key-usage-non-repudiation");
        assert_eq!(f["entry"], "org-a-signing");
        assert_eq!(
            text(&f["message"]),
            "this is the non-repudiation certificate of a business certificate pair of \
             organisation 123456785 (key usage: nonRepudiation), not the authentication \
             certificate; this file holds no authentication certificate of organisation \
             123456785; \"org-b-authentication\" (organisation 987654325, Commfides TEST) is \
             another organisation's, not this pair's",
            "{rel}"
        );
        // The advice never points at the other organisation's certificate.
        assert!(!text(&f["fix"]).contains("org-b-authentication"), "{f}");
        assert!(text(&f["fix"]).contains("MP-122"), "{f}");
        assert_eq!(f["command"], Value::Null);
        assert!(
            commands(&r)
                .iter()
                .all(|c| !c.contains("org-b-authentication")),
            "{:?}",
            commands(&r)
        );
    }
    // The same in text.
    let mut c = credkit();
    c.args(["check", "--for", "maskinporten", "--alias", "org-a-signing"])
        .arg(fixture("check/multi-org.jks"))
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.lines().any(|l| l
            == "error[key-usage-non-repudiation]: this is the non-repudiation certificate of a \
                business certificate pair of organisation 123456785 (key usage: nonRepudiation), \
                not the authentication certificate; this file holds no authentication \
                certificate of organisation 123456785; \"org-b-authentication\" (organisation \
                987654325, Commfides TEST) is another organisation's, not this pair's"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("  run: "))
            .all(|l| !l.contains("org-b-authentication")),
        "{}",
        r.stdout
    );
}

#[test]
fn the_pair_is_the_same_organisations_authentication_certificate() {
    let r = check(
        "check/two-orgs.jks",
        &["--alias", "org-a-signing", "--for", "maskinporten"],
    );
    let f = assert_finding(&r, "error", "key-usage-non-repudiation", 1);
    assert_eq!(
        text(&f["message"]),
        "\"org-a-signing\" holds the non-repudiation certificate of a business certificate pair \
         (key usage: nonRepudiation); the authentication certificate is \"org-a-auth\", in this \
         same file"
    );
    assert_eq!(
        text(&f["command"]),
        format!(
            "credkit check {} --alias 'org-a-auth' --for maskinporten",
            path_str(&fixture("check/two-orgs.jks"))
        )
    );
}

#[test]
fn unusable_keys_are_never_chosen() {
    for rel in MULTI_ORG {
        for target in ["maskinporten", "generic"] {
            let r = check(rel, &["--for", target]);
            assert_eq!(r.json()["entry"], "org-b-authentication", "{rel} {target}");
            let f = assert_finding(&r, "info", "entry-selected", 0);
            let purpose = if target == "maskinporten" {
                "Maskinporten grants"
            } else {
                "JWT client assertions and grants"
            };
            assert_eq!(
                text(&f["message"]),
                format!(
                    "checked \"org-b-authentication\" (organisation 987654325): of the 5 private \
                     keys in the file it is the only one that can sign {purpose}; the others \
                     cannot: \"untrusted-client\" because {RSA1024}; \"org-a-signing\" because \
                     {NON_REPUDIATION}; \"test-client-2\" because {RSA1024}; \"test-client-1\" \
                     because {RSA1024}"
                ),
                "{rel}"
            );
            for c in commands(&r) {
                assert!(!c.contains("client'"), "an unusable key proposed: {c}");
            }
        }
    }
}

#[test]
fn several_candidates_are_listed_best_first_and_unusable_ones_apart() {
    let rel = "check/two-orgs.jks";
    let r = check(rel, &["--for", "maskinporten"]);
    assert_eq!(
        ids(&r),
        pairs(&[
            ("error", "alias-ambiguous"),
            ("info", "entries-cannot-sign")
        ])
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["entry"], Value::Null);
    assert_eq!(r.json()["checked"], Value::Null);
    let f = finding(&r, "alias-ambiguous");
    assert_eq!(
        text(&f["message"]),
        "the file holds 2 private keys that can sign Maskinporten grants, and no --alias says \
         which (best first): \"org-a-auth\" (RSA 2048; TESTORGANISASJON AS; organisation \
         123456785; Buypass TEST), \"org-b-expired\" (RSA 2048; ANDRE TESTBEDRIFT AS; \
         organisation 987654325; Commfides TEST; expired)"
    );
    assert_eq!(
        text(&f["command"]),
        format!(
            "credkit check {} --alias 'org-a-auth' --for maskinporten",
            path_str(&fixture(rel))
        )
    );
    assert!(text(&f["fix"]).contains("--client-org"), "{f}");
    let f = finding(&r, "entries-cannot-sign");
    assert_eq!(
        text(&f["message"]),
        format!(
            "2 private keys cannot sign Maskinporten grants, so they are not proposed: \
             \"org-a-signing\" because {NON_REPUDIATION}; \"test-client-1\" because {RSA1024}"
        )
    );
    assert_eq!(f["command"], Value::Null);

    // The same in text: the run line names the best candidate.
    let mut c = credkit();
    c.args(["check", "--for", "maskinporten"])
        .arg(fixture(rel))
        .env("CREDKIT_PASSWORD", "changeit");
    let t = run(c);
    assert_eq!(t.code, 1);
    let lines: Vec<&str> = t.stdout.lines().collect();
    let run_lines: Vec<&&str> = lines.iter().filter(|l| l.starts_with("  run: ")).collect();
    assert_eq!(
        run_lines,
        [&format!(
            "  run: credkit check {} --alias 'org-a-auth' --for maskinporten",
            path_str(&fixture(rel))
        )
        .as_str()]
    );
    assert!(
        lines.contains(&format!(
            "info[entries-cannot-sign]: 2 private keys cannot sign Maskinporten grants, so they \
             are not proposed: \"org-a-signing\" because {NON_REPUDIATION}; \"test-client-1\" \
             because {RSA1024}"
        )
        .as_str()),
        "{}",
        t.stdout
    );
}

#[test]
fn a_single_candidate_is_chosen_and_its_expiry_reported() {
    let rel = "check/two-orgs.jks";
    let r = check(rel, &["--for", "maskinporten", "--client-org", "987654325"]);
    assert_eq!(
        ids(&r),
        pairs(&[
            ("error", "certificate-expired"),
            ("info", "entry-selected"),
            ("info", "env-detected")
        ])
    );
    assert_eq!(r.code, 1);
    let v = r.json();
    assert_eq!(v["entry"], "org-b-expired");
    assert_eq!(v["checked"]["org_number"], "987654325");
    assert_eq!(v["checked"]["not_after"], "2022-12-31T23:59:59Z");
    assert_eq!(finding(&r, "certificate-expired")["entry"], "org-b-expired");
    assert_eq!(
        text(&finding(&r, "entry-selected")["message"]),
        format!(
            "checked \"org-b-expired\" (organisation 987654325): of the 4 private keys in the \
             file it is the only one that can sign Maskinporten grants for organisation \
             987654325; the others cannot: \"org-a-signing\" because {NON_REPUDIATION}, and its \
             certificate belongs to organisation 123456785, not 987654325; \"org-a-auth\" \
             because its certificate belongs to organisation 123456785, not 987654325; \
             \"test-client-1\" because {RSA1024}, and its certificate holds no organisation \
             number, so not 987654325"
        )
    );
    // The other organisation: its authentication certificate, and fit.
    let r = check(rel, &["--for", "maskinporten", "--client-org", "123456785"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["entry"], "org-a-auth");
}

#[test]
fn no_key_of_the_clients_organisation() {
    for rel in MULTI_ORG {
        let r = check(rel, &["--for", "maskinporten", "--client-org", "123456785"]);
        assert_eq!(
            entry_ids(&r),
            pairs(&[("error", "no-signing-key")]),
            "{rel}"
        );
        assert_eq!(r.code, 1);
        assert_eq!(r.json()["entry"], Value::Null);
        let f = finding(&r, "no-signing-key");
        assert_eq!(f["command"], Value::Null);
        assert_eq!(
            text(&f["message"]),
            format!(
                "none of the 5 private keys in the file can sign Maskinporten grants for \
                 organisation 123456785: \"untrusted-client\" because {RSA1024}, and its \
                 certificate holds no organisation number, so not 123456785; \"org-a-signing\" \
                 because {NON_REPUDIATION}; \"org-b-authentication\" because its certificate \
                 belongs to organisation 987654325, not 123456785; \"test-client-2\" because \
                 {RSA1024}, and its certificate holds no organisation number, so not 123456785; \
                 \"test-client-1\" because {RSA1024}, and its certificate holds no organisation \
                 number, so not 123456785"
            )
        );
    }
}

/// `jwt mint` signs with the entry `check` chooses, and refuses where it chooses none.
#[test]
fn jwt_mint_signs_with_the_entry_check_chooses() {
    let mint = |rel: &str, extra: &[&str]| {
        let mut c = credkit();
        c.args(["--json", "jwt", "mint", "--key"])
            .arg(fixture(rel))
            .args([
                "--profile",
                "maskinporten",
                "--iss",
                "client-1",
                "--aud",
                "https://test.maskinporten.no/",
                "--scope",
                "a:b",
            ])
            .args(extra)
            .env("CREDKIT_PASSWORD", "changeit");
        let r = run(c);
        r.assert_no_panic();
        r
    };
    for rel in MULTI_ORG {
        let r = mint(rel, &[]);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(
            r.json()["entry"],
            check(rel, &["--for", "maskinporten"]).json()["entry"]
        );
        assert_eq!(r.json()["entry"], "org-b-authentication");
    }
    // Several candidates: check chooses none, so mint signs with none, even with --force.
    let r = mint("check/two-orgs.jks", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = mint("check/two-orgs.jks", &["--force"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no private key credkit can choose"),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------
// Key and certificate
// ---------------------------------------------------------------------------

#[test]
fn key_that_is_not_the_certificates() {
    // openssl: the key's public half and the certificate's key differ.
    let f = path_str(&fixture("check/key-mismatch.pem"));
    let from_key = peer("openssl", &["pkey", "-in", &f, "-pubout"]);
    let from_cert = peer("openssl", &["x509", "-in", &f, "-pubkey", "-noout"]);
    assert_ne!(from_key, from_cert);

    let r = check("check/key-mismatch.pem", &["--for", "maskinporten"]);
    let f = assert_finding(&r, "error", "key-certificate-mismatch", 1);
    assert!(text(&f["why"]).contains("Invalid JWT signature"), "{f}");
    assert!(text(&f["command"]).starts_with("credkit inspect "), "{f}");
    // The matching pair is clean.
    let r = check("pem/key-and-chain.pem", &[]);
    assert_no_finding(&r, "key-certificate-mismatch");
}

#[test]
fn locked_key_without_a_password() {
    let mut c = credkit();
    c.args(["check", "--json", "--for", "maskinporten"])
        .arg(fixture("jks/business-pair.jks"));
    let r = run(c);
    assert_finding(&r, "warning", "key-locked", 0);
    assert_no_finding(&r, "key-certificate-mismatch");
}

#[test]
fn key_without_a_certificate() {
    let r = check("pem/rsa-pkcs8.key", &["--for", "maskinporten"]);
    let f = assert_finding(&r, "warning", "certificate-missing", 0);
    assert!(text(&f["command"]).contains("--to jwk"), "{f}");
    let r = check("pem/rsa-pkcs8.key", &["--for", "entra"]);
    assert_finding(&r, "warning", "certificate-missing", 0);
    let r = check("pem/rsa-pkcs8.key", &["--for", "okta"]);
    assert_finding(&r, "info", "certificate-missing", 0);
}

#[test]
fn rsa_1024() {
    let text_out = peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(&fixture("check/rsa1024.p12")),
            "-passin",
            "pass:changeit",
            "-nokeys",
            "-clcerts",
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let leaf = dir.path().join("leaf.pem");
    std::fs::write(&leaf, text_out).expect("write");
    let info = peer(
        "openssl",
        &["x509", "-noout", "-text", "-in", &path_str(&leaf)],
    );
    assert!(info.contains("Public-Key: (1024 bit)"), "{info}");

    let r = check("check/rsa1024.p12", &[]);
    let f = assert_finding(&r, "error", "key-too-small", 1);
    assert!(text(&f["message"]).contains("1024 bits"), "{f}");
}

#[test]
fn ec_key_for_each_target() {
    let r = check("check/ec-p256-business.p12", &["--for", "maskinporten"]);
    let f = assert_finding(&r, "error", "key-algorithm-not-accepted", 1);
    assert!(
        text(&f["message"]).contains("RS256, RS384 and RS512"),
        "{f}"
    );
    assert_eq!(r.json()["summary"]["errors"], 1, "only the algorithm");
    let r = check("check/ec-p256-business.p12", &["--for", "entra"]);
    assert_finding(&r, "error", "key-algorithm-not-accepted", 1);
    for ok in ["okta", "keycloak", "generic"] {
        let r = check("check/ec-p256-business.p12", &["--for", ok]);
        assert_eq!(r.code, 0, "{ok}: {}", r.stdout);
        assert_no_finding(&r, "key-algorithm-not-accepted");
    }
    // The self-signed EC P-256 fixture: also not a business certificate.
    let r = check("p12/openssl3-ec-p256.p12", &["--for", "maskinporten"]);
    assert_finding(&r, "error", "key-algorithm-not-accepted", 1);
    assert_finding(&r, "warning", "org-number-missing", 1);
}

#[test]
fn non_repudiation_certificate_alone() {
    let r = check("p12/openssl3-aes-sign.p12", &["--for", "maskinporten"]);
    let f = assert_finding(&r, "error", "key-usage-non-repudiation", 1);
    assert!(text(&f["fix"]).contains("Buypass"), "{f}");
    assert!(text(&f["fix"]).contains("Commfides"), "{f}");
    assert_eq!(f["command"], Value::Null);
}

#[test]
fn non_repudiation_certificate_names_the_other_alias() {
    for rel in ["jks/business-pair.jks", "p12/keytool-business-pair.p12"] {
        let r = check(rel, &["--alias", "sign", "--for", "maskinporten"]);
        let f = assert_finding(&r, "error", "key-usage-non-repudiation", 1);
        assert!(
            text(&f["message"]).contains("the authentication certificate is \"auth\""),
            "{f}"
        );
        assert_eq!(
            text(&f["command"]),
            format!(
                "credkit check {} --alias 'auth' --for maskinporten",
                path_str(&fixture(rel))
            )
        );
    }
}

#[test]
fn encryption_only_certificate() {
    let r = check("check/enc-only.p12", &[]);
    let f = assert_finding(&r, "error", "key-usage-no-signature", 1);
    assert!(text(&f["message"]).contains("keyEncipherment, dataEncipherment"));
}

#[test]
fn server_auth_only_eku() {
    let r = check("check/eku-server-auth.p12", &[]);
    let f = assert_finding(&r, "warning", "eku-not-client-auth", 0);
    assert!(text(&f["message"]).contains("serverAuth"), "{f}");
}

// ---------------------------------------------------------------------------
// Validity
// ---------------------------------------------------------------------------

fn not_after(rel: &str) -> String {
    let pem = peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(&fixture(rel)),
            "-passin",
            "pass:changeit",
            "-nokeys",
            "-clcerts",
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let leaf = dir.path().join("leaf.pem");
    std::fs::write(&leaf, pem).expect("write");
    peer(
        "openssl",
        &[
            "x509",
            "-noout",
            "-enddate",
            "-dateopt",
            "iso_8601",
            "-in",
            &path_str(&leaf),
        ],
    )
}

#[test]
fn expired() {
    assert!(not_after("check/expired.p12").contains("2022-12-31"));
    let r = check("check/expired.p12", &[]);
    let f = assert_finding(&r, "error", "certificate-expired", 1);
    assert!(text(&f["message"]).contains("expired on 2022-12-31"), "{f}");
}

#[test]
fn not_yet_valid() {
    let r = check("check/not-yet-valid.p12", &[]);
    let f = assert_finding(&r, "error", "certificate-not-yet-valid", 1);
    assert!(
        text(&f["message"]).contains("2027-01-01 (in 39 days)"),
        "{f}"
    );
}

#[test]
fn expiring_within_the_warning_window() {
    assert!(not_after("check/expiring.p12").contains("2026-12-10"));
    let r = check("check/expiring.p12", &[]);
    let f = assert_finding(&r, "warning", "certificate-expiring", 0);
    assert!(text(&f["message"]).contains("in 16 days"), "{f}");
    // A shorter window: no warning. A later clock: expired.
    let r = check("check/expiring.p12", &["--expiry-warning", "10"]);
    assert_no_finding(&r, "certificate-expiring");
    assert_eq!(r.code, 0);
    let mut c = credkit();
    c.args(["check", "--json", "--now", "2026-12-11T00:00:00Z"])
        .arg(fixture("check/expiring.p12"))
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_finding(&r, "error", "certificate-expired", 1);
}

// ---------------------------------------------------------------------------
// Chain
// ---------------------------------------------------------------------------

fn pinned_epoch() -> String {
    time::OffsetDateTime::parse(NOW, &time::format_description::well_known::Rfc3339)
        .expect("NOW")
        .unix_timestamp()
        .to_string()
}

#[test]
fn chain_missing_the_intermediate() {
    // openssl cannot verify the leaf with only the root.
    let out = std::process::Command::new("openssl")
        .args(["verify", "-attime", &pinned_epoch(), "-CAfile"])
        .arg(fixture("check/missing-intermediate.pem"))
        .arg(fixture("business/auth.cert.pem"))
        .output()
        .expect("openssl");
    assert!(!out.status.success());

    let r = check("check/missing-intermediate.pem", &["--for", "maskinporten"]);
    let f = assert_finding(&r, "warning", "chain-missing-intermediate", 0);
    assert!(
        text(&f["message"]).contains("Credkit Test Intermediate CA"),
        "{f}"
    );
    assert!(text(&f["message"]).contains("Credkit Test Root CA"), "{f}");
    assert_no_finding(&r, "entry-selected");
}

#[test]
fn chain_out_of_order() {
    // openssl lists the certificates in file order: root before intermediate.
    let listing = peer(
        "bash",
        &[
            "-c",
            &format!(
                "openssl crl2pkcs7 -nocrl -certfile {} | openssl pkcs7 -print_certs -noout",
                path_str(&fixture("check/chain-out-of-order.pem"))
            ),
        ],
    );
    let root = listing.find("subject=C = NO, O = Credkit Test CA, CN = Credkit Test Root CA");
    let int =
        listing.find("subject=C = NO, O = Credkit Test CA, CN = Credkit Test Intermediate CA");
    assert!(
        root.expect("root") < int.expect("intermediate"),
        "{listing}"
    );

    let r = check("check/chain-out-of-order.pem", &[]);
    let f = assert_finding(&r, "warning", "chain-order", 0);
    assert!(text(&f["command"]).contains("--to pem"), "{f}");
    assert_no_finding(&r, "chain-missing-intermediate");
    // The same certificates in order: no finding.
    let r = check("pem/key-and-chain.pem", &[]);
    assert_no_finding(&r, "chain-order");
    assert_eq!(ids(&r), vec![], "{}", r.stdout);
}

#[test]
fn chain_with_only_the_leaf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("leaf-only.pem");
    let mut data = std::fs::read(fixture("business/auth.key.pem")).expect("key");
    data.extend(std::fs::read(fixture("business/auth.cert.pem")).expect("cert"));
    std::fs::write(&p, data).expect("write");
    let mut c = credkit();
    c.args(["check", "--json", "--for", "maskinporten"]).arg(&p);
    let r = run(c);
    let f = assert_finding(&r, "info", "chain-incomplete", 0);
    assert!(text(&f["why"]).contains("jwt-grant-generator"), "{f}");
}

// ---------------------------------------------------------------------------
// Organisation and environment
// ---------------------------------------------------------------------------

#[test]
fn organisation_number() {
    let r = check("check/no-orgnumber.p12", &["--for", "maskinporten"]);
    assert_finding(&r, "warning", "org-number-missing", 0);
    let r = check("check/no-orgnumber.p12", &["--client-org", "123456785"]);
    assert_finding(&r, "error", "org-number-missing", 1);
    // generic, no --client-org: not checked
    let r = check("check/no-orgnumber.p12", &[]);
    assert_no_finding(&r, "org-number-missing");

    let r = check("p12/openssl3-aes-auth.p12", &["--client-org", "987654325"]);
    let f = assert_finding(&r, "error", "org-number-mismatch", 1);
    assert!(
        text(&f["message"]).contains("123456785, not 987654325"),
        "{f}"
    );
    assert!(text(&f["why"]).contains("MP-122"), "{f}");
    for same in ["123456785", "123 456 785", "NTRNO-123456785"] {
        let r = check("p12/openssl3-aes-auth.p12", &["--client-org", same]);
        assert_eq!(r.code, 0, "{same}: {}", r.stdout);
    }
}

#[test]
fn invalid_client_org_is_a_usage_error() {
    let r = check("p12/openssl3-aes-auth.p12", &["--client-org", "123456789"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let e = r.error_json();
    assert_eq!(e["error"]["code"], "usage");
    assert!(text(&e["error"]["message"]).contains("check digit"), "{e}");
    assert!(r.stdout.is_empty());
}

/// The issuer CN as openssl prints it.
fn issuer_cn(rel: &str) -> String {
    let pem = peer(
        "openssl",
        &[
            "pkcs12",
            "-in",
            &path_str(&fixture(rel)),
            "-passin",
            "pass:changeit",
            "-nokeys",
            "-clcerts",
        ],
    );
    let line = pem
        .lines()
        .find(|l| l.starts_with("issuer="))
        .expect("issuer line")
        .to_string();
    line.rsplit("CN = ").next().expect("CN").trim().to_string()
}

#[test]
fn look_alike_cas_are_in_the_table() {
    for (rel, env) in [
        ("check/buypass-test-auth.p12", MaskinportenEnv::Test),
        ("check/buypass-prod-auth.p12", MaskinportenEnv::Prod),
        ("check/commfides-test-auth.p12", MaskinportenEnv::Test),
        ("check/commfides-prod-auth.p12", MaskinportenEnv::Prod),
    ] {
        let cn = issuer_cn(rel);
        let known = cas::ISSUING_CAS
            .iter()
            .find(|c| c.common_name == cn)
            .unwrap_or_else(|| panic!("{rel}: {cn} not in the CA table"));
        assert_eq!(known.env, env, "{rel}");
    }
}

#[test]
fn test_certificate_in_prod_and_the_reverse() {
    for (rel, env, id) in [
        (
            "check/buypass-test-auth.p12",
            "prod",
            "env-test-cert-in-prod",
        ),
        (
            "check/commfides-test-auth.p12",
            "prod",
            "env-test-cert-in-prod",
        ),
        (
            "check/buypass-prod-auth.p12",
            "test",
            "env-prod-cert-in-test",
        ),
        (
            "check/commfides-prod-auth.p12",
            "test",
            "env-prod-cert-in-test",
        ),
    ] {
        let r = check(rel, &["--for", "maskinporten", "--env", env]);
        let f = assert_finding(&r, "error", id, 1);
        assert!(text(&f["message"]).contains(&issuer_cn(rel)), "{f}");
        assert_eq!(r.json()["summary"]["errors"], 1, "{rel}: {}", r.stdout);
        // The right environment is clean.
        let other = if env == "prod" { "test" } else { "prod" };
        let r = check(rel, &["--for", "maskinporten", "--env", other]);
        assert_eq!(r.code, 0, "{rel} --env {other}: {}", r.stdout);
        assert_eq!(r.json()["summary"]["warnings"], 0, "{rel}: {}", r.stdout);
    }
}

#[test]
fn unknown_issuer_with_env_and_detected_env_without() {
    let r = check(
        "p12/openssl3-aes-auth.p12",
        &["--for", "maskinporten", "--env", "test"],
    );
    let f = assert_finding(&r, "warning", "env-unknown-issuer", 0);
    assert!(
        text(&f["message"]).contains("Credkit Test Intermediate CA"),
        "{f}"
    );

    let r = check("check/buypass-prod-auth.p12", &["--for", "maskinporten"]);
    let f = assert_finding(&r, "info", "env-detected", 0);
    assert!(
        text(&f["message"]).contains("use it only against maskinporten.no"),
        "{f}"
    );
    assert!(
        text(&f["command"]).ends_with("--for maskinporten --env prod"),
        "{f}"
    );
}

// ---------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------

#[test]
fn legacy_rc2_pkcs12() {
    // The claim: OpenSSL 3 reads it only with -legacy.
    let f = path_str(&fixture("p12/openssl3-legacy-auth.p12"));
    let plain = std::process::Command::new("openssl")
        .args([
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            &f,
            "-passin",
            "pass:changeit",
        ])
        .output()
        .expect("openssl");
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("RC2-40-CBC"));
    peer(
        "openssl",
        &[
            "pkcs12",
            "-info",
            "-noout",
            "-legacy",
            "-in",
            &f,
            "-passin",
            "pass:changeit",
        ],
    );

    let r = check("p12/openssl3-legacy-auth.p12", &[]);
    let f = assert_finding(&r, "info", "pkcs12-rc2-needs-legacy", 0);
    assert!(text(&f["command"]).contains("--to pkcs12"), "{f}");
    assert!(!text(&f["command"]).contains("--legacy"), "{f}");
    assert_no_finding(&r, "pkcs12-aes-not-legacy-readable");
}

#[test]
fn aes_pkcs12() {
    let info = peer(
        "bash",
        &[
            "-c",
            &format!(
                "openssl pkcs12 -info -noout -in {} -passin pass:changeit 2>&1",
                path_str(&fixture("p12/openssl3-aes-auth.p12"))
            ),
        ],
    );
    assert!(info.contains("AES-256-CBC"), "{info}");
    let r = check("p12/openssl3-aes-auth.p12", &[]);
    let f = assert_finding(&r, "info", "pkcs12-aes-not-legacy-readable", 0);
    assert!(
        text(&f["message"]).contains("AES-256-CBC and a SHA-256 MAC"),
        "{f}"
    );
    assert!(text(&f["command"]).ends_with("--to pkcs12 --legacy"), "{f}");
    // A 3DES / SHA-1 file gets neither note.
    let r = check("p12/openssl3-3des-auth.p12", &[]);
    assert_no_finding(&r, "pkcs12-aes-not-legacy-readable");
    assert_no_finding(&r, "pkcs12-rc2-needs-legacy");
}

#[test]
fn jks_key_password_differs() {
    // keytool: the key opens with keypass1, not with the store password.
    let f = path_str(&fixture("jks/keypass-differs.jks"));
    let certreq = |keypass: &str| {
        std::process::Command::new("keytool")
            .args([
                "-certreq",
                "-alias",
                "mykey",
                "-keystore",
                &f,
                "-storepass",
                "changeit",
                "-keypass",
                keypass,
            ])
            .output()
            .expect("keytool")
            .status
            .success()
    };
    assert!(certreq("keypass1"));
    assert!(!certreq("changeit"));

    let mut c = credkit();
    c.args(["check", "--json", "--key-password-env", "KP"])
        .arg(fixture("jks/keypass-differs.jks"))
        .env("CREDKIT_PASSWORD", "changeit")
        .env("KP", "keypass1");
    let r = run(c);
    let f = assert_finding(&r, "info", "jks-key-password-differs", 0);
    assert!(text(&f["command"]).starts_with("keytool -keypasswd"), "{f}");
    // The same password given as key password: no finding.
    let mut c = credkit();
    c.args(["check", "--json", "--key-password-env", "KP"])
        .arg(fixture("jks/business-pair.jks"))
        .env("CREDKIT_PASSWORD", "changeit")
        .env("KP", "changeit");
    assert_no_finding(&run(c), "jks-key-password-differs");
    // Without the key password the store is read, and the locked key is
    // reported with the option that opens it.
    let r = check("jks/keypass-differs.jks", &[]);
    let f = assert_finding(&r, "warning", "key-locked", 0);
    assert!(text(&f["fix"]).contains("--key-password-"), "{f}");
}

#[test]
fn unreadable_file_exits_2() {
    let r = check("corrupt/truncated.p12", &[]);
    assert_eq!(r.code, 2);
    assert_eq!(r.error_json()["error"]["code"], "input-malformed");
    assert!(r.stdout.is_empty());
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

#[test]
fn json_shape() {
    let r = check(
        "jks/business-pair.jks",
        &["--alias", "sign", "--for", "maskinporten"],
    );
    let v = r.json();
    let keys: BTreeSet<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "schema",
            "file",
            "now",
            "target",
            "env",
            "entry",
            "checked",
            "findings",
            "summary",
            "fit",
            "revocation"
        ])
    );
    assert_eq!(v["schema"], "credkit.check/1");
    assert_eq!(v["now"], NOW);
    assert_eq!(v["target"], "maskinporten");
    assert_eq!(v["env"], Value::Null);
    assert_eq!(v["entry"], "sign");
    assert_eq!(v["fit"], false);
    assert_eq!(v["revocation"], Value::Null, "only with --revocation");
    let checked: BTreeSet<&str> = v["checked"]
        .as_object()
        .expect("checked")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        checked,
        BTreeSet::from(["key", "subject", "issuer", "not_after", "org_number"])
    );
    let catalogue: BTreeSet<&str> = credkit::diagnostics::findings::CATALOGUE
        .iter()
        .map(|(id, _, _)| *id)
        .collect();
    let findings = v["findings"].as_array().expect("findings");
    let mut last = 0;
    for f in findings {
        let k: BTreeSet<&str> = f
            .as_object()
            .expect("finding")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            k,
            BTreeSet::from([
                "severity", "id", "entry", "message", "why", "fix", "command"
            ])
        );
        assert!(catalogue.contains(text(&f["id"])), "{f}");
        for field in ["message", "why", "fix"] {
            assert!(!text(&f[field]).is_empty(), "{field}: {f}");
        }
        let rank = ["error", "warning", "info"]
            .iter()
            .position(|s| f["severity"] == *s)
            .expect("severity");
        assert!(rank >= last, "errors, then warnings, then infos");
        last = rank;
    }
    let count = |s: &str| findings.iter().filter(|f| f["severity"] == s).count();
    assert_eq!(v["summary"]["errors"], count("error"));
    assert_eq!(v["summary"]["warnings"], count("warning"));
    assert_eq!(v["summary"]["infos"], count("info"));
}

#[test]
fn text_output_reads_as_blocks() {
    let mut c = credkit();
    c.args(["check", "--for", "maskinporten"])
        .arg(fixture("p12/openssl3-aes-sign.p12"))
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("error[key-usage-non-repudiation]: "))
        .expect("error line");
    assert!(lines[at + 1].starts_with("  why: "), "{}", r.stdout);
    assert!(lines.iter().skip(at).any(|l| l.starts_with("  fix: ")));
    assert!(
        lines.contains(&"1 error, 0 warnings, 1 info"),
        "{}",
        r.stdout
    );
    assert_eq!(
        lines.last().copied(),
        Some("NOT fit to sign Maskinporten grants: fix the error above.")
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn hostile_alias_is_escaped_in_text() {
    // keytool accepts an alias with an escape sequence in it.
    let dir = tempfile::tempdir().expect("tempdir");
    let jks = dir.path().join("evil.jks");
    keytool_import(
        Store::new(&fixture("p12/openssl3-aes-auth.p12"), "PKCS12", "changeit"),
        Store::new(&jks, "JKS", "changeit"),
        &[
            "-srcalias",
            "auth",
            "-destkeypass",
            "changeit",
            "-destalias",
            "evil\u{1b}[31m",
        ],
    );
    let mut c = credkit();
    c.args(["check", "--alias", "nope"])
        .arg(&jks)
        .env("CREDKIT_PASSWORD", "changeit");
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains('\u{1b}'), "raw escape on stdout");
    assert!(r.stdout.contains("evil\\u{1b}[31m"), "{}", r.stdout);
}

#[test]
fn standard_input() {
    use std::io::Write;
    let mut c = credkit();
    c.args(["check", "--json", "-"])
        .env("CREDKIT_PASSWORD", "changeit")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let data = std::fs::read(fixture("check/expired.p12")).expect("read");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&data)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["file"], "-");
    assert!(
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["id"] == "certificate-expired")
    );
}

#[test]
fn help_has_examples_and_exit_status() {
    let mut c = credkit();
    c.args(["check", "--help"]);
    let r = run(c);
    r.assert_ok();
    for s in [
        "--alias",
        "--for",
        "--env",
        "--client-org",
        "--expiry-warning",
        "--password-file",
        "Examples:",
        "Exit status:",
        "maskinporten",
    ] {
        assert!(r.stdout.contains(s), "help lacks {s}:\n{}", r.stdout);
    }
}

#[test]
fn readme_lists_every_finding_id() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    // The rows of the table under "### Findings" in the check section, in order.
    let section = readme
        .split("\n### Findings\n")
        .nth(1)
        .expect("a Findings section");
    let table: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("| id |"))
        .skip(2)
        .take_while(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1))
        .collect();
    let catalogue: Vec<&str> = credkit::diagnostics::findings::CATALOGUE
        .iter()
        .map(|(id, _, _)| *id)
        .collect();
    assert_eq!(
        table, catalogue,
        "README findings table vs findings::CATALOGUE"
    );
    for needle in ["same organisation number", "same CA family", "best first"] {
        assert!(section.contains(needle), "README findings lack {needle:?}");
    }
}
