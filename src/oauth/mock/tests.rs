//! The look-alike's unit tests: every case from a realistic grant.

use super::*;
use crate::cert::issue::{self, CertKind, CertSpec, Issuer, Mode, Request, business_subject};
use crate::jwt::jws;
use crate::key::Curve;
use crate::key::generate::{KeySpec, Random, generate_key};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Map;
use std::sync::OnceLock;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const ISSUER: &str = "http://127.0.0.1:7824/";
const ORG1: &str = "123456785";
const ORG2: &str = "987654325";

/// Keys and certificates shared by every test (RSA keys are slow to make).
struct Fx {
    root: Certificate,
    int: Certificate,
    int_key: PrivateKey,
    /// The client's RSA key, certified by `leaf`.
    client_key: PrivateKey,
    /// Another RSA key: the server's, and a wrong key for grants.
    server_key: PrivateKey,
    /// ORG1 business certificate (auth) for `client_key`, issued by `int`.
    leaf: Certificate,
}

fn fx() -> &'static Fx {
    static FX: OnceLock<Fx> = OnceLock::new();
    FX.get_or_init(|| {
        let mut rng = Random::from_seed("mock tests");
        let mut req = Request::new(Mode::Ca { intermediate: true }, NOW - 10 * DAY);
        req.key = KeySpec::Ec(Curve::P256);
        let cas = issue::generate(&req, None, &mut rng).expect("CAs");
        let root = cas.entries[0].chain[0].clone();
        let int = cas.entries[1].chain[0].clone();
        let int_key = cas.entries[1].private_key.clone().expect("int key");
        let client_key = generate_key(KeySpec::Rsa { bits: 2048 }, &mut rng).expect("client key");
        let server_key = generate_key(KeySpec::Rsa { bits: 2048 }, &mut rng).expect("server key");
        let subject = business_subject(ORG1, None);
        let spec = CertSpec {
            subject: &subject,
            public_key: &client_key.public,
            not_before: NOW - DAY,
            not_after: NOW + 365 * DAY,
            kind: CertKind::Auth,
        };
        let leaf = issue::issue(&spec, &Issuer::from_ca(&int, &int_key), &mut rng).expect("leaf");
        Fx {
            root,
            int,
            int_key,
            client_key,
            server_key,
            leaf,
        }
    })
}

/// A certificate for the client key, issued by the intermediate.
fn issue(fx: &Fx, org: &str, kind: CertKind, nb: i64, na: i64) -> Certificate {
    let subject = business_subject(org, None);
    let spec = CertSpec {
        subject: &subject,
        public_key: &fx.client_key.public,
        not_before: nb,
        not_after: na,
        kind,
    };
    issue::issue(
        &spec,
        &Issuer::from_ca(&fx.int, &fx.int_key),
        &mut Random::from_seed(&format!("{org} {nb} {na} {kind:?}")),
    )
    .expect("issue")
}

const CLIENTS: &str = r#"
user_login_scopes = ["openid"]

[access]
"test:restricted" = ["123456785"]

[[client]]
client_id = "cert-client"
org = "123456785"
scopes = ["test:read", "test:write", "test:restricted", "openid"]
consumers = { "987654325" = ["test:read", "test:restricted"] }

[[client]]
client_id = "key-client"
org = "123456785"
scopes = ["test:read"]
token_lifetime = 600
keys = [
  { kid = "k1", file = "client.jwk" },
  { kid = "old", file = "client.jwk", expires = "2020-01-01T00:00:00Z" },
]

[[client]]
client_id = "other-org"
org = "987654325"
scopes = ["test:read"]
"#;

fn clients_with(text: &str) -> Result<Clients, MockError> {
    let dir = tempfile::tempdir().expect("tmp");
    let jwk = fx().client_key.public.thumbprint_input().expect("jwk");
    std::fs::write(dir.path().join("client.jwk"), jwk).expect("write jwk");
    parse_clients(text, &dir.path().join("clients.toml"))
}

fn mock_with(anchors: Vec<Certificate>, opts: MockOptions) -> Mock {
    Mock::new(
        anchors,
        clients_with(CLIENTS).expect("clients"),
        opts,
        Some(fx().server_key.clone()),
    )
    .expect("mock")
}

fn mock() -> Mock {
    mock_with(vec![fx().root.clone()], opts())
}

fn opts() -> MockOptions {
    MockOptions {
        issuer: ISSUER.into(),
        ..MockOptions::default()
    }
}

fn b64(c: &Certificate) -> Value {
    json!(STANDARD.encode(&c.der))
}

/// The usual header: leaf and intermediate in x5c.
fn x5c_header(leaf: &Certificate) -> Value {
    json!({"alg": "RS256", "x5c": [b64(leaf), b64(&fx().int)]})
}

fn claims(iss: &str, scope: &str) -> Value {
    let mut r = [0u8; 16];
    getrandom::fill(&mut r).expect("random");
    json!({
        "aud": ISSUER,
        "iss": iss,
        "scope": scope,
        "iat": NOW,
        "exp": NOW + 120,
        "jti": crate::jwt::mint::uuid_v4(&r),
    })
}

fn sign_with(header: &Value, claims: &Value, key: &PrivateKey, alg: Alg) -> String {
    let h = serde_json::to_vec(header).expect("header");
    let c = serde_json::to_vec(claims).expect("claims");
    Signer::new(key, alg)
        .expect("signer")
        .sign(&h, &c)
        .expect("sign")
}

fn sign(header: &Value, claims: &Value) -> String {
    sign_with(header, claims, &fx().client_key, Alg::RS256)
}

fn form(assertion: &str) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", GRANT_TYPE)
        .append_pair("assertion", assertion)
        .finish()
        .into_bytes()
}

fn post(m: &Mock, header: &Value, claims: &Value) -> Reply {
    m.token(&form(&sign(header, claims)), NOW)
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.into(), value);
    }
    v
}

fn without(mut v: Value, key: &str) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove(key);
    }
    v
}

/// The reply is exactly the documented case `id`.
fn assert_case(r: &Reply, id: &str) {
    let case = Case::from_id(id).unwrap_or_else(|| panic!("no case {id}"));
    let (status, error, text) = (&case.status(), &case.error(), case.description());
    assert_eq!(r.status, *status, "{id}: {}", r.body);
    assert_eq!(r.body["error"], *error, "{id}: {}", r.body);
    let d = r.body["error_description"].as_str().expect("description");
    // The whole text, exactly (several texts are prefixes of others);
    // for the templates, the fixed parts around the filled-in values.
    let said = description(r);
    if text.contains('{') {
        let prefix = text.split('{').next().unwrap_or(text);
        let suffix = text.rsplit('}').next().unwrap_or(text);
        assert!(
            said.starts_with(prefix) && said.ends_with(suffix),
            "{id}: {said}"
        );
    } else {
        assert_eq!(said, *text, "{id}");
    }
    let (_, trace) = d.rsplit_once(" (trace_id: ").expect("trace id");
    let hex = trace.strip_suffix(')').expect(")");
    assert!(
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{d}"
    );
    assert_eq!(
        r.body.get("error_uri").and_then(Value::as_str),
        (id == "MP-121").then_some(MP_121_URI),
        "{id}"
    );
}

fn description(r: &Reply) -> String {
    let d = r.body["error_description"].as_str().expect("description");
    d.rsplit_once(" (trace_id: ").expect("trace").0.to_string()
}

#[test]
fn cases_table_matches_the_enum() {
    let ids: HashSet<&str> = Case::ALL.iter().map(|c| c.id()).collect();
    assert_eq!(ids.len(), Case::ALL.len(), "case ids are unique");
    for (i, c) in Case::ALL.iter().enumerate() {
        assert_eq!(*c as usize, i, "Case::ALL lists every case in order");
        assert_eq!(Case::from_id(c.id()), Some(*c));
    }
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Mock>();
}

/// Every documented case comes out of a realistic grant, through the
/// path that causes it upstream. None needs `forced`.
#[test]
fn every_case_arises_naturally() {
    let m = mock();
    let fx = fx();
    let leaf = &fx.leaf;
    let ok = || claims("cert-client", "test:read");
    let hdr = || x5c_header(leaf);
    let kid = |k: &str| json!({"alg": "RS256", "kid": k});
    let sign_only = issue(fx, ORG1, CertKind::Sign, NOW - DAY, NOW + DAY);
    let system_user = |extra: (&str, Value)| {
        let mut o = json!({
            "type": "urn:altinn:systemuser",
            "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:987654325"},
            "externalRef": "ref-1",
        });
        o = with(o, extra.0, extra.1);
        json!([o])
    };
    let replayed = sign(&hdr(), &ok());
    assert_eq!(m.token(&form(&replayed), NOW).status, 200);

    let mut got: Vec<(&str, Reply)> = vec![
        ("MP-100", post(&m, &hdr(), &without(ok(), "iss"))),
        (
            "MP-100-not-found",
            post(&m, &hdr(), &with(ok(), "iss", json!("nobody"))),
        ),
        (
            "MP-110",
            post(
                &m,
                &hdr(),
                &with(ok(), "aud", json!("http://127.0.0.1:7824")),
            ),
        ),
        (
            "MP-120",
            post(
                &m,
                &json!({"alg": "RS256", "x5c": [b64(&sign_only), b64(&fx.int)]}),
                &ok(),
            ),
        ),
        (
            "MP-121",
            post(&m, &kid("old"), &claims("key-client", "test:read")),
        ),
        (
            "unknown-kid",
            post(&m, &kid("nope"), &claims("key-client", "test:read")),
        ),
        (
            "kid-required",
            post(&m, &hdr(), &claims("key-client", "test:read")),
        ),
        (
            "MP-124",
            m.token(
                &form(&sign_with(&hdr(), &ok(), &fx.server_key, Alg::RS256)),
                NOW,
            ),
        ),
        (
            "MP-011",
            post(&m, &hdr(), &with(ok(), "exp", json!(NOW + 300))),
        ),
        (
            "extra-claim",
            post(&m, &hdr(), &with(ok(), "sub", json!("x"))),
        ),
        (
            "consumer-org-own",
            post(&m, &hdr(), &with(ok(), "consumer_org", json!(ORG1))),
        ),
        (
            "MP-200",
            post(&m, &hdr(), &claims("cert-client", "test:read test:admin")),
        ),
        (
            "MP-201",
            post(&m, &hdr(), &claims("cert-client", "test:read openid")),
        ),
        ("MP-012", m.token(&form(&replayed), NOW + 5)),
        (
            "MP-130",
            post(
                &m,
                &hdr(),
                &with(with(ok(), "iat", json!(NOW - 130)), "exp", json!(NOW - 10)),
            ),
        ),
        (
            "MP-122",
            post(&m, &hdr(), &claims("other-org", "test:read")),
        ),
        (
            "MP-123",
            post(
                &m,
                &json!({"alg": "RS256", "x5c": STANDARD.encode(&leaf.der)}),
                &ok(),
            ),
        ),
        (
            "iat-future",
            post(&m, &hdr(), &with(ok(), "iat", json!(NOW + 60))),
        ),
        (
            "MP-301",
            post(
                &m,
                &hdr(),
                &with(
                    ok(),
                    "authorization_details",
                    json!([{"type": "urn:altinn:other"}]),
                ),
            ),
        ),
        (
            "MP-302",
            post(
                &m,
                &hdr(),
                &with(
                    ok(),
                    "authorization_details",
                    system_user(("reportee", json!("x"))),
                ),
            ),
        ),
        (
            "MP-303",
            post(
                &m,
                &hdr(),
                &with(
                    ok(),
                    "authorization_details",
                    system_user((
                        "systemuser_org",
                        json!({"authority": "iso6523-actorid-upis", "ID": "0192:98765"}),
                    )),
                ),
            ),
        ),
        (
            "MP-250",
            post(
                &m,
                &hdr(),
                &with(
                    claims("cert-client", "test:restricted"),
                    "consumer_org",
                    json!(ORG2),
                ),
            ),
        ),
        (
            "MP-251",
            post(
                &m,
                &hdr(),
                &with(
                    claims("cert-client", "test:read test:write"),
                    "consumer_org",
                    json!(ORG2),
                ),
            ),
        ),
    ];
    for (id, r) in &got {
        assert_case(r, id);
    }
    let (_, r250) = got.remove(got.len() - 2);
    assert_eq!(
        description(&r250),
        "Consumer has not been granted access to the scope test:restricted."
    );
    let (_, r251) = got.remove(got.len() - 1);
    assert_eq!(
        description(&r251),
        "Consumer 987654325 has not delegated access to the scope test:write to supplier 123456785."
    );
    let mut ids: Vec<&str> = got.iter().map(|(id, _)| *id).collect();
    ids.extend(["MP-250", "MP-251"]);
    for case in Case::ALL {
        let id = case.id();
        assert!(ids.contains(&id), "no grant produced {id}");
    }
}

#[test]
fn more_malformed_grants() {
    let m = mock();
    let leaf = &fx().leaf;
    let ok = claims("cert-client", "test:read");
    let good = sign(&x5c_header(leaf), &ok);
    let (h, rest) = good.split_once('.').expect("dot");
    for bad in [
        "".to_string(),
        "a.b".to_string(),
        format!("{good}.x"),
        format!("{h}.!!!.{}", rest.split_once('.').expect("dot").1),
        format!("{}.{rest}", URL_SAFE_NO_PAD.encode("[1]")),
    ] {
        assert_case(&m.token(&form(&bad), NOW), "MP-011");
    }
    // Repeated parameters.
    let twice = [form(&good), format!("&assertion={good}").into_bytes()].concat();
    assert_case(&m.token(&twice, NOW), "MP-011");
    // Wrong types.
    let hdr = x5c_header(leaf);
    for (k, v) in [
        ("exp", json!("soon")),
        ("iat", json!(1.5)),
        ("jti", json!(7)),
        ("jti", json!("x".repeat(300))),
        ("resource", json!({"a": 1})),
        ("pid", json!(12345678901_i64)),
        ("consumer_org", json!("12345")),
        (
            "authorization_details",
            json!({"type": "urn:altinn:systemuser"}),
        ),
    ] {
        assert_case(&post(&m, &hdr, &with(ok.clone(), k, v)), "MP-011");
    }
    // exp not after iat.
    let back = with(
        with(ok.clone(), "iat", json!(NOW + 5)),
        "exp",
        json!(NOW + 3),
    );
    assert_case(&post(&m, &hdr, &back), "MP-011");
    // Stale: iat too old, though exp is ahead.
    let stale = with(
        with(ok.clone(), "iat", json!(NOW - 11)),
        "exp",
        json!(NOW + 100),
    );
    assert_case(&post(&m, &hdr, &stale), "MP-130");
    // alg
    for alg in [json!("PS256"), json!("none"), json!("HS256"), Value::Null] {
        assert_case(&post(&m, &with(hdr.clone(), "alg", alg), &ok), "MP-124");
    }
    // x5c shapes
    for x5c in [
        json!([]),
        json!(["not base64!"]),
        json!([STANDARD.encode(b"junk")]),
        json!([1]),
    ] {
        assert_case(&post(&m, &with(hdr.clone(), "x5c", x5c), &ok), "MP-123");
    }
    assert_case(&post(&m, &json!({"alg": "RS256"}), &ok), "MP-123");
    // Scope missing or empty (each grant with its own jti: step 11 used it up).
    assert_case(
        &post(&m, &hdr, &without(claims("cert-client", "x"), "scope")),
        "MP-200",
    );
    assert_case(&post(&m, &hdr, &claims("cert-client", " ")), "MP-200");
    // Not the jwt-bearer grant.
    let r = m.token(b"grant_type=client_credentials&scope=x", NOW);
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "unsupported_grant_type");
}

fn token_claims(r: &Reply) -> (Map<String, Value>, Map<String, Value>) {
    let t = r.body["access_token"].as_str().expect("token");
    let d = crate::jwt::decode::decode(t).expect("decode");
    (d.header, d.claims)
}

#[test]
fn a_valid_grant_gets_a_token_that_verifies_with_the_jwks() {
    let m = mock();
    let c = with(
        claims("cert-client", "test:read test:write"),
        "resource",
        json!(["https://api.example/"]),
    );
    let c = with(c, "pid", json!("12345678901"));
    let r = post(&m, &x5c_header(&fx().leaf), &c);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 120);
    assert_eq!(r.body["scope"], "test:read test:write");

    let token = r.body["access_token"].as_str().expect("token");
    let d = crate::jwt::decode::decode(token).expect("decode");
    let jwks = crate::keystore::jwk::read(&m.jwks().to_string()).expect("jwks");
    let key = jwks.entries[0].public_key.as_ref().expect("key");
    assert!(jws::verify(
        Alg::RS256,
        key,
        d.signing_input.as_bytes(),
        &d.signature
    ));
    assert_eq!(d.header["alg"], "RS256");
    assert_eq!(d.header["typ"], "JWT");
    assert_eq!(d.header["kid"], m.jwks()["keys"][0]["kid"]);
    assert_eq!(m.jwks()["keys"][0]["use"], "sig");
    let t = &d.claims;
    assert_eq!(t["iss"], ISSUER);
    assert_eq!(t["client_amr"], "virksomhetssertifikat");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["aud"], json!(["https://api.example/"]));
    assert_eq!(t["scope"], "test:read test:write");
    assert_eq!(t["client_id"], "cert-client");
    assert_eq!(
        t["consumer"],
        json!({"authority": "iso6523-actorid-upis", "ID": "0192:123456785"})
    );
    assert!(t.get("supplier").is_none());
    assert_eq!(t["pid"], "12345678901");
    assert_eq!(t["iat"], NOW);
    assert_eq!(t["exp"], NOW + 120);
    let jti = t["jti"].as_str().expect("jti");
    assert_eq!(jti.len(), 36);
    assert_eq!(&jti[14..15], "4");
    // A string resource stays a string; no resource, aud "unspecified".
    let r = post(
        &m,
        &x5c_header(&fx().leaf),
        &with(
            claims("cert-client", "test:read"),
            "resource",
            json!("urn:x"),
        ),
    );
    assert_eq!(token_claims(&r).1["aud"], "urn:x");
    let r = post(
        &m,
        &x5c_header(&fx().leaf),
        &claims("cert-client", "test:read"),
    );
    assert_eq!(token_claims(&r).1["aud"], "unspecified");
    // RS384 and RS512 grants are accepted too.
    for alg in [Alg::RS384, Alg::RS512] {
        let h = with(x5c_header(&fx().leaf), "alg", json!(alg.name()));
        let g = sign_with(
            &h,
            &claims("cert-client", "test:read"),
            &fx().client_key,
            alg,
        );
        assert_eq!(m.token(&form(&g), NOW).status, 200, "{}", alg.name());
    }
}

#[test]
fn key_clients_delegation_and_system_users() {
    let m = mock();
    let r = post(
        &m,
        &json!({"alg": "RS256", "kid": "k1"}),
        &claims("key-client", "test:read"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["expires_in"], 600);
    let (_, t) = token_claims(&r);
    assert_eq!(t["client_amr"], "private_key_jwt");
    assert_eq!(t["exp"], NOW + 600);
    // kid wins over x5c.
    let h = json!({"alg": "RS256", "kid": "k1", "x5c": ["junk"]});
    assert_eq!(post(&m, &h, &claims("key-client", "test:read")).status, 200);
    // A certificate client with no keys: unknown kid.
    let r = post(
        &m,
        &json!({"alg": "RS256", "kid": "k1"}),
        &claims("cert-client", "test:read"),
    );
    assert_case(&r, "unknown-kid");

    // Delegation: supplier cert-client acting for ORG2.
    let c = with(
        claims("cert-client", "test:read"),
        "consumer_org",
        json!(ORG2),
    );
    let r = post(&m, &x5c_header(&fx().leaf), &c);
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, t) = token_claims(&r);
    assert_eq!(t["consumer"]["ID"], "0192:987654325");
    assert_eq!(t["supplier"]["ID"], "0192:123456785");
    // An org with access to the restricted scope gets it.
    let r = post(
        &m,
        &x5c_header(&fx().leaf),
        &claims("cert-client", "test:restricted"),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // System user authorization details are copied.
    let ad = json!([{
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": "0192:987654325"},
    }, {"type": "urn:altinn:consent", "id": "c-1"}]);
    let c = with(
        claims("cert-client", "test:read"),
        "authorization_details",
        ad.clone(),
    );
    let r = post(&m, &x5c_header(&fx().leaf), &c);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(token_claims(&r).1["authorization_details"], ad);
}

#[test]
fn certificates_are_checked() {
    let fx = fx();
    let m = mock();
    let ok = || claims("cert-client", "test:read");
    let with_cert = |c: &Certificate| json!({"alg": "RS256", "x5c": [b64(c), b64(&fx.int)]});
    // Expired and not yet valid.
    let expired = issue(fx, ORG1, CertKind::Auth, NOW - 400 * DAY, NOW - 30 * DAY);
    assert_case(&post(&m, &with_cert(&expired), &ok()), "MP-120");
    let early = issue(fx, ORG1, CertKind::Auth, NOW + DAY, NOW + 400 * DAY);
    assert_case(&post(&m, &with_cert(&early), &ok()), "MP-120");
    // nonRepudiation only.
    let sign_only = issue(fx, ORG1, CertKind::Sign, NOW - DAY, NOW + DAY);
    assert_case(&post(&m, &with_cert(&sign_only), &ok()), "MP-120");
    // Another organisation's certificate.
    let org2 = issue(fx, ORG2, CertKind::Auth, NOW - DAY, NOW + DAY);
    assert_case(&post(&m, &with_cert(&org2), &ok()), "MP-122");
    assert_eq!(
        post(&m, &with_cert(&org2), &claims("other-org", "test:read")).status,
        200
    );
    // A self-signed certificate that no anchor issued.
    let mut req = Request::new(Mode::SelfSigned, NOW - DAY);
    req.key = KeySpec::Ec(Curve::P256);
    req.org_number = Some(ORG1.into());
    let stranger = issue::generate(&req, None, &mut Random::from_seed("stranger"))
        .expect("gen")
        .entries[0]
        .chain[0]
        .clone();
    let h = json!({"alg": "RS256", "x5c": [b64(&stranger)]});
    assert_case(&post(&m, &h, &ok()), "MP-120");
    // A leaf passed off as an intermediate is not a CA.
    let h = json!({"alg": "RS256", "x5c": [b64(&fx.leaf), b64(&org2)]});
    assert_case(&post(&m, &h, &ok()), "MP-120");
}

#[test]
fn chains_through_an_intermediate() {
    let fx = fx();
    let leaf_only = json!({"alg": "RS256", "x5c": [b64(&fx.leaf)]});
    let ok = || claims("cert-client", "test:read");
    // Root as the only anchor: the intermediate must come in x5c.
    let m = mock();
    assert_eq!(post(&m, &x5c_header(&fx.leaf), &ok()).status, 200);
    assert_case(&post(&m, &leaf_only, &ok()), "MP-120");
    // Root and intermediate as anchors: the leaf alone is enough.
    let m = mock_with(vec![fx.root.clone(), fx.int.clone()], opts());
    assert_eq!(post(&m, &leaf_only, &ok()).status, 200);
    // The intermediate alone as the anchor works too.
    let m = mock_with(vec![fx.int.clone()], opts());
    assert_eq!(post(&m, &leaf_only, &ok()).status, 200);
    // No anchors: nothing verifies.
    let m = mock_with(vec![], opts());
    assert_case(&post(&m, &x5c_header(&fx.leaf), &ok()), "MP-120");
}

#[test]
fn cached_chains_are_rechecked_for_validity() {
    let fx = fx();
    let m = mock();
    let short = issue(fx, ORG1, CertKind::Auth, NOW - DAY, NOW + 100);
    let h = json!({"alg": "RS256", "x5c": [b64(&short), b64(&fx.int)]});
    assert_eq!(
        post(&m, &h, &claims("cert-client", "test:read")).status,
        200
    );
    assert_eq!(lock(&m.chains).len(), 1);
    let later = NOW + 200;
    let c = json!({
        "aud": ISSUER, "iss": "cert-client", "scope": "test:read",
        "iat": later, "exp": later + 60, "jti": "later",
    });
    assert_case(&m.token(&form(&sign(&h, &c)), later), "MP-120");
    // The cache holds the org check too, per client.
    assert_case(&post(&m, &h, &claims("other-org", "test:read")), "MP-122");
}

#[test]
fn replays_are_refused_and_the_store_stays_bounded() {
    let m = mock();
    let h = x5c_header(&fx().leaf);
    let g = |now: i64, jti: &str| {
        let c = json!({
            "aud": ISSUER, "iss": "cert-client", "scope": "test:read",
            "iat": now, "exp": now + 60, "jti": jti,
        });
        form(&sign(&h, &c))
    };
    for i in 0..20 {
        assert_eq!(m.token(&g(NOW, &format!("j{i}")), NOW).status, 200);
    }
    assert_eq!(m.remembered_grants(), 20);
    assert_case(&m.token(&g(NOW, "j3"), NOW + 1), "MP-012");
    // Another client may use the same jti.
    let c = json!({
        "aud": ISSUER, "iss": "key-client", "scope": "test:read",
        "iat": NOW, "exp": NOW + 60, "jti": "j3",
    });
    let r = m.token(&form(&sign(&json!({"alg": "RS256", "kid": "k1"}), &c)), NOW);
    assert_eq!(r.status, 200, "{}", r.body);
    // Once the grants have expired they are forgotten.
    let later = NOW + 61;
    assert_eq!(m.token(&g(later, "j3"), later).status, 200);
    assert_eq!(m.remembered_grants(), 1);
    // A grant without jti is accepted and not remembered.
    let c = json!({
        "aud": ISSUER, "iss": "cert-client", "scope": "test:read",
        "iat": later, "exp": later + 60,
    });
    assert_eq!(m.token(&form(&sign(&h, &c)), later).status, 200);
    assert_eq!(m.remembered_grants(), 1);
    // A store at its limit refuses rather than forgets.
    {
        let mut s = lock(&m.jtis);
        for i in 0..MAX_JTIS {
            s.live.insert(format!("fill{i}"), i64::MAX);
        }
    }
    let r = m.token(&g(later, "new"), later);
    assert_eq!(r.status, 503);
    assert_eq!(r.body["error"], "temporarily_unavailable");
}

#[test]
fn forced_errors() {
    let text = format!("{CLIENTS}\nforce_error = \"MP-303\"\n");
    let clients = clients_with(&text).expect("clients");
    assert_eq!(clients.clients[2].force_error.as_deref(), Some("MP-303"));
    let mut o = opts();
    o.forced = vec![("cert-client".into(), "MP-251".into())];
    let m = Mock::new(
        vec![fx().root.clone()],
        clients,
        o,
        Some(fx().server_key.clone()),
    )
    .expect("mock");
    // Forced before the key is looked at: any signature will do.
    let c = with(
        claims("cert-client", "test:write"),
        "consumer_org",
        json!(ORG2),
    );
    let r = m.token(
        &form(&sign_with(
            &x5c_header(&fx().leaf),
            &c,
            &fx().server_key,
            Alg::RS256,
        )),
        NOW,
    );
    assert_case(&r, "MP-251");
    assert_eq!(
        description(&r),
        "Consumer 987654325 has not delegated access to the scope test:write to supplier 123456785."
    );
    assert_case(
        &post(&m, &x5c_header(&fx().leaf), &claims("other-org", "x")),
        "MP-303",
    );
    // Unknown case or client.
    for (client, case, needle) in [
        ("cert-client", "MP-999", "MP-999"),
        ("nobody", "MP-250", "no such client"),
    ] {
        let mut o = opts();
        o.forced = vec![(client.into(), case.into())];
        let e = Mock::new(
            vec![],
            clients_with(CLIENTS).expect("clients"),
            o,
            Some(fx().server_key.clone()),
        )
        .err()
        .expect("refused");
        assert_eq!(e.id(), "mock-forced-error");
        assert!(e.to_string().contains(needle), "{e}");
        assert!(e.hint().is_some_and(|h| h.contains("MP-250")));
    }
}

#[test]
fn clients_toml_errors_name_the_file_and_the_client() {
    let cases: [(&str, &str, &[&str]); 11] = [
        (
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nscopez = [\"x\"]\n",
            "mock-clients-toml",
            &[
                "clients.toml",
                "line 4",
                "client 1 (client_id \"a\")",
                "scopez",
            ],
        ),
        ("user_login = []\n", "mock-clients-toml", &["user_login"]),
        (
            "[[client]\n",
            "mock-clients-toml",
            &["clients.toml", "line 1"],
        ),
        (
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\n[[client]]\nclient_id = \"a\"\norg = \"123456785\"\n",
            "mock-client-invalid",
            &["client 2 (client_id \"a\")", "twice"],
        ),
        (
            "[[client]]\nclient_id = \"a\"\norg = \"12345678\"\n",
            "mock-client-invalid",
            &["client 1 (client_id \"a\")", "\"12345678\"", "9-digit"],
        ),
        (
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nforce_error = \"MP-999\"\n",
            "mock-client-invalid",
            &["MP-999", "client 1"],
        ),
        (
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nauth = \"password\"\n",
            "mock-client-invalid",
            &["password"],
        ),
        (
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nauth = \"key\"\n",
            "mock-client-invalid",
            &["no keys"],
        ),
        (
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nkeys = [{ kid = \"k\", file = \"missing.jwk\" }]\n",
            "mock-key-file",
            &["client 1 (client_id \"a\")", "missing.jwk", "\"k\""],
        ),
        (
            "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nconsumers = { \"123456785\" = [\"x\"] }\n",
            "mock-client-invalid",
            &["own organisation"],
        ),
        (
            "[access]\n\"s\" = [\"1\"]\n",
            "mock-client-invalid",
            &["[access]", "\"1\""],
        ),
    ];
    for (text, id, needles) in cases {
        let e = clients_with(text)
            .err()
            .unwrap_or_else(|| panic!("accepted {text}"));
        let msg = e.to_string();
        assert_eq!(e.id(), id, "{msg}");
        assert!(msg.contains("clients.toml"), "{msg}");
        for n in needles {
            assert!(msg.contains(n), "{n:?} not in {msg}");
        }
    }
    // Bad expiry times.
    let e = clients_with(
        "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nkeys = [{ kid = \"k\", file = \"client.jwk\", expires = \"tomorrow\" }]\n",
    )
    .expect_err("refused");
    assert!(e.to_string().contains("RFC 3339"), "{e}");
    // A TOML date-time works as well as a string.
    let c = clients_with(
        "[[client]]\nclient_id = \"a\"\norg = \"123456785\"\nkeys = [{ kid = \"k\", file = \"client.jwk\", expires = 2027-11-23T00:00:00Z }]\n",
    )
    .expect("clients");
    assert_eq!(c.clients[0].keys[0].expires, Some(1_826_928_000));
    assert_eq!(c.clients[0].auth, ClientAuth::Key);
    // The example in the module documentation parses.
    let c = clients_with(CLIENTS).expect("clients");
    assert_eq!(c.clients.len(), 3);
    assert_eq!(c.clients[0].auth, ClientAuth::Certificate);
}

#[test]
fn metadata_and_options() {
    let m = mock();
    let md = m.metadata();
    assert_eq!(md["issuer"], ISSUER);
    assert_eq!(md["token_endpoint"], "http://127.0.0.1:7824/token");
    assert_eq!(md["jwks_uri"], "http://127.0.0.1:7824/jwk");
    assert_eq!(md["grant_types_supported"], json!([GRANT_TYPE]));
    // The signing key must be RSA.
    let ec = generate_key(KeySpec::Ec(Curve::P256), &mut Random::from_seed("ec")).expect("ec");
    let e = Mock::new(vec![], Clients::default(), opts(), Some(ec))
        .err()
        .expect("refused");
    assert_eq!(e.id(), "mock-signing-key");
    let mut o = opts();
    o.token_lifetime = 0;
    assert!(Mock::new(vec![], Clients::default(), o, Some(fx().server_key.clone())).is_err());
}
