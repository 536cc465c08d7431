//! One deliberation cycle of the reasoning core with 100 goals, 500 plans and 10,000
//! beliefs (goal: median < 50 µs).
//!
//! ```text
//! cargo bench --bench deliberation
//! ```
//!
//! Each iteration handles one event that triggers ten plans, each with a condition over
//! the event, a belief and a goal; one is adopted and its two action steps are rendered
//! and pass the gate.

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use empla::bdi::{
    Belief, Input, Mind, Perceived, Phase, PlanSpec, Playbook, PlaybookSpec, Situation,
};
use empla::model::{Comparison, Goal, GoalHorizon, Persona};
use serde_json::json;
use std::hint::black_box;

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GOALS: usize = 100;
const PLANS: usize = 500;
const BELIEFS: usize = 10_000;
const EVENT_KINDS: usize = 50;

fn goals() -> Vec<Goal> {
    (0..GOALS)
        .map(|i| Goal {
            id: format!("g{i}"),
            description: format!("goal {i}"),
            horizon: GoalHorizon::Tactical,
            metric: format!("m{i}"),
            comparison: Comparison::AtLeast,
            target: 100.0,
            unit: None,
            period: Some("quarter".into()),
            importance: 0.5,
            parent: (i > 0).then(|| format!("g{}", i / 10)),
        })
        .collect()
}

fn playbook() -> Playbook {
    let plans: Vec<PlanSpec> = (0..PLANS)
        .map(|i| {
            toml::from_str(&format!(
                r#"
                name = "p{i}"
                goal = "g{g}"
                trigger = {{ event = "k{k}", when = "event.payload.v > 0.5 && beliefs.b{i}.confidence > 0.1" }}
                context = "goals.g{g}.progress < 1.0"
                risk = 0.2
                steps = [
                  {{ action = "crm.update", params = {{ id = "{{{{ event.payload.v }}}}" }} }},
                  {{ action = "email.send", params = {{ body = "{{{{ style.greeting }}}} {{{{ me.name }}}}" }} }},
                  {{ wait = "reply", timeout = "1h" }},
                ]
                "#,
                g = i % GOALS,
                k = i % EVENT_KINDS,
            ))
            .expect("bench plan parses")
        })
        .collect();
    let spec = PlaybookSpec {
        plans,
        ..PlaybookSpec::default()
    };
    let goals = goals();
    let ids: Vec<&str> = goals.iter().map(|g| g.id.as_str()).collect();
    Playbook::compile(&spec, &ids, 8).expect("bench playbook compiles")
}

fn persona() -> Persona {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/roles/sales_ae.toml"
    ))
    .expect("the shipped sales_ae role is readable");
    let role: empla::config::RoleTemplate = toml::from_str(&src).expect("the shipped role parses");
    role.persona
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    let pb = playbook();
    let persona = persona();
    let me = json!({"name": "Jordan Lee", "manager": "pat@acme.example"});
    let mut mind = Mind::new(&goals(), Phase::Autonomous, 42);
    for i in 0..BELIEFS {
        mind.beliefs.set(
            format!("b{i}"),
            Belief {
                value: json!(i),
                confidence: 0.9,
                source: "bench".into(),
                kind: "fact".into(),
                at: now,
            },
        );
    }
    for i in 0..GOALS {
        for t in 0..8 {
            mind.metrics.record(
                &format!("m{i}"),
                (i + t) as f64,
                now - chrono::Duration::hours(8 - t as i64),
            );
        }
    }
    let event = Input::Event(Perceived {
        id: "e1".into(),
        kind: "k3".into(),
        source: "bench".into(),
        payload: json!({"v": 0.9}),
    });
    // The same Mind handles the event again and again: at most eight intentions run at
    // once, so each cycle adopts one plan, runs its actions, and reconsideration drops
    // the lowest-ranked intention — the steady state of a busy employee.
    c.bench_function(
        "deliberation cycle (100 goals, 500 plans, 10k beliefs)",
        |b| {
            b.iter(|| {
                let s = Situation {
                    playbook: &pb,
                    persona: &persona,
                    me: &me,
                    now,
                    memory: None,
                    language: None,
                };
                black_box(mind.cycle(&s, event.clone()))
            })
        },
    );
    // Criterion estimates the mean; the goal is on the median, and the tail matters too.
    let mut times: Vec<std::time::Duration> = (0..20_000)
        .map(|_| {
            let s = Situation {
                playbook: &pb,
                persona: &persona,
                me: &me,
                now,
                memory: None,
                language: None,
            };
            let started = std::time::Instant::now();
            black_box(mind.cycle(&s, event.clone()));
            started.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "deliberation cycle, 20,000 timed one by one: median {:.1} µs, p99 {:.1} µs [goal: median < 50 µs]",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
