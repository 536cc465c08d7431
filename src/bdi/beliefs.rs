//! Beliefs: what the employee holds true, each with a confidence, a source and a time.
//!
//! Confidence fades with age at a rate set per kind of belief (a reported metric goes
//! stale within days; a stated fact does not), so conditions weigh old news less.

use super::expr::{Lookup, cel_map, json_to_cel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One belief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Belief {
    /// What is believed.
    pub value: serde_json::Value,
    /// Confidence when it was formed, 0..=1.
    pub confidence: f64,
    /// Where it came from: an event kind, `outcome`, `feedback`, `config`.
    pub source: String,
    /// Kind, which sets how fast confidence decays (see [`Decay`]).
    pub kind: String,
    /// When it was formed or last confirmed (stored as microseconds).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub at: DateTime<Utc>,
}

/// How fast confidence fades, per belief kind: the half-life in hours. Kinds not listed
/// do not fade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decay {
    /// Half-life in hours per kind.
    pub half_life_hours: BTreeMap<String, f64>,
}

impl Default for Decay {
    fn default() -> Self {
        Decay {
            half_life_hours: BTreeMap::from([
                ("metric".to_string(), 24.0 * 7.0),
                ("event".to_string(), 24.0 * 3.0),
                ("outcome".to_string(), 24.0 * 30.0),
            ]),
        }
    }
}

impl Belief {
    /// Confidence at `now`: halved every half-life of its kind.
    pub fn confidence_at(&self, now: DateTime<Utc>, decay: &Decay) -> f64 {
        match decay.half_life_hours.get(&self.kind) {
            Some(h) if *h > 0.0 => {
                let age_h = (now - self.at).num_milliseconds().max(0) as f64 / 3_600_000.0;
                self.confidence * 0.5f64.powf(age_h / h)
            }
            _ => self.confidence,
        }
    }
}

/// Every belief of an employee, by key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Beliefs {
    map: BTreeMap<String, Belief>,
    /// The bytes of every key and value (as JSON), once counted; kept up to date from
    /// then on (see [`Beliefs::bytes`]).
    #[serde(skip)]
    bytes: Option<usize>,
}

impl PartialEq for Beliefs {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

/// What one belief counts towards [`Beliefs::bytes`].
fn size(key: &str, b: &Belief) -> usize {
    key.len() + super::bounds::json_size(&b.value, usize::MAX)
}

impl Beliefs {
    /// Sets (or confirms) a belief.
    pub fn set(&mut self, key: impl Into<String>, belief: Belief) {
        let key = key.into();
        if let Some(n) = &mut self.bytes {
            *n += size(&key, &belief);
            if let Some(old) = self.map.get(&key) {
                *n -= size(&key, old);
            }
        }
        self.map.insert(key, belief);
    }

    /// The bytes of every key and value, as JSON: counted once, then kept up to date.
    pub fn bytes(&mut self) -> usize {
        *self
            .bytes
            .get_or_insert_with(|| self.map.iter().map(|(k, b)| size(k, b)).sum())
    }

    /// Forgets the beliefs formed longest ago until keys and values take at most
    /// `target` bytes.
    pub(super) fn shed_bytes(&mut self, target: usize) {
        let mut total = self.bytes();
        if total <= target {
            return;
        }
        let mut by_age: Vec<(DateTime<Utc>, usize, String)> = self
            .map
            .iter()
            .map(|(k, b)| (b.at, size(k, b), k.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, n, k) in by_age {
            if total <= target {
                break;
            }
            self.map.remove(&k);
            total -= n;
        }
        self.bytes = Some(total);
    }

    /// A belief by key.
    pub fn get(&self, key: &str) -> Option<&Belief> {
        self.map.get(key)
    }

    /// Forgets a belief.
    pub fn remove(&mut self, key: &str) -> Option<Belief> {
        let gone = self.map.remove(key);
        if let (Some(n), Some(b)) = (&mut self.bytes, &gone) {
            *n -= size(key, b);
        }
        gone
    }

    /// Number of beliefs.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// All beliefs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Belief)> {
        self.map.iter()
    }

    /// How many beliefs have keys starting with `prefix`.
    pub fn count_prefix(&self, prefix: &str) -> usize {
        self.map
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(prefix))
            .count()
    }

    /// Of the beliefs whose key `candidate` accepts, keeps the `n` formed most recently.
    pub(super) fn keep_newest(&mut self, n: usize, candidate: impl Fn(&str) -> bool) {
        let mut chosen: BTreeMap<String, Belief> = BTreeMap::new();
        let mut rest = BTreeMap::new();
        for (k, b) in std::mem::take(&mut self.map) {
            if candidate(&k) {
                chosen.insert(k, b);
            } else {
                rest.insert(k, b);
            }
        }
        super::bounds::keep_top(&mut chosen, n, |_, b| b.at);
        rest.append(&mut chosen);
        self.map = rest;
        self.bytes = None;
    }

    /// Keeps the beliefs `keep` accepts; answers how many went.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Belief) -> bool) -> usize {
        let before = self.map.len();
        self.map.retain(|k, b| keep(k, b));
        self.bytes = None;
        before - self.map.len()
    }

    /// Drops beliefs whose confidence has faded below `floor`.
    pub fn prune(&mut self, now: DateTime<Utc>, decay: &Decay, floor: f64) -> usize {
        let before = self.map.len();
        self.map.retain(|_, b| b.confidence_at(now, decay) >= floor);
        self.bytes = None;
        before - self.map.len()
    }

    /// A view for conditions at `now`.
    pub(crate) fn view<'a>(&'a self, now: DateTime<Utc>, decay: &'a Decay) -> BeliefView<'a> {
        BeliefView {
            beliefs: self,
            now,
            decay,
        }
    }
}

/// Beliefs as conditions see them: `{value, confidence, source}` with confidence decayed.
pub(crate) struct BeliefView<'a> {
    beliefs: &'a Beliefs,
    now: DateTime<Utc>,
    decay: &'a Decay,
}

impl BeliefView<'_> {
    fn cel(&self, b: &Belief) -> cel::Value {
        cel_map([
            ("value", json_to_cel(&b.value)),
            (
                "confidence",
                cel::Value::Float(b.confidence_at(self.now, self.decay)),
            ),
            (
                "source",
                cel::Value::String(std::sync::Arc::new(b.source.clone())),
            ),
        ])
    }
}

impl Lookup for BeliefView<'_> {
    fn get(&self, key: &str) -> Option<cel::Value> {
        self.beliefs.map.get(key).map(|b| self.cel(b))
    }

    fn all(&self) -> Vec<(String, cel::Value)> {
        self.beliefs
            .map
            .iter()
            .map(|(k, b)| (k.clone(), self.cel(b)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn confidence_halves_every_half_life_of_its_kind() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let decay = Decay::default();
        let metric = Belief {
            value: serde_json::json!(2.0),
            confidence: 0.8,
            source: "metric".into(),
            kind: "metric".into(),
            at: t0,
        };
        let week = t0 + chrono::Duration::days(7);
        assert!((metric.confidence_at(week, &decay) - 0.4).abs() < 1e-9);
        let fact = Belief {
            kind: "fact".into(),
            ..metric.clone()
        };
        assert_eq!(fact.confidence_at(week, &decay), 0.8);
        let mut b = Beliefs::default();
        b.set("m", metric);
        b.set("f", fact);
        assert_eq!(b.prune(t0 + chrono::Duration::days(70), &decay, 0.05), 1);
        assert!(b.get("f").is_some());
    }
}
