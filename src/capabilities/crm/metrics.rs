//! Goal metrics the CRM can compute, published to the employee who owns the deals as
//! `metric` events — the same events a posted metric is, so posted and computed values
//! share one timeline per metric and the latest wins. They are computed again whenever
//! a deal of the employee is created, changed, deleted or imported, and published only
//! when a value changed.
//!
//! - `closed_revenue_usd`: closed-won amounts this quarter;
//! - `win_rate`: deals won ÷ deals closed this quarter (when any closed);
//! - `pipeline_coverage`: open pipeline ÷ remaining quota, where the quota is the target
//!   of the employee's goal on `closed_revenue_usd` and the remaining quota that target
//!   minus closed-won this quarter (open deals without a close date count). Not
//!   published once the quota is met;
//! - `response_time_hours`: told when the employee answers a contact, the hours from the
//!   earliest of the contact's mails since the last answer.

use super::{CrmError, Deal, is_closed};
use crate::capabilities::Hands;
use crate::model::EmployeeId;
use crate::store::{DealFilter, Page};
use chrono::{Datelike, NaiveDate, Utc};
use std::collections::BTreeSet;

/// The metric whose goal target is the quota.
pub const REVENUE: &str = "closed_revenue_usd";
/// Open pipeline over remaining quota.
pub const COVERAGE: &str = "pipeline_coverage";
/// Won over closed.
pub const WIN_RATE: &str = "win_rate";
/// Hours from a contact's mail to the employee's answer.
pub const RESPONSE_TIME: &str = "response_time_hours";

/// The first day of the quarter holding `day`.
pub fn quarter_start(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), day.month0() / 3 * 3 + 1, 1).unwrap_or(day)
}

/// The metrics of one employee's deals, given its quota.
pub fn figures(deals: &[Deal], quota: Option<f64>, today: NaiveDate) -> Vec<(&'static str, f64)> {
    let start = quarter_start(today);
    let this_quarter = |d: &&Deal| d.closed_at.is_some_and(|t| t.date_naive() >= start);
    let won: Vec<&Deal> = deals
        .iter()
        .filter(|d| d.stage == "closed_won")
        .filter(this_quarter)
        .collect();
    let lost = deals
        .iter()
        .filter(|d| d.stage == "closed_lost")
        .filter(this_quarter)
        .count();
    let won_amount: f64 = won.iter().map(|d| d.amount).sum();
    let open: f64 = deals
        .iter()
        .filter(|d| !is_closed(&d.stage))
        .map(|d| d.amount)
        .sum();
    let mut out = vec![(REVENUE, won_amount)];
    if !won.is_empty() || lost > 0 {
        out.push((WIN_RATE, won.len() as f64 / (won.len() + lost) as f64));
    }
    if let Some(q) = quota
        && q - won_amount > 0.0
    {
        out.push((COVERAGE, (open / (q - won_amount) * 100.0).round() / 100.0));
    }
    out
}

/// Computes the metrics of each employee in `owners` (ids) and tells each the ones that
/// changed since last told.
pub(crate) async fn publish(hands: &Hands, owners: BTreeSet<String>) -> Result<(), CrmError> {
    let today = Utc::now().date_naive();
    for owner in owners {
        let Ok(id) = owner.parse::<EmployeeId>() else {
            continue;
        };
        let Some(profile) = hands.store.employee(&hands.tenant, id).await? else {
            continue;
        };
        let quota = profile
            .goals
            .iter()
            .find(|g| g.metric == REVENUE)
            .map(|g| g.target);
        let mine = DealFilter {
            owner: Some(owner.clone()),
            ..Default::default()
        };
        let deals = hands.crm.driver().deals(&mine, Page::ALL).await?;
        for (metric, value) in figures(&deals, quota, today) {
            tell(hands, id, metric, value).await;
        }
    }
    Ok(())
}

/// Tells employee `id` a metric's value, unless it was told that value last.
pub(crate) async fn tell(hands: &Hands, id: EmployeeId, metric: &'static str, value: f64) {
    if hands.crm.last_published(id, metric) == Some(value) {
        return;
    }
    match hands.tell_metric(id, "crm", metric, value).await {
        Ok(_) => hands.crm.published(id, metric, value),
        Err(e) => {
            tracing::warn!(error = %e, employee = %id, metric, "a CRM metric could not be told")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deal(stage: &str, amount: f64, closed: Option<&str>) -> Deal {
        let t = chrono::Utc::now();
        Deal {
            id: "d".into(),
            name: "d".into(),
            account: None,
            amount,
            stage: stage.into(),
            close_date: None,
            owner: None,
            next_step: None,
            closed_at: closed.map(|c| format!("{c}T12:00:00Z").parse().unwrap()),
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn coverage_is_open_pipeline_over_the_quota_left_this_quarter() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let deals = [
            deal("proposal", 100_000.0, None),
            deal("demo", 50_000.0, None),
            deal("closed_won", 200_000.0, Some("2026-11-02")),
            deal("closed_won", 999_000.0, Some("2026-09-30")), // last quarter
            deal("closed_lost", 40_000.0, Some("2026-10-10")),
        ];
        let f = figures(&deals, Some(500_000.0), today);
        assert_eq!(f, [(REVENUE, 200_000.0), (WIN_RATE, 0.5), (COVERAGE, 0.5)]);
        // Quota met: no coverage; nothing closed: no win rate.
        assert_eq!(figures(&deals, Some(150_000.0), today).len(), 2);
        assert_eq!(figures(&deals[..2], None, today), [(REVENUE, 0.0)]);
    }
}
