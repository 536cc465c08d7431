//! The node through its library API, on SQLite and PostgreSQL: hiring, the durable
//! inbox, supervision, passivation, cron, offboarding and replay on start.

use super::common::{eventually, options};
use empla::actors::{FaultTarget, ReachError, RuntimeState};
use empla::config::RuntimeConfig;
use empla::lifecycle::HireRequest;
use empla::model::{EmployeeId, EmployeeStatus, Event, NewEvent};
use empla::node::{HireError, Node, SubmitError};
use empla::store::{Store, StoreWriter};
use std::time::Duration;

crate::on_every_store!(
    hire_builds_profile_from_role_with_a_unique_address,
    hire_with_bad_input_is_refused_naming_the_field,
    each_event_leaves_one_episode_newest_first,
    a_panicking_child_is_restarted_and_the_employee_keeps_processing,
    a_restarted_employee_actor_reloads_its_state_and_loses_nothing,
    repeated_crashes_mark_the_employee_failed,
    an_idle_employee_passivates_and_an_event_wakes_it_with_its_state,
    a_cron_tick_wakes_a_passivated_employee_once,
    offboarded_employee_takes_no_events_and_frees_nothing_else,
    a_node_start_replays_unprocessed_events,
    a_full_mailbox_leaves_events_in_the_store_and_loses_none,
);

fn ev(kind: &str, n: usize) -> NewEvent {
    NewEvent {
        kind: kind.into(),
        source: "test".into(),
        payload: serde_json::json!({"n": n}),
        idempotency_key: None,
    }
}

async fn start(store: &Store, runtime: RuntimeConfig) -> Node {
    let mut opts = options("acme");
    opts.runtime = runtime;
    Node::start_with_store(store.clone(), opts).await.unwrap()
}

async fn episodes_of(node: &Node, id: EmployeeId) -> usize {
    node.store()
        .count_episodes(node.tenant(), id, "event")
        .await
        .unwrap() as usize
}

async fn wait_episodes(node: &Node, id: EmployeeId, n: usize) {
    eventually(20, &format!("{n} episodes"), || async move {
        (episodes_of(node, id).await == n).then_some(())
    })
    .await;
}

async fn hire_builds_profile_from_role_with_a_unique_address(store: Store) {
    let node = start(&store, super::common::fast_runtime()).await;
    let a = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    let b = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    assert_eq!(a.email, "jordan.lee@example.com");
    assert_eq!(b.email, "jordan.lee2@example.com");
    assert_eq!(a.chat_handle, "jordan.lee");
    assert_eq!(a.job_title, "Sales Account Executive");
    assert_eq!(a.status, EmployeeStatus::Onboarding);
    assert_eq!(a.goals.len(), 4);
    assert!(!a.calendar_id.is_empty());
    assert_eq!(node.resolve("jordan.lee"), Some(a.id));
    assert_eq!(node.resolve("jordan.lee2@example.com"), Some(b.id));
    assert_eq!(
        node.runtime_state(a.id),
        Some(RuntimeState::Active),
        "hiring spawns the actor tree"
    );
    assert_eq!(node.employee(a.id).await.unwrap().unwrap(), a);
    node.shutdown().await;
}

async fn hire_with_bad_input_is_refused_naming_the_field(store: Store) {
    let node = start(&store, super::common::fast_runtime()).await;
    let err = node
        .hire(HireRequest::new("astronaut", "Ann"))
        .await
        .unwrap_err();
    assert!(matches!(err, HireError::UnknownRole { .. }));
    assert!(err.to_string().contains("sales_ae"), "{err}");
    let mut req = HireRequest::new("csm", "Ann Lee");
    req.persona = Some(serde_json::json!({"decision": {"risk_tolerance": 3.0}}));
    let err = node.hire(req).await.unwrap_err();
    assert!(
        err.to_string().contains("persona.decision.risk_tolerance"),
        "{err}"
    );
    assert_eq!(
        node.employees(10, 0).await.unwrap().len(),
        0,
        "nothing partial is stored"
    );
    node.shutdown().await;
}

async fn each_event_leaves_one_episode_newest_first(store: Store) {
    let node = start(&store, super::common::fast_runtime()).await;
    let p = node
        .hire(HireRequest::new("pm", "Casey Kim"))
        .await
        .unwrap();
    for n in 0..50 {
        node.submit_event(p.id, ev("webhook.received", n))
            .await
            .unwrap();
    }
    wait_episodes(&node, p.id, 50).await;
    let eps = node.episodes(p.id, 100, None).await.unwrap();
    let ns: Vec<i64> = eps
        .iter()
        .map(|(_, e)| e.payload["n"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ns,
        (0..50).rev().collect::<Vec<_>>(),
        "newest first, each once"
    );
    let bad = node
        .submit_event(p.id, ev("no spaces allowed", 0))
        .await
        .unwrap_err();
    assert!(matches!(bad, SubmitError::Invalid(ref e) if e[0].field == "kind"));
    let nobody = node
        .submit_event(EmployeeId::new(), ev("x", 0))
        .await
        .unwrap_err();
    assert!(matches!(nobody, SubmitError::Reach(ReachError::NotFound)));
    node.shutdown().await;
}

async fn a_panicking_child_is_restarted_and_the_employee_keeps_processing(store: Store) {
    let node = start(&store, super::common::fast_runtime()).await;
    let p = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    let mut sent = 0;
    for target in [
        FaultTarget::Memory,
        FaultTarget::Capability,
        FaultTarget::A2a,
    ] {
        for _ in 0..10 {
            node.submit_event(p.id, ev("webhook.received", sent))
                .await
                .unwrap();
            sent += 1;
        }
        node.inject_fault(p.id, target).await.unwrap();
        for _ in 0..10 {
            node.submit_event(p.id, ev("webhook.received", sent))
                .await
                .unwrap();
            sent += 1;
        }
        wait_episodes(&node, p.id, sent).await;
    }
    let rt = eventually(10, "status", || async {
        node.employee_runtime(p.id).await.ok()
    })
    .await;
    assert_eq!(
        rt.events_handled, sent as u64,
        "every event handled exactly once"
    );
    node.shutdown().await;
}

async fn a_restarted_employee_actor_reloads_its_state_and_loses_nothing(store: Store) {
    let node = start(&store, super::common::fast_runtime()).await;
    let p = node
        .hire(HireRequest::new("ea", "Robin Park"))
        .await
        .unwrap();
    for n in 0..20 {
        node.submit_event(p.id, ev("email.received", n))
            .await
            .unwrap();
    }
    node.inject_fault(p.id, FaultTarget::Employee)
        .await
        .unwrap();
    for n in 20..40 {
        // During the restart window events are stored and replayed afterwards.
        node.submit_event(p.id, ev("email.received", n))
            .await
            .unwrap();
    }
    wait_episodes(&node, p.id, 40).await;
    let rt = eventually(10, "restarted employee", || async {
        node.employee_runtime(p.id).await.ok()
    })
    .await;
    assert_eq!(rt.events_handled, 40);
    node.shutdown().await;
}

async fn repeated_crashes_mark_the_employee_failed(store: Store) {
    let runtime = RuntimeConfig {
        max_restarts: 2,
        ..super::common::fast_runtime()
    };
    let node = start(&store, runtime).await;
    let p = node
        .hire(HireRequest::new("recruiter", "Alex Chen"))
        .await
        .unwrap();
    eventually(20, "employee marked failed", || async {
        if node.runtime_state(p.id) == Some(RuntimeState::Failed) {
            return Some(());
        }
        let _ = node.inject_fault(p.id, FaultTarget::Employee).await;
        None
    })
    .await;
    let status = node
        .employee_runtime(p.id)
        .await
        .expect("a failed employee's status is read from the store");
    assert_eq!(status.state, RuntimeState::Failed);
    assert_eq!(status.backlog, Some(0));
    // An event to a failed employee is still stored, not lost, and shows in its backlog.
    node.submit_event(p.id, ev("email.received", 1))
        .await
        .unwrap();
    assert_eq!(node.employee_runtime(p.id).await.unwrap().backlog, Some(1));
    assert_eq!(
        node.store()
            .pending_events(node.tenant(), p.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    node.shutdown().await;
}

async fn an_idle_employee_passivates_and_an_event_wakes_it_with_its_state(store: Store) {
    let runtime = RuntimeConfig {
        idle_passivate_after: Duration::from_millis(100),
        passivation_sweep_every: Duration::from_millis(50),
        ..super::common::fast_runtime()
    };
    let node = start(&store, runtime).await;
    let p = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    for n in 0..5 {
        node.submit_event(p.id, ev("email.received", n))
            .await
            .unwrap();
    }
    wait_episodes(&node, p.id, 5).await;
    eventually(10, "passivation", || async {
        (node.runtime_state(p.id) == Some(RuntimeState::Idle)).then_some(())
    })
    .await;
    node.submit_event(p.id, ev("email.received", 5))
        .await
        .unwrap();
    wait_episodes(&node, p.id, 6).await;
    let rt = node.employee_runtime(p.id).await.unwrap();
    assert_eq!(rt.events_handled, 6, "state survived passivation");
    node.shutdown().await;
}

async fn a_cron_tick_wakes_a_passivated_employee_once(store: Store) {
    let runtime = RuntimeConfig {
        idle_passivate_after: Duration::from_millis(50),
        passivation_sweep_every: Duration::from_millis(25),
        ..super::common::fast_runtime()
    };
    let node = start(&store, runtime).await;
    let p = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    eventually(10, "passivation", || async {
        (node.runtime_state(p.id) == Some(RuntimeState::Idle)).then_some(())
    })
    .await;
    let at = chrono::Utc::now();
    // The daily priority review (role sales_ae, "0 6 * * *").
    assert_eq!(node.fire_cron("0 0 6 * * *", at).await.unwrap(), 1);
    assert_eq!(
        node.fire_cron("0 0 6 * * *", at).await.unwrap(),
        1,
        "fanned out again..."
    );
    wait_episodes(&node, p.id, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        episodes_of(&node, p.id).await,
        1,
        "...but the same tick is accepted once"
    );
    let eps = node.episodes(p.id, 10, None).await.unwrap();
    let tick = eps
        .iter()
        .find(|(_, e)| e.kind == empla::model::EpisodeKind::Event)
        .unwrap();
    assert_eq!(tick.1.summary, "cron.tick");
    assert_eq!(tick.1.payload["schedule"], "daily_priority_review");
    node.shutdown().await;
}

async fn offboarded_employee_takes_no_events_and_frees_nothing_else(store: Store) {
    let node = start(&store, super::common::fast_runtime()).await;
    let p = node
        .hire(HireRequest::new("pm", "Casey Kim"))
        .await
        .unwrap();
    node.submit_event(p.id, ev("webhook.received", 0))
        .await
        .unwrap();
    wait_episodes(&node, p.id, 1).await;
    let off = node.offboard(p.id).await.unwrap();
    assert_eq!(off.status, EmployeeStatus::Offboarded);
    assert_eq!(node.runtime_state(p.id), Some(RuntimeState::Idle));
    assert_eq!(node.resolve("casey.kim"), None, "address no longer routed");
    assert_eq!(
        node.resolve(&p.id.to_string()),
        Some(p.id),
        "still known by id"
    );
    let err = node
        .submit_event(p.id, ev("webhook.received", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, SubmitError::Reach(ReachError::Offboarded)));
    assert_eq!(episodes_of(&node, p.id).await, 1, "memory kept");
    assert_eq!(
        node.fire_cron("0 0 6 * * *", chrono::Utc::now())
            .await
            .unwrap(),
        0,
        "no more cron ticks"
    );
    node.shutdown().await;
}

async fn a_node_start_replays_unprocessed_events(store: Store) {
    let node = start(&store, super::common::fast_runtime()).await;
    let p = node
        .hire(HireRequest::new("csm", "Sam Rivera"))
        .await
        .unwrap();
    node.shutdown().await;
    // Events stored while no node runs (as a crash between accept and delivery leaves them).
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    let tenant = empla::model::TenantId::new("acme");
    for n in 0..25 {
        writer
            .accept(Event::accept(
                tenant.clone(),
                p.id,
                ev("email.received", n),
                chrono::Utc::now(),
            ))
            .await
            .unwrap();
    }
    let node = start(&store, super::common::fast_runtime()).await;
    wait_episodes(&node, p.id, 25).await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_one_job_per_cron_expression_and_ticks_reach_employees() {
    let s = super::common::sqlite().await;
    let mut opts = options("acme");
    let mut every_second = opts.roles["sales_ae"].clone();
    every_second.id = "night_watch".into();
    every_second.schedules = vec![empla::config::Schedule {
        name: "every_second".into(),
        cron: "* * * * * *".into(),
        description: String::new(),
    }];
    opts.roles.insert("night_watch".into(), every_second);
    let node = Node::start_with_store(s.store.clone(), opts).await.unwrap();
    let a = node
        .hire(HireRequest::new("night_watch", "Ada One"))
        .await
        .unwrap();
    let b = node
        .hire(HireRequest::new("night_watch", "Bo Two"))
        .await
        .unwrap();
    for p in [&a, &b] {
        eventually(10, "a real cron tick", || async {
            let eps = node.episodes(p.id, 5, None).await.unwrap();
            eps.iter()
                .any(|(_, e)| e.summary == "cron.tick" && e.payload["schedule"] == "every_second")
                .then_some(())
        })
        .await;
    }
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_are_counted_in_the_metrics() {
    let metrics = empla::telemetry::metrics_handle();
    let s = super::common::sqlite().await;
    let node = start(&s.store, super::common::fast_runtime()).await;
    let p = node.hire(HireRequest::new("csm", "Mo Lin")).await.unwrap();
    node.inject_fault(p.id, FaultTarget::Capability)
        .await
        .unwrap();
    eventually(10, "restart metric", || async {
        metrics
            .render()
            .lines()
            .any(|l| l.starts_with("empla_actor_restarts_total{actor=\"capability\"}"))
            .then_some(())
    })
    .await;
    node.record_gauges().await;
    assert!(
        metrics
            .render()
            .contains("empla_employees{status=\"onboarding\"}")
    );
    node.shutdown().await;
}

async fn a_full_mailbox_leaves_events_in_the_store_and_loses_none(store: Store) {
    use futures::StreamExt;
    let metrics = empla::telemetry::metrics_handle();
    let runtime = RuntimeConfig {
        mailbox_capacity: 4,
        ..super::common::fast_runtime()
    };
    let node = start(&store, runtime).await;
    let p = node
        .hire(HireRequest::new("sales_ae", "Jordan Lee"))
        .await
        .unwrap();
    futures::stream::iter(0..300)
        .for_each_concurrent(64, |n| {
            let node = &node;
            async move {
                node.submit_event(p.id, ev("email.received", n))
                    .await
                    .unwrap();
            }
        })
        .await;
    wait_episodes(&node, p.id, 300).await;
    let rt = node.employee_runtime(p.id).await.unwrap();
    assert_eq!(rt.events_handled, 300, "each event handled once");
    assert!(
        metrics.render().contains("empla_mailbox_overflows_total"),
        "the mailbox did fill up"
    );
    node.shutdown().await;
}
