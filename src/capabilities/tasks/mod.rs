//! Tasks delegated to employees (seed 6.2): a human (or another employee) hands one
//! over by API, CLI, mail or chat; it reaches the employee as a `task.assigned` event
//! stored with the task, and the employee reports on it with `task.update` actions —
//! the task's status, progress and result stored, and the requester told on the channel
//! the task came from. The update names its action, so one retried after a crash
//! between storing the update and telling the requester still tells them — once, since
//! the notice carries the action's Message-ID (mail) or is stored naming the action
//! (chat).

use crate::capabilities::email::actions::{deliver_mail, own_mail};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, param};
use crate::model::{TaskStatus, bare_address};
use crate::store::{ChatMessage, TaskUpdate};
use chrono::Utc;
use serde_json::{Value as Json, json};

/// The task action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    vec![
        ActionKind::new(
            "task.update",
            "Reports on a delegated task (status, progress, result) and tells the requester.",
            true,
            |a| Box::pin(update_task(a)),
        )
        .params(vec![
            Param::required("task_id", Text),
            Param::optional("status", Text),
            Param::optional("progress", Number),
            Param::optional("result", Text),
            Param::optional("result_from", Text),
            Param::optional("note", Text),
            Param::optional("intention", Integer),
        ]),
    ]
}

/// `task.update`: the task's status, progress and result are stored, and the requester
/// is told on the channel the task came from.
async fn update_task(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let p = &entry.params;
    let id = param(p, "task_id")
        .ok_or_else(|| CapabilityError::Invalid("`task.update` needs `task_id`".into()))?;
    let mut result = param(p, "result").map(str::to_string);
    if result.is_none()
        && let Some(key) = param(p, "result_from")
        && let Some(r) = hands.store.action(&hands.tenant, key).await?
    {
        result = r.result.as_ref().map(result_text);
    }
    let u = TaskUpdate {
        status: p["status"].as_str().and_then(TaskStatus::parse),
        progress: p["progress"].as_f64(),
        result,
        intention: p["intention"].as_u64(),
    };
    let Some(task) = hands
        .store
        .update_task(&hands.tenant, id, &u, &entry.key)
        .await?
    else {
        return Ok(json!({"task_id": id, "skipped": "the task had already ended"}));
    };
    let note = param(p, "note").unwrap_or("");
    let text = match task.status {
        TaskStatus::Done => format!(
            "Done: {}\n\n{}",
            task.description,
            task.result.clone().unwrap_or_default()
        ),
        TaskStatus::Failed => format!(
            "I could not finish: {}\n\n{}",
            task.description,
            task.result.clone().unwrap_or_default()
        ),
        _ => format!(
            "{note} ({:.0}% done): {}",
            task.progress * 100.0,
            task.description
        ),
    };
    match task.channel.as_str() {
        "email" if crate::model::is_address(bare_address(&task.requester)) => {
            let m = own_mail(
                hands,
                me,
                entry,
                task.requester.clone(),
                format!("Task update: {}", short(&task.description)),
                text.trim().to_string(),
            );
            deliver_mail(hands, &m).await?;
        }
        "chat" => {
            let m = ChatMessage {
                seq: 0,
                employee_id: me.id,
                conversation: task.requester.clone(),
                from: me.handle.clone(),
                text: text.trim().to_string(),
                in_reply_to: None,
                thread: None,
                action: Some(entry.key.clone()),
                at: Utc::now(),
            };
            hands.chat.transport.post(&hands.tenant, &m).await?;
        }
        _ => {}
    }
    Ok(json!({"task_id": id, "status": task.status, "progress": task.progress}))
}

/// The readable part of what an action gave: its brief, text or error, else the whole.
fn result_text(r: &Json) -> String {
    ["brief", "text", "error", "summary"]
        .iter()
        .find_map(|k| r[*k].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| r.to_string())
}

fn short(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
