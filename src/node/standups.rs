//! Team stand-ups (seed 7.5): at a team's `standup` time (cron, UTC, as every schedule
//! of the node) each employee member's update — done since its last stand-up, next,
//! blocked — is composed from its own state (tasks, intentions, outcomes, goals; no
//! language model), posted to the team's channel as one message per member, and handed
//! to the employee as a `team.standup` event, so it lands in its episodic memory.
//!
//! Each member's update is recorded per team and tick once posted and handed over; the
//! post is keyed by team, tick and member (the chat driver keeps one message per key)
//! and so is the event, so a tick runs again after a crash without posting or
//! remembering anything twice. At start the node runs the latest tick of the last day
//! that is not done (it was down at stand-up time).

use super::Node;
use super::teams::{employee_members, goal_progress, status_of};
use crate::actors::employee::EmployeeRuntime;
use crate::actors::runtime::Runtime;
use crate::config::teams::Team;
use crate::model::{EmployeeId, EpisodeKind, NewEvent, Task, TaskStatus};
use crate::store::{ChatMessage, StoreError};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// The kind of the event that hands an employee its stand-up update.
pub const STANDUP: &str = "team.standup";

/// One member's stand-up update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StandupUpdate {
    /// The member's chat handle.
    pub employee: String,
    /// The team.
    pub team: String,
    /// The stand-up's time.
    pub at: DateTime<Utc>,
    /// Finished since the last stand-up.
    pub done: Vec<String>,
    /// Open work.
    pub next: Vec<String>,
    /// What holds work up.
    pub blocked: Vec<String>,
    /// The message posted to the team's channel.
    pub text: String,
    /// Whether this call posted it (false: posted before, for this tick).
    pub posted: bool,
}

/// Why a stand-up could not be run.
#[derive(Debug, thiserror::Error)]
pub enum StandupError {
    /// No such team.
    #[error("no team `{0}` here; `GET /api/v1/teams` lists them")]
    NoTeam(String),
    /// The team has no channel to post to.
    #[error("team `{0}` has no `channel`; set one in its file to hold stand-ups")]
    NoChannel(String),
    /// The store failed; what was posted stays posted and the rest is posted next time.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Node {
    /// Runs `team`'s stand-up for the tick `at` (now, when none): each employee
    /// member's update is posted and remembered once per tick; running the same tick
    /// again answers the updates with `posted: false` for those posted before.
    pub async fn run_standup(
        &self,
        team: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<StandupUpdate>, StandupError> {
        let t = self
            .rt
            .hands
            .teams
            .get(team)
            .ok_or_else(|| StandupError::NoTeam(team.to_string()))?;
        let at = at.unwrap_or_else(Utc::now).trunc_subsecs(0);
        standup(&self.rt, t, at).await
    }
}

/// The node's stand-ups: sleeps until the next stand-up of any team and runs it; at
/// start first runs each team's latest tick of the last day, unless it is done.
pub(super) async fn run(rt: Arc<Runtime>) {
    let teams: Vec<(Team, croner::Cron)> = rt
        .hands
        .teams
        .values()
        .filter_map(|t| {
            let cron = parse(t.standup.as_deref()?)?;
            t.channel.as_ref()?;
            Some((t.clone(), cron))
        })
        .collect();
    if teams.is_empty() {
        return;
    }
    let now = Utc::now();
    for (team, cron) in &teams {
        if let Ok(last) = cron.find_previous_occurrence(&now, true)
            && now - last < chrono::Duration::days(1)
        {
            let members = employee_members(&rt, team).len();
            match rt.store.standup_posted(&rt.tenant, &team.id, last).await {
                Ok(done) if done.len() >= members => {}
                _ => log(&team.id, standup(&rt, team, last).await),
            }
        }
    }
    loop {
        let now = Utc::now();
        let next = teams
            .iter()
            .filter_map(|(t, c)| Some((c.find_next_occurrence(&now, false).ok()?, t)))
            .min_by_key(|(at, _)| *at);
        let Some((at, _)) = next else {
            return;
        };
        tokio::time::sleep((at - now).to_std().unwrap_or_default()).await;
        for (team, cron) in &teams {
            if cron.is_time_matching(&at).unwrap_or(false) {
                log(&team.id, standup(&rt, team, at).await);
            }
        }
    }
}

fn log(team: &str, r: Result<Vec<StandupUpdate>, StandupError>) {
    match r {
        Ok(u) => tracing::info!(
            team,
            posted = u.iter().filter(|u| u.posted).count(),
            "stand-up held"
        ),
        Err(e) => tracing::error!(team, error = %e, "stand-up could not be held"),
    }
}

fn parse(expr: &str) -> Option<croner::Cron> {
    let six = crate::config::normalize_cron(expr).ok()?;
    crate::config::parse_cron6(&six).ok()
}

/// Holds `team`'s stand-up for tick `at`.
async fn standup(
    rt: &Arc<Runtime>,
    team: &Team,
    at: DateTime<Utc>,
) -> Result<Vec<StandupUpdate>, StandupError> {
    let channel = team
        .channel
        .clone()
        .ok_or_else(|| StandupError::NoChannel(team.id.clone()))?;
    let posted = rt.store.standup_posted(&rt.tenant, &team.id, at).await?;
    let goals = goal_progress(rt, team).await;
    let mut out = Vec::new();
    for (id, handle) in employee_members(rt, team) {
        let since = rt
            .store
            .last_standup(&rt.tenant, &team.id, id, at)
            .await?
            .unwrap_or(at - chrono::Duration::days(1));
        let mut u = compose(rt, id, &handle, team, since, at).await?;
        for g in &goals {
            let mine = g
                .contributions
                .iter()
                .find(|c| c.employee == handle)
                .and_then(|c| c.current);
            if let Some(v) = mine {
                u.text.push_str(&format!(
                    "\nTeam goal {}: my part {} of the team's {} / {} {} ({:.0}%)",
                    g.id,
                    number(v),
                    number(g.current),
                    number(g.target),
                    g.metric,
                    g.progress * 100.0
                ));
            }
        }
        if posted.contains(&id) {
            out.push(u);
            continue;
        }
        let key = format!("standup:{}:{}:{}", team.id, at.timestamp(), id);
        let m = ChatMessage {
            seq: 0,
            employee_id: id,
            conversation: channel.clone(),
            from: handle.clone(),
            text: u.text.clone(),
            in_reply_to: None,
            thread: None,
            action: Some(key.clone()),
            at: Utc::now(),
        };
        if let Err(e) = rt.hands.chat.transport.post(&rt.tenant, &m).await {
            tracing::warn!(team = %team.id, employee = %id, error = %e, "a stand-up update could not be posted; it is posted at the next start");
            continue;
        }
        let event = NewEvent {
            kind: STANDUP.into(),
            source: "standup".into(),
            payload: json!({
                "team": team.id, "channel": channel, "at": at,
                "done": u.done, "next": u.next, "blocked": u.blocked, "text": u.text,
            }),
            idempotency_key: Some(key),
        };
        if let Err(e) = rt.hands.employees.perceive(id, event).await {
            tracing::warn!(team = %team.id, employee = %id, error = %e, "a stand-up update could not be handed over; it is at the next start");
            continue;
        }
        rt.store
            .record_standup(&rt.tenant, &team.id, at, id, &u.text)
            .await?;
        metrics::counter!("empla_standup_updates_total").increment(1);
        u.posted = true;
        out.push(u);
    }
    Ok(out)
}

/// `id`'s update: done since `since`, next, blocked, and the message text.
async fn compose(
    rt: &Arc<Runtime>,
    id: EmployeeId,
    handle: &str,
    team: &Team,
    since: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<StandupUpdate, StoreError> {
    let tasks = rt.store.tasks(&rt.tenant, id, false, 200).await?;
    let episodes = rt.store.episodes(&rt.tenant, id, 500, None).await?;
    let outcomes: Vec<String> = episodes
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.kind == EpisodeKind::Outcome && e.at > since && e.at <= at)
        .map(|e| e.summary.clone())
        .collect();
    let status = status_of(rt, id).await.ok();
    let (done, next, blocked) = lists(&tasks, &outcomes, status.as_ref(), since, at);
    let name = rt
        .store
        .employee(&rt.tenant, id)
        .await?
        .map_or_else(|| handle.to_string(), |p| p.name);
    let line = |items: &[String], none: &str| {
        if items.is_empty() {
            none.to_string()
        } else {
            items.join("; ")
        }
    };
    let text = format!(
        "Stand-up {} ({}), {}\nDone: {}\nNext: {}\nBlocked: {}",
        name,
        team.name,
        at.format("%a %-d %b %H:%M UTC"),
        line(&done, "nothing finished since the last stand-up"),
        line(&next, "nothing open"),
        line(&blocked, "nothing"),
    );
    Ok(StandupUpdate {
        employee: handle.to_string(),
        team: team.id.clone(),
        at,
        done,
        next,
        blocked,
        text,
        posted: false,
    })
}

/// Done, next and blocked, from the employee's tasks, the outcomes of its plans since
/// `since` (`completed x`, `missed x`, `failed x`) and its own account.
fn lists(
    tasks: &[Task],
    outcomes: &[String],
    status: Option<&EmployeeRuntime>,
    since: DateTime<Utc>,
    at: DateTime<Utc>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut done, mut next, mut blocked) = (Vec::new(), Vec::new(), Vec::new());
    let ended_since = |t: &&Task| t.updated_at > since && t.updated_at <= at;
    for t in tasks.iter().filter(ended_since) {
        match t.status {
            TaskStatus::Done => {
                done.push(format!("finished task \"{}\"", first_line(&t.description)))
            }
            TaskStatus::Failed => blocked.push(format!(
                "could not finish task \"{}\": {}",
                first_line(&t.description),
                t.result.as_deref().map_or("no reason given", first_line)
            )),
            _ => {}
        }
    }
    for o in outcomes {
        let words = o.replace('_', " ");
        if o.starts_with("completed ") {
            done.push(words);
        } else {
            blocked.push(words);
        }
    }
    for t in tasks.iter().filter(|t| !t.status.is_final()) {
        let due = t
            .deadline
            .map(|d| format!(" (due {})", d.format("%-d %b")))
            .unwrap_or_default();
        next.push(format!("task \"{}\"{due}", first_line(&t.description)));
    }
    if let Some(s) = status {
        for i in &s.intentions {
            let plan = i.plan.replace('_', " ");
            match i.state.as_str() {
                "awaiting_approval" => blocked.push(format!("{plan}: waiting for an approval")),
                "waiting" => blocked.push(format!(
                    "{plan}: waiting for {}",
                    i.waiting_for.as_deref().unwrap_or("an answer")
                )),
                _ => next.push(plan),
            }
        }
        for g in s.goals.iter().filter(|g| g.blocked) {
            blocked.push(format!(
                "goal \"{}\": {}",
                g.description,
                g.blocked_reason.as_deref().unwrap_or("blocked")
            ));
        }
    }
    (counted(done), counted(next), counted(blocked))
}

/// `items` with repeats folded into one, counted (`reach out to lead ×3`).
fn counted(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for i in items {
        match out.iter_mut().find(|(s, _)| *s == i) {
            Some((_, n)) => *n += 1,
            None => out.push((i, 1)),
        }
    }
    out.into_iter()
        .map(|(s, n)| if n > 1 { format!("{s} ×{n}") } else { s })
        .collect()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Priority;

    fn task(description: &str, status: TaskStatus, at: DateTime<Utc>) -> Task {
        Task {
            id: description.into(),
            status,
            progress: 0.0,
            result: (status == TaskStatus::Failed).then(|| "the customer went quiet".into()),
            employee_id: EmployeeId::new(),
            description: format!("{description}\n\n(more words)"),
            priority: Priority::Medium,
            deadline: None,
            requester: "api".into(),
            channel: "api".into(),
            intention: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_update_counts_only_what_ended_since_the_last_standup() {
        let at: DateTime<Utc> = "2026-12-08T09:00:00Z".parse().unwrap();
        let since = at - chrono::Duration::days(1);
        let tasks = [
            task(
                "Send the proposal",
                TaskStatus::Done,
                at - chrono::Duration::hours(2),
            ),
            task(
                "Old work",
                TaskStatus::Done,
                since - chrono::Duration::hours(1),
            ),
            task(
                "Renew Acme",
                TaskStatus::Failed,
                at - chrono::Duration::hours(1),
            ),
            task(
                "Call Globex",
                TaskStatus::InProgress,
                at - chrono::Duration::hours(3),
            ),
        ];
        let outcomes = [
            "completed follow_up".to_string(),
            "completed follow_up".to_string(),
            "failed book_demo".to_string(),
        ];
        let (done, next, blocked) = lists(&tasks, &outcomes, None, since, at);
        assert_eq!(
            done,
            [
                "finished task \"Send the proposal\"",
                "completed follow up ×2"
            ]
        );
        assert_eq!(next, ["task \"Call Globex\""]);
        assert_eq!(
            blocked,
            [
                "could not finish task \"Renew Acme\": the customer went quiet",
                "failed book demo"
            ]
        );
        assert_eq!(number(42000.0), "42000");
        assert_eq!(number(0.425), "0.42");
    }
}
