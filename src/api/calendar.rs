//! Calendars over HTTP: read an employee's or a person's calendar, book a meeting with
//! an employee as organiser, and find the best free times for a group.

use super::employees::resolve;
use super::params::{FromParams, Params, QueryString, time_bound};
use super::wire::{CalendarQuery, EmployeeCalendarQuery, Items};
use super::{ApiError, ApiState, JsonBody};
use crate::model::{CalendarEvent, NewMeeting, SlotRequest};
use crate::node::{Booked, CalendarError, Slots};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/calendar", get(calendar))
        .route("/calendar/slots", post(slots))
        .route(
            "/employees/{id}/calendar",
            get(employee_calendar).post(book),
        )
}

fn calendar_error(e: CalendarError) -> ApiError {
    match e {
        e @ CalendarError::Invalid(_) => ApiError::BadRequest(e.to_string()),
        CalendarError::NotFound => ApiError::NotFound("no such employee".into()),
        CalendarError::Capability(crate::capabilities::CapabilityError::Invalid(m)) => {
            ApiError::Conflict(m)
        }
        CalendarError::Capability(e) => {
            tracing::warn!(error = %e, "calendar request failed");
            ApiError::Unavailable(format!("{e}; nothing was booked; retry shortly"))
        }
    }
}

impl FromParams for CalendarQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["owner", "from", "to"])?;
        Ok(Self {
            owner: p.required(
                "owner",
                "query parameter `owner` is required: an employee or a mail address, e.g. `?owner=alex.morgan@example.com`",
            )?,
            from: p.text("from"),
            to: p.text("to"),
        })
    }
}

impl FromParams for EmployeeCalendarQuery {
    fn from_params(p: &Params) -> Result<Self, ApiError> {
        p.only(&["from", "to"])?;
        Ok(Self {
            from: p.text("from"),
            to: p.text("to"),
        })
    }
}

/// `from` and `to` of a query: now and a week on unless given.
fn range(from: Option<&str>, to: Option<&str>) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let from = time_bound("from", from)?.unwrap_or_else(Utc::now);
    let to = time_bound("to", to)?.unwrap_or(from + Duration::days(7));
    if to <= from {
        return Err(ApiError::BadRequest(
            "query parameters `from` and `to` give an empty range: `from` must be before `to`"
                .into(),
        ));
    }
    Ok((from, to))
}

/// A person's calendar: an employee (id, address or handle) or any address.
#[utoipa::path(get, path = "/api/v1/calendar", params(CalendarQuery), responses((status = 200, body = Object), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn calendar(
    State(s): State<ApiState>,
    QueryString(q): QueryString<CalendarQuery>,
) -> Result<Json<Items<CalendarEvent>>, ApiError> {
    let (from, to) = range(q.from.as_deref(), q.to.as_deref())?;
    let items = s
        .node
        .calendar(&q.owner, from, to)
        .await
        .map_err(calendar_error)?;
    Ok(Json(Items { items }))
}

/// An employee's calendar, by start.
#[utoipa::path(get, path = "/api/v1/employees/{id}/calendar", params(("id" = String, Path), EmployeeCalendarQuery), responses((status = 200, body = Object), (status = 404, body = super::wire::ErrorBody), (status = 400, body = super::wire::ErrorBody), super::error::Guarded))]
pub(crate) async fn employee_calendar(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    QueryString(q): QueryString<EmployeeCalendarQuery>,
) -> Result<Json<Items<CalendarEvent>>, ApiError> {
    let employee = resolve(&s, &id)?;
    let (from, to) = range(q.from.as_deref(), q.to.as_deref())?;
    let items = s
        .node
        .calendar(&employee.to_string(), from, to)
        .await
        .map_err(calendar_error)?;
    Ok(Json(Items { items }))
}

/// Book a meeting with the employee as organiser: at `start`, or at the best time
/// everyone is free; meetings of lower priority the employee organised move out of
/// the way. Human attendees are invited by mail. With an `Idempotency-Key` header, a
/// repeated request answers the meeting the first one booked.
#[utoipa::path(post, path = "/api/v1/employees/{id}/calendar", request_body = NewMeeting, params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key books nothing new")), responses((status = 201, body = Booked), (status = 400, body = super::wire::ErrorBody), (status = 409, body = super::wire::ErrorBody), (status = 404, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn book(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    JsonBody(m): JsonBody<NewMeeting>,
) -> Result<(StatusCode, Json<Booked>), ApiError> {
    let employee = resolve(&s, &id)?;
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::BadRequest("header `Idempotency-Key` must be visible ASCII text".into())
        })?),
        None => None,
    };
    let booked = s
        .node
        .book_meeting_once(employee, m, key)
        .await
        .map_err(calendar_error)?;
    Ok((StatusCode::CREATED, Json(booked)))
}

/// The best times everyone is free within their working hours, best first.
#[utoipa::path(post, path = "/api/v1/calendar/slots", request_body = SlotRequest, responses((status = 200, body = Slots), (status = 400, body = super::wire::ErrorBody), super::error::BodyRefused, super::error::Guarded))]
pub(crate) async fn slots(
    State(s): State<ApiState>,
    JsonBody(r): JsonBody<SlotRequest>,
) -> Result<Json<Slots>, ApiError> {
    let found = s.node.free_times(r).await.map_err(calendar_error)?;
    Ok(Json(found))
}
