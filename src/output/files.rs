//! Writing files safely: never overwrite without `--force`, write to a
//! temporary file in the same directory and rename it into place, and create
//! files that hold private keys with mode 0600.
//!
//! A failed write (full disk, quota, file size limit) removes the temporary
//! file and leaves any existing file untouched. Several files that belong
//! together (`convert --split`) are all written and synced first and only
//! then renamed into place, so a failure while writing leaves none of them.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file written and synced to a temporary name next to its destination,
/// not yet visible under its real name. Dropping it removes the temporary file.
#[derive(Debug)]
pub(crate) struct Staged {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
    force: bool,
}

/// What kind of file a path names, for the message that refuses to replace it.
fn kind_name(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// May an existing `path` be replaced? Only a regular file, or a symbolic
/// link to one (or to nothing), is replaced: never a device, a FIFO, a
/// socket, a directory, or a link to any of those (such as
/// `/proc/self/fd/1`). The error's kind is `InvalidInput`.
pub(crate) fn check_replaceable(path: &Path) -> std::io::Result<()> {
    let refuse = |what: String| {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{what}; only a regular file is replaced"),
        ))
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let t = meta.file_type();
    if t.is_symlink() {
        return match std::fs::metadata(path) {
            Ok(target) if target.file_type().is_file() => Ok(()),
            Ok(target) => refuse(format!(
                "it is a symbolic link to {}",
                kind_name(target.file_type())
            )),
            // A dangling link: the rename replaces the link itself.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
    }
    if t.is_file() {
        return Ok(());
    }
    refuse(format!("it is {}", kind_name(t)))
}

/// Write `bytes` to a temporary file next to `path` (see [`Staged`]).
pub(crate) fn stage(
    path: &Path,
    bytes: &[u8],
    force: bool,
    private: bool,
) -> std::io::Result<Staged> {
    if !force && path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the file exists (use --force to replace it)",
        ));
    }
    check_replaceable(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // tempfile's own error names the temporary path; the caller names the
    // destination, so keep only the operating system's reason.
    let mut tmp = tempfile::Builder::new()
        .prefix(".credkit-")
        .tempfile_in(dir)
        .map_err(|e| match e.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::new(e.kind(), "cannot create a temporary file there"),
        })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if private { 0o600 } else { 0o644 };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    // Write through the plain file: errors then name the destination (the
    // caller's message), not the temporary file, which is removed on drop.
    tmp.as_file_mut().write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(Staged {
        tmp,
        path: path.to_path_buf(),
        force,
    })
}

impl Staged {
    /// The destination.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Rename the temporary file into place (never over an existing file
    /// without `force`).
    pub(crate) fn commit(self) -> std::io::Result<()> {
        if self.force {
            self.tmp.persist(&self.path).map_err(|e| e.error)?;
        } else {
            self.tmp
                .persist_noclobber(&self.path)
                .map_err(|e| e.error)?;
        }
        Ok(())
    }
}

/// Are two paths the same existing file (after resolving links)?
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Write files that belong together (a fixture set, `--split` parts): every
/// one is written and synced under a temporary name first, and only then are
/// they renamed into place, so a failed write leaves none of them and changes
/// no existing file. The error names the file that failed.
pub(crate) fn write_all_atomic<'a>(
    items: impl IntoIterator<Item = (&'a Path, &'a [u8], bool)>,
    force: bool,
) -> Result<(), (PathBuf, std::io::Error)> {
    let mut staged = Vec::new();
    for (path, bytes, private) in items {
        staged.push(stage(path, bytes, force, private).map_err(|e| (path.to_path_buf(), e))?);
    }
    for s in staged {
        let path = s.path().to_path_buf();
        s.commit().map_err(|e| (path, e))?;
    }
    Ok(())
}

/// Write `bytes` to `path` atomically.
pub(crate) fn write_atomic(
    path: &Path,
    bytes: &[u8],
    force: bool,
    private: bool,
) -> std::io::Result<()> {
    stage(path, bytes, force, private)?.commit()
}
