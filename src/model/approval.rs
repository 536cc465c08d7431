//! The approval queue and the outbox: actions waiting for a human, and actions
//! persisted before their capability runs.

use super::{ApprovalId, EmployeeId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an approval is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for a human.
    Pending,
    /// Approved: the action runs.
    Approved,
    /// Rejected: the action never runs; the rejection is feedback.
    Rejected,
}

impl ApprovalStatus {
    /// Every status.
    pub const ALL: [ApprovalStatus; 3] = [Self::Pending, Self::Approved, Self::Rejected];

    /// Name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One entry of the approval queue: an action (or a promotion) an employee asks a
/// human to approve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    /// Approval id.
    pub id: ApprovalId,
    /// Who asks.
    pub employee_id: EmployeeId,
    /// Pending, approved or rejected.
    pub status: ApprovalStatus,
    /// What would be done: `kind` (e.g. `email.send`, or `promotion`), `params`, the
    /// plan and step it belongs to.
    #[schema(value_type = Object)]
    pub action: serde_json::Value,
    /// Why approval is needed.
    pub reason: String,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The reason the human gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    /// For mail (`email.send`, `email.reply`) still pending: who it would go to, worked
    /// out as it would be sent (a reply's recipients come from the message it answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<FinalRecipients>,
}

/// The final recipients of the mail an approval would send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FinalRecipients {
    /// To, as written (`Name <address>`, comma-separated).
    pub to: String,
    /// Copies; empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cc: String,
    /// Why it would not be sent after all, if it would not (RFC 3834: its original
    /// must not be answered on the employee's own), or why its recipients cannot be
    /// worked out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

impl Approval {
    /// Who closes an approval whose action will never run.
    pub const WITHDRAWN_BY: &'static str = "empla";

    /// The closing of pending approval `id` of `employee`, whose action will never run
    /// since the intention waiting on it ended (`why`): handed in with the cycle that
    /// ended it, it marks the approval rejected by [`Self::WITHDRAWN_BY`], "withdrawn:
    /// why", so a human deciding it later is told it is no longer pending.
    pub fn withdrawn(
        id: ApprovalId,
        employee: EmployeeId,
        why: &str,
        now: DateTime<Utc>,
    ) -> Approval {
        Approval {
            id,
            employee_id: employee,
            status: ApprovalStatus::Rejected,
            action: serde_json::Value::Null,
            reason: String::new(),
            created_at: now,
            decided_at: Some(now),
            decided_by: Some(Self::WITHDRAWN_BY.into()),
            decision_reason: Some(format!("withdrawn: {why}")),
            recipients: None,
        }
    }

    /// The kind of the action waiting (e.g. `email.send`, or `promotion`); empty if the
    /// stored action names none.
    pub fn action_kind(&self) -> &str {
        self.action
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    }

    /// The parameters of the action waiting, or the whole action when it has none (a
    /// promotion).
    pub fn action_params(&self) -> &serde_json::Value {
        self.action.get("params").unwrap_or(&self.action)
    }
}

/// An action to run through a capability, as persisted in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Idempotency key: `<employee>:<action>`; the capability runs it at most once.
    pub key: String,
    /// Whose action.
    pub employee_id: EmployeeId,
    /// The action's number within the employee.
    pub action_id: u64,
    /// Action kind, `capability.operation`, e.g. `email.send`.
    pub kind: String,
    /// Rendered parameters.
    pub params: serde_json::Value,
}

impl OutboxEntry {
    /// The outbox key of an employee's action.
    pub fn key_for(employee: EmployeeId, action: u64) -> String {
        format!("{employee}:{action}")
    }
}

/// How an outbox action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Not run yet.
    Pending,
    /// Done.
    Done,
    /// Tried and failed.
    Failed,
    /// This node has no driver for the capability; nothing was done.
    Unsupported,
}

impl ActionStatus {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Unsupported => "unsupported",
        }
    }
}
