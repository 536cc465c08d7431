//! How humans reach employees over HTTP: mail on the built-in driver
//! (`/api/v1/mail/send`, `/api/v1/mail/inbox`), chat (`/api/v1/employees/{id}/chat`)
//! and tasks (`/api/v1/employees/{id}/tasks`).

use super::employees::{Items, int_param, only_params, reach_error, resolve};
use super::{ApiError, ApiState, JsonBody};
use crate::model::{NewTask, OutgoingMail, Task};
use crate::node::HumanError;
use crate::store::ChatMessage;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;
use utoipa::ToSchema;

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

/// Answer to a sent message.
#[derive(Serialize, ToSchema)]
pub(crate) struct MailSent {
    /// The Message-ID given to it.
    message_id: String,
}

/// Send a message through the node's built-in mail driver: delivered to each
/// recipient's inbox, and to each recipient that is an employee as an event.
#[utoipa::path(post, path = "/api/v1/mail/send", request_body = OutgoingMail, responses((status = 202, body = MailSent), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn send_mail(
    State(s): State<ApiState>,
    JsonBody(m): JsonBody<OutgoingMail>,
) -> Result<(StatusCode, Json<MailSent>), ApiError> {
    let message_id = s.node.send_mail(m).await.map_err(human_error)?;
    Ok((StatusCode::ACCEPTED, Json(MailSent { message_id })))
}

/// One message as an inbox lists it.
#[derive(Serialize, ToSchema)]
pub(crate) struct InboxItem {
    message_id: String,
    from: String,
    to: String,
    subject: String,
    body: String,
    in_reply_to: Option<String>,
    at: DateTime<Utc>,
}

/// An address's inbox on the built-in mail driver, newest first.
#[utoipa::path(get, path = "/api/v1/mail/inbox", params(("address" = String, Query, description = "the mailbox, e.g. alex.morgan@example.com"), ("limit" = Option<i64>, Query, description = "1..=1000, default 50")), responses((status = 200, body = Object)))]
pub(crate) async fn inbox(
    State(s): State<ApiState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Items<InboxItem>>, ApiError> {
    only_params(&q, &["address", "limit"])?;
    let limit = int_param(&q, "limit", 50, 1000)?;
    let Some(address) = q.get("address") else {
        return Err(ApiError::BadRequest(
            "query parameter `address` is required: the mailbox to read, e.g. `?address=alex.morgan@example.com`".into(),
        ));
    };
    let items = s
        .node
        .mail_inbox(address, limit)
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
            at: m.at,
        })
        .collect();
    Ok(Json(Items { items }))
}

/// A chat message to an employee.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChatBody {
    /// Who is writing: a name, `Name <address>` or a chat handle.
    from: String,
    /// What they say.
    text: String,
}

/// The employee's answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChatReply {
    /// What the employee answered.
    reply: String,
}

/// Not answered within the wait: the answer follows in the conversation.
#[derive(Serialize, ToSchema)]
pub(crate) struct ChatPending {
    /// The chat event stored for the employee.
    event_id: String,
    /// Where the answer will be.
    message: String,
}

/// Write to an employee in chat; answers with its reply, or 202 when the reply takes
/// longer than a few seconds (it then follows in the conversation).
#[utoipa::path(post, path = "/api/v1/employees/{id}/chat", request_body = ChatBody, responses((status = 200, body = ChatReply), (status = 202, body = ChatPending)))]
pub(crate) async fn chat(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    JsonBody(b): JsonBody<ChatBody>,
) -> Result<Response, ApiError> {
    let id = resolve(&s, &key)?;
    let answer = s
        .node
        .chat(id, &b.from, &b.text, CHAT_WAIT)
        .await
        .map_err(human_error)?;
    Ok(match answer.reply {
        Some(m) => Json(ChatReply { reply: m.text }).into_response(),
        None => (
            StatusCode::ACCEPTED,
            Json(ChatPending {
                message: format!(
                    "the employee has your message and will answer in the conversation; `GET /api/v1/employees/{key}/chat` shows it"
                ),
                event_id: answer.event_id,
            }),
        )
            .into_response(),
    })
}

/// An employee's chat messages, newest first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/chat", params(("conversation" = Option<String>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, body = Object)))]
pub(crate) async fn chat_history(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Items<ChatMessage>>, ApiError> {
    only_params(&q, &["conversation", "limit"])?;
    let id = resolve(&s, &key)?;
    let limit = int_param(&q, "limit", 50, 1000)?;
    let items = s
        .node
        .chat_messages(id, q.get("conversation").map(String::as_str), limit)
        .await
        .map_err(human_error)?;
    Ok(Json(Items { items }))
}

/// The id of an assigned task.
#[derive(Serialize, ToSchema)]
pub(crate) struct TaskAssigned {
    /// Task id.
    id: String,
}

/// Delegate a task: stored and acknowledged (202), then taken up by the employee.
#[utoipa::path(post, path = "/api/v1/employees/{id}/tasks", request_body = NewTask, responses((status = 202, body = TaskAssigned), (status = 400, body = super::error::ErrorBody)))]
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
#[utoipa::path(get, path = "/api/v1/employees/{id}/tasks", params(("open" = Option<bool>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, body = Object)))]
pub(crate) async fn list_tasks(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Items<Task>>, ApiError> {
    only_params(&q, &["open", "limit"])?;
    let id = resolve(&s, &key)?;
    let limit = int_param(&q, "limit", 50, 1000)?;
    let open = match q.get("open").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return Err(ApiError::BadRequest(format!(
                "query parameter `open` must be true or false, got {v:?}"
            )));
        }
    };
    let items = s.node.tasks(id, open, limit).await.map_err(human_error)?;
    Ok(Json(Items { items }))
}

/// One task: `{"id", "status", "progress", "result", ...}`.
#[utoipa::path(get, path = "/api/v1/employees/{id}/tasks/{task_id}", responses((status = 200, body = Task), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn show_task(
    State(s): State<ApiState>,
    Path((key, task)): Path<(String, String)>,
) -> Result<Json<Task>, ApiError> {
    let id = resolve(&s, &key)?;
    Ok(Json(s.node.task(id, &task).await.map_err(human_error)?))
}
