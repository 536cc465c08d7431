//! What an operator sees and does when an employee fails, through the real binary: the
//! failed employee's backlog in `/metrics` and status, a restart that takes it up again,
//! and the events set aside listed, retried or dropped.

use super::common::eventually;
use serde_json::json;

/// Makes the node's own SQLite file refuse to store answers to the "poison" chat.
async fn refuse_poison_in(data_dir: &std::path::Path) -> sqlx::SqlitePool {
    let url = format!("sqlite://{}", data_dir.join("empla.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON outbox WHEN NEW.params LIKE '%poison%' \
         BEGIN SELECT RAISE(ABORT, 'poisoned write refused'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_see_a_failed_employees_backlog_and_restart_it_and_handle_set_aside_events() {
    use super::common::start_binary_with;
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary_with(
        dir.path(),
        Some(super::common::TOKEN),
        &[
            ("EMPLA_RUNTIME__MAX_RESTARTS", "2".into()),
            ("EMPLA_RUNTIME__MAX_EVENT_ATTEMPTS", "10".into()),
            ("EMPLA_RUNTIME__RESTART_BACKOFF_INITIAL", "10ms".into()),
        ],
    );
    let c = node.client();
    let t = &node.token;
    let events = node.url("/api/v1/employees/jordan.lee/events");

    // Text the store cannot keep as text is refused up front, naming the field.
    let r = c
        .post(&events)
        .bearer_auth(t)
        .json(&json!({"kind": "chat.message", "source": "api", "payload": {"from": "x", "text": "a\u{0}b"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`payload.text` contains a NUL"),
        "{body}"
    );

    // An event whose record cannot be stored fails Jordan until it gives up.
    let pool = refuse_poison_in(dir.path()).await;
    let chat = |conversation: &str, text: &str| {
        c.post(&events).bearer_auth(t).json(&json!({
            "kind": "chat.message",
            "source": "api",
            "payload": {"from": conversation, "conversation": conversation, "text": text},
        }))
    };
    assert_eq!(chat("poison", "Hello?").send().await.unwrap().status(), 202);
    let status = eventually(30, "Jordan failed", || async {
        let s = node.get_json("/api/v1/employees/jordan.lee/status").await;
        (s["state"] == "failed").then_some(s)
    })
    .await;
    assert_eq!(status["backlog"], 1, "{status}");
    // Its backlog grows while it is down, and shows in its status and in /metrics.
    assert_eq!(
        chat("Sarah Chen", "Still there?")
            .send()
            .await
            .unwrap()
            .status(),
        202
    );
    let status = node.get_json("/api/v1/employees/jordan.lee/status").await;
    assert_eq!(status["backlog"], 2, "{status}");
    let id = status_id(&node).await;
    let metrics = c
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("empla_employee_backlog")
                && l.contains(&id)
                && l.contains("failed")
                && l.ends_with(" 2")),
        "{metrics}"
    );

    // The store takes it again; the operator restarts Jordan, who works through both.
    sqlx::query("DROP TRIGGER refuse_poison")
        .execute(&pool)
        .await
        .unwrap();
    let out = node.cli(&["restart", "jordan.lee"]);
    assert!(out.starts_with("restarting jordan.lee"), "{out}");
    eventually(30, "both messages answered", || async {
        let s = node.get_json("/api/v1/employees/jordan.lee/status").await;
        let chats = node
            .get_json("/api/v1/employees/jordan.lee/chat?limit=50")
            .await;
        let answered = chats["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["from"] == "jordan.lee")
            .count();
        (s["state"] == "active" && answered == 2).then_some(())
    })
    .await;

    // With a lower limit, the next poisoned event is set aside instead; the operator
    // lists it (API and CLI) and drops it.
    let r = c
        .post(node.url("/api/v1/employees/jordan.lee/restart"))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    node.terminate();
    drop(pool);
    let node = start_binary_with(
        dir.path(),
        Some(super::common::TOKEN),
        &[("EMPLA_RUNTIME__RESTART_BACKOFF_INITIAL", "10ms".into())],
    );
    let pool = refuse_poison_in(dir.path()).await;
    let c = node.client();
    let r = c
        .post(node.url("/api/v1/employees/jordan.lee/events"))
        .bearer_auth(&node.token)
        .json(&json!({"kind": "chat.message", "source": "api", "payload": {"from": "poison", "conversation": "poison", "text": "Again?"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let dead = eventually(30, "the event set aside", || async {
        let d = node
            .get_json("/api/v1/employees/jordan.lee/dead-letters")
            .await;
        (d["items"].as_array().unwrap().len() == 1).then_some(d)
    })
    .await;
    let item = &dead["items"][0];
    assert_eq!(item["kind"], "chat.message");
    assert_eq!(item["attempts"], 3);
    let event_id = item["event_id"].as_str().unwrap().to_string();
    let listed = node.cli(&["dead-letters", "jordan.lee"]);
    assert!(
        listed.contains(&event_id) && listed.contains("3 attempts"),
        "{listed}"
    );
    let r = c
        .post(node.url(&format!(
            "/api/v1/employees/jordan.lee/dead-letters/{}/retry",
            uuid::Uuid::new_v4()
        )))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let dropped = node.cli(&["dead-letters", "jordan.lee", "--drop", &event_id]);
    assert!(dropped.contains("dropped"), "{dropped}");
    let d = node
        .get_json("/api/v1/employees/jordan.lee/dead-letters")
        .await;
    assert!(d["items"].as_array().unwrap().is_empty(), "{d}");
    drop(pool);
    node.terminate();
}

async fn status_id(node: &super::common::NodeProcess) -> String {
    node.get_json("/api/v1/employees/jordan.lee").await["id"]
        .as_str()
        .unwrap()
        .to_string()
}
