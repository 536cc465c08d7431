//! The executive assistant's triage of the executive's mail.

use serde::Serialize;
use utoipa::IntoParams;

/// `GET /employees/{id}/triage?label=&limit=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
pub struct TriageQuery {
    /// Only this label: `urgent`, `meeting_request`, `needs_reply` or `fyi`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}
