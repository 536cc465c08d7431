//! `documents.collect`: what customers asked for and how they used the product over the
//! last `since_days` (7), gathered into one insights report document — the feature
//! requests filed and the votes cast in the window (who asked, from which accounts), and
//! per-feature usage from the accounts' metrics (the same series the account metrics
//! endpoint stores, with a `feature`): each feature's latest value across accounts and
//! how it changed over the window. A later step mails it (`attach_from`).

use super::{RequestsFilter, backlog::short_id};
use crate::capabilities::CapabilityError;
use crate::capabilities::documents::{Draft, author, report_markdown};
use crate::capabilities::registry::Act;
use crate::store::Page;
use chrono::{Duration, Utc};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// How one feature's metric moved over the window.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FeatureUse {
    /// The feature.
    pub(super) feature: String,
    /// The metric, e.g. `feature_adoption`.
    pub(super) metric: String,
    /// The mean over accounts of each account's first value in the window.
    pub(super) first: f64,
    /// The mean over accounts of each account's latest value.
    pub(super) latest: f64,
    /// How many accounts measured it.
    pub(super) accounts: usize,
}

/// Each account's first and latest value of one feature's metric, by account.
type FirstAndLatest<'a> = BTreeMap<&'a str, (f64, f64)>;

/// Per feature and metric, from (account, point) pairs oldest first.
pub(super) fn feature_use(points: &[(String, crate::store::Point)]) -> Vec<FeatureUse> {
    let mut by: BTreeMap<(String, String), FirstAndLatest> = BTreeMap::new();
    for (account, p) in points {
        by.entry((p.feature.clone(), p.metric.clone()))
            .or_default()
            .entry(account)
            .and_modify(|v| v.1 = p.value)
            .or_insert((p.value, p.value));
    }
    by.into_iter()
        .map(|((feature, metric), accounts)| {
            let n = accounts.len() as f64;
            FeatureUse {
                feature,
                metric,
                first: accounts.values().map(|v| v.0).sum::<f64>() / n,
                latest: accounts.values().map(|v| v.1).sum::<f64>() / n,
                accounts: accounts.len(),
            }
        })
        .collect()
}

/// `documents.collect`.
pub(crate) async fn collect(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let days = a.entry.params["since_days"]
        .as_i64()
        .or_else(|| a.entry.params["since_days"].as_str()?.parse().ok())
        .unwrap_or(7);
    if !(1..=366).contains(&days) {
        return Err(CapabilityError::Invalid(format!(
            "`since_days` of `documents.collect` must be 1 to 366, got {days}"
        )));
    }
    let (hands, tenant) = (a.hands, &a.hands.tenant);
    let now = Utc::now();
    let since = now - Duration::days(days);
    let requests = hands
        .store
        .feature_requests(tenant, &RequestsFilter::default(), Page::ALL)
        .await?;
    let votes: BTreeMap<String, i64> = hands
        .store
        .feature_votes_since(tenant, since)
        .await?
        .into_iter()
        .collect();
    let usage = feature_use(&hands.store.feature_metrics_since(tenant, since).await?);

    let mut text = format!(
        "What customers asked for and how they used the product over the last {days} days.\n"
    );
    let mut asked: Vec<_> = requests
        .iter()
        .filter_map(|r| votes.get(&r.id).map(|n| (*n, r)))
        .collect();
    asked.sort_by(|x, y| y.0.cmp(&x.0).then(y.1.votes.cmp(&x.1.votes)));
    let new = asked.iter().filter(|(_, r)| r.created_at >= since).count();
    text.push_str(&format!(
        "\nFeature requests: {} asked for ({new} new), {} votes in all.\n",
        asked.len(),
        asked.iter().map(|(n, _)| n).sum::<i64>()
    ));
    for (n, r) in &asked {
        text.push_str(&format!(
            "- {} (#{}): {n} vote{} this period, {} in all; {}\n",
            r.title,
            short_id(&r.id),
            if *n == 1 { "" } else { "s" },
            r.votes,
            r.status.as_str().replace('_', " ")
        ));
    }
    text.push_str("\nFeature usage:\n");
    if usage.is_empty() {
        text.push_str("No feature metrics were recorded in the period.\n");
    }
    for u in &usage {
        text.push_str(&format!(
            "- {} {}: {:.2} across {} account{} ({:+.2} over the period)\n",
            u.feature,
            u.metric.replace('_', " "),
            u.latest,
            u.accounts,
            if u.accounts == 1 { "" } else { "s" },
            u.latest - u.first
        ));
    }
    let title = format!("Product insights: the last {days} days");
    let doc = hands
        .documents
        .write(
            &hands.store,
            tenant,
            a.me.id,
            Some(&a.entry.key),
            "report.md.j2",
            Draft {
                kind: "report",
                title: title.clone(),
                series: format!("insights:{}", a.me.id),
                account: None,
                deal: None,
                contact: None,
                context: json!({
                    "title": title,
                    "me": author(a).await?,
                    "date": now.format("%-d %B %Y").to_string(),
                    "body": report_markdown(&text),
                }),
                facts: json!({
                    "since_days": days,
                    "requests": asked.iter().map(|(n, r)| json!({"id": r.id, "votes": n})).collect::<Vec<_>>(),
                    "features": usage.iter().map(|u| json!({"feature": u.feature, "metric": u.metric, "latest": u.latest, "first": u.first})).collect::<Vec<_>>(),
                }),
            },
        )
        .await?;
    Ok(json!({"document": doc.id, "title": doc.title, "version": doc.version}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Point;

    fn p(account: &str, feature: &str, day: i64, value: f64) -> (String, Point) {
        (
            account.into(),
            Point {
                metric: "feature_adoption".into(),
                feature: feature.into(),
                at: chrono::DateTime::UNIX_EPOCH + Duration::days(day),
                value,
            },
        )
    }

    #[test]
    fn a_feature_is_its_accounts_first_and_latest_values_averaged() {
        let u = feature_use(&[
            p("a", "reports", 1, 0.8),
            p("b", "reports", 1, 0.6),
            p("a", "reports", 5, 0.4),
            p("a", "export", 2, 0.5),
        ]);
        assert_eq!(u.len(), 2);
        assert_eq!(u[1].feature, "reports");
        assert!((u[1].first - 0.7).abs() < 1e-9 && (u[1].latest - 0.5).abs() < 1e-9);
        assert_eq!(u[1].accounts, 2);
    }
}
