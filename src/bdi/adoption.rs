//! Adopting intentions: the plans an event triggers, filtered by condition, context
//! and risk, gated by evidence and chosen by persona and statistics (a last resort only
//! when nothing else applies, and only with a model); and reconsidering them, dropping
//! those whose goal is met and the lowest-ranked past the bound.

use super::intention::{Seen, addressed, at_path, comes_due, event_json};
use super::*;
use rand::rngs::StdRng;

impl Mind {
    /// Plans triggered by `event`: filtered by trigger, context and risk, gated by
    /// evidence, chosen by persona and statistics.
    pub(super) fn adopt_triggered(
        &mut self,
        s: &Situation<'_>,
        e: &Perceived,
        rng: &mut StdRng,
        out: &mut Vec<Decision>,
    ) {
        if s.playbook.plans.triggered_by(&e.kind).next().is_none() {
            return;
        }
        let event = event_json(e);
        let seen = Seen::new(s, &event);
        let bound = choice::risk_bound(s.persona);
        // A persona may wait for more evidence before acting on what it notices; a
        // message or task addressed to it by someone, or a signal (which fires once, when
        // its condition starts to hold), is acted on at once.
        let needed = if addressed(&e.kind) || comes_due(s, &e.kind) {
            1
        } else {
            choice::evidence_needed(s.persona)
        };
        let mut candidates: Vec<&Plan> = Vec::new();
        let mut too_risky: Vec<&Plan> = Vec::new();
        let mut last_resort: Vec<&Plan> = Vec::new();
        for plan in s.playbook.plans.triggered_by(&e.kind) {
            if plan.spec.last_resort {
                last_resort.push(plan);
                continue;
            }
            let name = &plan.spec.name;
            // One intention per instance: per the `per` path's value, else per message
            // addressed to the employee (each mail, chat message or task is its own
            // case), else one for the plan.
            let instance = |ev: &Json| match plan.spec.per.as_deref() {
                Some(path) => Some(at_path(ev, path).clone()),
                None if ev["kind"].as_str().is_some_and(addressed) => Some(ev["id"].clone()),
                None => None,
            };
            if self
                .intentions
                .iter()
                .any(|i| &i.plan == name && instance(&i.event) == instance(&event))
            {
                continue;
            }
            let ok = self.check(s, plan.when.as_ref(), &seen).and_then(|t| {
                if t {
                    self.check(s, plan.context.as_ref(), &seen)
                } else {
                    Ok(false)
                }
            });
            match ok {
                Err(message) => out.push(Decision::Error {
                    plan: name.clone(),
                    message,
                }),
                Ok(false) => {
                    self.evidence.remove(name);
                }
                Ok(true) => {
                    let seen = self.evidence.entry(name.clone()).or_insert(0);
                    *seen += 1;
                    if *seen < needed {
                        out.push(Decision::Gathering {
                            plan: name.clone(),
                            seen: *seen,
                            needed,
                        });
                    } else if plan.spec.risk > bound {
                        too_risky.push(plan);
                    } else {
                        candidates.push(plan);
                    }
                }
            }
        }
        // A last resort (working a task out with a model) only when nothing else takes
        // the event up, and only with a model.
        if candidates.is_empty() && too_risky.is_empty() && s.language.is_some() {
            let event_id = &event["id"];
            candidates.extend(last_resort.into_iter().filter(|p| {
                !self
                    .intentions
                    .iter()
                    .any(|i| i.plan == p.spec.name && &i.event["id"] == event_id)
                    && self.check(s, p.when.as_ref(), &seen).unwrap_or(false)
            }));
        }
        if candidates.is_empty() {
            for p in too_risky {
                if let Some(g) = &p.spec.goal {
                    out.push(Decision::Blocked {
                        goal: g.clone(),
                        reason: format!(
                            "plan `{}` is riskier ({}) than this employee accepts ({bound:.2})",
                            p.spec.name, p.spec.risk
                        ),
                    });
                    self.goals
                        .set_blocked(g, Some("no applicable plan within risk tolerance".into()));
                }
            }
            return;
        }
        self.prefer_top_goal(&mut candidates);
        let scored: Vec<choice::Candidate> = candidates
            .iter()
            .map(|p| choice::Candidate {
                record: self.stats.get(&Stats::plan_key(&p.spec.name, &e.kind)),
                cost: p.spec.cost,
                settled: self.cautious.contains(&p.spec.name),
            })
            .collect();
        if let Some(i) = choice::choose(s.persona, &scored, rng) {
            let plan = candidates[i];
            self.evidence.remove(&plan.spec.name);
            self.adopt(s, plan, e.kind.clone(), event, None, out);
        }
    }

    pub(super) fn adopt(
        &mut self,
        s: &Situation<'_>,
        plan: &Plan,
        context: String,
        event: Json,
        parent: Option<u64>,
        out: &mut Vec<Decision>,
    ) -> u64 {
        let id = self.id();
        if let Some(g) = &plan.spec.goal {
            self.goals.set_blocked(g, None);
        }
        out.push(Decision::Adopt {
            intention: id,
            plan: plan.spec.name.clone(),
            goal: plan.spec.goal.clone(),
            because: parent
                .map(|p| format!("intention {p}"))
                .unwrap_or_else(|| context.clone()),
        });
        self.intentions.push(Intention {
            id,
            plan: plan.spec.name.clone(),
            goal: plan.spec.goal.clone(),
            context,
            step: 0,
            state: IntentionState::Ready,
            since: s.now,
            event,
            parent,
            variants: Vec::new(),
            last_action: None,
            awaited: None,
            proposed: false,
            text: None,
            pending: false,
            results: Default::default(),
            transcript: Vec::new(),
            tool_call: None,
            tool_tokens: 0,
        });
        id
    }

    /// Drops intentions whose goal is met, then the lowest-priority ones past the bound.
    pub(super) fn reconsider(&mut self, s: &Situation<'_>, out: &mut Vec<Decision>) {
        let mut i = 0;
        while i < self.intentions.len() {
            let it = &self.intentions[i];
            let met = it
                .goal
                .as_deref()
                .and_then(|g| self.goals.get(g))
                .is_some_and(|g| g.met());
            let waiting_approval = matches!(it.state, IntentionState::AwaitingApproval { .. });
            if met && !waiting_approval && it.parent.is_none() {
                let it = self.intentions.remove(i);
                out.push(Decision::Drop {
                    intention: it.id,
                    plan: it.plan,
                    reason: "its goal is met".into(),
                });
                continue;
            }
            i += 1;
        }
        while self.intentions.len() > s.playbook.max_intentions {
            let priority = |it: &Intention| {
                it.goal
                    .as_deref()
                    .and_then(|g| self.goals.get(g))
                    .map(|g| g.priority)
                    .unwrap_or(0.5)
            };
            let (idx, _) = self
                .intentions
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    priority(a.1)
                        .total_cmp(&priority(b.1))
                        .then(b.1.id.cmp(&a.1.id))
                })
                .expect("more intentions than the bound means at least one");
            let it = self.intentions.remove(idx);
            out.push(Decision::Drop {
                intention: it.id,
                plan: it.plan,
                reason: format!(
                    "outranked: at most {} intentions at once",
                    s.playbook.max_intentions
                ),
            });
        }
    }
}

/// Whether a plan triggered by `kind` can be started by the employee itself (by a
/// signal it watches or by hand), rather than needing a message or record to act on.
pub(super) fn proactive(kind: &str) -> bool {
    kind.starts_with("signal.") || kind.starts_with("manual.")
}
