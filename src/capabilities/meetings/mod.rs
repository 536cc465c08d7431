//! Meetings at transcript level (seed 2.3): a meeting's transcript — posted through
//! the API or mailed to an employee as a `.txt`, `.vtt` or `.md` attachment — becomes
//! notes, decisions and action items with owners and due dates, stored with the
//! meeting (the calendar event's uid), mailed to the attendees, and the employee's own
//! action items become its tasks.
//!
//! The transcript reaches the employee that owns the meeting as a `meeting.transcript`
//! event; its plan (`config/plans/meetings.toml`) runs `meetings.notes`, which reads
//! the notes ([`extract`] by rules; with a language model, the model from the
//! transcript and the rules' draft, checked the same way: `by_model.rs`), stores them,
//! assigns the employee its own items through the one task path
//! ([`super::tasks::assign`]) and tells it `meeting.notes_taken`, whose plan mails the
//! attendees. Everything is keyed by the meeting and the transcript's hash: the same
//! transcript taken twice stores, assigns and mails once; another transcript for the
//! same meeting replaces the notes, and the mail says so.
//!
//! Nothing here sends mail itself: that is the employee's own `email.send`.

mod actions;
mod by_model;
mod due;
pub mod extract;
pub(crate) mod mail;
pub mod transcript;

pub(crate) use actions::kinds;
pub use extract::{
    ActionItem, Attendee, Context, Decision, MeetingNotes, Note, TranscriptError, extract,
};

use super::{CapabilityError, Hands};
use crate::model::{CalendarEvent, EmployeeId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The event a transcript reaches its employee as.
pub const TRANSCRIPT_EVENT: &str = "meeting.transcript";

/// The event telling the employee its notes of a meeting are stored, to mail them.
pub const NOTES_EVENT: &str = "meeting.notes_taken";

/// A transcript taken for a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The calendar event's uid.
    pub event_id: String,
    /// SHA-256 of the text, hex.
    pub hash: String,
    /// The employee that takes the notes.
    pub employee_id: EmployeeId,
    /// Where it came from: `api` or `email`.
    pub source: String,
    /// The file's name, when it came as one.
    pub name: Option<String>,
    /// The transcript.
    pub text: String,
    /// When it was taken.
    pub received_at: DateTime<Utc>,
}

/// A meeting's notes as stored: what the meeting came to, from which transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeetingRecord {
    /// The calendar event's uid.
    pub event_id: String,
    /// The employee that took the notes.
    #[schema(value_type = String)]
    pub employee_id: EmployeeId,
    /// The meeting's title.
    pub title: String,
    /// When the meeting started.
    pub start: DateTime<Utc>,
    /// SHA-256 of the transcript the notes came from.
    pub hash: String,
    /// Where that transcript came from: `api` or `email`.
    pub source: String,
    /// Its file name, when it came as one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Notes, decisions and action items.
    #[serde(flatten)]
    pub notes: MeetingNotes,
    /// 1 for the first transcript's notes, counting up as later ones replace them.
    pub revision: u32,
    /// When they were taken.
    pub taken_at: DateTime<Utc>,
}

/// A transcript as posted: `POST /api/v1/meetings/{event_id}/transcript`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptBody {
    /// The transcript's text: "Name: text" turns, WebVTT, or "[00:12] Name: text" lines.
    pub transcript: String,
    /// The file it came from, if any (e.g. `standup.vtt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// What posting a transcript did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptTaken {
    /// The calendar event's uid.
    pub event_id: String,
    /// The meeting's title.
    pub title: String,
    /// The employee that takes the notes (the organiser among the node's employees,
    /// else the first attending one).
    #[schema(value_type = String)]
    pub employee_id: EmployeeId,
    /// `accepted`: the employee takes the notes, stores them and mails the attendees;
    /// `unchanged`: the notes already came from this transcript, nothing is done again.
    pub status: String,
    /// Whether these notes replace notes from another transcript.
    pub replaces: bool,
    /// SHA-256 of the transcript.
    pub hash: String,
    /// What the transcript comes to (what the employee stores).
    #[serde(flatten)]
    pub notes: MeetingNotes,
}

/// SHA-256 (hex) of a transcript, line endings and surrounding white space aside.
pub fn hash(text: &str) -> String {
    let normal = text.trim().replace("\r\n", "\n");
    crate::store::hex(&Sha256::digest(normal.as_bytes()))
}

/// Why a meeting could not be found for a transcript.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    /// No calendar of an employee here holds an event with that id.
    #[error(
        "no meeting with id {0:?} in the calendar of any employee on this node; the id is a calendar event's `uid`, as `GET /api/v1/employees/{{id}}/calendar` (or `empla calendar show EMPLOYEE`) lists them"
    )]
    Unknown(String),
    /// The meeting is known, but no employee of this node attends it.
    #[error(
        "no employee of this node attends meeting {0:?} (organiser and attendees: {1}); a transcript is for a meeting an employee organised or attends"
    )]
    NoEmployee(String, String),
    /// The calendar could not be read.
    #[error(transparent)]
    Capability(#[from] CapabilityError),
}

impl From<crate::store::StoreError> for FindError {
    fn from(e: crate::store::StoreError) -> Self {
        FindError::Capability(e.into())
    }
}

/// The meeting with uid `event_id` and the employee that owns it: the organiser when
/// an employee here organised it, else the first attendee who is one.
pub async fn find(hands: &Hands, event_id: &str) -> Result<(CalendarEvent, EmployeeId), FindError> {
    let tenant = &hands.tenant;
    let mut owners = hands.store.meeting_calendars(tenant, event_id).await?;
    if owners.is_empty() {
        // A calendar server keeps the copies: ask each employee's calendar.
        owners = hands
            .store
            .employees(tenant, 10_000, 0)
            .await?
            .into_iter()
            .filter(|p| p.status != crate::model::EmployeeStatus::Offboarded)
            .map(|p| p.email)
            .filter(|a| hands.calendar.driver.reaches(a))
            .collect();
    }
    let mut found = None;
    for owner in owners {
        if let Some(e) = hands
            .calendar
            .driver
            .event(tenant, &owner, event_id)
            .await?
        {
            found = Some(e);
            break;
        }
    }
    let event = found.ok_or_else(|| FindError::Unknown(event_id.to_string()))?;
    let owner = event
        .participants()
        .iter()
        .filter_map(|a| hands.employees.resolve(a))
        .find(|id| !hands.employees.offboarded(*id));
    match owner {
        Some(id) => Ok((event, id)),
        None => {
            let people = event.participants().join(", ");
            Err(FindError::NoEmployee(event_id.to_string(), people))
        }
    }
}

/// The people in `event`, as [`extract`] resolves owners among them: employees with
/// their names and handles, others as the calendar names them.
pub(crate) async fn attendees(
    hands: &Hands,
    event: &CalendarEvent,
) -> Result<Vec<Attendee>, crate::store::StoreError> {
    let mut out = Vec::new();
    for p in std::iter::once(&event.organizer).chain(&event.attendees) {
        let mut a = Attendee::parse(p);
        if !crate::model::is_address(&a.address)
            || out.iter().any(|o: &Attendee| o.address == a.address)
        {
            continue;
        }
        if let Some(id) = hands.employees.resolve(&a.address)
            && let Some(profile) = hands.store.employee(&hands.tenant, id).await?
        {
            a.name = Some(profile.name);
            a.handle = Some(profile.chat_handle);
        }
        out.push(a);
    }
    Ok(out)
}

/// [`extract`] on a blocking thread: a transcript of a mebibyte takes a good part of a
/// second to read, which no async worker may spend.
pub(crate) async fn extract_apart(
    text: String,
    ctx: Context,
) -> Result<MeetingNotes, TranscriptError> {
    match tokio::task::spawn_blocking(move || extract(&text, &ctx)).await {
        Ok(notes) => notes,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// What [`extract`] needs for a meeting whose notes `me` takes.
pub(crate) async fn context(
    hands: &Hands,
    event: &CalendarEvent,
    me: &super::Sender,
) -> Result<Context, crate::store::StoreError> {
    Ok(Context {
        attendees: attendees(hands, event).await?,
        me: Attendee {
            name: Some(me.name.clone()),
            address: me.email.to_ascii_lowercase(),
            handle: Some(me.handle.clone()),
        },
        day: event.start.date_naive(),
    })
}
