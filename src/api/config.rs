//! `[api]`: how the HTTP server holds under load and abuse — how long a client may take
//! to send its request head, how long a whole request may take, how many connections are
//! served at once and how large a body may be.
//!
//! Every limit has a concrete default, so each key can be overridden by an
//! `EMPLA_API__<KEY>` variable. Nothing here opens a socket.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[api]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// A connection that has not sent a complete request head (request line and headers)
    /// this long after it was accepted, or after its previous response, is closed. This
    /// is what frees the slots of stalled clients; at most 5s is advised.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Longest time for a whole request once its head is in: reading the body and the
    /// handler's work. Past it the client is answered 503 with code `timeout`. Keep it
    /// above the 5s a chat message waits for its answer.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Most connections served at once; further connections wait in the kernel's listen
    /// backlog until one closes.
    pub max_connections: u32,
    /// Largest accepted request body, in bytes; larger ones are answered 413.
    pub max_body_bytes: usize,
    /// Host names (or `host:port`) the MCP endpoint `/mcp` answers to besides loopback
    /// (`localhost`, `127.0.0.1`, `::1`), e.g. `["empla.example.com"]`; a request naming
    /// another `Host` is refused, against DNS rebinding.
    pub mcp_allowed_hosts: Vec<String>,
    /// How long a dashboard login lasts before the person must log in again.
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_body_bytes: 1024 * 1024,
            mcp_allowed_hosts: Vec::new(),
            session_ttl: Duration::from_secs(8 * 3600),
        }
    }
}

/// Smallest `max_body_bytes` accepted: below it even a small event does not fit.
const MIN_BODY_BYTES: usize = 1024;

impl ApiConfig {
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        if self.header_read_timeout.is_zero() {
            e.push(ConfigError::new(
                file,
                "api.header_read_timeout",
                "must be longer than 0s; at most 5s is advised, e.g. \"5s\"",
            ));
        }
        if self.request_timeout.is_zero() {
            e.push(ConfigError::new(
                file,
                "api.request_timeout",
                "must be longer than 0s, e.g. \"30s\"",
            ));
        }
        if self.session_ttl < Duration::from_secs(60) {
            e.push(ConfigError::new(
                file,
                "api.session_ttl",
                "must be at least 1m, e.g. \"8h\"",
            ));
        }
        if self.max_connections == 0 {
            e.push(ConfigError::new(
                file,
                "api.max_connections",
                "must be at least 1, e.g. 1024",
            ));
        }
        for h in &self.mcp_allowed_hosts {
            if h.is_empty() || h.contains(['/', ' ', '@']) {
                e.push(ConfigError::new(
                    file,
                    "api.mcp_allowed_hosts",
                    format!("{h:?} is not a host name or host:port; write e.g. \"empla.example.com\" (no scheme, no path)"),
                ));
            }
        }
        if self.max_body_bytes < MIN_BODY_BYTES {
            e.push(ConfigError::new(
                file,
                "api.max_body_bytes",
                format!(
                    "must be at least {MIN_BODY_BYTES} bytes, got {}; the default is 1048576 (1 MiB)",
                    self.max_body_bytes
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(c: &ApiConfig) -> Vec<ConfigError> {
        let mut e = Vec::new();
        c.validate("t.toml", &mut e);
        e
    }

    #[test]
    fn defaults_are_valid_and_read_headers_within_five_seconds() {
        let c = ApiConfig::default();
        assert!(errors(&c).is_empty());
        assert!(c.header_read_timeout <= Duration::from_secs(5));
    }

    #[test]
    fn zero_limits_are_refused_each_naming_its_key() {
        let c = ApiConfig {
            header_read_timeout: Duration::ZERO,
            request_timeout: Duration::ZERO,
            max_connections: 0,
            max_body_bytes: 10,
            mcp_allowed_hosts: vec![
                "https://empla.example.com/".into(),
                "empla.example.com".into(),
            ],
            ..ApiConfig::default()
        };
        let keys: Vec<_> = errors(&c).into_iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            [
                "api.header_read_timeout",
                "api.request_timeout",
                "api.max_connections",
                "api.mcp_allowed_hosts",
                "api.max_body_bytes"
            ]
        );
    }
}
