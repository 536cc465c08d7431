//! Performance reviews through the real binary on the demo employees: a review run now
//! is stored, mailed to the manager and acted on (the employee asks for coaching on the
//! goal it misses); the manager's reply and notes are kept; bad requests are refused.

use super::common::{NodeProcess, TOKEN, eventually, start_binary_with};
use serde_json::{Value, json};

async fn post(node: &NodeProcess, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = node.client().post(node.url(path)).bearer_auth(&node.token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn alex_mail(node: &NodeProcess, subject: &str) -> Value {
    eventually(30, subject, || async {
        let inbox = node
            .get_json("/api/v1/mail/inbox?address=alex.morgan@example.com")
            .await;
        inbox["items"].as_array().and_then(|i| {
            i.iter()
                .find(|m| m["subject"].as_str().unwrap_or("").starts_with(subject))
                .cloned()
        })
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_is_kept_mailed_to_the_manager_and_acted_on() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.set_phase("jordan.lee", "autonomous").await;
    let (status, _) = post(
        &node,
        "/api/v1/employees/jordan.lee/feedback",
        Some(json!({"rating": 0.8, "text": "great job on the Bluefin demo"})),
    )
    .await;
    assert_eq!(status, 202);
    let month = chrono::Utc::now().format("%Y-%m").to_string();

    // Run now, once the feedback and the pipeline figure the CRM computes from the demo
    // deals are in the employee's memory: the month so far.
    eventually(
        30,
        "the feedback and the coverage figure perceived",
        || async {
            let eps = node
                .get_json("/api/v1/employees/jordan.lee/episodes?limit=200")
                .await;
            let items = eps["items"].as_array().cloned().unwrap_or_default();
            let seen = |pick: &dyn Fn(&Value) -> bool| items.iter().any(pick);
            (seen(&|e| e["summary"] == "empla.feedback")
                && seen(&|e| {
                    e["summary"] == "metric" && e["payload"]["metric"] == "pipeline_coverage"
                }))
            .then_some(())
        },
    )
    .await;
    let (status, review) = post(&node, "/api/v1/employees/jordan.lee/reviews", None).await;
    assert_eq!(status, 201, "{review}");
    assert_eq!(review["feedback_score"], 0.8, "{review}");
    assert_eq!(review["period"], month.as_str());
    for field in ["goal_completion", "tasks_per_day"] {
        assert!(review[field].is_number(), "{field}: {review}");
    }
    // A rate or duration is a number, or null while nothing has ended to give one.
    for field in ["task_success_rate", "avg_task_duration", "improvement_rate"] {
        assert!(
            review[field].is_number() || review[field].is_null(),
            "{field}: {review}"
        );
    }
    for field in [
        "goals",
        "skills",
        "team_feedback",
        "development_areas",
        "improvement_plan",
        "notes",
    ] {
        assert!(review[field].is_array(), "{field}: {review}");
    }
    assert!(!review["skills"].as_array().unwrap().is_empty(), "{review}"); // Jordan's pipeline (the demo deals against the quota left) is short of 3x.
    let coverage = review["goals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "pipeline_coverage")
        .unwrap()
        .clone();
    assert!(coverage["reached"].as_f64().unwrap() < 1.5, "{coverage}");
    assert!(
        review["development_areas"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a
                .as_str()
                .unwrap()
                .starts_with("Maintain 3x pipeline coverage")),
        "{review}"
    );
    assert_eq!(
        review["team_feedback"][0]["text"],
        "great job on the Bluefin demo"
    );
    let id = review["id"].as_str().unwrap().to_string();

    // The manager reads it, and Jordan asks for coaching on what it misses.
    let mailed = alex_mail(
        &node,
        &format!("Performance review: Jordan Lee for {month}"),
    )
    .await;
    let body = mailed["body"].as_str().unwrap();
    assert!(body.contains("Maintain 3x pipeline coverage"), "{body}");
    assert!(
        body.contains("Reply to this mail to add your notes"),
        "{body}"
    );
    let coaching = alex_mail(&node, &format!("Coaching for {month}")).await;
    assert!(
        coaching["body"].as_str().unwrap().contains("coach me on")
            && coaching["body"]
                .as_str()
                .unwrap()
                .contains("Maintain 3x pipeline coverage: at"),
        "{coaching}"
    );

    // A reply to the review mail is kept as the manager's note; so is one by API.
    let (status, _) = post(
        &node,
        "/api/v1/mail/send",
        Some(
            json!({"from": "Alex Morgan <alex.morgan@example.com>", "to": "jordan.lee@example.com",
               "subject": format!("Re: {}", mailed["subject"].as_str().unwrap()),
               "body": "Solid month. Spend more time on enterprise accounts.",
               "in_reply_to": mailed["message_id"]}),
        ),
    )
    .await;
    assert_eq!(status, 202);
    let noted = eventually(20, "the reply kept as a note", || async {
        let r = node
            .get_json(&format!("/api/v1/employees/jordan.lee/reviews/{id}"))
            .await;
        (r["notes"].as_array().is_some_and(|n| !n.is_empty())).then_some(r)
    })
    .await;
    assert_eq!(noted["notes"][0]["by"], "alex.morgan@example.com");
    assert_eq!(
        noted["notes"][0]["text"],
        "Solid month. Spend more time on enterprise accounts."
    );
    let (status, r) = post(
        &node,
        &format!("/api/v1/employees/jordan.lee/reviews/{id}/notes"),
        Some(json!({"text": "Discussed in our 1:1."})),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["notes"].as_array().unwrap().len(), 2, "{r}");

    // Run again for the month: the same review, its notes kept; listed newest first.
    let (status, again) = post(
        &node,
        "/api/v1/employees/jordan.lee/reviews",
        Some(json!({"period": month})),
    )
    .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["notes"].as_array().unwrap().len(), 2, "{again}");
    let list = node.get_json("/api/v1/employees/jordan.lee/reviews").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["id"], id.as_str());

    // Bad requests, each with what to do.
    for (body, needle) in [
        (json!({"period": "2026-13"}), "YYYY-MM"),
        (json!({"period": "2999-01"}), "has not started"),
        (json!({"period": "2020-01"}), "hired on"),
        (json!({"month": "2026-11"}), "malformed body"),
    ] {
        let (status, e) = post(&node, "/api/v1/employees/jordan.lee/reviews", Some(body)).await;
        assert_eq!(status, 400, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(needle),
            "{e} should mention {needle}"
        );
    }
    let (status, _) = post(
        &node,
        &format!("/api/v1/employees/jordan.lee/reviews/{id}/notes"),
        Some(json!({"text": "  "})),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post(&node, "/api/v1/employees/nobody.here/reviews", None).await;
    assert_eq!(status, 404);
    let missing = node
        .client()
        .get(node.url("/api/v1/employees/jordan.lee/reviews/no-such-review"))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The same from the CLI.
    let listed = node.cli(&["review", "list", "jordan.lee"]);
    assert!(
        listed.starts_with(&id) && listed.contains("2 notes"),
        "{listed}"
    );
    let shown = node.cli(&["review", "show", "jordan.lee", &id]);
    assert!(
        shown.contains(&format!("review {id} of {month}")),
        "{shown}"
    );
    assert!(
        shown.contains("to develop:") && shown.contains("notes:"),
        "{shown}"
    );
    assert!(
        shown.contains("alex.morgan@example.com: Solid month."),
        "{shown}"
    );
    let noted = node.cli(&["review", "note", "jordan.lee", &id, "Keep it up."]);
    assert_eq!(noted.trim(), format!("noted on review {id} (3 notes)"));
    let bad = node.run_cli(&["review", "run", "jordan.lee", "--period", "2026-13"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_down_on_the_first_reviews_last_month_at_start_and_acts_on_the_newest_review() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    node.get_json("/api/v1/employees/jordan.lee").await;
    node.terminate();
    // The demo employees were hired 40 days ago, and the node was down on the 1st.
    let url = format!("sqlite://{}", dir.path().join("empla.db").display());
    let store = empla::store::Store::connect(&url, &Default::default())
        .await
        .unwrap();
    let tenant = empla::model::TenantId::new("default");
    for id in store.employee_ids(&tenant).await.unwrap() {
        let mut p = store.employee(&tenant, id).await.unwrap().unwrap();
        p.created_at -= chrono::Duration::days(40);
        p.start_date -= chrono::Duration::days(40);
        store.update_profile(&p).await.unwrap();
    }
    store.close().await;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE employees SET created_at = created_at - $1")
        .bind(40 * 86_400_000_000_i64)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let node = start_binary_with(dir.path(), Some(TOKEN), &[]);
    let last = empla::lifecycle::reviews::Period::last_month(chrono::Utc::now());
    for who in ["jordan.lee", "sam.rivera", "casey.kim"] {
        let path = format!("/api/v1/employees/{who}/reviews");
        let items = eventually(30, &format!("{who}'s review of {last}"), || async {
            let items = node.get_json(&path).await["items"].clone();
            (items.as_array().is_some_and(|i| !i.is_empty())).then_some(items)
        })
        .await;
        assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
        assert_eq!(items[0]["period"], last.as_str(), "{items}");
    }
    alex_mail(&node, &format!("Performance review: Jordan Lee for {last}")).await;

    // This month's review, then last month's run again: it is kept (the same review,
    // recomputed), but the employee acts on the newest month's.
    let (status, now) = post(&node, "/api/v1/employees/jordan.lee/reviews", None).await;
    assert_eq!(status, 201, "{now}");
    let (status, again) = post(
        &node,
        "/api/v1/employees/jordan.lee/reviews",
        Some(json!({"period": last})),
    )
    .await;
    assert_eq!(status, 201, "{again}");
    let completed = || async {
        let eps = node
            .get_json("/api/v1/employees/jordan.lee/episodes?limit=500")
            .await;
        let reviews: Vec<String> = eps["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["summary"] == "review.completed")
            .map(|e| e["payload"]["period"].as_str().unwrap_or("").to_string())
            .collect();
        reviews
    };
    // Feedback after it, perceived in order: once it is seen, so is everything before.
    let (status, _) = post(
        &node,
        "/api/v1/employees/jordan.lee/feedback",
        Some(json!({"rating": 0.9, "text": "a steady month"})),
    )
    .await;
    assert_eq!(status, 202);
    eventually(30, "the feedback perceived", || async {
        let eps = node
            .get_json("/api/v1/employees/jordan.lee/episodes?limit=500")
            .await;
        eps["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["summary"] == "empla.feedback")
            .then_some(())
    })
    .await;
    let seen = completed().await;
    assert!(
        seen.contains(&now["period"].as_str().unwrap().to_string()),
        "{seen:?}"
    );
    assert_eq!(
        seen.len(),
        2,
        "last month's at start, then this month's: {seen:?}"
    );
    let listed = node.get_json("/api/v1/employees/jordan.lee/reviews").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    node.terminate();
}
