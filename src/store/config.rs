//! `[store]`: which database the node keeps its rows in, and how the group committer
//! batches writes.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};

/// How hard SQLite pushes each commit to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSync {
    /// fsync on every commit: survives power loss.
    Full,
    /// fsync at checkpoints: survives a process crash, not a power loss.
    Normal,
}

/// `[store]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://PATH` or `postgres://...`; empty means `sqlite://<data_dir>/empla.db`.
    pub url: String,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// SQLite durability of a commit.
    pub sqlite_synchronous: SqliteSync,
    /// Most writes committed together in one transaction (group commit).
    pub write_batch_max: usize,
    /// Capacity of the queue in front of the group committer; a full queue slows
    /// submitters down instead of growing memory.
    pub write_queue: usize,
    /// Most bytes of rows committed together in one transaction; a single write larger
    /// than this is refused, naming its size.
    pub write_batch_bytes: usize,
    /// Most bytes of writes waiting in the queue in front of the group committer;
    /// beyond it, submitters wait.
    pub write_queue_bytes: usize,
    /// Group committers running at once on PostgreSQL (SQLite always uses one).
    pub writers: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 8,
            sqlite_synchronous: SqliteSync::Full,
            write_batch_max: 2048,
            write_queue: 16384,
            write_batch_bytes: 32 << 20,
            write_queue_bytes: 256 << 20,
            writers: 4,
        }
    }
}

impl StoreConfig {
    /// Checks the section, pushing an error naming each bad key.
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        let url = &self.url;
        if !(url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            e.push(ConfigError::new(file, "store.url", format!("must start with sqlite: or postgres:// (or be empty for the embedded SQLite store), got {url:?}")));
        }
        if self.max_connections == 0 {
            e.push(ConfigError::new(
                file,
                "store.max_connections",
                "must be at least 1",
            ));
        }
        if self.writers == 0 {
            e.push(ConfigError::new(
                file,
                "store.writers",
                "must be at least 1",
            ));
        }
        if self.write_batch_bytes < 64 * 1024 {
            e.push(ConfigError::new(
                file,
                "store.write_batch_bytes",
                format!(
                    "must be at least 65536 (64 KiB), got {}; the default is 33554432 (32 MiB)",
                    self.write_batch_bytes
                ),
            ));
        }
        if self.write_queue_bytes < self.write_batch_bytes {
            e.push(ConfigError::new(
                file,
                "store.write_queue_bytes",
                format!(
                    "must be at least `store.write_batch_bytes` ({}), got {}",
                    self.write_batch_bytes, self.write_queue_bytes
                ),
            ));
        }
        if self.write_batch_max == 0 || self.write_queue == 0 {
            e.push(ConfigError::new(
                file,
                "store.write_batch_max",
                "and `store.write_queue` must be at least 1",
            ));
        }
    }
}
