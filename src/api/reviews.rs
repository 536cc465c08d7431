//! `/api/v1/employees/{id}/reviews`: performance reviews — run one now, list them, read
//! one, and add the manager's notes.

use super::employees::resolve;
use super::params::{FromParams, Params, QueryString};
use super::wire::{Items, NoteBody, ReviewBody, ReviewsQuery};
use super::{ApiError, ApiState};
use crate::model::Review;
use crate::node::ReviewError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/employees/{id}/reviews", get(list).post(run))
        .route("/employees/{id}/reviews/{review}", get(show))
        .route("/employees/{id}/reviews/{review}/notes", post(note))
}

impl FromParams for ReviewsQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["limit"])?;
        Ok(Self {
            limit: p.whole("limit", 1, 1000)?,
        })
    }
}

fn review_error(e: ReviewError) -> ApiError {
    match e {
        ReviewError::NoEmployee | ReviewError::NoReview => ApiError::NotFound(e.to_string()),
        ReviewError::Period(_) | ReviewError::EmptyNote => ApiError::BadRequest(e.to_string()),
        ReviewError::Store(e) => ApiError::Unavailable(e.to_string()),
    }
}

/// Review the employee now: for `period` (`2026-11`), or this month so far. The review
/// is stored (replacing an earlier one of the same month, notes kept), mailed to the
/// manager and handed to the employee.
#[utoipa::path(post, path = "/api/v1/employees/{id}/reviews", params(("id" = String, Path)),
    request_body(content = ReviewBody, description = "optional"),
    responses((status = 201, body = Review), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn run(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    let id = resolve(&s, &key)?;
    let b: ReviewBody = if body.iter().all(u8::is_ascii_whitespace) {
        ReviewBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "malformed body: {e}; send {{\"period\": \"2026-11\"}} or nothing"
            ))
        })?
    };
    let r = s
        .node
        .run_review(id, b.period.as_deref())
        .await
        .map_err(review_error)?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The employee's reviews, newest first.
#[utoipa::path(get, path = "/api/v1/employees/{id}/reviews", params(("id" = String, Path), ReviewsQuery),
    responses((status = 200, body = Object), (status = 404, body = super::wire::ErrorBody), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn list(
    State(s): State<ApiState>,
    Path(key): Path<String>,
    QueryString(q): QueryString<ReviewsQuery>,
) -> Result<Json<Items<Review>>, ApiError> {
    let id = resolve(&s, &key)?;
    let items = s
        .node
        .reviews(id, q.limit.unwrap_or(24))
        .await
        .map_err(review_error)?;
    Ok(Json(Items { items }))
}

/// One review.
#[utoipa::path(get, path = "/api/v1/employees/{id}/reviews/{review}", params(("id" = String, Path), ("review" = String, Path)),
    responses((status = 200, body = Review), (status = 404, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn show(
    State(s): State<ApiState>,
    Path((key, review)): Path<(String, String)>,
) -> Result<Json<Review>, ApiError> {
    let id = resolve(&s, &key)?;
    Ok(Json(
        s.node.review(id, &review).await.map_err(review_error)?,
    ))
}

/// Adds a note to a review (as the manager, unless `by` says who).
#[utoipa::path(post, path = "/api/v1/employees/{id}/reviews/{review}/notes", params(("id" = String, Path), ("review" = String, Path)),
    request_body = NoteBody,
    responses((status = 201, body = Review), (status = 400, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn note(
    State(s): State<ApiState>,
    Path((key, review)): Path<(String, String)>,
    super::JsonBody(body): super::JsonBody<NoteBody>,
) -> Result<(StatusCode, Json<Review>), ApiError> {
    let id = resolve(&s, &key)?;
    let by = body.by.as_deref().unwrap_or("manager");
    let r = s
        .node
        .add_review_note(id, &review, by, &body.text)
        .await
        .map_err(review_error)?;
    Ok((StatusCode::CREATED, Json(r)))
}
