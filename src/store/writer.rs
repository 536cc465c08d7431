//! Group commit: one task per shard owns the write side of the hot path and commits many
//! writes in one transaction.
//!
//! A submitter's write is acknowledged only after the transaction holding it has
//! committed, so "accepted" always means "stored", and a completion's submitter is told
//! its outcome ([`OnCommit`]) — an employee's actions run only after the rows that
//! decided them are committed. The queue in front of each task is bounded in writes and
//! in bytes, and a batch never grows past `store.write_batch_bytes`: when the store
//! falls behind, submitters wait instead of memory growing.
//!
//! One bad write cannot fail everyone else's: a batch the database refuses is split in
//! halves, each tried again, until the write at fault fails alone with its own error.
//! When an employee's completion fails, its later completions are refused too (each
//! snapshot holds what the failed one decided) until the employee resumes from the
//! store ([`StoreWriter::resume`]) and replays what is unprocessed — so nothing it did
//! is recorded half, or twice.

use super::batch::{Findable, commit, is_transient};
use super::{Store, StoreError};
use crate::model::{Approval, EmployeeId, Episode, Event, EventId, OutboxEntry, TenantId};
use dashmap::DashSet;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

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
    /// The event handled, marked processed; none for the employee's own cadence.
    pub event_id: Option<EventId>,
    /// Episodes to record (the event's own first).
    pub episodes: Vec<Episode>,
    /// The employee's state snapshot after handling the event.
    pub snapshot: Option<Vec<u8>>,
    /// When the employee must next reason on its own (stored with the snapshot).
    pub wake_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Approvals to queue.
    pub approvals: Vec<Approval>,
    /// Actions to put in the outbox.
    pub actions: Vec<OutboxEntry>,
    /// In a cluster: the lease it was made under; stored only while that is current.
    pub fence: Option<crate::cluster::Fence>,
}

/// Told once, after the transaction holding a completion committed (`Ok`) or did not.
/// Called on the group committer's task: it must only hand the news on (send a
/// message), never wait.
pub type OnCommit = Box<dyn FnOnce(Result<(), Arc<StoreError>>) + Send + Sync>;

/// Why a write could not be done.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The store refused the write.
    #[error(transparent)]
    Store(#[from] Arc<StoreError>),
    /// The node is shutting down.
    #[error("the node is shutting down")]
    Closed,
    /// The write is larger than one transaction may hold.
    #[error(
        "the write is {bytes} bytes, more than one transaction holds (`store.write_batch_bytes` = {limit}); send less"
    )]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

enum Op {
    Accept(Event, oneshot::Sender<Result<Accepted, Arc<StoreError>>>),
    /// A completion and, per episode, what makes it findable (made by the submitter, so
    /// the group committer only writes).
    Complete(Completion, Vec<Findable>, Option<OnCommit>),
    Flush(oneshot::Sender<()>),
    /// Answered once every write of this employee queued before it is committed:
    /// at once when none waits, else as a [`Op::Flush`].
    FlushOf(EmployeeId, oneshot::Sender<()>),
    /// The employee resumed from the store: its completions are taken again.
    Resume(EmployeeId),
}

/// A queued write: the operation, its size, and the bytes it holds in the queue.
struct Queued {
    op: Op,
    bytes: usize,
    _held: Option<OwnedSemaphorePermit>,
}

/// One group committer's queue.
struct Shard {
    tx: mpsc::Sender<Queued>,
    /// Bytes the queue may still take.
    room: Arc<Semaphore>,
}

/// Handle to the group-commit tasks. Cheap to clone.
#[derive(Clone)]
pub struct StoreWriter {
    /// One group committer per shard; an employee's writes always go to the same one,
    /// so they stay in order.
    shards: Arc<[Shard]>,
    embedder: Arc<dyn crate::memory::Embedder>,
    /// Employees whose completion failed, until they resume.
    poisoned: Arc<DashSet<EmployeeId>>,
    batch_bytes: usize,
}

/// How a group committer batches.
#[derive(Debug, Clone, Copy)]
struct Limits {
    batch_max: usize,
    batch_bytes: usize,
}

impl StoreWriter {
    /// Starts the group-commit tasks on `store` (SQLite always uses one: it has a single
    /// writer; PostgreSQL takes `store.writers` at once).
    pub fn start(
        store: Store,
        cfg: &super::StoreConfig,
    ) -> (StoreWriter, tokio::task::JoinHandle<()>) {
        let shards = match store.kind() {
            crate::store::StoreKind::Sqlite => 1,
            crate::store::StoreKind::Postgres => cfg.writers.max(1),
        };
        let limits = Limits {
            batch_max: cfg.write_batch_max.max(1),
            batch_bytes: cfg.write_batch_bytes.max(1),
        };
        let queue_bytes = (cfg.write_queue_bytes / shards).max(limits.batch_bytes);
        let poisoned: Arc<DashSet<EmployeeId>> = Arc::default();
        let (shards, tasks): (Vec<_>, Vec<_>) = (0..shards)
            .map(|_| {
                let (tx, rx) = mpsc::channel((cfg.write_queue / shards).max(1));
                let room = Arc::new(Semaphore::new(queue_bytes));
                let task = tokio::spawn(run(store.clone(), rx, limits, poisoned.clone()));
                (Shard { tx, room }, task)
            })
            .unzip();
        let embedder = store.embedder().clone();
        let all = tokio::spawn(async move {
            futures::future::join_all(tasks).await;
        });
        (
            StoreWriter {
                shards: shards.into(),
                embedder,
                poisoned,
                batch_bytes: limits.batch_bytes,
            },
            all,
        )
    }

    fn shard(&self, employee: EmployeeId) -> &Shard {
        let n = self.shards.len();
        &self.shards[(employee.0.as_u128() % n as u128) as usize]
    }

    /// Queues `op` of `bytes` for `employee`'s group committer, holding its bytes in the
    /// queue until it is answered. Without waiting when the queue has room (almost
    /// always), so the future stays small — and so does every actor loop awaiting it;
    /// a full queue is waited on in a boxed future, in order with the other waiting
    /// senders (tokio hands freed room to waiters first).
    async fn queue(&self, employee: EmployeeId, op: Op, bytes: usize) -> Result<(), WriteError> {
        let shard = self.shard(employee);
        let permits = bytes.min(u32::MAX as usize) as u32;
        if let Ok(held) = shard.room.clone().try_acquire_many_owned(permits) {
            let queued = Queued {
                op,
                bytes,
                _held: Some(held),
            };
            return match shard.tx.try_send(queued) {
                Ok(()) => Ok(()),
                Err(mpsc::error::TrySendError::Full(q)) => Box::pin(shard.tx.send(q))
                    .await
                    .map_err(|_| WriteError::Closed),
                Err(mpsc::error::TrySendError::Closed(_)) => Err(WriteError::Closed),
            };
        }
        Box::pin(self.queue_waiting(shard, op, bytes)).await
    }

    /// [`StoreWriter::queue`] when the queue is full of bytes: wait for room.
    async fn queue_waiting(&self, shard: &Shard, op: Op, bytes: usize) -> Result<(), WriteError> {
        let held = shard
            .room
            .clone()
            .acquire_many_owned(bytes.min(u32::MAX as usize) as u32)
            .await
            .map_err(|_| WriteError::Closed)?;
        shard
            .tx
            .send(Queued {
                op,
                bytes,
                _held: Some(held),
            })
            .await
            .map_err(|_| WriteError::Closed)
    }

    /// Stores `event` in the inbox; returns once it is committed.
    pub async fn accept(&self, event: Event) -> Result<Accepted, WriteError> {
        let bytes = size::event(&event);
        if bytes > self.batch_bytes {
            return Err(WriteError::TooLarge {
                bytes,
                limit: self.batch_bytes,
            });
        }
        let (reply, rx) = oneshot::channel();
        self.queue(event.employee, Op::Accept(event, reply), bytes)
            .await?;
        Ok(rx.await.map_err(|_| WriteError::Closed)??)
    }

    /// Queues a completion; it is committed with a following batch, and `on_commit` is
    /// told how that went. A completion of an employee whose earlier one failed is
    /// refused until the employee resumes.
    pub async fn complete(
        &self,
        completion: Completion,
        on_commit: Option<OnCommit>,
    ) -> Result<(), WriteError> {
        let findable: Vec<Findable> = completion
            .episodes
            .iter()
            .map(|e| Findable::of(&e.summary, &e.payload, &*self.embedder))
            .collect();
        let bytes = size::completion(&completion, &findable);
        if bytes > self.batch_bytes {
            let e = WriteError::TooLarge {
                bytes,
                limit: self.batch_bytes,
            };
            // The employee cannot go on as if it were stored: it resumes from the store.
            self.poisoned.insert(completion.employee);
            if let Some(f) = on_commit {
                f(Err(Arc::new(StoreError::Refused(e.to_string()))));
            }
            return Err(e);
        }
        let employee = completion.employee;
        self.queue(
            employee,
            Op::Complete(completion, findable, on_commit),
            bytes,
        )
        .await
    }

    /// The employee starts again from what the store holds: if a completion of its
    /// failed, its next ones are taken again. Answers whether one had failed (then a
    /// [`StoreWriter::flush`] settles what was queued before, ahead of reading).
    pub async fn resume(&self, employee: EmployeeId) -> bool {
        if self.poisoned.contains(&employee) {
            let _ = self.queue(employee, Op::Resume(employee), 0).await;
            true
        } else {
            false
        }
    }

    /// Returns once every write of `employee` queued before this call is committed (or
    /// failed). Costs no commit when none is waiting, so an employee waking up does not
    /// make an event being accepted wait behind others' bookkeeping.
    pub async fn flush_employee(&self, employee: EmployeeId) {
        let (reply, rx) = oneshot::channel();
        if self
            .queue(employee, Op::FlushOf(employee, reply), 0)
            .await
            .is_ok()
        {
            let _ = rx.await;
        }
    }

    /// Returns once everything queued before this call is committed (or failed).
    pub async fn flush(&self) {
        futures::future::join_all(self.shards.iter().map(|shard| async move {
            let (reply, rx) = oneshot::channel();
            let queued = Queued {
                op: Op::Flush(reply),
                bytes: 0,
                _held: None,
            };
            if shard.tx.send(queued).await.is_ok() {
                let _ = rx.await;
            }
        }))
        .await;
    }
}

/// How long completions may wait for a transaction of their own while accepts — which
/// someone is waiting on — commit first. Their actions start at most this much later.
const HOLD: Duration = Duration::from_millis(5);

/// Completions held back while accepts commit first.
struct Held {
    ops: Vec<Queued>,
    bytes: usize,
    since: tokio::time::Instant,
}

impl Held {
    fn due(&self, limits: Limits) -> bool {
        !self.ops.is_empty()
            && (self.since.elapsed() >= HOLD
                || self.ops.len() >= limits.batch_max
                || self.bytes >= limits.batch_bytes)
    }

    fn take(&mut self) -> Vec<Queued> {
        self.bytes = 0;
        std::mem::take(&mut self.ops)
    }
}

/// One group committer: gathers what is queued into batches, bounded in writes and
/// bytes, and commits each. Accepts go first: they commit on their own at once, and
/// completions wait (at most [`HOLD`], or until a batch of them is full) to commit
/// together — so a caller waiting for its event to be stored never waits behind an
/// employee's bookkeeping. A flush commits everything queued before it.
async fn run(
    store: Store,
    mut rx: mpsc::Receiver<Queued>,
    limits: Limits,
    poisoned: Arc<DashSet<EmployeeId>>,
) {
    let mut carried: Option<Queued> = None;
    let mut held = Held {
        ops: Vec::new(),
        bytes: 0,
        since: tokio::time::Instant::now(),
    };
    loop {
        let first = match carried.take() {
            Some(q) => Some(q),
            None if held.ops.is_empty() => rx.recv().await,
            None => match tokio::time::timeout_at(held.since + HOLD, rx.recv()).await {
                Ok(q) => q,
                Err(_) => {
                    settle(&store, held.take(), &poisoned).await;
                    continue;
                }
            },
        };
        let Some(first) = first else {
            // Closed: what is held is committed before the committer ends.
            if !held.ops.is_empty() {
                settle(&store, held.take(), &poisoned).await;
            }
            return;
        };
        let mut bytes = 0;
        let mut batch = Vec::with_capacity(limits.batch_max.min(256));
        let mut next = Some(first);
        while let Some(q) = next.take() {
            // What the batch cannot take starts the next one.
            if !batch.is_empty() && bytes + q.bytes > limits.batch_bytes {
                carried = Some(q);
                break;
            }
            match q.op {
                Op::Resume(e) => {
                    poisoned.remove(&e);
                }
                Op::Complete(c, _, on_commit) if poisoned.contains(&c.employee) => {
                    refuse(on_commit, &c);
                }
                Op::FlushOf(e, reply) => {
                    let waiting = held
                        .ops
                        .iter()
                        .chain(&batch)
                        .any(|w| matches!(&w.op, Op::Complete(c, ..) if c.employee == e));
                    if waiting {
                        batch.push(Queued {
                            op: Op::Flush(reply),
                            ..q
                        });
                    } else {
                        let _ = reply.send(());
                    }
                }
                op => {
                    bytes += q.bytes;
                    batch.push(Queued { op, ..q });
                }
            }
            if batch.len() < limits.batch_max {
                next = rx.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        if batch.iter().any(|q| matches!(q.op, Op::Flush(_))) {
            // Everything before a flush is committed before it is answered.
            if !held.ops.is_empty() {
                settle(&store, held.take(), &poisoned).await;
            }
            record(&batch, bytes);
            settle(&store, batch, &poisoned).await;
            continue;
        }
        let (completions, now): (Vec<Queued>, Vec<Queued>) = batch
            .into_iter()
            .partition(|q| matches!(q.op, Op::Complete(..)));
        let now_bytes: usize = now.iter().map(|q| q.bytes).sum();
        if !now.is_empty() {
            record(&now, now_bytes);
            settle(&store, now, &poisoned).await;
        }
        if held.ops.is_empty() {
            held.since = tokio::time::Instant::now();
        }
        held.bytes += bytes - now_bytes;
        held.ops.extend(completions);
        if held.due(limits) {
            let ops = held.take();
            let b = ops.iter().map(|q| q.bytes).sum();
            record(&ops, b);
            settle(&store, ops, &poisoned).await;
        }
    }
}

fn record(batch: &[Queued], bytes: usize) {
    metrics::histogram!("empla_store_batch_size").record(batch.len() as f64);
    metrics::histogram!("empla_store_batch_bytes").record(bytes as f64);
}

/// A later completion of an employee whose earlier one failed.
fn refuse(on_commit: Option<OnCommit>, c: &Completion) {
    metrics::counter!("empla_store_write_errors_total").increment(1);
    if let Some(f) = on_commit {
        f(Err(Arc::new(StoreError::Refused(format!(
            "an earlier write of employee {} failed; it resumes from the store and handles {} again",
            c.employee,
            c.event_id
                .map_or("its own cadence".to_string(), |e| format!("event {e}"))
        )))));
    }
}

/// Commits `batch` and answers every write in it. A batch the database refuses (for a
/// reason other than being busy or unreachable) is split in halves, each settled in
/// order, until the write at fault fails alone.
fn settle<'a>(
    store: &'a Store,
    batch: Vec<Queued>,
    poisoned: &'a DashSet<EmployeeId>,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        // A completion of an employee that failed in an earlier half is refused.
        let mut ops = Vec::with_capacity(batch.len());
        for q in batch {
            match q.op {
                Op::Complete(c, _, on_commit) if poisoned.contains(&c.employee) => {
                    refuse(on_commit, &c)
                }
                op => ops.push(Queued { op, ..q }),
            }
        }
        if ops.is_empty() {
            return;
        }
        let result = commit_with_retries(store, &ops).await;
        match result {
            Ok(inserted) => answer(ops, Ok(inserted), poisoned),
            Err(StoreError::Fenced(ids)) => {
                // Their leases moved on: what they did here is refused, the rest of the
                // batch is tried again without them.
                let (fenced, rest): (Vec<Queued>, Vec<Queued>) = ops.into_iter().partition(
                    |q| matches!(&q.op, Op::Complete(c, ..) if ids.contains(&c.employee)),
                );
                metrics::counter!("empla_cluster_fenced_commits_total")
                    .increment(fenced.len() as u64);
                tracing::warn!(employees = ?ids, writes = fenced.len(), "commits fenced: these employees are owned by another node now; nothing of theirs is stored here");
                for id in &ids {
                    poisoned.insert(*id);
                }
                answer(fenced, Err(Arc::new(StoreError::Fenced(ids))), poisoned);
                settle(store, rest, poisoned).await;
            }
            Err(e) if ops.len() > 1 && !busy(&e) => {
                metrics::counter!("empla_store_batch_splits_total").increment(1);
                tracing::warn!(error = %e, writes = ops.len(), "store batch refused; splitting it to find the write at fault");
                let right = ops.split_off(ops.len() / 2);
                settle(store, ops, poisoned).await;
                settle(store, right, poisoned).await;
            }
            Err(e) => {
                let writes = ops.iter().filter(|q| !matches!(q.op, Op::Flush(_))).count();
                metrics::counter!("empla_store_write_errors_total").increment(writes as u64);
                tracing::error!(error = %e, writes, "store write failed; nothing in it was acknowledged");
                answer(ops, Err(Arc::new(e)), poisoned);
            }
        }
    })
}

/// Whether the store is busy or out of reach, rather than refusing a write: splitting
/// would not help.
fn busy(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(db) if is_transient(db))
}

impl StoreError {
    /// Whether the store is busy or out of reach, rather than refusing this one write:
    /// any write would fail now, and trying later may succeed.
    pub fn is_outage(&self) -> bool {
        busy(self)
    }
}

impl WriteError {
    /// Whether any write would fail now (the store is out of reach, the node is
    /// stopping), rather than this one being refused.
    pub fn is_outage(&self) -> bool {
        match self {
            WriteError::Store(e) => e.is_outage(),
            WriteError::Closed => true,
            WriteError::TooLarge { .. } => false,
        }
    }
}

/// Commits `ops`, giving a busy or briefly unreachable database a few more tries.
async fn commit_with_retries(store: &Store, ops: &[Queued]) -> Result<HashSet<String>, StoreError> {
    let accepts: Vec<&Event> = ops
        .iter()
        .filter_map(|q| match &q.op {
            Op::Accept(e, _) => Some(e),
            _ => None,
        })
        .collect();
    let completions: Vec<(&Completion, &[Findable])> = ops
        .iter()
        .filter_map(|q| match &q.op {
            Op::Complete(c, f, _) => Some((c, f.as_slice())),
            _ => None,
        })
        .collect();
    if accepts.is_empty() && completions.is_empty() {
        return Ok(HashSet::new());
    }
    let started = std::time::Instant::now();
    let mut result = commit(store, &accepts, &completions).await;
    for delay in [10, 100, 1000] {
        match &result {
            Err(e) if busy(e) => {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                result = commit(store, &accepts, &completions).await;
            }
            _ => break,
        }
    }
    tracing::trace!(accepts = accepts.len(), completions = completions.len(), elapsed = ?started.elapsed(), "batch committed");
    result
}

/// Answers each write of a settled batch: an accept with its event (new, or a duplicate
/// when the id was stored before), a completion through its callback, a flush. A failed
/// completion leaves its employee refused until it resumes.
fn answer(
    ops: Vec<Queued>,
    outcome: Result<HashSet<String>, Arc<StoreError>>,
    poisoned: &DashSet<EmployeeId>,
) {
    let mut inserted = match &outcome {
        Ok(ids) => ids.clone(),
        Err(_) => HashSet::new(),
    };
    for q in ops {
        match q.op {
            Op::Accept(e, reply) => {
                let _ = reply.send(match &outcome {
                    Ok(_) => Ok(Accepted {
                        event_id: e.id,
                        duplicate: !inserted.remove(&e.id.to_string()),
                    }),
                    Err(err) => Err(err.clone()),
                });
            }
            Op::Complete(c, _, on_commit) => {
                if outcome.is_err() {
                    poisoned.insert(c.employee);
                }
                if let Some(f) = on_commit {
                    f(outcome.as_ref().map(|_| ()).map_err(Arc::clone));
                }
            }
            Op::Flush(reply) | Op::FlushOf(_, reply) => {
                let _ = reply.send(());
            }
            Op::Resume(_) => {}
        }
    }
}

/// What a write weighs in a batch: the bytes of the rows it adds (JSON text), counted
/// without serialising.
mod size {
    use super::{Completion, Event, Findable};
    use serde_json::Value as Json;

    /// Bytes `v` takes as JSON text, near enough.
    pub(super) fn json(v: &Json) -> usize {
        match v {
            Json::Null | Json::Bool(_) => 5,
            Json::Number(_) => 24,
            Json::String(s) => s.len() + 2,
            Json::Array(a) => 2 + a.iter().map(|x| json(x) + 1).sum::<usize>(),
            Json::Object(o) => 2 + o.iter().map(|(k, x)| k.len() + 4 + json(x)).sum::<usize>(),
        }
    }

    /// A row's fixed part: ids, tenant, times and the JSON around them.
    const ROW: usize = 256;

    pub(super) fn event(e: &Event) -> usize {
        ROW + e.kind.len()
            + e.source.len()
            + e.idempotency_key.as_deref().map_or(0, str::len)
            + json(&e.payload)
    }

    pub(super) fn completion(c: &Completion, findable: &[Findable]) -> usize {
        let episodes: usize = c
            .episodes
            .iter()
            .zip(findable)
            .map(|(e, f)| {
                ROW + e.summary.len()
                    + json(&e.payload)
                    + f.text.len()
                    + f.terms.len()
                    + f.who.len()
                    + f.sig.as_deref().map_or(0, str::len)
            })
            .sum();
        let approvals: usize = c.approvals.iter().map(|a| ROW + json(&a.action)).sum();
        let actions: usize = c.actions.iter().map(|a| ROW + json(&a.params)).sum();
        ROW + episodes + approvals + actions + c.snapshot.as_ref().map_or(0, |s| 2 * s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_told_apart_from_a_refused_write() {
        let db = |e| WriteError::Store(Arc::new(StoreError::Database(e)));
        assert!(db(sqlx::Error::PoolTimedOut).is_outage());
        assert!(db(sqlx::Error::Io(std::io::Error::other("connection reset"))).is_outage());
        assert!(WriteError::Closed.is_outage());
        // This write is at fault, not the store: it is tried towards parking.
        assert!(!WriteError::Store(Arc::new(StoreError::Refused("failpoint".into()))).is_outage());
        assert!(!db(sqlx::Error::RowNotFound).is_outage());
        assert!(
            !WriteError::TooLarge {
                bytes: 10,
                limit: 1
            }
            .is_outage()
        );
    }
}
