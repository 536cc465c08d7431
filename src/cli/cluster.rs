//! `empla cluster status`: the nodes of the cluster a node is in, through its API.

use super::NodeArgs;
use super::client::{Client, print, when};
use crate::node::ClusterView;
use clap::Subcommand;
use serde_json::Value;

/// `empla cluster ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum ClusterAction {
    /// The cluster's nodes (alive or not, the employees each owns, which one does the
    /// once-only work) and its leases.
    Status {
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

pub(super) async fn run(action: ClusterAction) -> anyhow::Result<()> {
    match action {
        ClusterAction::Status { json, node } => {
            let v: Value = Client::new(&node)?.get("/cluster").answer().await?;
            if json {
                return print(&v);
            }
            let c: ClusterView = serde_json::from_value(v)?;
            if !c.enabled {
                outln!("this node is not in a cluster (`[cluster] enabled = false`)");
                return Ok(());
            }
            outln!(
                "{} nodes, {} alive; {} employees: {} held, {} waiting for a node",
                c.nodes.len(),
                c.nodes.iter().filter(|n| n.alive).count(),
                c.leases.total,
                c.leases.held,
                c.leases.orphaned
            );
            for n in &c.nodes {
                let state = match (n.alive, n.stopped_at) {
                    (true, _) => "alive",
                    (false, Some(_)) => "stopped",
                    (false, None) => "dead",
                };
                outln!(
                    "{}{} {:<7} {:>5} employees  {}  v{}  heartbeat {}{}",
                    if n.this_node { "* " } else { "  " },
                    n.id,
                    state,
                    n.employees,
                    n.address,
                    n.version,
                    when(&n.heartbeat_at),
                    if n.runs_chores == Some(true) {
                        "  (does the once-only work)"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
    }
}
