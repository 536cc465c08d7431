//! The actions of the commands that have several (`empla mail send`, `empla task
//! assign`, `empla calendar book`, ...).

use super::NodeArgs;
use clap::Subcommand;
use std::path::PathBuf;

/// `empla knowledge ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)]
pub enum KnowledgeAction {
    /// Publish every Markdown and text file under a directory (again: replaced).
    Ingest {
        /// The directory.
        dir: PathBuf,
        /// private, team or company.
        #[arg(long, default_value = "company")]
        visibility: String,
        /// The publishing employee (needed for private and team).
        #[arg(long)]
        employee: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Publish one piece of knowledge.
    Publish {
        /// Title.
        #[arg(long)]
        title: String,
        /// The text; `-` reads it from standard input.
        text: String,
        /// private, team or company.
        #[arg(long, default_value = "company")]
        visibility: String,
        /// The publishing employee (needed for private and team).
        #[arg(long)]
        employee: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla mail ...` (the node's built-in mail driver).
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum MailAction {
    /// Send a message, e.g. to an employee's address.
    Send {
        /// Sender: an address or "Name <address>".
        #[arg(long)]
        from: String,
        /// Recipients, comma-separated.
        #[arg(long)]
        to: String,
        /// Subject.
        #[arg(long, default_value = "")]
        subject: String,
        /// Body; `-` reads it from standard input.
        #[arg(long, default_value = "")]
        body: String,
        /// The Message-ID this answers.
        #[arg(long)]
        in_reply_to: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Read an address's inbox, newest first.
    Inbox {
        /// The address, e.g. alex.morgan@example.com.
        address: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla task ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum TaskAction {
    /// Delegate a task to an employee.
    Assign {
        /// Employee id or chat handle.
        id: String,
        /// What to do.
        description: String,
        /// low, medium or high.
        #[arg(long)]
        priority: Option<String>,
        /// Deadline: an RFC 3339 time or a date (end of that day, UTC).
        #[arg(long)]
        deadline: Option<String>,
        /// Who asks (updates go back to them): "Name <address>", an address or a handle.
        #[arg(long)]
        requester: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An employee's tasks, newest first.
    List {
        /// Employee id or chat handle.
        id: String,
        /// Only tasks not ended.
        #[arg(long)]
        open: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One task.
    Show {
        /// Employee id or chat handle.
        id: String,
        /// Task id.
        task: String,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla calendar ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum CalendarAction {
    /// A calendar's meetings, by start (the next 7 days unless --from/--to).
    Show {
        /// An employee (id, address or handle) or a mail address.
        owner: String,
        /// From: an RFC 3339 time or a date.
        #[arg(long)]
        from: Option<String>,
        /// Until: an RFC 3339 time or a date.
        #[arg(long)]
        to: Option<String>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Book a meeting with the employee as organiser (the best free time unless --start).
    Book {
        /// Employee id or chat handle.
        id: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// An attendee's address (repeat for more).
        #[arg(long)]
        attendee: Vec<String>,
        /// Start: an RFC 3339 time.
        #[arg(long)]
        start: Option<String>,
        /// Length in minutes.
        #[arg(long, default_value_t = 30)]
        duration: i64,
        /// low, medium or high.
        #[arg(long)]
        priority: Option<String>,
        /// Agenda.
        #[arg(long)]
        description: Option<String>,
        /// Only within these hours of the day, e.g. 13:00-17:00 (the employee's time zone).
        #[arg(long)]
        between: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The best times everyone is free within their working hours.
    Slots {
        /// An employee or an address (repeat for more).
        #[arg(long, required = true)]
        attendee: Vec<String>,
        /// Length in minutes.
        #[arg(long, default_value_t = 30)]
        duration: i64,
        /// How many days ahead to look.
        #[arg(long, default_value_t = 7)]
        within_days: i64,
        /// How many times to offer.
        #[arg(long, default_value_t = 3)]
        count: usize,
        /// Not before: an RFC 3339 time or a date.
        #[arg(long)]
        after: Option<String>,
        /// Only within these hours of the day, e.g. 13:00-17:00 (the first attendee's
        /// time zone).
        #[arg(long)]
        between: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla escalation ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum EscalationAction {
    /// Escalations, newest first (pending by default).
    List {
        /// Only this employee's (id or chat handle).
        #[arg(long)]
        employee: Option<String>,
        /// pending, decided or all.
        #[arg(long, default_value = "pending")]
        status: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Decide an escalation: approve or reject; the employee acts on it and decides the
    /// next case of the same kind alike.
    Decide {
        /// Escalation id.
        id: String,
        /// approve or reject.
        decision: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Validate the node config, role templates and employee specs.
    Check {
        /// Node config file [default: config/empla.toml].
        #[arg(long)]
        config: Option<PathBuf>,
    },
}
