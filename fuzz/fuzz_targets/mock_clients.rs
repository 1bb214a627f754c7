//! The look-alike's clients.toml.
#![no_main]

use credkit::oauth::mock;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Key files are read relative to this path; none exist in /nonexistent.
    let _ = mock::parse_clients(&text, Path::new("/nonexistent/clients.toml"));
});
