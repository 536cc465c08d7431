//! Focus time: blocks of free working time kept for focused work.

use super::*;

/// `calendar.block`: `hours` of focus time in blocks of up to two hours, at most one a
/// day, in the free working time of this or next week, in the calendar of `for` — the
/// employee itself or its human manager (the default when it has one); anyone else's
/// is refused.
pub(super) async fn block(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, manager, entry, now) = (a.hands, a.me, a.manager, a.entry, Utc::now());
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
    let managers = manager.and_then(|m| match m {
        Manager::Human { email, .. } => Some(email.to_ascii_lowercase()),
        Manager::Employee { .. } => None,
    });
    let owner = match param(p, "for").map(|f| bare_address(f).to_ascii_lowercase()) {
        Some(f) if f == me.email || Some(&f) == managers.as_ref() => f,
        Some(f) => {
            return Err(CapabilityError::Invalid(format!(
                "I keep time only in my own calendar or my manager's, not {f}'s"
            )));
        }
        None => managers.unwrap_or_else(|| me.email.clone()),
    };
    let title = param(p, "title").unwrap_or("Focus time");
    let _turn = one_booking_at_a_time(hands).await?;
    let hours_of = hands.calendar.config.hours_of(&owner);
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
    // Local midnight, or the first hour of the day where a clock change skips it.
    let midnight = |d: chrono::NaiveDate| {
        [
            NaiveTime::MIN,
            NaiveTime::from_hms_opt(1, 0, 0).expect("01:00 is a time"),
        ]
        .into_iter()
        .find_map(|t| d.and_time(t).and_local_timezone(hours_of.tz).earliest())
        .map_or(now, |t| t.with_timezone(&Utc))
    };
    let from = midnight(week_start).max(now);
    let to = midnight(week_start + Duration::days(7));
    let (mut people, _) =
        availability(hands, std::slice::from_ref(&owner), from, to, &me.email).await?;
    let mut remaining = Duration::minutes((hours * 60.0).round() as i64);
    let mut booked: Vec<CalendarEvent> = Vec::new();
    for n in 0..40 {
        if remaining <= Duration::zero() {
            break;
        }
        let uid = format!(
            "{}@{}",
            uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("{}:{n}", entry.key).as_bytes()
            ),
            hands.domain
        );
        // A retry keeps the blocks the first run made.
        let e = match hands
            .calendar
            .driver
            .event(&hands.tenant, &me.email, &uid)
            .await?
        {
            Some(made) => made,
            None => {
                let len = remaining.min(Duration::hours(2)).max(Duration::minutes(15));
                let Some(s) = slots::find(&people, &Query::new(from, to, len, 1))
                    .into_iter()
                    .next()
                else {
                    break;
                };
                CalendarEvent {
                    uid,
                    title: title.to_string(),
                    description: format!(
                        "Blocked by {} to keep time free for focused work.",
                        me.name
                    ),
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
                    focus: true,
                    recurring: false,
                    changed_by: None,
                }
            }
        };
        put_everywhere(hands, &e).await?;
        remaining -= e.duration();
        // One block a day: spread focus over the week.
        let day = e.start.with_timezone(&hours_of.tz).date_naive();
        people[0].busy.push(Busy {
            start: midnight(day),
            end: midnight(day + Duration::days(1)),
            uid: String::new(),
            priority: Priority::High,
            movable: false,
        });
        booked.push(e);
    }
    let blocked: Duration = booked.iter().map(CalendarEvent::duration).sum();
    Ok(json!({
        "calendar": owner,
        "blocks": booked.iter().map(|e| json!({"event_id": e.uid, "start": e.start, "end": e.end})).collect::<Vec<_>>(),
        "hours": blocked.num_minutes() as f64 / 60.0,
        "text": format!("Blocked {:.1} h of {title} in {owner}'s calendar", blocked.num_minutes() as f64 / 60.0),
    }))
}
