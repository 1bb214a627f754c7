//! Where `credkit token` settings come from besides flags: named profiles in
//! a TOML file, and Digdir's `jwt-grant-generator` .properties files (read
//! unchanged). Flags given on the command line win over both.

use super::client::TokenSettings;
use super::dpop::DpopKeyChoice;
use super::exchange::{Auth, Grant};
use crate::secret::SecretSource;
use crate::target::MaskinportenEnv;
use crate::target::Target;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the keystore comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A keystore file (any format `keystore::load` reads).
    File(PathBuf),
    /// `keystore.file=base64:...` in a .properties file.
    Inline {
        /// What messages call it: `<the .properties file> (keystore.file)`.
        label: String,
        /// The decoded keystore bytes.
        data: Vec<u8>,
    },
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The config or .properties file.
    pub path: String,
    /// What is wrong, naming the profile, key or line.
    pub message: String,
}

/// The TOML file.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// The profile used when --profile is not given.
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileToml>,
}

/// One `[profiles.NAME]` table; keys are the flags' names with underscores.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ProfileToml {
    key: Option<PathBuf>,
    alias: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    key_password_file: Option<PathBuf>,
    key_password_env: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    resource: Option<String>,
    consumer_org: Option<String>,
    /// The organisation number that owns the client.
    client_org: Option<String>,
    env: Option<String>,
    issuer: Option<String>,
    token_endpoint: Option<String>,
    aud: Option<String>,
    grant: Option<String>,
    auth: Option<String>,
    /// The JWT rules: maskinporten, okta, entra, keycloak, generic.
    jwt_profile: Option<String>,
    kid: Option<String>,
    client_secret_file: Option<PathBuf>,
    client_secret_env: Option<String>,
    ca_file: Option<PathBuf>,
    // Proofs and the unattended grants (src/oauth/dpop.rs, src/oauth/grants.rs).
    /// DPoP proofs: `generated` (a key kept beside the cache) or `credential`.
    dpop: Option<String>,
    /// RFC 9396 authorization_details, as JSON text.
    authorization_details: Option<String>,
    /// Maskinporten system user: the customer's organisation number.
    systemuser_org: Option<String>,
    subject_token_file: Option<PathBuf>,
    subject_token_env: Option<String>,
    subject_token_type: Option<String>,
    actor_token_file: Option<PathBuf>,
    actor_token_env: Option<String>,
    actor_token_type: Option<String>,
    requested_token_type: Option<String>,
    audience: Option<String>,
    // The interactive grants (authorization code, device code).
    redirect_port: Option<u16>,
    redirect_uri: Option<String>,
    no_browser: Option<bool>,
    par: Option<bool>,
    /// Seconds.
    login_timeout: Option<u64>,
    authorization_endpoint: Option<String>,
    device_authorization_endpoint: Option<String>,
    show_refresh_token: Option<bool>,
    /// Ask the CA whether the certificate is revoked before sending.
    revocation: Option<bool>,
}

/// The default config file: `$XDG_CONFIG_HOME/credkit/config.toml`, else the
/// platform's config directory.
pub fn default_path() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = env("XDG_CONFIG_HOME").or_else(|| {
        if cfg!(windows) {
            env("APPDATA")
        } else if cfg!(target_os = "macos") {
            env("HOME").map(|h| h.join("Library/Application Support"))
        } else {
            env("HOME").map(|h| h.join(".config"))
        }
    })?;
    Some(base.join("credkit").join("config.toml"))
}

/// One of the names an enum setting takes (as on the command line, ASCII
/// case ignored). Without clap: the library reads profiles without the `cli`
/// feature; `value_names_match_the_command_line` keeps the two equal.
fn value_enum<T: Copy>(
    path: &str,
    field: &str,
    v: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, ConfigError> {
    all.iter()
        .copied()
        .find(|x| name(*x).eq_ignore_ascii_case(v))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|x| name(*x)).collect();
            ConfigError {
                path: path.into(),
                message: format!("{field} = {v:?} is not one of {}", names.join(", ")),
            }
        })
}

const GRANTS: &[Grant] = &[
    Grant::JwtBearer,
    Grant::ClientCredentials,
    Grant::RefreshToken,
    Grant::TokenExchange,
    Grant::OnBehalfOf,
    Grant::AuthorizationCode,
    Grant::DeviceCode,
];
const AUTHS: &[Auth] = &[
    Auth::PrivateKeyJwt,
    Auth::ClientSecretBasic,
    Auth::ClientSecretPost,
    Auth::ClientSecretJwt,
    Auth::TlsClientAuth,
    Auth::SelfSignedTlsClientAuth,
    Auth::None,
];
const DPOP_KEYS: &[DpopKeyChoice] = &[DpopKeyChoice::Generated, DpopKeyChoice::Credential];

/// The names of the profiles in the TOML text, in file order of their keys (sorted).
pub fn profile_names(text: &str, path: &Path) -> Result<Vec<String>, ConfigError> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError {
        path: path.display().to_string(),
        message: e.to_string().trim().to_string(),
    })?;
    Ok(file.profiles.keys().cloned().collect())
}

/// Read a profile from the TOML text. `name` None = `default_profile`.
pub fn profile_from_toml(
    text: &str,
    path: &Path,
    name: Option<&str>,
) -> Result<TokenSettings, ConfigError> {
    let p = path.display().to_string();
    let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError {
        path: p.clone(),
        message: e.to_string().trim().to_string(),
    })?;
    let name = match name.or(file.default_profile.as_deref()) {
        Some(n) => n.to_string(),
        None => return Ok(TokenSettings::default()),
    };
    let t = file.profiles.get(&name).ok_or_else(|| ConfigError {
        path: p.clone(),
        message: format!(
            "no profile {name:?} (profiles: {})",
            if file.profiles.is_empty() {
                "none".to_string()
            } else {
                file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        ),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let rel = |q: &Path| {
        if q.is_absolute() {
            q.to_path_buf()
        } else {
            base.join(q)
        }
    };
    Ok(TokenSettings {
        key: t.key.as_deref().map(|k| KeySource::File(rel(k))),
        alias: t.alias.clone(),
        store_password: t
            .password_file
            .as_deref()
            .map(|f| SecretSource::File(rel(f)))
            .or(t.password_env.clone().map(SecretSource::Env)),
        key_password: t
            .key_password_file
            .as_deref()
            .map(|f| SecretSource::File(rel(f)))
            .or(t.key_password_env.clone().map(SecretSource::Env)),
        client_id: t.client_id.clone(),
        scope: t.scope.clone(),
        resource: t.resource.clone(),
        consumer_org: t.consumer_org.clone(),
        client_org: match &t.client_org {
            Some(v) => Some(
                crate::orgnr::OrgNr::parse(v)
                    .map(|o| o.to_string())
                    .map_err(|e| e.to_string())
                    .map_err(|m| ConfigError {
                        path: p.clone(),
                        message: format!("profile {name:?}: client_org: {m}"),
                    })?,
            ),
            None => None,
        },
        claims: Vec::new(),
        env: t
            .env
            .as_deref()
            .map(|v| value_enum(&p, "env", v, &MaskinportenEnv::ALL, MaskinportenEnv::name))
            .transpose()?,
        issuer: t.issuer.clone(),
        token_endpoint: t.token_endpoint.clone(),
        aud: t.aud.clone(),
        grant: t
            .grant
            .as_deref()
            .map(|v| value_enum(&p, "grant", v, GRANTS, Grant::name))
            .transpose()?,
        auth: t
            .auth
            .as_deref()
            .map(|v| value_enum(&p, "auth", v, AUTHS, Auth::name))
            .transpose()?,
        jwt_profile: t
            .jwt_profile
            .as_deref()
            .map(|v| value_enum(&p, "jwt_profile", v, &Target::ALL, Target::name))
            .transpose()?,
        kid: t.kid.clone(),
        client_secret: t
            .client_secret_file
            .as_deref()
            .map(|f| SecretSource::File(rel(f)))
            .or(t.client_secret_env.clone().map(SecretSource::Env)),
        ca_file: t.ca_file.as_deref().map(rel),
        ..proofs_and_grants(t, &p, &rel)?
    })
}

/// A profile's proofs, unattended grants beyond RFC 6749, interactive
/// grants and revocation check, as settings (the rest left default).
fn proofs_and_grants(
    t: &ProfileToml,
    p: &str,
    rel: &dyn Fn(&Path) -> PathBuf,
) -> Result<TokenSettings, ConfigError> {
    Ok(TokenSettings {
        dpop: t
            .dpop
            .as_deref()
            .map(|v| value_enum(p, "dpop", v, DPOP_KEYS, DpopKeyChoice::name))
            .transpose()?,
        authorization_details: t.authorization_details.clone(),
        systemuser_org: t.systemuser_org.clone(),
        subject_token: t
            .subject_token_file
            .as_deref()
            .map(|f| SecretSource::File(rel(f)))
            .or(t.subject_token_env.clone().map(SecretSource::Env)),
        subject_token_type: t.subject_token_type.clone(),
        actor_token: t
            .actor_token_file
            .as_deref()
            .map(|f| SecretSource::File(rel(f)))
            .or(t.actor_token_env.clone().map(SecretSource::Env)),
        actor_token_type: t.actor_token_type.clone(),
        requested_token_type: t.requested_token_type.clone(),
        audience: t.audience.clone(),
        interactive: crate::oauth::interactive::Interactive {
            redirect_port: t.redirect_port,
            redirect_uri: t.redirect_uri.clone(),
            no_browser: t.no_browser,
            par: t.par,
            login_timeout: t.login_timeout.map(std::time::Duration::from_secs),
            authorization_endpoint: t.authorization_endpoint.clone(),
            device_authorization_endpoint: t.device_authorization_endpoint.clone(),
            show_refresh_token: t.show_refresh_token,
        },
        revocation: t.revocation,
        ..TokenSettings::default()
    })
}

/// Decode a .properties file as `java.util.Properties.load(InputStream)`
/// does: every byte is one ISO-8859-1 (Latin-1) character. Characters
/// outside Latin-1 are written as `\uXXXX` escapes, which the parser reads.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// The whitespace of a .properties file: space, tab and form feed (not
/// every Unicode space: a no-break space U+00A0 is part of a key or value).
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Parse Java .properties text as `java.util.Properties.load` does:
/// `key=value`, `key: value`, `key value`; `#`/`!` comment lines; `\` line
/// continuations (the next line's leading whitespace dropped); `\t \n \r
/// \f \uXXXX` escapes (UTF-16 surrogate pairs joined); lines end at `\n`,
/// `\r\n` or `\r`. Give it the text from [`decode_latin1`]. A malformed
/// `\uXXXX` is an error, as in Java.
pub fn parse_properties(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut logical = String::new();
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines = normalized.split('\n').peekable();
    let mut continued = false;
    while let Some(line) = lines.next() {
        let l = line.trim_start_matches(is_java_space);
        if !continued && (l.is_empty() || l.starts_with('#') || l.starts_with('!')) {
            continue;
        }
        // A line ending in an odd number of backslashes continues.
        let trailing = l.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 && lines.peek().is_some() {
            logical.push_str(&l[..l.len() - 1]);
            continued = true;
            continue;
        }
        continued = false;
        logical.push_str(l);
        let (k, v) = split_property(&logical);
        out.insert(unescape(&k)?, unescape(&v)?);
        logical.clear();
    }
    Ok(out)
}

fn split_property(s: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                key.push('\\');
                if let Some(n) = chars.next() {
                    key.push(n);
                }
            }
            '=' | ':' => break,
            c if is_java_space(c) => {
                while chars.peek().is_some_and(|c| is_java_space(*c)) {
                    chars.next();
                }
                if chars.peek().is_some_and(|c| *c == '=' || *c == ':') {
                    chars.next();
                }
                break;
            }
            c => key.push(c),
        }
    }
    let rest: String = chars.collect();
    (key, rest.trim_start_matches(is_java_space).to_string())
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    // A high surrogate from `\uD8xx`, waiting for its low half.
    let mut high: Option<u16> = None;
    while let Some(c) = chars.next() {
        let unit = if c != '\\' {
            None
        } else {
            match chars.next() {
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    match (hex.len(), u16::from_str_radix(&hex, 16)) {
                        (4, Ok(u)) if hex.chars().all(|h| h.is_ascii_hexdigit()) => Some(u),
                        _ => return Err(format!("malformed \\uxxxx escape \\u{hex}")),
                    }
                }
                other => {
                    if let Some(h) = high.take() {
                        out.push(char::from_u32(u32::from(h)).unwrap_or('\u{fffd}'));
                    }
                    match other {
                        Some('t') => out.push('\t'),
                        Some('n') => out.push('\n'),
                        Some('r') => out.push('\r'),
                        Some('f') => out.push('\u{c}'),
                        Some(o) => out.push(o),
                        None => {}
                    }
                    continue;
                }
            }
        };
        match unit {
            Some(u) if (0xD800..0xDC00).contains(&u) => {
                if high.replace(u).is_some() {
                    out.push('\u{fffd}');
                }
            }
            Some(u) => {
                let ch = match high.take() {
                    Some(h) if (0xDC00..0xE000).contains(&u) => char::decode_utf16([h, u])
                        .next()
                        .and_then(Result::ok)
                        .unwrap_or('\u{fffd}'),
                    Some(_) => {
                        out.push('\u{fffd}');
                        char::from_u32(u32::from(u)).unwrap_or('\u{fffd}')
                    }
                    None => char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'),
                };
                out.push(ch);
            }
            None => {
                if high.take().is_some() {
                    out.push('\u{fffd}');
                }
                out.push(c);
            }
        }
    }
    if high.is_some() {
        out.push('\u{fffd}');
    }
    Ok(out)
}

/// [`from_properties`] on the file's bytes, decoded as Java decodes them
/// (ISO-8859-1, see [`decode_latin1`]).
pub fn from_properties_bytes(bytes: &[u8], path: &Path) -> Result<TokenSettings, ConfigError> {
    from_properties(&decode_latin1(bytes), path)
}

/// Map jwt-grant-generator's properties (`docs/maskinporten-errors.md`,
/// "jwt-grant-generator properties")
/// onto settings: a Maskinporten jwt-bearer grant.
pub fn from_properties(text: &str, path: &Path) -> Result<TokenSettings, ConfigError> {
    let p = path.display().to_string();
    let m = parse_properties(text).map_err(|message| ConfigError {
        path: p.clone(),
        message,
    })?;
    let get = |k: &str| {
        m.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let key = match get("keystore.file") {
        Some(f) => Some(match f.strip_prefix("base64:") {
            Some(b64) => KeySource::Inline {
                label: format!("{p} (keystore.file)"),
                data: base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| ConfigError {
                        path: p.clone(),
                        message: format!("keystore.file=base64:... is not base64: {e}"),
                    })?,
            },
            None => {
                let q = PathBuf::from(&f);
                KeySource::File(if q.is_absolute() { q } else { base.join(q) })
            }
        }),
        None => None,
    };
    let mut claims = Vec::new();
    if let Some(pid) = get("pid") {
        claims.push(("pid".to_string(), serde_json::Value::String(pid)));
    }
    let audience = get("audience");
    let env = audience.as_deref().and_then(|a| {
        [MaskinportenEnv::Test, MaskinportenEnv::Prod]
            .into_iter()
            .find(|e| e.issuer() == a)
    });
    Ok(TokenSettings {
        key,
        alias: get("keystore.alias"),
        store_password: m
            .get("keystore.password")
            .map(|v| SecretSource::value(v.clone())),
        key_password: m
            .get("keystore.alias.password")
            .map(|v| SecretSource::value(v.clone())),
        client_id: get("issuer"),
        scope: get("scope"),
        resource: get("resource"),
        consumer_org: get("consumer_org"),
        claims,
        env,
        issuer: audience.clone(),
        token_endpoint: get("token.endpoint"),
        aud: audience,
        grant: Some(Grant::JwtBearer),
        auth: Some(Auth::None),
        properties: true,
        jwt_profile: Some(if env.is_some() {
            Target::Maskinporten
        } else {
            Target::Generic
        }),
        kid: get("keystore.kid"),
        client_secret: None,
        ca_file: None,
        ..TokenSettings::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names a profile takes are the names the command line takes, in
    /// the same order (the lists above are written out, clap's are derived).
    #[cfg(feature = "cli")]
    #[test]
    fn value_names_match_the_command_line() {
        fn clap_names<T: clap::ValueEnum>() -> Vec<String> {
            T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value())
                .map(|p| p.get_name().to_string())
                .collect()
        }
        fn ours<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<String> {
            all.iter().map(|x| name(*x).to_string()).collect()
        }
        assert_eq!(
            ours(&MaskinportenEnv::ALL, MaskinportenEnv::name),
            clap_names::<MaskinportenEnv>()
        );
        assert_eq!(ours(GRANTS, Grant::name), clap_names::<Grant>());
        assert_eq!(ours(AUTHS, Auth::name), clap_names::<Auth>());
        assert_eq!(ours(&Target::ALL, Target::name), clap_names::<Target>());
        assert_eq!(
            ours(DPOP_KEYS, DpopKeyChoice::name),
            clap_names::<DpopKeyChoice>()
        );
    }

    #[test]
    fn properties_as_java_reads_them() {
        let m = parse_properties(
            "# comment\n! also\nissuer = abc\nscope=a:b \\\n    c:d\nkeystore.password: p\\u00e5ss\nkey\\=x value\n",
        )
        .expect("parse");
        assert_eq!(m["issuer"], "abc");
        assert_eq!(m["scope"], "a:b c:d");
        assert_eq!(m["keystore.password"], "påss");
        assert_eq!(m["key=x"], "value");
    }

    #[test]
    fn properties_are_latin1_with_java_escapes() {
        // p\xe4ss as ISO-8859-1 bytes, a surrogate pair, \r line ends, a
        // continuation whose next line starts with '#', a no-break space
        // that is not a separator, and `!` comments.
        let bytes =
            b"! c\r\nkeystore.password=p\xe4ss\r\nsmile=\\uD83D\\uDE00\rcont=a\\\n  #b\nk\xa0x=1\n";
        let m = parse_properties(&decode_latin1(bytes)).expect("parse");
        assert_eq!(m["keystore.password"], "p\u{e4}ss");
        assert_eq!(m["smile"], "\u{1F600}");
        assert_eq!(m["cont"], "a#b");
        assert_eq!(m["k\u{a0}x"], "1");
        assert_eq!(m.len(), 4, "{m:?}");
        let e = parse_properties("k=\\u12G4\n").expect_err("malformed");
        assert!(e.contains("\\u12G4"), "{e}");
        let e = from_properties_bytes(b"k=\\u00\n", Path::new("c.properties")).expect_err("short");
        assert!(e.to_string().contains("c.properties"), "{e}");
    }

    #[test]
    fn secret_values_are_redacted_in_debug() {
        let d = format!("{:?}", SecretSource::value("changeit"));
        assert!(!d.contains("changeit"), "{d}");
    }

    #[test]
    fn jwt_grant_generator_file() {
        let text = "issuer=my-client\naudience=https://test.maskinporten.no/\nscope=digdir:dialogporten\n\
                    token.endpoint=https://test.maskinporten.no/token\nkeystore.file=ks.p12\nkeystore.password=changeit\n\
                    keystore.alias=auth\nkeystore.alias.password=changeit\npid=12345678901\n";
        let s = from_properties(text, Path::new("/etc/mp/client.properties")).expect("ok");
        assert_eq!(s.client_id.as_deref(), Some("my-client"));
        assert_eq!(s.env, Some(MaskinportenEnv::Test));
        assert_eq!(
            s.key,
            Some(KeySource::File(PathBuf::from("/etc/mp/ks.p12")))
        );
        assert_eq!(s.store_password, Some(SecretSource::value("changeit")));
        assert_eq!(s.claims.len(), 1);
    }

    #[test]
    fn toml_profile_with_relative_paths() {
        let text = "default_profile = \"mp\"\n[profiles.mp]\nkey = \"k.p12\"\npassword_env = \"PW\"\nclient_id = \"c\"\nenv = \"test\"\ngrant = \"jwt-bearer\"\n";
        let s = profile_from_toml(text, Path::new("/cfg/config.toml"), None).expect("ok");
        assert_eq!(s.key, Some(KeySource::File(PathBuf::from("/cfg/k.p12"))));
        assert_eq!(s.env, Some(MaskinportenEnv::Test));
        assert_eq!(s.grant, Some(Grant::JwtBearer));
        let e =
            profile_from_toml(text, Path::new("/cfg/config.toml"), Some("nope")).expect_err("no");
        assert!(e.message.contains("mp"), "{e}");
        let bad = profile_from_toml("[profiles.x]\nkee = 1\n", Path::new("c.toml"), Some("x"));
        assert!(bad.is_err());
    }

    #[test]
    fn revocation_key_reaches_the_settings_below_the_flag() {
        let text = "[profiles.r]\nclient_id = \"c\"\nrevocation = true\n";
        let profile = profile_from_toml(text, Path::new("c.toml"), Some("r")).expect("ok");
        assert_eq!(profile.revocation, Some(true));
        // Not said by the flags: the profile's value.
        let merged = TokenSettings::default().over(profile.clone());
        assert_eq!(merged.revocation, Some(true));
        // Said by the flags (a config could also say false): the flag wins.
        let flags = TokenSettings {
            revocation: Some(false),
            ..TokenSettings::default()
        };
        assert_eq!(flags.over(profile).revocation, Some(false));
        // Without the key: not set (the default, no check).
        let none = profile_from_toml(
            "[profiles.r]\nclient_id = \"c\"\n",
            Path::new("c.toml"),
            Some("r"),
        )
        .expect("ok");
        assert_eq!(none.revocation, None);
    }
}
