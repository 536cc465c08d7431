//! Documents: how long a proposal takes to render, and the memory one render takes.
//!
//! ```text
//! cargo bench --bench documents -- proposal 300          # 300 proposals, one after another
//! cargo bench --bench documents -- proposal-unicode 100  # a name beyond Latin-1: DejaVu embedded
//! ```
//!
//! A render is what `documents.proposal` does between pricing the quote and storing the
//! result: the template rendered to Markdown, the Markdown read into blocks, the PDF
//! set with genpdf in the PDF standard Helvetica measured with Liberation Sans (the
//! text is Latin-1; the fonts are loaded once per node, before the first render, and
//! not timed). `proposal-unicode` sets the same proposal for a contact whose name goes
//! beyond Latin-1, which embeds DejaVu Sans. The DOCX, set on demand when asked for, is timed
//! apart. Memory is counted by the allocator: the most bytes live at once during a
//! render above what was live before it, and the bytes allocated in all.

use anyhow::Result;
use empla::capabilities::crm::{Account, Contact};
use empla::capabilities::documents::{
    Documents, DocumentsConfig, docx, markup, proposal_context, proposal_title, quote,
};
use serde_json::json;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The allocator `empla` runs with, counting what it hands out.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TOTAL: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
            TOTAL.fetch_add(layout.size(), Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    match args.first().map(String::as_str).unwrap_or("proposal") {
        "proposal-unicode" => proposal_bench(n, "Łukasz Nowak"),
        _ => proposal_bench(n, "Sarah Chen"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn proposal_bench(n: usize, contact_name: &str) -> Result<()> {
    let cfg = DocumentsConfig::default();
    let docs = Documents::new(&cfg, None).map_err(anyhow::Error::msg)?;
    let account = Account {
        id: "acc-1".into(),
        name: "Acme Robotics".into(),
        domain: Some("acme-robotics.example".into()),
        industry: Some("manufacturing".into()),
        employees: Some(420),
        region: Some("north-america".into()),
        plan: None,
        owner: None,
        health: None,
        signals: vec![],
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    };
    let contact = Contact {
        id: "con-1".into(),
        name: contact_name.into(),
        email: "sarah.chen@acme-robotics.example".into(),
        title: Some("VP Operations".into()),
        account: Some(account.id.clone()),
        role: Some("champion".into()),
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    };
    let me = json!({"name": "Jordan Lee", "email": "jordan.lee@example.com", "job_title": "Sales Account Executive", "team": "Mid-Market Sales"});
    let q = quote::price(
        &cfg,
        &[("business".into(), 40), ("onboarding".into(), 1)],
        10.0,
    )
    .map_err(anyhow::Error::msg)?;
    let title = proposal_title(&account.name, &q);
    let context = proposal_context(
        &cfg,
        &q,
        &title,
        &account,
        Some(&contact),
        me,
        Some("As discussed on our call: the team licence for the EMEA rollout."),
        chrono::Utc::now().date_naive(),
    );
    let render = || -> Result<Vec<u8>> {
        let md = docs.markdown("proposal.md.j2", &context)?;
        Ok(docs.pdf(&title, &md)?)
    };
    // The fonts load with the first render; it is not counted.
    let first = render()?;
    let mut times = Vec::with_capacity(n);
    let (mut peaks, mut totals) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let before = LIVE.load(Relaxed);
        PEAK.store(before, Relaxed);
        let total = TOTAL.load(Relaxed);
        let started = Instant::now();
        let pdf = render()?;
        times.push(started.elapsed());
        peaks.push(PEAK.load(Relaxed) - before);
        totals.push(TOTAL.load(Relaxed) - total);
        assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    }
    times.sort();
    peaks.sort();
    totals.sort();
    let md = docs.markdown("proposal.md.j2", &context)?;
    let mut docx_times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        docx::render(&markup::blocks(&md)).map_err(anyhow::Error::msg)?;
        docx_times.push(started.elapsed());
    }
    docx_times.sort();
    println!(
        "proposal for {contact_name}: {n} renders of a two-line quote (template → Markdown → PDF), one after another"
    );
    println!(
        "  PDF render: median {:.2} ms, p99 {:.2} ms; {} KiB per PDF",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        first.len() / 1024
    );
    println!(
        "  memory per render: median peak {} KiB live above the node's own, {} KiB allocated in all",
        percentile_usize(&peaks, 0.5) / 1024,
        percentile_usize(&totals, 0.5) / 1024
    );
    println!(
        "  DOCX (on demand): median {:.2} ms, p99 {:.2} ms",
        ms(percentile(&docx_times, 0.5)),
        ms(percentile(&docx_times, 0.99))
    );
    Ok(())
}

fn percentile_usize(sorted: &[usize], p: f64) -> usize {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}
