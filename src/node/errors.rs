//! Why a node could not start, and why what was asked of it was refused: each error
//! names what was wrong and what to do.

use crate::actors::registry::ReachError;
use crate::model::FieldError;
use crate::store::{StoreError, WriteError};

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The memory settings cannot be used (e.g. the embedding provider's key is missing).
    #[error("memory: {0}")]
    Memory(String),
    /// The mail settings cannot be used (e.g. the CA or credentials file).
    #[error("mail: {0}")]
    Mail(String),
    /// The calendar settings cannot be used (e.g. the server URL or credentials file).
    #[error("calendar: {0}")]
    Calendar(String),
    /// The chat settings cannot be used (e.g. the Slack credentials file).
    #[error("chat: {0}")]
    Chat(String),
    /// The OAuth connections could not be set up.
    #[error("{0}")]
    Connections(String),
    /// An actor could not be spawned.
    #[error("could not start the actor tree: {0}")]
    Spawn(String),
    /// A role template's schedule is invalid.
    #[error("role `{role}`: a schedule's cron {error}")]
    Role {
        /// The role id.
        role: String,
        /// What is wrong.
        error: String,
    },
    /// A role template's plans, triggers or policies do not compile.
    #[error("role `{role}`: {errors}")]
    Playbook {
        /// The role id.
        role: String,
        /// Every problem, each naming plan and field.
        errors: String,
    },
    /// A demo employee could not be hired.
    #[error("could not hire demo employee from {file}: {error}")]
    Demo {
        /// The employee file.
        file: String,
        /// Why.
        error: HireError,
    },
    /// The CRM settings cannot be used (e.g. the HubSpot token is not set).
    #[error("crm: {0}")]
    Crm(String),
    /// The documents settings cannot be used (e.g. a template does not compile).
    #[error("documents: {0}")]
    Documents(String),
    /// The language-model settings cannot be used (e.g. the API key is not set).
    #[error("llm: {0}")]
    Llm(String),
    /// An MCP server's settings cannot be used (e.g. its token is not set).
    #[error("mcp: {0}")]
    Mcp(String),
    /// An outside agent's settings cannot be used (e.g. its token is not set).
    #[error("a2a: {0}")]
    A2aAgents(String),
    /// The node cannot join its cluster (or refuses the store's mode).
    #[error("cluster: {0}")]
    Cluster(String),
    /// The demo book of business could not be imported.
    #[error("could not import the demo book of business: {0}")]
    DemoCrm(String),
    /// The demo requisitions could not be opened.
    #[error("could not open the demo requisitions: {0}")]
    DemoRequisitions(String),
}

/// Why a hire was refused.
#[derive(Debug, thiserror::Error)]
pub enum HireError {
    /// No role template of that name.
    #[error("`role` names `{role}`, which has no template; use one of: {known}")]
    UnknownRole {
        /// The role asked for.
        role: String,
        /// The roles this node has, comma-separated.
        known: String,
    },
    /// The request or the resulting profile is invalid.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::capabilities::PerceiveError> for SubmitError {
    fn from(e: crate::capabilities::PerceiveError) -> Self {
        use crate::capabilities::PerceiveError;
        match e {
            PerceiveError::NotFound => SubmitError::Reach(ReachError::NotFound),
            PerceiveError::Offboarded => SubmitError::Reach(ReachError::Offboarded),
            PerceiveError::Write(w) => SubmitError::Write(w),
        }
    }
}

/// Why a request from a human (mail, chat, a task) was refused.
#[derive(Debug, thiserror::Error)]
pub enum HumanError {
    /// The request is invalid; each error names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// No such employee, or it cannot take messages.
    #[error(transparent)]
    Reach(#[from] ReachError),
    /// No such task.
    #[error("no task with that id for this employee")]
    NoTask,
    /// Mail goes through a real mail server, not the built-in driver.
    #[error(
        "this node carries mail through its mail server (mail.driver = \"server\"); write to employees from a mail client"
    )]
    MailServer,
    /// It could not be stored; nothing was accepted.
    #[error("could not be stored: {0}")]
    Store(String),
}

impl From<StoreError> for HumanError {
    fn from(e: StoreError) -> Self {
        HumanError::Store(e.to_string())
    }
}

impl From<SubmitError> for HumanError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Invalid(v) => HumanError::Invalid(v),
            SubmitError::Reach(r) => HumanError::Reach(r),
            SubmitError::Write(w) => HumanError::Store(w.to_string()),
        }
    }
}

/// Why an event was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The event is invalid.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The employee cannot take events.
    #[error(transparent)]
    Reach(#[from] ReachError),
    /// The event could not be stored; it was not accepted.
    #[error(transparent)]
    Write(#[from] WriteError),
}
