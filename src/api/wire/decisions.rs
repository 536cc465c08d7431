//! The queues humans decide: approvals (`/api/v1/approvals`) and escalations
//! (`/api/v1/escalations`), their filters and the bodies of a decision.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /api/v1/approvals`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalsQuery {
    /// Only this employee's: id or chat handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee: Option<String>,
    /// pending, approved, rejected or all (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(pattern = "^(pending|approved|rejected|all)$")]
    pub status: Option<String>,
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// The optional body of `POST /api/v1/approvals/{id}/approve` and `/reject`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why: shown in the queue and, for a rejection, learned from.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who decides (default `api`).
    #[serde(default)]
    pub by: Option<String>,
}

/// Query of `GET /api/v1/escalations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EscalationsQuery {
    /// Only this employee's: id or chat handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee: Option<String>,
    /// pending, decided or all (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(pattern = "^(pending|decided|all)$")]
    pub status: Option<String>,
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Body of `POST /api/v1/escalations/{id}/decide`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    /// `approve` or `reject`.
    pub decision: String,
    /// Why: told to the employee and kept with the precedent.
    #[serde(default)]
    pub reason: Option<String>,
    /// Who decides (default `api`).
    #[serde(default)]
    pub by: Option<String>,
}
