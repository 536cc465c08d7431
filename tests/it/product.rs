//! The product backlog: feature requests reach the PM by mail, chat, task and API and
//! land in one backlog, a request that repeats an open one counts as a vote for it, and
//! each requester is told which in the channel they used (through the real binary, on
//! the demo employees and book of business); the backlog's records and their faults on
//! both stores. The PM's work on the backlog is in `product_planning`.

use super::common::{NodeProcess, TOKEN, TestStore, eventually, options, start_binary_with};
use empla::capabilities::product::{
    Filed, NewRequest, ProductError, RequestPatch, RequestStatus, RequestsFilter, Source,
};
use empla::node::Node;
use empla::store::Page;
use serde_json::{Value, json};

pub(crate) async fn post(node: &NodeProcess, path: &str, body: Value) -> (u16, Value) {
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

/// The reply in `address`'s inbox to the message `asked`.
async fn reply_to(node: &NodeProcess, address: &str, asked: &Value) -> Value {
    eventually(30, &format!("the reply to {address}"), || async {
        let inbox = node
            .get_json(&format!("/api/v1/mail/inbox?address={address}"))
            .await;
        inbox["items"]
            .as_array()
            .and_then(|i| i.iter().find(|m| m["in_reply_to"] == *asked).cloned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_requests_by_mail_chat_task_and_api_meet_in_one_backlog() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("casey.kim", "autonomous").await;

    // Ana (at Northwind, a customer in the demo CRM) asks by mail: a new request.
    let (status, sent) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Ana Torres <ana.torres@northwind.example>", "to": "casey.kim@example.com",
               "subject": "Feature request: CSV export for reports",
               "body": "Could you add a way to export our monthly reports to CSV? We need them in Excel."}),
    )
    .await;
    assert!((200..300).contains(&status), "{sent}");
    let ack = reply_to(&node, "ana.torres@northwind.example", &sent["message_id"]).await;
    let body = ack["body"].as_str().unwrap();
    assert!(
        body.contains("as a new request, \"CSV export for reports\""),
        "{body}"
    );
    assert!(body.contains("Casey Kim"), "signed: {body}");

    // Ben asks for the same thing in other words: a vote for Ana's request, and he is
    // told so, naming it.
    let (_, sent) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Ben Okafor <ben.okafor@northwind.example>", "to": "casey.kim@example.com",
               "subject": "Reports as CSV files?",
               "body": "Hi Casey, could you add exporting reports as CSV files? Finance would love it."}),
    )
    .await;
    let ack = reply_to(&node, "ben.okafor@northwind.example", &sent["message_id"]).await;
    let body = ack["body"].as_str().unwrap();
    assert!(
        body.contains("added your vote to the request \"CSV export for reports\"")
            && body.contains("now has 2 votes"),
        "{body}"
    );

    // Marco asks in chat for something else: a new request, answered in the
    // conversation (and only by the plan: one answer).
    let (status, chat) = post(
        &node,
        "/api/v1/employees/casey.kim/chat",
        json!({"from": "Marco Rossi", "text": "Feature request: a dark mode for the mobile app would be great"}),
    )
    .await;
    assert!((200..300).contains(&status), "{chat}");
    let answers = eventually(30, "the answer in chat", || async {
        let c = node
            .get_json("/api/v1/employees/casey.kim/chat?conversation=Marco%20Rossi")
            .await;
        let answers: Vec<String> = c["items"]
            .as_array()?
            .iter()
            .filter(|m| m["from"] == "casey.kim")
            .filter_map(|m| m["text"].as_str().map(str::to_string))
            .collect();
        (!answers.is_empty()).then_some(answers)
    })
    .await;
    assert!(answers[0].contains("as a new request"), "{answers:?}");
    assert!(answers[0].contains("dark mode"), "{answers:?}");

    // Dev (at Helios) passes the CSV request on as a task: its result says it was a vote.
    let (status, task) = post(
        &node,
        "/api/v1/employees/casey.kim/tasks",
        json!({"description": "Feature request: please add CSV export of reports for Helios", "requester": "dev.patel@helios.example"}),
    )
    .await;
    assert_eq!(status, 202, "{task}");
    let id = task["id"].as_str().unwrap().to_string();
    let done = eventually(30, "the task done", || async {
        let t = node
            .get_json(&format!("/api/v1/employees/casey.kim/tasks/{id}"))
            .await;
        (t["status"] == "done").then_some(t)
    })
    .await;
    assert!(
        done["result"]
            .as_str()
            .unwrap()
            .contains("added your vote to the request \"CSV export for reports\""),
        "{done}"
    );

    // The API files directly: Chloe's SSO request is new (201), Ana's other wording of
    // it a vote (200); an empty title is refused, naming the field.
    let (status, sso) = post(
        &node,
        "/api/v1/product/requests",
        json!({"title": "Single sign-on with Okta", "requester": "chloe.martin@bluefin.example"}),
    )
    .await;
    assert_eq!((status, sso["filed"].as_str()), (201, Some("new")), "{sso}");
    let (status, again) = post(
        &node,
        "/api/v1/product/requests",
        json!({"title": "Sign in with Okta single sign-on", "description": "Our staff sign on once with Okta", "requester": "ana.torres@northwind.example"}),
    )
    .await;
    assert_eq!(
        (status, again["filed"].as_str()),
        (200, Some("vote")),
        "{again}"
    );
    assert_eq!(again["request"]["id"], sso["request"]["id"]);
    let (status, bad) = post(&node, "/api/v1/product/requests", json!({"title": " "})).await;
    assert_eq!(status, 400);
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`title`"),
        "{bad}"
    );

    // One backlog: three requests, the CSV one with three votes, on Northwind's account.
    let list = node.get_json("/api/v1/product/requests").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{list}");
    let csv = items
        .iter()
        .find(|r| r["title"] == "CSV export for reports")
        .unwrap();
    assert_eq!(csv["votes"], 3, "{csv}");
    assert_eq!(
        csv["voters"],
        json!([
            "ana.torres@northwind.example",
            "ben.okafor@northwind.example",
            "dev.patel@helios.example"
        ])
    );
    assert_eq!(csv["source"], "mail");
    let accounts = node.get_json("/api/v1/crm/accounts?limit=100").await;
    let northwind = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["domain"] == "northwind.example")
        .unwrap();
    assert_eq!(csv["account"], northwind["id"]);
    let dark = node.get_json("/api/v1/product/requests?source=chat").await;
    assert_eq!(dark["items"][0]["requester"], "Marco Rossi", "{dark}");
    let r = node
        .get_json("/api/v1/product/requests?status=shipping")
        .await;
    assert!(
        r["error"]["message"].as_str().unwrap().contains("`status`"),
        "{r}"
    );

    // RICE through the CLI: the score is worked out; a bad input names the flag's field.
    let csv_id = csv["id"].as_str().unwrap();
    let out = node.cli(&[
        "product",
        "requests",
        "set",
        csv_id,
        "--impact",
        "2",
        "--confidence",
        "0.8",
        "--effort",
        "1.5",
    ]);
    assert!(out.contains("score 3.2"), "reach is the 3 votes: {out}");
    let out = node.run_cli(&["product", "requests", "set", csv_id, "--impact", "5"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("impact"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = node.cli(&["product", "requests", "list", "--status", "new"]);
    assert!(
        out.contains("CSV export for reports") && out.contains("3 votes"),
        "{out}"
    );
    let out = node.cli(&["product", "requests", "show", csv_id]);
    assert!(out.contains("ben.okafor@northwind.example"), "{out}");
    node.terminate();
}

async fn backlog_on(s: &TestStore) {
    let node = Node::start_with_store(s.store.clone(), options("backlog"))
        .await
        .unwrap();
    let ask = |title: &str, who: &str| NewRequest {
        title: title.into(),
        description: String::new(),
        requester: Some(who.into()),
    };
    let first = node
        .file_feature_request(ask("Export reports to CSV", "a@x.example"), Some("k1"))
        .await
        .unwrap();
    let Filed::New(csv) = &first else {
        panic!("{first:?}")
    };
    // The same call again files nothing new.
    let again = node
        .file_feature_request(ask("Export reports to CSV", "a@x.example"), Some("k1"))
        .await
        .unwrap();
    assert_eq!(again.request().id, csv.id);
    assert_eq!(again.request().votes, 1);
    // Another person, other words: a vote. The same person again: no second vote.
    let vote = node
        .file_feature_request(ask("CSV exports of the reports", "B@x.example"), None)
        .await
        .unwrap();
    assert!(
        matches!(vote, Filed::Vote { counted: true, .. }),
        "{vote:?}"
    );
    let twice = node
        .file_feature_request(ask("Reports exported to CSV", "b@x.example"), None)
        .await
        .unwrap();
    assert!(
        matches!(twice, Filed::Vote { counted: false, .. }),
        "{twice:?}"
    );
    assert_eq!(twice.request().votes, 2);
    assert_eq!(twice.request().voters, ["a@x.example", "b@x.example"]);
    let other = node
        .file_feature_request(ask("Dark mode in the mobile app", "a@x.example"), None)
        .await
        .unwrap();
    assert!(matches!(other, Filed::New(_)), "{other:?}");

    // RICE and status, with every bad input named.
    let r = node
        .update_feature_request(
            &csv.id,
            RequestPatch {
                reach: Some(400.0),
                impact: Some(1.0),
                confidence: Some(0.5),
                effort: Some(2.0),
                status: Some(RequestStatus::Planned),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((r.score, r.status), (Some(100.0), RequestStatus::Planned));
    let e = node
        .update_feature_request(&csv.id, RequestPatch::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ProductError::Invalid(_)), "{e}");
    let e = node
        .update_feature_request(
            "nope",
            RequestPatch {
                impact: Some(1.0),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ProductError::NotFound(_)), "{e}");
    let planned = node
        .feature_requests(
            &RequestsFilter {
                status: Some(RequestStatus::Planned),
                source: Some(Source::Api),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].score, Some(100.0));
    let all = node
        .feature_requests(
            &RequestsFilter::default(),
            Page {
                limit: 1,
                offset: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(all[0].id, csv.id, "newest first, paged");
    // A planned request is still open: a new wording of it is a vote.
    let late = node
        .file_feature_request(ask("CSV export for reports please", "c@x.example"), None)
        .await
        .unwrap();
    assert_eq!(late.request().id, csv.id);

    // Forgetting the first requester: the request stays, without their address; their
    // vote still counts.
    let f = node.forget("A <a@x.example>").await.unwrap();
    assert_eq!(
        f.backlog, 4,
        "two requests named them, with their two votes: {f:?}"
    );
    let r = node.feature_request(&csv.id).await.unwrap();
    assert_eq!(r.requester, None);
    assert_eq!(r.votes, 3);
    assert!(
        !r.voters.iter().any(|v| v.contains("a@x.example")),
        "{:?}",
        r.voters
    );
    node.shutdown().await;
}

crate::on_every_test_store!(backlog_on);
