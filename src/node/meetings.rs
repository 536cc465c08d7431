//! Meetings at transcript level through the node: a transcript posted for a meeting
//! (a calendar event's uid) is checked — the meeting known and attended by an
//! employee, the text readable — kept, and handed to the employee that owns the
//! meeting as a `meeting.transcript` event; its plan takes, stores and mails the
//! notes. The stored notes are read back here too.

use super::Node;
use crate::capabilities::meetings::{
    self, FindError, MeetingRecord, TRANSCRIPT_EVENT, Transcript, TranscriptError, TranscriptTaken,
};
use crate::model::NewEvent;
use crate::store::StoreError;
use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Why a transcript was not taken, or notes cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum MeetingError {
    /// The meeting is unknown here, or no employee here attends it.
    #[error(transparent)]
    NotFound(#[from] FindError),
    /// The meeting has no notes yet.
    #[error(
        "meeting {0:?} has no notes yet; post its transcript with `POST /api/v1/meetings/{0}/transcript` (or `empla meetings transcript {0} FILE`)"
    )]
    NoNotes(String),
    /// The transcript is empty.
    #[error("{0}")]
    Empty(TranscriptError),
    /// The transcript holds no speaker turns.
    #[error("{0}")]
    Unreadable(TranscriptError),
    /// The store failed, or the employee could not take the event; nothing was taken.
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for MeetingError {
    fn from(e: StoreError) -> Self {
        MeetingError::Unavailable(format!("the store failed: {e}"))
    }
}

impl From<TranscriptError> for MeetingError {
    fn from(e: TranscriptError) -> Self {
        match e {
            TranscriptError::Empty => MeetingError::Empty(e),
            TranscriptError::NoTurns => MeetingError::Unreadable(e),
        }
    }
}

impl Node {
    /// Takes a transcript of meeting `event_id` (`name`: the file it came from): the
    /// employee that owns the meeting gets it and takes, stores and mails the notes.
    /// The same transcript as the stored notes came from is answered `unchanged`, and
    /// nothing is done again.
    pub async fn post_transcript(
        &self,
        event_id: &str,
        text: &str,
        name: Option<&str>,
    ) -> Result<TranscriptTaken, MeetingError> {
        let hands = &self.rt.hands;
        if text.trim().is_empty() {
            return Err(TranscriptError::Empty.into());
        }
        let (event, owner) = meetings::find(hands, event_id.trim()).await?;
        let me = hands
            .sender(owner)
            .await?
            .ok_or_else(|| FindError::Unknown(event_id.to_string()))?
            .0;
        let ctx = meetings::context(hands, &event, &me).await?;
        let notes = meetings::extract_apart(text.to_string(), ctx).await?;
        let hash = meetings::hash(text);
        let stored = hands.store.meeting_notes(&hands.tenant, &event.uid).await?;
        let mut taken = TranscriptTaken {
            event_id: event.uid.clone(),
            title: event.title.clone(),
            employee_id: owner,
            status: "unchanged".into(),
            replaces: false,
            hash: hash.clone(),
            notes,
        };
        if stored.as_ref().is_some_and(|s| s.hash == hash) {
            return Ok(taken);
        }
        let now = Utc::now();
        hands
            .store
            .put_meeting_transcript(
                &hands.tenant,
                &Transcript {
                    event_id: event.uid.clone(),
                    hash: hash.clone(),
                    employee_id: owner,
                    source: "api".into(),
                    name: name.map(str::to_string),
                    text: text.to_string(),
                    received_at: now,
                },
            )
            .await?;
        // Taken once per meeting, transcript and the notes it would replace.
        let revision = stored.as_ref().map_or(0, |s| s.revision);
        let key = Sha256::digest(format!("{}\n{hash}\n{revision}", event.uid).as_bytes());
        self.accept(
            owner,
            NewEvent {
                kind: TRANSCRIPT_EVENT.into(),
                source: "api".into(),
                payload: json!({
                    "event_id": event.uid,
                    "title": event.title,
                    "transcript": hash,
                    "name": name,
                    "source": "api",
                }),
                idempotency_key: Some(format!("meeting:{}", crate::store::hex(&key))),
            },
        )
        .await
        .map_err(|e| MeetingError::Unavailable(e.to_string()))?;
        taken.status = "accepted".into();
        taken.replaces = stored.is_some();
        Ok(taken)
    }

    /// The notes of meeting `event_id`.
    pub async fn meeting_notes(&self, event_id: &str) -> Result<MeetingRecord, MeetingError> {
        let hands = &self.rt.hands;
        if let Some(r) = hands.store.meeting_notes(&hands.tenant, event_id).await? {
            return Ok(r);
        }
        meetings::find(hands, event_id).await?;
        Err(MeetingError::NoNotes(event_id.to_string()))
    }
}
