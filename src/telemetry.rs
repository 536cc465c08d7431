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
            if metrics::set_global_recorder(recorder).is_ok() {
                describe();
            }
            handle
        })
        .clone()
}

/// What each metric means (Prometheus `# HELP`), and the counters a scrape should show
/// at zero before anything has happened (a restart counter absent until the first
/// crash reads as "not exported", not as "no restarts").
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    let counters = [
        (
            "empla_events_accepted_total",
            "Events stored in an employee's durable inbox.",
        ),
        (
            "empla_events_processed_total",
            "Events an employee has reasoned about and committed.",
        ),
        (
            "empla_events_set_aside_total",
            "Events set aside (dead-lettered) after crashing their employee again and again.",
        ),
        (
            "empla_actions_total",
            "Actions carried out from the outbox, by outcome (`status`).",
        ),
        (
            "empla_actor_restarts_total",
            "Actors restarted by their supervisor after a failure, by `actor`.",
        ),
        (
            "empla_employee_failures_total",
            "Employees given up on after too many restarts (state `failed`).",
        ),
        (
            "empla_commit_failures_total",
            "Reasoning cycles whose store commit failed (the employee resumed from the store).",
        ),
        (
            "empla_mailbox_overflows_total",
            "Events refused because an employee's mailbox was full.",
        ),
        (
            "empla_api_header_timeouts_total",
            "HTTP connections closed for sending their request head too slowly.",
        ),
        (
            "empla_slack_events_total",
            "Slack events received, by transport (`via`) and `outcome`.",
        ),
        (
            "empla_mail_received_total",
            "Mail messages taken in from IMAP.",
        ),
        (
            "empla_mail_refused_total",
            "Mail messages refused at intake.",
        ),
        (
            "empla_mail_parked_total",
            "Mail messages parked because they could not be taken in.",
        ),
        (
            "empla_mail_imap_errors_total",
            "IMAP connection or command errors.",
        ),
        (
            "empla_mail_withheld_total",
            "Automatic mail withheld by the mail robot's manners (RFC 3834).",
        ),
        (
            "empla_store_write_errors_total",
            "Writes the store could not commit.",
        ),
        (
            "empla_store_batch_splits_total",
            "Group commits split to isolate a write that failed.",
        ),
        (
            "empla_escalations_decided_total",
            "Escalations decided, `by` a human or by precedent.",
        ),
    ];
    for (name, help) in counters {
        describe_counter!(name, help);
    }
    let gauges = [
        ("empla_employees", "Hired employees by employment `status`."),
        (
            "empla_employees_runtime",
            "Employees by runtime `state` (idle, active, failed, ...).",
        ),
        (
            "empla_employee_backlog",
            "Events waiting for a failed employee.",
        ),
        ("empla_api_connections", "HTTP connections being served."),
        (
            "empla_mail_mailboxes_watched",
            "IMAP mailboxes watched for new mail.",
        ),
    ];
    for (name, help) in gauges {
        describe_gauge!(name, help);
    }
    let histograms = [
        (
            "empla_mailbox_delay_seconds",
            "Time from an event's acceptance to the start of its processing.",
        ),
        (
            "empla_activation_seconds",
            "Time to activate an idle employee from the store.",
        ),
        (
            "empla_store_batch_size",
            "Writes committed together in one store transaction (group commit).",
        ),
        (
            "empla_store_batch_bytes",
            "Bytes written in one store transaction (group commit).",
        ),
    ];
    for (name, help) in histograms {
        describe_histogram!(name, help);
    }
    for actor in [
        "employee",
        "employee_supervisor",
        "memory",
        "capability",
        "a2a",
        "registry",
        "scheduler",
    ] {
        metrics::counter!("empla_actor_restarts_total", "actor" => actor).increment(0);
    }
    for name in [
        "empla_events_set_aside_total",
        "empla_employee_failures_total",
        "empla_commit_failures_total",
    ] {
        metrics::counter!(name).increment(0);
    }
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
