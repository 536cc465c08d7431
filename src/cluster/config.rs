//! `[cluster]`: whether this node is one of several sharing a PostgreSQL store, how it
//! is named and reached by the others, and the lease timing.

use crate::config::ConfigError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[cluster]` in `config/empla.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Run as one node of a cluster: employees are owned by leases in the shared
    /// PostgreSQL store and move to the surviving nodes when a node dies.
    pub enabled: bool,
    /// This node's name in the cluster (letters, digits, `-`, `_`; at most 40). Empty:
    /// generated at first start and kept in `node.data_dir/node-id`.
    pub node_id: String,
    /// The URL the other nodes reach this node's API at (`http://10.0.0.5:7700`).
    /// Empty: `http://` and the address the API is bound to, which suits nodes on one
    /// machine only.
    pub advertise: String,
    /// Name of the environment variable holding the secret the nodes share: calls between
    /// nodes carry it, and a call with a wrong or missing secret is refused.
    pub secret_env: String,
    /// How long a lease lasts unless renewed; a node without a heartbeat for this long is
    /// dead to the others, and its employees move.
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// How often a node heartbeats and renews all its leases (one statement).
    #[serde(with = "humantime_serde")]
    pub heartbeat_every: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            enabled: false,
            node_id: String::new(),
            advertise: String::new(),
            secret_env: "EMPLA_CLUSTER_SECRET".into(),
            lease_ttl: Duration::from_secs(10),
            heartbeat_every: Duration::from_secs(2),
        }
    }
}

/// Whether `s` may name a node.
pub(crate) fn node_id_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl ClusterConfig {
    /// Checks the section; `store_url` is the store the node will open.
    pub(crate) fn validate(&self, file: &str, store_url: &str, e: &mut Vec<ConfigError>) {
        if !self.enabled {
            return;
        }
        let mut bad = |key: &str, message: String| e.push(ConfigError::new(file, key, message));
        if !store_url.starts_with("postgres") {
            bad(
                "cluster.enabled",
                "a cluster needs the PostgreSQL store its nodes share (the embedded SQLite file belongs to one node); set `store.url` to a postgres:// URL, or set `cluster.enabled = false`".into(),
            );
        }
        if !self.node_id.is_empty() && !node_id_ok(&self.node_id) {
            bad(
                "cluster.node_id",
                format!(
                    "must be 1 to 40 letters, digits, - or _, got {:?}; or leave it empty to have one generated",
                    self.node_id
                ),
            );
        }
        if !self.advertise.is_empty() {
            let ok = reqwest::Url::parse(&self.advertise).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            if !ok {
                bad(
                    "cluster.advertise",
                    format!(
                        "must be the http(s) URL other nodes reach this node's API at, such as \"http://10.0.0.5:7700\", got {:?}",
                        self.advertise
                    ),
                );
            }
        }
        let var_ok = !self.secret_env.is_empty()
            && self
                .secret_env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !self.secret_env.starts_with(|c: char| c.is_ascii_digit());
        if !var_ok {
            bad(
                "cluster.secret_env",
                format!(
                    "{:?} is not an environment variable's name; name the variable holding the nodes' shared secret, e.g. \"EMPLA_CLUSTER_SECRET\"",
                    self.secret_env
                ),
            );
        }
        if self.heartbeat_every.is_zero() {
            bad(
                "cluster.heartbeat_every",
                "must be longer than 0s, e.g. \"2s\"".into(),
            );
        }
        if self.lease_ttl < self.heartbeat_every * 2 {
            bad(
                "cluster.lease_ttl",
                format!(
                    "must be at least twice `cluster.heartbeat_every` ({:?}), so a lease outlives one missed renewal; got {:?}",
                    self.heartbeat_every, self.lease_ttl
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(c: &ClusterConfig, url: &str) -> String {
        let mut e = Vec::new();
        c.validate("t.toml", url, &mut e);
        e.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_cluster_on_sqlite_is_refused_saying_why() {
        let c = ClusterConfig {
            enabled: true,
            ..Default::default()
        };
        let text = errors(&c, "sqlite://data/empla.db");
        assert!(text.contains("`cluster.enabled`"), "{text}");
        assert!(text.contains("PostgreSQL store its nodes share"), "{text}");
        assert_eq!(errors(&c, "postgres://db/empla"), "");
    }

    #[test]
    fn bad_values_name_the_key() {
        let c = ClusterConfig {
            enabled: true,
            node_id: "a b".into(),
            advertise: "10.0.0.5:7700".into(),
            secret_env: "1X".into(),
            lease_ttl: Duration::from_secs(2),
            heartbeat_every: Duration::from_secs(2),
        };
        let text = errors(&c, "postgres://db/empla");
        for key in [
            "cluster.node_id",
            "cluster.advertise",
            "cluster.secret_env",
            "cluster.lease_ttl",
        ] {
            assert!(text.contains(&format!("`{key}`")), "{key}: {text}");
        }
    }
}
