//! Tasks in the store. A task is stored in the same transaction as the event that
//! tells its employee about it, so an acknowledged task is never lost and never
//! assigned twice; its status, progress and result are updated as the employee works.

use super::insert_event;
use super::rows::parse_id;
use super::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{EmployeeId, Event, Priority, Task, TaskStatus, TenantId};

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    employee_id: String,
    description: String,
    priority: String,
    deadline: Option<i64>,
    requester: String,
    channel: String,
    status: String,
    progress: f64,
    result: Option<String>,
    intention: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TaskRow {
    fn into_task(self) -> Result<Task, StoreError> {
        Ok(Task {
            status: TaskStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("task status {:?}", self.status)))?,
            priority: Priority::parse(&self.priority)
                .ok_or_else(|| StoreError::Corrupt(format!("task priority {:?}", self.priority)))?,
            id: self.id,
            employee_id: parse_id(&self.employee_id)?,
            description: self.description,
            deadline: self.deadline.map(from_micros),
            requester: self.requester,
            channel: self.channel,
            progress: self.progress,
            result: self.result,
            intention: self.intention.map(|i| i as u64),
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

macro_rules! select_tasks {
    ($rest:literal) => {
        concat!(
            "SELECT id, employee_id, description, priority, deadline, requester, channel, status, \
             progress, result, intention, created_at, updated_at FROM tasks ",
            $rest
        )
    };
}

/// A change to a task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskUpdate {
    /// New status.
    pub status: Option<TaskStatus>,
    /// New progress, 0..=1.
    pub progress: Option<f64>,
    /// The result or the reason it failed.
    pub result: Option<String>,
    /// The intention that took it up.
    pub intention: Option<u64>,
}

impl Store {
    /// Stores a new task and the event that assigns it, in one transaction. Answers
    /// false (and stores nothing) when a task with that id exists.
    pub async fn assign_task(
        &self,
        tenant: &TenantId,
        t: &Task,
        event: &Event,
    ) -> Result<bool, StoreError> {
        let created = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let new = sqlx::query(
                "INSERT INTO tasks (tenant, id, employee_id, description, priority, deadline, requester, \
                 channel, status, progress, result, intention, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&t.id)
            .bind(t.employee_id.to_string())
            .bind(&t.description)
            .bind(t.priority.as_str())
            .bind(t.deadline.map(to_micros))
            .bind(&t.requester)
            .bind(&t.channel)
            .bind(t.status.as_str())
            .bind(t.progress)
            .bind(t.result.as_deref())
            .bind(t.intention.map(|i| i as i64))
            .bind(to_micros(t.created_at))
            .bind(to_micros(t.updated_at))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if new {
                insert_event!(event).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(new)
        })?;
        Ok(created)
    }

    /// One task.
    pub async fn task(&self, tenant: &TenantId, id: &str) -> Result<Option<Task>, StoreError> {
        let row: Option<TaskRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_tasks!("WHERE tenant = $1 AND id = $2"))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(TaskRow::into_task).transpose()
    }

    /// An employee's tasks, newest first, optionally only those not ended.
    pub async fn tasks(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<Task>, StoreError> {
        let rows: Vec<TaskRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_tasks!(
                "WHERE tenant = $1 AND employee_id = $2 \
                 AND ($3 = 0 OR status IN ('accepted', 'in_progress')) \
                 ORDER BY created_at DESC, id LIMIT $4"
            ))
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(i32::from(open_only))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(TaskRow::into_task).collect()
    }

    /// Applies `u`, made by action `by`, to a task that has not ended — or that `by`
    /// itself changed last (the same update retried after a crash, whose requester must
    /// still be told); answers the task as it now is, or none when it had already
    /// ended (or does not exist).
    pub async fn update_task(
        &self,
        tenant: &TenantId,
        id: &str,
        u: &TaskUpdate,
        by: &str,
    ) -> Result<Option<Task>, StoreError> {
        let now = to_micros(chrono::Utc::now());
        let changed = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE tasks SET status = COALESCE($1, status), progress = COALESCE($2, progress), \
                 result = COALESCE($3, result), intention = COALESCE($4, intention), updated_at = $5, updated_by = $8 \
                 WHERE tenant = $6 AND id = $7 AND (status IN ('accepted', 'in_progress') OR updated_by = $8)",
            )
            .bind(u.status.map(|s| s.as_str()))
            .bind(u.progress)
            .bind(u.result.as_deref())
            .bind(u.intention.map(|i| i as i64))
            .bind(now)
            .bind(tenant.as_str())
            .bind(id)
            .bind(by)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Ok(None);
        }
        self.task(tenant, id).await
    }
}
