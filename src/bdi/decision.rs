//! What goes into a cycle (inputs) and what comes out (decisions), and the intentions
//! a Mind carries between cycles.

use super::*;

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
        /// The outcome as a wait sees it: an `empla.outcome` event with the action's
        /// `action_id`, `kind`, `status` and `result`.
        event: Perceived,
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
    /// A step that asks the language model: its prompt and the text the step gave
    /// (the fallback's, without a model).
    AskLlm {
        /// Intention.
        intention: u64,
        /// Rendered prompt.
        prompt: String,
        /// The step's text.
        text: String,
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
        /// The kind of task: the event that started it (procedural memory's key).
        #[serde(default)]
        task: String,
        /// Whether it achieved its success criterion.
        success: bool,
    },
    /// An intention failed.
    Fail {
        /// Intention.
        intention: u64,
        /// Plan.
        plan: String,
        /// The kind of task: the event that started it (procedural memory's key).
        #[serde(default)]
        task: String,
        /// Why.
        reason: String,
        /// Contingency adopted next, if any.
        contingency: Option<String>,
    },
    /// An intention that only proposed its actions (shadow) ended: its steps ran out,
    /// or it stopped where it would have failed. Nothing it proposed was carried out,
    /// so this is no outcome of its plan: nothing is learned, and it counts as neither
    /// a success nor a failure.
    Proposed {
        /// Intention.
        intention: u64,
        /// Plan.
        plan: String,
        /// The kind of task: the event that started it.
        #[serde(default)]
        task: String,
        /// Why it stopped, if it did not run to its end.
        stopped: Option<String>,
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
    /// A planning cycle: the situation, the gaps, the strategies weighed and those
    /// committed to (their intentions are adopted with it).
    Strategy {
        /// What was decided, in words.
        summary: String,
        /// The goals behind, in words.
        situation: String,
        /// `{goal, gap}`, largest first.
        gaps: Vec<Json>,
        /// `{plan, goal, success, impact, cost, days_to_value, score, tried, fits, running,
        /// description}`; with a model, also each strategy it proposed: `{strategy,
        /// plans, goal, success, impact, cost, days_to_value, score, why, by, rejected}`.
        candidates: Vec<Json>,
        /// `{plan, goal, intention, strategy, score, why}`.
        chosen: Vec<Json>,
        /// Who proposed what was chosen: `rules`, or the model (`provider/model`).
        #[serde(default)]
        by: String,
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
    /// A directive from a human was applied (a focus, a pause on contact, a top
    /// goal), a pause held an action back, or a pause ended.
    Directive {
        /// What changed, in words: "focusing on enterprise accounts (1000+
        /// employees)", "held email.send of reach_out_to_lead: not contacting Acme
        /// until 2027-01-01".
        summary: String,
        /// Who gave it (none when a pause held an action or ended by itself).
        #[serde(default)]
        by: Option<String>,
        /// The intention whose action it held back, if it held one.
        #[serde(default)]
        intention: Option<u64>,
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
    /// Steps done; waits for the success criterion, or (a plan without one) for its
    /// last action's outcome.
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
    /// Since when in this state (stored as microseconds).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub since: DateTime<Utc>,
    /// The triggering event (templates read it).
    pub event: Json,
    /// Parent intention (for a sub-goal).
    pub parent: Option<u64>,
    /// Variant keys chosen so far (learned with the outcome).
    pub variants: Vec<String>,
    /// The last action it took.
    pub last_action: Option<u64>,
    /// The event its last wait accepted (templates read it as `awaited`). Always
    /// written, even when none: a Mind is stored with its fields by position.
    #[serde(default)]
    pub awaited: Option<Json>,
    /// Whether it only proposed an action (shadow): then what it did was not carried
    /// out, and how it ends is no outcome of its plan.
    #[serde(default)]
    pub proposed: bool,
    /// The text its last `llm` step gave (templates read it as `intention.text`).
    #[serde(default)]
    pub text: Option<String>,
    /// Whether its last action was carried out and its outcome has not come yet: a plan
    /// with no `success` criterion ends with that outcome, not before.
    #[serde(default)]
    pub pending: bool,
    /// The texts of its `llm` steps that set `save_as`, by that name (templates read
    /// them as `results.<name>`).
    #[serde(default)]
    pub results: std::collections::BTreeMap<String, String>,
    /// An `llm = "tools"` step's conversation with the model after its first message:
    /// its turns (with the tools it called) and the tools' results.
    #[serde(default)]
    pub transcript: Vec<Json>,
    /// The tool call whose action the step waits for (the model's id for it).
    #[serde(default)]
    pub tool_call: Option<String>,
    /// Tokens the model used in that step so far.
    #[serde(default)]
    pub tool_tokens: u64,
}
