//! The CapabilityActor: runs its employee's actions from the outbox through the
//! capabilities, and records each outcome with the event that tells the employee.

use super::DRILL_PANIC;
use crate::actors::runtime::Runtime;
use crate::capabilities::{Act, Sender};
use crate::model::{EmployeeId, Event, Manager, NewEvent, OutboxEntry};
use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde_json::json;
use std::sync::Arc;

/// Messages to a CapabilityActor.
pub enum CapabilityMsg {
    /// Run actions just committed to the outbox, in order, each at most once.
    Run(Vec<OutboxEntry>),
    /// Run actions read back from the outbox as still pending (after a crash or a
    /// restart in the tree); any another run is finishing or has finished are left.
    Resume(Vec<OutboxEntry>),
    /// Panic on purpose (supervision drill).
    InjectFault,
}

/// Executes an employee's actions from the outbox. Each action's outcome is recorded in
/// the outbox together with an `empla.outcome` event for the employee (one
/// transaction), so an outcome is neither lost nor reported twice; an action whose run
/// was cut short by a crash is still pending and runs again, with the same idempotency
/// key for the driver.
///
/// The actions of one cycle run in order; the batches of different cycles run side by
/// side, up to [`ACTIONS_IN_FLIGHT`] at once, so an employee answering many messages is
/// not held up by each mail server round trip in turn.
///
/// One mechanism keeps an action from running twice at once: its claim on the node
/// ([`crate::actors::runtime::Claims`]), taken for a whole batch before its first action
/// starts and released once each outcome is stored. A CapabilityActor started again
/// therefore cannot run what the previous one is still finishing, and actions read back
/// from the store are claimed, then checked still pending. The outcome itself is the
/// one write to an action's outbox state (`Store::finish_action`, only while pending).
///
/// Each action is run by the executor of the node's [`ActionRegistry`]; an action whose
/// capability this node has no driver for is answered `unsupported`.
///
/// [`ActionRegistry`]: crate::capabilities::ActionRegistry
pub(crate) struct CapabilityActor;

/// A CapabilityActor's state: whose actions it runs, and who that employee is when it
/// writes (read at its first action).
pub(crate) struct CapabilityState {
    rt: Arc<Runtime>,
    employee: EmployeeId,
    sender: Option<Arc<(Sender, Option<Manager>)>>,
    slots: Arc<tokio::sync::Semaphore>,
}

/// Batches of one employee's actions running at once.
pub(crate) const ACTIONS_IN_FLIGHT: usize = 16;

impl Actor for CapabilityActor {
    type Msg = CapabilityMsg;
    type State = CapabilityState;
    type Arguments = (Arc<Runtime>, EmployeeId);

    async fn pre_start(
        &self,
        _: ActorRef<CapabilityMsg>,
        (rt, employee): (Arc<Runtime>, EmployeeId),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(CapabilityState {
            rt,
            employee,
            sender: None,
            slots: Arc::new(tokio::sync::Semaphore::new(ACTIONS_IN_FLIGHT)),
        })
    }

    async fn handle(
        &self,
        _: ActorRef<CapabilityMsg>,
        msg: CapabilityMsg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CapabilityMsg::Run(entries) | CapabilityMsg::Resume(entries) if entries.is_empty() => {}
            msg @ (CapabilityMsg::Run(_) | CapabilityMsg::Resume(_)) => {
                let (entries, resumed) = match msg {
                    CapabilityMsg::Run(e) => (e, false),
                    CapabilityMsg::Resume(e) => (e, true),
                    CapabilityMsg::InjectFault => unreachable!("matched above"),
                };
                if state.sender.is_none() {
                    // Boxed: read once per life; inline it would enlarge the loop future.
                    state.sender = Box::pin(state.rt.hands.sender(state.employee))
                        .await
                        .ok()
                        .flatten()
                        .map(Arc::new);
                }
                let Some(who) = state.sender.clone() else {
                    // Not readable now: the actions stay pending and run at the next start.
                    return Err(format!(
                        "employee {} could not be read from the store",
                        state.employee
                    )
                    .into());
                };
                // Wait for a slot here, so a flood of batches queues in the mailbox
                // (bounded) rather than as tasks.
                let slot = state.slots.clone().acquire_owned().await?;
                let rt = state.rt.clone();
                let employee = state.employee;
                let claimed = rt.claims.claim(entries);
                let claimed = if resumed {
                    Box::pin(still_pending(&rt, claimed)).await
                } else {
                    claimed
                };
                tokio::spawn(async move {
                    run_batch(&rt, employee, &who.0, who.1.as_ref(), claimed).await;
                    drop(slot);
                });
            }
            CapabilityMsg::InjectFault => panic!("{DRILL_PANIC}"),
        }
        Ok(())
    }
}

/// Runs one cycle's actions in order, recording each outcome with its event.
async fn run_batch(
    rt: &Arc<Runtime>,
    employee: EmployeeId,
    me: &Sender,
    manager: Option<&Manager>,
    entries: Vec<OutboxEntry>,
) {
    for entry in entries {
        // In a cluster, only while this node's lease of the employee is known valid: a
        // node paused past its lease does nothing for it (its new owner runs the action).
        if !Box::pin(lease_confirmed(rt, employee)).await {
            tracing::warn!(employee = %employee, action = %entry.key, "not run here: the employee's lease is not confirmed (it may have moved to another node); it stays pending");
            metrics::counter!("empla_cluster_actions_withheld_total").increment(1);
            rt.claims.release(&entry.key);
            continue;
        }
        // Words a model writes are written now, just before the action runs.
        let (entry, written_by) =
            match crate::capabilities::language::write(&rt.hands, me, &entry).await {
                Some((written, by)) => (written, Some(by)),
                None => (entry, None),
            };
        let (status, mut result) = rt
            .hands
            .actions
            .execute(&Act {
                hands: &rt.hands,
                me,
                manager,
                entry: &entry,
            })
            .await;
        metrics::counter!("empla_actions_total", "status" => status.as_str()).increment(1);
        if let (Some(by), Some(r)) = (written_by, result.as_object_mut()) {
            r.insert("written_by".into(), json!(by));
        }
        let new = NewEvent {
            kind: super::reasoning::kinds::OUTCOME.into(),
            source: "outbox".into(),
            payload: json!({
                "action_id": entry.action_id,
                "key": entry.key,
                "kind": entry.kind,
                "status": status,
                "result": result,
            }),
            idempotency_key: Some(format!("outcome:{}", entry.key)),
        };
        let event = Event::accept(rt.tenant.clone(), employee, new, Utc::now());
        match rt
            .store
            .finish_action(&entry.key, status, &result, &event)
            .await
        {
            Ok(true) => crate::actors::registry::deliver(rt, event),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(employee = %employee, action = %entry.key, error = %e, "action outcome not stored; it stays pending and runs again at the next activation");
            }
        }
        rt.claims.release(&entry.key);
    }
}

/// Whether this node may act for `employee`: at once outside a cluster or while its
/// lease is known valid; else it waits up to one lease time for a renewal to confirm
/// the lease, and answers false if it moved.
async fn lease_confirmed(rt: &Runtime, employee: EmployeeId) -> bool {
    let Some(c) = &rt.cluster else {
        return true;
    };
    let until = tokio::time::Instant::now() + c.lease_ttl();
    loop {
        if c.may_act(employee) {
            return true;
        }
        if !c.owns(employee) || tokio::time::Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Of actions read back from the store and claimed, those still pending there (an
/// earlier run may have finished them since they were read); the others' claims are
/// released. On a store error all are kept: the executor's own checks stand.
async fn still_pending(rt: &Runtime, entries: Vec<OutboxEntry>) -> Vec<OutboxEntry> {
    if entries.is_empty() {
        return entries;
    }
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    match rt.store.pending_among(&rt.tenant, &keys).await {
        Ok(pending) => entries
            .into_iter()
            .filter(|e| {
                let keep = pending.contains(&e.key);
                if !keep {
                    rt.claims.release(&e.key);
                }
                keep
            })
            .collect(),
        Err(err) => {
            tracing::warn!(error = %err, "could not check which resumed actions are still pending");
            entries
        }
    }
}
