//! Approvals whose work ended before a human decided them: each is closed with the
//! cycle that ended its intention (dropped on reconsideration, failed, its A2A task
//! canceled), so a human deciding it later is told it no longer stands and nothing runs.

use crate::bdi::{Decision, IntentionState, Mind};
use crate::model::{Approval, ApprovalId, EmployeeId};
use chrono::{DateTime, Utc};

/// `(intention, action)` of each intention waiting for a human to approve its action.
pub(crate) fn awaiting(mind: &Mind) -> Vec<(u64, u64)> {
    mind.intentions
        .iter()
        .filter_map(|i| match &i.state {
            IntentionState::AwaitingApproval { action } => Some((i.id, action.id)),
            _ => None,
        })
        .collect()
}

/// The approvals to close after a cycle: of those `before` it awaited, each no longer
/// awaited and not the one decided in it (`decided`), with why its intention ended
/// (from the cycle's `decisions`).
pub(crate) fn approvals(
    mind: &Mind,
    before: Vec<(u64, u64)>,
    decided: Option<u64>,
    decisions: &[Decision],
    employee: EmployeeId,
    now: DateTime<Utc>,
) -> Vec<Approval> {
    let still = awaiting(mind);
    before
        .into_iter()
        .filter(|(_, action)| Some(*action) != decided && !still.iter().any(|(_, a)| a == action))
        .map(|(intention, action)| {
            let why = decisions
                .iter()
                .find_map(|d| match d {
                    Decision::Drop {
                        intention: i,
                        reason,
                        ..
                    }
                    | Decision::Fail {
                        intention: i,
                        reason,
                        ..
                    } if *i == intention => Some(reason.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "the work it was for ended".into());
            let id = ApprovalId::derived(employee, &format!("action:{action}"));
            Approval::withdrawn(id, employee, &why, now)
        })
        .collect()
}
