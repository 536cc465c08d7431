//! How humans reach employees: mail on the built-in driver (`/api/v1/mail/...`), chat
//! (`/api/v1/employees/{id}/chat`) and tasks (`/api/v1/employees/{id}/tasks`). Their
//! request bodies are model types ([`OutgoingMail`](crate::model::OutgoingMail),
//! [`NewTask`](crate::model::NewTask)) except chat's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Answer to a sent message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MailSent {
    /// The Message-ID given to it.
    pub message_id: String,
}

/// Query of `GET /api/v1/mail/inbox`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// The mailbox, e.g. alex.morgan@example.com.
    pub address: String,
    /// 1..=1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// One message as an inbox lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InboxItem {
    /// Its Message-ID.
    pub message_id: String,
    /// Sender.
    pub from: String,
    /// Recipients.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// The Message-ID it answers.
    pub in_reply_to: Option<String>,
    /// Its attachments; a document an employee attached names it (`document`, read
    /// with `GET /api/v1/documents/{id}/content`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::model::Attachment>,
    /// When it was sent.
    pub at: DateTime<Utc>,
}

/// Body of `POST /api/v1/employees/{id}/chat`: a chat message to an employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    /// Who is writing: a name, `Name <address>` or a chat handle.
    pub from: String,
    /// What they say.
    pub text: String,
}

/// The employee's answer (200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatReply {
    /// What the employee answered.
    pub reply: String,
}

/// Not answered within the wait (202): the answer follows in the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatPending {
    /// The chat event stored for the employee.
    pub event_id: String,
    /// Where the answer will be.
    pub message: String,
}

/// Either answer of `POST /api/v1/employees/{id}/chat`, as it is on the wire (no tag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ChatAnswer {
    /// Answered in time.
    Reply(ChatReply),
    /// To be answered in the conversation.
    Pending(ChatPending),
}

/// Query of `GET /api/v1/employees/{id}/chat`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatHistoryQuery {
    /// Only this conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// 1..=1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Answer to an assigned task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskAssigned {
    /// Task id.
    pub id: String,
}

/// Query of `GET /api/v1/employees/{id}/tasks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TasksQuery {
    /// true: only tasks not ended (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// 1..=1000, default 50.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}
