//! OpenSSH private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`), the
//! `openssh-key-v1` format of OpenSSH's PROTOCOL.key:
//!
//! ```text
//! "openssh-key-v1\0"
//! string ciphername, string kdfname, string kdfoptions
//! uint32 number of keys N, N x string public key
//! string (possibly encrypted) private section:
//!     uint32 checkint, uint32 checkint (equal),
//!     N x (string keytype, key fields, string comment),
//!     padding 1, 2, 3, ...
//! ```
//!
//! Unencrypted Ed25519, RSA and ECDSA (nistp256/384/521) keys are read into
//! the usual [`PrivateKey`]; `ssh-dss` becomes a DSA key that is shown, not
//! used. Encrypted keys are named, with the way to make them readable. Every
//! length is checked against what remains, and the key count is capped.

use super::{Curve, KeyError, PrivateKey, RsaPrivate, dsa};
use crypto_bigint::{BoxedUint, NonZero};

const MAGIC: &[u8] = b"openssh-key-v1\0";

/// OpenSSH writes one key per file; a few more are tolerated.
const MAX_KEYS: u32 = 16;

/// Largest field accepted (an RSA 16384-bit modulus is 2 KiB).
const MAX_FIELD: usize = 64 * 1024;

fn bad(detail: impl Into<String>) -> KeyError {
    KeyError::Invalid {
        what: "OpenSSH private key",
        detail: detail.into(),
    }
}

/// A cursor over SSH wire encoding (RFC 4251 `uint32`, `string`, `mpint`).
struct Wire<'a> {
    data: &'a [u8],
    pos: usize,
    /// What is being read, for messages ("the private section").
    place: &'static str,
}

impl<'a> Wire<'a> {
    fn new(data: &'a [u8], place: &'static str) -> Self {
        Wire {
            data,
            pos: 0,
            place,
        }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], KeyError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len());
        let Some(end) = end else {
            return Err(bad(format!(
                "{}: {what} needs {n} bytes but only {} remain (file truncated?)",
                self.place,
                self.data.len().saturating_sub(self.pos)
            )));
        };
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self, what: &str) -> Result<u32, KeyError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, what: &str) -> Result<&'a [u8], KeyError> {
        let len = self.u32(what)? as usize;
        if len > MAX_FIELD {
            return Err(bad(format!(
                "{}: {what} says it is {len} bytes long (at most {MAX_FIELD} accepted)",
                self.place
            )));
        }
        self.take(len, what)
    }

    fn text(&mut self, what: &str) -> Result<String, KeyError> {
        Ok(String::from_utf8_lossy(self.string(what)?).into_owned())
    }

    /// An mpint's magnitude (credkit's keys hold no negative numbers).
    fn mpint(&mut self, what: &str) -> Result<&'a [u8], KeyError> {
        let b = self.string(what)?;
        if b.first().is_some_and(|x| x & 0x80 != 0) {
            return Err(bad(format!("{}: {what} is negative", self.place)));
        }
        let n = b.iter().take_while(|x| **x == 0).count();
        Ok(&b[n..])
    }

    fn rest(&self) -> &'a [u8] {
        &self.data[self.pos.min(self.data.len())..]
    }
}

/// The key type an OpenSSH public-key blob names (`ssh-ed25519`, ...).
fn key_type(blob: &[u8]) -> Option<String> {
    Wire::new(blob, "the public key").text("the key type").ok()
}

/// Read an OpenSSH private key file's binary content (the base64 inside the
/// PEM-like armour). Returns each key with its comment.
pub fn parse(data: &[u8]) -> Result<Vec<(PrivateKey, String)>, KeyError> {
    let body = data
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("it does not start with \"openssh-key-v1\""))?;
    let mut w = Wire::new(body, "the header");
    let cipher = w.text("the cipher name")?;
    let kdf = w.text("the KDF name")?;
    let _kdf_options = w.string("the KDF options")?;
    let count = w.u32("the number of keys")?;
    if count == 0 || count > MAX_KEYS {
        return Err(bad(format!(
            "the header: {count} keys (expected 1 to {MAX_KEYS})"
        )));
    }
    let mut types = Vec::new();
    for _ in 0..count {
        types.push(key_type(w.string("a public key")?).unwrap_or_else(|| "unknown".into()));
    }
    let private = w.string("the private section")?;
    if cipher != "none" || kdf != "none" {
        let kind = types.join(", ");
        let way_out = if types
            .iter()
            .all(|t| t == "ssh-rsa" || t.starts_with("ecdsa-"))
        {
            "convert a copy to encrypted PKCS#8, which credkit reads, with \
             `ssh-keygen -p -m PKCS8 -f FILE` (ssh-keygen asks for the old and a new passphrase)"
        } else {
            "remove the passphrase from a copy with `ssh-keygen -p -N '' -f COPY` and keep the \
             copy safe (ssh-keygen cannot write this key type as PKCS#8)"
        };
        return Err(KeyError::NeedsConversion {
            what: format!(
                "encrypted OpenSSH private key ({kind}; cipher {cipher}, key derivation {kdf})"
            ),
            way_out: way_out.into(),
        });
    }
    let mut p = Wire::new(private, "the private section");
    let c1 = p.u32("the first check number")?;
    let c2 = p.u32("the second check number")?;
    if c1 != c2 {
        return Err(bad(
            "the private section: the two check numbers differ (damaged file)",
        ));
    }
    let mut keys = Vec::new();
    for i in 0..count {
        p.place = "the private section";
        let t = p.text("the key type")?;
        if types.get(i as usize).is_some_and(|pt| *pt != t) {
            return Err(bad(format!(
                "key {}: the private part is {t} but the public part is {}",
                i + 1,
                types.get(i as usize).map(String::as_str).unwrap_or("")
            )));
        }
        let key = read_key(&mut p, &t)?;
        let comment = p.text("the comment")?;
        keys.push((key, comment));
    }
    // Padding is 1, 2, 3, ... up to the cipher's block size.
    let pad = p.rest();
    if pad.len() > 255
        || pad
            .iter()
            .enumerate()
            .any(|(i, b)| usize::from(*b) != i + 1)
    {
        return Err(bad("the private section: wrong padding after the keys"));
    }
    Ok(keys)
}

fn read_key(p: &mut Wire<'_>, t: &str) -> Result<PrivateKey, KeyError> {
    match t {
        "ssh-ed25519" => {
            p.place = "the Ed25519 key";
            let public = p.string("the public key")?;
            let secret = p.string("the private key")?;
            if public.len() != 32 || secret.len() != 64 {
                return Err(bad(format!(
                    "the Ed25519 key: {} public and {} private bytes (expected 32 and 64)",
                    public.len(),
                    secret.len()
                )));
            }
            let k = PrivateKey::from_ed25519_seed(&secret[..32])?;
            if !matches!(&k.public, super::PublicKey::Ed25519 { key } if key.as_slice() == public) {
                return Err(bad(
                    "the Ed25519 key: the public key does not belong to the private key",
                ));
            }
            Ok(k)
        }
        "ssh-rsa" => {
            p.place = "the RSA key";
            let n = p.mpint("the modulus")?.to_vec();
            let e = p.mpint("the public exponent")?.to_vec();
            let d = p.mpint("the private exponent")?.to_vec();
            let qi = p.mpint("the coefficient")?.to_vec();
            let pp = p.mpint("prime 1")?.to_vec();
            let q = p.mpint("prime 2")?.to_vec();
            let dp = crt_exponent(&d, &pp)?;
            let dq = crt_exponent(&d, &q)?;
            PrivateKey::from_rsa_private(&RsaPrivate {
                n,
                e,
                d,
                p: pp,
                q,
                dp,
                dq,
                qi,
            })
        }
        "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" => {
            p.place = "the ECDSA key";
            let curve_name = p.text("the curve name")?;
            let curve = match curve_name.as_str() {
                "nistp256" => Curve::P256,
                "nistp384" => Curve::P384,
                "nistp521" => Curve::P521,
                other => return Err(bad(format!("the ECDSA key: unknown curve {other:?}"))),
            };
            if !t.ends_with(&curve_name) {
                return Err(bad(format!(
                    "the ECDSA key: type {t} but curve {curve_name}"
                )));
            }
            let point = p.string("the public point")?.to_vec();
            let d = p.mpint("the private value")?;
            let k = PrivateKey::from_ec_private(curve, d)?;
            if !matches!(&k.public, super::PublicKey::Ec { point: q, .. } if *q == point) {
                return Err(bad(
                    "the ECDSA key: the public point does not belong to the private value",
                ));
            }
            Ok(k)
        }
        "ssh-dss" => {
            p.place = "the DSA key";
            let params = dsa::DsaParams {
                p: p.mpint("the prime p")?.to_vec(),
                q: p.mpint("the subprime q")?.to_vec(),
                g: p.mpint("the generator g")?.to_vec(),
            };
            let y = p.mpint("the public value y")?.to_vec();
            let x = p.mpint("the private value x")?.to_vec();
            dsa::from_parts(params, &y, &x)
        }
        other => Err(KeyError::Unsupported {
            name: format!("OpenSSH key type {other}"),
        }),
    }
}

/// d mod (prime - 1), the CRT exponents OpenSSH does not store.
fn crt_exponent(d: &[u8], prime: &[u8]) -> Result<Vec<u8>, KeyError> {
    let bits = (prime.len().max(d.len()) * 8).div_ceil(64) as u32 * 64;
    let num = |b: &[u8]| {
        BoxedUint::from_be_slice(b, bits.max(64))
            .map_err(|_| bad("the RSA key: a number is too large"))
    };
    let one = BoxedUint::one_with_precision(bits.max(64));
    let pm1 = num(prime)?.wrapping_sub(&one);
    let pm1 = Option::<NonZero<BoxedUint>>::from(NonZero::new(pm1))
        .ok_or_else(|| bad("the RSA key: a prime is 0 or 1"))?;
    let r = num(d)?.rem(&pm1);
    let bytes = r.to_be_bytes();
    let n = bytes.iter().take_while(|x| **x == 0).count();
    Ok(bytes[n..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_string(b: &[u8]) -> Vec<u8> {
        let mut v = (b.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(b);
        v
    }

    #[test]
    fn lengths_past_the_end_are_refused() {
        let mut d = MAGIC.to_vec();
        d.extend_from_slice(&wire_string(b"none"));
        d.extend_from_slice(&wire_string(b"none"));
        d.extend_from_slice(&wire_string(b""));
        d.extend_from_slice(&1u32.to_be_bytes());
        d.extend_from_slice(&0xffff_fff0u32.to_be_bytes());
        let e = parse(&d).expect_err("refused").to_string();
        assert!(e.contains("a public key"), "{e}");
    }

    fn fixture(name: &str) -> Vec<u8> {
        use base64::Engine;
        let path = format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).expect("fixture");
        let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64")
    }

    #[test]
    fn every_truncation_and_flipped_byte_is_an_error_or_a_key() {
        // A small deterministic fuzz run over ssh-keygen's files: no panic,
        // and a truncated file is never read as a key.
        for name in [
            "openssh-ed25519.key",
            "openssh-ecdsa.key",
            "openssh-rsa.key",
            "openssh-rsa_enc.key",
        ] {
            let data = fixture(name);
            if !name.contains("_enc") {
                assert_eq!(parse(&data).expect(name).len(), 1);
            }
            for n in 0..data.len() {
                assert!(parse(&data[..n]).is_err(), "{name} cut at {n}");
            }
            for i in 0..data.len() {
                for x in [0x01u8, 0x80, 0xff] {
                    let mut d = data.clone();
                    d[i] ^= x;
                    let _ = parse(&d);
                }
            }
        }
    }

    #[test]
    fn key_count_is_capped() {
        let mut d = MAGIC.to_vec();
        d.extend_from_slice(&wire_string(b"none"));
        d.extend_from_slice(&wire_string(b"none"));
        d.extend_from_slice(&wire_string(b""));
        d.extend_from_slice(&1_000_000u32.to_be_bytes());
        assert!(parse(&d).expect_err("capped").to_string().contains("keys"));
    }
}
