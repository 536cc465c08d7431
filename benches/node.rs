//! Load harness for a node: how fast employees' actor trees start and how much memory
//! they take, how little an idle (passivated) employee costs, how fast an idle employee
//! answers, how many events per second a node accepts and handles, and how fast a node
//! starts. Each figure is printed beside its goal, followed by the command that
//! reproduces it.
//!
//! ```text
//! cargo bench --bench node -- baseline [N]       N bare ractor actors (default 100000)
//! cargo bench --bench node -- spawn [N]          N active employees, 5 actors each, against
//!                                                N bare trees of 5; each phase in its own
//!                                                process (10000)
//! cargo bench --bench node -- passivated [N]     N hired, idle employees (1000000)
//! cargo bench --bench node -- throughput [EVENTS] [EMPLOYEES] [--postgres URL]
//!                                                events through a node (200000 1000)
//! cargo bench --bench node -- start [N]          node start with N hired (10000)
//! cargo bench --bench node -- all                every scenario, each in its own process
//! ```
//!
//! Memory is the process's resident set size (RSS, `/proc/self/statm`) read before and
//! after the step measured, divided by the number of actors or employees; Linux only.
//! Freed heap is handed back to the OS (`mi_collect`) before each "before"
//! reading, so memory freed by an earlier step cannot hide the cost of the next one.
//! Stores are SQLite files in temporary directories (PostgreSQL on request for
//! `throughput`); the node runs with the shipped role templates, default settings and
//! the Prometheus recorder installed, as `empla node` does.

use anyhow::{Context, Result, bail, ensure};
use empla::actors::ReachError;
use empla::config::{Config, RoleTemplate, RuntimeConfig, SqliteSync, StoreConfig};
use empla::lifecycle::HireRequest;
use empla::model::{EmployeeId, EmployeeProfile, NewEvent, TenantId};
use empla::node::{Node, NodeOptions, SubmitError};
use empla::store::Store;
use futures::{StreamExt, TryStreamExt, stream};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: cargo bench --bench node -- \
    baseline [N] | spawn [N] | passivated [N] | throughput [EVENTS] [EMPLOYEES] [--postgres URL] | start [N] | all";

/// Employees hired per `hire_many` call.
const HIRE_CHUNK: usize = 10_000;
/// Activations in flight at once in `spawn`.
const ACTIVATE_CONCURRENCY: usize = 64;
/// Events in flight at once in `throughput`.
const SUBMIT_CONCURRENCY: usize = 4096;
/// Idle employees sampled for each activation latency in `passivated`.
const LATENCY_SAMPLES: usize = 1000;
/// The `throughput` run fails if no event is handled for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    // cargo passes `--bench` to benchmarks; it means nothing here.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((scenario, rest)) = args.split_first() else {
        bail!(USAGE)
    };
    if scenario == "all" {
        return all();
    }
    if scenario == "spawn" {
        return spawn(number(rest, 0, 10_000)?);
    }
    empla::telemetry::install_crypto_provider();
    empla::telemetry::init_logging("warn");
    let _ = empla::telemetry::metrics_handle();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let reproduce = runtime.block_on(async {
        match scenario.as_str() {
            "baseline" => baseline(number(rest, 0, 100_000)?).await,
            "spawn-phase" => {
                let phase = rest.first().context("spawn-phase needs a phase")?;
                spawn_phase(phase, number(&rest[1..], 0, 10_000)?).await
            }
            "passivated" => passivated(number(rest, 0, 1_000_000)?).await,
            "throughput" => {
                throughput(
                    number(rest, 0, 200_000)?,
                    number(rest, 1, 1000)?,
                    postgres_url(rest)?,
                )
                .await
            }
            "start" => start(number(rest, 0, 10_000)?).await,
            _ => bail!(USAGE),
        }
    })?;
    println!("reproduce: cargo bench --bench node -- {reproduce}");
    Ok(())
}

/// Runs every scenario at full size, each in a fresh process so that memory figures
/// do not contaminate each other.
fn all() -> Result<()> {
    let exe = std::env::current_exe()?;
    let runs: [&[&str]; 6] = [
        &["baseline", "100000"],
        &["spawn", "10000"],
        &["spawn", "100000"],
        &["throughput", "200000", "1000"],
        &["start", "10000"],
        &["passivated", "1000000"],
    ];
    let mut failed = Vec::new();
    for args in runs {
        let line = args.join(" ");
        println!("== {line}");
        let started = Instant::now();
        let status = Command::new(&exe).args(args).status()?;
        println!(
            "== {line}: {} in {:.1} s\n",
            if status.success() { "done" } else { "FAILED" },
            secs(started.elapsed())
        );
        if !status.success() {
            failed.push(line);
        }
    }
    ensure!(failed.is_empty(), "failed: {}", failed.join(", "));
    Ok(())
}

/// The positional number at `index` of the scenario's arguments, or `default`.
fn number(args: &[String], index: usize, default: usize) -> Result<usize> {
    let mut positional = args.iter().take_while(|a| !a.starts_with("--"));
    match positional.nth(index) {
        Some(a) => a
            .replace('_', "")
            .parse()
            .with_context(|| format!("`{a}` is not a count\n{USAGE}")),
        None => Ok(default),
    }
}

fn postgres_url(args: &[String]) -> Result<Option<String>> {
    match args.iter().position(|a| a == "--postgres") {
        Some(i) => Ok(Some(
            args.get(i + 1).context("--postgres needs a URL")?.clone(),
        )),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------
// baseline: bare ractor actors

/// The smallest possible actor, to compare an employee's tree with.
struct Bare;

impl Actor for Bare {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

/// What `n` bare actors cost.
struct BareFigure {
    per_sec: f64,
    kib_each: f64,
}

/// Spawns `n` bare actors serially from this task, measures, then stops them.
async fn measure_bare(n: usize) -> Result<BareFigure> {
    let mut actors = Vec::with_capacity(n);
    let before = settled_rss_kib();
    let started = Instant::now();
    for _ in 0..n {
        actors.push(Actor::spawn(None, Bare, ()).await?);
    }
    let elapsed = started.elapsed();
    let after = rss_kib();
    for (actor, _) in &actors {
        actor.stop(None);
    }
    for (_, done) in actors {
        done.await?;
    }
    trim_heap();
    Ok(BareFigure {
        per_sec: rate(n, elapsed),
        kib_each: per(after - before, n),
    })
}

fn print_bare(n: usize, bare: &BareFigure) {
    println!(
        "baseline N={n}: {} actors/s; {:.2} KiB per bare actor",
        thousands(bare.per_sec),
        bare.kib_each
    );
}

async fn baseline(n: usize) -> Result<String> {
    print_bare(n, &measure_bare(n).await?);
    Ok(format!("baseline {n}"))
}

// ---------------------------------------------------------------------------------------
// spawn: active employees, against bare trees built the same way

/// Actors in one employee's tree: EmployeeSupervisor, EmployeeActor and its three
/// children.
const TREE_ACTORS: usize = 5;

/// `n` bare trees shaped as employees' are — a supervisor linked under one root, an
/// actor under it, three children under that — spawned `concurrency` at a time: what
/// ractor itself costs for as many actors as `n` employees have.
async fn bare_trees(n: usize, concurrency: usize) -> Result<(f64, f64)> {
    let (root, root_done) = Actor::spawn(None, Bare, ()).await?;
    let root_cell = root.get_cell();
    let before = settled_rss_kib();
    let started = Instant::now();
    stream::iter(0..n)
        .map(Ok::<_, anyhow::Error>)
        .try_for_each_concurrent(concurrency, |_| {
            let root_cell = root_cell.clone();
            async move {
                let (sup, _) = Actor::spawn_linked(None, Bare, (), root_cell).await?;
                let (emp, _) = Actor::spawn_linked(None, Bare, (), sup.get_cell()).await?;
                for _ in 0..3 {
                    Actor::spawn_linked(None, Bare, (), emp.get_cell()).await?;
                }
                Ok(())
            }
        })
        .await?;
    let elapsed = started.elapsed();
    let after = rss_kib();
    root.stop(None);
    root_done.await?;
    Ok((rate(n, elapsed), per(after - before, n * TREE_ACTORS)))
}

/// `n` employees activated `concurrency` at a time on a fresh node: (employees/s,
/// KiB per employee).
async fn employee_trees(n: usize, concurrency: usize) -> Result<(f64, f64)> {
    let bench = Bench::sqlite(StoreConfig::default())?;
    let node = bench.start().await?;
    let hired = hire_profiles(&node, n).await?;
    let hired_rss = settled_rss_kib();
    // Activation is handed its own copy of each profile, as one read from the store
    // would be; the copies are measured apart from the actor trees.
    let profiles = hired.clone();
    let before = rss_kib();
    let started = Instant::now();
    activate_all(&node, profiles, concurrency).await?;
    let elapsed = started.elapsed();
    let after = rss_kib();
    println!(
        "  (plus {:.1} KiB per employee for the profile copy it holds, in memory before activation)",
        per(before - hired_rss, n)
    );
    drop(hired);
    node.shutdown().await;
    Ok((rate(n, elapsed), per(after - before, n)))
}

/// One phase of `spawn` in this process, printed as `phase <rate> <kib>` for the
/// parent to read.
async fn spawn_phase(phase: &str, n: usize) -> Result<String> {
    let (rate, kib) = match phase {
        "bare" => bare_trees(n, ACTIVATE_CONCURRENCY).await?,
        "concurrent" => employee_trees(n, ACTIVATE_CONCURRENCY).await?,
        "serial" => employee_trees(n, 1).await?,
        other => bail!("unknown spawn phase {other:?}; use bare, concurrent or serial"),
    };
    println!("phase {phase} {rate} {kib}");
    Ok(format!("spawn-phase {phase} {n}"))
}

/// Runs each phase of `spawn` in a fresh process — bare trees, employees 64 at once,
/// employees one after another — so none starts on memory another freed, and reports
/// rates and memory side by side.
fn spawn(n: usize) -> Result<()> {
    let exe = std::env::current_exe()?;
    let serial_n = n.min(10_000);
    let mut figures = Vec::new();
    for (phase, count) in [("bare", n), ("concurrent", n), ("serial", serial_n)] {
        let out = Command::new(&exe)
            .args(["spawn-phase", phase, &count.to_string()])
            .stderr(std::process::Stdio::inherit())
            .output()?;
        ensure!(out.status.success(), "the {phase} phase failed");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines().filter(|l| l.starts_with("  (")) {
            println!("{line}");
        }
        let line = text
            .lines()
            .find(|l| l.starts_with("phase "))
            .with_context(|| format!("the {phase} phase printed no figures"))?;
        let nums: Vec<f64> = line
            .split_whitespace()
            .skip(2)
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        figures.push((nums[0], nums[1]));
    }
    let (bare_rate, bare_kib) = figures[0];
    let (conc_rate, tree_kib) = figures[1];
    let (serial_rate, _) = figures[2];
    let five_bare = TREE_ACTORS as f64 * bare_kib;
    println!(
        "bare trees N={n}: {} trees/s ({} actors/s); {bare_kib:.2} KiB per bare actor, {five_bare:.1} KiB per tree of {TREE_ACTORS}",
        thousands(bare_rate),
        thousands(bare_rate * TREE_ACTORS as f64),
    );
    println!(
        "spawn N={n}: {} employees/s, {ACTIVATE_CONCURRENCY} at once; {tree_kib:.1} KiB per employee = {:.2} x {TREE_ACTORS} bare actors ({five_bare:.1} KiB) \
         [goal >= 30000/s, <= 1.3x]",
        thousands(conc_rate),
        tree_kib / five_bare,
    );
    println!(
        "spawn serial N={serial_n}: {} employees/s one after another [goal: concurrent not slower]",
        thousands(serial_rate)
    );
    println!("reproduce: cargo bench --bench node -- spawn {n}");
    Ok(())
}

/// Activates every profile, `concurrency` at a time.
async fn activate_all(
    node: &Node,
    profiles: Vec<EmployeeProfile>,
    concurrency: usize,
) -> Result<()> {
    stream::iter(profiles.into_iter().map(Ok::<_, ReachError>))
        .try_for_each_concurrent(concurrency, |p| node.activate_with_profile(p))
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// passivated: hired, idle employees

async fn passivated(n: usize) -> Result<String> {
    let bench = Bench::sqlite(StoreConfig::default())?;
    let started = Instant::now();
    let node = bench.start().await?;
    let ids = hire_ids(&node, n).await?;
    node.shutdown().await;
    println!(
        "  (hired {n} in {:.1} s: {} hires/s)",
        secs(started.elapsed()),
        thousands(rate(n, started.elapsed()))
    );

    // A restart: the directory is loaded from the store.
    let before = settled_rss_kib();
    let started = Instant::now();
    let node = bench.start().await?;
    let ready = started.elapsed();
    let after = rss_kib();
    println!(
        "passivated N={n}: {:.3} KiB per hired idle employee [goal <= 1 KiB]; node start to ready {:.2} s",
        per(after - before, n),
        secs(ready)
    );

    let sample = sample(&ids, 2 * LATENCY_SAMPLES);
    let (by_event, by_call) = sample.split_at(sample.len() / 2);
    let (accept, handled) = event_latencies(&node, by_event).await?;
    println!(
        "activation by event N={}: submit to handled median {} ms, p99 {} ms (of which accepted/stored: median {} ms, \
         p99 {} ms) [goal median < 0.5 ms with sqlite_synchronous = full]",
        by_event.len(),
        millis(median(&handled)),
        millis(p99(&handled)),
        millis(median(&accept)),
        millis(p99(&accept)),
    );
    let activate = activate_latencies(&node, by_call).await?;
    println!(
        "activation by call N={}: activate median {} ms, p99 {} ms [goal median < 1 ms]",
        by_call.len(),
        millis(median(&activate)),
        millis(p99(&activate)),
    );
    // The same for employees already active: what the accept and the handling cost
    // without an activation beside them.
    let (accept, handled) = event_latencies(&node, by_call).await?;
    println!(
        "event to an active employee N={}: submit to handled median {} ms, p99 {} ms (accepted/stored: median {} ms, p99 {} ms)",
        by_call.len(),
        millis(median(&handled)),
        millis(p99(&handled)),
        millis(median(&accept)),
        millis(p99(&accept)),
    );
    node.shutdown().await;
    Ok(format!("passivated {n}"))
}

/// For each idle employee: time until its event is accepted, and until it is handled.
async fn event_latencies(
    node: &Node,
    ids: &[EmployeeId],
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut accept, mut handled) = (Vec::new(), Vec::new());
    for &id in ids {
        let started = Instant::now();
        node.submit_event(id, ping()).await?;
        accept.push(started.elapsed());
        let runtime = node.employee_runtime(id).await?;
        handled.push(started.elapsed());
        ensure!(
            runtime.events_handled >= 1,
            "employee {id} answered before handling its event"
        );
    }
    Ok((accept, handled))
}

/// For each idle employee: time to activate it without an event.
async fn activate_latencies(node: &Node, ids: &[EmployeeId]) -> Result<Vec<Duration>> {
    let mut out = Vec::new();
    for &id in ids {
        let started = Instant::now();
        node.activate(id).await?;
        out.push(started.elapsed());
    }
    Ok(out)
}

/// Up to `k` distinct ids picked at random.
fn sample(ids: &[EmployeeId], k: usize) -> Vec<EmployeeId> {
    rand::seq::index::sample(&mut rand::rng(), ids.len(), k.min(ids.len()))
        .into_iter()
        .map(|i| ids[i])
        .collect()
}

// ---------------------------------------------------------------------------------------
// throughput: events through a node

async fn throughput(events: usize, employees: usize, postgres: Option<String>) -> Result<String> {
    ensure!(employees > 0, "throughput needs at least one employee");
    match postgres {
        None => {
            for (sync, label) in [
                (SqliteSync::Full, "sqlite sync=full"),
                (SqliteSync::Normal, "sqlite sync=normal"),
            ] {
                let bench = Bench::sqlite(StoreConfig {
                    sqlite_synchronous: sync,
                    ..StoreConfig::default()
                })?;
                let node = bench.start().await?;
                let figure = pump(&node, events, employees).await;
                node.shutdown().await;
                print_throughput(label, events, employees, &figure?);
            }
            Ok(format!("throughput {events} {employees}"))
        }
        Some(url) => {
            let schema = PgSchema::create(&url).await?;
            let figure = async {
                let node = Node::start_with_store(
                    schema.connect().await?,
                    bench_options(url.clone(), StoreConfig::default())?,
                )
                .await?;
                let figure = pump(&node, events, employees).await;
                node.shutdown().await;
                figure
            }
            .await;
            schema.remove().await?;
            print_throughput("postgres", events, employees, &figure?);
            Ok(format!("throughput {events} {employees} --postgres <URL>"))
        }
    }
}

/// How long the events took to be accepted, and to be handled.
struct Throughput {
    accepted: Duration,
    handled: Duration,
}

fn print_throughput(label: &str, events: usize, employees: usize, t: &Throughput) {
    println!(
        "throughput {label} EVENTS={events} EMPLOYEES={employees}: accepted {} events/s; end to end {} events/s \
         [goal >= 20000/s]",
        thousands(rate(events, t.accepted)),
        thousands(rate(events, t.handled)),
    );
}

/// Hires `employees`, submits `events` round-robin across them, many at once, and waits
/// until every one is handled.
async fn pump(node: &Node, events: usize, employees: usize) -> Result<Throughput> {
    let ids = hire_ids(node, employees).await?;
    let started = Instant::now();
    stream::iter((0..events).map(|i| Ok::<_, SubmitError>(ids[i % ids.len()])))
        .try_for_each_concurrent(SUBMIT_CONCURRENCY, |id| async move {
            node.submit_event(id, ping()).await.map(|_| ())
        })
        .await?;
    let accepted = started.elapsed();
    wait_handled(node, &ids, events as u64).await?;
    Ok(Throughput {
        accepted,
        handled: started.elapsed(),
    })
}

/// Polls every 100 ms until `ids` have handled `target` events between them (as the
/// employees count them; each one's completion is then group-committed behind it).
async fn wait_handled(node: &Node, ids: &[EmployeeId], target: u64) -> Result<()> {
    let (mut last, mut progress_at) = (0, Instant::now());
    loop {
        let handled = events_handled(node, ids).await?;
        if handled >= target {
            ensure!(
                handled == target,
                "{handled} events handled for {target} sent: some were handled twice"
            );
            return Ok(());
        }
        if handled > last {
            (last, progress_at) = (handled, Instant::now());
        }
        ensure!(
            progress_at.elapsed() < STALL_TIMEOUT,
            "stalled: {handled} of {target} events handled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn events_handled(node: &Node, ids: &[EmployeeId]) -> Result<u64> {
    let total = stream::iter(ids)
        .map(|&id| node.employee_runtime(id))
        .buffer_unordered(64)
        .try_fold(0, |sum, r| async move { Ok(sum + r.events_handled) })
        .await?;
    Ok(total)
}

/// A fresh PostgreSQL schema for one run.
struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    async fn create(url: &str) -> Result<PgSchema> {
        let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
        Self::execute(url, format!("CREATE SCHEMA {name}")).await?;
        Ok(PgSchema {
            url: url.into(),
            name,
        })
    }

    async fn connect(&self) -> Result<Store> {
        let opts = sqlx::postgres::PgConnectOptions::from_str(&self.url)?
            .options([("search_path", self.name.as_str())]);
        Ok(Store::connect_postgres(opts, &StoreConfig::default()).await?)
    }

    async fn remove(self) -> Result<()> {
        Self::execute(&self.url, format!("DROP SCHEMA {} CASCADE", self.name)).await
    }

    async fn execute(url: &str, sql: String) -> Result<()> {
        let admin = sqlx::PgPool::connect(url)
            .await
            .context("connecting to --postgres URL")?;
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&admin)
            .await?;
        admin.close().await;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// start: node start with many hired

async fn start(n: usize) -> Result<String> {
    let bench = Bench::sqlite(StoreConfig::default())?;
    let node = bench.start().await?;
    hire_ids(&node, n).await?;
    node.shutdown().await;
    let started = Instant::now();
    let node = bench.start().await?;
    let ready = started.elapsed();
    ensure!(
        node.hired() == n,
        "the restarted node knows {} employees, not {n}",
        node.hired()
    );
    println!(
        "start N={n}: node start to ready {:.3} s [goal < 2 s]",
        secs(ready)
    );
    node.shutdown().await;
    Ok(format!("start {n}"))
}

// ---------------------------------------------------------------------------------------
// nodes and employees

/// A SQLite store in a temporary directory, and the options to start nodes on it.
struct Bench {
    opts: NodeOptions,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn sqlite(store: StoreConfig) -> Result<Bench> {
        let dir = tempfile::tempdir()?;
        let opts = bench_options(
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            store,
        )?;
        Ok(Bench { opts, _dir: dir })
    }

    /// Starts a node on the store; returns once it is ready.
    async fn start(&self) -> Result<Node> {
        Ok(Node::start(self.opts.clone()).await?)
    }
}

fn bench_options(store_url: String, store: StoreConfig) -> Result<NodeOptions> {
    Ok(NodeOptions {
        tenant: TenantId::new("bench"),
        company_domain: "example.com".into(),
        store_url,
        store,
        runtime: RuntimeConfig::default(),
        memory: Default::default(),
        calendar: Default::default(),
        mail: Default::default(),
        chat: Default::default(),
        crm: Default::default(),
        documents: Default::default(),
        research: Default::default(),
        a2a: Default::default(),
        llm: Default::default(),
        mcp: Default::default(),
        templates_dir: None,
        demo_crm: None,
        data_dir: std::env::temp_dir(),
        roles: shipped_roles()?,
        demo_employees: Vec::new(),
        teams: Default::default(),
        cluster: Default::default(),
        oauth: Default::default(),
    })
}

fn shipped_roles() -> Result<BTreeMap<String, RoleTemplate>> {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/empla.toml"));
    Ok(Config::load(path, &[])
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .roles)
}

/// Hires `n` sales AEs named `Emp 0`, `Emp 1`, ..., handing each chunk's profiles to `f`.
async fn hire_chunks(node: &Node, n: usize, mut f: impl FnMut(Vec<EmployeeProfile>)) -> Result<()> {
    for first in (0..n).step_by(HIRE_CHUNK) {
        let reqs = (first..n.min(first + HIRE_CHUNK))
            .map(|i| HireRequest::new("sales_ae", format!("Emp {i}")))
            .collect();
        f(node.hire_many(reqs).await?);
    }
    Ok(())
}

async fn hire_profiles(node: &Node, n: usize) -> Result<Vec<EmployeeProfile>> {
    let mut out = Vec::with_capacity(n);
    hire_chunks(node, n, |profiles| out.extend(profiles)).await?;
    Ok(out)
}

async fn hire_ids(node: &Node, n: usize) -> Result<Vec<EmployeeId>> {
    let mut out = Vec::with_capacity(n);
    hire_chunks(node, n, |profiles| {
        out.extend(profiles.iter().map(|p| p.id))
    })
    .await?;
    Ok(out)
}

fn ping() -> NewEvent {
    NewEvent {
        kind: "bench.ping".into(),
        source: "bench".into(),
        payload: serde_json::json!({}),
        idempotency_key: None,
    }
}

// ---------------------------------------------------------------------------------------
// memory

/// The process's resident set size in KiB.
fn rss_kib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm")
        .expect("/proc/self/statm is readable (Linux only)");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm has a resident field");
    (pages * 4096) as f64 / 1024.0
}

/// The resident set size after freed heap is handed back to the OS.
fn settled_rss_kib() -> f64 {
    trim_heap();
    rss_kib()
}

/// Returns free heap pages to the OS, so that what an earlier step freed is not reused
/// unseen by the step measured next.
fn trim_heap() {
    // SAFETY: mi_collect only releases memory that is free; it has no preconditions.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

// ---------------------------------------------------------------------------------------
// arithmetic and formatting

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

fn per(kib: f64, n: usize) -> f64 {
    kib / n.max(1) as f64
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn millis(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 50)
}

fn p99(samples: &[Duration]) -> Duration {
    percentile(samples, 99)
}

/// The nearest-rank percentile.
fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// `12345.6` as `12,346`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
