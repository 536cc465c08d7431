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
            Param::optional("waiting", Text),
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
    let mut data = None;
    if result.is_none()
        && let Some(key) = param(p, "result_from")
        && let Some(r) = hands.store.action(&hands.tenant, key).await?
    {
        result = r.result.as_ref().map(result_text);
        data = r.result;
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
    if task.channel == crate::lifecycle::workflows::CHANNEL && task.status.is_final() {
        crate::lifecycle::workflows::task_ended();
    }
    let note = param(p, "note").unwrap_or("");
    if task.channel == "a2a" {
        hands
            .a2a
            .followed(
                id,
                u.status,
                param(p, "waiting"),
                note,
                task.result.as_deref(),
                artifacts(hands, data.as_ref()).await?,
                (&entry.key, entry.action_id),
            )
            .await
            .map_err(a2a_error)?;
    }
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

/// `chat.reply` in an A2A task's conversation: the employee's answer to the agent.
pub(crate) async fn answer_agent(
    hands: &crate::capabilities::Hands,
    me: crate::model::EmployeeId,
    task: &str,
    text: &str,
    key: &str,
    order: u64,
) -> Result<Json, CapabilityError> {
    hands
        .a2a
        .answered(me, task, text, key, order)
        .await
        .map_err(a2a_error)
}

/// The artifacts besides its text that a finished A2A task carries: what the last
/// action gave, as data, and the document it wrote (if any) as a PDF file.
async fn artifacts(
    hands: &crate::capabilities::Hands,
    result: Option<&Json>,
) -> Result<Vec<crate::a2a::Change>, CapabilityError> {
    use crate::a2a::Change;
    let Some(r) = result.filter(|r| r.as_object().is_some_and(|o| !o.is_empty())) else {
        return Ok(Vec::new());
    };
    let mut out = vec![Change::Part {
        name: "data".into(),
        part: a2a::Part::data(r.clone()),
    }];
    if let Some(id) = r["document"].as_str()
        && let Some(doc) = hands.store.document(&hands.tenant, id).await?
        && let Some((_, pdf)) = hands.store.document_content(&hands.tenant, id).await?
        && !pdf.is_empty()
        && pdf.len() <= MAX_FILE
    {
        out.push(Change::Part {
            name: doc.title.clone(),
            part: a2a::Part::raw(pdf)
                .with_media_type("application/pdf")
                .with_filename(format!("{}.pdf", file_name(&doc.title))),
        });
    }
    Ok(out)
}

/// `title` as a file name any system takes: letters, digits, spaces, `-`, `_`, `.`.
fn file_name(title: &str) -> String {
    title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " -_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The largest document a finished A2A task carries as a file.
const MAX_FILE: usize = 4 * 1024 * 1024;

fn a2a_error(e: crate::a2a::LedgerError) -> CapabilityError {
    match e {
        crate::a2a::LedgerError::Store(s) => s.into(),
        e => CapabilityError::Invalid(e.to_string()),
    }
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

/// Why a task could not be assigned.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    /// The task is invalid; each error names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<crate::model::FieldError>),
    /// The employee is offboarded or not hired here.
    #[error("the employee is offboarded or not hired here")]
    Unreachable,
    /// It could not be stored; nothing was assigned.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Delegates a task to employee `id` — the one path every face takes (the API, the CLI,
/// mail and chat through the node, a meeting's action items): the task is stored in
/// one transaction with the `task.assigned` event that tells the employee, then
/// handed over. `channel` is where updates go back (`api`, `chat`, `email`); `caller`
/// is the requester when the task names none. With `task_id` given, assigning the
/// same task again (a retried action) stores and tells nothing new: answered `false`.
pub(crate) async fn assign(
    hands: &crate::capabilities::Hands,
    id: crate::model::EmployeeId,
    t: crate::model::NewTask,
    task_id: Option<String>,
    channel: &str,
    caller: &str,
) -> Result<(crate::model::Task, bool), AssignError> {
    use crate::model::{Event, NewEvent, Priority, Task, is_address, kinds};
    let now = Utc::now();
    let errors = t.validate(now);
    if !errors.is_empty() {
        return Err(AssignError::Invalid(errors));
    }
    if hands.employees.offboarded(id) {
        return Err(AssignError::Unreachable);
    }
    let requester = t
        .requester
        .as_deref()
        .map(str::trim)
        .unwrap_or(caller)
        .to_string();
    let channel = if channel == "api" && is_address(bare_address(&requester)) {
        "email"
    } else {
        channel
    };
    let task = Task {
        id: task_id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        status: TaskStatus::Accepted,
        progress: 0.0,
        result: None,
        employee_id: id,
        description: t.description.trim().to_string(),
        priority: t.priority.unwrap_or(Priority::Medium),
        deadline: t.deadline,
        requester,
        channel: channel.to_string(),
        intention: None,
        created_at: now,
        updated_at: now,
    };
    // What the role's rules make of the task's words, as triage does of mail.
    let intent = match hands.store.employee(&hands.tenant, id).await {
        Ok(Some(p)) => hands
            .mail
            .triage(&p.role)
            .classify_words(&task.description)
            .map(|t| t.intent),
        _ => None,
    };
    let mut payload = json!({
        "task_id": task.id,
        "description": task.description,
        "priority": task.priority,
        "deadline": task.deadline,
        "requester": task.requester,
        "channel": task.channel,
    });
    if let Some(intent) = intent {
        payload["intent"] = json!(intent);
    }
    let event = Event::accept(
        hands.tenant.clone(),
        id,
        NewEvent {
            kind: kinds::TASK.into(),
            source: channel.into(),
            payload,
            idempotency_key: Some(format!("task:{}", task.id)),
        },
        now,
    );
    hands.employees.wake(id);
    let created = hands
        .store
        .assign_task(&hands.tenant, &task, &event)
        .await?;
    if created {
        metrics::counter!("empla_events_accepted_total").increment(1);
        hands.employees.deliver(event);
    }
    Ok((task, created))
}
