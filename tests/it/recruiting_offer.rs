//! The interview a candidate picks is booked and recorded on them. After an interview:
//! the Recruiter asks the hiring panel for feedback by mail, records
//! each answer on the candidate, and on a positive one drafts the offer letter (from
//! `config/documents/offer.md.j2`) and mails it to the candidate only once the hiring
//! manager approves; a negative answer is recorded and makes no offer.

use super::common::{self, eventually};
use empla::bdi::Phase;
use empla::capabilities::documents::{DocumentFilter, Format};
use empla::capabilities::recruiting::{Candidate, NewCandidate, StageMove};
use empla::lifecycle::HireRequest;
use empla::model::{ApprovalStatus, EmployeeId, MailMessage, Manager, NewEvent, OutgoingMail};
use empla::node::Node;
use empla::store::Page;
use serde_json::json;

const RILEY: &str = "riley.park@example.com";

async fn recruiter(node: &Node) -> EmployeeId {
    let mut hire = HireRequest::new("recruiter", "Riley Park");
    hire.manager = Some(Manager::Human {
        name: "Dana Wu".into(),
        email: "dana.wu@example.com".into(),
    });
    let riley = node.hire(hire).await.unwrap();
    node.set_phase(riley.id, Phase::Autonomous).await.unwrap();
    riley.id
}

/// A candidate for the demo backend role, at the interview stage.
async fn interviewed(node: &Node, name: &str, email: &str) -> Candidate {
    let p = node.pipeline();
    let open = p.requisitions(Some("open"), Page::default()).await.unwrap();
    let backend = open
        .iter()
        .find(|r| r.title == "Senior Backend Engineer")
        .unwrap();
    let c = p
        .create_candidate(
            NewCandidate {
                name: name.into(),
                email: email.into(),
                requisition: backend.id.clone(),
                source: Some("application".into()),
                recruiter: None,
            },
            "api",
        )
        .await
        .unwrap();
    p.move_stage(
        &c.id,
        StageMove {
            stage: "interview".into(),
            reason: None,
        },
        "api",
    )
    .await
    .unwrap()
}

/// The interview is over: what `recruiting.record_interview` tells the Recruiter.
async fn interview_ended(node: &Node, riley: EmployeeId, c: &Candidate) {
    let end = chrono::Utc::now() - chrono::Duration::minutes(5);
    node.submit_event(
        riley,
        NewEvent {
            kind: "recruiting.interview_booked".into(),
            source: "test".into(),
            payload: json!({"candidate": c.id, "name": c.name, "email": c.email,
                "title": "Senior Backend Engineer", "start": end - chrono::Duration::minutes(45), "end": end}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
}

/// The feedback request about `c` in `address`'s inbox.
async fn request_to(node: &Node, address: &str, c: &Candidate) -> MailMessage {
    let reference = format!("[ref {}]", c.id);
    eventually(30, "the feedback request", || async {
        node.mail_inbox(address, 20)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject.contains(&reference))
    })
    .await
}

async fn answer(node: &Node, from: &str, request: &MailMessage, body: &str) {
    node.send_mail(OutgoingMail {
        from: from.into(),
        to: RILEY.into(),
        subject: format!("Re: {}", request.subject),
        body: format!("{body}\n\n> {}", request.body.replace('\n', "\n> ")),
        in_reply_to: Some(request.message_id.clone()),
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_feedback_is_recorded_and_a_positive_one_drafts_an_offer_held_for_approval() {
    let s = common::sqlite().await;
    let node = Node::start_with_store(s.store.clone(), common::options("offer"))
        .await
        .unwrap();
    node.load_demo_requisitions(&super::crm::demo_dir())
        .await
        .unwrap();
    let riley = recruiter(&node).await;
    let ada = interviewed(&node, "Ada Byron", "ada@candidate.example").await;
    let boris = interviewed(&node, "Boris Petrov", "boris@candidate.example").await;
    let cleo = interviewed(&node, "Cleo Marsh", "cleo@candidate.example").await;

    // Cleo is offered times with the panel and picks one: the interview is booked and
    // recorded on her (its feedback is asked for once it is over, next week).
    node.submit_event(
        riley,
        NewEvent {
            kind: "recruiting.screened".into(),
            source: "test".into(),
            payload: json!({"candidate": cleo.id, "name": cleo.name, "first_name": "Cleo",
                "email": cleo.email, "title": "Senior Backend Engineer", "decision": "interview",
                "found": ["Rust"], "message_id": ""}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    let times = eventually(30, "times offered to Cleo", || async {
        node.mail_inbox("cleo@candidate.example", 20)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject.starts_with("Times for Interview: Cleo Marsh"))
    })
    .await;
    node.send_mail(OutgoingMail {
        from: "Cleo Marsh <cleo@candidate.example>".into(),
        to: RILEY.into(),
        subject: format!("Re: {}", times.subject),
        body: "2".into(),
        in_reply_to: Some(times.message_id.clone()),
    })
    .await
    .unwrap();
    let booked = eventually(30, "Cleo's interview recorded", || async {
        let r = node.pipeline().record(&cleo.id).await.unwrap();
        r.interviews.first().cloned()
    })
    .await;
    assert!(
        booked.starts_at.is_some() && booked.calendar_event.is_some(),
        "{booked:?}"
    );

    interview_ended(&node, riley, &boris).await;
    let asked = request_to(&node, "lena.hoffmann@example.com", &boris).await;
    assert!(
        asked.body.contains("strong yes, yes, no or strong no"),
        "{}",
        asked.body
    );
    answer(
        &node,
        "Lena Hoffmann <lena.hoffmann@example.com>",
        &asked,
        "No, not senior enough for this role.",
    )
    .await;
    let record = eventually(30, "Lena's feedback on Boris", || async {
        let r = node.pipeline().record(&boris.id).await.unwrap();
        (!r.feedback.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(record.feedback[0].recommendation, "no");
    assert_eq!(record.candidate.stage, "interview", "no offer on a no");

    interview_ended(&node, riley, &ada).await;
    let asked = request_to(&node, "marco.rossi@example.com", &ada).await;
    // Every member of the panel was asked.
    request_to(&node, "dana.wu@example.com", &ada).await;
    answer(
        &node,
        "Marco Rossi <marco.rossi@example.com>",
        &asked,
        "Strong yes: deep Rust and PostgreSQL experience.",
    )
    .await;
    let record = eventually(30, "Ada moved to the offer stage", || async {
        let r = node.pipeline().record(&ada.id).await.unwrap();
        (r.candidate.stage == "offer").then_some(r)
    })
    .await;
    assert_eq!(record.feedback.len(), 1);
    assert_eq!(record.feedback[0].recommendation, "strong_yes");
    assert!(
        record.feedback[0]
            .author
            .contains("marco.rossi@example.com")
    );
    assert!(record.feedback[0].text.starts_with("Strong yes: deep Rust"));

    // The offer letter is drafted; the mail carrying it waits for the hiring manager.
    let pending = eventually(30, "the offer awaiting approval", || async {
        node.approvals(Some(riley), Some(ApprovalStatus::Pending), 50)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.action["params"]["offer"] == json!(true))
    })
    .await;
    assert!(
        pending.reason.contains("hiring manager"),
        "{}",
        pending.reason
    );
    assert!(
        node.mail_inbox("ada@candidate.example", 20)
            .await
            .unwrap()
            .iter()
            .all(|m| !m.subject.starts_with("Your offer")),
        "nothing reaches Ada before the approval"
    );
    let letters = eventually(30, "the offer letter", || async {
        let docs = node
            .documents(
                &DocumentFilter {
                    kind: Some("offer".into()),
                    ..Default::default()
                },
                Page::default(),
            )
            .await
            .unwrap();
        (!docs.is_empty()).then_some(docs)
    })
    .await;
    assert_eq!(letters.len(), 1);
    let md = node
        .document_content(&letters[0].id, Format::Md)
        .await
        .unwrap()
        .unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("Dear Ada Byron"), "{md}");
    assert!(md.contains("**Senior Backend Engineer**"), "{md}");

    node.decide(pending.id, true, "dana.wu@example.com", None)
        .await
        .unwrap();
    let offer = eventually(30, "the offer in Ada's inbox", || async {
        node.mail_inbox("ada@candidate.example", 20)
            .await
            .unwrap()
            .into_iter()
            .find(|m| {
                m.subject == "Your offer: Senior Backend Engineer"
                    && m.attachments.iter().any(|a| a.document.is_some())
            })
    })
    .await;
    assert_eq!(
        offer.attachments[0].document.as_deref(),
        Some(letters[0].id.as_str()),
        "the offer letter is attached"
    );
    assert!(offer.body.starts_with("Hi Ada,"), "{}", offer.body);
    node.shutdown().await;
}
