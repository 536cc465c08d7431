//! Opening an A2A task for an employee of this node: the task (submitted, the message
//! in its history), the delegated task and the `a2a.message` inbox event that tells the
//! employee, stored together, then handed over. The A2A face uses it for an outside
//! agent's message; `a2a.send` for a colleague's, saying who sent it.

use crate::a2a::{CONVERSATION_PREFIX, LedgerError, MESSAGE, message_text};
use crate::capabilities::{Hands, Sender};
use crate::model::{EmployeeProfile, Event, NewEvent, Priority, TaskStatus};
use a2a::{Message, Part, PartContent, Role, Task, TaskState};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// Longest text of a message accepted, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

/// Why a message could not be opened as a task.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The message is not one an employee can take.
    #[error("{0}")]
    Invalid(String),
    /// The ledger (or the store under it) failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Opens task `task` for employee `to`, addressed as `agent`, with its message `m`;
/// `from` is the colleague who sent it (none: an outside agent). Answers once it is
/// stored.
pub async fn open(
    hands: &Hands,
    to: &EmployeeProfile,
    agent: &str,
    task: &Task,
    m: &Message,
    from: Option<&Sender>,
) -> Result<(), OpenError> {
    let text = message_text(m);
    if text.trim().is_empty() {
        return Err(OpenError::Invalid(
            "the message has no text or data part to act on".into(),
        ));
    }
    if text.len() > MAX_TEXT {
        return Err(OpenError::Invalid(format!(
            "the message's text is longer than {MAX_TEXT} bytes"
        )));
    }
    let now = chrono::Utc::now();
    let asked = crate::bdi::conversation::classify(&text);
    let delegated = crate::model::Task {
        id: task.id.clone(),
        status: TaskStatus::Accepted,
        progress: 0.0,
        result: None,
        employee_id: to.id,
        description: text.trim().to_string(),
        priority: Priority::Medium,
        deadline: None,
        requester: format!("{CONVERSATION_PREFIX}{}", task.context_id),
        channel: "a2a".into(),
        intention: None,
        created_at: now,
        updated_at: now,
    };
    let mut payload = json!({
        "task_id": task.id,
        "context_id": task.context_id,
        "message_id": m.message_id,
        "agent": agent,
        "from": "agent",
        "text": text.trim(),
        "description": text.trim(),
        "asked": format!("{asked:?}").to_lowercase(),
        "untrusted": true,
        "conversation": format!("{CONVERSATION_PREFIX}{}", task.id),
        "channel": "a2a",
    });
    if let Some(data) = data_of(m) {
        payload["data"] = data;
    }
    if let Some(about) = m
        .metadata
        .as_ref()
        .and_then(|md| md.get("about"))
        .and_then(Json::as_str)
    {
        payload["about"] = json!(about);
    }
    if let Some(s) = from {
        // A colleague: named, and trusted as one of the team.
        payload["from"] = json!(s.handle);
        payload["from_name"] = json!(s.name);
        payload["from_email"] = json!(s.email);
        payload["from_employee"] = json!(s.id);
        payload["untrusted"] = json!(false);
    }
    let event = Event::accept(
        hands.tenant.clone(),
        to.id,
        NewEvent {
            kind: MESSAGE.into(),
            source: "a2a".into(),
            payload,
            idempotency_key: Some(format!("a2a:{}", task.id)),
        },
        now,
    );
    hands.employees.wake(to.id);
    hands
        .a2a
        .open(task, to.id, agent, &delegated, &event)
        .await?;
    metrics::counter!("empla_events_accepted_total").increment(1);
    metrics::counter!("empla_a2a_messages_total").increment(1);
    hands.employees.deliver(event);
    Ok(())
}

/// The data parts of `m`: the one object, or a list when there are several.
fn data_of(m: &Message) -> Option<Json> {
    let mut data: Vec<Json> = m
        .parts
        .iter()
        .filter_map(|p| match &p.content {
            PartContent::Data(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    match data.len() {
        0 => None,
        1 => data.pop(),
        _ => Some(Json::Array(data)),
    }
}

/// A colleague's message: `text` and, when given, `data` as a data part, `about` in
/// its metadata, its ids derived from `key` so a retried send opens the same task.
pub fn message(text: &str, data: Option<&Json>, about: Option<&str>, key: &str) -> Task {
    let id = derived("task", key);
    let context_id = derived("context", key);
    let mut parts = vec![Part::text(text)];
    if let Some(d) = data.filter(|d| !d.is_null()) {
        parts.push(Part::data(d.clone()));
    }
    let mut m = Message::new(Role::User, parts);
    m.message_id = derived("message", key);
    m.task_id = Some(id.clone());
    m.context_id = Some(context_id.clone());
    if let Some(a) = about {
        m.metadata = Some(HashMap::from([("about".to_string(), json!(a))]));
    }
    Task {
        id,
        context_id,
        status: a2a::TaskStatus {
            state: TaskState::Submitted,
            message: None,
            timestamp: Some(chrono::Utc::now()),
        },
        artifacts: None,
        history: Some(vec![m]),
        metadata: None,
    }
}

/// An id for `what` of the send with outbox key `key`: the same for every retry.
fn derived(what: &str, key: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("empla:{what}:{key}").as_bytes(),
    )
    .to_string()
}
