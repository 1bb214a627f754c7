//! JKS and JCEKS: with the store password, with a separate key password, and
//! without a password (listing only).
#![no_main]

use credkit::keystore::java as jks;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = jks::is_java_store(data);
    let _ = jks::parse(data, None, None);
    let _ = jks::parse(data, Some("changeit"), None);
    let _ = jks::parse(data, Some("changeit"), Some("keypass1"));
});
