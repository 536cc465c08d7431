//! `empla mail send|inbox`, `empla chat` and `empla task assign|list|show`, through the
//! node's API.

use super::client::{Client, choice, print, read, when};
use super::{Command, EscalationAction, MailAction, TaskAction};
use crate::api::wire::{
    ChatAnswer, ChatBody, EscalationsQuery, InboxItem, InboxQuery, Items, MailSent, TaskAssigned,
    TasksQuery, VerdictBody,
};
use crate::model::{Escalation, NewTask, OutgoingMail, Task};
use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::Value;
use std::io::Read;

pub(super) async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Mail { action } => mail(action).await,
        Command::Chat {
            id,
            text,
            from,
            node,
        } => {
            let answer: ChatAnswer = Client::new(&node)?
                .post(&format!("/employees/{id}/chat"))
                .json(&ChatBody { from, text })
                .answer()
                .await?;
            match answer {
                ChatAnswer::Reply(r) => outln!("{}", r.reply),
                ChatAnswer::Pending(_) => outln!(
                    "{id} has your message and will answer in the conversation (`GET /api/v1/employees/{id}/chat`)"
                ),
            }
            Ok(())
        }
        Command::Task { action } => task(action).await,
        Command::Escalation { action } => escalation(action).await,
        _ => unreachable!("only interaction commands are routed here"),
    }
}

async fn mail(action: MailAction) -> anyhow::Result<()> {
    match action {
        MailAction::Send {
            from,
            to,
            subject,
            body,
            in_reply_to,
            node,
        } => {
            let body = if body == "-" {
                let mut b = String::new();
                std::io::stdin()
                    .read_to_string(&mut b)
                    .context("reading the body from standard input")?;
                b
            } else {
                body
            };
            let mail = OutgoingMail {
                from,
                to,
                subject,
                body,
                in_reply_to,
            };
            let sent: MailSent = Client::new(&node)?
                .post("/mail/send")
                .json(&mail)
                .answer()
                .await?;
            outln!("sent {}", sent.message_id);
        }
        MailAction::Inbox {
            address,
            limit,
            json,
            node,
        } => {
            let v: Value = Client::new(&node)?
                .get("/mail/inbox")
                .query(&InboxQuery {
                    address: address.clone(),
                    limit: Some(limit.into()),
                })
                .answer()
                .await?;
            if json {
                print(&v)?;
                return Ok(());
            }
            let inbox: Items<InboxItem> = read(v)?;
            if inbox.items.is_empty() {
                outln!("{address}: no mail");
            }
            for m in inbox.items {
                let attached: String = m
                    .attachments
                    .iter()
                    .map(|a| match &a.document {
                        Some(d) => format!("\n  attached: {} (`empla documents get {d}`)", a.name),
                        None => format!("\n  attached: {} ({} bytes)", a.name, a.size),
                    })
                    .collect();
                outln!(
                    "{}  from {}\n  subject: {}\n  message-id: {}{}{attached}\n\n{}\n",
                    when(&m.at),
                    m.from,
                    m.subject,
                    m.message_id,
                    m.in_reply_to
                        .map(|r| format!("\n  in reply to: {r}"))
                        .unwrap_or_default(),
                    indent(&m.body),
                );
            }
        }
    }
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A deadline: given as RFC 3339, or a date meaning the end of that day (UTC).
fn deadline(s: &str) -> anyhow::Result<DateTime<Utc>> {
    time_arg(
        s,
        "--deadline",
        NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"),
    )
}

/// The value of time flag `flag`: given as RFC 3339, or a date meaning `at` on that
/// day (UTC).
pub(super) fn time_arg(s: &str, flag: &str, at: NaiveTime) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_time(at).and_utc());
    }
    bail!(
        "{flag} must be a time such as 2026-12-04T17:00:00Z or a date such as 2026-12-04, got {s:?}"
    )
}

async fn task(action: TaskAction) -> anyhow::Result<()> {
    match action {
        TaskAction::Assign {
            id,
            description,
            priority,
            deadline: dl,
            requester,
            node,
        } => {
            let task = NewTask {
                description,
                priority: priority
                    .map(|p| choice("--priority", &p, "low, medium or high"))
                    .transpose()?,
                deadline: dl.map(|d| deadline(&d)).transpose()?,
                requester,
            };
            let assigned: TaskAssigned = Client::new(&node)?
                .post(&format!("/employees/{id}/tasks"))
                .json(&task)
                .answer()
                .await?;
            outln!("task {} assigned to {id}", assigned.id);
        }
        TaskAction::List { id, open, node } => {
            let tasks: Items<Task> = Client::new(&node)?
                .get(&format!("/employees/{id}/tasks"))
                .query(&TasksQuery {
                    open: Some(open),
                    limit: None,
                })
                .answer()
                .await?;
            if tasks.items.is_empty() {
                outln!("no tasks");
            }
            for t in &tasks.items {
                print_task_line(t)?;
            }
        }
        TaskAction::Show { id, task, node } => {
            let t: Task = Client::new(&node)?
                .get(&format!("/employees/{id}/tasks/{task}"))
                .answer()
                .await?;
            print_task_line(&t)?;
            if let Some(r) = &t.result {
                outln!("\n{}", indent(r));
            }
        }
    }
    Ok(())
}

fn print_task_line(t: &Task) -> anyhow::Result<()> {
    outln!(
        "{}  {:<11} {:>4.0}%  {:<6}  {}",
        t.id,
        t.status.as_str(),
        t.progress * 100.0,
        t.priority.as_str(),
        t.description,
    );
    Ok(())
}

async fn escalation(action: EscalationAction) -> anyhow::Result<()> {
    match action {
        EscalationAction::List {
            employee,
            status,
            node,
        } => {
            let v: Items<Escalation> = Client::new(&node)?
                .get("/escalations")
                .query(&EscalationsQuery {
                    employee: employee.clone(),
                    status: Some(status.clone()),
                    limit: None,
                })
                .about(employee.as_deref())
                .answer()
                .await?;
            if v.items.is_empty() {
                outln!("no {status} escalations");
            }
            for e in v.items {
                let decided = match e.decision {
                    Some(d) => format!(
                        "{} by {}",
                        d.as_str(),
                        e.decided_by.as_deref().unwrap_or("?")
                    ),
                    None => "pending".into(),
                };
                outln!(
                    "{}  {:<24} {}\n    {}\n    recommends: {}",
                    e.id,
                    e.case,
                    decided,
                    e.message.replace('\n', " "),
                    e.recommendation,
                );
            }
        }
        EscalationAction::Decide {
            id,
            decision,
            reason,
            node,
        } => {
            let by = std::env::var("EMPLA_USER").unwrap_or_else(|_| "cli".into());
            let e: Escalation = Client::new(&node)?
                .post(&format!("/escalations/{id}/decide"))
                .json(&VerdictBody {
                    decision: decision.clone(),
                    reason,
                    by: Some(by),
                })
                .answer()
                .await?;
            outln!(
                "escalation {} decided: {}",
                e.id,
                e.decision.map_or(decision.as_str(), |d| d.as_str())
            );
        }
    }
    Ok(())
}
