//! Email: compose what an employee writes (new messages and replies that keep the
//! thread's headers), triage what it receives, and the transports that carry mail —
//! the built-in local driver for the embedded default, SMTP and IMAP for a real mail
//! server.
//!
//! A message's Message-ID is derived from the outbox key of the action that sends it,
//! so a send retried after a crash carries the same Message-ID and is stored (and, on
//! the built-in driver, delivered) once.

pub(crate) mod actions;
pub(crate) mod bridge;
mod compose;
mod config;
pub mod imap;
pub(crate) mod intake;
mod local;
pub mod mime;
pub mod server;
mod smtp;
mod triage;

pub use actions::final_recipients;
pub use compose::{compose, message_id_for};
pub use config::{MailAccount, MailAccounts, MailConfig, MailDriver, Secret, Security};
pub use local::LocalMail;
pub use server::{Logins, MailServer};
pub use smtp::{SmtpMail, wire_message};
pub use triage::{Triage, TriageRule, Triaged};
pub(crate) use triage::{contains_words, own_words};

use super::CapabilityError;
use crate::model::{MailMessage, TenantId};
use crate::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The node's mail: the transport that carries it, each role's triage, and — with a
/// real mail server — that server and how its mailboxes are read.
pub struct Mail {
    /// Carries mail out (built-in, or SMTP).
    pub transport: Arc<dyn MailTransport>,
    /// The mail server, when `mail.driver = "server"` (its IMAP mailboxes are watched).
    pub server: Option<Arc<MailServer>>,
    /// How mailboxes are read and attachments kept.
    pub intake: IntakeSettings,
    triage: BTreeMap<String, Arc<Triage>>,
    default_triage: Arc<Triage>,
}

/// How inbound mail is taken in.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// Poll interval without IDLE, longest IDLE, and how often logins are re-read.
    pub poll_every: Duration,
    /// Attachments over this are recorded, not kept.
    pub attachment_max: u64,
    /// Where attachments are kept.
    pub attachments_dir: PathBuf,
    /// Where a message that cannot be taken in is moved.
    pub park_folder: String,
    /// Tries before it is.
    pub park_after: u32,
}

impl Mail {
    /// The driver `[mail]` names, with each role's triage rules (role id → rules).
    pub fn from_config(
        cfg: &MailConfig,
        data_dir: &Path,
        store: &Store,
        triage: BTreeMap<String, Vec<TriageRule>>,
    ) -> Result<Mail, String> {
        let (transport, server): (Arc<dyn MailTransport>, _) = match cfg.driver {
            MailDriver::Builtin => (Arc::new(LocalMail::new(store.clone())), None),
            MailDriver::Server => {
                let server = Arc::new(MailServer::from_config(cfg, data_dir)?);
                if server.logins.all().is_empty() {
                    tracing::warn!(
                        "mail.driver is \"server\" but the credentials file has no logins yet; employees neither send nor receive until it does"
                    );
                }
                (
                    Arc::new(SmtpMail::new(server.clone(), store.clone())),
                    Some(server),
                )
            }
        };
        let mut mail = Mail::new(transport, triage);
        mail.server = server;
        mail.intake = IntakeSettings {
            poll_every: cfg.poll_every,
            attachment_max: cfg.attachment_max_bytes,
            attachments_dir: data_dir.join("attachments"),
            park_folder: cfg.park_folder.clone(),
            park_after: cfg.park_after,
        };
        Ok(mail)
    }

    /// Mail carried by `transport`, with each role's triage rules.
    pub fn new(
        transport: Arc<dyn MailTransport>,
        triage: BTreeMap<String, Vec<TriageRule>>,
    ) -> Mail {
        Mail {
            transport,
            server: None,
            intake: IntakeSettings {
                poll_every: Duration::from_secs(30),
                attachment_max: 10 * 1024 * 1024,
                attachments_dir: PathBuf::from("data/attachments"),
                park_folder: "Parked".into(),
                park_after: 5,
            },
            triage: triage
                .into_iter()
                .map(|(role, rules)| (role, Arc::new(Triage::new(&rules))))
                .collect(),
            default_triage: Arc::new(Triage::new(&[])),
        }
    }

    /// The triage of `role` (the node's defaults for a role without rules).
    pub fn triage(&self, role: &str) -> &Triage {
        self.triage.get(role).unwrap_or(&self.default_triage)
    }
}

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
