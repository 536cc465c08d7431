//! The wire formats: one module per vendor API, and the local model.

pub(super) mod anthropic;
mod http;
#[cfg(feature = "local-llm")]
pub(super) mod local;
pub(super) mod openai;
