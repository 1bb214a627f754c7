//! The checks on the chosen entry (key, certificate, chain, organisation,
//! environment) and on the file as a whole (PKCS#12 protection, JKS passwords).

use super::cas;
use super::check::*;
use super::findings::{CheckCommand, Command, ConvertTo, Finding, Setting, Severity, Text};
use super::select;
use crate::cert::{Certificate, Validity, chain};
use crate::key::PublicKey;
use crate::keystore::{Entry, Format, Pkcs12Protection, Store};
use crate::target::{MaskinportenEnv, Target};
use crate::timefmt::rfc3339;

impl Checker<'_> {
    pub(super) fn checked(&self, e: &Entry) -> Checked {
        let leaf = e.chain.first();
        Checked {
            key: e.public().map(|k| k.describe().to_string()),
            subject: leaf.map(|c| c.subject.to_display()),
            issuer: leaf.map(|c| c.issuer.to_display()),
            not_after: leaf.map(|c| rfc3339(c.not_after)),
            org_number: leaf.and_then(|c| c.org_number()).map(|(n, _)| n),
        }
    }

    pub(super) fn check_entry(&mut self, i: usize) {
        let store = self.store;
        let e = &store.entries[i];
        let alias = e.alias.as_deref();
        self.check_key_pair(i);
        if let Some(k) = e.public() {
            self.check_key(k, alias);
        }
        let Some(leaf) = e.chain.first() else {
            return;
        };
        self.check_key_usage(i, leaf);
        self.check_eku(leaf, alias);
        for (n, c) in e.chain.iter().enumerate() {
            self.check_validity(c, n == 0, alias);
            self.check_encoding(c, n == 0, alias);
        }
        self.check_chain(i);
        self.check_org(leaf, alias);
        self.check_env(leaf, alias);
    }

    fn check_key_pair(&mut self, i: usize) {
        let store = self.store;
        let e = &store.entries[i];
        let alias = e.alias.as_deref();
        let leaf = e.chain.first();
        if e.key_locked {
            // The store opened (its integrity was checked) but this key has a
            // password of its own; or no password was given at all.
            let own_password = self.store.integrity_verified == Some(true);
            self.push(
                Finding::new(
                    Severity::Warning,
                    "key-locked",
                    "the private key was not decrypted, so credkit could not check that it \
                     belongs to the certificate",
                    if own_password {
                        "The store password was right, but this key has a password of its own \
                         (JKS allows that). Nothing can be signed without it either."
                    } else {
                        "No password was given. Nothing can be signed without it either."
                    },
                    if own_password {
                        Text::from("Give the key's password with ")
                            .setting(Setting::KeyPassword)
                            .words(".")
                    } else {
                        Text::from("Give the keystore password with ")
                            .setting(Setting::StorePassword)
                            .words(".")
                    },
                )
                .entry(alias),
            );
        }
        let Some(key) = &e.private_key else {
            return;
        };
        let Some(leaf) = leaf else {
            self.certificate_missing(alias);
            return;
        };
        let Ok(cert_key) = &leaf.public_key else {
            return;
        };
        if key.public == *cert_key {
            return;
        }
        // Does the key belong to another certificate in the file?
        let owner = self
            .store
            .entries
            .iter()
            .flat_map(|x| x.chain.iter())
            .find(|c| c.public_key.as_ref().ok() == Some(&key.public));
        let mut message = format!(
            "the private key does not belong to the certificate \"{}\": they are halves of \
             different key pairs",
            leaf.subject.to_display()
        );
        if let Some(o) = owner {
            message.push_str(&format!(
                " (the key belongs to \"{}\", also in this file)",
                o.subject.to_display()
            ));
        }
        let refusal = match self.target() {
            Target::Maskinporten => {
                "Maskinporten answers \"Invalid JWT signature\" (MP-124), or refuses the \
                 certificate."
            }
            Target::Okta => "Okta answers \"The client_assertion signature is invalid.\"",
            Target::Entra => {
                "Entra ID answers AADSTS700027 (\"Client assertion failed signature validation\")."
            }
            Target::Keycloak => "Keycloak answers \"Signature on JWT token failed validation\".",
            Target::Generic => "The server rejects the signature.",
        };
        self.push(
            Finding::new(
                Severity::Error,
                "key-certificate-mismatch",
                message,
                format!(
                    "The server checks the signature with the public key in the certificate \
                     (x5c) or with the key registered for the client; a signature made with \
                     another key fails. {refusal}"
                ),
                "Put the key and the certificate that belong together in one file: the key \
                 made together with this certificate's request, or the certificate issued for \
                 this key. `credkit inspect` shows the thumbprint of each key and certificate, \
                 so you can pair them.",
            )
            .entry(alias)
            .command(Command::Inspect {
                file: self.opts.file.clone(),
            }),
        );
    }

    fn certificate_missing(&mut self, alias: Option<&str>) {
        let t = self.target();
        let (severity, why, fix) = match t {
            Target::Maskinporten => (
                Severity::Warning,
                "Without a certificate there is no x5c: Maskinporten then accepts the grant only \
                 from a client that has this public key registered, named by kid.",
                "Register the public key on the client (as a JWK, in Samarbeidsportalen or \
                 through the API) and sign with its kid; or use your business certificate's \
                 .p12 file instead.",
            ),
            Target::Entra => (
                Severity::Warning,
                "Entra ID finds the credential by the thumbprint of a certificate uploaded to \
                 the app registration (x5t#S256), so a bare key is not enough.",
                "Make a certificate for this key (a self-signed one will do, for example with \
                 openssl req -x509 -key KEY -subj /CN=NAME -days 365 -out cert.pem) and upload \
                 it to the app registration.",
            ),
            _ => (
                Severity::Info,
                "The server takes the public key as a JWK (in the client's JWKS), so no \
                 certificate is needed.",
                "Register the public key with the server as a JWK.",
            ),
        };
        let mut f = Finding::new(
            severity,
            "certificate-missing",
            "the key has no certificate",
            why,
            fix,
        )
        .entry(alias);
        if t != Target::Entra {
            f = f.command(self.convert_command(ConvertTo::Jwk, "-public.jwk", false));
        }
        self.push(f);
    }

    fn check_key(&mut self, k: &PublicKey, alias: Option<&str>) {
        let d = k.describe();
        if let Some(bits) = select::rsa_too_small(k) {
            self.push(
                Finding::new(
                    Severity::Error,
                    "key-too-small",
                    format!("the RSA key is {bits} bits; 2048 is the minimum"),
                    format!(
                        "RSA keys under 2048 bits are considered breakable and are refused \
                         (Maskinporten, Entra ID and Okta ask for at least 2048); {} will not \
                         accept a signature made with it.",
                        self.target().server()
                    ),
                    "Make a new RSA key of 2048 or 3072 bits and get a certificate for it (for a \
                     business certificate: order a new one from Buypass or Commfides).",
                )
                .entry(alias)
                .command(
                    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out new-key.pem",
                ),
            );
        }
        if select::algorithm_accepted(k, self.target()) {
            return;
        }
        let accepted = self.target().accepted_algorithms();
        let t = self.target();
        let message = match accepted {
            Some(acc) => format!(
                "{} accepts no signature algorithm for {} {d} key: it takes {}",
                t.server(),
                article(&d.to_string()),
                join_words(&acc.iter().map(|s| (*s).to_string()).collect::<Vec<_>>())
            ),
            None => format!(
                "JWTs cannot be signed with {} {d} key: JOSE has no algorithm for it",
                article(&d.to_string())
            ),
        };
        let (why, fix) = match t {
            Target::Maskinporten => (
                "The grant's alg must be one Maskinporten supports, and all three are RSA: a \
                 grant signed with an EC or Ed25519 key is refused.",
                "Use an RSA key. Business certificates from Buypass and Commfides are RSA; for \
                 a key registered on the client (kid), make an RSA key of 2048 bits or more.",
            ),
            _ => (
                "The assertion's alg must be one the server supports; other algorithms are \
                 refused.",
                "Use a key type the server accepts (RSA is accepted everywhere).",
            ),
        };
        self.push(
            Finding::new(
                Severity::Error,
                "key-algorithm-not-accepted",
                message,
                why,
                fix,
            )
            .entry(alias)
            .command(
                "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out new-key.pem",
            ),
        );
    }

    /// `"x" (organisation 987654325, Commfides TEST)`.
    fn describe_auth_entry(&self, j: usize) -> String {
        let e = &self.store.entries[j];
        let mut parts = Vec::new();
        if let Some(c) = e.chain.first() {
            match c.org_number() {
                Some((n, _)) => parts.push(format!("organisation {n}")),
                None => parts.push("no organisation number".to_string()),
            }
            parts.push(match cas::lookup(&c.issuer) {
                Some(ca) => format!("{} {}", ca.vendor.name(), ca.env.label()),
                None => format!("issued by \"{}\"", c.issuer.to_display()),
            });
        }
        format!("{} ({})", label(e, j), parts.join(", "))
    }

    fn check_key_usage(&mut self, i: usize, leaf: &Certificate) {
        let store = self.store;
        let alias = store.entries[i].alias.as_deref();
        let Some(ku) = &leaf.key_usage else {
            return;
        };
        if leaf.has_key_usage("digitalSignature") {
            return;
        }
        let search = select::find_pair(store, i);
        // The pair; else the same organisation's authentication certificate from another CA.
        let other = search.pair.or(search.same_org_other_ca.first().copied());
        let other_alias = other.and_then(|j| store.entries[j].alias.clone());
        let ku_text = if ku.is_empty() {
            "none".to_string()
        } else {
            ku.join(", ")
        };
        let f = if leaf.has_key_usage("nonRepudiation") {
            let message = self.non_repudiation_message(i, leaf, &search, &other_alias, &ku_text);
            let mut fix = non_repudiation_fix(&search, &other_alias);
            if other.is_none() && !search.other_org.is_empty() {
                fix.push_words(
                    " Do not sign with another organisation's certificate: Maskinporten takes \
                     the organisation from the certificate (a client of another organisation \
                     gets MP-122).",
                );
            }
            Finding::new(
                Severity::Error,
                "key-usage-non-repudiation",
                message,
                non_repudiation_why(self.target()),
                fix,
            )
        } else {
            no_signature_finding(leaf, &other_alias, &ku_text)
        };
        let mut f = f.entry(alias);
        if let Some(o) = &other_alias {
            f = f.command(self.check_command(Some(o)));
        }
        self.push(f);
    }

    /// What `key-usage-non-repudiation` says: the pair's authentication
    /// certificate when it is in the file, else what the file holds instead.
    fn non_repudiation_message(
        &self,
        i: usize,
        leaf: &Certificate,
        search: &select::PairSearch,
        other_alias: &Option<String>,
        ku_text: &str,
    ) -> String {
        let e = &self.store.entries[i];
        if let (Some(_), Some(o)) = (search.pair, other_alias) {
            return format!(
                "{} holds the non-repudiation certificate of a business certificate pair \
                 (key usage: {ku_text}); the authentication certificate is \"{o}\", in this \
                 same file",
                label(e, i)
            );
        }
        let org = leaf.org_number().map(|(n, _)| n);
        let mut m = format!(
            "this is the non-repudiation certificate of a business certificate \
             pair{} (key usage: {ku_text}), not the authentication certificate",
            org.as_ref()
                .map(|o| format!(" of organisation {o}"))
                .unwrap_or_default()
        );
        let others: Vec<usize> = search
            .same_org_other_ca
            .iter()
            .chain(&search.other_org)
            .copied()
            .collect();
        if others.is_empty() {
            return m;
        }
        let of = org
            .as_ref()
            .map(|o| format!("of organisation {o}"))
            .unwrap_or_else(|| "without an organisation number".into());
        m.push_str(&format!(
            "; this file holds no authentication certificate {of}{}",
            if search.same_org_other_ca.is_empty() {
                ""
            } else {
                " from the same CA"
            }
        ));
        if let [first, ..] = search.same_org_other_ca.as_slice() {
            m.push_str(&format!(
                "; {} is the same organisation's, from another CA",
                self.describe_auth_entry(*first)
            ));
        }
        if !search.other_org.is_empty() {
            let list: Vec<String> = search
                .other_org
                .iter()
                .map(|&j| self.describe_auth_entry(j))
                .collect();
            m.push_str(&format!(
                "; {} {} another organisation's, not this pair's",
                join_words(&list),
                if list.len() == 1 { "is" } else { "are" }
            ));
        }
        m
    }

    fn check_eku(&mut self, leaf: &Certificate, alias: Option<&str>) {
        let Some(eku) = &leaf.extended_key_usage else {
            return;
        };
        const ALLOWED: [&str; 5] = [
            "clientAuth",
            "anyExtendedKeyUsage",
            "emailProtection",
            "documentSigning",
            "1.2.840.113583.1.1.5", // Adobe PDF signing
        ];
        if eku.iter().any(|u| ALLOWED.contains(&u.as_str())) {
            return;
        }
        self.push(
            Finding::new(
                Severity::Warning,
                "eku-not-client-auth",
                format!(
                    "the certificate's extended key usage ({}) allows neither client \
                     authentication nor signing",
                    eku.join(", ")
                ),
                "An extended key usage limits what a certificate may be used for; a server that \
                 checks it refuses a client assertion signed with, for example, a TLS server \
                 certificate.",
                "Use a certificate made for client authentication (extended key usage clientAuth, \
                 or none at all); business certificates from Buypass and Commfides are.",
            )
            .entry(alias),
        );
    }

    fn check_validity(&mut self, c: &Certificate, is_leaf: bool, alias: Option<&str>) {
        let who = if is_leaf {
            "the certificate".to_string()
        } else {
            format!(
                "the CA certificate \"{}\" in the chain",
                c.subject.to_display()
            )
        };
        let f = match c.validity_at(self.now) {
            Validity::Expired { days: d } => self.expired(c, is_leaf, &who, d),
            Validity::NotYetValid { days: d } => self.not_yet_valid(c, &who, d),
            Validity::Valid { days_left }
                if days_left < i64::from(self.opts.expiry_warning_days) =>
            {
                self.expiring(c, is_leaf, &who, days_left)
            }
            Validity::Valid { .. } => return,
        };
        self.push(f.entry(alias));
    }

    /// `certificate-expired`: `who` expired `d` days ago.
    fn expired(&self, c: &Certificate, is_leaf: bool, who: &str, d: i64) -> Finding {
        let t = self.target();
        let why = match t {
            Target::Maskinporten => {
                "Maskinporten refuses grants signed with an expired certificate (\"The \
                 JWT is signed with an invalid certificate.\", MP-120)."
            }
            Target::Entra => "Entra ID refuses it (AADSTS700027, \"The key used is expired\").",
            _ => "Servers refuse an expired certificate, and its key with it.",
        };
        let fix = if is_leaf {
            match t {
                Target::Maskinporten | Target::Generic => {
                    "Get a new certificate (business certificates from Buypass and \
                     Commfides last three years; order the renewal from the same \
                     vendor) and use it wherever the old one was registered."
                }
                _ => {
                    "Make or order a new certificate and register it with the server in \
                     place of the old one."
                }
            }
        } else {
            "Get the current CA certificates from the CA and rebuild the chain."
        };
        Finding::new(
            Severity::Error,
            "certificate-expired",
            format!("{who} expired on {} ({} ago)", date(c.not_after), days(d)),
            why,
            fix,
        )
    }

    /// `certificate-not-yet-valid`: `who` starts in `d` days.
    fn not_yet_valid(&self, c: &Certificate, who: &str, d: i64) -> Finding {
        Finding::new(
            Severity::Error,
            "certificate-not-yet-valid",
            format!(
                "{who} is valid only from {} (in {})",
                date(c.not_before),
                days(d)
            ),
            format!(
                "{} refuses a certificate before its start date. Either it was \
                 installed early, or this computer's clock is wrong.",
                self.target().server()
            ),
            Text::from(format!(
                "Use it from {} on (keep the old certificate until then), or check \
                 the clock. credkit ",
                date(c.not_before)
            ))
            .setting(Setting::Now)
            .words(" shows how the file looks at another moment."),
        )
    }

    /// `certificate-expiring`: `who` expires within the warning period.
    fn expiring(&self, c: &Certificate, is_leaf: bool, who: &str, days_left: i64) -> Finding {
        Finding::new(
            Severity::Warning,
            "certificate-expiring",
            format!(
                "{who} expires on {}, in {}",
                date(c.not_after),
                days(days_left)
            ),
            format!(
                "After that {} refuses every signature made with it, and a \
                 renewal takes time: ordering, identity checks, registering the \
                 new certificate.",
                self.target().server()
            ),
            if is_leaf {
                "Order the renewal now, and plan the switch before the expiry \
                 date."
            } else {
                "Get the CA's new certificate and rebuild the chain."
            },
        )
    }

    fn check_chain(&mut self, i: usize) {
        let store = self.store;
        let e = &store.entries[i];
        let alias = e.alias.as_deref();
        let report = chain::analyse(&e.chain);
        let t = self.target();
        if e.chain_reordered {
            let f = self.chain_reordered(e);
            self.push(f.entry(alias));
        } else if let Some((child, next)) = chain_gap(&e.chain) {
            // Not an ordering problem: an issuer is simply not in the file.
            self.push(gap_in_chain(t, child, next).entry(alias));
            return;
        } else if !report.in_order {
            self.push(
                Finding::new(
                    Severity::Warning,
                    "chain-order",
                    format!(
                        "the certificates are not stored in chain order: {}",
                        report.problems.join("; ")
                    ),
                    x5c_why(t),
                    "Import the certificate chain again in order: leaf first, then each issuer \
                     (keytool -importcert orders a certificate reply for you).",
                )
                .entry(alias),
            );
        }
        if report.reaches_root || !report.in_order {
            return;
        }
        let Some(last) = e.chain.last() else {
            return;
        };
        if let Some(f) = chain_top(t, store, e, last) {
            self.push(f.entry(alias));
        }
    }

    /// `chain-order` for a chain credkit put in order while reading: the
    /// order it should have, and the command that writes it so.
    fn chain_reordered(&self, e: &Entry) -> Finding {
        let order: Vec<String> = e.chain.iter().map(subject_cn).collect();
        Finding::new(
            Severity::Warning,
            "chain-order",
            format!(
                "the certificates are not stored in chain order; the order should be {}",
                order
                    .iter()
                    .map(|s| format!("\"{s}\""))
                    .collect::<Vec<_>>()
                    .join(", then ")
            ),
            x5c_why(self.target()),
            "Write the chain in order. credkit reads the certificates in any order and \
             writes them leaf first.",
        )
        .command(self.convert_command(ConvertTo::Pem, "-ordered.pem", false))
    }

    fn check_org(&mut self, leaf: &Certificate, alias: Option<&str>) {
        let t = self.target();
        let client = self.opts.client_org.clone();
        if client.is_none() && t != Target::Maskinporten {
            return;
        }
        let found = leaf.org_number().map(|(n, _)| n);
        match (found, client) {
            (None, client) => {
                let (severity, why) = match &client {
                    Some(c) => (
                        Severity::Error,
                        Text::default()
                            .setting(Setting::ClientOrg(Some(c.clone())))
                            .words(
                                " says the client belongs to an organisation, and Maskinporten \
                                 takes the organisation from the business certificate in x5c (it \
                                 must be the client owner's: MP-122).",
                            ),
                    ),
                    None => (
                        Severity::Warning,
                        Text::from(
                            "Maskinporten takes the organisation from the business certificate \
                             in x5c; without one this key can only sign for a client that has \
                             its public key registered (kid).",
                        ),
                    ),
                };
                self.push(
                    Finding::new(
                        severity,
                        "org-number-missing",
                        "the certificate holds no Norwegian organisation number (no \
                         organizationIdentifier NTRNO-..., no 9-digit serialNumber): it is not a \
                         business certificate (virksomhetssertifikat)",
                        why,
                        "Use your organisation's business certificate from Buypass or Commfides; \
                         or register this key's public half on the client and sign with kid.",
                    )
                    .entry(alias),
                );
            }
            (Some(found), Some(client)) if found != client => {
                self.push(
                    Finding::new(
                        Severity::Error,
                        "org-number-mismatch",
                        Text::from(format!(
                            "the certificate belongs to organisation {found}, not {client} ("
                        ))
                        .setting(Setting::ClientOrg(None))
                        .words(")"),
                        "Maskinporten refuses a grant whose certificate belongs to another \
                         organisation than the one that owns the client: \"Invalid organization \
                         number for client. Does not match certificate orgno\" (MP-122).",
                        format!(
                            "Use the business certificate of organisation {client}, or a client \
                             created under organisation {found}."
                        ),
                    )
                    .entry(alias),
                );
            }
            _ => {}
        }
    }

    fn check_env(&mut self, leaf: &Certificate, alias: Option<&str>) {
        let issuer = leaf.issuer.to_display();
        let known = cas::lookup(&leaf.issuer);
        match (self.opts.env, known) {
            (Some(env), Some(ca)) if ca.env != env => {
                let id = match ca.env {
                    MaskinportenEnv::Test => "env-test-cert-in-prod",
                    MaskinportenEnv::Prod => "env-prod-cert-in-test",
                };
                self.push(
                    Finding::new(
                        Severity::Error,
                        id,
                        Text::from(format!(
                            "the certificate was issued by \"{}\", a {} {} CA, but you are \
                             checking for ",
                            ca.common_name,
                            ca.vendor.name(),
                            ca.env.label(),
                        ))
                        .setting(Setting::Env(Some(env))),
                        format!(
                            "Maskinporten accepts test certificates only in test and production \
                             certificates only in production; {} refuses this one (\"The JWT is \
                             signed with an invalid certificate.\", MP-120).",
                            env.host()
                        ),
                        Text::from(format!(
                            "Use your {} certificate for {}, and this one against {} (",
                            env.label(),
                            env.host(),
                            ca.env.host(),
                        ))
                        .setting(Setting::Env(Some(ca.env)))
                        .words(")."),
                    )
                    .entry(alias),
                );
            }
            (Some(_), Some(_)) => {}
            (Some(env), None) => {
                self.push(
                    Finding::new(
                        Severity::Warning,
                        "env-unknown-issuer",
                        format!(
                            "credkit does not know the issuer \"{issuer}\" as a Buypass or \
                             Commfides CA, so it cannot tell whether this certificate is for test \
                             or production"
                        ),
                        "Maskinporten accepts test certificates only in test and production \
                         certificates only in production. credkit knows the issuing CAs of \
                         Buypass and Commfides; other issuers (EU e-seal providers, a CA newer \
                         than this credkit, your own test CA) cannot be placed.",
                        format!(
                            "Check with the vendor that this certificate is for {} ({}). If the \
                             issuer is a Buypass or Commfides CA, please report its name.",
                            env.label(),
                            env.host()
                        ),
                    )
                    .entry(alias),
                );
            }
            (None, Some(ca)) if self.target() == Target::Maskinporten => {
                self.push(
                    Finding::new(
                        Severity::Info,
                        "env-detected",
                        format!(
                            "issued by \"{}\", a {} {} CA: use it only against {}",
                            ca.common_name,
                            ca.vendor.name(),
                            ca.env.label(),
                            ca.env.host()
                        ),
                        "Maskinporten accepts test certificates only in test and production \
                         certificates only in production.",
                        Text::from("Add ")
                            .setting(Setting::Env(Some(ca.env)))
                            .words(
                                " (or the environment you deploy to) to have credkit confirm it.",
                            ),
                    )
                    .entry(alias)
                    .command(CheckCommand {
                        and_env: Some(ca.env),
                        ..self.check_command(self.opts.alias.as_deref())
                    }),
                );
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------------
    // The file as a whole
    // ---------------------------------------------------------------------

    pub(super) fn check_store(&mut self) {
        if let Some(p) = &self.store.pkcs12 {
            if let Some(f) = self.pkcs12_protection(p) {
                self.push(f);
            }
        }
        if matches!(self.store.format, Format::Jks | Format::Jceks)
            && self.opts.key_password_differs
        {
            let f = self.jks_key_password_differs();
            self.push(f);
        }
    }

    /// How a PKCS#12 file is protected, when that keeps some programs from
    /// reading it: `pkcs12-rc2-needs-legacy` or `pkcs12-aes-not-legacy-readable`.
    fn pkcs12_protection(&self, p: &Pkcs12Protection) -> Option<Finding> {
        let ciphers: Vec<&str> = p
            .certificates
            .iter()
            .chain(p.keys.iter())
            .map(|x| x.cipher.as_str())
            .collect();
        let mut distinct: Vec<String> = Vec::new();
        for c in &ciphers {
            if !distinct.iter().any(|d| d == c) {
                distinct.push((*c).to_string());
            }
        }
        let mac = p.mac.as_ref().map(|m| m.algorithm.to_ascii_lowercase());
        let mac_text = match &mac {
            Some(m) => format!("a {} MAC", m.to_uppercase().replace("SHA", "SHA-")),
            None => "no MAC".into(),
        };
        distinct.push(mac_text);
        let protection = join_words(&distinct);
        if ciphers.iter().any(|c| c.contains("RC2")) {
            return Some(
                Finding::new(
                    Severity::Info,
                    "pkcs12-rc2-needs-legacy",
                    format!(
                        "this PKCS#12 file is protected with {protection}, the old OpenSSL 1.x \
                         and Windows default"
                    ),
                    "OpenSSL 3 opens it only with -legacy (otherwise: \"unsupported ... \
                     Algorithm (RC2-40-CBC : 0)\"), and programs built on OpenSSL 3 without \
                     the legacy provider cannot read it at all. credkit and Java read it.",
                    "If a program built on OpenSSL 3 must read it, write a copy with AES.",
                )
                .command(self.convert_command(
                    ConvertTo::Pkcs12,
                    "-aes.p12",
                    false,
                )),
            );
        }
        let modern = ciphers.iter().any(|c| c.starts_with("AES"))
            || mac.as_deref().is_some_and(|m| m != "sha1");
        modern.then(|| {
            Finding::new(
                Severity::Info,
                "pkcs12-aes-not-legacy-readable",
                format!(
                    "this PKCS#12 file is protected with {protection} (the OpenSSL 3 and \
                     Java 17 default)"
                ),
                "Old software cannot open it: Java 8 before 8u301 and Java 11 before \
                 11.0.12 fail (\"Algorithm HmacPBESHA256 not available\"), and so does \
                 Windows Server 2016 and older. Current OpenSSL, Java and .NET read it.",
                "Only if such a program must read it: write a legacy copy (3DES, SHA-1 \
                 MAC).",
            )
            .command(self.convert_command(ConvertTo::Pkcs12, "-legacy.p12", true))
        })
    }

    /// `jks-key-password-differs`, named by the first private key's alias.
    fn jks_key_password_differs(&self) -> Finding {
        let store = self.store;
        let keys = super::select::private_keys(store);
        let alias = keys.first().and_then(|&i| store.entries[i].alias.clone());
        let who = match &alias {
            Some(a) => format!("of \"{a}\" "),
            None => String::new(),
        };
        let f = Finding::new(
            Severity::Info,
            "jks-key-password-differs",
            format!(
                "the key password {who}differs from the store password (a {} file allows \
                 that)",
                self.store.format.label()
            ),
            "Many tools take one password and use it for both; they fail with \"Cannot \
             recover key\" (Java's UnrecoverableKeyException). PKCS#12 files have a single \
             password.",
            "Set the key password to the store password with keytool (it asks for both), or \
             convert the file to PKCS#12.",
        )
        .entry(alias.as_deref());
        match &alias {
            Some(a) => f.command(format!(
                "keytool -keypasswd -keystore {} -alias {}",
                shell_quote(&self.opts.file),
                always_quote(a)
            )),
            None => f,
        }
    }
}

/// The first link whose issuer is nowhere in the chain: (child, the next
/// certificate stored after it).
fn chain_gap(chain: &[Certificate]) -> Option<(&Certificate, &Certificate)> {
    chain.windows(2).find_map(|w| {
        let (child, next) = (&w[0], &w[1]);
        let issuer_present = chain.iter().any(|c| c.subject.raw == child.issuer.raw);
        (child.issuer.raw != next.subject.raw && !issuer_present && !child.is_self_issued())
            .then_some((child, next))
    })
}

/// Why signing with a non-repudiation certificate fails, for `t`.
fn non_repudiation_why(t: Target) -> &'static str {
    match t {
        Target::Maskinporten => {
            "Business certificates come in sets: Buypass sends two .p12 files \
             (\"autentisering og kryptering\" and \"signering\"), Commfides three \
             (auth, enc and sign). The non-repudiation one is for legally binding \
             signatures on documents; Digdir tells Maskinporten clients to sign grants \
             with the certificate whose key usage is digitalSignature."
        }
        _ => {
            "A certificate whose key usage is nonRepudiation without digitalSignature \
             may not be used to authenticate (RFC 5280), and a client assertion is \
             authentication: servers that check key usage refuse it."
        }
    }
}

/// The way out of `key-usage-non-repudiation`: the other certificate of the
/// pair, else the same organisation's, else the other file of the set.
fn non_repudiation_fix(search: &select::PairSearch, other_alias: &Option<String>) -> Text {
    match (search.pair, other_alias) {
        (Some(_), Some(o)) => Text::from("Use the authentication certificate: ")
            .setting(Setting::Alias(Some(o.clone())))
            .words("."),
        (None, Some(o)) => Text::from(format!(
            "The authentication certificate of this pair is not in the file, but \"{o}\" \
             is an authentication certificate of the same organisation: "
        ))
        .setting(Setting::Alias(Some(o.clone())))
        .words("."),
        _ => "Use the other file of the set, for the same organisation: from Buypass \
              the .p12 for authentication and encryption (\"autentisering og \
              kryptering\"), from Commfides the one named auth. Its key usage \
              includes digitalSignature."
            .into(),
    }
}

/// `key-usage-no-signature`: the key usage has neither digitalSignature nor
/// nonRepudiation (typically an encryption certificate).
fn no_signature_finding(
    leaf: &Certificate,
    other_alias: &Option<String>,
    ku_text: &str,
) -> Finding {
    let fix = match other_alias {
        Some(o) => Text::from("Use the certificate that may sign: ")
            .setting(Setting::Alias(Some(o.clone())))
            .words("."),
        None => "Use the authentication certificate of the set (Buypass: \"autentisering \
                 og kryptering\"; Commfides: auth), whose key usage includes \
                 digitalSignature."
            .into(),
    };
    Finding::new(
        Severity::Error,
        "key-usage-no-signature",
        format!(
            "the certificate's key usage ({ku_text}) does not allow signatures{}",
            if ["keyEncipherment", "dataEncipherment", "keyAgreement"]
                .iter()
                .any(|u| leaf.has_key_usage(u))
            {
                ": it is an encryption certificate"
            } else {
                ""
            }
        ),
        "Signing a JWT needs a certificate whose key usage includes digitalSignature; \
         Commfides ships the encryption certificate as a separate file (enc).",
        fix,
    )
}

/// Why the certificates must be stored in chain order, for `t`.
fn x5c_why(t: Target) -> &'static str {
    match t {
        Target::Maskinporten => {
            "Maskinporten reads the certificate from x5c, which must list it first and then \
             each issuer in turn (RFC 7515, section 4.1.6); tools that copy the file's order \
             into x5c send a chain the server cannot follow."
        }
        _ => {
            "Tools that send the chain (x5c) or check it copy the file's order; the \
             certificate must come first and then each issuer in turn (RFC 7515, section \
             4.1.6)."
        }
    }
}

/// Why a CA certificate missing from the chain matters, for `t`.
fn gap_why(t: Target) -> &'static str {
    match t {
        Target::Maskinporten => {
            "Maskinporten's documentation asks for the whole chain in x5c; with a CA \
             certificate missing in the middle nobody can connect the certificate to the \
             root."
        }
        _ => {
            "Whoever builds or checks the chain from this file cannot connect the \
             certificate to the root."
        }
    }
}

/// `chain-missing-intermediate` inside the chain: `child`'s issuer is
/// missing, although `next` (stored after it) is there.
fn gap_in_chain(t: Target, child: &Certificate, next: &Certificate) -> Finding {
    let missing = child.issuer.to_display();
    Finding::new(
        Severity::Warning,
        "chain-missing-intermediate",
        format!(
            "the chain has a gap: \"{}\" was issued by \"{missing}\", which is not in \
             the file, although \"{}\" is",
            child.subject.to_display(),
            next.subject.to_display()
        ),
        gap_why(t),
        format!(
            "Add the missing CA certificate \"{missing}\" between \"{}\" and \"{}\" \
             (the CA publishes it; Buypass and Commfides have their CA certificates \
             on their web sites).",
            child.subject.to_display(),
            next.subject.to_display()
        ),
    )
}

/// CA certificates elsewhere in the file that do not continue `e`'s chain
/// (whose top is `last`), each once.
fn unchained_cas<'s>(store: &'s Store, e: &Entry, last: &Certificate) -> Vec<&'s Certificate> {
    let in_chain = |c: &Certificate| e.chain.iter().any(|x| x.der == c.der);
    let mut others: Vec<&Certificate> = Vec::new();
    for c in store.entries.iter().flat_map(|x| x.chain.iter()) {
        if !in_chain(c)
            && (c.is_ca == Some(true) || c.is_self_issued())
            && c.subject.raw != last.issuer.raw
            && !others.iter().any(|o| o.der == c.der)
        {
            others.push(c);
        }
    }
    others
}

/// The top of an ordered chain that does not reach a root: a gap when the
/// file holds other CA certificates (`chain-missing-intermediate`), else, for
/// a lone certificate, `chain-incomplete`.
fn chain_top(t: Target, store: &Store, e: &Entry, last: &Certificate) -> Option<Finding> {
    let missing = last.issuer.to_display();
    if let Some(first) = unchained_cas(store, e, last).first() {
        return Some(Finding::new(
            Severity::Warning,
            "chain-missing-intermediate",
            format!(
                "the chain has a gap: {} was issued by \"{missing}\", which is not in \
                 the file, although \"{}\" is",
                if e.chain.len() == 1 {
                    "the certificate".to_string()
                } else {
                    format!("\"{}\"", last.subject.to_display())
                },
                first.subject.to_display()
            ),
            gap_why(t),
            format!(
                "Add the missing CA certificate \"{missing}\" between the certificate \
                 and \"{}\" (the CA publishes it; Buypass and Commfides have their CA \
                 certificates on their web sites).",
                first.subject.to_display()
            ),
        ));
    }
    if e.chain.len() != 1 {
        return None;
    }
    let why = match t {
        Target::Maskinporten => {
            "Maskinporten's documentation asks for the full chain in x5c, but the \
             reference clients (Digdir's jwt-grant-generator among them) send only the \
             certificate itself, and that works."
        }
        Target::Generic => {
            "Only a server that wants the full chain in x5c would miss the CA \
             certificates."
        }
        _ => {
            "The server knows the client by its registered certificate or JWKS and does \
             not need the chain."
        }
    };
    Some(Finding::new(
        Severity::Info,
        "chain-incomplete",
        format!(
            "the file holds the certificate but not the certificate of the CA that \
             issued it (\"{missing}\")"
        ),
        why,
        "Nothing to do for most uses. To send the full chain, add the CA \
         certificates to the file.",
    ))
}
