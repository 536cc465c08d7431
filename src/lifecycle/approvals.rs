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
    /// It was approved or rejected already: how, and by whom and why, when known.
    #[error("the approval is already {}{}", .0.as_str(), .1.as_deref().map(|w| format!(" ({w})")).unwrap_or_default())]
    AlreadyDecided(ApprovalStatus, Option<String>),
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
        return Err(DecideError::AlreadyDecided(
            approval.status,
            decided_how(&approval),
        ));
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
            now.as_ref().map_or(ApprovalStatus::Pending, |a| a.status),
            now.as_ref().and_then(decided_how),
        ));
    }
    hands.employees.deliver(event);
    hands
        .store
        .approval(&hands.tenant, id)
        .await?
        .ok_or(DecideError::NotFound)
}

/// "by WHO: WHY" of a decided approval (e.g. "by empla: withdrawn: its goal is met").
fn decided_how(a: &Approval) -> Option<String> {
    let by = a.decided_by.as_deref()?;
    Some(match a.decision_reason.as_deref() {
        Some(r) => format!("by {by}: {r}"),
        None => format!("by {by}"),
    })
}
