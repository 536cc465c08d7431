//! Meetings at transcript level: each transcript taken for a meeting (keyed by the
//! calendar event's uid and the transcript's hash, so the same one is kept once), and
//! the notes taken from the latest, one row per meeting. Storing notes from the
//! transcript they already came from changes nothing; notes from another transcript
//! replace them and count up the revision.

use super::rows::{parse_id, parse_json};
use super::{Store, StoreError, from_micros, to_micros, with_pool};
use crate::capabilities::meetings::{MeetingNotes, MeetingRecord, Transcript};
use crate::model::TenantId;

/// What storing notes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotesTaken {
    /// The meeting had no notes; these are revision 1.
    New,
    /// Notes from another transcript were replaced; this is the new revision.
    Replaced(u32),
    /// The notes already came from this transcript; nothing changed (this revision).
    Unchanged(u32),
}

#[derive(sqlx::FromRow)]
struct TranscriptRow {
    event_id: String,
    hash: String,
    employee_id: String,
    source: String,
    name: Option<String>,
    text: String,
    received_at: i64,
}

#[derive(sqlx::FromRow)]
struct NotesRow {
    event_id: String,
    employee_id: String,
    title: String,
    starts_at: i64,
    hash: String,
    source: String,
    name: Option<String>,
    notes: String,
    decisions: String,
    action_items: String,
    revision: i64,
    taken_at: i64,
}

fn list<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<Vec<T>, StoreError> {
    serde_json::from_value(parse_json(s)?)
        .map_err(|e| StoreError::Corrupt(format!("meeting {what}: {e}")))
}

impl NotesRow {
    fn into_record(self) -> Result<MeetingRecord, StoreError> {
        Ok(MeetingRecord {
            event_id: self.event_id,
            employee_id: parse_id(&self.employee_id)?,
            title: self.title,
            start: from_micros(self.starts_at),
            hash: self.hash,
            source: self.source,
            name: self.name,
            notes: MeetingNotes {
                notes: list("notes", &self.notes)?,
                decisions: list("decisions", &self.decisions)?,
                action_items: list("action items", &self.action_items)?,
            },
            revision: u32::try_from(self.revision).unwrap_or(u32::MAX),
            taken_at: from_micros(self.taken_at),
        })
    }
}

impl Store {
    /// Keeps a transcript of a meeting (once: the same one again changes nothing).
    pub async fn put_meeting_transcript(
        &self,
        tenant: &TenantId,
        t: &Transcript,
    ) -> Result<(), StoreError> {
        with_pool!(self, write, |pool| {
            sqlx::query(
                "INSERT INTO meeting_transcripts (tenant, event_id, hash, employee_id, source, \
                 name, text, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_str())
            .bind(&t.event_id)
            .bind(&t.hash)
            .bind(t.employee_id.to_string())
            .bind(&t.source)
            .bind(t.name.as_deref())
            .bind(&t.text)
            .bind(to_micros(t.received_at))
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The transcript of meeting `event_id` with hash `hash`.
    pub async fn meeting_transcript(
        &self,
        tenant: &TenantId,
        event_id: &str,
        hash: &str,
    ) -> Result<Option<Transcript>, StoreError> {
        let row: Option<TranscriptRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT event_id, hash, employee_id, source, name, text, received_at \
                 FROM meeting_transcripts WHERE tenant = $1 AND event_id = $2 AND hash = $3",
            )
            .bind(tenant.as_str())
            .bind(event_id)
            .bind(hash)
            .fetch_optional(pool)
            .await
        })?;
        row.map(|r| {
            Ok(Transcript {
                event_id: r.event_id,
                hash: r.hash,
                employee_id: parse_id(&r.employee_id)?,
                source: r.source,
                name: r.name,
                text: r.text,
                received_at: from_micros(r.received_at),
            })
        })
        .transpose()
    }

    /// Stores the notes of a meeting: new, replacing notes from another transcript
    /// (the revision counts up), or nothing when they came from this transcript
    /// already. `r.revision` is ignored; the stored one is answered.
    pub async fn put_meeting_notes(
        &self,
        tenant: &TenantId,
        r: &MeetingRecord,
    ) -> Result<NotesTaken, StoreError> {
        let notes = serde_json::to_string(&r.notes.notes).expect("notes serialise");
        let decisions = serde_json::to_string(&r.notes.decisions).expect("decisions serialise");
        let items = serde_json::to_string(&r.notes.action_items).expect("items serialise");
        let revision: Option<i64> = with_pool!(self, write, |pool| {
            sqlx::query_scalar(
                "INSERT INTO meeting_notes (tenant, event_id, employee_id, title, starts_at, hash, \
                 source, name, notes, decisions, action_items, revision, taken_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12) \
                 ON CONFLICT (tenant, event_id) DO UPDATE SET employee_id = excluded.employee_id, \
                 title = excluded.title, starts_at = excluded.starts_at, hash = excluded.hash, \
                 source = excluded.source, name = excluded.name, notes = excluded.notes, \
                 decisions = excluded.decisions, action_items = excluded.action_items, \
                 revision = meeting_notes.revision + 1, taken_at = excluded.taken_at \
                 WHERE meeting_notes.hash <> excluded.hash RETURNING revision",
            )
            .bind(tenant.as_str())
            .bind(&r.event_id)
            .bind(r.employee_id.to_string())
            .bind(&r.title)
            .bind(to_micros(r.start))
            .bind(&r.hash)
            .bind(&r.source)
            .bind(r.name.as_deref())
            .bind(&notes)
            .bind(&decisions)
            .bind(&items)
            .bind(to_micros(r.taken_at))
            .fetch_optional(pool)
            .await
        })?;
        Ok(match revision {
            Some(1) => NotesTaken::New,
            Some(n) => NotesTaken::Replaced(u32::try_from(n).unwrap_or(u32::MAX)),
            None => NotesTaken::Unchanged(
                self.meeting_notes(tenant, &r.event_id)
                    .await?
                    .map(|m| m.revision)
                    .unwrap_or(1),
            ),
        })
    }

    /// The notes of meeting `event_id`, if any were taken.
    pub async fn meeting_notes(
        &self,
        tenant: &TenantId,
        event_id: &str,
    ) -> Result<Option<MeetingRecord>, StoreError> {
        let row: Option<NotesRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(
                "SELECT event_id, employee_id, title, starts_at, hash, source, name, notes, \
                 decisions, action_items, revision, taken_at FROM meeting_notes \
                 WHERE tenant = $1 AND event_id = $2",
            )
            .bind(tenant.as_str())
            .bind(event_id)
            .fetch_optional(pool)
            .await
        })?;
        row.map(NotesRow::into_record).transpose()
    }

    /// The calendars (owners' addresses) holding a copy of event `uid` on the built-in
    /// calendar driver.
    pub async fn meeting_calendars(
        &self,
        tenant: &TenantId,
        uid: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_scalar(
                "SELECT owner FROM calendar_events WHERE tenant = $1 AND uid = $2 ORDER BY owner",
            )
            .bind(tenant.as_str())
            .bind(uid)
            .fetch_all(pool)
            .await
        })?)
    }
}
