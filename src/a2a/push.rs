//! Push notifications: each update of a task is POSTed to every webhook registered for
//! it, with the webhook's token (`A2A-Notification-Token`) and credentials
//! (`Authorization`), at least once. The deliveries are rows queued in the same
//! transaction as the update, so a crash loses none: the worker picks them up at the
//! next start. A failed call is retried with exponential backoff up to
//! `a2a.push_attempts` tries, then given up on and logged.

use super::{A2aConfig, Ledger};
use crate::store::A2aDelivery;
use a2a::TaskPushNotificationConfig;
use chrono::Utc;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Deliveries taken at a time.
const BATCH: i64 = 64;
/// How often the worker looks for due retries when nothing wakes it.
const TICK: Duration = Duration::from_millis(500);

/// Why a webhook URL is refused.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("the webhook URL is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("the webhook URL must be http or https".into());
    }
    let Some(host) = u.host_str() else {
        return Err("the webhook URL has no host".into());
    };
    if allow_private {
        return Ok(());
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let private = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
        }
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback()
                || ip.is_unspecified()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost"),
    };
    if private {
        return Err(
            "the webhook URL is on a loopback or private address, which this node does not call \
             (`a2a.push_allow_private`)"
                .into(),
        );
    }
    Ok(())
}

/// The delay before try `attempt + 1` after `attempt` failed tries.
pub fn backoff(cfg: &A2aConfig, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    cfg.push_backoff
        .saturating_mul(factor)
        .min(cfg.push_backoff_max)
}

/// Runs the delivery worker until the task is aborted.
pub async fn run(ledger: Arc<Ledger>, cfg: A2aConfig) {
    // The node's one TLS provider (ring), should no one have installed it yet.
    crate::telemetry::install_crypto_provider();
    let client = match reqwest::Client::builder()
        .timeout(cfg.push_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "A2A push notifications are off: no HTTP client");
            return;
        }
    };
    let due = ledger.push_due.clone();
    loop {
        let (store, tenant) = ledger.parts();
        let batch = store
            .a2a_due_deliveries(tenant, Utc::now().timestamp_micros(), BATCH)
            .await;
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "A2A push: cannot read the deliveries due");
                Vec::new()
            }
        };
        let full = batch.len() as i64 == BATCH;
        // A task's updates to one webhook go in order: after a failure the rest of that
        // webhook's updates wait for the retry.
        let mut blocked: Vec<(String, String)> = Vec::new();
        for d in batch {
            let pair = (d.task_id.clone(), d.config_id.clone());
            if blocked.contains(&pair) {
                continue;
            }
            if !deliver(&ledger, &client, &cfg, &d).await {
                blocked.push(pair);
            }
        }
        if !full {
            let _ = tokio::time::timeout(TICK, due.notified()).await;
        }
    }
}

/// Tries one delivery and records the outcome; answers whether it was delivered.
async fn deliver(
    ledger: &Ledger,
    client: &reqwest::Client,
    cfg: &A2aConfig,
    d: &A2aDelivery,
) -> bool {
    let (store, tenant) = ledger.parts();
    let outcome = call(client, cfg, d).await;
    let now = Utc::now();
    let attempts = d.attempts as u32 + 1;
    let (delivered, give_up, error) = match &outcome {
        Ok(()) => (true, false, None),
        Err(e) => (false, attempts >= cfg.push_attempts, Some(e.as_str())),
    };
    let next = now
        + chrono::Duration::from_std(backoff(cfg, attempts)).unwrap_or(chrono::Duration::zero());
    if let Some(e) = error {
        metrics::counter!("empla_a2a_push_failures_total").increment(1);
        if give_up {
            tracing::error!(task = %d.task_id, webhook = %d.config_id, seq = d.seq, attempts, error = %e,
                "A2A push notification given up on");
        } else {
            tracing::warn!(task = %d.task_id, webhook = %d.config_id, seq = d.seq, attempts, error = %e,
                "A2A push notification failed; will retry");
        }
    } else {
        metrics::counter!("empla_a2a_push_delivered_total").increment(1);
    }
    if let Err(e) = store
        .a2a_delivery_tried(
            tenant,
            d,
            delivered,
            next.timestamp_micros(),
            give_up,
            error,
            now.timestamp_micros(),
        )
        .await
    {
        // Not recorded: it is tried again (at least once, perhaps twice).
        tracing::warn!(error = %e, "A2A push: cannot record a delivery");
    }
    delivered
}

async fn call(client: &reqwest::Client, cfg: &A2aConfig, d: &A2aDelivery) -> Result<(), String> {
    let config: TaskPushNotificationConfig =
        serde_json::from_str(&d.config).map_err(|e| format!("stored webhook config: {e}"))?;
    check_url(&config.url, cfg.push_allow_private)?;
    let mut req = client
        .post(&config.url)
        .header("Content-Type", "application/json")
        .body(d.event.clone());
    if let Some(token) = config.token.as_deref().filter(|t| !t.is_empty()) {
        req = req.header("A2A-Notification-Token", token);
    }
    if let Some(auth) = &config.authentication
        && let Some(creds) = auth.credentials.as_deref()
    {
        let scheme = auth.scheme.trim();
        if !scheme.is_empty() {
            req = req.header("Authorization", format!("{scheme} {creds}"));
        }
    }
    let resp = req
        .send()
        .await
        .map_err(|e| format!("the webhook could not be reached: {e}"))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("the webhook answered {}", resp.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_webhooks_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost/x",
            "http://10.1.2.3/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest",
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert!(check_url(url, true).is_ok(), "{url}");
        }
        assert!(check_url("https://hooks.example.com/a2a", false).is_ok());
        assert!(check_url("ftp://hooks.example.com/", true).is_err());
        assert!(check_url("not a url", true).is_err());
    }

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let cfg = A2aConfig {
            push_backoff: Duration::from_secs(1),
            push_backoff_max: Duration::from_secs(10),
            ..A2aConfig::default()
        };
        let delays: Vec<u64> = (1..=6).map(|a| backoff(&cfg, a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
    }
}
