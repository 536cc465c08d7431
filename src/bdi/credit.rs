//! What feedback is credited to: the latest action the employee actually carried out,
//! once its outcome came back done. Never an action that was only proposed (shadow) or
//! still waits for approval, never one that failed, and never an earlier action in
//! place of a later one: praise after a failed email and the escalation that followed
//! is praise for the escalation, not for the email.
//!
//! A rating given before the outcome of the action it is about has come back waits
//! with that action: it is learned when the outcome is done, and dropped when it
//! failed (the failure is learned by the intention that took the action).

use super::*;

/// Ratings one action may hold while its outcome is awaited; later ones are dropped.
const HELD: usize = 8;

/// The latest action the employee carried out, as feedback sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Carried {
    /// The action.
    action: u64,
    /// The statistics a rating of it updates: its plan's in the `feedback` context,
    /// and its variant's if it had one.
    keys: Vec<String>,
    /// Whether its outcome came back done.
    done: bool,
    /// Ratings (good or not) given before its outcome came back.
    held: Vec<bool>,
}

/// A field older snapshots hold at this position and the Mind no longer uses (Minds are
/// stored with their fields by position). Written as nothing; whatever was there is
/// ignored on reading.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Retired;

impl Serialize for Retired {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

impl<'de> Deserialize<'de> for Retired {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Retired)
    }
}

impl Mind {
    /// `act` was carried out (executed, or approved and so executed): feedback from now
    /// on is about it, once its outcome is done.
    pub(super) fn carried_out(&mut self, act: &Action) {
        let keys = std::iter::once(Stats::plan_key(&act.plan, "feedback"))
            .chain(
                act.variant
                    .as_deref()
                    .map(|v| Stats::variant_key(&act.plan, act.step, v)),
            )
            .collect();
        self.carried = Some(Carried {
            action: act.id,
            keys,
            done: false,
            held: Vec::new(),
        });
    }

    /// The outcome of `action` came back: if it is the action feedback is about, a done
    /// outcome lets ratings reach it (those held are learned now); a failure means no
    /// rating may credit it.
    pub(super) fn credit_outcome(&mut self, action: u64, success: bool, out: &mut Vec<Decision>) {
        let Some(c) = self.carried.as_mut().filter(|c| c.action == action) else {
            return;
        };
        if !success {
            self.carried = None;
            return;
        }
        c.done = true;
        let (keys, held) = (c.keys.clone(), std::mem::take(&mut c.held));
        for good in held {
            self.learn_rating(&keys, good, out);
        }
    }

    /// A rating of the employee's latest work: learned for the latest action carried
    /// out if its outcome is done, held until it is, and learned for nothing when no
    /// action carried out can take it.
    pub(super) fn credit_rating(&mut self, rating: f64, out: &mut Vec<Decision>) {
        let good = rating >= 0.5;
        match self.carried.as_mut() {
            Some(c) if c.done => {
                let keys = c.keys.clone();
                self.learn_rating(&keys, good, out);
            }
            Some(c) if c.held.len() < HELD => c.held.push(good),
            // Nothing carried out can take it, or too many wait already.
            _ => {}
        }
    }

    fn learn_rating(&mut self, keys: &[String], good: bool, out: &mut Vec<Decision>) {
        for key in keys {
            self.stats.record(key, good);
            out.push(Decision::Learned {
                key: key.clone(),
                success: good,
            });
        }
    }
}
