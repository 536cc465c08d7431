//! Between the EmployeeActor and its [`Mind`]: an event becomes the Mind's input, a
//! cycle runs, and its decisions become what is recorded with the event — episodes,
//! approvals to queue, actions for the outbox — and what the status reports.
//!
//! The node's own events (kind `empla.*`) carry what humans and capabilities tell the
//! employee: a decided approval, an action's outcome, a phase set by the manager,
//! feedback, a mentor's observed action. They come through the inbox like any event, so
//! they are durable and handled once.
//!
//! Actions whose capability has no driver on this node are answered `unsupported`: the
//! outcome is recorded (outbox, episode, status) and the intention carries on, but
//! nothing is learned from it, since it says nothing about the plan.

use super::Snapshot;
use super::tasks;
use super::withdrawn;
use crate::bdi::{
    Action, Decision, Disposition, Input, IntentionState, Mind, Perceived, Phase, Playbook,
    Situation,
};
use crate::model::kinds as hub;
use crate::model::{
    Approval, ApprovalId, ApprovalStatus, EmployeeId, EmployeeProfile, Episode, EpisodeId,
    EpisodeKind, Event, EventId, Manager, OutboxEntry, TenantId,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use utoipa::ToSchema;

pub(crate) use crate::model::kinds;

/// What a Mind needs from the employee besides itself: the role's playbook, the
/// persona, and who the employee is (for templates).
pub(crate) struct Brain {
    pub(crate) playbook: Arc<Playbook>,
    pub(crate) persona: crate::model::Persona,
    pub(crate) me: Json,
    /// How the employee may use a language model; none when the node has none.
    pub(crate) language: Option<super::language::Language>,
}

impl Brain {
    pub(crate) fn new(
        profile: &EmployeeProfile,
        playbook: Arc<Playbook>,
        llm: &crate::llm::Llm,
    ) -> Brain {
        let language = super::language::Language::of(llm, &playbook);
        let manager = match &profile.manager {
            Some(Manager::Human { email, .. }) => json!(email),
            Some(Manager::Employee { id }) => json!(id.to_string()),
            None => Json::Null,
        };
        Brain {
            language,
            playbook,
            persona: profile.persona.clone(),
            me: json!({
                "name": profile.name,
                "handle": profile.chat_handle,
                "email": profile.email,
                "job_title": profile.job_title,
                "team": profile.team,
                "manager": manager,
            }),
        }
    }
}

/// A new employee's Mind: its goals, shadow while onboarding (autonomous if hired as
/// active), and a random seed fixed by its id.
pub(crate) fn new_mind(profile: &EmployeeProfile) -> Mind {
    let phase = match profile.status {
        crate::model::EmployeeStatus::Active => Phase::Autonomous,
        _ => Phase::Shadow,
    };
    let id = profile.id.0.as_u128();
    Mind::new(&profile.goals, phase, (id as u64) ^ ((id >> 64) as u64))
}

/// Counts of one day's work, for the status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DayCounts {
    /// The day (UTC) counted.
    #[schema(value_type = Option<String>)]
    pub day: Option<NaiveDate>,
    /// Events handled.
    pub events: u64,
    /// Actions executed.
    pub actions_executed: u64,
    /// Actions proposed only (shadow).
    pub actions_proposed: u64,
    /// Approvals asked for.
    pub approvals_requested: u64,
    /// Escalations to a human.
    pub escalations: u64,
    /// Intentions completed successfully.
    pub completed: u64,
    /// Intentions failed.
    pub failed: u64,
}

impl DayCounts {
    /// Starts a new day's counts when the day has changed.
    fn roll(&mut self, now: DateTime<Utc>) {
        let today = now.date_naive();
        if self.day != Some(today) {
            *self = DayCounts {
                day: Some(today),
                ..Default::default()
            };
        }
    }
}

/// Turns an event into the Mind's input, applying what concerns the snapshot itself
/// (an outcome clears its outbox entry).
pub(crate) fn input_for(event: &Event, snapshot: &mut Snapshot) -> Input {
    let p = &event.payload;
    match event.kind.as_str() {
        kinds::APPROVAL => {
            let approved = p["approved"].as_bool().unwrap_or(false);
            let reason = p["reason"].as_str().map(str::to_string);
            if p["action"]["kind"] == "promotion" {
                let to = serde_json::from_value::<Phase>(p["action"]["to"].clone()).ok();
                match (approved, to) {
                    (true, Some(to)) => Input::SetPhase(to),
                    _ => {
                        // Declined: the employee earns its promotion again from here.
                        if let Some(m) = snapshot.mind.as_mut() {
                            m.agreement = Default::default();
                        }
                        Input::Tick
                    }
                }
            } else {
                match p["action"]["id"].as_u64() {
                    Some(action) => Input::Decided {
                        action,
                        approved,
                        reason,
                    },
                    None => Input::Tick,
                }
            }
        }
        kinds::OUTCOME => {
            let Some(action) = p["action_id"].as_u64() else {
                return Input::Tick;
            };
            snapshot.outbox.remove(&action);
            let perceived = Perceived {
                id: event.id.to_string(),
                kind: event.kind.clone(),
                source: event.source.clone(),
                payload: event.payload.clone(),
            };
            match p["status"].as_str() {
                Some("done") => Input::Outcome {
                    action,
                    success: true,
                    event: perceived,
                },
                Some("failed") => Input::Outcome {
                    action,
                    success: false,
                    event: perceived,
                },
                _ => Input::Tick,
            }
        }
        kinds::PHASE => match serde_json::from_value::<Phase>(p["phase"].clone()) {
            Ok(phase) => Input::SetPhase(phase),
            Err(_) => Input::Tick,
        },
        kinds::FEEDBACK => Input::Feedback {
            rating: p["rating"].as_f64(),
            correction: p["correction"].as_str().map(str::to_string),
        },
        kinds::OBSERVATION => Input::Observed {
            event_id: p["event_id"].as_str().unwrap_or_default().to_string(),
            action: p["action"].as_str().unwrap_or_default().to_string(),
        },
        _ => Input::Event(Perceived {
            id: event.id.to_string(),
            kind: event.kind.clone(),
            source: event.source.clone(),
            payload: event.payload.clone(),
        }),
    }
}

/// What one cycle adds to the store, besides the snapshot.
#[derive(Default)]
pub(crate) struct Recorded {
    pub(crate) episodes: Vec<Episode>,
    pub(crate) approvals: Vec<Approval>,
    pub(crate) actions: Vec<OutboxEntry>,
}

/// Where a cycle's decisions came from.
pub(crate) struct Cause {
    pub(crate) tenant: TenantId,
    pub(crate) employee: EmployeeId,
    /// The event and its episode; none for the employee's own cadence.
    pub(crate) event: Option<(EventId, EpisodeId)>,
}

/// Ids of the actions the node takes for an employee outside its plans (chat answers,
/// task updates): far above any id a Mind gives its own actions.
pub(crate) const OWN_ACTIONS: u64 = 1 << 48;

/// Runs one cycle on `input` and records its decisions into `out`; then answers a
/// human's chat message and reports on the tasks the cycle moved.
pub(crate) fn think(
    brain: &Brain,
    snapshot: &mut Snapshot,
    working: &crate::memory::WorkingMemory,
    input: Input,
    cause: &Cause,
    now: DateTime<Utc>,
    out: &mut Recorded,
) {
    snapshot.today.roll(now);
    let (chat, assigned) = match &input {
        Input::Event(e) if super::a2a::converses(&e.kind) && e.payload["text"].is_string() => {
            (Some(e.clone()), None)
        }
        Input::Event(e) if e.kind == hub::TASK => {
            (None, e.payload["task_id"].as_str().map(str::to_string))
        }
        _ => (None, None),
    };
    // A model's reading of a directive the rules could not read: answered below.
    let read_directive = match &input {
        Input::Outcome { event, .. } if event.payload["kind"] == crate::bdi::directives::READ => {
            Some(event.payload.clone())
        }
        _ => None,
    };
    // Coaching in a chat message, or in a colleague's reply to the employee's mail.
    let coaching = match &input {
        Input::Event(e) if e.kind == hub::CHAT => e.payload["text"]
            .as_str()
            .and_then(crate::bdi::feedback::read),
        Input::Event(e) if e.kind == hub::EMAIL_REPLY && e.payload["internal"] == true => e.payload
            ["body"]
            .as_str()
            .and_then(crate::bdi::feedback::read),
        _ => None,
    };
    let (asked, canceled) = super::a2a::tracked(&input);
    let mind = snapshot.mind.as_mut().expect("the mind is loaded");
    let memory = || working.view();
    let situation = Situation {
        playbook: &brain.playbook,
        persona: &brain.persona,
        me: &brain.me,
        now,
        memory: Some(&memory),
        language: brain.language.as_ref().map(|l| l.share),
    };
    let mut tasks = tasks::intentions(mind);
    let awaiting = withdrawn::awaiting(mind);
    let decided_now = match &input {
        Input::Decided { action, .. } => Some(*action),
        _ => None,
    };
    let mut decisions = mind.cycle(&situation, input);
    decisions.extend(super::a2a::withdraw(mind, canceled.as_deref()));
    if let Some(f) = coaching {
        decisions.extend(mind.cycle(
            &situation,
            Input::Feedback {
                rating: f.rating,
                correction: f.correction,
            },
        ));
    }
    tasks.extend(tasks::intentions(mind));
    let cycle = mind.cycles;
    // A chat message a plan takes up (a feature request, say) is answered by the
    // plan; the conversation answers the rest.
    let taken = decisions
        .iter()
        .any(|d| matches!(d, crate::bdi::Decision::Adopt { because, .. } if super::a2a::converses(because)));
    let mut reading = None;
    let mut answer = chat.filter(|_| !taken).and_then(|e| {
        let about = reply_to(&e);
        let who = e.payload["from"].as_str().unwrap_or("");
        let question = e.payload["text"].as_str().unwrap_or("");
        if brain.language.is_some() && mind.unread_directive(&situation, question) {
            // Words the rules cannot read into a knob are read by the model first; the
            // answer follows its reading.
            reading = Some(mind.directive_reading(&situation, question, about));
            return None;
        }
        let (_, text, directed) = mind.answer(&situation, who, question);
        decisions.extend(directed);
        Some((about, text))
    });
    if let Some(p) = read_directive {
        let about = p["result"]["about"].clone();
        let who = about["from"].as_str().unwrap_or("");
        let read = match p["status"].as_str() {
            Some("done") => crate::bdi::directives::from_answer(
                p["result"]["text"].as_str().unwrap_or_default(),
                now,
                &mind.goals,
            ),
            _ => Err("the model could not be asked".into()),
        };
        let d = read.unwrap_or_else(|why| {
            decisions.push(Decision::Directive {
                summary: format!("the model's reading turned no knob: {why}"),
                by: Some(who.to_string()),
                intention: None,
            });
            crate::bdi::directives::Directive::Unknown
        });
        let (text, directed) = mind.directed(&situation, who, d);
        decisions.extend(directed);
        answer = Some((about, text));
    }
    let answer = answer.map(|(about, text)| {
        let who = about["from"].as_str().unwrap_or("");
        let question = about["question"].as_str().unwrap_or("");
        let compose = brain
            .language
            .as_ref()
            .map(|l| l.chat(mind, &situation, working, who, question, &text));
        (about, text, compose)
    });
    let updates = tasks::updates(
        &decisions,
        &mut tasks,
        assigned.as_deref(),
        asked.as_deref(),
        &brain.playbook,
        cause.employee,
    );
    // An approval whose intention ended without it (dropped, failed, canceled) is
    // closed: a human deciding it later is told it no longer stands.
    out.approvals.extend(withdrawn::approvals(
        mind,
        awaiting,
        decided_now,
        &decisions,
        cause.employee,
        now,
    ));
    for d in decisions {
        record(d, snapshot, cause, cycle, now, out);
    }
    if let Some(params) = reading {
        own_action(
            snapshot,
            cause,
            crate::bdi::directives::READ,
            params,
            now,
            out,
        );
    }
    if let Some((about, text, compose)) = answer {
        let mut params = about;
        if let Some(p) = params.as_object_mut() {
            p.remove("from");
            p.remove("question");
        }
        params["text"] = json!(text);
        if let Some(c) = compose {
            params["compose"] = c;
        }
        own_action(snapshot, cause, "chat.reply", params, now, out);
    }
    for params in updates {
        own_action(snapshot, cause, "task.update", params, now, out);
    }
}

/// Where the answer to chat message `e` goes (a `chat.reply`'s parameters), with who
/// asked what (`from`, `question`).
fn reply_to(e: &Perceived) -> Json {
    json!({
        "conversation": e.payload["conversation"].as_str().or(e.payload["from"].as_str()),
        "to": e.payload["from"],
        "in_reply_to": e.id,
        "channel": e.payload["channel"],
        "thread": e.payload["thread"],
        "from": e.payload["from"],
        "question": e.payload["text"],
    })
}

/// `params` without what a model is to be told (`compose`; a tools turn's `task` and
/// `transcript`): that stays with the action in the outbox, not in memory.
fn without_compose(params: &Json) -> Json {
    let mut p = params.clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("compose");
        if o.contains_key("transcript") {
            o.remove("task");
            o.remove("transcript");
        }
    }
    p
}

/// An action the node takes for the employee outside its plans: into the outbox (run
/// once, after this cycle is stored) and recorded as an episode.
fn own_action(
    snapshot: &mut Snapshot,
    cause: &Cause,
    kind: &str,
    params: Json,
    now: DateTime<Utc>,
    out: &mut Recorded,
) {
    snapshot.own_actions += 1;
    let id = OWN_ACTIONS + snapshot.own_actions;
    snapshot.outbox.insert(id);
    snapshot.today.actions_executed += 1;
    out.episodes.push(Episode {
        id: EpisodeId::new(),
        tenant: cause.tenant.clone(),
        employee_id: cause.employee,
        kind: EpisodeKind::Action,
        event_id: cause.event.map(|(e, _)| e),
        cause_id: cause.event.map(|(_, ep)| ep),
        channel: None,
        summary: format!("execute {kind}"),
        // What a model is to be told is the action's, not a memory of its own.
        payload: json!({"decision": "act", "id": id, "kind": kind, "params": without_compose(&params)}),
        at: now,
    });
    out.actions.push(OutboxEntry {
        key: OutboxEntry::key_for(cause.employee, id),
        employee_id: cause.employee,
        action_id: id,
        kind: kind.into(),
        params,
    });
}

fn record(
    d: Decision,
    snapshot: &mut Snapshot,
    cause: &Cause,
    cycle: u64,
    now: DateTime<Utc>,
    out: &mut Recorded,
) {
    let today = &mut snapshot.today;
    let (kind, summary) = match &d {
        Decision::Act(a) => (EpisodeKind::Action, act_summary(a)),
        Decision::Signal { kind, .. } => (EpisodeKind::Decision, format!("signal {kind}")),
        Decision::Gathering { plan, .. } => (EpisodeKind::Decision, format!("gathering {plan}")),
        Decision::Adopt { plan, .. } => (EpisodeKind::Decision, format!("adopt {plan}")),
        Decision::AskLlm { text, .. } => (EpisodeKind::Decision, format!("wrote: {text}")),
        Decision::Wait { event, .. } => (EpisodeKind::Decision, format!("wait {event}")),
        Decision::Complete { plan, success, .. } => {
            if *success {
                today.completed += 1;
            } else {
                today.failed += 1;
            }
            let verb = if *success { "completed" } else { "missed" };
            (EpisodeKind::Outcome, format!("{verb} {plan}"))
        }
        Decision::Fail { plan, .. } => {
            today.failed += 1;
            (EpisodeKind::Outcome, format!("failed {plan}"))
        }
        // Not an outcome of the plan: its actions were proposed, never carried out.
        Decision::Proposed { plan, .. } => (EpisodeKind::Decision, format!("proposed {plan}")),
        Decision::Drop { plan, .. } => (EpisodeKind::Decision, format!("drop {plan}")),
        Decision::Blocked { goal, .. } => (EpisodeKind::Decision, format!("blocked {goal}")),
        Decision::Learned { key, .. } => (EpisodeKind::Decision, format!("learned {key}")),
        Decision::Strategy {
            summary, situation, ..
        } => (
            EpisodeKind::Decision,
            format!("strategy: {summary} — {situation}"),
        ),
        Decision::StyleAdjusted { .. } => (EpisodeKind::Decision, "style adjusted".into()),
        Decision::ProposePromotion { to, .. } => (
            EpisodeKind::Decision,
            format!("propose promotion to {}", to.as_str()),
        ),
        Decision::Error { plan, .. } => (EpisodeKind::Decision, format!("error in {plan}")),
        Decision::Directive { summary, .. } => {
            (EpisodeKind::Decision, format!("directive: {summary}"))
        }
    };
    match &d {
        Decision::Act(a) => match &a.disposition {
            Disposition::Execute => {
                if a.kind == "escalate" {
                    today.escalations += 1;
                }
                // A message answered no longer counts against its SLA.
                if let Some(answered) = a.params["in_reply_to"].as_str()
                    && let Some(m) = snapshot.mind.as_mut()
                {
                    m.watch
                        .unanswered
                        .remove(crate::model::clean_message_id(answered));
                }
                let today = &mut snapshot.today;
                today.actions_executed += 1;
                snapshot.outbox.insert(a.id);
                out.actions.push(OutboxEntry {
                    key: OutboxEntry::key_for(cause.employee, a.id),
                    employee_id: cause.employee,
                    action_id: a.id,
                    kind: a.kind.clone(),
                    params: a.params.clone(),
                });
            }
            Disposition::Propose => today.actions_proposed += 1,
            Disposition::AwaitApproval { reason } => {
                today.approvals_requested += 1;
                out.approvals.push(Approval {
                    id: ApprovalId::derived(cause.employee, &format!("action:{}", a.id)),
                    employee_id: cause.employee,
                    status: ApprovalStatus::Pending,
                    action: serde_json::to_value(a).expect("an action serialises"),
                    reason: reason.clone(),
                    created_at: now,
                    decided_at: None,
                    decided_by: None,
                    decision_reason: None,
                    recipients: None,
                });
            }
        },
        Decision::ProposePromotion {
            to,
            agreement,
            decisions,
        } => {
            today.approvals_requested += 1;
            out.approvals.push(Approval {
                id: ApprovalId::derived(
                    cause.employee,
                    &format!("promotion:{}:{cycle}", to.as_str()),
                ),
                employee_id: cause.employee,
                status: ApprovalStatus::Pending,
                action: json!({"kind": "promotion", "to": to, "agreement": agreement, "decisions": decisions}),
                reason: format!(
                    "promotion to {}: {:.0}% agreement over {decisions} decisions meets the role's criteria",
                    to.as_str(),
                    agreement * 100.0
                ),
                created_at: now,
                decided_at: None,
                decided_by: None,
                decision_reason: None,
                recipients: None,
            });
        }
        _ => {}
    }
    out.episodes.push(Episode {
        id: EpisodeId::new(),
        tenant: cause.tenant.clone(),
        employee_id: cause.employee,
        kind,
        event_id: cause.event.map(|(e, _)| e),
        cause_id: cause.event.map(|(_, ep)| ep),
        channel: None,
        summary,
        payload: {
            let mut p = serde_json::to_value(&d).expect("a decision serialises");
            // What a model is to be told stays with the action in the outbox.
            if let Some(params) = p.get_mut("params") {
                *params = without_compose(params);
            }
            p
        },
        at: now,
    });
}

fn act_summary(a: &Action) -> String {
    let how = match a.disposition {
        Disposition::Execute => "execute",
        Disposition::Propose => "propose",
        Disposition::AwaitApproval { .. } => "ask approval for",
    };
    format!("{how} {}", a.kind)
}

/// One intention as the status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IntentionView {
    /// Id within the employee.
    pub id: u64,
    /// Plan.
    pub plan: String,
    /// Next step (0-based).
    pub step: usize,
    /// ready, waiting, awaiting_approval, awaiting_subgoal, awaiting_outcome.
    pub state: String,
    /// Goal served.
    pub goal: Option<String>,
    /// Since when in this state.
    pub since: DateTime<Utc>,
    /// The event kind awaited, when waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<String>,
}

/// One goal as the status shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GoalView {
    /// Goal id.
    pub id: String,
    /// What it is.
    pub description: String,
    /// 0..=1.
    pub progress: f64,
    /// The metric's latest value.
    pub current: Option<f64>,
    /// Target.
    pub target: f64,
    /// Urgency × importance × gap.
    pub priority: f64,
    /// Whether it cannot progress now.
    pub blocked: bool,
    /// Why, when blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// Whether its projection misses the target.
    pub at_risk: bool,
}

/// How the employee's judgement matches its humans' in this phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgreementView {
    /// Decisions that agreed or were approved.
    pub agreed: u32,
    /// Decisions scored.
    pub scored: u32,
    /// agreed / scored.
    pub rate: f64,
}

/// The Mind's part of the status.
pub(crate) fn mind_status(
    mind: &Mind,
) -> (Vec<IntentionView>, Vec<GoalView>, usize, AgreementView) {
    let intentions = mind
        .intentions
        .iter()
        .map(|i| IntentionView {
            id: i.id,
            plan: i.plan.clone(),
            step: i.step,
            state: i.state.name().into(),
            goal: i.goal.clone(),
            since: i.since,
            waiting_for: match &i.state {
                IntentionState::Waiting { event, .. } => Some(event.clone()),
                _ => None,
            },
        })
        .collect();
    let goals = mind
        .goals
        .iter()
        .map(|g| GoalView {
            id: g.spec.id.clone(),
            description: g.spec.description.clone(),
            progress: g.progress,
            current: g.current,
            target: g.spec.target,
            priority: g.priority,
            blocked: g.blocked.is_some(),
            blocked_reason: g.blocked.clone(),
            at_risk: g.at_risk(),
        })
        .collect();
    let pending = mind.pending_approvals().len() + usize::from(mind.agreement.proposed);
    let agreement = AgreementView {
        agreed: mind.agreement.agreed,
        scored: mind.agreement.scored,
        rate: mind.agreement.rate(),
    };
    (intentions, goals, pending, agreement)
}
