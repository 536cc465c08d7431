//! A2A 1.0, the agent protocol (server side): other agents reach employees as agents.
//! The wire — JSON-RPC, HTTP+JSON and SSE bindings, the protocol's types and errors — is
//! the A2A project's own crates (`a2a-lf`, `a2a-server-lf`); what is empla's is here:
//! the [`Ledger`] of A2A tasks on the node's store (opened with the employee's inbox
//! event, updated as the employee works, replayed in order to subscribers, surviving
//! restarts), the [`states`] mapping from an employee's work to A2A task states, the
//! agent [`cards`], and the durable [`push`] notifications. The HTTP face that serves
//! them is `api::a2a`; the node's entry points are in `node::a2a`.
//!
//! The [`client`] side: employees call outside agents (`[a2a.agents]`, or a card URL).
//!
//! Never here: anything that reaches an employee's mind. A message becomes an event in
//! the employee's durable inbox, and the employee's own actions (`chat.reply`,
//! `task.update`) report back through the ledger.

pub mod cards;
pub mod client;
mod client_error;
mod config;
mod discovery;
mod follow;
pub mod ledger;
pub mod push;
pub mod states;

pub use config::{A2aConfig, AgentConfig};
pub use ledger::{Change, Ledger, LedgerError, Recorded};

/// The event kind of a message from an agent, in the employee's inbox.
pub const MESSAGE: &str = "a2a.message";
/// The event kind that tells an employee a caller canceled an A2A task.
pub const CANCELED: &str = "a2a.canceled";
/// The agent name of the node's front desk in paths (`/a2a/desk`).
pub const DESK: &str = "desk";
/// The chat conversation an employee answers an A2A message in: `a2a:<task id>`.
pub const CONVERSATION_PREFIX: &str = "a2a:";

/// The text of a message: its text parts, then its data parts as JSON.
pub fn message_text(m: &a2a::Message) -> String {
    use a2a::PartContent;
    m.parts
        .iter()
        .filter_map(|p| match &p.content {
            PartContent::Text(t) => Some(t.clone()),
            PartContent::Data(v) => Some(v.to_string()),
            PartContent::Url(u) => Some(format!("(file at {u})")),
            PartContent::Raw(_) => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}
