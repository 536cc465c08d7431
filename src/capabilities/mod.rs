//! The employee's hands. Each capability is a trait with a driver for the embedded
//! default (built into the node, storing what it does) and, where one exists, a real
//! driver (SMTP and IMAP for email, Slack for chat, CalDAV for calendars). Actions
//! reach them through the outbox and the CapabilityActor; a capability never imports
//! actors, and routes nothing itself: it answers what it did, and the node's
//! interaction hub tells the employees concerned.
//!
//! An action the node has no driver for is answered `unsupported`, naming the
//! capability; it is recorded, never carried out.

pub mod calendar;
pub mod chat;
pub mod email;

use serde_json::Value as Json;

/// Who is acting: the employee whose action runs, as its messages are signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    /// Employee id.
    pub id: crate::model::EmployeeId,
    /// Display name.
    pub name: String,
    /// Mail address.
    pub email: String,
    /// Chat handle.
    pub handle: String,
}

impl Sender {
    /// `Name <address>`.
    pub fn mailbox(&self) -> String {
        format!("{} <{}>", self.name, self.email)
    }
}

/// Why a capability could not carry out an action.
#[derive(Debug, thiserror::Error)]
pub enum CapabilityError {
    /// The action's parameters are unusable; running it again will not help.
    #[error("{0}")]
    Invalid(String),
    /// The service failed or could not be reached.
    #[error("{0}")]
    Service(String),
}

impl From<crate::store::StoreError> for CapabilityError {
    fn from(e: crate::store::StoreError) -> Self {
        CapabilityError::Service(format!("the store failed: {e}"))
    }
}

/// `s` with `&`, `<` and `>` written as entities, as XML text and Slack message text
/// need them.
pub(crate) fn escape_markup(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The first 200 characters of `s`: enough of a peer's answer to say what went wrong.
pub(crate) fn excerpt(s: &str) -> String {
    s.chars().take(200).collect()
}

/// The text of a string parameter, if set and not blank.
pub(crate) fn param<'a>(params: &'a Json, key: &str) -> Option<&'a str> {
    params[key]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
