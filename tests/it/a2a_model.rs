//! A2A with a language model (the fake Anthropic API of `llm_fixture`), through the
//! node's real HTTP face: a greeting is answered by the conversation as the model
//! writes it; a request no plan covers is worked out by the `last_resort` tool loop —
//! the task is input-required while the mail the model asked for waits for a human,
//! and completed with the model's report once it is approved.

use super::common::eventually;
use super::llm_fixture::{FakeModel, Reply, Seen};
use empla::api::{ApiConfig, ApiState};
use empla::bdi::Phase;
use empla::model::ApprovalStatus;
use serde_json::{Value, json};
use std::sync::Arc;

const TOKEN: &str = "a2a-model-token-0123456789";

fn tool_results(s: &Seen) -> usize {
    s.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|b| b["type"] == "tool_result")
        .count()
}

async fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let answer: Value = super::common::http()
        .post(url)
        .bearer_auth(TOKEN)
        .header("A2A-Version", "1.0")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("error").is_none(), "{method}: {answer}");
    answer["result"].clone()
}

fn send(text: &str) -> Value {
    json!({
        "message": {"messageId": uuid::Uuid::now_v7().to_string(), "role": "ROLE_USER",
                    "parts": [{"text": text}]},
        "configuration": {"returnImmediately": true},
    })
}

async fn state_when(url: &str, id: &str, want: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..900 {
        last = rpc(url, "GetTask", json!({"id": id})).await;
        if last["status"]["state"] == want {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("task {id} never reached {want}; it is {last}")
}

fn artifact_text(t: &Value) -> String {
    t["artifacts"][0]["parts"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_answers_in_conversation_and_works_out_a_request_no_plan_covers() {
    let fake = FakeModel::start(|s| {
        let tools = s.body["tools"].as_array().is_some_and(|t| !t.is_empty());
        if !tools {
            return Reply::Text("Hello! Jordan here, glad you reached out.".into());
        }
        match tool_results(s) {
            0 => Reply::Tool {
                name: "email__send".into(),
                input: json!({"to": "Ana Torres <ana.torres@northwind.example>", "subject": "Times", "body": "Would Tuesday 10:00 work?"}),
            },
            _ => Reply::Text("I mailed Ana Torres a time for a call.".into()),
        }
    })
    .await;
    let (_db, node, id) = super::llm_fixture::node_with_jordan(&fake, Phase::Assisted).await;
    let node = Arc::new(node);
    let (url, stop, server) = serve(node.clone(), "jordan.lee").await;

    // A greeting: the conversation answers, in the model's words.
    let t = rpc(&url, "SendMessage", send("Hi Jordan, good morning!")).await;
    let id_1 = t["task"]["id"].as_str().unwrap().to_string();
    let done = state_when(&url, &id_1, "TASK_STATE_COMPLETED").await;
    assert_eq!(
        artifact_text(&done),
        "Hello! Jordan here, glad you reached out."
    );

    // A request none of the Sales AE's plans covers: the tool loop takes it up.
    let t = rpc(
        &url,
        "SendMessage",
        send("Please send Ana Torres a time for a call next week"),
    )
    .await;
    let id_2 = t["task"]["id"].as_str().unwrap().to_string();
    let waiting = match tokio::time::timeout(
        std::time::Duration::from_secs(70),
        state_when(&url, &id_2, "TASK_STATE_INPUT_REQUIRED"),
    )
    .await
    {
        Ok(t) => t,
        Err(_) => panic!(
            "not input-required; the model saw: {:?}",
            fake.seen()
                .iter()
                .map(|s| (
                    s.body["tools"].as_array().map_or(0, |t| t.len()),
                    tool_results(s),
                    s.text().chars().take(120).collect::<String>()
                ))
                .collect::<Vec<_>>()
        ),
    };
    assert!(
        waiting["status"]["message"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("approval"),
        "{waiting}"
    );
    let queued = eventually(30, "the mail waits for approval", || async {
        node.approvals(Some(id), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.action["kind"] == "email.send")
    })
    .await;
    // The request's text reached the model marked untrusted.
    assert!(
        fake.seen()
            .iter()
            .any(|s| s.text().contains("<untrusted") && s.text().contains("Ana Torres a time")),
        "the request reaches the prompt as untrusted text"
    );
    node.decide(queued.id, true, "dana@example.com", None)
        .await
        .unwrap();
    let done = state_when(&url, &id_2, "TASK_STATE_COMPLETED").await;
    assert_eq!(
        artifact_text(&done),
        "I mailed Ana Torres a time for a call."
    );

    let _ = stop.send(());
    let _ = server.await;
    node.shutdown().await;
}

/// The A2A face of `node` on a free port: the agent URL of `agent`, and what stops it.
async fn serve(
    node: Arc<empla::node::Node>,
    agent: &str,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/a2a/{agent}", listener.local_addr().unwrap());
    let state = ApiState::single(node, TOKEN, empla::telemetry::metrics_handle())
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        empla::api::serve(listener, state, &ApiConfig::default(), async {
            let _ = stopped.await;
        })
        .await
    });
    (url, stop, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_a_task_withdraws_the_approval_its_work_waited_for() {
    let mut opts = super::common::options("acme");
    opts.roles.get_mut("sales_ae").unwrap().plans.push(
        toml::from_str(
            r#"
name = "quote_on_request"
description = "An agent asks for a quote: mail it"
trigger = { event = "a2a.message", when = "event.payload.text.contains('quote')" }
steps = [ { action = "email.send", params = { to = "dana@customer.test", subject = "Your quote", body = "Here is the quote." } } ]
"#,
        )
        .unwrap(),
    );
    let db = super::common::sqlite().await;
    let node = empla::node::Node::start_with_store(db.store.clone(), opts)
        .await
        .unwrap();
    let id = node
        .hire(empla::lifecycle::HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap()
        .id;
    node.set_phase(id, Phase::Assisted).await.unwrap();
    let node = Arc::new(node);
    let (url, stop, server) = serve(node.clone(), "jordan.lee").await;
    let t = rpc(&url, "SendMessage", send("Please send Dana the quote")).await;
    let task = t["task"]["id"].as_str().unwrap().to_string();
    state_when(&url, &task, "TASK_STATE_INPUT_REQUIRED").await;
    let pending = eventually(30, "the quote waiting for approval", || async {
        node.approvals(Some(id), Some(ApprovalStatus::Pending), 10)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.action["plan"] == "quote_on_request")
    })
    .await;
    rpc(&url, "CancelTask", json!({"id": task})).await;
    // The work is dropped, and the approval with it: it no longer stands in the queue.
    let closed = eventually(30, "the approval withdrawn", || async {
        let a = node
            .approvals(Some(id), None, 10)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.id == pending.id)?;
        (a.status == ApprovalStatus::Rejected).then_some(a)
    })
    .await;
    assert_eq!(closed.decided_by.as_deref(), Some("empla"));
    let why = closed.decision_reason.unwrap_or_default();
    assert!(
        why.starts_with("withdrawn: ") && why.contains("canceled"),
        "{why}"
    );
    // A human deciding it afterwards is told why it no longer stands; nothing is sent.
    let late = node
        .decide(pending.id, true, "dana@example.com", None)
        .await
        .expect_err("a withdrawn approval cannot be approved")
        .to_string();
    assert!(
        late.contains("already rejected (by empla: withdrawn: "),
        "{late}"
    );
    let sent = node
        .actions(id, 20)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.entry.kind == "email.send")
        .count();
    assert_eq!(sent, 0, "the quote was never put in the outbox");
    let _ = stop.send(());
    let _ = server.await;
    node.shutdown().await;
}
