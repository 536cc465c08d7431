//! The product backlog: feature requests reach the PM by mail, chat, task and API and
//! land in one backlog, a request that repeats an open one counts as a vote for it, and
//! each requester is told which in the channel they used (through the real binary, on
//! the demo employees and book of business); the backlog's records and their faults on
//! both stores.

use super::common::{NodeProcess, TOKEN, TestStore, eventually, options, start_binary_with};
use empla::capabilities::product::{
    Filed, NewRequest, ProductError, RequestPatch, RequestStatus, RequestsFilter, Source,
};
use empla::node::Node;
use empla::store::Page;
use serde_json::{Value, json};

async fn post(node: &NodeProcess, path: &str, body: Value) -> (u16, Value) {
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

/// The first message in `address`'s inbox whose subject is `subject`.
async fn mail_titled(node: &NodeProcess, address: &str, subject: &str) -> Value {
    eventually(40, &format!("{subject:?} to {address}"), || async {
        let inbox = node
            .get_json(&format!("/api/v1/mail/inbox?address={address}"))
            .await;
        inbox["items"]
            .as_array()
            .and_then(|i| i.iter().find(|m| m["subject"] == subject).cloned())
    })
    .await
}

/// The newest document titled `title`, as text.
async fn newest_document(node: &NodeProcess, title: &str) -> (Value, String) {
    let docs = node.get_json("/api/v1/documents?kind=report").await;
    let doc = docs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["title"] == title)
        .unwrap_or_else(|| panic!("no {title:?} in {docs}"))
        .clone();
    let text = node.document_text(doc["id"].as_str().unwrap()).await;
    (doc, text)
}

async fn patch(node: &NodeProcess, id: &Value, body: Value) {
    let r = node
        .client()
        .patch(node.url(&format!(
            "/api/v1/product/requests/{}",
            id.as_str().unwrap()
        )))
        .bearer_auth(&node.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_weekly_roadmap_reaches_the_product_team_and_everyone_whose_request_moved() {
    crate::documents::readers();
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("casey.kim", "autonomous").await;
    let file = |title: &str, who: &str| {
        let body = json!({"title": title, "requester": who});
        let node = &node;
        async move { post(node, "/api/v1/product/requests", body).await.1["request"].clone() }
    };
    let csv = file(
        "CSV export for reports",
        "Ana Torres <ana.torres@northwind.example>",
    )
    .await;
    file(
        "Export reports as CSV files",
        "ben.okafor@northwind.example",
    )
    .await;
    file(
        "Dark mode in the mobile app",
        "chloe.martin@bluefin.example",
    )
    .await;
    let sso = file("Single sign-on with Okta", "dev.patel@helios.example").await;
    patch(
        &node,
        &csv["id"],
        json!({"impact": 2, "confidence": 0.8, "effort": 1, "status": "planned"}),
    )
    .await;
    patch(&node, &sso["id"], json!({"status": "declined"})).await;
    // How Northwind used the reports feature this week.
    let accounts = node.get_json("/api/v1/crm/accounts?limit=100").await;
    let northwind = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["domain"] == "northwind.example")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    let (status, _) = post(
        &node,
        &format!("/api/v1/crm/accounts/{northwind}/metrics"),
        json!({"items": [{"metric": "feature_adoption", "value": 0.35, "at": yesterday, "feature": "reports"}]}),
    )
    .await;
    assert_eq!(status, 200);

    // Monday morning.
    let tick = || {
        post(
            &node,
            "/api/v1/employees/casey.kim/events",
            json!({"kind": "cron.tick", "source": "test", "payload": {"schedule": "weekly_roadmap"}}),
        )
    };
    assert_eq!(tick().await.0, 202);

    // The product team has the insights report and the roadmap, each attached.
    for subject in ["Product insights: the last 7 days", "Updated roadmap"] {
        for member in ["dana.wu@example.com", "marco.rossi@example.com"] {
            let m = mail_titled(&node, member, subject).await;
            assert_eq!(m["attachments"].as_array().unwrap().len(), 1, "{m}");
        }
    }
    let (_, insights) = newest_document(&node, "Product insights: the last 7 days").await;
    assert!(
        insights.contains("CSV export for reports") && insights.contains("2 votes this period"),
        "{insights}"
    );
    assert!(
        insights.contains("reports feature adoption: 0.35 across 1 account"),
        "{insights}"
    );
    let (_, roadmap) = newest_document(&node, "Product roadmap").await;
    assert!(
        roadmap.contains("Rank 1: CSV export for reports") && roadmap.contains("RICE score 3.2"),
        "{roadmap}"
    );
    assert!(
        roadmap.contains("Rank 2: Dark mode in the mobile app"),
        "{roadmap}"
    );
    assert!(
        !roadmap.contains(": Single sign-on"),
        "declined is off: {roadmap}"
    );
    assert!(roadmap.contains("new → planned"), "{roadmap}");
    assert!(roadmap.contains("new → declined"), "{roadmap}");

    // Those whose request moved hear what changed; the dark mode's requester does not.
    for who in [
        "ana.torres@northwind.example",
        "ben.okafor@northwind.example",
    ] {
        let m = mail_titled(&node, who, "Your feature request: CSV export for reports").await;
        assert!(
            m["body"].as_str().unwrap().contains("is now planned"),
            "{m}"
        );
    }
    let m = mail_titled(
        &node,
        "dev.patel@helios.example",
        "Your feature request: Single sign-on with Okta",
    )
    .await;
    assert!(m["body"].as_str().unwrap().contains("was declined"), "{m}");
    // The review is booked with the team.
    let booked = node
        .actions_when("casey.kim", "calendar.schedule", "done", 1, 40)
        .await;
    assert_eq!(
        booked[0]["params"]["attendees"], "team:product",
        "{booked:?}"
    );
    let inbox = node
        .get_json("/api/v1/mail/inbox?address=chloe.martin@bluefin.example")
        .await;
    assert!(
        !inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["subject"]
                .as_str()
                .unwrap()
                .starts_with("Your feature request")),
        "{inbox}"
    );

    // A week later the CSV export has shipped: the next roadmap says so, and Ana hears.
    patch(&node, &csv["id"], json!({"status": "shipped"})).await;
    assert_eq!(tick().await.0, 202);
    node.actions_when("casey.kim", "calendar.schedule", "done", 2, 60)
        .await;
    let (doc, roadmap) = newest_document(&node, "Product roadmap").await;
    assert_eq!(doc["version"], 2, "{doc}");
    assert!(roadmap.contains("planned → shipped"), "{roadmap}");
    assert!(
        roadmap.contains("Rank 1: Dark mode in the mobile app"),
        "{roadmap}"
    );
    let inbox = node
        .get_json("/api/v1/mail/inbox?address=ana.torres@northwind.example")
        .await;
    assert!(
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"].as_str().unwrap().contains("has shipped")),
        "{inbox}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feature_used_less_becomes_a_hypothesis_and_much_less_is_researched() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("casey.kim", "autonomous").await;
    let accounts = node.get_json("/api/v1/crm/accounts?limit=100").await;
    let id_of = |domain: &str| {
        accounts["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["domain"] == domain)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let days_ago = |n: i64| chrono::Utc::now() - chrono::Duration::days(n);
    // Northwind's use of reports falls by 62%, Helios's of dashboards by 25%, through
    // the endpoint account metrics use.
    for (domain, feature, before, now) in [
        ("northwind.example", "reports", 0.8, 0.3),
        ("helios.example", "dashboards", 0.6, 0.45),
    ] {
        let (status, h) = post(
            &node,
            &format!("/api/v1/crm/accounts/{}/metrics", id_of(domain)),
            json!({"items": [
                {"metric": "feature_adoption", "feature": feature, "value": before, "at": days_ago(3)},
                {"metric": "feature_adoption", "feature": feature, "value": now, "at": days_ago(1)},
            ]}),
        )
        .await;
        assert_eq!(status, 200, "{h}");
    }

    // Both are hypotheses in the backlog, saying what changed where.
    let hypotheses = eventually(40, "two hypotheses in the backlog", || async {
        let l = node.get_json("/api/v1/product/requests?source=usage").await;
        let items = l["items"].as_array()?.clone();
        (items.len() == 2).then_some(items)
    })
    .await;
    let reports = hypotheses
        .iter()
        .find(|r| r["title"] == "Hypothesis: reports usage is dropping off")
        .unwrap_or_else(|| panic!("{hypotheses:?}"));
    let said = reports["description"].as_str().unwrap();
    assert!(
        said.contains("Northwind") && said.contains("0.80 → 0.30"),
        "{said}"
    );
    assert!(
        hypotheses
            .iter()
            .any(|r| r["title"] == "Hypothesis: dashboards usage is dropping off"),
        "{hypotheses:?}"
    );
    // Only the steep drop is researched.
    let research = node
        .actions_when("casey.kim", "research.search", "done", 1, 40)
        .await;
    assert_eq!(research.len(), 1, "{research:?}");
    assert_eq!(
        research[0]["params"]["query"], "reports drop off",
        "{research:?}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_research_interviews_chosen_customers_and_synthesises_their_answers() {
    crate::documents::readers();
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("casey.kim", "autonomous").await;
    // Liam (at Pinecrest, a customer) asked for something about reports.
    let (status, _) = post(
        &node,
        "/api/v1/product/requests",
        json!({"title": "Scheduled reports by mail", "requester": "liam.walsh@pinecrest.example"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, task) = post(
        &node,
        "/api/v1/employees/casey.kim/tasks",
        json!({"description": "User research: how customers use reports", "requester": "dana.wu@example.com"}),
    )
    .await;
    assert_eq!(status, 202, "{task}");
    // Two customers are chosen: Liam, who asked about reports, then a champion.
    let id = task["id"].as_str().unwrap().to_string();
    let ended = eventually(30, "the task ended", || async {
        let t = node
            .get_json(&format!("/api/v1/employees/casey.kim/tasks/{id}"))
            .await;
        (t["status"] == "done" || t["status"] == "failed").then_some(t)
    })
    .await;
    let interviews = node
        .get_json("/api/v1/employees/casey.kim/actions?limit=100")
        .await;
    assert_eq!(ended["status"], "done", "{ended} {interviews}");
    let result = ended["result"].as_str().unwrap();
    assert!(
        result.contains("Liam Walsh (Pinecrest Bank), Jonas Berg (Meridian Travel)")
            && !result.contains("Noah Kim"),
        "{ended}"
    );
    let offer = eventually(30, "the offer to Liam", || async {
        let inbox = node
            .get_json("/api/v1/mail/inbox?address=liam.walsh@pinecrest.example")
            .await;
        inbox["items"].as_array().and_then(|i| {
            i.iter()
                .find(|m| {
                    m["subject"]
                        .as_str()
                        .unwrap_or("")
                        .contains("User interview")
                })
                .cloned()
        })
    })
    .await;
    assert!(
        offer["body"].as_str().unwrap().contains("Pinecrest"),
        "{offer}"
    );
    // He picks a time and says how reports work for him.
    let (status, _) = post(
        &node,
        "/api/v1/mail/send",
        json!({"from": "Liam Walsh <liam.walsh@pinecrest.example>", "to": "casey.kim@example.com",
               "subject": format!("Re: {}", offer["subject"].as_str().unwrap()),
               "body": "1 works. We export the weekly reports for finance, but the filters are confusing.",
               "in_reply_to": offer["message_id"]}),
    )
    .await;
    assert_eq!(status, 202);
    node.actions_when("casey.kim", "calendar.schedule", "done", 1, 40)
        .await;
    let synthesis = eventually(40, "the synthesis", || async {
        let docs = node.get_json("/api/v1/documents?kind=report").await;
        docs["items"]
            .as_array()?
            .iter()
            .find(|d| d["title"] == "User research synthesis: how customers use reports")
            .cloned()
    })
    .await;
    let text = node.document_text(synthesis["id"].as_str().unwrap()).await;
    assert!(text.contains("the filters are confusing"), "{text}");
    assert!(text.contains("Liam Walsh"), "{text}");
    assert!(
        text.contains("Scheduled reports by mail"),
        "the request it touches: {text}"
    );
    node.terminate();
}
