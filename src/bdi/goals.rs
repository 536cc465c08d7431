//! Goals: what the employee works towards, measured.
//!
//! Each goal has a metric, a comparison and a target (from the role template), a
//! deadline from its period (end of the current week, month, quarter or year) and a
//! parent in the goal DAG. Every cycle computes progress, projection, priority and
//! whether it is blocked.

use super::expr::{Lookup, cel_map};
use super::metrics::Metrics;
use crate::model::{Comparison, Goal};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A goal and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoalState {
    /// The goal as configured.
    pub spec: Goal,
    /// The metric's latest value, if one was reported.
    pub current: Option<f64>,
    /// 0..=1; 1 when the target is met.
    pub progress: f64,
    /// End of the goal's period, if it has one.
    pub deadline: Option<DateTime<Utc>>,
    /// The metric's value projected to the deadline from its recent trend.
    pub projected: Option<f64>,
    /// Urgency × importance × gap.
    pub priority: f64,
    /// Why no progress can be made now, if so.
    pub blocked: Option<String>,
    /// The metric's hourly slope, and the shape of the series it was computed from
    /// (length, first and last time, last value): recomputed only when that changes.
    slope: Option<(SeriesKey, Option<f64>)>,
}

/// What identifies a metric series' contents between cycles.
type SeriesKey = (usize, i64, i64, u64);

impl GoalState {
    fn new(spec: Goal) -> GoalState {
        GoalState {
            spec,
            current: None,
            progress: 0.0,
            deadline: None,
            projected: None,
            priority: 0.0,
            blocked: None,
            slope: None,
        }
    }

    /// Whether the target is met.
    pub fn met(&self) -> bool {
        self.current
            .is_some_and(|c| satisfies(self.spec.comparison, c, self.spec.target))
    }

    /// Whether the projection to the deadline misses the target.
    pub fn at_risk(&self) -> bool {
        !self.met()
            && self
                .projected
                .is_some_and(|p| !satisfies(self.spec.comparison, p, self.spec.target))
    }
}

/// Whether `value` compares with `target` as the goal asks.
pub fn satisfies(c: Comparison, value: f64, target: f64) -> bool {
    match c {
        Comparison::AtLeast => value >= target,
        Comparison::Above => value > target,
        Comparison::AtMost => value <= target,
        Comparison::Below => value < target,
    }
}

/// Progress towards `target`, 0..=1.
/// How far `value` is towards `target` under `c`, 0..=1 (1 once it is met).
pub fn progress(c: Comparison, value: f64, target: f64) -> f64 {
    if satisfies(c, value, target) {
        return 1.0;
    }
    let p = match c {
        Comparison::AtLeast | Comparison::Above if target > 0.0 => value / target,
        Comparison::AtMost | Comparison::Below if value > 0.0 => target / value,
        _ => 0.0,
    };
    p.clamp(0.0, 0.999)
}

/// The end of the period containing `now`: `week`, `month`, `quarter` or `year`.
pub fn period_end(period: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let d = now.date_naive();
    let start = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
    let next = match period {
        "day" => d.succ_opt(),
        "week" => Some(d + Duration::days(7 - d.weekday().num_days_from_monday() as i64)),
        "month" if d.month() == 12 => start(d.year() + 1, 1),
        "month" => start(d.year(), d.month() + 1),
        "quarter" => {
            let q_end = ((d.month() - 1) / 3 + 1) * 3;
            if q_end == 12 {
                start(d.year() + 1, 1)
            } else {
                start(d.year(), q_end + 1)
            }
        }
        "year" => start(d.year() + 1, 1),
        _ => None,
    }?;
    Some(Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0)?))
}

/// Every goal of an employee, by id.
///
/// Only what cannot be recomputed is persisted — which goals are blocked and why; the
/// goals themselves come from the profile and their progress from the metrics, so a
/// loaded book is [`GoalBook::restore`]d before use.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "GoalMemo")]
pub struct GoalBook {
    /// Sorted by id, ids unique. (A BTreeMap of a few goals allocates a leaf node of 11
    /// slots: ~3.6 KiB per employee for 4 goals.)
    goals: Vec<GoalState>,
    /// Blocked goals read from a snapshot, until restored.
    restored: BTreeMap<String, String>,
    /// The goal a human made the top priority (a directive the Mind keeps): ranked
    /// above every other.
    top: Option<String>,
}

/// What the top goal's priority gains: more than any other's can be (each is at most 1).
const TOP_BOOST: f64 = 1.0;

/// The persisted part of a [`GoalBook`].
#[derive(Serialize, Deserialize)]
struct GoalMemo {
    #[serde(default)]
    blocked: BTreeMap<String, String>,
}

impl From<GoalMemo> for GoalBook {
    fn from(m: GoalMemo) -> GoalBook {
        GoalBook {
            goals: Vec::new(),
            restored: m.blocked,
            top: None,
        }
    }
}

impl Serialize for GoalBook {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Memo<'a> {
            blocked: BTreeMap<&'a str, &'a str>,
        }
        let mut blocked: BTreeMap<&str, &str> = self
            .restored
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        blocked.extend(
            self.goals
                .iter()
                .filter_map(|g| Some((g.spec.id.as_str(), g.blocked.as_deref()?))),
        );
        Memo { blocked }.serialize(s)
    }
}

impl GoalBook {
    /// Rebuilds a loaded book from the goal specs, keeping which goals were blocked,
    /// and recomputes where each stands.
    pub fn restore(&mut self, specs: &[Goal], metrics: &Metrics, now: DateTime<Utc>) {
        let mut blocked = std::mem::take(&mut self.restored);
        for g in self.goals.iter_mut() {
            if let Some(b) = g.blocked.take() {
                blocked.insert(g.spec.id.clone(), b);
            }
        }
        let top = self.top.take();
        *self = GoalBook::new(specs);
        self.top = top;
        for (id, why) in blocked {
            self.set_blocked(&id, Some(why));
        }
        self.refresh(metrics, now);
    }

    /// Goals from the profile.
    pub fn new(specs: &[Goal]) -> GoalBook {
        let mut goals: Vec<GoalState> = Vec::with_capacity(specs.len());
        for g in specs {
            // As a map would: a later goal with the same id replaces the earlier one.
            match goals.binary_search_by(|x| x.spec.id.as_str().cmp(&g.id)) {
                Ok(i) => goals[i] = GoalState::new(g.clone()),
                Err(i) => goals.insert(i, GoalState::new(g.clone())),
            }
        }
        GoalBook {
            goals,
            restored: BTreeMap::new(),
            top: None,
        }
    }

    fn pos(&self, id: &str) -> Option<usize> {
        self.goals
            .binary_search_by(|g| g.spec.id.as_str().cmp(id))
            .ok()
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut GoalState> {
        self.pos(id).map(|i| &mut self.goals[i])
    }

    /// A goal by id.
    pub fn get(&self, id: &str) -> Option<&GoalState> {
        self.pos(id).map(|i| &self.goals[i])
    }

    /// All goals in id order.
    pub fn iter(&self) -> impl Iterator<Item = &GoalState> {
        self.goals.iter()
    }

    /// Number of goals.
    pub fn len(&self) -> usize {
        self.goals.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.goals.is_empty()
    }

    /// Marks a goal blocked (or unblocked with `None`).
    pub fn set_blocked(&mut self, id: &str, why: Option<String>) {
        if let Some(g) = self.get_mut(id) {
            g.blocked = why;
        }
    }

    /// Makes `goal` the top priority (none: no goal is), above every other.
    pub fn set_top(&mut self, goal: Option<&str>) {
        if self.top.as_deref() == goal {
            return;
        }
        if let Some(old) = self.top.take()
            && let Some(g) = self.get_mut(&old)
        {
            g.priority -= TOP_BOOST;
        }
        self.top = goal.map(str::to_string);
        if let Some(new) = goal
            && let Some(g) = self.get_mut(new)
        {
            g.priority += TOP_BOOST;
        }
    }

    /// The goal made the top priority, if any.
    pub fn top(&self) -> Option<&str> {
        self.top.as_deref()
    }

    /// Ids of goals whose metric is `metric`.
    pub fn measuring<'a>(&'a self, metric: &'a str) -> impl Iterator<Item = &'a GoalState> + 'a {
        self.goals.iter().filter(move |g| g.spec.metric == metric)
    }

    /// Recomputes progress, deadline, projection and priority from the metrics.
    pub fn refresh(&mut self, metrics: &Metrics, now: DateTime<Utc>) {
        // Goals share a few periods: each period's end is computed once.
        let mut ends: Vec<(&str, Option<DateTime<Utc>>)> = Vec::new();
        for g in self.goals.iter_mut() {
            let points = metrics.points(&g.spec.metric);
            g.current = points.and_then(|s| s.back()).map(|p| p.1);
            g.deadline =
                g.spec
                    .period
                    .as_deref()
                    .and_then(|p| match ends.iter().find(|(q, _)| *q == p) {
                        Some((_, end)) => *end,
                        None => {
                            let end = period_end(p, now);
                            ends.push((p, end));
                            end
                        }
                    });
            g.progress = g
                .current
                .map(|c| progress(g.spec.comparison, c, g.spec.target))
                .unwrap_or(0.0);
            g.projected = match (g.current, g.deadline, points) {
                (Some(c), Some(d), Some(points)) => {
                    let (Some(first), Some(last)) = (points.front(), points.back()) else {
                        unreachable!("a series with a current value has points")
                    };
                    let key = (
                        points.len(),
                        first.0.timestamp_micros(),
                        last.0.timestamp_micros(),
                        last.1.to_bits(),
                    );
                    let slope = match &g.slope {
                        Some((k, slope)) if *k == key => *slope,
                        _ => {
                            let slope = super::metrics::hourly_slope(points);
                            g.slope = Some((key, slope));
                            slope
                        }
                    };
                    slope.map(|slope| c + slope * (d - now).num_minutes() as f64 / 60.0)
                }
                _ => None,
            };
        }
        // A parent with no metric of its own progresses with its children.
        let mut children: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
        for g in self.goals.iter() {
            if let Some(p) = g.spec.parent.as_deref() {
                let e = children.entry(p).or_default();
                e.0 += g.progress;
                e.1 += 1;
            }
        }
        let averages: Vec<(String, f64)> = children
            .into_iter()
            .filter(|(id, _)| self.get(id).is_some_and(|g| g.current.is_none()))
            .map(|(id, (sum, n))| (id.to_string(), sum / n as f64))
            .collect();
        for (id, p) in averages {
            if let Some(g) = self.get_mut(&id) {
                g.progress = p.min(0.999);
            }
        }
        for g in self.goals.iter_mut() {
            let urgency = match g.deadline {
                Some(d) => 1.0 / (1.0 + ((d - now).num_hours().max(0) as f64 / 24.0) / 30.0),
                None => 0.3,
            };
            g.priority = urgency * g.spec.importance * (1.0 - g.progress);
            if self.top.as_deref() == Some(g.spec.id.as_str()) {
                g.priority += TOP_BOOST;
            }
        }
    }
}

/// Goals as conditions see them.
impl Lookup for GoalBook {
    fn get(&self, key: &str) -> Option<cel::Value> {
        GoalBook::get(self, key).map(goal_cel)
    }

    fn all(&self) -> Vec<(String, cel::Value)> {
        self.goals
            .iter()
            .map(|g| (g.spec.id.clone(), goal_cel(g)))
            .collect()
    }
}

fn goal_cel(g: &GoalState) -> cel::Value {
    let num = |v: Option<f64>| v.map(cel::Value::Float).unwrap_or(cel::Value::Null);
    cel_map([
        ("progress", cel::Value::Float(g.progress)),
        ("current", num(g.current)),
        ("target", cel::Value::Float(g.spec.target)),
        ("gap", cel::Value::Float(1.0 - g.progress)),
        ("priority", cel::Value::Float(g.priority)),
        ("met", cel::Value::Bool(g.met())),
        ("at_risk", cel::Value::Bool(g.at_risk())),
        ("blocked", cel::Value::Bool(g.blocked.is_some())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(id: &str, c: Comparison, target: f64, parent: Option<&str>) -> Goal {
        Goal {
            id: id.into(),
            description: id.into(),
            horizon: crate::model::GoalHorizon::Tactical,
            metric: id.into(),
            comparison: c,
            target,
            unit: None,
            period: Some("quarter".into()),
            importance: 0.8,
            parent: parent.map(Into::into),
        }
    }

    #[test]
    fn progress_priority_and_parents() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let mut book = GoalBook::new(&[
            goal("revenue", Comparison::AtLeast, 500_000.0, None),
            goal("coverage", Comparison::AtLeast, 3.0, Some("revenue")),
            goal("response", Comparison::Below, 4.0, Some("revenue")),
        ]);
        // revenue has no metric of its own here.
        book.get_mut("revenue").unwrap().spec.metric = "none".into();
        let mut m = Metrics::default();
        m.record("coverage", 1.5, now - Duration::days(2));
        m.record("coverage", 1.5, now);
        m.record("response", 8.0, now);
        book.refresh(&m, now);
        let cov = book.get("coverage").unwrap();
        assert!((cov.progress - 0.5).abs() < 1e-9);
        assert_eq!(
            cov.deadline,
            Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap())
        );
        assert!(
            cov.at_risk(),
            "flat at half the target with a deadline ahead"
        );
        assert!((book.get("response").unwrap().progress - 0.5).abs() < 1e-9);
        assert!((book.get("revenue").unwrap().progress - 0.5).abs() < 1e-9);
        assert!(cov.priority > 0.0 && cov.priority < 0.8);
        m.record("coverage", 3.2, now);
        book.refresh(&m, now);
        assert!(book.get("coverage").unwrap().met());
        assert_eq!(book.get("coverage").unwrap().priority, 0.0);
    }

    #[test]
    fn period_ends() {
        let t = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(); // a Wednesday
        let at = |y, m, d| Some(Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap());
        assert_eq!(period_end("week", t), at(2026, 11, 30));
        assert_eq!(period_end("month", t), at(2026, 12, 1));
        assert_eq!(period_end("quarter", t), at(2027, 1, 1));
        assert_eq!(period_end("year", t), at(2027, 1, 1));
        assert_eq!(period_end("fortnight", t), None);
    }
}
