//! JWT decoding (no key) and the checks run on a decoded token.
#![no_main]

use credkit::jwt::decode;
use credkit::target::Target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = decode::decode(text) else {
        return;
    };
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    for p in [
        Target::Maskinporten,
        Target::Okta,
        Target::Entra,
        Target::Keycloak,
        Target::Generic,
    ] {
        let _ = decode::problems(&d, p, now);
    }
    for claim in ["exp", "iat", "nbf"] {
        if let Some(t) = d.num(claim) {
            let _ = credkit::timefmt::rfc3339(t);
            let _ = decode::human_span(t);
        }
    }
});
