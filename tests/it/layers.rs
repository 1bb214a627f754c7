//! The layer rules, checked on the source: domain modules never name a
//! command-line flag. Flags are worded in `src/cli/`, `src/commands/` and
//! `src/output/` only (see HACKING.md, "Layers"); a domain module returns a
//! typed error or a structured remedy (`diagnostics::findings::Setting`,
//! `jwt::mint::Fix`, ...) and the command layer names the flag. No file is
//! exempt.

use std::path::{Path, PathBuf};

/// Where flags may be named.
const CLI_LAYERS: [&str; 3] = ["src/cli/", "src/commands/", "src/output/"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The string literals of Rust source, with their line numbers; comments,
/// char literals and lifetimes are skipped, and so is everything from the
/// first `#[cfg(test)]` on (unit tests may quote what the CLI prints).
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let src = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    line += usize::from(b[i] == b'\n');
                    i += 1;
                }
                i += 2;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                // A raw string r"..." or r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let start = j + 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let end = b[start..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(b.len(), |p| start + p);
                let text = &src[start..end];
                out.push((line, text.to_string()));
                line += text.matches('\n').count();
                i = end + close.len();
            }
            b'"' => {
                let start_line = line;
                let mut j = i + 1;
                let mut text = String::new();
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        // A line continuation drops the newline and the
                        // indentation; other escapes keep the next byte.
                        if b.get(j + 1) == Some(&b'\n') {
                            line += 1;
                            j += 2;
                            while j < b.len() && b[j].is_ascii_whitespace() {
                                line += usize::from(b[j] == b'\n');
                                j += 1;
                            }
                            continue;
                        }
                        j += 2;
                        continue;
                    }
                    line += usize::from(b[j] == b'\n');
                    text.push(b[j] as char);
                    j += 1;
                }
                out.push((start_line, text));
                i = j + 1;
            }
            b'\'' => {
                // A char literal ('"', '\'', '\\') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// The `--flag` words in a text.
fn flags(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < b.len() {
        let starts = b[i] == b'-'
            && b[i + 1] == b'-'
            && b[i + 2].is_ascii_lowercase()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-'));
        if starts {
            let end = (i + 2..b.len())
                .find(|&j| !(b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'-'))
                .unwrap_or(b.len());
            out.push(text[i..end].to_string());
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn domain_modules_name_no_flags() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        if CLI_LAYERS.iter().any(|l| rel.starts_with(l)) || rel.ends_with("/tests.rs") {
            continue;
        }
        let src = std::fs::read_to_string(path).expect("read source");
        for (line, text) in string_literals(&src) {
            for flag in flags(&text) {
                found.push(format!("{rel}:{line}: {flag} in {text:?}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "domain modules name command-line flags; return a typed error or remedy and word the \
         flag in src/commands/ or src/output/ instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_finds_flags_in_literals_only() {
    let src = "// --comment\n/// --doc\nlet a = \"use --alias \\\n    --env x\";\n\
               let b = r#\"x --kid\"#;\nlet c = '\"'; let d = \"-----BEGIN --\";\n\
               fn f<'a>(x: &'a str) {}\n#[cfg(test)]\nmod tests { const T: &str = \"--t\"; }\n";
    let lits = string_literals(src);
    let all: Vec<String> = lits.iter().flat_map(|(_, t)| flags(t)).collect();
    assert_eq!(all, ["--alias", "--env", "--kid"]);
    assert_eq!(lits[0].0, 3);
    assert_eq!(lits[1].0, 5);
}
