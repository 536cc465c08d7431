//! Workflow runs and their steps, and team stand-ups, in the store. Every change of a
//! step or run is a compare-and-set from the state it must be in, so the engine can
//! advance a run again after a crash (or on two nodes at once) and each step is
//! assigned, escalated and ended once.

use super::rows::{parse_id, parse_json};
use super::{Store, StoreError, from_micros, to_micros, with_pool};
use crate::model::{
    EmployeeId, RunProgress, RunStatus, RunStep, StepStatus, TenantId, WorkflowRun,
};
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    workflow: String,
    definition: String,
    inputs: String,
    status: String,
    started_by: String,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
    ended_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    run_id: String,
    step_id: String,
    title: String,
    status: String,
    employee_id: Option<String>,
    task_id: Option<String>,
    result: Option<String>,
    escalation_id: Option<String>,
    assigned_at: Option<i64>,
    stuck_at: Option<i64>,
    ended_at: Option<i64>,
}

impl StepRow {
    fn into_step(self) -> Result<RunStep, StoreError> {
        Ok(RunStep {
            status: StepStatus::parse(&self.status)
                .ok_or_else(|| StoreError::Corrupt(format!("step status {:?}", self.status)))?,
            employee_id: self.employee_id.as_deref().map(parse_id).transpose()?,
            employee: None,
            stuck: self.stuck_at.is_some(),
            id: self.step_id,
            title: self.title,
            task_id: self.task_id,
            result: self.result,
            escalation_id: self.escalation_id,
            assigned_at: self.assigned_at.map(from_micros),
            stuck_at: self.stuck_at.map(from_micros),
            ended_at: self.ended_at.map(from_micros),
        })
    }
}

/// A run as stored: what the API shows, and the workflow definition it follows.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// The run with its steps.
    pub run: WorkflowRun,
    /// The definition it started from (a [`crate::config::workflows::Workflow`]).
    pub definition: Json,
}

const SELECT_STEPS: &str = "SELECT run_id, step_id, title, status, employee_id, task_id, result, \
     escalation_id, assigned_at, stuck_at, ended_at FROM workflow_steps ";

impl Store {
    /// Stores a new run with its steps (all `waiting`) in one transaction.
    pub async fn start_workflow_run(
        &self,
        tenant: &TenantId,
        run: &WorkflowRun,
        definition: &Json,
    ) -> Result<(), StoreError> {
        let inputs = run.inputs.to_string();
        let definition = definition.to_string();
        with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO workflow_runs (tenant, id, workflow, definition, inputs, status, started_by, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(tenant.as_str())
            .bind(&run.id)
            .bind(&run.workflow)
            .bind(&definition)
            .bind(&inputs)
            .bind(run.status.as_str())
            .bind(&run.started_by)
            .bind(to_micros(run.created_at))
            .execute(&mut *tx)
            .await?;
            for (i, s) in run.steps.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO workflow_steps (tenant, run_id, step_id, position, title, status) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(tenant.as_str())
                .bind(&run.id)
                .bind(&s.id)
                .bind(i as i64)
                .bind(&s.title)
                .bind(s.status.as_str())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// One run with its steps and definition.
    pub async fn workflow_run(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<StoredRun>, StoreError> {
        let row: Option<RunRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, workflow, definition, inputs, status, started_by, error, created_at, \
                 updated_at, ended_at FROM workflow_runs WHERE tenant = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let steps: Vec<StepRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_STEPS} WHERE tenant = $1 AND run_id = $2 ORDER BY position"
            )))
            .bind(tenant.as_str())
            .bind(id)
            .fetch_all(pool)
            .await
        })?;
        into_run(row, steps).map(Some)
    }

    /// Runs, newest first, optionally only those with `status`.
    pub async fn workflow_runs(
        &self,
        tenant: &TenantId,
        status: Option<RunStatus>,
        limit: i64,
    ) -> Result<Vec<WorkflowRun>, StoreError> {
        let rows: Vec<RunRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, workflow, definition, inputs, status, started_by, error, created_at, \
                 updated_at, ended_at FROM workflow_runs WHERE tenant = $1 AND ($2 IS NULL OR status = $2) \
                 ORDER BY created_at DESC, id DESC LIMIT $3",
            )
            .bind(tenant.as_str())
            .bind(status.map(RunStatus::as_str))
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // One query for the steps of the whole page.
        let first = rows.last().map_or(0, |r| r.created_at);
        let steps: Vec<StepRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_STEPS} WHERE tenant = $1 AND run_id IN \
                 (SELECT id FROM workflow_runs WHERE tenant = $1 AND created_at >= $2) ORDER BY position"
            )))
            .bind(tenant.as_str())
            .bind(first)
            .fetch_all(pool)
            .await
        })?;
        let mut by_run: std::collections::HashMap<String, Vec<StepRow>> = Default::default();
        for s in steps {
            by_run.entry(s.run_id.clone()).or_default().push(s);
        }
        rows.into_iter()
            .map(|r| {
                let steps = by_run.remove(&r.id).unwrap_or_default();
                into_run(r, steps).map(|s| s.run)
            })
            .collect()
    }

    /// Ids of the runs still running.
    pub async fn running_workflow_runs(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<String>, StoreError> {
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM workflow_runs WHERE tenant = $1 AND status = 'running' ORDER BY created_at",
            )
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await
        })?)
    }

    /// Marks a waiting step assigned to `employee` with task `task_id`; false when it
    /// was not waiting (assigned already).
    pub async fn assign_workflow_step(
        &self,
        tenant: &TenantId,
        run: &str,
        step: &str,
        employee: EmployeeId,
        task_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE workflow_steps SET status = 'assigned', employee_id = $1, task_id = $2, assigned_at = $3 \
                 WHERE tenant = $4 AND run_id = $5 AND step_id = $6 AND status = 'waiting'",
            )
            .bind(employee.to_string())
            .bind(task_id)
            .bind(to_micros(at))
            .bind(tenant.as_str())
            .bind(run)
            .bind(step)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Ends an open (waiting or assigned) step `done` or `failed` with `result`; false
    /// when it had ended already.
    pub async fn end_workflow_step(
        &self,
        tenant: &TenantId,
        run: &str,
        step: &str,
        status: StepStatus,
        result: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE workflow_steps SET status = $1, result = $2, ended_at = $3 \
                 WHERE tenant = $4 AND run_id = $5 AND step_id = $6 AND status IN ('waiting', 'assigned')",
            )
            .bind(status.as_str())
            .bind(result)
            .bind(to_micros(at))
            .bind(tenant.as_str())
            .bind(run)
            .bind(step)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Marks an assigned step stuck, with the escalation raised for it; false when it
    /// was stuck already (or had ended).
    pub async fn mark_workflow_step_stuck(
        &self,
        tenant: &TenantId,
        run: &str,
        step: &str,
        escalation: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "UPDATE workflow_steps SET stuck_at = $1, escalation_id = $2 \
                 WHERE tenant = $3 AND run_id = $4 AND step_id = $5 AND status = 'assigned' AND stuck_at IS NULL",
            )
            .bind(to_micros(at))
            .bind(escalation)
            .bind(tenant.as_str())
            .bind(run)
            .bind(step)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Ends a running run `completed` or `failed` (with why); a failed run's waiting
    /// steps are canceled in the same transaction. False when it had ended already.
    pub async fn end_workflow_run(
        &self,
        tenant: &TenantId,
        run: &str,
        status: RunStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE workflow_runs SET status = $1, error = $2, ended_at = $3, updated_at = $3 \
                 WHERE tenant = $4 AND id = $5 AND status = 'running'",
            )
            .bind(status.as_str())
            .bind(error)
            .bind(to_micros(at))
            .bind(tenant.as_str())
            .bind(run)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 && status == RunStatus::Failed {
                sqlx::query(
                    "UPDATE workflow_steps SET status = 'canceled', ended_at = $1 \
                     WHERE tenant = $2 AND run_id = $3 AND status = 'waiting'",
                )
                .bind(to_micros(at))
                .bind(tenant.as_str())
                .bind(run)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        })?;
        Ok(n == 1)
    }

    /// Notes that a run changed (a step moved) now.
    pub async fn touch_workflow_run(
        &self,
        tenant: &TenantId,
        run: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("UPDATE workflow_runs SET updated_at = $1 WHERE tenant = $2 AND id = $3")
                .bind(to_micros(at))
                .bind(tenant.as_str())
                .bind(run)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// How many open tasks (accepted or in progress) each employee holds; employees
    /// with none are absent.
    pub async fn open_task_counts(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<(EmployeeId, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT employee_id, COUNT(*) FROM tasks WHERE tenant = $1 \
                 AND status IN ('accepted', 'in_progress') GROUP BY employee_id",
            )
            .bind(tenant.as_str())
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|(id, n)| Ok((parse_id(&id)?, n)))
            .collect()
    }

    /// Records that `employee`'s update for `team`'s stand-up at `tick` was posted and
    /// handed over; false when it was recorded before.
    pub async fn record_standup(
        &self,
        tenant: &TenantId,
        team: &str,
        tick: DateTime<Utc>,
        employee: EmployeeId,
        text: &str,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO team_standups (tenant, team, tick_at, employee_id, text, posted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(team)
            .bind(to_micros(tick))
            .bind(employee.to_string())
            .bind(text)
            .bind(to_micros(Utc::now()))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// The employees whose update for `team`'s stand-up at `tick` is recorded.
    pub async fn standup_posted(
        &self,
        tenant: &TenantId,
        team: &str,
        tick: DateTime<Utc>,
    ) -> Result<Vec<EmployeeId>, StoreError> {
        let ids: Vec<String> = with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT employee_id FROM team_standups WHERE tenant = $1 AND team = $2 AND tick_at = $3",
            )
            .bind(tenant.as_str())
            .bind(team)
            .bind(to_micros(tick))
            .fetch_all(pool)
            .await
        })?;
        ids.iter().map(|i| parse_id(i)).collect()
    }

    /// The tick of `employee`'s last stand-up update for `team` before `tick`.
    pub async fn last_standup(
        &self,
        tenant: &TenantId,
        team: &str,
        employee: EmployeeId,
        tick: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<i64> = with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(tick_at) FROM team_standups WHERE tenant = $1 AND team = $2 \
                 AND employee_id = $3 AND tick_at < $4",
            )
            .bind(tenant.as_str())
            .bind(team)
            .bind(employee.to_string())
            .bind(to_micros(tick))
            .fetch_one(pool)
            .await
        })?;
        Ok(at.map(from_micros))
    }
}

fn into_run(row: RunRow, steps: Vec<StepRow>) -> Result<StoredRun, StoreError> {
    let steps = steps
        .into_iter()
        .map(StepRow::into_step)
        .collect::<Result<Vec<_>, _>>()?;
    let definition: Json = parse_json(&row.definition)?;
    Ok(StoredRun {
        run: WorkflowRun {
            status: RunStatus::parse(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("run status {:?}", row.status)))?,
            name: definition["name"]
                .as_str()
                .unwrap_or(&row.workflow)
                .to_string(),
            progress: RunProgress {
                done: steps
                    .iter()
                    .filter(|s| s.status == StepStatus::Done)
                    .count(),
                total: steps.len(),
            },
            steps,
            id: row.id,
            workflow: row.workflow,
            inputs: parse_json(&row.inputs)?,
            started_by: row.started_by,
            error: row.error,
            created_at: from_micros(row.created_at),
            updated_at: from_micros(row.updated_at),
            ended_at: row.ended_at.map(from_micros),
        },
        definition,
    })
}
