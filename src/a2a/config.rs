//! `[a2a]`: how the node serves the A2A protocol.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
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
            public_url: String::new(),
        }
    }
}

impl A2aConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
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
}
