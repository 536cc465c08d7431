//! The runtime: ractor actors and their messages, and only those.
//!
//! ```text
//! NodeSupervisor
//!  ├─ Registry            directory of every hired employee; parent of active trees
//!  │   └─ EmployeeSupervisor (one per active employee)
//!  │       └─ EmployeeActor  owns the employee's state; one message at a time
//!  │           ├─ MemoryActor      records memory (group-committed)
//!  │           ├─ CapabilityActor  executes actions
//!  │           └─ A2aActor         (A2A messages travel by inbox and outbox)
//!  └─ Scheduler           one cron job per distinct expression, fanned out
//! ```
//!
//! Only this module and [`crate::node`] hold actor refs. Every restart follows one
//! policy ([`supervision::RestartTracker`]).

mod config;
pub(crate) mod employee;
pub(crate) mod employee_supervisor;
pub(crate) mod node_supervisor;
pub(crate) mod registry;
pub(crate) mod runtime;
pub(crate) mod scheduler;
pub mod supervision;

pub use config::RuntimeConfig;
pub use employee::{
    A2aMsg, AgreementView, CapabilityMsg, DayCounts, EmployeeMsg, EmployeeRuntime, FaultTarget,
    GoalView, IntentionView, MemoryMsg, Snapshot,
};
pub use employee_supervisor::SupervisorMsg;
pub use node_supervisor::NodeMsg;
pub use registry::{ReachError, RegistryMsg, RuntimeState};
pub use scheduler::SchedulerMsg;
