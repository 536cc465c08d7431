//! Booking: who is free when, the time taken, what moves out of the way, a copy in
//! every calendar reached, the humans invited by mail and the employees told.

use super::*;

/// Each person's working hours and busy times in `[from, to)`; those whose calendar
/// cannot be reached are answered too, free within their hours.
pub(crate) async fn availability(
    hands: &Hands,
    owners: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    booker: &str,
) -> Result<(Vec<Availability>, Vec<String>), CapabilityError> {
    // Everyone's calendar is read at once.
    let calendars = futures::future::try_join_all(owners.iter().map(|o| async move {
        if hands.calendar.driver.reaches(o) {
            hands
                .calendar
                .driver
                .events(&hands.tenant, o, from, to)
                .await
                .map(Some)
        } else {
            Ok(None)
        }
    }))
    .await?;
    let mut people = Vec::with_capacity(owners.len());
    let mut unreached = Vec::new();
    for (o, events) in owners.iter().zip(calendars) {
        let mut busy = Vec::new();
        if let Some(events) = events {
            for e in events {
                if e.status == EventStatus::Confirmed {
                    busy.push(Busy {
                        start: e.start,
                        end: e.end,
                        movable: !booker.is_empty()
                            && !e.recurring
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
            hours: hands.calendar.config.hours_of(o),
            busy,
        });
    }
    Ok((people, unreached))
}

/// Books `m` with `me` as organiser, under `uid`. `key` names what asked for it (an
/// outbox key), so the invitations of a retry carry the same Message-ID. A retry after
/// a crash finds the meeting already booked: it books nothing new, and finishes what
/// the first run may not have (copies, invitation, meetings still in the way).
pub(crate) async fn book(
    hands: &Hands,
    me: &Sender,
    m: &NewMeeting,
    uid: String,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Booked, CapabilityError> {
    let _turn = one_booking_at_a_time(hands).await?;
    let (event, mut unreached) = match hands
        .calendar
        .driver
        .event(&hands.tenant, &me.email, &uid)
        .await?
    {
        Some(booked) => (booked, Vec::new()),
        None => choose_time(hands, me, m, uid, now).await?,
    };
    // Meetings in the way move to their next free time; each is known to have one
    // before anything is written.
    let mut moves = Vec::new();
    for other in in_the_way(hands, &event, &me.email).await? {
        let to = next_free(hands, &other, now, &me.email, Some((event.start, event.end)))
            .await?
            .ok_or_else(|| {
                CapabilityError::Invalid(format!(
                    "booking \"{}\" at {} would move \"{}\", which has no other free time in the next 7 days; ask for another time",
                    event.title, event.start, other.title
                ))
            })?;
        moves.push((other, to));
    }
    unreached.extend(put_everywhere(hands, &event).await?);
    invite(hands, me, key, &event, "Invitation").await?;
    let mut moved = Vec::new();
    for (mut other, to) in moves {
        let was = other.start;
        let d = other.duration();
        other.start = to;
        other.end = to + d;
        other.sequence += 1;
        other.changed_by = Some(key.to_string());
        unreached.extend(put_everywhere(hands, &other).await?);
        invite(hands, me, key, &other, "Moved").await?;
        moved.push(Moved {
            uid: other.uid,
            title: other.title,
            from: was,
            to,
        });
    }
    unreached.sort();
    unreached.dedup();
    Ok(Booked {
        event,
        moved,
        unreached,
    })
}

/// The meeting `m` becomes: at the time asked for, if only meetings that may move are
/// in its way; else at the best free time, else at the best time once meetings of
/// lower priority move. Answers it with the participants whose calendar is not reached.
async fn choose_time(
    hands: &Hands,
    me: &Sender,
    m: &NewMeeting,
    uid: String,
    now: DateTime<Utc>,
) -> Result<(CalendarEvent, Vec<String>), CapabilityError> {
    let (owners, _) = addresses(&json!(m.attendees), &me.email);
    let priority = m.priority.unwrap_or(Priority::Medium);
    let duration = Duration::minutes(m.duration_minutes);
    let from = m.start.or(m.after).unwrap_or(now).max(now);
    let within = Duration::days(m.within_days.unwrap_or(7));
    let (people, unreached) =
        availability(hands, &owners, from, from + within + duration, &me.email).await?;
    let mut q = Query::new(from, from + within, duration, 1);
    q.window = day_window(
        m.between.as_deref(),
        hands.calendar.config.hours_of(&me.email).tz,
    )?;
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
    let event = CalendarEvent {
        uid,
        title: m.title.trim().to_string(),
        description: m.description.clone().unwrap_or_default(),
        start,
        end: start + duration,
        organizer: me.mailbox(),
        attendees: m.attendees.clone(),
        priority,
        status: EventStatus::Confirmed,
        sequence: 0,
        focus: false,
        recurring: false,
        changed_by: None,
    };
    Ok((event, unreached))
}

/// The meetings overlapping `e` that its organiser may move for it: its own, of lower
/// priority, not a recurring series.
async fn in_the_way(
    hands: &Hands,
    e: &CalendarEvent,
    booker: &str,
) -> Result<Vec<CalendarEvent>, CapabilityError> {
    let (people, _) = availability(hands, &e.participants(), e.start, e.end, booker).await?;
    let mut uids: Vec<String> = Vec::new();
    for a in &people {
        for b in slots::conflicts(a, e.start, e.end, None) {
            if b.uid != e.uid && b.movable && b.priority < e.priority && !uids.contains(&b.uid) {
                uids.push(b.uid.clone());
            }
        }
    }
    let mut out = Vec::new();
    for uid in uids {
        if let Some(other) = hands
            .calendar
            .driver
            .event(&hands.tenant, booker, &uid)
            .await?
        {
            out.push(other);
        }
    }
    Ok(out)
}

/// The next time after `now` that suits everyone in `e` (its own slot not counting,
/// and `also_busy` counting for all of them), within a week.
pub(super) async fn next_free(
    hands: &Hands,
    e: &CalendarEvent,
    now: DateTime<Utc>,
    booker: &str,
    also_busy: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<Option<DateTime<Utc>>, CapabilityError> {
    let owners = e.participants();
    let from = now.max(e.start.min(now + Duration::days(1)));
    let to = from + Duration::days(7);
    let (mut people, _) = availability(hands, &owners, from, to + e.duration(), booker).await?;
    for a in &mut people {
        a.busy.retain(|b| b.uid != e.uid);
        if let Some((start, end)) = also_busy {
            a.busy.push(Busy {
                start,
                end,
                uid: String::new(),
                priority: Priority::High,
                movable: false,
            });
        }
    }
    let q = Query::new(from, to, e.duration(), 1);
    Ok(slots::find(&people, &q).first().map(|s| s.start))
}

/// Puts `e` in every participant's calendar the driver reaches and tells each
/// employee among them. Answers the participants not reached. The organiser's copy
/// must be stored; another's failing is logged and reported as not reached.
pub(super) async fn put_everywhere(
    hands: &Hands,
    e: &CalendarEvent,
) -> Result<Vec<String>, CapabilityError> {
    let organizer = bare_address(&e.organizer).to_ascii_lowercase();
    let (reached, mut unreached): (Vec<String>, Vec<String>) = e
        .participants()
        .into_iter()
        .partition(|p| hands.calendar.driver.reaches(p));
    // Every copy is written at once.
    let stored = hands
        .calendar
        .driver
        .put_all(&hands.tenant, &reached, e)
        .await;
    for (p, result) in reached.into_iter().zip(stored) {
        match result {
            Ok(()) => {}
            Err(err) if p != organizer => {
                tracing::warn!(calendar = %p, meeting = %e.uid, error = %err, "a participant's copy of a meeting could not be stored");
                unreached.push(p);
            }
            Err(err) => return Err(err),
        }
    }
    for p in e.participants() {
        if let Some(id) = hands.employees.resolve(&p) {
            tell(hands, id, e).await.map_err(|err| {
                CapabilityError::Service(format!("{p} could not be told of the meeting: {err}"))
            })?;
        }
    }
    Ok(unreached)
}

/// Commits a `calendar.event` for `e` to employee `id`'s inbox, once per version.
pub(crate) async fn tell(
    hands: &Hands,
    id: EmployeeId,
    e: &CalendarEvent,
) -> Result<(), crate::capabilities::PerceiveError> {
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
    hands.employees.perceive(id, new).await.map(|_| ())
}

/// One key per version of a meeting: a change a calendar client makes without raising
/// the sequence still counts as new.
pub(crate) fn version_key(e: &CalendarEvent) -> String {
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
pub(super) async fn invite(
    hands: &Hands,
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
            !b.eq_ignore_ascii_case(&me.email) && hands.employees.resolve(b).is_none()
        })
        .collect();
    if humans.is_empty() {
        return Ok(());
    }
    let tz = hands.calendar.config.hours_of(bare_address(humans[0])).tz;
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
    body.push_str(&format!("\nBest,\n{}", me.name));
    let m = crate::model::MailMessage {
        message_id: message_id_for(&format!("{key}:{}", version_key(e)), &hands.domain),
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
        headers: Default::default(),
        at: Utc::now(),
    };
    deliver_mail(hands, &m).await
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
