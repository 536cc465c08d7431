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

/// Who the node calls out to, for the words of a refusal: what the URL is and the key
/// that would allow private addresses.
#[derive(Debug, Clone, Copy)]
pub struct Outbound {
    /// What the URL is, e.g. "webhook URL".
    pub what: &'static str,
    /// The setting that allows loopback and private addresses.
    pub flag: &'static str,
}

/// Push notification webhooks.
pub const WEBHOOK: Outbound = Outbound {
    what: "webhook URL",
    flag: "a2a.push_allow_private",
};

/// Outside agents a plan names by card URL.
pub const AGENT: Outbound = Outbound {
    what: "agent card URL",
    flag: "a2a.allow_private_agents",
};

/// Whether `ip` is loopback, private, link-local, unspecified or broadcast: an address
/// inside the node's own network, which callers may not make it reach.
pub fn private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT
                || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => private_ip(IpAddr::V4(v4)),
            None => {
                ip.is_loopback()
                    || ip.is_unspecified()
                    || (ip.segments()[0] & 0xfe00) == 0xfc00
                    || (ip.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

/// Why a webhook URL is refused (its host as written; [`check_resolved`] also looks
/// at the addresses a name resolves to).
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    check(url, allow_private, WEBHOOK).map(|_| ())
}

/// Why `url` is refused as an outbound URL of kind `to`: not http(s), no host, or (unless
/// `allow_private`) a loopback or private host as written. Answers the parsed URL.
pub fn check(url: &str, allow_private: bool, to: Outbound) -> Result<reqwest::Url, String> {
    let what = to.what;
    let u = reqwest::Url::parse(url).map_err(|e| format!("the {what} is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("the {what} must be http or https"));
    }
    let Some(host) = u.host_str() else {
        return Err(format!("the {what} has no host"));
    };
    if allow_private {
        return Ok(u);
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let private = match host.parse::<IpAddr>() {
        Ok(ip) => private_ip(ip),
        Err(_) => host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost"),
    };
    if private {
        return Err(refusal(to));
    }
    Ok(u)
}

fn refusal(to: Outbound) -> String {
    format!(
        "the {} is on a loopback or private address, which this node does not call (`{}`)",
        to.what, to.flag
    )
}

/// As [`check`], and a host name must resolve only to public addresses.
pub async fn check_resolved(
    url: &str,
    allow_private: bool,
    to: Outbound,
) -> Result<reqwest::Url, String> {
    let u = check(url, allow_private, to)?;
    if allow_private {
        return Ok(u);
    }
    let host = u.host_str().unwrap_or_default();
    let name = host.trim_start_matches('[').trim_end_matches(']');
    if name.parse::<IpAddr>().is_err() {
        let port = u.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| format!("the {}'s host {name} does not resolve: {e}", to.what))?;
        if addrs.into_iter().any(|a| private_ip(a.ip())) {
            return Err(refusal(to));
        }
    }
    Ok(u)
}

/// A resolver for HTTP clients that may reach public addresses only: a name that
/// resolves to a loopback or private address is refused when the connection is made,
/// so a name cannot point elsewhere between [`check_resolved`] and the call.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly(pub Outbound);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let to = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !private_ip(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(refusal(to).into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
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
    let mut builder = reqwest::Client::builder()
        .timeout(cfg.push_timeout)
        .redirect(reqwest::redirect::Policy::none());
    if !cfg.push_allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly(WEBHOOK)));
    }
    let client = match builder.build() {
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
    check_resolved(&config.url, cfg.push_allow_private, WEBHOOK).await?;
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
        for ip in ["100.64.0.1", "::ffff:127.0.0.1", "fd00::1", "0.0.0.0"] {
            assert!(private_ip(ip.parse().unwrap()), "{ip}");
        }
        assert!(!private_ip("93.184.216.34".parse().unwrap()));
    }

    #[tokio::test]
    async fn names_that_resolve_to_private_addresses_are_refused() {
        // The machine's own name resolves to its own address (loopback or private on
        // any test machine), which no literal check catches.
        let name = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        let name = name.trim();
        let addrs: Vec<_> = tokio::net::lookup_host((name, 80))
            .await
            .map(|a| a.collect())
            .unwrap_or_default();
        assert!(!addrs.is_empty(), "this machine's name {name:?} resolves");
        let url = format!("http://{name}:9/card");
        assert!(check(&url, false, AGENT).is_ok(), "no literal private host");
        let private = addrs.iter().any(|a| private_ip(a.ip()));
        let got = check_resolved(&url, false, AGENT).await;
        assert_eq!(got.is_err(), private, "{name} is {addrs:?}: {got:?}");
        if let Err(e) = got {
            assert!(e.contains("a2a.allow_private_agents"), "{e}");
        }
        assert!(check_resolved(&url, true, AGENT).await.is_ok());
        let e = check_resolved("http://no-such-host.invalid/card", false, AGENT)
            .await
            .unwrap_err();
        assert!(e.contains("does not resolve"), "{e}");
    }
}
