//! The candidate pipeline over HTTP: requisitions (list, open, read, change) and
//! candidates (list, add, read with their history, interviews and feedback, move to
//! another stage — the candidate's recruiter tells them).

use super::params::{FromParams, Params, QueryString};
use super::wire::{CandidatesQuery, Items, RequisitionsQuery};
use super::{ApiError, ApiState, JsonBody};
use crate::capabilities::recruiting::{
    Candidate, CandidateRecord, NewCandidate, NewRequisition, RecruitingError, Requisition,
    RequisitionPatch, StageMove,
};
use crate::store::{CandidateFilter, Page};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/recruiting/requisitions",
            get(requisitions).post(create_requisition),
        )
        .route(
            "/recruiting/requisitions/{id}",
            get(requisition).patch(update_requisition),
        )
        .route(
            "/recruiting/candidates",
            get(candidates).post(create_candidate),
        )
        .route(
            "/recruiting/candidates/{id}",
            get(candidate).patch(move_candidate),
        )
        .route("/recruiting/candidates/{id}/stage", post(move_candidate))
}

impl From<RecruitingError> for ApiError {
    fn from(e: RecruitingError) -> Self {
        match e {
            e @ RecruitingError::Invalid(_) => ApiError::BadRequest(e.to_string()),
            RecruitingError::NotFound(m) => ApiError::NotFound(m),
            RecruitingError::Conflict(m) => ApiError::Conflict(m),
            RecruitingError::Store(e) => e.into(),
        }
    }
}

fn page(p: &Params) -> Result<(Option<i64>, Option<i64>), ApiError> {
    Ok((p.whole("limit", 1, 1000)?, p.at_least("offset", 0)?))
}

fn to_page(limit: Option<i64>, offset: Option<i64>) -> Page {
    Page {
        limit: limit.unwrap_or(100),
        offset: offset.unwrap_or(0),
    }
}

impl FromParams for RequisitionsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["status", "limit", "offset"])?;
        let (limit, offset) = page(p)?;
        Ok(Self {
            status: p.text("status"),
            limit,
            offset,
        })
    }
}

impl FromParams for CandidatesQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["requisition", "stage", "source", "email", "limit", "offset"])?;
        let (limit, offset) = page(p)?;
        Ok(Self {
            requisition: p.text("requisition"),
            stage: p.text("stage"),
            source: p.text("source"),
            email: p.text("email"),
            limit,
            offset,
        })
    }
}

/// Requisitions, newest first.
#[utoipa::path(get, path = "/api/v1/recruiting/requisitions", params(RequisitionsQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn requisitions(
    State(s): State<ApiState>,
    QueryString(q): QueryString<RequisitionsQuery>,
) -> Result<Json<Items<Requisition>>, ApiError> {
    let items = s
        .node
        .pipeline()
        .requisitions(q.status.as_deref(), to_page(q.limit, q.offset))
        .await?;
    Ok(Json(Items { items }))
}

/// Opens a requisition; answers it as stored.
#[utoipa::path(post, path = "/api/v1/recruiting/requisitions", request_body = NewRequisition, responses((status = 201, body = Requisition), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn create_requisition(
    State(s): State<ApiState>,
    JsonBody(r): JsonBody<NewRequisition>,
) -> Result<(StatusCode, Json<Requisition>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.node.pipeline().create_requisition(r).await?),
    ))
}

/// One requisition.
#[utoipa::path(get, path = "/api/v1/recruiting/requisitions/{id}", params(("id" = String, Path)), responses((status = 200, body = Requisition), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn requisition(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Requisition>, ApiError> {
    Ok(Json(s.node.pipeline().requisition(&id).await?))
}

/// Changes a requisition: its title, requirements, passing score, or status (`closed`
/// closes it to new candidates).
#[utoipa::path(patch, path = "/api/v1/recruiting/requisitions/{id}", params(("id" = String, Path)), request_body = RequisitionPatch, responses((status = 200, body = Requisition), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn update_requisition(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<RequisitionPatch>,
) -> Result<Json<Requisition>, ApiError> {
    Ok(Json(s.node.pipeline().update_requisition(&id, p).await?))
}

/// Candidates, newest first.
#[utoipa::path(get, path = "/api/v1/recruiting/candidates", params(CandidatesQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn candidates(
    State(s): State<ApiState>,
    QueryString(q): QueryString<CandidatesQuery>,
) -> Result<Json<Items<Candidate>>, ApiError> {
    let f = CandidateFilter {
        requisition: q.requisition,
        stage: q.stage,
        source: q.source,
        email: q.email,
    };
    let items = s
        .node
        .pipeline()
        .candidates(&f, to_page(q.limit, q.offset))
        .await
        .map_err(|e| match e {
            RecruitingError::Invalid(f) => ApiError::BadRequest(format!(
                "query parameter {}",
                f.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            e => e.into(),
        })?;
    Ok(Json(Items { items }))
}

/// Adds a candidate to an open requisition (a referral unless `source` says otherwise);
/// one already in it with that address is a 409 naming them.
#[utoipa::path(post, path = "/api/v1/recruiting/candidates", request_body = NewCandidate, responses((status = 201, body = Candidate), (status = 400, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn create_candidate(
    State(s): State<ApiState>,
    JsonBody(c): JsonBody<NewCandidate>,
) -> Result<(StatusCode, Json<Candidate>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.node.pipeline().create_candidate(c, "api").await?),
    ))
}

/// One candidate with their stage history, interviews and feedback.
#[utoipa::path(get, path = "/api/v1/recruiting/candidates/{id}", params(("id" = String, Path)), responses((status = 200, body = CandidateRecord), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn candidate(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<CandidateRecord>, ApiError> {
    Ok(Json(s.node.pipeline().record(&id).await?))
}

/// Moves a candidate to another stage (`PATCH` the candidate or `POST .../stage`); their
/// recruiter tells them in their thread.
#[utoipa::path(patch, path = "/api/v1/recruiting/candidates/{id}", params(("id" = String, Path)), request_body = StageMove, responses((status = 200, body = Candidate), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn move_candidate(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(m): JsonBody<StageMove>,
) -> Result<Json<Candidate>, ApiError> {
    Ok(Json(s.node.pipeline().move_stage(&id, m, "api").await?))
}
