//! Choosing among applicable plans (and among a step's variants): persona-weighted
//! Thompson sampling over what each has achieved so far.
//!
//! For each candidate with `s` successes and `f` failures in this context:
//!
//! ```text
//! mean    = (1 + s) / (2 + s + f)                  what it has proven
//! sample  ~ Beta(1 + s, 1 + f)                     what it might be worth (Thompson)
//! novelty = 1 / (1 + s + f)                        how untried it is
//! score   = c · mean + (1 − c) · sample + 0.5 · o · novelty − 0.05 · cost
//! ```
//!
//! with `o` = openness and `c` = conscientiousness (a plan the latest performance review
//! found failing scores `mean − 0.05 · cost`: no draw, no novelty, until the next review). High openness explores (untried plans
//! get up to 0.5 more); high conscientiousness exploits (the proven mean outweighs the
//! draw). Low risk tolerance filters: plans with `risk > 0.2 + 0.8 · risk_tolerance` are
//! not considered. Decision speed sets how much evidence is gathered before acting: a
//! trigger must match `1 + round(2 · (1 − decision_speed))` times in a row (once for a
//! quick decider, three times for a deliberate one) before its plan is adopted.

use crate::model::Persona;
use rand::Rng;
use rand_distr::{Beta, Distribution};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Successes and failures of one plan or variant in one context.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Times it worked.
    pub successes: u32,
    /// Times it did not.
    pub failures: u32,
}

impl Record {
    /// Posterior mean of its success rate.
    pub fn mean(&self) -> f64 {
        (1.0 + self.successes as f64) / (2.0 + self.successes as f64 + self.failures as f64)
    }

    /// Times tried.
    pub fn tries(&self) -> u32 {
        self.successes + self.failures
    }
}

/// Success statistics per plan or variant and context — the procedural memory this
/// engine keeps (the memory issue stores it for search).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    records: BTreeMap<String, Record>,
}

impl Stats {
    /// Key of a plan in a context (the trigger's event kind).
    pub fn plan_key(plan: &str, context: &str) -> String {
        format!("plan:{plan}@{context}")
    }

    /// Key of a step variant.
    pub fn variant_key(plan: &str, step: usize, variant: &str) -> String {
        format!("variant:{plan}/{step}/{variant}")
    }

    /// The record under `key`.
    pub fn get(&self, key: &str) -> Record {
        self.records.get(key).copied().unwrap_or_default()
    }

    /// Records an outcome.
    pub fn record(&mut self, key: &str, success: bool) {
        let r = self.records.entry(key.to_string()).or_default();
        if success {
            r.successes += 1;
        } else {
            r.failures += 1;
        }
    }

    /// All records in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Record)> {
        self.records.iter()
    }
}

/// Highest risk a persona accepts.
pub fn risk_bound(p: &Persona) -> f64 {
    0.2 + 0.8 * p.decision.risk_tolerance
}

/// Consecutive matches of a trigger needed before acting.
pub fn evidence_needed(p: &Persona) -> u32 {
    1 + (2.0 * (1.0 - p.decision.decision_speed)).round() as u32
}

/// A candidate: its record and expected cost.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    /// Past outcomes.
    pub record: Record,
    /// Expected cost.
    pub cost: f64,
    /// Not explored (a plan a review found failing): scored on its proven mean alone.
    pub settled: bool,
}

/// Score of one candidate (see the module docs).
pub fn score(p: &Persona, c: &Candidate, rng: &mut impl Rng) -> f64 {
    let (o, k) = (p.personality.openness, p.personality.conscientiousness);
    let r = c.record;
    if c.settled {
        return r.mean() - 0.05 * c.cost;
    }
    let sample = Beta::new(1.0 + r.successes as f64, 1.0 + r.failures as f64)
        .map(|b| b.sample(rng))
        .unwrap_or(0.5);
    let novelty = 1.0 / (1.0 + r.tries() as f64);
    k * r.mean() + (1.0 - k) * sample + 0.5 * o * novelty - 0.05 * c.cost
}

/// Index of the best candidate; ties go to the first. None if there are none.
pub fn choose(p: &Persona, candidates: &[Candidate], rng: &mut impl Rng) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, c) in candidates.iter().enumerate() {
        let s = score(p, c, rng);
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((i, s));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_plan_the_review_found_failing_is_not_explored() {
        let src = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/config/roles/sales_ae.toml"
        ))
        .unwrap();
        let role: crate::config::RoleTemplate = toml::from_str(&src).unwrap();
        let mut p = role.persona;
        p.personality.openness = 1.0;
        p.personality.conscientiousness = 0.0;
        let proven = Candidate {
            record: Record {
                successes: 6,
                failures: 4,
            },
            cost: 0.0,
            settled: false,
        };
        let failing = |settled| Candidate {
            record: Record {
                successes: 1,
                failures: 3,
            },
            cost: 0.0,
            settled,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let explored = (0..500)
            .filter(|_| choose(&p, &[proven, failing(false)], &mut rng) == Some(1))
            .count();
        assert!(
            explored > 0,
            "an open persona tries the failing plan now and then"
        );
        let settled = (0..500)
            .filter(|_| choose(&p, &[proven, failing(true)], &mut rng) == Some(1))
            .count();
        // Chosen now only when the other plan's own draw falls below its proven mean.
        assert!(
            settled * 3 < explored,
            "explored {explored} times before the review, {settled} after"
        );
        // Its score is its proven mean less its cost: no draw, no novelty.
        let costly = Candidate {
            cost: 2.0,
            ..failing(true)
        };
        assert_eq!(score(&p, &costly, &mut rng), costly.record.mean() - 0.1);
    }
}
