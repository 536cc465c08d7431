//! The store conformance suite: the same tests on SQLite and on PostgreSQL.

use super::common::profile;
use empla::model::{
    ActionStatus, Approval, ApprovalId, ApprovalStatus, EmployeeId, Episode, EpisodeId,
    EpisodeKind, Event, NewEvent, OutboxEntry, TenantId,
};
use empla::store::{Completion, NewHire, Store, StoreError, StoreWriter};

crate::on_every_store!(
    migrations_store_and_read_back_every_table,
    no_query_returns_another_tenants_rows,
    same_email_is_a_conflict_within_a_tenant_only,
    an_event_id_given_twice_is_stored_once,
    completion_records_episode_marks_processed_and_saves_state_together,
    approvals_and_outbox_are_stored_with_the_decision_and_settled_once,
    the_employees_owed_a_review_were_hired_before_the_month_and_have_none,
);

fn ev(tenant: &TenantId, employee: EmployeeId, key: Option<&str>) -> Event {
    let new = NewEvent {
        kind: "email.received".into(),
        source: "test".into(),
        payload: serde_json::json!({"from": "sarah@acme.com", "n": 1}),
        idempotency_key: key.map(Into::into),
    };
    Event::accept(tenant.clone(), employee, new, chrono::Utc::now())
}

fn completion(e: &Event, snapshot: &[u8]) -> Completion {
    Completion {
        fence: None,
        tenant: e.tenant.clone(),
        employee: e.employee,
        event_id: Some(e.id),
        episodes: vec![Episode {
            id: EpisodeId::new(),
            tenant: e.tenant.clone(),
            employee_id: e.employee,
            kind: EpisodeKind::Event,
            event_id: Some(e.id),
            cause_id: None,
            channel: Some(e.source.clone()),
            summary: e.kind.clone(),
            payload: e.payload.clone(),
            at: chrono::Utc::now(),
        }],
        snapshot: Some(snapshot.to_vec()),
        wake_at: None,
        approvals: Vec::new(),
        actions: Vec::new(),
    }
}

fn hire(p: empla::model::EmployeeProfile, key: Option<&str>) -> NewHire {
    NewHire {
        profile: p,
        config_key: key.map(Into::into),
        schedules: vec![("daily".into(), "0 0 6 * * *".into())],
    }
}

async fn migrations_store_and_read_back_every_table(store: Store) {
    let t = TenantId::new("acme");
    let p = profile("acme", "sales_ae", "Jordan Lee", "jordan.lee@acme.com");
    store
        .insert_employees(&[hire(p.clone(), Some("jordan.toml"))])
        .await
        .unwrap();
    assert_eq!(store.employee(&t, p.id).await.unwrap().unwrap(), p);
    assert_eq!(
        store.config_keys(&t).await.unwrap(),
        vec!["jordan.toml".to_string()]
    );
    assert_eq!(
        store.subscribers(&t, "0 0 6 * * *").await.unwrap(),
        vec![(p.id, "daily".to_string())]
    );

    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    let e = ev(&t, p.id, None);
    assert!(!writer.accept(e.clone()).await.unwrap().duplicate);
    assert_eq!(
        store.pending_events(&t, p.id, 10).await.unwrap(),
        vec![e.clone()]
    );
    writer
        .complete(completion(&e, b"state-1"), None)
        .await
        .unwrap();
    writer.flush().await;
    let eps = store.episodes(&t, p.id, 10, None).await.unwrap();
    assert_eq!(eps.len(), 1);
    assert_eq!(eps[0].1.payload, e.payload);
    assert_eq!(
        store.snapshot(&t, p.id).await.unwrap().as_deref(),
        Some(&b"state-1"[..])
    );
}

async fn no_query_returns_another_tenants_rows(store: Store) {
    let a = TenantId::new("tenant-a");
    let b = TenantId::new("tenant-b");
    let pa = profile("tenant-a", "csm", "Sam Rivera", "sam.rivera@example.com");
    let pb = profile("tenant-b", "csm", "Sam Rivera", "sam.rivera@example.com");
    store
        .insert_employees(&[hire(pa.clone(), Some("k")), hire(pb.clone(), Some("k"))])
        .await
        .unwrap();
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    let eb = ev(&b, pb.id, None);
    writer.accept(eb.clone()).await.unwrap();
    let eb2 = ev(&b, pb.id, None);
    writer.accept(eb2.clone()).await.unwrap();
    writer
        .complete(completion(&eb2, b"b-state"), None)
        .await
        .unwrap();
    writer.flush().await;

    // Tenant A sees its own employee and nothing of B's.
    assert!(store.employee(&a, pb.id).await.unwrap().is_none());
    assert!(
        store
            .employee_with_state(&a, pb.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.employees(&a, 100, 0).await.unwrap(), vec![pa.clone()]);
    let mut dir = Vec::new();
    store
        .for_each_directory_row(&a, |r| dir.push(r.id))
        .await
        .unwrap();
    assert_eq!(dir, vec![pa.id.to_string()]);
    assert!(
        store
            .pending_events(&a, pb.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.employees_with_pending(&a).await.unwrap().is_empty());
    assert!(store.event(&a, eb.id).await.unwrap().is_none());
    assert!(
        store
            .episodes(&a, pb.id, 10, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.count_episodes(&a, pb.id, "event").await.unwrap(), 0);
    assert!(store.snapshot(&a, pb.id).await.unwrap().is_none());
    assert_eq!(
        store.subscribers(&a, "0 0 6 * * *").await.unwrap(),
        vec![(pa.id, "daily".to_string())]
    );
    assert_eq!(store.config_keys(&a).await.unwrap().len(), 1);

    // And B sees its own.
    assert_eq!(store.employees_with_pending(&b).await.unwrap(), vec![pb.id]);
    assert_eq!(store.count_episodes(&b, pb.id, "event").await.unwrap(), 1);
    assert!(
        store
            .event(&b, eb.id)
            .await
            .unwrap()
            .is_some_and(|(_, processed)| !processed)
    );
    assert!(
        store
            .event(&b, eb2.id)
            .await
            .unwrap()
            .is_some_and(|(_, processed)| processed)
    );
}

async fn same_email_is_a_conflict_within_a_tenant_only(store: Store) {
    let p1 = profile("acme", "pm", "Casey Kim", "casey.kim@example.com");
    let p2 = profile("acme", "pm", "Casey Kim", "casey.kim@example.com");
    store.insert_employees(&[hire(p1, None)]).await.unwrap();
    match store.insert_employees(&[hire(p2, None)]).await {
        Err(StoreError::Conflict { field }) => {
            assert!(field == "email" || field == "chat_handle", "{field}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let t = TenantId::new("acme");
    assert_eq!(
        store.employees(&t, 10, 0).await.unwrap().len(),
        1,
        "nothing partial is stored"
    );
    let other = profile("globex", "pm", "Casey Kim", "casey.kim@example.com");
    store.insert_employees(&[hire(other, None)]).await.unwrap();
}

async fn an_event_id_given_twice_is_stored_once(store: Store) {
    let t = TenantId::new("acme");
    let p = profile("acme", "sales_ae", "Jordan Lee", "jordan.lee@example.com");
    store
        .insert_employees(&[hire(p.clone(), None)])
        .await
        .unwrap();
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    let first = writer.accept(ev(&t, p.id, Some("order-42"))).await.unwrap();
    let again = writer.accept(ev(&t, p.id, Some("order-42"))).await.unwrap();
    assert!(!first.duplicate);
    assert!(again.duplicate);
    assert_eq!(first.event_id, again.event_id);
    // Two in one batch: one is new, one a duplicate.
    let (x, y) = tokio::join!(
        writer.accept(ev(&t, p.id, Some("k2"))),
        writer.accept(ev(&t, p.id, Some("k2")))
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.event_id, y.event_id);
    assert!(x.duplicate != y.duplicate);
    assert_eq!(store.pending_events(&t, p.id, 10).await.unwrap().len(), 2);
}

async fn completion_records_episode_marks_processed_and_saves_state_together(store: Store) {
    let t = TenantId::new("acme");
    let p = profile("acme", "sales_ae", "Jordan Lee", "jordan.lee@example.com");
    store
        .insert_employees(&[hire(p.clone(), None)])
        .await
        .unwrap();
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    let e = ev(&t, p.id, None);
    writer.accept(e.clone()).await.unwrap();
    writer.complete(completion(&e, b"one"), None).await.unwrap();
    // Completing again (a replay after a crash) records nothing twice.
    writer.complete(completion(&e, b"one"), None).await.unwrap();
    writer.flush().await;
    assert_eq!(store.count_episodes(&t, p.id, "event").await.unwrap(), 1);
    assert!(store.pending_events(&t, p.id, 10).await.unwrap().is_empty());
    assert!(store.event(&t, e.id).await.unwrap().unwrap().1);
}

async fn approvals_and_outbox_are_stored_with_the_decision_and_settled_once(store: Store) {
    let t = TenantId::new("acme");
    let other = TenantId::new("globex");
    let p = profile("acme", "sales_ae", "Jordan Lee", "jordan.lee@acme.com");
    store
        .insert_employees(&[hire(p.clone(), None)])
        .await
        .unwrap();
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    let e = ev(&t, p.id, None);
    writer.accept(e.clone()).await.unwrap();
    let approval = Approval {
        id: ApprovalId::derived(p.id, "action:7"),
        employee_id: p.id,
        status: ApprovalStatus::Pending,
        action: serde_json::json!({"id": 7, "kind": "email.send", "params": {"to": "sarah@acme.com"}}),
        reason: "assisted phase".into(),
        created_at: chrono::DateTime::from_timestamp_micros(1_764_000_000_000_000).unwrap(),
        decided_at: None,
        decided_by: None,
        decision_reason: None,
        recipients: None,
    };
    let entry = OutboxEntry {
        key: OutboxEntry::key_for(p.id, 8),
        employee_id: p.id,
        action_id: 8,
        kind: "crm.find_leads".into(),
        params: serde_json::json!({"count": 10}),
    };
    let mut c = completion(&e, b"s");
    c.approvals.push(approval.clone());
    c.actions.push(entry.clone());
    writer.complete(c.clone(), None).await.unwrap();
    // The same decision recorded twice (a replay) queues one approval and one action.
    writer.complete(c, None).await.unwrap();
    writer.flush().await;

    let queued = store
        .approvals(&t, Some(p.id), Some(ApprovalStatus::Pending), 10)
        .await
        .unwrap();
    assert_eq!(queued, vec![approval.clone()]);
    assert!(
        store
            .approvals(&other, None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.pending_actions(&t, p.id).await.unwrap(),
        vec![entry.clone()]
    );
    assert_eq!(
        store.employees_with_pending_actions(&t).await.unwrap(),
        vec![p.id]
    );
    assert!(
        store
            .employees_with_pending_actions(&other)
            .await
            .unwrap()
            .is_empty()
    );

    // A decision is stored with the event that tells the employee, once.
    let told = ev(&t, p.id, Some("approval:1"));
    assert!(
        store
            .decide_approval(approval.id, true, "manager", Some("fine"), &told)
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_approval(approval.id, false, "someone", None, &told)
            .await
            .unwrap()
    );
    let decided = store.approval(&t, approval.id).await.unwrap().unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert_eq!(decided.decided_by.as_deref(), Some("manager"));
    assert_eq!(decided.decision_reason.as_deref(), Some("fine"));
    assert!(store.approval(&other, approval.id).await.unwrap().is_none());
    // An approval whose intention ended is closed with the cycle that ended it; one a
    // human decided stays as decided.
    let waiting = Approval {
        id: ApprovalId::derived(p.id, "action:9"),
        ..approval.clone()
    };
    let mut c = completion(&ev(&t, p.id, None), b"s2");
    c.event_id = None;
    c.approvals.push(waiting.clone());
    writer.complete(c, None).await.unwrap();
    let now = chrono::Utc::now();
    let mut c = completion(&ev(&t, p.id, None), b"s3");
    c.event_id = None;
    c.approvals.push(Approval::withdrawn(
        waiting.id,
        p.id,
        "its goal is met",
        now,
    ));
    c.approvals
        .push(Approval::withdrawn(approval.id, p.id, "too late", now));
    writer.complete(c, None).await.unwrap();
    writer.flush().await;
    let closed = store.approval(&t, waiting.id).await.unwrap().unwrap();
    assert_eq!(closed.status, ApprovalStatus::Rejected);
    assert_eq!(closed.decided_by.as_deref(), Some("empla"));
    assert_eq!(
        closed.decision_reason.as_deref(),
        Some("withdrawn: its goal is met")
    );
    assert_eq!(closed.action, approval.action, "the action it held is kept");
    let kept = store.approval(&t, approval.id).await.unwrap().unwrap();
    assert_eq!(
        (kept.status, kept.decided_by.as_deref()),
        (ApprovalStatus::Approved, Some("manager"))
    );
    let pending: Vec<_> = store
        .pending_events(&t, p.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(pending, vec![told.id]);

    // An outcome is stored with its event, once.
    let outcome = ev(&t, p.id, Some("outcome:8"));
    let result = serde_json::json!({"error": "no driver"});
    assert!(
        store
            .finish_action(&entry.key, ActionStatus::Unsupported, &result, &outcome)
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_action(&entry.key, ActionStatus::Done, &result, &outcome)
            .await
            .unwrap()
    );
    let actions = store.actions(&t, p.id, 10).await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].status, ActionStatus::Unsupported);
    assert_eq!(actions[0].result, Some(result));
    assert!(store.pending_actions(&t, p.id).await.unwrap().is_empty());
    assert!(
        store
            .employees_with_pending_actions(&t)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.pending_events(&t, p.id, 10).await.unwrap().len(), 2);
}

async fn the_employees_owed_a_review_were_hired_before_the_month_and_have_none(store: Store) {
    use empla::lifecycle::reviews::{Period, compute};
    let t = TenantId::new("acme");
    let now = chrono::Utc::now();
    let long_ago = now - chrono::Duration::days(70);
    let mut jordan = profile("acme", "sales_ae", "Jordan Lee", "jordan.lee@example.com");
    let mut gone = profile("acme", "sales_ae", "Ola Berg", "ola.berg@example.com");
    for p in [&mut jordan, &mut gone] {
        p.created_at = long_ago;
        p.start_date = long_ago;
    }
    gone.status = empla::model::EmployeeStatus::Offboarded;
    let new = profile("acme", "sales_ae", "Riley Quinn", "riley.quinn@example.com");
    let hires = [&jordan, &gone, &new].map(|p| hire(p.clone(), None));
    store.insert_employees(&hires).await.unwrap();
    let month_start = now - chrono::Duration::days(1);
    let last = Period::last_month(now);
    assert_eq!(
        store.unreviewed(&t, &last, month_start).await.unwrap(),
        [jordan.id],
        "the new hire and the offboarded employee are owed none"
    );
    let period = Period::month(Some(&last), jordan.start_date, now).unwrap();
    let r = compute(&jordan, &period, &[], &[], None, "r1".into(), now);
    store.save_review(&t, &r).await.unwrap();
    assert!(
        store
            .unreviewed(&t, &last, month_start)
            .await
            .unwrap()
            .is_empty()
    );
    let before = Period::last_month(now - chrono::Duration::days(31));
    assert_eq!(
        store.unreviewed(&t, &before, month_start).await.unwrap(),
        [jordan.id]
    );
    assert!(
        store
            .unreviewed(&TenantId::new("globex"), &last, month_start)
            .await
            .unwrap()
            .is_empty()
    );
}
