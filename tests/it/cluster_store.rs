//! The cluster's guarantees at the store (PostgreSQL only; a cluster runs on nothing
//! else): a commit made under a lease that moved on is refused whole, and a database is
//! used either by a cluster or by a node alone, never both.

use empla::cluster::Fence;
use empla::model::{EmployeeId, Episode, EpisodeId, EpisodeKind, TenantId};
use empla::store::{Completion, StoreError, StoreMode, StoreWriter};
use std::sync::Arc;
use std::time::Duration;

const TTL: Duration = Duration::from_secs(30);

fn completion(tenant: &TenantId, employee: EmployeeId, fence: Fence, what: &str) -> Completion {
    Completion {
        tenant: tenant.clone(),
        employee,
        event_id: None,
        episodes: vec![Episode {
            id: EpisodeId::new(),
            tenant: tenant.clone(),
            employee_id: employee,
            kind: EpisodeKind::Decision,
            event_id: None,
            cause_id: None,
            channel: None,
            summary: what.into(),
            payload: serde_json::json!({}),
            at: chrono::Utc::now(),
        }],
        snapshot: Some(what.as_bytes().to_vec()),
        wake_at: None,
        approvals: Vec::new(),
        actions: Vec::new(),
        fence: Some(fence),
    }
}

/// Completes `c` through the group committer; how the commit went.
async fn commit(writer: &StoreWriter, c: Completion) -> Result<(), Arc<StoreError>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    writer
        .complete(
            c,
            Some(Box::new(move |r| {
                let _ = tx.send(r);
            })),
        )
        .await
        .unwrap();
    rx.await.unwrap()
}

fn fence(node: &str, epoch: i64) -> Fence {
    Fence {
        node: node.into(),
        epoch,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_made_under_a_lease_that_moved_on_stores_nothing() {
    let Some(s) = super::common::postgres().await else {
        return;
    };
    let store = &s.store;
    let t = TenantId::new("acme");
    let jordan = EmployeeId::new();
    store.claim_mode(StoreMode::Cluster).await.unwrap();
    store.register_member("a", "http://a", "1").await.unwrap();
    assert_eq!(
        store
            .assign_lease(&t, jordan, TTL)
            .await
            .unwrap()
            .as_deref(),
        Some("a"),
        "the only live node gets the new hire"
    );
    let (writer, _task) = StoreWriter::start(store.clone(), &Default::default());
    commit(&writer, completion(&t, jordan, fence("a", 1), "first"))
        .await
        .expect("the owner's commit under the current epoch is stored");

    // Node a is cut off; its lease is released (as when it runs out) and b claims it.
    store.register_member("b", "http://b", "1").await.unwrap();
    store.release_leases("a", None).await.unwrap();
    let claimed = store.claim_orphans("b", TTL, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].epoch, 2, "a claim moves the epoch on");

    let refused = commit(&writer, completion(&t, jordan, fence("a", 1), "stale"))
        .await
        .expect_err("a commit under the old epoch is fenced");
    assert!(
        matches!(&*refused, StoreError::Fenced(ids) if ids == &vec![jordan]),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("owned by another node"),
        "{refused}"
    );
    assert_eq!(
        store.snapshot(&t, jordan).await.unwrap().as_deref(),
        Some(&b"first"[..]),
        "nothing of the fenced commit was stored"
    );

    writer.resume(jordan).await;
    commit(&writer, completion(&t, jordan, fence("b", 2), "second"))
        .await
        .expect("the new owner's commit is stored");
    assert_eq!(
        store.snapshot(&t, jordan).await.unwrap().as_deref(),
        Some(&b"second"[..])
    );
    let summaries: Vec<String> = store
        .episodes(&t, jordan, 10, None)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.summary)
        .collect();
    assert_eq!(summaries, vec!["second", "first"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_returns_only_the_leases_still_held() {
    let Some(s) = super::common::postgres().await else {
        return;
    };
    let store = &s.store;
    let t = TenantId::new("acme");
    store.claim_mode(StoreMode::Cluster).await.unwrap();
    store.register_member("a", "http://a", "1").await.unwrap();
    let (x, y) = (EmployeeId::new(), EmployeeId::new());
    store.assign_lease(&t, x, TTL).await.unwrap();
    store.assign_lease(&t, y, TTL).await.unwrap();
    assert_eq!(store.renew_leases("a", TTL).await.unwrap().len(), 2);
    // y is handed back and taken by b.
    store.release_leases("a", Some(&[y])).await.unwrap();
    store.register_member("b", "http://b", "1").await.unwrap();
    assert_eq!(store.claim_orphans("b", TTL, 10).await.unwrap().len(), 1);
    let held: Vec<EmployeeId> = store
        .renew_leases("a", TTL)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.employee)
        .collect();
    assert_eq!(held, vec![x]);
    assert_eq!(
        store
            .owner_of(&t, y)
            .await
            .unwrap()
            .map(|(n, _)| n)
            .as_deref(),
        Some("b")
    );
    let counts = store.lease_counts().await.unwrap();
    assert_eq!((counts.total, counts.held, counts.orphaned), (2, 2, 0));
    // A live lease is not claimed by anyone else.
    assert!(store.claim_orphans("b", TTL, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_serves_a_cluster_or_a_node_alone_never_both() {
    let Some(s) = super::common::postgres().await else {
        return;
    };
    let store = &s.store;
    let id = store.claim_mode(StoreMode::Cluster).await.unwrap();
    assert_eq!(store.claim_mode(StoreMode::Cluster).await.unwrap(), id);
    let e = store.claim_mode(StoreMode::Single).await.unwrap_err();
    assert!(
        e.to_string().contains("used by a cluster of nodes")
            && e.to_string().contains("`[cluster] enabled = true`"),
        "{e}"
    );
    // A node alone starting on it is refused, saying why.
    let err =
        match empla::node::Node::start_with_store(store.clone(), super::common::options("acme"))
            .await
        {
            Ok(_) => panic!("a node without a cluster started on a cluster's database"),
            Err(e) => e.to_string(),
        };
    assert!(
        err.contains("cluster: this database is used by a cluster"),
        "{err}"
    );

    let Some(other) = super::common::postgres().await else {
        return;
    };
    other.store.claim_mode(StoreMode::Single).await.unwrap();
    let e = other
        .store
        .claim_mode(StoreMode::Cluster)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("used by a single node"), "{e}");
}
