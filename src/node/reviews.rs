//! Performance reviews through the node: computed from the store, kept, mailed to the
//! manager, and handed to the employee (`review.completed`) to act on; monthly for
//! every employee, or now on request.

use super::Node;
use crate::capabilities::Hands;
use crate::lifecycle::review_mail;
use crate::lifecycle::reviews::{Period, PeriodError, from_store};
use crate::model::{EmployeeId, Manager, NewEvent, Review, ReviewNote, TenantId};
use crate::store::{ReviewKey, Store, StoreError};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::json;

/// Why a review could not be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// No such employee.
    #[error("no employee with that id")]
    NoEmployee,
    /// No such review of this employee.
    #[error(
        "no review with that id for this employee; `GET /api/v1/employees/{{id}}/reviews` lists them"
    )]
    NoReview,
    /// The period asked for cannot be reviewed.
    #[error(transparent)]
    Period(#[from] PeriodError),
    /// A note needs words.
    #[error("`text` must say something: the note to add to the review")]
    EmptyNote,
    /// The store failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Computes and stores `id`'s review of `period` (this month when none) as of `now`.
pub(crate) async fn review(
    store: &Store,
    tenant: &TenantId,
    id: EmployeeId,
    period: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Review, ReviewError> {
    let profile = store
        .employee(tenant, id)
        .await?
        .ok_or(ReviewError::NoEmployee)?;
    let period = Period::month(period, profile.start_date, now)?;
    let past = store.reviews(tenant, id, 24).await?;
    let same = past.iter().find(|r| r.period == period.name);
    let previous = past.iter().find(|r| r.period < period.name);
    let review_id = same.map_or_else(|| uuid::Uuid::now_v7().to_string(), |r| r.id.clone());
    let r = from_store(store, tenant, &profile, &period, previous, review_id, now).await?;
    Ok(store.save_review(tenant, &r).await?)
}

/// Mails `r` to the employee's manager and hands it to the employee to act on; a
/// failure is logged (the review is stored either way).
async fn deliver(hands: &Hands, r: &Review) {
    let mut manager_address = None;
    match hands.sender(r.employee_id).await {
        Ok(Some((me, manager))) => {
            if let Some(Manager::Human { name, email }) = &manager {
                manager_address = Some(format!("{name} <{email}>"));
            }
            if let Err(e) = review_mail::send(hands, &me, manager.as_ref(), r).await {
                tracing::warn!(error = %e, review = %r.id, "the review could not be mailed to the manager");
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, review = %r.id, "the review's employee could not be read")
        }
    }
    let mut event = NewEvent {
        kind: "review.completed".into(),
        source: "reviews".into(),
        payload: json!({
            "review": r.id,
            "period": r.period,
            "goal_completion": r.goal_completion,
            "task_success_rate": r.task_success_rate,
            "development_areas": r.development_areas,
            "improvement_plan": r.improvement_plan,
            "weak_plans": r.weak_plans,
            "weak_goals": r.weak_goal_descriptions(),
        }),
        idempotency_key: Some(format!(
            "review:{}:{}",
            r.id,
            r.created_at.timestamp_micros()
        )),
    };
    if let Some(m) = manager_address {
        event.payload["manager"] = json!(m);
    }
    // What the employee acts on is its latest review: one run again for an earlier
    // month is kept and mailed, but does not replace it.
    let newest = hands.store.reviews(&hands.tenant, r.employee_id, 1).await;
    if newest.is_ok_and(|n| n.first().is_some_and(|n| n.period > r.period)) {
        return;
    }
    if let Err(e) = hands.employees.perceive(r.employee_id, event).await {
        tracing::warn!(error = %e, review = %r.id, "the employee could not be told of its review");
    }
}

impl Node {
    /// Reviews employee `id` over `period` (`2026-11`; this month so far when none):
    /// the review is stored (replacing an earlier one of the same period, notes kept),
    /// mailed to a human manager, and handed to the employee to act on.
    pub async fn run_review(
        &self,
        id: EmployeeId,
        period: Option<&str>,
    ) -> Result<Review, ReviewError> {
        let r = review(&self.rt.store, &self.rt.tenant, id, period, Utc::now()).await?;
        deliver(&self.rt.hands, &r).await;
        Ok(r)
    }

    /// An employee's reviews, newest first.
    pub async fn reviews(&self, id: EmployeeId, limit: i64) -> Result<Vec<Review>, ReviewError> {
        self.rt
            .store
            .employee(&self.rt.tenant, id)
            .await?
            .ok_or(ReviewError::NoEmployee)?;
        Ok(self.rt.store.reviews(&self.rt.tenant, id, limit).await?)
    }

    /// One of `id`'s reviews.
    pub async fn review(&self, id: EmployeeId, review: &str) -> Result<Review, ReviewError> {
        self.rt
            .store
            .review(&self.rt.tenant, ReviewKey::Id(review))
            .await?
            .filter(|r| r.employee_id == id)
            .ok_or(ReviewError::NoReview)
    }

    /// Adds the manager's note to one of `id`'s reviews.
    pub async fn add_review_note(
        &self,
        id: EmployeeId,
        review: &str,
        by: &str,
        text: &str,
    ) -> Result<Review, ReviewError> {
        if text.trim().is_empty() {
            return Err(ReviewError::EmptyNote);
        }
        self.review(id, review).await?;
        let note = ReviewNote {
            by: by.trim().to_string(),
            text: text.trim().to_string(),
            at: Utc::now(),
        };
        self.rt
            .store
            .add_review_note(&self.rt.tenant, review, &note)
            .await?
            .ok_or(ReviewError::NoReview)
    }
}

/// The node's monthly reviews: on the first of each month at 06:00 UTC, every employee
/// not offboarded is reviewed for the month before. At start the node first reviews
/// whoever last month's run still owes one (the node was down on the 1st, or stopped
/// midway): one query finds them, so a node whose reviews are done reads no employee.
pub(crate) async fn monthly(hands: std::sync::Arc<Hands>) {
    loop {
        let now = Utc::now();
        let first = |d: chrono::NaiveDate| {
            Utc.from_utc_datetime(
                &d.with_day(1)
                    .unwrap_or(d)
                    .and_hms_opt(6, 0, 0)
                    .unwrap_or_default(),
            )
        };
        let this = first(now.date_naive());
        if now >= this {
            owed(&hands, &Period::last_month(now), this).await;
        }
        let next = match now < this {
            true => this,
            false => first(
                now.date_naive()
                    .with_day(1)
                    .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                    .unwrap_or(now.date_naive()),
            ),
        };
        tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
    }
}

/// Reviews `month` for every employee hired before `this_month` that has no review of
/// it yet.
async fn owed(hands: &Hands, month: &str, this_month: chrono::DateTime<Utc>) {
    let start = this_month
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let ids = match hands
        .store
        .unreviewed(&hands.tenant, month, Utc.from_utc_datetime(&start))
        .await
    {
        Ok(ids) if ids.is_empty() => return,
        Ok(ids) => ids,
        Err(e) => {
            tracing::error!(error = %e, "monthly reviews could not list the employees owed one");
            return;
        }
    };
    let mut done = 0;
    for id in ids {
        match review(&hands.store, &hands.tenant, id, Some(month), Utc::now()).await {
            Ok(r) => {
                deliver(hands, &r).await;
                done += 1;
            }
            Err(ReviewError::Period(_)) => {}
            Err(e) => tracing::error!(error = %e, employee = %id, %month, "review failed"),
        }
    }
    tracing::info!(%month, reviewed = done, "monthly reviews done");
}
