//! Chat: what an employee says in a conversation. The built-in local driver of the
//! embedded default keeps conversations in the store, where `empla chat` and
//! `POST /api/v1/employees/{id}/chat` read the answers; the Slack driver posts them
//! with `chat.postMessage` in the employee's thread.

pub(crate) mod actions;
mod config;
pub(crate) mod intake;
pub mod slack;
pub mod slack_events;

use super::CapabilityError;
use crate::model::TenantId;
use crate::store::{ChatMessage, Store};
use dashmap::DashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;

pub use config::{ChatConfig, ChatDriver, SlackApp, SlackApps};
pub use intake::{SlackAnswer, SlackError};
pub use slack::SlackChat;

/// The node's chat: the transport that carries it (Slack when configured), and the
/// callers waiting for an employee's answer.
pub struct Chat {
    /// Carries employees' messages.
    pub transport: Arc<dyn ChatTransport>,
    /// The Slack driver, when `chat.driver = "slack"` (then also `transport`).
    pub slack: Option<Arc<SlackChat>>,
    /// Chat event id → callers waiting for the employee's answer.
    pub waiting: DashMap<String, Vec<oneshot::Sender<ChatMessage>>>,
}

impl Chat {
    /// The driver `[chat]` names.
    pub fn from_config(cfg: &ChatConfig, data_dir: &Path, store: &Store) -> Result<Chat, String> {
        match cfg.driver {
            ChatDriver::Builtin => Ok(Chat::local(store)),
            ChatDriver::Slack => {
                let slack = Arc::new(SlackChat::from_config(cfg, data_dir, store.clone())?);
                Ok(Chat {
                    transport: slack.clone(),
                    slack: Some(slack),
                    waiting: DashMap::new(),
                })
            }
        }
    }

    /// The built-in driver: conversations kept in the store.
    pub fn local(store: &Store) -> Chat {
        Chat {
            transport: Arc::new(LocalChat::new(store.clone())),
            slack: None,
            waiting: DashMap::new(),
        }
    }
}

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
        // An action retried after a crash finds what it posted before.
        if let Some(action) = &m.action
            && self.store.chat_by_action(tenant, action).await?.is_some()
        {
            return Ok(());
        }
        self.store.put_chat(tenant, m).await?;
        Ok(())
    }
}
