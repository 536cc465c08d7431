//! Performance reviews (seed 0.4): an employee's month computed from what it recorded.
//! Pure: the same profile, episodes and previous review give the same figures.
//!
//! - **Goals**: each goal's metric as last reported by the period's end (posted or
//!   computed from the CRM alike), against its target.
//! - **Tasks** are the plans the employee took up: those that ended in the period
//!   (carried through, missed, or failed) give the success rate, the rate per day, the
//!   time from taking a plan up to its end, and the trend (the second half's success
//!   rate minus the first's).
//! - **Feedback**: ratings, praise and corrections given by API, chat or mail, with who
//!   gave them.
//! - **Development areas** are the plans that mostly failed and the goals below half
//!   their target (a goal with no figure yet is not judged); the **improvement plan**
//!   says what the employee does about each — a plan that keeps failing is chosen on
//!   its record alone, not explored, until the next review; a goal it is missing
//!   becomes a request to its manager for coaching.

use crate::bdi::feedback;
use crate::model::{
    EmployeeProfile, Episode, EpisodeKind, FeedbackNote, GoalReached, PlanRecord, Review,
    SkillLevel,
};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;

/// A plan that ended at least this often and worked less than half the time is a
/// development area.
const MIN_TRIES: u32 = 2;
/// A goal below this share of its target is a development area.
const WEAK_GOAL: f64 = 0.5;

/// A review's period: a calendar month, clipped to the employment and to now.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// `2026-11`.
    pub name: String,
    /// Start (the hire, if later).
    pub from: DateTime<Utc>,
    /// End (now, for the month under way).
    pub to: DateTime<Utc>,
}

/// Why a period cannot be reviewed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PeriodError {
    /// Not `YYYY-MM`.
    #[error("`period` must be a month written YYYY-MM, e.g. \"2026-11\"; got {0:?}")]
    Malformed(String),
    /// In the future.
    #[error("`period` {0} has not started yet; review this month or an earlier one")]
    Future(String),
    /// Before the employee was hired.
    #[error("the employee was hired on {hired}, after `period` {period} ended")]
    BeforeHire {
        /// The month asked.
        period: String,
        /// The hire date.
        hired: String,
    },
}

impl Period {
    /// The month `name` (`YYYY-MM`; this month when none), for an employee hired at
    /// `hired`, as of `now`.
    pub fn month(
        name: Option<&str>,
        hired: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Period, PeriodError> {
        let name = name
            .map(str::trim)
            .map(str::to_string)
            .unwrap_or_else(|| now.format("%Y-%m").to_string());
        let first = NaiveDate::parse_from_str(&format!("{name}-01"), "%Y-%m-%d")
            .ok()
            .filter(|_| name.len() == 7)
            .ok_or_else(|| PeriodError::Malformed(name.clone()))?;
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| PeriodError::Malformed(name.clone()))?;
        let at = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
        let (from, to) = (at(first).max(hired), at(next).min(now));
        if at(first) > now {
            return Err(PeriodError::Future(name));
        }
        if to <= from {
            return Err(PeriodError::BeforeHire {
                period: name,
                hired: hired.format("%Y-%m-%d").to_string(),
            });
        }
        Ok(Period { name, from, to })
    }

    /// The month before the one containing `now` (what the monthly run reviews).
    pub fn last_month(now: DateTime<Utc>) -> String {
        let d = now.date_naive().with_day(1).unwrap_or_default();
        let prev = d.checked_sub_months(chrono::Months::new(1)).unwrap_or(d);
        format!("{:04}-{:02}", prev.year(), prev.month())
    }

    fn days(&self) -> f64 {
        ((self.to - self.from).num_seconds() as f64 / 86_400.0).max(1.0 / 24.0)
    }
}

/// Metric readings from before a period looked at for each goal's standing.
const EARLIER_READINGS: i64 = 1000;

/// The review of `profile` over `period`, read from the store: its episodes in the
/// period and the metric readings before it (see [`compute`]).
pub async fn from_store(
    store: &crate::store::Store,
    tenant: &crate::model::TenantId,
    profile: &EmployeeProfile,
    period: &Period,
    previous: Option<&Review>,
    id: String,
    now: DateTime<Utc>,
) -> Result<Review, crate::store::StoreError> {
    let episodes = store
        .episodes_between(tenant, profile.id, period.from, period.to)
        .await?;
    let earlier = store
        .metric_readings_before(tenant, profile.id, period.from, EARLIER_READINGS)
        .await?;
    Ok(compute(
        profile, period, &episodes, &earlier, previous, id, now,
    ))
}

/// The review of `profile` over `period`, from its episodes in the period (oldest
/// first), the metric readings it had before the period (`earlier`, any order) and
/// its previous review. `id` and `now` are the review's id and time.
pub fn compute(
    profile: &EmployeeProfile,
    period: &Period,
    episodes: &[Episode],
    earlier: &[Episode],
    previous: Option<&Review>,
    id: String,
    now: DateTime<Utc>,
) -> Review {
    let goals = goals(profile, earlier, episodes);
    let goal_completion = match goals.len() {
        0 => 0.0,
        n => goals.iter().map(|g| g.progress).sum::<f64>() / n as f64,
    };
    let tasks = Tasks::of(episodes);
    let team_feedback = feedback_given(episodes);
    let rated: Vec<f64> = team_feedback.iter().filter_map(|f| f.rating).collect();
    let feedback_score =
        (!rated.is_empty()).then(|| rated.iter().sum::<f64>() / rated.len() as f64);
    let skills = profile
        .skills
        .iter()
        .map(|s| SkillLevel {
            name: s.name.clone(),
            level: s.level,
            change: previous
                .and_then(|p| p.skills.iter().find(|k| k.name == s.name))
                .map_or(0.0, |k| round(s.level - k.level)),
        })
        .collect();
    let weak = development(&tasks.plans, &goals);
    Review {
        id,
        employee_id: profile.id,
        period: period.name.clone(),
        from: period.from,
        to: period.to,
        goal_completion: round(goal_completion),
        goals,
        task_success_rate: tasks.success_rate(),
        feedback_score: feedback_score.map(round),
        tasks_per_day: round(tasks.ended.len() as f64 / period.days()),
        avg_task_duration: tasks.mean_hours(),
        improvement_rate: tasks.trend(period),
        plans: tasks.plans,
        skills,
        team_feedback,
        development_areas: weak.areas,
        weak_plans: weak.plans,
        weak_goals: weak.goals,
        improvement_plan: weak.actions,
        notes: Vec::new(),
        created_at: now,
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Each goal against the last reading of its metric by the period's end.
fn goals(profile: &EmployeeProfile, earlier: &[Episode], episodes: &[Episode]) -> Vec<GoalReached> {
    let mut last: BTreeMap<&str, (DateTime<Utc>, f64)> = BTreeMap::new();
    for e in earlier.iter().chain(episodes) {
        if e.kind != EpisodeKind::Event || e.summary != "metric" {
            continue;
        }
        let (Some(m), Some(v)) = (e.payload["metric"].as_str(), e.payload["value"].as_f64()) else {
            continue;
        };
        if last.get(m).is_none_or(|(at, _)| e.at >= *at) {
            last.insert(m, (e.at, v));
        }
    }
    profile
        .goals
        .iter()
        .map(|g| {
            let reached = last.get(g.metric.as_str()).map(|(_, v)| *v);
            GoalReached {
                id: g.id.clone(),
                description: g.description.clone(),
                metric: g.metric.clone(),
                target: g.target,
                reached,
                progress: reached.map_or(0.0, |v| {
                    round(crate::bdi::goal_progress(g.comparison, v, g.target).min(1.0))
                }),
            }
        })
        .collect()
}

/// The plans that ended in the period.
struct Tasks {
    /// When each ended, whether it worked, and how long it ran (when its start is in
    /// the period).
    ended: Vec<(DateTime<Utc>, bool, Option<f64>)>,
    plans: Vec<PlanRecord>,
}

impl Tasks {
    fn of(episodes: &[Episode]) -> Tasks {
        let mut adopted: BTreeMap<u64, DateTime<Utc>> = BTreeMap::new();
        let mut ended = Vec::new();
        let mut plans: BTreeMap<String, PlanRecord> = BTreeMap::new();
        for e in episodes {
            let intention = e.payload["intention"].as_u64();
            if e.kind == EpisodeKind::Decision && e.summary.starts_with("adopt ") {
                if let Some(i) = intention {
                    adopted.insert(i, e.at);
                }
                continue;
            }
            if e.kind != EpisodeKind::Outcome {
                continue;
            }
            let (worked, plan) = match e.summary.split_once(' ') {
                Some(("completed", plan)) => (true, plan),
                Some(("missed" | "failed", plan)) => (false, plan),
                _ => continue,
            };
            let hours = intention
                .and_then(|i| adopted.get(&i))
                .map(|start| round((e.at - *start).num_seconds() as f64 / 3600.0));
            ended.push((e.at, worked, hours));
            let p = plans.entry(plan.to_string()).or_insert_with(|| PlanRecord {
                plan: plan.to_string(),
                ended: 0,
                succeeded: 0,
            });
            p.ended += 1;
            p.succeeded += u32::from(worked);
        }
        Tasks {
            ended,
            plans: plans.into_values().collect(),
        }
    }

    fn rate(ended: &[&(DateTime<Utc>, bool, Option<f64>)]) -> Option<f64> {
        (!ended.is_empty())
            .then(|| ended.iter().filter(|e| e.1).count() as f64 / ended.len() as f64)
    }

    fn success_rate(&self) -> Option<f64> {
        Self::rate(&self.ended.iter().collect::<Vec<_>>()).map(round)
    }

    fn mean_hours(&self) -> Option<f64> {
        let h: Vec<f64> = self.ended.iter().filter_map(|e| e.2).collect();
        (!h.is_empty()).then(|| round(h.iter().sum::<f64>() / h.len() as f64))
    }

    /// The second half's success rate minus the first's, with two ends in each half.
    fn trend(&self, period: &Period) -> Option<f64> {
        let mid = period.from + (period.to - period.from) / 2;
        let (first, second): (Vec<_>, Vec<_>) = self.ended.iter().partition(|e| e.0 < mid);
        if first.len() < 2 || second.len() < 2 {
            return None;
        }
        Some(round(Self::rate(&second)? - Self::rate(&first)?))
    }
}

/// Feedback given in the period: by API, and praise or corrections written in chat or
/// in a reply.
fn feedback_given(episodes: &[Episode]) -> Vec<FeedbackNote> {
    let mut notes = Vec::new();
    for e in episodes.iter().filter(|e| e.kind == EpisodeKind::Event) {
        let p = &e.payload;
        let by = p["by"]
            .as_str()
            .or(p["from"].as_str())
            .unwrap_or("api")
            .to_string();
        let note = match e.summary.as_str() {
            "empla.feedback" => FeedbackNote {
                by,
                rating: p["rating"].as_f64(),
                text: [p["text"].as_str(), p["correction"].as_str()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" — "),
                at: e.at,
            },
            "chat.message" | "email.received" | "email.reply" => {
                let text = p["text"].as_str().or(p["body"].as_str()).unwrap_or("");
                let Some(read) = feedback::read(text) else {
                    continue;
                };
                FeedbackNote {
                    by,
                    rating: read.rating,
                    text: feedback::own_words(text),
                    at: e.at,
                }
            }
            _ => continue,
        };
        notes.push(note);
    }
    notes
}

/// The weakest plans and goals, and what the employee does about each.
/// Where the employee is weakest, and what it will do about it.
#[derive(Default)]
struct Development {
    areas: Vec<String>,
    actions: Vec<String>,
    plans: Vec<String>,
    goals: Vec<String>,
}

/// The plans failing more often than not (over enough tries) and the goals far from
/// their targets.
fn development(plans: &[PlanRecord], goals: &[GoalReached]) -> Development {
    let mut d = Development::default();
    for p in plans
        .iter()
        .filter(|p| p.ended >= MIN_TRIES && p.succeeded * 2 < p.ended)
    {
        let name = p.plan.replace('_', " ");
        d.areas.push(format!(
            "{name}: worked {} of {} times",
            p.succeeded, p.ended
        ));
        d.actions.push(format!(
            "Take \"{name}\" up only on its record, without trying it out for its own sake, until the next review."
        ));
        d.plans.push(p.plan.clone());
    }
    // A goal with no figure is not judged: nothing says it is being missed.
    for g in goals.iter().filter(|g| g.progress < WEAK_GOAL) {
        let Some(v) = g.reached else { continue };
        d.areas.push(format!(
            "{}: at {v} against a target of {}",
            g.description, g.target
        ));
        d.actions.push(format!(
            "Ask the manager for coaching on \"{}\".",
            g.description
        ));
        d.goals.push(g.id.clone());
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RoleTemplate;
    use crate::lifecycle::{HireRequest, build_profile};
    use crate::model::{EmployeeId, EpisodeId, TenantId};
    use serde_json::json;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn jordan() -> EmployeeProfile {
        let src = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/roles/sales_ae.toml"
        ))
        .unwrap();
        let mut role: RoleTemplate = toml::from_str(&src).unwrap();
        role.id = "sales_ae".into();
        let t = TenantId::new("acme");
        let id = EmployeeId::new();
        build_profile(
            &role,
            &HireRequest::new("sales_ae", "Jordan Lee"),
            &t,
            id,
            "jordan.lee@example.com".into(),
            at(1, 0) - chrono::Duration::days(40),
        )
        .unwrap()
    }

    fn ep(
        kind: EpisodeKind,
        summary: &str,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) -> Episode {
        Episode {
            id: EpisodeId::new(),
            tenant: TenantId::new("acme"),
            employee_id: EmployeeId::new(),
            kind,
            event_id: None,
            cause_id: None,
            channel: None,
            summary: summary.into(),
            payload,
            at,
        }
    }

    /// November: four outreach sequences (one works), two quotes (both work), a metric,
    /// praise and a correction.
    fn november() -> (Vec<Episode>, Vec<Episode>) {
        use EpisodeKind::*;
        let mut e = Vec::new();
        let mut intention = 0;
        for (day, plan, worked) in [
            (3, "reach_out_to_lead", false),
            (5, "send_quote", true),
            (8, "reach_out_to_lead", false),
            (20, "reach_out_to_lead", true),
            (24, "send_quote", true),
            (27, "reach_out_to_lead", false),
        ] {
            intention += 1;
            e.push(ep(
                Decision,
                &format!("adopt {plan}"),
                json!({"intention": intention, "plan": plan}),
                at(day, 9),
            ));
            let verb = if worked { "completed" } else { "missed" };
            e.push(ep(
                Outcome,
                &format!("{verb} {plan}"),
                json!({"intention": intention, "plan": plan}),
                at(day, 15),
            ));
        }
        e.push(ep(
            Event,
            "metric",
            json!({"metric": "pipeline_coverage", "value": 1.2}),
            at(10, 8),
        ));
        e.push(ep(
            Event,
            "empla.feedback",
            json!({"rating": 0.9, "text": "great job on the Acme quote"}),
            at(6, 10),
        ));
        e.push(ep(
            Event,
            "chat.message",
            json!({"from": "alex.morgan@example.com", "text": "too formal"}),
            at(12, 10),
        ));
        e.sort_by_key(|x| x.at);
        let earlier = vec![ep(
            Event,
            "metric",
            json!({"metric": "win_rate", "value": 0.3}),
            at(1, 0) - chrono::Duration::days(3),
        )];
        (e, earlier)
    }

    #[test]
    fn a_month_is_reviewed_from_its_history_and_the_same_history_gives_the_same_review() {
        let p = jordan();
        let period = Period::month(
            Some("2026-11"),
            p.start_date,
            at(30, 0) + chrono::Duration::days(5),
        )
        .unwrap();
        assert_eq!(
            (period.from, period.to),
            (at(1, 0), at(30, 0) + chrono::Duration::days(1))
        );
        let (episodes, earlier) = november();
        let now = at(30, 0) + chrono::Duration::days(1);
        let r = compute(&p, &period, &episodes, &earlier, None, "r1".into(), now);
        assert_eq!(r.task_success_rate, Some(0.5), "3 of 6 plans worked");
        assert_eq!(r.tasks_per_day, 0.2, "6 plans over 30 days");
        assert_eq!(r.avg_task_duration, Some(6.0));
        // First half: 1 of 3 worked; second half: 2 of 3.
        assert_eq!(r.improvement_rate, Some(0.333));
        assert_eq!(r.feedback_score, Some(0.9));
        assert_eq!(r.team_feedback.len(), 2);
        assert_eq!(r.team_feedback[1].by, "alex.morgan@example.com");
        let coverage = r
            .goals
            .iter()
            .find(|g| g.id == "pipeline_coverage")
            .unwrap();
        assert_eq!((coverage.reached, coverage.progress), (Some(1.2), 0.4));
        // A reading from before the month still stands at its end.
        let win = r.goals.iter().find(|g| g.id == "win_rate").unwrap();
        assert_eq!((win.reached, win.progress), (Some(0.3), 1.0));
        let outreach = r
            .plans
            .iter()
            .find(|p| p.plan == "reach_out_to_lead")
            .unwrap();
        assert_eq!((outreach.ended, outreach.succeeded), (4, 1));
        assert_eq!(
            r.development_areas[0],
            "reach out to lead: worked 1 of 4 times"
        );
        assert!(
            r.development_areas
                .iter()
                .any(|a| a.starts_with("Maintain 3x pipeline coverage: at 1.2")),
            "{:?}",
            r.development_areas
        );
        assert!(
            r.improvement_plan
                .iter()
                .any(|a| a == "Ask the manager for coaching on \"Maintain 3x pipeline coverage\"."),
            "{:?}",
            r.improvement_plan
        );
        assert_eq!(r.weak_plans, ["reach_out_to_lead"]);
        assert!(
            r.weak_goals.contains(&"pipeline_coverage".to_string())
                && r.weak_goal_descriptions()
                    .contains(&"Maintain 3x pipeline coverage")
        );

        let again = compute(&p, &period, &episodes, &earlier, None, "r1".into(), now);
        assert_eq!(r, again);
    }

    #[test]
    fn skills_move_against_the_previous_review_and_bad_periods_are_refused() {
        let mut p = jordan();
        let now = at(30, 0);
        let period = Period::month(Some("2026-11"), p.start_date, now).unwrap();
        let first = compute(&p, &period, &[], &[], None, "r1".into(), now);
        assert_eq!(first.task_success_rate, None, "nothing ended: no rate");
        assert!(!first.skills.is_empty() && first.skills.iter().all(|s| s.change == 0.0));
        p.skills[0].level += 0.1;
        let second = compute(&p, &period, &[], &[], Some(&first), "r2".into(), now);
        assert_eq!(second.skills[0].change, 0.1);

        assert_eq!(
            Period::month(Some("2026-13"), p.start_date, now),
            Err(PeriodError::Malformed("2026-13".into()))
        );
        assert_eq!(
            Period::month(Some("Nov"), p.start_date, now),
            Err(PeriodError::Malformed("Nov".into()))
        );
        assert_eq!(
            Period::month(Some("2027-01"), p.start_date, now),
            Err(PeriodError::Future("2027-01".into()))
        );
        assert!(matches!(
            Period::month(Some("2026-08"), p.start_date, now),
            Err(PeriodError::BeforeHire { .. })
        ));
        assert_eq!(Period::last_month(at(1, 6)), "2026-10");
        assert_eq!(
            Period::last_month(Utc.with_ymd_and_hms(2027, 1, 1, 6, 0, 0).unwrap()),
            "2026-12"
        );
    }
}
