//! The node's face for humans guiding employees: the approval queue, the onboarding
//! phase, feedback, the mentor's observations, and the outbox.

use super::{Node, SubmitError};
use crate::actors::registry::RegistryMsg;
use crate::bdi::Phase;
use crate::lifecycle::approvals::{self, DecideError};
use crate::lifecycle::onboarding;
use crate::model::{Approval, ApprovalId, ApprovalStatus, EmployeeId, EventId};
use crate::store::{Accepted, OutboxRecord, StoreError};

impl Node {
    /// The manager sets the employee's onboarding phase (applied in order with its
    /// events).
    pub async fn set_phase(&self, id: EmployeeId, phase: Phase) -> Result<Accepted, SubmitError> {
        self.accept(id, onboarding::phase(phase)).await
    }

    /// Feedback on the employee's latest action (see [`onboarding::feedback`]).
    pub async fn feedback(
        &self,
        id: EmployeeId,
        rating: Option<f64>,
        correction: Option<String>,
        text: Option<String>,
    ) -> Result<Accepted, SubmitError> {
        let event = onboarding::feedback(rating, correction, text).map_err(SubmitError::Invalid)?;
        self.accept(id, event).await
    }

    /// In shadow: what the mentor actually did for an event, scored against what the
    /// employee proposed.
    pub async fn observe(
        &self,
        id: EmployeeId,
        event_id: EventId,
        action: String,
    ) -> Result<Accepted, SubmitError> {
        let event = onboarding::observation(event_id, &action).map_err(SubmitError::Invalid)?;
        self.accept(id, event).await
    }

    /// Approvals, oldest first, optionally of one employee and one status.
    pub async fn approvals(
        &self,
        employee: Option<EmployeeId>,
        status: Option<ApprovalStatus>,
        limit: i64,
    ) -> Result<Vec<Approval>, StoreError> {
        let mut list = self
            .rt
            .store
            .approvals(&self.rt.tenant, employee, status, limit)
            .await?;
        // Worked out for what still waits for a decision (a decided mail's recipients
        // are in its outcome).
        for a in list
            .iter_mut()
            .filter(|a| a.status == ApprovalStatus::Pending)
        {
            a.recipients = crate::capabilities::email::final_recipients(&self.rt.hands, a).await?;
        }
        Ok(list)
    }

    /// A human approves or rejects a pending approval. The decision and the event that
    /// tells the employee are stored together; the employee then acts on it (or, for a
    /// rejection, learns from it).
    pub async fn decide(
        &self,
        id: ApprovalId,
        approved: bool,
        by: &str,
        reason: Option<String>,
    ) -> Result<Approval, DecideError> {
        approvals::decide(&self.rt.hands, id, approved, by, reason).await
    }

    /// An employee's outbox: actions executed or waiting to run, newest first.
    pub async fn actions(
        &self,
        id: EmployeeId,
        limit: i64,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        self.rt.store.actions(&self.rt.tenant, id, limit).await
    }

    /// Asks every active employee to reason now if its last cycle is older than
    /// `reflection_interval` (the Registry does this on its own twice per interval).
    pub fn reflect(&self) {
        if let Some(cell) = self.rt.registry_cell() {
            let _ = cell.send_message(RegistryMsg::Reflect);
        }
    }
}
