//! `[research]`: where employees search the web (a SearXNG instance, self-hostable, or
//! none), and the limits every page fetch keeps.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[research]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResearchConfig {
    /// Base URL of a SearXNG instance (its JSON API, `/search?format=json`); empty: no
    /// web search, and `research.search` looks in the CRM, shared knowledge and memory.
    pub search_url: String,
    /// The User-Agent fetches send, and the robots.txt group they obey.
    pub user_agent: String,
    /// Largest page read, in bytes; a larger one is refused.
    pub max_bytes: u64,
    /// Longest a fetch (robots.txt, redirects and page) may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Most redirects followed.
    pub max_redirects: usize,
    /// Whether pages on loopback, private and link-local addresses may be fetched
    /// (off: an employee cannot be steered into the company's own network).
    pub allow_private: bool,
}

impl Default for ResearchConfig {
    fn default() -> Self {
        Self {
            search_url: String::new(),
            user_agent: "empla-research".into(),
            max_bytes: 2 * 1024 * 1024,
            timeout: Duration::from_secs(15),
            max_redirects: 5,
            allow_private: false,
        }
    }
}

impl ResearchConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        let url = self.search_url.trim();
        if !url.is_empty() && reqwest::Url::parse(url).is_err_and(|_| true) {
            e.push(ConfigError::new(
                file,
                "research.search_url",
                format!("must be a URL such as \"http://searx.internal:8080\", got {url:?}"),
            ));
        }
        if self.user_agent.trim().is_empty() || !self.user_agent.is_ascii() {
            e.push(ConfigError::new(
                file,
                "research.user_agent",
                "must be a non-empty ASCII name, e.g. \"empla-research\"",
            ));
        }
        if self.max_bytes == 0 {
            e.push(ConfigError::new(
                file,
                "research.max_bytes",
                "must be at least 1 (the largest page read, in bytes)",
            ));
        }
        if self.timeout.is_zero() {
            e.push(ConfigError::new(
                file,
                "research.timeout",
                "must be longer than 0, e.g. \"15s\"",
            ));
        }
    }
}
