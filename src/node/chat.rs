//! Chat with an employee through the node: a human writes, and waits a few seconds for
//! the employee's answer; the conversation is kept and can be read back.

use super::{HumanError, Node};
use crate::model::{EmployeeId, FieldError, NewEvent, kinds};
use crate::store::ChatMessage;
use serde_json::json;
use std::time::Duration;
use tokio::sync::oneshot;

/// Longest chat message accepted, in bytes.
const MAX_CHAT: usize = 8 * 1024;

/// A chat message submitted as an event without saying where it was written is
/// answered in the node's own chat, in a conversation named after the writer (`api`
/// when unnamed), which `GET /api/v1/employees/{id}/chat` reads back.
pub(super) fn addressed(mut new: NewEvent) -> NewEvent {
    if new.kind != kinds::CHAT {
        return new;
    }
    let Some(p) = new.payload.as_object_mut() else {
        return new;
    };
    let from = p
        .get("from")
        .and_then(|f| f.as_str())
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .unwrap_or("api")
        .to_string();
    if !p.contains_key("conversation") && !p.contains_key("to") {
        p.insert("conversation".into(), json!(from));
        p.entry("channel").or_insert_with(|| json!("local"));
    }
    new
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
            .hands
            .chat
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
        if let Err(e) = self.accept(id, new).await {
            self.rt.hands.chat.waiting.remove(&event_id);
            return Err(e.into());
        }
        let reply = tokio::time::timeout(wait, rx)
            .await
            .ok()
            .and_then(Result::ok);
        if reply.is_none() {
            self.rt.hands.chat.waiting.remove(&event_id);
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
}
