//! `empla calendar show|book|slots`, through the node's API.

use super::CalendarAction;
use super::client::{Client, print};
use chrono::NaiveTime;
use reqwest::Method;
use serde_json::{Value, json};

pub(super) async fn run(action: CalendarAction) -> anyhow::Result<()> {
    match action {
        CalendarAction::Show {
            owner,
            from,
            to,
            json,
            node,
        } => {
            let mut q = vec![("owner", owner.clone())];
            if let Some(f) = from {
                q.push(("from", time(&f, "--from")?));
            }
            if let Some(t) = to {
                q.push(("to", time(&t, "--to")?));
            }
            let v = Client::new(&node)?
                .call_with(Method::GET, "/calendar", &q, None)
                .await?;
            if json {
                print(&v);
                return Ok(());
            }
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("{owner}: nothing in the calendar");
            }
            for e in items {
                println!("{}", line(&e));
            }
        }
        CalendarAction::Book {
            id,
            title,
            attendee,
            start,
            duration,
            priority,
            description,
            between,
            node,
        } => {
            let mut m =
                json!({"title": title, "attendees": attendee, "duration_minutes": duration});
            if let Some(s) = start {
                m["start"] = json!(time(&s, "--start")?);
            }
            if let Some(p) = priority {
                m["priority"] = json!(p);
            }
            if let Some(d) = description {
                m["description"] = json!(d);
            }
            if let Some(b) = between {
                m["between"] = json!(b);
            }
            let v = Client::new(&node)?
                .call(Method::POST, &format!("/employees/{id}/calendar"), Some(m))
                .await?;
            println!("booked {}", line(&v["event"]));
            for moved in v["moved"].as_array().into_iter().flatten() {
                println!(
                    "moved \"{}\" from {} to {}",
                    moved["title"].as_str().unwrap_or(""),
                    moved["from"].as_str().unwrap_or(""),
                    moved["to"].as_str().unwrap_or("")
                );
            }
        }
        CalendarAction::Slots {
            attendee,
            duration,
            within_days,
            count,
            after,
            between,
            node,
        } => {
            let mut body = json!({"attendees": attendee, "duration_minutes": duration, "within_days": within_days, "count": count});
            if let Some(a) = after {
                body["after"] = json!(time(&a, "--after")?);
            }
            if let Some(b) = between {
                body["between"] = json!(b);
            }
            let v = Client::new(&node)?
                .call(Method::POST, "/calendar/slots", Some(body))
                .await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no time when everyone is free");
            }
            for s in items {
                println!(
                    "{} – {}  (score {:.2})",
                    s["start"].as_str().unwrap_or(""),
                    s["end"].as_str().unwrap_or(""),
                    s["score"].as_f64().unwrap_or(0.0)
                );
            }
        }
    }
    Ok(())
}

fn line(e: &Value) -> String {
    format!(
        "{} – {}  {}{}  [{}]  {}",
        e["start"].as_str().unwrap_or(""),
        e["end"].as_str().unwrap_or(""),
        e["title"].as_str().unwrap_or(""),
        if e["status"] == "cancelled" {
            " (cancelled)"
        } else {
            ""
        },
        e["priority"].as_str().unwrap_or(""),
        e["uid"].as_str().unwrap_or(""),
    )
}

/// An RFC 3339 time, or a date meaning its midnight (UTC).
fn time(s: &str, flag: &str) -> anyhow::Result<String> {
    super::interaction::time_arg(s, flag, NaiveTime::MIN)
}
