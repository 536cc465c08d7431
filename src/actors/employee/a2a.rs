//! The A2aActor: talks to other agents for its employee.

use super::DRILL_PANIC;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

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
