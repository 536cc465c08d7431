//! Teams through the node: who is on each team, and its shared goals with their
//! progress — the sum of the employee members' current values of the goal's metric
//! (as their own goals measure it), each member's part shown.

use super::Node;
use crate::actors::employee::{EmployeeMsg, EmployeeRuntime};
use crate::actors::registry::{self, ReachError};
use crate::actors::runtime::Runtime;
use crate::config::teams::Team;
use crate::model::{EmployeeId, EmployeeStatus};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

/// A team as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TeamView {
    /// Its id (`sales`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Who is on it: addresses and employee handles.
    pub members: Vec<String>,
    /// Its lead.
    pub lead: Option<String>,
    /// Its chat channel.
    pub channel: Option<String>,
    /// When its stand-up is (cron, UTC).
    pub standup: Option<String>,
    /// Its shared goals with their progress.
    pub goals: Vec<TeamGoalProgress>,
}

/// A shared goal and how far the team is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TeamGoalProgress {
    /// Goal id.
    pub id: String,
    /// What it is.
    pub description: String,
    /// The metric members' goals measure.
    pub metric: String,
    /// The team's target.
    pub target: f64,
    /// The sum of the members' current values.
    pub current: f64,
    /// current / target, 0..=1.
    pub progress: f64,
    /// Each employee member's part.
    pub contributions: Vec<Contribution>,
}

/// One member's part of a team goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contribution {
    /// The member's chat handle.
    pub employee: String,
    /// Its current value of the metric; none when it has no goal measuring it, or no
    /// value yet.
    pub current: Option<f64>,
}

/// The employees on `team` (members named by handle, not offboarded), with the handle
/// the team names them by.
pub(super) fn employee_members(rt: &Runtime, team: &Team) -> Vec<(EmployeeId, String)> {
    team.members
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.contains('@'))
        .filter_map(|m| {
            let id = rt.directory.resolve(m)?;
            (rt.directory.status(id) != Some(EmployeeStatus::Offboarded))
                .then(|| (id, m.to_string()))
        })
        .collect()
}

/// A running employee's own account of itself (activating it if idle).
pub(super) async fn status_of(
    rt: &Arc<Runtime>,
    id: EmployeeId,
) -> Result<EmployeeRuntime, ReachError> {
    let mut last = None;
    for _ in 0..3 {
        let actor = match registry::live_actor(rt, id).await {
            Err(ReachError::Elsewhere) => return super::cluster::remote_status(rt, id).await,
            a => a?,
        };
        match ractor::call_t!(actor, EmployeeMsg::Status, 10_000) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Err(ReachError::Unavailable(last.unwrap_or_default()))
}

/// `team`'s goals with the members' parts.
pub(super) async fn goal_progress(rt: &Arc<Runtime>, team: &Team) -> Vec<TeamGoalProgress> {
    if team.goals.is_empty() {
        return Vec::new();
    }
    let mut members = Vec::new();
    for (id, handle) in employee_members(rt, team) {
        let profile = rt.store.employee(&rt.tenant, id).await.ok().flatten();
        let status = status_of(rt, id).await.ok();
        members.push((handle, profile, status));
    }
    team.goals
        .iter()
        .map(|g| {
            let contributions: Vec<Contribution> = members
                .iter()
                .map(|(handle, profile, status)| {
                    // The member's goals measuring the metric share its one value.
                    let current = profile.as_ref().and_then(|p| {
                        p.goals
                            .iter()
                            .filter(|mine| mine.metric == g.metric)
                            .find_map(|mine| {
                                status
                                    .as_ref()?
                                    .goals
                                    .iter()
                                    .find(|v| v.id == mine.id)?
                                    .current
                            })
                    });
                    Contribution {
                        employee: handle.clone(),
                        current,
                    }
                })
                .collect();
            let current: f64 = contributions.iter().filter_map(|c| c.current).sum();
            TeamGoalProgress {
                id: g.id.clone(),
                description: g.description.clone(),
                metric: g.metric.clone(),
                target: g.target,
                current,
                progress: (current / g.target).clamp(0.0, 1.0),
                contributions,
            }
        })
        .collect()
}

fn view(team: &Team, goals: Vec<TeamGoalProgress>) -> TeamView {
    TeamView {
        id: team.id.clone(),
        name: team.name.clone(),
        members: team.members.clone(),
        lead: team.lead.clone(),
        channel: team.channel.clone(),
        standup: team.standup.clone(),
        goals,
    }
}

impl Node {
    /// The teams, by id, with their goals' progress.
    pub async fn teams(&self) -> Vec<TeamView> {
        let mut out = Vec::new();
        for t in self.rt.hands.teams.values() {
            out.push(view(t, goal_progress(&self.rt, t).await));
        }
        out
    }

    /// One team with its goals' progress, if there is such a team.
    pub async fn team(&self, id: &str) -> Option<TeamView> {
        let team = self.rt.hands.teams.get(id)?;
        Some(view(team, goal_progress(&self.rt, team).await))
    }
}
