//! `meetings.notes`: takes the notes of a meeting from one of its transcripts — reads
//! them ([`super::extract`], or a language model: `by_model.rs`), stores them with the meeting, assigns the employee its
//! own action items as tasks, and tells it `meeting.notes_taken` with everything its
//! plan needs to mail the attendees. Run again for the same transcript (a retry after
//! a crash, the same transcript posted or mailed twice) it stores, assigns and tells
//! nothing new: a task's id comes from the meeting and the item (so a newer transcript
//! saying the same assigns nothing twice), the event's key from the meeting, the
//! transcript and the revision.

use super::{MeetingRecord, NOTES_EVENT, context, extract_apart, find};
use crate::capabilities::registry::{Act, ActionKind, Param, ParamType};
use crate::capabilities::tasks::{AssignError, assign};
use crate::capabilities::{CapabilityError, param};
use crate::model::{NewEvent, NewTask, Priority, bare_address};
use crate::store::NotesTaken;
use chrono::{NaiveTime, Utc};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

/// The meetings action kinds.
pub(crate) fn kinds() -> Vec<crate::capabilities::ActionKind> {
    vec![
        ActionKind::new(
            "meetings.notes",
            "Takes the notes of meeting `event_id` from its transcript `transcript` (the hash): notes, decisions and action items stored with the meeting, the employee's own items assigned as its tasks; tells the employee `meeting.notes_taken` to mail them.",
            false,
            |a| Box::pin(notes(a)),
        )
        .params(vec![
            Param::required("event_id", ParamType::Text),
            Param::required("transcript", ParamType::Text),
        ]),
    ]
}

/// When an item due on a day is due: the end of the working day, UTC.
fn due_at(day: chrono::NaiveDate) -> chrono::DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(17, 0, 0).expect("17:00 is a time"))
        .and_utc()
}

/// `meetings.notes`.
async fn notes(a: &Act<'_>) -> Result<Json, CapabilityError> {
    let (hands, me) = (a.hands, a.me);
    let event_id = param(&a.entry.params, "event_id").unwrap_or_default();
    let hash = param(&a.entry.params, "transcript").unwrap_or_default();
    let t = hands
        .store
        .meeting_transcript(&hands.tenant, event_id, hash)
        .await?
        .ok_or_else(|| {
            CapabilityError::Invalid(format!(
                "no transcript {hash:?} was taken for meeting {event_id:?}; name the event's `payload.event_id` and `payload.transcript`"
            ))
        })?;
    let event = match hands
        .calendar
        .driver
        .event(&hands.tenant, &me.email, event_id)
        .await?
    {
        Some(e) => e,
        None => find(hands, event_id)
            .await
            .map(|(e, _)| e)
            .map_err(|e| CapabilityError::Invalid(e.to_string()))?,
    };
    let ctx = context(hands, &event, me).await?;
    // Notes already taken from this very transcript stand: a run again after a crash
    // assigns what they assigned, whatever a model would answer the second time.
    let stored = hands
        .store
        .meeting_notes(&hands.tenant, &event.uid)
        .await?
        .filter(|m| m.hash == t.hash);
    let (taken, taken_by) = match stored {
        Some(m) => (m.notes, "stored".to_string()),
        None => {
            let rules = extract_apart(t.text.clone(), ctx.clone())
                .await
                .map_err(|e| CapabilityError::Invalid(e.to_string()))?;
            super::by_model::take(hands, me, &t.text, &ctx, rules).await
        }
    };
    let now = Utc::now();
    let record = MeetingRecord {
        event_id: event.uid.clone(),
        employee_id: me.id,
        title: event.title.clone(),
        start: event.start,
        hash: t.hash.clone(),
        source: t.source.clone(),
        name: t.name.clone(),
        notes: taken,
        revision: 1,
        taken_at: now,
    };
    let stored = hands
        .store
        .put_meeting_notes(&hands.tenant, &record)
        .await?;
    let (revision, status) = match stored {
        NotesTaken::New => (1, "new"),
        NotesTaken::Replaced(n) => (n, "replaced"),
        NotesTaken::Unchanged(n) => (n, "unchanged"),
    };
    // The employee's own items are asked of it by the meeting: its organiser is the
    // requester, and the channel `meeting` sends no progress notices to anyone (the
    // attendees hear of the items in the notes).
    let requester = event.organizer.clone();
    let mut tasks = Vec::new();
    for item in &record.notes.action_items {
        if !item.mine {
            continue;
        }
        let deadline = item.due.map(due_at).filter(|d| *d > now);
        let text: String = item.text.chars().take(1000).collect();
        let mut description = format!(
            "{text} (an action item of \"{}\" on {})",
            event.title,
            event.start.format("%Y-%m-%d")
        );
        if let (Some(day), None) = (item.due, deadline) {
            description.push_str(&format!("; it was due {day}"));
        }
        // One task per meeting and item: a newer transcript saying the same assigns
        // nothing again.
        let id = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!(
                "{}:meeting:{}:{}",
                hands.tenant.as_str(),
                event.uid,
                item.text.to_lowercase()
            )
            .as_bytes(),
        );
        let task = NewTask {
            description,
            priority: Some(Priority::Medium),
            deadline,
            requester: Some(requester.clone()),
        };
        match assign(
            hands,
            me.id,
            task,
            Some(id.to_string()),
            "meeting",
            &requester,
        )
        .await
        {
            Ok((task, _)) => tasks.push(task.id),
            Err(AssignError::Store(e)) => return Err(e.into()),
            Err(e) => return Err(CapabilityError::Invalid(e.to_string())),
        }
    }
    let recipients: Vec<String> = std::iter::once(&event.organizer)
        .chain(&event.attendees)
        .filter(|p| !bare_address(p).eq_ignore_ascii_case(&me.email))
        .cloned()
        .collect();
    let owner_of = |i: &super::ActionItem| i.owner.clone().unwrap_or_else(|| "unassigned".into());
    let payload = json!({
        "event_id": event.uid,
        "title": event.title,
        "start": event.start,
        "day": event.start.format("%Y-%m-%d").to_string(),
        "recipients": recipients,
        "to": recipients.join(", "),
        "revision": revision,
        "replaced": revision > 1,
        "source": t.source,
        "notes": record.notes.notes,
        "decisions": record.notes.decisions,
        "action_items": record.notes.action_items.iter().map(|i| json!({
            "text": i.text,
            "owner": owner_of(i),
            "mine": i.mine,
            "due": i.due,
        })).collect::<Vec<_>>(),
        "tasks": tasks,
        "taken_by": taken_by,
    });
    // Told once per meeting, transcript and revision: the inbox takes the key once.
    let key = Sha256::digest(format!("{}\n{}\n{revision}", event.uid, t.hash).as_bytes());
    hands
        .employees
        .perceive(
            me.id,
            NewEvent {
                kind: NOTES_EVENT.into(),
                source: "meetings".into(),
                payload,
                idempotency_key: Some(format!("meeting-notes:{}", crate::store::hex(&key))),
            },
        )
        .await
        .map_err(|e| CapabilityError::Service(format!("the employee could not be told: {e}")))?;
    Ok(json!({
        "event_id": event.uid,
        "status": status,
        "revision": revision,
        "notes": record.notes.notes.len(),
        "decisions": record.notes.decisions.len(),
        "action_items": record.notes.action_items.len(),
        "tasks": tasks,
        "taken_by": taken_by,
    }))
}
