//! `/api/v1/escalations`: cases employees handed to their managers, and the decisions
//! on them (which become precedents for the next case of the same kind).

use super::employees::resolve;
use super::params::{FromParams, Params, QueryString};
use super::wire::{EscalationsQuery, Items, VerdictBody};
use super::{ApiError, ApiState};
use crate::model::{Escalation, EscalationStatus, Verdict};
use crate::node::EscalationError;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/escalations", get(list))
        .route("/escalations/{id}/decide", post(decide))
}

impl FromParams for EscalationsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["employee", "status", "limit"])?;
        Ok(Self {
            employee: p.text("employee"),
            status: p.text("status"),
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

/// Escalations, newest first.
#[utoipa::path(get, path = "/api/v1/escalations", params(EscalationsQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, description = "no such employee", body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    QueryString(q): QueryString<EscalationsQuery>,
) -> Result<Json<Items<Escalation>>, ApiError> {
    let employee = q.employee.map(|k| resolve(&s, &k)).transpose()?;
    let status = match q.status.as_deref() {
        None | Some("all") => None,
        Some(v) => Some(EscalationStatus::parse(v).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "query parameter `status` must be pending, decided or all, got {v:?}"
            ))
        })?),
    };
    let items = s
        .node
        .escalations(employee, status, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(Items { items }))
}

/// Decide an escalation (or overrule one decided by precedent); the employee is told.
#[utoipa::path(post, path = "/api/v1/escalations/{id}/decide", params(("id" = String, Path)), request_body = VerdictBody,
    responses((status = 200, body = Escalation), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn decide(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    super::JsonBody(body): super::JsonBody<VerdictBody>,
) -> Result<Json<Escalation>, ApiError> {
    let verdict = Verdict::parse(&body.decision).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`decision` must be approve or reject, got {:?}",
            body.decision
        ))
    })?;
    let by = body.by.unwrap_or_default();
    match s
        .node
        .decide_escalation(&id, verdict, body.reason.as_deref(), &by)
        .await
    {
        Ok(e) => Ok(Json(e)),
        Err(e @ EscalationError::NotFound) => Err(ApiError::NotFound(format!("{id:?}: {e}"))),
        Err(e @ EscalationError::AlreadyDecided(..)) => Err(ApiError::Conflict(format!(
            "escalation {id}: {e}; a human's decision is not changed"
        ))),
        Err(EscalationError::Store(e)) => Err(e.into()),
    }
}
