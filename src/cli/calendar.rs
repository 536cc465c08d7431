//! `empla calendar show|book|slots`, through the node's API.

use super::CalendarAction;
use super::client::{Client, choice, print, read, when};
use crate::api::wire::{CalendarQuery, Items};
use crate::model::{CalendarEvent, EventStatus, NewMeeting, SlotRequest};
use crate::node::{Booked, Slots};
use chrono::{DateTime, NaiveTime, Utc};
use serde_json::Value;

pub(super) async fn run(action: CalendarAction) -> anyhow::Result<()> {
    match action {
        CalendarAction::Show {
            owner,
            from,
            to,
            json,
            node,
        } => {
            let q = CalendarQuery {
                owner: owner.clone(),
                from: from
                    .map(|f| time(&f, "--from"))
                    .transpose()?
                    .map(|t| t.to_rfc3339()),
                to: to
                    .map(|t| time(&t, "--to"))
                    .transpose()?
                    .map(|t| t.to_rfc3339()),
            };
            let v: Value = Client::new(&node)?
                .get("/calendar")
                .query(&q)
                .answer()
                .await?;
            if json {
                print(&v)?;
                return Ok(());
            }
            let calendar: Items<CalendarEvent> = read(v)?;
            if calendar.items.is_empty() {
                outln!("{owner}: nothing in the calendar");
            }
            for e in &calendar.items {
                outln!("{}", line(e));
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
            let meeting = NewMeeting {
                title,
                attendees: attendee,
                start: start.map(|s| time(&s, "--start")).transpose()?,
                duration_minutes: duration,
                priority: priority
                    .map(|p| choice("--priority", &p, "low, medium or high"))
                    .transpose()?,
                description,
                between,
                ..NewMeeting::default()
            };
            let booked: Booked = Client::new(&node)?
                .post(&format!("/employees/{id}/calendar"))
                .json(&meeting)
                .answer()
                .await?;
            outln!("booked {}", line(&booked.event));
            for moved in &booked.moved {
                outln!(
                    "moved \"{}\" from {} to {}",
                    moved.title,
                    when(&moved.from),
                    when(&moved.to)
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
            let request = SlotRequest {
                attendees: attendee,
                duration_minutes: duration,
                within_days: Some(within_days),
                count: Some(count),
                after: after.map(|a| time(&a, "--after")).transpose()?,
                between,
            };
            let slots: Slots = Client::new(&node)?
                .post("/calendar/slots")
                .json(&request)
                .answer()
                .await?;
            if slots.items.is_empty() {
                outln!("no time when everyone is free");
            }
            for s in &slots.items {
                outln!(
                    "{} – {}  (score {:.2})",
                    when(&s.start),
                    when(&s.end),
                    s.score
                );
            }
        }
    }
    Ok(())
}

fn line(e: &CalendarEvent) -> String {
    format!(
        "{} – {}  {}{}  [{}]  {}",
        when(&e.start),
        when(&e.end),
        e.title,
        if e.status == EventStatus::Cancelled {
            " (cancelled)"
        } else {
            ""
        },
        e.priority.as_str(),
        e.uid,
    )
}

/// An RFC 3339 time, or a date meaning its midnight (UTC).
fn time(s: &str, flag: &str) -> anyhow::Result<DateTime<Utc>> {
    super::interaction::time_arg(s, flag, NaiveTime::MIN)
}
