//! A stand-in for Slack, since the real one cannot run in a test: it speaks Slack's Web
//! API wire format (`/api/<method>` with a bearer token, a JSON body or a query string,
//! answers `{"ok": true, ...}` or `{"ok": false, "error": "invalid_auth"}`) for
//! `auth.test`, `chat.postMessage`, `users.setPresence`, `users.profile.set`, `users.info` and
//! `apps.connections.open` (which hands out
//! a `ws://` URL), serves Socket Mode on that websocket (a `hello`, then `events_api`
//! envelopes, reading the acknowledgements), and signs Events API requests to the node
//! as Slack does. It records every call for the test to inspect.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;

/// The workspace's people: (user id, real name, email).
pub const PEOPLE: &[(&str, &str, &str)] = &[
    ("U0PRIYA", "Priya Shah", "priya.shah@example.com"),
    ("U0DANA", "Dana Wu", "dana.wu@example.com"),
];

/// One Web API call as Slack received it.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub token: String,
    pub body: Value,
}

#[derive(Default)]
struct Seen {
    calls: Vec<Call>,
    /// Messages in conversations: (channel, thread ts, ts, text, bot user).
    messages: Vec<(String, Option<String>, String, String, String)>,
    acks: Vec<String>,
    connections: usize,
}

/// The running stand-in.
pub struct FakeSlack {
    pub api_url: String,
    seen: Arc<Mutex<Seen>>,
    envelopes: broadcast::Sender<String>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Clone)]
struct Shared {
    seen: Arc<Mutex<Seen>>,
    /// Valid tokens → the bot user each is.
    tokens: Arc<BTreeMap<String, String>>,
    ws_url: String,
}

impl FakeSlack {
    /// Starts on two free ports (Web API, websocket); `tokens` are the valid tokens,
    /// each with the user id it authenticates as.
    pub async fn start(tokens: &[(&str, &str)]) -> FakeSlack {
        let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (envelopes, _) = broadcast::channel(64);
        let shared = Shared {
            seen: seen.clone(),
            tokens: Arc::new(
                tokens
                    .iter()
                    .map(|(t, u)| (t.to_string(), u.to_string()))
                    .collect(),
            ),
            ws_url: format!("ws://{}/link/?ticket=fake", ws.local_addr().unwrap()),
        };
        let app = axum::Router::new()
            .route("/api/{method}", axum::routing::any(web_api))
            .with_state(shared);
        let api_url = format!("http://{}/api", api.local_addr().unwrap());
        let web = tokio::spawn(async move {
            axum::serve(api, app).await.unwrap();
        });
        let socket = tokio::spawn(serve_sockets(ws, seen.clone(), envelopes.clone()));
        FakeSlack {
            api_url,
            seen,
            envelopes,
            tasks: vec![web, socket],
        }
    }

    /// A message `bot_user` posted in `channel` (in `thread`) before the test began.
    pub fn seed_message(&self, channel: &str, thread: Option<&str>, text: &str, bot_user: &str) {
        let mut seen = self.seen.lock().unwrap();
        let ts = format!("{}.000100", chrono::Utc::now().timestamp());
        seen.messages.push((
            channel.into(),
            thread.map(str::to_string),
            ts,
            text.into(),
            bot_user.into(),
        ));
    }

    /// Every call of `method` so far.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.seen
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Envelope ids acknowledged so far.
    pub fn acks(&self) -> Vec<String> {
        self.seen.lock().unwrap().acks.clone()
    }

    /// Socket Mode connections opened so far.
    pub fn connections(&self) -> usize {
        self.seen.lock().unwrap().connections
    }

    /// Sends `event_callback` (an Events API body) to every open Socket Mode
    /// connection in an `events_api` envelope with id `envelope_id`.
    pub fn send_envelope(&self, envelope_id: &str, event_callback: &Value) {
        let envelope = json!({
            "envelope_id": envelope_id,
            "payload": event_callback,
            "type": "events_api",
            "accepts_response_payload": false,
            "retry_attempt": 0,
            "retry_reason": "",
        });
        let _ = self.envelopes.send(envelope.to_string());
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn web_api(
    State(s): State<Shared>,
    Path(method): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Json<Value> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_string();
    // POST methods carry JSON; GET methods (auth.test, users.info) a query string.
    let body: Value = serde_json::from_slice(&body).unwrap_or_else(|_| json!(query));
    s.seen.lock().unwrap().calls.push(Call {
        method: method.clone(),
        token: token.clone(),
        body: body.clone(),
    });
    let Some(user) = s.tokens.get(&token) else {
        return Json(json!({"ok": false, "error": "invalid_auth"}));
    };
    Json(match method.as_str() {
        "auth.test" => json!({
            "ok": true, "url": "https://fake.slack.test/", "team": "Fake", "user": "bot",
            "team_id": "T1", "user_id": user, "bot_id": format!("B{user}"),
        }),
        "chat.postMessage" => {
            let ts = format!(
                "{}.{:06}",
                chrono::Utc::now().timestamp(),
                s.seen.lock().unwrap().calls.len()
            );
            s.seen.lock().unwrap().messages.push((
                body["channel"].as_str().unwrap_or("").to_string(),
                body["thread_ts"].as_str().map(str::to_string),
                ts.clone(),
                body["text"].as_str().unwrap_or("").to_string(),
                user.clone(),
            ));
            json!({
                "ok": true, "channel": body["channel"], "ts": ts,
                "message": {"type": "message", "text": body["text"], "user": user,
                            "bot_id": format!("B{user}"), "ts": ts},
            })
        }
        "users.setPresence" => json!({"ok": true}),
        // The conversation as Slack keeps it: a channel's messages, or a thread's.
        "conversations.history" | "conversations.replies" => {
            let oldest: f64 = body["oldest"]
                .as_str()
                .and_then(|o| o.parse().ok())
                .unwrap_or(0.0);
            let messages: Vec<Value> = s
                .seen
                .lock()
                .unwrap()
                .messages
                .iter()
                .filter(|(channel, thread, ts, _, _)| {
                    body["channel"] == channel.as_str()
                        && ts.parse::<f64>().unwrap_or(0.0) >= oldest
                        && (method == "conversations.history"
                            || thread.as_deref() == body["ts"].as_str())
                })
                .map(|(_, thread, ts, text, bot)| {
                    json!({"type": "message", "text": text, "ts": ts, "user": bot,
                           "bot_id": format!("B{bot}"), "thread_ts": thread})
                })
                .collect();
            json!({"ok": true, "messages": messages, "has_more": false})
        }
        "users.profile.set" => json!({"ok": true, "profile": body["profile"]}),
        "users.info" => match PEOPLE.iter().find(|p| body["user"] == p.0) {
            Some((id, name, email)) => json!({
                "ok": true,
                "user": {
                    "id": id, "team_id": "T1", "name": name.split(' ').next().unwrap().to_lowercase(),
                    "real_name": name, "deleted": false, "is_bot": false,
                    "profile": {"real_name": name, "display_name": name.split(' ').next().unwrap(), "email": email},
                },
            }),
            None => json!({"ok": false, "error": "user_not_found"}),
        },
        "apps.connections.open" => json!({"ok": true, "url": s.ws_url}),
        _ => json!({"ok": false, "error": "unknown_method"}),
    })
}

async fn serve_sockets(
    listener: tokio::net::TcpListener,
    seen: Arc<Mutex<Seen>>,
    envelopes: broadcast::Sender<String>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let seen = seen.clone();
        let mut outgoing = envelopes.subscribe();
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                return;
            };
            let (mut tx, mut rx) = ws.split();
            let hello = json!({
                "type": "hello", "num_connections": 1,
                "debug_info": {"host": "fake-slack", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": "A0SAM"},
            });
            if tx.send(Message::text(hello.to_string())).await.is_err() {
                return;
            }
            seen.lock().unwrap().connections += 1;
            loop {
                tokio::select! {
                    out = outgoing.recv() => match out {
                        Ok(text) => if tx.send(Message::text(text)).await.is_err() { return },
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(_) => return,
                    },
                    msg = rx.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            if let Ok(v) = serde_json::from_str::<Value>(&t)
                                && let Some(id) = v["envelope_id"].as_str()
                            {
                                seen.lock().unwrap().acks.push(id.to_string());
                            }
                        }
                        Some(Ok(Message::Ping(p))) => { let _ = tx.send(Message::Pong(p)).await; }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
        });
    }
}

/// Slack's signature of `body` sent at `timestamp` with `secret`, computed here
/// independently of the node's code.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// An `event_callback` body for app `app_id` carrying `event`.
pub fn event_callback(app_id: &str, event_id: &str, event: Value) -> Value {
    json!({
        "token": "verification-token-unused",
        "team_id": "T1",
        "api_app_id": app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": chrono::Utc::now().timestamp(),
        "authorizations": [{"enterprise_id": null, "team_id": "T1", "user_id": "USAMBOT", "is_bot": true, "is_enterprise_install": false}],
        "is_ext_shared_channel": false,
    })
}

/// An `app_mention` of the bot `bot` by `user` in `channel`.
pub fn app_mention(bot: &str, user: &str, channel: &str, ts: &str, text: &str) -> Value {
    json!({
        "type": "app_mention", "user": user, "text": format!("<@{bot}> {text}"),
        "ts": ts, "channel": channel, "event_ts": ts,
    })
}

/// A direct message from `user` in the DM `channel`.
pub fn direct_message(user: &str, channel: &str, ts: &str, text: &str) -> Value {
    json!({
        "type": "message", "user": user, "text": text, "ts": ts, "channel": channel,
        "event_ts": ts, "channel_type": "im",
    })
}
