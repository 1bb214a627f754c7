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
            let _ = credkit::key::openssh::parse(&b.der);
        }
    }
    let mut no_password: Box<pem::PasswordFn<'_>> = Box::new(|| Ok(None));
    let _ = pem::read(&text, &mut *no_password);
    let mut password: Box<pem::PasswordFn<'_>> =
        Box::new(|| Ok(Some(String::from("changeit").into())));
    let _ = pem::read_der(data, &mut *password);
    let _ = Certificate::from_der(data);
    let _ = PrivateKey::from_pkcs8(data);
    let _ = PrivateKey::from_pkcs1(data);
    let _ = PrivateKey::from_sec1(data);
    let _ = PublicKey::from_spki(data);
    let _ = PublicKey::from_pkcs1_public(data);
    let _ = credkit::key::dsa::from_traditional(data);
    // OpenSSH's binary key format, with and without its magic in front.
    let _ = credkit::key::openssh::parse(data);
    let mut ssh = b"openssh-key-v1\0".to_vec();
    ssh.extend_from_slice(data);
    let _ = credkit::key::openssh::parse(&ssh);
    // Signature checks on whatever parses as a certificate, with its own key.
    if let Ok(c) = Certificate::from_der(data)
        && let Ok(k) = &c.public_key
    {
        let _ = credkit::cert::check_signature(&c, k);
    }
    let _ = credkit::keystore::pbe::describe_pkcs8(data);
    let _ = credkit::keystore::pbe::decrypt_pkcs8(data, "changeit");
});
