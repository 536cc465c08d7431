//! What an employee persists with every event it handles (its [`Snapshot`]) and what it
//! reports about itself ([`EmployeeRuntime`]), read from a running employee or, for one
//! that is not running, from the store.

use super::reasoning::{self, AgreementView, DayCounts, GoalView, IntentionView};
use crate::bdi::{Mind, Phase};
use crate::model::EmployeeProfile;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The part of an employee's state that is persisted with every event it handles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Events handled over the employee's life.
    pub events_handled: u64,
    /// When the last one was handled.
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub last_event_at: Option<DateTime<Utc>>,
    /// The reasoning state; created at the first event.
    #[serde(default)]
    pub mind: Option<Mind>,
    /// Actions in the outbox whose outcome has not come back yet.
    #[serde(default)]
    pub outbox: BTreeSet<u64>,
    /// Today's counts.
    #[serde(default)]
    pub today: DayCounts,
    /// When the last reasoning cycle ran.
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub last_cycle_at: Option<DateTime<Utc>>,
    /// When the employee must next reason on its own (also stored beside the snapshot,
    /// so the Registry wakes a passivated employee for it).
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub wake_at: Option<DateTime<Utc>>,
    /// Actions the node took for the employee outside its plans (chat answers, task
    /// updates) so far; they are numbered from [`reasoning::OWN_ACTIONS`].
    #[serde(default)]
    pub own_actions: u64,
}

/// What an active employee reports about itself (`GET /api/v1/employees/{id}/status`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EmployeeRuntime {
    /// The role the running employee works in.
    pub role: String,
    /// Onboarding phase: shadow, assisted or autonomous.
    pub phase: Phase,
    /// Intentions being pursued, oldest first, with their step and state.
    pub intentions: Vec<IntentionView>,
    /// Goals with progress; blocked ones say why.
    pub goals: Vec<GoalView>,
    /// Ids of blocked goals.
    pub blocked_goals: Vec<String>,
    /// Approvals this employee waits for (actions and a promotion).
    pub pending_approvals: usize,
    /// Agreement with its humans in this phase.
    pub agreement: AgreementView,
    /// Today's counts.
    pub today: DayCounts,
    /// Events handled over the employee's life.
    pub events_handled: u64,
    /// When the last one was handled.
    pub last_event_at: Option<DateTime<Utc>>,
    /// Where its actor tree is: `active` when it answered itself; `failed` when it
    /// crashed too often and this status was read from the store.
    pub state: crate::actors::registry::RuntimeState,
    /// Events waiting for it; counted when it is not running (failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u64>,
    /// Directives a human gave in chat that are in force: a focus segment, pauses on
    /// contact, a top goal.
    #[serde(default)]
    #[schema(inline)]
    pub directives: Vec<crate::bdi::DirectiveView>,
    /// Its use of a language model today; none when the node has no model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::llm::LanguageStatus>,
}

pub(crate) fn decode_snapshot(bytes: Option<&[u8]>, profile: &EmployeeProfile) -> Snapshot {
    let mut snapshot: Snapshot = match bytes.map(rmp_serde::from_slice) {
        None => Snapshot::default(),
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            tracing::error!(employee = %profile.id, error = %e, "state snapshot unreadable; starting from a fresh mind");
            Snapshot::default()
        }
    };
    match snapshot.mind.as_mut() {
        Some(m) => m.restore(&profile.goals, Utc::now()),
        None => snapshot.mind = Some(reasoning::new_mind(profile)),
    }
    snapshot
}

/// The status a snapshot shows: what a running employee reports, and what is read
/// from the store for one that is not running.
pub(crate) fn status_of(profile: &EmployeeProfile, snapshot: &Snapshot) -> EmployeeRuntime {
    let state = snapshot;
    let fresh;
    let mind = match state.mind.as_ref() {
        Some(m) => m,
        None => {
            fresh = reasoning::new_mind(profile);
            &fresh
        }
    };
    let (intentions, goals, pending_approvals, agreement) = reasoning::mind_status(mind);
    EmployeeRuntime {
        role: profile.role.clone(),
        phase: mind.phase,
        blocked_goals: goals
            .iter()
            .filter(|g| g.blocked)
            .map(|g| g.id.clone())
            .collect(),
        intentions,
        goals,
        pending_approvals,
        agreement,
        today: state.today.clone(),
        events_handled: state.events_handled,
        last_event_at: state.last_event_at,
        state: crate::actors::registry::RuntimeState::Active,
        backlog: None,
        directives: mind.directives().views(&mind.goals),
        language: None,
    }
}
