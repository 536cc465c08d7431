//! Events: what an employee perceives (an email, a chat message, a cron tick, a webhook,
//! a message from another agent). Every accepted event is stored before it is
//! acknowledged.

use super::{EmployeeId, EventId, FieldError, TenantId};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest accepted event kind or source.
const MAX_NAME_LEN: usize = 128;
/// Event kinds starting with this are the node's own (approvals, outcomes, phase
/// changes, feedback, observations); they come only through their own endpoints.
pub const INTERNAL_KIND_PREFIX: &str = "empla.";

/// The kinds of events the node itself produces, by the component that produces them.
pub mod kinds {
    /// A mail message arrived.
    pub const EMAIL: &str = "email.received";
    /// A mail answering one the employee sent.
    pub const EMAIL_REPLY: &str = "email.reply";
    /// A mail to the executive whose mail the employee reads as their delegate.
    pub const EMAIL_DELEGATED: &str = "email.delegated";
    /// A message in the employee's mailbox could not be taken in and was parked.
    pub const EMAIL_PARKED: &str = "email.parked";
    /// A human wrote in chat.
    pub const CHAT: &str = "chat.message";
    /// A task was delegated.
    pub const TASK: &str = "task.assigned";
    /// Another employee escalated to this one.
    pub const ESCALATION: &str = "escalation.received";
    /// The manager decided what this employee escalated.
    pub const ESCALATION_DECIDED: &str = "escalation.decided";
    /// A meeting in the employee's calendar (booked, moved, cancelled, or due soon).
    pub const CALENDAR_EVENT: &str = "calendar.event";
    /// A cron schedule ticked.
    pub const CRON_TICK: &str = "cron.tick";
    /// A human approved or rejected an approval.
    pub const APPROVAL: &str = "empla.approval";
    /// An outbox action ended.
    pub const OUTCOME: &str = "empla.outcome";
    /// The manager set the onboarding phase.
    pub const PHASE: &str = "empla.phase";
    /// Feedback on the employee's latest action.
    pub const FEEDBACK: &str = "empla.feedback";
    /// In shadow: what the mentor actually did for an event.
    pub const OBSERVATION: &str = "empla.observation";
    /// An event the employee could not handle was set aside (dead-lettered).
    pub const SET_ASIDE: &str = "empla.set_aside";
    /// The agent an employee messaged (`a2a.send`) answered, or its task ended or
    /// needs input: told to the sender, and to the one intention that sent it.
    pub const A2A_REPLY: &str = "a2a.reply";
}

/// Longest accepted idempotency key.
const MAX_KEY_LEN: usize = 256;

/// An event as submitted, before it is accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// What happened, e.g. `email.received`, `chat.message`, `cron.tick`.
    pub kind: String,
    /// Where it came from, e.g. `api`, `imap`, `slack`, `scheduler`.
    pub source: String,
    /// The event's content, as sent.
    #[serde(default)]
    pub payload: serde_json::Value,
    /// Submitting the same key twice for the same employee is accepted once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl NewEvent {
    /// Every problem with the event, naming the field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        check_name(&mut e, "kind", &self.kind);
        if self.kind.starts_with(INTERNAL_KIND_PREFIX) {
            e.push(FieldError::new(
                "kind",
                format!(
                    "`{}` is reserved for the node's own events; decide approvals with `POST /api/v1/approvals/{{id}}/approve|reject` and use the employee's `phase`, `feedback` and `observations` endpoints",
                    self.kind
                ),
            ));
        }
        check_name(&mut e, "source", &self.source);
        if self.kind == kinds::CHAT
            && self.payload["text"]
                .as_str()
                .is_none_or(|t| t.trim().is_empty())
        {
            e.push(FieldError::new(
                "payload.text",
                "a `chat.message` needs the message's text, e.g. {\"text\": \"How is the pipeline?\", \"from\": \"Alex Morgan\"}",
            ));
        }
        if let Some(k) = &self.idempotency_key
            && k.chars().any(char::is_control)
        {
            e.push(FieldError::new(
                "idempotency_key",
                "must not contain control characters (such as NUL or a line break)",
            ));
        }
        if let Some(k) = &self.idempotency_key
            && (k.is_empty() || k.len() > MAX_KEY_LEN)
        {
            e.push(FieldError::new(
                "idempotency_key",
                format!("must be 1 to {MAX_KEY_LEN} characters, got {}", k.len()),
            ));
        }
        e
    }
}

fn check_name(e: &mut Vec<FieldError>, field: &str, v: &str) {
    let ok_chars = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/'));
    if v.is_empty() || v.len() > MAX_NAME_LEN || !ok_chars {
        e.push(FieldError::new(
            field,
            format!(
                "must be 1 to {MAX_NAME_LEN} characters of letters, digits and . _ - : /, e.g. `email.received`; got {v:?}"
            ),
        ));
    }
}

/// An accepted event, as stored in the durable inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Event id.
    pub id: EventId,
    /// Tenant.
    pub tenant: TenantId,
    /// The employee it is addressed to.
    pub employee: EmployeeId,
    /// What happened.
    pub kind: String,
    /// Where it came from.
    pub source: String,
    /// Content, as sent.
    pub payload: serde_json::Value,
    /// The submitter's idempotency key, if any.
    pub idempotency_key: Option<String>,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
}

impl Event {
    /// Accepts `new` for `employee` at `now`. The id comes from the idempotency key when
    /// there is one, so a repeated submission maps to the same event.
    pub fn accept(
        tenant: TenantId,
        employee: EmployeeId,
        new: NewEvent,
        now: DateTime<Utc>,
    ) -> Self {
        let id = match &new.idempotency_key {
            Some(key) => EventId::from_idempotency_key(&tenant, employee, key),
            None => EventId::new(),
        };
        Self {
            id,
            tenant,
            employee,
            kind: new.kind,
            source: new.source,
            payload: new.payload,
            idempotency_key: new.idempotency_key,
            // Stored with microsecond precision; keep exactly what will be read back.
            received_at: now.trunc_subsecs(6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str) -> NewEvent {
        NewEvent {
            kind: kind.into(),
            source: "api".into(),
            payload: serde_json::json!({}),
            idempotency_key: None,
        }
    }

    #[test]
    fn kinds_with_spaces_or_empty_are_rejected_naming_the_field() {
        assert!(ev("email.received").validate().is_empty());
        let e = ev("").validate();
        assert_eq!(e[0].field, "kind");
        assert_eq!(ev("has space").validate()[0].field, "kind");
    }
}
