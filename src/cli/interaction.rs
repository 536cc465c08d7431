//! `empla mail send|inbox`, `empla chat` and `empla task assign|list|show`, through the
//! node's API.

use super::client::{Client, print};
use super::{Command, EscalationAction, MailAction, TaskAction};
use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use reqwest::Method;
use serde_json::{Value, json};
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
            let v = Client::new(&node)?
                .call(
                    Method::POST,
                    &format!("/employees/{id}/chat"),
                    Some(json!({"from": from, "text": text})),
                )
                .await?;
            match v["reply"].as_str() {
                Some(r) => println!("{r}"),
                None => println!(
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
            let mut m = json!({"from": from, "to": to, "subject": subject, "body": body});
            if let Some(r) = in_reply_to {
                m["in_reply_to"] = json!(r);
            }
            let v = Client::new(&node)?
                .call(Method::POST, "/mail/send", Some(m))
                .await?;
            println!("sent {}", v["message_id"].as_str().unwrap_or(""));
        }
        MailAction::Inbox {
            address,
            limit,
            json,
            node,
        } => {
            let v = Client::new(&node)?
                .call_with(
                    Method::GET,
                    "/mail/inbox",
                    &[("address", address.clone()), ("limit", limit.to_string())],
                    None,
                )
                .await?;
            if json {
                print(&v);
                return Ok(());
            }
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("{address}: no mail");
            }
            for m in items {
                println!(
                    "{}  from {}\n  subject: {}\n  message-id: {}{}\n\n{}\n",
                    m["at"].as_str().unwrap_or(""),
                    m["from"].as_str().unwrap_or(""),
                    m["subject"].as_str().unwrap_or(""),
                    m["message_id"].as_str().unwrap_or(""),
                    m["in_reply_to"]
                        .as_str()
                        .map(|r| format!("\n  in reply to: {r}"))
                        .unwrap_or_default(),
                    indent(m["body"].as_str().unwrap_or("")),
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

/// A deadline as RFC 3339: given so, or a date meaning the end of that day (UTC).
fn deadline(s: &str) -> anyhow::Result<String> {
    time_arg(
        s,
        "--deadline",
        NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time"),
    )
}

/// The value of time flag `flag` as RFC 3339: given so, or a date meaning `at` on that
/// day (UTC).
pub(super) fn time_arg(s: &str, flag: &str, at: NaiveTime) -> anyhow::Result<String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc).to_rfc3339());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_time(at).and_utc().to_rfc3339());
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
            let mut body = json!({"description": description});
            if let Some(p) = priority {
                body["priority"] = json!(p);
            }
            if let Some(d) = dl {
                body["deadline"] = json!(deadline(&d)?);
            }
            if let Some(r) = requester {
                body["requester"] = json!(r);
            }
            let v = Client::new(&node)?
                .call(Method::POST, &format!("/employees/{id}/tasks"), Some(body))
                .await?;
            println!("task {} assigned to {id}", v["id"].as_str().unwrap_or(""));
        }
        TaskAction::List { id, open, node } => {
            let v = Client::new(&node)?
                .call_with(
                    Method::GET,
                    &format!("/employees/{id}/tasks"),
                    &[("open", open.to_string())],
                    None,
                )
                .await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no tasks");
            }
            for t in items {
                print_task_line(&t);
            }
        }
        TaskAction::Show { id, task, node } => {
            let v = Client::new(&node)?
                .call(Method::GET, &format!("/employees/{id}/tasks/{task}"), None)
                .await?;
            print_task_line(&v);
            if let Some(r) = v["result"].as_str() {
                println!("\n{}", indent(r));
            }
        }
    }
    Ok(())
}

fn print_task_line(t: &Value) {
    println!(
        "{}  {:<11} {:>4.0}%  {:<6}  {}",
        t["id"].as_str().unwrap_or(""),
        t["status"].as_str().unwrap_or(""),
        t["progress"].as_f64().unwrap_or(0.0) * 100.0,
        t["priority"].as_str().unwrap_or(""),
        t["description"].as_str().unwrap_or(""),
    );
}

async fn escalation(action: EscalationAction) -> anyhow::Result<()> {
    match action {
        EscalationAction::List {
            employee,
            status,
            node,
        } => {
            let mut path = format!("/escalations?status={status}");
            if let Some(e) = employee {
                path.push_str(&format!("&employee={e}"));
            }
            let v = Client::new(&node)?.call(Method::GET, &path, None).await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no {status} escalations");
            }
            for e in items {
                let decided = match e["decision"].as_str() {
                    Some(d) => format!("{d} by {}", e["decided_by"].as_str().unwrap_or("?")),
                    None => "pending".into(),
                };
                println!(
                    "{}  {:<24} {}\n    {}\n    recommends: {}",
                    e["id"].as_str().unwrap_or(""),
                    e["case"].as_str().unwrap_or(""),
                    decided,
                    e["message"].as_str().unwrap_or("").replace('\n', " "),
                    e["recommendation"].as_str().unwrap_or("-"),
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
            let e = Client::new(&node)?
                .call(
                    Method::POST,
                    &format!("/escalations/{id}/decide"),
                    Some(json!({"decision": decision, "reason": reason, "by": by})),
                )
                .await?;
            println!(
                "escalation {} decided: {}",
                e["id"].as_str().unwrap_or(&id),
                e["decision"].as_str().unwrap_or(&decision)
            );
        }
    }
    Ok(())
}
