//! Sourcing against a SearXNG double: the Recruiter searches the web for profiles
//! matching an open requisition, records each person with a real address as a sourced
//! candidate and writes to them personally (their name, what in their profile matched);
//! a result without an address is never written to; a role for which nobody reachable
//! is found is handed to its hiring manager.

use super::common::{self, eventually};
use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use empla::bdi::Phase;
use empla::lifecycle::HireRequest;
use empla::model::{EmployeeId, Manager, NewEvent};
use empla::node::Node;
use empla::store::{CandidateFilter, Page};
use serde_json::json;
use std::collections::HashMap;

/// A SearXNG double: backend profiles (one with an address, one without) for a query
/// naming the backend role; designer results without any address otherwise.
async fn search_double() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route(
        "/search",
        get(|Query(q): Query<HashMap<String, String>>| async move {
            let query = q.get("q").cloned().unwrap_or_default();
            let results = if query.contains("Senior Backend Engineer") && query.contains("Rust") {
                json!([
                    {"url": "https://profiles.example/ada", "title": "Ada Byron - Backend engineer",
                     "content": "Built a payments ledger in Rust. Runs PostgreSQL in production. Contact: ada.byron@mail.example"},
                    {"url": "https://profiles.example/anon", "title": "Anonymous Rust developer",
                     "content": "Rust and distributed systems; no contact details."}
                ])
            } else {
                json!([
                    {"url": "https://profiles.example/designer", "title": "A product designer",
                     "content": "Figma and user research; reach out on the site."}
                ])
            };
            axum::Json(json!({"query": query, "results": results}))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

async fn recruiter(node: &Node) -> EmployeeId {
    let mut hire = HireRequest::new("recruiter", "Riley Park");
    hire.manager = Some(Manager::Human {
        name: "Dana Wu".into(),
        email: "dana.wu@example.com".into(),
    });
    let riley = node.hire(hire).await.unwrap();
    node.set_phase(riley.id, Phase::Autonomous).await.unwrap();
    riley.id
}

async fn pipeline_thin(node: &Node, riley: EmployeeId, requisition: &str) {
    node.submit_event(
        riley,
        NewEvent {
            kind: "signal.pipeline_thin".into(),
            source: "test".into(),
            payload: json!({"requisition": requisition}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sourcing_writes_to_each_profile_with_an_address_and_asks_the_manager_when_none() {
    let s = common::sqlite().await;
    let mut opts = common::options("sourcing");
    opts.research.search_url = search_double().await;
    opts.research.allow_private = true;
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    node.load_demo_requisitions(&super::crm::demo_dir())
        .await
        .unwrap();
    let riley = recruiter(&node).await;

    pipeline_thin(&node, riley, "Senior Backend Engineer").await;
    let outreach = eventually(30, "the outreach to Ada", || async {
        node.mail_inbox("ada.byron@mail.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(
        outreach.subject,
        "Senior Backend Engineer: an opening you might like"
    );
    assert!(outreach.body.starts_with("Hi Ada,"), "{}", outreach.body);
    assert!(
        outreach
            .body
            .contains("Rust (\"Built a payments ledger in Rust. Runs PostgreSQL in production. Contact: ada.byron@mail.example\")"),
        "{}",
        outreach.body
    );
    assert!(!outreach.body.contains("{{"), "{}", outreach.body);
    let sourced = node
        .pipeline()
        .candidates(
            &CandidateFilter {
                source: Some("sourcing".into()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        sourced.len(),
        1,
        "only the profile with an address: {sourced:?}"
    );
    assert_eq!(sourced[0].name, "Ada Byron");
    assert_eq!(sourced[0].stage, "sourced");
    assert_eq!(sourced[0].recruiter, Some(riley.to_string()));

    // Sourcing again finds Ada again: she is not written to twice.
    pipeline_thin(&node, riley, "Senior Backend Engineer").await;
    // A role with no reachable profile goes to its hiring manager instead.
    pipeline_thin(&node, riley, "Product Designer").await;
    let ask = eventually(30, "the hiring manager asked for referrals", || async {
        node.mail_inbox("dana.wu@example.com", 10)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.subject.starts_with("Product Designer"))
    })
    .await;
    assert!(ask.body.contains("found nobody"), "{}", ask.body);
    assert_eq!(
        node.mail_inbox("ada.byron@mail.example", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_morning_the_pipeline_is_measured_and_a_thin_one_is_sourced() {
    let s = common::sqlite().await;
    let mut opts = common::options("measure");
    opts.research.search_url = search_double().await;
    opts.research.allow_private = true;
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    node.load_demo_requisitions(&super::crm::demo_dir())
        .await
        .unwrap();
    let riley = recruiter(&node).await;
    node.submit_event(
        riley,
        NewEvent {
            kind: "cron.tick".into(),
            source: "scheduler".into(),
            payload: json!({"schedule": "daily_priority_review"}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    // No open role has a qualified candidate yet: the goal reads 0 of 10, and the
    // thin pipeline is sourced without anyone telling the Recruiter to.
    let outreach = eventually(30, "the outreach to Ada", || async {
        node.mail_inbox("ada.byron@mail.example", 10)
            .await
            .unwrap()
            .into_iter()
            .next()
    })
    .await;
    assert!(
        outreach.subject.starts_with("Senior Backend Engineer"),
        "{}",
        outreach.subject
    );
    let status = node.employee_runtime(riley).await.unwrap();
    let goal = status
        .goals
        .iter()
        .find(|g| g.id == "pipeline_filled")
        .unwrap();
    assert_eq!(goal.current, Some(0.0), "{goal:?}");
    let time_to_hire = |s: &empla::actors::EmployeeRuntime| {
        s.goals
            .iter()
            .find(|g| g.id == "time_to_hire")
            .unwrap()
            .current
    };
    assert_eq!(time_to_hire(&status), None, "no hire yet, no figure");

    // A hire: the next morning's measure gives the time it took.
    let p = node.pipeline();
    let backend = p
        .requisitions(Some("open"), Page::default())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.title == "Senior Backend Engineer")
        .unwrap();
    let c = p
        .create_candidate(
            empla::capabilities::recruiting::NewCandidate {
                name: "Lin Park".into(),
                email: "lin.park@mail.example".into(),
                requisition: backend.id.clone(),
                source: Some("referral".into()),
                recruiter: None,
            },
            "api",
        )
        .await
        .unwrap();
    p.move_stage(
        &c.id,
        empla::capabilities::recruiting::StageMove {
            stage: "hired".into(),
            reason: None,
        },
        "api",
    )
    .await
    .unwrap();
    node.submit_event(
        riley,
        NewEvent {
            kind: "cron.tick".into(),
            source: "scheduler".into(),
            payload: json!({"schedule": "daily_priority_review", "day": 2}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap();
    eventually(30, "the time to hire measured", || async {
        let s = node.employee_runtime(riley).await.unwrap();
        (time_to_hire(&s) == Some(0.0)).then_some(())
    })
    .await;
    node.shutdown().await;
}
