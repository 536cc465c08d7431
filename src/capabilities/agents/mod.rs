//! Employees talking to other agents over A2A: `a2a.send` messages a colleague (by
//! handle, address or id: through the colleague's durable inbox, as an A2A task on this
//! node) or an outside agent (a name in `[a2a.agents]` or an agent card's URL, through
//! [`crate::a2a::client`]), and `a2a.answer` answers a message a plan took up. The task a message opened
//! is followed to its end ([`follow`]), and its end — the answer, or why it failed —
//! comes back to the sender as an `a2a.reply` event, to the intention that sent it.
//!
//! Once per action: the task's ids derive from the send's outbox key and the send is
//! recorded (`a2a_calls`) before the task is opened, so a send retried after a crash
//! opens nothing twice.

pub mod deliver;
pub mod follow;

use super::registry::{Act, ActionKind, Param, ParamType};
use super::{CapabilityError, param};
use crate::a2a::{Change, LedgerError, Recorded, states};
use crate::model::EmployeeStatus;
use crate::store::A2aCall;
use a2a::TaskState;
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// The agent action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "a2a.send",
            "Messages another agent — a colleague by handle — and follows the task it opens; the answer comes back as an `a2a.reply` event.",
            true,
            |a| Box::pin(send(a)),
        )
        .params(vec![
            Param::required("to", Text),
            Param::required("text", Text),
            Param::optional("data", Any),
            Param::optional("about", Text),
        ]),
        ActionKind::new(
            "a2a.answer",
            "Answers the message of an A2A task the plan took up: the text becomes the task's answer and the task is completed.",
            false,
            |a| Box::pin(answer(a)),
        )
        .params(vec![
            Param::required("task_id", Text),
            Param::required("text", Text),
        ]),
    ]
}

/// `a2a.send`: opens a task for the colleague `to` with the message, recorded as the
/// sender's call first.
async fn send(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let p = &entry.params;
    let to = param(p, "to").ok_or_else(|| {
        CapabilityError::Invalid("`a2a.send` needs `to`: a colleague's handle".into())
    })?;
    let text = param(p, "text").ok_or_else(|| {
        CapabilityError::Invalid("`a2a.send` needs `text`: what to tell the agent".into())
    })?;
    let data = match &p["data"] {
        Json::Null => None,
        Json::String(s) if s.trim().is_empty() => None,
        Json::String(s) => Some(serde_json::from_str::<Json>(s).map_err(|e| {
            CapabilityError::Invalid(format!(
                "`data` of `a2a.send` is text that is not JSON ({e}); give an object"
            ))
        })?),
        v => Some(v.clone()),
    };
    let about = param(p, "about");
    let Some(id) = hands.employees.resolve(to) else {
        if hands.agents.reaches(to) {
            return send_out(a, to, text, data.as_ref()).await;
        }
        let known: Vec<&str> = hands.agents.names().collect();
        return Err(CapabilityError::Invalid(format!(
            "no employee `{to}` on this node and no agent of that name in [a2a.agents]; name a colleague by handle, address or id, an agent of [a2a.agents]{}, or an agent card's URL",
            if known.is_empty() {
                String::new()
            } else {
                format!(" ({})", known.join(", "))
            }
        )));
    };
    if id == me.id {
        return Err(CapabilityError::Invalid(format!(
            "`{to}` is the sender itself; an employee does not message itself"
        )));
    }
    let colleague = hands
        .store
        .employee(&hands.tenant, id)
        .await?
        .filter(|c| c.status != EmployeeStatus::Offboarded)
        .ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "`{to}` has left (offboarded) and takes no messages"
            ))
        })?;
    let mut task = deliver::message(text, data.as_ref(), about, &entry.key);
    task.metadata = Some(HashMap::from([(
        "employee".to_string(),
        json!(colleague.chat_handle),
    )]));
    let call = hands
        .store
        .a2a_call_record(
            &hands.tenant,
            &A2aCall {
                id: entry.key.clone(),
                employee_id: me.id,
                action_id: entry.action_id,
                agent: colleague.chat_handle.clone(),
                task_id: task.id.clone(),
                remote: false,
                state: states::name(&TaskState::Submitted),
                told_at: None,
                created_at: chrono::Utc::now().timestamp_micros(),
            },
        )
        .await?;
    let opened = hands
        .a2a
        .get(&task.id)
        .await
        .map_err(ledger_error)?
        .is_some();
    if !opened {
        let m = task
            .history
            .as_ref()
            .and_then(|h| h.first())
            .cloned()
            .expect("a new message's task holds it");
        deliver::open(
            hands,
            &colleague,
            &colleague.chat_handle,
            &task,
            &m,
            Some(me),
        )
        .await
        .map_err(|e| match e {
            deliver::OpenError::Invalid(why) => CapabilityError::Invalid(why),
            deliver::OpenError::Ledger(e) => ledger_error(e),
        })?;
    }
    Ok(json!({
        "task_id": call.task_id,
        "context_id": task.context_id,
        "to": colleague.chat_handle,
        "name": colleague.name,
        "state": short_state(&call.state),
        "remote": false,
    }))
}

/// `a2a.send` to an outside agent (a name in `[a2a.agents]` or a card URL): sent once
/// per action (a retry finds the task the first try opened), recorded, and followed to
/// its end by [`follow`].
async fn send_out(
    a: &Act<'_>,
    to: &str,
    text: &str,
    data: Option<&Json>,
) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let task = hands
        .agents
        .send(to, text, data, &entry.key)
        .await
        .map_err(|e| CapabilityError::Service(e.to_string()))?;
    let call = hands
        .store
        .a2a_call_record(
            &hands.tenant,
            &A2aCall {
                id: entry.key.clone(),
                employee_id: me.id,
                action_id: entry.action_id,
                agent: to.to_string(),
                task_id: task.id.clone(),
                remote: true,
                state: states::name(&task.status.state),
                told_at: None,
                created_at: chrono::Utc::now().timestamp_micros(),
            },
        )
        .await?;
    // Answered at once (a message, or a task already ended): told now.
    if let Err(e) = follow::tell_if_settled(hands, &call, &task, to, 0).await {
        tracing::warn!(call = %call.id, error = %e, "A2A: an outside agent's answer could not be told yet; the follower tries again");
    }
    Ok(json!({
        "task_id": task.id,
        "context_id": task.context_id,
        "to": to,
        "state": short_state(&states::name(&task.status.state)),
        "remote": true,
    }))
}

/// `a2a.answer`: the text is the answer of A2A task `task_id` (one of the employee's
/// own), which is completed.
async fn answer(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let p = &entry.params;
    let id = param(p, "task_id").ok_or_else(|| {
        CapabilityError::Invalid("`a2a.answer` needs `task_id`: the task of the message".into())
    })?;
    let text = param(p, "text")
        .ok_or_else(|| CapabilityError::Invalid("`a2a.answer` needs `text`: the answer".into()))?;
    let mine = hands
        .a2a
        .get(id)
        .await
        .map_err(ledger_error)?
        .is_some_and(|(row, _)| row.employee_id == me.id);
    if !mine {
        return Err(CapabilityError::Invalid(format!(
            "no A2A task {id} of this employee's to answer"
        )));
    }
    let changes = [
        Change::Text {
            name: "answer".into(),
            text: text.into(),
        },
        Change::State(TaskState::Completed, None),
    ];
    let done = hands
        .a2a
        .record(id, Some(&entry.key), Some(entry.action_id), &changes)
        .await
        .map_err(ledger_error)?;
    let recorded = match done {
        Recorded::Stored(_) | Recorded::Duplicate => true,
        Recorded::Ended | Recorded::Superseded => false,
        Recorded::Missing => {
            return Err(CapabilityError::Invalid(format!("no A2A task {id}")));
        }
    };
    Ok(json!({"task_id": id, "answered": recorded, "text": text}))
}

/// `completed` for `TASK_STATE_COMPLETED`.
pub(crate) fn short_state(name: &str) -> String {
    name.trim_start_matches("TASK_STATE_")
        .to_ascii_lowercase()
        .replace('_', "-")
}

fn ledger_error(e: LedgerError) -> CapabilityError {
    match e {
        LedgerError::Store(s) => s.into(),
        e => CapabilityError::Service(e.to_string()),
    }
}
