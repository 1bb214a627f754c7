//! README.md of `keygen --fixture-set`: what each file is for and what a
//! checker is meant to report for it. The set itself (which credentials,
//! which files) is decided in [`crate::cert::fixture_set`]; the words that
//! name commands and flags live here, in the README and in the text files
//! (`mock-clients.toml`, the revocation list).

use crate::cert::fixture_set::{
    CRL, FixtureSet, Item, MOCK_CLIENT_IDS, MOCK_CLIENTS, ORG1, ORG2, REVOCATION_LIST,
};

/// How the set was written, for the README.
#[derive(Debug, Clone)]
pub(crate) struct ReadmeInfo<'a> {
    pub(crate) password: &'a str,
    pub(crate) seed: Option<&'a str>,
    /// `--now`, RFC 3339.
    pub(crate) now: &'a str,
    pub(crate) clear_pem: bool,
    pub(crate) private_jwk: bool,
    pub(crate) legacy: bool,
}

/// What a certificate-only file is for.
fn cert_file_purpose(name: &str) -> &'static str {
    match name {
        "ca-root.cert.pem" => "the root CA certificate, the trust anchor (openssl verify -CAfile)",
        "ca-intermediate.cert.pem" => "the intermediate CA certificate (openssl verify -untrusted)",
        "ca-chain.pem" => "intermediate and root, for servers that want the whole chain",
        _ => "",
    }
}

/// What a credential is for, and what a checker is meant to report for it
/// (`-` for a good credential).
fn item_purpose(name: &str) -> (&'static str, &'static str) {
    match name {
        "ca-root" => ("root CA with its key (issues the intermediate)", "-"),
        "ca-intermediate" => (
            "intermediate CA with its key (issues every end-entity certificate here); use it with `credkit keygen --ca`",
            "-",
        ),
        "org1-auth" => (
            "business certificate, authentication half (digitalSignature, keyEncipherment, clientAuth): sign Maskinporten grants with this one",
            "-",
        ),
        "org1-sign" => (
            "business certificate, signing half (nonRepudiation only)",
            "-",
        ),
        "org1-pair" => (
            "the auth and sign certificates above in one store, aliases auth and sign, the way Buypass and Commfides deliver them",
            "-",
        ),
        "org2-auth" => (
            "business certificate (auth) for a second organisation, e.g. for a wrong-organisation test",
            "-",
        ),
        "expired" => (
            "org1 auth certificate whose validity ended 30 days before --now",
            "expired",
        ),
        "not-yet-valid" => (
            "org1 auth certificate whose validity starts 30 days after --now",
            "not yet valid",
        ),
        "wrong-key" => (
            "org1 auth certificate stored with a private key that is not the certificate's",
            "the private key does not match the certificate",
        ),
        "missing-intermediate" => (
            "org1 auth certificate whose chain is leaf then root: the intermediate is left out",
            "incomplete chain: the issuing intermediate CA is missing",
        ),
        "weak-rsa1024" => (
            "org1 auth certificate with an RSA 1024-bit key",
            "weak key: RSA 1024 bits",
        ),
        "revoked" => (
            "org1 auth certificate the intermediate CA has revoked (keyCompromise, at --now): listed in ca-intermediate.revoked.toml and ca-intermediate.crl.pem",
            "revoked: `check --revocation` against `credkit serve revocation`; MP-120 from the look-alike with --revocation-list",
        ),
        "ocsp-responder" => (
            "delegated OCSP responder of the intermediate CA (EKU OCSPSigning, ocsp-nocheck): `credkit serve revocation --responder`",
            "-",
        ),
        _ => ("", ""),
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn day(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            let f = time::macros::format_description!("[year]-[month]-[day]");
            t.format(&f).ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// README.md for the set: files, password, purpose and intended finding.
pub(crate) fn readme(set: &FixtureSet, info: &ReadmeInfo<'_>) -> String {
    let mut s = String::new();
    intro(&mut s, info);
    passwords(&mut s, info);
    trust(&mut s, set);
    credentials(&mut s, set);
    if set.mock_clients.is_some() {
        local_maskinporten(&mut s);
    }
    if set.crl.is_some() {
        revocation(&mut s);
    }
    s
}

fn intro(s: &mut String, info: &ReadmeInfo<'_>) {
    s.push_str("# Test credentials made by credkit\n\n");
    s.push_str(&format!(
        "Made by `credkit keygen --fixture-set` (credkit {}) with `--now {}`, ",
        env!("CARGO_PKG_VERSION"),
        info.now
    ));
    match info.seed {
        Some(seed) => s.push_str(&format!(
            "seed `{}`: the same command with the same seed and `--now` makes the same bytes again.\n\n",
            cell(seed)
        )),
        None => s.push_str("no seed: the keys are random.\n\n"),
    }
    s.push_str(
        "**For tests only.** These are not real business certificates: the CA is made up and \
         the organisation numbers belong to no one. Dates are counted from `--now`, so pin your \
         tests' clock to it (or regenerate the set).\n\n",
    );
}

fn passwords(s: &mut String, info: &ReadmeInfo<'_>) {
    s.push_str("## Passwords\n\n");
    s.push_str(&format!(
        "- Every `.p12` and `.jks` file: `{}`{}. JKS key passwords are the store password.\n",
        cell(info.password),
        if info.legacy {
            " (PKCS#12 in the legacy 3DES/SHA-1 form, for Java 8)"
        } else {
            ""
        }
    ));
    if info.clear_pem {
        s.push_str("- `.pem` files: private keys are not encrypted (`--no-encrypt`).\n");
    } else {
        s.push_str(&format!(
            "- `.pem` files: private keys are encrypted PKCS#8 (PBES2, AES-256) with `{}`.\n",
            cell(info.password)
        ));
    }
    if info.private_jwk {
        s.push_str(
            "- `.jwk` and `.jwks` files hold the private key in the clear (`--private`).\n\n",
        );
    } else {
        s.push_str(
            "- `.jwk` and `.jwks` files hold public keys (with `x5c`), as you register them with \
             Maskinporten, Okta or Entra ID.\n\n",
        );
    }
}

fn trust(s: &mut String, set: &FixtureSet) {
    s.push_str("## Trust\n\n");
    for f in &set.cert_files {
        s.push_str(&format!("- `{}`: {}\n", f.name, cert_file_purpose(f.name)));
    }
    s.push_str(
        "\n```sh\nopenssl verify -CAfile ca-root.cert.pem -untrusted ca-intermediate.cert.pem org1-auth.pem\n```\n\n",
    );
}

fn credentials(s: &mut String, set: &FixtureSet) {
    s.push_str("## Credentials\n\n");
    s.push_str(
        "Each credential NAME is written as `NAME.p12`, `NAME.jks`, `NAME.pem` (key, \
         certificate, chain) and `NAME.jwk` (`NAME.jwks` when it holds two keys).\n\n",
    );
    s.push_str(
        "| name | files | aliases | subject | key | valid (UTC) | purpose | intended finding |\n",
    );
    s.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for item in &set.items {
        s.push_str(&credential_row(item));
    }
    s.push_str(&format!(
        "\nOrganisation numbers: {ORG1} (org1) and {ORG2} (org2). Business subjects carry \
         `organizationIdentifier=NTRNO-<number>` and `serialNumber=<number>`.\n"
    ));
}

fn credential_row(item: &Item) -> String {
    let files: Vec<String> = item.files().into_iter().map(|(f, _)| f).collect();
    let aliases: Vec<&str> = item
        .entries
        .iter()
        .filter_map(|e| e.alias.as_deref())
        .collect();
    let first = item.entries.first();
    let leaf = first.and_then(|e| e.chain.first());
    let (purpose, finding) = item_purpose(item.name);
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
        item.name,
        files.join(", "),
        aliases.join(", "),
        leaf.map(|c| cell(&c.subject.to_display()))
            .unwrap_or_default(),
        first
            .and_then(|e| e.private_key.as_ref())
            .map(|k| k.describe().to_string())
            .unwrap_or_default(),
        leaf.map(|c| format!("{} to {}", day(c.not_before), day(c.not_after)))
            .unwrap_or_default(),
        cell(purpose),
        cell(finding),
    )
}

fn local_maskinporten(s: &mut String) {
    let [cert1, key1, cert2] = MOCK_CLIENT_IDS;
    s.push_str(&format!(
        "\n## Local Maskinporten\n\n\
         `{MOCK_CLIENTS}` registers clients for credkit's local Maskinporten look-alike \
         (trust `ca-chain.pem`, or `ca-root.cert.pem` when grants carry the intermediate \
         in `x5c`). Every client has the scopes `test:read` and `test:write`.\n\n\
         | client_id | organisation | authenticates with |\n\
         | --- | --- | --- |\n\
         | `{cert1}` | {ORG1} | `org1-auth` certificate (`x5c`) |\n\
         | `{key1}` | {ORG1} | `org1-auth.jwk` registered key (`kid` = its RFC 7638 thumbprint) |\n\
         | `{cert2}` | {ORG2} | `org2-auth` certificate (`x5c`) |\n"
    ));
}

fn revocation(s: &mut String) {
    s.push_str(&format!(
        "\n## Revocation\n\n\
         Certificates issued here carry certificatePolicies (Buypass's test policy \
         2.16.578.1.26.1.0.3.2 for business certificates), a CRL distribution point and \
         authority information access (OCSP, caIssuers) under the revocation base URL \
         (default `http://127.0.0.1:7825`, where `credkit serve revocation` listens).\n\n\
         - `{REVOCATION_LIST}`: the intermediate CA's revocation list; it revokes `revoked` \
         (keyCompromise). Add more with `credkit keygen --revoke CERT --ca ca-intermediate.p12`.\n\
         - `{CRL}`: the intermediate's CRL as of `--now`, valid as long as the end-entity \
         certificates (`openssl crl -in {CRL} -CAfile ca-chain.pem -verify`).\n\
         - `ocsp-responder`: a delegated OCSP responder for the intermediate.\n\n\
         ```sh\n\
         credkit serve revocation --ca ca-intermediate.p12 --ca ca-root.p12 --responder ocsp-responder.p12\n\
         openssl ocsp -issuer ca-intermediate.cert.pem -cert revoked.pem -url http://127.0.0.1:7825/ocsp -CAfile ca-chain.pem\n\
         credkit serve mock-maskinporten --ca ca-chain.pem --clients {MOCK_CLIENTS} --revocation-list {REVOCATION_LIST}\n\
         ```\n"
    ));
}

/// The set's text files (name, text), in writing order before README.md:
/// [`MOCK_CLIENTS`], [`REVOCATION_LIST`] and [`CRL`].
pub(crate) fn text_files(set: &FixtureSet) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if let Some(m) = &set.mock_clients {
        files.push((MOCK_CLIENTS.to_string(), mock_clients(&m.kid, m.rsa)));
    }
    if let Some(crl) = &set.crl {
        files.push((
            REVOCATION_LIST.to_string(),
            super::revocation::list_file(&set.revocation_list),
        ));
        files.push((CRL.to_string(), crl.clone()));
    }
    files
}

/// The text of [`MOCK_CLIENTS`]. `kid` is org1-auth's RFC 7638 thumbprint
/// (the kid its .jwk file carries); `rsa` says whether the set's keys can
/// sign Maskinporten grants (RS256). Its comments name the commands that
/// made it and the flags that change it.
pub(crate) fn mock_clients(kid: &str, rsa: bool) -> String {
    let [cert1, key1, cert2] = MOCK_CLIENT_IDS;
    let mut s = String::from(
        "# Clients of credkit's local Maskinporten look-alike, made by\n\
         # `credkit keygen --fixture-set`. Trust ca-chain.pem (or ca-root.cert.pem when\n\
         # grants carry the intermediate in x5c).\n",
    );
    if !rsa {
        s.push_str(
            "#\n# NOTE: this set's keys are not RSA, and Maskinporten grants are RS256, RS384\n\
             # or RS512: grants signed with them are refused (MP-124). Make the set with\n\
             # --algorithm rsa2048 to use these clients.\n",
        );
    }
    s.push_str(&format!(
        "\n# Scopes that exist only for user login (asking for one gets MP-201).\n\
         user_login_scopes = [\"openid\", \"profile\"]\n\
         \n\
         # org1 with its business certificate: sign grants with org1-auth, x5c in the header.\n\
         [[client]]\n\
         client_id = \"{cert1}\"\n\
         org = \"{ORG1}\"\n\
         scopes = [\"test:read\", \"test:write\"]\n\
         \n\
         # org1 with a registered key: sign grants with org1-auth, kid in the header.\n\
         [[client]]\n\
         client_id = \"{key1}\"\n\
         org = \"{ORG1}\"\n\
         scopes = [\"test:read\", \"test:write\"]\n\
         auth = \"key\"\n\
         keys = [{{ kid = \"{kid}\", file = \"org1-auth.jwk\" }}]\n\
         \n\
         # org2 with its business certificate: sign grants with org2-auth, x5c in the header.\n\
         [[client]]\n\
         client_id = \"{cert2}\"\n\
         org = \"{ORG2}\"\n\
         scopes = [\"test:read\", \"test:write\"]\n\
         \n\
         # More: token_lifetime = 600, force_error = \"MP-250\", delegations with\n\
         # consumers = {{ \"{ORG2}\" = [\"test:read\"] }}, restricted scopes with\n\
         # [access] \"test:restricted\" = [\"{ORG1}\"].\n"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::extensions::Realism;
    use crate::cert::fixture_set::{CERT_FILES, ITEMS, Randomness, build};
    use crate::key::Curve;
    use crate::key::generate::KeySpec;

    #[test]
    fn every_file_and_credential_has_a_purpose() {
        for name in CERT_FILES {
            assert!(!cert_file_purpose(name).is_empty(), "{name}");
        }
        for name in ITEMS {
            let (purpose, finding) = item_purpose(name);
            assert!(!purpose.is_empty() && !finding.is_empty(), "{name}");
        }
    }

    #[test]
    fn the_readme_names_every_file_the_password_and_the_clients() {
        let set = build(
            KeySpec::Ec(Curve::P256),
            None,
            1_800_000_000,
            &Randomness::Seeded("t"),
            1,
            &Realism::default(),
        )
        .expect("set");
        let text = readme(
            &set,
            &ReadmeInfo {
                password: "changeit",
                seed: Some("t"),
                now: "2027-01-15T08:00:00Z",
                clear_pem: false,
                private_jwk: false,
                legacy: false,
            },
        );
        for item in &set.items {
            for (f, _) in item.files() {
                assert!(text.contains(&f), "{f}");
            }
        }
        assert!(text.contains("`changeit`"));
        assert!(text.contains("org1-pair.jwks"));
        assert!(text.contains("ca-root.cert.pem"));
        assert!(text.contains(MOCK_CLIENTS));
        for id in MOCK_CLIENT_IDS {
            assert!(text.contains(id), "{id}");
        }
    }
}
