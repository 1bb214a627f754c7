//! What token endpoints and authorization servers send back: the token or
//! error response (then the whole diagnosis), `Date` and `Retry-After`
//! headers, the metadata document, and a token-cache file.
#![no_main]

use credkit::oauth::diagnose::{self, Context};
use credkit::oauth::{cache, discovery, exchange};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes pick the HTTP status; the rest is the body.
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + (u16::from_be_bytes([*a, *b]) % 500), rest),
        _ => (200, data),
    };
    let text = String::from_utf8_lossy(body).into_owned();
    let header = text.lines().next().unwrap_or("").to_string();
    let resp = exchange::HttpResponse {
        status,
        date: Some(header.clone()),
        retry_after: Some(header.clone()),
        dpop_nonce: Some(header.clone()),
        content_type: Some("application/json".into()),
        body: text.clone(),
        received_at: 1_700_000_000,
    };
    let _ = exchange::parse_http_date(&header);
    let _ = exchange::retry_after(&header, 1_700_000_000);
    let _ = exchange::redact_body(&text);
    let _ = exchange::redact_jwt(&text);
    match exchange::parse(&resp) {
        Ok(t) => {
            let _ = serde_json::to_string(&t);
        }
        Err(e) => {
            let server_date = exchange::parse_http_date(&header);
            let ctx = Context {
                endpoint: "https://test.maskinporten.no/token".into(),
                issuer: Some("https://test.maskinporten.no/".into()),
                client_id: Some("0b7c5c8e-1111-2222-3333-444455556666".into()),
                scope: Some("test:read".into()),
                claims: serde_json::from_slice(body).ok(),
                server_date,
                local_received: 1_700_000_000,
                ..Context::default()
            };
            let d = diagnose::diagnose(&e, &ctx);
            let _ = serde_json::to_string(&d);
        }
    }
    let _ = discovery::from_metadata(body, "https://example.test/.well-known/x", "https://example.test/");
    // A cache file as read, and the body as the token of an entry stored
    // under the key asked for (so a seed like `cache.json` gets past the
    // format and key checks to the expiry rules).
    let key = cache::CacheKey {
        endpoint: "https://test.maskinporten.no/token".into(),
        client_id: "c".into(),
        ..cache::CacheKey::default()
    };
    let wrapped = serde_json::from_slice::<serde_json::Value>(body).ok().map(|token| {
        serde_json::json!({"format": cache::FORMAT, "key": key.digest(), "token": token}).to_string()
    });
    for now in [0, 1_700_000_000, i64::MIN, i64::MAX] {
        let _ = cache::read_entry(body, &key, now);
        if let Some(w) = &wrapped {
            let _ = cache::read_entry(w.as_bytes(), &key, now);
        }
    }
});
