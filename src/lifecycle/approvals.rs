//! The approval queue: actions an assisted employee (or a policy) holds for a human.
//! A decision is stored together with the `empla.approval` event that tells the
//! employee (one transaction, so it is neither lost nor told twice); the employee then
//! acts on it or, for a rejection, learns from it.

use crate::capabilities::Hands;
use crate::model::{Approval, ApprovalId, ApprovalStatus, Event, NewEvent, kinds};
use crate::store::StoreError;
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

/// A human approves or rejects a pending approval.
pub async fn decide(
    hands: &Hands,
    id: ApprovalId,
    approved: bool,
    by: &str,
    reason: Option<String>,
) -> Result<Approval, DecideError> {
    let approval = hands
        .store
        .approval(&hands.tenant, id)
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
    let event = Event::accept(hands.tenant.clone(), employee, new, Utc::now());
    hands.employees.wake(employee);
    if !hands
        .store
        .decide_approval(id, approved, by, reason.as_deref(), &event)
        .await?
    {
        // Decided by someone else meanwhile.
        let now = hands.store.approval(&hands.tenant, id).await?;
        return Err(DecideError::AlreadyDecided(
            now.map(|a| a.status).unwrap_or(ApprovalStatus::Pending),
        ));
    }
    hands.employees.deliver(event);
    hands
        .store
        .approval(&hands.tenant, id)
        .await?
        .ok_or(DecideError::NotFound)
}
