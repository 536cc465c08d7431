//! How an employee's own actions move its A2A tasks: the conversation's answer
//! (`chat.reply` in conversation `a2a:<task id>`) ends the task with the answer as its
//! artifact, and each `task.update` of an intention working on it moves it along (see
//! [`super::states`]). Both name their outbox action, so a retried action changes the
//! task once.

use super::{Change, Ledger, LedgerError, Recorded, states};
use crate::bdi::conversation::{Asked, classify};
use crate::model::{EmployeeId, TaskStatus};
use crate::store::TaskUpdate;
use a2a::TaskState;
use serde_json::{Value as Json, json};

impl Ledger {
    /// Employee `me` answered the message of A2A task `task_id` in conversation: the
    /// task is completed with the answer as its artifact — or rejected, saying why, when
    /// the message asked for work that none of the employee's plans (nor a model) took
    /// up, so the caller is never told a request was done when it was not.
    pub async fn answered(
        &self,
        me: EmployeeId,
        task_id: &str,
        text: &str,
        key: &str,
        order: u64,
    ) -> Result<Json, LedgerError> {
        let Some((row, task)) = self.get(task_id).await? else {
            return Err(LedgerError::NotFound(task_id.into()));
        };
        if row.employee_id != me {
            return Err(LedgerError::NotFound(task_id.into()));
        }
        let asked = task
            .history
            .as_ref()
            .and_then(|h| h.first())
            .map(super::message_text)
            .map(|t| classify(&t));
        let (state, status) = if asked == Some(Asked::Request) {
            (TaskState::Rejected, TaskStatus::Failed)
        } else {
            (TaskState::Completed, TaskStatus::Done)
        };
        let line = (state == TaskState::Rejected).then(|| text.to_string());
        let changes = [
            Change::Text {
                name: "answer".into(),
                text: text.into(),
            },
            Change::State(state.clone(), line),
        ];
        let done = self
            .record(task_id, Some(key), Some(order), &changes)
            .await?;
        let (store, tenant) = self.parts();
        let u = TaskUpdate {
            status: Some(status),
            progress: Some(1.0),
            result: Some(text.into()),
            intention: None,
        };
        store.update_task(tenant, task_id, &u, key).await?;
        Ok(json!({
            "task_id": task_id,
            "state": states::name(&state),
            "recorded": matches!(done, Recorded::Stored(_)),
        }))
    }

    /// A `task.update` of A2A task `task_id`: its new status (`waiting` for what it
    /// waits), with `line` for the caller and the result when it ended — its text, and
    /// `more` artifacts (what the intention's last action gave, a document it wrote);
    /// `action` is the update's outbox key and action id.
    #[allow(clippy::too_many_arguments)]
    pub async fn followed(
        &self,
        task_id: &str,
        status: Option<TaskStatus>,
        waiting: Option<&str>,
        line: &str,
        result: Option<&str>,
        more: Vec<Change>,
        action: (&str, u64),
    ) -> Result<(), LedgerError> {
        let (key, order) = action;
        let Some(state) = states::from_update(status, waiting) else {
            return Ok(());
        };
        let line = (!line.trim().is_empty()).then(|| line.trim().to_string());
        let mut changes = Vec::new();
        match state {
            TaskState::Completed => {
                if let Some(r) = result.filter(|r| !r.trim().is_empty()) {
                    changes.push(Change::Text {
                        name: "result".into(),
                        text: r.into(),
                    });
                }
                changes.extend(more);
                changes.push(Change::State(state, line));
            }
            TaskState::Failed => {
                changes.push(Change::State(state, result.map(str::to_string).or(line)));
            }
            s => changes.push(Change::State(s, line)),
        }
        self.record(task_id, Some(key), Some(order), &changes)
            .await?;
        Ok(())
    }
}
