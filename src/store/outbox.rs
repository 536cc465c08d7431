//! The outbox in the store. Actions are put there by the group committer together
//! with the decision that produced them; here they are read back, and a capability's
//! outcome is recorded together with the event that tells the employee (one
//! transaction, so an outcome is neither lost nor reported twice).

use super::inbox::{insert_event, update_and_tell};
use super::rows::{parse_id, parse_json};
use super::to_micros;
use super::{Store, StoreError, with_pool};
use crate::model::{ActionStatus, EmployeeId, Event, OutboxEntry, TenantId};

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

impl Store {
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

    /// Which of `keys` are still pending.
    pub async fn pending_among(
        &self,
        tenant: &TenantId,
        keys: &[&str],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let list = serde_json::to_string(keys).expect("keys serialise");
        let sql = match self.kind() {
            super::StoreKind::Sqlite => {
                "SELECT id FROM outbox WHERE tenant = $1 AND status = 'pending'                  AND id IN (SELECT value FROM json_each($2))"
            }
            super::StoreKind::Postgres => {
                "SELECT id FROM outbox WHERE tenant = $1 AND status = 'pending'                  AND id IN (SELECT jsonb_array_elements_text($2::jsonb))"
            }
        };
        let rows: Vec<(String,)> = with_pool!(self, read, |pool| {
            sqlx::query_as(sql)
                .bind(tenant.as_str())
                .bind(&list)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(|(k,)| k).collect())
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
