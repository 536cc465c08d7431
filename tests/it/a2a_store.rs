//! The A2A task ledger on the store, the same tests on SQLite and PostgreSQL: a task is
//! opened with its employee's inbox event and delegated task, changed by numbered
//! updates that are replayed in order, counted once when an action retries, closed to
//! changes once it ends; listed newest first with filters and paging; and each update
//! queues a push notification to every webhook of its task.

use empla::a2a::{Change, Ledger, LedgerError, Recorded};
use empla::model::{EmployeeId, Event, NewEvent, Priority, TaskStatus, TenantId};
use empla::store::{A2aTaskFilter, Store};
use futures::StreamExt;

fn tenant() -> TenantId {
    TenantId::new("t1")
}

async fn open(ledger: &Ledger, employee: EmployeeId, agent: &str, context: &str) -> a2a::Task {
    let id = a2a::new_task_id();
    let now = chrono::Utc::now();
    let task = a2a::Task {
        id: id.clone(),
        context_id: context.into(),
        status: a2a::TaskStatus {
            state: a2a::TaskState::Submitted,
            message: None,
            timestamp: Some(now),
        },
        artifacts: None,
        history: Some(vec![a2a::Message::new(
            a2a::Role::User,
            vec![a2a::Part::text("hello")],
        )]),
        metadata: None,
    };
    let delegated = empla::model::Task {
        id: id.clone(),
        status: TaskStatus::Accepted,
        progress: 0.0,
        result: None,
        employee_id: employee,
        description: "hello".into(),
        priority: Priority::Medium,
        deadline: None,
        requester: format!("a2a:{context}"),
        channel: "a2a".into(),
        intention: None,
        created_at: now,
        updated_at: now,
    };
    let event = Event::accept(
        tenant(),
        employee,
        NewEvent {
            kind: "a2a.message".into(),
            source: "a2a".into(),
            payload: serde_json::json!({"task_id": id, "text": "hello"}),
            idempotency_key: Some(format!("a2a:{id}")),
        },
        now,
    );
    ledger
        .open(&task, employee, agent, &delegated, &event)
        .await
        .unwrap();
    task
}

fn state(t: &a2a::Task) -> a2a::TaskState {
    t.status.state.clone()
}

async fn updates_are_numbered_replayed_in_order_and_counted_once(store: Store) {
    let ledger = std::sync::Arc::new(Ledger::new(store.clone(), tenant()));
    let who = EmployeeId::new();
    let task = open(&ledger, who, "jordan.lee", "c1").await;
    let (row, got) = ledger.get(&task.id).await.unwrap().expect("stored at once");
    assert_eq!((row.seq, state(&got)), (1, a2a::TaskState::Submitted));
    // The delegated task and the inbox event came in the same transaction.
    assert_eq!(
        store
            .task(&tenant(), &task.id)
            .await
            .unwrap()
            .unwrap()
            .channel,
        "a2a"
    );
    let working = [Change::State(a2a::TaskState::Working, Some("on it".into()))];
    assert!(matches!(
        ledger
            .record(&task.id, Some("k1"), None, &working)
            .await
            .unwrap(),
        Recorded::Stored(_)
    ));
    // The same action again changes nothing.
    assert_eq!(
        ledger
            .record(&task.id, Some("k1"), None, &working)
            .await
            .unwrap(),
        Recorded::Duplicate
    );
    // An older action of the employee's, run after a newer one, changes nothing.
    let waiting = [Change::State(a2a::TaskState::InputRequired, None)];
    assert!(matches!(
        ledger
            .record(&task.id, Some("k5"), Some(5), &waiting)
            .await
            .unwrap(),
        Recorded::Stored(_)
    ));
    assert_eq!(
        ledger
            .record(&task.id, Some("k4"), Some(4), &working)
            .await
            .unwrap(),
        Recorded::Superseded
    );
    let (_, still) = ledger.get(&task.id).await.unwrap().unwrap();
    assert_eq!(state(&still), a2a::TaskState::InputRequired);
    // A subscriber from here gets the task, then every later update in order.
    let (row, now) = ledger.get(&task.id).await.unwrap().unwrap();
    let mut sub = ledger.subscribe(now, row.seq);
    let first = sub.next().await.unwrap().unwrap();
    assert!(
        matches!(first, a2a::StreamResponse::Task(t) if t.status.state == a2a::TaskState::InputRequired)
    );
    let done = [
        Change::Text {
            name: "answer".into(),
            text: "done it".into(),
        },
        Change::State(a2a::TaskState::Completed, None),
    ];
    let Recorded::Stored(t) = ledger
        .record(&task.id, Some("k2"), None, &done)
        .await
        .unwrap()
    else {
        panic!("stored")
    };
    assert_eq!(
        t.artifacts.as_ref().unwrap()[0].parts[0].as_text(),
        Some("done it")
    );
    let rest: Vec<_> = sub.map(|e| e.unwrap()).collect().await;
    assert!(matches!(&rest[0], a2a::StreamResponse::ArtifactUpdate(_)));
    assert!(
        matches!(&rest[1], a2a::StreamResponse::StatusUpdate(u) if u.status.state == a2a::TaskState::Completed)
    );
    assert_eq!(rest.len(), 2, "the stream ends with the task");
    // An ended task takes no more changes, and cannot be canceled.
    assert_eq!(
        ledger
            .record(&task.id, Some("k3"), None, &working)
            .await
            .unwrap(),
        Recorded::Ended
    );
    assert!(matches!(
        ledger.cancel(&task.id).await,
        Err(LedgerError::NotCancelable(..))
    ));
    assert!(matches!(
        ledger.cancel("no-such-task").await,
        Err(LedgerError::NotFound(_))
    ));
    // Every update is stored in order.
    let events = store
        .a2a_events_after(&tenant(), &task.id, 0, 100)
        .await
        .unwrap();
    let seqs: Vec<i64> = events.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

async fn listing_filters_and_pages_newest_first(store: Store) {
    let ledger = Ledger::new(store, tenant());
    let (a, b) = (EmployeeId::new(), EmployeeId::new());
    let mut ids = Vec::new();
    for i in 0..5 {
        let t = open(
            &ledger,
            a,
            "jordan.lee",
            if i < 2 { "ctx-a" } else { "ctx-b" },
        )
        .await;
        ids.push(t.id);
    }
    open(&ledger, b, "sam.rivera", "ctx-c").await;
    ledger.cancel(&ids[4]).await.unwrap();
    let mut f = A2aTaskFilter {
        agent: Some("jordan.lee".into()),
        limit: 2,
        ..Default::default()
    };
    let (page, total) = ledger.list(&f).await.unwrap();
    assert_eq!(total, 5);
    let got: Vec<_> = page.iter().map(|(_, t)| t.id.clone()).collect();
    assert_eq!(got, [ids[4].clone(), ids[3].clone()], "newest first");
    let last = &page[1].0;
    f.after = Some((last.created_at, last.id.clone()));
    let (page2, _) = ledger.list(&f).await.unwrap();
    assert_eq!(
        page2[0].1.id, ids[2],
        "the next page goes on after the token"
    );
    let by_context = A2aTaskFilter {
        context_id: Some("ctx-a".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(ledger.list(&by_context).await.unwrap().1, 2);
    let canceled = A2aTaskFilter {
        state: Some("TASK_STATE_CANCELED".into()),
        limit: 10,
        ..Default::default()
    };
    let (c, n) = ledger.list(&canceled).await.unwrap();
    assert_eq!((n, c[0].1.id.clone()), (1, ids[4].clone()));
    let everyone = A2aTaskFilter {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(ledger.list(&everyone).await.unwrap().1, 6);
}

async fn each_update_queues_a_push_to_every_webhook(store: Store) {
    let ledger = Ledger::new(store.clone(), tenant());
    let task = open(&ledger, EmployeeId::new(), "jordan.lee", "c").await;
    let config = |id: &str| {
        serde_json::json!({"url": "https://hooks.example.com/a2a", "id": id, "taskId": task.id})
            .to_string()
    };
    ledger
        .save_push(&task.id, "w1", &config("w1"))
        .await
        .unwrap();
    ledger
        .save_push(&task.id, "w2", &config("w2"))
        .await
        .unwrap();
    let working = [Change::State(a2a::TaskState::Working, None)];
    ledger
        .record(&task.id, Some("u1"), None, &working)
        .await
        .unwrap();
    let far = chrono::Utc::now().timestamp_micros() + 1_000_000;
    let due = store.a2a_due_deliveries(&tenant(), far, 10).await.unwrap();
    let to: Vec<_> = due.iter().map(|d| (d.config_id.as_str(), d.seq)).collect();
    assert_eq!(to, [("w1", 2), ("w2", 2)]);
    assert!(due[0].event.contains("TASK_STATE_WORKING"));
    // Delivered: gone from the queue; failed: back at its next try, not before.
    store
        .a2a_delivery_tried(&tenant(), &due[0], true, far, false, None, far)
        .await
        .unwrap();
    store
        .a2a_delivery_tried(
            &tenant(),
            &due[1],
            false,
            far + 5_000_000,
            false,
            Some("503"),
            far,
        )
        .await
        .unwrap();
    assert!(
        store
            .a2a_due_deliveries(&tenant(), far, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let later = store
        .a2a_due_deliveries(&tenant(), far + 5_000_000, 10)
        .await
        .unwrap();
    assert_eq!((later.len(), later[0].attempts), (1, 1));
    // A deleted webhook takes its undelivered notifications with it.
    assert!(ledger.delete_push(&task.id, "w2").await.unwrap());
    assert!(!ledger.delete_push(&task.id, "w2").await.unwrap());
    assert!(
        store
            .a2a_due_deliveries(&tenant(), far + 5_000_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

crate::on_every_store!(
    updates_are_numbered_replayed_in_order_and_counted_once,
    listing_filters_and_pages_newest_first,
    each_update_queues_a_push_to_every_webhook,
);

/// A webhook that is down when an update is made gets it once it is back, from a push
/// worker started after the first one died (a crash): the delivery was queued with the
/// update, not held in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_survives_the_worker_dying_and_arrives_when_the_webhook_is_back() {
    use axum::http::StatusCode;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let db = crate::common::sqlite().await;
    let ledger = Arc::new(Ledger::new(db.store.clone(), tenant()));
    let up = Arc::new(AtomicBool::new(false));
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let app = {
        let (up, got) = (up.clone(), got.clone());
        axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let (up, got) = (up.clone(), got.clone());
                async move {
                    if !up.load(Ordering::SeqCst) {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let token = headers
                        .get("a2a-notification-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    got.lock().unwrap().push((token, body));
                    StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let cfg = empla::a2a::A2aConfig {
        push_allow_private: true,
        push_backoff: std::time::Duration::from_millis(50),
        push_backoff_max: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let task = open(&ledger, EmployeeId::new(), "jordan.lee", "c").await;
    let config = serde_json::json!({"url": hook, "id": "w", "taskId": task.id, "token": "t0k"});
    ledger
        .save_push(&task.id, "w", &config.to_string())
        .await
        .unwrap();
    let first = tokio::spawn(empla::a2a::push::run(ledger.clone(), cfg.clone()));
    let working = [Change::State(a2a::TaskState::Working, None)];
    ledger
        .record(&task.id, Some("u"), None, &working)
        .await
        .unwrap();
    // The webhook is down: tried and failed; then the worker dies.
    crate::common::eventually(10, "a failed try", || async {
        let far = chrono::Utc::now().timestamp_micros() + 60_000_000;
        let due = db
            .store
            .a2a_due_deliveries(&tenant(), far, 10)
            .await
            .unwrap();
        due.first().is_some_and(|d| d.attempts >= 1).then_some(())
    })
    .await;
    first.abort();
    up.store(true, Ordering::SeqCst);
    let second = tokio::spawn(empla::a2a::push::run(ledger.clone(), cfg));
    crate::common::eventually(10, "the push arrives", || async {
        (!got.lock().unwrap().is_empty()).then_some(())
    })
    .await;
    let (token, body) = got.lock().unwrap()[0].clone();
    assert_eq!(token, "t0k");
    assert!(body.contains("TASK_STATE_WORKING"), "{body}");
    second.abort();
}
