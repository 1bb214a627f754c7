//! The one place that words a finding's settings and commands as this
//! program's flags and command lines. Domain code says *which* setting a
//! finding is about ([`Setting`]) and *which* command helps ([`Command`]);
//! this module writes `--alias "auth"` and `credkit check FILE --alias
//! 'auth'`, for the text report and for JSON (where each stays a string).

use crate::diagnostics::check::{always_quote, shell_quote};
use crate::diagnostics::findings::{CheckCommand, Command, ConvertTo, Part, Setting, Text};
use serde::{Serialize, Serializer};

/// A finding's text, its settings worded as flags.
pub(crate) fn text(t: &Text) -> String {
    let mut out = String::new();
    for p in t.parts() {
        match p {
            Part::Words(w) => out.push_str(w),
            Part::Setting(s) => out.push_str(&setting(s)),
            Part::Flag(s) => out.push_str(flag(s)),
        }
    }
    out
}

/// The flag that gives a setting (the first of them, for a password that
/// several flags can give).
pub(crate) fn flag(s: &Setting) -> &'static str {
    match s {
        Setting::Alias(_) => "--alias",
        Setting::Env(_) => "--env",
        Setting::ClientOrg(_) => "--client-org",
        Setting::StorePassword => "--password-file",
        Setting::KeyPassword => "--key-password-file",
        Setting::Now => "--now",
        Setting::CaFile => "--ca-file",
        Setting::Revocation => "--revocation",
        Setting::Target(_) => "--for",
        Setting::ConvertTo(_) => "--to",
        Setting::ClientId => "--client-id",
        Setting::Key => "--key",
        Setting::Kid(_) => "--kid",
        Setting::Alg => "--alg",
        Setting::Assertion => "--assertion",
        Setting::Claim => "--claim",
        Setting::Scope => "--scope",
        Setting::ConsumerOrg => "--consumer-org",
        Setting::Auth(_) => "--auth",
    }
}

/// A setting as the flag (and value) that sets it.
pub(crate) fn setting(s: &Setting) -> String {
    let f = flag(s);
    match s {
        Setting::Alias(Some(a)) => format!("{f} \"{a}\""),
        Setting::Env(Some(e)) => format!("{f} {}", e.name()),
        Setting::ClientOrg(Some(o)) => format!("{f} {o}"),
        Setting::StorePassword => "--password-file PATH, --password-env VAR or --password-stdin \
             (or set CREDKIT_PASSWORD)"
            .into(),
        Setting::KeyPassword => {
            "--key-password-file PATH, --key-password-env VAR or --key-password-stdin".into()
        }
        Setting::Now => format!("{f} RFC3339"),
        Setting::Target(Some(t)) => format!("{f} {}", t.name()),
        Setting::ConvertTo(to) => format!("{f} {}", convert_to(*to)),
        Setting::Kid(Some(k)) => format!("{f} {k}"),
        Setting::Auth(Some(a)) => format!("{f} {}", a.name()),
        _ => f.into(),
    }
}

/// The `--to` value of a format `convert` writes.
fn convert_to(to: ConvertTo) -> &'static str {
    match to {
        ConvertTo::Pem => "pem",
        ConvertTo::Jwk => "jwk",
        ConvertTo::Pkcs12 => "pkcs12",
    }
}

/// A ready command line.
pub(crate) fn command(c: &Command) -> String {
    match c {
        Command::Check(c) => check_command(c),
        Command::Convert {
            input,
            output,
            to,
            legacy,
        } => {
            let to = convert_to(*to);
            format!(
                "credkit convert {} -o {} --to {to}{}",
                shell_quote(input),
                shell_quote(output),
                if *legacy { " --legacy" } else { "" }
            )
        }
        Command::Inspect { file } => format!("credkit inspect {}", shell_quote(file)),
        Command::Other(s) => s.clone(),
    }
}

/// `credkit check FILE --alias 'A' [the same --for/--env/...]`.
fn check_command(c: &CheckCommand) -> String {
    let mut s = format!("credkit check {}", shell_quote(&c.file));
    if let Some(a) = &c.alias {
        s.push_str(&format!(" --alias {}", always_quote(a)));
    }
    if c.target != crate::target::Target::Generic {
        s.push_str(&format!(" --for {}", c.target.name()));
    }
    if let Some(env) = c.env {
        s.push_str(&format!(" --env {}", env.name()));
    }
    if let Some(org) = &c.client_org {
        s.push_str(&format!(" --client-org {org}"));
    }
    if let Some(days) = c.expiry_warning_days {
        s.push_str(&format!(" --expiry-warning {days}"));
    }
    if let Some(env) = c.and_env {
        s.push_str(&format!(" --env {}", env.name()));
    }
    s
}

// In JSON a finding's texts and command are strings, worded as in the text
// report (`credkit.check/1` keeps its shape).
impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(self))
    }
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&command(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{MaskinportenEnv, Target};

    #[test]
    fn settings_become_flags_in_place() {
        let t = Text::from("Use the certificate that may sign: ")
            .setting(Setting::Alias(Some("auth".into())))
            .words(".");
        assert_eq!(
            text(&t),
            "Use the certificate that may sign: --alias \"auth\"."
        );
        assert_eq!(
            serde_json::to_value(&t).expect("a string"),
            serde_json::json!("Use the certificate that may sign: --alias \"auth\".")
        );
    }

    #[test]
    fn values_follow_their_flag_and_a_bare_flag_has_none() {
        use crate::oauth::exchange::Auth;
        let t = Text::from("the local clock (")
            .flag(Setting::Now)
            .words(") is ahead; give ")
            .setting(Setting::Now);
        assert_eq!(
            text(&t),
            "the local clock (--now) is ahead; give --now RFC3339"
        );
        for (s, want) in [
            (
                Setting::Auth(Some(Auth::PrivateKeyJwt)),
                "--auth private-key-jwt",
            ),
            (Setting::Auth(None), "--auth"),
            (Setting::Kid(Some("k1".into())), "--kid k1"),
            (
                Setting::Target(Some(Target::Maskinporten)),
                "--for maskinporten",
            ),
            (Setting::ConvertTo(ConvertTo::Jwk), "--to jwk"),
            (Setting::ClientId, "--client-id"),
        ] {
            assert_eq!(setting(&s), want);
        }
    }

    #[test]
    fn check_commands_keep_every_setting() {
        let c = Command::Check(CheckCommand {
            file: "my file.p12".into(),
            alias: Some("it's".into()),
            target: Target::Maskinporten,
            env: None,
            client_org: Some("123456785".into()),
            expiry_warning_days: Some(60),
            and_env: Some(MaskinportenEnv::Test),
        });
        assert_eq!(
            command(&c),
            r"credkit check 'my file.p12' --alias 'it'\''s' --for maskinporten --client-org 123456785 --expiry-warning 60 --env test"
        );
    }
}
