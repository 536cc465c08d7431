//! One error type for the whole API, turned into a response in one place: a stable
//! `code`, a message that says what was wrong and what to do, and the status code that
//! fits. Internal error text never reaches a client.

use super::wire::ErrorBody;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An API error.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed or a field is invalid.
    BadRequest(String),
    /// 401: missing or wrong bearer token.
    Unauthorized,
    /// 403: the token may not do this (its role, or its tenant is suspended).
    Forbidden(String),
    /// 404: no such employee (or resource).
    NotFound(String),
    /// 409: conflicts with the current state.
    Conflict(String),
    /// 413: body larger than the limit.
    TooLarge(String),
    /// 503: the store or the employee is unavailable; nothing was accepted.
    Unavailable(String),
    /// 503: the request took longer than `api.request_timeout` and was abandoned.
    TimedOut(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong bearer token; send `Authorization: Bearer <token>` with the node's API token".into(),
            ),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            ApiError::TimedOut(m) => (StatusCode::SERVICE_UNAVAILABLE, "timeout", m),
        };
        (status, Json(ErrorBody::new(code, message))).into_response()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store error answering an API call");
        ApiError::Unavailable("the store is unavailable; nothing was changed; retry shortly".into())
    }
}

/// The answers every call under `/api/v1` can get whatever it does, for the OpenAPI
/// document: the token refused, or the node unable to answer (its store, or
/// `api.request_timeout`). Each operation lists it beside its own answers.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its document is used
pub(crate) enum Guarded {
    /// Missing or wrong bearer token (`unauthorized`).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token's role may not do this, or its tenant is suspended (`forbidden`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The store could not be reached, or the request took longer than
    /// `api.request_timeout` (`unavailable`, `timeout`); retry.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The answers every call with a JSON body can get, for the OpenAPI document: a body that
/// is not JSON of the documented shape, or one larger than `api.max_body_bytes`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its document is used
pub(crate) enum BodyRefused {
    /// The body is not JSON, or not of the documented shape (`bad_request`).
    #[response(status = 400)]
    Malformed(ErrorBody),
    /// The body is larger than `api.max_body_bytes` (`too_large`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
}
