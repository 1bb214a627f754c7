//! `keygen --fixture-set DIR`: the credentials a test environment needs, in
//! one go: a CA chain, a business certificate pair for one organisation, a
//! certificate for a second one, every broken variant, and the clients of a
//! local Maskinporten look-alike (`mock-clients.toml`, see
//! [`crate::oauth::mock`]). This module decides what is made; the README and
//! the text files (the clients, the revocation list) are worded in
//! `output::fixture_set`, and the command writes files.

use super::issue::{Broken, Ca, Generated, KeygenError, Mode, Request, Usage, generate};
use crate::cert::extensions::Realism;
use crate::key::generate::{KeySpec, Random, WEAK};
use crate::keystore::model::{Entry, EntryKind};
use crate::keystore::write::OutFormat;
use crate::revocation::list::{Reason, RevocationList};

/// The organisation numbers used (both pass the modulus-11 check).
pub(crate) const ORG1: &str = "123456785";
pub(crate) const ORG2: &str = "987654325";

/// The credentials, in the order they are made and listed.
pub(crate) const ITEMS: [&str; 13] = [
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
pub(crate) const CERT_FILES: [&str; 3] = [
    "ca-root.cert.pem",
    "ca-intermediate.cert.pem",
    "ca-chain.pem",
];

/// The intermediate CA's revocation list (lists `revoked`), named as
/// `keygen --revoke --ca ca-intermediate.p12` would name it.
pub(crate) const REVOCATION_LIST: &str = "ca-intermediate.revoked.toml";

/// The intermediate CA's CRL (PEM), matching [`REVOCATION_LIST`] at `--now`.
pub(crate) const CRL: &str = "ca-intermediate.crl.pem";

/// The clients.toml of the local Maskinporten look-alike.
pub(crate) const MOCK_CLIENTS: &str = "mock-clients.toml";

/// The client ids registered in [`MOCK_CLIENTS`]: a certificate client for
/// org1, a key client for org1, a certificate client for org2.
pub(crate) const MOCK_CLIENT_IDS: [&str; 3] = [
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-000000000002",
    "00000000-0000-4000-8000-000000000003",
];

/// Every file a set writes, README.md last (known before any key is made).
pub(crate) fn planned_files() -> Vec<String> {
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
pub(crate) struct Item {
    /// File stem: `org1-auth` gives `org1-auth.p12`, `.jks`, `.pem`, `.jwk`.
    pub(crate) name: &'static str,
    pub(crate) entries: Vec<Entry>,
}

impl Item {
    /// The files an item becomes, in writing order.
    pub(crate) fn files(&self) -> Vec<(String, OutFormat)> {
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
pub(crate) struct CertFile {
    pub(crate) name: &'static str,
    pub(crate) entry: Entry,
}

/// Everything in a fixture set.
#[derive(Debug, Clone, Default)]
pub(crate) struct FixtureSet {
    pub(crate) items: Vec<Item>,
    pub(crate) cert_files: Vec<CertFile>,
    /// The clients of the look-alike (written as [`MOCK_CLIENTS`] by
    /// `output::fixture_set`).
    pub(crate) mock_clients: Option<MockClients>,
    pub(crate) notes: Vec<String>,
    /// What the intermediate CA has revoked (written as [`REVOCATION_LIST`]).
    pub(crate) revocation_list: RevocationList,
    /// The intermediate CA's CRL, PEM (written as [`CRL`]).
    pub(crate) crl: Option<String>,
}

/// What [`MOCK_CLIENTS`] registers beyond the fixed clients.
#[derive(Debug, Clone)]
pub(crate) struct MockClients {
    /// org1-auth's RFC 7638 thumbprint: the kid its .jwk file carries, and
    /// the key client's registered kid.
    pub(crate) kid: String,
    /// Whether the set's keys are RSA, so they can sign Maskinporten grants
    /// (RS256).
    pub(crate) rsa: bool,
}

fn certs(chain: &[crate::cert::Certificate]) -> Entry {
    let mut e = Entry::new(EntryKind::Certificate);
    e.chain = chain.to_vec();
    e
}

/// Where each credential's randomness comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Randomness<'a> {
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
pub(crate) fn build(
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
    let ca = make_cas(&mut set, key, ca_days, now, randomness, realism)?;
    let requests = leaf_requests(key, days, now, realism);
    let mut made = make_in_parallel(jobs, &requests, &ca, randomness).into_iter();
    let mut next = || {
        made.next().unwrap_or_else(|| {
            Err(KeygenError::KeyGen(
                "fewer credentials were made than asked for".into(),
            ))
        })
    };
    let kid = add_good(&mut set, &mut next)?;
    for (name, _, _) in BROKEN {
        let out = next()?;
        set.notes.extend(out.notes);
        set.items.push(Item {
            name,
            entries: out.entries,
        });
    }
    add_revoked(&mut set, next()?, now);
    set.items.push(Item {
        name: "ocsp-responder",
        entries: next()?.entries,
    });
    set.mock_clients = Some(MockClients {
        kid,
        rsa: matches!(key, KeySpec::Rsa { .. }),
    });
    add_crl(&mut set, &ca, now, leaf_days)?;
    Ok(set)
}

/// The root and intermediate CAs: their items and certificate files. The
/// intermediate, returned, issues everything else.
fn make_cas(
    set: &mut FixtureSet,
    key: KeySpec,
    ca_days: u32,
    now: i64,
    randomness: &Randomness,
    realism: &Realism,
) -> Result<Ca, KeygenError> {
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
    });
    set.cert_files.push(CertFile {
        name: "ca-intermediate.cert.pem",
        entry: certs(&int.chain[..1]),
    });
    set.cert_files.push(CertFile {
        name: "ca-chain.pem",
        entry: certs(&int.chain),
    });
    set.items.push(Item {
        name: "ca-root",
        entries: vec![root],
    });
    set.items.push(Item {
        name: "ca-intermediate",
        entries: vec![int],
    });
    Ok(ca)
}

const NOT_BROKEN: Broken = Broken {
    expired: false,
    not_yet_valid: false,
    wrong_key: false,
    missing_intermediate: false,
};

/// The broken variants of org1's auth certificate: name, what is broken, and
/// whether the key is the weak one instead of the set's.
const BROKEN: [(&str, Broken, bool); 5] = [
    (
        "expired",
        Broken {
            expired: true,
            ..NOT_BROKEN
        },
        false,
    ),
    (
        "not-yet-valid",
        Broken {
            not_yet_valid: true,
            ..NOT_BROKEN
        },
        false,
    ),
    (
        "wrong-key",
        Broken {
            wrong_key: true,
            ..NOT_BROKEN
        },
        false,
    ),
    (
        "missing-intermediate",
        Broken {
            missing_intermediate: true,
            ..NOT_BROKEN
        },
        false,
    ),
    ("weak-rsa1024", NOT_BROKEN, true),
];

/// Every end-entity credential, by name, in the order they are listed.
fn leaf_requests(
    key: KeySpec,
    days: Option<u32>,
    now: i64,
    realism: &Realism,
) -> Vec<(&'static str, Request)> {
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
    let mut requests: Vec<(&'static str, Request)> = vec![
        ("org1-auth", leaf(ORG1, Usage::Auth, NOT_BROKEN, key)),
        ("org1-sign", leaf(ORG1, Usage::Sign, NOT_BROKEN, key)),
        ("org2-auth", leaf(ORG2, Usage::Auth, NOT_BROKEN, key)),
    ];
    for (name, b, weak) in BROKEN {
        let spec = if weak { WEAK } else { key };
        requests.push((name, leaf(ORG1, Usage::Auth, b, spec)));
    }
    requests.push(("revoked", leaf(ORG1, Usage::Auth, NOT_BROKEN, key)));
    let mut responder = leaf(ORG1, Usage::Ocsp, NOT_BROKEN, key);
    responder.org_number = None;
    responder.subject = Some(super::issue::Dn(vec![
        ("2.5.4.6".into(), "NO".into()),
        ("2.5.4.10".into(), "Credkit Test CA".into()),
        ("2.5.4.3".into(), "Credkit Test OCSP Responder".into()),
    ]));
    requests.push(("ocsp-responder", responder));
    requests
}

/// The end-entity credentials are independent of each other, so they are made
/// in parallel, each from its own random stream; the results in `requests`'
/// order.
fn make_in_parallel(
    jobs: usize,
    requests: &[(&'static str, Request)],
    ca: &Ca,
    randomness: &Randomness,
) -> Vec<Result<Generated, KeygenError>> {
    let made = par_map(jobs, requests, |(name, req)| {
        generate(req, Some(ca), &mut randomness.for_item(name)?)
    });
    requests
        .iter()
        .zip(made)
        .map(|((name, _), out)| {
            out.unwrap_or_else(|| {
                Err(KeygenError::KeyGen(format!(
                    "making {name} stopped without a result"
                )))
            })
        })
        .collect()
}

/// org1's auth and sign certificates, the pair of them, and org2's; returns
/// the kid (RFC 7638 thumbprint) of org1's auth key.
fn add_good(
    set: &mut FixtureSet,
    next: &mut impl FnMut() -> Result<Generated, KeygenError>,
) -> Result<String, KeygenError> {
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
    for (name, entries) in [
        ("org1-auth", auth.entries),
        ("org1-sign", sign.entries),
        ("org1-pair", pair),
        ("org2-auth", org2.entries),
    ] {
        set.items.push(Item { name, entries });
    }
    Ok(kid)
}

/// The credential the intermediate CA revokes (keyCompromise, at `now`).
fn add_revoked(set: &mut FixtureSet, revoked: Generated, now: i64) {
    let mut list = RevocationList::default();
    if let Some(c) = revoked.entries.first().and_then(|e| e.chain.first()) {
        list.revoke(c, now, Reason::KeyCompromise);
    }
    set.items.push(Item {
        name: "revoked",
        entries: revoked.entries,
    });
    set.revocation_list = list;
}

/// [`CRL`], of the set's revocation list; valid as long as the end-entity
/// certificates are.
fn add_crl(set: &mut FixtureSet, ca: &Ca, now: i64, leaf_days: u32) -> Result<(), KeygenError> {
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
    set.crl = Some(crate::keystore::write::pem::pem_block("X509 CRL", &crl));
    Ok(())
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
        files.extend(
            crate::output::fixture_set::text_files(&set)
                .into_iter()
                .map(|(n, _)| n),
        );
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
        let files = crate::output::fixture_set::text_files(&set);
        let (name, text) = &files[0];
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
        assert!(crate::output::fixture_set::mock_clients("k", false).contains("NOTE"));
    }
}
