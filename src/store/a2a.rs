//! A2A tasks in the store: the task as the protocol shows it (a JSON snapshot and its
//! state), its numbered updates for subscribers to replay, the webhooks registered for
//! it and the push notifications still to deliver. A task is opened in one transaction
//! with the delegated-task row and the inbox event that tell its employee, so a task an
//! agent was answered with is never lost; an update is appended only if the snapshot it
//! was computed from is still the latest (optimistic: the caller retries), and queues a
//! delivery to every webhook of the task in the same transaction.

use super::rows::parse_id;
use super::{Store, StoreError, insert_event, to_micros, with_pool};
use crate::model::{EmployeeId, Event, Task, TenantId};

/// One A2A task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct A2aTaskRow {
    /// Task id.
    pub id: String,
    /// The employee working on it.
    pub employee_id: EmployeeId,
    /// The agent addressed: the employee's handle, or `desk` for the front desk.
    pub agent: String,
    /// The context (conversation) it belongs to.
    pub context_id: String,
    /// Its state, `TASK_STATE_*`.
    pub state: String,
    /// The A2A task as JSON.
    pub task: String,
    /// The sequence number of its latest update (1 when opened).
    pub seq: i64,
    /// The outbox action id of the latest employee action that changed it (0: none).
    pub ord: i64,
    /// When it was opened, microseconds.
    pub created_at: i64,
    /// When it last changed, microseconds.
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    employee_id: String,
    agent: String,
    context_id: String,
    state: String,
    task: String,
    seq: i64,
    ord: i64,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn into_row(self) -> Result<A2aTaskRow, StoreError> {
        Ok(A2aTaskRow {
            employee_id: parse_id(&self.employee_id)?,
            id: self.id,
            agent: self.agent,
            context_id: self.context_id,
            state: self.state,
            task: self.task,
            seq: self.seq,
            ord: self.ord,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

macro_rules! select_a2a {
    ($rest:literal) => {
        concat!(
            "SELECT id, employee_id, agent, context_id, state, task, seq, ord, created_at, \
             updated_at FROM a2a_tasks ",
            $rest
        )
    };
}

/// The listing's conditions, with fixed placeholders: a filter not given binds NULL.
macro_rules! a2a_listed {
    ($head:literal, $rest:literal) => {
        concat!(
            $head,
            " WHERE tenant = $1 AND ($2 IS NULL OR agent = $2) AND ($3 IS NULL OR context_id = $3) \
             AND ($4 IS NULL OR state = $4) AND ($5 IS NULL OR updated_at > $5) ",
            $rest
        )
    };
}

/// Which tasks a listing wants; newest first, paged by (created_at, id).
#[derive(Debug, Clone, Default)]
pub struct A2aTaskFilter {
    /// Only the tasks of this agent (an employee's handle); none: all.
    pub agent: Option<String>,
    /// Only this context.
    pub context_id: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Only tasks changed after this time, microseconds.
    pub updated_after: Option<i64>,
    /// Continue after this (created_at, id).
    pub after: Option<(i64, String)>,
    /// Most tasks to return.
    pub limit: i64,
}

/// What appending an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored.
    Stored,
    /// The task changed since it was read: read again and retry.
    Stale,
    /// An update with this key was stored before: nothing changed.
    Duplicate,
}

/// A push notification to deliver: the webhook's config and the update, both JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct A2aDelivery {
    /// Task id.
    pub task_id: String,
    /// Webhook config id.
    pub config_id: String,
    /// The update's sequence number.
    pub seq: i64,
    /// Tries so far.
    pub attempts: i64,
    /// The webhook config (JSON).
    pub config: String,
    /// The update (JSON).
    pub event: String,
}

impl Store {
    /// Opens an A2A task: its row and first update, the delegated task that tells the
    /// employee's plans about it and the inbox event, in one transaction.
    pub async fn a2a_open(
        &self,
        tenant: &TenantId,
        row: &A2aTaskRow,
        first: &str,
        task: &Task,
        event: &Event,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO a2a_tasks (tenant, id, employee_id, agent, context_id, state, task, \
                 seq, ord, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(tenant.as_str())
            .bind(&row.id)
            .bind(row.employee_id.to_string())
            .bind(&row.agent)
            .bind(&row.context_id)
            .bind(&row.state)
            .bind(&row.task)
            .bind(row.seq)
            .bind(row.ord)
            .bind(row.created_at)
            .bind(row.updated_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO a2a_task_events (tenant, task_id, seq, event, key, at) \
                 VALUES ($1, $2, $3, $4, NULL, $5)",
            )
            .bind(tenant.as_str())
            .bind(&row.id)
            .bind(row.seq)
            .bind(first)
            .bind(row.created_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO tasks (tenant, id, employee_id, description, priority, deadline, \
                 requester, channel, status, progress, result, intention, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(tenant.as_str())
            .bind(&task.id)
            .bind(task.employee_id.to_string())
            .bind(&task.description)
            .bind(task.priority.as_str())
            .bind(task.deadline.map(to_micros))
            .bind(&task.requester)
            .bind(&task.channel)
            .bind(task.status.as_str())
            .bind(task.progress)
            .bind(task.result.as_deref())
            .bind(task.intention.map(|i| i as i64))
            .bind(to_micros(task.created_at))
            .bind(to_micros(task.updated_at))
            .execute(&mut *tx)
            .await?;
            insert_event!(event).execute(&mut *tx).await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// One A2A task.
    pub async fn a2a_task(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<A2aTaskRow>, StoreError> {
        let row: Option<Row> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_a2a!("WHERE tenant = $1 AND id = $2"))
                .bind(tenant.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Row::into_row).transpose()
    }

    /// Appends updates `events` (sequence numbers after `expect_seq`) to a task whose
    /// latest update is still `expect_seq`, with its new state and snapshot, and queues
    /// a push notification of each to every webhook of the task.
    #[allow(clippy::too_many_arguments)]
    pub async fn a2a_append(
        &self,
        tenant: &TenantId,
        id: &str,
        expect_seq: i64,
        state: &str,
        task: &str,
        events: &[String],
        key: Option<&str>,
        ord: i64,
        now: i64,
    ) -> Result<Appended, StoreError> {
        let new_seq = expect_seq + events.len() as i64;
        let done = with_pool!(self, write, |pool| 'tx: {
            let mut tx = pool.begin().await?;
            if let Some(k) = key {
                let seen: Option<(i64,)> = sqlx::query_as(
                    "SELECT seq FROM a2a_task_events WHERE tenant = $1 AND key = $2",
                )
                .bind(tenant.as_str())
                .bind(k)
                .fetch_optional(&mut *tx)
                .await?;
                if seen.is_some() {
                    break 'tx Ok::<_, sqlx::Error>(Appended::Duplicate);
                }
            }
            let changed = sqlx::query(
                "UPDATE a2a_tasks SET state = $1, task = $2, seq = $3, updated_at = $4, ord = $8 \
                 WHERE tenant = $5 AND id = $6 AND seq = $7",
            )
            .bind(state)
            .bind(task)
            .bind(new_seq)
            .bind(now)
            .bind(tenant.as_str())
            .bind(id)
            .bind(expect_seq)
            .bind(ord)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != 1 {
                break 'tx Ok(Appended::Stale);
            }
            for (i, e) in events.iter().enumerate() {
                let seq = expect_seq + 1 + i as i64;
                // The key marks the first update of the batch: a retried action finds it.
                let k = if i == 0 { key } else { None };
                sqlx::query(
                    "INSERT INTO a2a_task_events (tenant, task_id, seq, event, key, at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(tenant.as_str())
                .bind(id)
                .bind(seq)
                .bind(e)
                .bind(k)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO a2a_push_deliveries (tenant, task_id, config_id, seq, attempts, \
                     next_at, delivered_at, gave_up, last_error) \
                     SELECT tenant, task_id, id, $3, 0, $4, NULL, 0, NULL FROM a2a_push_configs \
                     WHERE tenant = $1 AND task_id = $2",
                )
                .bind(tenant.as_str())
                .bind(id)
                .bind(seq)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(Appended::Stored)
        })?;
        Ok(done)
    }

    /// A task's updates after `seq`, in order (at most `limit`).
    pub async fn a2a_events_after(
        &self,
        tenant: &TenantId,
        id: &str,
        seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT seq, event FROM a2a_task_events WHERE tenant = $1 AND task_id = $2 \
                 AND seq > $3 ORDER BY seq LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(id)
            .bind(seq)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Tasks matching `f`, newest first, and how many match in all.
    pub async fn a2a_tasks(
        &self,
        tenant: &TenantId,
        f: &A2aTaskFilter,
    ) -> Result<(Vec<A2aTaskRow>, i64), StoreError> {
        let (after_at, after_id) = match &f.after {
            Some((at, id)) => (Some(*at), id.clone()),
            None => (None, String::new()),
        };
        let (rows, total): (Vec<Row>, (i64,)) = with_pool!(self, read, |pool| {
            let rows = sqlx::query_as(a2a_listed!(
                "SELECT id, employee_id, agent, context_id, state, task, seq, ord, created_at, \
                 updated_at FROM a2a_tasks",
                "AND ($6 IS NULL OR created_at < $6 OR (created_at = $6 AND id < $7)) \
                 ORDER BY created_at DESC, id DESC LIMIT $8"
            ))
            .bind(tenant.as_str())
            .bind(f.agent.as_deref())
            .bind(f.context_id.as_deref())
            .bind(f.state.as_deref())
            .bind(f.updated_after)
            .bind(after_at)
            .bind(&after_id)
            .bind(f.limit)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_as(a2a_listed!("SELECT COUNT(*) FROM a2a_tasks", ""))
                .bind(tenant.as_str())
                .bind(f.agent.as_deref())
                .bind(f.context_id.as_deref())
                .bind(f.state.as_deref())
                .bind(f.updated_after)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        })?;
        let rows = rows
            .into_iter()
            .map(Row::into_row)
            .collect::<Result<_, _>>()?;
        Ok((rows, total.0))
    }

    /// Stores (or replaces) a webhook config of a task.
    pub async fn a2a_save_push(
        &self,
        tenant: &TenantId,
        task_id: &str,
        id: &str,
        config: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO a2a_push_configs (tenant, task_id, id, config, created_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant, task_id, id) DO UPDATE SET config = excluded.config",
            )
            .bind(tenant.as_str())
            .bind(task_id)
            .bind(id)
            .bind(config)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// A task's webhook configs (JSON), by id.
    pub async fn a2a_push_configs(
        &self,
        tenant: &TenantId,
        task_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, config FROM a2a_push_configs WHERE tenant = $1 AND task_id = $2 \
                 ORDER BY id",
            )
            .bind(tenant.as_str())
            .bind(task_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Deletes a webhook config and its undelivered notifications; answers whether it
    /// existed.
    pub async fn a2a_delete_push(
        &self,
        tenant: &TenantId,
        task_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "DELETE FROM a2a_push_configs WHERE tenant = $1 AND task_id = $2 AND id = $3",
            )
            .bind(tenant.as_str())
            .bind(task_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "DELETE FROM a2a_push_deliveries WHERE tenant = $1 AND task_id = $2 \
                 AND config_id = $3 AND delivered_at IS NULL",
            )
            .bind(tenant.as_str())
            .bind(task_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        })?;
        Ok(n == 1)
    }

    /// Push notifications due by `now`, oldest update first within a task.
    pub async fn a2a_due_deliveries(
        &self,
        tenant: &TenantId,
        now: i64,
        limit: i64,
    ) -> Result<Vec<A2aDelivery>, StoreError> {
        let rows = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT d.task_id, d.config_id, d.seq, d.attempts, c.config, e.event \
                 FROM a2a_push_deliveries d \
                 JOIN a2a_push_configs c ON c.tenant = d.tenant AND c.task_id = d.task_id \
                      AND c.id = d.config_id \
                 JOIN a2a_task_events e ON e.tenant = d.tenant AND e.task_id = d.task_id \
                      AND e.seq = d.seq \
                 WHERE d.tenant = $1 AND d.delivered_at IS NULL AND d.gave_up = 0 \
                       AND d.next_at <= $2 \
                 ORDER BY d.task_id, d.config_id, d.seq LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Records a delivery's outcome: delivered, or failed with the next try at
    /// `next_at` (or given up on).
    #[allow(clippy::too_many_arguments)]
    pub async fn a2a_delivery_tried(
        &self,
        tenant: &TenantId,
        d: &A2aDelivery,
        delivered: bool,
        next_at: i64,
        give_up: bool,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE a2a_push_deliveries SET attempts = attempts + 1, next_at = $1, \
                 delivered_at = $2, gave_up = $3, last_error = $4 \
                 WHERE tenant = $5 AND task_id = $6 AND config_id = $7 AND seq = $8",
            )
            .bind(next_at)
            .bind(delivered.then_some(now))
            .bind(i64::from(give_up))
            .bind(error)
            .bind(tenant.as_str())
            .bind(&d.task_id)
            .bind(&d.config_id)
            .bind(d.seq)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
