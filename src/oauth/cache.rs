//! The token cache: one file per (endpoint, client, scope, resource,
//! keystore, alias, grant, auth, consumer_org, aud), in the user's cache
//! directory, mode 0600. It holds the access token and its expiry only: never
//! keys, secrets or refresh tokens. A token is used until shortly before it
//! expires.
//!
//! A lookup needs no key derivation: the credential is named by the SHA-256
//! of the keystore file's bytes and the alias, so the keystore is opened (and
//! its password-based key derivation run) only when a token must be fetched,
//! and a changed keystore file is another cache entry.
//!
//! Everything found in the cache directory is untrusted input: the directory
//! must be the user's own, not a symlink and not writable by others; an entry
//! is opened without following symlinks or blocking, must be a regular file
//! of the user's with no group or other permissions, is read up to
//! [`MAX_ENTRY`] bytes, and is used no longer than the server's `expires_in`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The version of the entry format. Entries of another version (or of the
/// unversioned format before it) are ignored, never misread.
pub const FORMAT: u32 = 2;

/// The largest cache entry read (a token response is a few KiB).
pub const MAX_ENTRY: u64 = 64 * 1024;

/// What identifies a cached token.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheKey {
    /// The token endpoint's URL, or `issuer:<issuer>` when it is still to
    /// be discovered.
    pub endpoint: String,
    /// The client id (empty when none is configured).
    pub client_id: String,
    /// The scopes asked for, as sent (empty: none).
    pub scope: String,
    /// The `resource` asked for (RFC 8707; empty: none).
    pub resource: String,
    /// [`keystore_digest`] of the keystore file's bytes, or empty when no key signs.
    pub keystore: String,
    /// The alias asked for (empty: the keystore's only private key).
    pub alias: String,
    /// The grant's name ([`Grant::name`](super::exchange::Grant::name)).
    pub grant: String,
    /// The client authentication's name
    /// ([`Auth::name`](super::exchange::Auth::name)).
    pub auth: String,
    /// Maskinporten's `consumer_org` (a delegation; empty: none).
    pub consumer_org: String,
    /// The `aud` the grant was made for when set explicitly (empty: the
    /// issuer, the default).
    pub aud: String,
    /// DPoP and authorization details (empty without them; then not hashed,
    /// so older cache entries keep their names).
    pub proofs: String,
}

/// Lower-case hex SHA-256 of some bytes.
fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What names a keystore in a [`CacheKey`]: SHA-256 of the file's bytes
/// (nothing is decrypted, so a changed file is a different credential).
pub fn keystore_digest(bytes: &[u8]) -> String {
    hex_sha256(bytes)
}

impl CacheKey {
    /// The file name: SHA-256 over the format version and the parts.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(format!("credkit token cache/{FORMAT}\0").as_bytes());
        for part in [
            &self.endpoint,
            &self.client_id,
            &self.scope,
            &self.resource,
            &self.keystore,
            &self.alias,
            &self.grant,
            &self.auth,
            &self.consumer_org,
            &self.aud,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        if !self.proofs.is_empty() {
            h.update((self.proofs.len() as u64).to_be_bytes());
            h.update(self.proofs.as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A cached token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    /// The token endpoint that issued the token.
    pub endpoint: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The response without refresh_token and id_token.
    pub response: Map<String, Value>,
    /// When the token was obtained, by the local clock (unix seconds).
    pub obtained_at: i64,
    /// When the token expires (unix seconds): `obtained_at` plus
    /// `expires_in`; equal to `obtained_at` when the server gave no lifetime.
    pub expires_at: i64,
    /// What the token is bound to: the DPoP key's and the TLS client
    /// certificate's thumbprints (absent for bearer tokens).
    #[serde(default, skip_serializing_if = "Binding::is_empty")]
    pub binding: Binding,
}

/// The keys a sender-constrained token is bound to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    /// RFC 7638 thumbprint of the DPoP key (the token's `cnf.jkt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// SHA-256 thumbprint of the TLS client certificate (`cnf.x5t#S256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

impl Binding {
    /// A bearer token: bound to no key.
    pub fn is_empty(&self) -> bool {
        self.dpop_jkt.is_none() && self.x5t_s256.is_none()
    }
}

impl Cached {
    /// The access token (empty when the response has none).
    pub fn access_token(&self) -> &str {
        self.response
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// When the token expires (RFC 3339), or `None` when the server gave
    /// no lifetime.
    pub fn expires_at_rfc3339(&self) -> Option<String> {
        (self.expires_at > self.obtained_at).then(|| crate::timefmt::rfc3339(self.expires_at))
    }
}

/// A cache file: the format version, the key digest it was stored under, the token.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    format: u32,
    key: String,
    token: Cached,
}

/// Why the cache directory or an entry in it is not used.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The directory or the entry is a symbolic link.
    #[error("{path} is a symbolic link")]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// Not a directory, or an entry that is not a regular file (a FIFO, a
    /// device...).
    #[error("{path} is not a {expected}")]
    NotRegular {
        /// What was found there.
        path: PathBuf,
        /// What it should be: `directory` or `regular file`.
        expected: &'static str,
    },
    /// Another user owns it.
    #[error("{path} belongs to user {owner}, not to this user ({me})")]
    Owner {
        /// The directory or entry.
        path: PathBuf,
        /// Its owner's user id.
        owner: u32,
        /// This process's effective user id.
        me: u32,
    },
    /// An entry that others may read or write (group or other permission
    /// bits set).
    #[error("{path} can be read or written by others (mode {mode:o})")]
    Mode {
        /// The entry.
        path: PathBuf,
        /// Its permission bits (`st_mode & 0o7777`).
        mode: u32,
    },
    /// An entry larger than [`MAX_ENTRY`] bytes.
    #[error("{path} is larger than {MAX_ENTRY} bytes")]
    TooLarge {
        /// The entry.
        path: PathBuf,
    },
    /// The directory or entry cannot be examined or read.
    #[error("{path}: {source}")]
    Io {
        /// The directory or entry.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl Refusal {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Refusal::Symlink { .. } | Refusal::NotRegular { .. } | Refusal::Owner { .. } => {
                "remove it; the cache directory and its entries must be the user's own"
            }
            Refusal::Mode { .. } | Refusal::TooLarge { .. } => "remove the entry",
            Refusal::Io { .. } => "check the cache directory's permissions",
        }
    }
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

#[cfg(unix)]
mod unix {
    use super::{MAX_ENTRY, Refusal};
    use rustix::fs::OFlags;
    use rustix::io::Errno;
    use std::fs::{File, Metadata};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    fn me() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    /// The directory is the user's own real directory; its mode is made 0700
    /// when others may write to it. `Ok(false)`: it does not exist.
    pub fn check_dir(dir: &Path) -> Result<bool, Refusal> {
        let meta = match std::fs::symlink_metadata(dir) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(Refusal::Io {
                    path: dir.into(),
                    source,
                });
            }
        };
        if meta.file_type().is_symlink() {
            return Err(Refusal::Symlink { path: dir.into() });
        }
        if !meta.is_dir() {
            return Err(Refusal::NotRegular {
                path: dir.into(),
                expected: "directory",
            });
        }
        owned(dir, &meta)?;
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| Refusal::Io {
                    path: dir.into(),
                    source,
                },
            )?;
        }
        Ok(true)
    }

    fn owned(path: &Path, meta: &Metadata) -> Result<(), Refusal> {
        let me = me();
        if meta.uid() != me {
            return Err(Refusal::Owner {
                path: path.into(),
                owner: meta.uid(),
                me,
            });
        }
        Ok(())
    }

    /// Open an entry without following a symlink and without waiting for a
    /// FIFO's writer. `Ok(None)`: there is none.
    pub fn open_entry(path: &Path) -> Result<Option<File>, Refusal> {
        let io = |source| Refusal::Io {
            path: path.into(),
            source,
        };
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(Errno::LOOP.raw_os_error()) => {
                return Err(Refusal::Symlink { path: path.into() });
            }
            Err(e) => return Err(io(e)),
        };
        let meta = file.metadata().map_err(io)?;
        if !meta.file_type().is_file() {
            return Err(Refusal::NotRegular {
                path: path.into(),
                expected: "regular file",
            });
        }
        owned(path, &meta)?;
        if meta.mode() & 0o077 != 0 {
            return Err(Refusal::Mode {
                path: path.into(),
                mode: meta.mode() & 0o7777,
            });
        }
        if meta.len() > MAX_ENTRY {
            return Err(Refusal::TooLarge { path: path.into() });
        }
        Ok(Some(file))
    }
}

#[cfg(not(unix))]
mod unix {
    use super::Refusal;
    use std::fs::File;
    use std::path::Path;

    pub fn check_dir(dir: &Path) -> Result<bool, Refusal> {
        Ok(dir.is_dir())
    }

    pub fn open_entry(path: &Path) -> Result<Option<File>, Refusal> {
        match File::open(path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Refusal::Io {
                path: path.into(),
                source,
            }),
        }
    }
}

/// Look a token up. `Ok(None)`: nothing usable (no entry, another format,
/// expired); `Err`: the directory or the entry is refused, and a fresh token
/// must be fetched (the caller warns).
pub fn lookup(dir: &Path, key: &CacheKey, now: i64) -> Result<Option<Cached>, Refusal> {
    let Some(bytes) = read_private(dir, &format!("{}.json", key.digest()))? else {
        return Ok(None);
    };
    Ok(read_entry(&bytes, key, now))
}

/// Read the file `name` in a private directory of the user's (the cache's
/// rules: the directory and the file the user's own, no symlink, no group
/// or other access, at most [`MAX_ENTRY`] bytes). `Ok(None)`: there is none.
pub(crate) fn read_private(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, Refusal> {
    if !unix::check_dir(dir)? {
        return Ok(None);
    }
    let p = dir.join(name);
    let Some(file) = unix::open_entry(&p)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Refusal::Io {
            path: p.clone(),
            source,
        })?;
    if bytes.len() as u64 > MAX_ENTRY {
        return Err(Refusal::TooLarge { path: p });
    }
    Ok(Some(bytes))
}

/// A token still good at `now`, if one is cached (refusals count as none).
pub fn get(dir: &Path, key: &CacheKey, now: i64) -> Option<Cached> {
    lookup(dir, key, now).ok().flatten()
}

/// A cache file's token, if it is of this format, was stored under `key`, and
/// is still good at `now`. The file is read as untrusted input.
pub fn read_entry(bytes: &[u8], key: &CacheKey, now: i64) -> Option<Cached> {
    let s: Stored = serde_json::from_slice(bytes).ok()?;
    if s.format != FORMAT || s.key != key.digest() || s.token.endpoint != key.endpoint {
        return None;
    }
    let c = bounded(s.token)?;
    is_fresh(&c, now).then_some(c)
}

/// The entry with its expiry no later than the server's `expires_in` says
/// from when it was obtained; none when the response has no such number.
fn bounded(mut c: Cached) -> Option<Cached> {
    let said = match c.response.get("expires_in")? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    c.expires_at = c.expires_at.min(c.obtained_at.saturating_add(said.max(0)));
    Some(c)
}

/// Is a token still to be used at `now`: not within its margin of expiry,
/// and not obtained in the future (a clock set back)?
pub fn is_fresh(c: &Cached, now: i64) -> bool {
    let life = c.expires_at.saturating_sub(c.obtained_at);
    now.saturating_add(margin(life)) < c.expires_at && now >= c.obtained_at.saturating_sub(60)
}

/// Store a token (0600, atomically). The directory is made 0700, or checked
/// as [`lookup`] checks it.
pub fn put(dir: &Path, key: &CacheKey, c: &Cached) -> std::io::Result<()> {
    let mut c = c.clone();
    c.response.remove("refresh_token");
    c.response.remove("id_token");
    let stored = Stored {
        format: FORMAT,
        key: key.digest(),
        token: c,
    };
    let bytes = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
    write_private(dir, &format!("{}.json", key.digest()), &bytes)
}

/// Write the file `name` (0600, atomically) in a private directory, made
/// 0700 when missing, or checked as [`read_private`] checks it.
pub(crate) fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let exists = unix::check_dir(dir).map_err(std::io::Error::other)?;
    if !exists {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        match b.create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        // Made by us now (umask may have narrowed the mode), or by a racer: check again.
        unix::check_dir(dir).map_err(std::io::Error::other)?;
    }
    crate::output::files::write_atomic(&dir.join(name), bytes, true, true)
}

/// Forget a token (for --refresh after a failure, or a refused cached token).
pub fn remove(dir: &Path, key: &CacheKey) {
    let _ = std::fs::remove_file(path(dir, key));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CacheKey {
        CacheKey {
            endpoint: "https://x/token".into(),
            client_id: "c".into(),
            keystore: keystore_digest(b"keystore bytes"),
            ..Default::default()
        }
    }

    fn token(key: &CacheKey, obtained_at: i64, expires_in: i64) -> Cached {
        let mut resp = Map::new();
        resp.insert("access_token".into(), Value::from("t"));
        resp.insert("expires_in".into(), Value::from(expires_in));
        resp.insert("refresh_token".into(), Value::from("secret-rt"));
        Cached {
            endpoint: key.endpoint.clone(),
            client_id: "c".into(),
            response: resp,
            obtained_at,
            expires_at: obtained_at + expires_in,
            binding: Binding::default(),
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let d = tempfile::tempdir().expect("tmp");
        let dir = d.path().join("tokens");
        let key = key();
        put(&dir, &key, &token(&key, 1000, 120)).expect("put");
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
        // Another keystore file (its bytes changed): another entry.
        let changed = CacheKey {
            keystore: keystore_digest(b"keystore bytes, changed"),
            ..key.clone()
        };
        assert!(get(&dir, &changed, 1050).is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(path(&dir, &key))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(m & 0o777, 0o600);
            let m = std::fs::metadata(&dir).expect("meta").permissions().mode();
            assert_eq!(m & 0o777, 0o700);
        }
    }

    #[test]
    fn old_format_and_foreign_entries_are_ignored() {
        let key = key();
        let c = token(&key, 1000, 120);
        // The unversioned format before FORMAT 2: a bare Cached.
        let old = serde_json::to_vec(&c).expect("json");
        assert!(read_entry(&old, &key, 1050).is_none());
        let stored = |format: u32, digest: String| {
            serde_json::to_vec(&Stored {
                format,
                key: digest,
                token: c.clone(),
            })
            .expect("json")
        };
        assert!(read_entry(&stored(FORMAT, key.digest()), &key, 1050).is_some());
        assert!(read_entry(&stored(1, key.digest()), &key, 1050).is_none());
        assert!(read_entry(&stored(3, key.digest()), &key, 1050).is_none());
        // Copied from another entry's file.
        let other = CacheKey {
            alias: "other".into(),
            ..key.clone()
        };
        assert!(read_entry(&stored(FORMAT, other.digest()), &key, 1050).is_none());
    }

    #[test]
    fn lifetime_is_bounded_by_expires_in() {
        let key = key();
        let mut c = token(&key, 1000, 120);
        // The file claims a day, the server said 120 s.
        c.expires_at = 1000 + 86_400;
        let bytes = serde_json::to_vec(&Stored {
            format: FORMAT,
            key: key.digest(),
            token: c.clone(),
        })
        .expect("json");
        let got = read_entry(&bytes, &key, 1010).expect("fresh");
        assert_eq!(got.expires_at, 1120);
        assert!(read_entry(&bytes, &key, 5000).is_none());
        // No expires_in: nothing bounds it, so it is not used.
        c.response.remove("expires_in");
        let bytes = serde_json::to_vec(&Stored {
            format: FORMAT,
            key: key.digest(),
            token: c,
        })
        .expect("json");
        assert!(read_entry(&bytes, &key, 1010).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_what_is_not_the_users_own() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tmp");
        let dir = d.path().join("tokens");
        let key = key();
        put(&dir, &key, &token(&key, 1000, 120)).expect("put");
        let p = path(&dir, &key);
        // Readable by others: refused.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            lookup(&dir, &key, 1050),
            Err(Refusal::Mode { .. })
        ));
        // A symlink to a good entry: refused.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let real = d.path().join("real.json");
        std::fs::rename(&p, &real).expect("mv");
        std::os::unix::fs::symlink(&real, &p).expect("ln");
        assert!(matches!(
            lookup(&dir, &key, 1050),
            Err(Refusal::Symlink { .. })
        ));
        // Too large.
        std::fs::remove_file(&p).expect("rm");
        std::fs::write(&p, vec![b' '; MAX_ENTRY as usize + 1]).expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(matches!(
            lookup(&dir, &key, 1050),
            Err(Refusal::TooLarge { .. })
        ));
        // A world-writable directory of the user's own is made 0700 again.
        std::fs::remove_file(&p).expect("rm");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(matches!(lookup(&dir, &key, 1050), Ok(None)));
        let m = std::fs::metadata(&dir).expect("meta").permissions().mode();
        assert_eq!(m & 0o777, 0o700);
        // A symlinked directory: refused, for reading and writing.
        let link = d.path().join("linked");
        std::os::unix::fs::symlink(&dir, &link).expect("ln");
        assert!(matches!(
            lookup(&link, &key, 1050),
            Err(Refusal::Symlink { .. })
        ));
        assert!(put(&link, &key, &token(&key, 1000, 120)).is_err());
    }
}
