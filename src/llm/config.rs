//! `[llm]`: which model the employees use, the next one when it fails, what models cost
//! and how much each employee may spend a day.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Where language comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// No model: plans' fallbacks and the conversation's rules give every text.
    #[default]
    Offline,
    /// The Anthropic Messages API.
    Anthropic,
    /// An OpenAI-compatible chat completions API (OpenAI, Ollama, vLLM, llama.cpp).
    Openai,
    /// A GGUF model run in this process (needs the `local-llm` build feature).
    Local,
}

impl ProviderKind {
    /// Its name in config.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Offline => "offline",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Openai => "openai",
            ProviderKind::Local => "local",
        }
    }
}

/// One provider's settings: `[llm]` itself, or `[llm.fallback]` (which may have its own
/// `fallback`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderSettings {
    /// `offline` (the default), `anthropic`, `openai` or `local`.
    pub provider: ProviderKind,
    /// The model: a vendor's model name, or for `local` the path of a GGUF file.
    pub model: String,
    /// The API's base URL; for OpenAI-compatible servers it includes `/v1` (requests go
    /// to `{base_url}/chat/completions`). Empty: the vendor's own.
    pub base_url: String,
    /// Name of the environment variable holding the API key (never the key itself).
    /// Empty: `ANTHROPIC_API_KEY` or `OPENAI_API_KEY`; a local server may need none.
    pub api_key_env: String,
    /// Longest wait for one answer.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Longest answer, in tokens.
    pub max_tokens: u32,
    /// The next provider when this one keeps failing.
    pub fallback: Option<Box<ProviderSettings>>,
}

impl ProviderSettings {
    /// The API key's environment variable: the configured one or the vendor's usual.
    pub fn key_env(&self) -> &str {
        match (self.api_key_env.as_str(), self.provider) {
            ("", ProviderKind::Anthropic) => "ANTHROPIC_API_KEY",
            ("", ProviderKind::Openai) => "OPENAI_API_KEY",
            (name, _) => name,
        }
    }
}

/// What a model costs, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million prompt tokens.
    pub input: f64,
    /// Per million answer tokens.
    pub output: f64,
}

/// `[llm]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// `offline` (the default), `anthropic`, `openai` or `local`.
    pub provider: ProviderKind,
    /// See [`ProviderSettings::model`].
    pub model: String,
    /// See [`ProviderSettings::base_url`].
    pub base_url: String,
    /// See [`ProviderSettings::api_key_env`].
    pub api_key_env: String,
    /// Longest wait for one answer.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Longest answer, in tokens.
    pub max_tokens: u32,
    /// `[llm.fallback]`: the next provider, same keys.
    pub fallback: Option<Box<ProviderSettings>>,
    /// `[llm.prices."MODEL"]`: what each model costs.
    pub prices: BTreeMap<String, Price>,
    /// Tokens each employee may use a day (UTC); none means no limit. A spent budget
    /// falls back to offline until the next day.
    pub daily_token_budget: Option<u64>,
    /// US dollars each employee may spend a day (by `prices`); none means no limit.
    pub daily_cost_usd: Option<f64>,
    /// Tries of one call to one provider (the first included) on 429, 5xx and timeouts.
    pub attempts: u32,
    /// The first wait before a retry, doubled for each further try (with jitter); a
    /// `retry-after` from the vendor is honoured instead.
    #[serde(with = "humantime_serde")]
    pub backoff: Duration,
    /// Failed calls in a row after which a provider is skipped for `cool_down`.
    pub trip_after: u32,
    /// How long a provider that keeps failing is skipped.
    #[serde(with = "humantime_serde")]
    pub cool_down: Duration,
    /// Prompt templates (`<name>.j2`) replacing the shipped ones, relative to the node
    /// file; a missing directory means the shipped prompts.
    pub prompts_dir: std::path::PathBuf,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            provider: ProviderKind::Offline,
            model: String::new(),
            base_url: String::new(),
            api_key_env: String::new(),
            timeout: Duration::from_secs(60),
            max_tokens: 1024,
            fallback: None,
            prices: BTreeMap::new(),
            daily_token_budget: None,
            daily_cost_usd: None,
            attempts: 3,
            backoff: Duration::from_millis(500),
            trip_after: 3,
            cool_down: Duration::from_secs(60),
            prompts_dir: std::path::PathBuf::from("prompts"),
        }
    }
}

impl LlmConfig {
    /// The providers to try, in order, with their config key prefixes (`llm`,
    /// `llm.fallback`, ...); offline ones are left out (offline is what remains).
    pub fn chain(&self) -> Vec<(String, ProviderSettings)> {
        let first = ProviderSettings {
            provider: self.provider,
            model: self.model.clone(),
            base_url: self.base_url.clone(),
            api_key_env: self.api_key_env.clone(),
            timeout: self.timeout,
            max_tokens: self.max_tokens,
            fallback: self.fallback.clone(),
        };
        let mut out = Vec::new();
        let mut next = Some(first);
        let mut key = "llm".to_string();
        while let Some(mut s) = next {
            next = s.fallback.take().map(|b| *b);
            if s.provider != ProviderKind::Offline {
                out.push((key.clone(), s));
            }
            key.push_str(".fallback");
        }
        out
    }

    /// What the settings get wrong, each naming its key.
    pub fn validate(&self, file: &str) -> Vec<ConfigError> {
        let mut e = Vec::new();
        for (key, s) in self.chain() {
            if s.model.trim().is_empty() {
                let what = if s.provider == ProviderKind::Local {
                    "the path of a GGUF model file"
                } else {
                    "the vendor's model name, e.g. `claude-sonnet-4-5` or `gpt-4o-mini`"
                };
                e.push(ConfigError::new(
                    file,
                    format!("{key}.model"),
                    format!("is empty: provider `{}` needs {what}", s.provider.as_str()),
                ));
            }
            if s.timeout.is_zero() {
                e.push(ConfigError::new(
                    file,
                    format!("{key}.timeout"),
                    "must be longer than zero (e.g. \"60s\")",
                ));
            }
            if s.max_tokens == 0 {
                e.push(ConfigError::new(
                    file,
                    format!("{key}.max_tokens"),
                    "must be at least 1",
                ));
            }
            let web = |u: &str| u.starts_with("http://") || u.starts_with("https://");
            if !(s.base_url.is_empty() || web(&s.base_url)) {
                e.push(ConfigError::new(
                    file,
                    format!("{key}.base_url"),
                    format!(
                        "is {:?}: give an http:// or https:// URL (for OpenAI-compatible servers, ending in /v1)",
                        s.base_url
                    ),
                ));
            }
            #[cfg(not(feature = "local-llm"))]
            if s.provider == ProviderKind::Local {
                e.push(ConfigError::new(
                    file,
                    format!("{key}.provider"),
                    "is `local`, but this empla was built without the `local-llm` feature: build with `cargo build --release --features local-llm`, or use another provider",
                ));
            }
        }
        if self.attempts == 0 {
            e.push(ConfigError::new(file, "llm.attempts", "must be at least 1"));
        }
        if self.trip_after == 0 {
            e.push(ConfigError::new(
                file,
                "llm.trip_after",
                "must be at least 1",
            ));
        }
        for (model, p) in &self.prices {
            if [p.input, p.output].iter().any(|x| x.is_nan() || *x < 0.0) {
                e.push(ConfigError::new(
                    file,
                    format!("llm.prices.\"{model}\""),
                    "must not be negative",
                ));
            }
        }
        if self.daily_cost_usd.is_some_and(|c| c.is_nan() || c < 0.0) {
            e.push(ConfigError::new(
                file,
                "llm.daily_cost_usd",
                "must not be negative",
            ));
        }
        e
    }

    /// What `usage` of `model` costs, by `prices` (zero for a model not priced).
    pub fn cost(&self, model: &str, usage: super::Usage) -> f64 {
        self.prices.get(model).map_or(0.0, |p| {
            (usage.input_tokens as f64 * p.input + usage.output_tokens as f64 * p.output) / 1e6
        })
    }
}
