//! Mail an employee sends on its own behaves like a good mail robot (RFC 3834): no
//! automatic reply to mail sent automatically, in bulk, from a list or a mail system,
//! or at the end of a loop of employees' messages; an acknowledgement goes to the
//! sender alone and says `Auto-Submitted: auto-replied`; a reply to everyone waits for
//! a human, whose approval shows who it goes to; a thread gets at most so many
//! messages from one employee a day.

use super::common::{self, eventually};
use empla::bdi::Phase;
use empla::lifecycle::HireRequest;
use empla::model::{ActionStatus, ApprovalStatus, EmployeeId, MailMessage, NewEvent};
use empla::node::Node;
use empla::store::Folder;
use serde_json::json;
use std::collections::BTreeMap;

const SAM: &str = "sam.rivera@example.com";

/// A recruiter whose only plans answer every mail: an acknowledgement to the sender,
/// or, when the subject asks for it, a reply to everyone on the message.
fn roles() -> BTreeMap<String, empla::config::RoleTemplate> {
    let mut roles = common::roles();
    let plans: Vec<empla::bdi::plans::PlanSpec> = [
        r#"
name = "acknowledge"
trigger = { event = "email.received", when = "!event.payload.subject.contains('everyone')" }
steps = [
  { action = "email.reply", params = { in_reply_to = "{{ event.payload.message_id }}", auto_reply = true, body = "Thanks, I'm on it." } },
]
"#,
        r#"
name = "answer_everyone"
trigger = { event = "email.received", when = "event.payload.subject.contains('everyone')" }
steps = [
  { action = "email.reply", params = { in_reply_to = "{{ event.payload.message_id }}", reply_all = true, body = "Answering all of you." } },
]
"#,
    ]
    .iter()
    .map(|p| toml::from_str(p).unwrap())
    .collect();
    roles.get_mut("recruiter").unwrap().plans = plans;
    roles
}

struct Inbound<'a> {
    id: &'a str,
    from: &'a str,
    cc: &'a str,
    subject: &'a str,
    references: &'a [&'a str],
    headers: &'a [(&'a str, &'a str)],
}

impl Default for Inbound<'_> {
    fn default() -> Self {
        Inbound {
            id: "",
            from: "Sarah Chen <sarah@acme.com>",
            cc: "",
            subject: "Question",
            references: &[],
            headers: &[],
        }
    }
}

/// A message arrives in Sam's mailbox and is perceived, as the mail intake does it.
async fn arrives(node: &Node, sam: EmployeeId, m: Inbound<'_>) {
    let message = MailMessage {
        message_id: m.id.to_string(),
        from: m.from.to_string(),
        to: format!("Sam Rivera <{SAM}>"),
        cc: m.cc.to_string(),
        subject: m.subject.to_string(),
        body: "Hello".into(),
        in_reply_to: m.references.last().map(|r| r.to_string()),
        references: m.references.iter().map(|r| r.to_string()).collect(),
        attachments: Vec::new(),
        headers: m
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        at: chrono::Utc::now(),
    };
    node.store()
        .put_mail(node.tenant(), &message, &[(SAM.into(), Folder::Inbox)])
        .await
        .unwrap();
    node.submit_event(
        sam,
        NewEvent {
            kind: "email.received".into(),
            source: "mail".into(),
            payload: json!({
                "message_id": message.message_id,
                "from": message.from,
                "to": message.to,
                "cc": message.cc,
                "subject": message.subject,
                "body": message.body,
                "thread": message.thread(),
            }),
            idempotency_key: Some(format!("mail:{}", m.id)),
        },
    )
    .await
    .unwrap();
}

/// What Sam's reply to `message_id` came to: the outbox result once it ran.
async fn outcome(node: &Node, sam: EmployeeId, message_id: &str) -> serde_json::Value {
    eventually(20, "the reply action ran", || async {
        node.actions(sam, 200)
            .await
            .unwrap()
            .into_iter()
            .find(|a| {
                a.entry.params["in_reply_to"] == message_id && a.status != ActionStatus::Pending
            })
            .map(|a| {
                assert_eq!(a.status, ActionStatus::Done, "{:?}", a.result);
                a.result.unwrap()
            })
    })
    .await
}

/// A node with Sam, autonomous; the store lives as long as the node is used.
async fn start() -> (Node, EmployeeId, common::TestStore) {
    let store = common::sqlite().await;
    let mut opts = common::options("mail-robot");
    opts.roles = roles();
    let node = Node::start_with_store(store.store.clone(), opts)
        .await
        .unwrap();
    let sam = node
        .hire(HireRequest::new("recruiter", "Sam Rivera"))
        .await
        .unwrap()
        .id;
    node.set_phase(sam, Phase::Autonomous).await.unwrap();
    (node, sam, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_goes_to_the_sender_alone_marked_auto_replied() {
    let (node, sam, _store) = start().await;
    arrives(
        &node,
        sam,
        Inbound {
            id: "q1@acme.com",
            cc: "Lee Park <lee@acme.com>",
            ..Default::default()
        },
    )
    .await;
    let result = outcome(&node, sam, "q1@acme.com").await;
    assert!(result["message_id"].is_string(), "{result}");
    let reply = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0].to, "Sarah Chen <sarah@acme.com>");
    assert_eq!(
        reply[0].cc, "",
        "an automatic reply goes to the sender only"
    );
    assert_eq!(reply[0].headers["Auto-Submitted"], "auto-replied");
    assert_eq!(reply[0].headers["X-Empla-Loop"], "1");
    assert!(
        node.mail_inbox("lee@acme.com", 10)
            .await
            .unwrap()
            .is_empty()
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_automatic_reply_to_robots_lists_bulk_mail_systems_or_loops() {
    let (node, sam, _store) = start().await;
    // (message, from, headers, what the withheld reply says)
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 6] = [
        (
            "ooo@acme.com",
            "Kim <kim@acme.com>",
            &[("Auto-Submitted", "auto-replied")],
            "Auto-Submitted",
        ),
        (
            "news@acme.com",
            "News <news@acme.com>",
            &[("Precedence", "bulk")],
            "Precedence: bulk",
        ),
        (
            "list@acme.com",
            "Dev list <dev@lists.acme.com>",
            &[("List-Id", "<dev.lists.acme.com>")],
            "List-Id",
        ),
        (
            "bounce@acme.com",
            "Mail Delivery System <MAILER-DAEMON@acme.com>",
            &[],
            "mail system",
        ),
        (
            "loop@other.com",
            "Bot <bot@other.com>",
            &[("X-Empla-Loop", "6")],
            "in a row",
        ),
        (
            "self@example.com",
            "Sam Rivera <sam.rivera@example.com>",
            &[],
            "own address",
        ),
    ];
    for (id, from, headers, _) in &cases {
        arrives(
            &node,
            sam,
            Inbound {
                id,
                from,
                headers,
                ..Default::default()
            },
        )
        .await;
    }
    // A person who says the message is not automatic is answered.
    arrives(
        &node,
        sam,
        Inbound {
            id: "person@acme.com",
            from: "Ana <ana@acme.com>",
            headers: &[("Auto-Submitted", "no")],
            ..Default::default()
        },
    )
    .await;
    for (id, from, _, why) in &cases {
        let result = outcome(&node, sam, id).await;
        assert_eq!(result["sent"], false, "{id}: {result}");
        let withheld = result["withheld"].as_str().unwrap();
        assert!(withheld.contains(why), "{id}: {withheld}");
        let address = empla::model::bare_address(from);
        if address != SAM {
            assert!(
                node.mail_inbox(address, 10).await.unwrap().is_empty(),
                "{id}"
            );
        }
    }
    assert!(outcome(&node, sam, "person@acme.com").await["message_id"].is_string());
    assert_eq!(node.mail_inbox("ana@acme.com", 10).await.unwrap().len(), 1);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_gets_so_many_messages_from_an_employee_a_day_then_a_human_continues() {
    let (node, sam, _store) = start().await;
    // Carol writes nine times in one thread; Sam answers eight, then stops.
    let ids: Vec<String> = (0..9).map(|i| format!("c{i}@acme.com")).collect();
    for (i, id) in ids.iter().enumerate() {
        let refs: Vec<&str> = if i == 0 {
            vec![]
        } else {
            vec![ids[0].as_str()]
        };
        arrives(
            &node,
            sam,
            Inbound {
                id,
                from: "Carol <carol@acme.com>",
                references: &refs,
                ..Default::default()
            },
        )
        .await;
        outcome(&node, sam, id).await;
    }
    assert_eq!(
        node.mail_inbox("carol@acme.com", 20).await.unwrap().len(),
        8
    );
    let last = outcome(&node, sam, &ids[8]).await;
    assert!(
        last["withheld"]
            .as_str()
            .unwrap()
            .contains("8 messages in this thread"),
        "{last}"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_to_everyone_waits_for_a_human_whose_approval_shows_who_it_goes_to() {
    let (node, sam, _store) = start().await;
    arrives(
        &node,
        sam,
        Inbound {
            id: "all1@acme.com",
            cc: "Lee Park <lee@acme.com>, Sam Rivera <sam.rivera@example.com>",
            subject: "Plan for everyone",
            ..Default::default()
        },
    )
    .await;
    let approval = eventually(20, "the reply waits for approval", || async {
        node.approvals(Some(sam), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    let to = approval
        .recipients
        .clone()
        .expect("mail shows its recipients");
    assert_eq!(to.to, "Sarah Chen <sarah@acme.com>");
    assert_eq!(
        to.cc, "Lee Park <lee@acme.com>",
        "everyone else, not Sam himself"
    );
    assert_eq!(to.withheld, None);
    assert!(
        node.mail_inbox("lee@acme.com", 10)
            .await
            .unwrap()
            .is_empty()
    );
    node.decide(approval.id, true, "manager@example.com", None)
        .await
        .unwrap();
    let lee = eventually(20, "the approved reply reached Lee", || async {
        node.mail_inbox("lee@acme.com", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(lee.subject, "Re: Plan for everyone");
    assert_eq!(
        node.mail_inbox("sarah@acme.com", 10).await.unwrap().len(),
        1
    );
    node.shutdown().await;
}
