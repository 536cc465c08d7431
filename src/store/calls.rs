//! The messages employees sent to other agents (`a2a.send`), each with the A2A task it
//! opened: recorded before (a colleague on this node) or as soon as (an outside agent)
//! the message goes, so the task is followed to its end across restarts and the end is
//! told to the caller once.

use super::rows::parse_id;
use super::{Store, StoreError, with_pool};
use crate::model::{EmployeeId, TenantId};

/// One message an employee sent.
#[derive(Debug, Clone, PartialEq)]
pub struct A2aCall {
    /// The send action's outbox key.
    pub id: String,
    /// Who sent it.
    pub employee_id: EmployeeId,
    /// The send action's id (the intention waiting for the answer had it last).
    pub action_id: u64,
    /// Whom it addressed, as written (a handle, an agent's name or card URL).
    pub agent: String,
    /// The A2A task it opened.
    pub task_id: String,
    /// Whether the task lives at an outside agent (else on this node's ledger).
    pub remote: bool,
    /// The task's state when last looked at (`TASK_STATE_*`).
    pub state: String,
    /// When its end was told to the caller, microseconds; none while it is open.
    pub told_at: Option<i64>,
    /// When it was sent, microseconds.
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    employee_id: String,
    action_id: i64,
    agent: String,
    task_id: String,
    remote: i64,
    state: String,
    told_at: Option<i64>,
    created_at: i64,
}

impl Row {
    fn into_call(self) -> Result<A2aCall, StoreError> {
        Ok(A2aCall {
            employee_id: parse_id(&self.employee_id)?,
            id: self.id,
            action_id: u64::try_from(self.action_id).unwrap_or_default(),
            agent: self.agent,
            task_id: self.task_id,
            remote: self.remote != 0,
            state: self.state,
            told_at: self.told_at,
            created_at: self.created_at,
        })
    }
}

macro_rules! select_call {
    ($rest:literal) => {
        concat!(
            "SELECT id, employee_id, action_id, agent, task_id, remote, state, told_at, \
             created_at FROM a2a_calls ",
            $rest
        )
    };
}

impl Store {
    /// Records a sent message; answers the call as stored: `call` if it is new, the
    /// earlier one if its action recorded it before (a retried send).
    pub async fn a2a_call_record(
        &self,
        tenant: &TenantId,
        call: &A2aCall,
    ) -> Result<A2aCall, StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO a2a_calls (tenant, id, employee_id, action_id, agent, task_id, \
                 remote, state, told_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9) \
                 ON CONFLICT (tenant, id) DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&call.id)
            .bind(call.employee_id.to_string())
            .bind(i64::try_from(call.action_id).unwrap_or(i64::MAX))
            .bind(&call.agent)
            .bind(&call.task_id)
            .bind(i64::from(call.remote))
            .bind(&call.state)
            .bind(call.created_at)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        self.a2a_call(tenant, &call.id)
            .await?
            .ok_or_else(|| StoreError::Refused(format!("the call {} was not stored", call.id)))
    }

    /// One sent message by its action's key.
    pub async fn a2a_call(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<A2aCall>, StoreError> {
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_call!("WHERE tenant = $1 AND id = $2"))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Row::into_call).transpose()
    }

    /// The messages that opened task `task_id` and whose end is not told yet.
    pub async fn a2a_calls_of_task(
        &self,
        tenant: &TenantId,
        task_id: &str,
    ) -> Result<Vec<A2aCall>, StoreError> {
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_call!(
                "WHERE tenant = $1 AND task_id = $2 AND told_at IS NULL"
            ))
            .bind(tenant.as_str())
            .bind(task_id)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(Row::into_call).collect()
    }

    /// Up to `limit` messages whose end is not told yet, oldest first.
    pub async fn a2a_calls_open(
        &self,
        tenant: &TenantId,
        limit: i64,
    ) -> Result<Vec<A2aCall>, StoreError> {
        let rows: Vec<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_call!(
                "WHERE tenant = $1 AND told_at IS NULL ORDER BY created_at, id LIMIT $2"
            ))
            .bind(tenant.as_str())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(Row::into_call).collect()
    }

    /// The task of call `id` is in `state`; `told` when its end was told to the caller.
    pub async fn a2a_call_seen(
        &self,
        tenant: &TenantId,
        id: &str,
        state: &str,
        told: Option<i64>,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE a2a_calls SET state = $1, told_at = COALESCE(told_at, $2) \
                 WHERE tenant = $3 AND id = $4",
            )
            .bind(state)
            .bind(told)
            .bind(tenant.as_str())
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
