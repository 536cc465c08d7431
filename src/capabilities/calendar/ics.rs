//! Calendar events as iCalendar (RFC 5545), the format CalDAV servers store: one
//! VEVENT per object, times in UTC, organiser and attendees as `mailto:` addresses,
//! priority on iCalendar's 1 (high) to 9 (low) scale. Reading accepts what calendar
//! clients write: times with a TZID, all-day dates, folded lines, events with no
//! priority.

use crate::model::{CalendarEvent, EventStatus, Priority, bare_address, display_name};
use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{
    Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike, Property,
};

/// The property naming the action that made a version.
const CHANGED_BY: &str = "X-EMPLA-ACTION";

/// The category that marks time kept free for focused work.
const FOCUS: &str = "FOCUS";

/// The event as an iCalendar object.
pub fn to_ics(e: &CalendarEvent, now: DateTime<Utc>) -> String {
    let mut ev = Event::new();
    ev.uid(&e.uid)
        .summary(&e.title)
        .starts(e.start)
        .ends(e.end)
        .sequence(e.sequence)
        .timestamp(now)
        .status(match e.status {
            EventStatus::Confirmed => icalendar::EventStatus::Confirmed,
            EventStatus::Cancelled => icalendar::EventStatus::Cancelled,
        })
        .add_property(
            "PRIORITY",
            match e.priority {
                Priority::High => "1",
                Priority::Medium => "5",
                Priority::Low => "9",
            },
        );
    if !e.description.is_empty() {
        ev.description(&e.description);
    }
    if e.focus {
        ev.add_property("CATEGORIES", FOCUS);
    }
    if let Some(key) = &e.changed_by {
        ev.add_property(CHANGED_BY, key);
    }
    ev.append_property(person("ORGANIZER", &e.organizer));
    for a in &e.attendees {
        ev.append_multi_property(person("ATTENDEE", a));
    }
    let mut cal = Calendar::new();
    cal.push(ev.done());
    cal.done().to_string()
}

fn person(key: &str, who: &str) -> Property {
    let mut p = Property::new(key, format!("mailto:{}", bare_address(who)));
    if let Some(name) = display_name(who) {
        p.add_parameter("CN", name);
    }
    p.done()
}

/// The events in an iCalendar object, whose times without a zone of their own (floating
/// times, all-day dates, a TZID no time-zone database knows) are in `tz`, the
/// calendar owner's. Events without a UID or a start are skipped; an event without an
/// end lasts an hour (a day when it is all-day). An event of a recurring series (a rule,
/// extra dates, or an instance the server expanded) is marked `recurring`.
pub fn from_ics(text: &str, tz: Tz) -> Result<Vec<CalendarEvent>, String> {
    let cal: Calendar = text
        .parse()
        .map_err(|e| format!("not an iCalendar object: {e}"))?;
    let mut out = Vec::new();
    for ev in cal.events() {
        let utc = |t| utc(t, tz);
        let (Some(uid), Some(start)) = (ev.get_uid(), ev.get_start().and_then(utc)) else {
            continue;
        };
        let all_day = matches!(ev.get_start(), Some(DatePerhapsTime::Date(_)));
        let end = ev.get_end().and_then(utc).unwrap_or(
            start
                + if all_day {
                    Duration::days(1)
                } else {
                    Duration::hours(1)
                },
        );
        let who = |p: &Property| {
            let address = strip_mailto(p.value());
            match p.params().get("CN").map(|c| c.value().trim_matches('"')) {
                Some(name) if !name.is_empty() => format!("{name} <{address}>"),
                _ => address.to_string(),
            }
        };
        out.push(CalendarEvent {
            uid: uid.to_string(),
            title: ev.get_summary().unwrap_or("").to_string(),
            description: ev.get_description().unwrap_or("").to_string(),
            start,
            end: end.max(start),
            organizer: ev
                .properties()
                .get("ORGANIZER")
                .map(who)
                .unwrap_or_default(),
            attendees: ev
                .multi_properties()
                .get("ATTENDEE")
                .map(|v| v.iter().map(who).collect())
                .unwrap_or_default(),
            priority: match ev.get_priority() {
                Some(1..=4) => Priority::High,
                Some(6..=9) => Priority::Low,
                _ => Priority::Medium,
            },
            status: match ev.get_status() {
                Some(icalendar::EventStatus::Cancelled) => EventStatus::Cancelled,
                _ => EventStatus::Confirmed,
            },
            sequence: ev.get_sequence().unwrap_or(0),
            focus: ev
                .get_categories()
                .is_some_and(|c| c.iter().any(|c| c.eq_ignore_ascii_case(FOCUS))),
            changed_by: ev.property_value(CHANGED_BY).map(str::to_string),
            recurring: ["RRULE", "RDATE", "RECURRENCE-ID"].iter().any(|k| {
                ev.properties().contains_key(*k) || ev.multi_properties().contains_key(*k)
            }),
        });
    }
    Ok(out)
}

fn strip_mailto(v: &str) -> &str {
    let v = v.trim();
    v.get(..7)
        .filter(|p| p.eq_ignore_ascii_case("mailto:"))
        .map_or(v, |_| &v[7..])
}

/// A start or end in UTC; what carries no zone of its own is in `tz`.
fn utc(t: DatePerhapsTime, tz: Tz) -> Option<DateTime<Utc>> {
    let local = |n: NaiveDateTime, zone: Tz| {
        zone.from_local_datetime(&n)
            .earliest()
            // In a clock change's gap: the hour after.
            .or_else(|| {
                zone.from_local_datetime(&(n + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    };
    match t {
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => Some(t),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(n)) => local(n, tz),
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            let zone = tzid.parse::<Tz>().unwrap_or_else(|_| {
                tracing::debug!(%tzid, "an unknown TZID is read in the calendar owner's time zone");
                tz
            });
            local(date_time, zone)
        }
        DatePerhapsTime::Date(d) => local(d.and_time(NaiveTime::MIN), tz),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CalendarEvent {
        let start = Utc.with_ymd_and_hms(2026, 12, 8, 14, 0, 0).unwrap();
        CalendarEvent {
            uid: "e1@example.com".into(),
            title: "Renewal review, Acme; Q1".into(),
            description: "Agenda:\n1. usage\n2. pricing".into(),
            start,
            end: start + Duration::minutes(45),
            organizer: "Riley Quinn <riley.quinn@example.com>".into(),
            attendees: vec![
                "sarah@acme.com".into(),
                "Alex Morgan <alex@example.com>".into(),
            ],
            priority: Priority::High,
            status: EventStatus::Confirmed,
            sequence: 3,
            focus: false,
            recurring: false,
            changed_by: None,
        }
    }

    #[test]
    fn an_event_survives_the_round_trip_through_icalendar() {
        let mut e = sample();
        e.changed_by = Some("0194:12".into());
        let text = to_ics(&e, Utc::now());
        assert!(text.contains("BEGIN:VEVENT"), "{text}");
        assert!(text.contains("PRIORITY:1"), "{text}");
        assert_eq!(from_ics(&text, chrono_tz::UTC).unwrap(), vec![e.clone()]);
        e.focus = true;
        let text = to_ics(&e, Utc::now());
        assert!(text.contains("CATEGORIES:FOCUS"), "{text}");
        assert_eq!(from_ics(&text, chrono_tz::UTC).unwrap(), vec![e]);
    }

    #[test]
    fn what_calendar_clients_write_is_read() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\n\
            UID:abc\r\nDTSTAMP:20261201T100000Z\r\n\
            DTSTART;TZID=Europe/Berlin:20261208T100000\r\nDTEND;TZID=Europe/Berlin:20261208T11\r\n 0000\r\n\
            SUMMARY:Board\r\n  meeting\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:allday\r\nDTSTAMP:20261201T100000Z\r\nDTSTART;VALUE=DATE:20261209\r\nSUMMARY:Offsite\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nDTSTAMP:20261201T100000Z\r\nSUMMARY:no uid\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let events = from_ics(text, chrono_tz::UTC).unwrap();
        assert_eq!(events.len(), 2, "{events:?}");
        let board = &events[0];
        assert_eq!(
            board.start,
            Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0).unwrap()
        );
        assert_eq!(
            board.end,
            Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap()
        );
        assert_eq!(board.title, "Board meeting");
        assert_eq!(board.status, EventStatus::Cancelled);
        assert_eq!(board.priority, Priority::Medium);
        assert_eq!(events[1].duration(), Duration::days(1));
        let e = from_ics("not a calendar", chrono_tz::UTC).unwrap_err();
        assert!(e.starts_with("not an iCalendar object"), "{e}");
    }

    #[test]
    fn times_without_a_known_zone_are_the_owners_and_series_are_marked() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n\
            BEGIN:VEVENT\r\nUID:allday\r\nDTSTAMP:20261201T100000Z\r\nDTSTART;VALUE=DATE:20261209\r\nSUMMARY:Offsite\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:floating\r\nDTSTAMP:20261201T100000Z\r\nDTSTART:20261209T090000\r\nDTEND:20261209T100000\r\nSUMMARY:Call\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:outlook\r\nDTSTAMP:20261201T100000Z\r\nDTSTART;TZID=W. Europe Standard Time:20261209T140000\r\nDTEND;TZID=W. Europe Standard Time:20261209T150000\r\nSUMMARY:Sync\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20261201T100000Z\r\nDTSTART:20261201T160000Z\r\nDTEND:20261201T163000Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:1:1\r\nEND:VEVENT\r\n\
            END:VCALENDAR\r\n";
        // Los Angeles is UTC-8 in December.
        let events = from_ics(text, chrono_tz::America::Los_Angeles).unwrap();
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 9, h, 0, 0).unwrap();
        assert_eq!(
            events[0].start,
            at(8),
            "the all-day event starts at local midnight"
        );
        assert_eq!(events[0].end, at(8) + Duration::days(1));
        assert_eq!(events[1].start, at(17));
        assert_eq!(
            events[2].start,
            at(22),
            "an unknown TZID is read as the owner's"
        );
        assert!(!events[2].recurring);
        assert!(events[3].recurring);
    }
}
