//! Employees working together: a colleague messaged by handle gets the message through
//! its durable inbox and its answer comes back to the sender's waiting intention; a won
//! deal is handed from the Sales AE to the account's CSM with the full brief, acknowledged,
//! remembered by both, and the CSM starts onboarding.

use super::common::{self, TestStore, eventually};
use empla::bdi::Phase;
use empla::capabilities::crm::{DealPatch, NewAccount, NewContact, NewDeal};
use empla::lifecycle::HireRequest;
use empla::model::{EmployeeId, OutgoingMail};
use empla::node::Node;

crate::on_every_test_store!(
    a_won_deal_is_handed_to_the_csm_with_the_brief_acknowledged_and_onboarded,
    a_colleagues_answer_reaches_the_intention_that_asked,
);

/// The shipped roles, the PM with a plan that asks a colleague and mails the answer on.
fn roles_asking_a_colleague() -> std::collections::BTreeMap<String, empla::config::RoleTemplate> {
    let mut roles = common::roles();
    let plan: empla::bdi::PlanSpec = toml::from_str(
        r#"
name = "ask_a_colleague"
trigger = { event = "task.ask_colleague" }
steps = [
  { action = "a2a.send", params = { to = "{{ event.payload.colleague }}", text = "{{ event.payload.question }}" } },
  { wait = "a2a.reply", timeout = "1m" },
  { action = "email.send", params = { to = "Alex Morgan <alex.morgan@example.com>", subject = "Answer from {{ awaited.payload.agent }} ({{ awaited.payload.state }})", body = "{{ awaited.payload.text }}" } },
]
"#,
    )
    .unwrap();
    roles.get_mut("pm").unwrap().plans.push(plan);
    roles
}

/// The summaries of an employee's episodes, oldest first.
async fn episodes(node: &Node, id: EmployeeId) -> Vec<String> {
    let mut e: Vec<String> = node
        .episodes(id, 500, None)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| format!("{:?}: {} {}", e.kind, e.summary, e.payload))
        .collect();
    e.reverse();
    e
}

async fn a_won_deal_is_handed_to_the_csm_with_the_brief_acknowledged_and_onboarded(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("handoff"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    let sam = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    for id in [jordan.id, sam.id] {
        node.set_phase(id, Phase::Autonomous).await.unwrap();
    }
    let crm = node.crm();
    let pinecrest = crm
        .create_account(NewAccount {
            name: "Pinecrest Bank".into(),
            domain: Some("pinecrest.example".into()),
            owner: Some("sam.rivera".into()),
            plan: Some("enterprise".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    for (name, email, title) in [
        ("Dana Whit", "dana.whit@pinecrest.example", "VP Operations"),
        ("Omar Haddad", "omar.haddad@pinecrest.example", "IT lead"),
    ] {
        crm.create_contact(NewContact {
            name: name.into(),
            email: email.into(),
            title: Some(title.into()),
            account: Some(pinecrest.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let deal = crm
        .create_deal(NewDeal {
            name: "Pinecrest Bank — enterprise plan".into(),
            account: Some(pinecrest.id.clone()),
            amount: 145_000.0,
            stage: Some("negotiation".into()),
            owner: Some("jordan.lee".into()),
            next_step: Some("Security review sign-off".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    // What Jordan promised in writing while selling.
    node.send_mail(OutgoingMail {
        from: "Jordan Lee <jordan.lee@example.com>".into(),
        to: "Dana Whit <dana.whit@pinecrest.example>".into(),
        subject: "Pinecrest: next steps".into(),
        body: "Hi Dana,\n\nThanks for the call. I'll send the SSO setup guide by 2099-01-15. \
               I will arrange admin training for Omar's team.\n\nBest,\nJordan"
            .into(),
        in_reply_to: None,
    })
    .await
    .unwrap();

    crm.update_deal(
        &deal.id,
        DealPatch {
            stage: Some("closed_won".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // Sam acknowledges at once, naming what it takes on; Jordan logs the answer on the
    // deal.
    let note = eventually(30, "the handoff acknowledged on the deal", || async {
        crate::crm::account_activities(&node, &pinecrest.id)
            .await
            .into_iter()
            .find(|a| a.subject.starts_with("Handed over to Sam Rivera"))
    })
    .await;
    assert_eq!(note.subject, "Handed over to Sam Rivera (completed)");
    assert!(
        note.body.contains("I have Pinecrest Bank from here")
            && note.body.contains("2 stakeholder(s)")
            && note.body.contains("2 commitment(s)"),
        "{}",
        note.body
    );

    // Sam keeps Jordan's promises, with their dates, and starts onboarding.
    let kept = eventually(30, "the commitments taken over", || async {
        crate::crm::account_activities(&node, &pinecrest.id)
            .await
            .into_iter()
            .find(|a| {
                a.subject
                    .starts_with("Commitments taken over from Jordan Lee")
            })
    })
    .await;
    assert!(
        kept.body
            .contains("- Send the SSO setup guide (by 2099-01-15)"),
        "{}",
        kept.body
    );
    assert!(
        kept.body
            .contains("- Arrange admin training for Omar's team"),
        "{}",
        kept.body
    );
    for address in [
        "dana.whit@pinecrest.example",
        "omar.haddad@pinecrest.example",
    ] {
        let offer = eventually(30, "the kickoff offered to each stakeholder", || async {
            node.mail_inbox(address, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|m| m.subject.contains("Onboarding kickoff: Pinecrest Bank"))
        })
        .await;
        assert!(offer.from.contains("sam.rivera@"), "{}", offer.from);
    }
    eventually(30, "the onboarding milestones", || async {
        let n = crate::crm::account_activities(&node, &pinecrest.id)
            .await
            .into_iter()
            .filter(|a| a.kind == "task" && a.subject.starts_with("Onboarding Pinecrest Bank"))
            .count();
        (n == 4).then_some(())
    })
    .await;

    // Both remember it: Sam the message with the brief, Jordan what it sent and the
    // answer.
    let sams = episodes(&node, sam.id).await.join("\n");
    assert!(
        sams.contains("a2a.message") && sams.contains("Security review sign-off"),
        "{sams}"
    );
    let jordans = episodes(&node, jordan.id).await.join("\n");
    assert!(
        jordans.contains("a2a.send") && jordans.contains("a2a.reply"),
        "{jordans}"
    );
    // The CRM told Sam nothing directly: onboarding started from the handoff alone.
    assert!(!sams.contains("crm.deal_won"), "{sams}");
    node.shutdown().await;
}

async fn a_colleagues_answer_reaches_the_intention_that_asked(s: &TestStore) {
    let mut opts = common::options("colleagues");
    opts.roles = roles_asking_a_colleague();
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let casey = node
        .hire(HireRequest::new("pm", "Casey Kim"))
        .await
        .unwrap();
    let sam = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    for id in [casey.id, sam.id] {
        node.set_phase(id, Phase::Autonomous).await.unwrap();
    }
    let ask = |to: &str, key: &str| empla::model::NewEvent {
        kind: "task.ask_colleague".into(),
        source: "test".into(),
        payload: serde_json::json!({"colleague": to, "question": "Hi Sam, what does a customer say when onboarding goes well?"}),
        idempotency_key: Some(key.into()),
    };
    node.submit_event(casey.id, ask("sam.rivera", "ask-1"))
        .await
        .unwrap();

    // Sam answers in conversation; the answer comes back to Casey's waiting plan, which
    // mails it on.
    let mail = eventually(30, "the colleague's answer passed on", || async {
        node.mail_inbox("alex.morgan@example.com", 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject.starts_with("Answer from sam.rivera"))
    })
    .await;
    assert_eq!(mail.subject, "Answer from sam.rivera (completed)");
    assert!(!mail.body.trim().is_empty(), "{}", mail.body);
    let sams = episodes(&node, sam.id).await.join("\n");
    assert!(
        sams.contains("a2a.message") && sams.contains("casey.kim"),
        "Sam knows who asked: {sams}"
    );

    // Asking someone who is not on the node fails the step, saying so.
    node.submit_event(casey.id, ask("nobody.here", "ask-2"))
        .await
        .unwrap();
    let failed = eventually(30, "the send to no one refused", || async {
        episodes(&node, casey.id)
            .await
            .into_iter()
            .find(|e| e.contains("no employee `nobody.here` on this node"))
    })
    .await;
    assert!(failed.contains("a2a.send"), "{failed}");
    node.shutdown().await;
}
