//! Load harness for email against a real mail server: a customer's messages go in by
//! SMTP, a CSM perceives each from IMAP, decides, and answers by SMTP; the answer is
//! seen in the customer's IMAP inbox. Prints, for each round of MESSAGES sent at once
//! (all in flight together):
//!
//! - end to end: from handing the message to the SMTP server to seeing the answer in
//!   the customer's inbox — median, p99 and messages per second;
//! - empla's own share: from the moment the employee's mailbox watcher has the message
//!   in hand to the moment the answer is composed (parse, store, route, commit, decide,
//!   commit, compose) — median and p99. With many in flight to one employee this
//!   includes waiting behind the other messages (one employee reasons about one at a
//!   time, and sends at most 16 at once), so the harness first sends 20 messages
//!   one at a time: the share with nothing queued, whose goal is a median under 5 ms.
//!
//! ```text
//! cargo bench --bench mail -- [MESSAGES] [ROUNDS]      (default 100 3)
//! ```
//!
//! The mail server is the tests' private Postfix + Dovecot (`tests/mail/server.sh`,
//! installed from Debian's packages if missing); the node runs in this process on a
//! SQLite store with the shipped roles, as `empla node` would with
//! `mail.driver = "server"`.

#[path = "../tests/it/mail_fixture.rs"]
mod mail_fixture;

use anyhow::{Context, Result, bail, ensure};
use empla::bdi::Phase;
use empla::capabilities::email::imap::Mailbox;
use empla::capabilities::email::{MailServer, mime};
use empla::config::{Config, RuntimeConfig, StoreConfig};
use empla::lifecycle::HireRequest;
use empla::model::TenantId;
use empla::node::{Node, NodeOptions};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use mail_fixture::TestMailServer;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EMPLOYEE: &str = "sam.rivera@example.test";
const CUSTOMER: &str = "sarah@customer.test";
/// Messages sent one at a time before the rounds.
const SINGLES: usize = 20;
/// A round fails if its answers have not all arrived by then.
const ROUND_TIMEOUT: Duration = Duration::from_secs(120);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let messages = args.first().and_then(|a| a.parse().ok()).unwrap_or(100);
    let rounds = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match rt.block_on(run(messages, rounds)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mail bench failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(messages: usize, rounds: usize) -> Result<()> {
    empla::telemetry::install_crypto_provider();
    let server = TestMailServer::start(&[EMPLOYEE, CUSTOMER]);
    let data = tempfile::tempdir()?;
    TestMailServer::write_credentials(
        &data.path().join("mail-credentials.toml"),
        &[EMPLOYEE, CUSTOMER],
    );
    let cfg = Config::load(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/empla.toml")),
        &[],
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let opts = NodeOptions {
        tenant: TenantId::new("bench"),
        company_domain: "example.test".into(),
        store_url: format!("sqlite://{}", data.path().join("empla.db").display()),
        store: StoreConfig::default(),
        runtime: RuntimeConfig::default(),
        memory: Default::default(),
        calendar: Default::default(),
        mail: empla::config::MailConfig {
            poll_every: Duration::from_secs(5),
            ..server.config("mail-credentials.toml")
        },
        chat: Default::default(),
        crm: Default::default(),
        documents: Default::default(),
        research: Default::default(),
        a2a: Default::default(),
        llm: Default::default(),
        mcp: Default::default(),
        templates_dir: None,
        demo_crm: None,
        data_dir: data.path().to_path_buf(),
        roles: cfg.roles,
        demo_employees: Vec::new(),
        teams: Default::default(),
        cluster: Default::default(),
        oauth: Default::default(),
    };
    let node = Node::start(opts.clone()).await?;
    let sam = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(sam.email == EMPLOYEE, "hired as {}", sam.email);
    node.set_phase(sam.id, Phase::Autonomous)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let client = MailServer::from_config(&opts.mail, data.path()).map_err(anyhow::Error::msg)?;
    let mut inbox = Some(Mailbox::open(&client, CUSTOMER, &client.logins.of(CUSTOMER)?).await?);
    let smtp = server.transport();

    // One message first, so connections, pools and caches are warm.
    round(&node, &server, &smtp, &mut inbox, 1, "warm-up").await?;
    // One at a time: the latency with nothing queued.
    let (mut e2e_one, mut own_one) = (Vec::new(), Vec::new());
    for i in 0..SINGLES {
        let (e2e, own, _) = round(&node, &server, &smtp, &mut inbox, 1, &format!("one{i}")).await?;
        e2e_one.extend(e2e);
        own_one.extend(own);
    }
    e2e_one.sort();
    own_one.sort();
    println!(
        "one at a time ({SINGLES} messages): end to end median {:.1} ms, p99 {:.1} ms; empla's own share median {:.2} ms, p99 {:.2} ms",
        ms(quantile(&e2e_one, 0.5)),
        ms(quantile(&e2e_one, 0.99)),
        ms(quantile(&own_one, 0.5)),
        ms(quantile(&own_one, 0.99)),
    );
    let mut e2e_medians = Vec::new();
    let mut own_medians = Vec::new();
    for r in 0..rounds {
        let (e2e, own, rate) = round(
            &node,
            &server,
            &smtp,
            &mut inbox,
            messages,
            &format!("r{r}"),
        )
        .await?;
        println!(
            "round {r}: {messages} in flight — end to end median {:.1} ms, p99 {:.1} ms, {:.0} messages/s; empla's own share median {:.2} ms, p99 {:.2} ms",
            ms(quantile(&e2e, 0.5)),
            ms(quantile(&e2e, 0.99)),
            rate,
            ms(quantile(&own, 0.5)),
            ms(quantile(&own, 0.99)),
        );
        e2e_medians.push(quantile(&e2e, 0.5));
        own_medians.push(quantile(&own, 0.5));
    }
    let own = quantile(&own_one, 0.5);
    println!(
        "mail: {messages} messages in flight, median of {rounds} rounds: end to end {:.1} ms, empla's own share (queueing behind the other messages included) {:.1} ms; one at a time, empla's own share {:.2} ms (goal < 5 ms: {})",
        ms(quantile(&e2e_medians, 0.5)),
        ms(quantile(&own_medians, 0.5)),
        ms(own),
        if own < Duration::from_millis(5) {
            "met"
        } else {
            "not met"
        }
    );
    println!("reproduce: cargo bench --bench mail -- {messages} {rounds}");
    if let Some(inbox) = inbox {
        inbox.logout().await;
    }
    node.shutdown().await;
    Ok(())
}

/// Sends `n` issue reports at once and waits for every answer. Returns the end-to-end
/// latencies, empla's own share of each, and answers per second.
async fn round(
    node: &Node,
    server: &TestMailServer,
    smtp: &AsyncSmtpTransport<Tokio1Executor>,
    inbox: &mut Option<Mailbox>,
    n: usize,
    tag: &str,
) -> Result<(Vec<Duration>, Vec<Duration>, f64)> {
    let mut mailbox = inbox.take().context("the customer's mailbox is open")?;
    let ids: Vec<String> = (0..n).map(|i| format!("{tag}-{i}@customer.test")).collect();
    let start = Instant::now();
    let sent: Vec<Instant> = futures::future::join_all(ids.iter().map(|id| async move {
        let raw = format!(
            "From: Sarah Chen <{CUSTOMER}>\r\nTo: Sam Rivera <{EMPLOYEE}>\r\nSubject: Export is broken ({id})\r\nMessage-ID: <{id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe CSV export fails with an error since this morning.\r\n"
        );
        let at = Instant::now();
        server.submit_with(smtp, CUSTOMER, EMPLOYEE, raw.as_bytes()).await;
        at
    }))
    .await;
    let mut sent_at: HashMap<&str, Instant> = HashMap::new();
    for (id, at) in ids.iter().zip(sent) {
        sent_at.insert(id.as_str(), at);
    }
    let mut arrived: HashMap<String, Instant> = HashMap::new();
    let mut replies: HashMap<String, String> = HashMap::new();
    let deadline = start + ROUND_TIMEOUT;
    while arrived.len() < n {
        if Instant::now() > deadline {
            bail!(
                "{} of {n} answers arrived within {ROUND_TIMEOUT:?}",
                arrived.len()
            );
        }
        let uids = mailbox.unseen().await?;
        if uids.is_empty() {
            mailbox = mailbox.wait(Duration::from_millis(200)).await?;
            continue;
        }
        let seen_at = Instant::now();
        for (_, raw) in mailbox.fetch(&uids).await? {
            let m = mime::parse(&raw, 1 << 20, chrono::Utc::now()).message;
            if let Some(original) = m.in_reply_to.clone()
                && sent_at.contains_key(original.as_str())
            {
                arrived.entry(original.clone()).or_insert(seen_at);
                replies.insert(original, m.message_id);
            }
        }
        mailbox.mark_seen(&uids).await?;
    }
    *inbox = Some(mailbox);
    let elapsed = start.elapsed();
    let mut e2e = Vec::with_capacity(n);
    let mut own = Vec::with_capacity(n);
    let tenant = node.tenant().clone();
    for id in &ids {
        e2e.push(arrived[id].duration_since(sent_at[id.as_str()]));
        let received = node
            .store()
            .mail(&tenant, id)
            .await?
            .context("original stored")?;
        let answer = node
            .store()
            .mail(&tenant, &replies[id])
            .await?
            .context("answer stored")?;
        own.push((answer.at - received.at).to_std().unwrap_or_default());
    }
    e2e.sort();
    own.sort();
    Ok((e2e, own, n as f64 / elapsed.as_secs_f64()))
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let mut v = sorted.to_vec();
    v.sort();
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
