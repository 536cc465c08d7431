//! Chat: what an employee says in a conversation. The built-in local driver of the
//! embedded default keeps conversations in the store, where `empla chat` and
//! `POST /api/v1/employees/{id}/chat` read the answers; the Slack driver posts them
//! with `chat.postMessage` in the employee's thread.

mod config;
pub mod slack;
pub mod slack_events;

use super::CapabilityError;
use crate::model::TenantId;
use crate::store::{ChatMessage, Store};

pub use config::{ChatConfig, ChatDriver, SlackApp, SlackApps};
pub use slack::SlackChat;

/// What an employee is doing, as its chat shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// At work: its actor is running (it perceives, reasons, acts).
    Active,
    /// Passivated: nothing to do until the next event.
    Away,
}

/// What an employee's calendar has it doing now, as its chat status shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occupied {
    /// In a meeting.
    Meeting,
    /// In time kept free for focused work.
    Focus,
}

/// Carries an employee's chat messages.
#[async_trait::async_trait]
pub trait ChatTransport: Send + Sync {
    /// Posts `m` in its conversation.
    async fn post(&self, tenant: &TenantId, m: &ChatMessage) -> Result<(), CapabilityError>;

    /// Shows that the employee with chat handle `handle` is now `activity`, where the
    /// chat has presence. Returns at once (any call runs in the background); the
    /// built-in driver has no presence.
    fn show_activity(&self, _handle: &str, _activity: Activity) {}

    /// Shows that the employee with chat handle `handle` is now in a meeting, focusing,
    /// or neither (`None`), where the chat has a status. Returns at once.
    fn show_occupied(&self, _handle: &str, _occupied: Option<Occupied>) {}

    /// The chat handles whose status follows their calendar (none on the built-in
    /// driver).
    fn with_status(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The built-in chat driver: conversations are stored in the node.
pub struct LocalChat {
    store: Store,
}

impl LocalChat {
    /// A driver storing into `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl ChatTransport for LocalChat {
    async fn post(&self, tenant: &TenantId, m: &ChatMessage) -> Result<(), CapabilityError> {
        self.store.put_chat(tenant, m).await?;
        Ok(())
    }
}
