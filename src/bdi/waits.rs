//! Waits: an intention waiting for an event resumes when one arrives that its step's
//! condition accepts, and fails (or, for a follow-up sequence, moves on) when none came
//! in time; an intention awaiting its outcome completes on the plan's success event or
//! counts as a failure past its deadline. A manager's decision on an escalation
//! concerns only the intention that asked, and a declined one ends it.

use super::intention::{Seen, event_json, kind_matches};
use super::*;

impl Mind {
    /// Waits past their deadline fail (or go on, where the step says so); outcomes
    /// past theirs count as failures.
    pub(super) fn time_out(&mut self, s: &Situation<'_>, out: &mut Vec<Decision>) {
        // Pauses past their end release what they held, before it could time out.
        self.keep_directives(s, out);
        let mut i = 0;
        while i < self.intentions.len() {
            match &self.intentions[i].state {
                IntentionState::Waiting {
                    until: Some(u),
                    event,
                } if *u <= s.now => {
                    let it = &self.intentions[i];
                    let goes_on = s.playbook.plans.get(&it.plan).is_some_and(|p| {
                        matches!(
                            p.steps.get(it.step),
                            Some(Step::Wait {
                                continue_on_timeout: true,
                                ..
                            })
                        )
                    });
                    if goes_on {
                        let it = &mut self.intentions[i];
                        it.state = IntentionState::Ready;
                        it.step += 1;
                        it.since = s.now;
                    } else {
                        let why = format!("no `{event}` before {u}");
                        self.fail(s, i, why, out);
                        continue;
                    }
                }
                IntentionState::AwaitingOutcome { until } if *until <= s.now => {
                    self.finish(s, i, false, out);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Resumes intentions waiting for `e` and completes those whose success it is.
    pub(super) fn match_waits(
        &mut self,
        s: &Situation<'_>,
        e: &Perceived,
        out: &mut Vec<Decision>,
    ) {
        if !self.intentions.iter().any(|i| {
            matches!(
                i.state,
                IntentionState::Waiting { .. } | IntentionState::AwaitingOutcome { .. }
            )
        }) {
            return;
        }
        let event = event_json(e);
        let seen = Seen::new(s, &event);
        let mut i = 0;
        while i < self.intentions.len() {
            let it = &self.intentions[i];
            let Some(plan) = s.playbook.plans.get(&it.plan) else {
                i += 1;
                continue;
            };
            match &it.state {
                IntentionState::Waiting { event: kind, .. } if kind_matches(kind, &e.kind) => {
                    // A decision concerns the intention that escalated, and a declined
                    // one ends it here.
                    if e.kind == "escalation.decided" {
                        if e.payload["intention"].as_u64().is_some_and(|x| x != it.id) {
                            i += 1;
                            continue;
                        }
                        if e.payload["decision"] == "reject" {
                            let why = e.payload["reason"].as_str().unwrap_or("no reason given");
                            self.fail(s, i, format!("the manager declined: {why}"), out);
                            continue;
                        }
                    }
                    let (when, finish) = match plan.steps.get(it.step) {
                        Some(Step::Wait {
                            when,
                            finish_on_event,
                            ..
                        }) => (when.clone(), *finish_on_event),
                        _ => (None, false),
                    };
                    let trigger = it.event.clone();
                    if self
                        .check(s, when.as_ref(), &seen.for_intention(&trigger))
                        .unwrap_or(false)
                    {
                        if finish {
                            self.finish(s, i, true, out);
                            continue;
                        }
                        let it = &mut self.intentions[i];
                        it.state = IntentionState::Ready;
                        it.step += 1;
                        it.since = s.now;
                        it.awaited = Some(event.clone());
                    }
                }
                IntentionState::AwaitingOutcome { .. } => {
                    if let Some(succ) = &plan.spec.success
                        && kind_matches(&succ.event, &e.kind)
                        && self
                            .check(
                                s,
                                plan.success_when.as_ref(),
                                &seen.for_intention(&it.event.clone()),
                            )
                            .unwrap_or(false)
                    {
                        self.finish(s, i, true, out);
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}
