//! The CRM: how long finding leads takes over a large book of business, and importing it.
//!
//! ```text
//! cargo bench --bench crm -- leads 100000      # find_leads + scoring over 100,000 accounts
//! cargo bench --bench crm -- all
//! ```
//!
//! `leads` imports N accounts (a tenth of them customers, a twentieth with an open
//! deal, each with a contact) into a node on the embedded default (SQLite, the file on
//! disk), then times [`leads::find`] — the store's filter, the scoring and ranking of
//! every candidate, and the activity and contact reads of the best ones — for the
//! Sales AE's mid-market profile, ten leads at a time.

use anyhow::Result;
use empla::capabilities::crm::import::Batch;
use empla::capabilities::crm::leads::{self, Icp};
use empla::capabilities::crm::{NewAccount, NewContact, NewDeal};
use empla::model::TenantId;
use empla::node::Node;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

mod support;

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Searches timed.
const SEARCHES: usize = 50;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str).unwrap_or("all") {
        "leads" => rt.block_on(leads_bench(n)),
        _ => rt.block_on(leads_bench(100_000)),
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// `n` accounts, each with a contact; every tenth a customer, every twentieth with an
/// open deal.
fn book(n: usize) -> Batch {
    let mut rng = StdRng::seed_from_u64(11);
    let industries = [
        "software",
        "fintech",
        "healthcare",
        "logistics",
        "education",
        "retail",
        "media",
        "manufacturing",
    ];
    let regions = ["north-america", "emea", "apac", "latam"];
    let signals = [
        "Hiring 12 sales reps",
        "Raised a Series B",
        "New VP of Operations",
        "Opened an office",
        "Launched a product",
    ];
    let mut batch = Batch::default();
    for i in 0..n {
        let domain = format!("company{i}.example");
        batch.accounts.push(NewAccount {
            name: format!("Company {i}"),
            domain: Some(domain.clone()),
            industry: Some(industries[rng.random_range(0..industries.len())].into()),
            employees: Some(rng.random_range(10..5000)),
            region: Some(regions[rng.random_range(0..regions.len())].into()),
            plan: (i % 10 == 0).then(|| "growth".into()),
            owner: None,
            signals: (0..rng.random_range(0..3))
                .map(|_| signals[rng.random_range(0..signals.len())].to_string())
                .collect(),
        });
    }
    batch
}

async fn leads_bench(n: usize) -> Result<()> {
    let data = tempfile::tempdir()?;
    let opts = support::options(data.path(), "empla.db", Default::default());
    let node = Node::start(opts).await?;
    let crm = node.crm();
    let started = Instant::now();
    let accounts = book(n);
    crm.import(Batch {
        accounts: accounts.accounts.clone(),
        ..Default::default()
    })
    .await?;
    let ids: Vec<(String, String)> = node
        .store()
        .accounts(
            &TenantId::new("bench"),
            &Default::default(),
            empla::store::Page::ALL,
        )
        .await?
        .into_iter()
        .map(|a| (a.id, a.domain.unwrap_or_default()))
        .collect();
    let mut rest = Batch::default();
    for (i, (id, domain)) in ids.iter().enumerate() {
        rest.contacts.push(NewContact {
            name: format!("Person {i}"),
            email: format!("person{i}@{domain}"),
            title: Some(if i % 3 == 0 { "VP of Sales" } else { "Manager" }.into()),
            account: Some(id.clone()),
            role: (i % 4 == 0).then(|| "champion".into()),
        });
        if i % 20 == 1 {
            rest.deals.push(NewDeal {
                name: format!("Deal {i}"),
                account: Some(id.clone()),
                amount: 20_000.0,
                ..Default::default()
            });
        }
    }
    crm.import(rest).await?;
    println!(
        "book: {n} accounts, {n} contacts, {} deals imported in {:.1} s",
        n / 20,
        started.elapsed().as_secs_f64()
    );

    let icp = Icp::from_params(&serde_json::json!({
        "segment": "mid-market", "industries": ["software", "fintech", "healthcare", "logistics", "education"],
        "signals": ["hiring", "raised", "series", "new vp", "office"],
    }))
    .map_err(anyhow::Error::msg)?;
    // The store's filter alone, for where the time goes.
    let mut filter = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let found = crm
            .driver()
            .prospects(
                &icp.industries,
                &icp.regions,
                (icp.employees_min, icp.employees_max),
            )
            .await?;
        std::hint::black_box(found);
        filter.push(t.elapsed().as_secs_f64() * 1e3);
    }
    filter.sort_by(f64::total_cmp);
    let candidates = crm
        .driver()
        .prospects(
            &icp.industries,
            &icp.regions,
            (icp.employees_min, icp.employees_max),
        )
        .await?;
    let t = Instant::now();
    let ranked = leads::rank(&icp, candidates);
    println!(
        "  of which: the store's filter (median of 10) {:.1} ms; scoring and ranking {} candidates {:.1} ms",
        filter[filter.len() / 2],
        ranked.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let before = rss_kib();
    let mut samples = Vec::new();
    let mut considered = 0;
    for _ in 0..SEARCHES {
        let t = Instant::now();
        let found = leads::find(&crm, &icp, 10).await?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        considered = found.considered;
        assert_eq!(found.leads.len(), 10, "ten leads are found");
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "find_leads over {n} accounts ({considered} pass the profile's filters), best 10 with contacts: median {:.1} ms, p99 {:.1} ms; RSS grew {} KiB over {SEARCHES} searches\n  reproduce: cargo bench --bench crm -- leads {n}",
        at(0.5),
        at(0.99),
        rss_kib().saturating_sub(before)
    );
    node.shutdown().await;
    Ok(())
}
