//! The one narrow port through which a capability tells employees something: resolve an
//! address to an employee, commit an event to its durable inbox, hand over an event a
//! capability committed together with its own rows, and wake an employee that is about
//! to receive one. The runtime implements it; a capability never imports actors.

use crate::model::{EmployeeId, Event, MailMessage, NewEvent};
use crate::store::{Accepted, WriteError};

/// Why an event could not be perceived.
#[derive(Debug, thiserror::Error)]
pub enum PerceiveError {
    /// No employee with that id is hired here.
    #[error("no employee with that id")]
    NotFound,
    /// The employee has been offboarded; it takes no events.
    #[error("the employee has been offboarded")]
    Offboarded,
    /// The event could not be stored; it was not accepted.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// What a capability may ask of the node's employees.
#[async_trait::async_trait]
pub trait Perceive: Send + Sync {
    /// The employee an id, mail address or chat handle names, if one is hired here
    /// (offboarded employees are found by id only).
    fn resolve(&self, key: &str) -> Option<EmployeeId>;

    /// Whether the employee has been offboarded (or is unknown).
    fn offboarded(&self, employee: EmployeeId) -> bool;

    /// Whether the employee is owned by this node (always, outside a cluster): what
    /// watches on its behalf (its mailbox) runs on its owner.
    fn here(&self, _employee: EmployeeId) -> bool {
        true
    }

    /// Commits `event` to the employee's durable inbox and hands it over. Returns once
    /// it is stored; the same idempotency key is accepted once.
    async fn perceive(
        &self,
        employee: EmployeeId,
        event: NewEvent,
    ) -> Result<Accepted, PerceiveError>;

    /// The employee is about to get an event committed together with a capability's
    /// own rows (a decided approval, an outcome): start activating it now.
    fn wake(&self, employee: EmployeeId);

    /// Hands over an event already committed to the inbox.
    fn deliver(&self, event: Event);

    /// A human's reply may decide something the node asked them (an escalation by
    /// mail). Answers whether it did.
    async fn answered(&self, reply: &MailMessage) -> bool;
}
