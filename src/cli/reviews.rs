//! `empla review run|list|show|note`: performance reviews, through the node's API.

use super::NodeArgs;
use super::client::{Client, print, when};
use crate::api::wire::{Items, NoteBody, ReviewBody, ReviewsQuery};
use crate::model::Review;
use clap::Subcommand;
use serde_json::Value;

/// `empla review ...`.
#[derive(Debug, Subcommand)]
#[allow(missing_docs)] // `node` fields are flattened NodeArgs, documented there
pub enum ReviewAction {
    /// Review an employee now: this month so far, or `--period 2026-11`. The review is
    /// kept (replacing an earlier one of that month, notes kept), mailed to the manager,
    /// and handed to the employee to act on.
    Run {
        /// Employee id or handle.
        id: String,
        /// The month, YYYY-MM.
        #[arg(long)]
        period: Option<String>,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// An employee's reviews, newest first.
    List {
        /// Employee id or handle.
        id: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// One review in full.
    Show {
        /// Employee id or handle.
        id: String,
        /// The review's id (`empla review list` shows it).
        review: String,
        /// Print the JSON answer.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Add a note to a review, as the manager.
    Note {
        /// Employee id or handle.
        id: String,
        /// The review's id.
        review: String,
        /// The note.
        text: String,
        /// Who writes it (the manager by default).
        #[arg(long)]
        by: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{:.0}%", x * 100.0))
}

/// A review in words.
fn describe(r: &Review) -> String {
    let mut t = format!(
        "review {} of {} ({} to {})\n",
        r.id,
        r.period,
        when(&r.from),
        when(&r.to)
    );
    t.push_str(&format!(
        "goals {} reached · plans carried through {} · {} a day · {} · feedback {} · trend {}\n",
        pct(Some(r.goal_completion)),
        pct(r.task_success_rate),
        r.tasks_per_day,
        r.avg_task_duration
            .map_or("no durations yet".into(), |h| format!("{h} h each")),
        pct(r.feedback_score),
        r.improvement_rate
            .map_or("-".into(), |i| format!("{:+.0} points", i * 100.0)),
    ));
    t.push_str("goals:\n");
    for g in &r.goals {
        let reached = g.reached.map_or("no figure yet".into(), |v| v.to_string());
        t.push_str(&format!(
            "  {:<24} {reached} / {} ({})\n",
            g.id,
            g.target,
            pct(Some(g.progress))
        ));
    }
    if !r.plans.is_empty() {
        t.push_str("plans:\n");
        for p in &r.plans {
            t.push_str(&format!(
                "  {:<28} worked {} of {}\n",
                p.plan, p.succeeded, p.ended
            ));
        }
    }
    for (title, items) in [
        ("to develop", &r.development_areas),
        ("improvement plan", &r.improvement_plan),
    ] {
        if !items.is_empty() {
            t.push_str(&format!("{title}:\n"));
            for i in items {
                t.push_str(&format!("  - {i}\n"));
            }
        }
    }
    if !r.team_feedback.is_empty() {
        t.push_str("feedback:\n");
        for f in &r.team_feedback {
            t.push_str(&format!("  {}  {}: {}\n", when(&f.at), f.by, f.text));
        }
    }
    if !r.notes.is_empty() {
        t.push_str("notes:\n");
        for n in &r.notes {
            t.push_str(&format!("  {}  {}: {}\n", when(&n.at), n.by, n.text));
        }
    }
    t
}

pub(super) async fn run(action: ReviewAction) -> anyhow::Result<()> {
    match action {
        ReviewAction::Run {
            id,
            period,
            json,
            node,
        } => {
            let v: Value = Client::new(&node)?
                .post(&format!("/employees/{id}/reviews"))
                .json(&ReviewBody { period })
                .answer()
                .await?;
            show(&v, json)
        }
        ReviewAction::List { id, json, node } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/employees/{id}/reviews"))
                .query(&ReviewsQuery::default())
                .answer()
                .await?;
            if json {
                return print(&v);
            }
            let list: Items<Review> = serde_json::from_value(v)?;
            if list.items.is_empty() {
                outln!("no reviews yet; `empla review run {id}` reviews this month so far");
            }
            for r in list.items {
                outln!(
                    "{}  {}  goals {}  plans {}  feedback {}  {} notes",
                    r.id,
                    r.period,
                    pct(Some(r.goal_completion)),
                    pct(r.task_success_rate),
                    pct(r.feedback_score),
                    r.notes.len()
                );
            }
            Ok(())
        }
        ReviewAction::Show {
            id,
            review,
            json,
            node,
        } => {
            let v: Value = Client::new(&node)?
                .get(&format!("/employees/{id}/reviews/{review}"))
                .answer()
                .await?;
            show(&v, json)
        }
        ReviewAction::Note {
            id,
            review,
            text,
            by,
            node,
        } => {
            let r: Review = Client::new(&node)?
                .post(&format!("/employees/{id}/reviews/{review}/notes"))
                .json(&NoteBody { text, by })
                .answer()
                .await?;
            outln!("noted on review {} ({} notes)", r.id, r.notes.len());
            Ok(())
        }
    }
}

fn show(v: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        return print(v);
    }
    let r: Review = serde_json::from_value(v.clone())?;
    outln!("{}", describe(&r).trim_end());
    Ok(())
}
