//! Account health (seed 4.2): a score from 0 to 100 over usage, engagement, support
//! issues and NPS, weighted as `[crm.health]` says; the trend and anomalies of an
//! account's series; and what follows from a change. When an account's metrics arrive
//! (`POST /api/v1/crm/accounts/{id}/metrics`), its health is computed again and stored
//! on the account; a health that falls below `at_risk_below`, or a usage value far
//! below its recent run (z ≤ −2), tells the account's owner with a
//! `crm.account_at_risk` event naming the contact to write to. The owner's
//! `feature_adoption` and `nps` goal metrics — the mean of its customers' latest
//! values — are told as `metric` events, so the triggers on them fire.
//!
//! Inputs: `usage`, `engagement` and `feature_adoption` from 0 to 1, `nps` from −100
//! to 100; support issues are the `issue` activities logged against the account in
//! the last 30 days (five or more count as the worst).

use super::{Account, Books, CrmError, metrics};
use crate::model::{EmployeeId, FieldError};
use crate::store::{ActivityFilter, Page, Point};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// `[crm.health]`: the weight of each part of the score (renormalised over the parts an
/// account has data for), and the bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// Weight of product usage.
    pub usage: f64,
    /// Weight of engagement (meetings, replies, logins of the champions).
    pub engagement: f64,
    /// Weight of support issues (fewer is healthier).
    pub support: f64,
    /// Weight of NPS.
    pub nps: f64,
    /// Below this the account is at risk and its owner is told.
    pub at_risk_below: f64,
    /// Below this the account is critical: the owner escalates.
    pub critical_below: f64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            usage: 0.35,
            engagement: 0.2,
            support: 0.2,
            nps: 0.25,
            at_risk_below: 60.0,
            critical_below: 40.0,
        }
    }
}

/// One value sent for an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricValue {
    /// `usage`, `engagement`, `feature_adoption`, `nps`, or any other name.
    pub metric: String,
    /// The value.
    pub value: f64,
    /// When it was measured.
    pub at: DateTime<Utc>,
    /// The feature it is about, if one.
    #[serde(default)]
    pub feature: Option<String>,
}

/// Body of `POST /api/v1/crm/accounts/{id}/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricValues {
    /// The values.
    pub items: Vec<MetricValue>,
}

/// What the analysis made of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccountHealth {
    /// The account.
    pub account: String,
    /// How many values were stored.
    pub stored: usize,
    /// Health 0..100, when there is data for it.
    pub health: Option<f64>,
    /// Health before these values.
    pub previous: Option<f64>,
    /// Usage's slope per value over its recent run.
    pub usage_trend: Option<f64>,
    /// How far the latest usage is from its recent run, in standard deviations.
    pub usage_z: Option<f64>,
    /// `high` (critical health, or at risk with a sudden drop in usage), `medium` (at
    /// risk, a sudden drop, or usage falling more than 2% of its level per value) or
    /// `low`.
    pub churn_risk: String,
}

/// Values in a series the trend and anomaly look at.
const WINDOW: i64 = 12;
/// Support issues in 30 days that count as the worst.
const ISSUES_WORST: f64 = 5.0;

/// The slope of `ys` per step (least squares), with at least three values.
pub fn trend(ys: &[f64]) -> Option<f64> {
    let n = ys.len();
    if n < 3 {
        return None;
    }
    let mx = (n - 1) as f64 / 2.0;
    let my = ys.iter().sum::<f64>() / n as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        num += (i as f64 - mx) * (y - my);
        den += (i as f64 - mx).powi(2);
    }
    Some(num / den)
}

/// How many standard deviations the last of `ys` is from the ones before it (at least
/// four before it; a flat run counts a change of 10% of its level as one deviation).
pub fn z_score(ys: &[f64]) -> Option<f64> {
    let (last, before) = ys.split_last()?;
    if before.len() < 4 {
        return None;
    }
    let mean = before.iter().sum::<f64>() / before.len() as f64;
    let var = before.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / before.len() as f64;
    let sd = var.sqrt().max(mean.abs() * 0.1).max(1e-9);
    Some((last - mean) / sd)
}

/// The health score from the latest values (each optional) and recent issues.
pub fn score(
    cfg: &HealthConfig,
    usage: Option<f64>,
    engagement: Option<f64>,
    nps: Option<f64>,
    issues: usize,
) -> Option<f64> {
    if usage.is_none() && engagement.is_none() && nps.is_none() {
        return None;
    }
    let parts = [
        (cfg.usage, usage.map(|u| u.clamp(0.0, 1.0))),
        (cfg.engagement, engagement.map(|e| e.clamp(0.0, 1.0))),
        (
            cfg.nps,
            nps.map(|n| (n.clamp(-100.0, 100.0) + 100.0) / 200.0),
        ),
        (
            cfg.support,
            Some(1.0 - (issues as f64 / ISSUES_WORST).min(1.0)),
        ),
    ];
    let (mut sum, mut weight) = (0.0, 0.0);
    for (w, v) in parts {
        if let Some(v) = v {
            sum += w * v;
            weight += w;
        }
    }
    (weight > 0.0).then(|| (sum / weight * 1000.0).round() / 10.0)
}

impl MetricValues {
    /// Every problem, each naming its item and field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.items.is_empty() || self.items.len() > 10_000 {
            e.push(FieldError::new("items", "send from 1 to 10,000 values"));
        }
        for (i, m) in self.items.iter().enumerate() {
            let ok_name = !m.metric.is_empty()
                && m.metric.len() <= 64
                && m.metric
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !ok_name {
                e.push(FieldError::new(
                    format!("items[{i}].metric"),
                    "must be 1 to 64 letters, digits, `_` or `.`",
                ));
            }
            if !m.value.is_finite() {
                e.push(FieldError::new(
                    format!("items[{i}].value"),
                    "must be a number",
                ));
            }
            let range = match m.metric.as_str() {
                "usage" | "engagement" | "feature_adoption" => Some((0.0, 1.0)),
                "nps" => Some((-100.0, 100.0)),
                _ => None,
            };
            if let Some((lo, hi)) = range
                && !(lo..=hi).contains(&m.value)
            {
                e.push(FieldError::new(
                    format!("items[{i}].value"),
                    format!("`{}` is from {lo} to {hi}", m.metric),
                ));
            }
        }
        e
    }
}

impl Books<'_> {
    /// Stores an account's values, computes its health again, and tells its owner what
    /// follows (an account at risk; the owner's adoption and NPS metrics).
    pub async fn record_metrics(
        &self,
        id: &str,
        values: MetricValues,
    ) -> Result<AccountHealth, CrmError> {
        let cfg = &self.crm.health;
        let errors = values.validate();
        if !errors.is_empty() {
            return Err(CrmError::Invalid(errors));
        }
        let account = self
            .driver()
            .account(id)
            .await?
            .ok_or_else(|| CrmError::NotFound(format!("no account with id {id:?}")))?;
        let (store, tenant) = (&self.hands.store, &self.hands.tenant);
        let points: Vec<Point> = values
            .items
            .iter()
            .map(|m| Point {
                metric: m.metric.clone(),
                feature: m.feature.clone().unwrap_or_default(),
                at: m.at,
                value: m.value,
            })
            .collect();
        store.put_account_metrics(tenant, id, &points).await?;
        // A feature used less, or with more trouble, is the PM's to look into.
        crate::capabilities::product::usage::observe(self.hands, (id, &account.name), &points)
            .await?;
        let latest = |metric: &'static str| async move {
            Ok::<_, CrmError>(
                store
                    .account_series(tenant, id, metric, WINDOW)
                    .await?
                    .last()
                    .map(|p| p.1),
            )
        };
        let usage: Vec<f64> = store
            .account_series(tenant, id, "usage", WINDOW)
            .await?
            .into_iter()
            .map(|p| p.1)
            .collect();
        let since = Utc::now() - Duration::days(30);
        let issues = self
            .driver()
            .activities(
                &ActivityFilter {
                    account: Some(id.into()),
                    ..Default::default()
                },
                Page {
                    limit: 1000,
                    offset: 0,
                },
            )
            .await?
            .iter()
            .filter(|a| a.kind == "issue" && a.at >= since)
            .count();
        let health = score(
            cfg,
            usage.last().copied(),
            latest("engagement").await?,
            latest("nps").await?,
            issues,
        );
        let (usage_trend, usage_z) = (trend(&usage), z_score(&usage));
        if health.is_some() && health != account.health {
            let patch = super::AccountPatch {
                health: Some(health),
                ..Default::default()
            };
            self.driver().update_account(id, patch).await?;
        }
        let dropped = usage_z.is_some_and(|z| z <= -2.0);
        // Falling: losing more than 2% of its level per value.
        let level = usage.iter().sum::<f64>() / usage.len().max(1) as f64;
        let falling = usage_trend.is_some_and(|t| t < -0.02 * level);
        let churn_risk = match health {
            Some(h) if h < cfg.critical_below || (dropped && h < cfg.at_risk_below) => "high",
            Some(h) if h < cfg.at_risk_below || dropped || falling => "medium",
            _ if dropped => "medium",
            _ => "low",
        };
        let fell_below = health.is_some_and(|h| h < cfg.at_risk_below)
            && account.health.is_none_or(|p| p >= cfg.at_risk_below);
        if fell_below || dropped {
            self.tell_at_risk(&account, health, usage_z, churn_risk)
                .await?;
        }
        if let Some(owner) = &account.owner {
            self.tell_owner_means(owner).await?;
        }
        // Usage crossed into the plan's last tenth: an upsell signal.
        let near = super::followups::NEAR_LIMIT;
        let crossed = match usage.as_slice() {
            [.., before, now] => *now >= near && *before < near,
            [now] => *now >= near,
            [] => false,
        };
        if crossed {
            self.near_limit(&account, usage[usage.len() - 1]).await?;
        }
        Ok(AccountHealth {
            account: id.into(),
            stored: points.len(),
            health,
            previous: account.health,
            usage_trend,
            usage_z,
            churn_risk: churn_risk.into(),
        })
    }

    async fn tell_at_risk(
        &self,
        account: &Account,
        health: Option<f64>,
        usage_z: Option<f64>,
        churn_risk: &str,
    ) -> Result<(), CrmError> {
        let cfg = &self.crm.health;
        let Some(owner) = account
            .owner
            .as_deref()
            .and_then(|o| o.parse::<EmployeeId>().ok())
        else {
            return Ok(());
        };
        let (mut payload, _) = super::customers::about(self, account).await?;
        let mut reasons = Vec::new();
        if let Some(h) = health {
            reasons.push(format!("health {h:.0} of 100"));
        }
        if usage_z.is_some_and(|z| z <= -2.0) {
            reasons.push("usage fell well below its recent run".to_string());
        }
        payload["health"] = json!(health);
        payload["previous"] = json!(account.health);
        payload["critical"] = json!(health.is_some_and(|h| h < cfg.critical_below));
        payload["churn_risk"] = json!(churn_risk);
        payload["reasons"] = json!(reasons);
        super::customers::tell(self.hands, owner, "crm.account_at_risk", payload, None).await;
        Ok(())
    }

    /// Tells `owner` the mean of its customers' latest adoption and NPS.
    async fn tell_owner_means(&self, owner: &str) -> Result<(), CrmError> {
        let mine: BTreeSet<String> = self
            .driver()
            .accounts(
                &crate::store::AccountFilter {
                    owner: Some(owner.into()),
                    ..Default::default()
                },
                Page::ALL,
            )
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        let Ok(id) = owner.parse::<EmployeeId>() else {
            return Ok(());
        };
        for metric in ["feature_adoption", "nps"] {
            let values: Vec<f64> = self
                .hands
                .store
                .latest_account_metric(&self.hands.tenant, metric)
                .await?
                .into_iter()
                .filter(|(a, _)| mine.contains(a))
                .map(|(_, v)| v)
                .collect();
            if values.is_empty() {
                continue;
            }
            let mean = (values.iter().sum::<f64>() / values.len() as f64 * 100.0).round() / 100.0;
            metrics::tell(self.hands, id, metric, mean).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_weighs_what_there_is() {
        let cfg = HealthConfig::default();
        assert_eq!(
            score(&cfg, Some(1.0), Some(1.0), Some(100.0), 0),
            Some(100.0)
        );
        assert_eq!(score(&cfg, None, None, None, 2), None);
        // Usage 0.2 and nothing else but a clean support record: (0.35×0.2 + 0.2×1) / 0.55.
        assert_eq!(score(&cfg, Some(0.2), None, None, 0), Some(49.1));
        // Five issues in 30 days are the worst support can be.
        assert_eq!(score(&cfg, Some(1.0), None, None, 9), Some(63.6));
    }

    #[test]
    fn a_drop_stands_out_from_its_run() {
        let run = [0.8, 0.82, 0.79, 0.81, 0.8, 0.3];
        assert!(z_score(&run).unwrap() < -2.0);
        assert!(z_score(&run[..5]).unwrap().abs() < 1.0);
        assert!(trend(&run).unwrap() < 0.0);
        assert_eq!(trend(&[1.0, 2.0]), None);
    }
}
