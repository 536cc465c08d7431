//! Tasks delegated to employees through the node: assigned (stored together with the
//! event that tells the employee, by [`crate::capabilities::tasks::assign`], the one
//! path meeting notes take too), read one by one or listed.

use super::{HumanError, Node};
use crate::actors::registry::ReachError;
use crate::capabilities::tasks::AssignError;
use crate::model::{EmployeeId, NewTask, Task};

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
        let errors = t.validate(chrono::Utc::now());
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
        crate::capabilities::tasks::assign(&self.rt.hands, id, t, None, channel, caller)
            .await
            .map(|(task, _)| task)
            .map_err(|e| match e {
                AssignError::Invalid(errors) => HumanError::Invalid(errors),
                AssignError::Unreachable => ReachError::Offboarded.into(),
                AssignError::Store(e) => e.into(),
            })
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
