//! How intentions come and go: plans adopted on triggers, steps advanced through the
//! gate, outcomes learned, failures handed to contingency plans, and reconsideration
//! that keeps the employee within its bound. Waits are in `waits.rs`.

use super::expr::{Scope, cel_map, json_to_cel};
use super::*;
use rand::rngs::StdRng;

/// Steps one intention may take in one cycle (a guard against plans that never wait).
const STEPS_PER_CYCLE: usize = 32;
/// Shadow proposals remembered for scoring against the mentor's actions.
const PROPOSALS_KEPT: usize = 256;
/// How long a plan without a success criterion waits for its last action's outcome
/// before it counts as failed (an action the outbox could not carry out for a day).
const OUTCOME_WAIT: chrono::Duration = chrono::Duration::days(1);

/// The event a language step's action answers with (its outcome).
pub(super) const WRITTEN: &str = "empla.outcome";

/// How long a language step waits for the model's text before going on with its own.
const WRITING_WAIT: chrono::Duration = chrono::Duration::minutes(10);

/// The event and the persona as conditions see them, converted at most once per event
/// (and not at all when no condition is evaluated).
pub(super) struct Seen<'a> {
    source: &'a Json,
    /// The event that started the intention whose wait is checked.
    trigger_src: Option<&'a Json>,
    persona_src: &'a Persona,
    memory_src: Option<&'a dyn Fn() -> Json>,
    event: std::cell::OnceCell<cel::Value>,
    persona: std::cell::OnceCell<cel::Value>,
    memory: std::cell::OnceCell<cel::Value>,
}

impl<'a> Seen<'a> {
    pub(super) fn new(s: &Situation<'a>, event: &'a Json) -> Seen<'a> {
        Seen {
            source: event,
            trigger_src: None,
            persona_src: s.persona,
            memory_src: s.memory,
            event: std::cell::OnceCell::new(),
            persona: std::cell::OnceCell::new(),
            memory: std::cell::OnceCell::new(),
        }
    }

    /// The same, for the wait of an intention started by `trigger`.
    pub(super) fn for_intention(&self, trigger: &'a Json) -> Seen<'a> {
        Seen {
            source: self.source,
            trigger_src: Some(trigger),
            persona_src: self.persona_src,
            memory_src: self.memory_src,
            event: self.event.clone(),
            persona: self.persona.clone(),
            memory: std::cell::OnceCell::new(),
        }
    }

    pub(super) fn scope<'b>(
        &'b self,
        beliefs: &'b beliefs::BeliefView<'b>,
        goals: &'b GoalBook,
        metrics: &'b Metrics,
    ) -> Scope<'b> {
        Scope {
            event: self.event.get_or_init(|| json_to_cel(self.source)).clone(),
            trigger: self
                .trigger_src
                .map(json_to_cel)
                .unwrap_or(cel::Value::Null),
            persona: self
                .persona
                .get_or_init(|| persona_cel(self.persona_src))
                .clone(),
            action: cel::Value::Null,
            beliefs,
            goals,
            metrics,
            memory: self,
        }
    }
}

impl super::expr::Lazy for Seen<'_> {
    fn value(&self) -> cel::Value {
        self.memory
            .get_or_init(|| match self.memory_src {
                Some(f) => json_to_cel(&f()),
                None => cel::Value::Null,
            })
            .clone()
    }
}

impl Mind {
    /// Whether `cond` holds (no condition always holds).
    pub(super) fn check(
        &self,
        s: &Situation<'_>,
        cond: Option<&Condition>,
        seen: &Seen<'_>,
    ) -> Result<bool, String> {
        let Some(c) = cond else { return Ok(true) };
        let view = self.beliefs.view(s.now, &s.playbook.decay);
        c.eval(&seen.scope(&view, &self.goals, &self.metrics))
    }

    /// Runs ready intentions' steps until each waits or ends.
    pub(super) fn advance(&mut self, s: &Situation<'_>, rng: &mut StdRng, out: &mut Vec<Decision>) {
        let mut budget = STEPS_PER_CYCLE * (self.intentions.len() + 1);
        'outer: loop {
            let Some(i) = self
                .intentions
                .iter()
                .position(|i| i.state == IntentionState::Ready)
            else {
                return;
            };
            if budget == 0 {
                let it = &self.intentions[i];
                out.push(Decision::Error {
                    plan: it.plan.clone(),
                    message: "too many steps without waiting in one cycle; continued next cycle"
                        .into(),
                });
                return;
            }
            budget -= 1;
            let (plan_name, step_no, id) = (
                self.intentions[i].plan.clone(),
                self.intentions[i].step,
                self.intentions[i].id,
            );
            let Some(plan) = s.playbook.plans.get(&plan_name) else {
                // The role no longer has this plan.
                let it = self.intentions.remove(i);
                out.push(Decision::Drop {
                    intention: it.id,
                    plan: it.plan,
                    reason: "the plan is no longer in the role".into(),
                });
                continue;
            };
            let Some(step) = plan.steps.get(step_no) else {
                match &plan.spec.success {
                    Some(succ) => {
                        let it = &mut self.intentions[i];
                        it.state = IntentionState::AwaitingOutcome {
                            until: s.now
                                + chrono::Duration::from_std(succ.within)
                                    .unwrap_or(chrono::Duration::days(2)),
                        };
                        it.since = s.now;
                    }
                    // The last action's outcome tells whether the plan worked.
                    None if self.intentions[i].pending => {
                        let it = &mut self.intentions[i];
                        it.state = IntentionState::AwaitingOutcome {
                            until: s.now + OUTCOME_WAIT,
                        };
                        it.since = s.now;
                    }
                    None => self.finish(s, i, true, out),
                }
                continue;
            };
            match step {
                Step::Action { action, variants } => {
                    let chosen = self.choose_variant(s, plan, step_no, rng);
                    let params = match self.render(s, plan, &variants[chosen], i) {
                        Ok(t) => serde_json::from_str::<Json>(&t).unwrap_or(Json::String(t)),
                        Err(message) => {
                            out.push(Decision::Error {
                                plan: plan_name.clone(),
                                message: message.clone(),
                            });
                            self.fail(s, i, message, out);
                            continue 'outer;
                        }
                    };
                    // A pause on contact holds the step back, to be taken again.
                    if let Some(p) = self.paused_for(s, action, &params, &self.intentions[i].event)
                    {
                        self.hold(s, i, p, action, out);
                        continue;
                    }
                    let variant = (chosen > 0)
                        .then(|| plan.spec.steps[step_no].variants[chosen - 1].name.clone());
                    if let Some(v) = &variant {
                        self.intentions[i]
                            .variants
                            .push(Stats::variant_key(&plan_name, step_no, v));
                    }
                    let disposition = self.gate(s, action, &params);
                    let act = Action {
                        id: self.id(),
                        intention: id,
                        plan: plan_name.clone(),
                        step: step_no,
                        kind: action.clone(),
                        params,
                        variant,
                        disposition: disposition.clone(),
                    };
                    match &disposition {
                        // What feedback is about from now on.
                        Disposition::Execute => self.carried_out(&act),
                        // Kept to score against the mentor's action; the intention's
                        // end will be no outcome of its plan.
                        Disposition::Propose => {
                            self.intentions[i].proposed = true;
                            let event_id = self.intentions[i].event["id"]
                                .as_str()
                                .unwrap_or("")
                                .to_string();
                            if !event_id.is_empty() {
                                if self.proposals.len() >= PROPOSALS_KEPT {
                                    self.proposals.pop_first();
                                }
                                self.proposals.insert(event_id, action.clone());
                            }
                        }
                        Disposition::AwaitApproval { .. } => {}
                    }
                    out.push(Decision::Act(act.clone()));
                    let it = &mut self.intentions[i];
                    it.since = s.now;
                    it.last_action = Some(act.id);
                    it.pending = disposition == Disposition::Execute;
                    if matches!(disposition, Disposition::AwaitApproval { .. }) {
                        it.state = IntentionState::AwaitingApproval { action: act };
                    } else {
                        it.step += 1;
                    }
                }
                Step::Subgoal(goal) => {
                    let event = self.intentions[i].event.clone();
                    let seen = Seen::new(s, &event);
                    let found = s.playbook.plans.serving(goal).find(|p| {
                        p.spec.name != plan_name
                            && !self.intentions.iter().any(|x| x.plan == p.spec.name)
                            && self.check(s, p.context.as_ref(), &seen).unwrap_or(false)
                    });
                    match found {
                        Some(sub) => {
                            let child =
                                self.adopt(s, sub, format!("subgoal:{goal}"), event, Some(id), out);
                            let it = self
                                .intentions
                                .iter_mut()
                                .find(|x| x.id == id)
                                .expect("the parent is still there");
                            it.state = IntentionState::AwaitingSubgoal { child };
                            it.since = s.now;
                        }
                        None => {
                            out.push(Decision::Blocked {
                                goal: goal.clone(),
                                reason: "no applicable plan".into(),
                            });
                            self.goals
                                .set_blocked(goal, Some("no applicable plan".into()));
                            self.fail(
                                s,
                                i,
                                format!("no applicable plan for sub-goal `{goal}`"),
                                out,
                            );
                        }
                    }
                }
                Step::Wait {
                    event,
                    timeout,
                    until: at,
                    ..
                } => {
                    let mut until = timeout
                        .and_then(|t| chrono::Duration::from_std(t).ok())
                        .map(|t| s.now + t);
                    if let Some(at) = at {
                        match self.render(s, plan, at, i).and_then(|t| {
                            chrono::DateTime::parse_from_rfc3339(t.trim())
                                .map(|t| t.with_timezone(&Utc))
                                .map_err(|e| {
                                    format!("plan `{plan_name}`: `until` rendered {t:?}, not a time such as 2027-01-15T10:00:00Z ({e})")
                                })
                        }) {
                            Ok(t) => until = Some(until.map_or(t, |u| u.min(t))),
                            Err(message) => {
                                out.push(Decision::Error {
                                    plan: plan_name.clone(),
                                    message: message.clone(),
                                });
                                // With no timeout to fall back on, the wait could
                                // last for ever: the plan fails here instead.
                                if until.is_none() {
                                    self.fail(s, i, message, out);
                                    continue;
                                }
                            }
                        }
                    }
                    out.push(Decision::Wait {
                        intention: id,
                        event: event.clone(),
                        until,
                    });
                    let it = &mut self.intentions[i];
                    it.state = IntentionState::Waiting {
                        event: event.clone(),
                        until,
                    };
                    it.since = s.now;
                }
                Step::Llm {
                    kind,
                    prompt,
                    fallback,
                    save_as,
                    labels,
                    ..
                } => {
                    let rendered = self
                        .render(s, plan, prompt, i)
                        .and_then(|p| Ok((p, self.render(s, plan, fallback, i)?)));
                    match rendered {
                        Ok((brief, text)) => {
                            let text = text.trim().to_string();
                            let it = &mut self.intentions[i];
                            it.text = Some(text.clone());
                            if let Some(name) = save_as {
                                it.results.insert(name.clone(), text.clone());
                            }
                            match &s.language {
                                // The model writes it when the action runs; the
                                // intention goes on with its answer (or this text).
                                Some(share) => {
                                    let params = if *kind == LlmKind::Tools {
                                        self.intentions[i].transcript.clear();
                                        self.intentions[i].tool_tokens = 0;
                                        self.tools_turn(s, &brief, &text, &[])
                                    } else {
                                        self.writing(s, *kind, &brief, &text, labels, share)
                                    };
                                    let act = Action {
                                        id: self.id(),
                                        intention: id,
                                        plan: plan_name.clone(),
                                        step: step_no,
                                        kind: format!("llm.{}", kind.as_str()),
                                        params,
                                        variant: None,
                                        disposition: Disposition::Execute,
                                    };
                                    let it = &mut self.intentions[i];
                                    it.last_action = Some(act.id);
                                    it.state = IntentionState::Waiting {
                                        event: WRITTEN.into(),
                                        until: Some(s.now + WRITING_WAIT),
                                    };
                                    it.since = s.now;
                                    out.push(Decision::Act(act));
                                    continue;
                                }
                                None => out.push(Decision::AskLlm {
                                    intention: id,
                                    prompt: brief,
                                    text,
                                }),
                            }
                        }
                        Err(message) => out.push(Decision::Error {
                            plan: plan_name.clone(),
                            message,
                        }),
                    }
                    self.intentions[i].step += 1;
                }
                Step::Escalate {
                    message,
                    recommend,
                    case,
                } => {
                    let message = self.render(s, plan, message, i).unwrap_or_else(|e| e);
                    let recommendation = recommend
                        .as_ref()
                        .map(|r| self.render(s, plan, r, i).unwrap_or_else(|e| e));
                    let it = &self.intentions[i];
                    let context = json!({"plan": plan_name, "goal": it.goal, "event": it.event});
                    let act = Action {
                        id: self.id(),
                        intention: id,
                        plan: plan_name.clone(),
                        step: step_no,
                        kind: "escalate".into(),
                        params: json!({
                            "to": s.me["manager"],
                            "message": message,
                            "recommendation": recommendation,
                            "case": case.as_deref().unwrap_or(plan_name.as_str()),
                            "intention": id,
                            "context": context,
                        }),
                        variant: None,
                        disposition: Disposition::Execute,
                    };
                    // Escalations pass the gate in every phase: this one is carried out.
                    self.carried_out(&act);
                    out.push(Decision::Act(act));
                    self.intentions[i].step += 1;
                }
            }
        }
    }

    pub(super) fn choose_variant(
        &self,
        s: &Situation<'_>,
        plan: &Plan,
        step: usize,
        rng: &mut StdRng,
    ) -> usize {
        let variants = &plan.spec.steps[step].variants;
        if variants.is_empty() {
            return 0;
        }
        let candidates: Vec<choice::Candidate> = variants
            .iter()
            .map(|v| choice::Candidate {
                record: self
                    .stats
                    .get(&Stats::variant_key(&plan.spec.name, step, &v.name)),
                cost: 0.0,
                settled: false,
            })
            .collect();
        choice::choose(s.persona, &candidates, rng)
            .map(|i| i + 1)
            .unwrap_or(0)
    }

    pub(super) fn render(
        &self,
        s: &Situation<'_>,
        plan: &Plan,
        template: &str,
        i: usize,
    ) -> Result<String, String> {
        let it = &self.intentions[i];
        let t = s
            .playbook
            .plans
            .templates
            .get_template(template)
            .map_err(|e| format!("plan `{}`: {e}", plan.spec.name))?;
        let goal = it.goal.as_deref().and_then(|g| self.goals.get(g)).map(|g| json!({"id": g.spec.id, "description": g.spec.description, "progress": g.progress, "current": g.current, "target": g.spec.target}));
        let beliefs: serde_json::Map<String, Json> = if t.source().contains("beliefs") {
            self.beliefs
                .iter()
                .map(|(k, b)| (k.clone(), b.value.clone()))
                .collect()
        } else {
            serde_json::Map::new()
        };
        // Every goal, most pressing first.
        let goals: Vec<Json> = if t.source().contains("goals") {
            self.goals_view()
        } else {
            Vec::new()
        };
        let ctx = json!({
            "intention": {"id": it.id, "last_action": it.last_action, "text": it.text},
            "results": it.results,
            "event": it.event,
            "awaited": it.awaited,
            "me": s.me,
            "goal": goal,
            "goals": goals,
            "beliefs": beliefs,
            "style": style::style(s.persona, self.style_shift),
        });
        t.render(minijinja::value::Serde(&ctx))
            .map_err(|e| format!("plan `{}`: {e}", plan.spec.name))
    }
}

/// The value at a dotted `path` in `v` (null when absent).
pub(super) fn at_path<'v>(v: &'v Json, path: &str) -> &'v Json {
    path.split('.').fold(v, |v, key| &v[key])
}

/// Whether an event kind is something addressed to the employee (mail, chat, a task,
/// an escalation, another agent's message, a lead or an account the CRM hands it, a
/// document written for it to send, an application the pipeline screened, a meeting's
/// transcript or the notes taken from it) rather than something it noticed.
pub(super) fn addressed(kind: &str) -> bool {
    [
        "email.",
        "chat.",
        "task.",
        "escalation.",
        "a2a.",
        "crm.",
        "documents.",
        "recruiting.",
        "meeting.",
    ]
    .iter()
    .any(|p| kind.starts_with(p))
}

/// Whether `kind` is one of the playbook's signals (a threshold passed, a trend, an
/// anomaly, a time coming due, a goal at risk) or a schedule's tick: each fires once,
/// when its condition starts to hold or its time comes, so there is no more evidence
/// to wait for — the condition is it.
pub(super) fn comes_due(s: &Situation<'_>, kind: &str) -> bool {
    kind == "cron.tick"
        || kind
            .strip_prefix("signal.")
            .is_some_and(|name| s.playbook.signals.iter().any(|sig| sig.name == name))
}

pub(super) fn kind_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

pub(super) fn event_json(e: &Perceived) -> Json {
    json!({"id": e.id, "kind": e.kind, "source": e.source, "payload": e.payload})
}

pub(super) fn persona_cel(p: &Persona) -> cel::Value {
    let f = cel::Value::Float;
    cel_map([
        ("openness", f(p.personality.openness)),
        ("conscientiousness", f(p.personality.conscientiousness)),
        ("extraversion", f(p.personality.extraversion)),
        ("agreeableness", f(p.personality.agreeableness)),
        ("neuroticism", f(p.personality.neuroticism)),
        ("risk_tolerance", f(p.decision.risk_tolerance)),
        ("decision_speed", f(p.decision.decision_speed)),
        ("proactivity_level", f(p.behavior.proactivity_level)),
        ("persistence", f(p.behavior.persistence)),
    ])
}
