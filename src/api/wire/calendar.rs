//! Calendars: the queries of `GET /api/v1/calendar` and
//! `GET /api/v1/employees/{id}/calendar`. Bookings and free times travel as model types
//! ([`NewMeeting`](crate::model::NewMeeting), [`SlotRequest`](crate::model::SlotRequest),
//! [`Booked`](crate::node::Booked), [`Slots`](crate::node::Slots)).

use serde::Serialize;
use utoipa::IntoParams;

/// Query of `GET /api/v1/calendar`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// An employee (id, address or handle) or a mail address.
    pub owner: String,
    /// RFC 3339 time or date; default now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339 time or date; default a week after `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// Query of `GET /api/v1/employees/{id}/calendar`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmployeeCalendarQuery {
    /// RFC 3339 time or date; default now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339 time or date; default a week after `from`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}
