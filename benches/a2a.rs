//! Load harness for the A2A face: `SendMessage` round trips over loopback to an
//! employee that answers directly (a greeting, answered by its conversation), with many
//! concurrent clients. Each round trip is a JSON-RPC `SendMessage` (blocking) through
//! the node's real HTTP server: the task stored with the inbox event, the employee's
//! cycle, its `chat.reply` through the outbox ending the task with its answer as an
//! artifact, and the answer read back. Prints requests/s, p50 and p99, and the command
//! that reproduces them.
//!
//! ```text
//! cargo bench --bench a2a -- [REQUESTS] [CLIENTS]     (default 2000 64)
//! ```
//!
//! The node runs in this process on a SQLite file in a temporary directory, with the
//! shipped role templates and default settings, one Sales AE hired (`jordan.lee`).

use anyhow::{Context, Result, ensure};
use empla::api::{ApiConfig, ApiState};
use empla::lifecycle::HireRequest;
use empla::node::Node;
use futures::StreamExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "bench-token-0123456789abcdef";

fn main() -> Result<()> {
    let (requests, clients) = support::two_numbers((2000, 64), "REQUESTS and CLIENTS")?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(requests, clients))
}

async fn run(requests: usize, clients: usize) -> Result<()> {
    empla::telemetry::install_crypto_provider();
    let dir = tempfile::tempdir()?;
    let roles = support::shipped_roles()?;
    let opts = support::options(dir.path(), "a2a.db", roles);
    let node = Arc::new(Node::start(opts).await.context("node did not start")?);
    node.hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = ApiState::single(node.clone(), TOKEN, empla::telemetry::metrics_handle())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        empla::api::serve(listener, state, &ApiConfig::default(), async {
            let _ = stopped.await;
        })
        .await
    });
    let url = format!("http://{addr}/a2a/jordan.lee");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;

    // Warm up: the employee's actors, the connections, the store's caches.
    round_trips(&http, &url, clients, clients).await?;
    let started = Instant::now();
    let mut latencies = round_trips(&http, &url, requests, clients).await?;
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "SendMessage round trips (JSON-RPC, answered directly), {requests} requests, {clients} clients: \
         {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms",
        requests as f64 / elapsed.as_secs_f64(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
    );
    println!("reproduce: cargo bench --bench a2a -- {requests} {clients}");
    let _ = stop.send(());
    let _ = server.await;
    node.shutdown().await;
    Ok(())
}

/// `n` round trips by `clients` concurrent clients; each answer is checked.
async fn round_trips(
    http: &reqwest::Client,
    url: &str,
    n: usize,
    clients: usize,
) -> Result<Vec<Duration>> {
    let results: Vec<Result<Duration>> = futures::stream::iter(0..n)
        .map(|i| async move {
            let body = serde_json::json!({
                "jsonrpc": "2.0", "id": i, "method": "SendMessage",
                "params": {"message": {
                    "messageId": format!("bench-{i}-{}", uuid::Uuid::now_v7()),
                    "role": "ROLE_USER",
                    "parts": [{"text": "Hi Jordan, good to meet you!"}],
                }},
            });
            let t = Instant::now();
            let answer: serde_json::Value = http
                .post(url)
                .bearer_auth(TOKEN)
                .header("A2A-Version", "1.0")
                .json(&body)
                .send()
                .await?
                .json()
                .await?;
            let took = t.elapsed();
            let state = &answer["result"]["task"]["status"]["state"];
            ensure!(
                state == "TASK_STATE_COMPLETED",
                "a round trip did not complete: {answer}"
            );
            Ok(took)
        })
        .buffer_unordered(clients)
        .collect()
        .await;
    results.into_iter().collect()
}
