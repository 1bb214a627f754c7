//! Key protectors: the `EncryptedPrivateKeyInfo` around each private key
//! (read with [`crate::asn1::Reader`]), Sun's JKS key protector (a SHA-1
//! stream) and SunJCE's `PBEWithMD5AndTripleDES`.

use super::{DIGEST_LEN, JksError, KeyProtection, ct_eq, utf16be};
use crate::asn1::{self, Tlv, tag};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use md5::Md5;
use sha1::{Digest, Sha1};

pub(super) const MAX_PBE_ITERATIONS: u64 = 10_000_000;
/// DER content of OID 1.3.6.1.4.1.42.2.17.1.1 (Sun JKS key protector).
pub(super) const OID_JKS_KEY_PROTECTOR: &[u8] =
    &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x11, 0x01, 0x01];
/// DER content of OID 1.3.6.1.4.1.42.2.19.1 (PBEWithMD5AndTripleDES).
pub(super) const OID_PBE_MD5_3DES: &[u8] = &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x2A, 0x02, 0x13, 0x01];

/// Encrypted private key material, validated structurally at parse time.
#[derive(Clone, Copy)]
pub(super) enum Protected<'a> {
    /// salt(20) | ciphertext | check(20)
    Jks { data: &'a [u8], offset: usize },
    Pbe {
        salt: [u8; 8],
        iterations: u32,
        ciphertext: &'a [u8],
        /// File offset of the PBE parameters.
        offset: usize,
    },
}

pub(super) struct PendingKey<'a> {
    pub(super) index: usize,
    pub(super) key: Protected<'a>,
}

/// One DER element, with the file offset of its first byte. Any reading
/// failure is reported there as `what`; BER's indefinite lengths are refused
/// (Java writes DER).
fn element<'a>(r: &mut asn1::Reader<'a>, what: &'static str) -> Result<(usize, Tlv<'a>), JksError> {
    let offset = r.offset();
    let t = r.read().map_err(|_| JksError::Malformed { offset, what })?;
    if t.indefinite {
        return Err(JksError::Malformed {
            offset,
            what: "DER definite length of at most 4 bytes",
        });
    }
    Ok((offset, t))
}

/// One DER element that must have `tag`.
fn expect<'a>(
    r: &mut asn1::Reader<'a>,
    tag: u8,
    what: &'static str,
) -> Result<(usize, Tlv<'a>), JksError> {
    let (offset, t) = element(r, what)?;
    if t.tag != tag {
        return Err(JksError::Malformed { offset, what });
    }
    Ok((offset, t))
}

/// Nothing may follow.
fn finish(r: &asn1::Reader<'_>, what: &'static str) -> Result<(), JksError> {
    if r.is_empty() {
        Ok(())
    } else {
        Err(JksError::Malformed {
            offset: r.offset(),
            what,
        })
    }
}

/// True if `data` is exactly one DER SEQUENCE.
pub(super) fn is_der_sequence(data: &[u8]) -> bool {
    let mut r = asn1::Reader::new(data);
    expect(&mut r, tag::SEQUENCE, "SEQUENCE").is_ok() && r.is_empty()
}

/// Parses `EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }`.
pub(super) fn parse_epki<'a>(
    der: &'a [u8],
    base: usize,
    alias: &str,
) -> Result<(KeyProtection, Protected<'a>), JksError> {
    let mut outer = asn1::Reader::with_offset(der, base);
    let (_, seq) = expect(
        &mut outer,
        tag::SEQUENCE,
        "EncryptedPrivateKeyInfo SEQUENCE",
    )?;
    finish(&outer, "end of EncryptedPrivateKeyInfo (no trailing bytes)")?;

    let mut body = seq.reader();
    let (alg_offset, alg) = expect(&mut body, tag::SEQUENCE, "AlgorithmIdentifier SEQUENCE")?;
    let (_, enc) = expect(&mut body, tag::OCTET_STRING, "encryptedData OCTET STRING")?;
    finish(&body, "end of EncryptedPrivateKeyInfo after encryptedData")?;

    let mut alg_body = alg.reader();
    let (oid_offset, oid) = expect(&mut alg_body, tag::OID, "algorithm OBJECT IDENTIFIER")?;
    let params = if alg_body.is_empty() {
        None
    } else {
        Some(element(&mut alg_body, "algorithm parameters")?)
    };
    finish(&alg_body, "end of AlgorithmIdentifier after parameters")?;

    if oid.content == OID_JKS_KEY_PROTECTOR {
        // Parameters (normally NULL) are ignored, as Sun's KeyProtector does.
        if enc.content.len() < 2 * DIGEST_LEN {
            return Err(JksError::Malformed {
                offset: enc.content_offset,
                what: "JKS-protected key of at least 40 bytes (20-byte salt and 20-byte check)",
            });
        }
        return Ok((
            KeyProtection::JksSunProprietary,
            Protected::Jks {
                data: enc.content,
                offset: enc.content_offset,
            },
        ));
    }

    if oid.content == OID_PBE_MD5_3DES {
        let (params_offset, params) = params.ok_or(JksError::Malformed {
            offset: alg_offset,
            what: "PBE parameters SEQUENCE { salt, iterationCount }",
        })?;
        let (salt, iterations) = parse_pbe_params(params_offset, &params)?;
        let ct = enc.content;
        if ct.is_empty() || ct.len() % 8 != 0 {
            return Err(JksError::Malformed {
                offset: enc.content_offset,
                what: "3DES-CBC ciphertext that is a non-empty multiple of 8 bytes",
            });
        }
        return Ok((
            KeyProtection::JcePbeWithMd5AndTripleDes,
            Protected::Pbe {
                salt,
                iterations,
                ciphertext: ct,
                offset: params_offset,
            },
        ));
    }

    match asn1::oid_to_string(oid.content) {
        Some(oid) => Err(JksError::UnsupportedKeyProtection {
            alias: alias.to_owned(),
            oid,
        }),
        None => Err(JksError::Malformed {
            offset: oid_offset,
            what: "valid OBJECT IDENTIFIER encoding",
        }),
    }
}

/// `PBEParameter ::= SEQUENCE { salt OCTET STRING (8), iterationCount INTEGER }`.
fn parse_pbe_params(offset: usize, params: &Tlv<'_>) -> Result<([u8; 8], u32), JksError> {
    if params.tag != tag::SEQUENCE {
        return Err(JksError::Malformed {
            offset,
            what: "PBE parameters SEQUENCE",
        });
    }
    let mut d = params.reader();
    let (salt_offset, salt) = expect(&mut d, tag::OCTET_STRING, "PBE salt OCTET STRING")?;
    let (iter_offset, iter) = expect(&mut d, tag::INTEGER, "PBE iteration count INTEGER")?;
    finish(&d, "end of PBE parameters after the iteration count")?;

    let salt: [u8; 8] = salt.content.try_into().map_err(|_| JksError::Malformed {
        offset: salt_offset,
        what: "8-byte PBE salt",
    })?;

    let digits = iter.content;
    match digits.first() {
        None => {
            return Err(JksError::Malformed {
                offset: iter_offset,
                what: "non-empty INTEGER",
            });
        }
        Some(&b) if b & 0x80 != 0 => {
            return Err(JksError::Malformed {
                offset: iter_offset,
                what: "positive PBE iteration count",
            });
        }
        Some(_) => {}
    }
    let significant: &[u8] = {
        let skip = digits.iter().take_while(|&&b| b == 0).count();
        digits.get(skip..).unwrap_or_default()
    };
    let value = if significant.len() > 8 {
        u64::MAX
    } else {
        significant
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    if value == 0 {
        return Err(JksError::Malformed {
            offset: iter_offset,
            what: "positive PBE iteration count",
        });
    }
    if value > MAX_PBE_ITERATIONS {
        return Err(JksError::TooLarge {
            offset: iter_offset,
            what: "PBE iteration count",
            len: value,
            max: MAX_PBE_ITERATIONS,
        });
    }
    let iterations = u32::try_from(value).map_err(|_| JksError::TooLarge {
        offset: iter_offset,
        what: "PBE iteration count",
        len: value,
        max: MAX_PBE_ITERATIONS,
    })?;
    Ok((salt, iterations))
}

/// The PKCS#8 key: tried with the key password, then the store password.
pub(super) fn recover_key(
    alias: &str,
    key: &Protected<'_>,
    store_password: &str,
    key_password: Option<&str>,
) -> Result<Vec<u8>, JksError> {
    let mut candidates: Vec<&str> = Vec::with_capacity(2);
    if let Some(kp) = key_password {
        candidates.push(kp);
    }
    if key_password != Some(store_password) {
        candidates.push(store_password);
    }
    for pw in candidates {
        match key {
            Protected::Jks { data, offset } => {
                if let Some(plain) = jks_unprotect(data, pw) {
                    if !is_der_sequence(&plain) {
                        return Err(JksError::Malformed {
                            offset: *offset,
                            what: "decrypted private key that is a DER SEQUENCE (PKCS#8)",
                        });
                    }
                    return Ok(plain);
                }
            }
            Protected::Pbe {
                salt,
                iterations,
                ciphertext,
                ..
            } => {
                let Some(pw) = jce_password_bytes(pw) else {
                    continue; // SunJCE could not have used this password
                };
                if let Some(plain) = pbe_md5_3des_decrypt(ciphertext, *salt, *iterations, &pw)
                    && is_der_sequence(&plain)
                {
                    return Ok(plain);
                }
            }
        }
    }
    Err(JksError::WrongKeyPassword {
        alias: alias.to_owned(),
    })
}

/// Sun's JKS key protector. `data` = salt(20) | ciphertext | check(20).
pub(super) fn jks_unprotect(data: &[u8], password: &str) -> Option<Vec<u8>> {
    let pw = utf16be(password);
    let check_start = data.len().checked_sub(DIGEST_LEN)?;
    let salt = data.get(..DIGEST_LEN)?;
    let ciphertext = data.get(DIGEST_LEN..check_start)?;
    let check = data.get(check_start..)?;

    let mut plain = Vec::with_capacity(ciphertext.len());
    let mut block = Sha1::new().chain_update(&pw).chain_update(salt).finalize();
    for (i, chunk) in ciphertext.chunks(DIGEST_LEN).enumerate() {
        if i > 0 {
            block = Sha1::new().chain_update(&pw).chain_update(block).finalize();
        }
        plain.extend(chunk.iter().zip(block.iter()).map(|(c, k)| c ^ k));
    }
    let computed = Sha1::new()
        .chain_update(&pw)
        .chain_update(&plain)
        .finalize();
    ct_eq(computed.as_slice(), check).then_some(plain)
}

/// Password bytes as SunJCE's `PBEKey` makes them: it only accepts printable
/// ASCII (or the single char `"\0"`), one byte per char. `None` otherwise.
pub(super) fn jce_password_bytes(password: &str) -> Option<Vec<u8>> {
    if password == "\0" {
        Some(vec![0])
    } else if password.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
        Some(password.as_bytes().to_vec())
    } else {
        None
    }
}

/// SunJCE `PBEWithMD5AndTripleDES` decryption (PBES1-like, Sun key derivation).
pub(super) fn pbe_md5_3des_decrypt(
    ciphertext: &[u8],
    salt: [u8; 8],
    iterations: u32,
    pw: &[u8],
) -> Option<Vec<u8>> {
    let [a0, a1, a2, a3, b0, b1, b2, b3] = salt;
    // Sun quirk: identical halves -> reverse the first half.
    let first = if [a0, a1, a2, a3] == [b0, b1, b2, b3] {
        [a3, a2, a1, a0]
    } else {
        [a0, a1, a2, a3]
    };
    let mut derived: Vec<u8> = Vec::with_capacity(32);
    for half in [first, [b0, b1, b2, b3]] {
        let mut state = Md5::new().chain_update(half).chain_update(pw).finalize();
        for _ in 1..iterations {
            state = Md5::new().chain_update(state).chain_update(pw).finalize();
        }
        derived.extend_from_slice(state.as_slice());
    }
    let key = derived.get(..24)?;
    let iv = derived.get(24..32)?;
    cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .ok()
}
