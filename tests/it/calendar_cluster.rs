//! Calendar bookings in a cluster: two nodes on one PostgreSQL database book meetings
//! with the same person at the same time, and never give anyone two meetings at once;
//! the store's booking lock that keeps them apart waits for its holder and is freed
//! when the holder's session ends. PostgreSQL only, but for the lock on SQLite (which
//! serves one node): there, two handles on one file take turns in the process.

use super::calendar::{meeting, next_weekday_at_ten};
use super::common::{self, Admin, TestStore, eventually};
use chrono::Duration;
use empla::config::StoreConfig;
use empla::lifecycle::HireRequest;
use empla::model::{EventStatus, NewMeeting, TenantId};
use empla::node::Node;
use empla::store::Store;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;

/// Another handle on `s`'s database and schema, as a second node of the cluster has.
async fn second_handle(s: &TestStore) -> Store {
    let Admin::Postgres(url, schema) = &s.admin else {
        unreachable!("cluster tests run on PostgreSQL only")
    };
    let opts = PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    Store::connect_postgres(opts, &StoreConfig::default())
        .await
        .unwrap()
}

/// The test database, reached directly.
async fn admin_pool(s: &TestStore) -> sqlx::PgPool {
    let Admin::Postgres(url, _) = &s.admin else {
        unreachable!("cluster tests run on PostgreSQL only")
    };
    sqlx::PgPool::connect(url).await.unwrap()
}

/// The server sessions holding (`granted`) or waiting for the advisory lock `key`.
async fn sessions_on(admin: &sqlx::PgPool, key: i64, granted: bool) -> Vec<i32> {
    let bits = key as u64;
    sqlx::query_scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 \
         AND classid::bigint = $1 AND objid::bigint = $2 AND granted = $3",
    )
    .bind((bits >> 32) as i64)
    .bind((bits & 0xffff_ffff) as i64)
    .bind(granted)
    .fetch_all(admin)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_never_book_the_same_free_time_for_one_person() {
    let Some(s) = common::postgres().await else {
        return;
    };
    let a = Node::start_with_store(s.store.clone(), common::options("cluster"))
        .await
        .unwrap();
    let b = Node::start_with_store(second_handle(&s).await, common::options("cluster"))
        .await
        .unwrap();
    let riley = a
        .hire(HireRequest::new("sales_ae", "Riley Quinn"))
        .await
        .unwrap();
    let casey = b.hire(HireRequest::new("ea", "Casey Park")).await.unwrap();
    let asked = next_weekday_at_ten();
    let sam = "sam@acme.com";
    // Each round both nodes book Sam at once: the first round at the time asked for,
    // later ones at the best time still free — the same one for both, unless they
    // take turns.
    let rounds = 15;
    for round in 0..rounds {
        let want = |title: &str| NewMeeting {
            start: Some(asked),
            ..meeting(&format!("{title} {round}"), &[sam], 30)
        };
        let (x, y) = tokio::join!(
            a.book_meeting(riley.id, want("Pricing call")),
            b.book_meeting(casey.id, want("Planning")),
        );
        x.unwrap();
        y.unwrap();
    }
    let mut booked: Vec<_> = a
        .calendar(sam, asked - Duration::days(1), asked + Duration::days(14))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.status == EventStatus::Confirmed)
        .collect();
    assert_eq!(booked.len(), 2 * rounds, "{booked:#?}");
    booked.sort_by_key(|e| e.start);
    for w in booked.windows(2) {
        assert!(
            w[1].start >= w[0].end,
            "Sam has two meetings at once: \"{}\" {}–{} and \"{}\" {}–{}",
            w[0].title,
            w[0].start,
            w[0].end,
            w[1].title,
            w[1].start,
            w[1].end
        );
    }
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_booking_lock_waits_until_the_first_is_dropped() {
    let Some(s) = common::postgres().await else {
        return;
    };
    let admin = admin_pool(&s).await;
    let other = second_handle(&s).await;
    let tenant = TenantId::new("locks");
    let first = s.store.booking_lock(&tenant).await.unwrap();
    let key = first.advisory_key().expect("PostgreSQL locks have a key");
    let waiting = tokio::spawn({
        let tenant = tenant.clone();
        async move { other.booking_lock(&tenant).await }
    });
    // The second node's session waits in the server for the lock the first holds.
    eventually(
        30,
        "the second booking lock to wait for the first",
        || async { (sessions_on(&admin, key, false).await.len() == 1).then_some(()) },
    )
    .await;
    assert!(
        !waiting.is_finished(),
        "the second lock was taken while the first was held"
    );
    assert_eq!(sessions_on(&admin, key, true).await.len(), 1);
    drop(first);
    let second = waiting.await.unwrap().unwrap();
    assert_eq!(second.advisory_key(), Some(key));
    let holders = sessions_on(&admin, key, true).await;
    assert_eq!(holders.len(), 1, "one session holds it: {holders:?}");
    assert!(sessions_on(&admin, key, false).await.is_empty());
    drop(second);
    // Released on drop: the server soon shows no holder.
    eventually(30, "the booking lock to be released", || async {
        sessions_on(&admin, key, true)
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    // Another tenant's bookings never wait for this one's.
    let mine = s.store.booking_lock(&tenant).await.unwrap();
    let theirs = s
        .store
        .booking_lock(&TenantId::new("others"))
        .await
        .unwrap();
    assert_ne!(mine.advisory_key(), theirs.advisory_key());
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_lock_is_freed_when_the_session_holding_it_ends() {
    let Some(s) = common::postgres().await else {
        return;
    };
    let admin = admin_pool(&s).await;
    let other = second_handle(&s).await;
    let tenant = TenantId::new("locks");
    let first = s.store.booking_lock(&tenant).await.unwrap();
    let key = first.advisory_key().expect("PostgreSQL locks have a key");
    // The node holding it dies: its session ends.
    let holders = sessions_on(&admin, key, true).await;
    assert_eq!(holders.len(), 1, "{holders:?}");
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(holders[0])
        .execute(&admin)
        .await
        .unwrap();
    let second = other.booking_lock(&tenant).await.unwrap();
    drop(second);
    // Unlocking on the dead session fails; its connection is closed, not pooled, and
    // the store goes on taking the lock.
    drop(first);
    for _ in 0..3 {
        drop(s.store.booking_lock(&tenant).await.unwrap());
        drop(other.booking_lock(&tenant).await.unwrap());
    }
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_booking_locks_of_one_file_and_tenant_take_turns() {
    let s = common::sqlite().await;
    let Admin::Sqlite(url) = &s.admin else {
        unreachable!("an SQLite test store")
    };
    let other = Store::connect(url, &StoreConfig::default()).await.unwrap();
    let tenant = TenantId::new("locks");
    let first = s.store.booking_lock(&tenant).await.unwrap();
    assert_eq!(first.advisory_key(), None);
    // Another tenant's bookings never wait for this one's.
    drop(other.booking_lock(&TenantId::new("others")).await.unwrap());
    let waiting = tokio::spawn({
        let tenant = tenant.clone();
        async move { other.booking_lock(&tenant).await.map(|_| ()) }
    });
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(
        !waiting.is_finished(),
        "the second lock was taken while the first was held"
    );
    drop(first);
    waiting.await.unwrap().unwrap();
}
