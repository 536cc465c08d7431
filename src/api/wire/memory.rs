//! Memory: recall, facts and procedures queries (`/api/v1/employees/{id}/memory/...`),
//! and the bodies of publishing knowledge, forgetting a person and consolidating a day.

use crate::memory::Visibility;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /api/v1/employees/{id}/memory/search`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecallQuery {
    /// What to look for; without it, the other filters list episodes newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// RFC 3339 time or date: only memories at or after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// RFC 3339 time or date (inclusive day): only memories before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A participant's name or address: only episodes involving them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    /// text, vector or hybrid (default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// 1..=200, default 20.
    #[param(minimum = 1, maximum = 200)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Items to skip, 0..=10000.
    #[param(minimum = 0, maximum = 10000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /api/v1/employees/{id}/memory/facts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FactsQuery {
    /// A name; without it, every fact the employee may see, newest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Hops from the subject, 1..=6, default 1.
    #[param(minimum = 1, maximum = 6)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<i64>,
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Items to skip, 0..=10000.
    #[param(minimum = 0, maximum = 10000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// Query of `GET /api/v1/employees/{id}/memory/procedures`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProceduresQuery {
    /// Only this kind of task (the event that starts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

/// Body of `POST /api/v1/knowledge`: a document to publish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// Title.
    pub title: String,
    /// The text, Markdown or plain.
    pub text: String,
    /// Where it comes from (a path, a URL); publishing again from the same source
    /// replaces the earlier version.
    #[serde(default)]
    pub source: Option<String>,
    /// private, team or company (default).
    #[serde(default)]
    pub visibility: Option<Visibility>,
    /// The publishing employee (id or chat handle); needed for private and team.
    #[serde(default)]
    pub employee: Option<String>,
}

/// Body of `POST /api/v1/memory/forget`: whom to forget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgetBody {
    /// A full name, an address, or `Name <address>`.
    pub person: String,
}

/// The optional body of `POST /api/v1/employees/{id}/memory/consolidate`: which day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsolidateBody {
    /// The day, e.g. 2026-11-30 (UTC); yesterday by default.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub day: Option<NaiveDate>,
}
