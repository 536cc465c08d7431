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
    a_send_run_again_after_a_crash_opens_one_task_and_one_answer,
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

/// Employees hired as `(role, name)`, each moved to the autonomous phase.
async fn autonomous<const N: usize>(
    node: &Node,
    hires: [(&str, &str); N],
) -> [empla::model::EmployeeProfile; N] {
    let mut hired = Vec::new();
    for (role, name) in hires {
        let p = node.hire(HireRequest::new(role, name)).await.unwrap();
        node.set_phase(p.id, Phase::Autonomous).await.unwrap();
        hired.push(p);
    }
    hired.try_into().unwrap()
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
    let [jordan, sam] =
        autonomous(&node, [("sales_ae", "Jordan Lee"), ("csm", "Sam Rivera")]).await;
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

    // Sam starts onboarding and keeps Jordan's promises, with their dates.
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
    // The CRM gave Sam the same brief with the deal won, so the onboarding never waits
    // on the seller.
    assert!(
        sams.contains("crm.deal_won") && sams.contains("\"seller\":\"jordan.lee\""),
        "{sams}"
    );
    node.shutdown().await;
}

async fn a_colleagues_answer_reaches_the_intention_that_asked(s: &TestStore) {
    let mut opts = common::options("colleagues");
    opts.roles = roles_asking_a_colleague();
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let [casey, sam] = autonomous(&node, [("pm", "Casey Kim"), ("csm", "Sam Rivera")]).await;
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

/// Sam Rivera (csm) and Casey Kim (pm), autonomous, on a node that is then stopped.
async fn colleagues_hired(s: &TestStore) -> (empla::model::TenantId, EmployeeId, EmployeeId) {
    let node = Node::start_with_store(s.store.clone(), common::options("crash"))
        .await
        .unwrap();
    let [casey, sam] = autonomous(&node, [("pm", "Casey Kim"), ("csm", "Sam Rivera")]).await;
    let t = node.tenant().clone();
    node.shutdown().await;
    (t, casey.id, sam.id)
}

async fn a_send_run_again_after_a_crash_opens_one_task_and_one_answer(s: &TestStore) {
    let (t, casey, sam) = colleagues_hired(s).await;
    let params = serde_json::json!({"to": "sam.rivera", "text": "Hi Sam, good to meet you!"});
    // The node died right after deciding the send: it runs at the next start.
    let key = crate::durability::pending_action(s, &t, casey, "a2a.send", params.clone()).await;
    async fn count(node: &Node, id: EmployeeId, kind: &str) -> usize {
        episodes(node, id)
            .await
            .iter()
            .filter(|e| e.starts_with(&format!("Event: {kind} ")))
            .count()
    }
    let node = Node::start_with_store(s.store.clone(), common::options("crash"))
        .await
        .unwrap();
    eventually(30, "Sam's answer back to Casey", || async {
        (count(&node, casey, "a2a.reply").await == 1).then_some(())
    })
    .await;
    node.shutdown().await;

    // It dies again before the send is marked done: the send runs once more.
    crate::durability::pending_action(s, &t, casey, "a2a.send", params).await;
    s.exec(&format!(
        "UPDATE outbox SET status = 'pending', result = NULL, done_at = NULL WHERE id = '{key}'"
    ))
    .await;
    let node = Node::start_with_store(s.store.clone(), common::options("crash"))
        .await
        .unwrap();
    eventually(30, "the send run again", || async {
        node.actions(casey, 10)
            .await
            .unwrap()
            .iter()
            .any(|a| a.entry.key == key && a.status == empla::model::ActionStatus::Done)
            .then_some(())
    })
    .await;
    // Past the follower's sweep: nothing new was opened, answered or told.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        count(&node, sam, "a2a.message").await,
        1,
        "Sam got the message once"
    );
    assert_eq!(
        count(&node, casey, "a2a.reply").await,
        1,
        "Casey heard the answer once"
    );
    let filter = empla::store::A2aTaskFilter {
        limit: 10,
        ..Default::default()
    };
    let (_, tasks) = node.a2a_ledger().list(&filter).await.unwrap();
    assert_eq!(tasks, 1, "one task was opened");
    node.shutdown().await;
}

/// The demo node through the binary: Jordan's Bluefin deal is won; Sam, the CSM the new
/// customer goes to, gets the handoff, acknowledges it and offers Chloe the kickoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_won_deal_is_handed_over_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let node = common::start_binary(dir.path());
    for who in ["jordan.lee", "sam.rivera"] {
        node.set_phase(who, "autonomous").await;
    }
    let deals = node.get_json("/api/v1/crm/deals").await;
    let bluefin = deals["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Bluefin Logistics — platform rollout")
        .expect("the demo deal")
        .clone();
    let r = common::http()
        .patch(node.url(&format!(
            "/api/v1/crm/deals/{}",
            bluefin["id"].as_str().unwrap()
        )))
        .bearer_auth(common::TOKEN)
        .json(&serde_json::json!({"stage": "closed_won"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let account = bluefin["account"].as_str().unwrap();
    let note = eventually(60, "the handoff acknowledged on the deal", || async {
        let acts = node
            .get_json(&format!("/api/v1/crm/activities?account={account}"))
            .await;
        acts["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| {
                a["subject"]
                    .as_str()
                    .unwrap()
                    .starts_with("Handed over to Sam Rivera")
            })
            .cloned()
    })
    .await;
    assert_eq!(note["subject"], "Handed over to Sam Rivera (completed)");
    assert!(
        note["body"]
            .as_str()
            .unwrap()
            .contains("I have Bluefin Logistics from here"),
        "{note}"
    );
    let offer = eventually(60, "the kickoff offered to Chloe", || async {
        let v = node
            .get_json("/api/v1/mail/inbox?address=chloe.martin@bluefin.example")
            .await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["subject"]
                    .as_str()
                    .unwrap()
                    .contains("Onboarding kickoff: Bluefin Logistics")
            })
            .cloned()
    })
    .await;
    assert!(
        offer["from"].as_str().unwrap().contains("sam.rivera@"),
        "{offer}"
    );
    let sams = node
        .get_json("/api/v1/employees/sam.rivera/episodes?limit=200")
        .await;
    let sams = sams.to_string();
    assert!(
        sams.contains("a2a.message") && sams.contains("Demo for the operations team"),
        "Sam remembers the brief: {sams}"
    );
    node.terminate();
}
