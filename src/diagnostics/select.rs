//! Which entry `check` looks at: the one named by `--alias` (with
//! suggestions when it names nothing), or the only one that can sign.

use super::check::*;
use super::findings::{Finding, Severity};
use crate::keystore::{EntryKind, Format};

impl Checker<'_> {
    pub(super) fn select(&mut self) -> Option<usize> {
        match self.opts.alias.clone() {
            Some(a) => self.select_alias(&a),
            None => self.select_auto(),
        }
    }

    fn select_alias(&mut self, wanted: &str) -> Option<usize> {
        let store = self.store;
        let entries = &store.entries;
        let Some(i) = entries
            .iter()
            .position(|e| e.alias.as_deref() == Some(wanted))
        else {
            self.alias_not_found(wanted);
            return None;
        };
        let e = &entries[i];
        if e.kind == EntryKind::PrivateKey {
            return Some(i);
        }
        let keys = self.private_keys();
        let signer = keys.iter().copied().find(|&k| can_sign(&store.entries[k]));
        let (fix, command) = match (keys.is_empty(), signer) {
            (true, _) => (
                "This file holds no private key at all. Use the file that holds it: for a \
                 business certificate, the .p12 file from Buypass or Commfides."
                    .to_string(),
                None,
            ),
            (false, Some(s)) => (
                format!(
                    "Use the alias of a private-key entry: {}. {} is the one whose certificate \
                     may sign.",
                    self.listing(&keys),
                    label(&store.entries[s], s)
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
        None
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
                "Leave out --alias: credkit picks the private key itself.",
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
        let mut fix = String::new();
        if let Some(best) = suggestions.first() {
            if *best == wanted.to_lowercase()
                && matches!(self.store.format, Format::Jks | Format::Jceks)
            {
                fix.push_str(&format!(
                    "keytool stores JKS aliases in lower case, so \"{wanted}\" was saved as \
                     \"{best}\". "
                ));
            } else if best.trim() == wanted.trim() {
                fix.push_str("The aliases differ only in spaces at the start or end. ");
            } else if best.to_lowercase() == wanted.to_lowercase() {
                fix.push_str("The aliases differ only in upper and lower case. ");
            }
            fix.push_str(&format!("Use --alias \"{best}\". "));
        }
        fix.push_str(&format!("The file holds: {}.", self.listing(&all)));
        let command_alias = suggestions.first().copied().or_else(|| {
            let keys = self.private_keys();
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

    fn select_auto(&mut self) -> Option<usize> {
        let store = self.store;
        let keys = self.private_keys();
        let entries = &store.entries;
        match keys.as_slice() {
            [] => {
                self.no_private_key();
                None
            }
            [only] => {
                let i = *only;
                // Named entries only: a PEM file's loose CA certificates are not a choice.
                if entries.len() > 1 && entries[i].alias.is_some() {
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
                        match &e.alias {
                            Some(a) => format!(
                                "Give the alias \"{a}\" to the tool that signs (keystore.alias \
                                 in jwt-grant-generator)."
                            ),
                            None => "Nothing to do.".into(),
                        },
                    )
                    .entry(e.alias.as_deref());
                    self.push(f);
                }
                Some(i)
            }
            several => {
                let signers: Vec<usize> = several
                    .iter()
                    .copied()
                    .filter(|&i| can_sign(&entries[i]))
                    .collect();
                if let [one] = signers.as_slice() {
                    let i = *one;
                    let e = &entries[i];
                    let others: Vec<String> = several
                        .iter()
                        .filter(|&&j| j != i)
                        .map(|&j| {
                            let o = &entries[j];
                            let why = match o.chain.first() {
                                Some(c) if non_repudiation_only(c) => "non-repudiation only",
                                Some(_) => "its key usage does not include digitalSignature",
                                None => "no certificate",
                            };
                            format!("{} ({why})", label(o, j))
                        })
                        .collect();
                    let mut f = Finding::new(
                        Severity::Info,
                        "entry-selected",
                        format!(
                            "checked {}: of the {} private keys in the file it is the only one \
                             whose certificate may sign; not {}",
                            label(e, i),
                            several.len(),
                            join_words(&others)
                        ),
                        "A tool that takes the first key, or a wrong alias, signs with a key \
                         the server will not accept.",
                        match &e.alias {
                            Some(a) => format!(
                                "Give the alias \"{a}\" to the tool that signs (keystore.alias \
                                 in jwt-grant-generator)."
                            ),
                            None => "Split the file so that it holds only this key.".into(),
                        },
                    )
                    .entry(e.alias.as_deref());
                    if let Some(a) = &e.alias {
                        f = f.command(self.check_command(Some(a)));
                    }
                    self.push(f);
                    return Some(i);
                }
                let described: Vec<String> = several
                    .iter()
                    .map(|&i| self.describe_key_entry(i))
                    .collect();
                let pick = signers.first().or(several.first()).copied();
                let mut f = Finding::new(
                    Severity::Error,
                    "alias-ambiguous",
                    format!(
                        "the file holds {} private keys that could sign, and no --alias says \
                         which: {}",
                        several.len(),
                        described.join(", ")
                    ),
                    "credkit does not guess between keys: signing with the wrong one gives \
                     'invalid signature' or 'unknown key' errors at the token endpoint.",
                    "Choose the entry with --alias (the one whose certificate or key is \
                     registered for your client).",
                );
                if let Some(a) = pick.and_then(|i| entries[i].alias.as_deref()) {
                    f = f.command(self.check_command(Some(a)));
                }
                self.push(f);
                None
            }
        }
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
