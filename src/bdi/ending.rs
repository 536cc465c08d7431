//! How intentions end: success or failure learned for the plan and its variants, a
//! parent resumed, a contingency plan adopted, and goals marked blocked when their
//! intentions wait too long. An intention that only proposed its actions (shadow)
//! learns nothing when it ends: what it proposed was never carried out, so its end is
//! recorded as a proposal's, not as a success or failure of its plan.

use super::*;

impl Mind {
    /// Records an ended intention's outcome for its plan (in its context) and for every
    /// variant it chose.
    pub(super) fn learn(&mut self, it: &Intention, success: bool, out: &mut Vec<Decision>) {
        for key in std::iter::once(Stats::plan_key(&it.plan, &it.context))
            .chain(it.variants.iter().cloned())
        {
            self.stats.record(&key, success);
            out.push(Decision::Learned { key, success });
        }
    }

    /// Ends intention `i` with a judged outcome, learning from it and resuming a parent.
    pub(super) fn finish(
        &mut self,
        s: &Situation<'_>,
        i: usize,
        success: bool,
        out: &mut Vec<Decision>,
    ) {
        let it = self.intentions.remove(i);
        if it.proposed {
            out.push(Decision::Proposed {
                intention: it.id,
                plan: it.plan.clone(),
                task: it.context.clone(),
                stopped: (!success).then(|| "its success criterion was not met in time".into()),
                contingency: None,
            });
        } else {
            self.learn(&it, success, out);
            out.push(Decision::Complete {
                intention: it.id,
                plan: it.plan.clone(),
                task: it.context.clone(),
                success,
            });
        }
        if let Some(parent) = it.parent
            && let Some(p) = self.intentions.iter_mut().find(|p| p.id == parent)
        {
            p.state = IntentionState::Ready;
            p.step += 1;
            p.since = s.now;
        }
    }

    /// Fails intention `i`: learns, then fails over to its contingency plan if any.
    pub(super) fn fail(
        &mut self,
        s: &Situation<'_>,
        i: usize,
        reason: String,
        out: &mut Vec<Decision>,
    ) {
        let it = self.intentions.remove(i);
        let contingency = s
            .playbook
            .plans
            .get(&it.plan)
            .and_then(|p| p.spec.contingency.clone());
        if it.proposed {
            out.push(Decision::Proposed {
                intention: it.id,
                plan: it.plan.clone(),
                task: it.context.clone(),
                stopped: Some(reason),
                contingency: contingency.clone(),
            });
        } else {
            self.learn(&it, false, out);
            out.push(Decision::Fail {
                intention: it.id,
                plan: it.plan.clone(),
                task: it.context.clone(),
                reason,
                contingency: contingency.clone(),
            });
        }
        // A plan that only proposed (shadow) did nothing to recover from: its
        // contingency is named in the proposal, not started (no escalation from a
        // shadow's stopped proposal).
        match contingency.as_deref().and_then(|c| s.playbook.plans.get(c)) {
            Some(c) if !it.proposed && !self.intentions.iter().any(|x| x.plan == c.spec.name) => {
                let new = self.adopt(s, c, it.context.clone(), it.event.clone(), it.parent, out);
                if let Some(parent) = it.parent
                    && let Some(p) = self.intentions.iter_mut().find(|p| p.id == parent)
                {
                    p.state = IntentionState::AwaitingSubgoal { child: new };
                }
            }
            _ => {
                if let Some(parent) = it.parent
                    && let Some(pi) = self.intentions.iter().position(|p| p.id == parent)
                {
                    self.fail(s, pi, format!("sub-goal plan `{}` failed", it.plan), out);
                }
            }
        }
    }

    /// Goals whose intentions wait past the limit are blocked; goals being pursued are
    /// not.
    pub(super) fn update_blocked(&mut self, s: &Situation<'_>, out: &mut Vec<Decision>) {
        let mut waits: BTreeMap<String, bool> = BTreeMap::new();
        for it in &self.intentions {
            if let Some(g) = &it.goal {
                let stuck = !matches!(it.state, IntentionState::Ready)
                    && s.now - it.since > s.playbook.wait_limit;
                *waits.entry(g.clone()).or_insert(true) &= stuck;
            }
        }
        for (g, stuck) in waits {
            let was = self.goals.get(&g).and_then(|x| x.blocked.clone());
            if stuck && was.is_none() {
                let reason = format!(
                    "waiting longer than {} h",
                    s.playbook.wait_limit.num_hours()
                );
                out.push(Decision::Blocked {
                    goal: g.clone(),
                    reason: reason.clone(),
                });
                self.goals.set_blocked(&g, Some(reason));
            } else if !stuck && was.is_some() {
                self.goals.set_blocked(&g, None);
            }
        }
    }
}
