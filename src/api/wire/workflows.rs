//! Workflow runs and teams on the wire.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Body of `POST /api/v1/workflows/{name}/runs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRunBody {
    /// The workflow's inputs, e.g. `{"feature": "SSO"}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    /// Who starts it (defaults to `api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Query of `GET /api/v1/workflows/runs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// running, completed, failed or all (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(pattern = "^(running|completed|failed|all)$")]
    pub status: Option<String>,
    /// 1..=1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Body of `POST /api/v1/teams/{id}/standup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StandupBody {
    /// The stand-up's time (RFC 3339); now when absent. The same time holds the same
    /// stand-up: each update is posted once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}
