//! Group commit: one task owns the write side of the hot path and commits many writes
//! in one transaction.
//!
//! A submitter's write is acknowledged only after the transaction holding it has
//! committed, so "accepted" always means "stored". The queue in front of the task is
//! bounded: when the store falls behind, submitters wait instead of memory growing.

use super::store::{Store, StoreError, with_pool};
use super::to_micros;
use crate::model::{EmployeeId, Episode, Event, EventId, TenantId};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The result of accepting an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The event's id (for a duplicate: the id of the first submission).
    pub event_id: EventId,
    /// Whether an event with this id was already stored; a duplicate is not delivered.
    pub duplicate: bool,
}

/// What an employee did with one event, stored atomically: its episodes, the event
/// marked processed, and the employee's state after it.
#[derive(Debug, Clone)]
pub struct Completion {
    /// Tenant.
    pub tenant: TenantId,
    /// The employee.
    pub employee: EmployeeId,
    /// The event handled.
    pub event_id: EventId,
    /// Episodes to record (the event's own first).
    pub episodes: Vec<Episode>,
    /// The employee's state snapshot after handling the event.
    pub snapshot: Option<Vec<u8>>,
}

enum Op {
    Accept(Event, oneshot::Sender<Result<Accepted, Arc<StoreError>>>),
    Complete(Completion),
    Flush(oneshot::Sender<()>),
}

/// Handle to the group-commit task. Cheap to clone.
#[derive(Clone)]
pub struct StoreWriter {
    tx: mpsc::Sender<Op>,
}

/// Why a write could not be done.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The store refused the batch holding this write.
    #[error(transparent)]
    Store(#[from] Arc<StoreError>),
    /// The node is shutting down.
    #[error("the node is shutting down")]
    Closed,
}

impl StoreWriter {
    /// Starts the group-commit task on `store`.
    pub fn start(
        store: Store,
        batch_max: usize,
        queue: usize,
    ) -> (StoreWriter, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let task = tokio::spawn(run(store, rx, batch_max.max(1)));
        (StoreWriter { tx }, task)
    }

    /// Stores `event` in the inbox; returns once it is committed.
    pub async fn accept(&self, event: Event) -> Result<Accepted, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Op::Accept(event, reply))
            .await
            .map_err(|_| WriteError::Closed)?;
        Ok(rx.await.map_err(|_| WriteError::Closed)??)
    }

    /// Queues a completion; it is committed with the next batch.
    pub async fn complete(&self, completion: Completion) -> Result<(), WriteError> {
        self.tx
            .send(Op::Complete(completion))
            .await
            .map_err(|_| WriteError::Closed)
    }

    /// Returns once everything queued before this call is committed (or failed).
    pub async fn flush(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Op::Flush(reply)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Op>, batch_max: usize) {
    let mut batch = Vec::with_capacity(batch_max);
    while rx.recv_many(&mut batch, batch_max).await > 0 {
        let accepts: Vec<&Event> = batch
            .iter()
            .filter_map(|op| {
                if let Op::Accept(e, _) = op {
                    Some(e)
                } else {
                    None
                }
            })
            .collect();
        let completions: Vec<&Completion> = batch
            .iter()
            .filter_map(|op| {
                if let Op::Complete(c) = op {
                    Some(c)
                } else {
                    None
                }
            })
            .collect();
        metrics::histogram!("empla_store_batch_size").record(batch.len() as f64);
        let mut result = commit(&store, &accepts, &completions).await;
        // A busy or briefly unreachable database gets a few more tries before the batch fails.
        for delay in [10, 100, 1000] {
            match &result {
                Err(StoreError::Database(e)) if is_transient(e) => {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    result = commit(&store, &accepts, &completions).await;
                }
                _ => break,
            }
        }
        match result {
            Ok(inserted) => reply_accepted(batch.drain(..), inserted),
            Err(e) => {
                metrics::counter!("empla_store_write_errors_total").increment(1);
                tracing::error!(error = %e, writes = batch.len(), "store write batch failed; nothing in it was acknowledged");
                let e = Arc::new(e);
                for op in batch.drain(..) {
                    match op {
                        Op::Accept(_, reply) => {
                            let _ = reply.send(Err(e.clone()));
                        }
                        Op::Flush(reply) => {
                            let _ = reply.send(());
                        }
                        Op::Complete(_) => {}
                    }
                }
            }
        }
    }
}

/// Answers each accept: the first submission of an inserted id is new, anything else a
/// duplicate.
fn reply_accepted(ops: impl Iterator<Item = Op>, mut inserted: HashSet<String>) {
    for op in ops {
        match op {
            Op::Accept(e, reply) => {
                let duplicate = !inserted.remove(&e.id.to_string());
                let _ = reply.send(Ok(Accepted {
                    event_id: e.id,
                    duplicate,
                }));
            }
            Op::Flush(reply) => {
                let _ = reply.send(());
            }
            Op::Complete(_) => {}
        }
    }
}

fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            !matches!(e, sqlx::Error::PoolClosed)
        }
        sqlx::Error::Database(db) => {
            let m = db.message();
            m.contains("locked")
                || m.contains("busy")
                || db.code().is_some_and(|c| c == "40001" || c == "40P01")
        }
        _ => false,
    }
}

/// Commits one batch in one transaction; returns the ids of the events newly inserted.
async fn commit(
    store: &Store,
    accepts: &[&Event],
    completions: &[&Completion],
) -> Result<HashSet<String>, StoreError> {
    let now = to_micros(chrono::Utc::now());
    // The last snapshot of each employee in the batch wins.
    let mut snapshots: HashMap<(&str, EmployeeId), &[u8]> = HashMap::new();
    for c in completions {
        if let Some(s) = &c.snapshot {
            snapshots.insert((c.tenant.as_str(), c.employee), s);
        }
    }
    let episodes: Vec<&Episode> = completions.iter().flat_map(|c| c.episodes.iter()).collect();
    let mut processed: HashMap<&str, Vec<String>> = HashMap::new();
    for c in completions {
        processed
            .entry(c.tenant.as_str())
            .or_default()
            .push(c.event_id.to_string());
    }
    let snapshots: Vec<_> = snapshots.into_iter().collect();

    let inserted = with_pool!(store, write, |pool| {
        let mut tx = pool.begin().await?;
        let mut inserted = HashSet::new();
        for chunk in accepts.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO inbox (tenant, id, employee_id, kind, source, payload, idempotency_key, received_at) ",
            );
            qb.push_values(chunk, |mut b, e| {
                b.push_bind(e.tenant.as_str().to_owned())
                    .push_bind(e.id.to_string())
                    .push_bind(e.employee.to_string())
                    .push_bind(e.kind.clone())
                    .push_bind(e.source.clone())
                    .push_bind(e.payload.to_string())
                    .push_bind(e.idempotency_key.clone())
                    .push_bind(to_micros(e.received_at));
            });
            qb.push(" ON CONFLICT DO NOTHING RETURNING id");
            let rows: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
            inserted.extend(rows.into_iter().map(|(id,)| id));
        }
        for chunk in episodes.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO episodes (tenant, id, employee_id, kind, event_id, cause_id, summary, payload, at) ",
            );
            qb.push_values(chunk, |mut b, ep| {
                b.push_bind(ep.tenant.as_str().to_owned())
                    .push_bind(ep.id.to_string())
                    .push_bind(ep.employee_id.to_string())
                    .push_bind(ep.kind.as_str())
                    .push_bind(ep.event_id.map(|x| x.to_string()))
                    .push_bind(ep.cause_id.map(|x| x.to_string()))
                    .push_bind(ep.summary.clone())
                    .push_bind(ep.payload.to_string())
                    .push_bind(to_micros(ep.at));
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
        for (tenant, ids) in &processed {
            for chunk in ids.chunks(1000) {
                let mut qb = sqlx::QueryBuilder::new("UPDATE inbox SET processed_at = ");
                qb.push_bind(now)
                    .push(" WHERE tenant = ")
                    .push_bind(tenant.to_string())
                    .push(" AND processed_at IS NULL AND id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await?;
            }
        }
        for chunk in snapshots.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO employee_state (tenant, employee_id, snapshot, updated_at) ",
            );
            qb.push_values(chunk, |mut b, ((tenant, employee), snap)| {
                b.push_bind(tenant.to_string())
                    .push_bind(employee.to_string())
                    .push_bind(snap.to_vec())
                    .push_bind(now);
            });
            qb.push(
                " ON CONFLICT (tenant, employee_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(inserted)
    })?;
    Ok(inserted)
}
