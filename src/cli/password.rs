//! Password options, shared by every command that opens a keystore.

use std::path::PathBuf;

/// Where the store password comes from. With none of these, credkit reads
/// CREDKIT_PASSWORD, and if that is unset it prompts on a terminal.
#[derive(Debug, Clone, clap::Args, Default)]
pub(crate) struct PasswordArgs {
    /// Read the store password from the first line of this file
    #[arg(
        long,
        value_name = "PATH",
        group = "store_password",
        help_heading = "Passwords"
    )]
    pub(crate) password_file: Option<PathBuf>,
    /// Read the store password from this environment variable
    #[arg(
        long,
        value_name = "VAR",
        group = "store_password",
        help_heading = "Passwords"
    )]
    pub(crate) password_env: Option<String>,
    /// Read the store password from the first line of standard input
    #[arg(long, group = "store_password", help_heading = "Passwords")]
    pub(crate) password_stdin: bool,
    /// Read the key password (when it differs from the store password, as JKS allows) from this file
    #[arg(
        long,
        value_name = "PATH",
        group = "key_password",
        help_heading = "Passwords"
    )]
    pub(crate) key_password_file: Option<PathBuf>,
    /// Read the key password from this environment variable
    #[arg(
        long,
        value_name = "VAR",
        group = "key_password",
        help_heading = "Passwords"
    )]
    pub(crate) key_password_env: Option<String>,
    /// Read the key password from the first line of standard input
    #[arg(long, group = "key_password", help_heading = "Passwords")]
    pub(crate) key_password_stdin: bool,
}

/// Output passwords (convert, keygen). With none of these the output password
/// defaults as each command describes.
#[derive(Debug, Clone, clap::Args, Default)]
pub(crate) struct OutPasswordArgs {
    /// Read the output password from the first line of this file
    #[arg(
        long,
        value_name = "PATH",
        group = "out_password",
        help_heading = "Output passwords"
    )]
    pub(crate) out_password_file: Option<PathBuf>,
    /// Read the output password from this environment variable
    #[arg(
        long,
        value_name = "VAR",
        group = "out_password",
        help_heading = "Output passwords"
    )]
    pub(crate) out_password_env: Option<String>,
    /// Read the output password from the first line of standard input
    #[arg(long, group = "out_password", help_heading = "Output passwords")]
    pub(crate) out_password_stdin: bool,
    /// JKS output: read a key password that differs from the store password from this file
    #[arg(
        long,
        value_name = "PATH",
        group = "out_key_password",
        help_heading = "Output passwords"
    )]
    pub(crate) out_key_password_file: Option<PathBuf>,
    /// JKS output: read the key password from this environment variable
    #[arg(
        long,
        value_name = "VAR",
        group = "out_key_password",
        help_heading = "Output passwords"
    )]
    pub(crate) out_key_password_env: Option<String>,
    /// JKS output: read the key password from the first line of standard input
    #[arg(long, group = "out_key_password", help_heading = "Output passwords")]
    pub(crate) out_key_password_stdin: bool,
}
