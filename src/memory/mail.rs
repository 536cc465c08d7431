//! Mail and chat in the store. A message is stored once per tenant, keyed by its
//! Message-ID, so storing it again (a retried send, an IMAP message read twice after a
//! crash) changes nothing; each address that holds a copy has a `mailbox` row in a
//! folder (`inbox`, `sent`). Chat messages are kept per employee and conversation.

use super::rows::parse_json;
use super::store::{Store, StoreError, with_pool};
use super::{from_micros, to_micros};
use crate::model::{EmployeeId, MailMessage, TenantId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Folder of a mailbox copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// Received.
    Inbox,
    /// Sent.
    Sent,
}

impl Folder {
    fn as_str(self) -> &'static str {
        match self {
            Folder::Inbox => "inbox",
            Folder::Sent => "sent",
        }
    }
}

#[derive(sqlx::FromRow)]
struct MailRow {
    message_id: String,
    sender: String,
    recipients: String,
    cc: String,
    subject: String,
    body: String,
    in_reply_to: Option<String>,
    refs: String,
    attachments: String,
    at: i64,
}

impl MailRow {
    fn into_message(self) -> Result<MailMessage, StoreError> {
        Ok(MailMessage {
            message_id: self.message_id,
            from: self.sender,
            to: self.recipients,
            cc: self.cc,
            subject: self.subject,
            body: self.body,
            in_reply_to: self.in_reply_to,
            references: self.refs.split_whitespace().map(str::to_string).collect(),
            attachments: serde_json::from_value(parse_json(&self.attachments)?)
                .map_err(|e| StoreError::Corrupt(format!("mail attachments: {e}")))?,
            at: from_micros(self.at),
        })
    }
}

/// `SELECT <mail columns> FROM mail m <rest>`.
macro_rules! select_mail {
    ($rest:literal) => {
        concat!(
            "SELECT m.message_id, m.sender, m.recipients, m.cc, m.subject, m.body, m.in_reply_to, \
             m.refs, m.attachments, m.at FROM mail m ",
            $rest
        )
    };
}

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
    /// Stores `m` (once: a Message-ID already stored is left as it is) and a copy in
    /// each of `copies` (address, folder). Answers whether the message was new.
    pub async fn put_mail(
        &self,
        tenant: &TenantId,
        m: &MailMessage,
        copies: &[(String, Folder)],
    ) -> Result<bool, StoreError> {
        let attachments = serde_json::to_string(&m.attachments).expect("attachments serialise");
        let refs = m.references.join(" ");
        let inserted = with_pool!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let new = sqlx::query(
                "INSERT INTO mail (tenant, message_id, sender, recipients, cc, subject, body, \
                 in_reply_to, refs, thread, attachments, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&m.message_id)
            .bind(&m.from)
            .bind(&m.to)
            .bind(&m.cc)
            .bind(&m.subject)
            .bind(&m.body)
            .bind(m.in_reply_to.as_deref())
            .bind(&refs)
            .bind(m.thread())
            .bind(&attachments)
            .bind(to_micros(m.at))
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let (seq,): (i64,) =
                sqlx::query_as("SELECT seq FROM mail WHERE tenant = $1 AND message_id = $2")
                    .bind(tenant.as_str())
                    .bind(&m.message_id)
                    .fetch_one(&mut *tx)
                    .await?;
            for (address, folder) in copies {
                sqlx::query(
                    "INSERT INTO mailbox (tenant, address, mail_seq, folder) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(tenant.as_str())
                .bind(address.to_ascii_lowercase())
                .bind(seq)
                .bind(folder.as_str())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(new)
        })?;
        Ok(inserted)
    }

    /// One stored message.
    pub async fn mail(
        &self,
        tenant: &TenantId,
        message_id: &str,
    ) -> Result<Option<MailMessage>, StoreError> {
        let row: Option<MailRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_mail!("WHERE m.tenant = $1 AND m.message_id = $2"))
                .bind(tenant.as_str())
                .bind(message_id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(MailRow::into_message).transpose()
    }

    /// An address's messages in `folder`, newest first.
    pub async fn mail_folder(
        &self,
        tenant: &TenantId,
        address: &str,
        folder: Folder,
        limit: i64,
    ) -> Result<Vec<MailMessage>, StoreError> {
        let rows: Vec<MailRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(select_mail!(
                "JOIN mailbox b ON b.tenant = m.tenant AND b.mail_seq = m.seq \
                 WHERE b.tenant = $1 AND b.address = $2 AND b.folder = $3 \
                 ORDER BY m.seq DESC LIMIT $4"
            ))
            .bind(tenant.as_str())
            .bind(address.to_ascii_lowercase())
            .bind(folder.as_str())
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(MailRow::into_message).collect()
    }

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
