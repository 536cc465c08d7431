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
        metrics.contains("empla_employees{status=\"onboarding\"} 4"),
        "{metrics}"
    );
    // Every metric says what it means, and the restart counter is there before any crash.
    assert!(
        metrics.contains("# HELP empla_actor_restarts_total Actors restarted"),
        "{metrics}"
    );
    assert!(
        metrics.contains("empla_actor_restarts_total{actor=\"employee\"} 0"),
        "{metrics}"
    );
    for line in metrics.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert!(
            metrics.contains(&format!("# HELP {name} ")),
            "{name} has no # HELP line:\n{metrics}"
        );
    }

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
        .post(events("casey.kim"))
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
        .post(events("casey.kim"))
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
        .post(events("casey.kim"))
        .bearer_auth(t)
        .json(&json!({"kind": "has space", "source": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("`kind`"));
    let r = c
        .post(events("casey.kim"))
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
        .post(node.url("/api/v1/employees"))
        .bearer_auth(t)
        .json(&json!({"role": "sales_ae", "name": "X Y", "team": "enterprise"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("`team` names team `enterprise`, which has no file")
            && text.contains("product, sales"),
        "{text}"
    );
    let r = c
        .get(node.url("/api/v1/employees/casey.kim/episodes?limit=abc"))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("`limit`"));

    // Oversized body.
    let big = json!({"kind": "a", "source": "b", "payload": {"blob": "x".repeat(1_100_000)}});
    let r = c
        .post(events("casey.kim"))
        .bearer_auth(t)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // None of that stored anything.
    let eps: Value = node.get_json("/api/v1/employees/casey.kim/episodes").await;
    assert_eq!(eps["items"].as_array().unwrap().len(), 0);

    // A duplicate event id is accepted once.
    let ev = json!({"kind": "email.received", "source": "test", "payload": {"n": 1}, "idempotency_key": "msg-1"});
    let first: Value = c
        .post(events("casey.kim"))
        .bearer_auth(t)
        .json(&ev)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = c
        .post(events("casey.kim"))
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
        let v: Value = node.get_json("/api/v1/employees/casey.kim/episodes").await;
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
    let cli = |args: &[&str]| node.cli(args);
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
    assert!(shown.contains("Alex Morgan <alex@example.com>"), "{shown}");
    let sent = cli(&[
        "send-event",
        "robin.park",
        "--kind",
        "webhook.received",
        "--payload",
        "{\"text\":\"hello\"}",
    ]);
    assert!(sent.starts_with("accepted event "), "{sent}");
    let eps = super::common::eventually(10, "episode via CLI", || async {
        let out = cli(&["episodes", "robin.park"]);
        out.contains("hello").then_some(out)
    })
    .await;
    assert!(eps.contains("webhook.received"));
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
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
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
    // Without the demo book of business, whose deals would tell the Sales AE its
    // metrics: the only events are the test's.
    let node = super::common::start_binary_with(
        dir.path(),
        Some(super::common::TOKEN),
        &[(
            "EMPLA_NODE__DEMO_DIR",
            dir.path().join("no-demo").display().to_string(),
        )],
    );
    for n in 0..5 {
        let r = node
            .client()
            .post(node.url("/api/v1/employees/sam.rivera/events"))
            .bearer_auth(&node.token)
            .json(&json!({"kind": "webhook.received", "source": "test", "payload": {"n": n}}))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_and_the_approval_queue_through_http_and_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let run = |args: &[&str]| node.run_cli(args);
    let cli = |args: &[&str]| node.cli(args);
    let (c, t) = (node.client(), &node.token);
    cli(&["hire", "--role", "sales_ae", "--name", "Pat Doe"]);
    assert!(cli(&["status", "pat.doe"]).contains("phase shadow"));
    cli(&["phase", "pat.doe", "assisted"]);
    cli(&[
        "send-event",
        "pat.doe",
        "--kind",
        "metric",
        "--payload",
        r#"{"metric":"pipeline_coverage","value":2.1}"#,
    ]);
    // Finding leads in the demo book and researching them only read, and run; each
    // lead's outreach mail waits for a human.
    let q = super::common::eventually(30, "the outreach mails in the queue", || async {
        let q: Value = node
            .get_json("/api/v1/approvals?status=pending&employee=pat.doe")
            .await;
        let items = q["items"].as_array().unwrap();
        (items.len() == 3 && items.iter().all(|a| a["action"]["kind"] == "email.send")).then_some(q)
    })
    .await;
    let status = cli(&["status", "pat.doe"]);
    assert!(status.contains("phase assisted"), "{status}");
    assert!(status.contains("reach_out_to_lead"), "{status}");
    assert!(status.contains("awaiting_approval"), "{status}");
    assert!(status.contains("3 pending approval"), "{status}");

    // The queue's JSON shape; the approval shows where the mail would go: a real person
    // at the lead's company.
    let item = &q["items"][0];
    assert_eq!(item["status"], "pending");
    assert!(item["reason"].is_string() && item["created_at"].is_string());
    assert!(item["employee_id"].is_string());
    let to = item["recipients"]["to"].as_str().unwrap();
    assert!(to.contains(".example>"), "{q}");
    assert!(item["recipients"]["withheld"].is_null(), "{q}");
    let listed = cli(&["approvals"]);
    assert!(listed.contains(to), "{listed}");

    let approval_id = item["id"].as_str().unwrap();
    let approved = cli(&["approve", approval_id, "--reason", "go"]);
    assert!(approved.starts_with("approved email.send"), "{approved}");
    let again = run(&["approve", approval_id]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already approved"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // Another is rejected over HTTP without a body.
    let email = q["items"][1]["id"].as_str().unwrap();
    let r = c
        .post(node.url(&format!("/api/v1/approvals/{email}/reject")))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "rejected");
    // The third is approved too: both approved mails go out, the rejected one never.
    let third = q["items"][2]["id"].as_str().unwrap();
    cli(&["approve", third]);
    let sent = node
        .actions_when("pat.doe", "email.send", "done", 2, 20)
        .await;
    let actions: Value = node.get_json("/api/v1/employees/pat.doe/actions").await;
    let all_sends = actions["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "email.send")
        .count();
    assert_eq!(all_sends, 2, "the rejected mail never runs: {actions}");
    let to = |i: usize| q["items"][i]["action"]["params"]["to"].as_str().unwrap();
    let mut went: Vec<&str> = sent
        .iter()
        .map(|a| a["params"]["to"].as_str().unwrap())
        .collect();
    went.sort();
    let mut approved = vec![to(0), to(2)];
    approved.sort();
    assert_eq!(went, approved, "{actions}");
    let rejected = node
        .get_json("/api/v1/approvals?employee=pat.doe&status=rejected")
        .await;
    assert_eq!(rejected["items"][0]["id"], email, "{rejected}");

    // Bad input, each with a clear error.
    let bad = |r: reqwest::Response, status: u16, needle: &'static str| async move {
        assert_eq!(r.status(), status);
        let v: Value = r.json().await.unwrap();
        let m = v["error"]["message"].as_str().unwrap().to_string();
        assert!(m.contains(needle), "{m:?} should mention {needle:?}");
    };
    let get = |p: &str| c.get(node.url(p)).bearer_auth(t).send();
    bad(
        get("/api/v1/approvals?status=maybe").await.unwrap(),
        400,
        "`status`",
    )
    .await;
    bad(
        get("/api/v1/approvals?employee=nobody").await.unwrap(),
        404,
        "nobody",
    )
    .await;
    let post = |p: &str, body: Value| c.post(node.url(p)).bearer_auth(t).json(&body).send();
    bad(
        post(
            "/api/v1/approvals/0190e0b4-0000-7000-8000-000000000000/approve",
            json!({}),
        )
        .await
        .unwrap(),
        404,
        "no approval",
    )
    .await;
    bad(
        post("/api/v1/approvals/not-an-id/reject", json!({}))
            .await
            .unwrap(),
        404,
        "no approval",
    )
    .await;
    bad(
        post(
            &format!("/api/v1/approvals/{approval_id}/approve"),
            json!({"reasons": "x"}),
        )
        .await
        .unwrap(),
        400,
        "reasons",
    )
    .await;
    let r = c
        .put(node.url("/api/v1/employees/pat.doe/phase"))
        .bearer_auth(t)
        .json(&json!({"phase": "boss"}))
        .send()
        .await
        .unwrap();
    bad(r, 400, "shadow, assisted or autonomous").await;
    bad(
        post("/api/v1/employees/pat.doe/feedback", json!({"rating": 1.5}))
            .await
            .unwrap(),
        400,
        "`rating`",
    )
    .await;
    bad(
        post("/api/v1/employees/pat.doe/feedback", json!({}))
            .await
            .unwrap(),
        400,
        "correction",
    )
    .await;
    bad(
        post(
            "/api/v1/employees/pat.doe/observations",
            json!({"event_id": "0190e0b4-0000-7000-8000-000000000000", "action": " "}),
        )
        .await
        .unwrap(),
        400,
        "`action`",
    )
    .await;
    bad(
        post(
            "/api/v1/employees/pat.doe/events",
            json!({"kind": "empla.approval", "source": "me"}),
        )
        .await
        .unwrap(),
        400,
        "reserved",
    )
    .await;
    let r = post(
        "/api/v1/employees/pat.doe/feedback",
        json!({"rating": 0.9, "correction": "too formal"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    super::common::eventually(20, "the style to move", || async {
        let v: Value = node
            .get_json("/api/v1/employees/pat.doe/episodes?limit=20")
            .await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["summary"] == "style adjusted")
            .then_some(())
    })
    .await;
    let doc: Value = node.get_json("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/approvals/{id}/approve"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/employees/{id}/status"]["get"].is_object());
}
