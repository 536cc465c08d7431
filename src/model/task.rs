//! Tasks: work a human delegates to an employee ("prepare the QBR brief for Acme by
//! Friday"). A task is acknowledged, taken up as an intention, reports progress to
//! its requester on the channel it came from, and ends done or failed with a result.

use super::{EmployeeId, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest accepted task description, in bytes.
pub(super) const MAX_DESCRIPTION: usize = 4096;

/// How urgent a task (or a message) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever there is time.
    Low,
    /// The default.
    Medium,
    /// Before other work.
    High,
}

impl Priority {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }
    }

    /// From a stored name.
    pub fn parse(s: &str) -> Option<Priority> {
        [Priority::Low, Priority::Medium, Priority::High]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Stored and acknowledged; the employee has not taken it up yet.
    Accepted,
    /// An intention is working on it.
    InProgress,
    /// Finished; `result` says what came of it.
    Done,
    /// Could not be done; `result` says why.
    Failed,
}

impl TaskStatus {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Accepted => "accepted",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Done => "done",
            TaskStatus::Failed => "failed",
        }
    }

    /// From a stored name.
    pub fn parse(s: &str) -> Option<TaskStatus> {
        [
            TaskStatus::Accepted,
            TaskStatus::InProgress,
            TaskStatus::Done,
            TaskStatus::Failed,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Whether the task has ended.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Done | TaskStatus::Failed)
    }
}

/// A task as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// What to do, in words.
    pub description: String,
    /// `low`, `medium` (default) or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// When it must be done (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// Who asked: `Name <address>`, an address or a chat handle; updates go back to
    /// them. Defaults to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
}

impl NewTask {
    /// Every problem, naming the field.
    pub fn validate(&self, now: DateTime<Utc>) -> Vec<FieldError> {
        let mut e = Vec::new();
        let d = self.description.trim();
        if d.is_empty() || d.len() > MAX_DESCRIPTION {
            e.push(FieldError::new(
                "description",
                format!(
                    "must say what to do in 1 to {MAX_DESCRIPTION} bytes, e.g. \"prepare the QBR brief for Acme\""
                ),
            ));
        }
        if let Some(dl) = self.deadline
            && dl <= now
        {
            e.push(FieldError::new(
                "deadline",
                format!(
                    "{} is already past; give a time in the future",
                    dl.to_rfc3339()
                ),
            ));
        }
        if let Some(r) = &self.requester
            && (r.trim().is_empty() || r.len() > 320 || r.contains(['\r', '\n']))
        {
            e.push(FieldError::new(
                "requester",
                "must be `Name <address>`, an address or a chat handle, on one line",
            ));
        }
        e
    }
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    /// Task id.
    pub id: String,
    /// `accepted`, `in_progress`, `done` or `failed`.
    pub status: TaskStatus,
    /// 0..=1.
    pub progress: f64,
    /// What came of it (done) or why not (failed).
    pub result: Option<String>,
    /// The employee doing it.
    #[schema(value_type = String)]
    pub employee_id: EmployeeId,
    /// What to do.
    pub description: String,
    /// Priority.
    pub priority: Priority,
    /// Deadline.
    pub deadline: Option<DateTime<Utc>>,
    /// Who asked.
    pub requester: String,
    /// Where updates go: `api`, `chat`, `email`.
    pub channel: String,
    /// The intention working on it, once taken up.
    pub intention: Option<u64>,
    /// When it was assigned.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_without_words_or_with_a_past_deadline_is_refused() {
        let now = Utc::now();
        let t = NewTask {
            description: "  ".into(),
            priority: None,
            deadline: Some(now - chrono::Duration::hours(1)),
            requester: Some("two\nlines".into()),
        };
        let fields: Vec<_> = t.validate(now).into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["description", "deadline", "requester"]);
        let ok: NewTask =
            serde_json::from_str(r#"{"description": "prepare the QBR brief", "priority": "high"}"#)
                .unwrap();
        assert!(ok.validate(now).is_empty());
        assert_eq!(ok.priority, Some(Priority::High));
        assert!(
            serde_json::from_str::<NewTask>(r#"{"description": "x", "prio": "high"}"#).is_err()
        );
    }
}
