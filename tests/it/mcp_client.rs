//! The tools of an MCP server as an employee's actions: a ticketing system's server,
//! written with the official MCP Python SDK and reached over streamable HTTP with its
//! bearer token, lists a read-only tool and one that changes something; a plan naming
//! both runs the first at once and holds the second for a human in the assisted phase,
//! then runs it once approved; a server that is down fails the call, saying why.

use super::common::{eventually, options, repo, sqlite};
use empla::bdi::{Phase, PlanSpec};
use empla::lifecycle::HireRequest;
use empla::mcp::{McpConfig, McpServerConfig};
use empla::model::{ApprovalStatus, NewEvent};
use empla::node::Node;
use serde_json::{Value, json};
use std::time::Duration;

struct Tickets {
    child: std::process::Child,
    url: String,
    calls: tempfile::NamedTempFile,
}

impl Drop for Tickets {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Tickets {
    /// The tickets server on a free port, answering `token`.
    async fn start(token: &str) -> Tickets {
        let script = repo().join("tests/mcp/client.sh");
        assert!(
            std::process::Command::new("bash")
                .arg(&script)
                .arg("install")
                .status()
                .unwrap()
                .success(),
            "the MCP Python SDK could not be installed: run `bash tests/mcp/client.sh install`"
        );
        let python = std::process::Command::new("bash")
            .arg(&script)
            .arg("python")
            .output()
            .unwrap();
        let python = String::from_utf8(python.stdout).unwrap().trim().to_string();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let calls = tempfile::NamedTempFile::new().unwrap();
        let child = std::process::Command::new(python)
            .arg(repo().join("tests/mcp/tickets.py"))
            .arg(port.to_string())
            .arg(token)
            .arg(calls.path())
            .spawn()
            .expect("the tickets server starts");
        eventually(30, "the tickets server listening", || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
        })
        .await;
        Tickets {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
            calls,
        }
    }

    fn calls(&self) -> Vec<Value> {
        std::fs::read_to_string(self.calls.path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

const PLAN: &str = r#"
name = "open_ticket_on_request"
description = "A customer asked for help: look the account up and open a ticket"
trigger = { event = "support.requested" }
risk = 0.0
steps = [
  { action = "mcp.tickets.lookup_account", params = { name = "{{ event.payload.account }}" } },
  { action = "mcp.tickets.open_ticket", params = { title = "{{ event.payload.account }}: {{ event.payload.problem }}", priority = "high" } },
]
"#;

fn server(url: &str, token_env: Option<&str>) -> McpServerConfig {
    McpServerConfig {
        url: Some(url.into()),
        command: Vec::new(),
        token_env: token_env.map(str::to_string),
        timeout: Duration::from_secs(10),
        trust_read_only: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_servers_tools_are_actions_gated_like_any() {
    let token = "tickets-secret";
    let tickets = Tickets::start(token).await;
    let var = format!("EMPLA_TEST_MCP_TOKEN_{}", uuid::Uuid::new_v4().simple());
    // SAFETY: the variable's name is unique to this test; nothing else reads or writes it.
    unsafe { std::env::set_var(&var, token) };
    let mut opts = options("acme");
    opts.mcp = McpConfig {
        servers: [
            ("tickets".to_string(), server(&tickets.url, Some(&var))),
            ("down".to_string(), server("http://127.0.0.1:9/mcp", None)),
        ]
        .into(),
    };
    let role = opts.roles.get_mut("sales_ae").unwrap();
    role.plans.push(toml::from_str::<PlanSpec>(PLAN).unwrap());
    role.plans.push(
        toml::from_str::<PlanSpec>(
            r#"
name = "ask_the_down_server"
description = "A tool of a server that does not answer"
trigger = { event = "down.requested" }
steps = [ { action = "mcp.down.anything", params = { x = "1" } } ]
"#,
        )
        .unwrap(),
    );
    let db = sqlite().await;
    let node = Node::start_with_store(db.store.clone(), opts)
        .await
        .unwrap();
    let id = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap()
        .id;
    node.set_phase(id, Phase::Assisted).await.unwrap();
    let event = |kind: &str, payload: Value| NewEvent {
        kind: kind.into(),
        source: "test".into(),
        payload,
        idempotency_key: None,
    };
    node.submit_event(
        id,
        event(
            "support.requested",
            json!({"account": "Globex", "problem": "SSO login fails"}),
        ),
    )
    .await
    .unwrap();
    // The read runs at once; what changes something waits for a human.
    let pending = eventually(30, "the ticket waiting for approval", || async {
        node.approvals(Some(id), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.action["kind"] == "mcp.tickets.open_ticket")
    })
    .await;
    assert_eq!(pending.action["params"]["title"], "Globex: SSO login fails");
    // The read runs on its own, while the ticket waits.
    let looked_up =
        eventually(30, "the lookup done", || async {
            node.actions(id, 20).await.unwrap().into_iter().find(|a| {
                a.entry.kind == "mcp.tickets.lookup_account" && a.status.as_str() == "done"
            })
        })
        .await;
    let result = looked_up.result.unwrap();
    assert_eq!(result["structured"]["plan"], "enterprise", "{result}");
    assert_eq!(
        tickets.calls(),
        [json!({"tool": "lookup_account", "args": {"name": "Globex"}})],
        "only the read ran before the approval"
    );
    node.decide(pending.id, true, "dana@example.com", None)
        .await
        .unwrap();
    let opened = eventually(30, "the ticket opened", || async {
        node.actions(id, 20)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.entry.kind == "mcp.tickets.open_ticket" && a.status.as_str() == "done")
    })
    .await;
    assert_eq!(opened.result.unwrap()["structured"]["id"], "T-1001");
    assert_eq!(
        tickets.calls()[1],
        json!({"tool": "open_ticket", "args": {"title": "Globex: SSO login fails", "priority": "high"}})
    );

    // A server that does not answer fails the call, saying so; nothing is pretended.
    node.set_phase(id, Phase::Autonomous).await.unwrap();
    node.submit_event(id, event("down.requested", json!({})))
        .await
        .unwrap();
    let failed = eventually(30, "the call to the server that is down", || async {
        node.actions(id, 30)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.entry.kind == "mcp.down.anything" && a.status.as_str() == "failed")
    })
    .await;
    let error = failed.result.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("MCP"), "{error}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_is_not_set_stops_the_node_naming_the_variable() {
    let mut opts = options("acme");
    opts.mcp = McpConfig {
        servers: [(
            "tickets".to_string(),
            server(
                "http://127.0.0.1:9/mcp",
                Some("EMPLA_TEST_MCP_TOKEN_NEVER_SET"),
            ),
        )]
        .into(),
    };
    let db = sqlite().await;
    let e = match Node::start_with_store(db.store.clone(), opts).await {
        Ok(_) => panic!("a node without its MCP server's token started"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("EMPLA_TEST_MCP_TOKEN_NEVER_SET"), "{e}");
}
