//! Forgetting a person through the node, on SQLite and PostgreSQL. Sarah mails two
//! employees (with an attachment, kept as a file under the data directory), chats with
//! one, asks it for a task; the other, assisted, waits for approval to reply to her.
//! Raj does the same, once mentioning her in chat. Then she is forgotten: nothing about her is
//! left in the mail inboxes, the outbox, the approvals, chat, tasks, memory, the
//! employees' working memory or their stored state — whether the employee was running
//! or passivated — and the counts reported match what was there. Raj's records are as
//! they were, but for the mention of her, redacted; both employees go on working.

use super::common::{self, TestStore, eventually};
use empla::actors::RuntimeState;
use empla::bdi::Phase;
use empla::capabilities::email::mime;
use empla::lifecycle::HireRequest;
use empla::memory::{Mode, Recall};
use empla::model::{
    ActionStatus, ApprovalStatus, EmployeeId, MailMessage, NewEvent, NewTask, OutgoingMail,
};
use empla::node::Node;
use empla::store::Folder;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

crate::on_every_test_store!(forgetting_a_person_removes_every_copy_the_node_holds,);

const SARAH: &str = "Sarah Chen <sarah@acme.com>";
const RAJ: &str = "Raj Patel <raj@contoso.com>";
const SAM: &str = "sam.rivera@example.com";
const CASEY: &str = "casey.kim@example.com";

/// Recruiters whose one plan acknowledges every mail, each in its own intention.
fn roles() -> std::collections::BTreeMap<String, empla::config::RoleTemplate> {
    let mut roles = common::roles();
    let plan = r#"
name = "acknowledge"
trigger = { event = "email.received" }
per = "payload.message_id"
steps = [
  { action = "email.reply", params = { in_reply_to = "{{ event.payload.message_id }}", body = "Thanks, I'm on it." } },
]
"#;
    roles.get_mut("recruiter").unwrap().plans = vec![toml::from_str(plan).unwrap()];
    roles
}

/// Whether `text` says anything about Sarah that forgetting her must remove.
fn about_sarah(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("sarah chen") || t.contains("sarah@acme.com")
}

fn json_about_sarah(v: &impl serde::Serialize) -> bool {
    about_sarah(&serde_json::to_string(v).unwrap())
}

/// Sarah's order form reaches Sam and Casey as the mail intake takes it in: parsed,
/// its attachment kept as a file under the data directory, stored in both inboxes and
/// perceived by both. Answers the message as stored.
async fn sarah_sends_the_order_form(
    node: &Node,
    data: &std::path::Path,
    to: &[EmployeeId],
) -> MailMessage {
    let raw = format!(
        "From: {SARAH}\r\nTo: Sam Rivera <{SAM}>\r\nCc: Casey Kim <{CASEY}>\r\nSubject: Signed order form\r\n\
         Message-ID: <order-1@acme.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nPlease find my signed order form attached. Sarah Chen, Acme\r\n\
         --b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"order-form.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfsj6IKU2lnbmVkOiBTYXJhaCBDaGVu\r\n--b1--\r\n"
    );
    let m = mime::parse(raw.as_bytes(), 1 << 20, chrono::Utc::now())
        .save(&data.join("attachments"))
        .await
        .unwrap();
    node.store()
        .put_mail(
            node.tenant(),
            &m,
            &[(SAM.into(), Folder::Inbox), (CASEY.into(), Folder::Inbox)],
        )
        .await
        .unwrap();
    for id in to {
        node.submit_event(
            *id,
            NewEvent {
                kind: "email.received".into(),
                source: "mail".into(),
                payload: json!({
                    "message_id": m.message_id,
                    "from": m.from,
                    "from_address": "sarah@acme.com",
                    "from_name": "Sarah Chen",
                    "to": m.to,
                    "cc": m.cc,
                    "subject": m.subject,
                    "body": m.body,
                    "thread": m.thread(),
                    "attachments": m.attachments,
                }),
                idempotency_key: Some(format!("mail:{}", m.message_id)),
            },
        )
        .await
        .unwrap();
    }
    m
}

/// Everything of `who` on the node that the test compares before and after.
#[derive(Debug, PartialEq)]
struct Records {
    inbox: Vec<MailMessage>,
    actions: Vec<Value>,
    approvals: Vec<Value>,
    chat: Vec<Value>,
    tasks: Vec<Value>,
}

async fn records(node: &Node, sam: EmployeeId, casey: EmployeeId, who: &str) -> Records {
    fn json(v: &impl serde::Serialize) -> Value {
        serde_json::to_value(v).unwrap()
    }
    let mine = |v: &Value| v.to_string().to_lowercase().contains(who);
    let mut actions: Vec<Value> = Vec::new();
    for id in [sam, casey] {
        for a in node.actions(id, 500).await.unwrap() {
            actions.push(
                json!({"key": a.entry.key, "kind": a.entry.kind, "params": a.entry.params,
                                "status": a.status.as_str(), "result": a.result}),
            );
        }
    }
    let approvals = node.approvals(None, None, 500).await.unwrap();
    let chat = node.chat_messages(sam, None, 500).await.unwrap();
    let tasks = node.tasks(sam, false, 500).await.unwrap();
    Records {
        inbox: node.mail_inbox(who, 100).await.unwrap(),
        actions: actions.into_iter().filter(|a| mine(a)).collect(),
        approvals: approvals.iter().map(json).filter(|a| mine(a)).collect(),
        chat: chat.iter().map(json).filter(|c| mine(c)).collect(),
        tasks: tasks.iter().map(json).filter(|t| mine(t)).collect(),
    }
}

/// `records` as they should be once Sarah is forgotten: each mention of her redacted.
fn redacted(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .map(|r| serde_json::from_str(&r.to_string().replace("Sarah Chen", "[forgotten]")).unwrap())
        .collect()
}

async fn forgetting_a_person_removes_every_copy_the_node_holds(s: &TestStore) {
    let data = tempfile::tempdir().unwrap();
    let mut opts = common::options("forget");
    opts.roles = roles();
    opts.data_dir = data.path().to_path_buf();
    // Passivated only when the test sweeps.
    opts.runtime.idle_passivate_after = Duration::from_millis(200);
    opts.runtime.passivation_sweep_every = Duration::from_secs(3600);
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let sam = node
        .hire(HireRequest::new("recruiter", "Sam Rivera"))
        .await
        .unwrap();
    let casey = node
        .hire(HireRequest::new("recruiter", "Casey Kim"))
        .await
        .unwrap();
    assert_eq!((sam.email.as_str(), casey.email.as_str()), (SAM, CASEY));
    let (sam, casey) = (sam.id, casey.id);
    node.set_phase(sam, Phase::Autonomous).await.unwrap();
    node.set_phase(casey, Phase::Assisted).await.unwrap();

    // Raj first, then Sarah, so Sam's latest beliefs are about her.
    let raj_mail = node
        .send_mail(OutgoingMail {
            from: RAJ.into(),
            to: format!("{SAM}, {CASEY}"),
            subject: "Invoice".into(),
            body: "The invoice shows the wrong address.".into(),
            in_reply_to: None,
        })
        .await
        .unwrap();
    let order = sarah_sends_the_order_form(&node, data.path(), &[sam, casey]).await;
    let file = std::path::PathBuf::from(order.attachments[0].path.clone().unwrap());
    assert!(file.starts_with(data.path()) && file.exists(), "{file:?}");
    for (who, text) in [
        (
            RAJ,
            "I spoke with Sarah Chen yesterday; please send me the invoice.",
        ),
        (SARAH, "Can you call me about the renewal?"),
    ] {
        node.chat(sam, who, text, Duration::from_secs(10))
            .await
            .unwrap();
    }
    let mut task_ids = Vec::new();
    for (who, what) in [
        (RAJ, "Send me the corrected invoice"),
        (SARAH, "Send me the countersigned order form"),
    ] {
        let task = NewTask {
            description: what.into(),
            priority: None,
            deadline: None,
            requester: Some(who.into()),
        };
        task_ids.push(node.assign_task(sam, task, "api", "api").await.unwrap().id);
    }
    let sarahs_task = task_ids[1].clone();

    // Settled: Sam answered both mails, both chats and both tasks (no plan takes a task:
    // it fails, and the requester is told by mail); Casey waits for approval twice.
    eventually(30, "Sam's actions all run", || async {
        let actions = node.actions(sam, 100).await.unwrap();
        let of = |kind: &str| actions.iter().filter(|a| a.entry.kind == kind).count();
        let open = node.tasks(sam, true, 10).await.unwrap();
        (of("email.reply") == 2
            && of("chat.reply") == 2
            && open.is_empty()
            && actions.iter().all(|a| a.status != ActionStatus::Pending))
        .then_some(())
    })
    .await;
    eventually(30, "Casey's approvals", || async {
        let pending = node
            .approvals(Some(casey), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap();
        (pending.len() == 2).then_some(())
    })
    .await;
    eventually(30, "Sarah's inbox", || async {
        let inbox = node.mail_inbox("sarah@acme.com", 10).await.unwrap();
        (inbox.len() == 2).then_some(())
    })
    .await;
    assert_eq!(
        node.employee_runtime(casey)
            .await
            .unwrap()
            .pending_approvals,
        2
    );
    let snapshot = |id| {
        let node = &node;
        async move {
            let bytes = node
                .store()
                .snapshot(node.tenant(), id)
                .await
                .unwrap()
                .unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    for id in [sam, casey] {
        assert!(about_sarah(&snapshot(id).await), "{id}'s state holds Sarah");
    }

    // Casey is passivated (its state only in the store); Sam runs, and recalls her.
    tokio::time::sleep(Duration::from_millis(300)).await;
    node.sweep_idle();
    eventually(10, "both passivated", || async {
        let idle = Some(RuntimeState::Idle);
        (node.runtime_state(sam) == idle && node.runtime_state(casey) == idle).then_some(())
    })
    .await;
    node.activate(sam).await.unwrap();
    let recall = |q: &str, mode| Recall {
        q: q.into(),
        mode,
        limit: 100,
        ..Default::default()
    };
    let found = node
        .recall(sam, &recall("Sarah Chen order form", Mode::Hybrid))
        .await
        .unwrap();
    assert!(found.iter().any(|i| about_sarah(&i.text)), "{found:?}");
    let working = node.working_memory(sam).await.unwrap();
    assert!(json_about_sarah(&working), "{working:?}");
    assert_eq!(node.runtime_state(casey), Some(RuntimeState::Idle));

    // What there is of Sarah, counted as the node should count it.
    let sarah = records(&node, sam, casey, "sarah@acme.com").await;
    let raj = records(&node, sam, casey, "raj@contoso.com").await;
    let mut theirs: BTreeSet<String> = sarah.inbox.iter().map(|m| m.message_id.clone()).collect();
    for address in [SAM, CASEY] {
        for m in node.mail_inbox(address, 100).await.unwrap() {
            if about_sarah(&m.from) {
                theirs.insert(m.message_id);
            }
        }
    }
    assert_eq!(
        theirs.len(),
        3,
        "her mail, the reply to it, the task's outcome"
    );
    // Actions for her: to her, answering her mail, reporting on her task.
    let for_her = |a: &Value| {
        let p = &a["params"];
        about_sarah(&p["to"].to_string())
            || about_sarah(&p["conversation"].to_string())
            || about_sarah(&a["result"]["to"].to_string())
            || p["in_reply_to"]
                .as_str()
                .is_some_and(|m| theirs.contains(m))
            || p["task_id"] == sarahs_task.as_str()
    };
    let mut outbox = 0;
    for a in node.actions(sam, 500).await.unwrap() {
        outbox += usize::from(for_her(
            &json!({"params": a.entry.params, "result": a.result}),
        ));
    }
    assert_eq!(outbox, 3, "the reply, the chat answer, the task update");
    // What she wrote is an event; the answer to her is kept in the conversation.
    assert_eq!(sarah.chat.len(), 1, "{:#?}", sarah.chat);
    assert_eq!(sarah.tasks.len(), 1);

    let f = node.forget("  Sarah Chen <Sarah@Acme.com> ").await.unwrap();
    let answer = serde_json::to_value(&f).unwrap();
    for key in [
        "episodes",
        "events",
        "facts",
        "knowledge",
        "crm_contacts",
        "crm_activities",
        "documents",
        "mail",
        "attachments",
        "outbox",
        "approvals",
        "chat",
        "tasks",
        "escalations",
        "calendar",
        "state",
        "redacted",
    ] {
        assert!(answer[key].is_u64(), "{key} missing from {answer}");
    }
    assert_eq!(f.mail, theirs.len() as u64, "{answer}");
    assert_eq!(f.attachments, 1, "{answer}");
    assert_eq!(f.outbox, outbox as u64, "{answer}");
    assert_eq!(f.approvals, 1, "{answer}");
    assert_eq!(f.chat, 1, "{answer}");
    assert_eq!(f.tasks, 1, "{answer}");
    assert!(f.episodes > 0 && f.events > 0 && f.state > 0, "{answer}");
    assert!(f.redacted >= 1, "the answer to Raj at least: {answer}");
    assert_eq!(
        node.forget(SARAH).await.unwrap(),
        Default::default(),
        "forgetting her again finds nothing"
    );

    // Nothing about her is left anywhere (working memory first: a recall about her
    // would put the question there again).
    let working = node.working_memory(sam).await.unwrap();
    assert!(!json_about_sarah(&working), "{working:#?}");
    assert!(!file.exists(), "the attachment is deleted");
    assert!(!file.parent().unwrap().exists(), "with its folder");
    assert!(
        node.mail_inbox("sarah@acme.com", 100)
            .await
            .unwrap()
            .is_empty()
    );
    for address in [SAM, CASEY, "raj@contoso.com"] {
        let inbox = node.mail_inbox(address, 100).await.unwrap();
        assert!(!json_about_sarah(&inbox), "{address}: {inbox:#?}");
    }
    for id in [sam, casey] {
        for a in node.actions(id, 500).await.unwrap() {
            let v = json!({"params": a.entry.params, "result": a.result});
            assert!(!for_her(&v) && !about_sarah(&v.to_string()), "{v}");
        }
        let episodes = node.episodes(id, 1000, None).await.unwrap();
        assert!(!json_about_sarah(&episodes), "{episodes:#?}");
        assert!(!about_sarah(&snapshot(id).await), "{id}'s stored state");
    }
    let approvals = node.approvals(None, None, 500).await.unwrap();
    assert!(
        !json_about_sarah(&approvals) && approvals.len() == 1,
        "{approvals:#?}"
    );
    let chat = node.chat_messages(sam, None, 500).await.unwrap();
    assert!(!json_about_sarah(&chat), "{chat:#?}");
    let tasks = node.tasks(sam, false, 500).await.unwrap();
    assert!(tasks.iter().all(|t| t.id != sarahs_task) && !json_about_sarah(&tasks));
    for mode in [Mode::Text, Mode::Vector, Mode::Hybrid] {
        let q = recall("Sarah Chen sarah@acme.com order form renewal", mode);
        let left = node.recall(sam, &q).await.unwrap();
        assert!(
            left.iter().all(|i| !about_sarah(&i.text)),
            "{mode:?}: {left:#?}"
        );
    }
    assert_eq!(
        node.employee_runtime(casey)
            .await
            .unwrap()
            .pending_approvals,
        1,
        "Casey no longer waits to answer her"
    );

    // Raj's records are as they were, but for the mentions of her, redacted.
    let after = records(&node, sam, casey, "raj@contoso.com").await;
    assert_eq!(after.inbox, raj.inbox);
    assert_eq!(after.actions, redacted(&raj.actions));
    assert_eq!(after.approvals, raj.approvals);
    assert_eq!(after.tasks, raj.tasks);
    assert_eq!(after.chat, redacted(&raj.chat));
    let answer_to_raj = after
        .chat
        .iter()
        .find(|m| m["conversation"] == RAJ)
        .unwrap();
    assert!(
        answer_to_raj["text"]
            .as_str()
            .unwrap()
            .contains("`empla task assign sam.rivera \"I spoke with [forgotten] yesterday; please send me the invoice.\"`"),
        "{answer_to_raj}"
    );
    let sams = node.mail_inbox(SAM, 100).await.unwrap();
    assert!(sams.iter().any(|m| m.message_id == raj_mail));

    // Both go on working: Casey's reply to Raj is approved and sent, Raj's next mail
    // answered.
    let pending = node
        .approvals(Some(casey), Some(ApprovalStatus::Pending), 10)
        .await
        .unwrap();
    node.decide(pending[0].id, true, "alex", None)
        .await
        .unwrap();
    let again = node
        .send_mail(OutgoingMail {
            from: RAJ.into(),
            to: SAM.into(),
            subject: "Invoice, again".into(),
            body: "Any news?".into(),
            in_reply_to: None,
        })
        .await
        .unwrap();
    eventually(30, "Raj's answers", || async {
        let inbox = node.mail_inbox("raj@contoso.com", 100).await.unwrap();
        let from_casey = inbox.iter().any(|m| m.from.contains(CASEY));
        let answered = inbox
            .iter()
            .any(|m| m.in_reply_to.as_deref() == Some(again.as_str()));
        (from_casey && answered).then_some(())
    })
    .await;
    node.shutdown().await;
}
