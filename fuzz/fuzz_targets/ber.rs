//! The ASN.1 reader and the BER-to-DER step PKCS#12 uses. Checks that
//! `to_der` output is DER: it parses again, holds no BER, and converting it
//! a second time changes nothing.
#![no_main]

use credkit::asn1;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = asn1::is_ber(data);
    let Ok(t) = asn1::parse_single(data) else {
        return;
    };
    let _ = t.octets();
    let _ = t.oid();
    let _ = t.u64();
    if let Ok(der) = asn1::to_der(&t) {
        let again = asn1::parse_single(&der).expect("to_der output parses");
        assert!(!asn1::is_ber(&der), "to_der output holds BER");
        assert_eq!(
            asn1::to_der(&again).expect("DER converts"),
            der,
            "to_der is not idempotent"
        );
    }
});
