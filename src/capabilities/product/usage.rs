//! Feature usage: per-feature metrics posted for an account (the account metrics
//! endpoint, with a `feature`) are compared with the account's previous value of the
//! same metric. A feature used less (adoption, usage: higher is better) is a drop-off;
//! one harder to use (errors, time taken, abandonment: lower is better) is friction.
//! Either, once it is at least [`NOTICED`] worse, reaches every Product Manager as a
//! `crm.feature_usage` event with a hypothesis in words; the PM's plans record it in
//! the backlog (`product.hypothesis`) and, past a threshold they set, research it.

use super::backlog::{Filed, Filing, file};
use super::{NewRequest, Source};
use crate::capabilities::registry::Act;
use crate::capabilities::{CapabilityError, Hands, param};
use crate::model::NewEvent;
use crate::store::{Point, StoreError};
use serde_json::{Value as Json, json};

/// How much worse (a fraction of the previous value) a feature must get to be noticed.
pub(super) const NOTICED: f64 = 0.2;

/// The role whose employees hear of feature usage.
const PRODUCT_ROLE: &str = "pm";

/// Whether less of `metric` is better (errors, time taken, abandonment).
fn lower_is_better(metric: &str) -> bool {
    ["error", "friction", "abandon", "fail", "time", "drop"]
        .iter()
        .any(|w| metric.contains(w))
}

/// What a change from `before` to `now` signals: `drop_off` or `friction`, and how much
/// worse it got (a fraction); none when it did not get [`NOTICED`] worse.
pub(super) fn signal(metric: &str, before: f64, now: f64) -> Option<(&'static str, f64)> {
    if before <= 0.0 || !before.is_finite() || !now.is_finite() {
        return None;
    }
    let (kind, worse) = if lower_is_better(metric) {
        ("friction", (now - before) / before)
    } else {
        ("drop_off", (before - now) / before)
    };
    (worse >= NOTICED).then_some((kind, (worse * 100.0).round() / 100.0))
}

/// The hypothesis a signal suggests, in words.
fn hypothesis(
    kind: &str,
    feature: &str,
    metric: &str,
    account: &str,
    before: f64,
    now: f64,
) -> String {
    let metric = metric.replace('_', " ");
    match kind {
        "friction" => format!(
            "{feature} got harder to use at {account} ({metric} {before:.2} → {now:.2}): a recent change may have added a step or an error; watching a few sessions and asking the users would tell."
        ),
        _ => format!(
            "Fewer people at {account} use {feature} ({metric} {before:.2} → {now:.2}): it may no longer meet their need, or something in it gets in their way; asking the users who stopped would tell."
        ),
    }
}

/// Tells every Product Manager of the feature metrics among `points` (just stored for
/// `account`) that got worse.
pub(crate) async fn observe(
    hands: &Hands,
    account: (&str, &str),
    points: &[Point],
) -> Result<(), StoreError> {
    let (id, name) = account;
    let mut signals = Vec::new();
    for p in points.iter().filter(|p| !p.feature.is_empty()) {
        let Some(before) = hands
            .store
            .feature_metric_before(&hands.tenant, id, p)
            .await?
        else {
            continue;
        };
        if let Some((kind, worse)) = signal(&p.metric, before, p.value) {
            signals.push(NewEvent {
                kind: "crm.feature_usage".into(),
                source: "crm".into(),
                payload: json!({
                    "signal": kind, "feature": p.feature, "metric": p.metric,
                    "account": id, "account_name": name,
                    "before": before, "now": p.value, "change": worse,
                    "hypothesis": hypothesis(kind, &p.feature, &p.metric, name, before, p.value),
                }),
                // The same reading posted again signals nothing new.
                idempotency_key: Some(format!(
                    "feature_usage:{id}:{}:{}:{}",
                    p.feature,
                    p.metric,
                    p.at.timestamp_micros()
                )),
            });
        }
    }
    if signals.is_empty() {
        return Ok(());
    }
    for employee in hands.store.employee_ids(&hands.tenant).await? {
        let Some(profile) = hands.store.employee(&hands.tenant, employee).await? else {
            continue;
        };
        if profile.role != PRODUCT_ROLE || hands.employees.offboarded(employee) {
            continue;
        }
        for s in &signals {
            if let Err(e) = hands.employees.perceive(employee, s.clone()).await {
                tracing::warn!(error = %e, %employee, "a feature usage signal could not be told");
            }
        }
    }
    Ok(())
}

/// `product.hypothesis`: the hypothesis recorded in the backlog, as a request about
/// the feature (a second signal about the same feature counts as a vote for it).
pub(crate) async fn record(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let p = &a.entry.params;
    let feature = param(p, "feature")
        .ok_or_else(|| CapabilityError::Invalid("`product.hypothesis` needs `feature`".into()))?;
    let text = param(p, "text").ok_or_else(|| {
        CapabilityError::Invalid("`product.hypothesis` needs `text`, the hypothesis".into())
    })?;
    let title = match param(p, "signal") {
        Some("friction") => format!("Hypothesis: {feature} has friction"),
        _ => format!("Hypothesis: {feature} usage is dropping off"),
    };
    let filed = file(
        a.hands,
        Filing {
            request: NewRequest {
                title,
                description: text.to_string(),
                requester: None,
            },
            source: Source::Usage,
            key: a.entry.key.clone(),
        },
    )
    .await?;
    let r = filed.request();
    Ok(json!({
        "request": r.id, "title": r.title, "votes": r.votes,
        "filed": match filed { Filed::New(_) => "new", Filed::Vote { .. } => "vote" },
        "text": format!("Recorded in the backlog: {} (#{})", r.title, super::backlog::short_id(&r.id)),
    }))
}

#[cfg(test)]
mod tests {
    use super::signal;

    #[test]
    fn less_adoption_is_a_drop_off_and_more_errors_friction() {
        assert_eq!(
            signal("feature_adoption", 0.8, 0.3),
            Some(("drop_off", 0.63))
        );
        assert_eq!(
            signal("feature_adoption", 0.8, 0.7),
            None,
            "12% is not noticed"
        );
        assert_eq!(signal("export_errors", 10.0, 15.0), Some(("friction", 0.5)));
        assert_eq!(
            signal("export_errors", 10.0, 5.0),
            None,
            "fewer errors are better"
        );
        assert_eq!(signal("feature_adoption", 0.0, 0.3), None);
    }
}
