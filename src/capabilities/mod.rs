//! The employee's hands, one component each: email, chat, calendar, tasks, and the
//! CRM, documents and research declared ahead of their drivers. Each capability is laid
//! out the same way: its config (its section of the node file), its driver trait with
//! the built-in driver of the embedded default and the real ones (SMTP and IMAP, Slack,
//! CalDAV), its **actions** (declared in the one [`ActionRegistry`], run by its
//! executor), its intake (what it turns into events) and its tests.
//!
//! A capability reaches employees only through the narrow [`Perceive`] port, which the
//! runtime implements; it never imports actors. [`Hands`] is what every action and
//! intake is given: the tenant, the store, the drivers, the registry and that port.
//!
//! An action the node has no driver for is answered `unsupported`, naming the
//! capability; it is recorded, never carried out.

pub mod agents;
pub mod assistant;
pub mod calendar;
pub mod chat;
pub mod crm;
pub mod documents;
pub mod email;
pub(crate) mod language;
pub mod mcp;
pub mod meetings;
mod port;
pub mod product;
pub mod recruiting;
pub mod registry;
pub mod research;
pub mod tasks;
pub mod teams;

pub use port::{Perceive, PerceiveError};
pub use registry::{Act, ActionKind, ActionRegistry, CustomAction, Param, ParamType, RunAction};

use crate::model::{EmployeeId, Manager, TenantId};
use crate::store::Store;
use serde_json::Value as Json;
use std::sync::Arc;

/// The node's hands: what every action and intake works with.
pub struct Hands {
    /// Tenant stamped on every row.
    pub tenant: TenantId,
    /// The store.
    pub store: Store,
    /// Domain of employees' addresses.
    pub domain: String,
    /// The port to the node's employees.
    pub employees: Arc<dyn Perceive>,
    /// Mail: transport, triage, the mail server when there is one.
    pub mail: email::Mail,
    /// Chat: transport, Slack when configured, callers waiting for answers.
    pub chat: chat::Chat,
    /// Calendars: driver, working hours, the booking lock.
    pub calendar: calendar::Calendars,
    /// The CRM: its driver and pipeline.
    pub crm: crm::Crm,
    /// Documents: templates, fonts, the price list.
    pub documents: documents::Documents,
    /// Research: the page reader and the search provider.
    pub research: research::Research,
    /// Every action kind the node knows.
    pub actions: ActionRegistry,
    /// The teams plans name as recipients (`team:<id>`).
    pub teams: std::sync::Arc<teams::Teams>,
    /// Language models (offline when none is configured).
    pub llm: Arc<crate::llm::Llm>,
    /// The MCP servers whose tools are actions (`mcp.SERVER.TOOL`).
    pub mcp: crate::mcp::McpClients,
    /// The A2A tasks agents opened with the node's employees (see [`crate::a2a`]).
    pub a2a: Arc<crate::a2a::Ledger>,
    /// The outside A2A agents employees call (`[a2a.agents]`, or by card URL).
    pub agents: std::sync::Arc<crate::a2a::client::Agents>,
}

impl Hands {
    /// Tells employee `id` a metric's value, as the `metric` event a posted figure is
    /// (`source` says who computed it).
    pub(crate) async fn tell_metric(
        &self,
        id: EmployeeId,
        source: &str,
        metric: &str,
        value: f64,
    ) -> Result<(), PerceiveError> {
        self.employees
            .perceive(
                id,
                crate::model::NewEvent {
                    kind: "metric".into(),
                    source: source.into(),
                    payload: serde_json::json!({"metric": metric, "value": value}),
                    idempotency_key: None,
                },
            )
            .await
            .map(|_| ())
    }

    /// Who an employee is when it writes, and its manager; `None` when it is not in the
    /// store.
    pub async fn sender(
        &self,
        id: EmployeeId,
    ) -> Result<Option<(Sender, Option<Manager>)>, crate::store::StoreError> {
        Ok(self.store.employee(&self.tenant, id).await?.map(|p| {
            (
                Sender {
                    id,
                    name: p.name,
                    email: p.email,
                    handle: p.chat_handle,
                },
                p.manager,
            )
        }))
    }
}

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
