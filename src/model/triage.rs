//! An executive's mail as their assistant triaged it (seed 4.5): what each message
//! is (a label), how soon it matters (a priority), what it says (a summary) and why
//! it was labelled so. Also who reads whose mail: an employee whose permissions grant
//! `email = ["read_delegated"]` reads the mail of its human manager, the executive.

use super::{EmployeeId, EmployeeProfile, Manager, Priority};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The permission (under `email`) that lets an employee read its manager's mail.
pub const READ_DELEGATED: &str = "read_delegated";

/// What a delegated message is, for the executive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriageLabel {
    /// Something is on fire: put in front of the executive at once.
    Urgent,
    /// Someone asks the executive for a meeting.
    MeetingRequest,
    /// Someone waits for the executive's answer.
    NeedsReply,
    /// For information; nothing to do.
    Fyi,
}

impl TriageLabel {
    /// Every label, most pressing first.
    pub const ALL: [TriageLabel; 4] = [
        TriageLabel::Urgent,
        TriageLabel::NeedsReply,
        TriageLabel::MeetingRequest,
        TriageLabel::Fyi,
    ];

    /// Name as stored and written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            TriageLabel::Urgent => "urgent",
            TriageLabel::MeetingRequest => "meeting_request",
            TriageLabel::NeedsReply => "needs_reply",
            TriageLabel::Fyi => "fyi",
        }
    }

    /// From a stored or written name.
    pub fn parse(s: &str) -> Option<TriageLabel> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// In words, for a list or a brief.
    pub fn describe(self) -> &'static str {
        match self {
            TriageLabel::Urgent => "urgent",
            TriageLabel::MeetingRequest => "meeting request",
            TriageLabel::NeedsReply => "needs a reply",
            TriageLabel::Fyi => "FYI",
        }
    }
}

/// One delegated message, triaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriagedMail {
    /// The message's Message-ID.
    pub message_id: String,
    /// The assistant that triaged it.
    #[schema(value_type = String)]
    pub employee_id: EmployeeId,
    /// The executive it was addressed to.
    pub executive: String,
    /// Who wrote it (`Name <address>`).
    pub from: String,
    /// Its subject.
    pub subject: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// What it is.
    pub label: TriageLabel,
    /// How soon it matters.
    pub priority: Priority,
    /// What it says, in a sentence or two.
    pub summary: String,
    /// Why it got its label.
    pub reason: String,
    /// When it was triaged.
    pub triaged_at: DateTime<Utc>,
    /// When an urgent message was put in front of the executive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified_at: Option<DateTime<Utc>>,
}

impl TriagedMail {
    /// Where it sorts in the executive's list: urgent first, then by priority.
    pub fn rank(&self) -> i64 {
        let label = match self.label {
            TriageLabel::Urgent => 0,
            _ => 10,
        };
        let priority = match self.priority {
            Priority::High => 0,
            Priority::Medium => 1,
            Priority::Low => 2,
        };
        label + priority
    }
}

impl EmployeeProfile {
    /// The executive whose mail this employee reads (lowercase address): its human
    /// manager, when its permissions grant `email = ["read_delegated"]`.
    pub fn reads_mail_of(&self) -> Option<String> {
        let delegated = self
            .permissions
            .get("email")
            .is_some_and(|p| p.iter().any(|x| x == READ_DELEGATED));
        match &self.manager {
            Some(Manager::Human { email, .. }) if delegated => Some(email.to_ascii_lowercase()),
            _ => None,
        }
    }
}
