//! Restarting an employee and the events set aside after crashing it (dead letters).

use crate::actors::RuntimeState;
use crate::model::EventId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Answer of `POST /api/v1/employees/{id}/restart`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Restarted {
    /// Where the employee's actor tree is now (`active`, `activating`, ...).
    pub state: RuntimeState,
}

/// An event set aside after crashing its employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeadLetterView {
    /// The event's id (for retry and drop).
    #[schema(value_type = String)]
    pub event_id: EventId,
    /// Its kind.
    pub kind: String,
    /// Where it came from.
    pub source: String,
    /// Its content.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When it was accepted.
    pub received_at: DateTime<Utc>,
    /// How many times it failed the employee.
    pub attempts: u32,
    /// Why it was set aside.
    pub reason: String,
    /// When it was set aside.
    pub set_aside_at: DateTime<Utc>,
}

/// Query of `GET /api/v1/employees/{id}/dead-letters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLettersQuery {
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Answer of a retry (202) or a drop (200) of a set-aside event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeadLetterDone {
    /// The event.
    #[schema(value_type = String)]
    pub event_id: EventId,
    /// `retried`: pending again and handed to the employee; `dropped`: kept as
    /// handled and no longer listed.
    pub done: String,
}
