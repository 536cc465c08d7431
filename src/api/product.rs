//! The product backlog over HTTP: feature requests listed, filed (a vote when an open
//! request says the same), read, and given RICE inputs or a status.

use super::params::{FromParams, Params, QueryString};
use super::wire::{FiledRequest, Items, RequestsQuery};
use super::{ApiError, ApiState, JsonBody};
use crate::capabilities::product::{
    FeatureRequest, Filed, NewRequest, ProductError, RequestPatch, RequestStatus, RequestsFilter,
    Source,
};
use crate::store::Page;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/product/requests", get(list).post(add))
        .route("/product/requests/{id}", get(show).patch(update))
}

impl From<ProductError> for ApiError {
    fn from(e: ProductError) -> Self {
        match e {
            e @ ProductError::Invalid(_) => ApiError::BadRequest(e.to_string()),
            ProductError::NotFound(m) => ApiError::NotFound(m),
            ProductError::Store(e) => e.into(),
        }
    }
}

impl FromParams for RequestsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["status", "account", "source", "limit", "offset"])?;
        Ok(Self {
            status: p.text("status"),
            account: p.text("account"),
            source: p.text("source"),
            limit: p.whole("limit", 1, 1000)?,
            offset: p.at_least("offset", 0)?,
        })
    }
}

/// Feature requests, newest first.
#[utoipa::path(get, path = "/api/v1/product/requests", params(RequestsQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    QueryString(q): QueryString<RequestsQuery>,
) -> Result<Json<Items<FeatureRequest>>, ApiError> {
    let status = q
        .status
        .map(|v| {
            RequestStatus::parse(&v).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "query parameter `status` must be new, planned, in_progress, shipped or declined, got {v:?}"
                ))
            })
        })
        .transpose()?;
    let source = q
        .source
        .map(|v| {
            Source::parse(&v).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "query parameter `source` must be mail, chat, task, api or usage, got {v:?}"
                ))
            })
        })
        .transpose()?;
    let f = RequestsFilter {
        status,
        account: q.account,
        source,
    };
    let page = Page {
        limit: q.limit.unwrap_or(100),
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json(Items {
        items: s.node.feature_requests(&f, page).await?,
    }))
}

/// Files a feature request: 201 with the new request, or 200 with the open request it
/// repeats, now with the requester's vote. With an `Idempotency-Key` header, a retry
/// files nothing new.
#[utoipa::path(post, path = "/api/v1/product/requests", request_body = NewRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key files nothing new")),
    responses((status = 201, body = FiledRequest), (status = 200, body = FiledRequest), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn add(
    State(s): State<ApiState>,
    headers: HeaderMap,
    JsonBody(r): JsonBody<NewRequest>,
) -> Result<(StatusCode, Json<FiledRequest>), ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::BadRequest("header `Idempotency-Key` must be visible ASCII text".into())
        })?),
        None => None,
    };
    let filed = s.node.file_feature_request(r, key).await?;
    let (status, word) = match &filed {
        Filed::New(_) => (StatusCode::CREATED, "new"),
        Filed::Vote { .. } => (StatusCode::OK, "vote"),
    };
    Ok((
        status,
        Json(FiledRequest {
            filed: word.into(),
            message: filed.told(),
            request: filed.request().clone(),
        }),
    ))
}

/// One feature request.
#[utoipa::path(get, path = "/api/v1/product/requests/{id}", params(("id" = String, Path)), responses((status = 200, body = FeatureRequest), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn show(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<FeatureRequest>, ApiError> {
    Ok(Json(s.node.feature_request(&id).await?))
}

/// Sets a request's RICE inputs (the score is worked out again), status or title.
#[utoipa::path(patch, path = "/api/v1/product/requests/{id}", params(("id" = String, Path)), request_body = RequestPatch, responses((status = 200, body = FeatureRequest), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn update(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<RequestPatch>,
) -> Result<Json<FeatureRequest>, ApiError> {
    Ok(Json(s.node.update_feature_request(&id, p).await?))
}
