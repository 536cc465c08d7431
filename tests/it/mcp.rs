//! empla's MCP server driven by the official MCP Python SDK (PyPI `mcp` 2.x, from
//! `tests/mcp/client.sh`) against the real binary on the embedded default: over
//! streamable HTTP at `/mcp` in the current revision and in the 2025-11-25 handshake,
//! and over stdio through `empla mcp`. The tools answer what the API answers, with its
//! errors; resources and prompts come from the node's employees; and `/mcp` needs the
//! API's token and a host it answers to.

use super::common::{repo, start_binary};
use serde_json::Value;

/// The venv's python with the SDK, installed on first use.
fn python() -> String {
    let script = repo().join("tests/mcp/client.sh");
    let install = std::process::Command::new("bash")
        .arg(&script)
        .arg("install")
        .status()
        .expect("bash runs");
    assert!(
        install.success(),
        "the MCP Python SDK could not be installed: run `bash tests/mcp/client.sh install` (needs pip and PyPI)"
    );
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("python")
        .output()
        .expect("bash runs");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// What the scenario saw, run with `args`.
fn scenario(args: &[&str]) -> Value {
    let out = std::process::Command::new(python())
        .arg(repo().join("tests/mcp/scenario.py"))
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "the MCP client failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the MCP client printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// What every transport must have seen: the node's own answers, through MCP.
fn check(seen: &Value) {
    assert_eq!(seen["server"], "empla", "{seen}");
    let tools: Vec<&str> = seen["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for t in [
        "ask_employee",
        "assign_task",
        "employee_status",
        "recall_memories",
        "approve_action",
        "reject_action",
        "list_approvals",
        "list_employees",
        "task_status",
    ] {
        assert!(tools.contains(&t), "{t} in {tools:?}");
    }
    assert_eq!(seen["status"]["error"], false, "{seen}");
    assert_eq!(seen["status"]["structured"]["role"], "sales_ae");
    // The employee's own answer to a question about its goal.
    let ask = &seen["ask"];
    assert_eq!(ask["error"], false, "{ask}");
    assert!(
        ask["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("pipeline"),
        "{ask}"
    );
    // The task is assigned and can be followed.
    assert_eq!(seen["task"]["error"], false, "{seen}");
    assert_eq!(seen["task_status"]["error"], false, "{seen}");
    assert_eq!(
        seen["task_status"]["structured"]["description"],
        "Research Globex before Thursday's call"
    );
    assert_eq!(seen["recall"]["error"], false, "{seen}");
    assert_eq!(seen["approvals"]["error"], false, "{seen}");
    // Errors say what was wrong, as the API does.
    assert_eq!(seen["unknown"]["error"], true);
    let unknown = seen["unknown"]["text"].as_str().unwrap();
    assert!(
        unknown.contains("404") && unknown.contains("nobody.here"),
        "{unknown}"
    );
    assert_eq!(seen["missing"]["error"], true);
    assert!(
        seen["missing"]["text"]
            .as_str()
            .unwrap()
            .contains("assign_task needs `description`"),
        "{seen}"
    );
    assert_eq!(seen["reject_unknown"]["error"], true);
    // Resources: each employee's memory, read back as the node keeps it.
    let resources: Vec<&str> = seen["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        resources.contains(&"empla://employees/jordan.lee/memory"),
        "{resources:?}"
    );
    assert!(seen["memory"]["episodes"].is_array(), "{seen}");
    assert!(
        seen["bad_resource"]
            .as_str()
            .unwrap()
            .contains("empla://employees/{handle}/memory"),
        "{seen}"
    );
    // A prompt per role, from the employee's real goals.
    let prompts = seen["prompts"].as_array().unwrap();
    assert!(
        prompts.iter().any(|p| p == "work_with_sales_ae"),
        "{prompts:?}"
    );
    let prompt = seen["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("Jordan Lee (handle `jordan.lee`)"),
        "{prompt}"
    );
    assert!(
        prompt.to_lowercase().contains("pipeline coverage"),
        "{prompt}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_uses_the_tools_resources_and_prompts_over_http_and_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let url = node.url("/mcp");
    let modern = scenario(&["http", &url, &node.token, "auto"]);
    check(&modern);
    assert_eq!(modern["protocol"], "2026-07-28", "{modern}");
    let legacy = scenario(&["http", &url, &node.token, "legacy"]);
    check(&legacy);
    assert_eq!(legacy["protocol"], "2025-11-25", "{legacy}");
    let stdio = scenario(&[
        "stdio",
        env!("CARGO_BIN_EXE_empla"),
        &node.base,
        &node.token,
    ]);
    check(&stdio);
    // Three tasks were assigned, one per transport: each is the node's own.
    let tasks = node
        .get_json("/api/v1/employees/jordan.lee/tasks?limit=100")
        .await;
    let globex = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["description"] == "Research Globex before Thursday's call")
        .count();
    assert_eq!(globex, 3, "{tasks}");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_needs_the_token_and_a_host_it_answers_to() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |token: Option<&str>, host: Option<&str>| {
        let mut r = node
            .client()
            .post(node.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(h) = host {
            r = r.header("host", h);
        }
        r.send()
    };
    let none = post(None, None).await.unwrap();
    assert_eq!(none.status(), 401);
    let body = none.text().await.unwrap();
    assert!(!body.contains("empla\""), "no data without a token: {body}");
    assert_eq!(post(Some("wrong"), None).await.unwrap().status(), 401);
    let ok = post(Some(&node.token), None).await.unwrap();
    assert_eq!(ok.status(), 200, "{:?}", ok.text().await);
    let rebinding = post(Some(&node.token), Some("evil.example")).await.unwrap();
    assert!(
        rebinding.status().is_client_error(),
        "a foreign Host is refused: {}",
        rebinding.status()
    );
    node.terminate();
}
