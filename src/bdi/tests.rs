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

[[triggers]]
name = "pipeline_low"
kind = "threshold"
metric = "pipeline_coverage"
below = 3.0

[[policies]]
action = "email.send"
when = "has(action.params.to) && action.params.to.endsWith('@prospect.example')"
reason = "email to a prospect needs approval"
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
        let s = Situation {
            playbook: &self.pb,
            persona: &self.persona,
            me: &self.me,
            now: self.now,
            memory: None,
        };
        self.mind.cycle(&s, input)
    }
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

    let mut slow = World::new(Phase::Autonomous);
    slow.persona.decision.decision_speed = 0.0;
    let d = slow.run(metric(2.0));
    assert!(adopted(&d).is_empty());
    assert!(d.iter().any(|x| matches!(
        x,
        Decision::Gathering {
            seen: 1,
            needed: 3,
            ..
        }
    )));
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
        // The outcome: "short" answers get good ratings 80% of the time, "long" 20%.
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

#[test]
fn intentions_never_exceed_the_bound() {
    let mut w = World::new(Phase::Autonomous);
    w.pb = playbook(1);
    w.run(ev("deal.stalled", json!({})));
    let d = w.run(metric(2.0));
    assert!(w.mind.intentions.len() <= 1);
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Drop { reason, .. } if reason.starts_with("outranked"))),
        "{d:?}"
    );
}

#[test]
fn a_restored_mind_continues_exactly_where_it_was() {
    let mut a = World::new(Phase::Assisted);
    a.run(metric(2.0));
    let bytes = rmp_serde::to_vec(&a.mind).unwrap();
    let mut b = World::new(Phase::Assisted);
    b.mind = rmp_serde::from_slice(&bytes).unwrap();
    b.mind.restore(&role().goals, b.now);
    let id = a.mind.pending_approvals()[0].id;
    let da = a.run(Input::Decided {
        action: id,
        approved: true,
        reason: None,
    });
    let db = b.run(Input::Decided {
        action: id,
        approved: true,
        reason: None,
    });
    assert_eq!(da, db);
    assert_eq!(a.mind, b.mind);
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        (0.0..6.0f64).prop_map(metric),
        Just(ev("deal.stalled", json!({}))),
        Just(ev("email.reply", json!({"deal": "acme"}))),
        (0..50usize).prop_map(|n| ev("email.received", json!({"intent": "question", "n": n}))),
        Just(Input::Tick),
        (1..40u64, any::<bool>()).prop_map(|(action, approved)| Input::Decided {
            action,
            approved,
            reason: None
        }),
        (0.0..1.0f64).prop_map(|r| Input::Feedback {
            rating: Some(r),
            correction: None
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_same_seed_and_inputs_give_the_same_decisions(inputs in proptest::collection::vec((any_input(), 0..180i64), 1..40)) {
        let mut a = World::new(Phase::Autonomous);
        let mut b = World::new(Phase::Autonomous);
        for (input, minutes) in inputs {
            a.now += Duration::minutes(minutes);
            b.now += Duration::minutes(minutes);
            prop_assert_eq!(a.run(input.clone()), b.run(input));
        }
        prop_assert_eq!(a.mind, b.mind);
    }

    #[test]
    fn shadow_never_executes_and_the_bound_holds(inputs in proptest::collection::vec((any_input(), 0..180i64), 1..40)) {
        let mut w = World::new(Phase::Shadow);
        w.pb = playbook(2);
        for (input, minutes) in inputs {
            w.now += Duration::minutes(minutes);
            for d in w.run(input) {
                if let Decision::Act(a) = d {
                    prop_assert!(a.kind == "escalate" || a.disposition == Disposition::Propose, "{:?}", a);
                }
            }
            prop_assert!(w.mind.intentions.len() <= 2);
        }
    }

    #[test]
    fn a_failure_with_a_contingency_runs_it(delay in 121..600i64) {
        let mut w = World::new(Phase::Autonomous);
        w.run(ev("deal.stalled", json!({})));
        w.now += Duration::minutes(delay);
        let d = w.run(Input::Tick);
        prop_assert_eq!(adopted(&d), vec!["ask_manager_for_leads".to_string()]);
    }
}

#[test]
fn an_escalation_waits_for_its_own_decision_and_ends_when_declined() {
    let mut w = World::new(Phase::Autonomous);
    let d = w.run(ev("deal.discount", json!({"deal": "acme"})));
    let asked = d
        .iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == "escalate" => Some(a.clone()),
            _ => None,
        })
        .expect("the case is escalated");
    assert_eq!(asked.params["case"], "discount");
    assert_eq!(asked.params["recommendation"], "Offer 10%");
    assert_eq!(asked.params["context"]["plan"], "discount_request");
    assert_eq!(asked.params["intention"], asked.intention);
    let decided = |decision: &str, intention: u64| {
        ev(
            "escalation.decided",
            json!({"decision": decision, "intention": intention, "reason": "margin"}),
        )
    };
    // Another intention's decision does not move this one; its own approval does.
    assert!(acts(&w.run(decided("approve", asked.intention + 100))).is_empty());
    assert_eq!(
        acts(&w.run(decided("approve", asked.intention))),
        [("crm.update".to_string(), Disposition::Execute)]
    );

    let d = w.run(ev("deal.discount", json!({"deal": "globex"})));
    let asked = d
        .iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == "escalate" => Some(a.clone()),
            _ => None,
        })
        .expect("the second case is escalated");
    let d = w.run(decided("reject", asked.intention));
    assert!(acts(&d).is_empty(), "a declined case is not acted on");
    assert!(
        d.iter().any(
            |x| matches!(x, Decision::Fail { reason, .. } if reason.contains("declined: margin"))
        ),
        "{d:?}"
    );
    assert!(w.mind.intentions.is_empty());
}

fn sent(d: &[Decision]) -> Vec<(String, Json, u64)> {
    d.iter()
        .filter_map(|x| match x {
            Decision::Act(a) => Some((a.kind.clone(), a.params.clone(), a.id)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_follow_up_sequence_touches_again_after_each_silence_and_stops_on_the_reply() {
    let mut w = World::new(Phase::Autonomous);
    let first = sent(&w.run(ev("trial.started", json!({}))));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, "email.send");
    // Nothing for two days: nothing more.
    w.now += Duration::days(2);
    assert!(sent(&w.run(Input::Tick)).is_empty());
    // Silence past the first wait: the second touch follows up the first message.
    w.now += Duration::days(1) + Duration::minutes(1);
    let second = sent(&w.run(Input::Tick));
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].0, "email.reply");
    assert_eq!(second[0].1["follows"], first[0].2.to_string());
    // The reply stops the sequence: no third touch, ever.
    let d = w.run(ev("email.reply", json!({"from": "sarah@acme.example"})));
    assert!(sent(&d).is_empty());
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Complete { success: true, .. }))
    );
    w.now += Duration::days(10);
    assert!(sent(&w.run(Input::Tick)).is_empty());
    assert!(w.mind.intentions.is_empty());

    // With no reply at all, every touch goes out once, and the sequence then ends.
    let mut touches = sent(&w.run(ev("trial.started", json!({"again": true}))));
    for _ in 0..4 {
        w.now += Duration::days(4) + Duration::minutes(1);
        touches.extend(sent(&w.run(Input::Tick)));
    }
    let kinds: Vec<&str> = touches.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(kinds, ["email.send", "email.reply", "email.reply"]);
    assert_eq!(touches[2].1["follows"], touches[1].2.to_string());
    assert!(w.mind.intentions.is_empty());
}

#[test]
fn follow_up_options_are_checked() {
    let spec: PlaybookSpec = toml::from_str(
        r#"
[[plans]]
name = "bad"
trigger = { event = "x" }
steps = [
  { wait = "email.reply", on_event = "stop" },
  { wait = "email.reply", on_timeout = "continue" },
  { action = "crm.update", on_timeout = "continue" },
]
"#,
    )
    .unwrap();
    let errors = Playbook::compile(&spec, &[], 4).unwrap_err();
    let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        text.iter()
            .any(|e| e.contains("steps[0].on_event") && e.contains("\"finish\"")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|e| e.contains("steps[1].on_timeout") && e.contains("timeout")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|e| e.contains("steps[2]") && e.contains("`wait` only")),
        "{text:?}"
    );
}

#[test]
fn whatever_arrives_the_state_stays_within_its_bounds_and_keeps_what_goals_read() {
    let mut w = World::new(Phase::Shadow);
    w.run(metric(0.5));
    for i in 0..2_000 {
        w.now += Duration::seconds(1);
        w.run(ev("metric", json!({"metric": format!("m{i}"), "value": i})));
        w.run(ev(
            "belief",
            json!({"key": format!("fact.{i}"), "value": "x".repeat(10_000)}),
        ));
        w.run(ev(&format!("custom.k{i}"), json!({"i": i})));
    }
    let m = &w.mind;
    // The goal's metric is kept however many others come; the newest others stay.
    assert_eq!(m.metrics.latest("pipeline_coverage"), Some(0.5));
    assert!(
        m.metrics.len() <= bounds::METRICS_KEPT + 1,
        "{}",
        m.metrics.len()
    );
    assert_eq!(m.metrics.latest("m1999"), Some(1999.0));
    assert!(m.beliefs.len() <= bounds::BELIEFS_KEPT);
    assert!(w.mind.beliefs.clone().bytes() <= bounds::BELIEF_BYTES);
    assert!(m.beliefs.count_prefix("last.") <= bounds::EVENT_BELIEFS_KEPT);
    assert!(m.beliefs.get("last.custom.k1999").is_some());
    // A metric forgotten takes its belief with it.
    assert!(m.beliefs.get("metric.m0").is_none());
    let fact = m.beliefs.get("fact.1999").expect("the newest fact is kept");
    assert!(serde_json::to_string(&fact.value).unwrap().len() <= bounds::VALUE_BYTES);
    let bytes = rmp_serde::to_vec(m).unwrap().len();
    assert!(bytes < 512 * 1024, "{bytes} bytes");
}
