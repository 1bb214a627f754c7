//! The token cache: one file per (endpoint, client, scope, resource, key,
//! grant, auth, consumer_org), in the user's cache directory, mode 0600. It
//! holds the access token and its expiry only: never keys, secrets or refresh
//! tokens. A token is used until shortly before it expires.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What identifies a cached token.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheKey {
    pub endpoint: String,
    pub client_id: String,
    pub scope: String,
    pub resource: String,
    /// RFC 7638 thumbprint of the signing key, or empty for secrets.
    pub key: String,
    pub grant: String,
    pub auth: String,
    pub consumer_org: String,
    pub aud: String,
}

impl CacheKey {
    /// The file name: SHA-256 over the parts.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            &self.endpoint,
            &self.client_id,
            &self.scope,
            &self.resource,
            &self.key,
            &self.grant,
            &self.auth,
            &self.consumer_org,
            &self.aud,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A cached token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    pub endpoint: String,
    pub client_id: String,
    /// The response without refresh_token and id_token.
    pub response: Map<String, Value>,
    pub obtained_at: i64,
    pub expires_at: i64,
}

/// The cache directory: `$XDG_CACHE_HOME/credkit/tokens`, else the platform's
/// (`~/.cache`, `~/Library/Caches`, `%LOCALAPPDATA%`).
pub fn dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = env("XDG_CACHE_HOME").or_else(|| {
        if cfg!(windows) {
            env("LOCALAPPDATA")
        } else if cfg!(target_os = "macos") {
            env("HOME").map(|h| h.join("Library/Caches"))
        } else {
            env("HOME").map(|h| h.join(".cache"))
        }
    })?;
    Some(base.join("credkit").join("tokens"))
}

/// How long before expiry a token stops being used: a quarter of its life, at most 60 s.
pub fn margin(lifetime: i64) -> i64 {
    (lifetime / 4).clamp(0, 60)
}

fn path(dir: &Path, key: &CacheKey) -> PathBuf {
    dir.join(format!("{}.json", key.digest()))
}

/// A token still good at `now`, if one is cached.
pub fn get(dir: &Path, key: &CacheKey, now: i64) -> Option<Cached> {
    let bytes = std::fs::read(path(dir, key)).ok()?;
    read_entry(&bytes, &key.endpoint, now)
}

/// A cache file's token, if it belongs to `endpoint` and is still good at
/// `now`. The file is the user's own, but it is read as untrusted input.
pub fn read_entry(bytes: &[u8], endpoint: &str, now: i64) -> Option<Cached> {
    let c: Cached = serde_json::from_slice(bytes).ok()?;
    (c.endpoint == endpoint && is_fresh(&c, now)).then_some(c)
}

/// Is a token still to be used at `now`: not within its margin of expiry,
/// and not obtained in the future (a clock set back)?
pub fn is_fresh(c: &Cached, now: i64) -> bool {
    let life = c.expires_at.saturating_sub(c.obtained_at);
    now.saturating_add(margin(life)) < c.expires_at && now >= c.obtained_at.saturating_sub(60)
}

/// Store a token (0600, atomically; the directory is made 0700).
pub fn put(dir: &Path, key: &CacheKey, c: &Cached) -> std::io::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let mut c = c.clone();
    c.response.remove("refresh_token");
    c.response.remove("id_token");
    let bytes = serde_json::to_vec_pretty(&c).map_err(std::io::Error::other)?;
    crate::output::files::write_atomic(&path(dir, key), &bytes, true, true)
}

/// Forget a token (for --refresh after a failure, or a refused cached token).
pub fn remove(dir: &Path, key: &CacheKey) {
    let _ = std::fs::remove_file(path(dir, key));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_expiry() {
        let d = tempfile::tempdir().expect("tmp");
        let dir = d.path().join("tokens");
        let key = CacheKey {
            endpoint: "https://x/token".into(),
            client_id: "c".into(),
            ..Default::default()
        };
        let mut resp = Map::new();
        resp.insert("access_token".into(), Value::from("t"));
        resp.insert("refresh_token".into(), Value::from("secret-rt"));
        let c = Cached {
            endpoint: key.endpoint.clone(),
            client_id: "c".into(),
            response: resp,
            obtained_at: 1000,
            expires_at: 1120,
        };
        put(&dir, &key, &c).expect("put");
        let text = std::fs::read_to_string(path(&dir, &key)).expect("read");
        assert!(!text.contains("secret-rt"));
        assert!(get(&dir, &key, 1050).is_some());
        // 120 s life: margin 30 s.
        assert!(get(&dir, &key, 1090).is_none());
        let other = CacheKey {
            scope: "s".into(),
            ..key.clone()
        };
        assert!(get(&dir, &other, 1050).is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(path(&dir, &key))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600);
        }
    }
}
