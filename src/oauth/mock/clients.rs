//! clients.toml: the registered clients, their keys, delegations and
//! access lists (format in the parent module's documentation). Reading the
//! registered key files is the look-alike's only file I/O.

use super::MockError;
use super::case::{Case, case_ids};
use crate::key::PublicKey;
use crate::secret::SecretCell;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// How a client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `x5c` with a business certificate.
    Certificate,
    /// `kid` naming a registered key.
    Key,
}

/// A key registered on a client.
#[derive(Debug, Clone)]
pub struct RegisteredKey {
    /// The key id grants name in their `kid` header.
    pub kid: String,
    /// The file it was read from (resolved against clients.toml's directory).
    pub file: PathBuf,
    /// The public key grants with this kid are checked against.
    pub public: PublicKey,
    /// Unix seconds; grants with this kid get MP-121 from then on.
    pub expires: Option<i64>,
}

/// One `[[client]]`.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client id: a grant's `iss`.
    pub client_id: String,
    /// The client owner's organisation number (9 digits): a certificate
    /// client's leaf must carry it (MP-122).
    pub org: String,
    /// The scopes the client may ask for (else MP-200).
    pub scopes: Vec<String>,
    /// Whether grants carry a certificate (`x5c`) or name a key (`kid`).
    pub auth: ClientAuth,
    /// The registered keys (empty for a certificate client).
    pub keys: Vec<RegisteredKey>,
    /// Consumer org → scopes it delegated to this client.
    pub consumers: BTreeMap<String, Vec<String>>,
    /// The lifetime of this client's tokens in seconds; `None`: the
    /// server's ([`MockOptions::token_lifetime`](super::MockOptions::token_lifetime)).
    pub token_lifetime: Option<i64>,
    /// A case id (see [`Case`]).
    pub force_error: Option<String>,
}

/// A parsed clients.toml.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    /// The file, for messages.
    pub path: PathBuf,
    /// Scopes only for user login (ID-porten): asking for one in a grant
    /// gets MP-201.
    pub user_login_scopes: Vec<String>,
    /// Scope → organisations with access.
    pub access: BTreeMap<String, Vec<String>>,
    /// The registered clients, in file order.
    pub clients: Vec<Client>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientsFile {
    #[serde(default)]
    user_login_scopes: Vec<String>,
    #[serde(default)]
    access: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    client: Vec<ClientToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientToml {
    client_id: String,
    org: String,
    #[serde(default)]
    scopes: Vec<String>,
    auth: Option<String>,
    #[serde(default)]
    keys: Vec<KeyToml>,
    #[serde(default)]
    consumers: BTreeMap<String, Vec<String>>,
    token_lifetime: Option<i64>,
    force_error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyToml {
    kid: String,
    file: PathBuf,
    /// A string or a TOML date-time.
    expires: Option<toml::Value>,
}

pub(super) use crate::orgnr::is_nine_digits as nine_digits;

fn valid_scope(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `client 2 (client_id "x")`
fn client_label(index: usize, id: Option<&str>) -> String {
    match id {
        Some(id) => format!("client {} (client_id {id:?})", index + 1),
        None => format!("client {}", index + 1),
    }
}

/// Which `[[client]]` a byte offset falls in, and its client_id if the text
/// can be read that far.
fn client_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let count = before
        .lines()
        .filter(|l| {
            let code = l.split('#').next().unwrap_or("");
            code.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                == "[[client]]"
        })
        .count();
    if count == 0 {
        return None;
    }
    let index = count - 1;
    let id = text.parse::<toml::Table>().ok().and_then(|t| {
        t.get("client")?
            .as_array()?
            .get(index)?
            .get("client_id")?
            .as_str()
            .map(str::to_owned)
    });
    Some(client_label(index, id.as_deref()))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|b| b.matches('\n').count() + 1)
        .unwrap_or(1)
}

fn parse_time(value: &toml::Value) -> Option<i64> {
    let s = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        _ => return None,
    };
    time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Read a key file and pick the public key for `kid`.
fn load_public_key(file: &Path, kid: &str) -> Result<PublicKey, String> {
    let meta = std::fs::metadata(file).map_err(|e| e.to_string())?;
    if meta.len() > crate::keystore::MAX_INPUT {
        return Err(format!(
            "it is {} bytes, too large for a key file",
            meta.len()
        ));
    }
    let data = std::fs::read(file).map_err(|e| e.to_string())?;
    let store = crate::keystore::load(
        &data,
        &mut SecretCell::with_value(None),
        &mut SecretCell::with_value(None),
    )
    .map_err(|e| e.to_string())?;
    let key_of = |e: &crate::keystore::Entry| -> Option<PublicKey> {
        e.public_key
            .clone()
            .or_else(|| e.private_key.as_ref().map(|k| k.public.clone()))
            .or_else(|| e.chain.first().and_then(|c| c.public_key.clone().ok()))
    };
    if let Some(k) = store
        .entries
        .iter()
        .filter(|e| e.alias.as_deref() == Some(kid))
        .find_map(key_of)
    {
        return Ok(k);
    }
    let mut keys: Vec<PublicKey> = Vec::new();
    for k in store.entries.iter().filter_map(key_of) {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    match keys.len() {
        0 => Err("it holds no public key".into()),
        1 => Ok(keys.remove(0)),
        n => Err(format!(
            "it holds {n} keys and none has kid (alias) {kid:?}: give a file with one key"
        )),
    }
}

/// Parse clients.toml. Key files are read relative to `path`'s directory.
pub fn parse_clients(text: &str, path: &Path) -> Result<Clients, MockError> {
    let check = Check {
        path: path.display().to_string(),
        base: path.parent().unwrap_or(Path::new(".")),
    };
    let file = check.toml(text)?;
    check.scope_lists(&file)?;
    let mut clients = Vec::with_capacity(file.client.len());
    let mut seen: HashSet<String> = HashSet::new();
    for (i, c) in file.client.into_iter().enumerate() {
        clients.push(check.client(i, c, &mut seen)?);
    }
    Ok(Clients {
        path: path.to_path_buf(),
        user_login_scopes: file.user_login_scopes,
        access: file.access,
        clients,
    })
}

const ORG_HINT: &str = "an organisation number has 9 digits, e.g. 123456785";
const SCOPE_HINT: &str = "a scope is one word such as \"prefix:name\", without spaces";

/// The checks of one clients.toml, each naming the file.
struct Check<'p> {
    /// The file, for messages.
    path: String,
    /// Where relative key files are.
    base: &'p Path,
}

impl Check<'_> {
    fn bad(&self, client: String, message: String, hint: Option<&str>) -> MockError {
        MockError::Client {
            path: self.path.clone(),
            client,
            message,
            hint: hint.map(str::to_owned),
        }
    }

    /// The TOML itself: syntax, unknown keys and types, with the line and
    /// the client a mistake is in.
    fn toml(&self, text: &str) -> Result<ClientsFile, MockError> {
        toml::from_str(text).map_err(|e| {
            let (at, message) = match e.span() {
                Some(span) => {
                    let mut at = format!("line {}", line_of(text, span.start));
                    if let Some(c) = client_at(text, span.start) {
                        at.push_str(&format!(", {c}"));
                    }
                    (format!("{at}: "), e.message().trim().to_string())
                }
                None => (String::new(), e.message().trim().to_string()),
            };
            MockError::ClientsToml {
                path: self.path.clone(),
                at,
                message,
            }
        })
    }

    /// `user_login_scopes` and `[access]`.
    fn scope_lists(&self, file: &ClientsFile) -> Result<(), MockError> {
        for s in &file.user_login_scopes {
            if !valid_scope(s) {
                return Err(self.bad(
                    "user_login_scopes".into(),
                    format!("{s:?} is not a scope"),
                    Some(SCOPE_HINT),
                ));
            }
        }
        for (scope, orgs) in &file.access {
            if !valid_scope(scope) {
                return Err(self.bad(
                    "[access]".into(),
                    format!("{scope:?} is not a scope"),
                    Some(SCOPE_HINT),
                ));
            }
            if let Some(o) = orgs.iter().find(|o| !nine_digits(o)) {
                return Err(self.bad(
                    "[access]".into(),
                    format!("scope {scope:?}: {o:?} is not a 9-digit organisation number"),
                    Some(ORG_HINT),
                ));
            }
        }
        Ok(())
    }

    /// One `[[client]]`.
    fn client(
        &self,
        i: usize,
        c: ClientToml,
        seen: &mut HashSet<String>,
    ) -> Result<Client, MockError> {
        let who = client_label(i, Some(&c.client_id));
        if c.client_id.trim().is_empty() || c.client_id.chars().any(char::is_control) {
            return Err(self.bad(
                client_label(i, None),
                "client_id is empty".into(),
                Some("client_id is the client's id, usually a UUID"),
            ));
        }
        if !seen.insert(c.client_id.clone()) {
            return Err(self.bad(
                who,
                "the same client_id is registered twice".into(),
                Some("give every [[client]] its own client_id"),
            ));
        }
        if !nine_digits(&c.org) {
            return Err(self.bad(
                who,
                format!("org {:?} is not a 9-digit organisation number", c.org),
                Some(ORG_HINT),
            ));
        }
        if let Some(s) = c.scopes.iter().find(|s| !valid_scope(s)) {
            return Err(self.bad(who, format!("{s:?} is not a scope"), Some(SCOPE_HINT)));
        }
        let auth = self.auth(&who, &c)?;
        let keys = self.keys(&who, &c.keys)?;
        self.consumers(&who, &c)?;
        if let Some(t) = c.token_lifetime
            && !(1..=31_536_000).contains(&t)
        {
            return Err(self.bad(
                who,
                format!("token_lifetime = {t} is not between 1 second and a year"),
                None,
            ));
        }
        if let Some(f) = &c.force_error
            && Case::from_id(f).is_none()
        {
            return Err(self.bad(
                who,
                format!("force_error = {f:?} is not a documented case"),
                Some(&format!("known cases: {}", case_ids())),
            ));
        }
        Ok(Client {
            client_id: c.client_id,
            org: c.org,
            scopes: c.scopes,
            auth,
            keys,
            consumers: c.consumers,
            token_lifetime: c.token_lifetime,
            force_error: c.force_error,
        })
    }

    /// `auth`, defaulting by whether the client has keys.
    fn auth(&self, who: &str, c: &ClientToml) -> Result<ClientAuth, MockError> {
        let auth = match c.auth.as_deref() {
            None if c.keys.is_empty() => ClientAuth::Certificate,
            None => ClientAuth::Key,
            Some("certificate") => ClientAuth::Certificate,
            Some("key") => ClientAuth::Key,
            Some(other) => {
                return Err(self.bad(
                    who.to_string(),
                    format!("auth = {other:?} is neither \"certificate\" nor \"key\""),
                    Some("auth = \"certificate\" (x5c) or \"key\" (kid of a registered key)"),
                ));
            }
        };
        if auth == ClientAuth::Key && c.keys.is_empty() {
            return Err(self.bad(
                who.to_string(),
                "auth = \"key\", but no keys are registered".into(),
                Some("add keys = [{ kid = \"...\", file = \"key.jwk\" }]"),
            ));
        }
        Ok(auth)
    }

    /// The registered keys, read from their files.
    fn keys(&self, who: &str, list: &[KeyToml]) -> Result<Vec<RegisteredKey>, MockError> {
        let mut keys: Vec<RegisteredKey> = Vec::with_capacity(list.len());
        for k in list {
            if k.kid.is_empty() {
                return Err(self.bad(who.to_string(), "a key has an empty kid".into(), None));
            }
            if keys.iter().any(|x| x.kid == k.kid) {
                return Err(self.bad(
                    who.to_string(),
                    format!("kid {:?} is registered twice", k.kid),
                    Some("give every key its own kid"),
                ));
            }
            let expires = match &k.expires {
                None => None,
                Some(v) => Some(parse_time(v).ok_or_else(|| {
                    self.bad(
                        who.to_string(),
                        format!(
                            "key {:?}: expires = {} is not an RFC 3339 time",
                            k.kid,
                            match v {
                                toml::Value::String(s) => format!("{s:?}"),
                                toml::Value::Datetime(d) => d.to_string(),
                                other => format!("a {}", other.type_str()),
                            }
                        ),
                        Some("write it like \"2027-11-23T00:00:00Z\""),
                    )
                })?),
            };
            let file = if k.file.is_absolute() {
                k.file.clone()
            } else {
                self.base.join(&k.file)
            };
            let public = load_public_key(&file, &k.kid).map_err(|detail| MockError::KeyFile {
                path: self.path.clone(),
                client: who.to_string(),
                kid: k.kid.clone(),
                file: file.display().to_string(),
                detail,
            })?;
            keys.push(RegisteredKey {
                kid: k.kid.clone(),
                file,
                public,
                expires,
            });
        }
        Ok(keys)
    }

    /// `consumers`: other organisations' delegations.
    fn consumers(&self, who: &str, c: &ClientToml) -> Result<(), MockError> {
        for (org, scopes) in &c.consumers {
            if !nine_digits(org) {
                return Err(self.bad(
                    who.to_string(),
                    format!("consumers: {org:?} is not a 9-digit organisation number"),
                    Some(ORG_HINT),
                ));
            }
            if org == &c.org {
                return Err(self.bad(
                    who.to_string(),
                    format!("consumers: {org} is the client's own organisation"),
                    Some("list the organisations that delegated scopes to this client"),
                ));
            }
            if let Some(s) = scopes.iter().find(|s| !valid_scope(s)) {
                return Err(self.bad(
                    who.to_string(),
                    format!("consumers.{org}: {s:?} is not a scope"),
                    Some(SCOPE_HINT),
                ));
            }
        }
        Ok(())
    }
}
