//! empla: a runtime for autonomous digital employees.
//!
//! Components, from the bottom up:
//! - [`model`]: plain data — ids, profile, persona, goals, events, episodes.
//! - [`config`]: node config, role templates and employee specs, validated.
//! - [`lifecycle`]: hiring from a role template plus overrides.
//! - [`bdi`]: the pure reasoning core — beliefs, goals, plans, intentions, choice, gate.
//! - [`store`]: persistence (SQLite or PostgreSQL through sqlx) and its group committer.
//! - [`memory`]: what employees remember — episodes, facts, knowledge, procedures,
//!   working memory — with recall and consolidation.
//! - [`capabilities`]: the employee's hands, one component each (email, chat, calendar).
//! - [`connections`]: employees' OAuth connections to outside accounts.
//! - [`actors`]: the supervised actor tree, and only that.
//! - [`node`]: [`node::Node`], the library API the HTTP API, the CLI and tests drive.
//! - [`api`]: the HTTP control plane (axum), with bearer-token auth and OpenAPI.
//! - [`cli`]: the `empla` command line.
#![warn(missing_docs, unreachable_pub)]

pub mod a2a;
pub mod actors;
pub mod api;
pub mod bdi;
pub mod capabilities;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod connections;
pub mod failpoints;
pub mod lifecycle;
pub mod llm;
pub mod mcp;
pub mod memory;
pub mod model;
pub mod node;
pub mod store;
pub mod telemetry;
