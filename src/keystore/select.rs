//! Choosing entries by alias, with suggestions when an alias is not found.

use super::model::Entry;

/// An alias that is not in the store.
#[derive(Debug, thiserror::Error)]
#[error("no entry called \"{alias}\"{suggestion}; the store holds: {available}")]
pub(crate) struct AliasNotFound {
    pub(crate) alias: String,
    /// `, did you mean "x"?` or empty.
    pub(crate) suggestion: String,
    pub(crate) available: String,
    pub(crate) closest: Option<String>,
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The closest alias: same after trimming, case folding and keytool's
/// lowercasing, else the one with the smallest edit distance (if close).
pub(crate) fn closest<'a>(
    wanted: &str,
    aliases: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    let w = normalize(wanted);
    if let Some(a) = aliases.clone().find(|a| normalize(a) == w) {
        return Some(a);
    }
    aliases
        .map(|a| (levenshtein(&normalize(a), &w), a))
        .filter(|(d, a)| *d <= 2.max(a.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// The edit distance between two strings, over chars (aliases are short).
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Pick entries by alias (all when `wanted` is empty). An exact match wins;
/// otherwise a match that differs only in case or spacing is accepted.
pub(crate) fn select(entries: &[Entry], wanted: &[String]) -> Result<Vec<Entry>, AliasNotFound> {
    if wanted.is_empty() {
        return Ok(entries.to_vec());
    }
    let names: Vec<&str> = entries.iter().filter_map(|e| e.alias.as_deref()).collect();
    let mut out = Vec::new();
    for w in wanted {
        let found = entries
            .iter()
            .find(|e| e.alias.as_deref() == Some(w.as_str()))
            .or_else(|| {
                entries.iter().find(|e| {
                    e.alias
                        .as_deref()
                        .is_some_and(|a| normalize(a) == normalize(w))
                })
            });
        match found {
            Some(e) => out.push(e.clone()),
            None => {
                let c = closest(w, names.iter().copied());
                return Err(AliasNotFound {
                    alias: w.clone(),
                    suggestion: c
                        .map(|c| format!(", did you mean \"{c}\"?"))
                        .unwrap_or_default(),
                    available: if names.is_empty() {
                        "no named entries".into()
                    } else {
                        names
                            .iter()
                            .map(|n| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                    closest: c.map(str::to_owned),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_alias_handles_case_space_and_typos() {
        let names = ["authentication certificate", "signing certificate"];
        assert_eq!(
            closest("Authentication  Certificate", names.iter().copied()),
            Some("authentication certificate")
        );
        assert_eq!(
            closest("signing certficate", names.iter().copied()),
            Some("signing certificate")
        );
        assert_eq!(closest("zzz", names.iter().copied()), None);
    }
}
