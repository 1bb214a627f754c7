//! The container: entries, aliases, timestamps and certificate chains.

use super::input::{Reader, decode_modified_utf8};
use super::protect::{Protected, parse_epki};
use super::serial::parse_sealed_object;
use super::{JavaEntry, JavaEntryBody, JavaStoreKind, JksError};

pub(super) const MAX_CHAIN: u32 = 100;
pub(super) const TAG_PRIVATE_KEY: u32 = 1;
pub(super) const TAG_TRUSTED_CERT: u32 = 2;
pub(super) const TAG_SECRET_KEY: u32 = 3;
pub(super) const DEFAULT_CERT_TYPE: &str = "X.509";

/// One entry: tag, alias, timestamp and body; a private key's protected
/// material is returned for decryption once the store's digest is checked.
pub(super) fn parse_entry<'a>(
    r: &mut Reader<'a>,
    kind: JavaStoreKind,
    version: u32,
) -> Result<(JavaEntry, Option<Protected<'a>>), JksError> {
    let tag_offset = r.pos;
    let tag = r.u32("entry tag")?;
    // Reject unknown tags before reading further so the error points at the tag.
    let tag_ok = matches!(tag, TAG_PRIVATE_KEY | TAG_TRUSTED_CERT)
        || (tag == TAG_SECRET_KEY && kind == JavaStoreKind::Jceks);
    if !tag_ok {
        return Err(JksError::BadEntryTag {
            offset: tag_offset,
            tag,
        });
    }
    let alias_offset = r.pos;
    let alias_bytes = r.utf("entry alias")?;
    let alias = decode_modified_utf8(alias_bytes).ok_or(JksError::BadAlias {
        offset: alias_offset,
    })?;
    let timestamp_ms = r.i64("entry timestamp")?;

    let (body, key) = match tag {
        TAG_PRIVATE_KEY => {
            let (key_offset, epki) = r.blob("encrypted private key")?;
            let (protection, key) = parse_epki(epki, key_offset, &alias)?;
            let count_offset = r.pos;
            let count = r.u32("certificate chain length")?;
            if count > MAX_CHAIN {
                return Err(JksError::TooLarge {
                    offset: count_offset,
                    what: "certificate chain length",
                    len: u64::from(count),
                    max: u64::from(MAX_CHAIN),
                });
            }
            let mut chain = Vec::new();
            let mut cert_types = Vec::new();
            for _ in 0..count {
                let (cert_type, cert) = read_cert(r, version)?;
                cert_types.push(cert_type);
                chain.push(cert);
            }
            (
                JavaEntryBody::PrivateKey {
                    pkcs8: None,
                    protection,
                    chain,
                    cert_types,
                },
                Some(key),
            )
        }
        TAG_TRUSTED_CERT => {
            let (cert_type, cert) = read_cert(r, version)?;
            (JavaEntryBody::TrustedCert { cert, cert_type }, None)
        }
        _ => {
            let (seal_algorithm, params_algorithm) = parse_sealed_object(r)?;
            (
                JavaEntryBody::Secret {
                    seal_algorithm,
                    params_algorithm,
                },
                None,
            )
        }
    };
    Ok((
        JavaEntry {
            alias,
            timestamp_ms,
            body,
        },
        key,
    ))
}

fn read_cert(r: &mut Reader<'_>, version: u32) -> Result<(String, Vec<u8>), JksError> {
    let cert_type = if version == 2 {
        r.utf_string("certificate type")?
    } else {
        DEFAULT_CERT_TYPE.to_owned()
    };
    let (_, der) = r.blob("certificate")?;
    Ok((cert_type, der.to_vec()))
}
