//! A stand-in for the model vendors' hosted APIs, which cannot run in a test: one
//! server speaking both the Anthropic Messages API (`POST /v1/messages`) and OpenAI's
//! chat completions (`POST /v1/chat/completions`) in their real wire formats — text and
//! tool-use answers, streaming as each vendor streams (`content_block_delta` with
//! `text_delta` / `input_json_delta`; `chat.completion.chunk` deltas ending `[DONE]`),
//! and the vendors' error bodies. Answers are scripted per call (a status with
//! `retry-after`, a slow answer, a malformed one); with no script left, a responder
//! writes the answer. Every request is recorded with its headers for the test to check.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use empla::node::NodeOptions;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which API a request came by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Anthropic,
    OpenAi,
}

/// One request as the vendor received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub vendor: Vendor,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Every text the request carries (system, messages), joined.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if let Some(s) = self.body["system"].as_str() {
            out.push_str(s);
            out.push('\n');
        }
        for m in self.body["messages"].as_array().into_iter().flatten() {
            match &m["content"] {
                Value::String(s) => out.push_str(s),
                Value::Array(blocks) => {
                    for b in blocks {
                        out.push_str(b["text"].as_str().or(b["content"].as_str()).unwrap_or(""));
                    }
                }
                _ => {}
            }
            out.push('\n');
        }
        out
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Text, ending the turn.
    Text(String),
    /// A tool call (with optional text before it).
    Tool { name: String, input: Value },
    /// An error status with the vendor's error body, and `retry-after` seconds if any.
    Status {
        code: u16,
        message: String,
        retry_after: Option<u64>,
    },
    /// The same answer after a delay.
    Slow(Duration, Box<Reply>),
    /// A 200 whose body is this (not the vendor's format).
    Raw(String),
}

type Responder = dyn Fn(&Seen) -> Reply + Send + Sync;

struct Inner {
    script: VecDeque<Reply>,
    seen: Vec<Seen>,
    responder: Arc<Responder>,
}

pub struct FakeModel {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub const MODEL_ANTHROPIC: &str = "claude-test-1";
pub const MODEL_OPENAI: &str = "gpt-test-1";

impl FakeModel {
    /// A fake whose unscripted answer is `responder`'s.
    pub async fn start(responder: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeModel {
        let inner = Arc::new(Mutex::new(Inner {
            script: VecDeque::new(),
            seen: Vec::new(),
            responder: Arc::new(responder),
        }));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeModel { url, inner, task }
    }

    /// Answers the next calls with these, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let vendor = match uri.path() {
        "/v1/messages" => Vendor::Anthropic,
        "/v1/chat/completions" => Vendor::OpenAi,
        other => {
            return respond(
                404,
                "application/json",
                format!("{{\"error\":{{\"message\":\"no route {other}\"}}}}"),
            );
        }
    };
    let Ok(body) = serde_json::from_str::<Value>(&body) else {
        return error(vendor, 400, "body is not JSON", None);
    };
    let seen = Seen {
        vendor,
        headers,
        body,
    };
    let reply = {
        let mut i = inner.lock().unwrap();
        i.seen.push(seen.clone());
        match i.script.pop_front() {
            Some(r) => r,
            None => (i.responder)(&seen),
        }
    };
    answer(vendor, &seen, reply).await
}

fn respond(code: u16, kind: &str, body: String) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header("content-type", kind)
        .body(Body::from(body))
        .unwrap()
}

fn error(vendor: Vendor, code: u16, message: &str, retry_after: Option<u64>) -> Response {
    let body = match vendor {
        Vendor::Anthropic => {
            let kind = match code {
                401 => "authentication_error",
                429 => "rate_limit_error",
                529 => "overloaded_error",
                500..=599 => "api_error",
                _ => "invalid_request_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
        Vendor::OpenAi => {
            json!({"error": {"message": message, "type": "invalid_request_error", "code": null}})
        }
    };
    let mut r = respond(code, "application/json", body.to_string());
    if let Some(s) = retry_after {
        r.headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    r
}

fn tokens(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn answer(
    vendor: Vendor,
    seen: &Seen,
    reply: Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + '_>> {
    Box::pin(async move {
        let stream = seen.body["stream"] == true;
        let input = tokens(&seen.text());
        match reply {
            Reply::Slow(d, r) => {
                tokio::time::sleep(d).await;
                answer(vendor, seen, *r).await
            }
            Reply::Status { code, message, retry_after } => error(vendor, code, &message, retry_after),
            Reply::Raw(body) => respond(200, if stream { "text/event-stream" } else { "application/json" }, body),
            Reply::Text(text) => match (vendor, stream) {
                (Vendor::Anthropic, false) => respond(200, "application/json", json!({
                    "id": "msg_01", "type": "message", "role": "assistant", "model": MODEL_ANTHROPIC,
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn", "stop_sequence": null,
                    "usage": {"input_tokens": input, "output_tokens": tokens(&text)},
                }).to_string()),
                (Vendor::Anthropic, true) => {
                    let mut events = vec![
                        ("message_start", json!({"type": "message_start", "message": {"id": "msg_01", "type": "message", "role": "assistant", "model": MODEL_ANTHROPIC, "content": [], "stop_reason": null, "usage": {"input_tokens": input, "output_tokens": 1}}})),
                        ("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
                        ("ping", json!({"type": "ping"})),
                    ];
                    for piece in pieces(&text) {
                        events.push(("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})));
                    }
                    events.push(("content_block_stop", json!({"type": "content_block_stop", "index": 0})));
                    events.push(("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": tokens(&text)}})));
                    events.push(("message_stop", json!({"type": "message_stop"})));
                    sse(events.into_iter().map(|(e, d)| format!("event: {e}\ndata: {d}\n\n")))
                }
                (Vendor::OpenAi, false) => respond(200, "application/json", json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": MODEL_OPENAI,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": input, "completion_tokens": tokens(&text), "total_tokens": input + tokens(&text)},
                }).to_string()),
                (Vendor::OpenAi, true) => {
                    let mut chunks = vec![json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]})];
                    for piece in pieces(&text) {
                        chunks.push(json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]}));
                    }
                    chunks.push(json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}));
                    chunks.push(json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [], "usage": {"prompt_tokens": input, "completion_tokens": tokens(&text), "total_tokens": input + tokens(&text)}}));
                    sse(chunks.into_iter().map(|c| format!("data: {c}\n\n")).chain(["data: [DONE]\n\n".to_string()]))
                }
            },
            Reply::Tool { name, input: args } => {
                let raw = args.to_string();
                match (vendor, stream) {
                    (Vendor::Anthropic, false) => respond(200, "application/json", json!({
                        "id": "msg_02", "type": "message", "role": "assistant", "model": MODEL_ANTHROPIC,
                        "content": [{"type": "text", "text": "Let me do that."}, {"type": "tool_use", "id": "toolu_01", "name": name, "input": args}],
                        "stop_reason": "tool_use", "stop_sequence": null,
                        "usage": {"input_tokens": input, "output_tokens": 12},
                    }).to_string()),
                    (Vendor::Anthropic, true) => {
                        let mut events = vec![
                            ("message_start", json!({"type": "message_start", "message": {"id": "msg_02", "type": "message", "role": "assistant", "model": MODEL_ANTHROPIC, "content": [], "stop_reason": null, "usage": {"input_tokens": input, "output_tokens": 1}}})),
                            ("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_01", "name": name, "input": {}}})),
                        ];
                        let (a, b) = raw.split_at(raw.len() / 2);
                        for piece in [a, b] {
                            events.push(("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": piece}})));
                        }
                        events.push(("content_block_stop", json!({"type": "content_block_stop", "index": 0})));
                        events.push(("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 12}})));
                        events.push(("message_stop", json!({"type": "message_stop"})));
                        sse(events.into_iter().map(|(e, d)| format!("event: {e}\ndata: {d}\n\n")))
                    }
                    (Vendor::OpenAi, false) => respond(200, "application/json", json!({
                        "id": "chatcmpl-2", "object": "chat.completion", "created": 0, "model": MODEL_OPENAI,
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "call_01", "type": "function", "function": {"name": name, "arguments": raw}}]}, "finish_reason": "tool_calls"}],
                        "usage": {"prompt_tokens": input, "completion_tokens": 12, "total_tokens": input + 12},
                    }).to_string()),
                    (Vendor::OpenAi, true) => {
                        let (a, b) = raw.split_at(raw.len() / 2);
                        let chunks = [
                            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_01", "type": "function", "function": {"name": name, "arguments": ""}}]}, "finish_reason": null}]}),
                            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}, "finish_reason": null}]}),
                            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": b}}]}, "finish_reason": null}]}),
                            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "model": MODEL_OPENAI, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
                        ];
                        sse(chunks.iter().map(|c| format!("data: {c}\n\n")).chain(["data: [DONE]\n\n".to_string()]))
                    }
                }
            }
        }
    })
}

/// Text cut into pieces of a few characters, some splitting a multi-byte character's
/// neighbours, as a vendor's stream does.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(5).map(|c| c.iter().collect()).collect()
}

fn sse(parts: impl Iterator<Item = String>) -> Response {
    respond(200, "text/event-stream", parts.collect())
}

/// The test node's options with `[llm]` set to the fake's Anthropic API, its key in an
/// environment variable of the test's own.
pub fn options(fake: &FakeModel) -> NodeOptions {
    let var = format!("EMPLA_TEST_LLM_KEY_{}", uuid::Uuid::new_v4().simple());
    // SAFETY: the variable's name is unique to this test; nothing else reads or writes it.
    unsafe { std::env::set_var(&var, "sk-ant-test") };
    let mut opts = super::common::options("acme");
    opts.llm.provider = empla::llm::ProviderKind::Anthropic;
    opts.llm.model = MODEL_ANTHROPIC.into();
    opts.llm.base_url = fake.url.clone();
    opts.llm.api_key_env = var;
    opts.llm.backoff = Duration::from_millis(10);
    opts
}

/// A node on a fresh SQLite store whose model is the fake, with the Sales AE Jordan Lee
/// hired in `phase` (the store is kept for the node's life).
pub async fn node_with_jordan(
    fake: &FakeModel,
    phase: empla::bdi::Phase,
) -> (
    super::common::TestStore,
    empla::node::Node,
    empla::model::EmployeeId,
) {
    let db = super::common::sqlite().await;
    let node = empla::node::Node::start_with_store(db.store.clone(), options(fake))
        .await
        .unwrap();
    let id = node
        .hire(empla::lifecycle::HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap()
        .id;
    node.set_phase(id, phase).await.unwrap();
    (db, node, id)
}

/// Pipeline coverage reported to employee `id`.
pub async fn coverage(node: &empla::node::Node, id: empla::model::EmployeeId, value: f64) {
    node.submit_event(
        id,
        empla::model::NewEvent {
            kind: "metric".into(),
            source: "test".into(),
            payload: json!({"metric": "pipeline_coverage", "value": value}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
}
