//! The A2aActor, the employee's A2A child in the actor tree, and what the employee's
//! cycle needs to know of A2A messages. The messages themselves travel durably: an
//! agent's message arrives as an `a2a.message` event in the inbox, and the employee's
//! own `a2a.send` goes through the outbox like any action (see
//! [`crate::capabilities::agents`]); so the actor holds no state of its own and only
//! takes part in supervision.

use super::DRILL_PANIC;
use ractor::{Actor, ActorProcessingErr, ActorRef};

/// Messages to an A2aActor.
pub enum A2aMsg {
    /// Panic on purpose (supervision drill).
    InjectFault,
}

/// The employee's A2A child: supervised with the others, restarted like them.
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
            A2aMsg::InjectFault => panic!("{DRILL_PANIC}"),
        }
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
