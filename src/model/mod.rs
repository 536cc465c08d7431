//! Plain data shared by every layer: ids, the employee profile and persona, goals,
//! events and episodes.
//!
//! Serde only. Nothing here does IO, awaits, or knows about actors; validation
//! returns every problem at once as [`FieldError`]s so callers can name the field.

mod access;
mod approval;
mod calendar;
mod episode;
mod escalation;
mod event;
mod ids;
mod mail;
mod person;
mod persona;
mod profile;
mod review;
mod task;
mod triage;
mod workflow;

#[cfg(test)]
pub(crate) use persona::sample as persona_sample;

pub use access::{AuditEntry, Role, Tenant, TenantStatus, TokenInfo};
pub use approval::{ActionStatus, Approval, ApprovalStatus, FinalRecipients, OutboxEntry};
pub use calendar::{
    CalendarEvent, EventStatus, MAX_MEETING, NewMeeting, Proposal, SlotRequest, WorkingHours,
    attendee_list, parse_hours,
};
pub use episode::{Episode, EpisodeKind};
pub use escalation::{Escalation, EscalationStatus, Verdict};
pub use event::{Event, INTERNAL_KIND_PREFIX, NewEvent, kinds};
pub use ids::{ApprovalId, EmployeeId, EpisodeId, EventId, TenantId};
pub use mail::{
    Attachment, KEPT_HEADERS, LOOP_HEADER, LOOP_LIMIT, MailMessage, OutgoingMail, bare_address,
    clean_message_id, display_name, is_address, person_key, split_addresses,
};
pub use person::{Forgetting, Person, REDACTED};
pub use persona::{
    BehavioralTraits, BigFive, CommunicationStyle, DecisionStyle, EmojiUsage, Formality, Persona,
    Tone, Verbosity,
};
pub use profile::{
    AccessLevel, Comparison, EmployeeProfile, EmployeeStatus, Goal, GoalHorizon, Integration,
    Manager, ReviewSummary, Skill,
};
pub use review::{FeedbackNote, GoalReached, PlanRecord, Review, ReviewNote, SkillLevel};
pub use task::{NewTask, Priority, Task, TaskStatus};
pub use triage::{READ_DELEGATED, TriageLabel, TriagedMail};
pub use workflow::{RunProgress, RunStatus, RunStep, StepStatus, WorkflowRun};

/// One problem with one field of an input, named by its dotted path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `persona.personality.openness`.
    pub field: String,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem, with `prefix.` put in front of the field path.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` {}", self.field, self.message)
    }
}

/// Checks that `value` lies in 0..=1, pushing an error naming `field` otherwise.
pub(crate) fn check_unit(errors: &mut Vec<FieldError>, field: &str, value: f64) {
    if !(0.0..=1.0).contains(&value) || value.is_nan() {
        errors.push(FieldError::new(
            field,
            format!("must be between 0 and 1, got {value}"),
        ));
    }
}

/// Whether a parameter says yes: `true`, or the text `"true"` a template renders.
pub fn truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}
