//! JWK (RFC 7517) and JWKS: RSA, EC and OKP keys, public and private, with
//! optional `x5c` certificates.

use super::KeystoreError;
use super::model::{Entry, EntryKind, Format, Store};
use crate::cert::Certificate;
use crate::key::{Curve, PrivateKey, PublicKey, RsaPrivate, ec_coordinates};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

/// Most keys accepted in one JWKS.
const MAX_KEYS: usize = 10_000;

/// Does the text look like a JSON object?
pub fn looks_like(data: &[u8]) -> bool {
    data.iter()
        .find(|b| !b.is_ascii_whitespace() && **b != 0xef && **b != 0xbb && **b != 0xbf)
        == Some(&b'{')
}

fn invalid(detail: String) -> KeystoreError {
    KeystoreError::Invalid {
        format: "JWK",
        detail,
    }
}

/// Read a JWK or JWKS document.
pub fn read(text: &str) -> Result<Store, KeystoreError> {
    let text = text.trim_start_matches('\u{feff}');
    let v: Value = serde_json::from_str(text).map_err(|e| {
        invalid(format!(
            "not valid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(obj) = v else {
        return Err(invalid("the document is not a JSON object".into()));
    };
    if let Some(keys) = obj.get("keys") {
        let Value::Array(keys) = keys else {
            return Err(invalid("\"keys\" is not an array".into()));
        };
        if keys.len() > MAX_KEYS {
            return Err(KeystoreError::TooLarge {
                what: "number of keys in the JWKS".into(),
                value: keys.len() as u64,
                max: MAX_KEYS as u64,
            });
        }
        let mut store = Store::new(Format::Jwks);
        for (i, k) in keys.iter().enumerate() {
            let Value::Object(k) = k else {
                return Err(invalid(format!("keys[{i}] is not a JSON object")));
            };
            let e = read_key(k).map_err(|e| match e {
                KeystoreError::Invalid { detail, .. } => invalid(format!("keys[{i}]: {detail}")),
                other => other,
            })?;
            store.entries.push(e);
        }
        Ok(store)
    } else if obj.contains_key("kty") {
        let mut store = Store::new(Format::Jwk);
        store.entries.push(read_key(&obj)?);
        Ok(store)
    } else {
        Err(KeystoreError::UnknownFormat {
            detail: "a JSON object with neither \"kty\" (JWK) nor \"keys\" (JWKS)".into(),
        })
    }
}

fn b64_member(k: &Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>, KeystoreError> {
    match k.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('=').as_bytes())
            .map(Some)
            .map_err(|e| invalid(format!("\"{name}\" is not valid base64url ({e})"))),
        Some(_) => Err(invalid(format!("\"{name}\" is not a string"))),
    }
}

fn required(k: &Map<String, Value>, name: &str) -> Result<Vec<u8>, KeystoreError> {
    b64_member(k, name)?
        .ok_or_else(|| invalid(format!("the required member \"{name}\" is missing")))
}

fn read_key(k: &Map<String, Value>) -> Result<Entry, KeystoreError> {
    let kty = k
        .get("kty")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("\"kty\" is missing or not a string".into()))?;
    let mut entry = match kty {
        "RSA" => rsa_key(k)?,
        "EC" => ec_key(k)?,
        "OKP" => okp_key(k)?,
        "oct" => {
            let mut entry = Entry::new(EntryKind::Secret);
            entry.secret_algorithm = k.get("alg").and_then(Value::as_str).map(str::to_owned);
            entry
        }
        other => {
            return Err(KeystoreError::Unsupported {
                what: "JWK key type".into(),
                name: format!("{other:?}"),
            });
        }
    };
    entry.kid = k.get("kid").and_then(Value::as_str).map(str::to_owned);
    entry.alias = entry.kid.clone();
    if let Some(x5c) = k.get("x5c") {
        read_x5c(&mut entry, x5c)?;
    }
    Ok(entry)
}

/// A private key entry, or with `private` None a public key entry.
fn key_entry(private: Option<PrivateKey>, public: PublicKey) -> Entry {
    match private {
        Some(key) => {
            let mut entry = Entry::new(EntryKind::PrivateKey);
            entry.private_key = Some(key);
            entry
        }
        None => {
            let mut entry = Entry::new(EntryKind::PublicKey);
            entry.public_key = Some(public);
            entry
        }
    }
}

/// `"kty": "RSA"`: `n` and `e`, and with `d` every CRT member.
fn rsa_key(k: &Map<String, Value>) -> Result<Entry, KeystoreError> {
    let n = required(k, "n")?;
    let e = required(k, "e")?;
    let public = PublicKey::Rsa {
        n: n.clone(),
        e: e.clone(),
    };
    let private = match b64_member(k, "d")? {
        Some(d) => {
            let get = |name| required(k, name);
            let rsa = RsaPrivate {
                n,
                e,
                d,
                p: get("p")?,
                q: get("q")?,
                dp: get("dp")?,
                dq: get("dq")?,
                qi: get("qi")?,
            };
            Some(PrivateKey::from_rsa_private(&rsa).map_err(KeystoreError::Key)?)
        }
        None => None,
    };
    Ok(key_entry(private, public))
}

/// `"kty": "EC"`: the curve, the point `x`, `y`, and `d` if private (which
/// must belong to the point).
fn ec_key(k: &Map<String, Value>) -> Result<Entry, KeystoreError> {
    let crv = k.get("crv").and_then(Value::as_str).unwrap_or("");
    let curve = Curve::from_jwk(crv).ok_or_else(|| KeystoreError::Unsupported {
        what: "JWK curve".into(),
        name: format!("{crv:?}"),
    })?;
    let x = required(k, "x")?;
    let y = required(k, "y")?;
    let l = curve.coord_len();
    if x.len() != l || y.len() != l {
        return Err(invalid(format!(
            "\"x\" and \"y\" must be {l} bytes for {crv}, found {} and {}",
            x.len(),
            y.len()
        )));
    }
    let mut point = vec![4u8];
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let public = PublicKey::Ec { curve, point };
    let private = match b64_member(k, "d")? {
        Some(d) => {
            let key = PrivateKey::from_ec_private(curve, &d).map_err(KeystoreError::Key)?;
            if key.public != public {
                return Err(invalid(
                    "\"d\" does not belong to the public point given by \"x\" and \"y\"".into(),
                ));
            }
            Some(key)
        }
        None => None,
    };
    Ok(key_entry(private, public))
}

/// `"kty": "OKP"`: Ed25519 only, `x`, and `d` if private (which must belong
/// to `x`).
fn okp_key(k: &Map<String, Value>) -> Result<Entry, KeystoreError> {
    let crv = k.get("crv").and_then(Value::as_str).unwrap_or("");
    if crv != "Ed25519" {
        return Err(KeystoreError::Unsupported {
            what: "OKP curve".into(),
            name: format!("{crv:?}"),
        });
    }
    let x = required(k, "x")?;
    if x.len() != 32 {
        return Err(invalid(format!(
            "\"x\" must be 32 bytes, found {}",
            x.len()
        )));
    }
    let public = PublicKey::Ed25519 { key: x };
    let private = match b64_member(k, "d")? {
        Some(d) => {
            let key = PrivateKey::from_ed25519_seed(&d).map_err(KeystoreError::Key)?;
            if key.public != public {
                return Err(invalid(
                    "\"d\" does not belong to the public key \"x\"".into(),
                ));
            }
            Some(key)
        }
        None => None,
    };
    Ok(key_entry(private, public))
}

/// `x5c`: the certificate chain (standard base64 DER); for a public JWK the
/// first certificate must hold the JWK's key.
fn read_x5c(entry: &mut Entry, x5c: &Value) -> Result<(), KeystoreError> {
    let Value::Array(items) = x5c else {
        return Err(invalid("\"x5c\" is not an array".into()));
    };
    for (i, item) in items.iter().enumerate() {
        let s = item
            .as_str()
            .ok_or_else(|| invalid(format!("x5c[{i}] is not a string")))?;
        let der = STANDARD
            .decode(s.as_bytes())
            .map_err(|e| invalid(format!("x5c[{i}] is not valid standard base64 ({e})")))?;
        entry
            .chain
            .push(Certificate::from_der(&der).map_err(KeystoreError::Cert)?);
    }
    // A public JWK with x5c: the certificate is what it is about.
    if entry.kind == EntryKind::PublicKey
        && let (Some(p), Some(c)) = (&entry.public_key, entry.chain.first())
        && c.public_key.as_ref().ok() != Some(p)
    {
        return Err(invalid(
            "the key in x5c[0] is not the key described by the JWK".into(),
        ));
    }
    Ok(())
}

/// The coordinates of an EC point, for callers that write JWKs.
pub fn ec_xy(curve: Curve, point: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    ec_coordinates(curve, point).map(|(x, y)| (x.to_vec(), y.to_vec()))
}
