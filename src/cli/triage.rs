//! `empla triage list`: the executive's mail as their assistant triaged it, through
//! the node's API.

use super::NodeArgs;
use super::client::{Client, print, when};
use crate::api::wire::{Items, TriageQuery};
use crate::model::TriagedMail;
use clap::Subcommand;
use serde_json::Value;

/// `empla triage ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum TriageAction {
    /// The executive's mail as the assistant triaged it: urgent first, then by
    /// priority; each with its label, who wrote, the summary and why.
    List {
        /// The assistant's id or handle.
        id: String,
        /// Only this label: urgent, meeting_request, needs_reply or fyi.
        #[arg(long)]
        label: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub(super) async fn run(action: TriageAction) -> anyhow::Result<()> {
    let TriageAction::List {
        id,
        label,
        limit,
        json,
        node,
    } = action;
    let v: Value = Client::new(&node)?
        .get(&format!("/employees/{id}/triage"))
        .query(&TriageQuery { label, limit })
        .answer()
        .await?;
    if json {
        return print(&v);
    }
    let list: Items<TriagedMail> = serde_json::from_value(v)?;
    if list.items.is_empty() {
        outln!(
            "nothing triaged yet: mail to the executive {id} works for appears here once it arrives"
        );
    }
    for t in list.items {
        outln!(
            "{:<15} {:<6} {}  {}\n    {}\n    ({}; {})",
            t.label.describe(),
            t.priority.as_str(),
            when(&t.received_at),
            t.from,
            t.summary,
            t.reason,
            t.message_id
        );
    }
    Ok(())
}
