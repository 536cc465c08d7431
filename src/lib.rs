//! empla: a runtime for autonomous digital employees.
//!
//! Components, from the bottom up:
//! - [`model`]: plain data — ids, profile, persona, goals, events, episodes.
//! - [`config`]: node config, role templates and employee specs, validated.
//! - [`lifecycle`]: hiring from a role template plus overrides.
//! - [`bdi`]: the pure reasoning core — beliefs, goals, plans, intentions, choice, gate.
//! - [`memory`]: the store (SQLite or PostgreSQL through sqlx) and its group committer.
//! - [`capabilities`]: the employee's hands (drivers come with later issues).
//! - [`actors`]: the supervised actor tree and [`actors::Node`], the library API.
//! - [`api`]: the HTTP control plane (axum), with bearer-token auth and OpenAPI.
//! - [`cli`]: the `empla` command line.
#![warn(missing_docs, unreachable_pub)]

pub mod actors;
pub mod api;
pub mod bdi;
pub mod capabilities;
pub mod cli;
pub mod config;
pub mod lifecycle;
pub mod memory;
pub mod model;
pub mod telemetry;
