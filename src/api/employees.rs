//! `/api/v1/employees`: hire, list, show, offboard; post events; read episodes; the
//! employee's status, phase, feedback and the mentor's observations.

use super::params::{FromParams, Params, QueryString};
use super::wire::{
    ActionView, ActionsQuery, EmployeeView, EmployeesQuery, EpisodePage, EpisodesQuery,
    EventAccepted, FeedbackBody, Items, ObservationBody, PhaseBody,
};
use super::{ApiError, ApiState, JsonBody};
use crate::actors::{EmployeeRuntime, ReachError, RuntimeState};
use crate::bdi::Phase;
use crate::lifecycle::HireRequest;
use crate::model::{EmployeeId, EmployeeProfile, NewEvent};
use crate::node::{HireError, SubmitError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/employees", get(list).post(hire))
        .route("/employees/{id}", get(show).delete(offboard))
        .route("/employees/{id}/events", axum::routing::post(post_event))
        .route("/employees/{id}/episodes", get(episodes))
        .route("/employees/{id}/status", get(status))
        .route("/employees/{id}/phase", axum::routing::put(set_phase))
        .route("/employees/{id}/feedback", axum::routing::post(feedback))
        .route("/employees/{id}/observations", axum::routing::post(observe))
        .route("/employees/{id}/actions", get(actions))
}

fn view(s: &ApiState, profile: EmployeeProfile) -> EmployeeView {
    let runtime = s
        .node
        .runtime_state(profile.id)
        .unwrap_or(RuntimeState::Idle);
    EmployeeView { profile, runtime }
}

pub(super) fn resolve(s: &ApiState, key: &str) -> Result<EmployeeId, ApiError> {
    s.node.resolve(key).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no employee with id or handle {key:?}; `GET /api/v1/employees` lists them"
        ))
    })
}

impl FromParams for EmployeesQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["limit", "offset"])?;
        Ok(Self {
            limit: p.whole("limit", 1, 1000)?,
            offset: p.at_least("offset", 0)?,
        })
    }
}

impl FromParams for EpisodesQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["limit", "before"])?;
        Ok(Self {
            limit: p.whole("limit", 1, 1000)?,
            before: p.whole("before", 1, i64::MAX)?,
        })
    }
}

impl FromParams for ActionsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["limit"])?;
        Ok(Self {
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

/// List employees in hiring order.
#[utoipa::path(get, path = "/api/v1/employees", params(EmployeesQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    QueryString(q): QueryString<EmployeesQuery>,
) -> Result<Json<Items<EmployeeView>>, ApiError> {
    let items = s
        .node
        .employees(q.limit.unwrap_or(100), q.offset.unwrap_or(0))
        .await?
        .into_iter()
        .map(|p| view(&s, p))
        .collect();
    Ok(Json(Items { items }))
}

/// Hire an employee from a role template.
#[utoipa::path(post, path = "/api/v1/employees", request_body = HireRequest, responses((status = 201, body = EmployeeView), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn hire(
    State(s): State<ApiState>,
    JsonBody(req): JsonBody<HireRequest>,
) -> Result<(StatusCode, Json<EmployeeView>), ApiError> {
    match s.node.hire(req).await {
        Ok(p) => Ok((StatusCode::CREATED, Json(view(&s, p)))),
        Err(e @ (HireError::UnknownRole { .. } | HireError::Invalid(_))) => {
            Err(ApiError::BadRequest(e.to_string()))
        }
        Err(HireError::Store(crate::store::StoreError::Conflict { field })) => {
            Err(ApiError::Conflict(format!(
                "`{field}` is already taken by another employee; retry or choose another name"
            )))
        }
        Err(HireError::Store(e)) => Err(e.into()),
    }
}

/// Show one employee (by id or chat handle).
#[utoipa::path(get, path = "/api/v1/employees/{id}", params(("id" = String, Path, description = "id or chat handle")), responses((status = 200, body = EmployeeView), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn show(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<EmployeeView>, ApiError> {
    let id = resolve(&s, &key)?;
    let p = s
        .node
        .employee(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no employee {key:?}")))?;
    Ok(Json(view(&s, p)))
}

/// Offboard an employee: actors stopped, addresses no longer routed, memory kept.
#[utoipa::path(delete, path = "/api/v1/employees/{id}", params(("id" = String, Path)), responses((status = 200, body = EmployeeView), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn offboard(
    State(s): State<ApiState>,
    Path(key): Path<String>,
) -> Result<Json<EmployeeView>, ApiError> {
    let id = resolve(&s, &key)?;
    let p = s.node.offboard(id).await.map_err(reach_error)?;
    Ok(Json(view(&s, p)))
}

/// Send an employee a perception event. Answered once the event is stored.
#[utoipa::path(post, path = "/api/v1/employees/{id}/events", params(("id" = String, Path)), request_body = NewEvent, responses((status = 202, body = EventAccepted), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), (status = 413, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn post_event(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    JsonBody(event): JsonBody<NewEvent>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let id = resolve(&s, &key)?;
    accepted(s.node.submit_event(id, event).await)
}

fn accepted(
    r: Result<crate::store::Accepted, SubmitError>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    match r {
        Ok(a) => Ok((
            StatusCode::ACCEPTED,
            Json(EventAccepted {
                event_id: a.event_id,
                duplicate: a.duplicate,
            }),
        )),
        Err(SubmitError::Invalid(errors)) => Err(ApiError::BadRequest(
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Err(SubmitError::Reach(e)) => Err(reach_error(e)),
        Err(SubmitError::Write(e @ crate::store::WriteError::TooLarge { .. })) => Err(
            ApiError::TooLarge(format!("the event was not accepted: {e}")),
        ),
        Err(SubmitError::Write(e)) => {
            tracing::error!(error = %e, "event not stored");
            Err(ApiError::Unavailable(
                "it could not be stored and was not accepted; retry".into(),
            ))
        }
    }
}

/// The employee's status: phase, intentions with their step, goals with progress,
/// blocked goals, pending approvals, agreement and today's counts. Activates it if idle.
#[utoipa::path(get, path = "/api/v1/employees/{id}/status", params(("id" = String, Path)), responses((status = 200, body = EmployeeRuntime), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn status(
    State(s): State<ApiState>,
    peer: Option<axum::Extension<super::cluster::FromPeer>>,
    Path(key): Path<String>,
) -> Result<Json<EmployeeRuntime>, ApiError> {
    let id = resolve(&s, &key)?;
    // A call another node forwarded is answered here or not at all (never forwarded
    // again: if the employee moved meanwhile, the caller tries again).
    let status = match peer {
        Some(_) => s.node.employee_runtime_here(id).await,
        None => s.node.employee_runtime(id).await,
    };
    status.map(Json).map_err(reach_error)
}

/// The manager sets the onboarding phase. Applied in order with the employee's events.
#[utoipa::path(put, path = "/api/v1/employees/{id}/phase", params(("id" = String, Path)), request_body = PhaseBody, responses((status = 202, body = EventAccepted), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn set_phase(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    JsonBody(body): JsonBody<PhaseBody>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let id = resolve(&s, &key)?;
    let phase = serde_json::from_value::<Phase>(serde_json::json!(body.phase)).map_err(|_| {
        ApiError::BadRequest(format!(
            "`phase` must be shadow, assisted or autonomous, got {:?}",
            body.phase
        ))
    })?;
    accepted(s.node.set_phase(id, phase).await)
}

/// Feedback on the employee's latest action: a rating updates the plan's statistics, a
/// correction shifts its communication style.
#[utoipa::path(post, path = "/api/v1/employees/{id}/feedback", params(("id" = String, Path)), request_body = FeedbackBody, responses((status = 202, body = EventAccepted), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn feedback(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    JsonBody(body): JsonBody<FeedbackBody>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let id = resolve(&s, &key)?;
    accepted(
        s.node
            .feedback(id, body.rating, body.correction, body.text)
            .await,
    )
}

/// In shadow: the mentor's real action for an event; the employee's proposal for the
/// same event is scored against it.
#[utoipa::path(post, path = "/api/v1/employees/{id}/observations", params(("id" = String, Path)), request_body = ObservationBody, responses((status = 202, body = EventAccepted), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn observe(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    JsonBody(body): JsonBody<ObservationBody>,
) -> Result<(StatusCode, Json<EventAccepted>), ApiError> {
    let id = resolve(&s, &key)?;
    accepted(s.node.observe(id, body.event_id, body.action).await)
}

/// The employee's outbox: actions executed or waiting to run, newest first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/actions", params(("id" = String, Path), ActionsQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn actions(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<ActionsQuery>,
) -> Result<Json<Items<ActionView>>, ApiError> {
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .actions(id, q.limit.unwrap_or(50))
        .await?
        .into_iter()
        .map(|r| ActionView {
            id: r.entry.action_id,
            kind: r.entry.kind,
            params: r.entry.params,
            status: r.status.as_str().into(),
            result: r.result,
        })
        .collect();
    Ok(Json(Items { items }))
}

/// An employee's episodes, newest first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/episodes", params(("id" = String, Path), EpisodesQuery), responses((status = 200, body = EpisodePage), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn episodes(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<EpisodesQuery>,
) -> Result<Json<EpisodePage>, ApiError> {
    let id = resolve(&s, &key)?;
    let limit = q.limit.unwrap_or(50);
    let rows = s.node.episodes(id, limit, q.before).await?;
    let next_before = if rows.len() as i64 == limit {
        rows.last().map(|(seq, _)| *seq)
    } else {
        None
    };
    Ok(Json(EpisodePage {
        items: rows.into_iter().map(|(_, e)| e).collect(),
        next_before,
    }))
}

pub(super) fn reach_error(e: ReachError) -> ApiError {
    match e {
        ReachError::NotFound => ApiError::NotFound("no such employee".into()),
        ReachError::Offboarded => {
            ApiError::Conflict("the employee has been offboarded and takes no more events".into())
        }
        ReachError::Failed | ReachError::Unavailable(_) | ReachError::Elsewhere => {
            ApiError::Unavailable(e.to_string())
        }
    }
}
