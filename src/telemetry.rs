//! Logging (tracing) and metrics (the `metrics` facade, exported for Prometheus).
//!
//! The Prometheus recorder is process-wide and installed once; every node in the
//! process reports through it.

use crate::config::ConfigError;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus handle, installing the recorder on first use.
pub fn metrics_handle() -> PrometheusHandle {
    METRICS
        .get_or_init(|| {
            let buckets = [
                0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0,
            ];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &buckets)
                .expect("bucket list is not empty")
                .set_buckets_for_metric(
                    Matcher::Full("empla_store_batch_size".into()),
                    &[1.0, 10.0, 100.0, 1000.0, 10000.0],
                )
                .expect("bucket list is not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by an embedding program):
            // then this handle renders nothing, which is all we can do.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Starts logging to stderr with `filter` (overridden by `RUST_LOG`).
pub fn init_logging(filter: &str) {
    // The cron library logs every job it creates at info; keep it to warnings.
    let filter =
        std::env::var("RUST_LOG").unwrap_or_else(|_| format!("{filter},tokio_cron_scheduler=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Installs rustls's ring crypto provider for the process. Several TLS stacks are
/// linked in, so rustls cannot pick one by itself.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `[log]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Log filter (tracing's EnvFilter syntax); `RUST_LOG` takes precedence.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info".into(),
        }
    }
}

impl LogConfig {
    /// Checks the section, pushing an error naming each bad key.
    pub(crate) fn validate(&self, file: &str, e: &mut Vec<ConfigError>) {
        if tracing_subscriber::EnvFilter::try_new(&self.filter).is_err() {
            e.push(ConfigError::new(
                file,
                "log.filter",
                format!(
                    "is not a valid log filter: {:?}; use e.g. \"info\" or \"empla=debug\"",
                    self.filter
                ),
            ));
        }
    }
}
