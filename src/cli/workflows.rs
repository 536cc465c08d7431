//! `empla workflow start|status|list` and `empla team show|standup`: collaborative
//! workflows and teams, through the node's API.

use super::NodeArgs;
use super::client::{Client, print, when};
use crate::api::wire::{Items, RunsQuery, StandupBody, StartRunBody};
use crate::model::{StepStatus, WorkflowRun};
use crate::node::{StandupUpdate, TeamView};
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;

/// `empla workflow ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum WorkflowAction {
    /// Start a run of a workflow; its first steps are assigned to employees at once.
    Start {
        /// The workflow (its file name in config/workflows, without `.toml`).
        name: String,
        /// An input, `name=value`; repeat for each.
        #[arg(long = "input", value_name = "NAME=VALUE")]
        inputs: Vec<String>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One run: each step's state, who has it, and the progress.
    Status {
        /// The run's id.
        run: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Runs, newest first.
    List {
        /// running, completed, failed or all.
        #[arg(long)]
        status: Option<String>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla team ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum TeamAction {
    /// A team with its shared goals' progress.
    Show {
        /// The team's id (`sales`).
        id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Hold the team's stand-up now: each member's update posted and remembered.
    Standup {
        /// The team's id.
        id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// A run in words.
fn describe(r: &WorkflowRun) -> String {
    let mut t = format!(
        "run {} of {} ({}): {} — {} of {} steps done, started {} by {}\n",
        r.id,
        r.workflow,
        r.name,
        r.status.as_str(),
        r.progress.done,
        r.progress.total,
        when(&r.created_at),
        r.started_by
    );
    if let Some(e) = &r.error {
        t.push_str(&format!("failed: {e}\n"));
    }
    for s in &r.steps {
        let state = match (s.status, s.stuck) {
            (StepStatus::Assigned, true) => "stuck".to_string(),
            (st, _) => st.as_str().to_string(),
        };
        let who = s.employee_id.map(|e| format!(" → {e}")).unwrap_or_default();
        t.push_str(&format!("  {:<10} {:<9}{who}  {}\n", s.id, state, s.title));
        if let Some(r) = &s.result {
            t.push_str(&format!(
                "             {}\n",
                r.lines().next().unwrap_or("")
            ));
        }
    }
    t
}

fn inputs(pairs: &[String]) -> anyhow::Result<Value> {
    let mut m = serde_json::Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("--input {p:?}: write it as name=value"))?;
        m.insert(k.trim().to_string(), Value::String(v.to_string()));
    }
    Ok(Value::Object(m))
}

pub(super) async fn run(action: WorkflowAction) -> anyhow::Result<()> {
    match action {
        WorkflowAction::Start {
            name,
            inputs: given,
            json,
            node,
        } => {
            let v: Value = Client::new(&node)?
                .post(&format!("/workflows/{name}/runs"))
                .json(&StartRunBody {
                    inputs: inputs(&given)?,
                    by: Some("cli".into()),
                })
                .answer()
                .await?;
            show(&v, json)
        }
        WorkflowAction::Status { run, json, node } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/workflows/runs/{run}"))
                .answer()
                .await?;
            show(&v, json)
        }
        WorkflowAction::List { status, json, node } => {
            let v: Value = Client::new(&node)?
                .get("/workflows/runs")
                .query(&RunsQuery {
                    status,
                    limit: None,
                })
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let list: Items<WorkflowRun> = serde_json::from_value(v)?;
            if list.items.is_empty() {
                outln!("no workflow runs; `empla workflow start <name>` starts one");
            }
            for r in list.items {
                outln!(
                    "{}  {:<20} {:<9} {}/{} steps  {}",
                    r.id,
                    r.workflow,
                    r.status.as_str(),
                    r.progress.done,
                    r.progress.total,
                    when(&r.created_at)
                );
            }
            Ok(())
        }
    }
}

pub(super) async fn team(action: TeamAction) -> anyhow::Result<()> {
    match action {
        TeamAction::Show { id, json, node } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/teams/{id}"))
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let t: TeamView = serde_json::from_value(v)?;
            outln!(
                "{} ({}) — {} members, channel {}, stand-up {}",
                t.name,
                t.id,
                t.members.len(),
                t.channel.as_deref().unwrap_or("-"),
                t.standup.as_deref().unwrap_or("none")
            );
            for g in &t.goals {
                outln!(
                    "  goal {}: {} of {} {} ({:.0}%)",
                    g.id,
                    g.current,
                    g.target,
                    g.metric,
                    g.progress * 100.0
                );
                for c in &g.contributions {
                    outln!(
                        "    {:<20} {}",
                        c.employee,
                        c.current.map_or("-".into(), |v| v.to_string())
                    );
                }
            }
            Ok(())
        }
        TeamAction::Standup { id, json, node } => {
            let v: Value = Client::new(&node)?
                .post(&format!("/teams/{id}/standup"))
                .json(&StandupBody::default())
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let list: Items<StandupUpdate> = serde_json::from_value(v)?;
            for u in list.items {
                outln!(
                    "{}{}",
                    u.text,
                    if u.posted { "" } else { "\n(posted before)" }
                );
                outln!();
            }
            Ok(())
        }
    }
}

fn show(v: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        return print(v);
    }
    let r: WorkflowRun = serde_json::from_value(v.clone())?;
    outln!("{}", describe(&r).trim_end());
    Ok(())
}
