//! `/api/v1/llm/usage`: what employees asked of language models on a day — calls,
//! tokens and cost per employee, provider and model.

use super::employees::resolve;
use super::params::{FromParams, Params, QueryString};
use super::wire::{Items, UsageQuery};
use super::{ApiError, ApiState};
use crate::llm::UsageRow;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/llm/usage", get(usage))
}

impl FromParams for UsageQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["employee", "day"])?;
        Ok(Self {
            employee: p.text("employee"),
            day: p.text("day"),
        })
    }
}

/// Language-model usage on a day (UTC; today when `day` is not given), of one employee
/// (`employee`: id or handle) or of all, by employee, provider and model.
#[utoipa::path(get, path = "/api/v1/llm/usage", params(UsageQuery),
    responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn usage(
    State(s): State<ApiState>,
    QueryString(q): QueryString<UsageQuery>,
) -> Result<Json<Items<UsageRow>>, ApiError> {
    let who = q.employee.as_deref().map(|k| resolve(&s, k)).transpose()?;
    let day = match q.day.as_deref() {
        None => crate::llm::day_of(chrono::Utc::now()),
        Some(d) => d.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "`day` must be a date such as 2026-12-06 (UTC), got {d:?}"
            ))
        })?,
    };
    let items = s.node.llm_usage(who, day).await?;
    Ok(Json(Items { items }))
}
