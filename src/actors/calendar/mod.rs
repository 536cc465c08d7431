//! Calendars on a node: the employees' `calendar.*` actions, booking for humans through
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
//! With the CalDAV driver, a sync task reads employees' calendars every
//! `calendar.sync_every`, so a meeting someone else put there is perceived too.

mod blocks;
mod booking;
mod briefs;
mod offers;
mod sync;

use blocks::block;
pub(crate) use booking::tell;
use booking::{availability, book, invite, next_free, put_everywhere, span, version_key};
use briefs::brief;
use offers::{chosen, propose};
pub(crate) use sync::start_sync;

use crate::actors::interaction::{deliver_mail, own_mail};
use crate::actors::registry::accept;
use crate::actors::runtime::Runtime;
use crate::capabilities::calendar::slots::{self, Availability, Busy, DayWindow, Query, Slot};
use crate::capabilities::calendar::{CalDav, CalendarDriver, LocalCalendar};
use crate::capabilities::email::{self, Logins, message_id_for};
use crate::capabilities::{CapabilityError, Sender, param};
use crate::config::{CalendarConfig, CalendarDriverKind, MailConfig};
use crate::memory::{Recall, Viewer};
use crate::model::{
    CalendarEvent, EmployeeId, EventStatus, FieldError, Manager, NewEvent, NewMeeting, OutboxEntry,
    Priority, Proposal, SlotRequest, attendee_list, bare_address, clean_message_id, display_name,
    is_address, parse_hours,
};
use crate::node::Node;
use crate::store::Store;
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

/// The event kind an employee perceives a meeting in its calendar by.
pub(crate) const CALENDAR_EVENT: &str = "calendar.event";

/// The driver `[calendar]` names.
pub(crate) fn driver(
    store: &Store,
    cfg: &CalendarConfig,
    data_dir: &Path,
) -> Result<Arc<dyn CalendarDriver>, String> {
    Ok(match cfg.driver {
        CalendarDriverKind::Builtin => Arc::new(LocalCalendar::new(store.clone())),
        CalendarDriverKind::Caldav => {
            let logins = Logins::open(MailConfig::resolve(data_dir, &cfg.credentials_file))?;
            let zones = cfg.clone();
            Arc::new(
                CalDav::new(&cfg.url, &cfg.collection, logins)?
                    .with_zones(Arc::new(move |owner| zones.hours_of(owner).tz)),
            )
        }
    })
}

/// A meeting booked, and what was moved for it.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl Node {
    /// The events of a calendar (an employee's, or any address's) overlapping
    /// `[from, to)`, by start.
    pub async fn calendar(
        &self,
        owner: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CalendarEvent>, CalendarError> {
        let owner = self.calendar_owner(owner).await?;
        if to <= from || to - from > Duration::days(366) {
            return Err(CalendarError::Invalid(vec![FieldError::new(
                "to",
                "must be after `from`, and at most a year after it",
            )]));
        }
        Ok(self
            .rt
            .hub
            .calendar
            .events(&self.rt.tenant, &owner, from, to)
            .await?)
    }

    /// A meeting an employee books for a human: at `m.start`, or the best free time.
    pub async fn book_meeting(
        &self,
        id: EmployeeId,
        m: NewMeeting,
    ) -> Result<Booked, CalendarError> {
        self.book_meeting_once(id, m, None).await
    }

    /// As [`Node::book_meeting`]; a request repeated with the same `idempotency_key`
    /// (a client retrying) answers the meeting the first one booked, and books nothing
    /// new.
    pub async fn book_meeting_once(
        &self,
        id: EmployeeId,
        m: NewMeeting,
        idempotency_key: Option<&str>,
    ) -> Result<Booked, CalendarError> {
        let now = Utc::now();
        if let Some(k) = idempotency_key
            && (k.trim().is_empty() || k.len() > 200)
        {
            return Err(CalendarError::Invalid(vec![FieldError::new(
                "Idempotency-Key",
                "must be 1 to 200 characters",
            )]));
        }
        let errors = m.validate(now);
        if !errors.is_empty() {
            return Err(CalendarError::Invalid(errors));
        }
        let (me, _) = super::interaction::sender_of(&self.rt, id)
            .await
            .ok_or(CalendarError::NotFound)?;
        let uid = match idempotency_key {
            Some(k) => uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("{}:{id}:meeting:{}", self.rt.tenant.as_str(), k.trim()).as_bytes(),
            ),
            None => uuid::Uuid::now_v7(),
        };
        let uid = format!("{uid}@{}", self.rt.hub.domain);
        Ok(book(&self.rt, &me, &m, uid, "api", now).await?)
    }

    /// The best free times for a group (employees or addresses), within the request's
    /// constraints.
    pub async fn free_times(&self, r: SlotRequest) -> Result<Slots, CalendarError> {
        let mut errors = r.validate();
        let mut owners = Vec::new();
        for (i, p) in r.attendees.iter().enumerate() {
            match self.calendar_owner(p).await {
                Ok(o) if !owners.contains(&o) => owners.push(o),
                Ok(_) => {}
                Err(CalendarError::Invalid(_)) => errors.push(FieldError::new(
                    format!("attendees[{i}]"),
                    format!("must be a mail address or an employee, got {p:?}"),
                )),
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            return Err(CalendarError::Invalid(errors));
        }
        let from = r.after.unwrap_or_else(Utc::now).max(Utc::now());
        let mut q = Query::new(
            from,
            from + Duration::days(r.within_days.unwrap_or(7)),
            Duration::minutes(r.duration_minutes),
            r.count.unwrap_or(3),
        );
        let tz = self.rt.hub.calendar_cfg.hours_of(&owners[0]).tz;
        q.window = day_window(r.between.as_deref(), tz)?;
        let (people, unreached) = availability(&self.rt, &owners, q.from, q.to, "").await?;
        Ok(Slots {
            items: slots::find(&people, &q),
            unreached,
        })
    }

    /// The calendar owner `key` names: an employee (id, address or handle) or an address.
    async fn calendar_owner(&self, key: &str) -> Result<String, CalendarError> {
        let key = key.trim();
        if let Some(id) = self.resolve(key)
            && let Some(p) = self
                .rt
                .store
                .employee(&self.rt.tenant, id)
                .await
                .map_err(CapabilityError::from)?
        {
            return Ok(p.email);
        }
        let a = bare_address(key).to_ascii_lowercase();
        if is_address(&a) {
            Ok(a)
        } else {
            Err(CalendarError::Invalid(vec![FieldError::new(
                "owner",
                format!("{key:?} is neither an employee nor a mail address"),
            )]))
        }
    }
}

fn slots_max_minutes() -> i64 {
    crate::model::MAX_MEETING.num_minutes()
}

/// The hours of the day `between` (`HH:MM-HH:MM`) names, in `tz`.
fn day_window(
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

/// Runs one `calendar.*` action.
pub(crate) async fn run(
    rt: &Arc<Runtime>,
    me: &Sender,
    manager: Option<&Manager>,
    entry: &OutboxEntry,
) -> Result<Json, CapabilityError> {
    let now = Utc::now();
    match entry.kind.as_str() {
        "calendar.find_slots" => find_slots(rt, me, &entry.params, now).await,
        "calendar.propose" | "calendar.propose_meetings" => propose(rt, me, entry, now).await,
        "calendar.schedule" => schedule(rt, me, entry, now).await,
        "calendar.reschedule" | "calendar.cancel" => change(rt, me, entry, now).await,
        "calendar.block" => block(rt, me, manager, entry, now).await,
        "calendar.brief" => brief_action(rt, me, entry).await,
        other => Err(CapabilityError::Invalid(format!(
            "`{other}` is not a calendar action; use calendar.find_slots, calendar.propose, calendar.schedule, calendar.reschedule, calendar.cancel, calendar.block or calendar.brief"
        ))),
    }
}

/// `calendar.find_slots`: the best times for the employee and `attendees`.
async fn find_slots(
    rt: &Runtime,
    me: &Sender,
    p: &Json,
    now: DateTime<Utc>,
) -> Result<Json, CapabilityError> {
    let (owners, unresolved) = addresses(&p["attendees"], &me.email);
    let from = earliest(p, now);
    let mut q = Query::new(
        from,
        from + Duration::days(int(p, "within_days").unwrap_or(7).clamp(1, 90)),
        Duration::minutes(minutes(p, 30)?),
        int(p, "count").unwrap_or(3).clamp(1, 20) as usize,
    );
    let tz = rt.hub.calendar_cfg.hours_of(&me.email).tz;
    q.window = day_window(param(p, "between"), tz)?;
    let (people, unreached) = availability(rt, &owners, q.from, q.to, &me.email).await?;
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
async fn schedule(
    rt: &Arc<Runtime>,
    me: &Sender,
    entry: &OutboxEntry,
    now: DateTime<Utc>,
) -> Result<Json, CapabilityError> {
    let p = &entry.params;
    let (owners, unresolved) = addresses(&p["attendees"], &me.email);
    let m = match param(p, "proposal") {
        Some(offer) => chosen(rt, me, offer, param(p, "choice").unwrap_or(""), now).await?,
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
        rt.hub.domain
    );
    let b = book(rt, me, &m, uid, &entry.key, now).await?;
    let tz = rt.hub.calendar_cfg.hours_of(&me.email).tz;
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
async fn change(
    rt: &Arc<Runtime>,
    me: &Sender,
    entry: &OutboxEntry,
    now: DateTime<Utc>,
) -> Result<Json, CapabilityError> {
    let p = &entry.params;
    let _one_booking_at_a_time = rt.hub.booking.lock().await;
    let mut e = own_event(rt, me, &entry.kind, p).await?;
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
                None => next_free(rt, &e, now, &me.email, None)
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
    let unreached = put_everywhere(rt, &e).await?;
    let verb = if cancel { "Cancelled" } else { "Moved" };
    invite(rt, me, &entry.key, &e, verb).await?;
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
async fn brief_action(
    rt: &Arc<Runtime>,
    me: &Sender,
    entry: &OutboxEntry,
) -> Result<Json, CapabilityError> {
    let p = &entry.params;
    let e = own_event(rt, me, &entry.kind, p).await?;
    let text = brief(rt, me, &e).await?;
    let to = param(p, "send_to").map(str::to_string);
    if let Some(to) = to.as_deref().filter(|t| is_address(bare_address(t))) {
        let subject = format!("Brief: {}", e.title);
        let m = own_mail(rt, me, entry, to.to_string(), subject, text.clone());
        deliver_mail(rt, &m).await?;
    }
    Ok(json!({"event_id": e.uid, "brief": text, "sent_to": to}))
}

/// The meeting `event_id` names in the employee's own calendar.
async fn own_event(
    rt: &Runtime,
    me: &Sender,
    kind: &str,
    p: &Json,
) -> Result<CalendarEvent, CapabilityError> {
    let uid = param(p, "event_id")
        .ok_or_else(|| CapabilityError::Invalid(format!("`{kind}` needs `event_id`")))?;
    rt.hub
        .calendar
        .event(&rt.tenant, &me.email, uid)
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
