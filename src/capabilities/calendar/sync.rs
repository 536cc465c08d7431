//! Calendars followed while the node runs: with the CalDAV driver, employees'
//! calendars are read every `sync_every`, so a meeting someone else put there is
//! perceived too; and where the chat shows a status (Slack with a user token), it
//! follows each employee's calendar — in a meeting, focusing, or neither.

use super::actions::{tell, version_key};
use super::{CalendarConfig, CalendarDriverKind};
use crate::capabilities::Hands;
use crate::capabilities::chat::Occupied;
use crate::model::{CalendarEvent, EventStatus};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The background tasks calendars need on this node.
pub(crate) fn start(hands: Arc<Hands>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    if hands.calendar.config.driver == CalendarDriverKind::Caldav {
        tasks.push(tokio::spawn(follow_calendars(hands.clone())));
    }
    if !hands.chat.transport.with_status().is_empty() {
        tasks.push(tokio::spawn(follow_status(hands)));
    }
    tasks
}

/// Reads each employee's calendar every `sync_every` and tells it of meetings it has
/// not perceived yet (someone else booked, moved or cancelled them).
async fn follow_calendars(hands: Arc<Hands>) {
    let cfg = hands.calendar.config.clone();
    let mut told: HashSet<String> = HashSet::new();
    let mut every = tokio::time::interval(cfg.sync_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        told = sync_once(&hands, &cfg, &told).await;
    }
}

/// One pass over every employee calendar the driver has a login for. Answers the
/// versions seen in this pass (what was told before and is still upcoming), so the
/// set stays as small as the calendars.
async fn sync_once(hands: &Hands, cfg: &CalendarConfig, told: &HashSet<String>) -> HashSet<String> {
    let now = Utc::now();
    let ahead = Duration::from_std(cfg.look_ahead).unwrap_or(Duration::days(7));
    let mut seen = HashSet::new();
    for address in hands.calendar.driver.owners() {
        let Some(id) = hands.employees.resolve(&address) else {
            continue;
        };
        if hands.employees.offboarded(id) {
            continue;
        }
        let events = match hands
            .calendar
            .driver
            .events(&hands.tenant, &address, now, now + ahead)
            .await
        {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(calendar = %address, error = %e, "an employee's calendar could not be read; trying again at the next pass");
                continue;
            }
        };
        for e in events {
            let key = format!("{id}:{}", version_key(&e));
            if told.contains(&key) || seen.contains(&key) {
                seen.insert(key);
                continue;
            }
            match tell(hands, id, &e).await {
                Ok(()) => {
                    seen.insert(key);
                }
                Err(err) => {
                    tracing::warn!(employee = %id, meeting = %e.uid, error = %err, "a meeting could not be handed to the employee; trying again at the next pass")
                }
            }
        }
    }
    seen
}

/// What `events` (of one calendar) have its owner doing at `now`.
fn occupied_at(events: &[CalendarEvent], now: DateTime<Utc>) -> Option<Occupied> {
    let current: Vec<&CalendarEvent> = events
        .iter()
        .filter(|e| e.status == EventStatus::Confirmed && e.start <= now && now < e.end)
        .collect();
    if current.iter().any(|e| !e.focus) {
        Some(Occupied::Meeting)
    } else if current.is_empty() {
        None
    } else {
        Some(Occupied::Focus)
    }
}

/// Every `sync_every` (at most every 30 s), shows in chat whether each employee whose
/// chat has a status is in a meeting or focusing; only changes are sent.
async fn follow_status(hands: Arc<Hands>) {
    let period = hands
        .calendar
        .config
        .sync_every
        .min(std::time::Duration::from_secs(30));
    let mut every = tokio::time::interval(period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shown: HashMap<String, Option<Occupied>> = HashMap::new();
    // An employee's address never changes: read once per handle.
    let mut addresses: HashMap<String, String> = HashMap::new();
    loop {
        every.tick().await;
        let now = Utc::now();
        for handle in hands.chat.transport.with_status() {
            if !addresses.contains_key(&handle) {
                let Some(id) = hands.employees.resolve(&handle) else {
                    continue;
                };
                let Ok(Some(profile)) = hands.store.employee(&hands.tenant, id).await else {
                    continue;
                };
                addresses.insert(handle.clone(), profile.email);
            }
            let email = &addresses[&handle];
            let events = match hands
                .calendar
                .driver
                .events(&hands.tenant, email, now, now + Duration::minutes(1))
                .await
            {
                Ok(events) => events,
                Err(e) => {
                    tracing::debug!(calendar = %email, error = %e, "calendar not read for the chat status");
                    continue;
                }
            };
            let occupied = occupied_at(&events, now);
            if shown.get(&handle) != Some(&occupied) {
                hands.chat.transport.show_occupied(&handle, occupied);
                shown.insert(handle, occupied);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;

    #[test]
    fn a_meeting_now_outweighs_focus_time_and_nothing_now_is_neither() {
        let now = Utc::now();
        let at = |from: i64, to: i64, focus: bool| CalendarEvent {
            uid: format!("{from}{focus}"),
            title: "t".into(),
            description: String::new(),
            start: now + Duration::minutes(from),
            end: now + Duration::minutes(to),
            organizer: "a@x.io".into(),
            attendees: Vec::new(),
            priority: Priority::Medium,
            status: EventStatus::Confirmed,
            sequence: 0,
            focus,
            recurring: false,
            changed_by: None,
        };
        assert_eq!(occupied_at(&[at(-5, 5, true)], now), Some(Occupied::Focus));
        assert_eq!(
            occupied_at(&[at(-5, 5, true), at(-1, 30, false)], now),
            Some(Occupied::Meeting)
        );
        assert_eq!(occupied_at(&[at(5, 30, false)], now), None);
        let mut cancelled = at(-5, 5, false);
        cancelled.status = EventStatus::Cancelled;
        assert_eq!(occupied_at(&[cancelled], now), None);
    }
}
