//! `[a2a]`: how the node serves the A2A protocol.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// `[a2a]` in `config/empla.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct A2aConfig {
    /// How long a (non-streaming) `SendMessage` waits for the task to end or to need
    /// input before answering with the task as it stands. Below `api.request_timeout`.
    #[serde(with = "humantime_serde")]
    pub answer_wait: Duration,
    /// First retry delay of a push notification that failed; doubles each try.
    #[serde(with = "humantime_serde")]
    pub push_backoff: Duration,
    /// Longest delay between two tries of one push notification.
    #[serde(with = "humantime_serde")]
    pub push_backoff_max: Duration,
    /// Tries before a push notification is given up on (and logged).
    pub push_attempts: u32,
    /// Time allowed for one webhook call.
    #[serde(with = "humantime_serde")]
    pub push_timeout: Duration,
    /// Allow webhooks on loopback and private addresses (tests, one-machine setups).
    /// Off by default: a caller could otherwise make the node call its own network.
    pub push_allow_private: bool,
    /// The outside agents employees may call by name (`a2a.send` to `NAME`), see
    /// [`AgentConfig`].
    pub agents: BTreeMap<String, AgentConfig>,
    /// Allow agent card URLs that a plan names (not those of `[a2a.agents]`) on loopback
    /// and private addresses (tests, one-machine setups). Off by default: a plan could
    /// otherwise make the node call into its own network.
    pub allow_private_agents: bool,
    /// `node.public_url`, copied here when the node starts (not an `[a2a]` key).
    #[serde(skip)]
    pub public_url: String,
}

impl Default for A2aConfig {
    fn default() -> Self {
        A2aConfig {
            answer_wait: Duration::from_secs(20),
            push_backoff: Duration::from_secs(1),
            push_backoff_max: Duration::from_secs(300),
            push_attempts: 12,
            push_timeout: Duration::from_secs(10),
            push_allow_private: false,
            agents: BTreeMap::new(),
            allow_private_agents: false,
            public_url: String::new(),
        }
    }
}

/// `[a2a.agents.NAME]`: an outside A2A 1.0 agent employees call by `NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The agent card's URL, e.g.
    /// `https://partner.example.com/a2a/jordan.lee/.well-known/agent-card.json`.
    pub card: String,
    /// Name of the environment variable holding the agent's bearer token, if it needs
    /// one; read when the node starts.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Longest wait for one call to the agent (the card, a send, a look at a task).
    #[serde(default = "default_agent_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

/// The wait for one call to an outside agent when none is configured.
pub(crate) const AGENT_TIMEOUT: Duration = Duration::from_secs(30);

fn default_agent_timeout() -> Duration {
    AGENT_TIMEOUT
}

/// Whether `s` may name an outside agent: letters, digits, `_`, `-` and `.`.
pub(crate) fn agent_name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl AgentConfig {
    fn validate(&self, file: &str, name: &str, e: &mut Vec<ConfigError>) {
        let key = format!("a2a.agents.{name}");
        if !agent_name_ok(name) {
            e.push(ConfigError::new(
                file,
                &key,
                "an agent's name is letters, digits, `_`, `-` and `.` (plans send to it by that name)",
            ));
        }
        let card = reqwest::Url::parse(&self.card);
        let why = match &card {
            Err(err) => Some(format!("{:?} is not a URL ({err})", self.card)),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                Some(format!("{:?} is not an http(s) URL", self.card))
            }
            Ok(u) if u.host_str().is_none_or(str::is_empty) => {
                Some(format!("{:?} has no host", self.card))
            }
            Ok(_) => None,
        };
        if let Some(why) = why {
            e.push(ConfigError::new(
                file,
                format!("{key}.card"),
                format!(
                    "{why}; give the agent card's URL, e.g. \"https://partner.example.com/a2a/jordan.lee/.well-known/agent-card.json\""
                ),
            ));
        }
        if let Some(var) = &self.token_env {
            let ok = !var.is_empty()
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !var.starts_with(|c: char| c.is_ascii_digit());
            if !ok {
                e.push(ConfigError::new(
                    file,
                    format!("{key}.token_env"),
                    format!("{var:?} is not an environment variable's name; name the variable holding the agent's bearer token, e.g. \"PARTNER_A2A_TOKEN\""),
                ));
            }
        }
        if self.timeout.is_zero() {
            e.push(ConfigError::new(
                file,
                format!("{key}.timeout"),
                "must be longer than 0s, e.g. \"30s\"",
            ));
        }
    }
}

impl A2aConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        for (name, agent) in &self.agents {
            agent.validate(file, name, e);
        }
        let mut bad = |key: &str, message: &str| e.push(ConfigError::new(file, key, message));
        if self.answer_wait.is_zero() {
            bad(
                "a2a.answer_wait",
                "must be longer than 0s, e.g. \"20s\" (below `api.request_timeout`)",
            );
        }
        if self.push_backoff.is_zero() || self.push_backoff > self.push_backoff_max {
            bad(
                "a2a.push_backoff",
                "must be longer than 0s and at most `a2a.push_backoff_max`, e.g. \"1s\"",
            );
        }
        if self.push_attempts == 0 {
            bad("a2a.push_attempts", "must be at least 1, e.g. 12");
        }
        if self.push_timeout.is_zero() {
            bad("a2a.push_timeout", "must be longer than 0s, e.g. \"10s\"");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_waits_are_refused_by_key() {
        let mut e = Vec::new();
        A2aConfig::default().validate("t.toml", &mut e);
        assert!(e.is_empty(), "{e:?}");
        let c = A2aConfig {
            answer_wait: Duration::ZERO,
            push_attempts: 0,
            ..A2aConfig::default()
        };
        c.validate("t.toml", &mut e);
        let keys: Vec<_> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a2a.answer_wait", "a2a.push_attempts"]);
    }

    #[test]
    fn outside_agents_are_checked_by_key() {
        let cfg: A2aConfig = toml::from_str(
            r#"
[agents.partner]
card = "https://partner.example.com/a2a/jordan.lee/.well-known/agent-card.json"
token_env = "PARTNER_TOKEN"
timeout = "5s"

[agents."bad name"]
card = "ftp://x/card.json"

[agents.nohost]
card = "not a url"
token_env = "1BAD"
timeout = "0s"
"#,
        )
        .unwrap();
        assert_eq!(cfg.agents["partner"].timeout, Duration::from_secs(5));
        let mut e = Vec::new();
        cfg.validate("t.toml", &mut e);
        let keys: Vec<_> = e.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "a2a.agents.bad name",
                "a2a.agents.bad name.card",
                "a2a.agents.nohost.card",
                "a2a.agents.nohost.token_env",
                "a2a.agents.nohost.timeout",
            ],
            "{e:?}"
        );
        assert!(e[1].to_string().contains("not an http(s) URL"), "{}", e[1]);
        let unknown =
            toml::from_str::<A2aConfig>("[agents.x]\ncard = \"https://a/c\"\nurl = \"y\"");
        assert!(unknown.is_err(), "unknown keys are refused");
    }
}
