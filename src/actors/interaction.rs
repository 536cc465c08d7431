//! The interaction hub (seed 6.1–6.3): one router between humans and employees for
//! mail, chat and tasks.
//!
//! Inbound, a message becomes an event in the durable inbox of each employee it is
//! addressed to — triaged (priority, intent), its thread known, its sender resolved —
//! before anything upstream is acknowledged. Outbound, the CapabilityActor runs an
//! employee's actions here: mail through the node's mail transport, chat through its
//! chat transport, escalations to the manager, task updates to the requester on the
//! channel the task came from. Every step can run twice after a crash without doing
//! anything twice: messages are keyed by Message-ID and events by idempotency key.

use super::registry::accept;
use super::runtime::Runtime;
use crate::capabilities::calendar::{CalendarDriver, LocalCalendar};
use crate::capabilities::chat::{ChatTransport, LocalChat};
use crate::capabilities::email::{self, LocalMail, MailTransport, Triage};
use crate::capabilities::{CapabilityError, Sender, param};
use crate::model::{
    ActionStatus, EmployeeId, MailMessage, Manager, NewEvent, OutboxEntry, TaskStatus,
    bare_address, display_name,
};
use crate::node::SubmitError;
use crate::store::{Accepted, ChatMessage, Store, TaskUpdate};
use chrono::Utc;
use dashmap::DashMap;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Event kinds the hub delivers.
pub(crate) mod kinds {
    /// A mail message arrived.
    pub(crate) const EMAIL: &str = "email.received";
    /// A mail answering one the employee sent.
    pub(crate) const EMAIL_REPLY: &str = "email.reply";
    /// A human wrote in chat.
    pub(crate) const CHAT: &str = "chat.message";
    /// A task was delegated.
    pub(crate) const TASK: &str = "task.assigned";
    /// Another employee escalated to this one.
    pub(crate) const ESCALATION: &str = "escalation.received";
    /// The manager decided what this employee escalated.
    pub(crate) const ESCALATION_DECIDED: &str = "escalation.decided";
}

/// The hub's shared parts: transports, triage per role, and callers waiting for a
/// chat answer.
pub(crate) struct Hub {
    pub(crate) domain: String,
    pub(crate) mail: Arc<dyn MailTransport>,
    pub(crate) chat: Arc<dyn ChatTransport>,
    /// Where calendars are kept, and when people work.
    pub(crate) calendar: Arc<dyn CalendarDriver>,
    pub(crate) calendar_cfg: crate::config::CalendarConfig,
    triage: BTreeMap<String, Arc<Triage>>,
    default_triage: Arc<Triage>,
    /// Chat event id → callers waiting for the employee's answer.
    pub(crate) waiting: DashMap<String, Vec<oneshot::Sender<ChatMessage>>>,
    /// Held from reading calendars to writing a booking, so two bookings on this node
    /// never take the same free time.
    pub(crate) booking: tokio::sync::Mutex<()>,
    /// The Slack driver, when `chat.driver = "slack"` (then also `chat`).
    pub(crate) slack: Option<Arc<crate::capabilities::chat::SlackChat>>,
}

impl Hub {
    /// The built-in drivers of the embedded default, and each role's triage rules.
    pub(crate) fn local(
        store: &Store,
        domain: &str,
        triage: BTreeMap<String, Vec<email::TriageRule>>,
    ) -> Hub {
        Self::new(
            Arc::new(LocalMail::new(store.clone())),
            store,
            domain,
            triage,
        )
    }

    /// The mail driver the options name (with the mail server, for the IMAP bridge,
    /// when it is a real one); chat on the built-in driver (`slack::attach` puts it on
    /// Slack when the options say so).
    pub(crate) fn from_options(
        store: &Store,
        opts: &crate::node::NodeOptions,
        triage: BTreeMap<String, Vec<email::TriageRule>>,
    ) -> Result<(Hub, Option<Arc<email::MailServer>>), String> {
        let domain = &opts.company_domain;
        match opts.mail.driver {
            crate::config::MailDriver::Builtin => Ok((Hub::local(store, domain, triage), None)),
            crate::config::MailDriver::Server => {
                let server = Arc::new(email::MailServer::from_config(&opts.mail, &opts.data_dir)?);
                if server.logins.all().is_empty() {
                    tracing::warn!(
                        "mail.driver is \"server\" but the credentials file has no logins yet; employees neither send nor receive until it does"
                    );
                }
                let smtp = Arc::new(email::SmtpMail::new(server.clone(), store.clone()));
                Ok((Hub::new(smtp, store, domain, triage), Some(server)))
            }
        }
    }

    /// `mail` carries mail; chat stays on the built-in driver.
    pub(crate) fn new(
        mail: Arc<dyn MailTransport>,
        store: &Store,
        domain: &str,
        triage: BTreeMap<String, Vec<email::TriageRule>>,
    ) -> Hub {
        Hub {
            domain: domain.to_string(),
            mail,
            chat: Arc::new(LocalChat::new(store.clone())),
            calendar: Arc::new(LocalCalendar::new(store.clone())),
            calendar_cfg: Default::default(),
            triage: triage
                .into_iter()
                .map(|(role, rules)| (role, Arc::new(Triage::new(&rules))))
                .collect(),
            default_triage: Arc::new(Triage::new(&[])),
            waiting: DashMap::new(),
            booking: tokio::sync::Mutex::new(()),
            slack: None,
        }
    }

    fn triage(&self, role: &str) -> &Triage {
        self.triage.get(role).unwrap_or(&self.default_triage)
    }
}

/// Hands a message to every employee it is addressed to: each gets an `email.received`
/// (or `email.reply`, when it answers a message that employee sent) event, triaged for
/// its role, keyed by the Message-ID so a message delivered twice is perceived once.
/// Answers the employees reached; addresses that are not employees are skipped.
pub(crate) async fn route_mail(
    rt: &Arc<Runtime>,
    m: &MailMessage,
    source: &str,
) -> Result<Vec<(EmployeeId, Accepted)>, SubmitError> {
    let mut reached = Vec::new();
    let sender = bare_address(&m.from).to_ascii_lowercase();
    for address in m.recipients() {
        let Some(id) = rt.directory.resolve(&address) else {
            continue;
        };
        if address == sender {
            continue;
        }
        if let Some(accepted) = perceive_mail(rt, id, m, source).await? {
            reached.push((id, accepted));
        }
    }
    Ok(reached)
}

/// Commits `m` to employee `id`'s inbox as an `email.received` or `email.reply` event
/// (triaged, its thread and sender resolved), keyed by the Message-ID. None when the
/// employee is no longer in the store.
pub(crate) async fn perceive_mail(
    rt: &Arc<Runtime>,
    id: EmployeeId,
    m: &MailMessage,
    source: &str,
) -> Result<Option<Accepted>, SubmitError> {
    let store_err = |e| SubmitError::Write(crate::store::WriteError::Store(Arc::new(e)));
    let Some(profile) = rt.store.employee(&rt.tenant, id).await.map_err(store_err)? else {
        return Ok(None);
    };
    let sender = bare_address(&m.from).to_ascii_lowercase();
    let answered = match m
        .in_reply_to
        .as_deref()
        .or(m.references.last().map(String::as_str))
    {
        Some(prev) => rt
            .store
            .mail(&rt.tenant, prev)
            .await
            .ok()
            .flatten()
            .is_some_and(|p| bare_address(&p.from).eq_ignore_ascii_case(&profile.email)),
        None => false,
    };
    if answered {
        super::escalations::decide_by_reply(rt, m).await;
    }
    // A reply to times the employee offered: which offer, so a plan can book the pick.
    let proposal = match (answered, m.in_reply_to.as_deref()) {
        (true, Some(offer)) => rt
            .store
            .proposal(&rt.tenant, offer)
            .await
            .ok()
            .flatten()
            .filter(|p| p.employee_id == id)
            .map(|p| json!({"title": p.title, "options": p.slots.len()})),
        _ => None,
    };
    let t = rt.hub.triage(&profile.role).classify(m, &rt.hub.domain);
    let from_employee = rt.directory.resolve(&sender).map(|e| e.to_string());
    let mut payload = json!({
        "message_id": m.message_id,
        "from": m.from,
        "from_address": sender,
        "from_name": display_name(&m.from),
        "from_employee": from_employee,
        "internal": sender.rsplit_once('@').is_some_and(|(_, d)| d.eq_ignore_ascii_case(&rt.hub.domain)),
        "to": m.to,
        "cc": m.cc,
        "subject": m.subject,
        "body": m.body,
        "in_reply_to": m.in_reply_to,
        "references": m.references,
        "thread": m.thread(),
        "attachments": m.attachments,
        "priority": t.priority,
        "intent": t.intent,
    });
    if let Some(p) = proposal {
        payload["proposal"] = p;
    }
    let new = NewEvent {
        kind: if answered {
            kinds::EMAIL_REPLY
        } else {
            kinds::EMAIL
        }
        .into(),
        source: source.into(),
        payload,
        idempotency_key: Some(format!("mail:{}", m.message_id)),
    };
    Ok(Some(accept(rt, id, new).await?))
}

/// Who an employee is when it writes, read once per CapabilityActor.
pub(crate) async fn sender_of(rt: &Runtime, id: EmployeeId) -> Option<(Sender, Option<Manager>)> {
    let p = rt.store.employee(&rt.tenant, id).await.ok()??;
    Some((
        Sender {
            id,
            name: p.name,
            email: p.email,
            handle: p.chat_handle,
        },
        p.manager,
    ))
}

/// Runs one outbox action through its capability: (status, result).
pub(crate) async fn run_action(
    rt: &Arc<Runtime>,
    me: &Sender,
    manager: Option<&Manager>,
    entry: &OutboxEntry,
) -> (ActionStatus, Json) {
    let done = match entry.kind.as_str() {
        "email.send" | "email.reply" => send_mail(rt, me, entry).await,
        "chat.reply" | "chat.send" => post_chat(rt, me, entry).await,
        "escalate" => super::escalations::escalate(rt, me, manager, entry).await,
        "escalation.decide" => super::escalations::decide_action(rt, me, entry).await,
        "task.update" => update_task(rt, me, entry).await,
        k if k.starts_with("calendar.") => super::calendar::run(rt, me, manager, entry).await,
        _ => {
            let capability = entry.kind.split('.').next().unwrap_or(&entry.kind);
            return (
                ActionStatus::Unsupported,
                json!({"error": format!("this node has no driver for the `{capability}` capability; the action was recorded, not carried out")}),
            );
        }
    };
    match done {
        Ok(result) => (ActionStatus::Done, result),
        Err(e) => (ActionStatus::Failed, json!({"error": e.to_string()})),
    }
}

/// `email.send` / `email.reply`: composed, sent with the Message-ID of the action, and
/// on the built-in driver handed to the employees it is addressed to.
async fn send_mail(
    rt: &Arc<Runtime>,
    me: &Sender,
    entry: &OutboxEntry,
) -> Result<Json, CapabilityError> {
    // What it answers: a Message-ID, or the employee's own earlier action (a follow-up).
    let answered = match (
        param(&entry.params, "in_reply_to"),
        param(&entry.params, "follows").and_then(|a| a.parse::<u64>().ok()),
    ) {
        (Some(id), _) => Some(crate::model::clean_message_id(id).to_string()),
        (None, Some(action)) => Some(email::message_id_for(
            &OutboxEntry::key_for(me.id, action),
            &rt.hub.domain,
        )),
        (None, None) => None,
    };
    let original = match answered {
        Some(id) => rt.store.mail(&rt.tenant, &id).await?,
        None => None,
    };
    let m = email::compose(
        &entry.kind,
        &entry.params,
        me,
        original.as_ref(),
        email::message_id_for(&entry.key, &rt.hub.domain),
        Utc::now(),
    )?;
    deliver_mail(rt, &m).await?;
    Ok(json!({"message_id": m.message_id, "to": m.to, "subject": m.subject}))
}

/// Sends a composed message and, on the built-in driver, routes it to employees.
pub(crate) async fn deliver_mail(
    rt: &Arc<Runtime>,
    m: &MailMessage,
) -> Result<(), CapabilityError> {
    rt.hub.mail.send(&rt.tenant, m).await?;
    if rt.hub.mail.delivers_locally() {
        route_mail(rt, m, "mail").await.map_err(|e| {
            CapabilityError::Service(format!("delivery to an employee failed: {e}"))
        })?;
    }
    Ok(())
}

/// `chat.reply` / `chat.send`: posted in the conversation; a caller waiting for the
/// answer gets it.
async fn post_chat(
    rt: &Arc<Runtime>,
    me: &Sender,
    entry: &OutboxEntry,
) -> Result<Json, CapabilityError> {
    let text = param(&entry.params, "text")
        .ok_or_else(|| CapabilityError::Invalid(format!("`{}` needs `text`", entry.kind)))?;
    let conversation = param(&entry.params, "conversation")
        .or(param(&entry.params, "to"))
        .ok_or_else(|| {
            CapabilityError::Invalid(format!("`{}` needs `conversation` or `to`", entry.kind))
        })?;
    let m = ChatMessage {
        seq: 0,
        employee_id: me.id,
        conversation: conversation.to_string(),
        from: me.handle.clone(),
        text: text.to_string(),
        in_reply_to: param(&entry.params, "in_reply_to").map(str::to_string),
        thread: param(&entry.params, "thread").map(str::to_string),
        action: Some(entry.key.clone()),
        at: Utc::now(),
    };
    rt.hub.chat.post(&rt.tenant, &m).await?;
    if let Some(asked) = &m.in_reply_to
        && let Some((_, waiters)) = rt.hub.waiting.remove(asked)
    {
        for w in waiters {
            let _ = w.send(m.clone());
        }
    }
    Ok(json!({"conversation": m.conversation, "text": m.text}))
}

/// `task.update`: the task's status, progress and result are stored, and the requester
/// is told on the channel the task came from.
async fn update_task(
    rt: &Arc<Runtime>,
    me: &Sender,
    entry: &OutboxEntry,
) -> Result<Json, CapabilityError> {
    let p = &entry.params;
    let id = param(p, "task_id")
        .ok_or_else(|| CapabilityError::Invalid("`task.update` needs `task_id`".into()))?;
    let mut result = param(p, "result").map(str::to_string);
    if result.is_none()
        && let Some(key) = param(p, "result_from")
        && let Some(r) = rt.store.action(&rt.tenant, key).await?
    {
        result = r.result.as_ref().map(result_text);
    }
    let u = TaskUpdate {
        status: p["status"].as_str().and_then(TaskStatus::parse),
        progress: p["progress"].as_f64(),
        result,
        intention: p["intention"].as_u64(),
    };
    let Some(task) = rt.store.update_task(&rt.tenant, id, &u).await? else {
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
                rt,
                me,
                entry,
                task.requester.clone(),
                format!("Task update: {}", short(&task.description)),
                text.trim().to_string(),
            );
            deliver_mail(rt, &m).await?;
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
            rt.hub.chat.post(&rt.tenant, &m).await?;
        }
        _ => {}
    }
    Ok(json!({"task_id": id, "status": task.status, "progress": task.progress}))
}

/// A message the node writes for the employee on its own (an escalation, a task
/// update), with the Message-ID of the action that sends it.
pub(crate) fn own_mail(
    rt: &Runtime,
    me: &Sender,
    entry: &OutboxEntry,
    to: String,
    subject: String,
    body: String,
) -> MailMessage {
    MailMessage {
        message_id: email::message_id_for(&entry.key, &rt.hub.domain),
        from: me.mailbox(),
        to,
        cc: String::new(),
        subject,
        body,
        in_reply_to: None,
        references: Vec::new(),
        attachments: Vec::new(),
        at: Utc::now(),
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
