//! The Product Manager's work on the backlog, through the real binary on the demo
//! employees and book of business: the weekly insights report and roadmap to the
//! product team with those whose requests moved told, feature usage that drops off
//! turned into hypotheses (and research past a threshold), and user research from
//! interview offers to a synthesis.

use super::common::{NodeProcess, TOKEN, eventually, start_binary_with};
use super::product::post;
use serde_json::{Value, json};

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

/// The PM's morning tick.
async fn morning(node: &NodeProcess) {
    let (status, _) = post(
        node,
        "/api/v1/employees/casey.kim/events",
        json!({"kind": "cron.tick", "source": "test", "payload": {"schedule": "daily_priority_review"}}),
    )
    .await;
    assert_eq!(status, 202);
}

/// The PM's figure for the days since the roadmap was reviewed.
async fn days_since_review(node: &NodeProcess) -> Value {
    let s = node.get_json("/api/v1/employees/casey.kim/status").await;
    s["goals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "roadmap_current")
        .map(|g| g["current"].clone())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roadmap_not_reviewed_for_three_weeks_is_reviewed_with_the_product_team() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    // Hired today, no roadmap yet: 0 days, nothing to review.
    node.set_phase("casey.kim", "autonomous").await;
    morning(&node).await;
    eventually(30, "the days since the roadmap review measured", || async {
        (days_since_review(&node).await == json!(0.0)).then_some(())
    })
    .await;
    node.terminate();

    // Three weeks later, still no roadmap: the morning's measure starts the review.
    let url = format!("sqlite://{}", dir.path().join("empla.db").display());
    let store = empla::store::Store::connect(&url, &Default::default())
        .await
        .unwrap();
    let tenant = empla::model::TenantId::new("default");
    for id in store.employee_ids(&tenant).await.unwrap() {
        let mut p = store.employee(&tenant, id).await.unwrap().unwrap();
        p.start_date -= chrono::Duration::days(21);
        store.update_profile(&p).await.unwrap();
    }
    store.close().await;
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    morning(&node).await;
    let m = mail_titled(&node, "dana.wu@example.com", "Updated roadmap").await;
    assert_eq!(m["attachments"].as_array().unwrap().len(), 1, "{m}");
    assert_eq!(days_since_review(&node).await, json!(21.0));
    node.terminate();
}
