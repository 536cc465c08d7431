//! The employee's child actors: MemoryActor (records and, later, recalls memory),
//! CapabilityActor (executes actions through the outbox) and A2aActor (talks to other
//! agents). The foundation defines their messages; the memory, capability and A2A
//! issues fill in their work. Each can be made to panic on purpose (a supervision
//! drill) to prove that its supervisor restarts it.

use crate::memory::{Completion, StoreWriter};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use serde::{Deserialize, Serialize};

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
    /// Panic on purpose (supervision drill).
    InjectFault,
}

/// Writes (and later recalls) one employee's memory.
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
            MemoryMsg::InjectFault => panic!("{DRILL_PANIC}"),
        }
        Ok(())
    }
}

/// An action an employee wants done through one of its capabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// Capability, e.g. `email`.
    pub capability: String,
    /// Operation, e.g. `send`.
    pub operation: String,
    /// Its parameters.
    pub params: serde_json::Value,
    /// Key under which the outbox runs it at most once.
    pub idempotency_key: String,
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ActionOutcome {
    /// Done, with its result.
    Done {
        /// What the capability returned.
        result: serde_json::Value,
    },
    /// Tried and failed.
    Failed {
        /// Why.
        reason: String,
    },
    /// This node has no driver for the capability.
    Unsupported {
        /// Which capability is missing.
        capability: String,
    },
}

/// Messages to a CapabilityActor.
pub enum CapabilityMsg {
    /// Execute an action.
    Execute(Box<ActionRequest>, RpcReplyPort<ActionOutcome>),
    /// Panic on purpose (supervision drill).
    InjectFault,
}

/// Executes an employee's actions. This node has no capability drivers yet, so every
/// action is answered `Unsupported`, naming the capability.
pub(crate) struct CapabilityActor;

impl Actor for CapabilityActor {
    type Msg = CapabilityMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<CapabilityMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<CapabilityMsg>,
        msg: CapabilityMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CapabilityMsg::Execute(req, reply) => {
                let _ = reply.send(ActionOutcome::Unsupported {
                    capability: req.capability,
                });
            }
            CapabilityMsg::InjectFault => panic!("{DRILL_PANIC}"),
        }
        Ok(())
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
