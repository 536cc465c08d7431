//! Employees think, through the node: a metric starts a plan, the onboarding gate holds
//! its actions (proposed in shadow, queued in assisted), humans decide, actions run
//! once through the outbox, and nothing is lost across a restart. On SQLite and
//! PostgreSQL.

use super::common::{eventually, options};
use empla::actors::EmployeeRuntime;
use empla::bdi::Phase;
use empla::lifecycle::HireRequest;
use empla::model::{ActionStatus, Approval, ApprovalStatus, EmployeeId, EpisodeKind, NewEvent};
use empla::node::Node;
use empla::store::Store;
use serde_json::json;

crate::on_every_store!(
    low_coverage_starts_prospecting_and_assisted_actions_wait_for_approval,
    an_approved_reply_is_sent_once_and_a_rejected_one_never,
    in_shadow_actions_are_proposed_and_scored_against_the_mentor,
    agreement_leads_to_a_promotion_the_manager_approves_in_the_queue,
    an_action_stored_but_not_run_before_a_stop_runs_once_at_the_next_start,
    a_passivated_employee_is_woken_when_a_message_outlives_its_sla,
    an_active_employee_reasons_on_its_own_cadence,
);

async fn start(store: &Store, promote_after: Option<u32>) -> Node {
    let mut opts = options("acme");
    if let Some(n) = promote_after {
        let ae = opts.roles.get_mut("sales_ae").unwrap();
        ae.promotion.min_decisions = n;
    }
    Node::start_with_store(store.clone(), opts).await.unwrap()
}

async fn hire(node: &Node) -> EmployeeId {
    let mut req = HireRequest::new("sales_ae", "Jordan Lee");
    req.manager = Some(empla::model::Manager::Human {
        name: "Dana Boss".into(),
        email: "dana@example.com".into(),
    });
    node.hire(req).await.unwrap().id
}

fn event(kind: &str, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        source: "test".into(),
        payload,
        idempotency_key: None,
    }
}

async fn status(node: &Node, id: EmployeeId) -> EmployeeRuntime {
    node.employee_runtime(id).await.unwrap()
}

/// Waits until the employee has exactly `n` pending approvals and returns them.
async fn pending(node: &Node, id: EmployeeId, n: usize) -> Vec<Approval> {
    eventually(20, &format!("{n} pending approvals"), || async {
        let a = node
            .approvals(Some(id), Some(ApprovalStatus::Pending), 100)
            .await
            .unwrap();
        (a.len() == n).then_some(a)
    })
    .await
}

/// Waits until the employee's outbox holds `n` settled actions and returns their kinds,
/// oldest first.
async fn settled(node: &Node, id: EmployeeId, n: usize) -> Vec<(String, ActionStatus)> {
    eventually(20, &format!("{n} settled actions"), || async {
        let a = node.actions(id, 100).await.unwrap();
        let done: Vec<_> = a
            .iter()
            .rev()
            .filter(|r| r.status != ActionStatus::Pending)
            .map(|r| (r.entry.kind.clone(), r.status))
            .collect();
        (a.len() == n && done.len() == n).then_some(done)
    })
    .await
}

async fn low_coverage_starts_prospecting_and_assisted_actions_wait_for_approval(store: Store) {
    let node = start(&store, None).await;
    let id = hire(&node).await;
    node.set_phase(id, Phase::Assisted).await.unwrap();
    // One prospect in the CRM that fits the plan's profile.
    super::common::northwind(&node).await;
    node.submit_event(
        id,
        event(
            "metric",
            json!({"metric": "pipeline_coverage", "value": 2.1}),
        ),
    )
    .await
    .unwrap();

    // Coverage 2.1 < 3: the pipeline_low trigger starts prospecting. Finding the lead and
    // researching its company only read, and run; the outreach mail waits for a human.
    let queue = pending(&node, id, 1).await;
    assert_eq!(queue[0].action["kind"], "email.send");
    assert_eq!(queue[0].action["plan"], "reach_out_to_lead");
    assert_eq!(
        queue[0].action["params"]["to"],
        "Ana Torres <ana.torres@northwind.example>"
    );
    assert!(queue[0].reason.contains("assisted"), "{}", queue[0].reason);
    assert_eq!(
        settled(&node, id, 2).await,
        vec![
            ("crm.find_leads".to_string(), ActionStatus::Done),
            ("research.search".to_string(), ActionStatus::Done)
        ]
    );
    let s = status(&node, id).await;
    assert_eq!(s.phase, Phase::Assisted);
    assert_eq!(s.pending_approvals, 1);
    // Prospecting waits for its success (a reply within 48 hours); the outreach waits
    // for a human.
    let states: Vec<(&str, &str)> = s
        .intentions
        .iter()
        .map(|i| (i.plan.as_str(), i.state.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("prospect_for_pipeline", "awaiting_outcome"),
            ("reach_out_to_lead", "awaiting_approval")
        ]
    );
    assert_eq!(s.today.approvals_requested, 1);
    let coverage = s
        .goals
        .iter()
        .find(|g| g.id == "pipeline_coverage")
        .unwrap();
    assert!((coverage.progress - 0.7).abs() < 1e-9, "{coverage:?}");
    assert!(
        node.mail_inbox("ana.torres@northwind.example", 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was sent"
    );

    // A restart between the proposal and the decision loses nothing.
    node.shutdown().await;
    let node = start(&store, None).await;
    let queue = pending(&node, id, 1).await;
    let s = status(&node, id).await;
    let outreach = s.intentions.iter().find(|i| i.plan == "reach_out_to_lead");
    assert_eq!(outreach.unwrap().state, "awaiting_approval");

    // Approved: the mail goes out once.
    let decided = node
        .decide(queue[0].id, true, "dana", Some("go ahead".into()))
        .await
        .unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert!(
        node.decide(queue[0].id, true, "dana", None).await.is_err(),
        "a decision is taken once"
    );
    assert_eq!(
        settled(&node, id, 3).await[2],
        ("email.send".to_string(), ActionStatus::Done)
    );
    let sent = node
        .mail_inbox("ana.torres@northwind.example", 10)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].body.starts_with("Hi Ana,"), "{}", sent[0].body);

    // Every decision is in episodic memory, caused by the event that led to it.
    let eps = node.episodes(id, 200, None).await.unwrap();
    let adopt = eps
        .iter()
        .find(|(_, e)| e.summary == "adopt prospect_for_pipeline")
        .expect("the adoption is recorded");
    let cause = eps
        .iter()
        .find(|(_, e)| Some(e.id) == adopt.1.cause_id)
        .expect("its cause is recorded");
    assert_eq!(cause.1.kind, EpisodeKind::Event);
    assert_eq!(cause.1.summary, "metric");
    node.shutdown().await;
}

async fn an_approved_reply_is_sent_once_and_a_rejected_one_never(store: Store) {
    let node = start(&store, None).await;
    let id = hire(&node).await;
    node.set_phase(id, Phase::Assisted).await.unwrap();
    let me = node.employee(id).await.unwrap().unwrap().email;
    let lead = |n: u32| empla::model::OutgoingMail {
        from: "sarah@acme.com".into(),
        to: me.clone(),
        subject: format!("Question {n}"),
        body: "Could you send us a quote?".into(),
        in_reply_to: None,
    };
    let asked = node.send_mail(lead(1)).await.unwrap();
    let queue = pending(&node, id, 1).await;
    assert_eq!(queue[0].action["kind"], "email.reply");
    assert_eq!(
        queue[0].action["params"]["in_reply_to"],
        asked.as_str(),
        "templates render the event"
    );
    node.decide(queue[0].id, true, "dana", None).await.unwrap();
    assert_eq!(
        settled(&node, id, 1).await,
        vec![("email.reply".to_string(), ActionStatus::Done)]
    );
    let inbox = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
    assert_eq!(inbox.len(), 1, "sent once: {inbox:?}");
    assert_eq!(inbox[0].in_reply_to.as_deref(), Some(asked.as_str()));

    // The next lead's reply is rejected: it never runs, and the plan learns it failed.
    node.send_mail(lead(2)).await.unwrap();
    let queue = pending(&node, id, 1).await;
    let rejected = node
        .decide(queue[0].id, false, "dana", Some("too pushy".into()))
        .await
        .unwrap();
    assert_eq!(rejected.status, ApprovalStatus::Rejected);
    assert_eq!(rejected.decision_reason.as_deref(), Some("too pushy"));
    eventually(20, "the rejection to be learned", || async {
        let eps = node.episodes(id, 200, None).await.unwrap();
        eps.iter()
            .any(|(_, e)| {
                e.summary == "failed ask_quote_details"
                    && e.payload["reason"].as_str() == Some("rejected: too pushy")
            })
            .then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let actions = node.actions(id, 100).await.unwrap();
    assert_eq!(
        actions.len(),
        1,
        "the rejected reply never ran: {actions:?}"
    );
    assert!(status(&node, id).await.intentions.is_empty());
    node.shutdown().await;
}

async fn in_shadow_actions_are_proposed_and_scored_against_the_mentor(store: Store) {
    let node = start(&store, None).await;
    let id = hire(&node).await;
    assert_eq!(
        status(&node, id).await.phase,
        Phase::Shadow,
        "new hires shadow"
    );
    let a = node
        .submit_event(
            id,
            event(
                "email.received",
                json!({"from": "sarah@acme.com", "intent": "quote", "internal": false, "message_id": "<m1@acme.com>"}),
            ),
        )
        .await
        .unwrap();
    eventually(20, "the proposal", || async {
        (status(&node, id).await.today.actions_proposed == 1).then_some(())
    })
    .await;
    eventually(20, "the proposal to be recorded", || async {
        let eps = node.episodes(id, 50, None).await.unwrap();
        eps.iter()
            .any(|(_, e)| e.kind == EpisodeKind::Action && e.summary == "propose email.reply")
            .then_some(())
    })
    .await;
    assert!(node.approvals(Some(id), None, 10).await.unwrap().is_empty());
    assert!(
        node.actions(id, 10).await.unwrap().is_empty(),
        "never executed"
    );

    node.observe(id, a.event_id, "email.reply".into())
        .await
        .unwrap();
    let s = eventually(20, "the agreement to be scored", || async {
        let s = status(&node, id).await;
        (s.agreement.scored == 1).then_some(s)
    })
    .await;
    assert_eq!(s.agreement.agreed, 1);

    // The plan's one step was proposed, so it ended as a proposal: not a completion,
    // nothing learned, and no success in procedural memory — not even after praise.
    let proposed = eventually(20, "the plan's end recorded", || async {
        let eps = node.episodes(id, 50, None).await.unwrap();
        eps.iter()
            .any(|(_, e)| e.summary == "proposed ask_quote_details")
            .then_some(eps)
    })
    .await;
    node.feedback(id, Some(1.0), None, None).await.unwrap();
    eventually(20, "the praise handled", || async {
        (status(&node, id).await.events_handled >= 3).then_some(())
    })
    .await;
    let eps = node.episodes(id, 50, None).await.unwrap();
    for (_, e) in proposed.iter().chain(&eps) {
        assert!(
            e.kind != EpisodeKind::Outcome && !e.summary.starts_with("learned"),
            "{} {}",
            e.summary,
            e.payload
        );
    }
    assert_eq!(status(&node, id).await.today.completed, 0);
    node.consolidate(id, chrono::Utc::now().date_naive())
        .await
        .unwrap();
    let procedures = node.procedures(id, None).await.unwrap();
    assert!(
        procedures.iter().all(|p| p.successes == 0),
        "{procedures:#?}"
    );
    node.shutdown().await;
}

async fn agreement_leads_to_a_promotion_the_manager_approves_in_the_queue(store: Store) {
    let node = start(&store, Some(2)).await;
    let id = hire(&node).await;
    for n in 0..2 {
        let a = node
            .submit_event(
                id,
                event(
                    "email.received",
                    json!({"intent": "quote", "internal": false, "message_id": format!("<m{n}@acme.com>")}),
                ),
            )
            .await
            .unwrap();
        // Wait until the proposal exists before the mentor's action is reported.
        eventually(20, "the proposal", || async {
            (status(&node, id).await.today.actions_proposed == n + 1).then_some(())
        })
        .await;
        node.observe(id, a.event_id, "email.reply".into())
            .await
            .unwrap();
    }
    let queue = pending(&node, id, 1).await;
    assert_eq!(queue[0].action["kind"], "promotion");
    assert_eq!(queue[0].action["to"], "assisted");
    node.decide(queue[0].id, true, "dana", None).await.unwrap();
    let s = eventually(20, "the promotion", || async {
        let s = status(&node, id).await;
        (s.phase == Phase::Assisted).then_some(s)
    })
    .await;
    assert_eq!(s.pending_approvals, 0);
    assert_eq!(
        s.agreement.scored, 0,
        "agreement starts again in the new phase"
    );
    node.shutdown().await;
}

async fn an_action_stored_but_not_run_before_a_stop_runs_once_at_the_next_start(store: Store) {
    let node = start(&store, None).await;
    let id = hire(&node).await;
    node.shutdown().await;
    // As if the node died right after committing a decision to send an email: the
    // outbox row and the snapshot naming it are stored, the capability never ran.
    let (writer, _task) = empla::store::StoreWriter::start(store.clone(), &Default::default());
    let snapshot = empla::actors::Snapshot {
        outbox: [5].into(),
        ..Default::default()
    };
    writer
        .complete(empla::store::Completion {
            fence: None,
            tenant: empla::model::TenantId::new("acme"),
            employee: id,
            event_id: None,
            episodes: Vec::new(),
            snapshot: Some(rmp_serde::to_vec_named(&snapshot).unwrap()),
            wake_at: None,
            approvals: Vec::new(),
            actions: vec![empla::model::OutboxEntry {
                key: empla::model::OutboxEntry::key_for(id, 5),
                employee_id: id,
                action_id: 5,
                kind: "email.send".into(),
                params: json!({"to": "sarah@acme.com", "subject": "Following up", "body": "Hello Sarah"}),
            }],
        }, None)
        .await
        .unwrap();
    writer.flush().await;

    let node = start(&store, None).await;
    assert_eq!(
        settled(&node, id, 1).await,
        vec![("email.send".to_string(), ActionStatus::Done)]
    );
    let inbox = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
    assert_eq!(inbox.len(), 1, "sent once: {inbox:?}");
    assert_eq!(
        inbox[0].message_id,
        empla::capabilities::email::message_id_for(
            &empla::model::OutboxEntry::key_for(id, 5),
            "example.com"
        ),
        "the Message-ID comes from the action's key"
    );
    // Its outcome reached the employee, once.
    eventually(20, "the outcome event", || async {
        let eps = node.episodes(id, 50, None).await.unwrap();
        let outcomes = eps
            .iter()
            .filter(|(_, e)| e.summary == "empla.outcome")
            .count();
        (outcomes == 1).then_some(())
    })
    .await;
    node.shutdown().await;
    let node = start(&store, None).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(node.actions(id, 10).await.unwrap().len(), 1);
    let eps = node.episodes(id, 50, None).await.unwrap();
    assert_eq!(
        eps.iter()
            .filter(|(_, e)| e.summary == "empla.outcome")
            .count(),
        1,
        "nothing ran twice"
    );
    node.shutdown().await;
}

/// Options whose Sales AE expects an answer within 1.5 seconds.
fn short_sla() -> empla::node::NodeOptions {
    let mut opts = options("acme");
    let ae = opts.roles.get_mut("sales_ae").unwrap();
    let sla = ae
        .triggers
        .iter_mut()
        .find(|t| t.name == "prospect_waiting")
        .unwrap();
    sla.hours = Some(1.5 / 3600.0); // 1.5 seconds
    opts
}

async fn an_active_employee_reasons_on_its_own_cadence(store: Store) {
    let mut opts = short_sla();
    // No sweep (and so no due wake-ups) during the test: only the cadence runs cycles.
    opts.runtime.passivation_sweep_every = std::time::Duration::from_secs(3600);
    opts.runtime.reflection_interval = std::time::Duration::from_secs(1);
    let node = Node::start_with_store(store.clone(), opts).await.unwrap();
    let id = hire(&node).await;
    node.submit_event(
        id,
        event("email.received", json!({"message_id": "<m1@acme.com>"})),
    )
    .await
    .unwrap();
    let signal = eventually(20, "the SLA signal", || async {
        let eps = node.episodes(id, 50, None).await.unwrap();
        eps.into_iter()
            .find(|(_, e)| e.summary == "signal signal.prospect_waiting")
    })
    .await;
    assert!(
        signal.1.cause_id.is_none(),
        "raised by the employee's own cadence"
    );
    assert_eq!(
        node.runtime_state(id),
        Some(empla::actors::RuntimeState::Active)
    );
    node.shutdown().await;
}

async fn a_passivated_employee_is_woken_when_a_message_outlives_its_sla(store: Store) {
    let mut opts = short_sla();
    opts.runtime.idle_passivate_after = std::time::Duration::from_millis(50);
    opts.runtime.passivation_sweep_every = std::time::Duration::from_millis(25);
    let node = Node::start_with_store(store.clone(), opts).await.unwrap();
    let id = hire(&node).await;
    node.submit_event(
        id,
        event(
            "email.received",
            json!({"from": "sarah@acme.com", "message_id": "<m1@acme.com>"}),
        ),
    )
    .await
    .unwrap();
    eventually(10, "passivation", || async {
        (node.runtime_state(id) == Some(empla::actors::RuntimeState::Idle)).then_some(())
    })
    .await;
    let signal = eventually(20, "the SLA signal", || async {
        let eps = node.episodes(id, 50, None).await.unwrap();
        eps.into_iter()
            .find(|(_, e)| e.summary == "signal signal.prospect_waiting")
    })
    .await;
    assert_eq!(signal.1.payload["detail"]["message_id"], "<m1@acme.com>");
    assert!(
        signal.1.cause_id.is_none(),
        "raised by the employee's own cadence"
    );
    node.shutdown().await;
}
