//! The node's face for humans guiding employees: the approval queue, the onboarding
//! phase, feedback, the mentor's observations, and the outbox. What concerns an
//! employee reaches it as one of the node's own `empla.*` events, through the inbox.

use super::{Node, SubmitError};
use crate::actors::employee::reasoning::kinds;
use crate::actors::registry::{self, RegistryMsg};
use crate::bdi::Phase;
use crate::model::{
    Approval, ApprovalId, ApprovalStatus, EmployeeId, Event, EventId, FieldError, NewEvent,
};
use crate::store::{Accepted, StoreError};
use chrono::Utc;
use serde_json::json;

/// Why an approval could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    /// No approval with that id.
    #[error("no approval with that id")]
    NotFound,
    /// It was approved or rejected already.
    #[error("the approval is already {}", .0.as_str())]
    AlreadyDecided(ApprovalStatus),
    /// The store failed; nothing was decided.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Node {
    /// Tells an employee something through one of the node's own events.
    async fn tell(
        &self,
        id: EmployeeId,
        kind: &str,
        payload: serde_json::Value,
    ) -> Result<Accepted, SubmitError> {
        let new = NewEvent {
            kind: kind.into(),
            source: "api".into(),
            payload,
            idempotency_key: None,
        };
        self.accept(id, new).await
    }

    /// The manager sets the employee's onboarding phase (applied in order with its
    /// events).
    pub async fn set_phase(&self, id: EmployeeId, phase: Phase) -> Result<Accepted, SubmitError> {
        self.tell(id, kinds::PHASE, json!({"phase": phase})).await
    }

    /// Feedback on the employee's latest action: a rating 0..=1, a correction ("too
    /// formal"), and/or praise, a correction or a suggestion in words (`text`, read as
    /// [`crate::bdi::feedback`] reads a chat message; words it does not recognise are
    /// kept as a suggestion).
    pub async fn feedback(
        &self,
        id: EmployeeId,
        rating: Option<f64>,
        correction: Option<String>,
        text: Option<String>,
    ) -> Result<Accepted, SubmitError> {
        let mut errors = Vec::new();
        if let Some(r) = rating {
            crate::model::check_unit(&mut errors, "rating", r);
        }
        let text = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        if rating.is_none()
            && correction.as_deref().is_none_or(|c| c.trim().is_empty())
            && text.is_none()
        {
            errors.push(FieldError::new(
                "rating",
                "give a `rating` from 0 to 1, a `correction` such as \"too formal\", a `text` such as \"great job\", or several",
            ));
        }
        if !errors.is_empty() {
            return Err(SubmitError::Invalid(errors));
        }
        let read = text.as_deref().map(|t| {
            crate::bdi::feedback::read(t).unwrap_or(crate::bdi::feedback::ReadFeedback {
                kind: crate::bdi::feedback::FeedbackKind::Improvement,
                rating: None,
                correction: Some(t.to_string()),
            })
        });
        let rating = rating.or(read.as_ref().and_then(|r| r.rating));
        let correction = correction.or(read.as_ref().and_then(|r| r.correction.clone()));
        let kind = match (&read, rating) {
            (Some(r), _) => r.kind,
            (None, Some(r)) if r >= 0.5 => crate::bdi::feedback::FeedbackKind::Praise,
            _ => crate::bdi::feedback::FeedbackKind::Correction,
        };
        self.tell(
            id,
            kinds::FEEDBACK,
            json!({"rating": rating, "correction": correction, "kind": kind, "text": text}),
        )
        .await
    }

    /// In shadow: what the mentor actually did for an event, scored against what the
    /// employee proposed.
    pub async fn observe(
        &self,
        id: EmployeeId,
        event_id: EventId,
        action: String,
    ) -> Result<Accepted, SubmitError> {
        if action.trim().is_empty() {
            return Err(SubmitError::Invalid(vec![FieldError::new(
                "action",
                "must name the action the mentor took, e.g. `email.send`",
            )]));
        }
        self.tell(
            id,
            kinds::OBSERVATION,
            json!({"event_id": event_id, "action": action}),
        )
        .await
    }

    /// Approvals, oldest first, optionally of one employee and one status.
    pub async fn approvals(
        &self,
        employee: Option<EmployeeId>,
        status: Option<ApprovalStatus>,
        limit: i64,
    ) -> Result<Vec<Approval>, StoreError> {
        self.rt
            .store
            .approvals(&self.rt.tenant, employee, status, limit)
            .await
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
        let approval = self
            .rt
            .store
            .approval(&self.rt.tenant, id)
            .await?
            .ok_or(DecideError::NotFound)?;
        if approval.status != ApprovalStatus::Pending {
            return Err(DecideError::AlreadyDecided(approval.status));
        }
        let employee = approval.employee_id;
        let new = NewEvent {
            kind: kinds::APPROVAL.into(),
            source: "api".into(),
            payload: json!({
                "approval_id": id,
                "action": approval.action,
                "approved": approved,
                "reason": reason,
                "by": by,
            }),
            idempotency_key: Some(format!("approval:{id}")),
        };
        let event = Event::accept(self.rt.tenant.clone(), employee, new, Utc::now());
        if !self
            .rt
            .store
            .decide_approval(id, approved, by, reason.as_deref(), &event)
            .await?
        {
            // Decided by someone else meanwhile.
            let now = self.rt.store.approval(&self.rt.tenant, id).await?;
            return Err(DecideError::AlreadyDecided(
                now.map(|a| a.status).unwrap_or(ApprovalStatus::Pending),
            ));
        }
        registry::deliver(&self.rt, event);
        self.rt
            .store
            .approval(&self.rt.tenant, id)
            .await?
            .ok_or(DecideError::NotFound)
    }

    /// An employee's outbox: actions executed or waiting to run, newest first.
    pub async fn actions(
        &self,
        id: EmployeeId,
        limit: i64,
    ) -> Result<Vec<crate::store::OutboxRecord>, StoreError> {
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
