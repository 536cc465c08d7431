//! The employee's child actors: MemoryActor (records and, later, recalls memory),
//! CapabilityActor (executes actions through the outbox) and A2aActor (talks to other
//! agents). The foundation defines their messages; the memory, capability and A2A
//! issues fill in their work. Each can be made to panic on purpose (a supervision
//! drill) to prove that its supervisor restarts it.

use super::runtime::Runtime;
use crate::capabilities::Sender;
use crate::memory::{Completion, StoreWriter};
use crate::model::{EmployeeId, Event, Manager, NewEvent, OutboxEntry};
use chrono::Utc;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Which actor of an employee's tree a drill targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    /// The EmployeeActor itself.
    Employee,
    /// Its MemoryActor.
    Memory,
    /// Its CapabilityActor.
    Capability,
    /// Its A2aActor.
    A2a,
}

/// The panic message of a supervision drill.
pub(crate) const DRILL_PANIC: &str = "supervision drill: panicking on purpose";

/// Messages to a MemoryActor.
pub enum MemoryMsg {
    /// Store what the employee did with one event (group-committed).
    Record(Box<Completion>),
    /// Answer once everything recorded so far is committed.
    Flush(RpcReplyPort<()>),
    /// Once everything recorded so far is committed, hand these outbox actions to the
    /// CapabilityActor: an action never runs before the decision that made it is stored.
    AfterCommit(ActorRef<CapabilityMsg>, Vec<OutboxEntry>),
    /// Panic on purpose (supervision drill).
    InjectFault,
}

/// Writes one employee's memory through the group committer.
pub(crate) struct MemoryActor;

impl Actor for MemoryActor {
    type Msg = MemoryMsg;
    type State = StoreWriter;
    type Arguments = StoreWriter;

    async fn pre_start(
        &self,
        _: ActorRef<MemoryMsg>,
        writer: StoreWriter,
    ) -> Result<StoreWriter, ActorProcessingErr> {
        Ok(writer)
    }

    async fn handle(
        &self,
        _: ActorRef<MemoryMsg>,
        msg: MemoryMsg,
        writer: &mut StoreWriter,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            MemoryMsg::Record(c) => writer.complete(*c).await?,
            MemoryMsg::Flush(reply) => {
                writer.flush().await;
                let _ = reply.send(());
            }
            MemoryMsg::AfterCommit(capability, entries) => {
                // Waiting here would hold up this employee's next records; the flush is
                // queued behind what was recorded, which is all it must follow.
                let writer = writer.clone();
                tokio::spawn(async move {
                    writer.flush().await;
                    let _ = capability.send_message(CapabilityMsg::Run(entries));
                });
            }
            MemoryMsg::InjectFault => panic!("{DRILL_PANIC}"),
        }
        Ok(())
    }
}

/// Messages to a CapabilityActor.
pub enum CapabilityMsg {
    /// Run actions committed to the outbox, in order, each at most once.
    Run(Vec<OutboxEntry>),
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
/// not held up by each mail server round trip in turn. An action already running in
/// this node (handed over again after a restart in the tree) is not started twice.
///
/// The capabilities themselves are reached through the interaction hub; an action
/// whose capability this node has no driver for is answered `unsupported`.
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
            CapabilityMsg::Run(entries) => {
                if state.sender.is_none() {
                    state.sender = super::interaction::sender_of(&state.rt, state.employee)
                        .await
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
                tokio::spawn(async move {
                    run_batch(&rt, employee, &who.0, who.1.as_ref(), entries).await;
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
        if !rt.running.insert(entry.key.clone()) {
            continue; // already running in this node
        }
        let (status, result) = super::interaction::run_action(rt, me, manager, &entry).await;
        metrics::counter!("empla_actions_total", "status" => status.as_str()).increment(1);
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
            Ok(true) => super::registry::deliver(rt, event),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(employee = %employee, action = %entry.key, error = %e, "action outcome not stored; it stays pending and runs again at the next activation");
            }
        }
        rt.running.remove(&entry.key);
    }
}

/// Messages to an A2aActor.
pub enum A2aMsg {
    /// Send a message to another agent (an employee id or an agent card URL).
    Send {
        /// Recipient.
        to: String,
        /// Message body.
        message: serde_json::Value,
        /// Whether it was sent.
        reply: RpcReplyPort<Result<(), String>>,
    },
    /// Panic on purpose (supervision drill).
    InjectFault,
}

/// Talks to other agents for its employee. Until the A2A face exists, sending answers
/// that no route to agents is configured.
pub(crate) struct A2aActor;

impl Actor for A2aActor {
    type Msg = A2aMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<A2aMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<A2aMsg>,
        msg: A2aMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            A2aMsg::Send { to, reply, .. } => {
                let _ = reply.send(Err(format!(
                    "no A2A route to {to} is configured on this node"
                )));
            }
            A2aMsg::InjectFault => panic!("{DRILL_PANIC}"),
        }
        Ok(())
    }
}
