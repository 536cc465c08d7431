//! `[memory]`: how employees remember — the embedder behind similarity search, how long
//! episodes are kept, and the working-memory budget.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Which embedder turns memories into vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbedderKind {
    /// Built in, offline, deterministic (feature hashing); the default.
    Builtin,
    /// An OpenAI-compatible `/embeddings` HTTP API.
    Openai,
}

/// `[memory]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryConfig {
    /// `builtin` or `openai`.
    pub embedder: EmbedderKind,
    /// Vector size: the built-in embedder's (default 256) or the provider model's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<usize>,
    /// Base address of the OpenAI-compatible API, e.g. `https://api.openai.com/v1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embeddings_url: Option<String>,
    /// Model asked for.
    pub embeddings_model: String,
    /// Environment variable holding the API key (the key itself never goes in a file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embeddings_api_key_env: Option<String>,
    /// Episodes older than this are deleted (the tenant's retention); none keeps all.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub retention: Option<Duration>,
    /// Token budget of an employee's working memory.
    pub working_memory_tokens: usize,
    /// When each employee's previous day is consolidated (and retention applied): a
    /// cron expression, 5 or 6 fields, UTC.
    pub consolidate_at: String,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            embedder: EmbedderKind::Builtin,
            dimensions: None,
            embeddings_url: None,
            embeddings_model: "text-embedding-3-small".into(),
            embeddings_api_key_env: None,
            retention: None,
            working_memory_tokens: 4096,
            consolidate_at: "0 30 2 * * *".into(),
        }
    }
}

impl MemoryConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        if let Some(d) = self.dimensions
            && !(8..=8192).contains(&d)
        {
            e.push(ConfigError::new(
                file,
                "memory.dimensions",
                format!("must be between 8 and 8192, got {d}"),
            ));
        }
        if self.embedder == EmbedderKind::Openai {
            if self.embeddings_url.is_none() {
                e.push(ConfigError::new(
                    file,
                    "memory.embeddings_url",
                    "is needed with embedder = \"openai\": the API's base address, e.g. \"https://api.openai.com/v1\"",
                ));
            }
            if self.dimensions.is_none() {
                e.push(ConfigError::new(
                    file,
                    "memory.dimensions",
                    "is needed with embedder = \"openai\": the model's vector size (1536 for text-embedding-3-small)",
                ));
            }
        }
        if let Some(r) = self.retention
            && r < Duration::from_secs(86_400)
        {
            e.push(ConfigError::new(
                file,
                "memory.retention",
                format!(
                    "must be at least 1 day, got {}",
                    humantime::format_duration(r)
                ),
            ));
        }
        if let Err(why) = crate::config::normalize_cron(&self.consolidate_at) {
            e.push(ConfigError::new(file, "memory.consolidate_at", why));
        }
        if self.working_memory_tokens < 256 {
            e.push(ConfigError::new(
                file,
                "memory.working_memory_tokens",
                format!("must be at least 256, got {}", self.working_memory_tokens),
            ));
        }
    }
}
