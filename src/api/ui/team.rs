//! The team view (`GET /ui/`): every employee with its role, phase, status in words,
//! today's counts, goals as progress bars, wins and blockers; filtered by team and role.
//! Read from the stored snapshots ([`crate::node::Node::team_status`]), so looking at
//! the team never wakes anyone.

use super::pages::frame;
use super::{Visitor, render};
use crate::actors::{EmployeeRuntime, RuntimeState};
use crate::api::{ApiError, ApiState};
use crate::model::{EmployeeId, EmployeeProfile};
use crate::store::WorkCounts;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// The filters of the team view.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct TeamFilter {
    team: Option<String>,
    role: Option<String>,
}

/// One employee's row.
#[derive(Serialize)]
struct Row<'a> {
    id: String,
    handle: &'a str,
    name: &'a str,
    title: &'a str,
    role: &'a str,
    team: &'a str,
    phase: String,
    status: String,
    /// Today's counts; zeros when nothing was counted today.
    today: Today,
    goals: Vec<GoalBar<'a>>,
    wins: Vec<String>,
    blockers: Vec<String>,
    pending_approvals: usize,
}

#[derive(Serialize, Default)]
struct Today {
    /// Mail sent and replies.
    emails_sent: u64,
    /// Meetings in its calendar that ended today.
    meetings_held: u64,
    /// Companies researched.
    accounts_researched: u64,
    /// Tasks finished.
    tasks_done: u64,
    events: u64,
    actions: u64,
    approvals: u64,
    completed: u64,
}

/// A goal as a progress bar.
#[derive(Serialize)]
pub(super) struct GoalBar<'a> {
    pub(super) description: &'a str,
    pub(super) current: Option<f64>,
    pub(super) target: f64,
    pub(super) progress: f64,
    pub(super) at_risk: bool,
    pub(super) blocked: Option<&'a str>,
}

pub(super) fn goal_bars(r: &EmployeeRuntime) -> Vec<GoalBar<'_>> {
    r.goals
        .iter()
        .map(|g| GoalBar {
            description: &g.description,
            current: g.current,
            target: g.target,
            progress: g.progress.clamp(0.0, 1.0),
            at_risk: g.at_risk,
            blocked: g
                .blocked
                .then(|| g.blocked_reason.as_deref().unwrap_or("blocked")),
        })
        .collect()
}

fn today(r: &EmployeeRuntime, work: WorkCounts) -> Today {
    let now = chrono::Utc::now().date_naive();
    let done = Today {
        emails_sent: work.emails_sent,
        meetings_held: work.meetings_held,
        accounts_researched: work.accounts_researched,
        tasks_done: work.tasks_done,
        ..Today::default()
    };
    if r.today.day != Some(now) {
        return done;
    }
    Today {
        events: r.today.events,
        actions: r.today.actions_executed,
        approvals: r.today.approvals_requested,
        completed: r.today.completed,
        ..done
    }
}

fn row<'a>(p: &'a EmployeeProfile, r: &'a EmployeeRuntime, work: WorkCounts) -> Row<'a> {
    let today = today(r, work);
    let mut wins: Vec<String> = r
        .goals
        .iter()
        .filter(|g| g.progress >= 1.0)
        .map(|g| format!("Met: {}", g.description))
        .collect();
    if today.completed > 0 {
        wins.push(format!(
            "{} piece{} of work finished today",
            today.completed,
            if today.completed == 1 { "" } else { "s" }
        ));
    }
    Row {
        id: p.id.to_string(),
        handle: &p.chat_handle,
        name: &p.name,
        title: &p.job_title,
        role: &p.role,
        team: &p.team,
        phase: phase_name(r),
        status: status_in_words(r),
        today,
        goals: goal_bars(r),
        wins,
        blockers: r
            .goals
            .iter()
            .filter(|g| g.blocked)
            .map(|g| {
                format!(
                    "{}: {}",
                    g.description,
                    g.blocked_reason.as_deref().unwrap_or("blocked")
                )
            })
            .collect(),
        pending_approvals: r.pending_approvals,
    }
}

pub(super) fn phase_name(r: &EmployeeRuntime) -> String {
    serde_json::to_value(r.phase)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What the employee is doing, in words ("Researching prospects", "Waiting for
/// approval"): from its oldest intention, else its runtime state.
pub(super) fn status_in_words(r: &EmployeeRuntime) -> String {
    if r.state == RuntimeState::Failed {
        return "Stopped after repeated failures".into();
    }
    let Some(i) = r.intentions.first() else {
        return if r.blocked_goals.is_empty() {
            "Waiting for work".into()
        } else {
            "Blocked".into()
        };
    };
    match i.state.as_str() {
        "awaiting_approval" => format!("Waiting for approval to {}", words(&i.plan)),
        "waiting" => match &i.waiting_for {
            Some(e) => format!("Waiting for {}", words(e)),
            None => format!("Waiting while {}", gerund_phrase(&i.plan).to_lowercase()),
        },
        _ => gerund_phrase(&i.plan),
    }
}

/// `reach_out_to_lead` → `reach out to lead`.
fn words(name: &str) -> String {
    name.replace(['_', '.', '-'], " ")
}

/// A plan's name as what is being done: `research_prospects` → "Researching
/// prospects"; a name that does not start with a verb → "Working on weekly roadmap".
pub(super) fn gerund_phrase(plan: &str) -> String {
    let text = words(plan);
    let (first, rest) = text.split_once(' ').unwrap_or((&text, ""));
    let noun_like = ["tion", "ly", "ing", "ure", "ment", "ness"]
        .iter()
        .any(|s| first.ends_with(s) && first != "measure")
        || ["user", "interview", "feature", "meeting", "ship", "roadmap"].contains(&first);
    let phrase = if noun_like || first.is_empty() {
        format!("working on {text}")
    } else {
        let verb = gerund(first);
        if rest.is_empty() {
            verb
        } else {
            format!("{verb} {rest}")
        }
    };
    let mut c = phrase.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn gerund(verb: &str) -> String {
    let b = verb.as_bytes();
    let vowel = |c: u8| b"aeiou".contains(&c);
    if let Some(stem) = verb.strip_suffix("ie") {
        return format!("{stem}ying");
    }
    if verb.ends_with('e') && !verb.ends_with("ee") && verb.len() > 2 {
        return format!("{}ing", &verb[..verb.len() - 1]);
    }
    // A short verb ending consonant-vowel-consonant doubles its last letter (flag →
    // flagging, plan → planning).
    let n = b.len();
    if (3..=4).contains(&n)
        && !vowel(b[n - 1])
        && !b"wxy".contains(&b[n - 1])
        && vowel(b[n - 2])
        && !vowel(b[n - 3])
    {
        return format!("{verb}{}ing", b[n - 1] as char);
    }
    format!("{verb}ing")
}

/// The team view.
pub(super) async fn page(
    State(s): State<ApiState>,
    v: Visitor,
    Query(f): Query<TeamFilter>,
) -> Response {
    let live = super::live::url(&s, None).await;
    let all = match s.node.team_status().await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let work = match s.node.work_today(&all).await {
        Ok(w) => w,
        Err(e) => return ApiError::from(e).into_response(),
    };
    render_team(&v, &all, &work, &f, &live).into_response()
}

/// Renders the team view of `all` as `v` sees it, filtered by `f`.
pub(super) fn render_team(
    v: &Visitor,
    all: &[(EmployeeProfile, EmployeeRuntime)],
    work: &HashMap<EmployeeId, WorkCounts>,
    f: &TeamFilter,
    live: &str,
) -> axum::response::Html<String> {
    let team = f.team.as_deref().filter(|t| !t.is_empty());
    let role = f.role.as_deref().filter(|r| !r.is_empty());
    let teams: BTreeSet<&str> = all
        .iter()
        .map(|(p, _)| p.team.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    let roles: BTreeSet<&str> = all.iter().map(|(p, _)| p.role.as_str()).collect();
    let rows: Vec<Row> = all
        .iter()
        .filter(|(p, _)| team.is_none_or(|t| p.team == t) && role.is_none_or(|r| p.role == r))
        .map(|(p, r)| row(p, r, work.get(&p.id).copied().unwrap_or_default()))
        .collect();
    let mut here = String::from("/ui/");
    let query: Vec<String> = [("team", team), ("role", role)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={}", query_escape(v))))
        .collect();
    if !query.is_empty() {
        here = format!("{here}?{}", query.join("&"));
    }
    render(
        "team.html",
        minijinja::context! {
            here,
            rows => minijinja::value::Serde(&rows),
            total => all.len(),
            teams => minijinja::value::Serde(&teams),
            roles => minijinja::value::Serde(&roles),
            team_filter => team,
            role_filter => role,
            ..frame(v, live),
        },
    )
}

/// `v` as a query value: letters, digits and `-._~` kept, the rest percent-encoded.
fn query_escape(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::gerund_phrase;

    #[test]
    fn plans_read_as_what_is_being_done() {
        assert_eq!(gerund_phrase("research_prospects"), "Researching prospects");
        assert_eq!(gerund_phrase("reach_out_to_lead"), "Reaching out to lead");
        assert_eq!(gerund_phrase("flag_upsell"), "Flagging upsell");
        assert_eq!(
            gerund_phrase("prepare_quarterly_reviews"),
            "Preparing quarterly reviews"
        );
        assert_eq!(gerund_phrase("book_picked_time"), "Booking picked time");
        assert_eq!(
            gerund_phrase("adoption_outreach"),
            "Working on adoption outreach"
        );
        assert_eq!(gerund_phrase("weekly_roadmap"), "Working on weekly roadmap");
        assert_eq!(gerund_phrase("measure_pipeline"), "Measuring pipeline");
    }
}
