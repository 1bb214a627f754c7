//! Everything a file goes through in `inspect` and `convert`: format
//! detection and every reader (`keystore::load`), the inspect report, and
//! writing what was read back out as PEM and JWKS.
#![no_main]

use credkit::keystore::write::{self, OutFormat, Parts, WriteOptions};
use credkit::keystore::{self, inspect};
use credkit::secret::SecretCell;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut store_pw = SecretCell::with_value(Some("changeit".into()));
    let mut key_pw = SecretCell::with_value(None);
    let Ok(store) = keystore::load(data, &mut store_pw, &mut key_pw) else {
        return;
    };
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let _ = inspect::report(&store, "fuzz", now);
    let opts = WriteOptions {
        password: None,
        key_password: None,
        legacy: false,
        encrypt_keys: false,
        parts: Parts::All,
        leaf_only: false,
        private_jwk: true,
        kid: None,
        now_ms: 0,
        iterations: Some(1),
    };
    let _ = write::write(&store.entries, OutFormat::Pem, &opts, false);
    let _ = write::write(&store.entries, OutFormat::Jwks, &opts, false);
});
