//! Chat: what an employee says in a conversation. The built-in local driver of the
//! embedded default keeps conversations in the store, where `empla chat` and
//! `POST /api/v1/employees/{id}/chat` read the answers; the Slack driver posts them
//! with `chat.postMessage` in the employee's thread.

use super::CapabilityError;
use crate::memory::{ChatMessage, Store};
use crate::model::TenantId;

/// Carries an employee's chat messages.
#[async_trait::async_trait]
pub trait ChatTransport: Send + Sync {
    /// Posts `m` in its conversation.
    async fn post(&self, tenant: &TenantId, m: &ChatMessage) -> Result<(), CapabilityError>;
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
