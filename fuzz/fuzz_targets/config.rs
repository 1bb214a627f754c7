//! The configuration readers: `config.toml` profiles and jwt-grant-generator
//! `.properties` files.
#![no_main]

use credkit::oauth::config;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("fuzz.toml");
    // The default profile, and names that seeds use.
    for name in [None, Some("mp-test"), Some("default"), Some("a")] {
        let _ = config::profile_from_toml(&text, path, name);
    }
    let _ = config::parse_properties(&text);
    let _ = config::profile_names(&text, path);
    let _ = config::from_properties(&text, Path::new("fuzz.properties"));
});
