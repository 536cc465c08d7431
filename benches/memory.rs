//! Memory benchmarks: how fast episodes are written through the group committer (full
//! text, participants and vectors included), and how fast an employee recalls from a
//! large memory by full text, vectors and hybrid retrieval.
//!
//! ```text
//! cargo bench --bench memory -- write [EPISODES]                 (default 200000)
//! cargo bench --bench memory -- recall [EPISODES] [--postgres URL] (default 1000000)
//! ```
//!
//! Episodes come as an employee records them, four per event: the mail received, the
//! signal it raised, the plan adopted and the reply sent. The mail is synthetic, to one
//! employee of one tenant: senders from 300 people
//! at 400 accounts, subjects from a dozen topics, bodies of 15–40 words drawn from a
//! 20,000-word Zipf vocabulary (as natural text is), the same for a given size on every
//! run. Queries are two or three words (a topic word, an account, a body word of middling
//! frequency), some with a person's name for hybrid recall; latencies are per query,
//! measured one at a time after a warm-up, reported as median and p99.

use anyhow::{Context, Result, bail};
use empla::config::StoreConfig;
use empla::memory::{Mode, NewFact, Recall, Viewer, Visibility};
use empla::model::{Episode, EpisodeId, EpisodeKind, TenantId};
use empla::store::{Completion, NewHire, Store, StoreWriter};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str =
    "usage: cargo bench --bench memory -- write [EPISODES] | recall [EPISODES] [--postgres URL]";
/// Episodes per completion (an event and the decisions it led to).
const PER_COMPLETION: usize = 4;
/// Completions in flight at once.
const CONCURRENCY: usize = 256;
const QUERIES: usize = 300;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<()> {
    if let Ok(filter) = std::env::var("RUST_LOG") {
        empla::telemetry::init_logging(&filter);
    }
    let Some((scenario, rest)) = args.split_first() else {
        bail!(USAGE)
    };
    let postgres = rest
        .iter()
        .position(|a| a == "--postgres")
        .map(|i| rest.get(i + 1).cloned());
    let n: Option<usize> = rest
        .first()
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .transpose()?;
    let pg_url = match postgres {
        Some(Some(url)) => Some(url),
        Some(None) => bail!("--postgres needs a URL"),
        None => None,
    };
    let store_id = uuid::Uuid::new_v4();
    let (store, _dir) = open(pg_url.as_deref(), &store_id).await?;
    match scenario.as_str() {
        "write" => {
            let n = n.unwrap_or(200_000);
            let corpus = Corpus::new();
            let (_, rate) = write(&store, &corpus, n).await?;
            println!(
                "episode writes ({}), {n} episodes: {rate:.0} episodes/s [goal >= 50000 on SQLite]",
                kind(&store)
            );
            println!("  reproduce: cargo bench --bench memory -- write {n}");
        }
        "recall" => {
            let n = n.unwrap_or(1_000_000);
            let corpus = Corpus::new();
            let (viewer, rate) = write(&store, &corpus, n).await?;
            println!(
                "built {n} episodes ({}) at {rate:.0} episodes/s",
                kind(&store)
            );
            recall(&store, &corpus, &viewer, n).await?;
            let flag = pg_url
                .as_ref()
                .map(|_| " --postgres URL")
                .unwrap_or_default();
            println!("  reproduce: cargo bench --bench memory -- recall {n}{flag}");
        }
        _ => bail!(USAGE),
    }
    // The PostgreSQL schema made for this run goes with it.
    if let Some(url) = &pg_url {
        store.close().await;
        let admin = sqlx::PgPool::connect(url).await?;
        let schema = format!("bench_{}", store_schema(&store_id));
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&admin)
            .await?;
    }
    Ok(())
}

fn store_schema(id: &uuid::Uuid) -> String {
    id.simple().to_string()
}

fn kind(store: &Store) -> &'static str {
    match store.kind() {
        empla::store::StoreKind::Sqlite => "SQLite",
        empla::store::StoreKind::Postgres => "PostgreSQL",
    }
}

async fn open(pg: Option<&str>, id: &uuid::Uuid) -> Result<(Store, Option<tempfile::TempDir>)> {
    let cfg = StoreConfig::default();
    match pg {
        None => {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            Ok((Store::connect(&url, &cfg).await?, Some(dir)))
        }
        Some(url) => {
            let schema = format!("bench_{}", store_schema(id));
            let admin = sqlx::PgPool::connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await?;
            let opts = sqlx::postgres::PgConnectOptions::from_str(url)?
                .options([("search_path", schema.as_str())]);
            Ok((Store::connect_postgres(opts, &cfg).await?, None))
        }
    }
}

/// The synthetic vocabulary, people and accounts.
struct Corpus {
    words: Vec<String>,
    people: Vec<(String, String)>,
    accounts: Vec<String>,
}

const TOPICS: &[&str] = &[
    "pricing",
    "renewal",
    "outage",
    "invoice",
    "onboarding",
    "security review",
    "contract",
    "integration",
    "training",
    "roadmap",
    "escalation",
    "expansion",
];

impl Corpus {
    fn new() -> Self {
        let syllables = [
            "ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "de", "pa", "gu", "fe", "zo", "bi",
            "ha", "ju", "qe", "wy", "xo", "ce",
        ];
        let word = |mut i: usize| {
            let mut w = String::new();
            loop {
                w.push_str(syllables[i % syllables.len()]);
                i /= syllables.len();
                if i == 0 {
                    break;
                }
            }
            w
        };
        let words: Vec<String> = (0..20_000).map(|i| word(i + 400)).collect();
        let first = [
            "Sarah", "Raj", "Maria", "Dana", "Omar", "Priya", "Li", "Tom", "Ana", "Ken", "Eva",
            "Sam", "Noor", "Ivan", "Zoe",
        ];
        let last = [
            "Chen",
            "Patel",
            "Lopez",
            "Whitfield",
            "Haddad",
            "Natarajan",
            "Wei",
            "Berg",
            "Silva",
            "Ito",
            "Novak",
            "Reyes",
            "Khan",
            "Moreau",
            "Okafor",
            "Park",
            "Costa",
            "Meyer",
            "Adler",
            "Quinn",
        ];
        let accounts: Vec<String> = (0..400)
            .map(|i| {
                let mut a = word(i * 7 + 3);
                a[..1].make_ascii_uppercase();
                a
            })
            .collect();
        let people = (0..300)
            .map(|i| {
                let name = format!(
                    "{} {}",
                    first[i % first.len()],
                    last[(i / first.len()) % last.len()]
                );
                let email = format!(
                    "{}@{}.com",
                    name.to_lowercase().replace(' ', "."),
                    accounts[i % accounts.len()].to_lowercase()
                );
                (name, email)
            })
            .collect();
        Corpus {
            words,
            people,
            accounts,
        }
    }

    fn zipf(&self) -> Zipf<f64> {
        Zipf::new(self.words.len() as f64, 1.07).expect("valid Zipf")
    }

    fn mail(&self, rng: &mut StdRng, zipf: &Zipf<f64>) -> serde_json::Value {
        let (name, email) = &self.people[rng.random_range(0..self.people.len())];
        let account = &self.accounts[rng.random_range(0..self.accounts.len())];
        let topic = TOPICS[rng.random_range(0..TOPICS.len())];
        let len = rng.random_range(15..40);
        let body: Vec<&str> = (0..len)
            .map(|_| self.words[zipf.sample(rng) as usize - 1].as_str())
            .collect();
        serde_json::json!({
            "from": format!("{name} <{email}>"),
            "to": "jordan.lee@acme.com",
            "subject": format!("{account} {topic}"),
            "body": body.join(" "),
        })
    }
}

/// Writes `n` episodes for one employee; returns who they belong to and the rate.
async fn write(store: &Store, corpus: &Corpus, n: usize) -> Result<(Viewer, f64)> {
    let tenant = TenantId::new("bench");
    let req = empla::lifecycle::HireRequest::new("sales_ae", "Jordan Lee");
    let roles = empla::config::Config::load(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/empla.toml")),
        &[],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?
    .roles;
    let profile = empla::lifecycle::build_profile(
        &roles["sales_ae"],
        &req,
        &tenant,
        empla::model::EmployeeId::new(),
        "jordan.lee@acme.com".into(),
        chrono::Utc::now(),
    )
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    store
        .insert_employees(&[NewHire {
            profile: profile.clone(),
            config_key: None,
            schedules: Vec::new(),
        }])
        .await?;
    // The relationship map: each person works at their account, some accounts have a CSM.
    let facts: Vec<NewFact> = corpus
        .people
        .iter()
        .enumerate()
        .map(|(i, (name, _))| NewFact {
            subject: name.clone(),
            predicate: if i % 3 == 0 {
                "csm_of".into()
            } else {
                "works_at".into()
            },
            object: corpus.accounts[i % corpus.accounts.len()].clone(),
            confidence: 1.0,
            source: "crm".into(),
            visibility: Visibility::Company,
            owner: None,
            team: None,
            at: chrono::Utc::now(),
        })
        .collect();
    store.put_facts(&tenant, &facts).await?;
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    let start = chrono::Utc::now() - chrono::Duration::days(365);
    let completions = n / PER_COMPLETION;
    let begun = Instant::now();
    let zipf = corpus.zipf();
    futures::stream::iter(0..completions)
        .map(|c| {
            let writer = writer.clone();
            let profile = &profile;
            let zipf = &zipf;
            async move {
                let mut rng = StdRng::seed_from_u64(c as u64);
                let mail = corpus.mail(&mut rng, zipf);
                let episodes = (0..PER_COMPLETION)
                    .map(|k| Episode {
                        id: EpisodeId::new(),
                        tenant: profile.tenant.clone(),
                        employee_id: profile.id,
                        kind: if k == 0 {
                            EpisodeKind::Event
                        } else {
                            EpisodeKind::Decision
                        },
                        event_id: None,
                        cause_id: None,
                        channel: Some("email".into()),
                        summary: ["email.received", "signal", "adopt", "act"][k % 4].into(),
                        payload: decision(k, &mail),
                        at: start + chrono::Duration::seconds((c * 30) as i64),
                    })
                    .collect();
                writer
                    .complete(
                        Completion {
                            fence: None,
                            tenant: profile.tenant.clone(),
                            employee: profile.id,
                            event_id: None,
                            episodes,
                            snapshot: None,
                            wake_at: None,
                            approvals: Vec::new(),
                            actions: Vec::new(),
                        },
                        None,
                    )
                    .await
            }
        })
        .buffer_unordered(CONCURRENCY)
        .for_each(|r| async move { r.expect("written") })
        .await;
    writer.flush().await;
    let rate = (completions * PER_COMPLETION) as f64 / begun.elapsed().as_secs_f64();
    // As the node's nightly upkeep does (and PostgreSQL's autovacuum, given a minute).
    store.analyze().await?;
    Ok((
        Viewer {
            employee: profile.id,
            team: profile.team,
        },
        rate,
    ))
}

/// An event's episode (the mail) or one of the decisions it led to, shaped as the
/// employee records them.
fn decision(k: usize, mail: &serde_json::Value) -> serde_json::Value {
    match k % 4 {
        0 => mail.clone(),
        1 => serde_json::json!({"signal": "customer_message", "priority": 0.7}),
        2 => {
            serde_json::json!({"adopt": "reply_to_customer", "goal": "customer_satisfaction", "why": "trigger email.received"})
        }
        _ => {
            serde_json::json!({"act": {"kind": "email.send", "params": {"to": mail["from"], "subject": format!("Re: {}", mail["subject"].as_str().unwrap_or(""))}}, "disposition": "execute"})
        }
    }
}

async fn recall(store: &Store, corpus: &Corpus, viewer: &Viewer, n: usize) -> Result<()> {
    let tenant = TenantId::new("bench");
    let mut rng = StdRng::seed_from_u64(7);
    let queries: Vec<String> = (0..QUERIES)
        .map(|i| {
            let topic = TOPICS[rng.random_range(0..TOPICS.len())];
            let account = &corpus.accounts[rng.random_range(0..corpus.accounts.len())];
            let word = &corpus.words[rng.random_range(20..2000)];
            match i % 3 {
                0 => format!("{account} {topic}"),
                1 => format!("{topic} {word}"),
                _ => {
                    let (name, _) = &corpus.people[rng.random_range(0..corpus.people.len())];
                    format!("What did {name} say about {topic} at {account}?")
                }
            }
        })
        .collect();
    // Load the vector index (the first similarity query of a session reads it).
    let load = Instant::now();
    let warm = Recall {
        q: "warm up".into(),
        mode: Mode::Vector,
        limit: 20,
        ..Recall::default()
    };
    store.recall(&tenant, viewer, &warm).await?;
    println!(
        "vector index load, {n} episodes: {} ms (once per employee per node)",
        load.elapsed().as_millis()
    );
    for (mode, name, goal) in [
        (Mode::Text, "full text", "p99 < 10 ms"),
        (Mode::Vector, "vector", "report"),
        (Mode::Hybrid, "hybrid", "p99 < 50 ms"),
    ] {
        for q in queries.iter().take(20) {
            store
                .recall(
                    &tenant,
                    viewer,
                    &Recall {
                        q: q.clone(),
                        mode,
                        limit: 20,
                        ..Recall::default()
                    },
                )
                .await?;
        }
        let mut took = Vec::with_capacity(queries.len());
        let mut found = 0;
        for q in &queries {
            let r = Recall {
                q: q.clone(),
                mode,
                limit: 20,
                ..Recall::default()
            };
            let t = Instant::now();
            found += store.recall(&tenant, viewer, &r).await?.len();
            took.push(t.elapsed());
        }
        took.sort();
        println!(
            "recall {name} over {n} episodes ({}): median {} ms, p99 {} ms, {:.1} results per query [goal {goal}]",
            kind(store),
            ms(took[took.len() / 2]),
            ms(took[took.len() * 99 / 100]),
            found as f64 / queries.len() as f64
        );
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}
