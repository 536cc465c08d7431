//! Collaborative workflows (seed 7.3): a run of a configured workflow hands each step,
//! once the steps it comes `after` are done, to the least-loaded employee of the step's
//! role as a delegated task (channel `workflow`), and moves on when that task ends. A
//! step's failed task fails the run (the steps still waiting are canceled and the run
//! says which step failed and why); a step open longer than its `stuck_after` is
//! escalated once to its employee's manager and shown stuck.
//!
//! The run and its steps live in the store; [`advance`] reads them and moves what can
//! move, each change a compare-and-set, so it can run again at any time — after a
//! crash, on a timer, on two nodes — and still assign, escalate and end each step once.
//! It never waits on an employee: the task is stored with the event that tells the
//! employee, and [`run`] comes back for the result.

use crate::capabilities::registry::Act;
use crate::capabilities::{Hands, tasks};
use crate::config::workflows::{Workflow, WorkflowStepSpec, render};
use crate::model::{
    EmployeeId, EmployeeStatus, FieldError, NewTask, OutboxEntry, RunProgress, RunStatus, RunStep,
    StepStatus, TaskStatus, WorkflowRun,
};
use crate::store::{StoreError, StoredRun};
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};
use std::time::Duration;

/// The channel of a workflow step's task, as plans see it (`event.payload.channel`).
pub const CHANNEL: &str = "workflow";

/// Why a run could not be started.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The inputs do not fit the workflow; each error names its input.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The store failed; nothing was started.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every problem of `inputs` for `w`, naming the input.
pub fn check_inputs(w: &Workflow, inputs: &Json) -> Vec<FieldError> {
    let mut e = Vec::new();
    let Some(given) = inputs.as_object() else {
        return vec![FieldError::new(
            "inputs",
            format!(
                "must be an object of the workflow's inputs ({})",
                w.inputs.join(", ")
            ),
        )];
    };
    for name in &w.inputs {
        let present = match given.get(name) {
            Some(Json::String(s)) => !s.trim().is_empty(),
            Some(Json::Null) | None => false,
            Some(_) => true,
        };
        if !present {
            e.push(FieldError::new(
                format!("inputs.{name}"),
                format!("is missing; workflow `{}` needs it", w.id),
            ));
        }
    }
    for name in given.keys() {
        if !w.inputs.contains(name) {
            e.push(FieldError::new(
                format!("inputs.{name}"),
                format!(
                    "is not an input of workflow `{}`; it takes: {}",
                    w.id,
                    if w.inputs.is_empty() {
                        "none".to_string()
                    } else {
                        w.inputs.join(", ")
                    }
                ),
            ));
        }
    }
    e
}

/// Starts a run of `w` with `inputs`, started by `by`: stored with every step waiting,
/// then advanced (the first steps assigned) before it is answered.
pub async fn start(
    hands: &Hands,
    w: &Workflow,
    inputs: Json,
    by: &str,
) -> Result<WorkflowRun, WorkflowError> {
    let errors = check_inputs(w, &inputs);
    if !errors.is_empty() {
        return Err(WorkflowError::Invalid(errors));
    }
    let mut steps = Vec::with_capacity(w.steps.len());
    for (i, s) in w.steps.iter().enumerate() {
        let title = render(&s.title, &inputs).map_err(|m| {
            WorkflowError::Invalid(vec![FieldError::new(format!("steps[{i}].title"), m)])
        })?;
        steps.push(RunStep {
            id: s.id.clone(),
            title,
            status: StepStatus::Waiting,
            stuck: false,
            employee_id: None,
            employee: None,
            task_id: None,
            result: None,
            escalation_id: None,
            assigned_at: None,
            stuck_at: None,
            ended_at: None,
        });
    }
    let now = Utc::now();
    let run = WorkflowRun {
        id: uuid::Uuid::now_v7().to_string(),
        workflow: w.id.clone(),
        name: w.name.clone(),
        inputs,
        status: RunStatus::Running,
        started_by: by.to_string(),
        error: None,
        progress: RunProgress {
            done: 0,
            total: steps.len(),
        },
        steps,
        created_at: now,
        updated_at: now,
        ended_at: None,
    };
    let definition = serde_json::to_value(w).expect("a workflow serialises to JSON");
    hands
        .store
        .start_workflow_run(&hands.tenant, &run, &definition)
        .await?;
    metrics::counter!("empla_workflow_runs_started_total").increment(1);
    if let Err(e) = advance(hands, &run.id, now).await {
        // Stored: the next round of [`run`] advances it.
        tracing::warn!(run = %run.id, error = %e, "the new run could not be advanced yet");
    }
    Ok(hands
        .store
        .workflow_run(&hands.tenant, &run.id)
        .await?
        .map_or(run, |s| s.run))
}

/// Moves run `id` as far as it can go at `now`: ends steps whose tasks ended, assigns
/// the steps now free to start, escalates steps stuck past their time, and ends the
/// run when every step is done or one failed.
///
/// One call at a time per run in this process (the run's start and the loop may both
/// advance it), and never at a time before the last call's: each step's times then follow
/// the order in which steps really moved.
pub async fn advance(hands: &Hands, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    static ADVANCING: std::sync::LazyLock<
        dashmap::DashMap<String, std::sync::Arc<tokio::sync::Mutex<DateTime<Utc>>>>,
    > = std::sync::LazyLock::new(dashmap::DashMap::new);
    let lock = ADVANCING
        .entry(id.to_string())
        .or_insert_with(|| std::sync::Arc::new(tokio::sync::Mutex::new(DateTime::<Utc>::MIN_UTC)))
        .clone();
    let mut last = lock.lock().await;
    let now = now.max(*last);
    *last = now;
    // The entry stays (a few bytes per run) so that a late call never goes back in time.
    advance_one(hands, id, now).await
}

async fn advance_one(hands: &Hands, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    let t = &hands.tenant;
    // Each round changes at least one step, or the run is as far as it goes.
    for _ in 0..64 {
        let Some(StoredRun { run, definition }) = hands.store.workflow_run(t, id).await? else {
            return Ok(());
        };
        if run.status != RunStatus::Running {
            return Ok(());
        }
        let w: Workflow = serde_json::from_value(definition).map_err(|e| {
            StoreError::Corrupt(format!(
                "workflow run {id}: its definition is unreadable ({e})"
            ))
        })?;
        let mut moved = false;
        for step in &run.steps {
            let Some(spec) = w.steps.iter().find(|s| s.id == step.id) else {
                continue;
            };
            match step.status {
                StepStatus::Assigned => moved |= follow(hands, &run, &w, spec, step, now).await?,
                StepStatus::Waiting => {
                    let ready = spec.after.iter().all(|a| {
                        run.steps
                            .iter()
                            .any(|s| &s.id == a && s.status == StepStatus::Done)
                    });
                    if ready {
                        moved |= assign(hands, &run, &w, spec, step, now).await?;
                    }
                }
                StepStatus::Failed => {
                    let why = format!(
                        "step `{}` failed: {}",
                        step.id,
                        step.result.as_deref().unwrap_or("no reason given")
                    );
                    if hands
                        .store
                        .end_workflow_run(t, id, RunStatus::Failed, Some(&why), now)
                        .await?
                    {
                        metrics::counter!("empla_workflow_runs_ended_total", "status" => "failed")
                            .increment(1);
                        tracing::warn!(run = id, workflow = %run.workflow, %why, "workflow run failed");
                    }
                    return Ok(());
                }
                StepStatus::Done | StepStatus::Canceled => {}
            }
        }
        if !moved {
            if run.steps.iter().all(|s| s.status == StepStatus::Done)
                && hands
                    .store
                    .end_workflow_run(t, id, RunStatus::Completed, None, now)
                    .await?
            {
                metrics::counter!("empla_workflow_runs_ended_total", "status" => "completed")
                    .increment(1);
                tracing::info!(run = id, workflow = %run.workflow, "workflow run completed");
            }
            return Ok(());
        }
        hands.store.touch_workflow_run(t, id, now).await?;
    }
    Ok(())
}

/// An assigned step: ended with its task, handed over again if its task was never
/// stored (a crash between the two), escalated once when stuck. Whether it moved.
async fn follow(
    hands: &Hands,
    run: &WorkflowRun,
    w: &Workflow,
    spec: &WorkflowStepSpec,
    step: &RunStep,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (Some(task_id), Some(employee)) = (&step.task_id, step.employee_id) else {
        return Ok(false);
    };
    let t = &hands.tenant;
    match hands.store.task(t, task_id).await? {
        None => {
            hand_over(hands, run, w, step, employee, task_id).await;
            Ok(false)
        }
        Some(task) if task.status.is_final() => {
            let status = match task.status {
                TaskStatus::Done => StepStatus::Done,
                _ => StepStatus::Failed,
            };
            hands
                .store
                .end_workflow_step(t, &run.id, &step.id, status, task.result.as_deref(), now)
                .await
        }
        Some(_) => {
            let Some(limit) = spec.stuck_after else {
                return Ok(false);
            };
            let since = step.assigned_at.unwrap_or(run.created_at);
            if step.stuck || now - since < chrono::Duration::from_std(limit).unwrap_or_default() {
                return Ok(false);
            }
            let escalation = escalate(hands, run, w, step, employee, limit).await;
            hands
                .store
                .mark_workflow_step_stuck(t, &run.id, &step.id, escalation.as_deref(), now)
                .await
        }
    }
}

/// A step free to start: given to the least-loaded employee who may do it. With no one
/// to give it to, the step fails (and so the run). Whether it moved.
async fn assign(
    hands: &Hands,
    run: &WorkflowRun,
    w: &Workflow,
    spec: &WorkflowStepSpec,
    step: &RunStep,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let t = &hands.tenant;
    let Some(employee) = least_loaded(hands, spec).await? else {
        let why = format!(
            "no employee of {} is working here (hire one, or reactivate one), so no one could take it",
            spec.who()
        );
        return hands
            .store
            .end_workflow_step(t, &run.id, &step.id, StepStatus::Failed, Some(&why), now)
            .await;
    };
    let task_id = uuid::Uuid::now_v7().to_string();
    if !hands
        .store
        .assign_workflow_step(t, &run.id, &step.id, employee, &task_id, now)
        .await?
    {
        return Ok(false);
    }
    hand_over(hands, run, w, step, employee, &task_id).await;
    Ok(true)
}

/// Stores the step's task with the event that tells the employee (once: the task id
/// is the step's).
async fn hand_over(
    hands: &Hands,
    run: &WorkflowRun,
    w: &Workflow,
    step: &RunStep,
    employee: EmployeeId,
    task_id: &str,
) {
    let task = NewTask {
        description: format!(
            "{}\n\n(Step `{}` of the workflow \"{}\", run {}.)",
            step.title, step.id, w.name, run.id
        ),
        priority: None,
        deadline: None,
        requester: Some(format!("workflow:{}:{}", w.id, run.id)),
    };
    if let Err(e) = tasks::assign(
        hands,
        employee,
        task,
        Some(task_id.to_string()),
        CHANNEL,
        &run.started_by,
    )
    .await
    {
        tracing::warn!(run = %run.id, step = %step.id, error = %e, "the step's task could not be handed over yet");
    }
}

/// The employee not offboarded nor paused who may do `spec` and holds the fewest open
/// tasks (the earliest hired among equals).
async fn least_loaded(
    hands: &Hands,
    spec: &WorkflowStepSpec,
) -> Result<Option<EmployeeId>, StoreError> {
    let t = &hands.tenant;
    let load: std::collections::HashMap<EmployeeId, i64> =
        hands.store.open_task_counts(t).await?.into_iter().collect();
    let mut best: Option<(i64, EmployeeId)> = None;
    let mut offset = 0;
    loop {
        let page = hands.store.employees(t, 500, offset).await?;
        let n = page.len();
        for p in page {
            let fits = match (&spec.role, &spec.capability) {
                (Some(r), _) => &p.role == r,
                (None, Some(c)) => p.capabilities.contains(c),
                (None, None) => true,
            };
            if !fits
                || matches!(
                    p.status,
                    EmployeeStatus::Offboarded | EmployeeStatus::Inactive
                )
            {
                continue;
            }
            let l = load.get(&p.id).copied().unwrap_or(0);
            if best.is_none_or(|(b, _)| l < b) {
                best = Some((l, p.id));
            }
        }
        if n < 500 {
            break;
        }
        offset += 500;
    }
    Ok(best.map(|(_, id)| id))
}

/// Raises the escalation of a stuck step to its employee's manager: a question (so no
/// earlier decision settles it by precedent), keyed by the step, so raising it again
/// after a crash asks once. The escalation's id, or none when the employee has no
/// manager or it could not be raised.
async fn escalate(
    hands: &Hands,
    run: &WorkflowRun,
    w: &Workflow,
    step: &RunStep,
    employee: EmployeeId,
    limit: Duration,
) -> Option<String> {
    let (me, manager) = match hands.sender(employee).await {
        Ok(Some(s)) => s,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(run = %run.id, step = %step.id, error = %e, "a stuck step's employee could not be read");
            return None;
        }
    };
    let entry = OutboxEntry {
        key: format!("workflow:{}:{}:stuck", run.id, step.id),
        employee_id: employee,
        action_id: 0,
        kind: "escalate".into(),
        params: json!({
            "case": "workflow_step_stuck",
            "message": format!(
                "The step \"{}\" of the workflow \"{}\" (run {}) was given to me {} ago and is not done yet. How should I go on: keep at it, or should someone else take it?",
                step.title,
                w.name,
                run.id,
                humantime::format_duration(limit)
            ),
            "context": {
                "workflow": w.id, "run": run.id, "step": step.id, "task_id": step.task_id,
            },
        }),
    };
    let act = Act {
        hands,
        me: &me,
        manager: manager.as_ref(),
        entry: &entry,
    };
    match crate::lifecycle::escalations::raise(&act).await {
        Ok(r) => Some(
            r["escalation_id"]
                .as_str()
                .map_or(entry.key.clone(), str::to_string),
        ),
        Err(e) => {
            tracing::warn!(run = %run.id, step = %step.id, error = %e, "a stuck step could not be escalated; it is shown stuck");
            None
        }
    }
}

/// Wakes the rounds of [`run`] early.
static TASK_ENDED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// A workflow step's task ended: the next round of [`run`] starts now rather than at
/// its time (a round that finds nothing to move costs one query).
pub(crate) fn task_ended() {
    TASK_ENDED.notify_waiters();
}

/// Advances every running run every `every` (and as soon as a step's task ends), for
/// as long as the node runs: tasks that ended move their runs on, and steps past their
/// time are escalated. A run left midway by a stop is taken up again on the first round.
pub async fn run(hands: std::sync::Arc<Hands>, every: Duration) {
    loop {
        match hands.store.running_workflow_runs(&hands.tenant).await {
            Ok(ids) => {
                for id in ids {
                    if let Err(e) = advance(&hands, &id, Utc::now()).await {
                        tracing::warn!(run = %id, error = %e, "workflow run could not be advanced");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "running workflow runs could not be listed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = TASK_ENDED.notified() => {}
        }
    }
}
