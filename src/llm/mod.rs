//! Language models behind one trait: the Anthropic Messages API, OpenAI-compatible chat
//! completions (OpenAI, Ollama, vLLM, llama.cpp's server), a local GGUF model run in
//! process (feature `local-llm`), and offline (the default: no model at all, the callers'
//! own rules and templates give the text).
//!
//! A [`Provider`] speaks one wire format. The [`Llm`] service in front of them is what
//! the rest of the node uses: it retries, skips a provider that keeps failing for the
//! next in the `[llm.fallback]` chain, keeps each employee within its daily token and
//! cost budget, and counts usage. Whatever goes wrong, a caller gets an answer: the
//! model's, or its own offline text with the reason the model was not used.

mod chain;
mod config;
pub mod prompt;
mod providers;
mod usage;

pub use chain::{Answer, LanguageStatus, Llm, Source};
pub use config::{LlmConfig, Price, ProviderKind, ProviderSettings};
pub use providers::{anthropic::Anthropic, openai::OpenAi};
pub use usage::{UsageRow, day_of};

#[cfg(feature = "local-llm")]
pub use providers::local::Local;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person (or the node) asking.
    User,
    /// The model.
    Assistant,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// The model calls a tool.
    ToolUse {
        /// The call's id, quoted by its result.
        id: String,
        /// The tool.
        name: String,
        /// Its arguments (a JSON object).
        input: Json,
    },
    /// What a tool call gave.
    ToolResult {
        /// The call answered.
        id: String,
        /// What it gave, as text (JSON for structured results).
        content: String,
        /// Whether the call failed (or was refused).
        is_error: bool,
    },
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: Vec<Block>,
}

impl Message {
    /// A user turn of plain text.
    pub fn user(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: vec![Block::Text { text: text.into() }],
        }
    }

    /// An assistant turn of plain text.
    pub fn assistant(text: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: vec![Block::Text { text: text.into() }],
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Its name (an action kind with `.` written `__`, since vendors allow `[a-zA-Z0-9_-]`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its arguments.
    pub schema: Json,
}

/// What to ask a model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Request {
    /// The system prompt: who the employee is and the rules it keeps.
    pub system: String,
    /// The conversation so far, ending with a user turn.
    pub messages: Vec<Message>,
    /// Tools it may call.
    pub tools: Vec<Tool>,
    /// Longest answer, in tokens; the provider's `max_tokens` when `None`.
    pub max_tokens: Option<u32>,
}

impl Request {
    /// A request of one user message.
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Request {
        Request {
            system: system.into(),
            messages: vec![Message::user(user)],
            ..Request::default()
        }
    }
}

/// Why a model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// It finished its answer.
    EndTurn,
    /// It wants tool results.
    ToolUse,
    /// It reached `max_tokens`.
    MaxTokens,
    /// A stop sequence.
    StopSequence,
    /// Anything else the vendor said.
    Other(String),
}

/// Tokens one call used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt.
    pub input_tokens: u64,
    /// Tokens of the answer.
    pub output_tokens: u64,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// What it said and the tools it calls.
    pub content: Vec<Block>,
    /// Why it stopped.
    pub stop: Stop,
    /// Tokens used.
    pub usage: Usage,
    /// The model that answered, as the vendor names it.
    pub model: String,
}

impl Response {
    /// Its text blocks, joined.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for b in &self.content {
            if let Block::Text { text } = b {
                out.push_str(text);
            }
        }
        out
    }

    /// The tool calls it makes: `(id, name, input)`.
    pub fn tool_calls(&self) -> impl Iterator<Item = (&str, &str, &Json)> {
        self.content.iter().filter_map(|b| match b {
            Block::ToolUse { id, name, input } => Some((id.as_str(), name.as_str(), input)),
            _ => None,
        })
    }
}

/// A piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta {
    /// More text.
    Text(String),
    /// More of a tool call's JSON arguments (`index` is the call's place in the answer).
    ToolInput {
        /// Which call.
        index: usize,
        /// The next piece of its arguments' JSON.
        json: String,
    },
}

/// What went wrong asking a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The vendor refused the key (401/403).
    #[error("{provider} refused the API key ({status}): {message}; fix `{key}`")]
    Auth {
        /// The provider.
        provider: String,
        /// HTTP status.
        status: u16,
        /// What the vendor said.
        message: String,
        /// The config key to fix.
        key: String,
    },
    /// The vendor refused the request (400, 404, 422).
    #[error("{provider} refused the request ({status}): {message}; check `{key}`")]
    Refused {
        /// The provider.
        provider: String,
        /// HTTP status.
        status: u16,
        /// What the vendor said.
        message: String,
        /// The config key to check.
        key: String,
    },
    /// Worth trying again: 429, 5xx, a timeout, a broken connection.
    #[error("{provider} is unavailable: {message}")]
    Transient {
        /// The provider.
        provider: String,
        /// What happened.
        message: String,
        /// How long the vendor asked us to wait (`retry-after`).
        retry_after: Option<std::time::Duration>,
    },
    /// The answer could not be read.
    #[error("{provider} answered something unreadable: {message}")]
    Malformed {
        /// The provider.
        provider: String,
        /// What was wrong.
        message: String,
    },
    /// The provider cannot be used as configured (a missing key, a missing model file).
    #[error("{0}")]
    Config(String),
}

impl LlmError {
    /// Whether asking again may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, LlmError::Transient { .. })
    }
}

/// One model provider: one wire format, one model.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name in config (`anthropic`, `openai`, `local`).
    fn name(&self) -> &str;

    /// The model asked.
    fn model(&self) -> &str;

    /// Asks once: no retries (the [`Llm`] service retries).
    async fn complete(&self, request: &Request) -> Result<Response, LlmError>;

    /// Asks once, streaming: `on` gets each piece as it arrives; the whole answer is
    /// returned at the end, as [`Provider::complete`] would give it.
    async fn stream(
        &self,
        request: &Request,
        on: &mut (dyn FnMut(Delta) + Send),
    ) -> Result<Response, LlmError>;
}
