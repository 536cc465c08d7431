//! Language-model usage on the wire.

use serde::Serialize;
use utoipa::IntoParams;

/// `GET /llm/usage?employee=&day=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
pub struct UsageQuery {
    /// Only this employee (id or handle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee: Option<String>,
    /// The day (UTC), e.g. `2026-12-06`; today when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
}
