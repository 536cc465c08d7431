//! The Sales AE with the CRM: goal metrics computed from its deals drive its triggers;
//! it prospects the demo book of business and writes to real contacts about their own
//! company.

use super::common::{self, TestStore, eventually};
use super::crm::{demo_dir, goals_when};
use empla::bdi::Phase;
use empla::capabilities::crm::{DealPatch, NewDeal};
use empla::lifecycle::HireRequest;
use empla::node::Node;
use empla::store::{ActivityFilter, Page};
use serde_json::json;

crate::on_every_test_store!(
    goal_metrics_are_computed_from_deals_and_drive_the_triggers,
    response_time_runs_from_the_mail_a_contact_waited_on_to_the_answer,
    the_weekly_pipeline_review_reaches_the_manager_with_coverage_and_quiet_deals,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prospecting_writes_to_real_contacts_about_their_company_and_logs_it() {
    let store = common::sqlite().await;
    let node = Node::start_with_store(store.store.clone(), common::options("prospecting"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    node.hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    // Jordan's deals in the demo book: 207,000 won this quarter against a 500,000 quota,
    // 168,000 open. Coverage 0.57 is below 3x: the employee starts prospecting.
    node.load_demo_crm(&demo_dir()).await.unwrap();

    // The mid-market accounts in the profile without an open deal: Northwind, Cobalt
    // and Orchard. Each hears from Jordan, by name, about their own company.
    let ana = eventually(20, "outreach to Northwind's champion", || async {
        node.mail_inbox("ana.torres@northwind.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(ana.to, "Ana Torres <ana.torres@northwind.example>");
    assert!(ana.body.starts_with("Hi Ana,"), "{}", ana.body);
    assert!(ana.body.contains("Northwind Analytics"), "{}", ana.body);
    assert!(
        ana.body.contains("Hiring 12 sales reps") || ana.body.contains("Opened a Chicago office"),
        "{}",
        ana.body
    );
    let ivy = eventually(20, "outreach to Cobalt", || async {
        node.mail_inbox("ivy.chen@cobalt.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert!(
        ivy.body.starts_with("Hi Ivy,") && ivy.body.contains("Cobalt Security"),
        "{}",
        ivy.body
    );
    eventually(20, "outreach to Orchard", || async {
        node.mail_inbox("hugo.laurent@orchard.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    // Not a customer, not an account with an open deal, not outside the segment.
    for address in [
        "jonas.berg@meridian.example",
        "chloe.martin@bluefin.example",
        "felix.wagner@tidewater.example",
        "grace.liu@lumen.example",
    ] {
        assert!(
            node.mail_inbox(address, 10).await.unwrap().is_empty(),
            "{address} was written to"
        );
    }

    // The mail is in the CRM against Ana.
    let crm = node.crm();
    let contact = crm
        .driver()
        .contact_by_email("ana.torres@northwind.example")
        .await
        .unwrap()
        .unwrap();
    let logged = eventually(20, "the outreach logged", || async {
        let acts = crm
            .driver()
            .activities(
                &ActivityFilter {
                    contact: Some(contact.id.clone()),
                    ..Default::default()
                },
                Page::default(),
            )
            .await
            .unwrap();
        (!acts.is_empty()).then_some(acts)
    })
    .await;
    let kinds: Vec<&str> = logged.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["email_sent"]);
    let sent = logged.iter().find(|a| a.kind == "email_sent").unwrap();
    assert_eq!(
        sent.employee.as_deref(),
        Some(jordan.id.to_string().as_str())
    );
    assert_eq!(sent.subject, ana.subject);
    node.shutdown().await;
}

async fn goal_metrics_are_computed_from_deals_and_drive_the_triggers(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("crm-metrics"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    let crm = node.crm();
    let deal = |name: &str, amount: f64| NewDeal {
        name: name.into(),
        amount,
        owner: Some("jordan.lee".into()),
        ..Default::default()
    };
    let open = crm.create_deal(deal("Open", 100_000.0)).await.unwrap();
    let won = crm.create_deal(deal("Won", 200_000.0)).await.unwrap();
    crm.update_deal(
        &won.id,
        DealPatch {
            stage: Some("closed_won".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Quota 500,000 (the quarterly_revenue goal), 200,000 won this quarter: coverage is
    // 100,000 open over 300,000 left.
    let goals = goals_when(&node, jordan.id, "computed metrics", |g| {
        g["quarterly_revenue"] == Some(200_000.0) && g["pipeline_coverage"] == Some(0.33)
    })
    .await;
    assert_eq!(goals["win_rate"], Some(1.0));
    // Coverage below 3x raised the pipeline_low signal, and prospecting started.
    eventually(20, "prospecting adopted", || async {
        let eps = node.episodes(jordan.id, 100, None).await.unwrap();
        eps.iter()
            .any(|(_, e)| e.summary == "adopt prospect_for_pipeline")
            .then_some(())
    })
    .await;

    // A posted value and a computed one share the timeline: the latest wins.
    node.submit_event(
        jordan.id,
        empla::model::NewEvent {
            kind: "metric".into(),
            source: "test".into(),
            payload: json!({"metric": "pipeline_coverage", "value": 3.5}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    goals_when(&node, jordan.id, "the posted value", |g| {
        g["pipeline_coverage"] == Some(3.5)
    })
    .await;
    crm.update_deal(
        &open.id,
        DealPatch {
            amount: Some(150_000.0),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    goals_when(&node, jordan.id, "the computed value again", |g| {
        g["pipeline_coverage"] == Some(0.5)
    })
    .await;
    node.shutdown().await;
}

async fn response_time_runs_from_the_mail_a_contact_waited_on_to_the_answer(s: &TestStore) {
    // The question asks for a quote: the answer carries a proposal PDF.
    crate::documents::readers();
    let node = Node::start_with_store(s.store.clone(), common::options("crm-response"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    let crm = node.crm();
    let ana = crm
        .create_contact(empla::capabilities::crm::NewContact {
            name: "Ana Torres".into(),
            email: "ana.torres@northwind.example".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Ana wrote three hours ago and nobody answered; now she asks again.
    crm.log_activity(
        empla::capabilities::crm::NewActivity {
            kind: "email_received".into(),
            subject: "Question about onboarding".into(),
            contact: Some(ana.id.clone()),
            at: Some(chrono::Utc::now() - chrono::Duration::hours(3)),
            ..Default::default()
        },
        "test",
    )
    .await
    .unwrap();
    node.send_mail(empla::model::OutgoingMail {
        from: "Ana Torres <ana.torres@northwind.example>".into(),
        to: "jordan.lee@example.com".into(),
        subject: "Pricing for 40 seats?".into(),
        body: "Could you send me pricing for 40 seats?".into(),
        in_reply_to: None,
    })
    .await
    .unwrap();
    // Jordan answers at once: the answer came three hours after the first mail waiting.
    let goals = goals_when(&node, jordan.id, "the response time", |g| {
        g["response_time"].is_some()
    })
    .await;
    let hours = goals["response_time"].unwrap();
    assert!((2.99..3.05).contains(&hours), "{hours}");
    node.shutdown().await;
}

async fn the_weekly_pipeline_review_reaches_the_manager_with_coverage_and_quiet_deals(
    s: &TestStore,
) {
    // The review is a PDF too (fonts and readers installed once).
    crate::documents::readers();
    let node = Node::start_with_store(s.store.clone(), common::options("crm-review"))
        .await
        .unwrap();
    let mut hire = HireRequest::new("sales_ae", "Jordan Lee");
    hire.manager = Some(empla::model::Manager::Human {
        name: "Alex Morgan".into(),
        email: "alex.morgan@example.com".into(),
    });
    let jordan = node.hire(hire).await.unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    let crm = node.crm();
    let close = crate::crm::quarter_end();
    let deal = |name: &str, amount: f64, stage: &str| empla::capabilities::crm::NewDeal {
        name: name.into(),
        amount,
        stage: Some(stage.into()),
        close_date: Some(close),
        owner: Some("jordan.lee".into()),
        next_step: Some("Send the order form".into()),
        ..Default::default()
    };
    crm.create_deal(deal("Quarry — annual plan", 100_000.0, "negotiation"))
        .await
        .unwrap();
    crm.create_deal(deal("Helios — pilot", 50_000.0, "discovery"))
        .await
        .unwrap();
    let won = crm
        .create_deal(deal("Pinecrest — enterprise", 200_000.0, "proposal"))
        .await
        .unwrap();
    crm.update_deal(
        &won.id,
        DealPatch {
            stage: Some("closed_won".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Helios has been quiet for three weeks.
    let helios = crm
        .driver()
        .deals(
            &empla::store::DealFilter {
                stage: Some("discovery".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap()
        .remove(0);
    let mut quiet = helios.clone();
    quiet.updated_at = chrono::Utc::now() - chrono::Duration::days(21);
    node.store()
        .update_deal(node.tenant(), &quiet)
        .await
        .unwrap();

    node.submit_event(
        jordan.id,
        empla::model::NewEvent {
            kind: "cron.tick".into(),
            source: "scheduler".into(),
            payload: json!({"schedule": "weekly_strategic_planning"}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let review = eventually(20, "the pipeline review", || async {
        let inbox = node
            .mail_inbox("alex.morgan@example.com", 10)
            .await
            .unwrap();
        inbox
            .into_iter()
            .find(|m| m.subject.starts_with("Pipeline review"))
    })
    .await;
    // 150,000 open against 500,000 − 200,000 won: 0.5x.
    for line in [
        "Open pipeline: $150,000 in 2 deals; closed won this quarter: $200,000",
        "Coverage of the quota left this quarter: 0.5x",
        "negotiation: 1 deal, $100,000 (Quarry — annual plan)",
        "- Quarry — annual plan ($100,000)",
        "- Helios — pilot ($50,000), quiet 21 days",
    ] {
        assert!(
            review.body.contains(line),
            "{line:?} missing from:\n{}",
            review.body
        );
    }
    // The same review is a report document, attached as a PDF.
    let document = review.attachments[0]
        .document
        .clone()
        .expect("the report attached");
    let record = node.document(&document).await.unwrap().unwrap();
    assert_eq!(record.kind, "report");
    let pdf = node
        .document_content(&document, empla::capabilities::documents::Format::Pdf)
        .await
        .unwrap()
        .unwrap();
    let text = crate::documents::pdf_text(&pdf);
    assert!(
        text.contains("Coverage of the quota left this quarter: 0.5x"),
        "{text}"
    );
    assert!(
        text.contains("Helios — pilot ($50,000), quiet 21 days"),
        "{text}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_outreach_open_a_deal_and_book_a_call_or_end_the_sequence() {
    let store = common::sqlite().await;
    let node = Node::start_with_store(store.store.clone(), common::options("replies"))
        .await
        .unwrap();
    let jordan = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    node.set_phase(jordan.id, Phase::Autonomous).await.unwrap();
    node.hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    node.load_demo_crm(&demo_dir()).await.unwrap();
    let outreach = |address: &'static str| {
        let node = &node;
        async move {
            eventually(20, "the outreach", || async {
                node.mail_inbox(address, 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .next()
            })
            .await
        }
    };
    let ana = "ana.torres@northwind.example";
    let ivy = "ivy.chen@cobalt.example";
    let to_ana = outreach(ana).await;
    let to_ivy = outreach(ivy).await;

    // Ana is interested: the deal opens at discovery and she is offered times, in the
    // thread; the time she picks is booked.
    let answer = node
        .send_mail(empla::model::OutgoingMail {
            from: format!("Ana Torres <{ana}>"),
            to: jordan.email.clone(),
            subject: format!("Re: {}", to_ana.subject),
            body: "Sounds interesting, happy to chat next week.".into(),
            in_reply_to: Some(to_ana.message_id.clone()),
        })
        .await
        .unwrap();
    let offer = eventually(20, "the times offered to Ana", || async {
        node.mail_inbox(ana, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.in_reply_to.as_deref() == Some(answer.as_str()))
    })
    .await;
    assert!(offer.body.starts_with("Hi Ana,"), "{}", offer.body);
    assert!(offer.body.contains("1. "), "numbered times: {}", offer.body);
    let crm = node.crm();
    let northwind = crm
        .driver()
        .account_by_domain("northwind.example")
        .await
        .unwrap()
        .unwrap();
    let deals = crm
        .driver()
        .deals(
            &empla::store::DealFilter {
                account: Some(northwind.id.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(deals.len(), 1, "{deals:?}");
    assert_eq!(deals[0].stage, "discovery");
    assert_eq!(deals[0].next_step.as_deref(), Some("Discovery call"));
    assert_eq!(
        deals[0].owner.as_deref(),
        Some(jordan.id.to_string().as_str())
    );
    node.send_mail(empla::model::OutgoingMail {
        from: format!("Ana Torres <{ana}>"),
        to: jordan.email.clone(),
        subject: format!("Re: {}", offer.subject),
        body: "2 works.".into(),
        in_reply_to: Some(offer.message_id.clone()),
    })
    .await
    .unwrap();
    let invitation = eventually(20, "the invitation", || async {
        node.mail_inbox(ana, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| {
                m.subject
                    .starts_with("Invitation: Discovery call: Ana Torres and Jordan Lee")
            })
    })
    .await;
    assert!(
        invitation.body.contains("Discovery call"),
        "{}",
        invitation.body
    );
    eventually(20, "the call logged", || async {
        crate::crm::account_activities(&node, &northwind.id)
            .await
            .into_iter()
            .find(|a| a.kind == "meeting" && a.subject.ends_with("booked"))
    })
    .await;

    // Ivy says no: thanked, noted, and the follow-up sequence to her ends.
    let no = node
        .send_mail(empla::model::OutgoingMail {
            from: format!("Ivy Chen <{ivy}>"),
            to: jordan.email.clone(),
            subject: format!("Re: {}", to_ivy.subject),
            body: "Thanks, but we're not interested.".into(),
            in_reply_to: Some(to_ivy.message_id.clone()),
        })
        .await
        .unwrap();
    let closing = eventually(20, "the close-out", || async {
        node.mail_inbox(ivy, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.in_reply_to.as_deref() == Some(no.as_str()))
    })
    .await;
    assert!(
        closing.body.contains("I won't follow up"),
        "{}",
        closing.body
    );
    let cobalt = crm
        .driver()
        .account_by_domain("cobalt.example")
        .await
        .unwrap()
        .unwrap();
    eventually(20, "the no noted", || async {
        crate::crm::account_activities(&node, &cobalt.id)
            .await
            .into_iter()
            .find(|a| a.kind == "note" && a.subject.starts_with("Not interested"))
    })
    .await;
    let sequences = eventually(20, "the sequences to Ana and Ivy ended", || async {
        let s = node.employee_runtime(jordan.id).await.unwrap();
        let left: Vec<_> = s
            .intentions
            .into_iter()
            .filter(|i| i.plan == "reach_out_to_lead")
            .collect();
        (left.len() == 1).then_some(left)
    })
    .await;
    assert_eq!(sequences.len(), 1, "only Orchard's sequence goes on");
    node.shutdown().await;
}
