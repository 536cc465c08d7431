//! End to end through the real binary: a node on a temp data dir and a free port.

use super::common::{NodeProcess, eventually, start_binary};
use serde_json::{Value, json};
use std::collections::HashMap;

async fn hire(n: &NodeProcess, name: &str) -> String {
    let r = n
        .client()
        .post(n.url("/api/v1/employees"))
        .bearer_auth(&n.token)
        .json(&json!({"role": "sales_ae", "name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    p["id"].as_str().unwrap().to_string()
}

/// Every event episode of an employee: event_id → how many episodes carry it.
async fn event_episodes(n: &NodeProcess, id: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let mut before: Option<i64> = None;
    loop {
        let mut path = format!("/api/v1/employees/{id}/episodes?limit=1000");
        if let Some(b) = before {
            path.push_str(&format!("&before={b}"));
        }
        let page = n.get_json(&path).await;
        for e in page["items"].as_array().unwrap() {
            if e["kind"] == "event" {
                *counts
                    .entry(e["event_id"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        match page["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => return counts,
        }
    }
}

async fn post_event(
    n: &NodeProcess,
    id: &str,
    i: usize,
    key: Option<String>,
) -> reqwest::Result<reqwest::Response> {
    let mut body = json!({"kind": "email.received", "source": "test", "payload": {"from": "sarah@acme.com", "i": i}});
    if let Some(k) = key {
        body["idempotency_key"] = json!(k);
    }
    n.client()
        .post(n.url(&format!("/api/v1/employees/{id}/events")))
        .bearer_auth(&n.token)
        .json(&body)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_become_a_thousand_episodes_and_survive_a_restart() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let node = start_binary(dir.path());
    let id = hire(&node, "Jordan Lee").await;
    let ids: Vec<String> = futures::stream::iter(0..1000)
        .map(|i| {
            let node = &node;
            let id = &id;
            async move {
                let r = post_event(node, id, i, None).await.unwrap();
                assert_eq!(r.status(), 202);
                let v: Value = r.json().await.unwrap();
                v["event_id"].as_str().unwrap().to_string()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let counts = eventually(60, "1000 episodes", || async {
        let c = event_episodes(&node, &id).await;
        (c.len() == 1000).then_some(c)
    })
    .await;
    assert!(
        ids.iter().all(|e| counts.get(e) == Some(&1)),
        "each accepted event has exactly one episode"
    );
    // The demo employees were hired too.
    let list: Value = node.get_json("/api/v1/employees").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
    node.terminate();

    let node = start_binary(dir.path());
    let again = event_episodes(&node, &id).await;
    assert_eq!(again, counts, "same episodes after a restart");
    let list: Value = node.get_json("/api/v1/employees").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        5,
        "demo employees are hired once"
    );
    // Hired second, the same name got the next free address.
    let p: Value = node.get_json("/api/v1/employees/jordan.lee2").await;
    assert_eq!(p["id"], json!(id));
    assert_eq!(p["email"], "jordan.lee2@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_every_accepted_event_is_processed_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = start_binary(dir.path());
    let id = hire(&node, "Sam Rivera").await;
    let accepted = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    // 8 concurrent senders; the node is killed while they are mid-stream.
    let mut senders = Vec::new();
    for s in 0..8 {
        let (base, token, id, accepted) = (
            node.base.clone(),
            node.token.clone(),
            id.clone(),
            accepted.clone(),
        );
        senders.push(tokio::spawn(async move {
            let client = super::common::http();
            for i in 0.. {
                let body = json!({"kind": "email.received", "source": "test", "payload": {"s": s, "i": i}});
                let r = client.post(format!("{base}/api/v1/employees/{id}/events")).bearer_auth(&token).json(&body).send().await;
                match r {
                    Ok(r) if r.status() == 202 => {
                        let v: Value = match r.json().await {
                            Ok(v) => v,
                            Err(_) => return,
                        };
                        accepted.lock().unwrap().push(v["event_id"].as_str().unwrap().to_string());
                    }
                    _ => return,
                }
            }
        }));
    }
    eventually(60, "300 accepted events", || async {
        (accepted.lock().unwrap().len() >= 300).then_some(())
    })
    .await;
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    for s in senders {
        let _ = s.await;
    }
    let accepted = accepted.lock().unwrap().clone();
    drop(node);

    let node = start_binary(dir.path());
    let counts = eventually(60, "every accepted event processed", || async {
        let c = event_episodes(&node, &id).await;
        accepted.iter().all(|e| c.contains_key(e)).then_some(c)
    })
    .await;
    for e in &accepted {
        assert_eq!(counts[e], 1, "event {e} processed exactly once");
    }
    assert!(
        counts.values().all(|n| *n == 1),
        "no event was processed twice"
    );
}
