//! The OpenAI-compatible embedding provider, against a local server speaking the
//! `/embeddings` wire format (the hosted API cannot be reached from here): the node
//! stores memories at once, fills their vectors in the background, and finds them by
//! similarity with the provider's vectors.

use super::common::{eventually, options, sqlite};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use empla::config::EmbedderKind;
use empla::lifecycle::HireRequest;
use empla::memory::{HashEmbedder, Mode, Recall};
use empla::model::NewEvent;
use empla::node::Node;
use empla::store::Store;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const KEY: &str = "sk-test-0123456789";

#[derive(Clone, Default)]
struct Provider {
    /// Inputs embedded, in request order.
    seen: Arc<Mutex<Vec<String>>>,
    /// Answer 503 while set.
    down: Arc<Mutex<bool>>,
}

async fn embeddings(
    State(p): State<Provider>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {KEY}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}),
            ),
        );
    }
    if *p.down.lock().unwrap() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {"message": "overloaded", "type": "server_error"}})),
        );
    }
    assert_eq!(body["model"], "text-embedding-3-small");
    let inputs: Vec<String> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    let e = HashEmbedder::new(64);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": e.vector(t)}))
        .collect();
    p.seen.lock().unwrap().extend(inputs);
    (
        StatusCode::OK,
        Json(
            json!({"object": "list", "data": data, "model": "text-embedding-3-small", "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_provider_embeds_memories_in_the_background() {
    let provider = Provider::default();
    let app = axum::Router::new()
        .route("/v1/embeddings", axum::routing::post(embeddings))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let var = format!(
        "EMPLA_TEST_EMBEDDINGS_KEY_{}",
        uuid::Uuid::new_v4().simple()
    );
    // SAFETY: the variable's name is unique to this test; nothing else reads or writes it.
    unsafe { std::env::set_var(&var, KEY) };
    let mut opts = options("acme");
    opts.memory.embedder = EmbedderKind::Openai;
    opts.memory.embeddings_url = Some(format!("http://{addr}/v1"));
    opts.memory.dimensions = Some(64);
    opts.memory.embeddings_api_key_env = Some(var);
    let s = sqlite().await;
    let store: Store = s
        .store
        .clone()
        .with_embedder(empla::memory::embed::from_config(&opts.memory).unwrap());
    *provider.down.lock().unwrap() = true;
    let node = Node::start_with_store(store.clone(), opts.clone())
        .await
        .unwrap();
    let id = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap()
        .id;
    for (subject, body) in [
        (
            "Outage",
            "Dashboards were down all morning for the finance team.",
        ),
        ("Lunch", "Team lunch on Friday at the Italian place."),
        ("Pricing", "Volume pricing for two hundred seats."),
    ] {
        node.submit_event(
            id,
            NewEvent {
                kind: "email.received".into(),
                source: "email".into(),
                payload: json!({"from": "sarah@northwind.com", "subject": subject, "body": body}),
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    }
    // While the provider is down, memories are stored and found by full text.
    let text = Recall {
        q: "dashboards".into(),
        mode: Mode::Text,
        limit: 5,
        ..Recall::default()
    };
    eventually(10, "full text while the provider is down", || async {
        (!node.recall(id, &text).await.unwrap().is_empty()).then_some(())
    })
    .await;
    assert!(provider.seen.lock().unwrap().is_empty());
    *provider.down.lock().unwrap() = false;
    // Then the vectors arrive, and similarity search uses them (the query is embedded
    // by the provider too).
    let similar = Recall {
        q: "finance dashboards outage".into(),
        mode: Mode::Vector,
        limit: 3,
        ..Recall::default()
    };
    let found = eventually(20, "vectors from the provider", || async {
        let found = node.recall(id, &similar).await.ok()?;
        (found.len() >= 3).then_some(found)
    })
    .await;
    assert!(found[0].text.contains("Dashboards were down"), "{found:#?}");
    let seen = provider.seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|t| t.contains("Italian place")),
        "every memory is embedded"
    );
    assert!(
        seen.iter().any(|t| t == "finance dashboards outage"),
        "the query is embedded by the provider"
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_setting_that_cannot_work_is_refused_at_start() {
    let mut opts = options("acme");
    opts.memory.embedder = EmbedderKind::Openai;
    opts.memory.embeddings_url = Some("http://127.0.0.1:9/v1".into());
    opts.memory.dimensions = Some(64);
    opts.memory.embeddings_api_key_env = Some("EMPLA_TEST_EMBEDDINGS_KEY_NEVER_SET".into());
    let dir = tempfile::tempdir().unwrap();
    opts.store_url = format!("sqlite://{}", dir.path().join("t.db").display());
    let err = Node::start(opts).await.err().expect("refused").to_string();
    assert!(
        err.contains("EMPLA_TEST_EMBEDDINGS_KEY_NEVER_SET") && err.contains("not set"),
        "{err}"
    );
}
