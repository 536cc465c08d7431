//! `empla product requests list|show|add|set`: the product backlog, through the node's
//! API.

use super::NodeArgs;
use super::client::{Client, print, read};
use super::crm::list;
use crate::api::wire::{FiledRequest, RequestsQuery};
use crate::capabilities::product::{FeatureRequest, NewRequest, RequestPatch, RequestStatus};
use clap::Subcommand;
use serde_json::Value;

/// `empla product ...`.
#[derive(Debug, Subcommand)]
pub enum ProductAction {
    /// Feature requests: list, show, add, set RICE inputs or status.
    Requests {
        /// What to do.
        #[command(subcommand)]
        action: RequestsAction,
    },
}

/// `empla product requests ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum RequestsAction {
    /// Feature requests, newest first.
    List {
        /// In this status: new, planned, in_progress, shipped, declined.
        #[arg(long)]
        status: Option<String>,
        /// Of this CRM account (id).
        #[arg(long)]
        account: Option<String>,
        /// Come by this channel: mail, chat, task, api.
        #[arg(long)]
        source: Option<String>,
        /// At most this many.
        #[arg(long)]
        limit: Option<i64>,
        /// Skip this many.
        #[arg(long)]
        offset: Option<i64>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One feature request, with its voters and RICE inputs.
    Show {
        /// Its id.
        id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Files a request; one that repeats an open request becomes a vote for it.
    Add {
        /// What is asked for, in a line.
        title: String,
        /// More words on it.
        #[arg(long, default_value = "")]
        description: String,
        /// Who asked: a mail address or chat handle.
        #[arg(long)]
        requester: Option<String>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Sets RICE inputs (the score is worked out again), the status or the title.
    Set {
        /// Its id.
        id: String,
        /// Reach: people a quarter.
        #[arg(long)]
        reach: Option<f64>,
        /// Impact: 0.25, 0.5, 1, 2 or 3.
        #[arg(long)]
        impact: Option<f64>,
        /// Confidence: 0 to 1.
        #[arg(long)]
        confidence: Option<f64>,
        /// Effort: person-months.
        #[arg(long)]
        effort: Option<f64>,
        /// new, planned, in_progress, shipped or declined.
        #[arg(long)]
        status: Option<String>,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// One line for a request: id, status, votes, score, title.
fn line(r: &FeatureRequest) -> String {
    format!(
        "{}  {}  {} vote{}  score {}  {}",
        r.id,
        r.status.as_str(),
        r.votes,
        if r.votes == 1 { "" } else { "s" },
        r.score.map_or("-".into(), |s| s.to_string()),
        r.title
    )
}

fn show(r: &FeatureRequest) -> anyhow::Result<()> {
    outln!("{}", line(r));
    if !r.description.is_empty() {
        outln!("  {}", r.description.replace('\n', "\n  "));
    }
    outln!(
        "  requester: {}  account: {}  source: {}",
        r.requester.as_deref().unwrap_or("-"),
        r.account.as_deref().unwrap_or("-"),
        r.source.as_str()
    );
    outln!("  voters: {}", r.voters.join(", "));
    let n = |v: Option<f64>| v.map_or("-".into(), |x| x.to_string());
    outln!(
        "  RICE: reach {}  impact {}  confidence {}  effort {}",
        n(r.reach),
        n(r.impact),
        n(r.confidence),
        n(r.effort)
    );
    Ok(())
}

pub(super) async fn run(action: ProductAction) -> anyhow::Result<()> {
    let ProductAction::Requests { action } = action;
    match action {
        RequestsAction::List {
            status,
            account,
            source,
            limit,
            offset,
            json,
            node,
        } => {
            let q = RequestsQuery {
                status,
                account,
                source,
                limit,
                offset,
            };
            list(
                &node,
                "/product/requests",
                &q,
                json,
                "feature requests",
                line,
            )
            .await?;
        }
        RequestsAction::Show { id, json, node } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/product/requests/{id}"))
                .answer()
                .await?;
            if json {
                print(&v)?;
            } else {
                show(&read(v)?)?;
            }
        }
        RequestsAction::Add {
            title,
            description,
            requester,
            json,
            node,
        } => {
            let body = NewRequest {
                title,
                description,
                requester,
            };
            let v: Value = Client::new(&node)?
                .post("/product/requests")
                .json(&body)
                .answer()
                .await?;
            if json {
                print(&v)?;
            } else {
                let f: FiledRequest = read(v)?;
                outln!("{}", f.message);
                outln!("{}", line(&f.request));
            }
        }
        RequestsAction::Set {
            id,
            reach,
            impact,
            confidence,
            effort,
            status,
            title,
            json,
            node,
        } => {
            let status = status
                .map(|s| {
                    RequestStatus::parse(&s).ok_or_else(|| {
                        anyhow::anyhow!(
                            "--status must be new, planned, in_progress, shipped or declined, got {s:?}"
                        )
                    })
                })
                .transpose()?;
            let patch = RequestPatch {
                title,
                reach,
                impact,
                confidence,
                effort,
                status,
            };
            let v: Value = Client::new(&node)?
                .patch(&format!("/product/requests/{id}"))
                .json(&patch)
                .answer()
                .await?;
            if json {
                print(&v)?;
            } else {
                show(&read(v)?)?;
            }
        }
    }
    Ok(())
}
