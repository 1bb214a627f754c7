//! PEM and DER writers. Keys are PKCS#8, encrypted (PBES2, AES-256-CBC) unless
//! the caller asks for clear text.

use super::{
    Ambiguity, Output, Parts, WriteError, WriteOptions, Written, alias_or_default, key_less_certs,
};
use crate::keystore::model::{Entry, EntryKind};
use crate::keystore::pbe::{self, Protection};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Encode DER as a PEM block with 64-column lines.
pub(crate) fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

fn key_der(
    e: &Entry,
    alias: &str,
    opts: &WriteOptions,
) -> Result<Option<(Vec<u8>, bool)>, WriteError> {
    let Some(key) = &e.private_key else {
        return Ok(None);
    };
    if !opts.encrypt_keys {
        return Ok(Some((key.pkcs8.clone(), false)));
    }
    let password = opts
        .password
        .clone()
        .ok_or_else(|| WriteError::NeedsPassword {
            format: "PEM",
            detail: format!("the private key of \"{alias}\" is encrypted by default"),
        })?;
    if password.is_empty() {
        return Err(WriteError::NeedsPassword {
            format: "PEM",
            detail: "an empty password would not protect the key".into(),
        });
    }
    // PEM keys always use PBES2: legacy PKCS#12 ciphers make no sense here.
    let protection = Protection::Pbes2Aes256 {
        iterations: opts.iterations.unwrap_or(10_000),
    };
    Ok(Some((
        pbe::encrypt_pkcs8(protection, &password, &key.pkcs8)?,
        true,
    )))
}

fn public_der(e: &Entry) -> Option<Vec<u8>> {
    e.public_key.as_ref().and_then(|p| p.to_spki())
}

/// PEM output: for each entry its key, then its certificate(s).
pub(crate) fn write_pem(
    entries: &[Entry],
    opts: &WriteOptions,
    split: bool,
) -> Result<Output, WriteError> {
    if split {
        let [e] = entries else {
            return Err(WriteError::Ambiguous(Ambiguity::Split {
                chosen: entries.len(),
            }));
        };
        return write_split(e, opts);
    }
    let mut notes = Vec::new();
    let mut text = String::new();
    let mut private = false;
    let mut aliases = Vec::new();
    let mut written: Vec<Vec<u8>> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let alias = alias_or_default(e, i);
        let before = text.len();
        if opts.parts != Parts::CertOnly {
            if let Some(block) = key_block(e, &alias, opts)? {
                text.push_str(&block);
                private = true;
            } else if let Some(spki) = public_der(e) {
                text.push_str(&pem_block("PUBLIC KEY", &spki));
            }
        }
        if opts.parts != Parts::KeyOnly {
            text.push_str(&cert_blocks(e, opts, &mut written));
        }
        if e.kind == EntryKind::Secret {
            notes.push(format!(
                "skipped secret entry \"{alias}\": it is never decrypted"
            ));
        }
        if text.len() > before {
            aliases.push(alias);
        }
    }
    if text.is_empty() {
        return Err(WriteError::NoPart { part: opts.parts });
    }
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

/// The entry's private key as a PEM block (encrypted or not), if it has one.
fn key_block(e: &Entry, alias: &str, opts: &WriteOptions) -> Result<Option<String>, WriteError> {
    Ok(key_der(e, alias, opts)?.map(|(der, enc)| {
        let label = if enc {
            "ENCRYPTED PRIVATE KEY"
        } else {
            "PRIVATE KEY"
        };
        pem_block(label, &der)
    }))
}

/// The entry's certificates as PEM blocks: a key's chain (its leaf alone
/// with `leaf_only`), or the loose certificates not yet `written`.
fn cert_blocks(e: &Entry, opts: &WriteOptions, written: &mut Vec<Vec<u8>>) -> String {
    let mut text = String::new();
    if e.kind == EntryKind::PrivateKey {
        let n = if opts.leaf_only { 1 } else { e.chain.len() };
        for c in e.chain.iter().take(n) {
            text.push_str(&pem_block("CERTIFICATE", &c.der));
        }
    } else {
        for (_, c) in key_less_certs(e, opts, written) {
            text.push_str(&pem_block("CERTIFICATE", &c.der));
        }
    }
    text
}

/// One entry as separate files: key, leaf certificate, the rest of the chain.
fn write_split(e: &Entry, opts: &WriteOptions) -> Result<Output, WriteError> {
    let alias = alias_or_default(e, 0);
    let mut files = Vec::new();
    if let Some(block) = key_block(e, &alias, opts)? {
        files.push(Written {
            part: Some("key"),
            bytes: block.into_bytes(),
            private: true,
            aliases: vec![alias.clone()],
        });
    }
    if let Some(leaf) = e.chain.first() {
        files.push(Written {
            part: Some("cert"),
            bytes: pem_block("CERTIFICATE", &leaf.der).into_bytes(),
            private: false,
            aliases: vec![alias.clone()],
        });
    }
    if e.chain.len() > 1 {
        let chain: String = e.chain[1..]
            .iter()
            .map(|c| pem_block("CERTIFICATE", &c.der))
            .collect();
        files.push(Written {
            part: Some("chain"),
            bytes: chain.into_bytes(),
            private: false,
            aliases: vec![alias.clone()],
        });
    }
    if files.is_empty() {
        return Err(WriteError::Nothing {
            detail: format!("entry \"{alias}\" has no key or certificate"),
        });
    }
    Ok(Output {
        files,
        notes: Vec::new(),
    })
}

/// DER output: exactly one object (a certificate or a key).
pub(crate) fn write_der(entries: &[Entry], opts: &WriteOptions) -> Result<Output, WriteError> {
    let [e] = entries else {
        return Err(WriteError::Ambiguous(Ambiguity::DerEntries {
            chosen: entries.len(),
        }));
    };
    let alias = alias_or_default(e, 0);
    let has_key = e.private_key.is_some() || e.public_key.is_some();
    let has_cert = !e.chain.is_empty();
    let want_key = match opts.parts {
        Parts::KeyOnly => true,
        Parts::CertOnly => false,
        Parts::All => {
            if has_key && has_cert {
                return Err(WriteError::Ambiguous(Ambiguity::DerParts { alias }));
            }
            has_key
        }
    };
    let (bytes, private) = if want_key {
        if let Some((der, _)) = key_der(e, &alias, opts)? {
            (der, true)
        } else if let Some(spki) = public_der(e) {
            (spki, false)
        } else {
            return Err(WriteError::Nothing {
                detail: format!("entry \"{alias}\" has no key"),
            });
        }
    } else {
        match e.chain.first() {
            Some(c) => (c.der.clone(), false),
            None => {
                return Err(WriteError::Nothing {
                    detail: format!("entry \"{alias}\" has no certificate"),
                });
            }
        }
    };
    let mut notes = Vec::new();
    if !want_key && e.chain.len() > 1 {
        notes.push(format!(
            "DER holds one certificate: only the leaf of \"{alias}\" was written (use PEM for the chain)"
        ));
    }
    Ok(Output {
        files: vec![Written {
            part: None,
            bytes,
            private,
            aliases: vec![alias],
        }],
        notes,
    })
}
