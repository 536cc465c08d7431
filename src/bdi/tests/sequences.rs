//! Steps that wait: escalations waiting for their decision, follow-up sequences
//! waiting for a reply.

use super::*;

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
    let d = w.run(decided("approve", asked.intention));
    assert_eq!(acts(&d), [("crm.update".to_string(), Disposition::Execute)]);
    let update = sent(&d)[0].2;
    assert!(
        w.run(outcome(update, true))
            .iter()
            .any(|x| matches!(x, Decision::Complete { success: true, .. }))
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
fn a_wait_until_a_time_goes_on_then_with_the_event_the_last_wait_saw() {
    let mut w = World::new(Phase::Autonomous);
    let offered = sent(&w.run(ev("review.prepared", json!({}))));
    assert_eq!(offered.len(), 1);
    // Another meeting does not end the wait; the review's booking does.
    assert!(sent(&w.run(ev("calendar.event", json!({"title": "Standup"})))).is_empty());
    let end = w.now + Duration::days(3);
    let booked = json!({"title": "Review", "end": end.to_rfc3339()});
    assert!(sent(&w.run(ev("calendar.event", booked))).is_empty());
    // Nothing before the review ends; the follow-up when it has.
    w.now += Duration::days(2);
    assert!(sent(&w.run(Input::Tick)).is_empty());
    w.now = end + Duration::minutes(1);
    let after = sent(&w.run(Input::Tick));
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].0, "email.reply");
    assert_eq!(after[0].1["follows"], offered[0].2.to_string());
    assert_eq!(
        after[0].1["body"],
        format!("Thanks; the review ended at {}", end.to_rfc3339())
    );
    w.run(outcome(after[0].2, true));
    assert!(w.mind.intentions.is_empty());

    // A time that is no time is reported, and with no timeout to fall back on the plan
    // fails rather than wait for ever.
    sent(&w.run(ev("review.prepared", json!({"again": true}))));
    let d = w.run(ev(
        "calendar.event",
        json!({"title": "Review", "end": "soon"}),
    ));
    assert!(
        d.iter().any(|x| matches!(x, Decision::Error { message, .. } if message.contains("`until` rendered \"soon\", not a time"))),
        "{d:?}"
    );
    assert!(
        d.iter().any(|x| matches!(x, Decision::Fail { .. })),
        "{d:?}"
    );
    assert!(w.mind.intentions.is_empty());
}

#[test]
fn the_shipped_outreach_researches_first_and_its_follow_ups_follow_the_outreach() {
    let r = role();
    let spec = PlaybookSpec {
        plans: r.plans.clone(),
        triggers: r.triggers.clone(),
        policies: r.policies.clone(),
        promotion: Default::default(),
    };
    let goals: Vec<&str> = r.goals.iter().map(|g| g.id.as_str()).collect();
    let mut w = World::new(Phase::Autonomous);
    w.pb = Playbook::compile(&spec, &goals, 8).expect("the shipped role compiles");
    let lead = json!({
        "lead": "Sarah Chen <sarah@acme.example>", "first_name": "Sarah", "name": "Sarah Chen",
        "email": "sarah@acme.example", "contact": "c1", "company": "Acme", "account": "a1",
        "signal": "Hiring 12 sales reps", "score": 0.8,
    });
    let first = sent(&w.run(ev("crm.lead", lead)));
    assert_eq!(first.len(), 1, "research comes first: {first:?}");
    assert_eq!(first[0].0, "research.search");
    // The research found news: the outreach names it.
    let outcome = Perceived {
        id: "o1".into(),
        kind: "empla.outcome".into(),
        source: "outbox".into(),
        payload: json!({"action_id": first[0].2, "kind": "research.search", "status": "done",
            "result": {"query": "Acme", "learnt": ["Acme raised $40M"]}}),
    };
    let next = sent(&w.run(Input::Outcome {
        action: first[0].2,
        success: true,
        event: outcome,
    }));
    let kinds: Vec<&str> = next.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(kinds, ["email.send"]);
    let body = next[0].1["body"].as_str().unwrap();
    assert!(
        body.contains("I noticed the news at Acme (Acme raised $40M)"),
        "{body}"
    );
    // Silence: the follow-up answers the outreach itself, in its thread.
    w.now += Duration::days(3) + Duration::minutes(1);
    let touch = sent(&w.run(Input::Tick));
    assert_eq!(touch.len(), 1, "{touch:?}");
    assert_eq!(touch[0].0, "email.reply");
    assert_eq!(touch[0].1["follows"], next[0].2.to_string());
}

#[test]
fn out_of_the_shadow_the_employee_starts_afresh_on_what_still_holds() {
    let mut w = World::new(Phase::Shadow);
    w.run(metric(3.4));
    let shadowed = acts(&w.run(metric(2.1)));
    assert!(
        shadowed.iter().all(|(_, d)| *d == Disposition::Propose),
        "{shadowed:?}"
    );
    assert!(!w.mind.intentions.is_empty());
    // Promoted: the proposals' intentions go, and the low coverage is acted on for real.
    let d = w.run(Input::SetPhase(Phase::Autonomous));
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Drop { plan, .. } if plan == "prospect_for_pipeline")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|x| matches!(x, Decision::Signal { kind, .. } if kind == "signal.pipeline_low")),
        "{d:?}"
    );
    assert_eq!(
        acts(&d).first(),
        Some(&("crm.find_leads".to_string(), Disposition::Execute))
    );
}
