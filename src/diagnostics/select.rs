//! Which entry signs, and which entry is the other half of a business
//! certificate pair. One home for the rule: `check`, `jwt mint`, `token` and
//! the broker all choose through [`signing_entry`] (or [`choose`], which adds
//! the ranking `check` reports).
//!
//! - **Candidates.** Every private-key entry is judged for the target. An entry
//!   that can never sign for it ([`CannotSign`]: key usage without
//!   digitalSignature, a key type or size the target refuses, a key that is not
//!   the certificate's, another organisation than the client's, a certificate of
//!   the other environment) is not a candidate. The others are ranked by their
//!   [`Drawback`]s (expired or not yet valid, no organisation number or no
//!   certificate where the target wants one, a locked key, expiring soon), then
//!   by file order.
//! - **The choice.** An alias names the entry. Without one: the only private key;
//!   else the only candidate; else nothing (several candidates, or none).
//! - **The pair.** The authentication certificate paired with a non-repudiation
//!   certificate is a private-key entry whose certificate allows digitalSignature,
//!   carries the same organisation number and comes from the same CA family
//!   ([`ca_family`]). Another organisation's certificate is never its pair.

use super::cas;
use super::check::*;
use super::findings::{Finding, Setting, Severity, Text};
use crate::cert::Certificate;
use crate::keystore::{Entry, EntryKind, Format, Store};
use crate::target::{MaskinportenEnv, Target};
use time::OffsetDateTime;

/// Why a private-key entry can never sign for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CannotSign {
    /// Key usage nonRepudiation without digitalSignature.
    NonRepudiationOnly,
    /// A key usage without digitalSignature (an encryption certificate).
    NoSignatureUsage,
    /// An RSA key of this many bits (under 2048).
    KeyTooSmall(u32),
    /// The target accepts no JWS algorithm for this key (its description).
    AlgorithmNotAccepted(String),
    /// The private key is not the certificate's.
    KeyMismatch,
    /// The client's organisation was given and the certificate is another's
    /// (`found`), or names none.
    OtherOrganisation {
        /// The audience or target the entry's certificate was made for, if known.
        found: Option<String>,
        /// The target that was asked for.
        wanted: String,
    },
    /// The certificate comes from a CA of the other environment.
    OtherEnvironment {
        /// The environment whose CA issued the certificate.
        issued_for: MaskinportenEnv,
        /// The environment that was asked for.
        wanted: MaskinportenEnv,
    },
}

impl CannotSign {
    /// The reason, to follow "cannot sign because".
    pub fn because(&self, target: Target) -> String {
        match self {
            CannotSign::NonRepudiationOnly => {
                "its certificate's key usage is nonRepudiation only (the signing half of a \
                 business certificate pair)"
                    .into()
            }
            CannotSign::NoSignatureUsage => {
                "its certificate's key usage does not include digitalSignature".into()
            }
            CannotSign::KeyTooSmall(bits) => {
                format!("its RSA key has {bits} bits, fewer than the 2048 required")
            }
            CannotSign::AlgorithmNotAccepted(key) => format!(
                "{} accepts no signature algorithm for its {key} key",
                target.server()
            ),
            CannotSign::KeyMismatch => "its private key does not belong to its certificate".into(),
            CannotSign::OtherOrganisation {
                found: Some(found),
                wanted,
            } => format!("its certificate belongs to organisation {found}, not {wanted}"),
            CannotSign::OtherOrganisation {
                found: None,
                wanted,
            } => format!("its certificate holds no organisation number, so not {wanted}"),
            CannotSign::OtherEnvironment { issued_for, wanted } => format!(
                "its certificate is a {} certificate, not a {} one",
                issued_for.label(),
                wanted.label()
            ),
        }
    }
}

/// What makes a candidate worse than another without ruling it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawback {
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// Maskinporten: the certificate names no organisation.
    NoOrgNumber,
    /// Maskinporten or Entra ID: a key without a certificate.
    NoCertificate,
    /// The key was not decrypted, so its match with the certificate is unknown.
    KeyLocked,
    /// The certificate expires within the warning window.
    Expiring,
}

impl Drawback {
    fn weight(self) -> u32 {
        match self {
            Drawback::Expired | Drawback::NotYetValid => 8,
            Drawback::NoOrgNumber | Drawback::NoCertificate => 4,
            Drawback::KeyLocked => 2,
            Drawback::Expiring => 1,
        }
    }

    /// A few words, for lists.
    pub fn phrase(self) -> &'static str {
        match self {
            Drawback::Expired => "expired",
            Drawback::NotYetValid => "not valid yet",
            Drawback::NoOrgNumber => "no organisation number",
            Drawback::NoCertificate => "no certificate",
            Drawback::KeyLocked => "key not decrypted",
            Drawback::Expiring => "expiring soon",
        }
    }
}

/// A private-key entry that can sign for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Index in `Store::entries`.
    pub index: usize,
    /// What speaks against this entry, worst first.
    pub drawbacks: Vec<Drawback>,
}

/// Every private-key entry, judged for the target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranking {
    /// The entries that can sign, best first.
    pub candidates: Vec<Candidate>,
    /// The entries that never can, in file order, with every reason.
    pub unusable: Vec<(usize, Vec<CannotSign>)>,
}

/// How the entry was chosen (or why none was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The alias names this private-key entry.
    Named(usize),
    /// No alias names it.
    AliasNotFound,
    /// The alias names an entry without a private key.
    AliasNoPrivateKey(usize),
    /// No alias given: the only private key in the file.
    OnlyKey(usize),
    /// No alias given: the only private key of several that can sign.
    OnlyCandidate(usize),
    /// No alias given, and several private keys can sign.
    Ambiguous,
    /// No alias given, several private keys, none can sign.
    NoCandidate,
    /// The file holds no private key.
    NoPrivateKey,
}

impl Choice {
    /// The entry that signs, if one was chosen.
    pub fn entry(self) -> Option<usize> {
        match self {
            Choice::Named(i) | Choice::OnlyKey(i) | Choice::OnlyCandidate(i) => Some(i),
            _ => None,
        }
    }
}

/// The RSA key size under 2048 bits, if this is such a key.
pub(super) fn rsa_too_small(k: &crate::key::PublicKey) -> Option<u32> {
    match k {
        crate::key::PublicKey::Rsa { .. } => k.describe().bits.filter(|b| *b < 2048),
        _ => None,
    }
}

/// Whether the target accepts a JWS algorithm for this key.
pub(super) fn algorithm_accepted(k: &crate::key::PublicKey, target: Target) -> bool {
    let have = jws_algorithms(k);
    match target.accepted_algorithms() {
        None => !have.is_empty(),
        Some(acc) => have.iter().any(|a| acc.contains(a)),
    }
}

/// Why this private-key entry can never sign for the target (empty: it can).
pub fn cannot_sign(
    e: &Entry,
    target: Target,
    client_org: Option<&str>,
    env: Option<MaskinportenEnv>,
) -> Vec<CannotSign> {
    let mut out = Vec::new();
    let leaf = e.chain.first();
    if let Some(c) = leaf
        && c.key_usage.is_some()
        && !c.has_key_usage("digitalSignature")
    {
        out.push(if non_repudiation_only(c) {
            CannotSign::NonRepudiationOnly
        } else {
            CannotSign::NoSignatureUsage
        });
    }
    if let Some(k) = e.public() {
        if let Some(bits) = rsa_too_small(k) {
            out.push(CannotSign::KeyTooSmall(bits));
        }
        if !algorithm_accepted(k, target) {
            out.push(CannotSign::AlgorithmNotAccepted(k.describe().to_string()));
        }
    }
    if let (Some(key), Some(Ok(cert_key))) = (&e.private_key, leaf.map(|c| &c.public_key))
        && key.public != *cert_key
    {
        out.push(CannotSign::KeyMismatch);
    }
    if let (Some(wanted), Some(c)) = (client_org, leaf) {
        let found = c.org_number().map(|(n, _)| n);
        if found.as_deref() != Some(wanted) {
            out.push(CannotSign::OtherOrganisation {
                found,
                wanted: wanted.to_string(),
            });
        }
    }
    if let (Some(wanted), Some(ca)) = (env, leaf.and_then(|c| cas::lookup(&c.issuer)))
        && ca.env != wanted
    {
        out.push(CannotSign::OtherEnvironment {
            issued_for: ca.env,
            wanted,
        });
    }
    out
}

fn drawbacks(e: &Entry, opts: &CheckOptions, now: OffsetDateTime) -> Vec<Drawback> {
    let mut out = Vec::new();
    let target = opts.target;
    match e.chain.first() {
        Some(c) => {
            match c.validity_at(now) {
                crate::cert::Validity::Expired { .. } => out.push(Drawback::Expired),
                crate::cert::Validity::NotYetValid { .. } => out.push(Drawback::NotYetValid),
                crate::cert::Validity::Valid { days_left } => {
                    if days_left <= i64::from(opts.expiry_warning_days) {
                        out.push(Drawback::Expiring);
                    }
                }
            }
            if target == Target::Maskinporten && c.org_number().is_none() {
                out.push(Drawback::NoOrgNumber);
            }
        }
        None => {
            if matches!(target, Target::Maskinporten | Target::Entra) {
                out.push(Drawback::NoCertificate);
            }
        }
    }
    if e.key_locked {
        out.push(Drawback::KeyLocked);
    }
    out
}

pub(super) fn private_keys(store: &Store) -> Vec<usize> {
    store
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == EntryKind::PrivateKey)
        .map(|(i, _)| i)
        .collect()
}

/// Split the private keys into those that can sign for the target (file
/// order) and those that never can.
fn split(store: &Store, opts: &CheckOptions) -> (Vec<usize>, Vec<(usize, Vec<CannotSign>)>) {
    let mut can = Vec::new();
    let mut cannot = Vec::new();
    for i in private_keys(store) {
        let why = cannot_sign(
            &store.entries[i],
            opts.target,
            opts.client_org.as_deref(),
            opts.env,
        );
        if why.is_empty() {
            can.push(i);
        } else {
            cannot.push((i, why));
        }
    }
    (can, cannot)
}

/// The choice from the alias and the entries that can sign. Time plays no
/// part: validity ranks candidates, it never rules one out.
fn decide(store: &Store, alias: Option<&str>, can: &[usize]) -> Choice {
    let entries = &store.entries;
    if let Some(a) = alias {
        return match entries.iter().position(|e| e.alias.as_deref() == Some(a)) {
            None => Choice::AliasNotFound,
            Some(i) if entries[i].kind == EntryKind::PrivateKey => Choice::Named(i),
            Some(i) => Choice::AliasNoPrivateKey(i),
        };
    }
    match (private_keys(store).as_slice(), can) {
        ([], _) => Choice::NoPrivateKey,
        ([only], _) => Choice::OnlyKey(*only),
        (_, [one]) => Choice::OnlyCandidate(*one),
        (_, []) => Choice::NoCandidate,
        _ => Choice::Ambiguous,
    }
}

/// The entry that signs for these options: what `check` checks, and what
/// `jwt mint`, `token` and the broker sign with. `None` when `check` would
/// choose none (an alias that names no private key, several candidates, none).
pub fn signing_entry<'s>(store: &'s Store, opts: &CheckOptions) -> Option<&'s Entry> {
    let (can, _) = split(store, opts);
    decide(store, opts.alias.as_deref(), &can)
        .entry()
        .map(|i| &store.entries[i])
}

/// The entry a diagnosis describes (`explain --key`): the [`signing_entry`]
/// when there is one. Otherwise, so that a file without a key that can sign
/// is still explained, the entry `opts.alias` names (whatever it holds), or
/// the only entry of a file that holds no private key (a certificate alone).
/// `None` when no entry stands out.
pub fn described_entry<'s>(store: &'s Store, opts: &CheckOptions) -> Option<&'s Entry> {
    if let Some(e) = signing_entry(store, opts) {
        return Some(e);
    }
    match (opts.alias.as_deref(), store.entries.as_slice()) {
        (Some(a), entries) => entries.iter().find(|e| e.alias.as_deref() == Some(a)),
        (None, [only]) if only.kind != EntryKind::PrivateKey => Some(only),
        (None, _) => None,
    }
}

/// The choice, with every private-key entry ranked for the target.
pub fn choose(store: &Store, opts: &CheckOptions, now: OffsetDateTime) -> (Choice, Ranking) {
    let (can, unusable) = split(store, opts);
    let choice = decide(store, opts.alias.as_deref(), &can);
    let mut candidates: Vec<Candidate> = can
        .into_iter()
        .map(|index| Candidate {
            index,
            drawbacks: drawbacks(&store.entries[index], opts, now),
        })
        .collect();
    candidates.sort_by_key(|c| (c.drawbacks.iter().map(|d| d.weight()).sum::<u32>(), c.index));
    (
        choice,
        Ranking {
            candidates,
            unusable,
        },
    )
}

/// The fix of `entry-selected`: give the alias to the signing tool (or `otherwise`).
fn give_alias(e: &Entry, otherwise: &str) -> String {
    match &e.alias {
        Some(a) => format!(
            "Give the alias \"{a}\" to the tool that signs (keystore.alias in jwt-grant-generator)."
        ),
        None => otherwise.to_string(),
    }
}

/// Which CA family issued a certificate: a known Buypass or Commfides CA by
/// vendor and environment, any other by its issuer name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaFamily {
    /// A CA credkit knows: its vendor and environment.
    Known(cas::Vendor, MaskinportenEnv),
    /// Another CA, by its key identifier (or subject DER when it has none).
    Issuer(Vec<u8>),
}

/// The CA family of a certificate.
pub fn ca_family(c: &Certificate) -> CaFamily {
    match cas::lookup(&c.issuer) {
        Some(ca) => CaFamily::Known(ca.vendor, ca.env),
        None => CaFamily::Issuer(c.issuer.raw.clone()),
    }
}

/// The other authentication certificates in a file, seen from one certificate
/// of a business certificate pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairSearch {
    /// The authentication half of the pair: same organisation, same CA family.
    pub pair: Option<usize>,
    /// The same organisation's authentication certificates from another CA family.
    pub same_org_other_ca: Vec<usize>,
    /// Other organisations' (or unnumbered) authentication certificates.
    pub other_org: Vec<usize>,
}

/// Look for the authentication certificate paired with entry `i`: a named
/// private-key entry whose certificate allows digitalSignature, with the same
/// organisation number and CA family.
pub fn find_pair(store: &Store, i: usize) -> PairSearch {
    let mut out = PairSearch::default();
    let Some(mine) = store.entries.get(i).and_then(|e| e.chain.first()) else {
        return out;
    };
    let org = mine.org_number().map(|(n, _)| n);
    let family = ca_family(mine);
    for (j, e) in store.entries.iter().enumerate() {
        if j == i || e.kind != EntryKind::PrivateKey || e.alias.is_none() {
            continue;
        }
        let Some(c) = e.chain.first() else { continue };
        if !c.has_key_usage("digitalSignature") {
            continue;
        }
        let their_org = c.org_number().map(|(n, _)| n);
        if their_org != org {
            out.other_org.push(j);
        } else if ca_family(c) != family {
            out.same_org_other_ca.push(j);
        } else if out.pair.is_none() {
            out.pair = Some(j);
        }
    }
    out
}

impl Checker<'_> {
    /// Choose the entry to check (see [`choose`]) and say how it was chosen.
    pub(super) fn select(&mut self) -> Option<usize> {
        let (choice, ranking) = choose(self.store, self.opts, self.now);
        self.ranking = ranking;
        match choice {
            Choice::Named(i) => Some(i),
            Choice::AliasNotFound => {
                if let Some(a) = self.opts.alias.clone() {
                    self.alias_not_found(&a);
                }
                None
            }
            Choice::AliasNoPrivateKey(i) => {
                self.alias_no_private_key(i);
                None
            }
            Choice::OnlyKey(i) => {
                self.only_key(i);
                Some(i)
            }
            Choice::OnlyCandidate(i) => {
                self.only_candidate(i);
                Some(i)
            }
            Choice::Ambiguous => {
                self.ambiguous();
                None
            }
            Choice::NoCandidate => {
                self.no_candidate();
                None
            }
            Choice::NoPrivateKey => {
                self.no_private_key();
                None
            }
        }
    }

    /// The purpose, narrowed to the client's organisation when given.
    fn purpose_for_org(&self) -> String {
        match &self.opts.client_org {
            Some(org) => format!("{} for organisation {org}", self.target().purpose()),
            None => self.target().purpose().to_string(),
        }
    }

    fn alias_no_private_key(&mut self, i: usize) {
        let store = self.store;
        let e = &store.entries[i];
        let keys = private_keys(store);
        let signer = self.ranking.candidates.first().map(|c| c.index);
        let (fix, command) = match (keys.is_empty(), signer) {
            (true, _) => (
                "This file holds no private key at all. Use the file that holds it: for a \
                 business certificate, the .p12 file from Buypass or Commfides."
                    .to_string(),
                None,
            ),
            (false, Some(s)) => (
                format!(
                    "Use the alias of a private-key entry: {}. {} is the {} that can sign {}.",
                    self.listing(&keys),
                    label(&store.entries[s], s),
                    if self.ranking.candidates.len() == 1 {
                        "one"
                    } else {
                        "best of those"
                    },
                    self.purpose_for_org()
                ),
                store.entries[s]
                    .alias
                    .as_deref()
                    .map(|a| self.check_command(Some(a))),
            ),
            (false, None) => (
                format!(
                    "Use the alias of a private-key entry: {}.",
                    self.listing(&keys)
                ),
                None,
            ),
        };
        let what = match e.kind {
            EntryKind::TrustedCertificate => {
                "a trusted certificate: it holds a certificate (usually a CA's) but no private key"
            }
            EntryKind::Certificate => "a certificate with no private key",
            EntryKind::PublicKey => "a public key: the private half is not in this file",
            EntryKind::Secret => {
                "a secret (symmetric) key, which cannot sign a JWT with a certificate"
            }
            EntryKind::PrivateKey => "",
        };
        let mut f = Finding::new(
            Severity::Error,
            "alias-no-private-key",
            format!(
                "{} is {what}, so nothing can be signed with it",
                label(e, i)
            ),
            "Signing needs a private key. An alias that names a certificate-only entry is a \
             common slip with keystores that also hold CA certificates, and Digdir's \
             jwt-grant-generator then stops with a NullPointerException.",
            fix,
        )
        .entry(e.alias.as_deref());
        if let Some(cmd) = command {
            f = f.command(cmd);
        }
        self.push(f);
    }

    fn alias_not_found(&mut self, wanted: &str) {
        let store = self.store;
        let all: Vec<usize> = (0..store.entries.len()).collect();
        let aliases: Vec<&str> = self
            .store
            .entries
            .iter()
            .filter_map(|e| e.alias.as_deref())
            .collect();
        let why = "The alias tells the signing tool which key to use (keystore.alias in Digdir's \
                   jwt-grant-generator, which stops with a NullPointerException when the alias \
                   names nothing). Aliases must match exactly.";
        if aliases.is_empty() {
            let f = Finding::new(
                Severity::Error,
                "alias-not-found",
                format!(
                    "no entry has the alias \"{wanted}\": the entries in this {} file have no \
                     aliases",
                    self.store.format.label()
                ),
                why,
                Text::from("Leave out ")
                    .setting(Setting::Alias(None))
                    .words(": credkit picks the private key itself."),
            )
            .command(self.check_command(None));
            self.push(f);
            return;
        }
        let suggestions = suggest_aliases(wanted, &aliases);
        let mut message = format!("no entry has the alias \"{wanted}\"");
        if let Some(best) = suggestions.first() {
            message.push_str(&format!("; did you mean \"{best}\"?"));
        }
        let mut fix = Text::default();
        if let Some(best) = suggestions.first() {
            if *best == wanted.to_lowercase()
                && matches!(self.store.format, Format::Jks | Format::Jceks)
            {
                fix.push_words(&format!(
                    "keytool stores JKS aliases in lower case, so \"{wanted}\" was saved as \
                     \"{best}\". "
                ));
            } else if best.trim() == wanted.trim() {
                fix.push_words("The aliases differ only in spaces at the start or end. ");
            } else if best.to_lowercase() == wanted.to_lowercase() {
                fix.push_words("The aliases differ only in upper and lower case. ");
            }
            fix.push_text(
                Text::from("Use ")
                    .setting(Setting::Alias(Some((*best).to_owned())))
                    .words(". "),
            );
        }
        fix.push_words(&format!("The file holds: {}.", self.listing(&all)));
        let command_alias = suggestions.first().copied().or_else(|| {
            let keys = private_keys(store);
            (keys.len() == 1)
                .then(|| store.entries[keys[0]].alias.as_deref())
                .flatten()
        });
        let mut f = Finding::new(Severity::Error, "alias-not-found", message, why, fix);
        if let Some(a) = command_alias {
            f = f.command(self.check_command(Some(a)));
        }
        self.push(f);
    }

    fn only_key(&mut self, i: usize) {
        let store = self.store;
        let entries = &store.entries;
        // Named entries only: a PEM file's loose CA certificates are not a choice.
        if entries.len() <= 1 || entries[i].alias.is_none() {
            return;
        }
        let others: Vec<usize> = (0..entries.len()).filter(|&j| j != i).collect();
        let e = &entries[i];
        let f = Finding::new(
            Severity::Info,
            "entry-selected",
            format!(
                "checked {}, the only entry with a private key (the others: {})",
                label(e, i),
                self.listing(&others)
            ),
            "Other tools may pick a different entry unless they are told which.",
            give_alias(e, "Nothing to do."),
        )
        .entry(e.alias.as_deref());
        self.push(f);
    }

    /// `"a" because x and y; "b" because z`.
    fn because_list(&self) -> String {
        let t = self.target();
        let items: Vec<String> = self
            .ranking
            .unusable
            .iter()
            .map(|(j, why)| {
                let reasons: Vec<String> = why.iter().map(|w| w.because(t)).collect();
                format!(
                    "{} because {}",
                    label(&self.store.entries[*j], *j),
                    reasons.join(", and ")
                )
            })
            .collect();
        items.join("; ")
    }

    /// `"a" (RSA 2048; CN=x; organisation 123456785; expired)` for lists of candidates.
    fn describe_candidate(&self, c: &Candidate) -> String {
        let e = &self.store.entries[c.index];
        let mut parts = Vec::new();
        if let Some(k) = e.public() {
            parts.push(k.describe().to_string());
        }
        if let Some(cert) = e.chain.first() {
            parts.push(subject_cn(cert));
            if let Some((org, _)) = cert.org_number() {
                parts.push(format!("organisation {org}"));
            }
            if let Some(ca) = cas::lookup(&cert.issuer) {
                parts.push(format!("{} {}", ca.vendor.name(), ca.env.label()));
            }
        }
        parts.extend(c.drawbacks.iter().map(|d| d.phrase().to_string()));
        if parts.is_empty() {
            label(e, c.index)
        } else {
            format!("{} ({})", label(e, c.index), parts.join("; "))
        }
    }

    fn only_candidate(&mut self, i: usize) {
        let store = self.store;
        let e = &store.entries[i];
        let keys = private_keys(store).len();
        let org = e
            .chain
            .first()
            .and_then(|c| c.org_number())
            .map(|(n, _)| format!(" (organisation {n})"))
            .unwrap_or_default();
        let mut f = Finding::new(
            Severity::Info,
            "entry-selected",
            format!(
                "checked {}{org}: of the {keys} private keys in the file it is the only one that \
                 can sign {}; the others cannot: {}",
                label(e, i),
                self.purpose_for_org(),
                self.because_list()
            ),
            "A tool that takes the first key, or a wrong alias, signs with a key the server will \
             not accept.",
            give_alias(e, "Split the file so that it holds only this key."),
        )
        .entry(e.alias.as_deref());
        if let Some(a) = &e.alias {
            f = f.command(self.check_command(Some(a)));
        }
        self.push(f);
    }

    fn ambiguous(&mut self) {
        let store = self.store;
        let described: Vec<String> = self
            .ranking
            .candidates
            .iter()
            .map(|c| self.describe_candidate(c))
            .collect();
        let best = self.ranking.candidates.first().map(|c| c.index);
        let orgs: Vec<Option<String>> = self
            .ranking
            .candidates
            .iter()
            .map(|c| {
                store.entries[c.index]
                    .chain
                    .first()
                    .and_then(|x| x.org_number())
                    .map(|(n, _)| n)
            })
            .collect();
        let several_orgs = orgs.iter().any(|o| *o != orgs[0]);
        let mut fix = Text::from("Choose the entry with ")
            .setting(Setting::Alias(None))
            .words(
                " (the one whose certificate or key is registered for your client). They are \
                 listed best first",
            );
        if let Some(b) = best {
            fix.push_words(&format!(
                ": {} has the fewest drawbacks",
                label(&store.entries[b], b)
            ));
        }
        fix.push_words(".");
        if several_orgs && self.opts.client_org.is_none() {
            fix.push_text(
                Text::from(" The keys belong to different organisations: ")
                    .setting(Setting::ClientOrg(None))
                    .words(" keeps only your client's."),
            );
        }
        let mut f = Finding::new(
            Severity::Error,
            "alias-ambiguous",
            Text::from(format!(
                "the file holds {} private keys that can sign {}, and no ",
                self.ranking.candidates.len(),
                self.purpose_for_org(),
            ))
            .setting(Setting::Alias(None))
            .words(&format!(
                " says which (best first): {}",
                described.join(", ")
            )),
            "credkit does not guess between keys: signing with the wrong one gives 'invalid \
             signature' or 'unknown key' errors at the token endpoint, or a token for the wrong \
             organisation.",
            fix,
        );
        if let Some(a) = best.and_then(|i| store.entries[i].alias.as_deref()) {
            f = f.command(self.check_command(Some(a)));
        }
        self.push(f);
        if !self.ranking.unusable.is_empty() {
            let f = Finding::new(
                Severity::Info,
                "entries-cannot-sign",
                format!(
                    "{} cannot sign {}, so {} not proposed: {}",
                    plural(self.ranking.unusable.len(), "private key", "private keys"),
                    self.purpose_for_org(),
                    if self.ranking.unusable.len() == 1 {
                        "it is"
                    } else {
                        "they are"
                    },
                    self.because_list()
                ),
                "An entry that can never sign is no choice, whatever its place in the file: a tool \
                 that takes the first key may take one of these.",
                "Nothing to do, unless one of these is the key you meant: then fix what is named.",
            );
            self.push(f);
        }
    }

    fn no_candidate(&mut self) {
        let t = self.target();
        let keys = private_keys(self.store).len();
        let fix = match t {
            Target::Maskinporten => {
                "Use the file that holds your organisation's authentication certificate (Buypass: \
                 \"autentisering og kryptering\"; Commfides: auth): key usage digitalSignature, an \
                 RSA key of 2048 bits or more."
            }
            _ => {
                "Use a file that holds a key the server accepts (RSA of 2048 bits or more is \
                 accepted everywhere), with a certificate whose key usage includes \
                 digitalSignature."
            }
        };
        self.push(Finding::new(
            Severity::Error,
            "no-signing-key",
            format!(
                "none of the {keys} private keys in the file can sign {}: {}",
                self.purpose_for_org(),
                self.because_list()
            ),
            format!(
                "{} refuses a JWT signed with any of them, so credkit proposes none.",
                t.server()
            ),
            fix,
        ));
    }

    fn no_private_key(&mut self) {
        let store = self.store;
        let entries = &store.entries;
        let n = |k: EntryKind| entries.iter().filter(|e| e.kind == k).count();
        let mut parts = Vec::new();
        for (k, one, many) in [
            (
                EntryKind::TrustedCertificate,
                "trusted certificate",
                "trusted certificates",
            ),
            (EntryKind::Certificate, "certificate", "certificates"),
            (EntryKind::PublicKey, "public key", "public keys"),
            (EntryKind::Secret, "secret key", "secret keys"),
        ] {
            let c = n(k);
            if c > 0 {
                parts.push(plural(c, one, many));
            }
        }
        let holds = if parts.is_empty() {
            "it is empty".to_string()
        } else {
            format!("it holds only {}", join_words(&parts))
        };
        let what = if n(EntryKind::TrustedCertificate) > 0 {
            "This looks like a truststore: the CA certificates a program trusts, not a credential."
        } else if n(EntryKind::PublicKey) > 0 {
            "This is the public half: what you register with the server, not what you sign with."
        } else {
            "Certificates are public; the private key that goes with them is kept elsewhere."
        };
        self.push(Finding::new(
            Severity::Error,
            "no-private-key",
            format!("the file holds no private key: {holds}"),
            format!(
                "Signing {} needs a private key. {what}",
                self.target().purpose()
            ),
            "Use the file that holds the private key: for a business certificate, the .p12 file \
             from Buypass or Commfides (with its password); for a key you made yourself, the \
             private key file.",
        ));
    }
}
