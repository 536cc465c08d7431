//! `[chat]`: which driver carries employees' chat — the built-in one of the embedded
//! default (conversations kept in the node, read with `empla chat`) or Slack — and, for
//! Slack, each employee's Slack app: its bot token, signing secret and optional
//! app-level token, read from a credentials file whose secrets never reach a log line.
//!
//! Each employee is its own Slack app with its own bot user, so people mention and DM
//! the employee itself; the app's Events API Request URL names the employee
//! (`/slack/events/<handle>`), and a Socket Mode connection is opened per app with an
//! app-level token.

use crate::capabilities::email::Secret;
use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which driver carries chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatDriver {
    /// Built into the node: `empla chat` and `POST /api/v1/employees/{id}/chat`. The
    /// default.
    Builtin,
    /// Slack: each employee is a Slack app (bot user) that people mention or DM.
    Slack,
}

/// `[chat]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    /// `builtin` or `slack`.
    pub driver: ChatDriver,
    /// Each employee's Slack app (see [`SlackApps`]). Relative to the data dir.
    pub credentials_file: PathBuf,
    /// Base URL of Slack's Web API (a test double or a proxy may stand in).
    pub api_url: String,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            driver: ChatDriver::Builtin,
            credentials_file: PathBuf::from("slack-credentials.toml"),
            api_url: "https://slack.com/api".into(),
        }
    }
}

impl ChatConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        let url = self.api_url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if !rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')) {
            e.push(ConfigError::new(
                file,
                "chat.api_url",
                format!(
                    "must be the http(s) URL of Slack's Web API, e.g. \"https://slack.com/api\", got {url:?}"
                ),
            ));
        }
        if self.driver == ChatDriver::Slack && self.credentials_file.as_os_str().is_empty() {
            e.push(ConfigError::new(
                file,
                "chat.credentials_file",
                "is needed with driver = \"slack\": the file of each employee's Slack app tokens, e.g. \"slack-credentials.toml\"",
            ));
        }
    }
}

/// One employee's Slack app as written in the credentials file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    bot_token: Option<Secret>,
    bot_token_env: Option<String>,
    signing_secret: Option<Secret>,
    signing_secret_env: Option<String>,
    app_token: Option<Secret>,
    app_token_env: Option<String>,
    app_id: Option<String>,
    user_token: Option<Secret>,
    user_token_env: Option<String>,
}

/// One employee's Slack app.
#[derive(Debug, Clone, PartialEq)]
pub struct SlackApp {
    /// The employee's chat handle (or address, or id), as the file names it.
    pub employee: String,
    /// Bot token (`xoxb-…`): posts messages and sets the bot's presence.
    pub bot_token: Secret,
    /// Signing secret: verifies Events API requests. None: Socket Mode only.
    pub signing_secret: Option<Secret>,
    /// App-level token (`xapp-…`) with `connections:write`: Socket Mode. None: the
    /// Events API only.
    pub app_token: Option<Secret>,
    /// The app's id (`A…`); when set, events for another app are refused.
    pub app_id: Option<String>,
    /// A user token (`xoxp-…`) with `users.profile:write` of the Slack account the
    /// employee appears as: sets its status text (in a meeting, focusing, active). A bot
    /// user has no status of its own.
    pub user_token: Option<Secret>,
}

/// Each employee's Slack app, from the credentials file:
///
/// ```toml
/// [apps."sam.rivera"]                        # the employee's chat handle
/// bot_token_env = "SAM_SLACK_BOT_TOKEN"      # or bot_token = "xoxb-…"
/// signing_secret_env = "SAM_SLACK_SIGNING_SECRET"   # Events API
/// app_token_env = "SAM_SLACK_APP_TOKEN"      # Socket Mode (optional)
/// app_id = "A0123456789"                     # optional: refuse other apps' events
/// user_token_env = "SAM_SLACK_USER_TOKEN"    # optional: status text (xoxp-…)
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlackApps {
    apps: BTreeMap<String, SlackApp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppsFile {
    #[serde(default)]
    apps: BTreeMap<String, AppEntry>,
}

impl SlackApps {
    /// Reads the credentials file. Every problem is reported at once, naming the file,
    /// the app and the key, never a secret.
    pub fn load(path: &Path) -> Result<SlackApps, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "chat.credentials_file {} cannot be read ({e}); with chat.driver = \"slack\" it holds each employee's Slack app: [apps.\"<handle>\"] with bot_token_env and signing_secret_env (or app_token_env for Socket Mode)",
                path.display()
            )
        })?;
        let apps = Self::parse(&text, |name| std::env::var(name).ok())
            .map_err(|errors| format!("{}: {}", path.display(), errors.join("; ")))?;
        if apps.is_empty() {
            return Err(format!(
                "{}: has no [apps.\"<handle>\"] table, so no employee is on Slack; add one per employee (see config/empla.toml, [chat])",
                path.display()
            ));
        }
        Ok(apps)
    }

    /// Parses the file's text; `env` reads the `*_env` variables.
    pub fn parse(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SlackApps, Vec<String>> {
        let file: AppsFile = toml::from_str(text).map_err(|e| {
            // The message of a TOML error may quote the line, and so a secret.
            vec![format!(
                "is not a valid Slack credentials file ({}); it holds [apps.\"<handle>\"] tables with bot_token_env, signing_secret_env, app_token_env, app_id and user_token_env",
                e.message()
                    .split('\n')
                    .next()
                    .filter(|m| !m.contains('"'))
                    .unwrap_or("syntax error")
            )]
        })?;
        let mut apps = BTreeMap::new();
        let mut errors = Vec::new();
        for (employee, entry) in file.apps {
            let before = errors.len();
            let given = (
                entry.bot_token.is_some() || entry.bot_token_env.is_some(),
                entry.signing_secret.is_some() || entry.signing_secret_env.is_some(),
                entry.app_token.is_some() || entry.app_token_env.is_some(),
            );
            let mut secret = |key: &str, value: Option<Secret>, var: Option<String>| match (
                value, var,
            ) {
                (Some(s), None) if s.expose().trim().is_empty() => {
                    errors.push(format!(
                        "`apps.\"{employee}\".{key}` is empty; give the secret itself (or `{key}_env`)"
                    ));
                    None
                }
                (Some(s), None) => Some(s),
                (None, Some(var)) => match env(&var) {
                    Some(s) if !s.trim().is_empty() => Some(Secret::new(s.trim())),
                    _ => {
                        errors.push(format!(
                                "`apps.\"{employee}\".{key}_env` names {var}, which is not set; export it or write `{key}` in the file"
                            ));
                        None
                    }
                },
                (Some(_), Some(_)) => {
                    errors.push(format!(
                        "`apps.\"{employee}\"` sets both `{key}` and `{key}_env`; keep one"
                    ));
                    None
                }
                (None, None) => None,
            };
            let bot = secret("bot_token", entry.bot_token, entry.bot_token_env);
            let signing = secret(
                "signing_secret",
                entry.signing_secret,
                entry.signing_secret_env,
            );
            let app = secret("app_token", entry.app_token, entry.app_token_env);
            let user = secret("user_token", entry.user_token, entry.user_token_env);
            if !given.0 {
                errors.push(format!(
                    "`apps.\"{employee}\"` needs `bot_token_env` (or `bot_token`): the app's Bot User OAuth Token, xoxb-…"
                ));
            }
            if !given.1 && !given.2 {
                errors.push(format!(
                    "`apps.\"{employee}\"` needs `signing_secret_env` (the app's Signing Secret, for the Events API at /slack/events/{employee}) or `app_token_env` (an app-level token, xapp-…, for Socket Mode)"
                ));
            }
            let (Some(bot_token), true) = (bot, errors.len() == before) else {
                continue;
            };
            apps.insert(
                employee.trim().to_ascii_lowercase(),
                SlackApp {
                    employee: employee.trim().to_ascii_lowercase(),
                    bot_token,
                    signing_secret: signing,
                    app_token: app,
                    app_id: entry.app_id.map(|a| a.trim().to_string()),
                    user_token: user,
                },
            );
        }
        if errors.is_empty() {
            Ok(SlackApps { apps })
        } else {
            Err(errors)
        }
    }

    /// The app of `employee` (as the file names it), if any.
    pub fn get(&self, employee: &str) -> Option<&SlackApp> {
        self.apps.get(&employee.trim().to_ascii_lowercase())
    }

    /// Every app.
    pub fn iter(&self) -> impl Iterator<Item = &SlackApp> {
        self.apps.values()
    }

    /// Number of apps.
    pub fn len(&self) -> usize {
        self.apps.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_come_from_the_file_or_the_environment_and_never_print() {
        let text = r#"
            [apps."Sam.Rivera"]
            bot_token = "xoxb-sam"
            signing_secret_env = "SAM_SIGNING"
            [apps."casey.kim"]
            bot_token_env = "CASEY_BOT"
            app_token_env = "CASEY_APP"
            app_id = "A0CASEY"
        "#;
        let env = |v: &str| match v {
            "SAM_SIGNING" => Some("s3cret".to_string()),
            "CASEY_BOT" => Some("xoxb-casey".to_string()),
            "CASEY_APP" => Some("xapp-casey".to_string()),
            _ => None,
        };
        let apps = SlackApps::parse(text, env).unwrap();
        let sam = apps.get("sam.rivera").unwrap();
        assert_eq!(sam.bot_token.expose(), "xoxb-sam");
        assert_eq!(sam.signing_secret.as_ref().unwrap().expose(), "s3cret");
        assert!(sam.app_token.is_none());
        let casey = apps.get("casey.kim").unwrap();
        assert_eq!(casey.app_token.as_ref().unwrap().expose(), "xapp-casey");
        assert_eq!(casey.app_id.as_deref(), Some("A0CASEY"));
        let shown = format!("{apps:?}");
        for secret in ["xoxb-sam", "s3cret", "xoxb-casey", "xapp-casey"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn each_bad_app_is_named_with_its_key_and_the_fix() {
        let text = r#"
            [apps."a"]
            bot_token_env = "UNSET_BOT"
            signing_secret = "x"
            [apps."b"]
            bot_token = "xoxb-b"
            [apps."c"]
            signing_secret = "x"
            [apps."d"]
            bot_token = "xoxb-d"
            app_token = "xapp"
            app_token_env = "D_APP"
            [apps."e"]
            bot_token_env = "UNSET_BOT"
            [apps."f"]
            bot_token = "xoxb-f"
            signing_secret = "  "
        "#;
        let errors = SlackApps::parse(text, |_| None).unwrap_err();
        assert_eq!(errors.len(), 7, "{errors:?}");
        assert!(errors[0].contains("`apps.\"a\".bot_token_env` names UNSET_BOT, which is not set"));
        assert!(errors[1].contains("`apps.\"b\"` needs `signing_secret_env`"));
        assert!(errors[1].contains("/slack/events/b"));
        assert!(errors[2].contains("`apps.\"c\"` needs `bot_token_env`"));
        assert!(errors[3].contains("both `app_token` and `app_token_env`"));
        // Every problem of one app at once.
        assert!(errors[4].contains("`apps.\"e\".bot_token_env` names UNSET_BOT"));
        assert!(errors[5].contains("`apps.\"e\"` needs `signing_secret_env`"));
        // An empty signing secret would let anyone sign.
        assert!(errors[6].contains("`apps.\"f\".signing_secret` is empty"));
    }

    #[test]
    fn a_malformed_file_is_refused_without_quoting_it() {
        let errors =
            SlackApps::parse("[apps.\"a\"]\nbot_token = \"xoxb-secret", |_| None).unwrap_err();
        assert!(!errors[0].contains("xoxb-secret"), "{errors:?}");
        let errors = SlackApps::parse("[apps.\"a\"]\nbot_tokn = \"x\"", |_| None).unwrap_err();
        assert!(
            errors[0].contains("valid Slack credentials file"),
            "{errors:?}"
        );
    }

    #[test]
    fn the_api_url_must_be_http() {
        let cfg = ChatConfig {
            api_url: "slack.com/api".into(),
            ..ChatConfig::default()
        };
        let mut e = Vec::new();
        cfg.validate("empla.toml", &mut e);
        assert_eq!(e[0].key, "chat.api_url");
        let mut e = Vec::new();
        ChatConfig::default().validate("empla.toml", &mut e);
        assert!(e.is_empty(), "{e:?}");
    }
}
