//! PKCS#12: the whole reader, with the right password, a wrong one and none.
#![no_main]

use credkit::keystore::pkcs12;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pkcs12::looks_like(data);
    let _ = pkcs12::read(data, Some("changeit"));
    let _ = pkcs12::read(data, None);
});
