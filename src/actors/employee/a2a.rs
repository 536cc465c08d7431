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

/// Whether an event of `kind` is conversation the employee answers when no plan takes
/// it up: a chat message, or a message from another agent.
pub(crate) fn converses(kind: &str) -> bool {
    kind == crate::model::kinds::CHAT || kind == crate::a2a::MESSAGE
}

/// The A2A task a cycle's input opens (`a2a.message`) and the one it cancels
/// (`a2a.canceled`).
pub(crate) fn tracked(input: &crate::bdi::Input) -> (Option<String>, Option<String>) {
    let crate::bdi::Input::Event(e) = input else {
        return (None, None);
    };
    let task = || e.payload["task_id"].as_str().map(str::to_string);
    match e.kind.as_str() {
        crate::a2a::MESSAGE => (task(), None),
        crate::a2a::CANCELED => (None, task()),
        _ => (None, None),
    }
}

/// Drops the intentions working on A2A task `canceled` (its caller canceled it).
pub(crate) fn withdraw(
    mind: &mut crate::bdi::Mind,
    canceled: Option<&str>,
) -> Vec<crate::bdi::Decision> {
    let Some(task) = canceled else {
        return Vec::new();
    };
    let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut mind.intentions)
        .into_iter()
        .partition(|i| {
            i.event["kind"] == crate::a2a::MESSAGE && i.event["payload"]["task_id"] == task
        });
    mind.intentions = kept;
    gone.into_iter()
        .map(|i| crate::bdi::Decision::Drop {
            intention: i.id,
            plan: i.plan,
            reason: "the agent that asked for it canceled the task".into(),
        })
        .collect()
}
