//! The wire formats: one module per vendor API, and the local model.

#[cfg(feature = "local-llm")]
pub mod local;
