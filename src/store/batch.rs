//! One batch of the group committer: the rows of what it accepts and completes, and the
//! statements that write them in one transaction. Each statement takes its rows as one
//! JSON array parameter, so the SQL is fixed (prepared once, cached) and a batch of any
//! size costs one bind per statement.
//!
//! Text PostgreSQL cannot hold (NUL) is stored faithfully where it is data: on
//! PostgreSQL a payload travels as its JSON text inside the batch (a string, in which a
//! NUL is the escape `\u0000`, which `jsonb` takes), into a text column, escapes kept;
//! the searchable text derived from it leaves NUL out.

use super::writer::Completion;
use super::{Store, StoreError, to_micros, with_pool};
use crate::model::{EmployeeId, Episode, Event, EventId};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

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
        // PostgreSQL text cannot hold NUL; what is searched is derived from the payload
        // (kept whole), so NUL is left out of it.
        let text = crate::memory::text::readable(summary, payload).replace('\0', "");
        let terms = crate::memory::text::term_string(&text);
        let v = embedder.embed_now(&text);
        Findable {
            who: crate::memory::text::term_string(
                &crate::memory::text::participants(payload)
                    .join(" ; ")
                    .replace('\0', ""),
            ),
            sig: v
                .as_deref()
                .map(|v| hex(&crate::memory::embed::signature(v))),
            terms,
            text,
        }
    }
}

/// Whether the database is busy or briefly out of reach (worth trying again).
pub(super) fn is_transient(e: &sqlx::Error) -> bool {
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
    /// Closes pending approvals whose action will never run (its intention ended).
    withdrawn: &'static str,
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
    withdrawn: "UPDATE approvals SET status = 'rejected', decided_at = w.d, decided_by = w.b, decision_reason = w.r \
                FROM (SELECT value->>'t' AS t, value->>'i' AS i, value->>'r' AS r, value->>'b' AS b, value->>'d' AS d FROM jsonb_each($1)) AS w \
                WHERE approvals.tenant = w.t AND approvals.id = w.i AND approvals.status = 'pending'",
    outbox: "INSERT INTO outbox (tenant, id, employee_id, action_id, kind, params, status, created_at) \
             SELECT value->>'t', value->>'i', value->>'e', value->>'n', value->>'k', value->'p', 'pending', $2 \
             FROM jsonb_each($1) WHERE true ON CONFLICT DO NOTHING",
};

/// [`SQLITE_BATCH`]'s inbox statement in its own transaction, in one statement list.
const SQLITE_ACCEPT_ONLY: &str = "BEGIN IMMEDIATE; \
    INSERT INTO inbox (tenant, id, employee_id, kind, source, payload, idempotency_key, received_at) \
    SELECT value->>'t', value->>'i', value->>'e', value->>'k', value->>'s', value->'p', value->>'key', value->>'r' \
    FROM jsonb_each($1) WHERE true ON CONFLICT DO NOTHING RETURNING id; \
    COMMIT;";

const POSTGRES_BATCH: BatchSql = BatchSql {
    inbox: "INSERT INTO inbox (tenant, id, employee_id, kind, source, payload, idempotency_key, received_at) \
            SELECT x->>'t', x->>'i', x->>'e', x->>'k', x->>'s', x->>'p', x->>'key', (x->>'r')::bigint \
            FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n \
            ON CONFLICT DO NOTHING RETURNING id",
    episodes: "INSERT INTO episodes (tenant, id, employee_id, kind, event_id, cause_id, summary, payload, at, channel, text, terms, sig) \
               SELECT x->>'t', x->>'i', x->>'e', x->>'k', x->>'ev', x->>'c', x->>'s', x->>'p', (x->>'a')::bigint, \
               x->>'ch', x->>'x', to_tsvector('simple', coalesce(x->>'w', '')) || setweight(to_tsvector('simple', coalesce(x->>'wp', '')), 'A'), \
               decode(x->>'g', 'hex') \
               FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(x, n) ORDER BY n \
               ON CONFLICT DO NOTHING",
    terms: None,
    state: "INSERT INTO employee_state (tenant, employee_id, snapshot, updated_at, wake_at) \
            SELECT x->>'t', x->>'e', decode(x->>'s', 'hex'), $2, (x->>'w')::bigint FROM jsonb_array_elements($1::jsonb) AS a(x) \
            ON CONFLICT (tenant, employee_id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at, wake_at = excluded.wake_at",
    approvals: "INSERT INTO approvals (tenant, id, employee_id, status, action, reason, created_at) \
                SELECT x->>'t', x->>'i', x->>'e', 'pending', x->>'a', x->>'r', (x->>'c')::bigint \
                FROM jsonb_array_elements($1::jsonb) AS a(x) ON CONFLICT DO NOTHING",
    withdrawn: "UPDATE approvals SET status = 'rejected', decided_at = w.d, decided_by = w.b, decision_reason = w.r \
                FROM (SELECT x->>'t' AS t, x->>'i' AS i, x->>'r' AS r, x->>'b' AS b, (x->>'d')::bigint AS d \
                FROM jsonb_array_elements($1::jsonb) AS a(x)) AS w \
                WHERE approvals.tenant = w.t AND approvals.id = w.i AND approvals.status = 'pending'",
    outbox: "INSERT INTO outbox (tenant, id, employee_id, action_id, kind, params, status, created_at) \
             SELECT x->>'t', x->>'i', x->>'e', (x->>'n')::bigint, x->>'k', x->>'p', 'pending', $2 \
             FROM jsonb_array_elements($1::jsonb) AS a(x) ON CONFLICT DO NOTHING",
};

/// Marks processed the events listed in the JSON array `$2` of `{"t": tenant, "i": id}`.
const SQLITE_PROCESSED: &str = "UPDATE inbox SET processed_at = $1 \
    WHERE processed_at IS NULL AND (tenant, id) IN (SELECT value->>'t', value->>'i' FROM jsonb_each($2))";
const POSTGRES_PROCESSED: &str = "UPDATE inbox SET processed_at = $1 \
    FROM jsonb_array_elements($2::jsonb) AS a(x) \
    WHERE inbox.tenant = x->>'t' AND inbox.id = x->>'i' AND inbox.processed_at IS NULL";

/// A JSON document in a row: nested as it is for SQLite (`value->'p'` takes its text),
/// its JSON text as a string for PostgreSQL (`x->>'p'`).
enum Doc<'a> {
    Nested(&'a serde_json::Value),
    Text(String),
}

impl<'a> Doc<'a> {
    fn of(v: &'a serde_json::Value, sqlite: bool) -> Self {
        if sqlite {
            Doc::Nested(v)
        } else {
            Doc::Text(v.to_string())
        }
    }
}

impl Serialize for Doc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Nested(v) => v.serialize(s),
            Doc::Text(t) => s.serialize_str(t),
        }
    }
}

#[derive(Serialize)]
struct InboxRow<'a> {
    t: &'a str,
    i: EventId,
    e: EmployeeId,
    k: &'a str,
    s: &'a str,
    p: Doc<'a>,
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
    p: Doc<'a>,
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
    a: Doc<'a>,
    r: &'a str,
    c: i64,
}

#[derive(Serialize)]
struct WithdrawnRow<'a> {
    t: &'a str,
    i: crate::model::ApprovalId,
    r: &'a str,
    b: &'a str,
    d: i64,
}

#[derive(Serialize)]
struct OutboxRow<'a> {
    t: &'a str,
    i: &'a str,
    e: EmployeeId,
    n: u64,
    k: &'a str,
    p: Doc<'a>,
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
pub(super) async fn commit(
    store: &Store,
    accepts: &[&Event],
    completions: &[(&Completion, &[Findable])],
) -> Result<HashSet<String>, StoreError> {
    let now = to_micros(chrono::Utc::now());
    let sqlite = store.kind() == crate::store::StoreKind::Sqlite;
    let inbox: Vec<InboxRow> = accepts
        .iter()
        .map(|e| InboxRow {
            t: e.tenant.as_str(),
            i: e.id,
            e: e.employee,
            k: &e.kind,
            s: &e.source,
            p: Doc::of(&e.payload, sqlite),
            key: e.idempotency_key.as_deref(),
            r: to_micros(e.received_at),
        })
        .collect();
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
            p: Doc::of(&ep.payload, sqlite),
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
        .filter(|(_, a)| a.status == crate::model::ApprovalStatus::Pending)
        .map(|(c, a)| ApprovalRow {
            t: c.tenant.as_str(),
            i: a.id,
            e: a.employee_id,
            a: Doc::of(&a.action, sqlite),
            r: &a.reason,
            c: to_micros(a.created_at),
        })
        .collect();
    // An approval a cycle hands in decided closes the pending one: its action will
    // never run (see `Approval::withdrawn`).
    let withdrawn: Vec<WithdrawnRow> = completions
        .iter()
        .flat_map(|(c, _)| c.approvals.iter().map(move |a| (c, a)))
        .filter(|(_, a)| a.status != crate::model::ApprovalStatus::Pending)
        .map(|(c, a)| WithdrawnRow {
            t: c.tenant.as_str(),
            i: a.id,
            r: a.decision_reason.as_deref().unwrap_or_default(),
            b: a.decided_by.as_deref().unwrap_or_default(),
            d: to_micros(a.decided_at.unwrap_or(a.created_at)),
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
            p: Doc::of(&a.params, sqlite),
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
    // One row per fenced employee of the batch (its completions share a lease).
    let mut fences: Vec<FenceRow> = Vec::new();
    if !sqlite {
        let mut seen = HashSet::new();
        for (c, _) in completions {
            if let Some(f) = &c.fence
                && seen.insert(c.employee)
            {
                fences.push(FenceRow {
                    t: c.tenant.as_str(),
                    e: c.employee,
                    p: f.epoch,
                    o: &f.node,
                });
            }
        }
    }
    let (sql, processed_sql) = match store.kind() {
        crate::store::StoreKind::Sqlite => (&SQLITE_BATCH, SQLITE_PROCESSED),
        crate::store::StoreKind::Postgres => (&POSTGRES_BATCH, POSTGRES_PROCESSED),
    };

    if completions.is_empty()
        && let super::Backend::Sqlite { write, .. } = &store.backend
    {
        return accept_only_sqlite(write, &inbox).await;
    }
    let inserted = with_pool!(store, write, |pool| {
        let mut tx = pool.begin().await?;
        let mut inserted = HashSet::new();
        if !fences.is_empty() {
            // Locked in key order (as renewals lock them) until the commit: a claim
            // waits for it, so nothing lands after the lease moved.
            let current: Vec<(String,)> = sqlx::query_as(FENCE_CHECK)
                .bind(to_json(&fences))
                .fetch_all(&mut *tx)
                .await?;
            let current: HashSet<&str> = current.iter().map(|(e,)| e.as_str()).collect();
            let moved: Vec<EmployeeId> = fences
                .iter()
                .filter(|f| !current.contains(f.e.to_string().as_str()))
                .map(|f| f.e)
                .collect();
            if !moved.is_empty() {
                return Err(StoreError::Fenced(moved));
            }
        }
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
        if !withdrawn.is_empty() {
            sqlx::query(sql.withdrawn)
                .bind(to_json(&withdrawn))
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

/// The fenced employees whose lease is still theirs under the epoch given, locked until
/// the transaction ends. PostgreSQL only: a cluster runs on nothing else.
const FENCE_CHECK: &str = "SELECT l.employee_id FROM leases l \
    JOIN (SELECT x->>'t' AS t, x->>'e' AS e, (x->>'p')::bigint AS p, x->>'o' AS o \
          FROM jsonb_array_elements($1::jsonb) AS a(x)) f \
    ON l.tenant = f.t AND l.employee_id = f.e AND l.epoch = f.p AND l.owner = f.o \
    ORDER BY l.tenant, l.employee_id FOR SHARE OF l";

#[derive(Serialize)]
struct FenceRow<'a> {
    t: &'a str,
    e: EmployeeId,
    p: i64,
    o: &'a str,
}

/// SQLite: a batch of accepts alone is one round trip to the connection's thread —
/// the transaction, the insert and the commit in one statement list — since someone
/// waits on each of them. A failure rolls back.
async fn accept_only_sqlite(
    pool: &sqlx::SqlitePool,
    inbox: &[InboxRow<'_>],
) -> Result<HashSet<String>, StoreError> {
    if inbox.is_empty() {
        return Ok(HashSet::new());
    }
    let mut conn = pool.acquire().await?;
    let rows: Result<Vec<(String,)>, sqlx::Error> = sqlx::query_as(SQLITE_ACCEPT_ONLY)
        .bind(to_json(inbox))
        .fetch_all(&mut *conn)
        .await;
    match rows {
        Ok(rows) => Ok(rows.into_iter().map(|(id,)| id).collect()),
        Err(e) => {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            Err(e.into())
        }
    }
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
            fence: None,
        };
        let findable: Vec<Findable> = c
            .episodes
            .iter()
            .map(|e| Findable::of(&e.summary, &e.payload, &**self.embedder()))
            .collect();
        commit(self, &[], &[(&c, &findable)]).await.map(|_| ())
    }
}
