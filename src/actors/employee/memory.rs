//! The MemoryActor: records what its employee did with each event through the group
//! committer, and tells the employee how each record went: once the rows that decided
//! a cycle's actions are committed, the employee hands those actions on to run; if
//! they could not be stored, the employee fails visibly and resumes from the store.

use super::{DRILL_PANIC, EmployeeMsg};
use crate::model::OutboxEntry;
use crate::store::{Completion, StoreWriter, WriteError};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

/// Messages to a MemoryActor.
pub enum MemoryMsg {
    /// Store what the employee did with one event (group-committed); its actions run
    /// only once that is committed.
    Record(Box<Completion>, Vec<OutboxEntry>),
    /// Answer once everything recorded so far is committed (or failed).
    Flush(RpcReplyPort<()>),
    /// Panic on purpose (supervision drill).
    InjectFault,
}

/// Writes one employee's memory through the group committer.
pub(crate) struct MemoryActor;

/// A MemoryActor's state: the group committer and the employee it reports to.
pub(crate) struct MemoryState {
    writer: StoreWriter,
    employee: ActorRef<EmployeeMsg>,
}

impl Actor for MemoryActor {
    type Msg = MemoryMsg;
    type State = MemoryState;
    type Arguments = (StoreWriter, ActorRef<EmployeeMsg>);

    async fn pre_start(
        &self,
        _: ActorRef<MemoryMsg>,
        (writer, employee): (StoreWriter, ActorRef<EmployeeMsg>),
    ) -> Result<MemoryState, ActorProcessingErr> {
        Ok(MemoryState { writer, employee })
    }

    async fn handle(
        &self,
        _: ActorRef<MemoryMsg>,
        msg: MemoryMsg,
        state: &mut MemoryState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            MemoryMsg::Record(c, actions) => {
                let employee = state.employee.clone();
                let event = c.event_id;
                let told = Box::new(
                    move |r: Result<(), std::sync::Arc<crate::store::StoreError>>| match r {
                        Ok(()) if actions.is_empty() => {}
                        Ok(()) => {
                            let _ = employee.send_message(EmployeeMsg::Committed(actions));
                        }
                        Err(e) if matches!(*e, crate::store::StoreError::Fenced(_)) => {
                            let _ = employee.send_message(EmployeeMsg::Moved);
                        }
                        Err(e) => {
                            let _ = employee.send_message(EmployeeMsg::CommitFailed {
                                event,
                                error: e.to_string(),
                            });
                        }
                    },
                );
                match state.writer.complete(*c, Some(told)).await {
                    // Refused writes were told through the callback.
                    Ok(()) | Err(WriteError::TooLarge { .. } | WriteError::Store(_)) => {}
                    Err(e @ WriteError::Closed) => return Err(e.into()),
                }
            }
            MemoryMsg::Flush(reply) => {
                // Boxed: rare, and its future is larger than the recording path's.
                Box::pin(state.writer.flush()).await;
                let _ = reply.send(());
            }
            MemoryMsg::InjectFault => panic!("{DRILL_PANIC}"),
        }
        Ok(())
    }
}
