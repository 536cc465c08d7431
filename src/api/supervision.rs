//! An operator's hands on the runtime: restart an employee
//! (`POST /api/v1/employees/{id}/restart`), and the events set aside after crashing
//! their employee (`/api/v1/employees/{id}/dead-letters`: list, retry, drop).

use super::employees::{int_param, reach_error, resolve};
use super::{ApiError, ApiState};
use crate::actors::RuntimeState;
use crate::model::EventId;
use crate::node::DeadLetterError;
use crate::store::DeadLetter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/employees/{id}/restart", post(restart))
        .route("/employees/{id}/dead-letters", get(list))
        .route("/employees/{id}/dead-letters/{event_id}/retry", post(retry))
        .route("/employees/{id}/dead-letters/{event_id}", delete(drop_one))
}

/// Answer of `POST /employees/{id}/restart`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Restarted {
    /// Where the employee's actor tree is now (`active`, `activating`, ...).
    pub state: RuntimeState,
}

/// Restarts an employee: a failed one is started again from the store; a running one
/// reloads its state from the store and replays what is unprocessed; an idle one is
/// activated.
#[utoipa::path(post, path = "/api/v1/employees/{id}/restart", params(("id" = String, Path)), responses((status = 202, body = Restarted), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn restart(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<(StatusCode, Json<Restarted>), ApiError> {
    let id = resolve(&s, &key)?;
    let state = s.node.restart(id).await.map_err(reach_error)?;
    Ok((StatusCode::ACCEPTED, Json(Restarted { state })))
}

/// An event set aside after crashing its employee.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadLetterView {
    /// The event's id (for retry and drop).
    #[schema(value_type = String)]
    pub event_id: EventId,
    /// Its kind.
    pub kind: String,
    /// Where it came from.
    pub source: String,
    /// Its content.
    pub payload: serde_json::Value,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
    /// How many times it failed the employee.
    pub attempts: u32,
    /// Why it was set aside.
    pub reason: String,
    /// When it was set aside.
    pub set_aside_at: DateTime<Utc>,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(d: DeadLetter) -> Self {
        DeadLetterView {
            event_id: d.event.id,
            kind: d.event.kind,
            source: d.event.source,
            payload: d.event.payload,
            received_at: d.event.received_at,
            attempts: d.attempts,
            reason: d.reason,
            set_aside_at: d.set_aside_at,
        }
    }
}

/// A list of set-aside events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeadLetters {
    /// Oldest first.
    pub items: Vec<DeadLetterView>,
}

/// The employee's events set aside, oldest first (`limit`, default 100).
#[utoipa::path(get, path = "/api/v1/employees/{id}/dead-letters", params(("id" = String, Path), ("limit" = Option<i64>, Query)), responses((status = 200, body = DeadLetters), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<DeadLetters>, ApiError> {
    let id = resolve(&s, &key)?;
    let limit = int_param(&q, "limit", 100, 1000)?;
    let items = s
        .node
        .dead_letters(id, limit)
        .await
        .map_err(dead_letter_error)?;
    Ok(Json(DeadLetters {
        items: items.into_iter().map(DeadLetterView::from).collect(),
    }))
}

/// Answer of a retry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Retried {
    /// The event handed to the employee again.
    #[schema(value_type = String)]
    pub event_id: EventId,
}

/// Retries a set-aside event: it is pending again and handed to the employee.
#[utoipa::path(post, path = "/api/v1/employees/{id}/dead-letters/{event_id}/retry", params(("id" = String, Path), ("event_id" = String, Path)), responses((status = 202, body = Retried), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn retry(
    State(s): State<ApiState>,
    Path((key, event)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Retried>), ApiError> {
    let id = resolve(&s, &key)?;
    let event_id = event_id(&event)?;
    s.node
        .retry_dead_letter(id, event_id)
        .await
        .map_err(dead_letter_error)?;
    Ok((StatusCode::ACCEPTED, Json(Retried { event_id })))
}

/// Drops a set-aside event: it stays stored, as handled, and is no longer listed.
#[utoipa::path(delete, path = "/api/v1/employees/{id}/dead-letters/{event_id}", params(("id" = String, Path), ("event_id" = String, Path)), responses((status = 204), (status = 404, body = super::error::ErrorBody)))]
pub(crate) async fn drop_one(
    State(s): State<ApiState>,
    Path((key, event)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = resolve(&s, &key)?;
    s.node
        .drop_dead_letter(id, event_id(&event)?)
        .await
        .map_err(dead_letter_error)?;
    Ok(StatusCode::NO_CONTENT)
}

fn event_id(s: &str) -> Result<EventId, ApiError> {
    s.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "`event_id` must be an event id as the dead-letters list shows it, got {s:?}"
        ))
    })
}

fn dead_letter_error(e: DeadLetterError) -> ApiError {
    match e {
        DeadLetterError::Reach(r) => reach_error(r),
        DeadLetterError::NotFound => ApiError::NotFound(e.to_string()),
        DeadLetterError::Store(s) => s.into(),
    }
}
