//! Text from files (subjects, aliases, JSON members) may hold control
//! characters that would rewrite the terminal. Text output escapes them.

/// Escape control characters (including ESC and newlines) in untrusted text.
pub(crate) fn line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(super::line("a\x1b[31mb\n"), "a\\u{1b}[31mb\\n");
        assert_eq!(super::line("Bjørn AS"), "Bjørn AS");
    }
}
