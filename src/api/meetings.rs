//! Meetings at transcript level over HTTP: post a meeting's transcript (the meeting
//! named by its calendar event's `uid`), read the notes taken from it.

use super::wire::ErrorBody;
use super::{ApiError, ApiState, JsonBody};
use crate::capabilities::meetings::{FindError, MeetingRecord, TranscriptBody, TranscriptTaken};
use crate::node::MeetingError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/meetings/{event_id}/transcript", post(post_transcript))
        .route("/meetings/{event_id}/notes", get(notes))
}

/// One [`MeetingError`] to one status: 404 for an unknown meeting (or one no employee
/// attends, or one without notes), 400 for an empty transcript, 422 for one without
/// speaker turns (naming the formats understood).
fn meeting_error(e: MeetingError) -> Response {
    match e {
        MeetingError::NotFound(FindError::Capability(e)) => {
            tracing::warn!(error = %e, "a meeting could not be looked up");
            ApiError::Unavailable(format!("{e}; nothing was taken; retry shortly")).into_response()
        }
        e @ (MeetingError::NotFound(_) | MeetingError::NoNotes(_)) => {
            ApiError::NotFound(e.to_string()).into_response()
        }
        e @ MeetingError::Empty(_) => ApiError::BadRequest(e.to_string()).into_response(),
        e @ MeetingError::Unreadable(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ErrorBody::new("unprocessable", e.to_string())),
        )
            .into_response(),
        MeetingError::Unavailable(m) => {
            tracing::warn!(error = %m, "a transcript could not be taken");
            ApiError::Unavailable(
                "the transcript could not be stored; nothing was taken; retry shortly".into(),
            )
            .into_response()
        }
    }
}

/// Takes a meeting's transcript: the employee that owns the meeting (its organiser
/// among the node's employees, else the first attending one) takes notes, decisions
/// and action items from it, stores them with the meeting, mails them to the attendees
/// and takes its own action items as tasks. Answers 202 with what the transcript comes
/// to; the same transcript again answers 200 `unchanged` and does nothing twice; a
/// different one replaces the notes (`replaces`).
#[utoipa::path(post, path = "/api/v1/meetings/{event_id}/transcript", request_body = TranscriptBody, params(("event_id" = String, Path, description = "the calendar event's uid")), responses((status = 202, body = TranscriptTaken), (status = 200, body = TranscriptTaken), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn post_transcript(
    State(s): State<ApiState>,
    Path(event_id): Path<String>,
    JsonBody(b): JsonBody<TranscriptBody>,
) -> Result<(StatusCode, Json<TranscriptTaken>), Response> {
    let taken = s
        .node
        .post_transcript(&event_id, &b.transcript, b.name.as_deref())
        .await
        .map_err(meeting_error)?;
    let status = if taken.status == "accepted" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(taken)))
}

/// The notes of a meeting: what was discussed, decided, and who does what by when.
#[utoipa::path(get, path = "/api/v1/meetings/{event_id}/notes", params(("event_id" = String, Path, description = "the calendar event's uid")), responses((status = 200, body = MeetingRecord), (status = 404, body = ErrorBody), super::error::Guarded))]
pub(crate) async fn notes(
    State(s): State<ApiState>,
    Path(event_id): Path<String>,
) -> Result<Json<MeetingRecord>, Response> {
    s.node
        .meeting_notes(&event_id)
        .await
        .map(Json)
        .map_err(meeting_error)
}
