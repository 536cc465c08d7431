//! Bounds on what an employee's reasoning state keeps, so nothing it receives can grow
//! it without limit: whatever arrives (20,000 mails from distinct senders, events of
//! hundreds of kinds, huge payloads), the snapshot stored after every event stays small.
//!
//! | what                        | kept                                                 |
//! |-----------------------------|------------------------------------------------------|
//! | unanswered messages         | the [`UNANSWERED_KEPT`] most recent                  |
//! | calendar events watched     | upcoming ones, the [`CALENDAR_KEPT`] soonest         |
//! | firing signals              | only those whose message or event is still watched   |
//! | `last.<kind>` beliefs       | the [`EVENT_BELIEFS_KEPT`] most recently seen kinds  |
//! | beliefs in all              | the [`BELIEFS_KEPT`] most recently formed, their keys and values within [`BELIEF_BYTES`] |
//! | a belief's value            | at most [`VALUE_BYTES`] of JSON, strings cut by bytes |
//! | metric series               | every goal's and signal's, and [`METRICS_KEPT`] more |
//!
//! Pruning drops the oldest first and runs only when a bound is passed, down to three
//! quarters of it, so its cost is spread over many events.

use super::Mind;
use super::beliefs::Belief;
use super::signals::SignalSpec;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value as Json;
use std::collections::BTreeSet;

/// Unanswered messages watched for an inbox SLA (the oldest are forgotten first: their
/// SLA signal has long fired).
pub const UNANSWERED_KEPT: usize = 256;
/// Upcoming calendar events watched.
pub const CALENDAR_KEPT: usize = 256;
/// `last.<kind>` beliefs: the payload of the last event of each kind.
pub const EVENT_BELIEFS_KEPT: usize = 64;
/// Beliefs in all (the scale the reasoning core is built and measured for).
pub const BELIEFS_KEPT: usize = 10_000;
/// The bytes beliefs' keys and values may take in all, as JSON.
pub const BELIEF_BYTES: usize = 512 * 1024;
/// Metric series beyond those goals and signals read.
pub const METRICS_KEPT: usize = 128;
/// The JSON size a belief's value may have; bigger values keep their shape with long
/// strings cut and long arrays shortened.
pub const VALUE_BYTES: usize = 4 * 1024;
/// The longest string kept inside a value that was too big.
const STRING_BYTES: usize = 512;
/// The most items kept of an array inside a value that was too big.
const ARRAY_ITEMS: usize = 16;
/// How long a calendar event that has started is still watched.
const CALENDAR_GRACE: Duration = Duration::days(1);

/// Where pruning takes a collection that passed its bound: three quarters of it.
fn target(bound: usize) -> usize {
    bound * 3 / 4
}

impl Mind {
    /// Brings the state back under every bound; cheap when nothing passed one.
    pub(super) fn bound(&mut self, specs: &[SignalSpec], now: DateTime<Utc>) {
        let w = &mut self.watch;
        let mut forgot = false;
        if w.unanswered.len() > UNANSWERED_KEPT {
            keep_top(&mut w.unanswered, target(UNANSWERED_KEPT), |_, at| *at);
            forgot = true;
        }
        let before = w.calendar.len();
        if before > CALENDAR_KEPT
            || w.calendar
                .values()
                .any(|(start, _)| *start + CALENDAR_GRACE < now)
        {
            w.calendar
                .retain(|_, (start, _)| *start + CALENDAR_GRACE >= now);
            if w.calendar.len() > CALENDAR_KEPT {
                // The soonest matter; the furthest out are forgotten first.
                keep_top(&mut w.calendar, target(CALENDAR_KEPT), |_, (start, _)| {
                    std::cmp::Reverse(*start)
                });
            }
            forgot |= w.calendar.len() != before;
        }
        if forgot || w.firing_len() > UNANSWERED_KEPT + CALENDAR_KEPT + specs.len() {
            w.forget_stale_firing(specs);
        }
        if self.beliefs.len() > BELIEFS_KEPT {
            self.beliefs.keep_newest(target(BELIEFS_KEPT), |_| true);
        }
        if self.beliefs.bytes() > BELIEF_BYTES {
            self.beliefs.shed_bytes(target(BELIEF_BYTES));
        }
        if self.metrics.len() <= METRICS_KEPT {
            return;
        }
        let goal_metrics: BTreeSet<&str> = self
            .goals
            .iter()
            .map(|g| g.spec.metric.as_str())
            .chain(specs.iter().filter_map(|s| s.metric.as_deref()))
            .collect();
        if self.metrics.len() > METRICS_KEPT + goal_metrics.len() {
            for m in self
                .metrics
                .keep_newest(target(METRICS_KEPT), |m| goal_metrics.contains(m))
            {
                self.beliefs.remove(&format!("metric.{m}"));
            }
        }
    }

    /// Sets a `last.<kind>` belief, forgetting the kinds seen longest ago past the bound.
    pub(super) fn set_last(&mut self, kind: &str, belief: Belief) {
        let key = format!("last.{kind}");
        let new = self.beliefs.get(&key).is_none();
        self.beliefs.set(key, belief);
        if new && self.beliefs.count_prefix("last.") > EVENT_BELIEFS_KEPT {
            self.beliefs
                .keep_newest(target(EVENT_BELIEFS_KEPT), |k| k.starts_with("last."));
        }
    }
}

/// Keeps the `n` entries of `map` with the greatest `rank`; drops the rest.
pub(super) fn keep_top<K: Ord, V, T: Ord + Copy>(
    map: &mut std::collections::BTreeMap<K, V>,
    n: usize,
    rank: impl Fn(&K, &V) -> T,
) {
    if map.len() <= n {
        return;
    }
    let over = map.len() - n;
    let mut ranks: Vec<T> = map.iter().map(|(k, v)| rank(k, v)).collect();
    let (below, threshold, _) = ranks.select_nth_unstable(over - 1);
    let threshold = *threshold;
    let below = below.iter().filter(|r| **r < threshold).count();
    // Everything ranked below the threshold goes, and as many at it as make `n` stay.
    let mut ties = over - below;
    map.retain(|k, v| {
        let r = rank(k, v);
        if r < threshold {
            false
        } else if r == threshold && ties > 0 {
            ties -= 1;
            false
        } else {
            true
        }
    });
}

/// A value within [`VALUE_BYTES`] of JSON: small values as they are; a bigger one keeps
/// its shape, with strings cut (on a character boundary, by bytes) and arrays shortened.
pub fn bounded_value(v: &Json) -> Json {
    if json_size(v, VALUE_BYTES + 1) <= VALUE_BYTES {
        return v.clone();
    }
    let mut budget = VALUE_BYTES;
    shrink(v, &mut budget)
}

fn shrink(v: &Json, budget: &mut usize) -> Json {
    match v {
        Json::String(s) => {
            let cut = &s[..s.floor_char_boundary(STRING_BYTES.min(*budget))];
            *budget = budget.saturating_sub(cut.len() + 2);
            Json::String(if cut.len() < s.len() {
                format!("{cut}…")
            } else {
                cut.to_string()
            })
        }
        Json::Array(items) => {
            let mut out = Vec::new();
            for i in items.iter().take(ARRAY_ITEMS) {
                if *budget == 0 {
                    break;
                }
                out.push(shrink(i, budget));
            }
            Json::Array(out)
        }
        Json::Object(fields) => {
            let mut out = serde_json::Map::new();
            for (k, f) in fields {
                if *budget <= k.len() + 4 {
                    break;
                }
                *budget -= k.len() + 4;
                out.insert(k.clone(), shrink(f, budget));
            }
            Json::Object(out)
        }
        other => {
            *budget = budget.saturating_sub(8);
            other.clone()
        }
    }
}

/// The approximate JSON size of `v`, counted only up to `limit`.
pub(super) fn json_size(v: &Json, limit: usize) -> usize {
    fn walk(v: &Json, n: &mut usize, limit: usize) {
        if *n > limit {
            return;
        }
        match v {
            Json::Null | Json::Bool(_) => *n += 5,
            Json::Number(_) => *n += 8,
            Json::String(s) => *n += s.len() + 2,
            Json::Array(items) => {
                *n += 2;
                for i in items {
                    walk(i, n, limit);
                    *n += 1;
                }
            }
            Json::Object(fields) => {
                *n += 2;
                for (k, f) in fields {
                    *n += k.len() + 4;
                    walk(f, n, limit);
                }
            }
        }
    }
    let mut n = 0;
    walk(v, &mut n, limit);
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_big_value_keeps_its_shape_within_the_bound() {
        let body = "é".repeat(10_000);
        let v = json!({"from": "a@example.com", "subject": "hi", "body": body, "tags": (0..100).collect::<Vec<_>>()});
        let b = bounded_value(&v);
        assert!(serde_json::to_string(&b).unwrap().len() <= VALUE_BYTES + 64);
        assert_eq!(b["from"], "a@example.com");
        assert_eq!(b["subject"], "hi");
        let cut = b["body"].as_str().unwrap();
        assert!(cut.len() <= STRING_BYTES + "…".len() && cut.ends_with('…'));
        assert!(b["tags"].as_array().unwrap().len() <= ARRAY_ITEMS);
        let small = json!({"from": "a@example.com"});
        assert_eq!(bounded_value(&small), small);
    }

    #[test]
    fn keeping_the_newest_drops_the_oldest() {
        let t0 = Utc::now();
        let mut m: std::collections::BTreeMap<u32, DateTime<Utc>> = (0..10)
            .map(|i| (i, t0 + Duration::seconds(i as i64)))
            .collect();
        keep_top(&mut m, 4, |_, t| *t);
        let mut ties: std::collections::BTreeMap<u32, u32> = (0..10).map(|i| (i, i / 5)).collect();
        keep_top(&mut ties, 3, |_, r| *r);
        assert_eq!(ties.len(), 3);
        assert!(ties.values().all(|r| *r == 1));
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![6, 7, 8, 9]);
    }
}
