//! `[mail]`: which driver carries employees' mail — the built-in one of the embedded
//! default (delivered inside the node) or a real mail server (SMTP out, IMAP in) — and
//! each employee's mailbox login, read from a credentials file that never reaches a
//! log line.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which driver carries mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailDriver {
    /// Built into the node: messages between addresses are stored and delivered inside
    /// it; no server needed. The default.
    Builtin,
    /// A real mail server: each employee sends by SMTP and receives by IMAP with its
    /// own mailbox login.
    Server,
}

/// How a connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (ports 587, 143).
    Starttls,
    /// TLS from the first byte (ports 465, 993).
    Tls,
    /// No encryption: only for a server on the same machine.
    None,
}

/// `[mail]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `builtin` or `server`.
    pub driver: MailDriver,
    /// SMTP server host name (what its certificate names).
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// SMTP connection protection.
    pub smtp_security: Security,
    /// IMAP server host name.
    pub imap_host: String,
    /// IMAP port.
    pub imap_port: u16,
    /// IMAP connection protection.
    pub imap_security: Security,
    /// PEM file of the root certificate(s) to trust instead of the public web roots
    /// (a company's private CA); empty trusts the public roots. Relative to the data dir.
    pub ca_file: PathBuf,
    /// Mailbox logins, one per employee address (see [`MailAccounts`]). Relative to the
    /// data dir.
    pub credentials_file: PathBuf,
    /// How often a mailbox is checked when its server offers no IDLE, and the longest
    /// IDLE before it is renewed; also how often new hires' mailboxes are picked up.
    #[serde(with = "humantime_serde")]
    pub poll_every: Duration,
    /// Attachments larger than this are recorded (name, type, size) but not kept.
    pub attachment_max_bytes: u64,
    /// The IMAP folder a message that cannot be taken in is moved to (flagged), made
    /// when missing.
    pub park_folder: String,
    /// Tries (with backoff from one second, doubling) before such a message is parked.
    pub park_after: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            driver: MailDriver::Builtin,
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: Security::Starttls,
            imap_host: String::new(),
            imap_port: 143,
            imap_security: Security::Starttls,
            ca_file: PathBuf::new(),
            credentials_file: PathBuf::from("mail-credentials.toml"),
            poll_every: Duration::from_secs(30),
            attachment_max_bytes: 25 << 20,
            park_folder: "Parked".into(),
            park_after: 5,
        }
    }
}

impl MailConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        if self.driver == MailDriver::Server {
            for (key, host) in [
                ("mail.smtp_host", &self.smtp_host),
                ("mail.imap_host", &self.imap_host),
            ] {
                if host.trim().is_empty() {
                    e.push(ConfigError::new(
                        file,
                        key,
                        "is needed with driver = \"server\": the mail server's host name, e.g. \"mail.example.com\"",
                    ));
                }
            }
            for (key, port) in [
                ("mail.smtp_port", self.smtp_port),
                ("mail.imap_port", self.imap_port),
            ] {
                if port == 0 {
                    e.push(ConfigError::new(
                        file,
                        key,
                        "must be the server's port, e.g. 587 for SMTP or 143 for IMAP",
                    ));
                }
            }
        }
        if self.poll_every < Duration::from_secs(1) {
            e.push(ConfigError::new(
                file,
                "mail.poll_every",
                format!(
                    "must be at least 1s, got {}",
                    humantime::format_duration(self.poll_every)
                ),
            ));
        }
        if self.park_folder.trim().is_empty() || self.park_folder.contains(['\r', '\n', '"']) {
            e.push(ConfigError::new(
                file,
                "mail.park_folder",
                format!(
                    "must name an IMAP folder, e.g. \"Parked\", got {:?}",
                    self.park_folder
                ),
            ));
        }
        if self.park_after == 0 {
            e.push(ConfigError::new(
                file,
                "mail.park_after",
                "must be at least 1: the tries before a message that cannot be taken in is parked",
            ));
        }
        if self.attachment_max_bytes == 0 {
            e.push(ConfigError::new(
                file,
                "mail.attachment_max_bytes",
                "must be above 0; attachments over it are recorded but not kept",
            ));
        }
    }

    /// `path` taken from `data_dir` when relative.
    pub fn resolve(data_dir: &Path, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            data_dir.join(path)
        }
    }
}

/// A password or other secret: shown as `***` by `Debug`, never displayed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `s`.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One mailbox login as written in the credentials file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    username: Option<String>,
    password: Option<Secret>,
    password_env: Option<String>,
}

/// One employee's mailbox login.
#[derive(Debug, Clone, PartialEq)]
pub struct MailAccount {
    /// Login name (the address when the file gives none).
    pub username: String,
    /// Password.
    pub password: Secret,
}

/// Mailbox logins by address, from the credentials file:
///
/// ```toml
/// [accounts."riley.quinn@example.com"]
/// password = "…"                 # or: password_env = "RILEY_MAIL_PASSWORD"
/// # username = "riley"           # when the login is not the address
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MailAccounts {
    accounts: BTreeMap<String, MailAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    #[serde(default)]
    accounts: BTreeMap<String, AccountEntry>,
}

impl MailAccounts {
    /// Reads the credentials file; a missing file means no accounts. Every problem is
    /// reported at once, naming the file and the account, never a password.
    pub fn load(path: &Path) -> Result<MailAccounts, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(MailAccounts::default());
            }
            Err(e) => return Err(format!("{}: cannot be read ({e})", path.display())),
        };
        Self::parse(&text, |name| std::env::var(name).ok())
            .map_err(|errors| format!("{}: {}", path.display(), errors.join("; ")))
    }

    /// Parses the file's text; `env` reads `password_env` variables.
    pub fn parse(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<MailAccounts, Vec<String>> {
        let file: AccountsFile = toml::from_str(text).map_err(|e| {
            // The message of a TOML error may quote the line, and so a password.
            vec![format!(
                "is not a valid credentials file ({}); it holds [accounts.\"address\"] tables with `password` or `password_env`",
                e.span()
                    .map(|s| format!("at byte {}", s.start))
                    .unwrap_or_else(|| "no position".into())
            )]
        })?;
        let mut accounts = BTreeMap::new();
        let mut errors = Vec::new();
        for (address, entry) in file.accounts {
            let key = address.trim().to_ascii_lowercase();
            let password = match (entry.password, entry.password_env) {
                (Some(p), None) => Some(p),
                (None, Some(var)) => match env(&var) {
                    Some(p) if !p.is_empty() => Some(Secret(p)),
                    _ => {
                        errors.push(format!(
                            "`accounts.\"{address}\".password_env` names {var}, which is not set"
                        ));
                        None
                    }
                },
                (Some(_), Some(_)) => {
                    errors.push(format!(
                        "`accounts.\"{address}\"` sets both `password` and `password_env`; keep one"
                    ));
                    None
                }
                (None, None) => {
                    errors.push(format!(
                        "`accounts.\"{address}\"` needs `password` or `password_env`"
                    ));
                    None
                }
            };
            if let Some(password) = password {
                let username = entry.username.unwrap_or_else(|| key.clone());
                accounts.insert(key, MailAccount { username, password });
            }
        }
        if errors.is_empty() {
            Ok(MailAccounts { accounts })
        } else {
            Err(errors)
        }
    }

    /// The login of `address`, if the file has one.
    pub fn get(&self, address: &str) -> Option<&MailAccount> {
        self.accounts.get(&address.trim().to_ascii_lowercase())
    }

    /// Every account, by address (lowercase).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &MailAccount)> {
        self.accounts.iter().map(|(a, m)| (a.as_str(), m))
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_come_from_the_file_or_the_environment_and_never_print() {
        let text = r#"
            [accounts."Riley.Quinn@example.test"]
            password = "hunter2"
            [accounts."sam@example.test"]
            username = "sam"
            password_env = "SAM_PW"
        "#;
        let a = MailAccounts::parse(text, |v| (v == "SAM_PW").then(|| "s3cret".into())).unwrap();
        let riley = a.get("riley.quinn@example.test").unwrap();
        assert_eq!(riley.username, "riley.quinn@example.test");
        assert_eq!(riley.password.expose(), "hunter2");
        assert_eq!(a.get("sam@example.test").unwrap().username, "sam");
        assert!(!format!("{a:?}").contains("hunter2"));
        assert!(!format!("{a:?}").contains("s3cret"));
    }

    #[test]
    fn each_bad_account_is_named_without_its_password() {
        let text = r#"
            [accounts."a@x.io"]
            password_env = "UNSET_VAR"
            [accounts."b@x.io"]
            password = "pw"
            password_env = "B"
            [accounts."c@x.io"]
            username = "c"
        "#;
        let errors = MailAccounts::parse(text, |_| None).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("UNSET_VAR, which is not set"));
        assert!(errors[1].contains("both"));
        assert!(errors[2].contains("needs `password`"));
        let bad =
            MailAccounts::parse("[accounts.\"a@x.io\"]\npassword = \"pw", |_| None).unwrap_err();
        assert!(!bad[0].contains("pw\""), "{bad:?}");
    }

    #[test]
    fn the_server_driver_needs_its_hosts() {
        let cfg = MailConfig {
            driver: MailDriver::Server,
            smtp_port: 0,
            ..MailConfig::default()
        };
        let mut e = Vec::new();
        cfg.validate("empla.toml", &mut e);
        let keys: Vec<_> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["mail.smtp_host", "mail.imap_host", "mail.smtp_port"]);
    }
}
