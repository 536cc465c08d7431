//! Tasks delegated to employees through the node: assigned (stored together with the
//! event that tells the employee), read one by one or listed.

use super::{HumanError, Node};
use crate::actors::registry::{self, ReachError};
use crate::model::{
    EmployeeId, Event, NewEvent, NewTask, Priority, Task, TaskStatus, bare_address, is_address,
    kinds,
};
use chrono::Utc;
use serde_json::json;

impl Node {
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
        // What the role's rules make of the task's words, as triage does of mail.
        let intent = match self.rt.store.employee(&self.rt.tenant, id).await {
            Ok(Some(p)) => self
                .rt
                .hands
                .mail
                .triage(&p.role)
                .classify_words(&task.description)
                .map(|t| t.intent),
            _ => None,
        };
        let mut payload = json!({
            "task_id": task.id,
            "description": task.description,
            "priority": task.priority,
            "deadline": task.deadline,
            "requester": task.requester,
            "channel": task.channel,
        });
        if let Some(intent) = intent {
            payload["intent"] = json!(intent);
        }
        let event = Event::accept(
            self.rt.tenant.clone(),
            id,
            NewEvent {
                kind: kinds::TASK.into(),
                source: channel.into(),
                payload,
                idempotency_key: Some(format!("task:{}", task.id)),
            },
            now,
        );
        registry::wake(&self.rt, id);
        self.rt
            .store
            .assign_task(&self.rt.tenant, &task, &event)
            .await?;
        metrics::counter!("empla_events_accepted_total").increment(1);
        registry::deliver(&self.rt, event);
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
