//! The runtime: ractor actors and their messages.
//!
//! ```text
//! NodeSupervisor
//!  ├─ Registry            directory of every hired employee; parent of active trees
//!  │   └─ EmployeeSupervisor (one per active employee)
//!  │       └─ EmployeeActor  owns the employee's state; one message at a time
//!  │           ├─ MemoryActor      records memory (group-committed)
//!  │           ├─ CapabilityActor  executes actions
//!  │           └─ A2aActor         talks to other agents
//!  └─ Scheduler           one cron job per distinct expression, fanned out
//! ```
//!
//! Only this module holds actor refs. Every restart follows one policy
//! ([`supervision::RestartTracker`]).

mod calendar;
mod children;
mod employee;
mod employee_supervisor;
mod escalations;
mod hiring;
mod humans;
mod interaction;
mod mailboxes;
mod memory_face;
mod node;
mod node_supervisor;
mod onboarding;
mod reasoning;
mod registry;
mod runtime;
mod scheduler;
mod slack;
pub mod supervision;
mod tasks;

pub use calendar::{Booked, CalendarError, Moved, Slots};
pub use children::{A2aMsg, CapabilityMsg, FaultTarget, MemoryMsg};
pub use employee::{EmployeeMsg, EmployeeRuntime, Snapshot};
pub use employee_supervisor::SupervisorMsg;
pub use escalations::EscalationError;
pub use humans::{ChatAnswer, HumanError};
pub use memory_face::{MemoryError, Publish};
pub use node::{HireError, Node, NodeError, NodeOptions, SubmitError};
pub use node_supervisor::NodeMsg;
pub use onboarding::DecideError;
pub use reasoning::{AgreementView, DayCounts, GoalView, IntentionView};
pub use registry::{ReachError, RegistryMsg, RuntimeState};
pub use scheduler::SchedulerMsg;
pub use slack::{SlackAnswer, SlackError};
