//! Teams as recipients: a plan that writes to `team:product` and books a meeting with
//! it reaches every member — the addresses as written, an employee handle as that
//! employee — and the approval of such a mail shows the members it would go to.

use super::common::{eventually, options};
use empla::bdi::{Phase, PlanSpec};
use empla::lifecycle::HireRequest;
use empla::model::{Approval, ApprovalStatus, EmployeeId, NewEvent};
use empla::node::Node;
use serde_json::json;

const MEMBERS: [&str; 4] = [
    "casey.kim@example.com",
    "dana.wu@example.com",
    "marco.rossi@example.com",
    "lena.hoffmann@example.com",
];

/// The employee's first pending approval, once there is one.
async fn first_pending(node: &Node, id: EmployeeId, what: &str) -> Approval {
    eventually(20, what, || async {
        let a = node
            .approvals(Some(id), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap();
        a.into_iter().next()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_naming_a_team_reaches_each_member() {
    let s = super::common::sqlite().await;
    let mut opts = options("teams");
    let plans: Vec<PlanSpec> = toml::from_str::<toml::Table>(
        r#"
[[plans]]
name = "tell_product"
trigger = { event = "manual.tell_product" }
steps = [
  { action = "email.send", params = { to = "team:product", subject = "Launch notes", body = "The notes are ready." } },
  { action = "calendar.schedule", params = { title = "Launch review", duration_minutes = 30, attendees = "team:product" } },
]
"#,
    )
    .unwrap()["plans"]
        .clone()
        .try_into()
        .unwrap();
    opts.roles.get_mut("sales_ae").unwrap().plans.extend(plans);
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    // casey.kim, a member by handle, is an employee of this node.
    node.hire(HireRequest::new("pm", "Casey Kim"))
        .await
        .unwrap();
    let riley = node
        .hire(HireRequest::new("sales_ae", "Riley Quinn"))
        .await
        .unwrap()
        .id;
    let tell = || NewEvent {
        kind: "manual.tell_product".into(),
        source: "test".into(),
        payload: json!({}),
        idempotency_key: None,
    };

    // Assisted: the approval shows the members the mail would reach.
    node.set_phase(riley, Phase::Assisted).await.unwrap();
    node.submit_event(riley, tell()).await.unwrap();
    let pending = first_pending(&node, riley, "the mail awaiting approval").await;
    let to = pending.recipients.as_ref().unwrap().to.clone();
    for m in MEMBERS {
        assert!(to.contains(m), "{to}");
    }
    assert!(to.contains("Casey Kim <casey.kim@example.com>"), "{to}");

    // Approved: each member gets the mail, then the invitation.
    node.decide(pending.id, true, "manager", None)
        .await
        .unwrap();
    let booking = first_pending(&node, riley, "the meeting awaiting approval").await;
    node.decide(booking.id, true, "manager", None)
        .await
        .unwrap();
    for m in MEMBERS {
        let notes = eventually(20, &format!("{m}'s mail"), || async {
            let inbox = node.mail_inbox(m, 10).await.unwrap();
            inbox.into_iter().find(|x| x.subject == "Launch notes")
        })
        .await;
        assert_eq!(notes.from, "Riley Quinn <riley.quinn@example.com>");
    }
    // The meeting is in every member's calendar, the employee's own included.
    let now = chrono::Utc::now();
    for m in MEMBERS {
        let meetings = eventually(20, &format!("the review in {m}'s calendar"), || async {
            let c = node
                .calendar(m, now, now + chrono::Duration::days(30))
                .await
                .unwrap();
            c.into_iter().find(|e| e.title == "Launch review")
        })
        .await;
        assert_eq!(meetings.attendees.len(), 4, "{meetings:?}");
    }
    node.shutdown().await;
}
