//! The approval queue in the store. Approvals are queued by the group committer
//! together with the decision that asked for them; a human's decision is recorded
//! together with the event that tells the employee (one transaction, so it is neither
//! lost nor told twice).

use super::inbox::{insert_event, update_and_tell};
use super::rows::{parse_id, parse_json};
use super::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{Approval, ApprovalId, ApprovalStatus, EmployeeId, Event, TenantId};

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    id: String,
    employee_id: String,
    status: String,
    action: String,
    reason: String,
    created_at: i64,
    decided_at: Option<i64>,
    decided_by: Option<String>,
    decision_reason: Option<String>,
}

impl ApprovalRow {
    fn into_approval(self) -> Result<Approval, StoreError> {
        Ok(Approval {
            id: parse_id(&self.id)?,
            employee_id: parse_id(&self.employee_id)?,
            status: ApprovalStatus::parse(&self.status).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown approval status {:?}", self.status))
            })?,
            action: parse_json(&self.action)?,
            reason: self.reason,
            created_at: from_micros(self.created_at),
            decided_at: self.decided_at.map(from_micros),
            decided_by: self.decided_by,
            decision_reason: self.decision_reason,
            recipients: None,
        })
    }
}

/// `SELECT <approval columns> FROM approvals <rest>`.
macro_rules! select_approvals {
    ($rest:literal) => {
        concat!(
            "SELECT id, employee_id, status, action, reason, created_at, decided_at, decided_by, decision_reason FROM approvals ",
            $rest
        )
    };
}

impl Store {
    /// Approvals, oldest first, optionally of one employee and one status.
    pub async fn approvals(
        &self,
        tenant: &TenantId,
        employee: Option<EmployeeId>,
        status: Option<ApprovalStatus>,
        limit: i64,
    ) -> Result<Vec<Approval>, StoreError> {
        let sql = select_approvals!(
            "WHERE tenant = $1 AND ($2 IS NULL OR employee_id = $2) AND ($3 IS NULL OR status = $3) \
             ORDER BY created_at, id LIMIT $4"
        );
        let rows: Vec<ApprovalRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(sql)
                .bind(tenant.as_str())
                .bind(employee.map(|e| e.to_string()))
                .bind(status.map(|s| s.as_str()))
                .bind(limit)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(ApprovalRow::into_approval).collect()
    }

    /// One approval.
    pub async fn approval(
        &self,
        tenant: &TenantId,
        id: ApprovalId,
    ) -> Result<Option<Approval>, StoreError> {
        let sql = select_approvals!("WHERE tenant = $1 AND id = $2");
        let row: Option<ApprovalRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(sql)
                .bind(tenant.as_str())
                .bind(id.to_string())
                .fetch_optional(pool)
                .await
        })?;
        row.map(ApprovalRow::into_approval).transpose()
    }

    /// Records a human's decision on a pending approval together with `event`, which
    /// tells the employee. Returns false (and stores nothing) if it was not pending.
    pub async fn decide_approval(
        &self,
        id: ApprovalId,
        approved: bool,
        by: &str,
        reason: Option<&str>,
        event: &Event,
    ) -> Result<bool, StoreError> {
        let status = if approved {
            ApprovalStatus::Approved
        } else {
            ApprovalStatus::Rejected
        };
        let now = to_micros(chrono::Utc::now());
        Ok(update_and_tell!(self, event, sqlx::query(
                "UPDATE approvals SET status = $1, decided_at = $2, decided_by = $3, decision_reason = $4 \
                 WHERE tenant = $5 AND id = $6 AND status = 'pending'",
            )
            .bind(status.as_str())
            .bind(now)
            .bind(by)
            .bind(reason)
            .bind(event.tenant.as_str())
            .bind(id.to_string()))?)
    }
}
