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

use super::interaction::{deliver_mail, own_mail};
use super::node::Node;
use super::registry::accept;
use super::runtime::Runtime;
use crate::capabilities::calendar::slots::{self, Availability, Busy, Query, Slot};
use crate::capabilities::calendar::{CalDav, CalendarDriver, LocalCalendar};
use crate::capabilities::email::{self, Logins, message_id_for};
use crate::capabilities::{CapabilityError, Sender, param};
use crate::config::{CalendarConfig, CalendarDriverKind, MailConfig};
use crate::memory::{Recall, Store, Viewer};
use crate::model::{
    CalendarEvent, EmployeeId, EventStatus, FieldError, Manager, NewEvent, NewMeeting, OutboxEntry,
    Priority, Proposal, attendee_list, bare_address, clean_message_id, display_name, is_address,
};
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
            Arc::new(CalDav::new(&cfg.url, &cfg.collection, logins)?)
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
        if to <= from {
            return Err(CalendarError::Invalid(vec![FieldError::new(
                "to",
                "must be after `from`",
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
        let now = Utc::now();
        let errors = m.validate(now);
        if !errors.is_empty() {
            return Err(CalendarError::Invalid(errors));
        }
        let (me, _) = super::interaction::sender_of(&self.rt, id)
            .await
            .ok_or(CalendarError::NotFound)?;
        let uid = format!("{}@{}", uuid::Uuid::now_v7(), self.rt.hub.domain);
        Ok(book(&self.rt, &me, &m, uid, "api", now).await?)
    }

    /// The best free times for `people` (addresses or employee handles).
    pub async fn free_times(
        &self,
        people: &[String],
        duration_minutes: i64,
        within_days: i64,
        count: usize,
    ) -> Result<Slots, CalendarError> {
        let mut errors = Vec::new();
        let mut owners = Vec::new();
        for (i, p) in people.iter().enumerate() {
            match self.calendar_owner(p).await {
                Ok(o) if !owners.contains(&o) => owners.push(o),
                Ok(_) => {}
                Err(_) => errors.push(FieldError::new(
                    format!("attendees[{i}]"),
                    format!("must be a mail address or an employee, got {p:?}"),
                )),
            }
        }
        if owners.is_empty() {
            errors.push(FieldError::new(
                "attendees",
                "must name at least one person",
            ));
        }
        if !(5..=slots_max_minutes()).contains(&duration_minutes) {
            errors.push(FieldError::new(
                "duration_minutes",
                format!("must be between 5 and {} minutes", slots_max_minutes()),
            ));
        }
        if !(1..=90).contains(&within_days) {
            errors.push(FieldError::new("within_days", "must be between 1 and 90"));
        }
        if !(1..=20).contains(&count) {
            errors.push(FieldError::new("count", "must be between 1 and 20"));
        }
        if !errors.is_empty() {
            return Err(CalendarError::Invalid(errors));
        }
        let now = Utc::now();
        let q = Query {
            from: now,
            to: now + Duration::days(within_days),
            duration: Duration::minutes(duration_minutes),
            count,
            bump_below: None,
        };
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

/// Runs one `calendar.*` action.
pub(crate) async fn run(
    rt: &Arc<Runtime>,
    me: &Sender,
    manager: Option<&Manager>,
    entry: &OutboxEntry,
) -> Result<Json, CapabilityError> {
    let p = &entry.params;
    let now = Utc::now();
    match entry.kind.as_str() {
        "calendar.find_slots" => {
            let (owners, unresolved) = addresses(&p["attendees"], &me.email);
            let q = Query {
                from: now,
                to: now + Duration::days(int(p, "within_days").unwrap_or(7).clamp(1, 90)),
                duration: Duration::minutes(minutes(p, 30)?),
                count: int(p, "count").unwrap_or(3).clamp(1, 20) as usize,
                bump_below: None,
            };
            let (people, unreached) = availability(rt, &owners, q.from, q.to, &me.email).await?;
            let found = slots::find(&people, &q);
            let tz = rt.hub.calendar_cfg.hours_of(&me.email).tz;
            let text = found
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{}. {}", i + 1, span(s.start, s.end, tz)))
                .collect::<Vec<_>>()
                .join("\n");
            Ok(json!({
                "slots": found,
                "text": if found.is_empty() { "No time when everyone is free.".to_string() } else { text },
                "attendees": owners,
                "unresolved": unresolved,
                "unreached": unreached,
            }))
        }
        "calendar.propose" | "calendar.propose_meetings" => propose(rt, me, entry, now).await,
        "calendar.schedule" => {
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
                },
            };
            invalid_if(m.validate(now))?;
            let uid = format!(
                "{}@{}",
                uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, entry.key.as_bytes()),
                rt.hub.domain
            );
            let b = book(rt, me, &m, uid, &entry.key, now).await?;
            let mut out = serde_json::to_value(&b).expect("a booking serialises");
            out["unresolved"] = json!(unresolved);
            out["text"] = json!(format!(
                "Booked {}: {}",
                b.event.title,
                span(
                    b.event.start,
                    b.event.end,
                    rt.hub.calendar_cfg.hours_of(&me.email).tz
                )
            ));
            Ok(out)
        }
        "calendar.reschedule" | "calendar.cancel" => {
            let uid = param(p, "event_id").ok_or_else(|| {
                CapabilityError::Invalid(format!("`{}` needs `event_id`", entry.kind))
            })?;
            let mut e = rt
                .hub
                .calendar
                .event(&rt.tenant, &me.email, uid)
                .await?
                .ok_or_else(|| {
                    CapabilityError::Invalid(format!("there is no meeting {uid} in my calendar"))
                })?;
            if !bare_address(&e.organizer).eq_ignore_ascii_case(&me.email) {
                return Err(CapabilityError::Invalid(format!(
                    "{} organised \"{}\"; only the organiser changes it",
                    e.organizer, e.title
                )));
            }
            let was = e.start;
            if entry.kind == "calendar.cancel" {
                e.status = EventStatus::Cancelled;
            } else {
                let start = match param(p, "start").and_then(|s| s.parse::<DateTime<Utc>>().ok()) {
                    Some(s) => s,
                    None => next_free(rt, &e, now, &me.email).await?.ok_or_else(|| {
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
            let unreached = put_everywhere(rt, &e).await?;
            let verb = if e.status == EventStatus::Cancelled {
                "Cancelled"
            } else {
                "Moved"
            };
            invite(rt, me, &entry.key, &e, verb).await?;
            Ok(
                json!({"event_id": e.uid, "status": e.status, "from": was, "start": e.start, "end": e.end, "unreached": unreached}),
            )
        }
        "calendar.block" => block(rt, me, manager, entry, now).await,
        "calendar.brief" => {
            let uid = param(p, "event_id").ok_or_else(|| {
                CapabilityError::Invalid("`calendar.brief` needs `event_id`".into())
            })?;
            let e = rt
                .hub
                .calendar
                .event(&rt.tenant, &me.email, uid)
                .await?
                .ok_or_else(|| {
                    CapabilityError::Invalid(format!("there is no meeting {uid} in my calendar"))
                })?;
            let text = brief(rt, me, &e).await?;
            let to = param(p, "send_to").map(str::to_string);
            if let Some(to) = to.as_deref().filter(|t| is_address(bare_address(t))) {
                let m = own_mail(
                    rt,
                    me,
                    entry,
                    to.to_string(),
                    format!("Brief: {}", e.title),
                    text.clone(),
                );
                deliver_mail(rt, &m).await?;
            }
            Ok(json!({"event_id": e.uid, "brief": text, "sent_to": to}))
        }
        other => Err(CapabilityError::Invalid(format!(
            "`{other}` is not a calendar action; use calendar.find_slots, calendar.propose, calendar.schedule, calendar.reschedule, calendar.cancel, calendar.block or calendar.brief"
        ))),
    }
}

/// `calendar.propose`: the best few times for everyone, offered by mail (in the thread
/// of `in_reply_to` when given) as a numbered list; the offer is kept so the reply that
/// picks one can be booked (`calendar.schedule` with `proposal` and `choice`).
async fn propose(
    rt: &Arc<Runtime>,
    me: &Sender,
    entry: &OutboxEntry,
    now: DateTime<Utc>,
) -> Result<Json, CapabilityError> {
    let p = &entry.params;
    let (owners, unresolved) = addresses(&p["attendees"], &me.email);
    let attendees: Vec<String> = attendee_list(&p["attendees"])
        .into_iter()
        .filter(|a| is_address(bare_address(a)) && !bare_address(a).eq_ignore_ascii_case(&me.email))
        .collect();
    if attendees.is_empty() {
        return Err(CapabilityError::Invalid(format!(
            "`{}` needs `attendees`: the addresses to offer times to",
            entry.kind
        )));
    }
    let title = param(p, "title")
        .or(param(p, "purpose"))
        .unwrap_or("Meeting");
    let duration = minutes(p, 30)?;
    // Not within the hour: the other side needs time to answer.
    let from = now + Duration::hours(1);
    let q = Query {
        from,
        to: from + Duration::days(int(p, "within_days").unwrap_or(7).clamp(1, 90)),
        duration: Duration::minutes(duration),
        count: int(p, "count").unwrap_or(3).clamp(1, 5) as usize,
        bump_below: None,
    };
    let (people, _) = availability(rt, &owners, q.from, q.to, &me.email).await?;
    let found = slots::find(&people, &q);
    if found.is_empty() {
        return Err(CapabilityError::Invalid(format!(
            "no time in the next {} days when {} are all free within their working hours",
            (q.to - q.from).num_days(),
            owners.join(", ")
        )));
    }
    let mut offered: Vec<Slot> = found;
    offered.sort_by_key(|s| s.start);
    let tz = rt.hub.calendar_cfg.hours_of(bare_address(&attendees[0])).tz;
    let list = offered
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {}", i + 1, span(s.start, s.end, tz)))
        .collect::<Vec<_>>()
        .join("\n");
    let body = format!(
        "{}\n\n{list}\n\nReply with the number of the time that suits you.\n\n{}",
        param(p, "intro").unwrap_or("Here are some times that work for me:"),
        param(p, "signoff")
            .map(str::to_string)
            .unwrap_or_else(|| format!("Best,\n{}", me.name)),
    );
    let message_id = message_id_for(&entry.key, &rt.hub.domain);
    rt.store
        .put_proposal(
            &rt.tenant,
            &Proposal {
                message_id: message_id.clone(),
                employee_id: me.id,
                title: title.to_string(),
                attendees: attendees.clone(),
                duration_minutes: duration,
                priority: param(p, "priority")
                    .and_then(Priority::parse)
                    .unwrap_or(Priority::Medium),
                slots: offered.iter().map(|s| s.start).collect(),
                created_at: now,
            },
        )
        .await?;
    let m = match param(p, "in_reply_to") {
        Some(answered) => {
            let original = rt
                .store
                .mail(&rt.tenant, clean_message_id(answered))
                .await?;
            email::compose(
                "email.reply",
                &json!({"in_reply_to": answered, "body": body}),
                me,
                original.as_ref(),
                message_id.clone(),
                now,
            )?
        }
        None => email::compose(
            "email.send",
            &json!({"to": attendees.join(", "), "subject": format!("Times for {title}"), "body": body}),
            me,
            None,
            message_id.clone(),
            now,
        )?,
    };
    deliver_mail(rt, &m).await?;
    Ok(json!({
        "message_id": message_id,
        "to": m.to,
        "slots": offered,
        "unresolved": unresolved,
        "text": list,
    }))
}

/// The meeting a reply to an offer picks.
async fn chosen(
    rt: &Runtime,
    me: &Sender,
    offer: &str,
    reply: &str,
    now: DateTime<Utc>,
) -> Result<NewMeeting, CapabilityError> {
    let prop = rt
        .store
        .proposal(&rt.tenant, clean_message_id(offer))
        .await?
        .filter(|p| p.employee_id == me.id)
        .ok_or_else(|| {
            CapabilityError::Invalid(format!("I offered no times in message {offer}"))
        })?;
    let tz = prop
        .attendees
        .first()
        .map(|a| rt.hub.calendar_cfg.hours_of(bare_address(a)).tz)
        .unwrap_or(chrono_tz::UTC);
    let i = prop.pick(reply, tz).ok_or_else(|| {
        CapabilityError::Invalid(format!(
            "the reply does not say which of the {} times suits; it should name one by its number",
            prop.slots.len()
        ))
    })?;
    Ok(NewMeeting {
        title: prop.title,
        attendees: prop.attendees,
        // A time already past is replaced by the best free one.
        start: Some(prop.slots[i]).filter(|s| *s > now),
        duration_minutes: prop.duration_minutes,
        priority: Some(prop.priority),
        description: None,
        within_days: None,
    })
}

fn invalid_if(errors: Vec<FieldError>) -> Result<(), CapabilityError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CapabilityError::Invalid(
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
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

/// Each person's working hours and busy times in `[from, to)`; those whose calendar
/// cannot be reached are answered too, free within their hours.
async fn availability(
    rt: &Runtime,
    owners: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    booker: &str,
) -> Result<(Vec<Availability>, Vec<String>), CapabilityError> {
    let mut people = Vec::with_capacity(owners.len());
    let mut unreached = Vec::new();
    for o in owners {
        let mut busy = Vec::new();
        if rt.hub.calendar.reaches(o) {
            for e in rt.hub.calendar.events(&rt.tenant, o, from, to).await? {
                if e.status == EventStatus::Confirmed {
                    busy.push(Busy {
                        start: e.start,
                        end: e.end,
                        movable: !booker.is_empty()
                            && bare_address(&e.organizer).eq_ignore_ascii_case(booker),
                        priority: e.priority,
                        uid: e.uid,
                    });
                }
            }
        } else {
            unreached.push(o.clone());
        }
        people.push(Availability {
            address: o.clone(),
            hours: rt.hub.calendar_cfg.hours_of(o),
            busy,
        });
    }
    Ok((people, unreached))
}

/// Books `m` with `me` as organiser, under `uid`. `key` names what asked for it (an
/// outbox key), so the invitations of a retry carry the same Message-ID.
pub(crate) async fn book(
    rt: &Arc<Runtime>,
    me: &Sender,
    m: &NewMeeting,
    uid: String,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Booked, CapabilityError> {
    let cal = &rt.hub.calendar;
    // A retry after a crash: the meeting is booked already; make sure every copy and
    // invitation is out, and book nothing new.
    if let Some(e) = cal.event(&rt.tenant, &me.email, &uid).await? {
        let unreached = put_everywhere(rt, &e).await?;
        invite(rt, me, key, &e, "Invitation").await?;
        return Ok(Booked {
            event: e,
            moved: Vec::new(),
            unreached,
        });
    }
    let (owners, _) = addresses(&json!(m.attendees), &me.email);
    let priority = m.priority.unwrap_or(Priority::Medium);
    let duration = Duration::minutes(m.duration_minutes);
    let from = m.start.unwrap_or(now).max(now);
    let within = Duration::days(m.within_days.unwrap_or(7));
    let (people, unreached) =
        availability(rt, &owners, from, from + within + duration, &me.email).await?;
    let mut q = Query {
        from,
        to: from + within,
        duration,
        count: 1,
        bump_below: None,
    };
    // The time asked for, if only meetings that may move are in its way; else the
    // best free time, else the best time once meetings of lower priority move.
    let asked = m.start.filter(|s| {
        people.iter().all(|a| {
            slots::conflicts(a, *s, *s + duration, Some(priority))
                .next()
                .is_none()
        })
    });
    let start = match asked {
        Some(s) => s,
        None => match slots::find(&people, &q).first() {
            Some(s) => s.start,
            None => {
                q.bump_below = Some(priority);
                slots::find(&people, &q).first().map(|s| s.start).ok_or_else(|| {
                    CapabilityError::Invalid(format!(
                        "no time within {} days when {} are all free within their working hours; ask for a later window (`within_days`) or a shorter meeting",
                        within.num_days(),
                        owners.join(", ")
                    ))
                })?
            }
        },
    };
    let end = start + duration;
    let event = CalendarEvent {
        uid,
        title: m.title.trim().to_string(),
        description: m.description.clone().unwrap_or_default(),
        start,
        end,
        organizer: me.mailbox(),
        attendees: m.attendees.clone(),
        priority,
        status: EventStatus::Confirmed,
        sequence: 0,
    };
    // What must move: every meeting in anyone's way (all of them movable by now).
    let mut bumped: Vec<String> = Vec::new();
    for a in &people {
        for b in slots::conflicts(a, start, end, None) {
            if !bumped.contains(&b.uid) {
                bumped.push(b.uid.clone());
            }
        }
    }
    let mut reached = put_everywhere(rt, &event).await?;
    invite(rt, me, key, &event, "Invitation").await?;
    let mut moved = Vec::new();
    for uid in bumped {
        let Some(mut other) = cal.event(&rt.tenant, &me.email, &uid).await? else {
            continue;
        };
        let Some(to) = next_free(rt, &other, now, &me.email).await? else {
            tracing::warn!(meeting = %other.uid, "a meeting in the way could not be moved: no free time in 7 days");
            continue;
        };
        let was = other.start;
        let d = other.duration();
        other.start = to;
        other.end = to + d;
        other.sequence += 1;
        reached.extend(put_everywhere(rt, &other).await?);
        invite(rt, me, key, &other, "Moved").await?;
        moved.push(Moved {
            uid,
            title: other.title.clone(),
            from: was,
            to,
        });
    }
    let mut unreached: Vec<String> = unreached.into_iter().chain(reached).collect();
    unreached.sort();
    unreached.dedup();
    Ok(Booked {
        event,
        moved,
        unreached,
    })
}

/// The next time after `now` that suits everyone in `e` (its own slot not counting),
/// within a week.
async fn next_free(
    rt: &Runtime,
    e: &CalendarEvent,
    now: DateTime<Utc>,
    booker: &str,
) -> Result<Option<DateTime<Utc>>, CapabilityError> {
    let owners = e.participants();
    let from = now.max(e.start.min(now + Duration::days(1)));
    let to = from + Duration::days(7);
    let (mut people, _) = availability(rt, &owners, from, to + e.duration(), booker).await?;
    for a in &mut people {
        a.busy.retain(|b| b.uid != e.uid);
    }
    let q = Query {
        from,
        to,
        duration: e.duration(),
        count: 1,
        bump_below: None,
    };
    Ok(slots::find(&people, &q).first().map(|s| s.start))
}

/// Puts `e` in every participant's calendar the driver reaches and tells each
/// employee among them. Answers the participants not reached. The organiser's copy
/// must be stored; another's failing is logged and reported as not reached.
async fn put_everywhere(
    rt: &Arc<Runtime>,
    e: &CalendarEvent,
) -> Result<Vec<String>, CapabilityError> {
    let organizer = bare_address(&e.organizer).to_ascii_lowercase();
    let mut unreached = Vec::new();
    for p in e.participants() {
        if !rt.hub.calendar.reaches(&p) {
            unreached.push(p);
            continue;
        }
        match rt.hub.calendar.put(&rt.tenant, &p, e).await {
            Ok(()) => {}
            Err(err) if p != organizer => {
                tracing::warn!(calendar = %p, error = %err, "a participant's copy of a meeting could not be stored");
                unreached.push(p);
            }
            Err(err) => return Err(err),
        }
    }
    for p in e.participants() {
        if let Some(id) = rt.directory.resolve(&p) {
            tell(rt, id, e).await.map_err(|err| {
                CapabilityError::Service(format!("{p} could not be told of the meeting: {err}"))
            })?;
        }
    }
    Ok(unreached)
}

/// Commits a `calendar.event` for `e` to employee `id`'s inbox, once per version.
pub(crate) async fn tell(
    rt: &Arc<Runtime>,
    id: EmployeeId,
    e: &CalendarEvent,
) -> Result<(), super::node::SubmitError> {
    let new = NewEvent {
        kind: CALENDAR_EVENT.into(),
        source: "calendar".into(),
        payload: json!({
            "id": e.uid,
            "title": e.title,
            "start": e.start,
            "end": e.end,
            "organizer": e.organizer,
            "attendees": e.attendees,
            "priority": e.priority,
            "status": e.status,
            "description": e.description,
        }),
        idempotency_key: Some(version_key(e)),
    };
    accept(rt, id, new).await.map(|_| ())
}

/// One key per version of a meeting: a change a calendar client makes without raising
/// the sequence still counts as new.
fn version_key(e: &CalendarEvent) -> String {
    format!(
        "calendar:{}:{}:{}:{}:{}",
        e.uid,
        e.sequence,
        e.start.timestamp(),
        e.end.timestamp(),
        e.status.as_str()
    )
}

/// Mails the humans in `e` (not the organiser, not employees) what changed.
async fn invite(
    rt: &Arc<Runtime>,
    me: &Sender,
    key: &str,
    e: &CalendarEvent,
    verb: &str,
) -> Result<(), CapabilityError> {
    let humans: Vec<&String> = e
        .attendees
        .iter()
        .filter(|a| {
            let b = bare_address(a);
            !b.eq_ignore_ascii_case(&me.email) && rt.directory.resolve(b).is_none()
        })
        .collect();
    if humans.is_empty() {
        return Ok(());
    }
    let tz = rt.hub.calendar_cfg.hours_of(bare_address(humans[0])).tz;
    let when = span(e.start, e.end, tz);
    let mut body = format!(
        "{verb}: {}\nWhen: {when}\nOrganiser: {}\nWith: {}\n",
        e.title,
        e.organizer,
        e.attendees.join(", ")
    );
    if !e.description.is_empty() {
        body.push_str(&format!("\n{}\n", e.description));
    }
    body.push_str(&format!("\n{},\n{}", "Best", me.name));
    let m = crate::model::MailMessage {
        message_id: message_id_for(&format!("{key}:{}", version_key(e)), &rt.hub.domain),
        from: me.mailbox(),
        to: humans
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        cc: String::new(),
        subject: format!("{verb}: {} ({when})", e.title),
        body,
        in_reply_to: None,
        references: Vec::new(),
        attachments: Vec::new(),
        at: Utc::now(),
    };
    deliver_mail(rt, &m).await
}

/// `calendar.block`: `hours` of focus time in blocks of up to two hours, in the free
/// working time of this or next week, in the calendar of `for` (by default the
/// employee's human manager, else the employee's own).
async fn block(
    rt: &Arc<Runtime>,
    me: &Sender,
    manager: Option<&Manager>,
    entry: &OutboxEntry,
    now: DateTime<Utc>,
) -> Result<Json, CapabilityError> {
    let p = &entry.params;
    let hours = p["hours"]
        .as_f64()
        .or_else(|| param(p, "hours").and_then(|s| s.parse().ok()))
        .unwrap_or(2.0);
    if !(0.25..=40.0).contains(&hours) {
        return Err(CapabilityError::Invalid(format!(
            "`hours` must be between 0.25 and 40, got {hours}"
        )));
    }
    let owner = param(p, "for")
        .map(|f| bare_address(f).to_ascii_lowercase())
        .or_else(|| {
            manager.and_then(|m| match m {
                Manager::Human { email, .. } => Some(email.to_ascii_lowercase()),
                Manager::Employee { .. } => None,
            })
        })
        .unwrap_or_else(|| me.email.clone());
    let title = param(p, "title").unwrap_or("Focus time");
    let hours_of = rt.hub.calendar_cfg.hours_of(&owner);
    let local_today = now.with_timezone(&hours_of.tz).date_naive();
    let monday = local_today - Duration::days(local_today.weekday().num_days_from_monday() as i64);
    let week_start = match param(p, "week") {
        Some("this") | None => monday,
        Some("next") => monday + Duration::days(7),
        Some(other) => {
            return Err(CapabilityError::Invalid(format!(
                "`week` must be \"this\" or \"next\", got {other:?}"
            )));
        }
    };
    let midnight = |d: chrono::NaiveDate| {
        d.and_time(NaiveTime::MIN)
            .and_local_timezone(hours_of.tz)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    let from = midnight(week_start).max(now);
    let to = midnight(week_start + Duration::days(7));
    let mut remaining = Duration::minutes((hours * 60.0).round() as i64);
    let mut booked = Vec::new();
    let mut n = 0;
    while remaining > Duration::zero() && n < 40 {
        let len = remaining.min(Duration::hours(2)).max(Duration::minutes(15));
        let (mut people, _) =
            availability(rt, std::slice::from_ref(&owner), from, to, &me.email).await?;
        // One block a day: spread focus over the week.
        for d in &booked {
            let d: &CalendarEvent = d;
            let day = d.start.with_timezone(&hours_of.tz).date_naive();
            people[0].busy.push(Busy {
                start: midnight(day),
                end: midnight(day + Duration::days(1)),
                uid: String::new(),
                priority: Priority::High,
                movable: false,
            });
        }
        let q = Query {
            from,
            to,
            duration: len,
            count: 1,
            bump_below: None,
        };
        let Some(s) = slots::find(&people, &q).into_iter().next() else {
            break;
        };
        let e = CalendarEvent {
            uid: format!(
                "{}@{}",
                uuid::Uuid::new_v5(
                    &uuid::Uuid::NAMESPACE_OID,
                    format!("{}:{n}", entry.key).as_bytes()
                ),
                rt.hub.domain
            ),
            title: title.to_string(),
            description: format!("Blocked by {} to keep time free for focused work.", me.name),
            start: s.start,
            end: s.end,
            organizer: me.mailbox(),
            attendees: if owner == me.email {
                Vec::new()
            } else {
                vec![owner.clone()]
            },
            priority: Priority::Low,
            status: EventStatus::Confirmed,
            sequence: 0,
        };
        put_everywhere(rt, &e).await?;
        remaining -= len;
        booked.push(e);
        n += 1;
    }
    let blocked: Duration = booked.iter().map(CalendarEvent::duration).sum();
    Ok(json!({
        "calendar": owner,
        "blocks": booked.iter().map(|e| json!({"event_id": e.uid, "start": e.start, "end": e.end})).collect::<Vec<_>>(),
        "hours": blocked.num_minutes() as f64 / 60.0,
        "text": format!("Blocked {:.1} h of {title} in {owner}'s calendar", blocked.num_minutes() as f64 / 60.0),
    }))
}

/// What to know before a meeting: when and with whom, the latest exchanges with each
/// participant, what the company knows about them, and what else the employee
/// remembers about the subject.
async fn brief(rt: &Runtime, me: &Sender, e: &CalendarEvent) -> Result<String, CapabilityError> {
    let tz = rt.hub.calendar_cfg.hours_of(&me.email).tz;
    let team = rt
        .store
        .employee(&rt.tenant, me.id)
        .await?
        .map(|p| p.team)
        .unwrap_or_default();
    let viewer = Viewer {
        employee: me.id,
        team,
    };
    let mut out = format!(
        "Brief: {}\nWhen: {}\nOrganiser: {}\nWith: {}\n",
        e.title,
        span(e.start, e.end, tz),
        e.organizer,
        if e.attendees.is_empty() {
            "(no one else)".to_string()
        } else {
            e.attendees.join(", ")
        }
    );
    if !e.description.is_empty() {
        out.push_str(&format!("Agenda: {}\n", e.description));
    }
    let mut seen: HashSet<String> = HashSet::new();
    for who in std::iter::once(&e.organizer).chain(&e.attendees) {
        let address = bare_address(who);
        if address.eq_ignore_ascii_case(&me.email) {
            continue;
        }
        let name = display_name(who).unwrap_or(address);
        out.push_str(&format!("\n{name}\n"));
        let r = Recall {
            with: Some(address.to_string()),
            limit: 3,
            ..Recall::default()
        };
        let items = rt.store.recall(&rt.tenant, &viewer, &r).await?;
        if items.is_empty() {
            out.push_str("- nothing in my memory with them yet\n");
        }
        for i in items {
            if seen.insert(i.id.clone()) {
                out.push_str(&format!(
                    "- {}: {}\n",
                    i.at.format("%-d %b"),
                    clip(&i.text, 200)
                ));
            }
        }
        let mut seeds = vec![crate::memory::text::term_string(name)];
        if let Some((_, domain)) = address.rsplit_once('@') {
            let org = domain.split('.').next().unwrap_or(domain);
            seeds.push(crate::memory::text::term_string(org));
        }
        seeds.retain(|s| !s.is_empty());
        for f in rt.store.facts(&rt.tenant, &viewer, &seeds, 1, 5, 0).await? {
            out.push_str(&format!("- {}\n", f.sentence()));
        }
    }
    let r = Recall {
        q: e.title.clone(),
        limit: 5,
        ..Recall::default()
    };
    let related: Vec<_> = rt
        .store
        .recall(&rt.tenant, &viewer, &r)
        .await?
        .into_iter()
        .filter(|i| !seen.contains(&i.id))
        .take(3)
        .collect();
    if !related.is_empty() {
        out.push_str(&format!("\nAbout \"{}\"\n", e.title));
        for i in related {
            out.push_str(&format!("- {}\n", clip(&i.text, 200)));
        }
    }
    Ok(out)
}

fn clip(s: &str, n: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// `Tue 8 Dec 2026, 10:00–10:45 Europe/Berlin`.
pub(crate) fn span(start: DateTime<Utc>, end: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let s = start.with_timezone(&tz);
    let e = end.with_timezone(&tz);
    let day = if s.date_naive() == e.date_naive() {
        e.format("%H:%M").to_string()
    } else {
        e.format("%a %-d %b %H:%M").to_string()
    };
    format!("{}–{day} {tz}", s.format("%a %-d %b %Y, %H:%M"))
}

/// With the CalDAV driver: reads each employee's calendar every `sync_every` and tells
/// it of meetings it has not perceived yet (someone else booked, moved or cancelled
/// them in a calendar client).
pub(crate) fn start_sync(rt: Arc<Runtime>) -> Option<JoinHandle<()>> {
    if rt.hub.calendar_cfg.driver != CalendarDriverKind::Caldav {
        return None;
    }
    Some(tokio::spawn(async move {
        let cfg = rt.hub.calendar_cfg.clone();
        let mut told: HashSet<String> = HashSet::new();
        let mut every = tokio::time::interval(cfg.sync_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = sync_once(&rt, &cfg, &mut told).await {
                tracing::warn!(error = %e, "calendar sync failed; retrying at the next interval");
            }
        }
    }))
}

async fn sync_once(
    rt: &Arc<Runtime>,
    cfg: &CalendarConfig,
    told: &mut HashSet<String>,
) -> Result<(), CapabilityError> {
    let now = Utc::now();
    let ahead = Duration::from_std(cfg.look_ahead).unwrap_or(Duration::days(7));
    for address in rt.hub.calendar.owners() {
        let address = address.as_str();
        let Some(id) = rt.directory.resolve(address) else {
            continue;
        };
        if rt.directory.status(id) == Some(crate::model::EmployeeStatus::Offboarded) {
            continue;
        }
        for e in rt
            .hub
            .calendar
            .events(&rt.tenant, address, now, now + ahead)
            .await?
        {
            let key = format!("{id}:{}", version_key(&e));
            if told.contains(&key) {
                continue;
            }
            match tell(rt, id, &e).await {
                Ok(()) => {
                    told.insert(key);
                }
                Err(err) => {
                    tracing::warn!(employee = %id, error = %err, "a meeting could not be handed to the employee")
                }
            }
        }
    }
    Ok(())
}
