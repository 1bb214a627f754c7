//! JWK and JWKS writer (RFC 7517/7518): public by default, private
//! parameters on request, `kid` = RFC 7638 thumbprint, `x5c` and `x5t#S256`
//! when there is a certificate.

use super::{Ambiguity, Output, WriteError, WriteOptions, Written, alias_or_default};
use crate::key::{Curve, PrivateParams, PublicKey, ec_coordinates};
use crate::keystore::model::{Entry, EntryKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

fn b64(v: &[u8]) -> Value {
    Value::String(URL_SAFE_NO_PAD.encode(v))
}

/// Left-pad to a fixed length (EC `d` must have the curve's size).
fn pad(v: &[u8], len: usize) -> Vec<u8> {
    let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    let v = &v[start..];
    let mut out = vec![0u8; len.saturating_sub(v.len())];
    out.extend_from_slice(v);
    out
}

/// The JWS algorithm a key is used with by default.
pub(crate) fn default_alg(p: &PublicKey) -> Option<&'static str> {
    Some(match p {
        PublicKey::Rsa { .. } => "RS256",
        PublicKey::Ec {
            curve: Curve::P256, ..
        } => "ES256",
        PublicKey::Ec {
            curve: Curve::P384, ..
        } => "ES384",
        PublicKey::Ec {
            curve: Curve::P521, ..
        } => "ES512",
        PublicKey::Ed25519 { .. } => "EdDSA",
        PublicKey::Other { .. } => return None,
    })
}

/// Build the JWK object for one entry.
pub(crate) fn entry_jwk(
    e: &Entry,
    alias: &str,
    private: bool,
    kid: Option<&str>,
) -> Result<Map<String, Value>, WriteError> {
    let public = e.public().ok_or_else(|| WriteError::Nothing {
        detail: format!("entry \"{alias}\" has no key"),
    })?;
    let mut m = Map::new();
    match public {
        PublicKey::Rsa { n, e: ex } => {
            m.insert("kty".into(), json!("RSA"));
            m.insert("n".into(), b64(n));
            m.insert("e".into(), b64(ex));
        }
        PublicKey::Ec { curve, point } => {
            let (x, y) = ec_coordinates(*curve, point).ok_or_else(|| WriteError::CannotHold {
                format: "JWK",
                detail: format!("the compressed EC point of \"{alias}\""),
            })?;
            m.insert("kty".into(), json!("EC"));
            m.insert("crv".into(), json!(curve.jwk_name()));
            m.insert("x".into(), b64(x));
            m.insert("y".into(), b64(y));
        }
        PublicKey::Ed25519 { key } => {
            m.insert("kty".into(), json!("OKP"));
            m.insert("crv".into(), json!("Ed25519"));
            m.insert("x".into(), b64(key));
        }
        PublicKey::Other { algorithm, .. } => {
            return Err(WriteError::CannotHold {
                format: "JWK",
                detail: format!("a {algorithm} key (\"{alias}\")"),
            });
        }
    }
    if private {
        match e.private_key.as_ref().map(|k| &k.params) {
            Some(PrivateParams::Rsa(r)) => {
                for (name, v) in [
                    ("d", &r.d),
                    ("p", &r.p),
                    ("q", &r.q),
                    ("dp", &r.dp),
                    ("dq", &r.dq),
                    ("qi", &r.qi),
                ] {
                    m.insert(name.into(), b64(v));
                }
            }
            Some(PrivateParams::Ec { curve, d }) => {
                m.insert("d".into(), b64(&pad(d, curve.coord_len())));
            }
            Some(PrivateParams::Ed25519 { seed }) => {
                m.insert("d".into(), b64(seed));
            }
            Some(PrivateParams::Unusable { .. }) | None => {}
        }
    }
    m.insert("use".into(), json!("sig"));
    if let Some(alg) = default_alg(public) {
        m.insert("alg".into(), json!(alg));
    }
    let kid = kid
        .map(str::to_owned)
        .or_else(|| public.jwk_thumbprint())
        .unwrap_or_else(|| alias.to_string());
    m.insert("kid".into(), json!(kid));
    if let Some(leaf) = e.chain.first() {
        let x5c: Vec<Value> = e
            .chain
            .iter()
            .map(|c| Value::String(STANDARD.encode(&c.der)))
            .collect();
        m.insert("x5c".into(), Value::Array(x5c));
        m.insert("x5t#S256".into(), json!(leaf.x5t_s256()));
    }
    Ok(m)
}

/// One JWK per key: entries that share a public key (a key entry and a
/// trusted entry of the same certificate) are written once, by RFC 7638
/// thumbprint, keeping the entry with the private key (else the first).
fn dedup_by_thumbprint<'a>(
    candidates: Vec<(usize, &'a Entry)>,
    notes: &mut Vec<String>,
) -> Vec<(usize, &'a Entry)> {
    let mut kept: Vec<(usize, &'a Entry)> = Vec::new();
    let mut prints: Vec<Option<String>> = Vec::new();
    for (i, e) in candidates {
        let print = e.public().and_then(PublicKey::jwk_thumbprint);
        let Some(at) = print
            .as_ref()
            .and_then(|p| prints.iter().position(|q| q.as_ref() == Some(p)))
        else {
            kept.push((i, e));
            prints.push(print);
            continue;
        };
        let (j, first) = kept[at];
        let (keep, drop) = if e.private_key.is_some() && first.private_key.is_none() {
            kept[at] = (i, e);
            ((i, e), (j, first))
        } else {
            ((j, first), (i, e))
        };
        notes.push(format!(
            "\"{}\" holds the same key as \"{}\" (RFC 7638 thumbprint {}): written once",
            alias_or_default(drop.1, drop.0),
            alias_or_default(keep.1, keep.0),
            print.unwrap_or_default()
        ));
    }
    kept
}

/// Write one JWK (exactly one entry) or a JWKS (all entries with a key).
pub(crate) fn write(
    entries: &[Entry],
    opts: &WriteOptions,
    set: bool,
) -> Result<Output, WriteError> {
    let mut notes = Vec::new();
    let mut keys = Vec::new();
    let mut aliases = Vec::new();
    let mut private = false;
    let candidates: Vec<(usize, &Entry)> = entries
        .iter()
        .enumerate()
        .filter(|(i, e)| {
            let keep = e.kind != EntryKind::Secret && e.public().is_some();
            if !keep {
                notes.push(if e.kind == EntryKind::Secret {
                    format!(
                        "skipped secret entry \"{}\": secrets are never decrypted",
                        alias_or_default(e, *i)
                    )
                } else {
                    format!("skipped \"{}\": it has no key", alias_or_default(e, *i))
                });
            }
            // A JWKS carries the keys JWK can hold and names the others.
            if keep
                && set
                && let Some(PublicKey::Other { algorithm, .. }) = e.public()
            {
                notes.push(format!(
                    "skipped \"{}\": JWK cannot hold a {algorithm} key",
                    alias_or_default(e, *i)
                ));
                return false;
            }
            keep
        })
        .collect();
    let candidates = dedup_by_thumbprint(candidates, &mut notes);
    if !set && candidates.len() > 1 {
        return Err(WriteError::Ambiguous(Ambiguity::JwkKeys {
            chosen: candidates.len(),
        }));
    }
    if opts.kid.is_some() && candidates.len() > 1 {
        return Err(WriteError::Ambiguous(Ambiguity::KeyId));
    }
    for (i, e) in candidates {
        let alias = alias_or_default(e, i);
        let with_private = opts.private_jwk && e.private_key.is_some();
        if opts.private_jwk && e.private_key.is_none() {
            notes.push(format!("\"{alias}\" has no private key: its JWK is public"));
        }
        private |= with_private;
        keys.push(Value::Object(entry_jwk(
            e,
            &alias,
            with_private,
            opts.kid.as_deref(),
        )?));
        aliases.push(alias);
    }
    if keys.is_empty() {
        return Err(WriteError::Nothing {
            detail: if notes.is_empty() {
                "no entry with a key or certificate".into()
            } else {
                notes.join("; ")
            },
        });
    }
    let doc = if set {
        json!({ "keys": keys })
    } else {
        keys.remove(0)
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    Ok(Output {
        files: vec![Written {
            part: None,
            bytes: text.into_bytes(),
            private,
            aliases,
        }],
        notes,
    })
}
