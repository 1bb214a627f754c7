//! `completions` and the hidden `man` generator.

use crate::error::IoAction;
use crate::error::{Error, Result, exit};
use std::path::Path;

pub(crate) fn completions(shell: clap_complete::Shell) -> Result<u8> {
    let mut cmd = crate::cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "credkit", &mut buf);
    crate::output::write_stdout(&buf).map_err(Error::stdout)?;
    Ok(exit::OK)
}

/// Render every man page: `credkit.1` and `credkit-<command>.1`.
pub(crate) fn render_man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let cmd = crate::cli::command();
    let mut pages = Vec::new();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    pages.push(("credkit.1".to_string(), buf));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let name = format!("credkit-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        let mut buf = Vec::new();
        clap_mangen::Man::new(sub).render(&mut buf)?;
        pages.push((format!("{name}.1"), buf));
    }
    Ok(pages)
}

pub(crate) fn man(out_dir: &Path) -> Result<u8> {
    let io = |source| Error::Io {
        action: IoAction::Write,
        path: out_dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(out_dir).map_err(io)?;
    for (name, bytes) in render_man_pages().map_err(io)? {
        crate::output::files::write_atomic(&out_dir.join(name), &bytes, true, false).map_err(io)?;
    }
    Ok(exit::OK)
}
