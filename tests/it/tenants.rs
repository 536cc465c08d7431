//! Tenants and scoped tokens through a real `empla node`: a second tenant created by the
//! node admin starts empty and, on every route of the OpenAPI document, finds nothing of
//! the first tenant's; each role may do what it is for and no more; tokens are shown
//! once, listed by name and last use, revocable; tenants can be suspended, resumed and
//! deleted; every write lands in the tenant's audit trail with who, when and which face.

use super::common::{NodeProcess, eventually, http, start_binary};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Calls a node with one token.
struct Caller<'a> {
    node: &'a NodeProcess,
    token: String,
}

impl Caller<'_> {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String) {
        let mut req = http()
            .request(method.parse().unwrap(), self.node.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    }

    async fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, text) = self.call(method, path, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.json(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status}: {v}"
        );
        v
    }
}

fn admin(node: &NodeProcess) -> Caller<'_> {
    Caller {
        node,
        token: node.token.clone(),
    }
}

/// Creates tenant `id` as the node admin: a caller with its first admin token.
async fn create_tenant<'a>(node: &'a NodeProcess, id: &str, domain: &str) -> Caller<'a> {
    let (status, v) = admin(node)
        .json(
            "POST",
            "/api/v1/tenants",
            Some(json!({"id": id, "name": id.to_uppercase(), "domain": domain})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["tenant"]["id"], id);
    assert_eq!(v["tenant"]["status"], "active");
    Caller {
        node,
        token: v["token"].as_str().unwrap().to_string(),
    }
}

async fn token<'a>(admin: &Caller<'a>, name: &str, role: &str) -> Caller<'a> {
    let v = admin
        .ok(
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": name, "role": role})),
        )
        .await;
    assert_eq!(v["info"]["role"], role);
    Caller {
        node: admin.node,
        token: v["token"].as_str().unwrap().to_string(),
    }
}

/// Every id (UUID) and address in `text`.
fn markers(text: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9._%+-]+@example\.com",
    )
    .unwrap();
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

/// The first `"id"` string anywhere in `v`.
fn first_id(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| o.values().find_map(first_id)),
        Value::Array(a) => a.iter().find_map(first_id),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_token_finds_nothing_of_this_tenant_on_any_route() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let a = admin(&node);
    let employees = a.ok("GET", "/api/v1/employees", None).await;
    let first = employees["items"][0]["id"].as_str().unwrap().to_string();
    let handle = employees["items"][0]["chat_handle"]
        .as_str()
        .unwrap()
        .to_string();
    // Some work of the node's own tenant (A) beyond the demo's.
    a.ok(
        "POST",
        &format!("/api/v1/employees/{first}/tasks"),
        Some(json!({"description": "Send the Q3 deck to Acme"})),
    )
    .await;
    a.ok(
        "POST",
        "/api/v1/crm/accounts",
        Some(json!({"name": "Tenant A Account"})),
    )
    .await;

    let doc = a.ok("GET", "/api/v1/openapi.json", None).await;
    let paths = doc["paths"].as_object().unwrap().clone();
    // What A has: every id and address its lists show.
    let mut a_has = BTreeSet::new();
    for (path, ops) in &paths {
        if path.contains('{') || ops.get("get").is_none() || path.ends_with("/cluster") {
            continue;
        }
        let (status, text) = a.call("GET", path, None).await;
        if status == 200 {
            a_has.extend(markers(&text));
        }
    }
    assert!(
        a_has.contains(&first) && a_has.len() > 20,
        "A's lists show its data: {} markers",
        a_has.len()
    );

    let b = create_tenant(&node, "acme", "acme.example").await;
    let b_list = b.ok("GET", "/api/v1/employees", None).await;
    assert_eq!(b_list["items"], json!([]), "a new tenant starts empty");
    let quinn = b
        .ok(
            "POST",
            "/api/v1/employees",
            Some(json!({"role": "sales_ae", "name": "Quinn Harper"})),
        )
        .await;
    assert_eq!(quinn["email"], "quinn.harper@acme.example");
    assert_eq!(quinn["tenant"], "acme");

    let before = a.ok("GET", "/api/v1/employees?limit=1000", None).await;
    let mut walked = 0;
    for (template, ops) in &paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if ops.get(method).is_none() {
                continue;
            }
            // Each path parameter gets an id of A's, of the kind its list shows.
            let mut path = template.clone();
            while let Some(start) = path.find('{') {
                let end = start + path[start..].find('}').unwrap();
                let list = path[..start].trim_end_matches('/').to_string();
                let (status, v) = a.json("GET", &list, None).await;
                let id = (status == 200)
                    .then(|| first_id(&v))
                    .flatten()
                    .unwrap_or_else(|| first.clone());
                path.replace_range(start..=end, &id);
            }
            let mut tries = vec![path.clone()];
            if ops[method]["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "employee"))
            {
                tries.push(format!("{path}?employee={first}"));
            }
            for p in tries {
                let body = (method != "get" && method != "delete").then(|| json!({}));
                let (status, text) = b.call(&method.to_uppercase(), &p, body).await;
                walked += 1;
                assert!(
                    status < 500,
                    "{method} {p} as tenant B answered {status}: {text}"
                );
                if template.contains('{') && template.starts_with("/api/v1/employees/") {
                    assert!(
                        !(200..300).contains(&status),
                        "{method} {p} reached A's employee as tenant B: {status} {text}"
                    );
                }
                // B's own audit trail echoes the ids B itself sent in this walk.
                let echoes = p.ends_with("/cluster") || p.starts_with("/api/v1/audit");
                if (200..300).contains(&status) && !echoes {
                    let seen: Vec<_> = markers(&text).intersection(&a_has).cloned().collect();
                    assert!(
                        seen.is_empty(),
                        "{method} {p} as tenant B showed A's {seen:?}: {text}"
                    );
                }
            }
        }
    }
    assert!(walked > 100, "walked {walked} calls");
    // The A2A face too: B's token cannot reach A's employee.
    let (status, text) = b
        .call(
            "POST",
            &format!("/a2a/{handle}"),
            Some(json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "x"}})),
        )
        .await;
    assert!(
        !(200..300).contains(&status) || text.contains("\"error\""),
        "A2A reached A's agent: {status} {text}"
    );
    assert!(
        markers(&text).intersection(&a_has).next().is_none(),
        "{text}"
    );
    // Nothing of A's changed.
    let after = a.ok("GET", "/api/v1/employees?limit=1000", None).await;
    let state = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e["id"], e["status"]))
            .collect::<Vec<_>>()
    };
    assert_eq!(state(&before), state(&after));
    let tasks = a
        .ok("GET", &format!("/api/v1/employees/{first}/tasks"), None)
        .await;
    assert!(tasks.to_string().contains("Send the Q3 deck"), "{tasks}");
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_does_what_it_is_for_and_every_write_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let acme = create_tenant(&node, "acme", "acme.example").await;
    let operator = token(&acme, "ops", "operator").await;
    let viewer = token(&acme, "dashboard-wall", "viewer").await;
    let agent = token(&acme, "partner-agent", "agent").await;

    // Operators hire and run employees; they do not manage tokens or read the trail.
    let hired = operator
        .ok(
            "POST",
            "/api/v1/employees",
            Some(json!({"role": "sales_ae", "name": "Riley Quinn"})),
        )
        .await;
    let riley = hired["chat_handle"].as_str().unwrap().to_string();
    for (method, path) in [("POST", "/api/v1/tokens"), ("GET", "/api/v1/audit")] {
        let body = (method == "POST").then(|| json!({"name": "x", "role": "viewer"}));
        let (status, text) = operator.call(method, path, body).await;
        assert_eq!(status, 403, "{method} {path}: {text}");
    }
    // Viewers read only.
    viewer.ok("GET", "/api/v1/employees", None).await;
    let (status, text) = viewer
        .call(
            "POST",
            "/api/v1/employees",
            Some(json!({"role": "sales_ae", "name": "Not Hired"})),
        )
        .await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("may only read"), "{text}");
    // Agents speak A2A (and MCP) only.
    let (status, text) = agent.call("GET", "/api/v1/employees", None).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("A2A and MCP only"), "{text}");
    let get_task =
        json!({"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "no-such-task"}});
    let (status, text) = agent
        .call("POST", &format!("/a2a/{riley}"), Some(get_task.clone()))
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains("UNAUTHENTICATED") && !text.contains("PERMISSION_DENIED"),
        "{text}"
    );
    let (status, text) = viewer
        .call("POST", &format!("/a2a/{riley}"), Some(get_task))
        .await;
    assert_eq!(status, 403, "a viewer sends no messages to agents: {text}");
    // Tenant admins do not create tenants.
    let (status, _) = acme
        .call(
            "POST",
            "/api/v1/tenants",
            Some(json!({"id": "evil", "name": "Evil"})),
        )
        .await;
    assert_eq!(status, 403);

    // The CLI, with the tenant admin's token: a token made there is audited as the CLI's.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args([
            "token", "create", "ci", "--role", "operator", "--node", &node.base,
        ])
        .env("EMPLA_API_TOKEN", &acme.token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    let ci_secret = printed.lines().last().unwrap().trim().to_string();
    assert!(ci_secret.starts_with("empla_"), "{printed}");

    // Tokens are listed by name, role and last use, never with their secrets.
    let listed = eventually(10, "the operator's use recorded", || async {
        let v = acme.ok("GET", "/api/v1/tokens", None).await;
        let ops = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "ops")
            .cloned()
            .unwrap();
        ops.get("last_used_at").is_some().then_some(v)
    })
    .await;
    let text = listed.to_string();
    for secret in [&operator.token, &viewer.token, &agent.token, &ci_secret] {
        assert!(!text.contains(secret.as_str()), "a secret was listed");
    }
    let names: BTreeSet<_> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        ["admin", "ci", "dashboard-wall", "ops", "partner-agent"]
            .map(String::from)
            .into()
    );
    // A revoked token is refused.
    let viewer_id = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "dashboard-wall")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoked = acme
        .ok("DELETE", &format!("/api/v1/tokens/{viewer_id}"), None)
        .await;
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = viewer.call("GET", "/api/v1/employees", None).await;
    assert_eq!(status, 401, "a revoked token is refused");

    // The trail: who did what, when, through which face.
    let trail = acme.ok("GET", "/api/v1/audit?limit=1000", None).await;
    let entries = trail["entries"].as_array().unwrap();
    let find = |actor: &str, action: &str| {
        entries
            .iter()
            .find(|e| e["actor"] == actor && e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} by {actor} in {trail}"))
            .clone()
    };
    let hire = find("ops", "POST /api/v1/employees");
    assert_eq!(
        (hire["face"].as_str(), hire["status"].as_u64()),
        (Some("api"), Some(201))
    );
    assert_eq!(hire["role"], "operator");
    let made = find("admin", "POST /api/v1/tokens");
    assert!(
        made["target"].as_str().unwrap().contains("name=ops"),
        "{made}"
    );
    let by_cli = entries
        .iter()
        .find(|e| e["face"] == "cli")
        .expect("the CLI's write is in the trail");
    assert!(
        by_cli["target"].as_str().unwrap().contains("name=ci"),
        "{by_cli}"
    );
    let revoke = find("admin", "DELETE /api/v1/tokens/{id}");
    assert_eq!(revoke["target"], format!("id={viewer_id}"));
    let refused = find("dashboard-wall", "POST /api/v1/employees");
    assert_eq!(refused["status"], 403, "refused writes are recorded too");
    assert!(
        entries
            .iter()
            .all(|e| e["action"].as_str().unwrap().split(' ').next() != Some("GET")),
        "reads are not in the trail"
    );
    let only_ops = acme.ok("GET", "/api/v1/audit?actor=ops", None).await;
    assert!(
        only_ops["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == "ops")
    );
    let later = acme.ok("GET", "/api/v1/audit?since=2100-01-01", None).await;
    assert_eq!(later["entries"], json!([]));
    // The node admin's trail has the tenant's creation; the tenant's trail does not
    // show the node's.
    let node_trail = admin(&node).ok("GET", "/api/v1/audit", None).await;
    let created = node_trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "POST /api/v1/tenants")
        .cloned()
        .unwrap();
    assert_eq!(created["target"], "tenant=acme");
    assert_eq!(created["actor"], "node-admin");
    assert!(
        entries.iter().all(|e| e["target"] != "tenant=acme"),
        "the tenant's own trail does not hold the node admin's writes"
    );
    let tried = find("admin", "POST /api/v1/tenants");
    assert_eq!(tried["status"], 403, "its admin's refused try is in it");
    // `empla audit` prints the same trail.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
        .args(["audit", "--actor", "ops", "--node", &node.base])
        .env("EMPLA_API_TOKEN", &acme.token)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("POST /api/v1/employees") && printed.contains("→ 201"),
        "{printed}"
    );
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_suspended_resumed_kept_across_restarts_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let root = admin(&node);
    // Bad input says what to send.
    for (body, says) in [
        (
            json!({"id": "Acme Corp", "name": "Acme"}),
            "is not a tenant id",
        ),
        (json!({"id": "acme", "name": ""}), "`name` must be"),
        (
            json!({"id": "acme", "name": "Acme", "domain": "acme"}),
            "is not a mail domain",
        ),
        (json!({"id": "acme"}), "name"),
    ] {
        let (status, text) = root.call("POST", "/api/v1/tenants", Some(body)).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(says), "{text}");
    }
    let (status, text) = root
        .call("POST", "/api/v1/tenants/default/suspend", None)
        .await;
    assert_eq!(
        status, 409,
        "the node's own tenant is always served: {text}"
    );

    let acme = create_tenant(&node, "acme", "acme.example").await;
    let (status, text) = root
        .call(
            "POST",
            "/api/v1/tenants",
            Some(json!({"id": "acme", "name": "Again"})),
        )
        .await;
    assert_eq!(status, 409, "{text}");
    acme.ok(
        "POST",
        "/api/v1/employees",
        Some(json!({"role": "csm", "name": "Casey Morgan"})),
    )
    .await;

    // Its admin renames it; an operator cannot.
    let renamed = acme
        .ok("PATCH", "/api/v1/tenant", Some(json!({"name": "Acme Inc"})))
        .await;
    assert_eq!(
        (renamed["id"].as_str(), renamed["name"].as_str()),
        (Some("acme"), Some("Acme Inc"))
    );
    let ops = token(&acme, "ops", "operator").await;
    let (status, _) = ops
        .call("PATCH", "/api/v1/tenant", Some(json!({"name": "Mine"})))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        acme.ok("GET", "/api/v1/tenant", None).await["name"],
        "Acme Inc"
    );

    root.ok("POST", "/api/v1/tenants/acme/suspend", None).await;
    let (status, text) = acme.call("GET", "/api/v1/employees", None).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("suspended"), "{text}");
    root.ok("POST", "/api/v1/tenants/acme/resume", None).await;
    let list = acme.ok("GET", "/api/v1/employees", None).await;
    assert_eq!(list["items"][0]["name"], "Casey Morgan");

    // A restart serves the tenant again, with its employees and tokens.
    let token = acme.token.clone();
    node.terminate();
    let node = start_binary(dir.path());
    let acme = Caller { node: &node, token };
    let list = acme.ok("GET", "/api/v1/employees", None).await;
    assert_eq!(list["items"][0]["email"], "casey.morgan@acme.example");
    let tenants = admin(&node).ok("GET", "/api/v1/tenants", None).await;
    let ids: Vec<_> = tenants["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["acme", "default"]);

    // `empla tenant delete` needs --yes, then removes it all.
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_empla"))
            .args(args)
            .args(["--node", &node.base])
            .env("EMPLA_API_TOKEN", &node.token)
            .output()
            .unwrap()
    };
    let out = run(&["tenant", "delete", "acme"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let out = run(&["tenant", "delete", "acme", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _) = acme.call("GET", "/api/v1/employees", None).await;
    assert_eq!(status, 401, "a deleted tenant's tokens are gone");
    let out = run(&["tenant", "list"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("default") && !listed.contains("acme"),
        "{listed}"
    );
    // Its addresses are free again.
    let again = create_tenant(&node, "acme", "acme.example").await;
    let v = again
        .ok(
            "POST",
            "/api/v1/employees",
            Some(json!({"role": "csm", "name": "Casey Morgan"})),
        )
        .await;
    assert_eq!(v["email"], "casey.morgan@acme.example");
    node.terminate();
}
