//! The Maskinporten look-alike's token endpoint: the form body, the grant's
//! header and claims, x5c and the certificate path, and the rules after them.
//! (`serve mock-maskinporten` hands it whatever a client POSTs.)
#![no_main]

use credkit::cert::Certificate;
use credkit::oauth::mock::{self, Mock, MockOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

const CA: &[u8] = include_bytes!("../../fixtures/ca/chain.pem");
const CLIENTS: &str = r#"
user_login_scopes = ["openid"]
[access]
"test:restricted" = ["123456785"]
[[client]]
client_id = "c1"
org = "123456785"
scopes = ["test:read", "test:write"]
[[client]]
client_id = "c2"
org = "987654325"
scopes = ["test:read"]
consumers = { "123456785" = ["test:read"] }
"#;

fn mock() -> &'static Mock {
    static M: OnceLock<Mock> = OnceLock::new();
    M.get_or_init(|| {
        let text = String::from_utf8_lossy(CA);
        let cas: Vec<Certificate> = text
            .split("-----END CERTIFICATE-----")
            .filter_map(|b| {
                use base64::Engine;
                let body: String = b
                    .lines()
                    .filter(|l| !l.starts_with("-----") && !l.trim().is_empty())
                    .collect();
                let der = base64::engine::general_purpose::STANDARD.decode(body).ok()?;
                Certificate::from_der(&der).ok()
            })
            .collect();
        let clients = mock::parse_clients(CLIENTS, Path::new("fuzz.toml")).expect("clients");
        let opts = MockOptions {
            issuer: "http://127.0.0.1:7824/".into(),
            ..MockOptions::default()
        };
        Mock::new(cas, clients, opts, None).expect("mock")
    })
}

fuzz_target!(|data: &[u8]| {
    let r = mock().token(data, 1_795_453_200);
    assert!((200..600).contains(&r.status));
});
