//! The state a mind keeps: bounded whatever arrives, and restored exactly from a
//! snapshot.

use super::*;

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
