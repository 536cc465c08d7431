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

pub mod beliefs;
pub mod choice;
pub mod expr;
pub mod gate;
pub mod goals;
pub mod metrics;
pub mod plans;
pub mod signals;
mod style;

pub use beliefs::{Belief, Beliefs, Decay};
pub use choice::{Record, Stats};
pub use expr::Condition;
pub use gate::{Agreement, Disposition, Phase, Policy, PolicySpec, PromotionSpec};
pub use goals::{GoalBook, GoalState};
pub use metrics::Metrics;
pub use plans::{Plan, PlanError, PlanLibrary, PlanSpec, Step};
pub use signals::{SignalSpec, Watch};

use crate::model::{Goal, Persona};
use chrono::{DateTime, Utc};
use expr::{Scope, cel_map, json_to_cel};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

/// Steps one intention may take in one cycle (a guard against plans that never wait).
const STEPS_PER_CYCLE: usize = 32;
/// Shadow proposals remembered for scoring against the mentor's actions.
const PROPOSALS_KEPT: usize = 256;

/// What a role adds to its employees' reasoning, as written in its TOML.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookSpec {
    /// Plans.
    #[serde(default)]
    pub plans: Vec<PlanSpec>,
    /// Proactive triggers.
    #[serde(default)]
    pub triggers: Vec<SignalSpec>,
    /// Actions that need approval even when autonomous.
    #[serde(default)]
    pub policies: Vec<PolicySpec>,
    /// When the employee proposes its promotion.
    #[serde(default)]
    pub promotion: PromotionSpec,
}

/// A role's compiled playbook, shared by its employees.
#[derive(Debug)]
pub struct Playbook {
    /// Plans.
    pub plans: PlanLibrary,
    /// Signals.
    pub signals: Vec<SignalSpec>,
    /// Policies.
    pub policies: Vec<Policy>,
    /// Promotion criteria.
    pub promotion: PromotionSpec,
    /// Most intentions an employee pursues at once.
    pub max_intentions: usize,
    /// How confidence fades per belief kind.
    pub decay: Decay,
    /// An intention waiting longer than this blocks its goal.
    pub wait_limit: chrono::Duration,
}

impl Playbook {
    /// Compiles a role's playbook; every problem is reported, naming plan and field.
    pub fn compile(
        spec: &PlaybookSpec,
        goals: &[&str],
        max_intentions: usize,
    ) -> Result<Playbook, Vec<PlanError>> {
        let mut errors = Vec::new();
        let plans = PlanLibrary::compile(&spec.plans, goals).map_err(|e| errors.extend(e));
        for s in &spec.triggers {
            for (field, message) in s.validate() {
                errors.push(PlanError {
                    section: "triggers",
                    plan: s.name.clone(),
                    field,
                    message,
                });
            }
        }
        let mut policies = Vec::new();
        for p in &spec.policies {
            let when = match &p.when {
                Some(w) => match Condition::compile(w) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        errors.push(PlanError {
                            section: "policies",
                            plan: p.action.clone(),
                            field: "when".into(),
                            message: format!("is not a valid CEL expression: {e}"),
                        });
                        None
                    }
                },
                None => None,
            };
            policies.push(Policy {
                spec: p.clone(),
                when,
            });
        }
        match plans {
            Ok(plans) if errors.is_empty() => Ok(Playbook {
                plans,
                signals: spec.triggers.clone(),
                policies,
                promotion: spec.promotion.clone(),
                max_intentions: max_intentions.max(1),
                decay: Decay::default(),
                wait_limit: chrono::Duration::days(3),
            }),
            _ => Err(errors),
        }
    }
}

/// An event as the Mind perceives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Perceived {
    /// Event id (for scoring shadow proposals against the mentor).
    pub id: String,
    /// Kind, e.g. `metric`, `email.received`, `cron.tick`.
    pub kind: String,
    /// Source.
    pub source: String,
    /// Payload.
    pub payload: Json,
}

/// One input to a cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// An event from the inbox.
    Event(Perceived),
    /// The employee's own cadence: signals and timeouts only.
    Tick,
    /// A human approved or rejected a queued action.
    Decided {
        /// The action.
        action: u64,
        /// Approved?
        approved: bool,
        /// Why, if given.
        reason: Option<String>,
    },
    /// An executed action's result.
    Outcome {
        /// The action.
        action: u64,
        /// Whether it worked.
        success: bool,
    },
    /// Explicit feedback on the latest action: a rating 0..=1 and/or a correction such
    /// as "too formal".
    Feedback {
        /// Rating, 0..=1.
        rating: Option<f64>,
        /// Correction in words.
        correction: Option<String>,
    },
    /// In shadow: what the mentor actually did for an event.
    Observed {
        /// The event.
        event_id: String,
        /// The mentor's action kind.
        action: String,
    },
    /// The manager set the phase.
    SetPhase(Phase),
}

/// An action the employee decided on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Sequence number within the employee.
    pub id: u64,
    /// The intention taking it.
    pub intention: u64,
    /// Its plan.
    pub plan: String,
    /// Step index in the plan.
    pub step: usize,
    /// Action kind, e.g. `email.send`; `escalate` for an escalation.
    pub kind: String,
    /// Rendered parameters.
    pub params: Json,
    /// The variant chosen, if the step has variants.
    pub variant: Option<String>,
    /// What the gate decided.
    pub disposition: Disposition,
}

/// What a cycle decided. The actor records each as an episode and carries out actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// A proactive trigger fired.
    Signal {
        /// Event kind raised, `signal.<name>`.
        kind: String,
        /// What it saw.
        detail: Json,
    },
    /// A plan's trigger matched but more evidence is wanted first.
    Gathering {
        /// Plan.
        plan: String,
        /// Matches so far.
        seen: u32,
        /// Matches needed.
        needed: u32,
    },
    /// A plan was adopted.
    Adopt {
        /// New intention.
        intention: u64,
        /// Plan.
        plan: String,
        /// Goal served.
        goal: Option<String>,
        /// Why: the event kind or the parent intention.
        because: String,
    },
    /// An action passed the gate.
    Act(Action),
    /// A language-model request (carried out once a model is configured).
    AskLlm {
        /// Intention.
        intention: u64,
        /// Rendered prompt.
        prompt: String,
    },
    /// An intention waits for an event.
    Wait {
        /// Intention.
        intention: u64,
        /// Event kind awaited.
        event: String,
        /// Deadline.
        until: Option<DateTime<Utc>>,
    },
    /// An intention finished.
    Complete {
        /// Intention.
        intention: u64,
        /// Plan.
        plan: String,
        /// Whether it achieved its success criterion.
        success: bool,
    },
    /// An intention failed.
    Fail {
        /// Intention.
        intention: u64,
        /// Plan.
        plan: String,
        /// Why.
        reason: String,
        /// Contingency adopted next, if any.
        contingency: Option<String>,
    },
    /// Reconsideration dropped an intention.
    Drop {
        /// Intention.
        intention: u64,
        /// Plan.
        plan: String,
        /// Why.
        reason: String,
    },
    /// A goal cannot progress now.
    Blocked {
        /// Goal.
        goal: String,
        /// Why.
        reason: String,
    },
    /// Statistics learned from an outcome.
    Learned {
        /// Plan or variant key.
        key: String,
        /// Success?
        success: bool,
    },
    /// The communication style moved after feedback.
    StyleAdjusted {
        /// The style now.
        style: Json,
    },
    /// Criteria met: the employee asks its manager for the next phase.
    ProposePromotion {
        /// Phase asked for.
        to: Phase,
        /// Agreement rate.
        agreement: f64,
        /// Decisions scored.
        decisions: u32,
    },
    /// A condition or template failed; the plan is skipped.
    Error {
        /// Plan.
        plan: String,
        /// What failed.
        message: String,
    },
}

/// Where an intention is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IntentionState {
    /// Runs its next step this cycle.
    Ready,
    /// Waits for an event.
    Waiting {
        /// Event kind.
        event: String,
        /// Deadline.
        until: Option<DateTime<Utc>>,
    },
    /// Its action waits in the approval queue.
    AwaitingApproval {
        /// The action.
        action: Action,
    },
    /// Waits for a sub-goal's intention.
    AwaitingSubgoal {
        /// Child intention.
        child: u64,
    },
    /// Steps done; waits for the success criterion.
    AwaitingOutcome {
        /// Deadline.
        until: DateTime<Utc>,
    },
}

impl IntentionState {
    /// Short name for status.
    pub fn name(&self) -> &'static str {
        match self {
            IntentionState::Ready => "ready",
            IntentionState::Waiting { .. } => "waiting",
            IntentionState::AwaitingApproval { .. } => "awaiting_approval",
            IntentionState::AwaitingSubgoal { .. } => "awaiting_subgoal",
            IntentionState::AwaitingOutcome { .. } => "awaiting_outcome",
        }
    }
}

/// A committed plan instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intention {
    /// Id within the employee.
    pub id: u64,
    /// Plan.
    pub plan: String,
    /// Goal served.
    pub goal: Option<String>,
    /// Context its outcome is learned under (the triggering event kind).
    pub context: String,
    /// Next step.
    pub step: usize,
    /// State.
    pub state: IntentionState,
    /// Since when in this state.
    pub since: DateTime<Utc>,
    /// The triggering event (templates read it).
    pub event: Json,
    /// Parent intention (for a sub-goal).
    pub parent: Option<u64>,
    /// Variant keys chosen so far (learned with the outcome).
    pub variants: Vec<String>,
    /// The last action it took.
    pub last_action: Option<u64>,
}

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
    last_action: Option<(String, Vec<String>)>,
    seed: u64,
    next_id: u64,
}

/// What a cycle needs besides the Mind: the role's playbook, the persona and who the
/// employee is (for templates).
pub struct Situation<'a> {
    /// The role's playbook.
    pub playbook: &'a Playbook,
    /// The persona.
    pub persona: &'a Persona,
    /// `{name, email, job_title, manager}` for templates.
    pub me: &'a Json,
    /// Now.
    pub now: DateTime<Utc>,
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
            last_action: None,
            seed,
            next_id: 1,
        }
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

    /// Runs one cycle on `input`.
    pub fn cycle(&mut self, s: &Situation<'_>, input: Input) -> Vec<Decision> {
        self.cycles += 1;
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ self.cycles.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut out = Vec::new();
        let mut agenda: Vec<Perceived> = Vec::new();
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
            Input::Outcome { action, success } => {
                if let Some(i) = self
                    .intentions
                    .iter()
                    .position(|i| i.last_action == Some(action))
                {
                    if !success {
                        self.fail(s, i, format!("action {action} failed"), &mut out);
                    } else if matches!(
                        self.intentions[i].state,
                        IntentionState::AwaitingOutcome { .. }
                    ) {
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
        for event in &agenda {
            self.match_waits(s, event, &mut out);
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
                        e.payload["value"].clone(),
                        e.payload["kind"].as_str().unwrap_or("fact"),
                    );
                    if let Some(c) = e.payload["confidence"].as_f64() {
                        b.confidence = c.clamp(0.0, 1.0);
                    }
                    self.beliefs.set(k, b);
                }
            }
            "calendar.event" => {
                if let (Some(id), Some(start)) = (
                    e.payload["id"].as_str(),
                    e.payload["start"]
                        .as_str()
                        .and_then(|t| t.parse::<DateTime<Utc>>().ok()),
                ) {
                    let title = e.payload["title"].as_str().unwrap_or("").to_string();
                    self.watch.calendar.insert(id.to_string(), (start, title));
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
        self.beliefs.set(
            format!("last.{}", e.kind),
            belief(e.payload.clone(), "event"),
        );
    }

    fn scope<'b>(
        &self,
        s: &'b Situation<'_>,
        event: &Json,
        beliefs: &'b beliefs::BeliefView<'b>,
        goals: &'b GoalBook,
        metrics: &'b Metrics,
    ) -> Scope<'b> {
        Scope {
            event: json_to_cel(event),
            persona: persona_cel(s.persona),
            action: cel::Value::Null,
            beliefs,
            goals,
            metrics,
        }
    }

    fn check(
        &self,
        s: &Situation<'_>,
        cond: Option<&Condition>,
        event: &Json,
    ) -> Result<bool, String> {
        let Some(c) = cond else { return Ok(true) };
        let view = self.beliefs.view(s.now, &s.playbook.decay);
        c.eval(&self.scope(s, event, &view, &self.goals, &self.metrics))
    }

    /// Plans triggered by `event`: filtered by trigger, context and risk, gated by
    /// evidence, chosen by persona and statistics.
    fn adopt_triggered(
        &mut self,
        s: &Situation<'_>,
        e: &Perceived,
        rng: &mut StdRng,
        out: &mut Vec<Decision>,
    ) {
        let event = event_json(e);
        let bound = choice::risk_bound(s.persona);
        let needed = choice::evidence_needed(s.persona);
        let mut candidates: Vec<&Plan> = Vec::new();
        let mut too_risky: Vec<&Plan> = Vec::new();
        for plan in s.playbook.plans.triggered_by(&e.kind) {
            let name = &plan.spec.name;
            if self.intentions.iter().any(|i| &i.plan == name) {
                continue;
            }
            let ok = self.check(s, plan.when.as_ref(), &event).and_then(|t| {
                if t {
                    self.check(s, plan.context.as_ref(), &event)
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
        let scored: Vec<choice::Candidate> = candidates
            .iter()
            .map(|p| choice::Candidate {
                record: self.stats.get(&Stats::plan_key(&p.spec.name, &e.kind)),
                cost: p.spec.cost,
            })
            .collect();
        if let Some(i) = choice::choose(s.persona, &scored, rng) {
            let plan = candidates[i];
            self.evidence.remove(&plan.spec.name);
            self.adopt(s, plan, e.kind.clone(), event, None, out);
        }
    }

    fn adopt(
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
        });
        id
    }

    /// Waits past their deadline fail; outcomes past theirs count as failures.
    fn time_out(&mut self, s: &Situation<'_>, out: &mut Vec<Decision>) {
        let mut i = 0;
        while i < self.intentions.len() {
            match &self.intentions[i].state {
                IntentionState::Waiting {
                    until: Some(u),
                    event,
                } if *u <= s.now => {
                    let why = format!("no `{event}` before {u}");
                    self.fail(s, i, why, out);
                    continue;
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
    fn match_waits(&mut self, s: &Situation<'_>, e: &Perceived, out: &mut Vec<Decision>) {
        let event = event_json(e);
        let mut i = 0;
        while i < self.intentions.len() {
            let it = &self.intentions[i];
            let Some(plan) = s.playbook.plans.get(&it.plan) else {
                i += 1;
                continue;
            };
            match &it.state {
                IntentionState::Waiting { event: kind, .. } if kind_matches(kind, &e.kind) => {
                    let when = match plan.steps.get(it.step) {
                        Some(Step::Wait { when, .. }) => when.clone(),
                        _ => None,
                    };
                    if self.check(s, when.as_ref(), &event).unwrap_or(false) {
                        let it = &mut self.intentions[i];
                        it.state = IntentionState::Ready;
                        it.step += 1;
                        it.since = s.now;
                    }
                }
                IntentionState::AwaitingOutcome { .. } => {
                    if let Some(succ) = &plan.spec.success
                        && kind_matches(&succ.event, &e.kind)
                        && self
                            .check(s, plan.success_when.as_ref(), &event)
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

    /// Drops intentions whose goal is met, then the lowest-priority ones past the bound.
    fn reconsider(&mut self, s: &Situation<'_>, out: &mut Vec<Decision>) {
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

    /// Runs ready intentions' steps until each waits or ends.
    fn advance(&mut self, s: &Situation<'_>, rng: &mut StdRng, out: &mut Vec<Decision>) {
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
                    self.last_action =
                        Some((plan_name.clone(), self.intentions[i].variants.clone()));
                    if disposition == Disposition::Propose {
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
                    out.push(Decision::Act(act.clone()));
                    let it = &mut self.intentions[i];
                    it.since = s.now;
                    it.last_action = Some(act.id);
                    if matches!(disposition, Disposition::AwaitApproval { .. }) {
                        it.state = IntentionState::AwaitingApproval { action: act };
                    } else {
                        it.step += 1;
                    }
                }
                Step::Subgoal(goal) => {
                    let event = self.intentions[i].event.clone();
                    let found = s.playbook.plans.serving(goal).find(|p| {
                        p.spec.name != plan_name
                            && !self.intentions.iter().any(|x| x.plan == p.spec.name)
                            && self.check(s, p.context.as_ref(), &event).unwrap_or(false)
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
                Step::Wait { event, timeout, .. } => {
                    let until = timeout
                        .and_then(|t| chrono::Duration::from_std(t).ok())
                        .map(|t| s.now + t);
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
                Step::Llm(template) => {
                    match self.render(s, plan, template, i) {
                        Ok(prompt) => out.push(Decision::AskLlm {
                            intention: id,
                            prompt,
                        }),
                        Err(message) => out.push(Decision::Error {
                            plan: plan_name.clone(),
                            message,
                        }),
                    }
                    self.intentions[i].step += 1;
                }
                Step::Escalate(template) => {
                    let message = self.render(s, plan, template, i).unwrap_or_else(|e| e);
                    let act = Action {
                        id: self.id(),
                        intention: id,
                        plan: plan_name.clone(),
                        step: step_no,
                        kind: "escalate".into(),
                        params: json!({"to": s.me["manager"], "message": message}),
                        variant: None,
                        disposition: Disposition::Execute,
                    };
                    out.push(Decision::Act(act));
                    self.intentions[i].step += 1;
                }
            }
        }
    }

    fn choose_variant(
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
            })
            .collect();
        choice::choose(s.persona, &candidates, rng)
            .map(|i| i + 1)
            .unwrap_or(0)
    }

    fn render(
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
        let ctx = json!({
            "event": it.event,
            "me": s.me,
            "goal": goal,
            "beliefs": beliefs,
            "style": style::style(s.persona, self.style_shift),
        });
        t.render(minijinja::value::Serde(&ctx))
            .map_err(|e| format!("plan `{}`: {e}", plan.spec.name))
    }

    /// The gate: phase first, then policies.
    fn gate(&self, s: &Situation<'_>, kind: &str, params: &Json) -> Disposition {
        match self.phase {
            Phase::Shadow => return Disposition::Propose,
            Phase::Assisted => {
                return Disposition::AwaitApproval {
                    reason: "assisted phase: every action is approved by a human".into(),
                };
            }
            Phase::Autonomous => {}
        }
        let view = self.beliefs.view(s.now, &s.playbook.decay);
        for p in s.playbook.policies.iter().filter(|p| p.spec.action == kind) {
            let holds = match &p.when {
                None => true,
                Some(c) => {
                    let mut scope = self.scope(s, &Json::Null, &view, &self.goals, &self.metrics);
                    scope.action = cel_map([
                        (
                            "kind",
                            cel::Value::String(std::sync::Arc::new(kind.to_string())),
                        ),
                        ("params", json_to_cel(params)),
                    ]);
                    // A policy that cannot be evaluated errs on the side of asking.
                    c.eval(&scope).unwrap_or(true)
                }
            };
            if holds {
                return Disposition::AwaitApproval {
                    reason: p.spec.reason.clone(),
                };
            }
        }
        Disposition::Execute
    }

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
        if approved {
            act.disposition = Disposition::Execute;
            out.push(Decision::Act(act));
            let it = &mut self.intentions[i];
            it.step += 1;
            it.since = s.now;
        } else {
            // A rejection is feedback: the plan (and variant) failed here.
            let why = reason
                .map(|r| format!("rejected: {r}"))
                .unwrap_or_else(|| "rejected".into());
            self.fail(s, i, why, out);
        }
    }

    fn feedback(
        &mut self,
        rating: Option<f64>,
        correction: Option<String>,
        s: &Situation<'_>,
        out: &mut Vec<Decision>,
    ) {
        if let (Some(r), Some((plan, variants))) = (rating, self.last_action.clone()) {
            let success = r >= 0.5;
            for key in std::iter::once(Stats::plan_key(&plan, "feedback")).chain(variants) {
                self.stats.record(&key, success);
                out.push(Decision::Learned { key, success });
            }
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

    /// Ends intention `i` with a judged outcome, learning from it and resuming a parent.
    fn finish(&mut self, s: &Situation<'_>, i: usize, success: bool, out: &mut Vec<Decision>) {
        let it = self.intentions.remove(i);
        for key in std::iter::once(Stats::plan_key(&it.plan, &it.context))
            .chain(it.variants.iter().cloned())
        {
            self.stats.record(&key, success);
            out.push(Decision::Learned { key, success });
        }
        out.push(Decision::Complete {
            intention: it.id,
            plan: it.plan.clone(),
            success,
        });
        if let Some(parent) = it.parent
            && let Some(p) = self.intentions.iter_mut().find(|p| p.id == parent)
        {
            p.state = IntentionState::Ready;
            p.step += 1;
            p.since = s.now;
        }
    }

    /// Fails intention `i`: learns, then fails over to its contingency plan if any.
    fn fail(&mut self, s: &Situation<'_>, i: usize, reason: String, out: &mut Vec<Decision>) {
        let it = self.intentions.remove(i);
        for key in std::iter::once(Stats::plan_key(&it.plan, &it.context))
            .chain(it.variants.iter().cloned())
        {
            self.stats.record(&key, false);
            out.push(Decision::Learned {
                key,
                success: false,
            });
        }
        let contingency = s
            .playbook
            .plans
            .get(&it.plan)
            .and_then(|p| p.spec.contingency.clone());
        out.push(Decision::Fail {
            intention: it.id,
            plan: it.plan.clone(),
            reason,
            contingency: contingency.clone(),
        });
        match contingency.as_deref().and_then(|c| s.playbook.plans.get(c)) {
            Some(c) if !self.intentions.iter().any(|x| x.plan == c.spec.name) => {
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
    fn update_blocked(&mut self, s: &Situation<'_>, out: &mut Vec<Decision>) {
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

fn kind_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

fn event_json(e: &Perceived) -> Json {
    json!({"id": e.id, "kind": e.kind, "source": e.source, "payload": e.payload})
}

fn persona_cel(p: &Persona) -> cel::Value {
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

#[cfg(test)]
mod tests;
