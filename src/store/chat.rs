//! Chat messages in the store, kept per employee and conversation. A message an
//! employee posts is stored naming the action that posted it, so an action retried
//! after a crash finds what it already posted.

use super::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{EmployeeId, TenantId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChatMessage {
    /// Order within the node.
    pub seq: i64,
    /// The employee in the conversation.
    #[schema(value_type = String)]
    pub employee_id: EmployeeId,
    /// The conversation (a human's handle, a Slack channel and thread, …).
    pub conversation: String,
    /// Who wrote it: the human, or the employee's id.
    pub from: String,
    /// What was said.
    pub text: String,
    /// The event (for a human's message) or the message it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The thread within the conversation (Slack: the `thread_ts` answered in); not
    /// kept in the store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// The action (outbox key) that posts it, for the employee's own messages.
    #[serde(skip)]
    pub action: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    seq: i64,
    employee_id: String,
    conversation: String,
    sender: String,
    text: String,
    in_reply_to: Option<String>,
    action: Option<String>,
    at: i64,
}

impl ChatRow {
    fn into_message(self) -> Result<ChatMessage, StoreError> {
        Ok(ChatMessage {
            seq: self.seq,
            employee_id: super::rows::parse_id(&self.employee_id)?,
            conversation: self.conversation,
            from: self.sender,
            text: self.text,
            in_reply_to: self.in_reply_to,
            thread: None,
            action: self.action,
            at: from_micros(self.at),
        })
    }
}

impl Store {
    /// Stores a chat message and answers its number.
    pub async fn put_chat(&self, tenant: &TenantId, m: &ChatMessage) -> Result<i64, StoreError> {
        let (seq,): (i64,) = with_pool!(self, write, |pool| {
            sqlx::query_as(
                "INSERT INTO chat_messages (tenant, employee_id, conversation, sender, text, in_reply_to, action, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
            )
            .bind(tenant.as_str())
            .bind(m.employee_id.to_string())
            .bind(&m.conversation)
            .bind(&m.from)
            .bind(&m.text)
            .bind(m.in_reply_to.as_deref())
            .bind(m.action.as_deref())
            .bind(to_micros(m.at))
            .fetch_one(pool)
            .await
        })?;
        Ok(seq)
    }

    /// The message action `key` stored before posting it, if it did.
    pub async fn chat_by_action(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let row: Option<ChatRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT seq, employee_id, conversation, sender, text, in_reply_to, action, at FROM chat_messages \
                 WHERE tenant = $1 AND action = $2 ORDER BY seq LIMIT 1",
            )
            .bind(tenant.as_str())
            .bind(key)
            .fetch_optional(pool)
            .await
        })?;
        row.map(ChatRow::into_message).transpose()
    }

    /// Removes chat message `seq` (one that could not be posted after all).
    pub async fn delete_chat(&self, tenant: &TenantId, seq: i64) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query("DELETE FROM chat_messages WHERE tenant = $1 AND seq = $2")
                .bind(tenant.as_str())
                .bind(seq)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// The employee's answers to `in_reply_to` (a human's chat event), oldest first.
    pub async fn chat_replies(
        &self,
        tenant: &TenantId,
        in_reply_to: &str,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows: Vec<ChatRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT seq, employee_id, conversation, sender, text, in_reply_to, action, at FROM chat_messages \
                 WHERE tenant = $1 AND in_reply_to = $2 ORDER BY seq",
            )
            .bind(tenant.as_str())
            .bind(in_reply_to)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(ChatRow::into_message).collect()
    }

    /// An employee's chat messages, newest first, optionally of one conversation.
    pub async fn chat_messages(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        conversation: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let rows: Vec<ChatRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT seq, employee_id, conversation, sender, text, in_reply_to, action, at FROM chat_messages \
                 WHERE tenant = $1 AND employee_id = $2 AND ($3 IS NULL OR conversation = $3) \
                 ORDER BY seq DESC LIMIT $4",
            )
            .bind(tenant.as_str())
            .bind(employee.to_string())
            .bind(conversation)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(ChatRow::into_message).collect()
    }
}
