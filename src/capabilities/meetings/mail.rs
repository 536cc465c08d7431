//! A transcript mailed to an employee: a `.txt`, `.vtt` or `.md` file attached to a
//! mail whose subject or body names one of the employee's meetings (by its title, or
//! its id). Mail intake asks [`transcript_mail`] before it perceives a message; a
//! transcript found is kept and the mail reaches the employee as `meeting.transcript`
//! (keyed by its Message-ID, like every mail) rather than `email.received`. A mail
//! whose attachment names no meeting, or holds no speaker turns, stays a mail; so does a
//! reply to the employee's own mail (its plans may be waiting for it).

use super::{TRANSCRIPT_EVENT, Transcript, hash, transcript};
use crate::capabilities::Hands;
use crate::model::{
    Attachment, CalendarEvent, EmployeeProfile, EventStatus, MailMessage, NewEvent, bare_address,
};
use crate::store::StoreError;
use chrono::Duration;
use serde_json::json;

/// How far back a mailed transcript's meeting may lie.
const LOOK_BACK: Duration = Duration::days(30);
/// How far ahead (a meeting whose notes are mailed before its slot in the calendar
/// ends, or one held early).
const LOOK_AHEAD: Duration = Duration::days(7);

/// Whether an attachment can hold a transcript: text, WebVTT or Markdown.
fn is_transcript_file(a: &Attachment) -> bool {
    let name = a.name.to_ascii_lowercase();
    let ct = a.content_type.to_ascii_lowercase();
    [".txt", ".vtt", ".md", ".markdown"]
        .iter()
        .any(|ext| name.ends_with(ext))
        || ["text/vtt", "text/plain", "text/markdown"]
            .iter()
            .any(|t| ct.starts_with(t))
}

/// The meeting among `events` that `m` names: its uid in the subject or body, else the
/// longest title the subject or body holds (the latest meeting of that title).
fn named<'e>(events: &'e [CalendarEvent], m: &MailMessage) -> Option<&'e CalendarEvent> {
    let text = format!("{}\n{}", m.subject, m.body).to_lowercase();
    let held = events
        .iter()
        .filter(|e| e.status == EventStatus::Confirmed && !e.focus);
    if let Some(e) = held.clone().find(|e| text.contains(&e.uid.to_lowercase())) {
        return Some(e);
    }
    held.filter(|e| e.title.trim().chars().count() >= 3)
        .filter(|e| text.contains(&e.title.trim().to_lowercase()))
        .max_by_key(|e| (e.title.trim().len(), e.start))
}

/// The `meeting.transcript` event for a transcript `m` carries to employee `p`, its
/// transcript kept; none when the mail holds no transcript of one of its meetings.
pub(crate) async fn transcript_mail(
    hands: &Hands,
    p: &EmployeeProfile,
    m: &MailMessage,
) -> Result<Option<NewEvent>, StoreError> {
    let files: Vec<(&Attachment, &str)> = m
        .attachments
        .iter()
        .filter(|a| is_transcript_file(a))
        .filter_map(|a| a.path.as_deref().map(|path| (a, path)))
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let mut text = None;
    for (a, path) in files {
        match tokio::fs::read(path).await {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) if transcript::turns(&t).iter().any(|t| t.speaker.is_some()) => {
                    text = Some((a, t));
                    break;
                }
                _ => {}
            },
            Err(e) => {
                tracing::warn!(employee = %p.id, file = %a.name, error = %e, "a mailed transcript could not be read");
            }
        }
    }
    let Some((file, text)) = text else {
        return Ok(None);
    };
    let events = match hands
        .calendar
        .driver
        .events(&hands.tenant, &p.email, m.at - LOOK_BACK, m.at + LOOK_AHEAD)
        .await
    {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(employee = %p.id, error = %e, "the calendar could not be read for a mailed transcript; it is taken as a mail");
            return Ok(None);
        }
    };
    let Some(event) = named(&events, m) else {
        return Ok(None);
    };
    let t = Transcript {
        event_id: event.uid.clone(),
        hash: hash(&text),
        employee_id: p.id,
        source: "email".into(),
        name: Some(file.name.clone()),
        text,
        received_at: m.at,
    };
    hands
        .store
        .put_meeting_transcript(&hands.tenant, &t)
        .await?;
    Ok(Some(NewEvent {
        kind: TRANSCRIPT_EVENT.into(),
        source: "email".into(),
        payload: json!({
            "event_id": t.event_id,
            "title": event.title,
            "transcript": t.hash,
            "name": t.name,
            "source": "email",
            "message_id": m.message_id,
            "from": m.from,
            "from_address": bare_address(&m.from).to_ascii_lowercase(),
        }),
        idempotency_key: Some(format!("mail:{}", m.message_id)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;
    use chrono::{TimeZone, Utc};

    fn event(uid: &str, title: &str, day: u32) -> CalendarEvent {
        let start = Utc.with_ymd_and_hms(2026, 12, day, 10, 0, 0).unwrap();
        CalendarEvent {
            uid: uid.into(),
            title: title.into(),
            description: String::new(),
            start,
            end: start + Duration::minutes(30),
            organizer: "jordan.lee@example.com".into(),
            attendees: vec![],
            priority: Priority::Medium,
            status: EventStatus::Confirmed,
            sequence: 0,
            focus: false,
            recurring: false,
            changed_by: None,
        }
    }

    fn mail(subject: &str, body: &str) -> MailMessage {
        MailMessage {
            message_id: "m1@acme.com".into(),
            from: "alex@acme.com".into(),
            to: "jordan.lee@example.com".into(),
            cc: String::new(),
            subject: subject.into(),
            body: body.into(),
            in_reply_to: None,
            references: vec![],
            attachments: vec![],
            headers: Default::default(),
            at: Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap(),
        }
    }

    #[test]
    fn the_mail_names_its_meeting_by_title_or_id() {
        let events = vec![
            event("a@x", "Acme sync", 1),
            event("b@x", "Acme sync", 2),
            event("c@x", "Acme sync: renewal", 2),
        ];
        let uid = |m: &MailMessage| named(&events, m).map(|e| e.uid.clone());
        assert_eq!(uid(&mail("Transcript: Acme sync", "")), Some("b@x".into()));
        assert_eq!(
            uid(&mail("Fwd: transcript", "from the acme sync: renewal call")),
            Some("c@x".into())
        );
        assert_eq!(uid(&mail("notes", "for a@x")), Some("a@x".into()));
        assert_eq!(uid(&mail("Lunch?", "")), None);
    }

    #[test]
    fn text_vtt_and_markdown_files_can_hold_transcripts() {
        let file = |name: &str, ct: &str| Attachment {
            name: name.into(),
            content_type: ct.into(),
            size: 1,
            path: None,
            document: None,
        };
        assert!(is_transcript_file(&file(
            "call.vtt",
            "application/octet-stream"
        )));
        assert!(is_transcript_file(&file("notes.MD", "")));
        assert!(is_transcript_file(&file("x", "text/plain; charset=utf-8")));
        assert!(!is_transcript_file(&file("cv.pdf", "application/pdf")));
    }
}
