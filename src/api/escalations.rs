//! `/api/v1/escalations`: cases employees handed to their managers, and the decisions
//! on them (which become precedents for the next case of the same kind).

use super::employees::{Items, int_param, only_params, resolve};
use super::{ApiError, ApiState};
use crate::model::{Escalation, EscalationStatus, Verdict};
use crate::node::EscalationError;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/escalations", get(list))
        .route("/escalations/{id}/decide", post(decide))
}

/// Body of a decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerdictBody {
    /// `approve` or `reject`.
    decision: String,
    /// Why: told to the employee and kept with the precedent.
    #[serde(default)]
    reason: Option<String>,
    /// Who decides (default `api`).
    #[serde(default)]
    by: Option<String>,
}

/// Escalations, newest first.
#[utoipa::path(get, path = "/api/v1/escalations", params(
    ("employee" = Option<String>, Query, description = "employee id or chat handle"),
    ("status" = Option<String>, Query, description = "pending or decided; all when unset"),
    ("limit" = Option<i64>, Query, description = "1..=1000, default 100")),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody)))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Items<Escalation>>, ApiError> {
    only_params(&q, &["employee", "status", "limit"])?;
    let employee = q.get("employee").map(|k| resolve(&s, k)).transpose()?;
    let status = match q.get("status").map(String::as_str) {
        None | Some("all") => None,
        Some(v) => Some(EscalationStatus::parse(v).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "query parameter `status` must be pending, decided or all, got {v:?}"
            ))
        })?),
    };
    let limit = int_param(&q, "limit", 100, 1000)?;
    let items = s.node.escalations(employee, status, limit).await?;
    Ok(Json(Items { items }))
}

/// Decide an escalation (or overrule one decided by precedent); the employee is told.
#[utoipa::path(post, path = "/api/v1/escalations/{id}/decide", params(("id" = String, Path)), request_body = VerdictBody,
    responses((status = 200, body = Escalation), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)))]
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
