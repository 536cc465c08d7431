//! Performance reviews: running one, listing them, adding a note.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /employees/{id}/reviews`: the month to review (this month so far by default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `2026-11`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
}

/// `POST /employees/{id}/reviews/{review}/notes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// The note.
    pub text: String,
    /// Who writes it (the manager by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// `GET /employees/{id}/reviews?limit=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
pub struct ReviewsQuery {
    /// At most this many (default 24).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}
