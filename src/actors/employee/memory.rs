//! The MemoryActor: records what its employee did with each event through the group
//! committer, and hands the actions of a cycle to the CapabilityActor only once the
//! decision that made them is stored.

use super::DRILL_PANIC;
use super::capability::CapabilityMsg;
use crate::model::OutboxEntry;
use crate::store::{Completion, StoreWriter};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

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
