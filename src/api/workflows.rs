//! `/api/v1/workflows` and `/api/v1/teams`: start a run of a configured workflow and
//! follow it step by step; read the teams with their shared goals' progress, and hold
//! a team's stand-up now.

use super::params::{FromParams, Params, QueryString};
use super::wire::{Items, RunsQuery, StandupBody, StartRunBody};
use super::{ApiError, ApiState, JsonBody};
use crate::config::workflows::Workflow;
use crate::lifecycle::workflows::WorkflowError;
use crate::model::{RunStatus, WorkflowRun};
use crate::node::{RunError, StandupError, StandupUpdate, TeamView};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/workflows", get(list_workflows))
        .route("/workflows/runs", get(list_runs))
        .route("/workflows/runs/{id}", get(show_run))
        .route("/workflows/{name}/runs", post(start_run))
        .route("/teams", get(list_teams))
        .route("/teams/{id}", get(show_team))
        .route("/teams/{id}/standup", post(standup))
}

impl FromParams for RunsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["status", "limit"])?;
        Ok(Self {
            status: p.text("status"),
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

fn run_error(e: RunError) -> ApiError {
    match e {
        e @ (RunError::NoWorkflow(..) | RunError::NoRun) => ApiError::NotFound(e.to_string()),
        RunError::Start(WorkflowError::Invalid(v)) => ApiError::BadRequest(
            v.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        RunError::Start(WorkflowError::Store(e)) => e.into(),
    }
}

/// The configured workflows.
#[utoipa::path(get, path = "/api/v1/workflows", responses((status = 200, body = Object), super::error::Guarded))]
pub(crate) async fn list_workflows(State(s): State<ApiState>) -> Json<Items<Workflow>> {
    Json(Items {
        items: s.node.workflows().values().cloned().collect(),
    })
}

/// Start a run of a workflow: stored, its first steps assigned to employees (201).
#[utoipa::path(post, path = "/api/v1/workflows/{name}/runs", params(("name" = String, Path)), request_body = StartRunBody,
    responses((status = 201, body = WorkflowRun), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn start_run(
    State(s): State<ApiState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<StartRunBody>,
) -> Result<(StatusCode, Json<WorkflowRun>), ApiError> {
    let inputs = match body.inputs {
        serde_json::Value::Null => serde_json::json!({}),
        v => v,
    };
    let by = body.by.unwrap_or_else(|| "api".into());
    let run = s
        .node
        .start_workflow(&name, inputs, &by)
        .await
        .map_err(run_error)?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// Workflow runs, newest first.
#[utoipa::path(get, path = "/api/v1/workflows/runs", params(RunsQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list_runs(
    State(s): State<ApiState>,
    QueryString(q): QueryString<RunsQuery>,
) -> Result<Json<Items<WorkflowRun>>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("all") => None,
        Some(v) => Some(RunStatus::parse(v).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "query parameter `status` must be running, completed, failed or all, got {v:?}"
            ))
        })?),
    };
    let items = s.node.workflow_runs(status, q.limit.unwrap_or(100)).await?;
    Ok(Json(Items { items }))
}

/// One run: each step's state (waiting, assigned to whom, done, stuck) and progress.
#[utoipa::path(get, path = "/api/v1/workflows/runs/{id}", params(("id" = String, Path)),
    responses((status = 200, body = WorkflowRun), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn show_run(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<WorkflowRun>, ApiError> {
    s.node.workflow_run(&id).await.map(Json).map_err(run_error)
}

/// The teams with their shared goals' progress.
#[utoipa::path(get, path = "/api/v1/teams", responses((status = 200, body = Object), super::error::Guarded))]
pub(crate) async fn list_teams(State(s): State<ApiState>) -> Json<Items<TeamView>> {
    Json(Items {
        items: s.node.teams().await,
    })
}

/// One team with its shared goals' progress: the sum of its members' parts.
#[utoipa::path(get, path = "/api/v1/teams/{id}", params(("id" = String, Path)),
    responses((status = 200, body = TeamView), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn show_team(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<TeamView>, ApiError> {
    s.node.team(&id).await.map(Json).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no team `{id}` here; `GET /api/v1/teams` lists them"
        ))
    })
}

/// Hold the team's stand-up now (or for the tick `at`): each employee member's update
/// is posted to the team's channel and remembered, once per tick.
#[utoipa::path(post, path = "/api/v1/teams/{id}/standup", params(("id" = String, Path)),
    request_body(content = StandupBody, description = "optional"),
    responses((status = 200, body = Object), (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn standup(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Items<StandupUpdate>>, ApiError> {
    let b: StandupBody = if body.iter().all(u8::is_ascii_whitespace) {
        StandupBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "malformed body: {e}; send {{\"at\": \"2026-12-07T09:00:00Z\"}} or nothing"
            ))
        })?
    };
    match s.node.run_standup(&id, b.at).await {
        Ok(items) => Ok(Json(Items { items })),
        Err(e @ StandupError::NoTeam(_)) => Err(ApiError::NotFound(e.to_string())),
        Err(e @ StandupError::NoChannel(_)) => Err(ApiError::Conflict(e.to_string())),
        Err(StandupError::Store(e)) => Err(e.into()),
    }
}
