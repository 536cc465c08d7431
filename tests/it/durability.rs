//! The durable path under bad writes and crashes, on SQLite and PostgreSQL: a write the
//! database refuses fails alone; text PostgreSQL cannot hold is kept faithfully; an
//! oversized write is refused naming its size; an action whose decision was not stored
//! never runs, and the event that keeps failing its employee is set aside so the
//! employee goes on; a task update and a chat answer resumed after a crash are said
//! once.

use super::common::{TestStore, eventually, options};
use empla::lifecycle::HireRequest;
use empla::model::{EmployeeId, Event, NewEvent, NewTask, TenantId};
use empla::node::Node;
use empla::store::{StoreConfig, StoreError, StoreWriter, WriteError};
use serde_json::json;
use std::sync::Arc;

crate::on_every_test_store!(
    a_write_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored,
    text_with_nul_is_stored_faithfully,
    a_write_larger_than_a_batch_is_refused_alone_naming_its_size,
    an_action_whose_decision_was_not_stored_never_runs_and_its_event_is_set_aside,
    a_task_update_retried_after_a_crash_still_tells_the_requester_once,
    a_chat_answer_resumed_after_a_crash_is_stored_once,
    an_employee_flooded_with_mail_and_event_kinds_keeps_a_bounded_state,
);

/// Makes the database refuse every insert into `table` whose `column` mentions
/// "poison", as a constraint or a full disk refuses one write among many.
async fn refuse_poison(s: &TestStore, table: &str, column: &str) {
    if s.is_postgres() {
        s.exec(&format!(
            "CREATE FUNCTION refuse_poison_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.{column} LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned write refused'; END IF; \
             RETURN NEW; END $$"
        ))
        .await;
        s.exec(&format!(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON {table} FOR EACH ROW \
             EXECUTE FUNCTION refuse_poison_{table}()"
        ))
        .await;
    } else {
        s.exec(&format!(
            "CREATE TRIGGER refuse_poison_{table} BEFORE INSERT ON {table} \
             WHEN NEW.{column} LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned write refused'); END"
        ))
        .await;
    }
}

async fn stop_refusing(s: &TestStore, table: &str) {
    if s.is_postgres() {
        s.exec(&format!("DROP TRIGGER refuse_poison ON {table}"))
            .await;
    } else {
        s.exec(&format!("DROP TRIGGER refuse_poison_{table}")).await;
    }
}

fn event(tenant: &TenantId, employee: EmployeeId, payload: serde_json::Value) -> Event {
    let new = NewEvent {
        kind: "webhook.received".into(),
        source: "test".into(),
        payload,
        idempotency_key: None,
    };
    Event::accept(tenant.clone(), employee, new, chrono::Utc::now())
}

async fn hired(s: &TestStore) -> (TenantId, EmployeeId) {
    let p = super::common::profile("acme", "csm", "Riley Park", "riley@example.com");
    s.store
        .insert_employees(&[empla::store::NewHire {
            profile: p.clone(),
            config_key: None,
            schedules: Vec::new(),
        }])
        .await
        .unwrap();
    (p.tenant, p.id)
}

async fn a_write_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(
    s: &TestStore,
) {
    let (t, id) = hired(s).await;
    refuse_poison(s, "inbox", "payload").await;
    let (writer, _task) = StoreWriter::start(s.store.clone(), &StoreConfig::default());
    // 30 good events and one the database refuses, submitted at once so the group
    // committer takes them in the same batches.
    let mut writes = Vec::new();
    for n in 0..31 {
        let payload = if n == 17 {
            json!({"text": "poison"})
        } else {
            json!({"text": format!("customer mail {n}")})
        };
        let w = writer.clone();
        let e = event(&t, id, payload);
        writes.push(tokio::spawn(async move { w.accept(e).await }));
    }
    let mut refused = Vec::new();
    let mut accepted = 0;
    for (n, w) in writes.into_iter().enumerate() {
        match w.await.unwrap() {
            Ok(a) => {
                assert!(!a.duplicate);
                accepted += 1;
            }
            Err(e) => refused.push((n, e.to_string())),
        }
    }
    assert_eq!(accepted, 30, "refused: {refused:?}");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, 17);
    assert!(
        refused[0].1.contains("poisoned write refused"),
        "{refused:?}"
    );
    let stored = s.store.pending_events(&t, id, 100).await.unwrap();
    assert_eq!(stored.len(), 30);
    assert!(stored.iter().all(|e| e.payload["text"] != "poison"));
}

async fn text_with_nul_is_stored_faithfully(s: &TestStore) {
    let (t, id) = hired(s).await;
    let (writer, _task) = StoreWriter::start(s.store.clone(), &StoreConfig::default());
    let text = "before\u{0}after";
    let with_nul = event(&t, id, json!({"text": text, "subject": "a\u{0}b"}));
    let beside: Vec<Event> = (0..5)
        .map(|n| event(&t, id, json!({"text": format!("good {n}")})))
        .collect();
    let mut all = vec![with_nul.clone()];
    all.extend(beside);
    let results = futures::future::join_all(all.into_iter().map(|e| {
        let w = writer.clone();
        async move { w.accept(e).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let (back, _) = s.store.event(&t, with_nul.id).await.unwrap().unwrap();
    assert_eq!(back.payload["text"], text);
    assert_eq!(back.payload["subject"], "a\u{0}b");
    // What the employee records of it (its episode) is kept and findable too.
    let c = empla::store::Completion {
        fence: None,
        tenant: t.clone(),
        employee: id,
        event_id: Some(with_nul.id),
        episodes: vec![empla::model::Episode {
            id: empla::model::EpisodeId::new(),
            tenant: t.clone(),
            employee_id: id,
            kind: empla::model::EpisodeKind::Event,
            event_id: Some(with_nul.id),
            cause_id: None,
            channel: Some("test".into()),
            summary: "webhook.received".into(),
            payload: with_nul.payload.clone(),
            at: chrono::Utc::now(),
        }],
        snapshot: Some(b"state".to_vec()),
        wake_at: None,
        approvals: Vec::new(),
        actions: Vec::new(),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    writer
        .complete(
            c,
            Some(Box::new(move |r| {
                let _ = tx.send(r.map_err(|e| e.to_string()));
            })),
        )
        .await
        .unwrap();
    assert_eq!(rx.await.unwrap(), Ok(()));
    let episodes = s.store.episodes(&t, id, 10, None).await.unwrap();
    assert_eq!(episodes[0].1.payload["text"], text);
}

async fn a_write_larger_than_a_batch_is_refused_alone_naming_its_size(s: &TestStore) {
    let (t, id) = hired(s).await;
    let cfg = StoreConfig {
        write_batch_bytes: 64 * 1024,
        write_queue_bytes: 256 * 1024,
        ..StoreConfig::default()
    };
    let (writer, _task) = StoreWriter::start(s.store.clone(), &cfg);
    let big = event(&t, id, json!({"text": "x".repeat(100 * 1024)}));
    let small: Vec<Event> = (0..20)
        .map(|n| {
            event(
                &t,
                id,
                json!({"text": format!("small {n}"), "pad": "y".repeat(8 * 1024)}),
            )
        })
        .collect();
    let w = writer.clone();
    let big_write = tokio::spawn(async move { w.accept(big).await });
    let results = futures::future::join_all(small.into_iter().map(|e| {
        let w = writer.clone();
        async move { w.accept(e).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    match big_write.await.unwrap() {
        Err(e @ WriteError::TooLarge { bytes, limit }) => {
            assert!(bytes > 100 * 1024 && limit == 64 * 1024, "{e}");
            assert!(e.to_string().contains("store.write_batch_bytes"), "{e}");
        }
        other => panic!("the oversized write must be refused, got {other:?}"),
    }
    // 20 writes of 8 KiB did not fit one 64 KiB batch: they were split, all stored.
    assert_eq!(s.store.pending_events(&t, id, 100).await.unwrap().len(), 20);
}

async fn start_node(s: &TestStore) -> Node {
    let mut opts = options("acme");
    opts.runtime.max_event_attempts = 3;
    opts.runtime.max_restarts = 10;
    Node::start_with_store(s.store.clone(), opts).await.unwrap()
}

async fn chat(node: &Node, id: EmployeeId, conversation: &str, text: &str) -> String {
    node.submit_event(
        id,
        NewEvent {
            kind: "chat.message".into(),
            source: "chat".into(),
            payload: json!({"from": conversation, "conversation": conversation, "text": text}),
            idempotency_key: None,
        },
    )
    .await
    .unwrap()
    .event_id
    .to_string()
}

async fn an_action_whose_decision_was_not_stored_never_runs_and_its_event_is_set_aside(
    s: &TestStore,
) {
    let node = start_node(s).await;
    let id = node
        .hire(HireRequest::new("csm", "Riley Park"))
        .await
        .unwrap()
        .id;
    // The employee answers chat; the database refuses to store an answer addressed to
    // the "poison" conversation, so the decision to answer is never committed.
    refuse_poison(s, "outbox", "params").await;
    let bad = chat(&node, id, "poison-room", "Can you hear me?").await;
    let dead = eventually(30, "the event set aside", || async {
        let d = node.dead_letters(id, 10).await.unwrap();
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event.id.to_string(), bad);
    assert_eq!(dead[0].attempts, 3);
    assert!(
        dead[0].reason.contains("could not be stored"),
        "{}",
        dead[0].reason
    );
    // It never ran: nothing was posted in that conversation, no action is stored.
    let posted = node
        .chat_messages(id, Some("poison-room"), 10)
        .await
        .unwrap();
    assert!(posted.is_empty(), "{posted:?}");
    assert!(
        node.actions(id, 100).await.unwrap().iter().all(|a| !a
            .entry
            .params
            .to_string()
            .contains("poison"))
    );
    // An episode says it was set aside; the employee goes on with the rest.
    let episodes = node.episodes(id, 100, None).await.unwrap();
    assert!(
        episodes
            .iter()
            .any(|(_, e)| e.summary == "set aside: chat.message"),
        "{:?}",
        episodes.iter().map(|(_, e)| &e.summary).collect::<Vec<_>>()
    );
    chat(&node, id, "Sarah Chen", "Are you there?").await;
    eventually(20, "the next message answered", || async {
        let m = node
            .chat_messages(id, Some("Sarah Chen"), 10)
            .await
            .unwrap();
        m.iter().any(|m| m.from != "Sarah Chen").then_some(())
    })
    .await;
    // Once the database takes it again, the operator retries it: answered once.
    stop_refusing(s, "outbox").await;
    node.retry_dead_letter(id, dead[0].event.id).await.unwrap();
    eventually(20, "the retried message answered", || async {
        let m = node
            .chat_messages(id, Some("poison-room"), 10)
            .await
            .unwrap();
        (m.len() == 1).then_some(())
    })
    .await;
    assert!(node.dead_letters(id, 10).await.unwrap().is_empty());
    node.shutdown().await;
}

/// Stores a pending action in the outbox with the snapshot naming it, as a node that
/// died right after committing the decision leaves it.
pub(super) async fn pending_action(
    s: &TestStore,
    t: &TenantId,
    employee: EmployeeId,
    kind: &str,
    params: serde_json::Value,
) -> String {
    let (writer, _task) = StoreWriter::start(s.store.clone(), &StoreConfig::default());
    let action = 1 << 49;
    let key = empla::model::OutboxEntry::key_for(employee, action);
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<(), Arc<StoreError>>>();
    writer
        .complete(
            empla::store::Completion {
                fence: None,
                tenant: t.clone(),
                employee,
                event_id: None,
                episodes: Vec::new(),
                snapshot: Some(
                    rmp_serde::to_vec_named(&empla::actors::Snapshot {
                        outbox: [action].into(),
                        ..Default::default()
                    })
                    .unwrap(),
                ),
                wake_at: None,
                approvals: Vec::new(),
                actions: vec![empla::model::OutboxEntry {
                    key: key.clone(),
                    employee_id: employee,
                    action_id: action,
                    kind: kind.into(),
                    params,
                }],
            },
            Some(Box::new(move |r| {
                let _ = tx.send(r);
            })),
        )
        .await
        .unwrap();
    rx.await.unwrap().unwrap();
    key
}

async fn a_task_update_retried_after_a_crash_still_tells_the_requester_once(s: &TestStore) {
    let node = start_node(s).await;
    let id = node
        .hire(HireRequest::new("ea", "Casey Kim"))
        .await
        .unwrap()
        .id;
    let task = node
        .assign_task(
            id,
            NewTask {
                description: "Book the offsite venue".into(),
                priority: None,
                deadline: None,
                requester: Some("Alex Morgan <alex.morgan@example.com>".into()),
            },
            "api",
            "api",
        )
        .await
        .unwrap();
    let t = node.tenant().clone();
    node.shutdown().await;
    // The node died after storing the task's update and before telling Alex: the
    // update is in the task, its action still pending.
    let key = pending_action(
        s,
        &t,
        id,
        "task.update",
        json!({"task_id": task.id, "status": "done", "result": "Booked the lake house."}),
    )
    .await;
    s.store
        .update_task(
            &t,
            &task.id,
            &empla::store::TaskUpdate {
                status: Some(empla::model::TaskStatus::Done),
                progress: Some(1.0),
                result: Some("Booked the lake house.".into()),
                intention: None,
            },
            &key,
        )
        .await
        .unwrap()
        .unwrap();
    let node = start_node(s).await;
    let told = eventually(20, "Alex told the task is done", || async {
        let inbox = node
            .mail_inbox("alex.morgan@example.com", 10)
            .await
            .unwrap();
        let done: Vec<_> = inbox
            .into_iter()
            .filter(|m| m.subject.starts_with("Task update") && m.body.starts_with("Done"))
            .collect();
        (!done.is_empty()).then_some(done)
    })
    .await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].body.contains("lake house"), "{}", told[0].body);
    eventually(20, "the action finished", || async {
        let a = node.actions(id, 10).await.unwrap();
        a.iter()
            .any(|a| a.entry.key == key && a.status == empla::model::ActionStatus::Done)
            .then_some(())
    })
    .await;
    node.shutdown().await;
}

async fn a_chat_answer_resumed_after_a_crash_is_stored_once(s: &TestStore) {
    let node = start_node(s).await;
    let id = node
        .hire(HireRequest::new("csm", "Riley Park"))
        .await
        .unwrap()
        .id;
    let t = node.tenant().clone();
    node.shutdown().await;
    let key = pending_action(
        s,
        &t,
        id,
        "chat.reply",
        json!({"conversation": "Sarah Chen", "text": "Your renewal is on track."}),
    )
    .await;
    // The node died right after posting it on the built-in chat, before the outcome.
    s.store
        .put_chat(
            &t,
            &empla::store::ChatMessage {
                seq: 0,
                employee_id: id,
                conversation: "Sarah Chen".into(),
                from: "riley.park".into(),
                text: "Your renewal is on track.".into(),
                in_reply_to: None,
                thread: None,
                action: Some(key.clone()),
                at: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
    let node = start_node(s).await;
    eventually(20, "the resumed answer finished", || async {
        let a = node.actions(id, 10).await.unwrap();
        a.iter()
            .any(|a| a.entry.key == key && a.status == empla::model::ActionStatus::Done)
            .then_some(())
    })
    .await;
    let said = node
        .chat_messages(id, Some("Sarah Chen"), 10)
        .await
        .unwrap();
    assert_eq!(said.len(), 1, "{said:?}");
    node.shutdown().await;
}

/// The stated bound on one employee's stored state after any flood (see
/// `empla::bdi::bounds`).
const STATE_BOUND: usize = 128 * 1024;

/// 20,000 mails from distinct senders, none answered, and events of 500 distinct kinds
/// to one employee: its stored state stays under [`STATE_BOUND`], keeping the newest.
async fn an_employee_flooded_with_mail_and_event_kinds_keeps_a_bounded_state(s: &TestStore) {
    use futures::StreamExt;
    let kind = |k: usize| NewEvent {
        kind: format!("custom.kind{k}"),
        source: "test".into(),
        payload: json!({"n": k, "note": "é".repeat(5_000)}),
        idempotency_key: None,
    };
    let node = start_node(s).await;
    let id = node
        .hire(HireRequest::new("csm", "Riley Park"))
        .await
        .unwrap()
        .id;
    let t = node.tenant().clone();
    let events = (0..20_000)
        .map(|i| NewEvent {
            kind: "email.received".into(),
            source: "email".into(),
            payload: json!({
                "from": format!("customer{i}@client{i}.example"),
                "message_id": format!("<m{i}.{}@client{i}.example>", "x".repeat(24)),
                "subject": format!("Question {i}"),
                "body": "Could you tell me where my renewal stands?",
            }),
            idempotency_key: None,
        })
        .chain((0..499).map(kind));
    let accepted: Vec<_> = futures::stream::iter(events)
        .map(|e| node.submit_event(id, e))
        .buffered(64)
        .collect()
        .await;
    assert!(accepted.iter().all(Result::is_ok));
    // The last one after all the others, so it is handled last.
    node.submit_event(id, kind(499)).await.unwrap();
    // Handled when the last event's payload is what the employee last saw of its kind.
    let (state, mind) = eventually(300, "the flood was handled", || async {
        let state = s.store.snapshot(&t, id).await.unwrap()?;
        let snap: empla::actors::Snapshot = rmp_serde::from_slice(&state).unwrap();
        let mind = snap.mind?;
        mind.beliefs.get("last.custom.kind499")?;
        Some((state, mind))
    })
    .await;
    node.shutdown().await;
    eprintln!("stored state after the flood: {} bytes", state.len());
    assert!(
        state.len() < STATE_BOUND,
        "the stored state is {} bytes, over {STATE_BOUND}",
        state.len()
    );
    let unanswered = &mind.watch.unanswered;
    assert!(unanswered.len() <= empla::bdi::bounds::UNANSWERED_KEPT);
    assert!(
        unanswered.contains_key(&format!("<m19999.{}@client19999.example>", "x".repeat(24))),
        "the newest unanswered mail is still watched"
    );
    assert!(mind.beliefs.count_prefix("last.") <= empla::bdi::bounds::EVENT_BELIEFS_KEPT);
    let last = mind.beliefs.get("last.custom.kind499").unwrap();
    assert!(
        last.value["note"].as_str().unwrap().len() <= 1024,
        "a big payload is cut"
    );
    assert_eq!(last.value["n"], 499);
}
