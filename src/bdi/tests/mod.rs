//! Scenario tests of the reasoning core: events in, decisions out.

use super::*;
use crate::config::RoleTemplate;
use chrono::{Duration, TimeZone};
use proptest::prelude::*;

const PLAYBOOK: &str = r#"
[[plans]]
name = "prospect_for_pipeline"
goal = "pipeline_coverage"
trigger = { event = "signal.pipeline_low" }
context = "goals.pipeline_coverage.progress < 1.0"
risk = 0.2
contingency = "ask_manager_for_leads"
success = { event = "email.reply", within = "48h" }
steps = [
  { action = "crm.find_leads", params = { segment = "mid-market", count = 5 } },
  { action = "email.send", params = { to = "lead@prospect.example", subject = "{{ style.greeting }} from {{ me.name }}", body = "Coverage is {{ goal.current }}" } },
]

[[plans]]
name = "cold_call_blitz"
goal = "pipeline_coverage"
trigger = { event = "signal.pipeline_low" }
risk = 0.9
steps = [{ action = "phone.call", params = { list = "all" } }]

[[plans]]
name = "ask_manager_for_leads"
goal = "pipeline_coverage"
trigger = { event = "never" }
steps = [{ escalate = "Pipeline coverage is {{ goal.current }}; can you share leads?" }]

[[plans]]
name = "follow_up"
trigger = { event = "email.received", when = "event.payload.intent == 'question'" }
steps = [
  { action = "email.reply", params = { body = "base" }, variants = [{ name = "short", params = { body = "Short answer." } }, { name = "long", params = { body = "A long answer." } }] },
]

[[plans]]
name = "quote_reply"
trigger = { event = "quote.asked" }
success = { event = "email.reply", within = "48h" }
contingency = "ask_manager_for_leads"
steps = [
  { action = "email.reply", params = { body = "base" }, variants = [{ name = "formal", params = { body = "Please find our quote attached." } }] },
]

[[plans]]
name = "await_reply"
trigger = { event = "deal.stalled" }
contingency = "ask_manager_for_leads"
steps = [
  { action = "email.send", params = { body = "checking in" } },
  { wait = "email.reply", when = "event.payload.deal == 'acme'", timeout = "2h" },
  { action = "crm.update", params = { stage = "replied" } },
]

[[plans]]
name = "discount_request"
trigger = { event = "deal.discount" }
steps = [
  { escalate = "Acme asks for 20% off", recommend = "Offer {{ 5 * 2 }}%", case = "discount" },
  { wait = "escalation.decided", when = "event.payload.decision == 'approve'", timeout = "48h" },
  { action = "crm.update", params = { discount = "10%" } },
]

[[plans]]
name = "trial_follow_up"
trigger = { event = "trial.started" }
steps = [
  { action = "email.send", params = { to = "sarah@acme.example", subject = "Your trial", body = "How is it going?" } },
  { wait = "email.reply", timeout = "3d", on_event = "finish", on_timeout = "continue" },
  { action = "email.reply", params = { follows = "{{ intention.last_action }}", body = "Just checking in" } },
  { wait = "email.reply", timeout = "4d", on_event = "finish", on_timeout = "continue" },
  { action = "email.reply", params = { follows = "{{ intention.last_action }}", body = "Last note from me" } },
]

[[plans]]
name = "weekly_note"
trigger = { event = "note.due" }
steps = [
  { llm = "compose", prompt = "Write {{ me.name }}'s weekly note", fallback = "{{ me.name }}: {% for g in goals %}{{ g.id }}{% if not loop.last %}, {% endif %}{% endfor %}", save_as = "note" },
  { action = "email.send", params = { to = "pat@acme.example", subject = "Weekly note", body = "{{ results.note }}" } },
]

[[triggers]]
name = "pipeline_low"
kind = "threshold"
metric = "pipeline_coverage"
below = 3.0

[[policies]]
action = "email.send"
when = "has(action.params.to) && action.params.to.endsWith('@prospect.example')"
reason = "email to a prospect needs approval"

[[plans]]
name = "follow_up_after_meeting"
trigger = { event = "review.prepared" }
steps = [
  { action = "calendar.propose", params = { title = "Review" } },
  { wait = "calendar.event", when = "event.payload.title == 'Review'", timeout = "30d" },
  { wait = "time", until = "{{ awaited.payload.end }}" },
  { action = "email.reply", params = { follows = "{{ intention.last_action }}", body = "Thanks; the review ended at {{ awaited.payload.end }}" } },
]
"#;

fn role() -> RoleTemplate {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/roles/sales_ae.toml"
    ))
    .expect("the shipped sales_ae role is readable");
    let mut r: RoleTemplate = toml::from_str(&src).expect("the shipped role parses");
    r.id = "sales_ae".into();
    r
}

fn playbook(max: usize) -> Playbook {
    let spec: PlaybookSpec = toml::from_str(PLAYBOOK).expect("the test playbook parses");
    let r = role();
    let goals: Vec<&str> = r.goals.iter().map(|g| g.id.as_str()).collect();
    Playbook::compile(&spec, &goals, max).expect("the test playbook compiles")
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

fn metric(v: f64) -> Input {
    ev("metric", json!({"metric": "pipeline_coverage", "value": v}))
}

fn ev(kind: &str, payload: Json) -> Input {
    Input::Event(Perceived {
        id: format!("ev-{kind}-{payload}"),
        kind: kind.into(),
        source: "test".into(),
        payload,
    })
}

struct World {
    pb: Playbook,
    persona: Persona,
    me: Json,
    now: DateTime<Utc>,
    mind: Mind,
}

impl World {
    fn new(phase: Phase) -> World {
        let r = role();
        World {
            pb: playbook(4),
            mind: Mind::new(&r.goals, phase, 7),
            persona: r.persona,
            me: json!({"name": "Jordan Lee", "manager": "pat@acme.example"}),
            now: t0(),
        }
    }

    fn run(&mut self, input: Input) -> Vec<Decision> {
        self.cycle(input, None)
    }

    /// A cycle on a node with a language model (which may see memories).
    fn with_model(&mut self, input: Input) -> Vec<Decision> {
        let share = crate::bdi::language::Share {
            memories: true,
            crm: false,
        };
        self.cycle(input, Some(share))
    }

    fn cycle(
        &mut self,
        input: Input,
        language: Option<crate::bdi::language::Share>,
    ) -> Vec<Decision> {
        let s = Situation {
            playbook: &self.pb,
            persona: &self.persona,
            me: &self.me,
            now: self.now,
            memory: None,
            language,
        };
        self.mind.cycle(&s, input)
    }
}

/// The outcome of action `action` coming back.
fn outcome(action: u64, success: bool) -> Input {
    Input::Outcome {
        action,
        success,
        event: Perceived {
            id: format!("outcome-{action}"),
            kind: "empla.outcome".into(),
            source: "capability".into(),
            payload: json!({"action_id": action, "status": if success { "done" } else { "failed" }}),
        },
    }
}

fn learned(d: &[Decision]) -> Vec<(String, bool)> {
    d.iter()
        .filter_map(|x| match x {
            Decision::Learned { key, success } => Some((key.clone(), *success)),
            _ => None,
        })
        .collect()
}

fn acts(d: &[Decision]) -> Vec<(String, Disposition)> {
    d.iter()
        .filter_map(|x| match x {
            Decision::Act(a) => Some((a.kind.clone(), a.disposition.clone())),
            _ => None,
        })
        .collect()
}

fn adopted(d: &[Decision]) -> Vec<String> {
    d.iter()
        .filter_map(|x| match x {
            Decision::Adopt { plan, .. } => Some(plan.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn low_pipeline_coverage_starts_prospecting_and_the_gate_follows_the_phase() {
    // A quick decider (decision_speed 0.8) acts on the first signal.
    let mut w = World::new(Phase::Autonomous);
    assert!(acts(&w.run(metric(3.4))).is_empty());
    let d = w.run(metric(2.1));
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Signal { kind, .. } if kind == "signal.pipeline_low"))
    );
    assert_eq!(
        adopted(&d),
        ["prospect_for_pipeline"],
        "the blitz (risk 0.9) is above this persona's bound (0.76)"
    );
    let a = acts(&d);
    assert_eq!(a[0], ("crm.find_leads".into(), Disposition::Execute));
    assert_eq!(a[1].0, "email.send");
    assert_eq!(
        a[1].1,
        Disposition::AwaitApproval {
            reason: "email to a prospect needs approval".into()
        },
        "policy holds autonomous email to prospects"
    );
    let email = d
        .iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == "email.send" => Some(a.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        email.params["subject"], "Hi from Jordan Lee",
        "persona style renders: professional_casual greets with Hi"
    );
    assert_eq!(email.params["body"], "Coverage is 2.1");

    let mut shadow = World::new(Phase::Shadow);
    shadow.run(metric(3.4));
    let a = acts(&shadow.run(metric(2.1)));
    assert!(a.iter().all(|(_, d)| *d == Disposition::Propose), "{a:?}");

    let mut assisted = World::new(Phase::Assisted);
    assisted.run(metric(3.4));
    let a = acts(&assisted.run(metric(2.1)));
    assert_eq!(
        a.len(),
        1,
        "the first action waits for approval before the next step"
    );
    assert!(matches!(a[0].1, Disposition::AwaitApproval { .. }));

    // What only reads runs in assisted; what changes something still waits.
    let mut assisted = World::new(Phase::Assisted);
    assisted.pb.reads.insert("crm.find_leads".into());
    assisted.run(metric(3.4));
    let a = acts(&assisted.run(metric(2.1)));
    assert_eq!(a[0], ("crm.find_leads".into(), Disposition::Execute));
    assert!(
        matches!(a[1].1, Disposition::AwaitApproval { .. }),
        "the outreach mail waits: {a:?}"
    );
}

#[test]
fn an_approved_action_runs_once_and_a_rejected_one_never() {
    let mut w = World::new(Phase::Assisted);
    w.run(metric(2.0));
    let pending: Vec<u64> = w.mind.pending_approvals().iter().map(|a| a.id).collect();
    assert_eq!(pending.len(), 1);
    let d = w.run(Input::Decided {
        action: pending[0],
        approved: true,
        reason: None,
    });
    let a = acts(&d);
    assert_eq!(a[0], ("crm.find_leads".into(), Disposition::Execute));
    assert!(
        matches!(a[1].1, Disposition::AwaitApproval { .. }),
        "the next step queues again"
    );
    // Approving the same action again does nothing.
    assert!(
        acts(&w.run(Input::Decided {
            action: pending[0],
            approved: true,
            reason: None
        }))
        .is_empty()
    );

    let next = w.mind.pending_approvals()[0].id;
    let d = w.run(Input::Decided {
        action: next,
        approved: false,
        reason: Some("wrong lead".into()),
    });
    assert!(
        acts(&d)
            .iter()
            .all(|(k, d)| k == "escalate" && *d == Disposition::Execute),
        "{d:?}"
    );
    assert!(d.iter().any(|x| matches!(x, Decision::Fail { reason, contingency: Some(c), .. } if reason == "rejected: wrong lead" && c == "ask_manager_for_leads")));
    assert!(d.iter().any(|x| matches!(x, Decision::Learned { key, success: false } if key == "plan:prospect_for_pipeline@signal.pipeline_low")));
    assert!(w.mind.pending_approvals().is_empty());
}

#[test]
fn a_wait_resumes_on_the_matching_event_and_times_out_into_the_contingency() {
    let mut w = World::new(Phase::Autonomous);
    let d = w.run(ev("deal.stalled", json!({})));
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Wait { event, .. } if event == "email.reply"))
    );
    // A reply about another deal does not resume it.
    assert!(acts(&w.run(ev("email.reply", json!({"deal": "globex"})))).is_empty());
    let d = w.run(ev("email.reply", json!({"deal": "acme"})));
    assert_eq!(acts(&d), [("crm.update".to_string(), Disposition::Execute)]);
    // The plan ends with its last action's outcome, not before.
    assert!(!d.iter().any(|x| matches!(x, Decision::Complete { .. })));
    let update = d
        .iter()
        .find_map(|x| match x {
            Decision::Act(a) => Some(a.id),
            _ => None,
        })
        .unwrap();
    let d = w.run(outcome(update, true));
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Complete { success: true, .. }))
    );

    let d = w.run(ev("deal.stalled", json!({})));
    assert_eq!(adopted(&d), ["await_reply"]);
    w.now += Duration::hours(3);
    let d = w.run(Input::Tick);
    assert!(d.iter().any(
        |x| matches!(x, Decision::Fail { plan, contingency: Some(_), .. } if plan == "await_reply")
    ));
    assert_eq!(adopted(&d), ["ask_manager_for_leads"]);
    assert_eq!(acts(&d)[0].0, "escalate");
}

#[test]
fn reaching_the_goal_drops_the_intention_and_outcomes_are_learned() {
    let mut w = World::new(Phase::Autonomous);
    w.policies_off();
    let d = w.run(metric(2.0));
    assert!(d.iter().any(|x| matches!(x, Decision::Act(a) if a.kind == "email.send" && a.disposition == Disposition::Execute)));
    assert_eq!(w.mind.intentions[0].state.name(), "awaiting_outcome");
    let d = w.run(metric(3.5));
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Drop { reason, .. } if reason == "its goal is met")),
        "{d:?}"
    );
    assert!(w.mind.intentions.is_empty());

    w.run(metric(2.0));
    let d = w.run(ev("email.reply", json!({})));
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Complete { success: true, .. }))
    );
    assert_eq!(
        w.mind
            .stats
            .get("plan:prospect_for_pipeline@signal.pipeline_low")
            .successes,
        1
    );
}

impl World {
    fn policies_off(&mut self) {
        self.pb.policies.clear();
    }
}

#[test]
fn different_personas_choose_differently_in_the_same_situation() {
    // Same state, same seed: a risk-taker may take the blitz, a cautious employee may not;
    // a deliberate one gathers evidence first.
    let bold = {
        let mut w = World::new(Phase::Autonomous);
        w.persona.decision.risk_tolerance = 1.0;
        w.persona.personality.openness = 1.0;
        w.persona.personality.conscientiousness = 0.0;
        // The blitz has a record of success; prospecting of failure.
        for _ in 0..20 {
            w.mind
                .stats
                .record("plan:cold_call_blitz@signal.pipeline_low", true);
            w.mind
                .stats
                .record("plan:prospect_for_pipeline@signal.pipeline_low", false);
        }
        w.run(metric(2.0))
    };
    assert_eq!(adopted(&bold), ["cold_call_blitz"]);

    let cautious = {
        let mut w = World::new(Phase::Autonomous);
        w.persona.decision.risk_tolerance = 0.1;
        for _ in 0..20 {
            w.mind
                .stats
                .record("plan:cold_call_blitz@signal.pipeline_low", true);
        }
        w.run(metric(2.0))
    };
    assert_eq!(
        adopted(&cautious),
        ["prospect_for_pipeline"],
        "the blitz (risk 0.9) is above 0.28"
    );

    // A deliberate employee gathers evidence on what it merely notices; a signal (which
    // fires once) it acts on at once.
    let mut slow = World::new(Phase::Autonomous);
    slow.persona.decision.decision_speed = 0.0;
    let d = slow.run(ev("trial.started", json!({})));
    assert!(adopted(&d).is_empty());
    assert!(d.iter().any(|x| matches!(
        x,
        Decision::Gathering {
            seen: 1,
            needed: 3,
            ..
        }
    )));
    let mut slow = World::new(Phase::Autonomous);
    slow.persona.decision.decision_speed = 0.0;
    assert_eq!(adopted(&slow.run(metric(2.0))), ["prospect_for_pipeline"]);
}

#[test]
fn the_better_variant_wins_most_choices_after_enough_outcomes() {
    let mut w = World::new(Phase::Autonomous);
    let question = |n: usize| ev("email.received", json!({"intent": "question", "n": n}));
    let mut chosen = BTreeMap::<String, usize>::new();
    for n in 0..300 {
        let d = w.run(question(n));
        let a = d
            .iter()
            .find_map(|x| match x {
                Decision::Act(a) => Some(a.clone()),
                _ => None,
            })
            .expect("a reply");
        let v = a.variant.clone().expect("a variant is chosen");
        if n >= 200 {
            *chosen.entry(v.clone()).or_default() += 1;
        }
        // The reply is sent; "short" answers get good ratings 80% of the time, "long" 20%.
        w.run(outcome(a.id, true));
        let good = if v == "short" { n % 5 != 0 } else { n % 5 == 0 };
        w.run(Input::Feedback {
            rating: Some(if good { 1.0 } else { 0.0 }),
            correction: None,
        });
    }
    let short = chosen.get("short").copied().unwrap_or(0);
    assert!(
        short >= 80,
        "short won {short} of the last 100 choices: {chosen:?}"
    );
}

#[test]
fn feedback_shifts_the_communication_style() {
    let mut w = World::new(Phase::Autonomous);
    let d = w.run(Input::Feedback {
        rating: None,
        correction: Some("Too formal, please".into()),
    });
    let style = d
        .iter()
        .find_map(|x| match x {
            Decision::StyleAdjusted { style } => Some(style.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(style["formality"], "informal");
    assert_eq!(style["greeting"], "Hey");
}

#[test]
fn shadow_agreement_leads_to_a_promotion_proposal() {
    let mut w = World::new(Phase::Shadow);
    w.pb.promotion = PromotionSpec {
        min_agreement: 0.8,
        min_decisions: 3,
    };
    let mut proposals = 0;
    for n in 0..4 {
        let id = format!("q{n}");
        w.run(Input::Event(Perceived {
            id: id.clone(),
            kind: "email.received".into(),
            source: "t".into(),
            payload: json!({"intent": "question"}),
        }));
        let d = w.run(Input::Observed {
            event_id: id,
            action: "email.reply".into(),
        });
        proposals += d
            .iter()
            .filter(|x| {
                matches!(
                    x,
                    Decision::ProposePromotion {
                        to: Phase::Assisted,
                        ..
                    }
                )
            })
            .count();
    }
    assert_eq!(proposals, 1, "proposed once when 3 decisions agreed");
    assert_eq!(w.mind.agreement.rate(), 1.0);
}

mod credit;
mod language;
mod sequences;
mod shipped;
mod state;
mod strategy;
mod talk;

#[test]
fn a_review_marks_the_plans_it_found_failing_until_the_next() {
    let mut w = World::new(Phase::Autonomous);
    w.run(ev(
        "review.completed",
        json!({"weak_plans": ["cold_call_blitz"], "weak_goals": []}),
    ));
    assert!(w.mind.cautious.contains("cold_call_blitz"));
    w.run(ev("review.completed", json!({"weak_plans": []})));
    assert!(w.mind.cautious.is_empty());
}

#[test]
fn an_llm_step_without_a_model_gives_its_fallback_text_to_the_next_step() {
    let mut w = World::new(Phase::Autonomous);
    let d = w.run(ev("note.due", json!({})));
    let (prompt, text) = d
        .iter()
        .find_map(|x| match x {
            Decision::AskLlm { prompt, text, .. } => Some((prompt.clone(), text.clone())),
            _ => None,
        })
        .expect("the llm step is taken");
    assert_eq!(prompt, "Write Jordan Lee's weekly note");
    // Every goal of the role, most pressing first.
    let mut goals: Vec<_> = w.mind.goals.iter().collect();
    goals.sort_by(|a, b| b.priority.total_cmp(&a.priority));
    let ids: Vec<&str> = goals.iter().map(|g| g.spec.id.as_str()).collect();
    assert_eq!(ids.len(), role().goals.len());
    assert_eq!(text, format!("Jordan Lee: {}", ids.join(", ")));
    let mail = d
        .iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == "email.send" => Some(a.params.clone()),
            _ => None,
        })
        .expect("the next step runs in the same cycle");
    assert_eq!(mail["body"], text.as_str());
}

#[test]
fn a_plan_ends_with_its_last_actions_outcome_or_with_its_success_criterion() {
    // No success criterion: the reply's outcome ends the plan, a failed one as failed,
    // and one that never comes fails it after a day.
    let mut w = World::new(Phase::Autonomous);
    let d = w.run(ev("email.received", json!({"intent": "question"})));
    assert!(!d.iter().any(|x| matches!(x, Decision::Complete { .. })));
    assert_eq!(w.mind.intentions[0].state.name(), "awaiting_outcome");
    w.now += Duration::hours(25);
    let d = w.run(Input::Tick);
    assert!(
        d.iter().any(
            |x| matches!(x, Decision::Complete { plan, success: false, .. } if plan == "follow_up")
        ),
        "{d:?}"
    );

    // A success criterion: the mail's outcome does not end the plan; the reply does.
    let mut w = World::new(Phase::Autonomous);
    w.policies_off();
    let d = w.run(metric(2.0));
    let mail = d
        .iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == "email.send" => Some(a.id),
            _ => None,
        })
        .unwrap();
    let d = w.run(outcome(mail, true));
    assert!(
        !d.iter().any(|x| matches!(x, Decision::Complete { .. })),
        "{d:?}"
    );
    let d = w.run(ev("email.reply", json!({})));
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Complete { success: true, .. }))
    );
}

#[test]
fn each_mail_is_its_own_case_while_a_signal_is_one_for_the_plan() {
    let mut w = World::new(Phase::Autonomous);
    let first = w.run(ev("email.received", json!({"intent": "question", "n": 1})));
    let second = w.run(ev("email.received", json!({"intent": "question", "n": 2})));
    assert_eq!(acts(&first).len(), 1);
    assert_eq!(acts(&second).len(), 1, "the second mail is answered too");
    assert_eq!(
        w.mind
            .intentions
            .iter()
            .filter(|i| i.plan == "follow_up")
            .count(),
        2
    );
    // The same mail perceived twice is one case.
    let again = w.run(ev("email.received", json!({"intent": "question", "n": 2})));
    assert!(acts(&again).is_empty(), "{again:?}");
}
