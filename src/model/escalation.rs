//! An escalation: a case an employee hands to a human (its manager by default) with its
//! context and a recommendation, waiting for a decision. Decided cases are precedents:
//! the next case of the same kind is decided alike, and the manager is told.

use super::EmployeeId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an escalation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationStatus {
    /// Waiting for a decision.
    Pending,
    /// Decided, by a human or by precedent.
    Decided,
}

impl EscalationStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationStatus::Pending => "pending",
            EscalationStatus::Decided => "decided",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(EscalationStatus::Pending),
            "decided" => Some(EscalationStatus::Decided),
            _ => None,
        }
    }
}

/// A decision on an escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Go ahead with the recommendation.
    Approve,
    /// Do not.
    Reject,
}

impl Verdict {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
        }
    }

    /// From its stored or written name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "approve" | "approved" => Some(Verdict::Approve),
            "reject" | "rejected" => Some(Verdict::Reject),
            _ => None,
        }
    }

    /// The verdict a human's reply opens with ("Approved — go ahead", "No, not this
    /// quarter"), if it opens with one.
    pub fn read(text: &str) -> Option<Self> {
        let first: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .take(2)
            .map(str::to_lowercase)
            .collect();
        let one = first.first().map(String::as_str)?;
        let two = first.join(" ");
        const YES: &[&str] = &[
            "approve", "approved", "yes", "ok", "okay", "agreed", "granted", "sure", "accept",
            "accepted",
        ];
        const NO: &[&str] = &[
            "reject", "rejected", "no", "decline", "declined", "denied", "deny", "don't",
        ];
        if YES.contains(&one) || two == "go ahead" {
            Some(Verdict::Approve)
        } else if NO.contains(&one) || two == "do not" {
            Some(Verdict::Reject)
        } else {
            None
        }
    }
}

/// One escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Escalation {
    /// Its id: the outbox key of the `escalate` action that raised it.
    pub id: String,
    /// The employee who escalated.
    #[schema(value_type = String)]
    pub employee_id: EmployeeId,
    /// The kind of case (the plan that escalated, or the step's `case`): decisions on one
    /// case are precedents for the next of the same kind.
    pub case: String,
    /// What the employee wrote.
    pub message: String,
    /// What it recommends.
    pub recommendation: String,
    /// What it knew: the event and goal behind the case.
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
    /// Who was asked: an address, or a manager employee's id.
    pub manager: String,
    /// Pending or decided.
    pub status: EscalationStatus,
    /// The decision, once made.
    pub decision: Option<Verdict>,
    /// Why, in the decider's words.
    pub reason: Option<String>,
    /// Who decided: an address, an employee id, or `precedent`.
    pub decided_by: Option<String>,
    /// The earlier escalation whose decision this one followed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precedent: Option<String>,
    /// The intention waiting for the decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intention: Option<u64>,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
}

impl Escalation {
    /// Whether it asks a question (no recommendation to approve or reject): the
    /// manager answers in words, and no earlier answer stands in for a new one.
    pub fn is_question(&self) -> bool {
        self.recommendation.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_opening_with_a_verdict_is_read() {
        assert_eq!(
            Verdict::read("Approved — go for it"),
            Some(Verdict::Approve)
        );
        assert_eq!(
            Verdict::read("Go ahead, but keep it small"),
            Some(Verdict::Approve)
        );
        assert_eq!(Verdict::read("no, not this quarter"), Some(Verdict::Reject));
        assert_eq!(
            Verdict::read("Don't, we are in a freeze"),
            Some(Verdict::Reject)
        );
        assert_eq!(Verdict::read("Let me think about it"), None);
        assert_eq!(Verdict::read("Nobody knows"), None);
    }
}
