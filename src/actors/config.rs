//! `[runtime]`: how the actor tree behaves — passivation, mailboxes, restarts,
//! shutdown and the employees' own cadence.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[runtime]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// An employee idle this long with nothing pending persists its state and stops.
    #[serde(with = "humantime_serde")]
    pub idle_passivate_after: Duration,
    /// How often idle employees are looked for.
    #[serde(with = "humantime_serde")]
    pub passivation_sweep_every: Duration,
    /// Most delivered-but-unhandled events an employee's mailbox holds; beyond it,
    /// events wait in the store and the employee catches up from there.
    pub mailbox_capacity: usize,
    /// Restarts of one actor allowed within `restart_window` before giving up.
    pub max_restarts: u32,
    /// Times an event may crash its employee before it is set aside (dead-lettered) so
    /// the employee goes on with the rest of its inbox.
    pub max_event_attempts: u32,
    /// Window over which restarts are counted.
    #[serde(with = "humantime_serde")]
    pub restart_window: Duration,
    /// Delay before the first restart; doubles with each further restart.
    #[serde(with = "humantime_serde")]
    pub restart_backoff_initial: Duration,
    /// Longest delay before a restart.
    #[serde(with = "humantime_serde")]
    pub restart_backoff_max: Duration,
    /// Time allowed for a graceful shutdown.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// How often an active employee reasons on its own, without an event: signals,
    /// timed-out waits, at-risk goals.
    #[serde(with = "humantime_serde")]
    pub reflection_interval: Duration,
    /// Most intentions an employee pursues at once; reconsideration drops the
    /// lowest-priority ones beyond it.
    pub max_intentions: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            idle_passivate_after: Duration::from_secs(300),
            passivation_sweep_every: Duration::from_secs(15),
            mailbox_capacity: 1024,
            max_restarts: 5,
            max_event_attempts: 3,
            restart_window: Duration::from_secs(60),
            restart_backoff_initial: Duration::from_millis(100),
            restart_backoff_max: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(10),
            reflection_interval: Duration::from_secs(900),
            max_intentions: 8,
        }
    }
}

impl RuntimeConfig {
    /// Checks the section, pushing an error naming each bad key.
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        let r = self;
        if r.max_intentions == 0 {
            e.push(ConfigError::new(
                file,
                "runtime.max_intentions",
                "must be at least 1",
            ));
        }
        if r.reflection_interval < Duration::from_secs(1) {
            e.push(ConfigError::new(
                file,
                "runtime.reflection_interval",
                "must be at least 1s, e.g. \"15m\"",
            ));
        }
        if r.idle_passivate_after.is_zero() {
            e.push(ConfigError::new(
                file,
                "runtime.idle_passivate_after",
                "must be longer than 0s, e.g. \"5m\"",
            ));
        }
        if r.passivation_sweep_every.is_zero() {
            e.push(ConfigError::new(
                file,
                "runtime.passivation_sweep_every",
                "must be longer than 0s, e.g. \"15s\"",
            ));
        }
        if r.mailbox_capacity == 0 {
            e.push(ConfigError::new(
                file,
                "runtime.mailbox_capacity",
                "must be at least 1, e.g. 1024",
            ));
        }
        if r.max_event_attempts == 0 {
            e.push(ConfigError::new(
                file,
                "runtime.max_event_attempts",
                "must be at least 1, e.g. 3",
            ));
        }
        if r.restart_backoff_initial > r.restart_backoff_max {
            e.push(ConfigError::new(
                file,
                "runtime.restart_backoff_initial",
                "must not exceed `runtime.restart_backoff_max`",
            ));
        }
    }
}
