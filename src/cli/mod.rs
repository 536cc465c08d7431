//! The `empla` command line: `empla node` runs a node; the other commands talk to a
//! running node through its HTTP API, with the token from `EMPLA_API_TOKEN` or the
//! node's token file.

/// `println!` for a command's output, through [`out::line`]: a closed standard output
/// is an error (returned with `?`), never a panic.
macro_rules! outln {
    () => {
        $crate::cli::out::line(format_args!(""))?
    };
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))?
    };
}

mod access;
mod actions;
mod approvals;
mod calendar;
mod client;
mod cluster;
mod connections;
mod crm;
mod documents;
mod employees;
mod interaction;
mod mcp;
mod meetings;
mod memory;
mod node;
mod out;
mod product;
mod recruiting;
mod reviews;
mod triage;
mod workflows;

pub use out::{StdoutClosed, is_stdout_closed};

pub use actions::{
    CalendarAction, ConfigAction, EscalationAction, KnowledgeAction, MailAction, TaskAction,
};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// empla: autonomous digital employees.
#[derive(Debug, Parser)]
#[command(name = "empla", version, about, propagate_version = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Where client commands find the node.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// The node's API address.
    #[arg(
        long,
        env = "EMPLA_NODE",
        default_value = "http://127.0.0.1:7700",
        global = true
    )]
    pub node: String,
    /// Node config, to find the token file in its data dir when `EMPLA_API_TOKEN` is unset.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data dir holding the node's token file (overrides the config's).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum Command {
    /// Run a node (the main job).
    Node {
        /// Node config file [default: config/empla.toml if present].
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data dir (overrides `node.data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Listen address (overrides `node.listen`), e.g. 127.0.0.1:7700; port 0 picks a free one.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Hire an employee from a role template.
    ///
    /// The handle (the name other commands take) and the mail address come from the
    /// name: "Riley Quinn" is `riley.quinn`, riley.quinn@<company domain>. When another
    /// employee already has them, the new hire gets the next free number
    /// (`riley.quinn2`), and `hire` says so.
    Hire {
        /// Role template id, e.g. sales_ae.
        #[arg(long)]
        role: String,
        /// Full name, e.g. "Jordan Lee".
        #[arg(long)]
        name: String,
        /// Manager: "Name <email>" for a human, or an employee id or handle.
        #[arg(long)]
        manager: Option<String>,
        /// Team (overrides the role's).
        #[arg(long)]
        team: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// List employees: handle (the name other commands take), name, role, status.
    List {
        /// How many to list.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Show one employee: who it is, whom it reports to, its goals and persona.
    Show {
        /// Employee id or chat handle.
        id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Offboard an employee.
    Offboard {
        /// Employee id or chat handle.
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Send an employee a perception event.
    SendEvent {
        /// Employee id or chat handle.
        id: String,
        /// Event kind, e.g. email.received.
        #[arg(long)]
        kind: String,
        /// Event payload as JSON.
        #[arg(long, default_value = "{}")]
        payload: String,
        /// Event source.
        #[arg(long, default_value = "cli")]
        source: String,
        /// Idempotency key: the same key is accepted once.
        #[arg(long)]
        idempotency_key: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Mail on the node's built-in driver: send, read an inbox.
    Mail {
        /// What to do.
        #[command(subcommand)]
        action: MailAction,
    },
    /// Write to an employee in chat and print its answer.
    Chat {
        /// Employee id or chat handle.
        id: String,
        /// What to say.
        text: String,
        /// Who is writing.
        #[arg(long, env = "EMPLA_USER", default_value = "operator")]
        from: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Tasks: assign, list, show.
    Task {
        /// What to do.
        #[command(subcommand)]
        action: TaskAction,
    },
    /// Calendars: show one, book a meeting, find free times.
    Calendar {
        /// What to do.
        #[command(subcommand)]
        action: CalendarAction,
    },
    /// Serve MCP on stdin/stdout for a running node: its employees as tools
    /// (ask, assign a task, recall, status, approvals), resources and prompts.
    Mcp {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Meetings: hand one's transcript to its employee, read the notes taken from it.
    Meetings {
        /// What to do.
        #[command(subcommand)]
        action: meetings::MeetingsAction,
    },
    /// The CRM: accounts, contacts, deals, activities, CSV imports.
    Crm {
        /// What to do.
        #[command(subcommand)]
        action: crm::CrmAction,
    },
    /// The candidate pipeline: requisitions and candidates (list, show, add, move).
    Recruiting {
        /// What to do.
        #[command(subcommand)]
        action: recruiting::RecruitingAction,
    },
    /// The product backlog: feature requests, their votes, RICE scores and status.
    Product {
        /// What to do.
        #[command(subcommand)]
        action: product::ProductAction,
    },
    /// Documents employees wrote: list them, show one, save one as PDF, DOCX or Markdown.
    Documents {
        /// What to do.
        #[command(subcommand)]
        action: documents::DocumentsAction,
    },
    /// Collaborative workflows: start a run, follow it, list runs.
    Workflow {
        /// What to do.
        #[command(subcommand)]
        action: workflows::WorkflowAction,
    },
    /// Tenants the node serves: create, list, suspend, resume, delete (the node admin's
    /// token).
    Tenant {
        /// What to do.
        #[command(subcommand)]
        action: access::TenantAction,
    },
    /// API tokens of your tenant: create (with a role), list, revoke (an admin token).
    Token {
        /// What to do.
        #[command(subcommand)]
        action: access::TokenAction,
    },
    /// The audit trail: every write to your tenant, who made it, when, through which
    /// face (an admin token).
    Audit {
        /// Only from this time on: RFC 3339 or a date, e.g. 2026-12-01.
        #[arg(long)]
        since: Option<String>,
        /// Only this actor's: a token's name or id (`node-admin` for the node's own).
        #[arg(long)]
        actor: Option<String>,
        /// At most this many entries.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The cluster this node is in: its nodes and leases.
    Cluster {
        /// What to do.
        #[command(subcommand)]
        action: cluster::ClusterAction,
    },
    /// Connect an employee to an outside account (OAuth): prints the URL to open.
    Connect {
        /// The employee's id or handle.
        id: String,
        /// The provider's name in `[oauth.providers]`, e.g. `hubspot`.
        provider: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An employee's connections to outside accounts (never their tokens).
    Connections {
        /// The employee's id or handle.
        id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Revoke an employee's connection at the provider and forget it.
    Disconnect {
        /// The employee's id or handle.
        id: String,
        /// The provider's name.
        provider: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Teams: shared goals' progress, a stand-up now.
    Team {
        /// What to do.
        #[command(subcommand)]
        action: workflows::TeamAction,
    },
    /// Performance reviews: run one now, list them, show one, add a note.
    Review {
        /// What to do.
        #[command(subcommand)]
        action: reviews::ReviewAction,
    },
    /// The executive's mail as their assistant triaged it.
    Triage {
        /// What to do.
        #[command(subcommand)]
        action: triage::TriageAction,
    },
    /// Escalations: list them, decide one.
    Escalation {
        /// What to do.
        #[command(subcommand)]
        action: EscalationAction,
    },
    /// Show an employee's episodes, newest first: one line each with its time (UTC),
    /// kind and summary.
    Episodes {
        /// Employee id or chat handle.
        id: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Show an employee's status: phase, intentions, goals, pending approvals, today.
    Status {
        /// Employee id or chat handle.
        id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Restart an employee: a failed one is started again from the store, a running
    /// one reloads its state from the store and replays what is unprocessed.
    Restart {
        /// Employee id or chat handle.
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Events set aside after crashing their employee again and again: list them, or
    /// retry or drop one.
    DeadLetters {
        /// Employee id or chat handle.
        id: String,
        /// Hand this event to the employee again.
        #[arg(long, value_name = "EVENT_ID", conflicts_with = "drop")]
        retry: Option<String>,
        /// Drop this event: it stays stored, as handled, and is no longer listed.
        #[arg(long, value_name = "EVENT_ID")]
        drop: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// List the approval queue (pending by default).
    Approvals {
        /// Only this employee's (id or chat handle).
        #[arg(long)]
        employee: Option<String>,
        /// pending, approved, rejected or all.
        #[arg(long, default_value = "pending")]
        status: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Approve a pending action or promotion.
    Approve {
        /// Approval id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Reject a pending action or promotion; the employee learns from it.
    Reject {
        /// Approval id.
        id: String,
        /// Why (the employee records it).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Set an employee's onboarding phase: shadow, assisted or autonomous.
    Phase {
        /// Employee id or chat handle.
        id: String,
        /// shadow, assisted or autonomous.
        phase: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Give an employee feedback on its latest action.
    Feedback {
        /// Employee id or chat handle.
        id: String,
        /// 0 (bad) to 1 (good).
        #[arg(long)]
        rating: Option<f64>,
        /// A correction in words, e.g. "too formal".
        #[arg(long)]
        correction: Option<String>,
        /// Praise, a correction or a suggestion in words, e.g. "great job".
        text: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Recall what an employee remembers: full text, vectors and the knowledge graph.
    Recall {
        /// Employee id or chat handle.
        id: String,
        /// What to look for; empty lists episodes by the other filters, newest first.
        #[arg(default_value = "")]
        query: String,
        /// text, vector or hybrid.
        #[arg(long, default_value = "hybrid")]
        mode: String,
        /// Only memories from this on, until now: today, yesterday, "this week", "last
        /// week", "this month", "last month" (from the start of that day, week or month,
        /// UTC), "last 3 days", "2 weeks ago", a duration such as 7d or 24h, a date such
        /// as 2026-11-01 or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Only memories before this: a time or a date (inclusive).
        #[arg(long)]
        until: Option<String>,
        /// Only episodes involving this person (name or address).
        #[arg(long)]
        with: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 10)]
        limit: u32,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Show the facts an employee knows about a subject, and around it.
    Facts {
        /// Employee id or chat handle.
        id: String,
        /// The subject, e.g. "Northwind Traders"; all facts without it.
        subject: Option<String>,
        /// Hops from the subject.
        #[arg(long, default_value_t = 1)]
        depth: u32,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Why did the employee do this? An episode and the chain of what caused it.
    Why {
        /// Employee id or chat handle.
        id: String,
        /// The episode id (from `empla episodes` or `empla recall`).
        episode: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Consolidate a day of an employee's memory now (the node does it nightly).
    Consolidate {
        /// Employee id or chat handle.
        id: String,
        /// The day, e.g. 2026-11-30; yesterday by default.
        #[arg(long)]
        day: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Show how each workflow has fared for each kind of task (procedural memory).
    Procedures {
        /// Employee id or chat handle.
        id: String,
        /// Only this kind of task.
        #[arg(long)]
        task: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Shared knowledge: ingest a directory of documents or publish one.
    Knowledge {
        /// What to do.
        #[command(subcommand)]
        action: KnowledgeAction,
    },
    /// Remove every copy the node holds of a person: memory, mail and its attachments,
    /// chat, tasks, actions and approvals, employees' state, CRM contacts.
    Forget {
        /// A full name, an address, or "Name <address>".
        person: String,
        /// Do it without asking.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Configuration commands.
    Config {
        /// What to do.
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print shell completions.
    Completions {
        /// Shell.
        shell: clap_complete::Shell,
    },
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Node {
            config,
            data_dir,
            listen,
        } => node::run(config, data_dir, listen).await,
        Command::Config {
            action: ConfigAction::Check { config },
        } => node::check(config),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "empla", &mut script);
            out::bytes(&script)?;
            Ok(())
        }
        other => client::run(other).await,
    }
}
