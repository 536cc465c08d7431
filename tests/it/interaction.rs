//! Humans reach employees on the embedded default, through the real binary: mail on
//! the built-in driver (a customer writes, the employee answers in thread), chat
//! answered from beliefs and goals, tasks delegated and reported on — and each bad
//! input's error. Plus, on the library, a task a plan covers runs to done with its
//! result, and the requester hears about it by mail.

use super::common::{self, eventually, start_binary};
use empla::bdi::Phase;
use empla::lifecycle::HireRequest;
use empla::model::{NewTask, TaskStatus};
use empla::node::Node;
use serde_json::{Value, json};

async fn post(node: &common::NodeProcess, path: &str, body: Value) -> (u16, Value) {
    let r = node
        .client()
        .post(node.url(path))
        .bearer_auth(&node.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// POSTs `body`, expects a 400, and answers its message.
async fn refused(node: &common::NodeProcess, path: &str, body: Value) -> String {
    let (status, e) = post(node, path, body).await;
    assert_eq!(status, 400, "{e}");
    e["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_mail_is_answered_in_thread_on_the_built_in_driver() {
    crate::documents::readers();
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let profile = node.get_json("/api/v1/employees/jordan.lee").await;
    assert_eq!(profile["email"], "jordan.lee@example.com");
    node.set_phase("jordan.lee", "autonomous").await;

    let (status, sent) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Sarah Chen <sarah@acme.com>", "to": "jordan.lee@example.com",
               "subject": "Pricing for 40 seats?", "body": "Could you send me a quote for 40 seats?"}),
    )
    .await;
    assert_eq!(status, 202, "{sent}");
    let asked = sent["message_id"].as_str().unwrap().to_string();

    // The employee perceived it, triaged as a quote request, and replied in the thread.
    let reply = eventually(20, "the reply in Sarah's inbox", || async {
        let inbox = node
            .get_json("/api/v1/mail/inbox?address=sarah@acme.com")
            .await;
        inbox["items"].as_array().and_then(|i| i.first().cloned())
    })
    .await;
    assert_eq!(reply["in_reply_to"], asked.as_str());
    assert_eq!(reply["subject"], "Re: Pricing for 40 seats?");
    assert_eq!(reply["from"], "Jordan Lee <jordan.lee@example.com>");
    assert_eq!(reply["to"], "Sarah Chen <sarah@acme.com>");
    assert!(
        reply["body"].as_str().unwrap().contains("Jordan Lee"),
        "{reply}"
    );
    let episodes = node
        .get_json("/api/v1/employees/jordan.lee/episodes?limit=50")
        .await;
    let event = episodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["summary"] == "email.received")
        .expect("the mail was perceived")
        .clone();
    // The Sales AE's own triage: a quote request, high priority; the quantity read.
    assert_eq!(event["payload"]["intent"], "quote");
    assert_eq!(event["payload"]["priority"], "high");
    assert_eq!(event["payload"]["from_address"], "sarah@acme.com");
    assert_eq!(event["payload"]["quote"]["summary"], "40 seats");

    // The reply carries the proposal, listed and served by the API in each format.
    let document = reply["attachments"][0]["document"]
        .as_str()
        .expect("the proposal is attached")
        .to_string();
    let listed = node
        .get_json("/api/v1/documents?employee=jordan.lee&kind=proposal")
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], document.as_str());
    let record = node
        .get_json(&format!("/api/v1/documents/{document}"))
        .await;
    assert_eq!(record["kind"], "proposal");
    assert_eq!(record["title"], "Proposal for Acme: 40 seats");
    assert!(
        record["account"].is_string() && record["created_at"].is_string(),
        "{record}"
    );
    let fetch = |format: &'static str| {
        let url = node.url(&format!(
            "/api/v1/documents/{document}/content?format={format}"
        ));
        let request = node.client().get(url).bearer_auth(&node.token);
        async move { request.send().await.unwrap() }
    };
    let pdf = fetch("pdf").await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = crate::documents::pdf_text(&pdf.bytes().await.unwrap());
    assert!(text.contains("$19,200.00"), "{text}");
    let docx = fetch("docx").await;
    assert_eq!(docx.status(), 200);
    let words = crate::documents::docx_text(&docx.bytes().await.unwrap());
    assert!(words.contains("$19,200.00"), "{words}");
    let md = fetch("md").await.text().await.unwrap();
    assert!(
        md.contains("| **Total (USD)** | | | **$19,200.00** |"),
        "{md}"
    );
    let bad = fetch("xls").await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("`format` must be `pdf`, `docx` or `md`")
    );
    let r = node
        .client()
        .get(node.url("/api/v1/documents/no-such-document"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // And the CLI: listed, saved as a PDF poppler reads.
    let out = node.cli(&["documents", "list", "--employee", "jordan.lee"]);
    assert!(
        out.contains(&document) && out.contains("proposal  v1  Proposal for Acme: 40 seats"),
        "{out}"
    );
    let saved = tempfile::tempdir().unwrap();
    let file = saved.path().join("quote.pdf");
    let out = node.cli(&[
        "documents",
        "get",
        &document,
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(out.starts_with("wrote "), "{out}");
    let text = crate::documents::pdf_text(&std::fs::read(&file).unwrap());
    assert!(text.contains("$19,200.00"), "{text}");

    // Sarah answers the reply: for Jordan that is an `email.reply` in the same thread.
    let (status, _) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "sarah@acme.com", "to": "jordan.lee@example.com", "subject": "Re: Pricing for 40 seats?",
               "body": "Thanks!", "in_reply_to": reply["message_id"]}),
    )
    .await;
    assert_eq!(status, 202);
    let thread = eventually(20, "Sarah's reply perceived", || async {
        let episodes = node
            .get_json("/api/v1/employees/jordan.lee/episodes?limit=50")
            .await;
        episodes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["summary"] == "email.reply")
            .map(|e| e["payload"]["thread"].clone())
    })
    .await;
    assert_eq!(thread, asked.as_str());

    // The CLI reads the same inbox.
    let out = node.cli(&["mail", "inbox", "sarah@acme.com"]);
    assert!(out.contains("subject: Re: Pricing for 40 seats?"), "{out}");
    assert!(
        out.contains(&format!(
            "attached: Proposal for Acme 40 seats.pdf (`empla documents get {document}`)"
        )),
        "{out}"
    );
    let out = node.cli(&[
        "mail",
        "send",
        "--from",
        "alex@example.com",
        "--to",
        "dana.wu@example.com",
        "--subject",
        "Hi",
        "--body",
        "Lunch?",
    ]);
    assert!(out.starts_with("sent "), "{out}");
    assert!(
        node.cli(&["mail", "inbox", "dana.wu@example.com"])
            .contains("Lunch?")
    );

    // Bad input is named.
    assert!(
        refused(
            &node,
            "/api/v1/mail/send",
            json!({"from": "nobody", "to": "x@y.com"})
        )
        .await
        .contains("`from`")
    );
    assert!(
        refused(
            &node,
            "/api/v1/mail/send",
            json!({"from": "a@b.com", "to": "x@y.com", "cc": "z@y.com"})
        )
        .await
        .contains("cc")
    );
    let r = node.get_json("/api/v1/mail/inbox").await;
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`address`"),
        "{r}"
    );
    let r = node.get_json("/api/v1/mail/inbox?address=sarah").await;
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mail address"),
        "{r}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_answers_status_and_goals_without_a_model_and_tasks_are_tracked() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let chat = |text: &str| {
        post(
            &node,
            "/api/v1/employees/sam.rivera/chat",
            json!({"from": "Priya Shah <priya.shah@example.com>", "text": text}),
        )
    };
    let (status, r) = chat("What are you working on?").await;
    assert_eq!(status, 200, "{r}");
    let reply = r["reply"].as_str().unwrap();
    assert!(reply.starts_with("Hello Priya"), "{reply}");
    assert!(reply.contains("shadow phase"), "{reply}");
    let (_, r) = chat("How are your goals going?").await;
    let reply = r["reply"].as_str().unwrap();
    assert!(
        reply.contains("Maintain 95%+ retention rate: no figure reported yet"),
        "{reply}"
    );
    let (_, r) = chat("What is the capital of Peru?").await;
    assert!(
        r["reply"]
            .as_str()
            .unwrap()
            .contains("can't answer that without a language model"),
        "{r}"
    );
    let (status, e) = chat("  ").await;
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("`text`"),
        "{e}"
    );
    let (status, _) = post(
        &node,
        "/api/v1/employees/nobody.here/chat",
        json!({"from": "x", "text": "hi"}),
    )
    .await;
    assert_eq!(status, 404);
    // The CLI, and the conversation kept in the node.
    let out = node.cli(&["chat", "sam.rivera", "hello there", "--from", "Priya"]);
    assert!(
        out.contains("I'm Sam Rivera, Customer Success Manager"),
        "{out}"
    );
    let history = node
        .get_json("/api/v1/employees/sam.rivera/chat?conversation=Priya")
        .await;
    assert_eq!(history["items"].as_array().unwrap().len(), 1, "{history}");

    // A task no plan covers is acknowledged, then fails saying why.
    let (status, t) = post(
        &node,
        "/api/v1/employees/sam.rivera/tasks",
        json!({"description": "Repaint the office", "priority": "low"}),
    )
    .await;
    assert_eq!(status, 202, "{t}");
    let id = t["id"].as_str().unwrap().to_string();
    let task = eventually(20, "the task ended", || async {
        let t = node
            .get_json(&format!("/api/v1/employees/sam.rivera/tasks/{id}"))
            .await;
        (t["status"] == "failed").then_some(t)
    })
    .await;
    assert_eq!(task["id"], id.as_str());
    assert!(
        task["result"]
            .as_str()
            .unwrap()
            .contains("None of my plans covers this task"),
        "{task}"
    );
    assert_eq!(task["progress"], 0.0);
    let out = node.cli(&["task", "list", "sam.rivera"]);
    assert!(
        out.contains("Repaint the office") && out.contains("failed"),
        "{out}"
    );
    let out = node.cli(&[
        "task",
        "assign",
        "sam.rivera",
        "Send the renewal summary",
        "--priority",
        "high",
        "--deadline",
        "2099-01-01",
    ]);
    assert!(out.contains("assigned to sam.rivera"), "{out}");

    // Bad tasks.
    assert!(
        refused(
            &node,
            "/api/v1/employees/sam.rivera/tasks",
            json!({"description": ""})
        )
        .await
        .contains("`description`")
    );
    assert!(
        refused(
            &node,
            "/api/v1/employees/sam.rivera/tasks",
            json!({"description": "x", "deadline": "2001-01-01T00:00:00Z"})
        )
        .await
        .contains("`deadline`")
    );
    let (status, e) = post(
        &node,
        "/api/v1/employees/sam.rivera/tasks",
        json!({"description": "x", "priority": "asap"}),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    let r = node
        .get_json("/api/v1/employees/sam.rivera/tasks/not-a-task")
        .await;
    assert_eq!(r["error"]["code"], "not_found");
    let out = node.run_cli(&["task", "assign", "sam.rivera", "x", "--deadline", "soon"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--deadline must be"));
    node.terminate();
}

/// Whether the employee's episodes show `summary` (newest 50).
async fn has_episode(node: &common::NodeProcess, who: &str, summary: &str) -> Option<()> {
    let v = node
        .get_json(&format!("/api/v1/employees/{who}/episodes?limit=50"))
        .await;
    v["items"]
        .as_array()?
        .iter()
        .any(|e| e["summary"] == summary)
        .then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coaching_in_chat_in_a_reply_and_in_words_is_learned_from() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());

    // In chat: a correction is acknowledged and shifts the style.
    let (status, r) = post(
        &node,
        "/api/v1/employees/jordan.lee/chat",
        json!({"from": "Alex Morgan", "text": "That last note was too formal for a startup founder."}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert!(r["reply"].as_str().unwrap().contains("I'll adjust"), "{r}");
    eventually(20, "the chat correction learned", || {
        has_episode(&node, "jordan.lee", "style adjusted")
    })
    .await;

    // In a reply to the employee's mail, from a colleague: Sam's task report goes to
    // Priya, whose answer (own words above the quote) corrects the style.
    let (status, t) = post(
        &node,
        "/api/v1/employees/sam.rivera/tasks",
        json!({"description": "Repaint the office", "requester": "priya.shah@example.com"}),
    )
    .await;
    assert_eq!(status, 202, "{t}");
    let report = eventually(20, "the task report in Priya's inbox", || async {
        let inbox = node
            .get_json("/api/v1/mail/inbox?address=priya.shah@example.com")
            .await;
        inbox["items"].as_array().and_then(|i| i.first().cloned())
    })
    .await;
    assert!(
        has_episode(&node, "sam.rivera", "style adjusted")
            .await
            .is_none()
    );
    let (status, _) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Priya Shah <priya.shah@example.com>", "to": "sam.rivera@example.com",
               "subject": "Re: task", "in_reply_to": report["message_id"],
               "body": "Thanks. Much too long though, keep these shorter.\n\nOn Wed, Sam Rivera wrote:\n> I could not finish"}),
    )
    .await;
    assert_eq!(status, 202);
    eventually(20, "the reply's correction learned", || {
        has_episode(&node, "sam.rivera", "style adjusted")
    })
    .await;

    // In words, through the API and the CLI: read as praise, kept as a suggestion.
    let (status, _) = post(
        &node,
        "/api/v1/employees/casey.kim/feedback",
        json!({"text": "Great job on the roadmap summary"}),
    )
    .await;
    assert_eq!(status, 202);
    let learned = eventually(20, "praise in words recorded", || async {
        let v = node
            .get_json("/api/v1/employees/casey.kim/episodes?limit=20")
            .await;
        v["items"]
            .as_array()?
            .iter()
            .find(|e| e["summary"] == "empla.feedback")
            .cloned()
    })
    .await;
    assert_eq!(learned["payload"]["kind"], "praise");
    assert_eq!(learned["payload"]["rating"], 1.0);
    let out = node.cli(&["feedback", "casey.kim", "next time, include the dates"]);
    assert!(out.contains("recorded"), "{out}");
    node.terminate();
}

/// A role whose plan covers reporting tasks: it mails the report to the requester.
fn roles_with_report_plan() -> std::collections::BTreeMap<String, empla::config::RoleTemplate> {
    let mut roles = common::roles();
    let csm = roles.get_mut("csm").unwrap();
    let plan: empla::bdi::PlanSpec = toml::from_str(
        r#"
name = "send_report"
description = "A report was asked for: write it and send it"
trigger = { event = "task.assigned", when = "event.payload.description.contains('report')" }
steps = [
  { action = "email.send", params = { to = "{{ event.payload.requester }}", subject = "Your report", body = "Here is the report you asked for: {{ event.payload.description }}" } },
]
"#,
    )
    .unwrap();
    csm.plans.push(plan);
    roles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_a_plan_covers_runs_to_done_and_the_requester_hears_by_mail() {
    task_runs_to_done(common::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_runs_to_done_on_postgres() {
    if let Some(store) = common::postgres().await {
        task_runs_to_done(store).await;
    }
}

async fn task_runs_to_done(store: common::TestStore) {
    let mut opts = common::options("tasks");
    opts.roles = roles_with_report_plan();
    let node = Node::start_with_store(store.store.clone(), opts)
        .await
        .unwrap();
    let profile = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    node.set_phase(profile.id, Phase::Autonomous).await.unwrap();
    let task = node
        .assign_task(
            profile.id,
            NewTask {
                description: "Weekly health report for Acme".into(),
                priority: None,
                deadline: None,
                requester: Some("priya.shah@example.com".into()),
            },
            "api",
            "api",
        )
        .await
        .unwrap();
    assert_eq!(task.channel, "email");
    let done = eventually(20, "the task done", || async {
        let t = node.task(profile.id, &task.id).await.unwrap();
        t.status.is_final().then_some(t)
    })
    .await;
    for (_, e) in node.episodes(profile.id, 50, None).await.unwrap() {
        eprintln!("EP {} {}", e.summary, e.payload);
    }
    assert_eq!(done.status, TaskStatus::Done, "{done:?}");
    assert_eq!(done.progress, 1.0);
    assert!(
        done.result.as_deref().unwrap().contains("Your report"),
        "{done:?}"
    );
    assert!(done.intention.is_some());
    // The report and the updates went to the requester.
    let inbox = eventually(20, "the requester's mail", || async {
        let m = node.mail_inbox("priya.shah@example.com", 10).await.unwrap();
        m.iter()
            .any(|m| m.subject.starts_with("Task update") && m.body.starts_with("Done:"))
            .then_some(m)
    })
    .await;
    assert!(inbox.iter().any(|m| m.subject == "Your report"));
    assert!(
        inbox
            .iter()
            .any(|m| m.body.contains("Taking this on (send report)")),
        "{inbox:?}"
    );
    node.shutdown().await;
}

/// A recruiter role with a quick follow-up sequence: a touch, then another after each
/// second of silence, stopped by a reply.
fn roles_with_follow_ups() -> std::collections::BTreeMap<String, empla::config::RoleTemplate> {
    let mut roles = common::roles();
    let plan: empla::bdi::plans::PlanSpec = toml::from_str(
        r#"
name = "trial_follow_up"
trigger = { event = "trial.started" }
steps = [
  { action = "email.send", params = { to = "Sarah Chen <sarah@acme.com>", subject = "Your trial", body = "How is it going?" } },
  { wait = "email.reply", timeout = "1s", on_event = "finish", on_timeout = "continue" },
  { action = "email.reply", params = { follows = "{{ intention.last_action }}", body = "Just checking in." } },
  { wait = "email.reply", timeout = "1s", on_event = "finish", on_timeout = "continue" },
  { action = "email.reply", params = { follows = "{{ intention.last_action }}", body = "Last note from me." } },
]
"#,
    )
    .unwrap();
    roles.get_mut("recruiter").unwrap().plans.push(plan);
    roles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_goes_to_the_same_person_in_the_thread_and_a_reply_stops_the_sequence() {
    let store = common::sqlite().await;
    let mut opts = common::options("follow-ups");
    opts.roles = roles_with_follow_ups();
    opts.runtime.passivation_sweep_every = std::time::Duration::from_millis(200);
    let node = Node::start_with_store(store.store.clone(), opts)
        .await
        .unwrap();
    let sam = node
        .hire(HireRequest::new("recruiter", "Sam Rivera"))
        .await
        .unwrap();
    node.set_phase(sam.id, Phase::Autonomous).await.unwrap();
    // Seen as many times as this persona wants evidence before acting on its own.
    for _ in 0..3 {
        node.submit_event(
            sam.id,
            empla::model::NewEvent {
                kind: "trial.started".into(),
                source: "test".into(),
                payload: json!({}),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    }
    let sarahs = || async { node.mail_inbox("sarah@acme.com", 10).await.unwrap() };
    let first = eventually(20, "the first touch", || async {
        sarahs().await.into_iter().next()
    })
    .await;
    assert_eq!(first.subject, "Your trial");
    // A second of silence: the follow-up, to Sarah, in the thread of the first.
    let second = eventually(20, "the follow-up", || async {
        let m = sarahs().await;
        (m.len() == 2).then(|| m[0].clone())
    })
    .await;
    assert_eq!(second.to, "Sarah Chen <sarah@acme.com>");
    assert_eq!(second.subject, "Re: Your trial");
    assert_eq!(
        second.in_reply_to.as_deref(),
        Some(first.message_id.as_str())
    );
    assert_eq!(second.references, std::slice::from_ref(&first.message_id));
    assert!(second.body.contains("Just checking in"));

    // Sarah answers the follow-up: the sequence stops, no third touch.
    node.send_mail(empla::model::OutgoingMail {
        from: "Sarah Chen <sarah@acme.com>".into(),
        to: "sam.rivera@example.com".into(),
        subject: "Re: Your trial".into(),
        body: "Going well, thanks!".into(),
        in_reply_to: Some(second.message_id.clone()),
    })
    .await
    .unwrap();
    eventually(20, "the sequence ended", || async {
        let ended = node
            .episodes(sam.id, 50, None)
            .await
            .unwrap()
            .into_iter()
            .any(|(_, e)| e.summary == "completed trial_follow_up");
        ended.then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sarahs().await.len(), 2, "no touch after the reply");
    node.shutdown().await;
}
