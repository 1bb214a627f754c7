//! `check`: can this credential sign JWT grants (Maskinporten) or client
//! assertions (Okta, Entra ID, Keycloak), and if not, why? A pure function of
//! a loaded [`Store`], the options and the clock: no I/O, no printing, so
//! `jwt mint` and `token` can run the same checks.
//!
//! The report has the stable JSON shape `credkit.check/1` (fields documented
//! below); findings are described in [`super::findings`]. Choosing the entry
//! is in `select.rs`, the checks themselves in `rules.rs`, the CA names in
//! [`super::cas`].

use super::findings::{CheckCommand, Command, ConvertTo, Finding, Severity};
use crate::cert::Certificate;
use crate::key::{Curve, PublicKey};
use crate::keystore::{Entry, EntryKind, Store};
use crate::target::{MaskinportenEnv, Target};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The JSON schema name of a check report.
pub const SCHEMA: &str = "credkit.check/1";

/// Days before expiry that `certificate-expiring` warns by default.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 30;

/// What to check, and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The file as the user named it; used in the report and in suggested commands.
    pub file: String,
    /// The entry to check (`--alias`); `None` lets credkit choose.
    pub alias: Option<String>,
    /// The authorization server the credential must work with.
    pub target: Target,
    /// For Maskinporten: test or production (`None`: judged from the issuing CA).
    pub env: Option<MaskinportenEnv>,
    /// The client's organisation number, 9 digits (see [`crate::orgnr::OrgNr`]).
    pub client_org: Option<String>,
    /// Warn when a certificate expires within this many days.
    pub expiry_warning_days: u32,
    /// A key password was given and differs from the store password.
    pub key_password_differs: bool,
}

impl CheckOptions {
    /// Options for checking `file` with the defaults: Maskinporten, any entry, 30 days of expiry warning.
    pub fn new(file: impl Into<String>) -> CheckOptions {
        CheckOptions {
            file: file.into(),
            alias: None,
            target: Target::default(),
            env: None,
            client_org: None,
            expiry_warning_days: DEFAULT_EXPIRY_WARNING_DAYS,
            key_password_differs: false,
        }
    }
}

/// The `check` report (schema `credkit.check/1`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// `credkit.check/1`.
    pub schema: &'static str,
    /// The file, as named on the command line.
    pub file: String,
    /// The moment validity was judged against (RFC 3339).
    pub now: String,
    /// `generic`, `maskinporten`, `okta`, `entra` or `keycloak` (`--for`).
    pub target: Target,
    /// `test`, `prod`, or null when `--env` was not given.
    pub env: Option<MaskinportenEnv>,
    /// The alias of the entry that was checked; null when no entry could be
    /// chosen, or when the checked entry has no alias (PEM, DER).
    pub entry: Option<String>,
    /// The key and certificate that were checked; null when no entry was checked.
    pub checked: Option<Checked>,
    /// Errors first, then warnings, then infos.
    pub findings: Vec<Finding>,
    /// How many findings of each severity.
    pub summary: Summary,
    /// No errors: the credential can sign for the target.
    pub fit: bool,
    /// With `--revocation`: the revocation status of the checked certificate
    /// and of each CA certificate in its chain; null without it.
    pub revocation: Option<crate::revocation::check::Revocation>,
    /// Which entry of the store was checked (its index), for later checks.
    #[serde(skip)]
    pub checked_index: Option<usize>,
}

impl CheckReport {
    /// Add findings made after [`run`] (the revocation check), keeping the
    /// order (errors, warnings, infos), the summary and the verdict right.
    pub fn add_findings(&mut self, more: Vec<Finding>) {
        self.findings.extend(more);
        self.findings.sort_by_key(|f| f.severity);
        self.summary = Summary {
            errors: count(&self.findings, Severity::Error),
            warnings: count(&self.findings, Severity::Warning),
            infos: count(&self.findings, Severity::Info),
        };
        self.fit = self.summary.errors == 0;
    }
}

/// What the checked entry holds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Checked {
    /// `RSA 2048`, `EC P-256`, `Ed25519`; null when neither the key nor a
    /// certificate says.
    pub key: Option<String>,
    /// The certificate's subject; null when the entry has no certificate.
    pub subject: Option<String>,
    /// The certificate's issuer; null when the entry has no certificate.
    pub issuer: Option<String>,
    /// End of validity (RFC 3339).
    pub not_after: Option<String>,
    /// The Norwegian organisation number in the subject, if any.
    pub org_number: Option<String>,
}

/// How many findings of each severity.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct Summary {
    /// Findings of severity error.
    pub errors: usize,
    /// Findings of severity warning.
    pub warnings: usize,
    /// Findings of severity info.
    pub infos: usize,
}

/// Run every check on a store.
pub fn run(store: &Store, opts: &CheckOptions, now: OffsetDateTime) -> CheckReport {
    let mut c = Checker {
        store,
        opts,
        now,
        findings: Vec::new(),
        ranking: super::select::Ranking::default(),
    };
    let selected = c.select();
    let mut checked = None;
    let mut entry_alias = None;
    if let Some(i) = selected {
        let e = &store.entries[i];
        entry_alias = e.alias.clone();
        checked = Some(c.checked(e));
        c.check_entry(i);
    }
    c.check_store();

    let mut findings = c.findings;
    findings.sort_by_key(|f| f.severity);
    let summary = Summary {
        errors: count(&findings, Severity::Error),
        warnings: count(&findings, Severity::Warning),
        infos: count(&findings, Severity::Info),
    };
    CheckReport {
        schema: SCHEMA,
        file: opts.file.clone(),
        now: now.format(&Rfc3339).unwrap_or_default(),
        target: opts.target,
        env: opts.env,
        entry: entry_alias,
        checked,
        fit: summary.errors == 0,
        findings,
        summary,
        revocation: None,
        checked_index: selected,
    }
}

fn count(f: &[Finding], s: Severity) -> usize {
    f.iter().filter(|x| x.severity == s).count()
}

/// Quote a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain {
        s.to_string()
    } else {
        always_quote(s)
    }
}

/// Quote a word for a POSIX shell.
pub fn always_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub(super) fn date(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_else(|_| ts.to_string())
}

pub(super) fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `"auth"`, or `entry 2` for an entry without an alias.
pub(super) fn label(e: &Entry, index: usize) -> String {
    match &e.alias {
        Some(a) => format!("\"{a}\""),
        None => format!("entry {}", index + 1),
    }
}

pub(super) fn kind_phrase(e: &Entry) -> &'static str {
    match e.kind {
        EntryKind::PrivateKey => "private key",
        EntryKind::TrustedCertificate => "trusted certificate",
        EntryKind::Certificate => "certificate",
        EntryKind::PublicKey => "public key",
        EntryKind::Secret => "secret key",
    }
}

pub(super) fn non_repudiation_only(c: &Certificate) -> bool {
    c.has_key_usage("nonRepudiation") && !c.has_key_usage("digitalSignature")
}

/// The JWS algorithms a key can sign with.
pub(super) fn jws_algorithms(k: &PublicKey) -> &'static [&'static str] {
    match k {
        PublicKey::Rsa { .. } => &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        PublicKey::Ec {
            curve: Curve::P256, ..
        } => &["ES256"],
        PublicKey::Ec {
            curve: Curve::P384, ..
        } => &["ES384"],
        PublicKey::Ec {
            curve: Curve::P521, ..
        } => &["ES512"],
        PublicKey::Ed25519 { .. } => &["EdDSA"],
        PublicKey::Other { .. } => &[],
    }
}

/// `a` or `an` before a key name read letter by letter or as a word
/// (an RSA, an EC, an Ed25519, a DSA).
pub(super) fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some(c) if "AEFHILMNORSXaeiou".contains(c) => "an",
        _ => "a",
    }
}

pub(super) fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Aliases that are probably what the user meant, best first.
pub fn suggest_aliases<'a>(wanted: &str, aliases: &[&'a str]) -> Vec<&'a str> {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let w_trim = wanted.trim();
    let w_squash = squash(wanted);
    let mut ranked: Vec<(usize, &str)> = Vec::new();
    for a in aliases {
        let rank = if a.trim() == w_trim {
            0
        } else if a.trim().to_lowercase() == w_trim.to_lowercase() {
            1
        } else if !w_squash.is_empty() && squash(a) == w_squash {
            2
        } else if !w_squash.is_empty()
            && (squash(a).contains(&w_squash) || w_squash.contains(&squash(a)))
            && !squash(a).is_empty()
        {
            3
        } else {
            let d = crate::keystore::select::levenshtein(&a.to_lowercase(), &w_trim.to_lowercase());
            if d <= (w_trim.chars().count() / 4).max(2) {
                4 + d
            } else {
                continue;
            }
        };
        ranked.push((rank, a));
    }
    ranked.sort_by_key(|(r, _)| *r);
    let mut out: Vec<&str> = Vec::new();
    for (_, a) in ranked {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out.truncate(3);
    out
}

/// The state of one run: the store, the options, and the findings so far.
pub(super) struct Checker<'a> {
    pub(super) store: &'a Store,
    pub(super) opts: &'a CheckOptions,
    pub(super) now: OffsetDateTime,
    pub(super) findings: Vec<Finding>,
    /// Every private-key entry judged for the target (filled by `select`).
    pub(super) ranking: super::select::Ranking,
}

impl Checker<'_> {
    pub(super) fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }

    pub(super) fn target(&self) -> Target {
        self.opts.target
    }

    /// `check` again on the same file and settings, choosing `alias`.
    pub(super) fn check_command(&self, alias: Option<&str>) -> CheckCommand {
        CheckCommand {
            file: self.opts.file.clone(),
            alias: alias.map(str::to_owned),
            target: self.opts.target,
            env: self.opts.env,
            client_org: self.opts.client_org.clone(),
            expiry_warning_days: (self.opts.expiry_warning_days != DEFAULT_EXPIRY_WARNING_DAYS)
                .then_some(self.opts.expiry_warning_days),
            and_env: None,
        }
    }

    /// `convert` of the input file to `to`, written next to it with `suffix`.
    pub(super) fn convert_command(&self, to: ConvertTo, suffix: &str, legacy: bool) -> Command {
        Command::Convert {
            input: self.opts.file.clone(),
            output: self.sibling(suffix),
            to,
            legacy,
        }
    }

    /// The input file name with `suffix` in place of its extension.
    pub(super) fn sibling(&self, suffix: &str) -> String {
        let f = &self.opts.file;
        if f == "-" {
            return format!("credential{suffix}");
        }
        let path = std::path::Path::new(f);
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        match (path.parent(), stem) {
            (Some(parent), Some(stem)) if !parent.as_os_str().is_empty() => parent
                .join(format!("{stem}{suffix}"))
                .to_string_lossy()
                .into_owned(),
            (_, Some(stem)) => format!("{stem}{suffix}"),
            _ => format!("credential{suffix}"),
        }
    }

    /// `"auth" (private key), "testroot" (trusted certificate)`.
    pub(super) fn listing(&self, indices: &[usize]) -> String {
        let store = self.store;
        let items: Vec<String> = indices
            .iter()
            .map(|&i| {
                let e = &store.entries[i];
                format!("{} ({})", label(e, i), kind_phrase(e))
            })
            .collect();
        items.join(", ")
    }
}

/// The CN of a certificate's subject, or the whole subject.
pub(super) fn subject_cn(c: &Certificate) -> String {
    c.subject
        .get(crate::cert::oid::COMMON_NAME)
        .map(str::to_owned)
        .unwrap_or_else(|| c.subject.to_display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_suggestions() {
        let aliases = ["auth", "sign", "testroot", "authentication certificate"];
        assert_eq!(suggest_aliases("Auth", &aliases)[0], "auth");
        assert_eq!(suggest_aliases("auth ", &aliases)[0], "auth");
        assert_eq!(
            suggest_aliases("Authentication Certificate", &aliases)[0],
            "authentication certificate"
        );
        assert_eq!(
            suggest_aliases("authentication_certificate", &aliases)[0],
            "authentication certificate"
        );
        assert_eq!(suggest_aliases("sing", &aliases)[0], "sign");
        assert!(suggest_aliases("zzzzzzzz", &aliases).is_empty());
    }

    #[test]
    fn an_empty_store_is_not_fit() {
        let store = Store::new(crate::keystore::Format::Pem);
        let mut opts = CheckOptions::new("empty.pem");
        opts.target = Target::Maskinporten;
        let r = run(&store, &opts, OffsetDateTime::UNIX_EPOCH);
        assert!(!r.fit);
        assert_eq!(r.summary.errors, 1);
        assert_eq!(r.findings[0].id, "no-private-key");
        assert!(r.findings[0].message.contains_words("it is empty"));
        assert_eq!(r.checked, None);
        assert_eq!(r.now, "1970-01-01T00:00:00Z");
    }

    #[test]
    fn articles() {
        for (w, a) in [
            ("RSA 2048", "an"),
            ("EC P-256", "an"),
            ("Ed25519", "an"),
            ("DSA", "a"),
        ] {
            assert_eq!(article(w), a, "{w}");
        }
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("fixtures/a.p12"), "fixtures/a.p12");
        assert_eq!(shell_quote("my file.p12"), "'my file.p12'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(always_quote("auth"), "'auth'");
    }

    #[test]
    fn every_algorithm_list_is_served_by_rsa() {
        let rsa = PublicKey::Rsa {
            n: vec![0xff; 256],
            e: vec![1, 0, 1],
        };
        for t in [
            Target::Maskinporten,
            Target::Okta,
            Target::Entra,
            Target::Keycloak,
        ] {
            let acc = t.accepted_algorithms().expect("list");
            assert!(
                jws_algorithms(&rsa).iter().any(|a| acc.contains(a)),
                "{t:?}"
            );
        }
    }
}
