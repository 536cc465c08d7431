//! The node's face for humans: mail on the built-in driver (send, read an inbox), chat
//! with an employee (wait a few seconds for its answer), and tasks delegated to
//! employees (assign, read, list). The HTTP API and the CLI call these.

use super::{Node, SubmitError};
use crate::actors::interaction::{self, kinds};
use crate::actors::registry::ReachError;
use crate::model::{
    EmployeeId, Event, FieldError, MailMessage, NewEvent, NewTask, OutgoingMail, Priority, Task,
    TaskStatus, bare_address, clean_message_id, is_address,
};
use crate::store::{ChatMessage, StoreError};
use chrono::Utc;
use serde_json::json;
use std::time::Duration;
use tokio::sync::oneshot;

/// Longest chat message accepted, in bytes.
const MAX_CHAT: usize = 8 * 1024;

/// Why a request from a human was refused.
#[derive(Debug, thiserror::Error)]
pub enum HumanError {
    /// The request is invalid; each error names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// No such employee, or it cannot take messages.
    #[error(transparent)]
    Reach(#[from] ReachError),
    /// No such task.
    #[error("no task with that id for this employee")]
    NoTask,
    /// Mail goes through a real mail server, not the built-in driver.
    #[error(
        "this node carries mail through its mail server (mail.driver = \"server\"); write to employees from a mail client"
    )]
    MailServer,
    /// It could not be stored; nothing was accepted.
    #[error("could not be stored: {0}")]
    Store(String),
}

impl From<StoreError> for HumanError {
    fn from(e: StoreError) -> Self {
        HumanError::Store(e.to_string())
    }
}

impl From<SubmitError> for HumanError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Invalid(v) => HumanError::Invalid(v),
            SubmitError::Reach(r) => HumanError::Reach(r),
            SubmitError::Write(w) => HumanError::Store(w.to_string()),
        }
    }
}

/// What a chat message came back with.
#[derive(Debug, Clone)]
pub struct ChatAnswer {
    /// The chat event stored for the employee.
    pub event_id: String,
    /// The employee's answer, if it came within the wait.
    pub reply: Option<ChatMessage>,
}

impl Node {
    /// Sends a message through the built-in mail driver: stored, put in each
    /// recipient's inbox, and handed to each recipient that is an employee. Answers its
    /// Message-ID once all of that is stored.
    pub async fn send_mail(&self, m: OutgoingMail) -> Result<String, HumanError> {
        let errors = m.validate();
        if !errors.is_empty() {
            return Err(HumanError::Invalid(errors));
        }
        let rt = &self.rt;
        if !rt.hub.mail.delivers_locally() {
            return Err(HumanError::MailServer);
        }
        let in_reply_to = m.in_reply_to.as_deref().map(clean_message_id);
        let mut references = Vec::new();
        if let Some(id) = in_reply_to {
            if let Some(o) = rt.store.mail(&rt.tenant, id).await? {
                references = o.references;
            }
            references.push(id.to_string());
        }
        let message = MailMessage {
            message_id: format!("{}@{}", uuid::Uuid::now_v7().simple(), rt.hub.domain),
            from: m.from.trim().to_string(),
            to: m.to.trim().to_string(),
            cc: String::new(),
            subject: m.subject,
            body: m.body,
            in_reply_to: in_reply_to.map(str::to_string),
            references,
            attachments: Vec::new(),
            at: Utc::now(),
        };
        interaction::deliver_mail(rt, &message)
            .await
            .map_err(|e| HumanError::Store(e.to_string()))?;
        Ok(message.message_id)
    }

    /// The messages in an address's inbox, newest first.
    pub async fn mail_inbox(
        &self,
        address: &str,
        limit: i64,
    ) -> Result<Vec<MailMessage>, HumanError> {
        let a = bare_address(address);
        if !is_address(a) {
            return Err(HumanError::Invalid(vec![FieldError::new(
                "address",
                format!("must be a mail address such as `alex@example.com`, got {address:?}"),
            )]));
        }
        Ok(self
            .rt
            .store
            .mail_folder(&self.rt.tenant, a, crate::store::Folder::Inbox, limit)
            .await?)
    }

    /// Writes to an employee in chat as `from` and waits up to `wait` for its answer.
    pub async fn chat(
        &self,
        id: EmployeeId,
        from: &str,
        text: &str,
        wait: Duration,
    ) -> Result<ChatAnswer, HumanError> {
        let mut errors = Vec::new();
        if from.trim().is_empty() || from.len() > 320 || from.contains(['\r', '\n']) {
            errors.push(FieldError::new(
                "from",
                "must say who is writing: a name, `Name <address>` or a chat handle, on one line",
            ));
        }
        if text.trim().is_empty() || text.len() > MAX_CHAT {
            errors.push(FieldError::new(
                "text",
                format!("must be 1 to {MAX_CHAT} bytes of text"),
            ));
        }
        if !errors.is_empty() {
            return Err(HumanError::Invalid(errors));
        }
        let key = format!("chat:{}", uuid::Uuid::now_v7());
        let event_id =
            crate::model::EventId::from_idempotency_key(&self.rt.tenant, id, &key).to_string();
        let (tx, rx) = oneshot::channel();
        self.rt
            .hub
            .waiting
            .entry(event_id.clone())
            .or_default()
            .push(tx);
        let new = NewEvent {
            kind: kinds::CHAT.into(),
            source: "chat".into(),
            payload: json!({
                "from": from.trim(),
                "text": text.trim(),
                "conversation": from.trim(),
                "channel": "local",
            }),
            idempotency_key: Some(key),
        };
        if let Err(e) = crate::actors::registry::accept(&self.rt, id, new).await {
            self.rt.hub.waiting.remove(&event_id);
            return Err(e.into());
        }
        let reply = tokio::time::timeout(wait, rx)
            .await
            .ok()
            .and_then(Result::ok);
        if reply.is_none() {
            self.rt.hub.waiting.remove(&event_id);
        }
        Ok(ChatAnswer { event_id, reply })
    }

    /// An employee's chat messages, newest first (one conversation if given).
    pub async fn chat_messages(
        &self,
        id: EmployeeId,
        conversation: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ChatMessage>, HumanError> {
        Ok(self
            .rt
            .store
            .chat_messages(&self.rt.tenant, id, conversation, limit)
            .await?)
    }

    /// Delegates a task to an employee: stored together with the event that tells the
    /// employee, then handed over. `channel` is where updates go back (`api`, `chat`,
    /// `email`); `caller` is the requester when the task names none.
    pub async fn assign_task(
        &self,
        id: EmployeeId,
        t: NewTask,
        channel: &str,
        caller: &str,
    ) -> Result<Task, HumanError> {
        let now = Utc::now();
        let errors = t.validate(now);
        if !errors.is_empty() {
            return Err(HumanError::Invalid(errors));
        }
        match self.rt.directory.status(id) {
            None => return Err(ReachError::NotFound.into()),
            Some(crate::model::EmployeeStatus::Offboarded) => {
                return Err(ReachError::Offboarded.into());
            }
            Some(_) => {}
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
            id: uuid::Uuid::now_v7().to_string(),
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
        let event = Event::accept(
            self.rt.tenant.clone(),
            id,
            NewEvent {
                kind: kinds::TASK.into(),
                source: channel.into(),
                payload: json!({
                    "task_id": task.id,
                    "description": task.description,
                    "priority": task.priority,
                    "deadline": task.deadline,
                    "requester": task.requester,
                    "channel": task.channel,
                }),
                idempotency_key: Some(format!("task:{}", task.id)),
            },
            now,
        );
        crate::actors::registry::wake(&self.rt, id);
        self.rt
            .store
            .assign_task(&self.rt.tenant, &task, &event)
            .await?;
        metrics::counter!("empla_events_accepted_total").increment(1);
        crate::actors::registry::deliver(&self.rt, event);
        Ok(task)
    }

    /// One of an employee's tasks.
    pub async fn task(&self, id: EmployeeId, task: &str) -> Result<Task, HumanError> {
        match self.rt.store.task(&self.rt.tenant, task).await? {
            Some(t) if t.employee_id == id => Ok(t),
            _ => Err(HumanError::NoTask),
        }
    }

    /// An employee's tasks, newest first.
    pub async fn tasks(
        &self,
        id: EmployeeId,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<Task>, HumanError> {
        Ok(self
            .rt
            .store
            .tasks(&self.rt.tenant, id, open_only, limit)
            .await?)
    }
}
