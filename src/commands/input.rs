//! Reading input files and building password sources from options.

use crate::cli::password::{OutPasswordArgs, PasswordArgs};
use crate::error::IoAction;
use crate::error::{Error, Result};
use crate::keystore::{self, Store};
use crate::secret::{SecretCell, SecretSource};
use std::path::Path;

/// Read a whole input file (or stdin for `-`), with a size cap.
pub fn read_input(path: &Path) -> Result<Vec<u8>> {
    keystore::read_file(path).map_err(|source| Error::Io {
        action: IoAction::Read,
        path: path.display().to_string(),
        source,
    })
}

/// The store and key password cells for these options.
pub fn secrets(args: &PasswordArgs, file: &Path) -> Result<(SecretCell, SecretCell)> {
    if args.password_stdin && args.key_password_stdin {
        return Err(Error::Usage {
            message: "--password-stdin and --key-password-stdin cannot both read standard input"
                .into(),
            hint: Some("give one of them with --*-password-file or --*-password-env".into()),
        });
    }
    if file == Path::new("-") && (args.password_stdin || args.key_password_stdin) {
        return Err(Error::Usage {
            message: "the input is standard input, so the password cannot be read from it too"
                .into(),
            hint: Some("use --password-file or --password-env".into()),
        });
    }
    let store = if let Some(p) = &args.password_file {
        SecretSource::File(p.clone())
    } else if let Some(v) = &args.password_env {
        SecretSource::Env(v.clone())
    } else if args.password_stdin {
        SecretSource::Stdin
    } else {
        SecretSource::Default
    };
    let key = if let Some(p) = &args.key_password_file {
        SecretSource::File(p.clone())
    } else if let Some(v) = &args.key_password_env {
        SecretSource::Env(v.clone())
    } else if args.key_password_stdin {
        SecretSource::Stdin
    } else {
        SecretSource::Absent
    };
    Ok((
        SecretCell::new(store, format!("Password for {}", file.display())),
        SecretCell::new(key, format!("Key password for {}", file.display())),
    ))
}

/// A store with the passwords that opened it (for writers that default to
/// the input password, and for checks that compare them).
#[derive(Debug)]
pub struct Loaded {
    pub store: Store,
    /// The store password that was used, if any was needed or given.
    pub store_password: Option<zeroize::Zeroizing<String>>,
    /// The key password, when one was given explicitly.
    pub key_password: Option<zeroize::Zeroizing<String>>,
    /// The store password source, for callers that need the password even
    /// when reading did not (e.g. an output password defaulting to it).
    pub store_cell: SecretCell,
}

/// Read and parse a keystore with the password options.
pub fn load_store(path: &Path, passwords: &PasswordArgs) -> Result<Store> {
    load(path, passwords).map(|l| l.store)
}

/// Read and parse a keystore, keeping the passwords that were used.
pub fn load(path: &Path, passwords: &PasswordArgs) -> Result<Loaded> {
    let (mut store_pw, mut key_pw) = secrets(passwords, path)?;
    let data = read_input(path)?;
    let store =
        keystore::load(&data, &mut store_pw, &mut key_pw).map_err(|source| Error::Input {
            path: path.display().to_string(),
            source,
        })?;
    Ok(Loaded {
        store,
        store_password: store_pw.peek(),
        key_password: key_pw.peek(),
        store_cell: store_pw,
    })
}

/// The cell for an output password (`key`: the JKS key password).
pub fn out_cell(a: &OutPasswordArgs, key: bool, prompt: String) -> SecretCell {
    let src = if key {
        if let Some(p) = &a.out_key_password_file {
            SecretSource::File(p.clone())
        } else if let Some(v) = &a.out_key_password_env {
            SecretSource::Env(v.clone())
        } else if a.out_key_password_stdin {
            SecretSource::Stdin
        } else {
            SecretSource::Absent
        }
    } else if let Some(p) = &a.out_password_file {
        SecretSource::File(p.clone())
    } else if let Some(v) = &a.out_password_env {
        SecretSource::Env(v.clone())
    } else if a.out_password_stdin {
        SecretSource::Stdin
    } else {
        SecretSource::Absent
    };
    SecretCell::new(src, prompt)
}

/// Read a revocation list (TOML, what `keygen --revoke` writes).
pub fn revocation_list(path: &Path) -> Result<crate::revocation::list::RevocationList> {
    let text = read_input(path)?;
    crate::revocation::list::RevocationList::parse(
        &String::from_utf8_lossy(&text),
        &path.display().to_string(),
    )
    .map_err(|e| Error::Revocation {
        id: crate::error_id::ErrorId::RevocationList,
        message: e.detail,
        hint: "fix the list (see `credkit keygen --help`, Revocation), or make one with \
               `credkit keygen --revoke CERT --ca CA`"
            .into(),
    })
}
