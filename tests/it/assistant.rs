//! The Executive Assistant reads its executive's mail as a delegate: each message to
//! the executive is labelled, prioritised and summarised as it arrives, an urgent one
//! is put in front of the executive at once, and what waited untriaged is swept up.

use super::common::{self, NodeProcess, TOKEN, TestStore, eventually, start_binary_with};
use empla::bdi::Phase;
use empla::lifecycle::HireRequest;
use empla::model::{MailMessage, Manager, NewEvent, TenantId, TriageLabel};
use empla::node::Node;
use empla::store::{Folder, TriageFilter};
use serde_json::{Value, json};

const ROBIN: &str = "robin.hayes@example.com";

async fn send_mail(node: &NodeProcess, from: &str, subject: &str, body: &str) {
    let r = node
        .client()
        .post(node.url("/api/v1/mail/send"))
        .bearer_auth(&node.token)
        .json(&json!({"from": from, "to": format!("Robin Hayes <{ROBIN}>"), "subject": subject, "body": body}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executives_mail_is_triaged_as_it_arrives_and_the_urgent_one_reaches_them_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    // Avery Brooks, the demo EA, reads the mail of its manager Robin Hayes.
    node.set_phase("avery.brooks", "autonomous").await;
    send_mail(
        &node,
        "Sarah Chen <sarah@acme.com>",
        "Dashboard down",
        "Hi Robin,\n\nOur dashboard has been down since 9:00 for every user. We need someone on it immediately. Our board meets at noon.\n\nSarah",
    )
    .await;
    send_mail(
        &node,
        "Ivy Chen <ivy.chen@cobalt.example>",
        "Renewal",
        "Hello Robin,\nCould we find a time to talk about the renewal next week?",
    )
    .await;
    send_mail(
        &node,
        "Dana Wu <dana.wu@example.com>",
        "Q3 budget",
        "Do you agree with the numbers in the sheet?",
    )
    .await;
    send_mail(
        &node,
        "news@vendor.io",
        "Our November digest",
        "New features this month. Click to unsubscribe.",
    )
    .await;

    let items = eventually(60, "four messages triaged", || async {
        let v = node.get_json("/api/v1/employees/avery.brooks/triage").await;
        let items = v["items"].as_array().cloned().unwrap_or_default();
        (items.len() == 4).then_some(items)
    })
    .await;
    let by_subject = |s: &str| items.iter().find(|i| i["subject"] == s).unwrap().clone();
    // Most pressing first.
    assert_eq!(items[0]["subject"], "Dashboard down", "{items:?}");
    assert_eq!(items[3]["subject"], "Our November digest", "{items:?}");
    let urgent = by_subject("Dashboard down");
    assert_eq!(
        (&urgent["label"], &urgent["priority"]),
        (&json!("urgent"), &json!("high"))
    );
    assert_eq!(
        urgent["summary"],
        "Sarah Chen (acme.com) writes urgently about \"Dashboard down\": Our dashboard has been down since 9:00 for every user. We need someone on it immediately."
    );
    assert_eq!(by_subject("Renewal")["label"], "meeting_request");
    assert_eq!(by_subject("Q3 budget")["label"], "needs_reply");
    assert_eq!(by_subject("Our November digest")["label"], "fyi");
    assert_eq!(urgent["executive"], ROBIN);

    // Robin hears of the urgent one at once, by mail from Avery, and of it alone.
    let inbox = eventually(30, "the urgent notice in Robin's inbox", || async {
        let v = node
            .get_json(&format!("/api/v1/mail/inbox?address={ROBIN}"))
            .await;
        let from_avery: Vec<Value> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["from"]
                    .as_str()
                    .unwrap()
                    .contains("avery.brooks@example.com")
            })
            .cloned()
            .collect();
        (!from_avery.is_empty()).then_some(from_avery)
    })
    .await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(inbox[0]["subject"], "Urgent: Dashboard down");
    let body = inbox[0]["body"].as_str().unwrap();
    assert!(body.contains("From: Sarah Chen <sarah@acme.com>"), "{body}");
    assert!(body.contains("it says \"immediately\""), "{body}");
    let listed = eventually(10, "the triage row says Robin was told", || async {
        let v = node
            .get_json("/api/v1/employees/avery.brooks/triage?label=urgent")
            .await;
        let items = v["items"].as_array().cloned().unwrap_or_default();
        (items.len() == 1 && items[0]["notified_at"].is_string()).then_some(items)
    })
    .await;
    assert_eq!(listed[0]["subject"], "Dashboard down");
    // Avery's own notice to Robin is not triaged as Robin's mail.
    let all = node.get_json("/api/v1/employees/avery.brooks/triage").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4, "{all}");

    // The CLI lists the same, one message at a time with its summary.
    let out = node.cli(&["triage", "list", "avery.brooks"]);
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("urgent"), "{out}");
    assert!(
        out.contains("Ivy Chen (cobalt.example) asks to meet about \"Renewal\""),
        "{out}"
    );
    let out = node.cli(&["triage", "list", "avery.brooks", "--label", "needs_reply"]);
    assert!(
        out.contains("Q3 budget") && !out.contains("Renewal"),
        "{out}"
    );

    // A label that does not exist is refused, naming the ones that do.
    let bad = node
        .client()
        .get(node.url("/api/v1/employees/avery.brooks/triage?label=important"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.unwrap();
    assert!(
        text.contains("urgent, meeting_request, needs_reply, fyi"),
        "{text}"
    );

    // Sarah asks to be forgotten: her mail goes, and Avery's triage of it with it.
    post(
        &node,
        "/api/v1/memory/forget",
        json!({"person": "Sarah Chen <sarah@acme.com>"}),
    )
    .await;
    let left = node.get_json("/api/v1/employees/avery.brooks/triage").await;
    let left = left["items"].as_array().unwrap();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(
        left.iter()
            .all(|t| t["from"] != "Sarah Chen <sarah@acme.com>"),
        "{left:?}"
    );
    node.terminate();
}

crate::on_every_test_store!(
    mail_that_waited_untriaged_is_swept_up_once,
    an_assistant_without_delegated_reading_is_told_what_to_configure,
    a_message_that_is_not_the_executives_is_not_triaged_and_the_error_says_why,
);

fn old_mail(id: &str, subject: &str, body: &str, hours_ago: i64) -> MailMessage {
    MailMessage {
        message_id: id.into(),
        from: "Sarah Chen <sarah@acme.com>".into(),
        to: ROBIN.into(),
        cc: String::new(),
        subject: subject.into(),
        body: body.into(),
        in_reply_to: None,
        references: vec![],
        attachments: vec![],
        headers: Default::default(),
        at: chrono::Utc::now() - chrono::Duration::hours(hours_ago),
    }
}

async fn hire_assistant(node: &Node, name: &str) -> empla::model::EmployeeProfile {
    let mut req = HireRequest::new("ea", name);
    req.manager = Some(Manager::Human {
        name: "Robin Hayes".into(),
        email: "Robin.Hayes@example.com".into(),
    });
    let ea = node.hire(req).await.unwrap();
    node.set_phase(ea.id, Phase::Autonomous).await.unwrap();
    ea
}

async fn backlog(node: &Node, id: empla::model::EmployeeId, key: &str) {
    node.submit_event(
        id,
        NewEvent {
            kind: "signal.inbox_backlog".into(),
            source: "test".into(),
            payload: json!({}),
            idempotency_key: Some(key.into()),
        },
    )
    .await
    .unwrap();
}

async fn mail_that_waited_untriaged_is_swept_up_once(s: &TestStore) {
    let tenant = TenantId::new("ea-sweep");
    let node = Node::start_with_store(s.store.clone(), common::options("ea-sweep"))
        .await
        .unwrap();
    let ea = hire_assistant(&node, "Quinn Park").await;
    // The role reads its manager's mail: the store knows whose.
    assert_eq!(
        s.store.delegates(&tenant, ROBIN).await.unwrap(),
        vec![ea.id]
    );
    // Two messages reached Robin's mailbox while no one triaged them (the node was
    // down); one waited three hours, one arrived a minute ago.
    let copy = [(ROBIN.to_string(), Folder::Inbox)];
    let waited = old_mail(
        "waited@acme.com",
        "Contract question",
        "Could you confirm the start date?",
        3,
    );
    let fresh = old_mail("fresh@acme.com", "Lunch", "FYI the offsite lunch moved.", 0);
    s.store.put_mail(&tenant, &waited, &copy).await.unwrap();
    s.store.put_mail(&tenant, &fresh, &copy).await.unwrap();

    // The backlog signal sweeps up what waited more than 2 hours, and only that.
    backlog(&node, ea.id, "sweep-1").await;
    let triaged = eventually(30, "the message that waited triaged", || async {
        let t = s
            .store
            .triaged(
                &tenant,
                ea.id,
                &TriageFilter {
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert_eq!(triaged.len(), 1, "{triaged:?}");
    assert_eq!(triaged[0].message_id, "waited@acme.com");
    assert_eq!(triaged[0].label, TriageLabel::NeedsReply);
    // A second sweep finds nothing new to triage. It is asked for once the first has
    // ended: a signal that fires while its plan still runs starts no second one.
    eventually(30, "the first sweep ended", || async {
        let status = node.employee_runtime(ea.id).await.ok()?;
        (!status.intentions.iter().any(|i| i.plan == "triage_backlog")).then_some(())
    })
    .await;
    backlog(&node, ea.id, "sweep-2").await;
    let results = eventually(30, "two sweeps done", || async {
        let done: Vec<Value> = node
            .actions(ea.id, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.entry.kind == "email.triage" && a.status.as_str() == "done")
            .filter_map(|a| a.result)
            .collect();
        (done.len() == 2).then_some(done)
    })
    .await;
    let counts: Vec<u64> = results
        .iter()
        .map(|r| r["triaged"].as_u64().unwrap())
        .collect();
    assert!(counts.contains(&1) && counts.contains(&0), "{results:?}");
    node.shutdown().await;
}

async fn an_assistant_without_delegated_reading_is_told_what_to_configure(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), common::options("ea-no-delegation"))
        .await
        .unwrap();
    let mut req = HireRequest::new("ea", "Lee Fox");
    req.manager = Some(Manager::Human {
        name: "Robin Hayes".into(),
        email: ROBIN.into(),
    });
    req.permissions = Some([("email".to_string(), vec!["send_internal".to_string()])].into());
    let ea = node.hire(req).await.unwrap();
    node.set_phase(ea.id, Phase::Autonomous).await.unwrap();
    let tenant = TenantId::new("ea-no-delegation");
    assert!(s.store.delegates(&tenant, ROBIN).await.unwrap().is_empty());
    backlog(&node, ea.id, "sweep").await;
    let failed = eventually(30, "the triage failed", || async {
        node.actions(ea.id, 50)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.entry.kind == "email.triage" && a.status.as_str() == "failed")
    })
    .await;
    let error = failed.result.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("reads no one's mail") && error.contains("read_delegated"),
        "{error}"
    );
    node.shutdown().await;
}

async fn post(node: &NodeProcess, path: &str, body: Value) -> Value {
    let r = node
        .client()
        .post(node.url(path))
        .bearer_auth(&node.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// The first message from Avery in Robin's inbox whose subject is `subject`.
async fn robins_mail(node: &NodeProcess, subject: &str) -> Value {
    eventually(60, subject, || async {
        let v = node
            .get_json(&format!("/api/v1/mail/inbox?address={ROBIN}"))
            .await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["subject"] == subject && m["from"].as_str().unwrap().contains("avery.brooks@")
            })
            .cloned()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_morning_the_executive_gets_their_day_meetings_mail_waiting_and_tasks_due() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("avery.brooks", "autonomous").await;
    // Robin meets Ivy Chen of Cobalt on Monday 15 March at 10:00.
    post(
        &node,
        "/api/v1/employees/avery.brooks/calendar",
        json!({"title": "Renewal with Cobalt", "attendees": [format!("Robin Hayes <{ROBIN}>"), "Ivy Chen <ivy.chen@cobalt.example>"],
               "start": "2027-03-15T10:00:00Z", "duration_minutes": 30, "description": "Renewal terms for next year"}),
    )
    .await;
    // Ivy asks Robin for time; Dana asks a question Robin answers.
    send_mail(
        &node,
        "Ivy Chen <ivy.chen@cobalt.example>",
        "Renewal",
        "Hello Robin,\nCould we find a time to talk about the renewal before Monday?",
    )
    .await;
    send_mail(
        &node,
        "Dana Wu <dana.wu@example.com>",
        "Q3 budget",
        "Do you agree with the numbers in the sheet?",
    )
    .await;
    let items = eventually(60, "both triaged", || async {
        let v = node.get_json("/api/v1/employees/avery.brooks/triage").await;
        let items = v["items"].as_array().cloned().unwrap_or_default();
        (items.len() == 2).then_some(items)
    })
    .await;
    let dana = items.iter().find(|i| i["subject"] == "Q3 budget").unwrap();
    post(
        &node,
        "/api/v1/mail/send",
        json!({"from": format!("Robin Hayes <{ROBIN}>"), "to": "dana.wu@example.com", "subject": "Re: Q3 budget",
               "body": "Yes, they look right.", "in_reply_to": dana["message_id"]}),
    )
    .await;
    // A task for Robin's office due that morning.
    post(
        &node,
        "/api/v1/employees/avery.brooks/tasks",
        json!({"description": "Send the board pack to the directors", "deadline": "2027-03-15T12:00:00Z",
               "priority": "high", "requester": ROBIN}),
    )
    .await;

    // 06:00 on Monday 15 March: the daily_priority_review schedule ticks.
    post(
        &node,
        "/api/v1/employees/avery.brooks/events",
        json!({"kind": "cron.tick", "source": "test", "idempotency_key": "tick-0315",
               "payload": {"schedule": "daily_priority_review", "cron": "0 0 6 * * *", "at": "2027-03-15T06:00:00Z"}}),
    )
    .await;
    let brief = robins_mail(&node, "Your day: Monday 15 March").await;
    let body = brief["body"].as_str().unwrap();
    assert!(body.starts_with("Good morning Robin,\n\n"), "{body}");
    assert!(
        body.contains("Monday 15 March: 1 meeting, 1 message waiting for your reply, 1 task due."),
        "{body}"
    );
    assert!(
        body.contains("1. Renewal with Cobalt\n   When: Mon 15 Mar 2027, 10:00–10:30 UTC"),
        "{body}"
    );
    assert!(
        body.contains("Agenda: Renewal terms for next year"),
        "{body}"
    );
    // The meeting's brief says what was said with Ivy before.
    let ivy = &body[body.find("   Ivy Chen").expect(body)..];
    assert!(
        ivy.contains("find a time to talk about the renewal"),
        "{body}"
    );
    assert!(
        body.contains("WAITING FOR YOUR REPLY\n- [meeting request] Ivy Chen (cobalt.example) asks to meet about \"Renewal\""),
        "{body}"
    );
    // Robin answered Dana: no longer waiting.
    assert!(!body.contains("Q3 budget"), "{body}");
    assert!(
        body.contains(
            "TASKS DUE\n- Send the board pack to the directors (due Mon 15 Mar 12:00, high priority"
        ),
        "{body}"
    );
    assert!(body.trim_end().ends_with("Avery Brooks"), "{body}");
    node.terminate();
}

/// The first message from Avery in `address`'s inbox.
async fn from_avery(node: &NodeProcess, address: &str, what: &str) -> Value {
    eventually(60, what, || async {
        let v = node
            .get_json(&format!("/api/v1/mail/inbox?address={address}"))
            .await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["from"].as_str().unwrap().contains("avery.brooks@"))
            .cloned()
    })
    .await
}

/// The start and end (`HH:MM`) of each time an offer lists (`1. Mon 7 Dec 2026, 10:00–10:30 UTC`).
fn offered_times(body: &str) -> Vec<(String, String)> {
    body.lines()
        .filter(|l| l.len() > 3 && l.as_bytes()[0].is_ascii_digit() && l[1..].starts_with(". "))
        .map(|l| {
            let times = l.rsplit(", ").next().unwrap();
            let (start, rest) = times.split_once('–').unwrap();
            (start.to_string(), rest[..5].to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_request_gets_times_within_the_executives_rules_and_the_pick_is_booked() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("avery.brooks", "autonomous").await;
    // A colleague asks Robin for time: she may book without Robin's approval.
    send_mail(
        &node,
        "Dana Wu <dana.wu@example.com>",
        "Q3 budget review",
        "Hi Robin,\nCould we meet for half an hour to go over the Q3 budget?",
    )
    .await;
    let offer = from_avery(&node, "dana.wu@example.com", "times offered to Dana").await;
    let body = offer["body"].as_str().unwrap();
    assert!(body.contains("these times work for both of you"), "{body}");
    let times = offered_times(body);
    assert!(!times.is_empty(), "{body}");
    // Robin's rules: no meeting before 10:00 or after 16:00, half an hour.
    for (start, end) in &times {
        assert!(
            start.as_str() >= "10:00" && end.as_str() <= "16:00",
            "{body}"
        );
    }
    let triaged = node.get_json("/api/v1/employees/avery.brooks/triage").await;
    assert_eq!(triaged["items"][0]["label"], "meeting_request", "{triaged}");

    // Dana picks the second time: it is booked in Robin's calendar.
    post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Dana Wu <dana.wu@example.com>", "to": "avery.brooks@example.com",
               "subject": format!("Re: {}", offer["subject"].as_str().unwrap()),
               "body": "2 works for me.", "in_reply_to": offer["message_id"]}),
    )
    .await;
    let booked = eventually(60, "the meeting in Robin's calendar", || async {
        let v = node
            .get_json(&format!("/api/v1/calendar?owner={ROBIN}"))
            .await;
        v["items"]
            .as_array()
            .and_then(|i| i.iter().find(|e| e["title"] == "Q3 budget review").cloned())
    })
    .await;
    let attendees = booked["attendees"].to_string();
    assert!(
        attendees.contains("dana.wu@example.com") && attendees.contains(ROBIN),
        "{booked}"
    );
    let start = booked["start"].as_str().unwrap();
    let (picked, _) = &times[times.len().min(2) - 1];
    assert!(
        start.contains(&format!("T{picked}")),
        "{start} is not {picked}: {body}"
    );

    // Someone outside the company: Robin approves before their time is offered.
    send_mail(
        &node,
        "Ivy Chen <ivy.chen@cobalt.example>",
        "Renewal",
        "Hello Robin,\nCould we find a time to talk about the renewal?",
    )
    .await;
    let pending = eventually(60, "the offer to Ivy awaiting approval", || async {
        let q = node
            .get_json("/api/v1/approvals?employee=avery.brooks&status=pending")
            .await;
        q["items"].as_array().and_then(|i| {
            i.iter()
                .find(|a| a["action"]["kind"] == "calendar.propose")
                .cloned()
        })
    })
    .await;
    assert!(
        pending["reason"]
            .as_str()
            .unwrap()
            .contains("outside the company"),
        "{pending}"
    );
    let ivy_inbox = node
        .get_json("/api/v1/mail/inbox?address=ivy.chen@cobalt.example")
        .await;
    assert!(
        ivy_inbox["items"].as_array().unwrap().is_empty(),
        "{ivy_inbox}"
    );
    let id = pending["id"].as_str().unwrap();
    post(
        &node,
        &format!("/api/v1/approvals/{id}/approve"),
        json!({"by": "Robin Hayes"}),
    )
    .await;
    let offer = from_avery(&node, "ivy.chen@cobalt.example", "times offered to Ivy").await;
    assert!(
        !offered_times(offer["body"].as_str().unwrap()).is_empty(),
        "{offer}"
    );
    node.terminate();
}

async fn a_message_that_is_not_the_executives_is_not_triaged_and_the_error_says_why(s: &TestStore) {
    let tenant = TenantId::new("ea-not-theirs");
    let node = Node::start_with_store(s.store.clone(), common::options("ea-not-theirs"))
        .await
        .unwrap();
    let ea = hire_assistant(&node, "Quinn Park").await;
    // A message in someone else's inbox, and one the node never stored.
    let elsewhere = old_mail("elsewhere@acme.com", "Hello", "Are you there?", 0);
    s.store
        .put_mail(
            &tenant,
            &elsewhere,
            &[("sam@acme.com".into(), Folder::Inbox)],
        )
        .await
        .unwrap();
    for id in ["elsewhere@acme.com", "never@acme.com"] {
        node.submit_event(
            ea.id,
            NewEvent {
                kind: "email.delegated".into(),
                source: "test".into(),
                payload: json!({"message_id": id, "label": "needs_reply"}),
                idempotency_key: Some(format!("delegated:{id}")),
            },
        )
        .await
        .unwrap();
    }
    let errors = eventually(30, "both triages failed", || async {
        let failed: Vec<String> = node
            .actions(ea.id, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.entry.kind == "email.triage" && a.status.as_str() == "failed")
            .filter_map(|a| a.result?["error"].as_str().map(str::to_string))
            .collect();
        (failed.len() == 2).then_some(failed)
    })
    .await;
    assert!(
        errors.iter().any(|e| e.contains(
            "message <elsewhere@acme.com> is not in the inbox of robin.hayes@example.com"
        )),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("no message <never@acme.com> is stored")),
        "{errors:?}"
    );
    let triaged = s
        .store
        .triaged(
            &tenant,
            ea.id,
            &TriageFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(triaged.is_empty(), "{triaged:?}");
    node.shutdown().await;
}
