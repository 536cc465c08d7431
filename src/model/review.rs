//! Performance reviews (seed 0.4): how an employee did over a period, computed from what
//! it recorded — its goals, the plans it carried through or missed, the feedback it was
//! given — with where to improve and what it will do about it.

use super::EmployeeId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Review {
    /// Id.
    pub id: String,
    /// The employee reviewed.
    #[schema(value_type = String)]
    pub employee_id: EmployeeId,
    /// The month reviewed, `2026-11`.
    pub period: String,
    /// Where the period starts (or the hire, if later).
    pub from: DateTime<Utc>,
    /// Where it ends (now, for the month under way).
    pub to: DateTime<Utc>,
    /// Goals reached on average, 0..=1 (each goal's progress capped at 1).
    pub goal_completion: f64,
    /// Each goal: its target, what was reached by the period's end, the progress.
    pub goals: Vec<GoalReached>,
    /// Plans carried through, of those that ended in the period; none when none ended.
    pub task_success_rate: Option<f64>,
    /// Mean rating of the feedback given in the period, 0..=1; none without ratings.
    pub feedback_score: Option<f64>,
    /// Plans ended per day of the period.
    pub tasks_per_day: f64,
    /// Mean hours from taking a plan up to its end.
    pub avg_task_duration: Option<f64>,
    /// Success rate in the period's second half minus its first; none with too few.
    pub improvement_rate: Option<f64>,
    /// Each plan run: how often it ended, and how often it worked.
    pub plans: Vec<PlanRecord>,
    /// Skills and how they moved since the last review.
    pub skills: Vec<SkillLevel>,
    /// What colleagues and the manager said.
    pub team_feedback: Vec<FeedbackNote>,
    /// Where the employee is weakest, in words.
    pub development_areas: Vec<String>,
    /// The plans among them (names): failing more often than not.
    #[serde(default)]
    pub weak_plans: Vec<String>,
    /// The goals among them (ids): far from their targets.
    #[serde(default)]
    pub weak_goals: Vec<String>,
    /// What it will do about them.
    pub improvement_plan: Vec<String>,
    /// The manager's notes.
    pub notes: Vec<ReviewNote>,
    /// When it was computed.
    pub created_at: DateTime<Utc>,
}

impl Review {
    /// The descriptions of the goals it found weak, in the order of `weak_goals`.
    pub fn weak_goal_descriptions(&self) -> Vec<&str> {
        self.weak_goals
            .iter()
            .filter_map(|id| self.goals.iter().find(|g| &g.id == id))
            .map(|g| g.description.as_str())
            .collect()
    }
}

/// One goal in a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GoalReached {
    /// The goal's id.
    pub id: String,
    /// What it is.
    pub description: String,
    /// Its metric.
    pub metric: String,
    /// Its target.
    pub target: f64,
    /// The metric's last figure in the period; none when none was reported.
    pub reached: Option<f64>,
    /// 0..=1.
    pub progress: f64,
}

impl GoalReached {
    /// `Description: 1.2 against 3 (40%)`, or `no figure yet` for what was reached.
    pub fn line(&self) -> String {
        let reached = self
            .reached
            .map_or("no figure yet".to_string(), |v| v.to_string());
        format!(
            "{}: {reached} against {} ({:.0}%)",
            self.description,
            self.target,
            self.progress * 100.0
        )
    }
}

/// How one plan fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanRecord {
    /// The plan.
    pub plan: String,
    /// Times it ended.
    pub ended: u32,
    /// Times it worked.
    pub succeeded: u32,
}

/// A skill's level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SkillLevel {
    /// The skill.
    pub name: String,
    /// 0..=1.
    pub level: f64,
    /// Since the last review.
    pub change: f64,
}

/// Feedback someone gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedbackNote {
    /// Who gave it (an address, a handle, or `api`).
    pub by: String,
    /// 0..=1, when rated.
    pub rating: Option<f64>,
    /// What was said.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A note the manager added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewNote {
    /// Who wrote it.
    pub by: String,
    /// What it says.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}
