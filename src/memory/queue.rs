//! The approval queue and the outbox in the store. Both are filled by the group
//! committer together with the decision that produced them; here they are read, and a
//! human's decision or a capability's outcome is recorded together with the event that
//! tells the employee about it (one transaction, so neither is lost nor told twice).

use super::rows::{parse_id, parse_json};
use super::store::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{
    ActionStatus, Approval, ApprovalId, ApprovalStatus, EmployeeId, Event, OutboxEntry, TenantId,
};

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

/// One outbox row as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRecord {
    /// The action.
    pub entry: OutboxEntry,
    /// Where it is.
    pub status: ActionStatus,
    /// What the capability returned, once run.
    pub result: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: String,
    employee_id: String,
    action_id: i64,
    kind: String,
    params: String,
    status: String,
    result: Option<String>,
}

impl OutboxRow {
    fn into_record(self) -> Result<OutboxRecord, StoreError> {
        let status = [
            ActionStatus::Pending,
            ActionStatus::Done,
            ActionStatus::Failed,
            ActionStatus::Unsupported,
        ]
        .into_iter()
        .find(|s| s.as_str() == self.status)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown action status {:?}", self.status)))?;
        Ok(OutboxRecord {
            entry: OutboxEntry {
                key: self.id,
                employee_id: parse_id(&self.employee_id)?,
                action_id: self.action_id as u64,
                kind: self.kind,
                params: parse_json(&self.params)?,
            },
            status,
            result: self.result.as_deref().map(parse_json).transpose()?,
        })
    }
}

pub(crate) const INSERT_EVENT: &str = "INSERT INTO inbox (tenant, id, employee_id, kind, source, payload, idempotency_key, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING";

/// Binds an event to [`INSERT_EVENT`].
macro_rules! insert_event {
    ($e:expr) => {
        sqlx::query($crate::memory::queue::INSERT_EVENT)
            .bind($e.tenant.as_str())
            .bind($e.id.to_string())
            .bind($e.employee.to_string())
            .bind($e.kind.as_str())
            .bind($e.source.as_str())
            .bind($e.payload.to_string())
            .bind($e.idempotency_key.as_deref())
            .bind($crate::memory::to_micros($e.received_at))
    };
}
pub(crate) use insert_event;

/// Runs a conditional UPDATE and, only if it changed a row, stores `event` for the
/// employee, in one transaction. Answers whether the row was changed.
macro_rules! update_and_tell {
    ($store:expr, $event:expr, $update:expr) => {
        with_pool!($store, write, |pool| {
            let mut tx = pool.begin().await?;
            let updated = $update.execute(&mut *tx).await?.rows_affected();
            if updated == 1 {
                insert_event!($event).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(updated == 1)
        })
    };
}

impl Store {
    // ---- approvals ----

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

    // ---- wake-ups ----

    /// Employees that must reason on their own by `now` (a wait's deadline, a
    /// message's SLA, a calendar trigger), at most `limit`.
    pub async fn due_employees(
        &self,
        tenant: &TenantId,
        now: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT s.employee_id FROM employee_state s \
                 JOIN employees e ON e.tenant = s.tenant AND e.id = s.employee_id \
                 WHERE s.tenant = $1 AND s.wake_at IS NOT NULL AND s.wake_at <= $2 AND e.status <> 'offboarded' \
                 ORDER BY s.wake_at LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(to_micros(now))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.iter().map(|(id,)| parse_id(id)).collect()
    }

    // ---- outbox ----

    /// An employee's actions not run yet, in the order decided.
    pub async fn pending_actions(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<OutboxRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, action_id, kind, params, status, result FROM outbox \
                 WHERE tenant = $1 AND employee_id = $2 AND status = 'pending' ORDER BY action_id",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|r| r.into_record().map(|r| r.entry))
            .collect()
    }

    /// An employee's outbox, newest first, at most `limit`.
    pub async fn actions(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        limit: i64,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        let rows: Vec<OutboxRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, action_id, kind, params, status, result FROM outbox \
                 WHERE tenant = $1 AND employee_id = $2 ORDER BY action_id DESC LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(OutboxRow::into_record).collect()
    }

    /// One outbox action by its key.
    pub async fn action(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<OutboxRecord>, StoreError> {
        let row: Option<OutboxRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, employee_id, action_id, kind, params, status, result FROM outbox \
                 WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(key)
            .fetch_optional(pool)
            .await
        })?;
        row.map(OutboxRow::into_record).transpose()
    }

    /// Employees with actions not run yet.
    pub async fn employees_with_pending_actions(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT DISTINCT employee_id FROM outbox WHERE tenant = $1 AND status = 'pending'",
            )
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await
        })?;
        rows.iter().map(|(id,)| parse_id(id)).collect()
    }

    /// Records how a pending action ended together with `event`, which tells the
    /// employee. Returns false (and stores nothing) if it was no longer pending.
    pub async fn finish_action(
        &self,
        key: &str,
        status: ActionStatus,
        result: &serde_json::Value,
        event: &Event,
    ) -> Result<bool, StoreError> {
        let now = to_micros(chrono::Utc::now());
        Ok(update_and_tell!(
            self,
            event,
            sqlx::query(
                "UPDATE outbox SET status = $1, result = $2, done_at = $3 \
                 WHERE tenant = $4 AND id = $5 AND status = 'pending'",
            )
            .bind(status.as_str())
            .bind(result.to_string())
            .bind(now)
            .bind(event.tenant.as_str())
            .bind(key)
        )?)
    }
}
