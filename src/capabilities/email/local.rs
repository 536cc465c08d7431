//! The built-in mail driver of the embedded default: every message is delivered inside
//! the node — stored once, with a copy in each recipient's inbox and in the sender's
//! sent folder — so humans and employees can write to each other with no mail server.
//! Humans read their inbox with `empla mail inbox ADDRESS` or
//! `GET /api/v1/mail/inbox?address=`.

use super::MailTransport;
use crate::capabilities::CapabilityError;
use crate::model::{MailMessage, TenantId, bare_address};
use crate::store::{Folder, Store};

/// Delivers mail into the node's store.
pub struct LocalMail {
    store: Store,
}

impl LocalMail {
    /// A driver storing into `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl MailTransport for LocalMail {
    async fn send(&self, tenant: &TenantId, m: &MailMessage) -> Result<(), CapabilityError> {
        let mut copies: Vec<(String, Folder)> = m
            .recipients()
            .into_iter()
            .map(|a| (a, Folder::Inbox))
            .collect();
        copies.push((bare_address(&m.from).to_ascii_lowercase(), Folder::Sent));
        self.store.put_mail(tenant, m, &copies).await?;
        Ok(())
    }

    fn delivers_locally(&self) -> bool {
        true
    }
}
