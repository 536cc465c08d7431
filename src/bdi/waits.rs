//! Waits: an intention waiting for an event resumes when one arrives that its step's
//! condition accepts, and fails (or, for a follow-up sequence, moves on) when none came
//! in time; an intention awaiting its outcome completes on the plan's success event or
//! counts as a failure past its deadline. A manager's decision on an escalation
//! concerns only the intention that asked, and a declined one ends it.

use super::intention::{Seen, event_json, kind_matches};
use super::*;

impl Mind {
    /// A language step's action came back: its text (the model's, or the step's own
    /// when the model could not write it) is the step's, and the intention goes on.
    fn written(&mut self, s: &Situation<'_>, i: usize, e: &Perceived, out: &mut Vec<Decision>) {
        let plan = s.playbook.plans.get(&self.intentions[i].plan);
        let save_as = match plan.and_then(|p| p.steps.get(self.intentions[i].step)) {
            Some(Step::Llm { save_as, .. }) => save_as.clone(),
            _ => None,
        };
        let it = &mut self.intentions[i];
        if e.payload["status"] == "done"
            && let Some(text) = e.payload["result"]["text"].as_str()
        {
            it.text = Some(text.to_string());
            if let Some(name) = save_as {
                it.results.insert(name, text.to_string());
            }
        }
        out.push(Decision::AskLlm {
            intention: it.id,
            prompt: e.payload["result"]["written_by"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            text: it.text.clone().unwrap_or_default(),
        });
        it.state = IntentionState::Ready;
        it.step += 1;
        it.since = s.now;
    }

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
                    // A language step whose model did not answer in time goes on with
                    // its own text.
                    let goes_on = s.playbook.plans.get(&it.plan).is_some_and(|p| {
                        matches!(
                            p.steps.get(it.step),
                            Some(Step::Wait {
                                continue_on_timeout: true,
                                ..
                            }) | Some(Step::Llm { .. })
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
                IntentionState::Waiting { .. }
                    if matches!(plan.steps.get(it.step), Some(Step::Llm { .. })) =>
                {
                    // Only the outcome of the step's own action answers it.
                    let ours = e.kind == super::intention::WRITTEN
                        && e.payload["action_id"].as_u64() == it.last_action;
                    if ours && self.at_tools(s, i) {
                        self.tools_outcome(s, i, e, out);
                    } else if ours {
                        self.written(s, i, e, out);
                    }
                }
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
                    // An agent's answer concerns the intention whose message it
                    // answers: the one whose last action sent it.
                    if e.kind == crate::model::kinds::A2A_REPLY
                        && e.payload["action_id"]
                            .as_u64()
                            .is_some_and(|a| Some(a) != it.last_action)
                    {
                        i += 1;
                        continue;
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
