//! The HTTP server under abuse, through the real binary with `[api]` limits set by
//! environment: clients that stall in their request head are cut by the header-read
//! timeout, so `/healthz` and events still answer; a body that stalls is answered 503
//! `timeout` at the request timeout; a body over the limit is answered 413. Errors keep
//! the API's JSON shape.

use super::common::{NodeProcess, TOKEN, http, start_binary_with};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connections that stall mid-header in the abuse test.
const STALLED: usize = 2000;
/// File descriptors the test process keeps for everything else.
const SPARE_FDS: u64 = 512;

fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> NodeProcess {
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, v.to_string())).collect();
    start_binary_with(dir, Some(TOKEN), &env)
}

fn host_port(node: &NodeProcess) -> String {
    node.base
        .strip_prefix("http://")
        .expect("the node prints an http:// address")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_2000_connections_stalled_mid_header_healthz_and_events_still_answer() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(
        dir.path(),
        &[
            ("EMPLA_API__HEADER_READ_TIMEOUT", "1s"),
            ("EMPLA_API__MAX_CONNECTIONS", "256"),
        ],
    );
    let addr = host_port(&node);
    // Each stalled connection is a file descriptor here too.
    let limit = empla::api::raise_open_file_limit().unwrap();
    let stalled = STALLED.min(limit.now.saturating_sub(SPARE_FDS) as usize);
    if stalled < STALLED {
        eprintln!(
            "only {stalled} stalled connections: the hard open-file limit is {}",
            limit.hard
        );
    }

    let started = Instant::now();
    let connected = Arc::new(AtomicUsize::new(0));
    let cut = Arc::new(AtomicUsize::new(0));
    let stallers: Vec<_> = (0..stalled)
        .map(|_| {
            let (addr, connected, cut) = (addr.clone(), connected.clone(), cut.clone());
            tokio::spawn(async move {
                let Ok(mut stream) = TcpStream::connect(&addr).await else {
                    return;
                };
                connected.fetch_add(1, Ordering::Relaxed);
                // Half a request head, and then nothing.
                if stream
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: stalled\r\nX-Wait")
                    .await
                    .is_err()
                {
                    return;
                }
                // The server's answer (if any) and the close end the read.
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest).await;
                cut.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();

    tokio::time::sleep_until((started + Duration::from_secs(8)).into()).await;
    let asked = Instant::now();
    let health = tokio::time::timeout(
        Duration::from_secs(3),
        http().get(node.url("/healthz")).send(),
    )
    .await
    .expect("/healthz answers within 3s")
    .unwrap();
    let health_took = asked.elapsed();
    assert_eq!(health.status(), 200);
    let asked = Instant::now();
    let event = tokio::time::timeout(
        Duration::from_secs(3),
        http()
            .post(node.url("/api/v1/employees/casey.kim/events"))
            .bearer_auth(&node.token)
            .json(&json!({"kind": "webhook.received", "source": "test"}))
            .send(),
    )
    .await
    .expect("an event is answered within 3s")
    .unwrap();
    assert_eq!(event.status(), 202, "{:?}", event.text().await);
    let event_took = asked.elapsed();
    let (connected, cut) = (
        connected.load(Ordering::Relaxed),
        cut.load(Ordering::Relaxed),
    );
    eprintln!(
        "{stalled} stalling clients: {connected} connected, {cut} cut by the server; \
         /healthz took {health_took:?}, the event {event_took:?}"
    );
    assert!(
        cut >= 256,
        "stalled connections are cut by the header-read timeout: {cut} of {connected}"
    );
    let metrics = http()
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("empla_api_header_timeouts_total"),
        "{metrics}"
    );
    for s in stallers {
        s.abort();
    }
}

/// Sends `head` and `body_start` on a new connection and returns the status code and
/// JSON body of the answer, waiting at most `within`.
async fn raw_request(addr: &str, head: &str, body_start: &[u8], within: Duration) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body_start).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("an answer within the time allowed")
            .unwrap();
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    if name.eq_ignore_ascii_case("content-length") {
                        value.trim().parse().ok()
                    } else {
                        None
                    }
                })
                .expect("the answer has a content-length");
            if body.len() >= length {
                let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
                return (status, serde_json::from_str(&body[..length]).unwrap());
            }
        }
        assert!(n > 0, "connection closed before a whole answer: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_past_the_request_timeout_is_answered_503_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), &[("EMPLA_API__REQUEST_TIMEOUT", "1s")]);
    let head = format!(
        "POST /api/v1/employees/casey.kim/events HTTP/1.1\r\nHost: node\r\n\
         Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n"
    );
    let asked = Instant::now();
    let (status, body) = raw_request(
        &host_port(&node),
        &head,
        b"{\"kind\": ",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("`api.request_timeout`"), "{message}");
    assert!(asked.elapsed() >= Duration::from_secs(1));
    // Nothing was stored.
    let eps = node.get_json("/api/v1/employees/casey.kim/episodes").await;
    assert_eq!(eps["items"].as_array().unwrap().len(), 0, "{eps}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_max_body_bytes_is_answered_413_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), &[("EMPLA_API__MAX_BODY_BYTES", "4096")]);
    let events = node.url("/api/v1/employees/casey.kim/events");
    let big = json!({"kind": "a", "source": "b", "payload": {"blob": "x".repeat(5000)}});
    let r = http()
        .post(&events)
        .bearer_auth(&node.token)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("4096 bytes") && message.contains("`api.max_body_bytes`"),
        "{message}"
    );
    // Below the limit the same route accepts.
    let small = json!({"kind": "a", "source": "b", "payload": {"blob": "x".repeat(3000)}});
    let r = http()
        .post(&events)
        .bearer_auth(&node.token)
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
}
