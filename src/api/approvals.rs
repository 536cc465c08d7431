//! `/api/v1/approvals`: the queue of actions (and promotions) waiting for a human.

use super::employees::resolve;
use super::params::{FromParams, Params, QueryString};
use super::wire::{ApprovalsQuery, DecisionBody, Items};
use super::{ApiError, ApiState};
use crate::model::{Approval, ApprovalId, ApprovalStatus};
use crate::node::DecideError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/approvals", get(list))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/reject", post(reject))
}

impl FromParams for ApprovalsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["employee", "status", "limit"])?;
        Ok(Self {
            employee: p.text("employee"),
            status: p.text("status"),
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

/// The approval queue, oldest first.
#[utoipa::path(get, path = "/api/v1/approvals", params(ApprovalsQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, description = "no such employee", body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    QueryString(q): QueryString<ApprovalsQuery>,
) -> Result<Json<Items<Approval>>, ApiError> {
    let employee = q.employee.map(|k| resolve(&s, &k)).transpose()?;
    let status = match q.status.as_deref() {
        None | Some("all") => None,
        Some(v) => Some(ApprovalStatus::parse(v).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "query parameter `status` must be pending, approved, rejected or all, got {v:?}"
            ))
        })?),
    };
    let items = s
        .node
        .approvals(employee, status, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(Items { items }))
}

/// Approve: the action runs (or the promotion takes effect).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/approve", params(("id" = String, Path)), request_body(content = DecisionBody, description = "optional"),
    responses((status = 200, body = Approval), (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn approve(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Approval>, ApiError> {
    decide(s, id, true, body).await
}

/// Reject: the action never runs; the employee learns from the rejection.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/reject", params(("id" = String, Path)), request_body(content = DecisionBody, description = "optional"),
    responses((status = 200, body = Approval), (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn reject(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Approval>, ApiError> {
    decide(s, id, false, body).await
}

async fn decide(
    s: ApiState,
    id: String,
    approved: bool,
    body: Bytes,
) -> Result<Json<Approval>, ApiError> {
    let approval_id: ApprovalId = id.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "no approval {id:?}; `GET /api/v1/approvals?status=pending` lists the queue"
        ))
    })?;
    let body: DecisionBody = if body.iter().all(u8::is_ascii_whitespace) {
        DecisionBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body is optional, but when sent it must be JSON like {{\"reason\": \"...\"}}: {e}"
            ))
        })?
    };
    let by = body.by.unwrap_or_else(|| "api".into());
    match s.node.decide(approval_id, approved, &by, body.reason).await {
        Ok(a) => Ok(Json(a)),
        Err(DecideError::NotFound) => Err(ApiError::NotFound(format!(
            "no approval {id:?}; `GET /api/v1/approvals?status=pending` lists the queue"
        ))),
        Err(DecideError::AlreadyDecided(status, how)) => Err(ApiError::Conflict(format!(
            "approval {id} is already {}{}; a decision cannot be changed",
            status.as_str(),
            how.map(|h| format!(" ({h})")).unwrap_or_default()
        ))),
        Err(DecideError::Store(e)) => Err(e.into()),
    }
}
