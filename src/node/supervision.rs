//! Operators' hands on the runtime through the node: restart an employee (a failed one
//! is started again, any other reloaded from the store), and the events set aside
//! after crashing their employee — listed, retried or dropped.

use super::Node;
use crate::actors::EmployeeRuntime;
use crate::actors::employee::{EmployeeMsg, decode_snapshot, status_of};
use crate::actors::registry::{self, ReachError, RuntimeState};
use crate::model::{EmployeeId, EmployeeStatus, EventId};
use crate::store::{DeadLetter, StoreError};

/// Why a set-aside event could not be retried or dropped.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// No such employee, or it is offboarded.
    #[error(transparent)]
    Reach(#[from] ReachError),
    /// That event is not set aside for this employee.
    #[error(
        "no event with that id is set aside for this employee; `GET /api/v1/employees/{{id}}/dead-letters` lists them"
    )]
    NotFound,
    /// The store failed; nothing changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Node {
    /// Restarts an employee: a failed one is started again from the store; a running
    /// one reloads its state from the store and replays what is unprocessed; an idle
    /// one is activated. Answers where its tree is now.
    pub async fn restart(&self, id: EmployeeId) -> Result<RuntimeState, ReachError> {
        match self.rt.directory.status(id) {
            None => return Err(ReachError::NotFound),
            Some(EmployeeStatus::Offboarded) => return Err(ReachError::Offboarded),
            Some(_) => {}
        }
        if self.rt.directory.unfail(id) {
            tracing::info!(employee = %id, "failed employee restarted by an operator");
        }
        match self.rt.directory.runtime_state(id) {
            Some(RuntimeState::Active | RuntimeState::Passivating) => {
                if let Ok(actor) = registry::live_actor(&self.rt, id).await {
                    let _ = actor.send_message(EmployeeMsg::Reload);
                }
            }
            Some(RuntimeState::Idle) => {
                registry::live_actor(&self.rt, id).await?;
            }
            // Coming up (or back) from the store already.
            _ => {}
        }
        Ok(self
            .rt
            .directory
            .runtime_state(id)
            .unwrap_or(RuntimeState::Idle))
    }

    /// The status of an employee whose tree is not running because it failed, read
    /// from the store, with the events waiting for it.
    pub(super) async fn failed_status(
        &self,
        id: EmployeeId,
    ) -> Result<EmployeeRuntime, ReachError> {
        let unavailable = |e: StoreError| ReachError::Unavailable(e.to_string());
        let (profile, snapshot) = self
            .rt
            .store
            .employee_with_state(&self.rt.tenant, id)
            .await
            .map_err(unavailable)?
            .ok_or(ReachError::NotFound)?;
        let snapshot = decode_snapshot(snapshot.as_deref(), &profile);
        let mut status = status_of(&profile, &snapshot);
        status.state = RuntimeState::Failed;
        status.backlog = Some(
            self.rt
                .store
                .backlog(&self.rt.tenant, id)
                .await
                .map_err(unavailable)?,
        );
        Ok(status)
    }

    /// The employee's events set aside and not dropped, oldest first.
    pub async fn dead_letters(
        &self,
        id: EmployeeId,
        limit: i64,
    ) -> Result<Vec<DeadLetter>, DeadLetterError> {
        self.known(id)?;
        Ok(self
            .rt
            .store
            .dead_letters(&self.rt.tenant, id, limit)
            .await?)
    }

    /// Retries a set-aside event: it is pending again and handed to the employee.
    pub async fn retry_dead_letter(
        &self,
        id: EmployeeId,
        event: EventId,
    ) -> Result<(), DeadLetterError> {
        self.known(id)?;
        registry::wake(&self.rt, id);
        let event = self
            .rt
            .store
            .retry_dead_letter(&self.rt.tenant, id, event)
            .await?
            .ok_or(DeadLetterError::NotFound)?;
        registry::deliver(&self.rt, event);
        Ok(())
    }

    /// Drops a set-aside event: it stays stored, as handled, and is no longer listed.
    pub async fn drop_dead_letter(
        &self,
        id: EmployeeId,
        event: EventId,
    ) -> Result<(), DeadLetterError> {
        self.known(id)?;
        if self
            .rt
            .store
            .drop_dead_letter(&self.rt.tenant, id, event)
            .await?
        {
            Ok(())
        } else {
            Err(DeadLetterError::NotFound)
        }
    }

    /// Sets the backlog gauge of each failed employee (and back to 0 for those no
    /// longer failed), for `/metrics`.
    pub(super) async fn record_failed_backlogs(&self) {
        let failed = self.rt.directory.failed();
        let mut shown = self.failed_shown.lock().await;
        for id in shown.iter().filter(|id| !failed.contains(id)) {
            metrics::gauge!("empla_employee_backlog", "employee" => id.to_string(), "state" => "failed")
                .set(0.0);
        }
        for id in &failed {
            if let Ok(n) = self.rt.store.backlog(&self.rt.tenant, *id).await {
                metrics::gauge!("empla_employee_backlog", "employee" => id.to_string(), "state" => "failed")
                    .set(n as f64);
            }
        }
        *shown = failed;
    }

    fn known(&self, id: EmployeeId) -> Result<(), ReachError> {
        match self.rt.directory.status(id) {
            None => Err(ReachError::NotFound),
            Some(_) => Ok(()),
        }
    }
}
