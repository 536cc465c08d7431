//! The calendar actions: the employees' `calendar.*` kinds, booking for humans through
//! the API, and telling employees about the meetings in their calendars.
//!
//! Booking finds the best time every participant is free within their working hours
//! (or takes the time asked for), puts a copy of the meeting in the calendar of each
//! participant the driver reaches, invites the humans by mail and tells each employee
//! taking part with a `calendar.event` event — which is what the `calendar` trigger
//! counts down to. When no free time exists, a meeting of lower priority that the
//! booking employee organised is moved to its own next free time, and its people are
//! told. A booking's uid comes from the outbox key of its action, so an action retried
//! after a crash finds its meeting already booked and books nothing twice.
//!
mod blocks;
mod booking;
mod briefs;
mod offers;

use blocks::block;
pub(crate) use booking::{availability, book, span, tell, version_key};
use booking::{invite, next_free, put_everywhere};
pub(crate) use briefs::{brief, brief_for};
use offers::{chosen, propose};

use crate::capabilities::calendar::one_booking_at_a_time;
use crate::capabilities::calendar::slots::{self, Availability, Busy, DayWindow, Query, Slot};
use crate::capabilities::email::actions::{deliver_mail, own_mail};
use crate::capabilities::email::message_id_for;
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::{CapabilityError, Hands, Sender, param};
use crate::memory::{Recall, Viewer};
use crate::model::{
    CalendarEvent, EmployeeId, EventStatus, FieldError, Manager, NewEvent, NewMeeting, Priority,
    Proposal, attendee_list, bare_address, clean_message_id, display_name, is_address,
    kinds::CALENDAR_EVENT, parse_hours,
};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use utoipa::ToSchema;

/// A meeting booked, and what was moved for it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Booked {
    /// The meeting.
    pub event: CalendarEvent,
    /// Meetings of lower priority moved out of its way.
    pub moved: Vec<Moved>,
    /// Participants whose calendar the node cannot reach (they got the invitation by
    /// mail only).
    pub unreached: Vec<String>,
}

/// A meeting moved to make room.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Moved {
    /// Its uid.
    pub uid: String,
    /// Its title.
    pub title: String,
    /// Where it was.
    pub from: DateTime<Utc>,
    /// Where it is now.
    pub to: DateTime<Utc>,
}

/// Free times for a group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Slots {
    /// Best first.
    pub items: Vec<Slot>,
    /// Participants whose calendar could not be read (only their working hours count).
    pub unreached: Vec<String>,
}

/// Why a calendar request was refused.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The request is invalid; each error names its field.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// No such employee.
    #[error("no such employee")]
    NotFound,
    /// Nothing could be booked, or the calendar server failed.
    #[error("{0}")]
    Capability(#[from] CapabilityError),
}

pub(crate) fn slots_max_minutes() -> i64 {
    crate::model::MAX_MEETING.num_minutes()
}

/// The hours of the day `between` (`HH:MM-HH:MM`) names, in `tz`.
pub(crate) fn day_window(
    between: Option<&str>,
    tz: chrono_tz::Tz,
) -> Result<Option<DayWindow>, CapabilityError> {
    let Some(b) = between else {
        return Ok(None);
    };
    let (start, end) = parse_hours(b).ok_or_else(|| {
        CapabilityError::Invalid(format!(
            "`between` must be HH:MM-HH:MM with the end after the start, e.g. \"13:00-17:00\", got {b:?}"
        ))
    })?;
    Ok(Some(DayWindow { start, end, tz }))
}

/// Earliest start: `after` when given and not past.
fn earliest(p: &Json, now: DateTime<Utc>) -> DateTime<Utc> {
    param(p, "after")
        .and_then(|a| a.parse::<DateTime<Utc>>().ok())
        .map_or(now, |a| a.max(now))
}

/// The calendar action kinds.
pub(crate) fn kinds() -> Vec<ActionKind> {
    use ParamType::*;
    let finding = || {
        vec![
            Param::optional("attendees", Recipients),
            Param::optional("duration_minutes", Integer),
            Param::optional("within_days", Integer),
            Param::optional("after", Text),
            Param::optional("between", Text),
        ]
    };
    let with = |mut base: Vec<Param>, more: Vec<Param>| {
        base.extend(more);
        base
    };
    let offering = || {
        with(
            finding(),
            vec![
                Param::optional("title", Text),
                Param::optional("purpose", Text),
                Param::optional("count", Integer),
                Param::optional("priority", Text),
                Param::optional("in_reply_to", Text),
                Param::optional("intro", Text),
                Param::optional("signoff", Text),
                Param::optional("attach", List),
                Param::optional("attach_from", Text),
            ],
        )
    };
    vec![
        ActionKind::new(
            "calendar.find_slots",
            "Finds the best times the employee and its attendees are all free.",
            false,
            |a| Box::pin(find_slots(a)),
        )
        .params(with(finding(), vec![Param::optional("count", Integer)])),
        ActionKind::new(
            "calendar.propose",
            "Offers times by mail; the pick in the reply is booked with `calendar.schedule`.",
            true,
            |a| Box::pin(propose(a)),
        )
        .params(offering()),
        ActionKind::new(
            "calendar.propose_meetings",
            "Offers times by mail (as `calendar.propose`), named by their purpose.",
            true,
            |a| Box::pin(propose(a)),
        )
        .params(offering()),
        ActionKind::new(
            "calendar.schedule",
            "Books a meeting at the best time (or the time asked, or the pick a reply made).",
            true,
            |a| Box::pin(schedule(a)),
        )
        .params(with(
            finding(),
            vec![
                Param::optional("title", Text),
                Param::optional("start", Text),
                Param::optional("priority", Text),
                Param::optional("description", Text),
                Param::optional("proposal", Text),
                Param::optional("choice", Text),
            ],
        )),
        ActionKind::new(
            "calendar.reschedule",
            "Moves a meeting the employee organised, telling everyone in it.",
            true,
            |a| Box::pin(change(a)),
        )
        .params(vec![
            Param::required("event_id", Text),
            Param::optional("start", Text),
        ]),
        ActionKind::new(
            "calendar.cancel",
            "Cancels a meeting the employee organised, telling everyone in it.",
            true,
            |a| Box::pin(change(a)),
        )
        .params(vec![Param::required("event_id", Text)]),
        ActionKind::new(
            "calendar.block",
            "Keeps time free for focused work in the employee's (or its manager's) calendar.",
            true,
            |a| Box::pin(block(a)),
        )
        .params(vec![
            Param::optional("title", Text),
            Param::optional("hours", Number),
            Param::optional("week", Text),
            Param::optional("for", Recipients),
        ]),
        ActionKind::new(
            "calendar.brief",
            "Writes the brief of a meeting (who, what was said before), mailed to `send_to`.",
            true,
            |a| Box::pin(brief_action(a)),
        )
        .params(vec![
            Param::required("event_id", Text),
            Param::optional("send_to", Recipients),
        ]),
    ]
}

/// `calendar.find_slots`: the best times for the employee and `attendees`.
async fn find_slots(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, p, now) = (a.hands, a.me, &a.entry.params, Utc::now());
    let (owners, unresolved) = addresses(&p["attendees"], &me.email);
    let from = earliest(p, now);
    let mut q = Query::new(
        from,
        from + Duration::days(int(p, "within_days").unwrap_or(7).clamp(1, 90)),
        Duration::minutes(minutes(p, 30)?),
        int(p, "count").unwrap_or(3).clamp(1, 20) as usize,
    );
    let tz = hands.calendar.config.hours_of(&me.email).tz;
    q.window = day_window(param(p, "between"), tz)?;
    let (people, unreached) = availability(hands, &owners, q.from, q.to, &me.email).await?;
    let found = slots::find(&people, &q);
    let text = if found.is_empty() {
        "No time when everyone is free.".to_string()
    } else {
        numbered(&found, tz)
    };
    Ok(json!({
        "slots": found,
        "text": text,
        "attendees": owners,
        "unresolved": unresolved,
        "unreached": unreached,
    }))
}

/// `1. Tue 8 Dec 2026, 10:00–10:45 UTC`, a line each.
fn numbered(slots: &[Slot], tz: chrono_tz::Tz) -> String {
    slots
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {}", i + 1, span(s.start, s.end, tz)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `calendar.schedule`: the meeting the parameters describe, or the time a reply to
/// an offer picked (`proposal`, `choice`), booked under a uid from the outbox key.
async fn schedule(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry, now) = (a.hands, a.me, a.entry, Utc::now());
    let p = &entry.params;
    let (owners, unresolved) = addresses(&p["attendees"], &me.email);
    let m = match param(p, "proposal") {
        Some(offer) => chosen(hands, me, offer, param(p, "choice").unwrap_or(""), now).await?,
        None => NewMeeting {
            title: param(p, "title").unwrap_or("Meeting").to_string(),
            attendees: owners.into_iter().filter(|a| a != &me.email).collect(),
            start: param(p, "start").and_then(|s| s.parse().ok()),
            duration_minutes: minutes(p, 30)?,
            priority: param(p, "priority").and_then(Priority::parse),
            description: param(p, "description").map(str::to_string),
            within_days: int(p, "within_days"),
            after: param(p, "after").and_then(|s| s.parse().ok()),
            between: param(p, "between").map(str::to_string),
        },
    };
    invalid_if(m.validate(now))?;
    let uid = format!(
        "{}@{}",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, entry.key.as_bytes()),
        hands.domain
    );
    let b = book(hands, me, &m, uid, &entry.key, now).await?;
    let tz = hands.calendar.config.hours_of(&me.email).tz;
    let mut out = serde_json::to_value(&b).expect("a booking serialises");
    out["unresolved"] = json!(unresolved);
    out["text"] = json!(format!(
        "Booked {}: {}",
        b.event.title,
        span(b.event.start, b.event.end, tz)
    ));
    Ok(out)
}

/// `calendar.reschedule` (to `start`, or the next time that suits everyone) and
/// `calendar.cancel`: only the organiser changes a meeting, never a recurring series;
/// every copy changes and the humans in it are told. The new version names the action,
/// so a retried action changes nothing more and tells no one twice.
async fn change(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry, now) = (a.hands, a.me, a.entry, Utc::now());
    let p = &entry.params;
    let _turn = one_booking_at_a_time(hands).await?;
    let mut e = own_event(hands, me, &entry.kind, p).await?;
    if !bare_address(&e.organizer).eq_ignore_ascii_case(&me.email) {
        return Err(CapabilityError::Invalid(format!(
            "{} organised \"{}\"; only the organiser changes it",
            e.organizer, e.title
        )));
    }
    if e.recurring {
        return Err(CapabilityError::Invalid(format!(
            "\"{}\" is one of a recurring series; change the series in a calendar client",
            e.title
        )));
    }
    let cancel = entry.kind == "calendar.cancel";
    if e.changed_by.as_deref() != Some(entry.key.as_str()) {
        if cancel {
            e.status = EventStatus::Cancelled;
        } else {
            let start = match param(p, "start").and_then(|s| s.parse::<DateTime<Utc>>().ok()) {
                Some(s) => s,
                None => next_free(hands, &e, now, &me.email, None)
                    .await?
                    .ok_or_else(|| {
                        CapabilityError::Invalid(format!(
                            "no time in the next 7 days suits everyone in \"{}\"",
                            e.title
                        ))
                    })?,
            };
            let d = e.duration();
            e.start = start;
            e.end = start + d;
        }
        e.sequence += 1;
        e.changed_by = Some(entry.key.clone());
    }
    let unreached = put_everywhere(hands, &e).await?;
    let verb = if cancel { "Cancelled" } else { "Moved" };
    invite(hands, me, &entry.key, &e, verb).await?;
    Ok(json!({
        "event_id": e.uid,
        "status": e.status,
        "start": e.start,
        "end": e.end,
        "sequence": e.sequence,
        "unreached": unreached,
    }))
}

/// `calendar.brief`: the brief of a meeting in the employee's calendar, mailed to
/// `send_to` when that is an address.
async fn brief_action(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry) = (a.hands, a.me, a.entry);
    let p = &entry.params;
    let e = own_event(hands, me, &entry.kind, p).await?;
    let text = brief(hands, me, &e).await?;
    let to = param(p, "send_to").map(str::to_string);
    if let Some(to) = to.as_deref().filter(|t| is_address(bare_address(t))) {
        let subject = format!("Brief: {}", e.title);
        let m = own_mail(hands, me, entry, to.to_string(), subject, text.clone());
        deliver_mail(hands, &m).await?;
    }
    Ok(json!({"event_id": e.uid, "brief": text, "sent_to": to}))
}

/// The meeting `event_id` names in the employee's own calendar.
async fn own_event(
    hands: &Hands,
    me: &Sender,
    kind: &str,
    p: &Json,
) -> Result<CalendarEvent, CapabilityError> {
    let uid = param(p, "event_id")
        .ok_or_else(|| CapabilityError::Invalid(format!("`{kind}` needs `event_id`")))?;
    hands
        .calendar
        .driver
        .event(&hands.tenant, &me.email, uid)
        .await?
        .ok_or_else(|| {
            CapabilityError::Invalid(format!("there is no meeting {uid} in my calendar"))
        })
}

fn invalid_if(errors: Vec<FieldError>) -> Result<(), CapabilityError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CapabilityError::Invalid(
            CalendarError::Invalid(errors).to_string(),
        ))
    }
}

fn int(p: &Json, key: &str) -> Option<i64> {
    p[key]
        .as_i64()
        .or_else(|| p[key].as_f64().map(|f| f as i64))
        .or_else(|| param(p, key).and_then(|s| s.parse().ok()))
}

fn minutes(p: &Json, default: i64) -> Result<i64, CapabilityError> {
    let m = int(p, "duration_minutes").unwrap_or(default);
    if (5..=slots_max_minutes()).contains(&m) {
        Ok(m)
    } else {
        Err(CapabilityError::Invalid(format!(
            "`duration_minutes` must be between 5 and {}, got {m}",
            slots_max_minutes()
        )))
    }
}

/// The participants' addresses (the employee first), and the names that are no
/// address (e.g. "hiring manager").
fn addresses(v: &Json, me: &str) -> (Vec<String>, Vec<String>) {
    let mut owners = vec![me.to_ascii_lowercase()];
    let mut unresolved = Vec::new();
    for a in attendee_list(v) {
        let bare = bare_address(&a).to_ascii_lowercase();
        if !is_address(&bare) {
            unresolved.push(a);
        } else if !owners.contains(&bare) {
            owners.push(bare);
        }
    }
    (owners, unresolved)
}
