//! Email: compose what an employee writes (new messages and replies that keep the
//! thread's headers), triage what it receives, and the transports that carry mail —
//! the built-in local driver for the embedded default, SMTP and IMAP for a real mail
//! server.
//!
//! A message's Message-ID is derived from the outbox key of the action that sends it,
//! so a send retried after a crash carries the same Message-ID and is stored (and, on
//! the built-in driver, delivered) once.

mod compose;
mod config;
pub mod imap;
mod local;
pub mod mime;
pub mod server;
mod smtp;
mod triage;

pub use compose::{compose, message_id_for};
pub use config::{MailAccount, MailAccounts, MailConfig, MailDriver, Secret, Security};
pub use local::LocalMail;
pub use server::{Logins, MailServer};
pub use smtp::{SmtpMail, wire_message};
pub use triage::{Triage, TriageRule, Triaged};

use super::CapabilityError;
use crate::model::{MailMessage, TenantId};

/// Carries mail out of the node.
#[async_trait::async_trait]
pub trait MailTransport: Send + Sync {
    /// Sends `m` (its `from` is the sending employee). Sending the same Message-ID again
    /// must not deliver it twice.
    async fn send(&self, tenant: &TenantId, m: &MailMessage) -> Result<(), CapabilityError>;

    /// Whether the node itself delivers what this transport sends (the built-in
    /// driver): then the hub hands each copy addressed to an employee to it.
    fn delivers_locally(&self) -> bool;
}
