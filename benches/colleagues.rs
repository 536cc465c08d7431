//! Load harness for employees messaging each other on one node: each message is an
//! `a2a.send` by one employee to a colleague, durable all the way — the send through
//! the outbox, the A2A task stored with the colleague's inbox event, the colleague's
//! cycle answering it in conversation (`chat.reply` through its outbox, ending the
//! task), and the answer told back to the sender as an `a2a.reply` inbox event. A
//! message's latency runs from the send being recorded to the answer being told. Prints
//! messages/s, p50 and p99, and the command that reproduces them.
//!
//! ```text
//! cargo bench --bench colleagues -- [MESSAGES] [PAIRS]     (default 1000 8)
//! ```
//!
//! The node runs in this process on a SQLite file in a temporary directory, with the
//! shipped role templates and default settings; PAIRS product managers (autonomous) each
//! message their own customer success manager (autonomous), who answers a greeting. Each
//! sender keeps up to 4 messages waiting for answers (new ones are sent as answers come).

use anyhow::{Context, Result, ensure};
use empla::bdi::Phase;
use empla::lifecycle::HireRequest;
use empla::model::NewEvent;
use empla::node::Node;
use sqlx::Row;
use std::time::{Duration, Instant};

mod support;

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Messages each sender has waiting for an answer at most.
const WINDOW: usize = 4;

/// The sender's plan: greet the colleague named, and wait for the answer.
const PLAN: &str = r#"
name = "greet_a_colleague"
trigger = { event = "task.greet" }
per = "payload.n"
steps = [
  { action = "a2a.send", params = { to = "{{ event.payload.to }}", text = "Hi, good to meet you!" } },
  { wait = "a2a.reply", timeout = "10m" },
]
"#;

fn main() -> Result<()> {
    let (messages, pairs) = support::two_numbers((1000, 8), "MESSAGES and PAIRS")?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(messages, pairs))
}

async fn run(messages: usize, pairs: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut roles = support::shipped_roles()?;
    roles
        .get_mut("pm")
        .context("the shipped roles have a pm")?
        .plans
        .push(toml::from_str(PLAN)?);
    let db = dir.path().join("colleagues.db");
    let opts = support::options(dir.path(), "colleagues.db", roles);
    let node = Node::start(opts).await.context("node did not start")?;
    let mut senders = Vec::new();
    for p in 0..pairs {
        let pm = node
            .hire(HireRequest::new("pm", format!("Casey Kim{p}")))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let csm = node
            .hire(HireRequest::new("csm", format!("Sam Rivera{p}")))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for id in [pm.id, csm.id] {
            node.set_phase(id, Phase::Autonomous)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        senders.push((pm.id, csm.chat_handle));
    }
    let greet = |n: usize| {
        let (id, to) = &senders[n % pairs];
        (
            *id,
            NewEvent {
                kind: "task.greet".into(),
                source: "bench".into(),
                payload: serde_json::json!({"n": n, "to": to}),
                idempotency_key: Some(format!("greet-{n}")),
            },
        )
    };
    let reader = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await?;
    let told = |reader: sqlx::SqlitePool| async move {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM a2a_calls WHERE told_at IS NOT NULL")
            .fetch_one(&reader)
            .await?
            .get(0);
        anyhow::Ok(n as usize)
    };

    // Warm up: every employee's actors, the store's caches.
    let warm = pairs * 2;
    for n in 0..warm {
        let (id, e) = greet(messages + n);
        node.submit_event(id, e)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    wait_for(warm, || told(reader.clone())).await?;

    // Each sender keeps at most WINDOW messages waiting for their answers (an employee
    // holds `max_intentions` = 8 intentions at once and drops the lowest beyond that).
    let started = Instant::now();
    for n in 0..messages {
        while n >= pairs * WINDOW && n - pairs * WINDOW >= told(reader.clone()).await? - warm {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let (id, e) = greet(n);
        node.submit_event(id, e)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    wait_for(warm + messages, || told(reader.clone())).await?;
    let elapsed = started.elapsed();
    let rows = sqlx::query(
        "SELECT created_at, told_at FROM a2a_calls WHERE told_at IS NOT NULL ORDER BY created_at",
    )
    .fetch_all(&reader)
    .await?;
    let mut latencies: Vec<i64> = rows
        .iter()
        .skip(warm)
        .map(|r| r.get::<i64, _>(1) - r.get::<i64, _>(0))
        .collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "employee-to-employee messages (durable, through the inbox), {messages} messages, {pairs} pairs: \
         {:.0} messages/s, p50 {:.1} ms, p99 {:.1} ms (send recorded → answer told)",
        messages as f64 / elapsed.as_secs_f64(),
        at(0.50) as f64 / 1e3,
        at(0.99) as f64 / 1e3,
    );
    println!("reproduce: cargo bench --bench colleagues -- {messages} {pairs}");
    node.shutdown().await;
    Ok(())
}

/// Waits until `count` says `n`, for up to ten minutes.
async fn wait_for<F, Fut>(n: usize, count: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<usize>>,
{
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let got = count().await?;
        if got >= n {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "only {got} of {n} messages answered in ten minutes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
