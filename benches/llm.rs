//! empla's own overhead around one language-model call, against a model that answers
//! at once (goal: median < 2 ms).
//!
//! ```text
//! cargo bench --bench llm
//! ```
//!
//! Each iteration is what the node does for one `llm` plan step of the shipped Sales
//! AE's persona: the Mind renders the step and stores what the model is to be told
//! (its goals, intentions and persona); the prompts are rendered with 50 recalled
//! memories; the request is encoded and sent over HTTP (loopback) to a fake of the
//! Anthropic Messages API that answers instantly; the answer is decoded and counted;
//! and the text comes back to the Mind, whose next step (a mail) passes the gate.

use axum::Router;
use axum::routing::post;
use chrono::{TimeZone, Utc};
use empla::bdi::language::{Share, untrusted};
use empla::bdi::{
    Decision, Input, Mind, Perceived, Phase, PlanSpec, Playbook, PlaybookSpec, Situation,
};
use empla::llm::prompt::Prompts;
use empla::llm::{Anthropic, Llm, LlmConfig, Provider, ProviderKind, ProviderSettings, Request};
use empla::model::EmployeeId;
use serde_json::{Value as Json, json};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The allocator `empla` itself runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MEMORIES: usize = 50;
const ROUNDS: usize = 3_000;

fn role() -> empla::config::RoleTemplate {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/roles/sales_ae.toml"
    ))
    .expect("the shipped sales_ae role is readable");
    toml::from_str(&src).expect("the shipped role parses")
}

fn playbook(role: &empla::config::RoleTemplate) -> Playbook {
    let plan: PlanSpec = toml::from_str(
        r#"
        name = "write_to_lead"
        trigger = { event = "lead" }
        steps = [
          { llm = "compose", prompt = "Write to {{ event.payload.name }} at {{ event.payload.company }} about {{ event.payload.signal | untrusted }}.", fallback = "{{ style.greeting }} {{ event.payload.name }}, congratulations on {{ event.payload.signal }}.", save_as = "mail" },
          { action = "email.send", params = { to = "{{ event.payload.email }}", subject = "Hello", body = "{{ results.mail }}" } },
        ]
        "#,
    )
    .expect("the bench plan parses");
    let spec = PlaybookSpec {
        plans: vec![plan],
        ..PlaybookSpec::default()
    };
    let ids: Vec<&str> = role.goals.iter().map(|g| g.id.as_str()).collect();
    Playbook::compile(&spec, &ids, 8).expect("the bench playbook compiles")
}

async fn instant_model() -> String {
    let answer = json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-bench",
        "content": [{"type": "text", "text": "Hi Ana, congratulations on the Series B. Would a 20-minute call next week help?"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 1800, "output_tokens": 24},
    })
    .to_string();
    let app = Router::new().route(
        "/v1/messages",
        post(move |_body: String| {
            let a = answer.clone();
            async move { ([("content-type", "application/json")], a) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(instant_model());
    let settings = ProviderSettings {
        provider: ProviderKind::Anthropic,
        model: "claude-bench".into(),
        base_url: url,
        api_key_env: "KEY".into(),
        timeout: Duration::from_secs(5),
        max_tokens: 400,
        fallback: None,
    };
    let provider: Arc<dyn Provider> =
        Arc::new(Anthropic::new("llm", &settings, &|_| Some("k".into())).unwrap());
    let llm = Llm::with_providers(&LlmConfig::default(), vec![("llm".into(), provider)], None);
    let prompts = Prompts::built_in();
    let role = role();
    let pb = playbook(&role);
    let me = json!({"name": "Jordan Lee", "job_title": "Sales Account Executive", "team": "sales", "manager": "dana@example.com"});
    let memories: Vec<String> = (0..MEMORIES)
        .map(|i| format!("2026-11-{:02} email.received · Ana Torres <ana@northwind.example> · Re: pilot {i}: we are hiring 12 reps and looking at tools for the new team; budget is approved for Q1, please send pricing for 25 seats.", 1 + i % 28))
        .collect();
    let memories = json!([untrusted("memory", &memories.join("\n"))]);
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
    let who = EmployeeId::new();
    let mut mind = Mind::new(&role.goals, Phase::Autonomous, 42);

    let mut one = |n: u64| -> Duration {
        let s = Situation {
            playbook: &pb,
            persona: &role.persona,
            me: &me,
            now,
            memory: None,
            language: Some(Share {
                memories: true,
                crm: true,
            }),
        };
        let event = Input::Event(Perceived {
            id: format!("lead-{n}"),
            kind: "lead".into(),
            source: "bench".into(),
            payload: json!({"name": "Ana Torres", "company": "Northwind", "email": "ana@northwind.example", "signal": "the Series B"}),
        });
        let started = Instant::now();
        let d = mind.cycle(&s, event);
        let act = d
            .iter()
            .find_map(|x| match x {
                Decision::Act(a) if a.kind == "llm.compose" => Some(a.clone()),
                _ => None,
            })
            .expect("the step asks the model");
        // What the action runner does with it.
        let c = &act.params["compose"];
        let mut context: Json = c["context"].clone();
        context["memories"] = memories.clone();
        let system = prompts.render("system", &context).unwrap();
        let user = prompts.render("compose", &context).unwrap();
        let answer = rt.block_on(llm.ask(who, &Request::new(system, user)));
        let text = answer.text().expect("the fake answers");
        let outcome = Input::Outcome {
            action: act.id,
            success: true,
            event: Perceived {
                id: format!("outcome-{n}"),
                kind: "empla.outcome".into(),
                source: "outbox".into(),
                payload: json!({"action_id": act.id, "status": "done", "result": {"text": text}}),
            },
        };
        let d = mind.cycle(&s, outcome);
        let elapsed = started.elapsed();
        assert!(
            d.iter()
                .any(|x| matches!(x, Decision::Act(a) if a.kind == "email.send")),
            "the mail follows"
        );
        // Finished intentions leave; keep the mind from filling up.
        mind.intentions.clear();
        black_box(d);
        elapsed
    };
    for n in 0..200 {
        one(n);
    }
    let mut times: Vec<Duration> = (0..ROUNDS as u64).map(|n| one(1_000 + n)).collect();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "overhead around one model call ({MEMORIES} memories, loopback HTTP to an instant fake), {ROUNDS} timed: median {:.0} µs, p99 {:.0} µs [goal: median < 2 ms]",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6
    );
}
