//! Signals: the proactive triggers of seed 1.2, checked every cycle. Each fires once when
//! its condition starts to hold (and re-arms when it stops), as an internal event of
//! kind `signal.<name>` that plans trigger on like any other event.
//!
//! Kinds: `threshold` (a metric `below`/`above` a value), `anomaly` (the latest value
//! `z` standard deviations from the `window` before it), `trend` (a metric moving `up`
//! or `down` over `window` reports), `inbox_sla` (a message unanswered for `hours`),
//! `calendar` (`minutes` before a calendar event), `goal_milestone` (`days` before a
//! goal's deadline) and `goal_at_risk` (a goal's projection misses its target). Cron
//! ticks need no signal: they arrive as `cron.tick` events.

use super::goals::GoalBook;
use super::metrics::Metrics;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// A signal as written in the role's TOML (`[[triggers]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSpec {
    /// Name; the event raised is `signal.<name>`.
    pub name: String,
    /// What is watched.
    pub kind: SignalKind,
    /// Metric watched (threshold, anomaly, trend).
    #[serde(default)]
    pub metric: Option<String>,
    /// Threshold: fires when the metric goes below this.
    #[serde(default)]
    pub below: Option<f64>,
    /// Threshold: fires when the metric goes above this.
    #[serde(default)]
    pub above: Option<f64>,
    /// Anomaly: standard deviations (default 3).
    #[serde(default)]
    pub z: Option<f64>,
    /// Anomaly and trend: how many reports to look at (default 10 and 5).
    #[serde(default)]
    pub window: Option<usize>,
    /// Trend: `up` or `down`.
    #[serde(default)]
    pub direction: Option<Direction>,
    /// Inbox SLA: hours a message may stay unanswered.
    #[serde(default)]
    pub hours: Option<f64>,
    /// Calendar: minutes before the start.
    #[serde(default)]
    pub minutes: Option<i64>,
    /// Goal milestone: days before the deadline.
    #[serde(default)]
    pub days: Option<i64>,
    /// Goal watched (milestone, at risk); all goals when unset.
    #[serde(default)]
    pub goal: Option<String>,
}

/// Kinds of signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum SignalKind {
    Threshold,
    Anomaly,
    Trend,
    InboxSla,
    Calendar,
    GoalMilestone,
    GoalAtRisk,
}

/// Direction of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Direction {
    Up,
    Down,
}

impl SignalSpec {
    /// What is missing for its kind, as `(field, message)`.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut e = Vec::new();
        let mut need = |ok: bool, field: &str, what: &str| {
            if !ok {
                e.push((
                    field.to_string(),
                    format!("is required for a {:?} trigger: {what}", self.kind).to_lowercase(),
                ));
            }
        };
        match self.kind {
            SignalKind::Threshold => {
                need(self.metric.is_some(), "metric", "the metric watched");
                need(
                    self.below.is_some() || self.above.is_some(),
                    "below",
                    "set `below` or `above`",
                );
            }
            SignalKind::Anomaly => need(self.metric.is_some(), "metric", "the metric watched"),
            SignalKind::Trend => {
                need(self.metric.is_some(), "metric", "the metric watched");
                need(self.direction.is_some(), "direction", "`up` or `down`");
            }
            SignalKind::InboxSla => {
                need(self.hours.is_some(), "hours", "how long a message may wait")
            }
            SignalKind::Calendar => need(
                self.minutes.is_some(),
                "minutes",
                "how long before the start",
            ),
            SignalKind::GoalMilestone => {
                need(self.days.is_some(), "days", "how long before the deadline")
            }
            SignalKind::GoalAtRisk => {}
        }
        e
    }
}

/// What signals watch besides metrics and goals: unanswered messages and upcoming
/// calendar events, and which signals are currently firing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    /// Unanswered messages: id → when received.
    pub unanswered: BTreeMap<String, DateTime<Utc>>,
    /// Calendar events: id → (start, title).
    pub calendar: BTreeMap<String, (DateTime<Utc>, String)>,
    /// Signals whose condition holds (`name` or `name:key`), so they fire once.
    firing: BTreeSet<String>,
}

/// A raised signal: the event kind and payload.
pub type Raised = (String, serde_json::Value);

impl Watch {
    /// Forgets which signals are firing, so those whose condition holds fire again.
    pub fn rearm(&mut self) {
        self.firing.clear();
    }

    /// Stops watching the messages and calendar events `gone` accepts (by id, or a
    /// calendar event by its title) and forgets that signals fired for them; answers
    /// how many entries went.
    pub(super) fn forget(&mut self, gone: impl Fn(&str) -> bool) -> usize {
        let before = self.unanswered.len() + self.calendar.len() + self.firing.len();
        self.unanswered.retain(|id, _| !gone(id));
        self.calendar
            .retain(|id, (_, title)| !gone(id) && !gone(title));
        self.firing
            .retain(|f| !f.split_once(':').is_some_and(|(_, item)| gone(item)));
        before - (self.unanswered.len() + self.calendar.len() + self.firing.len())
    }

    /// How many signals (or signal:item pairs) are firing.
    pub(super) fn firing_len(&self) -> usize {
        self.firing.len()
    }

    /// Forgets firing marks of signals no longer in the playbook and of messages and
    /// calendar events no longer watched.
    pub(super) fn forget_stale_firing(&mut self, specs: &[SignalSpec]) {
        let (unanswered, calendar) = (&self.unanswered, &self.calendar);
        self.firing.retain(|f| {
            specs.iter().any(|s| {
                if *f == s.name {
                    return true;
                }
                let Some(item) = f
                    .strip_prefix(s.name.as_str())
                    .and_then(|r| r.strip_prefix(':'))
                else {
                    return false;
                };
                match s.kind {
                    SignalKind::InboxSla => unanswered.contains_key(item),
                    SignalKind::Calendar => calendar.contains_key(item),
                    _ => true,
                }
            })
        });
    }

    /// The next time a time-based signal (inbox SLA, calendar) will start to hold with
    /// no new event, if any: when the employee must reason again on its own.
    pub fn next_due(&self, specs: &[SignalSpec], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut due: Option<DateTime<Utc>> = None;
        for s in specs {
            let at = match s.kind {
                SignalKind::InboxSla => {
                    let limit = Duration::seconds((s.hours.unwrap_or(4.0) * 3600.0) as i64);
                    self.unanswered
                        .iter()
                        .filter(|(id, _)| !self.firing.contains(&format!("{}:{id}", s.name)))
                        .map(|(_, at)| *at + limit)
                        .min()
                }
                SignalKind::Calendar => {
                    let lead = Duration::minutes(s.minutes.unwrap_or(15));
                    self.calendar
                        .iter()
                        .filter(|(id, (start, _))| {
                            *start > now && !self.firing.contains(&format!("{}:{id}", s.name))
                        })
                        .map(|(_, (start, _))| *start - lead)
                        .min()
                }
                _ => None,
            };
            if let Some(at) = at {
                due = Some(due.map_or(at, |d| d.min(at)));
            }
        }
        due
    }

    /// Checks every signal; returns those that start to hold now.
    pub fn check(
        &mut self,
        specs: &[SignalSpec],
        metrics: &Metrics,
        goals: &GoalBook,
        now: DateTime<Utc>,
    ) -> Vec<Raised> {
        let mut raised = Vec::new();
        // Things that do not hold matter only to re-arm a signal that is firing.
        let track = !self.firing.is_empty();
        for s in specs {
            // (key, holds, payload) for each thing the signal watches; the payload is
            // built only for what holds.
            let mut hits: Vec<(String, bool, serde_json::Value)> = Vec::new();
            macro_rules! hit {
                ($key:expr, $holds:expr, $payload:expr) => {{
                    let holds = $holds;
                    if holds {
                        hits.push(($key, true, $payload));
                    } else if track {
                        hits.push(($key, false, serde_json::Value::Null));
                    }
                }};
            }
            let metric = s.metric.as_deref().unwrap_or("");
            match s.kind {
                SignalKind::Threshold => {
                    if let Some(v) = metrics.latest(metric) {
                        let holds =
                            s.below.is_some_and(|b| v < b) || s.above.is_some_and(|a| v > a);
                        hit!(String::new(), holds, json!({"metric": metric, "value": v}));
                    }
                }
                SignalKind::Anomaly => {
                    if let Some(z) = metrics.zscore(metric, s.window.unwrap_or(10)) {
                        let holds = z.abs() >= s.z.unwrap_or(3.0);
                        let value = metrics.latest(metric);
                        hit!(
                            String::new(),
                            holds,
                            json!({"metric": metric, "value": value, "z": z})
                        );
                    }
                }
                SignalKind::Trend => {
                    if let Some(slope) = metrics.trend(metric, s.window.unwrap_or(5)) {
                        let holds = match s.direction {
                            Some(Direction::Up) => slope > 0.0,
                            Some(Direction::Down) => slope < 0.0,
                            None => false,
                        };
                        hit!(
                            String::new(),
                            holds,
                            json!({"metric": metric, "slope": slope})
                        );
                    }
                }
                SignalKind::InboxSla => {
                    let limit = Duration::seconds((s.hours.unwrap_or(4.0) * 3600.0) as i64);
                    for (id, at) in &self.unanswered {
                        let holds = now - *at >= limit;
                        hit!(
                            id.clone(),
                            holds,
                            json!({"message_id": id, "received_at": at, "waiting_hours": (now - *at).num_minutes() as f64 / 60.0})
                        );
                    }
                }
                SignalKind::Calendar => {
                    let lead = Duration::minutes(s.minutes.unwrap_or(15));
                    for (id, (start, title)) in &self.calendar {
                        let holds = *start > now && *start - now <= lead;
                        hit!(
                            id.clone(),
                            holds,
                            json!({"calendar_id": id, "title": title, "start": start})
                        );
                    }
                }
                SignalKind::GoalMilestone | SignalKind::GoalAtRisk => {
                    for g in goals.iter() {
                        if s.goal.as_deref().is_some_and(|want| want != g.spec.id) {
                            continue;
                        }
                        let holds = match s.kind {
                            SignalKind::GoalMilestone => g.deadline.is_some_and(|d| {
                                !g.met()
                                    && d > now
                                    && d - now <= Duration::days(s.days.unwrap_or(7))
                            }),
                            _ => g.at_risk(),
                        };
                        hit!(
                            g.spec.id.clone(),
                            holds,
                            json!({"goal": g.spec.id, "progress": g.progress, "current": g.current, "projected": g.projected, "deadline": g.deadline})
                        );
                    }
                }
            }
            for (key, holds, payload) in hits {
                let id = if key.is_empty() {
                    s.name.clone()
                } else {
                    format!("{}:{key}", s.name)
                };
                if holds {
                    if self.firing.insert(id) {
                        raised.push((format!("signal.{}", s.name), payload));
                    }
                } else {
                    self.firing.remove(&id);
                }
            }
        }
        // Forget answered messages and past calendar events.
        self.calendar
            .retain(|_, (start, _)| *start > now - Duration::days(1));
        raised
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_src: &str) -> SignalSpec {
        toml::from_str(toml_src).unwrap()
    }

    #[test]
    fn a_threshold_fires_once_per_crossing() {
        let s = [spec(
            "name = \"low\"\nkind = \"threshold\"\nmetric = \"cov\"\nbelow = 3.0",
        )];
        let (mut w, mut m, g) = (Watch::default(), Metrics::default(), GoalBook::default());
        let t = Utc::now();
        m.record("cov", 3.5, t);
        assert!(w.check(&s, &m, &g, t).is_empty());
        m.record("cov", 2.1, t);
        let r = w.check(&s, &m, &g, t);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, "signal.low");
        assert_eq!(r[0].1["value"], 2.1);
        m.record("cov", 2.0, t);
        assert!(
            w.check(&s, &m, &g, t).is_empty(),
            "still below: no new signal"
        );
        m.record("cov", 3.1, t);
        w.check(&s, &m, &g, t);
        m.record("cov", 1.0, t);
        assert_eq!(w.check(&s, &m, &g, t).len(), 1, "re-armed after recovering");
    }

    #[test]
    fn inbox_sla_and_calendar() {
        let s = [
            spec("name = \"sla\"\nkind = \"inbox_sla\"\nhours = 4.0"),
            spec("name = \"meeting\"\nkind = \"calendar\"\nminutes = 15"),
        ];
        let (mut w, m, g) = (Watch::default(), Metrics::default(), GoalBook::default());
        let t = Utc::now();
        w.unanswered.insert("m1".into(), t);
        w.calendar
            .insert("c1".into(), (t + Duration::minutes(30), "QBR".into()));
        assert!(w.check(&s, &m, &g, t).is_empty());
        let later = t + Duration::minutes(20);
        let r = w.check(&s, &m, &g, later);
        assert_eq!(
            r.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["signal.meeting"]
        );
        let r = w.check(&s, &m, &g, t + Duration::hours(5));
        assert_eq!(
            r.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["signal.sla"]
        );
    }

    #[test]
    fn anomaly_trend_milestone_and_at_risk() {
        use crate::model::{Comparison, Goal, GoalHorizon};
        let s = [
            spec("name = \"spike\"\nkind = \"anomaly\"\nmetric = \"tickets\"\nz = 3.0\nwindow = 5"),
            spec(
                "name = \"falling\"\nkind = \"trend\"\nmetric = \"nps\"\ndirection = \"down\"\nwindow = 3",
            ),
            spec("name = \"near\"\nkind = \"goal_milestone\"\ndays = 7"),
            spec("name = \"risk\"\nkind = \"goal_at_risk\"\ngoal = \"nps\""),
        ];
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 26, 0, 0, 0).unwrap();
        let goal = Goal {
            id: "nps".into(),
            description: "NPS above 50".into(),
            horizon: GoalHorizon::Tactical,
            metric: "nps".into(),
            comparison: Comparison::Above,
            target: 50.0,
            unit: None,
            period: Some("quarter".into()),
            importance: 0.5,
            parent: None,
        };
        let (mut w, mut m, mut g) = (Watch::default(), Metrics::default(), GoalBook::new(&[goal]));
        for (i, v) in [10.0, 11.0, 9.0, 10.0, 10.5].iter().enumerate() {
            m.record("tickets", *v, t - Duration::hours(10 - i as i64));
        }
        for (i, v) in [48.0, 45.0, 41.0].iter().enumerate() {
            m.record("nps", *v, t - Duration::days(3 - i as i64));
        }
        g.refresh(&m, t);
        let mut kinds: Vec<String> = w.check(&s, &m, &g, t).into_iter().map(|r| r.0).collect();
        kinds.sort();
        assert_eq!(kinds, ["signal.falling", "signal.near", "signal.risk"]);
        m.record("tickets", 40.0, t);
        let r = w.check(&s, &m, &g, t);
        assert_eq!(
            r.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["signal.spike"]
        );
    }

    #[test]
    fn missing_fields_are_named() {
        let e = spec("name = \"x\"\nkind = \"trend\"").validate();
        let fields: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(fields, ["metric", "direction"]);
    }
}
