//! The node's A2A entry points, for the A2A face (`api::a2a`): agent cards, routing a
//! message to an employee (the front desk routes by `metadata.employee`, a handle or
//! name in the words, or a skill), opening the task with the inbox event that tells the
//! employee (`a2a.message`), and canceling a task (the task first, then the intention
//! working on it, told by an `a2a.canceled` event).

use super::Node;
use crate::a2a::{A2aConfig, CANCELED, DESK, Ledger, LedgerError, message_text};
use crate::capabilities::agents::deliver::OpenError;
use crate::model::{EmployeeId, EmployeeProfile, EmployeeStatus, NewEvent, TaskStatus};
use crate::store::{StoreError, TaskUpdate};
use a2a::{AgentCard, Message, Task, TaskState};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a message reaches no employee.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// No agent of that name on this node.
    #[error("no agent `{0}` on this node")]
    NoAgent(String),
    /// The front desk could not tell whom the message is for.
    #[error(
        "the front desk could not tell which employee this is for: set `metadata.employee` to a handle (see the skills of /.well-known/agent-card.json), or name the employee"
    )]
    Unrouted,
    /// The message is not one an employee can take.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

fn routing_key(
    m: &Message,
    metadata: Option<&HashMap<String, serde_json::Value>>,
) -> Option<String> {
    metadata
        .and_then(|md| md.get("employee"))
        .or_else(|| m.metadata.as_ref().and_then(|md| md.get("employee")))
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

impl Node {
    /// The node's A2A tasks.
    pub fn a2a_ledger(&self) -> &Arc<Ledger> {
        &self.rt.hands.a2a
    }

    /// `[a2a]` with `node.public_url`.
    pub fn a2a_config(&self) -> &A2aConfig {
        &self.a2a
    }

    /// The employees that take messages (not offboarded).
    async fn a2a_employees(&self) -> Result<Vec<EmployeeProfile>, StoreError> {
        Ok(self
            .employees(10_000, 0)
            .await?
            .into_iter()
            .filter(|p| p.status != EmployeeStatus::Offboarded)
            .collect())
    }

    /// The employee an agent name stands for (a handle; not the desk).
    pub async fn a2a_employee(&self, agent: &str) -> Result<Option<EmployeeProfile>, StoreError> {
        if agent == DESK {
            return Ok(None);
        }
        let Some(id) = self.rt.directory.resolve(agent) else {
            return Ok(None);
        };
        Ok(self
            .employee(id)
            .await?
            .filter(|p| p.status != EmployeeStatus::Offboarded && p.chat_handle == agent))
    }

    /// The card of agent `agent` (a handle or `desk`) with URLs under `base`; none if
    /// there is no such agent.
    pub async fn a2a_card(&self, agent: &str, base: &str) -> Result<Option<AgentCard>, StoreError> {
        if agent == DESK {
            let staff = self.a2a_employees().await?;
            return Ok(Some(crate::a2a::cards::desk(
                &self.company_domain,
                &staff,
                base,
            )));
        }
        Ok(self
            .a2a_employee(agent)
            .await?
            .map(|p| crate::a2a::cards::employee(&p, self.roles.get(&p.role), base)))
    }

    /// Whom a message to agent `agent` is for: the employee itself, or for the front
    /// desk the employee named by `metadata.employee`, by a handle or name in the
    /// words, or by a skill the words ask for.
    pub async fn a2a_route(
        &self,
        agent: &str,
        m: &Message,
        metadata: Option<&HashMap<String, serde_json::Value>>,
    ) -> Result<EmployeeProfile, RouteError> {
        if agent != DESK {
            return self
                .a2a_employee(agent)
                .await?
                .ok_or_else(|| RouteError::NoAgent(agent.into()));
        }
        let staff = self.a2a_employees().await?;
        if let Some(key) = routing_key(m, metadata) {
            let id = self.rt.directory.resolve(&key);
            return staff
                .into_iter()
                .find(|p| Some(p.id) == id || p.chat_handle == key)
                .ok_or(RouteError::NoAgent(key));
        }
        let text = message_text(m).to_lowercase();
        let named = staff.iter().find(|p| {
            text.contains(&p.chat_handle.to_lowercase()) || text.contains(&p.name.to_lowercase())
        });
        if let Some(p) = named {
            return Ok(p.clone());
        }
        // By skill: the job title, or a plan of the role, named in the words (plans'
        // names, not capabilities': "email" would match nearly anything).
        let asks = |p: &EmployeeProfile| {
            text.contains(&p.job_title.to_lowercase())
                || crate::a2a::cards::skills(p, self.roles.get(&p.role))
                    .iter()
                    .filter(|s| s.id.starts_with("plan:"))
                    .any(|s| text.contains(&s.name.to_lowercase()))
        };
        staff
            .iter()
            .find(|p| asks(p))
            .cloned()
            .ok_or(RouteError::Unrouted)
    }

    /// Opens task `task` (submitted, its message in its history) for employee `p`,
    /// addressed as `agent`: stored with the inbox event that tells the employee, then
    /// delivered. Answers once it is stored.
    pub async fn a2a_open(
        &self,
        p: &EmployeeProfile,
        agent: &str,
        task: &Task,
        m: &Message,
    ) -> Result<(), RouteError> {
        crate::capabilities::agents::deliver::open(&self.rt.hands, p, agent, task, m, None)
            .await
            .map_err(|e| match e {
                OpenError::Invalid(why) => RouteError::Invalid(why),
                OpenError::Ledger(e) => RouteError::Ledger(e),
            })
    }

    /// Cancels A2A task `id`: canceled at once (unless it has ended), then the
    /// employee is told, and drops the intention working on it.
    pub async fn a2a_cancel(&self, id: &str, employee: EmployeeId) -> Result<Task, LedgerError> {
        let before = self.rt.hands.a2a.get(id).await?;
        let task = self.rt.hands.a2a.cancel(id).await?;
        let was_open = before.is_some_and(|(_, t)| t.status.state != TaskState::Canceled);
        if was_open {
            let u = TaskUpdate {
                status: Some(TaskStatus::Failed),
                progress: None,
                result: Some("Canceled by the agent that asked for it.".into()),
                intention: None,
            };
            self.rt
                .store
                .update_task(&self.rt.tenant, id, &u, &format!("a2a-cancel:{id}"))
                .await?;
            let new = NewEvent {
                kind: CANCELED.into(),
                source: "a2a".into(),
                payload: json!({"task_id": id}),
                idempotency_key: Some(format!("a2a-cancel:{id}")),
            };
            if let Err(e) = self.accept(employee, new).await {
                tracing::warn!(task = %id, error = %e, "A2A cancel: the employee could not be told");
            }
        }
        Ok(task)
    }
}
