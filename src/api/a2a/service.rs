//! Every A2A 1.0 operation for the agent a request addresses (the guard names it in
//! [`AGENT_HEADER`]): the protocol's requests in, the node's A2A entry points and the
//! [`Ledger`](crate::a2a::Ledger) behind them. An agent sees only its own tasks; the
//! front desk sees every task it or an employee was given.

use super::AGENT_HEADER;
use crate::a2a::{DESK, LedgerError, push, states};
use crate::node::{Node, RouteError};
use crate::store::{A2aTaskFilter, A2aTaskRow};
use a2a::*;
use a2a_server::RequestHandler;
use a2a_server::middleware::ServiceParams;
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::collections::HashMap;
use std::sync::Arc;

/// Tasks in a page when the caller names no size, and the most in one.
const PAGE: i32 = 50;
const MAX_PAGE: i32 = 100;

/// The A2A agents of a node: its employees and its front desk.
pub(super) struct Agents {
    pub(super) node: Arc<Node>,
}

fn agent(params: &ServiceParams) -> Result<String, A2AError> {
    params
        .get(AGENT_HEADER)
        .and_then(|v| v.last())
        .cloned()
        .ok_or_else(|| A2AError::internal("the request reached no agent"))
}

fn ledger_error(e: LedgerError) -> A2AError {
    match e {
        LedgerError::NotFound(id) => A2AError::task_not_found(&id),
        LedgerError::NotCancelable(id, _) => A2AError::task_not_cancelable(&id),
        e => {
            tracing::error!(error = %e, "A2A: the task store failed");
            A2AError::internal("the task store failed; try again")
        }
    }
}

fn route_error(e: RouteError) -> A2AError {
    match e {
        RouteError::NoAgent(_) | RouteError::Unrouted | RouteError::Invalid(_) => {
            A2AError::invalid_params(e.to_string())
        }
        RouteError::Store(_) | RouteError::Ledger(_) => {
            tracing::error!(error = %e, "A2A: a message could not be stored");
            A2AError::internal("the message could not be stored; nothing was accepted, try again")
        }
    }
}

/// Keeps the last `n` messages of a task's history (`None`: all; 0: none).
fn trim_history(task: &mut Task, n: Option<i32>) {
    if let (Some(n), Some(h)) = (n, task.history.as_mut()) {
        let keep = n.max(0) as usize;
        let drop = h.len().saturating_sub(keep);
        h.drain(..drop);
    }
}

impl Agents {
    /// Task `id` if agent `agent` may see it.
    async fn task(&self, agent: &str, id: &str) -> Result<(A2aTaskRow, Task), A2AError> {
        match self.node.a2a_ledger().get(id).await.map_err(ledger_error)? {
            Some((row, task)) if agent == DESK || row.agent == agent => Ok((row, task)),
            _ => Err(A2AError::task_not_found(id)),
        }
    }

    /// Opens the task a new message asks for: routed, its webhook saved, stored with
    /// the employee's inbox event.
    async fn open(
        &self,
        params: &ServiceParams,
        req: &SendMessageRequest,
    ) -> Result<Task, A2AError> {
        let agent = agent(params)?;
        if let Some(id) = &req.message.task_id {
            let (_, task) = self.task(&agent, id).await?;
            return Err(if task.status.state.is_terminal() {
                A2AError::unsupported_operation(format!("task {id} has already ended"))
            } else {
                A2AError::unsupported_operation(format!(
                    "task {id} takes no further messages here: answers and approvals reach the employee through its people; send a new message for a new request"
                ))
            });
        }
        // Parts of a declared media type must be one the agents take (`defaultInputModes`).
        let taken = |m: &str| m.is_empty() || crate::a2a::cards::MODES.contains(&m);
        if !req
            .message
            .parts
            .iter()
            .all(|p| p.media_type.as_deref().is_none_or(taken))
        {
            return Err(A2AError::content_type_not_supported());
        }
        let p = self
            .node
            .a2a_route(&agent, &req.message, req.metadata.as_ref())
            .await
            .map_err(route_error)?;
        let id = new_task_id();
        let context_id = req
            .message
            .context_id
            .clone()
            .unwrap_or_else(new_context_id);
        let mut message = req.message.clone();
        message.task_id = Some(id.clone());
        message.context_id = Some(context_id.clone());
        let task = Task {
            id: id.clone(),
            context_id,
            status: TaskStatus {
                state: TaskState::Submitted,
                message: None,
                timestamp: Some(chrono::Utc::now()),
            },
            artifacts: None,
            history: Some(vec![message]),
            metadata: Some(HashMap::from([(
                "employee".to_string(),
                serde_json::Value::String(p.chat_handle.clone()),
            )])),
        };
        if let Some(config) = req
            .configuration
            .as_ref()
            .and_then(|c| c.task_push_notification_config.clone())
        {
            self.save_push(&id, config).await?;
        }
        self.node
            .a2a_open(&p, &agent, &task, &req.message)
            .await
            .map_err(route_error)?;
        Ok(task)
    }

    async fn save_push(
        &self,
        task_id: &str,
        mut config: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2AError> {
        push::check_url(&config.url, self.node.a2a_config().push_allow_private)
            .map_err(A2AError::invalid_params)?;
        let creds = config
            .authentication
            .as_ref()
            .and_then(|a| a.credentials.as_deref())
            .unwrap_or("");
        let token = config.token.as_deref().unwrap_or("");
        if creds.contains(['\r', '\n']) || token.contains(['\r', '\n']) {
            return Err(A2AError::invalid_params(
                "push credentials and tokens must be on one line",
            ));
        }
        config.task_id = task_id.to_string();
        let id = config
            .id
            .clone()
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        config.id = Some(id.clone());
        let json = serde_json::to_string(&config).map_err(|e| A2AError::internal(e.to_string()))?;
        self.node
            .a2a_ledger()
            .save_push(task_id, &id, &json)
            .await
            .map_err(ledger_error)?;
        Ok(config)
    }

    async fn push_configs(
        &self,
        task_id: &str,
    ) -> Result<Vec<TaskPushNotificationConfig>, A2AError> {
        let rows = self
            .node
            .a2a_ledger()
            .push_configs(task_id)
            .await
            .map_err(ledger_error)?;
        rows.into_iter()
            .map(|(_, json)| {
                serde_json::from_str(&json).map_err(|e| A2AError::internal(e.to_string()))
            })
            .collect()
    }

    fn stream(&self, task: Task, seq: i64) -> BoxStream<'static, Result<StreamResponse, A2AError>> {
        Box::pin(
            self.node
                .a2a_ledger()
                .subscribe(task, seq)
                .map(|r| r.map_err(ledger_error)),
        )
    }
}

#[async_trait]
impl RequestHandler for Agents {
    async fn send_message(
        &self,
        params: &ServiceParams,
        req: SendMessageRequest,
    ) -> Result<SendMessageResponse, A2AError> {
        let task = self.open(params, &req).await?;
        let config = req.configuration.as_ref();
        let mut task = if config.and_then(|c| c.return_immediately).unwrap_or(false) {
            task
        } else {
            let wait = self.node.a2a_config().answer_wait;
            self.node
                .a2a_ledger()
                .wait_settled(&task.id, wait)
                .await
                .map_err(ledger_error)?
        };
        trim_history(&mut task, config.and_then(|c| c.history_length));
        Ok(SendMessageResponse::Task(task))
    }

    async fn send_streaming_message(
        &self,
        params: &ServiceParams,
        req: SendMessageRequest,
    ) -> Result<BoxStream<'static, Result<StreamResponse, A2AError>>, A2AError> {
        let task = self.open(params, &req).await?;
        Ok(self.stream(task, 1))
    }

    async fn get_task(
        &self,
        params: &ServiceParams,
        req: GetTaskRequest,
    ) -> Result<Task, A2AError> {
        let (_, mut task) = self.task(&agent(params)?, &req.id).await?;
        trim_history(&mut task, req.history_length);
        Ok(task)
    }

    async fn list_tasks(
        &self,
        params: &ServiceParams,
        req: ListTasksRequest,
    ) -> Result<ListTasksResponse, A2AError> {
        let agent = agent(params)?;
        // 0 is an unset size in the protocol's encoding: the default.
        let size = req.page_size.filter(|s| *s != 0).unwrap_or(PAGE);
        if !(1..=MAX_PAGE).contains(&size) {
            return Err(A2AError::invalid_params(format!(
                "pageSize must be 1 to {MAX_PAGE}"
            )));
        }
        let after = match req.page_token.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(
                t.split_once('_')
                    .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                    .ok_or_else(|| {
                        A2AError::invalid_params("pageToken is not one this agent gave")
                    })?,
            ),
        };
        let filter = A2aTaskFilter {
            agent: (agent != DESK).then_some(agent),
            context_id: req.context_id.clone().filter(|c| !c.is_empty()),
            state: req
                .status
                .as_ref()
                .filter(|s| **s != TaskState::Unspecified)
                .map(states::name),
            updated_after: req.status_timestamp_after.map(|t| t.timestamp_micros()),
            after,
            limit: i64::from(size) + 1,
        };
        let (mut rows, total) = self
            .node
            .a2a_ledger()
            .list(&filter)
            .await
            .map_err(ledger_error)?;
        let more = rows.len() > size as usize;
        rows.truncate(size as usize);
        let next_page_token = match (more, rows.last()) {
            (true, Some((row, _))) => format!("{}_{}", row.created_at, row.id),
            _ => String::new(),
        };
        let tasks = rows
            .into_iter()
            .map(|(_, mut t)| {
                trim_history(&mut t, req.history_length);
                if !req.include_artifacts.unwrap_or(false) {
                    t.artifacts = None;
                }
                t
            })
            .collect::<Vec<_>>();
        Ok(ListTasksResponse {
            page_size: tasks.len() as i32,
            tasks,
            next_page_token,
            total_size: total as i32,
        })
    }

    async fn cancel_task(
        &self,
        params: &ServiceParams,
        req: CancelTaskRequest,
    ) -> Result<Task, A2AError> {
        let (row, _) = self.task(&agent(params)?, &req.id).await?;
        self.node
            .a2a_cancel(&req.id, row.employee_id)
            .await
            .map_err(ledger_error)
    }

    async fn subscribe_to_task(
        &self,
        params: &ServiceParams,
        req: SubscribeToTaskRequest,
    ) -> Result<BoxStream<'static, Result<StreamResponse, A2AError>>, A2AError> {
        let (row, task) = self.task(&agent(params)?, &req.id).await?;
        if task.status.state.is_terminal() {
            return Err(A2AError::unsupported_operation(format!(
                "task {} has already ended; GetTask reads it",
                req.id
            )));
        }
        Ok(self.stream(task, row.seq))
    }

    async fn create_push_config(
        &self,
        params: &ServiceParams,
        req: TaskPushNotificationConfig,
    ) -> Result<TaskPushNotificationConfig, A2AError> {
        let (_, task) = self.task(&agent(params)?, &req.task_id).await?;
        if task.status.state.is_terminal() {
            return Err(A2AError::unsupported_operation(format!(
                "task {} has already ended: nothing more will be pushed",
                task.id
            )));
        }
        let id = req.task_id.clone();
        self.save_push(&id, req).await
    }

    async fn get_push_config(
        &self,
        params: &ServiceParams,
        req: GetTaskPushNotificationConfigRequest,
    ) -> Result<TaskPushNotificationConfig, A2AError> {
        self.task(&agent(params)?, &req.task_id).await?;
        self.push_configs(&req.task_id)
            .await?
            .into_iter()
            .find(|c| c.id.as_deref() == Some(req.id.as_str()))
            .ok_or_else(|| {
                A2AError::invalid_params(format!(
                    "task {} has no push notification config {}",
                    req.task_id, req.id
                ))
            })
    }

    async fn list_push_configs(
        &self,
        params: &ServiceParams,
        req: ListTaskPushNotificationConfigsRequest,
    ) -> Result<ListTaskPushNotificationConfigsResponse, A2AError> {
        self.task(&agent(params)?, &req.task_id).await?;
        let size = match req.page_size {
            None | Some(0) => PAGE as usize,
            Some(n) if (1..=MAX_PAGE).contains(&n) => n as usize,
            Some(n) => {
                return Err(A2AError::invalid_params(format!(
                    "pageSize {n} is out of range: give 1 to {MAX_PAGE}, or none for {PAGE}"
                )));
            }
        };
        // By id; a page token is the id the previous page ended with.
        let mut configs = self.push_configs(&req.task_id).await?;
        configs.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(after) = req.page_token.as_deref().filter(|t| !t.is_empty()) {
            configs.retain(|c| c.id.as_deref().is_some_and(|id| id > after));
        }
        let next_page_token = (configs.len() > size)
            .then(|| configs[size - 1].id.clone())
            .flatten();
        configs.truncate(size);
        Ok(ListTaskPushNotificationConfigsResponse {
            configs,
            next_page_token,
        })
    }

    async fn delete_push_config(
        &self,
        params: &ServiceParams,
        req: DeleteTaskPushNotificationConfigRequest,
    ) -> Result<(), A2AError> {
        self.task(&agent(params)?, &req.task_id).await?;
        let existed = self
            .node
            .a2a_ledger()
            .delete_push(&req.task_id, &req.id)
            .await
            .map_err(ledger_error)?;
        if existed {
            Ok(())
        } else {
            Err(A2AError::invalid_params(format!(
                "task {} has no push notification config {}",
                req.task_id, req.id
            )))
        }
    }

    async fn get_extended_agent_card(
        &self,
        params: &ServiceParams,
        _req: GetExtendedAgentCardRequest,
    ) -> Result<AgentCard, A2AError> {
        let agent = agent(params)?;
        let mut headers = axum::http::HeaderMap::new();
        if let Some(host) = params.get("host").and_then(|h| h.first())
            && let Ok(v) = axum::http::HeaderValue::from_str(host)
        {
            headers.insert(axum::http::header::HOST, v);
        }
        let base = super::base_url(&self.node.a2a_config().public_url, &headers);
        match self.node.a2a_card(&agent, &base).await {
            Ok(Some(card)) => Ok(card),
            Ok(None) => Err(A2AError::invalid_params(format!(
                "no agent `{agent}` on this node"
            ))),
            Err(e) => {
                tracing::error!(error = %e, "A2A: card could not be read");
                Err(A2AError::internal(
                    "the agent card could not be read; try again",
                ))
            }
        }
    }
}
