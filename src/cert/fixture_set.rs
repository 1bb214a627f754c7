//! `keygen --fixture-set DIR`: the credentials a test environment needs, in
//! one go: a CA chain, a business certificate pair for one organisation, a
//! certificate for a second one, every broken variant, and the clients of a
//! local Maskinporten look-alike (`mock-clients.toml`, see
//! [`crate::oauth::mock`]). This module decides what is made and writes the
//! README text; the command writes files.

use super::issue::{Broken, Ca, KeygenError, Mode, Request, Usage, generate};
use crate::cert::extensions::Realism;
use crate::key::generate::{KeySpec, Random, WEAK};
use crate::keystore::model::{Entry, EntryKind};
use crate::keystore::write::OutFormat;
use crate::revocation::list::{Reason, RevocationList};

/// The organisation numbers used (both pass the modulus-11 check).
pub const ORG1: &str = "123456785";
pub const ORG2: &str = "987654325";

/// The credentials, in the order they are made and listed.
pub const ITEMS: [&str; 13] = [
    "ca-root",
    "ca-intermediate",
    "org1-auth",
    "org1-sign",
    "org1-pair",
    "org2-auth",
    "expired",
    "not-yet-valid",
    "wrong-key",
    "missing-intermediate",
    "weak-rsa1024",
    "revoked",
    "ocsp-responder",
];

/// The certificate-only files.
pub const CERT_FILES: [&str; 3] = [
    "ca-root.cert.pem",
    "ca-intermediate.cert.pem",
    "ca-chain.pem",
];

/// The intermediate CA's revocation list (lists `revoked`), named as
/// `keygen --revoke --ca ca-intermediate.p12` would name it.
pub const REVOCATION_LIST: &str = "ca-intermediate.revoked.toml";

/// The intermediate CA's CRL (PEM), matching [`REVOCATION_LIST`] at `--now`.
pub const CRL: &str = "ca-intermediate.crl.pem";

/// The clients.toml of the local Maskinporten look-alike.
pub const MOCK_CLIENTS: &str = "mock-clients.toml";

/// The client ids registered in [`MOCK_CLIENTS`]: a certificate client for
/// org1, a key client for org1, a certificate client for org2.
pub const MOCK_CLIENT_IDS: [&str; 3] = [
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-000000000002",
    "00000000-0000-4000-8000-000000000003",
];

/// Every file a set writes, README.md last (known before any key is made).
pub fn planned_files() -> Vec<String> {
    let mut v = Vec::new();
    for name in ITEMS {
        let jwk = if name == "org1-pair" { "jwks" } else { "jwk" };
        for ext in ["p12", "jks", "pem", jwk] {
            v.push(format!("{name}.{ext}"));
        }
    }
    v.extend(CERT_FILES.iter().map(|s| s.to_string()));
    v.push(MOCK_CLIENTS.into());
    v.push(REVOCATION_LIST.into());
    v.push(CRL.into());
    v.push("README.md".into());
    v
}

/// One credential, written in every format.
#[derive(Debug, Clone)]
pub struct Item {
    /// File stem: `org1-auth` gives `org1-auth.p12`, `.jks`, `.pem`, `.jwk`.
    pub name: &'static str,
    pub entries: Vec<Entry>,
    pub purpose: &'static str,
    /// What a checker is meant to report for it (`-` for a good credential).
    pub finding: &'static str,
}

impl Item {
    /// The files an item becomes, in writing order.
    pub fn files(&self) -> Vec<(String, OutFormat)> {
        let jwk = if self.entries.len() > 1 {
            (format!("{}.jwks", self.name), OutFormat::Jwks)
        } else {
            (format!("{}.jwk", self.name), OutFormat::Jwk)
        };
        vec![
            (format!("{}.p12", self.name), OutFormat::Pkcs12),
            (format!("{}.jks", self.name), OutFormat::Jks),
            (format!("{}.pem", self.name), OutFormat::Pem),
            jwk,
        ]
    }
}

/// A certificate-only PEM file (trust anchors and chains).
#[derive(Debug, Clone)]
pub struct CertFile {
    pub name: &'static str,
    pub entry: Entry,
    pub purpose: &'static str,
}

/// Everything in a fixture set.
#[derive(Debug, Clone, Default)]
pub struct FixtureSet {
    pub items: Vec<Item>,
    pub cert_files: Vec<CertFile>,
    /// Text files written as they are (name, text), before README.md:
    /// [`MOCK_CLIENTS`].
    pub extra_files: Vec<(String, String)>,
    pub notes: Vec<String>,
    /// What the intermediate CA has revoked (written as [`REVOCATION_LIST`]).
    pub revocation_list: RevocationList,
}

fn certs(chain: &[crate::cert::Certificate]) -> Entry {
    let mut e = Entry::new(EntryKind::Certificate);
    e.chain = chain.to_vec();
    e
}

/// Where each credential's randomness comes from.
#[derive(Debug, Clone, Copy)]
pub enum Randomness<'a> {
    /// `--seed`: every credential has its own stream, derived from the seed
    /// and its name, so the set is the same whatever order they are made in.
    Seeded(&'a str),
    /// The operating system.
    Os,
}

impl Randomness<'_> {
    fn for_item(self, name: &str) -> Result<Random, KeygenError> {
        match self {
            Randomness::Seeded(seed) => Ok(Random::from_seed_for(seed, name)),
            Randomness::Os => Random::from_os(),
        }
    }
}

/// `f` over `items` on up to `jobs` threads, the results in the items' order.
/// `None` for an item whose thread stopped without an answer.
fn par_map<T: Sync, R: Send>(
    jobs: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        return items.iter().map(|t| Some(f(t))).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = items.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(t) = items.get(i) else { break };
                        done.push((i, f(t)));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            for (i, r) in w.join().unwrap_or_default() {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
    });
    out
}

/// Make the set. `key` is used for every key but the weak one; `days` is the
/// end-entity lifetime (the CAs outlive every certificate in the set). The CAs
/// come first; the end-entity credentials, independent of each other, are
/// made on up to `jobs` threads.
pub fn build(
    key: KeySpec,
    days: Option<u32>,
    now: i64,
    randomness: &Randomness,
    jobs: usize,
    realism: &Realism,
) -> Result<FixtureSet, KeygenError> {
    let leaf_days = days.unwrap_or(super::issue::LEAF_DAYS);
    let ca_days = super::issue::CA_DAYS.max(leaf_days.saturating_add(60));
    let mut set = FixtureSet::default();

    let mut ca_req = Request::new(Mode::Ca { intermediate: true }, now);
    ca_req.key = key;
    ca_req.days = Some(ca_days);
    ca_req.realism = realism.clone();
    let cas = generate(&ca_req, None, &mut randomness.for_item("ca")?)?;
    let (root, int) = match &cas.entries[..] {
        [r, i] => (r.clone(), i.clone()),
        _ => {
            return Err(KeygenError::KeyGen(
                "the CA request made an unexpected number of entries".into(),
            ));
        }
    };
    let ca = Ca::from_entry(&int, "intermediate")?;
    set.cert_files.push(CertFile {
        name: "ca-root.cert.pem",
        entry: certs(&root.chain),
        purpose: "the root CA certificate, the trust anchor (openssl verify -CAfile)",
    });
    set.cert_files.push(CertFile {
        name: "ca-intermediate.cert.pem",
        entry: certs(&int.chain[..1]),
        purpose: "the intermediate CA certificate (openssl verify -untrusted)",
    });
    set.cert_files.push(CertFile {
        name: "ca-chain.pem",
        entry: certs(&int.chain),
        purpose: "intermediate and root, for servers that want the whole chain",
    });
    set.items.push(Item {
        name: "ca-root",
        entries: vec![root],
        purpose: "root CA with its key (issues the intermediate)",
        finding: "-",
    });
    set.items.push(Item {
        name: "ca-intermediate",
        entries: vec![int],
        purpose: "intermediate CA with its key (issues every end-entity certificate here); use it with `credkit keygen --ca`",
        finding: "-",
    });

    let leaf = |org: &str, usage: Usage, broken: Broken, spec: KeySpec| {
        let mut r = Request::new(Mode::Issued, now);
        r.key = spec;
        r.org_number = Some(org.to_string());
        r.usage = usage;
        r.days = days;
        r.broken = broken;
        r.realism = realism.clone();
        r
    };
    let none = Broken::default();
    let broken: [(&'static str, Broken, KeySpec, &'static str, &'static str); 5] = [
        (
            "expired",
            Broken {
                expired: true,
                ..none
            },
            key,
            "org1 auth certificate whose validity ended 30 days before --now",
            "expired",
        ),
        (
            "not-yet-valid",
            Broken {
                not_yet_valid: true,
                ..none
            },
            key,
            "org1 auth certificate whose validity starts 30 days after --now",
            "not yet valid",
        ),
        (
            "wrong-key",
            Broken {
                wrong_key: true,
                ..none
            },
            key,
            "org1 auth certificate stored with a private key that is not the certificate's",
            "the private key does not match the certificate",
        ),
        (
            "missing-intermediate",
            Broken {
                missing_intermediate: true,
                ..none
            },
            key,
            "org1 auth certificate whose chain is leaf then root: the intermediate is left out",
            "incomplete chain: the issuing intermediate CA is missing",
        ),
        (
            "weak-rsa1024",
            none,
            WEAK,
            "org1 auth certificate with an RSA 1024-bit key",
            "weak key: RSA 1024 bits",
        ),
    ];
    // Every end-entity credential, by name: independent of each other, so
    // made in parallel, each from its own random stream.
    let mut requests: Vec<(&'static str, Request)> = vec![
        ("org1-auth", leaf(ORG1, Usage::Auth, none, key)),
        ("org1-sign", leaf(ORG1, Usage::Sign, none, key)),
        ("org2-auth", leaf(ORG2, Usage::Auth, none, key)),
    ];
    for (name, b, spec, _, _) in &broken {
        requests.push((name, leaf(ORG1, Usage::Auth, *b, *spec)));
    }
    requests.push(("revoked", leaf(ORG1, Usage::Auth, none, key)));
    let mut responder = leaf(ORG1, Usage::Ocsp, none, key);
    responder.org_number = None;
    responder.subject = Some(super::issue::Dn(vec![
        ("2.5.4.6".into(), "NO".into()),
        ("2.5.4.10".into(), "Credkit Test CA".into()),
        ("2.5.4.3".into(), "Credkit Test OCSP Responder".into()),
    ]));
    requests.push(("ocsp-responder", responder));
    let made = par_map(jobs, &requests, |(name, req)| {
        generate(req, Some(&ca), &mut randomness.for_item(name)?)
    });
    let mut made = requests.iter().zip(made).map(|((name, _), out)| {
        out.unwrap_or_else(|| {
            Err(KeygenError::KeyGen(format!(
                "making {name} stopped without a result"
            )))
        })
    });
    let mut next = || {
        made.next().unwrap_or_else(|| {
            Err(KeygenError::KeyGen(
                "fewer credentials were made than asked for".into(),
            ))
        })
    };
    let auth = next()?;
    let sign = next()?;
    let org2 = next()?;
    let kid = auth
        .entries
        .first()
        .and_then(|e| e.private_key.as_ref())
        .and_then(|k| k.public.jwk_thumbprint())
        .ok_or_else(|| KeygenError::KeyGen("the org1 key has no JWK thumbprint".into()))?;
    let pair: Vec<Entry> = auth.entries.iter().chain(&sign.entries).cloned().collect();
    set.items.push(Item {
        name: "org1-auth",
        entries: auth.entries,
        purpose: "business certificate, authentication half (digitalSignature, keyEncipherment, clientAuth): sign Maskinporten grants with this one",
        finding: "-",
    });
    set.items.push(Item {
        name: "org1-sign",
        entries: sign.entries,
        purpose: "business certificate, signing half (nonRepudiation only)",
        finding: "-",
    });
    set.items.push(Item {
        name: "org1-pair",
        entries: pair,
        purpose: "the auth and sign certificates above in one store, aliases auth and sign, the way Buypass and Commfides deliver them",
        finding: "-",
    });
    set.items.push(Item {
        name: "org2-auth",
        entries: org2.entries,
        purpose: "business certificate (auth) for a second organisation, e.g. for a wrong-organisation test",
        finding: "-",
    });
    for (name, _, _, purpose, finding) in broken {
        let out = next()?;
        set.notes.extend(out.notes);
        set.items.push(Item {
            name,
            entries: out.entries,
            purpose,
            finding,
        });
    }
    let revoked = next()?;
    let mut list = RevocationList::default();
    if let Some(c) = revoked.entries.first().and_then(|e| e.chain.first()) {
        list.revoke(c, now, Reason::KeyCompromise);
    }
    set.items.push(Item {
        name: "revoked",
        entries: revoked.entries,
        purpose: "org1 auth certificate the intermediate CA has revoked (keyCompromise, at --now): listed in ca-intermediate.revoked.toml and ca-intermediate.crl.pem",
        finding: "revoked: `check --revocation` against `credkit serve revocation`; MP-120 from the look-alike with --revocation-list",
    });
    let responder = next()?;
    set.items.push(Item {
        name: "ocsp-responder",
        entries: responder.entries,
        purpose: "delegated OCSP responder of the intermediate CA (EKU OCSPSigning, ocsp-nocheck): `credkit serve revocation --responder`",
        finding: "-",
    });
    set.revocation_list = list;
    set.extra_files.push((
        MOCK_CLIENTS.into(),
        mock_clients(&kid, matches!(key, KeySpec::Rsa { .. })),
    ));
    set.extra_files
        .push((REVOCATION_LIST.into(), set.revocation_list.to_toml()));
    // The CRL is valid as long as the end-entity certificates are.
    let signer = crate::revocation::issue::Signer {
        cert: ca.chain[0].clone(),
        key: ca.key.clone(),
    };
    let crl = crate::revocation::issue::crl(
        &signer,
        &set.revocation_list,
        now,
        i64::from(leaf_days) * 86_400,
    )
    .map_err(|e| KeygenError::Sign(format!("the intermediate's CRL: {e}")))?;
    set.extra_files.push((
        CRL.into(),
        crate::keystore::write::pem::pem_block("X509 CRL", &crl),
    ));
    Ok(set)
}

/// The text of [`MOCK_CLIENTS`]. `kid` is org1-auth's RFC 7638 thumbprint
/// (the kid its .jwk file carries); `rsa` says whether the set's keys can
/// sign Maskinporten grants (RS256).
pub fn mock_clients(kid: &str, rsa: bool) -> String {
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

/// How the set was written, for the README.
#[derive(Debug, Clone)]
pub struct ReadmeInfo<'a> {
    pub password: &'a str,
    pub seed: Option<&'a str>,
    /// `--now`, RFC 3339.
    pub now: &'a str,
    pub clear_pem: bool,
    pub private_jwk: bool,
    pub legacy: bool,
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
pub fn readme(set: &FixtureSet, info: &ReadmeInfo<'_>) -> String {
    let mut s = String::new();
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
    s.push_str("## Trust\n\n");
    for f in &set.cert_files {
        s.push_str(&format!("- `{}`: {}\n", f.name, f.purpose));
    }
    s.push_str(
        "\n```sh\nopenssl verify -CAfile ca-root.cert.pem -untrusted ca-intermediate.cert.pem org1-auth.pem\n```\n\n",
    );
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
        let files: Vec<String> = item.files().into_iter().map(|(f, _)| f).collect();
        let aliases: Vec<&str> = item
            .entries
            .iter()
            .filter_map(|e| e.alias.as_deref())
            .collect();
        let first = &item.entries[0];
        let leaf = first.chain.first();
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            item.name,
            files.join(", "),
            aliases.join(", "),
            leaf.map(|c| cell(&c.subject.to_display()))
                .unwrap_or_default(),
            first
                .private_key
                .as_ref()
                .map(|k| k.describe().to_string())
                .unwrap_or_default(),
            leaf.map(|c| format!("{} to {}", day(c.not_before), day(c.not_after)))
                .unwrap_or_default(),
            cell(item.purpose),
            cell(item.finding),
        ));
    }
    s.push_str(&format!(
        "\nOrganisation numbers: {ORG1} (org1) and {ORG2} (org2). Business subjects carry \
         `organizationIdentifier=NTRNO-<number>` and `serialNumber=<number>`.\n"
    ));
    if set.extra_files.iter().any(|(n, _)| n == MOCK_CLIENTS) {
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
    if set.extra_files.iter().any(|(n, _)| n == REVOCATION_LIST) {
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
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Curve;

    #[test]
    fn the_set_has_every_variant_and_the_readme_names_them() {
        let now = 1_800_000_000;
        let set = build(
            KeySpec::Ec(Curve::P256),
            None,
            now,
            &Randomness::Seeded("t"),
            1,
            &Realism::default(),
        )
        .expect("set");
        // Made on several threads: the same keys and certificates.
        let parallel = build(
            KeySpec::Ec(Curve::P256),
            None,
            now,
            &Randomness::Seeded("t"),
            3,
            &Realism::default(),
        )
        .expect("set");
        let material = |s: &FixtureSet| -> Vec<Vec<u8>> {
            s.items
                .iter()
                .flat_map(|i| &i.entries)
                .flat_map(|e| {
                    e.chain
                        .iter()
                        .map(|c| c.der.clone())
                        .chain(e.private_key.iter().map(|k| k.pkcs8.clone()))
                })
                .collect()
        };
        assert_eq!(material(&set), material(&parallel));
        let names: Vec<&str> = set.items.iter().map(|i| i.name).collect();
        assert_eq!(names, ITEMS);
        let mut files: Vec<String> = set
            .items
            .iter()
            .flat_map(|i| i.files().into_iter().map(|(f, _)| f))
            .collect();
        files.extend(set.cert_files.iter().map(|f| f.name.to_string()));
        files.extend(set.extra_files.iter().map(|(n, _)| n.clone()));
        files.push("README.md".into());
        assert_eq!(files, planned_files());
        let weak = &set.items[10].entries[0];
        assert_eq!(
            weak.private_key
                .as_ref()
                .map(|k| k.describe().to_string())
                .as_deref(),
            Some("RSA 1024")
        );
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

    /// mock-clients.toml is what the mock reads: three clients, the key
    /// client's kid the thumbprint of org1-auth.jwk (which the set writes
    /// next to it), and grants from org1-auth get tokens.
    #[test]
    fn mock_clients_file_works_with_the_mock() {
        use crate::oauth::mock::{GRANT_TYPE, Mock, MockOptions, parse_clients};
        use serde_json::json;
        let now = 1_800_000_000;
        let set = build(
            KeySpec::Rsa { bits: 2048 },
            None,
            now,
            &Randomness::Seeded("mock"),
            2,
            &Realism::default(),
        )
        .expect("set");
        let (name, text) = &set.extra_files[0];
        assert_eq!(name, MOCK_CLIENTS);
        assert!(!text.contains("NOTE"));
        let auth = &set.items[2].entries[0];
        let key = auth.private_key.as_ref().expect("key");
        let kid = key.public.jwk_thumbprint().expect("kid");
        assert!(text.contains(&kid));

        let dir = tempfile::tempdir().expect("tmp");
        let out = crate::keystore::write::write(
            std::slice::from_ref(auth),
            OutFormat::Jwk,
            &crate::keystore::write::WriteOptions {
                password: None,
                key_password: None,
                legacy: false,
                encrypt_keys: false,
                parts: crate::keystore::write::Parts::All,
                leaf_only: false,
                private_jwk: false,
                kid: None,
                now_ms: 0,
                iterations: None,
            },
            false,
        )
        .expect("jwk");
        std::fs::write(dir.path().join("org1-auth.jwk"), &out.files[0].bytes).expect("write");
        let clients = parse_clients(text, &dir.path().join(MOCK_CLIENTS)).expect("parse");
        assert_eq!(clients.clients.len(), 3);
        let cas = set.cert_files[2].entry.chain.clone();
        let m = Mock::new(cas, clients, MockOptions::default(), None).expect("mock");
        let signer = crate::jwt::jws::Signer::new(key, crate::jwt::jws::Alg::RS256).expect("s");
        let leaf = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            &auth.chain[0].der,
        );
        for (i, (client, header)) in [
            (MOCK_CLIENT_IDS[0], json!({"alg": "RS256", "x5c": [leaf]})),
            (MOCK_CLIENT_IDS[1], json!({"alg": "RS256", "kid": kid})),
            (MOCK_CLIENT_IDS[2], json!({"alg": "RS256", "x5c": [leaf]})),
        ]
        .into_iter()
        .enumerate()
        {
            let claims = json!({
                "aud": MockOptions::default().issuer, "iss": client, "scope": "test:read",
                "iat": now, "exp": now + 60, "jti": format!("j{i}"),
            });
            let grant = signer
                .sign(
                    &serde_json::to_vec(&header).expect("h"),
                    &serde_json::to_vec(&claims).expect("c"),
                )
                .expect("sign");
            let body = format!("grant_type={GRANT_TYPE}&assertion={grant}");
            let r = m.token(body.as_bytes(), now);
            // org2's client with org1's certificate: the wrong organisation.
            let want = if i == 2 { 400 } else { 200 };
            assert_eq!(r.status, want, "{client}: {}", r.body);
        }
        // A set of EC keys says it cannot be used for grants.
        assert!(mock_clients("k", false).contains("NOTE"));
    }
}
