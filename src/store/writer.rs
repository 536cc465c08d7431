//! Group commit: one task owns the write side of the hot path and commits many writes
//! in one transaction.
//!
//! A submitter's write is acknowledged only after the transaction holding it has
//! committed, so "accepted" always means "stored". The queue in front of the task is
//! bounded: when the store falls behind, submitters wait instead of memory growing.

use super::to_micros;
use super::{Store, StoreError, with_pool};
use crate::model::{Approval, EmployeeId, Episode, Event, EventId, OutboxEntry, TenantId};
use serde::Serialize;
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
}

enum Op {
    Accept(Event, oneshot::Sender<Result<Accepted, Arc<StoreError>>>),
    /// A completion and, per episode, what makes it findable (made by the submitter, so
    /// the group committer only writes).
    Complete(Completion, Vec<Findable>),
    Flush(oneshot::Sender<()>),
}

/// Handle to the group-commit task. Cheap to clone.
#[derive(Clone)]
pub struct StoreWriter {
    /// One group committer per shard; an employee's writes always go to the same one,
    /// so they stay in order.
    shards: Arc<[mpsc::Sender<Op>]>,
    embedder: Arc<dyn crate::memory::Embedder>,
}

/// What makes one episode findable: its readable text, full-text terms, participants
/// and (with a local embedder) its vector's sign bits. The vector itself is not
/// stored: the local embedder recomputes it from the text when re-ranking, and a
/// remote provider's arrives later from the background embedder.
pub(crate) struct Findable {
    pub(crate) text: String,
    pub(crate) terms: String,
    /// The participants' names and addresses, as terms.
    pub(crate) who: String,
    pub(crate) sig: Option<String>,
}

impl Findable {
    pub(crate) fn of(
        summary: &str,
        payload: &serde_json::Value,
        embedder: &dyn crate::memory::Embedder,
    ) -> Self {
        let text = crate::memory::text::readable(summary, payload);
        let terms = crate::memory::text::term_string(&text);
        let v = embedder.embed_now(&text);
        Findable {
            who: crate::memory::text::term_string(
                &crate::memory::text::participants(payload).join(" ; "),
            ),
            sig: v
                .as_deref()
                .map(|v| hex(&crate::memory::embed::signature(v))),
            terms,
            text,
        }
    }
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
    /// Starts `shards` group-commit tasks on `store` (SQLite always uses one: it has a
    /// single writer). Each commits one batch at a time; PostgreSQL takes several at once.
    pub fn start(
        store: Store,
        batch_max: usize,
        queue: usize,
        shards: usize,
    ) -> (StoreWriter, tokio::task::JoinHandle<()>) {
        let shards = match store.kind() {
            crate::store::StoreKind::Sqlite => 1,
            crate::store::StoreKind::Postgres => shards.max(1),
        };
        let (senders, tasks): (Vec<_>, Vec<_>) = (0..shards)
            .map(|_| {
                let (tx, rx) = mpsc::channel((queue / shards).max(1));
                (tx, tokio::spawn(run(store.clone(), rx, batch_max.max(1))))
            })
            .unzip();
        let embedder = store.embedder().clone();
        let all = tokio::spawn(async move {
            futures::future::join_all(tasks).await;
        });
        (
            StoreWriter {
                shards: senders.into(),
                embedder,
            },
            all,
        )
    }

    fn shard(&self, employee: EmployeeId) -> &mpsc::Sender<Op> {
        let n = self.shards.len();
        &self.shards[(employee.0.as_u128() % n as u128) as usize]
    }

    /// Stores `event` in the inbox; returns once it is committed.
    pub async fn accept(&self, event: Event) -> Result<Accepted, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.shard(event.employee)
            .send(Op::Accept(event, reply))
            .await
            .map_err(|_| WriteError::Closed)?;
        Ok(rx.await.map_err(|_| WriteError::Closed)??)
    }

    /// Queues a completion; it is committed with the next batch.
    pub async fn complete(&self, completion: Completion) -> Result<(), WriteError> {
        let findable = completion
            .episodes
            .iter()
            .map(|e| Findable::of(&e.summary, &e.payload, &*self.embedder))
            .collect();
        self.shard(completion.employee)
            .send(Op::Complete(completion, findable))
            .await
            .map_err(|_| WriteError::Closed)
    }

    /// Returns once everything queued before this call is committed (or failed).
    pub async fn flush(&self) {
        futures::future::join_all(self.shards.iter().map(|tx| async move {
            let (reply, rx) = oneshot::channel();
            if tx.send(Op::Flush(reply)).await.is_ok() {
                let _ = rx.await;
            }
        }))
        .await;
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
        let completions: Vec<(&Completion, &[Findable])> = batch
            .iter()
            .filter_map(|op| {
                if let Op::Complete(c, f) = op {
                    Some((c, f.as_slice()))
                } else {
                    None
                }
            })
            .collect();
        metrics::histogram!("empla_store_batch_size").record(batch.len() as f64);
        let started = std::time::Instant::now();
        let mut result = commit(&store, &accepts, &completions).await;
        tracing::trace!(accepts = accepts.len(), completions = completions.len(), elapsed = ?started.elapsed(), "batch committed");
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
                        Op::Complete(..) => {}
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
            Op::Complete(..) => {}
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

/// The batch statements. Each takes its rows as one JSON array parameter, so the SQL is
/// fixed (prepared once, cached) and a batch of any size costs one bind per statement.
struct BatchSql {
    inbox: &'static str,
    episodes: &'static str,
    /// SQLite only: the full-text rows of the episodes just inserted.
    terms: Option<&'static str>,
    state: &'static str,
    approvals: &'static str,
    outbox: &'static str,
}

const SQLITE_BATCH: BatchSql = BatchSql {
    inbox: "INSERT INTO inbox (tenant, id, employee_id, kind, source, payload, idempotency_key, received_at) \
            SELECT value->>'t', value->>'i', value->>'e', value->>'k', value->>'s', value->'p', value->>'key', value->>'r' \
            FROM jsonb_each($1) WHERE true ON CONFLICT DO NOTHING RETURNING id",
    // SQLite: the writer numbers the episodes itself (it is the only writer), so the
    // index rows need no RETURNING; see `commit`.
    episodes: "INSERT INTO episodes (seq, tenant, id, employee_id, kind, event_id, cause_id, summary, payload, at, channel, text, sig) \
               SELECT value->>'q', value->>'t', value->>'i', value->>'e', value->>'k', value->>'ev', value->>'c', value->>'s', value->'p', value->>'a', \
               value->>'ch', value->>'x', unhex(value->>'g') \
               FROM jsonb_each($1) WHERE true ON CONFLICT DO NOTHING",
    terms: Some(
        "INSERT INTO episodes_fts (rowid, terms, who) SELECT value->>'r', value->>'w', value->>'p' FROM jsonb_each($1)",
    ),
    state: "INSERT INTO employee_state (tenant, employee_id, snapshot, updated_at, wake_at) \
            SELECT value->>'t', value->>'e', unhex(value->>'s'), $2, value->>'w' FROM jsonb_each($1) WHERE true \
            ON CONFLICT (tenant, employee_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at, wake_at = excluded.wake_at",
    approvals: "INSERT INTO approvals (tenant, id, employee_id, status, action, reason, created_at) \
                SELECT value->>'t', value->>'i', value->>'e', 'pending', value->'a', value->>'r', value->>'c' \
                FROM jsonb_each($1) WHERE true ON CONFLICT DO NOTHING",
    outbox: "INSERT INTO outbox (tenant, id, employee_id, action_id, kind, params, status, created_at) \
             SELECT value->>'t', value->>'i', value->>'e', value->>'n', value->>'k', value->'p', 'pending', $2 \
             FROM jsonb_each($1) WHERE true ON CONFLICT DO NOTHING",
};

const POSTGRES_BATCH: BatchSql = BatchSql {
    inbox: "INSERT INTO inbox (tenant, id, employee_id, kind, source, payload, idempotency_key, received_at) \
            SELECT x->>'t', x->>'i', x->>'e', x->>'k', x->>'s', (x->'p')::text, x->>'key', (x->>'r')::bigint \
            FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n \
            ON CONFLICT DO NOTHING RETURNING id",
    episodes: "INSERT INTO episodes (tenant, id, employee_id, kind, event_id, cause_id, summary, payload, at, channel, text, terms, sig) \
               SELECT x->>'t', x->>'i', x->>'e', x->>'k', x->>'ev', x->>'c', x->>'s', (x->'p')::text, (x->>'a')::bigint, \
               x->>'ch', x->>'x', to_tsvector('simple', coalesce(x->>'w', '')) || setweight(to_tsvector('simple', coalesce(x->>'wp', '')), 'A'), \
               decode(x->>'g', 'hex') \
               FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n \
               ON CONFLICT DO NOTHING",
    terms: None,
    state: "INSERT INTO employee_state (tenant, employee_id, snapshot, updated_at, wake_at) \
            SELECT x->>'t', x->>'e', decode(x->>'s', 'hex'), $2, (x->>'w')::bigint FROM jsonb_array_elements($1::jsonb) AS a(x) \
            ON CONFLICT (tenant, employee_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at, wake_at = excluded.wake_at",
    approvals: "INSERT INTO approvals (tenant, id, employee_id, status, action, reason, created_at) \
                SELECT x->>'t', x->>'i', x->>'e', 'pending', (x->'a')::text, x->>'r', (x->>'c')::bigint \
                FROM jsonb_array_elements($1::jsonb) AS a(x) ON CONFLICT DO NOTHING",
    outbox: "INSERT INTO outbox (tenant, id, employee_id, action_id, kind, params, status, created_at) \
             SELECT x->>'t', x->>'i', x->>'e', (x->>'n')::bigint, x->>'k', (x->'p')::text, 'pending', $2 \
             FROM jsonb_array_elements($1::jsonb) AS a(x) ON CONFLICT DO NOTHING",
};

/// Marks processed the events listed in the JSON array `$2` of `{"t": tenant, "i": id}`.
const SQLITE_PROCESSED: &str = "UPDATE inbox SET processed_at = $1 \
    WHERE processed_at IS NULL AND (tenant, id) IN (SELECT value->>'t', value->>'i' FROM jsonb_each($2))";
const POSTGRES_PROCESSED: &str = "UPDATE inbox SET processed_at = $1 \
    FROM jsonb_array_elements($2::jsonb) AS a(x) \
    WHERE inbox.tenant = x->>'t' AND inbox.id = x->>'i' AND inbox.processed_at IS NULL";

#[derive(Serialize)]
struct InboxRow<'a> {
    t: &'a str,
    i: EventId,
    e: EmployeeId,
    k: &'a str,
    s: &'a str,
    p: &'a serde_json::Value,
    key: Option<&'a str>,
    r: i64,
}

#[derive(Serialize)]
struct EpisodeRow<'a> {
    /// The sequence number (SQLite: assigned by the writer).
    #[serde(skip_serializing_if = "Option::is_none")]
    q: Option<i64>,
    t: &'a str,
    i: crate::model::EpisodeId,
    e: EmployeeId,
    k: &'static str,
    ev: Option<EventId>,
    c: Option<crate::model::EpisodeId>,
    s: &'a str,
    p: &'a serde_json::Value,
    a: i64,
    ch: Option<&'a str>,
    x: &'a str,
    /// The terms, for PostgreSQL's tsvector (SQLite indexes them separately).
    #[serde(skip_serializing_if = "str::is_empty")]
    w: &'a str,
    /// The participants' terms, for PostgreSQL's tsvector.
    #[serde(skip_serializing_if = "str::is_empty")]
    wp: &'a str,
    g: Option<&'a str>,
}

#[derive(Serialize)]
struct TermsRow<'a> {
    r: i64,
    w: &'a str,
    p: &'a str,
}

#[derive(Serialize)]
struct ApprovalRow<'a> {
    t: &'a str,
    i: crate::model::ApprovalId,
    e: EmployeeId,
    a: &'a serde_json::Value,
    r: &'a str,
    c: i64,
}

#[derive(Serialize)]
struct OutboxRow<'a> {
    t: &'a str,
    i: &'a str,
    e: EmployeeId,
    n: u64,
    k: &'a str,
    p: &'a serde_json::Value,
}

#[derive(Serialize)]
struct ProcessedRow<'a> {
    t: &'a str,
    i: EventId,
}

#[derive(Serialize)]
struct StateRow<'a> {
    t: &'a str,
    e: EmployeeId,
    s: String,
    w: Option<i64>,
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

fn to_json<T: Serialize>(rows: &[T]) -> String {
    serde_json::to_string(rows).expect("batch rows serialise")
}

/// SQLite's full-text rows of the episodes the store took (a duplicate episode id was
/// not inserted and is not indexed again).
fn findable_rows<'a>(
    episodes: &[EpisodeRow<'a>],
    findable: &[&'a Findable],
    stored: &[(i64, String)],
) -> Vec<TermsRow<'a>> {
    let mut seq_of: HashMap<&str, i64> = stored.iter().map(|(s, id)| (id.as_str(), *s)).collect();
    let mut terms = Vec::with_capacity(stored.len());
    let mut id_buf = uuid::Uuid::encode_buffer();
    for (ep, f) in episodes.iter().zip(findable) {
        let id: &str = ep.i.0.as_hyphenated().encode_lower(&mut id_buf);
        let Some(seq) = seq_of.remove(id) else {
            continue;
        };
        terms.push(TermsRow {
            r: seq,
            w: &f.terms,
            p: &f.who,
        });
    }
    terms
}

/// Commits one batch in one transaction; returns the ids of the events newly inserted.
async fn commit(
    store: &Store,
    accepts: &[&Event],
    completions: &[(&Completion, &[Findable])],
) -> Result<HashSet<String>, StoreError> {
    let now = to_micros(chrono::Utc::now());
    let inbox: Vec<InboxRow> = accepts
        .iter()
        .map(|e| InboxRow {
            t: e.tenant.as_str(),
            i: e.id,
            e: e.employee,
            k: &e.kind,
            s: &e.source,
            p: &e.payload,
            key: e.idempotency_key.as_deref(),
            r: to_micros(e.received_at),
        })
        .collect();
    let sqlite = store.kind() == crate::store::StoreKind::Sqlite;
    let findable: Vec<&Findable> = completions.iter().flat_map(|(_, f)| f.iter()).collect();
    let mut episodes: Vec<EpisodeRow> = completions
        .iter()
        .flat_map(|(c, _)| c.episodes.iter())
        .zip(&findable)
        .map(|(ep, f)| EpisodeRow {
            q: None,
            t: ep.tenant.as_str(),
            i: ep.id,
            e: ep.employee_id,
            k: ep.kind.as_str(),
            ev: ep.event_id,
            c: ep.cause_id,
            s: &ep.summary,
            p: &ep.payload,
            a: to_micros(ep.at),
            ch: ep.channel.as_deref(),
            x: &f.text,
            w: if sqlite { "" } else { &f.terms },
            wp: if sqlite { "" } else { &f.who },
            g: f.sig.as_deref(),
        })
        .collect();
    let processed: Vec<ProcessedRow> = completions
        .iter()
        .filter_map(|(c, _)| {
            Some(ProcessedRow {
                t: c.tenant.as_str(),
                i: c.event_id?,
            })
        })
        .collect();
    let approvals: Vec<ApprovalRow> = completions
        .iter()
        .flat_map(|(c, _)| c.approvals.iter().map(move |a| (c, a)))
        .map(|(c, a)| ApprovalRow {
            t: c.tenant.as_str(),
            i: a.id,
            e: a.employee_id,
            a: &a.action,
            r: &a.reason,
            c: to_micros(a.created_at),
        })
        .collect();
    let outbox: Vec<OutboxRow> = completions
        .iter()
        .flat_map(|(c, _)| c.actions.iter().map(move |a| (c, a)))
        .map(|(c, a)| OutboxRow {
            t: c.tenant.as_str(),
            i: &a.key,
            e: a.employee_id,
            n: a.action_id,
            k: &a.kind,
            p: &a.params,
        })
        .collect();
    // The last snapshot of each employee in the batch wins.
    // (tenant, employee) → (snapshot, wake_at)
    type Latest<'a> = HashMap<(&'a str, EmployeeId), (&'a [u8], Option<i64>)>;
    let mut latest: Latest = HashMap::new();
    for (c, _) in completions {
        if let Some(s) = &c.snapshot {
            latest.insert(
                (c.tenant.as_str(), c.employee),
                (s, c.wake_at.map(to_micros)),
            );
        }
    }
    let states: Vec<StateRow> = latest
        .into_iter()
        .map(|((t, e), (s, w))| StateRow { t, e, s: hex(s), w })
        .collect();
    let (sql, processed_sql) = match store.kind() {
        crate::store::StoreKind::Sqlite => (&SQLITE_BATCH, SQLITE_PROCESSED),
        crate::store::StoreKind::Postgres => (&POSTGRES_BATCH, POSTGRES_PROCESSED),
    };

    let inserted = with_pool!(store, write, |pool| {
        let mut tx = pool.begin().await?;
        let mut inserted = HashSet::new();
        if !inbox.is_empty() {
            let rows: Vec<(String,)> = sqlx::query_as(sql.inbox)
                .bind(to_json(&inbox))
                .fetch_all(&mut *tx)
                .await?;
            inserted.extend(rows.into_iter().map(|(id,)| id));
        }
        if !episodes.is_empty() && sqlite {
            // Numbered after the largest number ever given (AUTOINCREMENT's record),
            // inside the transaction of the only writer, so commit order is number order
            // (the similarity index catches up by number) and the full-text rows need no
            // read-back.
            let last: i64 = sqlx::query_scalar(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'episodes'), 0)",
            )
            .fetch_one(&mut *tx)
            .await?;
            for (n, e) in episodes.iter_mut().enumerate() {
                e.q = Some(last + 1 + n as i64);
            }
            let done = sqlx::query(sql.episodes)
                .bind(to_json(&episodes))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let stored: Vec<(i64, String)> = if done as usize == episodes.len() {
                episodes
                    .iter()
                    .map(|e| (e.q.unwrap_or_default(), e.i.to_string()))
                    .collect()
            } else {
                // An id stored before was skipped: index only what went in.
                sqlx::query_as("SELECT seq, id FROM episodes WHERE seq > $1 AND seq <= $2")
                    .bind(last)
                    .bind(last + episodes.len() as i64)
                    .fetch_all(&mut *tx)
                    .await?
            };
            let terms = findable_rows(&episodes, &findable, &stored);
            if let Some(terms_sql) = sql.terms
                && !terms.is_empty()
            {
                sqlx::query(terms_sql)
                    .bind(to_json(&terms))
                    .execute(&mut *tx)
                    .await?;
            }
        } else if !episodes.is_empty() {
            sqlx::query(sql.episodes)
                .bind(to_json(&episodes))
                .execute(&mut *tx)
                .await?;
        }
        if !processed.is_empty() {
            sqlx::query(processed_sql)
                .bind(now)
                .bind(to_json(&processed))
                .execute(&mut *tx)
                .await?;
        }
        if !approvals.is_empty() {
            sqlx::query(sql.approvals)
                .bind(to_json(&approvals))
                .execute(&mut *tx)
                .await?;
        }
        if !outbox.is_empty() {
            sqlx::query(sql.outbox)
                .bind(to_json(&outbox))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        if !states.is_empty() {
            sqlx::query(sql.state)
                .bind(to_json(&states))
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(inserted)
    })?;
    Ok(inserted)
}

impl Store {
    /// Records episodes outside an event's handling (a day's summary), indexed as the
    /// group committer indexes them; an episode whose id is stored already is skipped.
    pub(crate) async fn record_episodes(&self, episodes: Vec<Episode>) -> Result<(), StoreError> {
        let Some(first) = episodes.first() else {
            return Ok(());
        };
        let c = Completion {
            tenant: first.tenant.clone(),
            employee: first.employee_id,
            event_id: None,
            episodes,
            snapshot: None,
            wake_at: None,
            approvals: Vec::new(),
            actions: Vec::new(),
        };
        let findable: Vec<Findable> = c
            .episodes
            .iter()
            .map(|e| Findable::of(&e.summary, &e.payload, &**self.embedder()))
            .collect();
        commit(self, &[], &[(&c, &findable)]).await.map(|_| ())
    }
}
