//! A run of a collaborative workflow and its steps, as stored and shown: each step
//! waits for the steps it comes after, is assigned to an employee as a delegated task,
//! and ends done or failed with its task; a step open past its `stuck_after` is stuck
//! (and escalated once).

use super::EmployeeId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Steps are open.
    Running,
    /// Every step is done.
    Completed,
    /// A step's task failed (or its step could be given to no one); the steps still
    /// waiting were canceled.
    Failed,
}

impl RunStatus {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    /// From a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [RunStatus::Running, RunStatus::Completed, RunStatus::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Waiting for the steps it comes after.
    Waiting,
    /// Handed to an employee as a task, not ended yet.
    Assigned,
    /// Its task is done.
    Done,
    /// Its task failed, or no employee could take it.
    Failed,
    /// Its run failed before it started.
    Canceled,
}

impl StepStatus {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Waiting => "waiting",
            StepStatus::Assigned => "assigned",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
            StepStatus::Canceled => "canceled",
        }
    }

    /// From a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            StepStatus::Waiting,
            StepStatus::Assigned,
            StepStatus::Done,
            StepStatus::Failed,
            StepStatus::Canceled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunStep {
    /// The step's id in the workflow.
    pub id: String,
    /// What to do, with the run's inputs filled in.
    pub title: String,
    /// Where it stands.
    pub status: StepStatus,
    /// Whether it stayed open past its `stuck_after` (and was escalated).
    pub stuck: bool,
    /// The employee it was assigned to.
    #[schema(value_type = Option<String>)]
    pub employee_id: Option<EmployeeId>,
    /// That employee's chat handle (`casey.kim`).
    #[serde(default)]
    pub employee: Option<String>,
    /// The delegated task doing it.
    pub task_id: Option<String>,
    /// What came of it (done) or why not (failed).
    pub result: Option<String>,
    /// The escalation raised when it got stuck.
    pub escalation_id: Option<String>,
    /// When it was assigned.
    pub assigned_at: Option<DateTime<Utc>>,
    /// When it got stuck.
    pub stuck_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
}

/// How far a run is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunProgress {
    /// Steps done.
    pub done: usize,
    /// Steps in all.
    pub total: usize,
}

/// A run of a workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowRun {
    /// Run id.
    pub id: String,
    /// The workflow's id (its file stem).
    pub workflow: String,
    /// The workflow's name.
    pub name: String,
    /// The inputs it was started with.
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    /// Where it stands.
    pub status: RunStatus,
    /// Who started it.
    pub started_by: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Steps done of all.
    pub progress: RunProgress,
    /// Its steps, in the workflow's order.
    pub steps: Vec<RunStep>,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it completed or failed.
    pub ended_at: Option<DateTime<Utc>>,
}
