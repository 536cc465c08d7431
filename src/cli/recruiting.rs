//! `empla recruiting requisitions|candidates list|show|add` (and `candidates move`),
//! through the node's API, mirroring `empla crm`.

use super::NodeArgs;
use super::client::{Client, print};
use super::crm::list;
use crate::api::wire::{CandidatesQuery, RequisitionsQuery};
use crate::capabilities::recruiting::{
    Candidate, NewCandidate, NewRequisition, Requirement, Requisition, StageMove,
};
use clap::Subcommand;
use serde_json::Value;

/// `empla recruiting ...`.
#[derive(Debug, Subcommand)]
pub enum RecruitingAction {
    /// Requisitions: the positions being hired for.
    Requisitions {
        /// What to do.
        #[command(subcommand)]
        action: RequisitionsAction,
    },
    /// Candidates: the people in the pipeline.
    Candidates {
        /// What to do.
        #[command(subcommand)]
        action: CandidatesAction,
    },
}

/// `empla recruiting requisitions ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum RequisitionsAction {
    /// Requisitions, newest first.
    List {
        /// `open` or `closed`.
        #[arg(long)]
        status: Option<String>,
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
    /// One requisition, as JSON.
    Show {
        /// Its id.
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Opens a requisition.
    Add {
        /// Job title.
        #[arg(long)]
        title: String,
        /// Who hires: a mail address.
        #[arg(long)]
        hiring_manager: String,
        /// A requirement as `TEXT[:WEIGHT][:must]`, e.g. `Rust:3:must`; repeat it.
        #[arg(long = "requirement", required = true)]
        requirements: Vec<String>,
        /// The team that interviews (id).
        #[arg(long)]
        panel: Option<String>,
        /// The screening score (0..1) an interview needs.
        #[arg(long)]
        pass_score: Option<f64>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `empla recruiting candidates ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum CandidatesAction {
    /// Candidates, newest first.
    List {
        /// For this requisition (id).
        #[arg(long)]
        requisition: Option<String>,
        /// In this stage.
        #[arg(long)]
        stage: Option<String>,
        /// From this source: application, sourcing or referral.
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
    /// One candidate with their history, interviews and feedback, as JSON.
    Show {
        /// Their id.
        id: String,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Adds a candidate to an open requisition.
    Add {
        /// Full name.
        #[arg(long)]
        name: String,
        /// Mail address.
        #[arg(long)]
        email: String,
        /// The requisition (id).
        #[arg(long)]
        requisition: String,
        /// application, sourcing or referral (default referral).
        #[arg(long)]
        source: Option<String>,
        /// The employee (id or handle) who handles them and writes to them.
        #[arg(long)]
        recruiter: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Moves a candidate to another stage; their recruiter tells them.
    Move {
        /// Their id.
        id: String,
        /// The stage to move to.
        #[arg(long)]
        stage: String,
        /// Why, in a sentence the candidate may read.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// A requirement from `TEXT[:WEIGHT][:must]`.
fn requirement(spec: &str) -> anyhow::Result<Requirement> {
    let mut parts: Vec<&str> = spec.split(':').map(str::trim).collect();
    let must_have = parts.last() == Some(&"must");
    if must_have {
        parts.pop();
    }
    let (text, weight) = match parts[..] {
        [text] => (text, 1.0),
        [text, w] => (
            text,
            w.parse::<f64>().map_err(|_| {
                anyhow::anyhow!("--requirement {spec:?}: the weight {w:?} is not a number; write TEXT[:WEIGHT][:must], e.g. Rust:3:must")
            })?,
        ),
        _ => anyhow::bail!(
            "--requirement {spec:?}: write TEXT[:WEIGHT][:must], e.g. Rust:3:must"
        ),
    };
    Ok(Requirement {
        text: text.to_string(),
        weight,
        must_have,
        keywords: Vec::new(),
    })
}

fn score(c: &Candidate) -> String {
    c.score
        .map(|s| format!("{:.0}%", s * 100.0))
        .unwrap_or_else(|| "-".into())
}

async fn show(node: &NodeArgs, path: &str) -> anyhow::Result<()> {
    let v: Value = Client::new(node)?.get(path).answer().await?;
    print(&v)
}

pub(super) async fn run(action: RecruitingAction) -> anyhow::Result<()> {
    match action {
        RecruitingAction::Requisitions { action } => requisitions(action).await,
        RecruitingAction::Candidates { action } => candidates(action).await,
    }
}

async fn requisitions(action: RequisitionsAction) -> anyhow::Result<()> {
    match action {
        RequisitionsAction::List {
            status,
            limit,
            offset,
            json,
            node,
        } => {
            let q = RequisitionsQuery {
                status,
                limit,
                offset,
            };
            list(
                &node,
                "/recruiting/requisitions",
                &q,
                json,
                "requisitions",
                |r: &Requisition| {
                    let reqs: Vec<String> = r
                        .requirements
                        .iter()
                        .map(|q| {
                            if q.must_have {
                                format!("{} (must)", q.text)
                            } else {
                                q.text.clone()
                            }
                        })
                        .collect();
                    format!(
                        "{}  {}  {}  hiring manager {}  needs: {}",
                        r.id,
                        r.title,
                        r.status,
                        r.hiring_manager,
                        reqs.join(", ")
                    )
                },
            )
            .await
        }
        RequisitionsAction::Show { id, node } => {
            show(&node, &format!("/recruiting/requisitions/{id}")).await
        }
        RequisitionsAction::Add {
            title,
            hiring_manager,
            requirements,
            panel,
            pass_score,
            node,
        } => {
            let body = NewRequisition {
                title,
                requirements: requirements
                    .iter()
                    .map(|s| requirement(s))
                    .collect::<anyhow::Result<_>>()?,
                hiring_manager,
                panel,
                pass_score,
            };
            let r: Requisition = Client::new(&node)?
                .post("/recruiting/requisitions")
                .json(&body)
                .answer()
                .await?;
            outln!("opened requisition {} ({})", r.id, r.title);
            Ok(())
        }
    }
}

async fn candidates(action: CandidatesAction) -> anyhow::Result<()> {
    match action {
        CandidatesAction::List {
            requisition,
            stage,
            source,
            limit,
            offset,
            json,
            node,
        } => {
            let q = CandidatesQuery {
                requisition,
                stage,
                source,
                email: None,
                limit,
                offset,
            };
            list(
                &node,
                "/recruiting/candidates",
                &q,
                json,
                "candidates",
                |c: &Candidate| {
                    format!(
                        "{}  {} <{}>  {}  {}  score {}",
                        c.id,
                        c.name,
                        c.email,
                        c.stage,
                        c.source,
                        score(c)
                    )
                },
            )
            .await
        }
        CandidatesAction::Show { id, node } => {
            show(&node, &format!("/recruiting/candidates/{id}")).await
        }
        CandidatesAction::Add {
            name,
            email,
            requisition,
            source,
            recruiter,
            node,
        } => {
            let body = NewCandidate {
                name,
                email,
                requisition,
                source,
                recruiter,
            };
            let c: Candidate = Client::new(&node)?
                .post("/recruiting/candidates")
                .json(&body)
                .answer()
                .await?;
            outln!("added candidate {} ({}), {}", c.id, c.name, c.stage);
            Ok(())
        }
        CandidatesAction::Move {
            id,
            stage,
            reason,
            node,
        } => {
            let c: Candidate = Client::new(&node)?
                .post(&format!("/recruiting/candidates/{id}/stage"))
                .json(&StageMove { stage, reason })
                .answer()
                .await?;
            outln!("{} ({}) is now {}", c.id, c.name, c.stage);
            Ok(())
        }
    }
}
