//! Calendars: how long finding a time and booking a meeting take.
//!
//! ```text
//! cargo bench --bench calendar -- slots 10 40     # 10 people, 40 meetings each, 14 days
//! cargo bench --bench calendar -- book 5 200      # 200 bookings with 5 attendees each
//! cargo bench --bench calendar -- all
//! ```
//!
//! `slots` times the pure search ([`slots::find`]) for the best three 60-minute times
//! over the next 14 days. `book` times `Node::book_meeting` on the embedded default
//! (SQLite, built-in calendar and mail drivers): read every participant's calendar,
//! find the time, store a copy per participant, mail the invitation, tell the
//! employee — the whole of a booking but the network.

use anyhow::Result;
use chrono::{Duration, DurationRound, TimeZone, Utc};
use empla::capabilities::calendar::slots::{self, Availability, Busy, Query};
use empla::lifecycle::HireRequest;
use empla::model::{NewMeeting, Priority, WorkingHours};
use empla::node::Node;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

mod support;

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let arg = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    match args.first().map(String::as_str).unwrap_or("all") {
        "slots" => slots_bench(arg(1, 10), arg(2, 40)),
        "book" => tokio_main(book_bench(arg(1, 5), arg(2, 200)))?,
        _ => {
            for (people, meetings) in [(2, 20), (10, 40), (50, 40)] {
                slots_bench(people, meetings);
            }
            tokio_main(book_bench(5, 200))?;
        }
    }
    Ok(())
}

fn tokio_main<F: std::future::Future<Output = Result<()>>>(f: F) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(f)
}

/// (median, p99) of `samples` in microseconds.
fn quantiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn slots_bench(people: usize, meetings: usize) {
    let mut rng = StdRng::seed_from_u64(7);
    let from = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
    let zones = [
        chrono_tz::UTC,
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
    ];
    let group: Vec<Availability> = (0..people)
        .map(|i| Availability {
            address: format!("p{i}@example.com"),
            hours: WorkingHours {
                tz: zones[i % zones.len()],
                ..WorkingHours::default()
            },
            busy: (0..meetings)
                .map(|m| {
                    let start = (from + Duration::minutes(rng.random_range(0..14 * 24 * 60)))
                        .duration_trunc(Duration::minutes(15))
                        .unwrap();
                    slots::Busy {
                        start,
                        end: start + Duration::minutes(30 * rng.random_range(1..=4)),
                        uid: format!("m{i}-{m}"),
                        priority: Priority::Medium,
                        movable: false,
                    }
                })
                .collect::<Vec<Busy>>(),
        })
        .collect();
    let q = Query::new(from, from + Duration::days(14), Duration::minutes(60), 3);
    let mut samples = Vec::new();
    let mut found = 0;
    for _ in 0..200 {
        let t = Instant::now();
        found = std::hint::black_box(slots::find(&group, &q)).len();
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let (median, p99) = quantiles(samples);
    println!(
        "slots: {people} people × {meetings} meetings, 14 days, best 3 of 60 min ({found} found): median {median:.0} µs, p99 {p99:.0} µs\n  reproduce: cargo bench --bench calendar -- slots {people} {meetings}"
    );
}

async fn book_bench(attendees: usize, bookings: usize) -> Result<()> {
    let data = tempfile::tempdir()?;
    let opts = support::options(data.path(), "empla.db", support::shipped_roles()?);
    let node = Node::start(opts).await?;
    let riley = node
        .hire(HireRequest::new("sales_ae", "Riley Quinn"))
        .await?;
    let people: Vec<String> = (0..attendees)
        .map(|i| format!("Person {i} <p{i}@acme.com>"))
        .collect();
    let mut samples = Vec::new();
    let started = Instant::now();
    for i in 0..bookings {
        let m = NewMeeting {
            title: format!("Call {i}"),
            attendees: people.clone(),
            duration_minutes: 30,
            within_days: Some(90),
            ..NewMeeting::default()
        };
        let t = Instant::now();
        node.book_meeting(riley.id, m)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let total = started.elapsed().as_secs_f64();
    let (median, p99) = quantiles(samples);
    println!(
        "book: {bookings} meetings with {attendees} attendees each on SQLite (calendars filling up): median {:.2} ms, p99 {:.2} ms, {:.0} bookings/s\n  reproduce: cargo bench --bench calendar -- book {attendees} {bookings}",
        median / 1000.0,
        p99 / 1000.0,
        bookings as f64 / total
    );
    node.shutdown().await;
    Ok(())
}
