//! The reasoning core: beliefs, goals, plans, intentions, persona-weighted choice,
//! learning and the onboarding gate (seed Layer 1 and 0.2–0.3).
//!
//! Pure and synchronous: no tokio, sqlx or ractor. The EmployeeActor owns a [`Mind`],
//! feeds it one [`Input`] at a time with the time of day, and carries out the
//! [`Decision`]s it returns; the Mind is serialisable and persisted after every cycle,
//! so a restarted employee resumes exactly where it was. Randomness (Thompson sampling)
//! comes from a seed fixed at hire and the cycle number: the same state and inputs give
//! the same decisions.
//!
//! One cycle: apply the input (beliefs, metrics, approvals, outcomes, feedback), refresh
//! goals, raise signals, time out waits, match waits and success criteria against the
//! cycle's events, adopt plans their triggers select, reconsider (drop intentions whose
//! goal is met, keep within the bound), then advance every ready intention until it
//! waits or ends.

mod adoption;
mod asking;
pub mod beliefs;
pub mod bounds;
pub mod choice;
pub mod conversation;
mod credit;
mod decision;
pub mod directives;
mod ending;
pub mod expr;
pub mod feedback;
mod forget;
pub mod gate;
pub mod goals;
mod intention;
pub mod language;
pub mod metrics;
pub mod plans;
mod playbook;
pub mod signals;
pub mod strategy;
pub(crate) mod style;
mod tools;
mod waits;

pub use beliefs::{Belief, Beliefs, Decay};
pub use choice::{Record, Stats};
pub use decision::{Action, Decision, Input, Intention, IntentionState, Perceived};
pub use directives::{DirectiveView, Directives};
pub use expr::Condition;
pub use gate::{Agreement, Disposition, Phase, Policy, PolicySpec, PromotionSpec};
pub use goals::{GoalBook, GoalState, period_end, progress as goal_progress};
pub use metrics::Metrics;
pub use plans::{LlmKind, Plan, PlanError, PlanLibrary, PlanSpec, Step};
pub use playbook::{Playbook, PlaybookSpec};
pub use signals::{SignalSpec, Watch};

use crate::model::{Goal, Persona};
use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// An employee's whole reasoning state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mind {
    /// Beliefs.
    pub beliefs: Beliefs,
    /// Goals.
    pub goals: GoalBook,
    /// Metric series.
    pub metrics: Metrics,
    /// Messages, calendar and firing signals.
    pub watch: Watch,
    /// Intentions, oldest first.
    pub intentions: Vec<Intention>,
    /// Procedural statistics.
    pub stats: Stats,
    /// Onboarding phase.
    pub phase: Phase,
    /// Agreement in this phase.
    pub agreement: Agreement,
    /// Communication style offsets from feedback (formality, verbosity).
    pub style_shift: (i8, i8),
    /// Cycles run.
    pub cycles: u64,
    evidence: BTreeMap<String, u32>,
    proposals: BTreeMap<String, String>,
    /// Where older snapshots kept what feedback was about (now `carried`).
    retired: credit::Retired,
    seed: u64,
    next_id: u64,
    /// The latest action carried out, which feedback is about.
    #[serde(default)]
    carried: Option<credit::Carried>,
    /// Plans the latest performance review found failing: chosen on what they have
    /// proven, without exploring them, until the next review.
    #[serde(default)]
    cautious: std::collections::BTreeSet<String>,
    /// What humans told it in chat to change how it works: a focus segment, pauses on
    /// contact, a top goal (see `directives.rs`).
    #[serde(default)]
    pub directives: Directives,
}

/// What a cycle needs besides the Mind: the role's playbook, the persona and who the
/// employee is (for templates).
pub struct Situation<'a> {
    /// The role's playbook.
    pub playbook: &'a Playbook,
    /// The persona.
    pub persona: &'a Persona,
    /// `{name, handle, email, job_title, manager}` for templates.
    pub me: &'a Json,
    /// Now.
    pub now: DateTime<Utc>,
    /// The employee's working memory as conditions see it (`memory`), made only when a
    /// condition reads it; none where there is none (benchmarks, tests).
    pub memory: Option<&'a dyn Fn() -> Json>,
    /// What may go into prompts when the node has a language model; none without one
    /// (language steps then take their fallback text at once).
    pub language: Option<language::Share>,
}

impl Mind {
    /// A new employee's mind: its goals, the phase it starts in and its random seed.
    pub fn new(goals: &[Goal], phase: Phase, seed: u64) -> Mind {
        Mind {
            beliefs: Beliefs::default(),
            goals: GoalBook::new(goals),
            metrics: Metrics::default(),
            watch: Watch::default(),
            intentions: Vec::new(),
            stats: Stats::default(),
            phase,
            agreement: Agreement::default(),
            style_shift: (0, 0),
            cycles: 0,
            evidence: BTreeMap::new(),
            proposals: BTreeMap::new(),
            retired: credit::Retired,
            seed,
            next_id: 1,
            carried: None,
            cautious: Default::default(),
            directives: Directives::default(),
        }
    }

    /// Makes a mind loaded from a snapshot whole again: its goals from their specs
    /// (the snapshot keeps only which were blocked), recomputed for `now`.
    pub fn restore(&mut self, goals: &[Goal], now: DateTime<Utc>) {
        self.goals.restore(goals, &self.metrics, now);
        let top = self.directives.priority.as_ref().map(|p| p.goal.as_str());
        self.goals.set_top(top);
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Actions waiting in the approval queue.
    pub fn pending_approvals(&self) -> Vec<&Action> {
        self.intentions
            .iter()
            .filter_map(|i| match &i.state {
                IntentionState::AwaitingApproval { action } => Some(action),
                _ => None,
            })
            .collect()
    }

    /// When this employee must next reason on its own, with no event: the earliest
    /// deadline of a wait or a success criterion, or the time a message's SLA or a
    /// calendar trigger comes due. `None` when nothing is timed.
    pub fn next_due(&self, playbook: &Playbook, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let waits = self.intentions.iter().filter_map(|i| match &i.state {
            IntentionState::Waiting { until, .. } => *until,
            IntentionState::AwaitingOutcome { until } => Some(*until),
            _ => None,
        });
        waits
            .chain(self.watch.next_due(&playbook.signals, now))
            .min()
    }

    /// Runs one cycle on `input`.
    pub fn cycle(&mut self, s: &Situation<'_>, input: Input) -> Vec<Decision> {
        self.cycles += 1;
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ self.cycles.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut out = Vec::new();
        let mut agenda: Vec<Perceived> = Vec::new();
        let mut outcomes: Vec<Perceived> = Vec::new();
        match input {
            Input::Event(e) => {
                self.perceive(&e, s);
                agenda.push(e);
            }
            Input::Tick => {}
            Input::Decided {
                action,
                approved,
                reason,
            } => self.decided(s, action, approved, reason, &mut out),
            Input::Outcome {
                action,
                success,
                event,
            } => {
                if event.payload["kind"] == strategy::ASK {
                    self.strategy_answered(s, &event, &mut out);
                }
                // A plan may wait for an action's outcome to read its result.
                outcomes.push(event);
                self.credit_outcome(action, success, &mut out);
                if let Some(i) = self
                    .intentions
                    .iter()
                    .position(|i| i.last_action == Some(action))
                {
                    self.intentions[i].pending = false;
                    // A plan with a success criterion waits for it; one without ends
                    // with its last action's outcome.
                    let plan = s.playbook.plans.get(&self.intentions[i].plan);
                    let judged = plan.is_some_and(|p| p.spec.success.is_some());
                    // A language step's action that failed leaves the step its own text.
                    let writing =
                        plan.is_some_and(|p| {
                            matches!(p.steps.get(self.intentions[i].step), Some(Step::Llm { .. }))
                        }) && matches!(self.intentions[i].state, IntentionState::Waiting { .. });
                    if !writing && !success {
                        self.fail(s, i, format!("action {action} failed"), &mut out);
                    } else if !writing
                        && !judged
                        && matches!(
                            self.intentions[i].state,
                            IntentionState::AwaitingOutcome { .. }
                        )
                    {
                        self.finish(s, i, true, &mut out);
                    }
                }
            }
            Input::Feedback { rating, correction } => {
                self.feedback(rating, correction, s, &mut out)
            }
            Input::Observed { event_id, action } => {
                if let Some(proposed) = self.proposals.remove(&event_id) {
                    self.agreement.scored += 1;
                    if proposed == action {
                        self.agreement.agreed += 1;
                    }
                }
            }
            Input::SetPhase(p) => {
                if p != self.phase {
                    // What was adopted while shadowing only ever proposed: out of the
                    // shadow the employee starts afresh, and the signals that hold
                    // fire again for it to act on.
                    if self.phase == Phase::Shadow {
                        for it in std::mem::take(&mut self.intentions) {
                            out.push(Decision::Drop {
                                intention: it.id,
                                plan: it.plan,
                                reason: "adopted while shadowing, its actions only proposed; the employee starts afresh out of the shadow".into(),
                            });
                        }
                        self.watch.rearm();
                    }
                    self.phase = p;
                    self.agreement = Agreement::default();
                }
            }
        }
        self.goals.refresh(&self.metrics, s.now);
        for (kind, detail) in
            self.watch
                .check(&s.playbook.signals, &self.metrics, &self.goals, s.now)
        {
            out.push(Decision::Signal {
                kind: kind.clone(),
                detail: detail.clone(),
            });
            agenda.push(Perceived {
                id: String::new(),
                kind,
                source: "signal".into(),
                payload: detail,
            });
        }
        self.time_out(s, &mut out);
        for event in &outcomes {
            self.match_waits(s, event, &mut out);
        }
        for event in &agenda {
            self.match_waits(s, event, &mut out);
            if strategy::asks(event) {
                self.strategize(s, event, &mut out);
            }
            self.adopt_triggered(s, event, &mut rng, &mut out);
        }
        self.reconsider(s, &mut out);
        self.advance(s, &mut rng, &mut out);
        self.update_blocked(s, &mut out);
        if self.phase != Phase::Autonomous
            && self.agreement.ready(&s.playbook.promotion)
            && let Some(to) = self.phase.next()
        {
            self.agreement.proposed = true;
            out.push(Decision::ProposePromotion {
                to,
                agreement: self.agreement.rate(),
                decisions: self.agreement.scored,
            });
        }
        self.bound(&s.playbook.signals, s.now);
        out
    }

    /// Beliefs, metrics and watched items from an event.
    fn perceive(&mut self, e: &Perceived, s: &Situation<'_>) {
        let belief = |value: Json, kind: &str| Belief {
            value,
            confidence: 0.9,
            source: e.kind.clone(),
            kind: kind.into(),
            at: s.now,
        };
        match e.kind.as_str() {
            "metric" => {
                if let (Some(m), Some(v)) =
                    (e.payload["metric"].as_str(), e.payload["value"].as_f64())
                {
                    self.metrics.record(m, v, s.now);
                    self.beliefs
                        .set(format!("metric.{m}"), belief(json!(v), "metric"));
                }
            }
            "belief" => {
                if let Some(k) = e.payload["key"].as_str() {
                    let mut b = belief(
                        bounds::bounded_value(&e.payload["value"]),
                        e.payload["kind"].as_str().unwrap_or("fact"),
                    );
                    if let Some(c) = e.payload["confidence"].as_f64() {
                        b.confidence = c.clamp(0.0, 1.0);
                    }
                    self.beliefs.set(k, b);
                }
            }
            "review.completed" => {
                self.cautious = e.payload["weak_plans"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect();
            }
            "calendar.event" => {
                if let (Some(id), Some(start)) = (
                    e.payload["id"].as_str(),
                    e.payload["start"]
                        .as_str()
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok()),
                ) {
                    if e.payload["status"].as_str() == Some("cancelled") {
                        self.watch.calendar.remove(id);
                    } else {
                        let title = e.payload["title"].as_str().unwrap_or("").to_string();
                        self.watch.calendar.insert(id.to_string(), (start, title));
                    }
                }
            }
            _ => {}
        }
        if let Some(replied) = e.payload["in_reply_to"].as_str() {
            self.watch.unanswered.remove(replied);
        } else if (e.kind.ends_with(".received") || e.kind == "chat.message")
            && let Some(id) = e.payload["message_id"].as_str()
        {
            self.watch.unanswered.insert(id.to_string(), s.now);
        }
        if e.kind == "message.answered"
            && let Some(id) = e.payload["message_id"].as_str()
        {
            self.watch.unanswered.remove(id);
        }
        self.set_last(&e.kind, belief(bounds::bounded_value(&e.payload), "event"));
    }

    /// A human approved or rejected a queued action.
    fn decided(
        &mut self,
        s: &Situation<'_>,
        action: u64,
        approved: bool,
        reason: Option<String>,
        out: &mut Vec<Decision>,
    ) {
        let Some(i) = self.intentions.iter().position(|it| matches!(&it.state, IntentionState::AwaitingApproval { action: a } if a.id == action)) else {
            return;
        };
        if self.phase == Phase::Assisted {
            self.agreement.scored += 1;
            if approved {
                self.agreement.agreed += 1;
            }
        }
        let IntentionState::AwaitingApproval { action: mut act } =
            std::mem::replace(&mut self.intentions[i].state, IntentionState::Ready)
        else {
            unreachable!("matched above")
        };
        // Approved after a human paused contact with its recipient: held like any
        // action to them, and asked for again when the pause ends.
        let paused = approved
            .then(|| self.paused_for(s, &act.kind, &act.params, &self.intentions[i].event))
            .flatten();
        if let Some(p) = paused {
            let kind = act.kind.clone();
            self.hold(s, i, p, &kind, out);
        } else if self.at_tools(s, i) {
            self.tools_decided(s, i, act, approved, reason, out);
        } else if approved {
            act.disposition = Disposition::Execute;
            self.carried_out(&act);
            out.push(Decision::Act(act));
            let it = &mut self.intentions[i];
            it.step += 1;
            it.since = s.now;
            it.pending = true;
        } else {
            // A rejection is feedback: the plan (and variant) failed here.
            let why = reason
                .map(|r| format!("rejected: {r}"))
                .unwrap_or_else(|| "rejected".into());
            self.fail(s, i, why, out);
        }
    }

    /// A rating is learned for the latest action carried out (see `credit.rs`); a
    /// correction moves the communication style.
    fn feedback(
        &mut self,
        rating: Option<f64>,
        correction: Option<String>,
        s: &Situation<'_>,
        out: &mut Vec<Decision>,
    ) {
        if let Some(r) = rating {
            self.credit_rating(r, out);
        }
        if let Some(c) = correction {
            let c = c.to_lowercase();
            let (mut f, mut v) = self.style_shift;
            if c.contains("too formal") || c.contains("more casual") {
                f -= 1;
            } else if c.contains("too casual")
                || c.contains("too informal")
                || c.contains("more formal")
            {
                f += 1;
            }
            if c.contains("too long") || c.contains("shorter") {
                v -= 1;
            } else if c.contains("too short") || c.contains("more detail") {
                v += 1;
            }
            if (f, v) != self.style_shift {
                self.style_shift = (f.clamp(-4, 4), v.clamp(-2, 2));
                out.push(Decision::StyleAdjusted {
                    style: style::style(s.persona, self.style_shift),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests;
