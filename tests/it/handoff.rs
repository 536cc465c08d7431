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
);

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

async fn a_won_deal_is_handed_to_the_csm_with_the_brief_acknowledged_and_onboarded(
    s: &TestStore,
) {
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
            .find(|a| a.subject.starts_with("Commitments taken over from Jordan Lee"))
    })
    .await;
    assert!(
        kept.body
            .contains("- Send the SSO setup guide (by 2099-01-15)"),
        "{}",
        kept.body
    );
    assert!(
        kept.body.contains("- Arrange admin training for Omar's team"),
        "{}",
        kept.body
    );
    for address in ["dana.whit@pinecrest.example", "omar.haddad@pinecrest.example"] {
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
