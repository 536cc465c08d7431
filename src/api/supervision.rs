//! An operator's hands on the runtime: restart an employee
//! (`POST /api/v1/employees/{id}/restart`), and the events set aside after crashing
//! their employee (`/api/v1/employees/{id}/dead-letters`: list, retry, drop).

use super::employees::{reach_error, resolve};
use super::params::{FromParams, Params, QueryString};
use super::wire::{DeadLetterDone, DeadLetterView, DeadLettersQuery, Items, Restarted};
use super::{ApiError, ApiState};
use crate::model::EventId;
use crate::node::DeadLetterError;
use crate::store::DeadLetter;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/employees/{id}/restart", post(restart))
        .route("/employees/{id}/dead-letters", get(list))
        .route("/employees/{id}/dead-letters/{event_id}/retry", post(retry))
        .route(
            "/employees/{id}/dead-letters/{event_id}",
            axum::routing::delete(drop_one),
        )
}

impl FromParams for DeadLettersQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["limit"])?;
        Ok(Self {
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

/// Restarts an employee: a failed one is started again from the store; a running one
/// reloads its state from the store and replays what is unprocessed; an idle one is
/// activated.
#[utoipa::path(post, path = "/api/v1/employees/{id}/restart", params(("id" = String, Path)), responses((status = 202, body = Restarted), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn restart(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<(StatusCode, Json<Restarted>), ApiError> {
    let id = resolve(&s, &key)?;
    let state = s.node.restart(id).await.map_err(reach_error)?;
    Ok((StatusCode::ACCEPTED, Json(Restarted { state })))
}

fn view(d: DeadLetter) -> DeadLetterView {
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

/// The employee's events set aside after crashing it, oldest first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/dead-letters", params(("id" = String, Path), DeadLettersQuery), responses((status = 200, body = Object), (status = 404, body = super::wire::ErrorBody), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<DeadLettersQuery>,
) -> Result<Json<Items<DeadLetterView>>, ApiError> {
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .dead_letters(id, q.limit.unwrap_or(100))
        .await
        .map_err(dead_letter_error)?;
    Ok(Json(Items {
        items: items.into_iter().map(view).collect(),
    }))
}

/// Retries a set-aside event: it is pending again and handed to the employee.
#[utoipa::path(post, path = "/api/v1/employees/{id}/dead-letters/{event_id}/retry", params(("id" = String, Path), ("event_id" = String, Path)), responses((status = 202, body = DeadLetterDone), (status = 404, body = super::wire::ErrorBody), (status = 400, description = "the id is not one this node makes", body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn retry(
    State(s): State<ApiState>,
    Path((key, event)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeadLetterDone>), ApiError> {
    let id = resolve(&s, &key)?;
    let event_id = event_id(&event)?;
    s.node
        .retry_dead_letter(id, event_id)
        .await
        .map_err(dead_letter_error)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(DeadLetterDone {
            event_id,
            done: "retried".into(),
        }),
    ))
}

/// Drops a set-aside event: it stays stored, as handled, and is no longer listed.
#[utoipa::path(delete, path = "/api/v1/employees/{id}/dead-letters/{event_id}", params(("id" = String, Path), ("event_id" = String, Path)), responses((status = 200, body = DeadLetterDone), (status = 404, body = super::wire::ErrorBody), (status = 400, description = "the id is not one this node makes", body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn drop_one(
    State(s): State<ApiState>,
    Path((key, event)): Path<(String, String)>,
) -> Result<Json<DeadLetterDone>, ApiError> {
    let id = resolve(&s, &key)?;
    let event_id = event_id(&event)?;
    s.node
        .drop_dead_letter(id, event_id)
        .await
        .map_err(dead_letter_error)?;
    Ok(Json(DeadLetterDone {
        event_id,
        done: "dropped".into(),
    }))
}

fn event_id(s: &str) -> Result<EventId, ApiError> {
    s.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "`event_id` must be an event id as the dead-letters list shows it, got {s:?}"
        ))
    })
}

pub(super) fn dead_letter_error(e: DeadLetterError) -> ApiError {
    match e {
        DeadLetterError::Reach(r) => reach_error(r),
        DeadLetterError::NotFound => ApiError::NotFound(e.to_string()),
        DeadLetterError::Store(s) => s.into(),
    }
}
