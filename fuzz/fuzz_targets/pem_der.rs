//! PEM splitting and the DER readers for certificates and keys.
#![no_main]

use credkit::cert::Certificate;
use credkit::key::{PrivateKey, PublicKey};
use credkit::keystore::pem;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(blocks) = pem::parse_blocks(&text) {
        for b in &blocks {
            let _ = Certificate::from_der(&b.der);
            let _ = PrivateKey::from_pkcs8(&b.der);
        }
    }
    let mut no_password = || -> credkit::Result<Option<String>> { Ok(None) };
    let _ = pem::read(&text, &mut no_password);
    let mut password = || -> credkit::Result<Option<String>> { Ok(Some("changeit".into())) };
    let _ = pem::read_der(data, &mut password);
    let _ = Certificate::from_der(data);
    let _ = PrivateKey::from_pkcs8(data);
    let _ = PrivateKey::from_pkcs1(data);
    let _ = PrivateKey::from_sec1(data);
    let _ = PublicKey::from_spki(data);
    let _ = PublicKey::from_pkcs1_public(data);
    let _ = credkit::keystore::pbe::describe_pkcs8(data);
    let _ = credkit::keystore::pbe::decrypt_pkcs8(data, "changeit");
});
