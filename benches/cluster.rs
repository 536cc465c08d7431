//! Load harness for a cluster: three `empla node` processes on loopback sharing one
//! PostgreSQL database (a schema of its own), with the shipped config. Measures
//!
//! - **failover**: SIGKILL the node owning a third of EMPLOYEES; the time until every
//!   lease is held by a live node, and until an event sent (through a survivor) to each
//!   of 50 of its employees right after the kill is handled; median of RUNS (the node
//!   is started again between runs, and takes its share back);
//! - **cross-node delivery**: an event accepted by node A for an employee owned by node
//!   B, from accepted to handled (the inbox's own times), p50/p99 — beside events
//!   accepted by the owner itself;
//! - **durable events/s**: events sent round-robin to the three nodes, against one node
//!   alone on the same PostgreSQL server, in the same run.
//!
//! ```text
//! cargo bench --bench cluster -- [EMPLOYEES] [RUNS]     (default 3000 5)
//! ```
//!
//! The database is `EMPLA_BENCH_POSTGRES_URL`, else postgres://postgres@127.0.0.1:5432/test.

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

mod support;

const TOKEN: &str = "bench-token-0123456789abcdef";
const SECRET: &str = "bench-cluster-secret-0123456789";
/// Events in flight at once in the throughput runs.
const IN_FLIGHT: usize = 64;
/// Employees the throughput runs send events to.
const BUSY: usize = 300;
/// Events per throughput run.
const EVENTS: usize = 6000;

fn main() -> Result<()> {
    let (employees, runs) = support::two_numbers((3000, 5), "EMPLOYEES and RUNS")?;
    empla::telemetry::install_crypto_provider();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(employees, runs))
}

/// A running `empla node`.
struct Proc {
    child: std::process::Child,
    base: String,
    id: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A schema of its own on the bench database: its URL for the nodes, and a pool on it.
async fn schema(name: &str) -> Result<(String, sqlx::PgPool)> {
    let base = std::env::var("EMPLA_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await?;
    for sql in [
        format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
        format!("CREATE SCHEMA {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&admin)
            .await?;
    }
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{name}");
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await?;
    Ok((url, pool))
}

fn start(url: &str, dir: &Path, id: &str, cluster: bool) -> Result<Proc> {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_empla"));
    cmd.args(["node", "--config"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/config/empla.toml"))
        .arg("--data-dir")
        .arg(dir.join(id))
        .args(["--listen", "127.0.0.1:0"])
        .env("EMPLA_STORE_URL", url)
        .env("EMPLA_API_TOKEN", TOKEN)
        .env("EMPLA_NODE__HIRE_DEMO_EMPLOYEES", "false")
        .env("EMPLA_STORE__MAX_CONNECTIONS", "12")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if cluster {
        cmd.env("EMPLA_CLUSTER__ENABLED", "true")
            .env("EMPLA_CLUSTER__NODE_ID", id)
            .env("EMPLA_CLUSTER_SECRET", SECRET);
    }
    let mut child = cmd.spawn().context("the empla binary starts")?;
    let stdout = child.stdout.take().context("its stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let base = loop {
        let Some(line) = lines.next() else {
            bail!("node {id} stopped before listening");
        };
        if let Some(addr) = line?.strip_prefix("empla node listening on ") {
            break addr.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(Proc {
        child,
        base,
        id: id.into(),
    })
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> Result<Value> {
    let r = http.post(url).bearer_auth(TOKEN).json(&body).send().await?;
    ensure!(
        r.status().is_success(),
        "{}: {}",
        r.status(),
        r.text().await?
    );
    Ok(r.json().await?)
}

/// Hires `n` sales AEs, spread over `nodes`, a few at a time; their ids.
async fn hire(http: &reqwest::Client, nodes: &[Proc], n: usize) -> Result<Vec<String>> {
    use futures::StreamExt;
    let ids: Vec<Result<String>> = futures::stream::iter(0..n)
        .map(|i| {
            let url = format!("{}/api/v1/employees", nodes[i % nodes.len()].base);
            async move {
                let p = post(
                    http,
                    url,
                    json!({"role": "sales_ae", "name": format!("Rep {i}")}),
                )
                .await?;
                Ok(p["id"].as_str().context("a hire has an id")?.to_string())
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    ids.into_iter().collect()
}

/// Sends a `bench.ping` event to `employee` through `node`; its id.
async fn ping(http: &reqwest::Client, node: &Proc, employee: &str) -> Result<String> {
    let url = format!("{}/api/v1/employees/{employee}/events", node.base);
    let a = post(
        http,
        url,
        json!({"kind": "bench.ping", "source": "bench", "payload": {}}),
    )
    .await?;
    Ok(a["event_id"].as_str().context("an event id")?.to_string())
}

async fn unprocessed(db: &sqlx::PgPool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM inbox WHERE processed_at IS NULL")
            .fetch_one(db)
            .await?,
    )
}

async fn until<F, Fut>(limit: Duration, what: &str, mut f: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool>>,
{
    let end = Instant::now() + limit;
    while !f().await? {
        ensure!(Instant::now() < end, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Employees owned by `node`.
async fn owned_by(db: &sqlx::PgPool, node: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT employee_id FROM leases WHERE owner = $1 AND expires_at > now() ORDER BY employee_id",
    )
    .bind(node)
    .fetch_all(db)
    .await?)
}

async fn run(employees: usize, runs: usize) -> Result<()> {
    let http = reqwest::Client::new();
    let dir = tempfile::tempdir()?;
    let (url, db) = schema("bench_cluster").await?;
    let mut nodes = vec![
        start(&url, dir.path(), "n1", true)?,
        start(&url, dir.path(), "n2", true)?,
        start(&url, dir.path(), "n3", true)?,
    ];
    let started = Instant::now();
    let ids = hire(&http, &nodes, employees).await?;
    println!(
        "hired {} employees through 3 nodes in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    balanced(&db, &nodes, employees).await?;

    delivery(&http, &db, &nodes).await?;
    let three = throughput(&http, &db, &nodes, &ids).await?;
    failover(&http, &db, &url, dir.path(), &mut nodes, employees, runs).await?;
    drop(nodes);

    let (url1, db1) = schema("bench_single").await?;
    let single = vec![start(&url1, dir.path(), "alone", false)?];
    let ids1 = hire(&http, &single, BUSY).await?;
    let one = throughput(&http, &db1, &single, &ids1).await?;
    println!(
        "durable events/s: {three:.0} with three nodes, {one:.0} with one node alone (same PostgreSQL, same run; {EVENTS} events to {BUSY} employees, {IN_FLIGHT} in flight)"
    );
    println!("reproduce: cargo bench --bench cluster -- {employees} {runs}");
    Ok(())
}

/// Waits until every node owns about a third.
async fn balanced(db: &sqlx::PgPool, nodes: &[Proc], employees: usize) -> Result<()> {
    let low = (employees / nodes.len()) * 9 / 10;
    until(
        Duration::from_secs(180),
        "the employees to spread",
        || async {
            for n in nodes {
                if owned_by(db, &n.id).await?.len() < low {
                    return Ok(false);
                }
            }
            Ok(true)
        },
    )
    .await
}

/// Accepted → handled, through another node and through the owner.
async fn delivery(http: &reqwest::Client, db: &sqlx::PgPool, nodes: &[Proc]) -> Result<()> {
    let (a, b) = (&nodes[0], &nodes[1]);
    let theirs = owned_by(db, &b.id).await?;
    let mine = owned_by(db, &a.id).await?;
    for (label, targets) in [
        ("through another node", &theirs),
        ("through the owner", &mine),
    ] {
        let mut events = Vec::new();
        // One at a time with a pause, so each is measured alone, not queued; each
        // employee once first (its activation is not what is measured), then again.
        for e in targets.iter().take(200) {
            ping(http, a, e).await?;
        }
        until(Duration::from_secs(120), "warm-up events", || async {
            Ok(unprocessed(db).await? == 0)
        })
        .await?;
        for e in targets.iter().take(200) {
            events.push(ping(http, a, e).await?);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        until(Duration::from_secs(120), "the measured events", || async {
            Ok(unprocessed(db).await? == 0)
        })
        .await?;
        // Perceived: the employee's cycle took the event in (its episode's time);
        // stored: that cycle's record committed (the event marked processed).
        let rows: Vec<(f64, f64)> = sqlx::query_as(
            "SELECT ((e.at - i.received_at) / 1000.0)::float8, \
                    ((i.processed_at - i.received_at) / 1000.0)::float8 \
             FROM inbox i JOIN episodes e ON e.tenant = i.tenant AND e.event_id = i.id \
             AND e.kind = 'event' WHERE i.id = ANY($1)",
        )
        .bind(&events)
        .fetch_all(db)
        .await?;
        let (mut perceived, mut stored): (Vec<f64>, Vec<f64>) = rows.into_iter().unzip();
        perceived.sort_by(f64::total_cmp);
        stored.sort_by(f64::total_cmp);
        let q = |v: &[f64], p: usize| v[(v.len() * p / 100).min(v.len() - 1)];
        println!(
            "delivery {label} ({} events): accepted → perceived p50 {:.2} ms, p99 {:.2} ms; accepted → stored as handled p50 {:.2} ms, p99 {:.2} ms",
            perceived.len(),
            q(&perceived, 50),
            q(&perceived, 99),
            q(&stored, 50),
            q(&stored, 99)
        );
    }
    Ok(())
}

/// Durable events per second: `EVENTS` to `BUSY` employees, sent round-robin to `nodes`.
async fn throughput(
    http: &reqwest::Client,
    db: &sqlx::PgPool,
    nodes: &[Proc],
    ids: &[String],
) -> Result<f64> {
    use futures::StreamExt;
    let busy = &ids[..BUSY.min(ids.len())];
    // Warm: each employee active once.
    for (i, e) in busy.iter().enumerate() {
        ping(http, &nodes[i % nodes.len()], e).await?;
    }
    until(Duration::from_secs(120), "warm-up", || async {
        Ok(unprocessed(db).await? == 0)
    })
    .await?;
    let started = Instant::now();
    let sent: Vec<Result<String>> = futures::stream::iter(0..EVENTS)
        .map(|i| ping(http, &nodes[i % nodes.len()], &busy[(i * 7) % busy.len()]))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    for s in sent {
        s?;
    }
    until(Duration::from_secs(600), "every event handled", || async {
        Ok(unprocessed(db).await? == 0)
    })
    .await?;
    Ok(EVENTS as f64 / started.elapsed().as_secs_f64())
}

/// SIGKILL the node owning a third, `runs` times; the median times to recover.
async fn failover(
    http: &reqwest::Client,
    db: &sqlx::PgPool,
    url: &str,
    dir: &Path,
    nodes: &mut [Proc],
    employees: usize,
    runs: usize,
) -> Result<()> {
    let (mut held, mut handled) = (Vec::new(), Vec::new());
    for run in 0..runs {
        let k = 1 + run % 2; // n2 or n3: n1 is where events are sent through
        let victims = owned_by(db, &nodes[k].id).await?;
        let id = nodes[k].id.clone();
        nodes[k].child.kill()?;
        nodes[k].child.wait()?;
        let killed = Instant::now();
        let mut events = Vec::new();
        for e in victims.iter().take(50) {
            events.push(ping(http, &nodes[0], e).await?);
        }
        until(Duration::from_secs(60), "the dead node's leases to move", || async {
            let left: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM leases WHERE owner IS NULL OR owner = $1 OR expires_at < now()",
            )
            .bind(&id)
            .fetch_one(db)
            .await?;
            Ok(left == 0)
        })
        .await?;
        held.push(killed.elapsed().as_secs_f64());
        until(
            Duration::from_secs(60),
            "the events sent after the kill",
            || async {
                let left: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM inbox WHERE id = ANY($1) AND processed_at IS NULL",
                )
                .bind(&events)
                .fetch_one(db)
                .await?;
                Ok(left == 0)
            },
        )
        .await?;
        handled.push(killed.elapsed().as_secs_f64());
        println!(
            "failover run {}: {} employees of {id} held elsewhere after {:.2} s, its events handled after {:.2} s",
            run + 1,
            victims.len(),
            held[run],
            handled[run]
        );
        nodes[k] = start(url, dir, &id, true)?;
        balanced(db, nodes, employees).await?;
    }
    held.sort_by(f64::total_cmp);
    handled.sort_by(f64::total_cmp);
    println!(
        "failover (lease 10 s, heartbeat 2 s): all held by live nodes after {:.2} s, events handled after {:.2} s (medians of {runs})",
        held[runs / 2],
        handled[runs / 2]
    );
    Ok(())
}
