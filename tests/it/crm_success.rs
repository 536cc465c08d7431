//! The CSM with the CRM: account health falls and it checks in, offers walkthroughs where
//! adoption is low; a won deal is onboarded, a quiet deal followed up, an upsell flagged.

use super::common::{self, TestStore, eventually};
use super::crm::{goals_when, values};
use empla::bdi::Phase;
use empla::capabilities::crm::{CrmError, DealPatch, NewAccount, NewContact, NewDeal};
use empla::lifecycle::HireRequest;
use empla::node::Node;
use serde_json::json;

crate::on_every_test_store!(
    falling_nps_finds_the_detractors_and_offers_them_a_health_check,
    a_won_new_customer_is_handed_to_the_csm_with_the_fewest_customers_who_onboards_it,
    account_health_falls_with_usage_and_the_csm_checks_in_and_offers_walkthroughs,
    won_deals_are_onboarded_quiet_deals_followed_up_and_upsells_flagged,
    a_customer_issue_is_acknowledged_logged_and_the_promised_update_is_sent,
);

async fn account_health_falls_with_usage_and_the_csm_checks_in_and_offers_walkthroughs(
    s: &TestStore,
) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-health"))
        .await
        .unwrap();
    let (sam, meridian) = sam_and_meridian(&node).await;
    let crm = node.crm();

    // A steady run: healthy.
    let steady = values(&[
        ("usage", 0.8, 6),
        ("usage", 0.82, 5),
        ("usage", 0.79, 4),
        ("usage", 0.81, 3),
        ("usage", 0.8, 2),
        ("engagement", 0.7, 2),
        ("nps", 40.0, 2),
    ]);
    let h = crm
        .record_metrics(&meridian.id, steady.clone())
        .await
        .unwrap();
    assert_eq!((h.stored, h.churn_risk.as_str()), (7, "low"));
    let healthy = h.health.unwrap();
    assert!(healthy > 70.0, "{h:?}");
    // The same values again change nothing.
    let again = crm.record_metrics(&meridian.id, steady).await.unwrap();
    assert_eq!(again.health, Some(healthy));
    assert_eq!(
        crm.driver()
            .account(&meridian.id)
            .await
            .unwrap()
            .unwrap()
            .health,
        Some(healthy)
    );

    // Bad values name their item.
    match crm
        .record_metrics(&meridian.id, values(&[("nps", 150.0, 0)]))
        .await
    {
        Err(CrmError::Invalid(f)) => assert_eq!(f[0].field, "items[0].value"),
        other => panic!("expected a field error, got {other:?}"),
    }

    // Usage collapses and NPS turns negative: health falls below 60, the owner is told,
    // and Sam checks in with the account's champion (customer mail waits for approval).
    let fall = crm
        .record_metrics(
            &meridian.id,
            values(&[("usage", 0.1, 1), ("nps", -30.0, 1), ("engagement", 0.2, 1)]),
        )
        .await
        .unwrap();
    assert!(
        fall.health.unwrap() < 60.0 && fall.usage_z.unwrap() < -2.0,
        "{fall:?}"
    );
    assert_eq!(fall.previous, Some(healthy));
    assert_eq!(fall.churn_risk, "high");
    let pending = eventually(20, "the check-in", || async {
        let a = node
            .approvals(
                Some(sam.id),
                Some(empla::model::ApprovalStatus::Pending),
                10,
            )
            .await
            .unwrap();
        a.into_iter().find(|a| a.action["kind"] == "email.send")
    })
    .await;
    assert_eq!(
        pending.action["params"]["to"],
        "Jonas Berg <jonas.berg@meridian.example>"
    );
    assert!(
        pending.action["params"]["subject"]
            .as_str()
            .unwrap()
            .contains("Meridian Travel"),
        "{:?}",
        pending.action
    );

    // Adoption 40%: Sam's feature_adoption goal (the mean over its customers) falls
    // below 60%, and the walkthrough offer to Jonas names the account's own figure.
    crm.record_metrics(&meridian.id, values(&[("feature_adoption", 0.4, 0)]))
        .await
        .unwrap();
    let offer = eventually(20, "the walkthrough offer", || async {
        let a = node
            .approvals(
                Some(sam.id),
                Some(empla::model::ApprovalStatus::Pending),
                10,
            )
            .await
            .unwrap();
        a.into_iter()
            .find(|a| a.action["plan"] == "offer_walkthrough")
    })
    .await;
    assert_eq!(
        offer.action["params"]["to"],
        "Jonas Berg <jonas.berg@meridian.example>"
    );
    assert!(
        offer.action["params"]["body"]
            .as_str()
            .unwrap()
            .contains("about 40%"),
        "{:?}",
        offer.action
    );
    let goals = goals_when(&node, sam.id, "adoption told", |g| {
        g["feature_adoption"] == Some(0.4)
    })
    .await;
    assert_eq!(goals["nps"], Some(-30.0));
    node.shutdown().await;
}

async fn won_deals_are_onboarded_quiet_deals_followed_up_and_upsells_flagged(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-follow-ups"))
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
    let account = |name: &str, domain: &str, owner: &str, plan: Option<&str>| NewAccount {
        name: name.into(),
        domain: Some(domain.into()),
        owner: Some(owner.into()),
        plan: plan.map(Into::into),
        ..Default::default()
    };
    let meridian = crm
        .create_account(account(
            "Meridian Travel",
            "meridian.example",
            "sam.rivera",
            Some("growth"),
        ))
        .await
        .unwrap();
    let bluefin = crm
        .create_account(account(
            "Bluefin Logistics",
            "bluefin.example",
            "jordan.lee",
            None,
        ))
        .await
        .unwrap();
    for (name, email, at, role) in [
        (
            "Jonas Berg",
            "jonas.berg@meridian.example",
            &meridian.id,
            Some("champion"),
        ),
        (
            "Kara Singh",
            "kara.singh@meridian.example",
            &meridian.id,
            None,
        ),
        (
            "Chloe Martin",
            "chloe.martin@bluefin.example",
            &bluefin.id,
            Some("champion"),
        ),
    ] {
        crm.create_contact(NewContact {
            name: name.into(),
            email: email.into(),
            account: Some(at.clone()),
            role: role.map(Into::into),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let deal = |name: &str, at: &str| NewDeal {
        name: name.into(),
        account: Some(at.into()),
        amount: 60_000.0,
        stage: Some("negotiation".into()),
        owner: Some("jordan.lee".into()),
        ..Default::default()
    };
    let expansion = crm
        .create_deal(deal("Meridian — expansion", &meridian.id))
        .await
        .unwrap();
    let quiet = crm
        .create_deal(deal("Bluefin — platform", &bluefin.id))
        .await
        .unwrap();

    // Won: the account's CSM offers its people times for the onboarding kickoff.
    crm.update_deal(
        &expansion.id,
        DealPatch {
            stage: Some("closed_won".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut offers = Vec::new();
    for address in ["jonas.berg@meridian.example", "kara.singh@meridian.example"] {
        let offer = eventually(20, "the onboarding kickoff offered", || async {
            node.mail_inbox(address, 10)
                .await
                .unwrap()
                .into_iter()
                .next()
        })
        .await;
        assert!(
            offer
                .subject
                .contains("Onboarding kickoff: Meridian Travel"),
            "{}",
            offer.subject
        );
        assert!(
            offer.from.contains("sam.rivera@example.com"),
            "{}",
            offer.from
        );
        offers.push(offer);
    }
    // Jonas picks the first time: the kickoff is booked and its invitation goes out.
    node.send_mail(empla::model::OutgoingMail {
        from: "Jonas Berg <jonas.berg@meridian.example>".into(),
        to: "sam.rivera@example.com".into(),
        subject: format!("Re: {}", offers[0].subject),
        body: "1 is good for us.".into(),
        in_reply_to: Some(offers[0].message_id.clone()),
    })
    .await
    .unwrap();
    eventually(20, "the kickoff invitation", || async {
        node.mail_inbox("jonas.berg@meridian.example", 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| {
                m.subject
                    .starts_with("Invitation: Onboarding kickoff: Meridian Travel")
            })
    })
    .await;
    let milestones = eventually(20, "the milestones tracked", || async {
        let acts = crate::crm::account_activities(&node, &meridian.id).await;
        let mut tasks: Vec<String> = acts
            .into_iter()
            .filter(|a| a.kind == "task" && a.subject.starts_with("Onboarding Meridian Travel"))
            .map(|a| a.subject)
            .collect();
        tasks.sort();
        (tasks.len() == 4).then_some(tasks)
    })
    .await;
    assert!(
        milestones[0].ends_with("1/4: kickoff meeting"),
        "{milestones:?}"
    );
    assert!(
        milestones[3].ends_with("4/4: go-live review"),
        "{milestones:?}"
    );

    // Usage crosses 90% of the plan: the CSM tells the seller who won the account.
    crm.record_metrics(&meridian.id, values(&[("usage", 0.5, 3)]))
        .await
        .unwrap();
    crm.record_metrics(&meridian.id, values(&[("usage", 0.95, 1)]))
        .await
        .unwrap();
    let upsell = eventually(20, "the upsell signal", || async {
        let inbox = node.mail_inbox("jordan.lee@example.com", 20).await.unwrap();
        inbox
            .into_iter()
            .find(|m| m.subject.starts_with("Upsell signal"))
    })
    .await;
    assert_eq!(
        upsell.subject,
        "Upsell signal: Meridian Travel at 95% of its plan"
    );
    assert!(upsell.body.contains("Jonas Berg"), "{}", upsell.body);

    // A deal quiet for 20 days: the morning sweep writes to its contact.
    let mut stale = crm.driver().deal(&quiet.id).await.unwrap().unwrap();
    stale.updated_at = chrono::Utc::now() - chrono::Duration::days(20);
    node.store()
        .update_deal(node.tenant(), &stale)
        .await
        .unwrap();
    node.submit_event(
        jordan.id,
        empla::model::NewEvent {
            kind: "cron.tick".into(),
            source: "scheduler".into(),
            payload: json!({"schedule": "daily_priority_review"}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let nudge = eventually(20, "the follow-up of the quiet deal", || async {
        node.mail_inbox("chloe.martin@bluefin.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(nudge.subject, "Bluefin Logistics: next steps");
    assert!(
        nudge.body.starts_with("Hi Chloe,") && nudge.body.contains("20 days"),
        "{}",
        nudge.body
    );
    node.shutdown().await;
}

async fn a_customer_issue_is_acknowledged_logged_and_the_promised_update_is_sent(s: &TestStore) {
    let mut opts = common::options("crm-promise");
    // The promise is "within four hours"; the test keeps it within a second.
    let csm = opts.roles.get_mut("csm").unwrap();
    let plan = csm
        .plans
        .iter_mut()
        .find(|p| p.name == "answer_customer_issue")
        .unwrap();
    let wait = plan.steps.iter_mut().find(|s| s.wait.is_some()).unwrap();
    wait.timeout = Some(std::time::Duration::from_secs(1));
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let (sam, meridian) = sam_and_meridian(&node).await;
    let asked = node
        .send_mail(empla::model::OutgoingMail {
            from: "Jonas Berg <jonas.berg@meridian.example>".into(),
            to: "sam.rivera@example.com".into(),
            subject: "Sync is broken".into(),
            body: "Our calendar sync is not working since this morning.".into(),
            in_reply_to: None,
        })
        .await
        .unwrap();
    let answers = eventually(
        20,
        "the acknowledgement and the promised update",
        || async {
            let mut inbox = node
                .mail_inbox("jonas.berg@meridian.example", 10)
                .await
                .unwrap();
            inbox.reverse();
            (inbox.len() == 2).then_some(inbox)
        },
    )
    .await;
    assert!(
        answers[0].body.contains("update you within four hours"),
        "{}",
        answers[0].body
    );
    assert!(
        answers[1]
            .body
            .contains("Here is the update I promised on \"Sync is broken\""),
        "{}",
        answers[1].body
    );
    for a in &answers {
        assert_eq!(
            a.in_reply_to.as_deref(),
            Some(asked.as_str()),
            "in the thread"
        );
    }
    // What the update says is so: the manager was asked to see it through.
    let asked_manager = eventually(20, "the issue handed to the manager", || async {
        let all = node.escalations(Some(sam.id), None, 10).await.unwrap();
        all.into_iter().find(|e| e.case == "customer_issue")
    })
    .await;
    assert!(
        asked_manager.message.contains("Sync is broken"),
        "{}",
        asked_manager.message
    );
    assert!(
        asked_manager.manager.contains("priya.shah@example.com"),
        "{}",
        asked_manager.manager
    );
    let issues = crate::crm::account_activities(&node, &meridian.id).await;
    assert!(
        issues
            .iter()
            .any(|a| a.kind == "issue" && a.subject == "Sync is broken"),
        "{issues:?}"
    );
    node.shutdown().await;
}

/// Sam Rivera, CSM (managed by Priya Shah), autonomous, and Meridian Travel (a customer Sam owns) with Jonas Berg
/// as its champion.
async fn sam_and_meridian(
    node: &Node,
) -> (
    empla::model::EmployeeProfile,
    empla::capabilities::crm::Account,
) {
    let mut hire = HireRequest::new("csm", "Sam Rivera");
    hire.manager = Some(empla::model::Manager::Human {
        name: "Priya Shah".into(),
        email: "priya.shah@example.com".into(),
    });
    let sam = node.hire(hire).await.unwrap();
    node.set_phase(sam.id, Phase::Autonomous).await.unwrap();
    let crm = node.crm();
    let meridian = crm
        .create_account(NewAccount {
            name: "Meridian Travel".into(),
            domain: Some("meridian.example".into()),
            plan: Some("growth".into()),
            owner: Some("sam.rivera".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    crm.create_contact(NewContact {
        name: "Jonas Berg".into(),
        email: "jonas.berg@meridian.example".into(),
        account: Some(meridian.id.clone()),
        role: Some("champion".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    (sam, meridian)
}

async fn a_won_new_customer_is_handed_to_the_csm_with_the_fewest_customers_who_onboards_it(
    s: &TestStore,
) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-handover"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    // Sam already looks after a customer; Casey after none.
    let (_sam, _meridian) = sam_and_meridian(&node).await;
    let casey = node
        .hire(HireRequest::new("csm", "Casey Kim"))
        .await
        .unwrap();
    node.set_phase(casey.id, Phase::Autonomous).await.unwrap();
    let crm = node.crm();
    let acme = crm
        .create_account(NewAccount {
            name: "Acme Robotics".into(),
            domain: Some("acme-robotics.example".into()),
            owner: Some("jordan.lee".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    crm.create_contact(NewContact {
        name: "Sarah Chen".into(),
        email: "sarah.chen@acme-robotics.example".into(),
        account: Some(acme.id.clone()),
        ..Default::default()
    })
    .await
    .unwrap();
    let deal = crm
        .create_deal(NewDeal {
            name: "Acme Robotics — new business".into(),
            account: Some(acme.id.clone()),
            amount: 19_200.0,
            stage: Some("proposal".into()),
            owner: Some("jordan.lee".into()),
            ..Default::default()
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
    // Acme is a customer now, Casey's, and Casey offers its people the kickoff.
    let offer = eventually(20, "the kickoff offered by Casey", || async {
        node.mail_inbox("sarah.chen@acme-robotics.example", 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject.contains("Onboarding kickoff: Acme Robotics"))
    })
    .await;
    assert!(offer.from.contains(&casey.email), "{}", offer.from);
    let handed = crm.driver().account(&acme.id).await.unwrap().unwrap();
    assert_eq!(handed.owner.as_deref(), Some(casey.id.to_string().as_str()));
    assert_eq!(handed.plan.as_deref(), Some("customer"));
    let notes = crate::crm::account_activities(&node, &acme.id).await;
    assert!(
        notes.iter().any(
            |a| a.kind == "note" && a.subject == "New customer: handed to Casey Kim to onboard"
        ),
        "{notes:?}"
    );
    // The seller's won deal still counts for the seller.
    let won = crm.driver().deal(&deal.id).await.unwrap().unwrap();
    assert_eq!(won.owner.as_deref(), Some(jordan.id.to_string().as_str()));
    node.shutdown().await;
}

async fn falling_nps_finds_the_detractors_and_offers_them_a_health_check(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-nps"))
        .await
        .unwrap();
    let (_sam, meridian) = sam_and_meridian(&node).await;
    let crm = node.crm();
    // NPS falls survey after survey, to a detractor's score.
    for (i, nps) in [40.0, 25.0, 5.0, -20.0].into_iter().enumerate() {
        crm.record_metrics(&meridian.id, values(&[("nps", nps, 4 - i as i64)]))
            .await
            .unwrap();
    }
    let offer = eventually(20, "the health check offered to the champion", || async {
        node.mail_inbox("jonas.berg@meridian.example", 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject.contains("Health check: Meridian Travel"))
    })
    .await;
    assert!(
        offer.from.contains("sam.rivera@example.com"),
        "{}",
        offer.from
    );
    assert!(offer.body.contains("1. "), "numbered times: {}", offer.body);
    // Jonas picks a time: booked, and the meeting logged on the account.
    node.send_mail(empla::model::OutgoingMail {
        from: "Jonas Berg <jonas.berg@meridian.example>".into(),
        to: "sam.rivera@example.com".into(),
        subject: format!("Re: {}", offer.subject),
        body: "2".into(),
        in_reply_to: Some(offer.message_id.clone()),
    })
    .await
    .unwrap();
    eventually(20, "the health check booked", || async {
        node.mail_inbox("jonas.berg@meridian.example", 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| {
                m.subject
                    .starts_with("Invitation: Health check: Meridian Travel")
            })
    })
    .await;
    eventually(20, "the meeting logged", || async {
        crate::crm::account_activities(&node, &meridian.id)
            .await
            .into_iter()
            .find(|a| a.kind == "meeting" && a.subject == "Health check: Meridian Travel booked")
    })
    .await;
    node.shutdown().await;
}
