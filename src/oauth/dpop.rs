//! DPoP (RFC 9449): proofs of possession for token requests and API calls.
//!
//! A proof is a JWT with `typ: dpop+jwt` whose header carries the public
//! key (`jwk`) and whose claims name the request (`htm`, `htu`), a fresh
//! `jti`, `iat`, the server's `nonce` when it asked for one (§8) and, for
//! API calls, `ath` (the access token's SHA-256). The key is the
//! credential's own, or a P-256 key credkit generates once and keeps
//! (mode 0600) beside the token cache, so tokens stay bound across runs.

use crate::error_id::ErrorId;
use crate::jwt::jws::{Alg, JwsError, Signer};
use crate::key::PrivateKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// Which key signs the proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum DpopKeyChoice {
    /// A P-256 key generated once and kept 0600 beside the token cache.
    Generated,
    /// The credential's own key (the keystore entry that signs).
    Credential,
}

impl DpopKeyChoice {
    /// The name on the command line and in config files.
    pub fn name(self) -> &'static str {
        match self {
            DpopKeyChoice::Generated => "generated",
            DpopKeyChoice::Credential => "credential",
        }
    }
}

/// Why no proof could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// The generated key's file cannot be read, parsed or written.
    #[error("the DPoP key {path}: {detail}")]
    KeyFile {
        /// The key file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// There is no cache directory to keep a generated key in.
    #[error("no place for the DPoP key: neither XDG_CACHE_HOME nor HOME is set")]
    NoCacheDir,
    /// The key's type has no JWS algorithm for proofs, or its public key
    /// cannot be written as a JWK.
    #[error("the key cannot sign DPoP proofs: {0}")]
    Key(String),
    /// Signing a proof failed.
    #[error(transparent)]
    Sign(#[from] JwsError),
}

impl DpopError {
    /// The stable error id.
    pub fn id(&self) -> ErrorId {
        match self {
            DpopError::KeyFile { .. } | DpopError::NoCacheDir => ErrorId::DpopKey,
            DpopError::Key(_) | DpopError::Sign(_) => ErrorId::DpopSign,
        }
    }
}

/// A key that signs DPoP proofs.
pub struct DpopKey {
    signer: Signer,
    jwk: Map<String, Value>,
    /// RFC 7638 thumbprint of the public key (the token's `cnf.jkt`).
    pub thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

/// `ath`: base64url SHA-256 of the access token (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(crate::key::sha256(access_token.as_bytes()))
}

/// Where the generated key lives: `credkit/dpop-key.pem` in the cache
/// directory's parent (beside `tokens/`).
pub fn default_key_path() -> Option<PathBuf> {
    crate::oauth::cache::dir().and_then(|d| d.parent().map(|p| p.join("dpop-key.pem")))
}

impl DpopKey {
    /// Sign with this private key (its default algorithm: ES256 for P-256,
    /// RS256 for RSA, EdDSA for Ed25519).
    pub fn from_private(pk: &PrivateKey, alg: Option<Alg>) -> Result<DpopKey, DpopError> {
        let alg = alg
            .or_else(|| Alg::default_for(&pk.public))
            .ok_or_else(|| DpopError::Key(pk.describe().to_string()))?;
        let signer = Signer::new(pk, alg)?;
        let members = pk
            .public
            .thumbprint_input()
            .ok_or_else(|| DpopError::Key(pk.describe().to_string()))?;
        let jwk = match serde_json::from_str(&members) {
            Ok(Value::Object(m)) => m,
            _ => return Err(DpopError::Key("no JWK form".into())),
        };
        let thumbprint = pk
            .public
            .jwk_thumbprint()
            .ok_or_else(|| DpopError::Key(pk.describe().to_string()))?;
        Ok(DpopKey {
            signer,
            jwk,
            thumbprint,
        })
    }

    /// The key kept at `path` (PKCS#8 PEM), made (P-256, mode 0600) when
    /// there is none yet.
    pub fn load_or_create(path: &Path) -> Result<DpopKey, DpopError> {
        let fail = |detail: String| DpopError::KeyFile {
            path: path.display().to_string(),
            detail,
        };
        match std::fs::read(path) {
            Ok(bytes) => return DpopKey::from_private(&read_pem(&bytes).map_err(fail)?, None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(fail(e.to_string())),
        }
        let mut rng = crate::key::generate::Random::from_os().map_err(|e| fail(e.to_string()))?;
        let pk = crate::key::generate::generate_key(
            crate::key::generate::KeySpec::Ec(crate::key::Curve::P256),
            &mut rng,
        )
        .map_err(|e| fail(e.to_string()))?;
        if let Some(dir) = path.parent() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(dir).map_err(|e| fail(e.to_string()))?;
        }
        let pem = zeroize::Zeroizing::new(crate::keystore::write::pem::pem_block(
            "PRIVATE KEY",
            &pk.pkcs8,
        ));
        match crate::output::files::write_atomic(path, pem.as_bytes(), false, true) {
            Ok(()) => DpopKey::from_private(&pk, None),
            // Another run made it first: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
                DpopKey::from_private(&read_pem(&bytes).map_err(fail)?, None)
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// The signing algorithm.
    pub fn alg(&self) -> Alg {
        self.signer.alg
    }

    /// A proof for `htm htu` at `now`, with the server's nonce and the
    /// access token's hash when given.
    pub fn proof(
        &self,
        htm: &str,
        htu: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
        now: i64,
    ) -> Result<String, DpopError> {
        let header = json!({"typ": "dpop+jwt", "alg": self.signer.alg.name(), "jwk": self.jwk});
        // htu without query and fragment (RFC 9449 §4.2).
        let htu = match url::Url::parse(htu) {
            Ok(mut u) => {
                u.set_query(None);
                u.set_fragment(None);
                u.to_string()
            }
            Err(_) => htu.to_string(),
        };
        let mut r = [0u8; 16];
        getrandom::fill(&mut r).map_err(|e| DpopError::Key(e.to_string()))?;
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(crate::jwt::mint::uuid_v4(&r)));
        claims.insert("htm".into(), json!(htm));
        claims.insert("htu".into(), json!(htu));
        claims.insert("iat".into(), json!(now));
        if let Some(n) = nonce {
            claims.insert("nonce".into(), json!(n));
        }
        if let Some(t) = access_token {
            claims.insert("ath".into(), json!(ath(t)));
        }
        let h = serde_json::to_vec(&header).unwrap_or_default();
        let p = serde_json::to_vec(&Value::Object(claims)).unwrap_or_default();
        Ok(self.signer.sign(&h, &p)?)
    }
}

fn read_pem(bytes: &[u8]) -> Result<PrivateKey, String> {
    let text = String::from_utf8_lossy(bytes);
    let blocks = crate::keystore::pem::parse_blocks(&text).map_err(|e| e.to_string())?;
    let der = blocks
        .iter()
        .find(|b| b.label == "PRIVATE KEY")
        .map(|b| zeroize::Zeroizing::new(b.der.clone()))
        .ok_or("no PRIVATE KEY block")?;
    PrivateKey::from_pkcs8(&der).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
    }

    #[test]
    fn generated_key_is_kept_and_proofs_name_the_request() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("sub/dpop-key.pem");
        let k1 = DpopKey::load_or_create(&path).expect("create");
        let k2 = DpopKey::load_or_create(&path).expect("load");
        assert_eq!(k1.thumbprint, k2.thumbprint, "the same key on the next run");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let p = k1
            .proof(
                "POST",
                "https://as.example/token?x=1#f",
                Some("n1"),
                Some("tok"),
                1000,
            )
            .expect("proof");
        let parts: Vec<&str> = p.split('.').collect();
        let h = decode(parts[0]);
        let c = decode(parts[1]);
        assert_eq!(h["typ"], "dpop+jwt");
        assert_eq!(h["alg"], "ES256");
        assert_eq!(h["jwk"]["kty"], "EC");
        assert!(h["jwk"].get("d").is_none(), "never the private part");
        assert_eq!(c["htm"], "POST");
        assert_eq!(c["htu"], "https://as.example/token");
        assert_eq!(c["nonce"], "n1");
        assert_eq!(c["iat"], 1000);
        assert_eq!(c["ath"], ath("tok"));
        // RFC 9449 §4.2's example: ath of the token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
        assert_eq!(
            ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
