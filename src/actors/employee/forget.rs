//! Forgetting a person in an employee's state (`empla forget`): its state snapshot's
//! mind (beliefs, intentions, watched messages — see [`crate::bdi::Mind::forget`]) and,
//! for a running employee, its working memory. A running employee forgets in its own
//! handler and persists the snapshot at once, so what it holds in memory is never
//! written back; the snapshot of one that is not running is rewritten in the store.

use super::{EmployeeState, MemoryMsg, Snapshot, commit, reasoning};
use crate::model::Forgetting;
use std::collections::BTreeSet;

/// Forgets `who` in `snapshot`; `cancelled` are the employee's actions whose approval
/// or outbox row went with them. Answers how many entries went or changed, and the
/// intentions that ended.
fn forget_in_snapshot(
    snapshot: &mut Snapshot,
    who: &Forgetting,
    cancelled: &BTreeSet<u64>,
) -> (usize, BTreeSet<u64>) {
    let Some(mind) = snapshot.mind.as_mut() else {
        return (0, BTreeSet::new());
    };
    let before: BTreeSet<u64> = mind.intentions.iter().map(|i| i.id).collect();
    let n = mind.forget(who, cancelled);
    let after: BTreeSet<u64> = mind.intentions.iter().map(|i| i.id).collect();
    snapshot.outbox.retain(|a| !cancelled.contains(a));
    (n, before.difference(&after).copied().collect())
}

/// Forgets `who` in a stored snapshot (of an employee that is not running): the
/// snapshot to store instead, and how many entries went, or none when nothing changed
/// (or it cannot be read, which is logged).
pub(crate) fn forget_in_stored(
    bytes: &[u8],
    who: &Forgetting,
    cancelled: &BTreeSet<u64>,
) -> Option<(Vec<u8>, usize)> {
    let mut snapshot: Snapshot = match rmp_serde::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "a state snapshot is unreadable; the person could not be forgotten in it");
            return None;
        }
    };
    let outbox = snapshot.outbox.len();
    let (n, _) = forget_in_snapshot(&mut snapshot, who, cancelled);
    if n == 0 && snapshot.outbox.len() == outbox {
        return None;
    }
    Some((
        rmp_serde::to_vec(&snapshot).expect("a snapshot serialises"),
        n,
    ))
}

/// A running employee forgets `who`: what it recorded before is committed first, then
/// its mind and working memory forget, and the snapshot is committed. None when it
/// cannot now (a child is down; it resumes from the store, where the node forgets).
pub(super) async fn forget(
    state: &mut EmployeeState,
    who: &Forgetting,
    cancelled: &BTreeSet<u64>,
) -> Option<usize> {
    if state.suspended || ractor::call!(state.memory, MemoryMsg::Flush).is_err() {
        return None;
    }
    let outbox = state.snapshot.outbox.len();
    let (mut n, ended) = forget_in_snapshot(&mut state.snapshot, who, cancelled);
    n += state.working.forget(&who.person, &ended);
    if n > 0 || state.snapshot.outbox.len() != outbox {
        commit(state, None, reasoning::Recorded::default());
        ractor::call!(state.memory, MemoryMsg::Flush).ok()?;
    }
    tracing::info!(employee = %state.id, forgotten = n, "forgot a person");
    Some(n)
}
