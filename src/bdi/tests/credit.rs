//! What outcomes and feedback are credited to: only what was carried out and worked.

use super::*;

fn act_of(d: &[Decision], kind: &str) -> Action {
    d.iter()
        .find_map(|x| match x {
            Decision::Act(a) if a.kind == kind => Some(a.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {kind} in {d:#?}"))
}

fn praise() -> Input {
    Input::Feedback {
        rating: Some(1.0),
        correction: None,
    }
}

#[test]
fn praise_after_a_failed_action_and_its_escalation_credits_the_escalation() {
    let mut w = World::new(Phase::Autonomous);
    let d = w.run(ev("quote.asked", json!({})));
    let mail = act_of(&d, "email.reply");
    assert_eq!(mail.disposition, Disposition::Execute);
    assert_eq!(mail.variant.as_deref(), Some("formal"));
    let variant = Stats::variant_key("quote_reply", 0, "formal");

    // The mail fails: the plan fails (learned so), and its contingency escalates.
    let d = w.run(outcome(mail.id, false));
    assert!(learned(&d).contains(&(variant.clone(), false)), "{d:#?}");
    let escalation = act_of(&d, "escalate");
    assert_eq!(escalation.plan, "ask_manager_for_leads");

    // The manager praises before the escalation's outcome is back: held until it is.
    assert_eq!(learned(&w.run(praise())), []);
    let d = w.run(outcome(escalation.id, true));
    assert_eq!(
        learned(&d),
        [("plan:ask_manager_for_leads@feedback".to_string(), true)]
    );
    // And again, now that it is back: still the escalation.
    assert_eq!(
        learned(&w.run(praise())),
        [("plan:ask_manager_for_leads@feedback".to_string(), true)]
    );

    // The failed mail was never credited a success.
    let r = w.mind.stats.get(&variant);
    assert_eq!((r.successes, r.failures), (0, 1));
    assert_eq!(
        w.mind.stats.get("plan:quote_reply@feedback"),
        Record::default()
    );
}

#[test]
fn feedback_on_a_failed_action_credits_nothing() {
    let mut w = World::new(Phase::Autonomous);
    let d = w.run(ev("email.received", json!({"intent": "question"})));
    let reply = act_of(&d, "email.reply");
    // Rated before its outcome, which then fails: the rating is dropped, and the plan
    // (which ended with that outcome) is learned a failure.
    w.run(praise());
    assert_eq!(
        learned(&w.run(outcome(reply.id, false))),
        [
            ("plan:follow_up@email.received".to_string(), false),
            ("variant:follow_up/0/long".to_string(), false)
        ]
    );
    assert_eq!(learned(&w.run(praise())), []);
    assert_eq!(
        w.mind.stats.get("plan:follow_up@feedback"),
        Record::default()
    );
}

#[test]
fn an_action_waiting_for_approval_is_not_what_feedback_is_about() {
    let mut w = World::new(Phase::Assisted);
    let d = w.run(ev("email.received", json!({"intent": "question"})));
    let reply = act_of(&d, "email.reply");
    assert!(matches!(
        reply.disposition,
        Disposition::AwaitApproval { .. }
    ));
    assert_eq!(learned(&w.run(praise())), []);
    // Approved, it runs; once it is sent, feedback is about it.
    w.run(Input::Decided {
        action: reply.id,
        approved: true,
        reason: None,
    });
    w.run(outcome(reply.id, true));
    let keys: Vec<String> = learned(&w.run(praise())).into_iter().map(|l| l.0).collect();
    assert_eq!(keys[0], "plan:follow_up@feedback");
    assert_eq!(keys.len(), 2, "the plan and the variant sent: {keys:?}");
}

#[test]
fn in_shadow_proposals_are_recorded_as_proposals_never_as_successes() {
    let mut w = World::new(Phase::Shadow);
    // A one-step plan: its reply is proposed and its steps run out at once.
    let d = w.run(Input::Event(Perceived {
        id: "q1".into(),
        kind: "email.received".into(),
        source: "t".into(),
        payload: json!({"intent": "question"}),
    }));
    assert_eq!(act_of(&d, "email.reply").disposition, Disposition::Propose);
    assert!(
        d.iter().any(|x| matches!(x,
            Decision::Proposed { plan, stopped: None, .. } if plan == "follow_up")),
        "{d:#?}"
    );
    assert!(!d.iter().any(|x| matches!(x, Decision::Complete { .. })));
    assert_eq!(learned(&d), []);
    // Praise for it, and the mentor doing the same: scored, not learned as done.
    assert_eq!(learned(&w.run(praise())), []);
    w.run(Input::Observed {
        event_id: "q1".into(),
        action: "email.reply".into(),
    });
    assert_eq!((w.mind.agreement.scored, w.mind.agreement.agreed), (1, 1));

    // A plan that waits for a reply to a mail it only proposed: the silence is no
    // failure of the plan either.
    w.run(ev("deal.stalled", json!({})));
    w.now += Duration::hours(3);
    let d = w.run(Input::Tick);
    assert!(
        d.iter().any(|x| matches!(x,
            Decision::Proposed { plan, stopped: Some(_), contingency: Some(c), .. }
                if plan == "await_reply" && c == "ask_manager_for_leads")),
        "{d:#?}"
    );
    assert!(!d.iter().any(|x| matches!(x, Decision::Fail { .. })));
    // Nor does it start the contingency: a shadow does not escalate a proposal that
    // stopped.
    assert!(adopted_plans(&d).is_empty(), "{d:#?}");
    assert!(
        !d.iter()
            .any(|x| matches!(x, Decision::Act(a) if a.kind == "escalate"))
    );

    // Nothing proposed is in the statistics choice learns from.
    assert_eq!(w.mind.stats.iter().count(), 0);
}

fn adopted_plans(d: &[Decision]) -> Vec<&str> {
    d.iter()
        .filter_map(|x| match x {
            Decision::Adopt { plan, .. } => Some(plan.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_older_snapshots_feedback_target_is_ignored_on_loading() {
    let old = rmp_serde::to_vec(&Some(("follow_up", vec!["variant:follow_up/0/short"]))).unwrap();
    let _: crate::bdi::credit::Retired = rmp_serde::from_slice(&old).unwrap();
}
