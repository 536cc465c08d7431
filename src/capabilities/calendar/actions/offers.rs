//! Offering times by mail and booking the one a reply picks.

use super::*;
use crate::capabilities::email;

/// `calendar.propose`: the best few times for everyone, offered by mail (in the thread
/// of `in_reply_to` when given) as a numbered list; the offer is kept so the reply that
/// picks one can be booked (`calendar.schedule` with `proposal` and `choice`).
pub(super) async fn propose(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me, entry, now) = (a.hands, a.me, a.entry, Utc::now());
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
    let message_id = message_id_for(&entry.key, &hands.domain);
    // A retry offers the times the first run kept, whatever the calendars say now.
    let offer = match hands.store.proposal(&hands.tenant, &message_id).await? {
        Some(kept) => kept,
        None => {
            // Not within the hour: the other side needs time to answer.
            let from = earliest(p, now + Duration::hours(1));
            let mut q = Query::new(
                from,
                from + Duration::days(int(p, "within_days").unwrap_or(7).clamp(1, 90)),
                Duration::minutes(duration),
                int(p, "count").unwrap_or(3).clamp(1, 5) as usize,
            );
            q.window = day_window(
                param(p, "between"),
                hands.calendar.config.hours_of(&me.email).tz,
            )?;
            let (people, _) = availability(hands, &owners, q.from, q.to, &me.email).await?;
            let mut found = slots::find(&people, &q);
            if found.is_empty() {
                return Err(CapabilityError::Invalid(format!(
                    "no time in the next {} days when {} are all free within their working hours",
                    (q.to - q.from).num_days(),
                    owners.join(", ")
                )));
            }
            found.sort_by_key(|s| s.start);
            let offer = Proposal {
                message_id: message_id.clone(),
                employee_id: me.id,
                title: title.to_string(),
                attendees: attendees.clone(),
                duration_minutes: duration,
                priority: param(p, "priority")
                    .and_then(Priority::parse)
                    .unwrap_or(Priority::Medium),
                slots: found.iter().map(|s| s.start).collect(),
                created_at: now,
            };
            hands.store.put_proposal(&hands.tenant, &offer).await?;
            offer
        }
    };
    let length = Duration::minutes(offer.duration_minutes);
    let offered: Vec<Slot> = offer
        .slots
        .iter()
        .map(|&start| Slot {
            start,
            end: start + length,
            score: 0.0,
        })
        .collect();
    let tz = hands
        .calendar
        .config
        .hours_of(bare_address(&attendees[0]))
        .tz;
    let list = numbered(&offered, tz);
    let body = format!(
        "{}\n\n{list}\n\nReply with the number of the time that suits you.\n\n{}",
        param(p, "intro").unwrap_or("Here are some times that work for me:"),
        param(p, "signoff")
            .map(str::to_string)
            .unwrap_or_else(|| format!("Best,\n{}", me.name)),
    );
    let mut m = match param(p, "in_reply_to") {
        Some(answered) => {
            let original = hands
                .store
                .mail(&hands.tenant, clean_message_id(answered))
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
    // A document to go through in the meeting (a QBR deck) goes with the offer.
    m.attachments = crate::capabilities::email::actions::attachments(hands, me, p).await?;
    deliver_mail(hands, &m).await?;
    Ok(json!({
        "message_id": message_id,
        "to": m.to,
        "slots": offer.slots,
        "unresolved": unresolved,
        "text": list,
    }))
}

/// The meeting a reply to an offer picks.
pub(super) async fn chosen(
    hands: &Hands,
    me: &Sender,
    offer: &str,
    reply: &str,
    now: DateTime<Utc>,
) -> Result<NewMeeting, CapabilityError> {
    let prop = hands
        .store
        .proposal(&hands.tenant, clean_message_id(offer))
        .await?
        .filter(|p| p.employee_id == me.id)
        .ok_or_else(|| {
            CapabilityError::Invalid(format!("I offered no times in message {offer}"))
        })?;
    let tz = prop
        .attendees
        .first()
        .map(|a| hands.calendar.config.hours_of(bare_address(a)).tz)
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
        after: None,
        between: None,
    })
}
