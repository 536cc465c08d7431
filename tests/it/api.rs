//! The HTTP API's answers to bad input, through the real binary.

use super::common::start_binary;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_clear_errors_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let c = node.client();
    let t = &node.token;

    // Open endpoints.
    assert_eq!(
        c.get(node.url("/healthz")).send().await.unwrap().status(),
        200
    );
    let metrics = c
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("empla_employees{status=\"onboarding\"} 3"),
        "{metrics}"
    );

    // No token, wrong token.
    let r = c.get(node.url("/api/v1/employees")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert_eq!(
        c.get(node.url("/api/v1/employees"))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        c.get(node.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let events = |who: &str| node.url(&format!("/api/v1/employees/{who}/events"));
    // Unknown employee.
    let r = c
        .post(events("nobody.here"))
        .bearer_auth(t)
        .json(&json!({"kind": "x", "source": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        c.get(node.url("/api/v1/employees/00000000-0000-0000-0000-000000000000"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Malformed JSON.
    let r = c
        .post(events("jordan.lee"))
        .bearer_auth(t)
        .header("content-type", "application/json")
        .body("{\"kind\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{body}"
    );

    // Missing and invalid fields are named.
    let r = c
        .post(events("jordan.lee"))
        .bearer_auth(t)
        .json(&json!({"source": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("kind"),
        "{body}"
    );
    let r = c
        .post(events("jordan.lee"))
        .bearer_auth(t)
        .json(&json!({"kind": "has space", "source": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("`kind`"));
    let r = c
        .post(events("jordan.lee"))
        .bearer_auth(t)
        .json(&json!({"kind": "a", "source": "y", "colour": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("colour"));
    let r = c.post(node.url("/api/v1/employees")).bearer_auth(t).json(&json!({"role": "sales_ae", "name": "X Y", "persona": {"personality": {"openness": 7}}})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("persona.personality.openness")
    );
    let r = c
        .get(node.url("/api/v1/employees/jordan.lee/episodes?limit=abc"))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("`limit`"));

    // Oversized body.
    let big = json!({"kind": "a", "source": "b", "payload": {"blob": "x".repeat(1_100_000)}});
    let r = c
        .post(events("jordan.lee"))
        .bearer_auth(t)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // None of that stored anything.
    let eps: Value = node.get_json("/api/v1/employees/jordan.lee/episodes").await;
    assert_eq!(eps["items"].as_array().unwrap().len(), 0);

    // A duplicate event id is accepted once.
    let ev = json!({"kind": "email.received", "source": "test", "payload": {"n": 1}, "idempotency_key": "msg-1"});
    let first: Value = c
        .post(events("jordan.lee"))
        .bearer_auth(t)
        .json(&ev)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = c
        .post(events("jordan.lee"))
        .bearer_auth(t)
        .json(&ev)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let second: Value = r.json().await.unwrap();
    assert_eq!(first["event_id"], second["event_id"]);
    assert_eq!(first["duplicate"], false);
    assert_eq!(second["duplicate"], true);
    let eps = super::common::eventually(10, "the episode", || async {
        let v: Value = node.get_json("/api/v1/employees/jordan.lee/episodes").await;
        (!v["items"].as_array().unwrap().is_empty()).then_some(v)
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(eps["items"].as_array().unwrap().len(), 1);
    assert_eq!(eps["items"][0]["kind"], "event");
    assert_eq!(eps["items"][0]["event_id"], first["event_id"]);
    assert_eq!(eps["items"][0]["payload"], json!({"n": 1}));

    // OpenAPI document lists the routes.
    let doc: Value = node.get_json("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/employees/{id}/events"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_drive_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
            .args(args)
            .args(["--node", &node.base])
            .env("EMPLA_API_TOKEN", &node.token)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let hired = cli(&[
        "hire",
        "--role",
        "recruiter",
        "--name",
        "Robin Park",
        "--manager",
        "Alex Morgan <alex@example.com>",
    ]);
    assert!(hired.contains("robin.park@example.com"), "{hired}");
    assert!(cli(&["list"]).contains("Robin Park"));
    let shown = cli(&["show", "robin.park"]);
    assert!(shown.contains("\"Alex Morgan\""), "{shown}");
    let sent = cli(&[
        "send-event",
        "robin.park",
        "--kind",
        "chat.message",
        "--payload",
        "{\"text\":\"hello\"}",
    ]);
    assert!(sent.starts_with("accepted event "), "{sent}");
    let eps = super::common::eventually(10, "episode via CLI", || async {
        let out = cli(&["episodes", "robin.park"]);
        out.contains("hello").then_some(out)
    })
    .await;
    assert!(eps.contains("chat.message"));
    assert!(cli(&["offboard", "robin.park"]).contains("offboarded Robin Park"));
    let completions = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&completions.stdout).contains("empla"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_token_is_owner_only_kept_across_restarts_and_read_by_the_cli() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let node = super::common::start_binary_with_token(dir.path(), None);
    let file = dir.path().join("api-token");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "readable by its owner only");
    assert!(node.token.len() >= 32);
    let list = node.get_json("/api/v1/employees").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    // A client command with no EMPLA_API_TOKEN reads the file from the data dir.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["list", "--node", &node.base, "--data-dir"])
        .arg(dir.path())
        .env_remove("EMPLA_API_TOKEN")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Jordan Lee"));
    let first = node.token.clone();
    node.terminate();
    let node = super::common::start_binary_with_token(dir.path(), None);
    assert_eq!(node.token, first, "the same token after a restart");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_accepted_and_processed_events_and_mailbox_delay() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    for n in 0..5 {
        let r = node
            .client()
            .post(node.url("/api/v1/employees/sam.rivera/events"))
            .bearer_auth(&node.token)
            .json(&json!({"kind": "chat.message", "source": "test", "payload": {"n": n}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let metrics = super::common::eventually(10, "processed events in /metrics", || async {
        let m = node
            .client()
            .get(node.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        m.contains("empla_events_processed_total 5").then_some(m)
    })
    .await;
    assert!(
        metrics.contains("empla_events_accepted_total 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("empla_mailbox_delay_seconds_count 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("empla_employees_runtime{state=\"active\"} 1"),
        "{metrics}"
    );
}
