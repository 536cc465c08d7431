//! Focus time: blocks of free working time kept for focused work.

use super::*;

/// `calendar.block`: `hours` of focus time in blocks of up to two hours, in the free
/// working time of this or next week, in the calendar of `for` (by default the
/// employee's human manager, else the employee's own).
pub(super) async fn block(
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
        let q = Query::new(from, to, len, 1);
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
            focus: true,
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
