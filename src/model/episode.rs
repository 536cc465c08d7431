//! Episodes: the employee's record of everything that happened to it and everything it
//! did, each linked to what caused it.

use super::{EmployeeId, EpisodeId, EventId, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an episode records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeKind {
    /// An event the employee perceived; exactly one per processed event.
    Event,
    /// A decision the employee took.
    Decision,
    /// An action the employee took (or proposed).
    Action,
    /// The outcome of an action.
    Outcome,
    /// A day's consolidated summary.
    Summary,
}

impl EpisodeKind {
    /// The kind's stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Decision => "decision",
            Self::Action => "action",
            Self::Outcome => "outcome",
            Self::Summary => "summary",
        }
    }

    /// Parses a stored kind name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Event,
            Self::Decision,
            Self::Action,
            Self::Outcome,
            Self::Summary,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One record in episodic memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Episode {
    /// Episode id.
    pub id: EpisodeId,
    /// Tenant.
    #[schema(value_type = String)]
    pub tenant: TenantId,
    /// Whose memory this is.
    pub employee_id: EmployeeId,
    /// What it records.
    pub kind: EpisodeKind,
    /// The event it records or that led to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The episode that caused this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause_id: Option<EpisodeId>,
    /// The channel it came through (`email`, `chat`, `api`, `cron`, ...), for events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The event's kind, or a short name of the decision or action.
    pub summary: String,
    /// The content: for an event, its payload as sent.
    pub payload: serde_json::Value,
    /// When it happened.
    pub at: DateTime<Utc>,
}
