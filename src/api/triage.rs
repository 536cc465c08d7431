//! `/api/v1/employees/{id}/triage`: the executive's mail as their assistant triaged
//! it — label, priority, summary and why — most pressing first.

use super::employees::resolve;
use super::params::{FromParams, Params, QueryString};
use super::wire::{Items, TriageQuery};
use super::{ApiError, ApiState};
use crate::model::{TriageLabel, TriagedMail};
use crate::store::TriageFilter;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/employees/{id}/triage", get(list))
}

impl FromParams for TriageQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["label", "limit"])?;
        Ok(Self {
            label: p.text("label"),
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

/// The executive's mail as the employee triaged it: urgent first, then by priority,
/// oldest first within each.
#[utoipa::path(get, path = "/api/v1/employees/{id}/triage", params(("id" = String, Path), TriageQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<TriageQuery>,
) -> Result<Json<Items<TriagedMail>>, ApiError> {
    let id = resolve(&s, &key)?;
    let label = match q.label.as_deref() {
        None => None,
        Some(l) => Some(TriageLabel::parse(l).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "`label` must be one of urgent, meeting_request, needs_reply, fyi; got {l:?}"
            ))
        })?),
    };
    let f = TriageFilter {
        label,
        since: None,
        limit: q.limit.unwrap_or(100),
    };
    let items = s.node.triaged(id, &f).await?;
    Ok(Json(Items { items }))
}
