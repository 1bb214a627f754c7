//! JWK and JWKS documents.
#![no_main]

use credkit::keystore::jwk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = jwk::looks_like(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = jwk::read(text);
    }
});
