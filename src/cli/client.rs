//! The client commands: they call a running node's HTTP API.

use super::{Command, NodeArgs};
use crate::config::Config;
use anyhow::{Context, bail};
use serde_json::{Value, json};

pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    pub(super) fn new(args: &NodeArgs) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::new(),
            base: args.node.trim_end_matches('/').to_string(),
            token: token(args)?,
        })
    }

    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        self.call_with(method, path, &[], body).await
    }

    /// Calls with query parameters (encoded here).
    pub(super) async fn call_with(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .query(query);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.with_context(|| {
            format!(
                "cannot reach the node at {}; is `empla node` running?",
                self.base
            )
        })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            let msg = body
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("no details");
            bail!("{status}: {msg}")
        }
    }
}

/// `EMPLA_API_TOKEN`, else the token file in the node's data dir.
fn token(args: &NodeArgs) -> anyhow::Result<String> {
    if let Ok(t) = std::env::var("EMPLA_API_TOKEN")
        && !t.is_empty()
    {
        return Ok(t);
    }
    let data_dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            Config::load_default(args.config.as_deref())
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .node
                .node
                .data_dir
        }
    };
    let path = data_dir.join(super::node::TOKEN_FILE);
    let t = std::fs::read_to_string(&path).with_context(|| {
        format!("no API token: set EMPLA_API_TOKEN or run from where the node keeps {} (or pass --data-dir)", path.display())
    })?;
    Ok(t.trim().to_string())
}

fn manager(s: &str) -> Value {
    if let (Some(open), Some(close)) = (s.find('<'), s.rfind('>')) {
        json!({"kind": "human", "name": s[..open].trim(), "email": s[open + 1..close].trim()})
    } else if s.contains('@') {
        json!({"kind": "human", "name": s, "email": s})
    } else {
        json!({"kind": "employee", "id": s})
    }
}

pub(super) fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

async fn decide(
    node: &NodeArgs,
    id: &str,
    verb: &str,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let a = Client::new(node)?
        .call(
            reqwest::Method::POST,
            &format!("/approvals/{id}/{verb}"),
            Some(json!({"reason": reason, "by": "cli"})),
        )
        .await?;
    println!(
        "{} {} for employee {}",
        a["status"].as_str().unwrap_or(""),
        a["action"]["kind"].as_str().unwrap_or(""),
        a["employee_id"].as_str().unwrap_or("")
    );
    Ok(())
}

/// The status as a short report.
fn print_status(v: &Value) {
    let num = |x: &Value| x.as_f64().map(|f| format!("{f}")).unwrap_or("-".into());
    println!(
        "{} · phase {} · {} pending approval(s) · agreement {}/{}",
        v["role"].as_str().unwrap_or(""),
        v["phase"].as_str().unwrap_or(""),
        v["pending_approvals"],
        v["agreement"]["agreed"],
        v["agreement"]["scored"]
    );
    println!("intentions:");
    let intentions = v["intentions"].as_array().cloned().unwrap_or_default();
    if intentions.is_empty() {
        println!("  none");
    }
    for i in intentions {
        println!(
            "  {:<28} step {:<3} {}",
            i["plan"].as_str().unwrap_or(""),
            i["step"],
            i["state"].as_str().unwrap_or("")
        );
    }
    println!("goals:");
    for g in v["goals"].as_array().into_iter().flatten() {
        let mut flags = String::new();
        if g["blocked"] == json!(true) {
            flags.push_str(&format!(
                "  BLOCKED: {}",
                g["blocked_reason"].as_str().unwrap_or("")
            ));
        }
        if g["at_risk"] == json!(true) {
            flags.push_str("  AT RISK");
        }
        println!(
            "  {:<20} {:>5.0}%  current {} / target {}{flags}",
            g["id"].as_str().unwrap_or(""),
            g["progress"].as_f64().unwrap_or(0.0) * 100.0,
            num(&g["current"]),
            num(&g["target"]),
        );
    }
    let t = &v["today"];
    println!(
        "today: {} events, {} actions executed, {} proposed, {} approvals asked, {} escalations",
        t["events"],
        t["actions_executed"],
        t["actions_proposed"],
        t["approvals_requested"],
        t["escalations"]
    );
}

pub(super) async fn run(cmd: Command) -> anyhow::Result<()> {
    use reqwest::Method;
    match cmd {
        Command::Hire {
            role,
            name,
            manager: m,
            team,
            node,
        } => {
            let c = Client::new(&node)?;
            let mut body = json!({"role": role, "name": name});
            if let Some(m) = m {
                let mut mv = manager(&m);
                if mv["kind"] == "employee" {
                    // A handle is resolved to the manager's id.
                    let found = c
                        .call(Method::GET, &format!("/employees/{m}"), None)
                        .await?;
                    mv = json!({"kind": "employee", "id": found["id"]});
                }
                body["manager"] = mv;
            }
            if let Some(t) = team {
                body["team"] = json!(t);
            }
            let p = c.call(Method::POST, "/employees", Some(body)).await?;
            println!(
                "hired {} <{}> as {} (id {})",
                p["name"].as_str().unwrap_or(""),
                p["email"].as_str().unwrap_or(""),
                p["job_title"].as_str().unwrap_or(""),
                p["id"].as_str().unwrap_or("")
            );
        }
        Command::List { limit, node } => {
            let v = Client::new(&node)?
                .call(Method::GET, &format!("/employees?limit={limit}"), None)
                .await?;
            println!(
                "{:<38} {:<24} {:<34} {:<12} {:<10} RUNTIME",
                "ID", "NAME", "EMAIL", "ROLE", "STATUS"
            );
            for e in v["items"].as_array().into_iter().flatten() {
                let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
                println!(
                    "{:<38} {:<24} {:<34} {:<12} {:<10} {}",
                    s("id"),
                    s("name"),
                    s("email"),
                    s("role"),
                    s("status"),
                    s("runtime")
                );
            }
        }
        Command::Show { id, node } => print(
            &Client::new(&node)?
                .call(Method::GET, &format!("/employees/{id}"), None)
                .await?,
        ),
        Command::Offboard { id, node } => {
            let p = Client::new(&node)?
                .call(Method::DELETE, &format!("/employees/{id}"), None)
                .await?;
            println!(
                "offboarded {} ({})",
                p["name"].as_str().unwrap_or(""),
                p["id"].as_str().unwrap_or("")
            );
        }
        Command::SendEvent {
            id,
            kind,
            payload,
            source,
            idempotency_key,
            node,
        } => {
            let payload: Value =
                serde_json::from_str(&payload).context("--payload is not valid JSON")?;
            let mut body = json!({"kind": kind, "source": source, "payload": payload});
            if let Some(k) = idempotency_key {
                body["idempotency_key"] = json!(k);
            }
            let v = Client::new(&node)?
                .call(Method::POST, &format!("/employees/{id}/events"), Some(body))
                .await?;
            let dup = if v["duplicate"] == json!(true) {
                " (duplicate: already accepted)"
            } else {
                ""
            };
            println!(
                "accepted event {}{dup}",
                v["event_id"].as_str().unwrap_or("")
            );
        }
        Command::Episodes { id, limit, node } => print(
            &Client::new(&node)?
                .call(
                    Method::GET,
                    &format!("/employees/{id}/episodes?limit={limit}"),
                    None,
                )
                .await?,
        ),
        Command::Status { id, json, node } => {
            let v = Client::new(&node)?
                .call(Method::GET, &format!("/employees/{id}/status"), None)
                .await?;
            if json {
                print(&v);
            } else {
                print_status(&v);
            }
        }
        Command::Restart { id, node } => {
            let v = Client::new(&node)?
                .call(Method::POST, &format!("/employees/{id}/restart"), None)
                .await?;
            let r: crate::api::Restarted = serde_json::from_value(v)?;
            println!(
                "restarting {id}: {}",
                serde_json::to_value(r.state)?.as_str().unwrap_or("")
            );
        }
        Command::DeadLetters {
            id,
            retry,
            drop,
            node,
        } => {
            let client = Client::new(&node)?;
            if let Some(event) = retry {
                let v = client
                    .call(
                        Method::POST,
                        &format!("/employees/{id}/dead-letters/{event}/retry"),
                        None,
                    )
                    .await?;
                let r: crate::api::Retried = serde_json::from_value(v)?;
                println!("handed {} to {id} again", r.event_id);
            } else if let Some(event) = drop {
                client
                    .call(
                        Method::DELETE,
                        &format!("/employees/{id}/dead-letters/{event}"),
                        None,
                    )
                    .await?;
                println!("dropped {event}");
            } else {
                let v = client
                    .call(Method::GET, &format!("/employees/{id}/dead-letters"), None)
                    .await?;
                let list: crate::api::DeadLetters = serde_json::from_value(v)?;
                if list.items.is_empty() {
                    println!("no events set aside for {id}");
                }
                for d in list.items {
                    println!(
                        "{}  {}  {}  {} attempts  set aside {}\n    {}",
                        d.event_id,
                        d.kind,
                        d.source,
                        d.attempts,
                        d.set_aside_at.format("%Y-%m-%d %H:%M:%S"),
                        d.reason
                    );
                }
            }
        }
        Command::Approvals {
            employee,
            status,
            node,
        } => {
            let mut path = format!("/approvals?status={status}");
            if let Some(e) = employee {
                path.push_str(&format!("&employee={e}"));
            }
            let v = Client::new(&node)?.call(Method::GET, &path, None).await?;
            let items = v["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                println!("no {status} approvals");
            }
            for a in items {
                let act = &a["action"];
                println!(
                    "{}  {:<9} {:<20} employee {}\n    {}\n    {}",
                    a["id"].as_str().unwrap_or(""),
                    a["status"].as_str().unwrap_or(""),
                    act["kind"].as_str().unwrap_or(""),
                    a["employee_id"].as_str().unwrap_or(""),
                    a["reason"].as_str().unwrap_or(""),
                    act.get("params").unwrap_or(act),
                );
            }
        }
        Command::Approve { id, reason, node } => decide(&node, &id, "approve", reason).await?,
        Command::Reject { id, reason, node } => decide(&node, &id, "reject", reason).await?,
        Command::Phase { id, phase, node } => {
            Client::new(&node)?
                .call(
                    Method::PUT,
                    &format!("/employees/{id}/phase"),
                    Some(json!({"phase": phase})),
                )
                .await?;
            println!("phase of {id} set to {phase}");
        }
        Command::Feedback {
            id,
            rating,
            correction,
            text,
            node,
        } => {
            Client::new(&node)?
                .call(
                    Method::POST,
                    &format!("/employees/{id}/feedback"),
                    Some(json!({"rating": rating, "correction": correction, "text": text})),
                )
                .await?;
            println!("feedback for {id} recorded");
        }
        other @ (Command::Recall { .. }
        | Command::Facts { .. }
        | Command::Why { .. }
        | Command::Knowledge { .. }
        | Command::Forget { .. }
        | Command::Consolidate { .. }
        | Command::Procedures { .. }) => super::memory::run(other).await?,
        other @ (Command::Mail { .. }
        | Command::Chat { .. }
        | Command::Task { .. }
        | Command::Escalation { .. }) => super::interaction::run(other).await?,
        Command::Calendar { action } => super::calendar::run(action).await?,
        Command::Node { .. } | Command::Config { .. } | Command::Completions { .. } => {
            unreachable!("handled in cli::run")
        }
    }
    Ok(())
}
