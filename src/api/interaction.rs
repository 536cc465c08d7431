//! How humans reach employees over HTTP: mail on the built-in driver
//! (`/api/v1/mail/send`, `/api/v1/mail/inbox`), chat (`/api/v1/employees/{id}/chat`)
//! and tasks (`/api/v1/employees/{id}/tasks`).

use super::employees::{reach_error, resolve};
use super::params::{FromParams, Params, QueryString};
use super::wire::{
    ChatAnswer, ChatBody, ChatHistoryQuery, ChatPending, ChatReply, InboxItem, InboxQuery, Items,
    MailSent, TaskAssigned, TasksQuery,
};
use super::{ApiError, ApiState, JsonBody};
use crate::model::{NewTask, OutgoingMail, Task};
use crate::node::HumanError;
use crate::store::ChatMessage;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use std::time::Duration;

/// How long a chat call waits for the employee's answer before answering 202.
const CHAT_WAIT: Duration = Duration::from_secs(5);

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/mail/send", post(send_mail))
        .route("/mail/inbox", get(inbox))
        .route("/employees/{id}/chat", post(chat).get(chat_history))
        .route("/employees/{id}/tasks", post(assign).get(list_tasks))
        .route("/employees/{id}/tasks/{task}", get(show_task))
}

fn human_error(e: HumanError) -> ApiError {
    match e {
        HumanError::Invalid(v) => ApiError::BadRequest(
            v.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        HumanError::Reach(r) => reach_error(r),
        HumanError::NoTask => ApiError::NotFound(
            "no task with that id for this employee; `GET /api/v1/employees/{id}/tasks` lists them"
                .into(),
        ),
        e @ HumanError::MailServer => ApiError::Conflict(e.to_string()),
        HumanError::Store(m) => {
            tracing::error!(error = %m, "interaction not stored");
            ApiError::Unavailable("it could not be stored and was not accepted; retry".into())
        }
    }
}

impl FromParams for InboxQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["address", "limit"])?;
        let limit = p.whole("limit", 1, 1000)?;
        Ok(Self {
            address: p.required(
                "address",
                "query parameter `address` is required: the mailbox to read, e.g. `?address=alex.morgan@example.com`",
            )?,
            limit,
        })
    }
}

impl FromParams for ChatHistoryQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["conversation", "limit"])?;
        Ok(Self {
            conversation: p.text("conversation"),
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

impl FromParams for TasksQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["open", "limit"])?;
        Ok(Self {
            open: p.flag("open")?,
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

/// Send a message through the node's built-in mail driver: delivered to each
/// recipient's inbox, and to each recipient that is an employee as an event.
#[utoipa::path(post, path = "/api/v1/mail/send", request_body = OutgoingMail, responses((status = 202, body = MailSent), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn send_mail(
    State(s): State<ApiState>,
    JsonBody(m): JsonBody<OutgoingMail>,
) -> Result<(StatusCode, Json<MailSent>), ApiError> {
    let message_id = s.node.send_mail(m).await.map_err(human_error)?;
    Ok((StatusCode::ACCEPTED, Json(MailSent { message_id })))
}

/// An address's inbox on the built-in mail driver, newest first.
#[utoipa::path(get, path = "/api/v1/mail/inbox", params(InboxQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn inbox(
    State(s): State<ApiState>,
    QueryString(q): QueryString<InboxQuery>,
) -> Result<Json<Items<InboxItem>>, ApiError> {
    let items = s
        .node
        .mail_inbox(&q.address, q.limit.unwrap_or(50))
        .await
        .map_err(human_error)?
        .into_iter()
        .map(|m| InboxItem {
            message_id: m.message_id,
            from: m.from,
            to: m.to,
            subject: m.subject,
            body: m.body,
            in_reply_to: m.in_reply_to,
            attachments: m.attachments,
            at: m.at,
        })
        .collect();
    Ok(Json(Items { items }))
}

/// Write to an employee in chat; answers with its reply, or 202 when the reply takes
/// longer than a few seconds (it then follows in the conversation).
#[utoipa::path(post, path = "/api/v1/employees/{id}/chat", params(("id" = String, Path)), request_body = ChatBody, responses((status = 200, body = ChatReply), (status = 202, body = ChatPending), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn chat(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    JsonBody(b): JsonBody<ChatBody>,
) -> Result<(StatusCode, Json<ChatAnswer>), ApiError> {
    let id = resolve(&s, &key)?;
    let answer = s
        .node
        .chat(id, &b.from, &b.text, CHAT_WAIT)
        .await
        .map_err(human_error)?;
    Ok(match answer.reply {
        Some(m) => (
            StatusCode::OK,
            Json(ChatAnswer::Reply(ChatReply { reply: m.text })),
        ),
        None => (
            StatusCode::ACCEPTED,
            Json(ChatAnswer::Pending(ChatPending {
                message: format!(
                    "the employee has your message and will answer in the conversation; `GET /api/v1/employees/{key}/chat` shows it"
                ),
                event_id: answer.event_id,
            })),
        ),
    })
}

/// An employee's chat messages, newest first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/chat", params(("id" = String, Path), ChatHistoryQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn chat_history(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<ChatHistoryQuery>,
) -> Result<Json<Items<ChatMessage>>, ApiError> {
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .chat_messages(id, q.conversation.as_deref(), q.limit.unwrap_or(50))
        .await
        .map_err(human_error)?;
    Ok(Json(Items { items }))
}

/// Delegate a task: stored and acknowledged (202), then taken up by the employee.
#[utoipa::path(post, path = "/api/v1/employees/{id}/tasks", params(("id" = String, Path)), request_body = NewTask, responses((status = 202, body = TaskAssigned), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn assign(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    JsonBody(t): JsonBody<NewTask>,
) -> Result<(StatusCode, Json<TaskAssigned>), ApiError> {
    let id = resolve(&s, &key)?;
    let task = s
        .node
        .assign_task(id, t, "api", "api")
        .await
        .map_err(human_error)?;
    Ok((StatusCode::ACCEPTED, Json(TaskAssigned { id: task.id })))
}

/// An employee's tasks, newest first (`open=true`: only those not ended).
#[utoipa::path(get, path = "/api/v1/employees/{id}/tasks", params(("id" = String, Path), TasksQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list_tasks(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<TasksQuery>,
) -> Result<Json<Items<Task>>, ApiError> {
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .tasks(id, q.open.unwrap_or(false), q.limit.unwrap_or(50))
        .await
        .map_err(human_error)?;
    Ok(Json(Items { items }))
}

/// One task: `{"id", "status", "progress", "result", ...}`.
#[utoipa::path(get, path = "/api/v1/employees/{id}/tasks/{task_id}", params(("id" = String, Path), ("task_id" = String, Path)), responses((status = 200, body = Task), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn show_task(
    State(s): State<ApiState>,
    Path((key, task)): Path<(String, String)>,
) -> Result<Json<Task>, ApiError> {
    let id = resolve(&s, &key)?;
    Ok(Json(s.node.task(id, &task).await.map_err(human_error)?))
}
