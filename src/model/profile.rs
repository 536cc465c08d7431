//! The employee profile: everything an HR system would hold about a digital employee
//! (seed 0.1, `EmployeeProfile`), plus the goals it works towards.

use super::{EmployeeId, FieldError, Persona, TenantId, check_unit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Employment status, as in an HR system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmployeeStatus {
    /// Hired, learning the job (shadow / assisted phases).
    Onboarding,
    /// Working autonomously.
    Active,
    /// Paused by a human; keeps its memory, takes no new work.
    Inactive,
    /// Left the company: actors stopped, address no longer routed, memory kept.
    Offboarded,
}

impl EmployeeStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [EmployeeStatus; 4] = [
        Self::Onboarding,
        Self::Active,
        Self::Inactive,
        Self::Offboarded,
    ];

    /// The status's name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Onboarding => "onboarding",
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Offboarded => "offboarded",
        }
    }

    /// Parses a stored status name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Who an employee reports to: a human or another digital employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Manager {
    /// A human manager, reached by email.
    Human {
        /// Full name.
        name: String,
        /// Email address.
        email: String,
    },
    /// Another digital employee.
    Employee {
        /// The manager's employee id.
        id: EmployeeId,
    },
}

/// Which systems an employee may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum AccessLevel {
    Restricted,
    Standard,
    Elevated,
    Admin,
}

/// A learned skill and how good the employee is at it (0..=1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    /// Skill name, e.g. `discovery_calls`.
    pub name: String,
    /// Proficiency, 0..=1.
    pub level: f64,
}

/// A connected outside service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    /// Service name, e.g. `salesforce`.
    pub name: String,
    /// Whether the employee may use it now.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Planning horizon of a goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum GoalHorizon {
    Strategic,
    Tactical,
    Immediate,
}

/// How a metric is compared with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[allow(missing_docs)]
pub enum Comparison {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    Below,
}

/// A measurable goal: a metric, how it compares with a target, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// Short id, unique within the employee, e.g. `quarterly_revenue`.
    pub id: String,
    /// What the goal is, in words.
    pub description: String,
    /// Strategic, tactical or immediate.
    pub horizon: GoalHorizon,
    /// The metric measured, e.g. `closed_revenue_usd`.
    pub metric: String,
    /// How the metric must compare with the target.
    pub comparison: Comparison,
    /// The target value.
    pub target: f64,
    /// Unit of the metric, e.g. `usd`, `ratio`, `hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Period the target applies to, e.g. `quarter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Importance, 0..=1.
    #[serde(default = "half")]
    pub importance: f64,
    /// Id of the goal this one serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

fn half() -> f64 {
    0.5
}

/// One performance review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewSummary {
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Who wrote it.
    pub reviewer: String,
    /// Rating, 0..=1.
    pub rating: f64,
    /// What it says.
    pub summary: String,
}

/// Everything known about one digital employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeeProfile {
    /// Employee id.
    pub id: EmployeeId,
    /// Tenant (company) the employee works for.
    #[schema(value_type = String)]
    pub tenant: TenantId,
    /// Full name.
    pub name: String,
    /// Email address, `first.last@<company domain>`, unique within the tenant.
    pub email: String,
    /// Chat handle, unique within the tenant.
    pub chat_handle: String,
    /// Calendar id.
    pub calendar_id: String,
    /// Avatar image address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Role template the employee was hired from, e.g. `sales_ae`.
    pub role: String,
    /// Job title.
    pub job_title: String,
    /// Department.
    pub department: String,
    /// The team it is on: a team id (`config/teams/<id>.toml`), or empty.
    pub team: String,
    /// Who the employee reports to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Manager>,
    /// First working day.
    pub start_date: DateTime<Utc>,
    /// Employment status.
    pub status: EmployeeStatus,
    /// Enabled capabilities, e.g. `email`, `calendar`.
    pub capabilities: Vec<String>,
    /// Learned skills.
    pub skills: Vec<Skill>,
    /// Completed trainings.
    pub certifications: Vec<String>,
    /// Access level.
    pub access_level: AccessLevel,
    /// Permissions per system, e.g. `crm = ["read", "write"]`.
    pub permissions: BTreeMap<String, Vec<String>>,
    /// Connected services.
    pub integrations: Vec<Integration>,
    /// Current goals.
    pub goals: Vec<Goal>,
    /// Past reviews.
    pub performance_history: Vec<ReviewSummary>,
    /// Personality and styles.
    pub persona: Persona,
    /// When the employee was hired.
    pub created_at: DateTime<Utc>,
    /// Who hired it.
    pub created_by: String,
    /// When it last handled something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<DateTime<Utc>>,
}

impl EmployeeProfile {
    /// Every problem with the profile, naming the field.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = self.persona.validate();
        if self.name.trim().is_empty() {
            e.push(FieldError::new("name", "must not be empty"));
        }
        for (i, s) in self.skills.iter().enumerate() {
            check_unit(&mut e, &format!("skills[{i}].level"), s.level);
        }
        let mut seen = std::collections::HashSet::new();
        for (i, g) in self.goals.iter().enumerate() {
            e.extend(
                g.validate()
                    .into_iter()
                    .map(|x| x.within(&format!("goals[{i}]"))),
            );
            if !seen.insert(g.id.as_str()) {
                e.push(FieldError::new(
                    format!("goals[{i}].id"),
                    format!("`{}` is used twice; goal ids must be unique", g.id),
                ));
            }
        }
        for (i, g) in self.goals.iter().enumerate() {
            if let Some(p) = &g.parent
                && !self.goals.iter().any(|o| &o.id == p)
            {
                e.push(FieldError::new(
                    format!("goals[{i}].parent"),
                    format!("names goal `{p}`, which this employee does not have"),
                ));
            }
        }
        e
    }
}

impl Goal {
    /// Problems with this goal, with field paths relative to it.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.id.trim().is_empty() {
            e.push(FieldError::new("id", "must not be empty"));
        }
        if self.metric.trim().is_empty() {
            e.push(FieldError::new(
                "metric",
                "must name the metric measured, e.g. `win_rate`",
            ));
        }
        if !self.target.is_finite() {
            e.push(FieldError::new("target", "must be a finite number"));
        }
        check_unit(&mut e, "importance", self.importance);
        e
    }
}
