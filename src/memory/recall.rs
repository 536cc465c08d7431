//! Recall: finding memories by full text, participant, time, similarity and cause
//! (hybrid retrieval, which adds the knowledge graph, is in `hybrid.rs`). Every query is
//! bounded: text matches are ranked among the newest [`WINDOW`] that match, and every
//! answer is paged with a limit and an offset.

use super::text;
use super::vectors::Shelf;
use crate::model::{EmployeeId, TenantId};
use crate::store::{Store, StoreError, with_pool};
use crate::store::{from_micros, to_micros};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Matching memories ranked per query: the newest this many that match.
pub(crate) const WINDOW: i64 = 256;

/// Who is asking: an employee, seeing its own episodes and the knowledge and facts
/// visible to it (its own, its team's, the company's).
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The employee.
    pub employee: EmployeeId,
    /// Its team.
    pub team: String,
}

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Full text: every keyword must match.
    Text,
    /// Similarity of embeddings.
    Vector,
    /// Full text, vectors and the knowledge graph, fused.
    #[default]
    Hybrid,
}

impl Mode {
    /// Parses `text`, `vector` or `hybrid`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "text" => Some(Mode::Text),
            "vector" => Some(Mode::Vector),
            "hybrid" => Some(Mode::Hybrid),
            _ => None,
        }
    }
}

/// A recall query.
#[derive(Debug, Clone, Default)]
pub struct Recall {
    /// What to look for; empty lists by the other filters, newest first.
    pub q: String,
    /// Only memories at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only memories before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only episodes involving this person (name or address).
    pub with: Option<String>,
    /// How to search.
    pub mode: Mode,
    /// Most items answered.
    pub limit: usize,
    /// Items skipped first (paging).
    pub offset: usize,
}

/// Where a result was found.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Full-text search.
    Text,
    /// Similarity of embeddings.
    Vector,
    /// The knowledge graph.
    Graph,
    /// The employee's correspondence with the people the query names.
    People,
}

impl Source {
    /// The name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Text => "text",
            Source::Vector => "vector",
            Source::Graph => "graph",
            Source::People => "people",
        }
    }
}

/// One recalled memory.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Item {
    /// Episode, knowledge chunk or fact id.
    pub id: String,
    /// `event`, `decision`, `action`, `outcome`, `summary`, `knowledge` or `fact`.
    pub kind: String,
    /// Its text.
    pub text: String,
    /// Relevance: BM25 (text), cosine similarity (vector) or fused rank (hybrid).
    pub score: f64,
    /// Where it was found.
    pub sources: Vec<Source>,
    /// When it happened or was learnt.
    pub at: DateTime<Utc>,
}

/// A candidate before ranking.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Hit {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) text: String,
    pub(crate) at: i64,
}

/// A candidate with its stored vector.
#[derive(sqlx::FromRow)]
struct VecHit {
    #[sqlx(flatten)]
    hit: Hit,
    vec: Option<Vec<u8>>,
}

/// Filters on episodes, as bound parameters.
pub(super) struct Filters {
    pub(super) from: i64,
    pub(super) to: i64,
    /// The participant, as a full-text expression on the participants' terms (a phrase
    /// in SQLite's `who` column, A-weighted lexemes in PostgreSQL's tsvector).
    pub(super) with: Option<String>,
}

impl Filters {
    fn of(r: &Recall, kind: crate::store::StoreKind) -> Self {
        let with = r.with.as_deref().and_then(|w| Filters::who(w, kind));
        Filters {
            from: r.from.map(to_micros).unwrap_or(i64::MIN),
            to: r.to.map(to_micros).unwrap_or(i64::MAX),
            with,
        }
    }
}

impl Filters {
    /// The full-text expression finding episodes that involve `person` (a name or an
    /// address), for `with`; none when it has no terms.
    pub(super) fn who(person: &str, kind: crate::store::StoreKind) -> Option<String> {
        let w = text::term_string(&text::person_key(person));
        if w.is_empty() {
            return None;
        }
        Some(match kind {
            crate::store::StoreKind::Sqlite => format!("who : \"{w}\""),
            crate::store::StoreKind::Postgres => w
                .split(' ')
                .map(|t| format!("{t}:A"))
                .collect::<Vec<_>>()
                .join(" <-> "),
        })
    }
}

/// Knowledge and facts an employee may see.
macro_rules! visible {
    ($e:literal, $t:literal) => {
        concat!(
            "(visibility = 'company' OR (visibility = 'team' AND team = ",
            $t,
            ") OR owner = ",
            $e,
            ")"
        )
    };
}
pub(crate) use visible;

/// The filters on episodes: tenant `$2`, employee `$3`, time from `$4` to `$5`, and the
/// participant `$6` (a full-text expression on the participants' terms, or null).
macro_rules! episode_filters {
    (sqlite) => {
        "e.tenant = $2 AND e.employee_id = $3 AND e.at >= $4 AND e.at < $5 \
         AND (CAST($6 AS TEXT) IS NULL OR e.seq IN (SELECT rowid FROM episodes_fts WHERE episodes_fts MATCH $6))"
    };
    (postgres) => {
        "e.tenant = $2 AND e.employee_id = $3 AND e.at >= $4 AND e.at < $5 \
         AND (CAST($6 AS TEXT) IS NULL OR e.terms @@ to_tsquery('simple', $6))"
    };
}
pub(super) use episode_filters;

const SQLITE_EPISODES_TEXT: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at FROM episodes_fts CROSS JOIN episodes e ON e.seq = episodes_fts.rowid \
     WHERE episodes_fts MATCH $1 AND ",
    episode_filters!(sqlite),
    " ORDER BY episodes_fts.rowid DESC LIMIT $7"
);
const PG_EPISODES_TEXT: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at FROM episodes e WHERE e.terms @@ to_tsquery('simple', $1) AND ",
    episode_filters!(postgres),
    " ORDER BY e.seq DESC LIMIT $7"
);
/// Episodes by the filters alone, newest first (in the order recorded: an index on
/// time would cost every write more than it saves these reads). With a participant,
/// `$1` is the same expression as `$6`, so the full-text index drives.
const SQLITE_EPISODES_LISTED: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at FROM episodes e WHERE CAST($1 AS TEXT) IS NULL AND ",
    episode_filters!(sqlite),
    " ORDER BY e.seq DESC LIMIT $7 OFFSET $8"
);
const SQLITE_EPISODES_WITH: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at FROM episodes_fts CROSS JOIN episodes e ON e.seq = episodes_fts.rowid \
     WHERE episodes_fts MATCH $1 AND ",
    episode_filters!(sqlite),
    " ORDER BY episodes_fts.rowid DESC LIMIT $7 OFFSET $8"
);
const PG_EPISODES_LISTED: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at FROM episodes e WHERE (CAST($1 AS TEXT) IS NULL OR e.terms @@ to_tsquery('simple', $1)) AND ",
    episode_filters!(postgres),
    " ORDER BY e.seq DESC LIMIT $7 OFFSET $8"
);
const SQLITE_EPISODES_BY_SEQ: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at, e.vec FROM json_each($1) j CROSS JOIN episodes e ON e.seq = j.value \
     WHERE ",
    episode_filters!(sqlite)
);
const PG_EPISODES_BY_SEQ: &str = concat!(
    "SELECT e.seq, e.id, e.kind, e.text, e.at, e.vec FROM jsonb_array_elements_text($1::jsonb) AS j(v) \
     JOIN episodes e ON e.seq = j.v::bigint WHERE ",
    episode_filters!(postgres)
);

macro_rules! knowledge_filters {
    () => {
        concat!(
            "k.tenant = $2 AND k.at >= $5 AND k.at < $6 AND ",
            visible!("$3", "$4")
        )
    };
}
const SQLITE_KNOWLEDGE_TEXT: &str = concat!(
    "SELECT k.seq, k.id, 'knowledge' AS kind, k.text, k.at FROM knowledge_fts CROSS JOIN knowledge k ON k.seq = knowledge_fts.rowid \
     WHERE knowledge_fts MATCH $1 AND ",
    knowledge_filters!(),
    " ORDER BY knowledge_fts.rowid DESC LIMIT $7"
);
const PG_KNOWLEDGE_TEXT: &str = concat!(
    "SELECT k.seq, k.id, 'knowledge' AS kind, k.text, k.at FROM knowledge k WHERE k.terms @@ to_tsquery('simple', $1) AND ",
    knowledge_filters!(),
    " ORDER BY k.seq DESC LIMIT $7"
);
const SQLITE_KNOWLEDGE_BY_SEQ: &str = concat!(
    "SELECT k.seq, k.id, 'knowledge' AS kind, k.text, k.at, k.vec FROM json_each($1) j CROSS JOIN knowledge k ON k.seq = j.value \
     WHERE ",
    knowledge_filters!()
);
const PG_KNOWLEDGE_BY_SEQ: &str = concat!(
    "SELECT k.seq, k.id, 'knowledge' AS kind, k.text, k.at, k.vec FROM jsonb_array_elements_text($1::jsonb) AS j(v) \
     JOIN knowledge k ON k.seq = j.v::bigint WHERE ",
    knowledge_filters!()
);

/// Which full-text expression to run.
#[derive(Clone, Copy)]
pub(super) enum Match<'a> {
    /// Every one of the terms.
    All(&'a [String]),
    /// Any of the terms.
    Any(&'a [String]),
    /// Any of the phrases, and any of the terms.
    PhrasesAndAny(&'a [String], &'a [String]),
}

impl Match<'_> {
    fn fts5(self) -> String {
        match self {
            Match::All(t) => text::fts5_query(t, true),
            Match::Any(t) => text::fts5_query(t, false),
            Match::PhrasesAndAny(p, t) => format!(
                "({}) AND ({})",
                text::fts5_query(p, false),
                text::fts5_query(t, false)
            ),
        }
    }

    fn tsquery(self) -> String {
        let phrase = |p: &String| p.split(' ').collect::<Vec<_>>().join(" <-> ");
        match self {
            Match::All(t) => text::tsquery(t, true),
            Match::Any(t) => text::tsquery(t, false),
            Match::PhrasesAndAny(p, t) => format!(
                "({}) & ({})",
                p.iter().map(phrase).collect::<Vec<_>>().join(" | "),
                text::tsquery(t, false)
            ),
        }
    }
}

impl Store {
    /// Recalls what `viewer` remembers about `r`, best first.
    pub async fn recall(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        r: &Recall,
    ) -> Result<Vec<Item>, StoreError> {
        let f = Filters::of(r, self.kind());
        let q = text::decompose(&r.q);
        if q.keywords.is_empty() {
            let hits = self.listed(tenant, viewer, &f, r.limit, r.offset).await?;
            return Ok(hits.into_iter().map(|h| item(h, 1.0, &[])).collect());
        }
        let mut ranked = match r.mode {
            Mode::Text => self
                .ranked_text(tenant, viewer, &f, &q.keywords)
                .await?
                .into_iter()
                .map(|(h, s)| item(h, s, &[Source::Text]))
                .collect(),
            Mode::Vector => self
                .vector_hits(tenant, viewer, &f, &r.q, r.offset + r.limit)
                .await?
                .into_iter()
                .map(|(h, s)| item(h, s as f64, &[Source::Vector]))
                .collect(),
            Mode::Hybrid => self.hybrid(tenant, viewer, &f, r, &q).await?,
        };
        let end = (r.offset + r.limit).min(ranked.len());
        Ok(if r.offset >= end {
            Vec::new()
        } else {
            ranked.drain(r.offset..end).collect()
        })
    }

    /// Episodes (and knowledge, unless a participant is asked for) matching `m`.
    pub(super) async fn text_hits(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        f: &Filters,
        m: Match<'_>,
    ) -> Result<Vec<Hit>, StoreError> {
        let (expr, ep_sql, kn_sql) = match self.kind() {
            crate::store::StoreKind::Sqlite => {
                (m.fts5(), SQLITE_EPISODES_TEXT, SQLITE_KNOWLEDGE_TEXT)
            }
            crate::store::StoreKind::Postgres => (m.tsquery(), PG_EPISODES_TEXT, PG_KNOWLEDGE_TEXT),
        };
        let mut hits: Vec<Hit> = with_pool!(self, read, |pool| {
            sqlx::query_as(ep_sql)
                .bind(&expr)
                .bind(tenant.as_str())
                .bind(viewer.employee.to_string())
                .bind(f.from)
                .bind(f.to)
                .bind(f.with.as_deref())
                .bind(WINDOW)
                .fetch_all(pool)
                .await?
        });
        if f.with.is_none() {
            let knowledge: Vec<Hit> = with_pool!(self, read, |pool| {
                sqlx::query_as(kn_sql)
                    .bind(&expr)
                    .bind(tenant.as_str())
                    .bind(viewer.employee.to_string())
                    .bind(&viewer.team)
                    .bind(f.from)
                    .bind(f.to)
                    .bind(WINDOW)
                    .fetch_all(pool)
                    .await?
            });
            hits.extend(knowledge);
        }
        Ok(hits)
    }

    /// Episodes by the filters alone, newest first.
    async fn listed(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        f: &Filters,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Hit>, StoreError> {
        let sql = match (self.kind(), f.with.is_some()) {
            (crate::store::StoreKind::Sqlite, true) => SQLITE_EPISODES_WITH,
            (crate::store::StoreKind::Sqlite, false) => SQLITE_EPISODES_LISTED,
            (crate::store::StoreKind::Postgres, _) => PG_EPISODES_LISTED,
        };
        Ok(with_pool!(self, read, |pool| {
            sqlx::query_as(sql)
                .bind(f.with.as_deref())
                .bind(tenant.as_str())
                .bind(viewer.employee.to_string())
                .bind(f.from)
                .bind(f.to)
                .bind(f.with.as_deref())
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The memories closest to `q` by embedding, with their cosine similarity.
    pub(super) async fn vector_hits(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        f: &Filters,
        q: &str,
        n: usize,
    ) -> Result<Vec<(Hit, f32)>, StoreError> {
        let embedder = self.embedder().clone();
        let query = match embedder.embed_now(q) {
            Some(v) => v,
            None => embedder
                .embed(&[q.to_string()])
                .await
                .map_err(|e| StoreError::Embedder(e.to_string()))?
                .remove(0),
        };
        // Four candidates by sign bits for every result, re-ranked exactly.
        let candidates = (n * 4).max(64);
        let seqs = self
            .nearest_signatures(tenant, Shelf::Episodes(viewer.employee), &query, candidates)
            .await?;
        let (ep_sql, kn_sql) = match self.kind() {
            crate::store::StoreKind::Sqlite => (SQLITE_EPISODES_BY_SEQ, SQLITE_KNOWLEDGE_BY_SEQ),
            crate::store::StoreKind::Postgres => (PG_EPISODES_BY_SEQ, PG_KNOWLEDGE_BY_SEQ),
        };
        let mut hits: Vec<VecHit> = with_pool!(self, read, |pool| {
            sqlx::query_as(ep_sql)
                .bind(serde_json::to_string(&seqs).expect("numbers serialise"))
                .bind(tenant.as_str())
                .bind(viewer.employee.to_string())
                .bind(f.from)
                .bind(f.to)
                .bind(f.with.as_deref())
                .fetch_all(pool)
                .await?
        });
        if f.with.is_none() {
            let seqs = self
                .nearest_signatures(tenant, Shelf::Knowledge, &query, candidates)
                .await?;
            let knowledge: Vec<VecHit> = with_pool!(self, read, |pool| {
                sqlx::query_as(kn_sql)
                    .bind(serde_json::to_string(&seqs).expect("numbers serialise"))
                    .bind(tenant.as_str())
                    .bind(viewer.employee.to_string())
                    .bind(&viewer.team)
                    .bind(f.from)
                    .bind(f.to)
                    .fetch_all(pool)
                    .await?
            });
            hits.extend(knowledge);
        }
        // Stored vectors (a remote provider's), or recomputed from the text (the local
        // embedder's, exact and cheaper than storing them).
        let mut scored: Vec<(Hit, f32)> = hits
            .into_iter()
            .filter_map(|h| {
                let s = match h.vec.as_deref() {
                    Some(v) => super::embed::cosine(&query, v),
                    None => {
                        let v = embedder.embed_now(&h.hit.text)?;
                        query.iter().zip(&v).map(|(a, b)| a * b).sum()
                    }
                };
                Some((h.hit, s))
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.at.cmp(&a.0.at)));
        scored.truncate(n);
        Ok(scored)
    }

    /// Text candidates for `terms`, ranked by BM25: those matching every term and
    /// those matching any (each the newest [`WINDOW`]), so a memory holding all the
    /// terms is never crowded out by newer ones holding one.
    pub(super) async fn ranked_text(
        &self,
        tenant: &TenantId,
        viewer: &Viewer,
        f: &Filters,
        terms: &[String],
    ) -> Result<Vec<(Hit, f64)>, StoreError> {
        let mut hits = self.text_hits(tenant, viewer, f, Match::All(terms)).await?;
        // A full window of memories holding every term outranks any holding fewer.
        if terms.len() > 1 && hits.len() < WINDOW as usize {
            let mut seen: std::collections::HashSet<(String, String)> = hits
                .iter()
                .map(|h| (h.kind.clone(), h.id.clone()))
                .collect();
            for h in self.text_hits(tenant, viewer, f, Match::Any(terms)).await? {
                if seen.insert((h.kind.clone(), h.id.clone())) {
                    hits.push(h);
                }
            }
        }
        Ok(rank_text(hits, terms))
    }
}

/// Ranks text candidates by BM25 over the candidate set, newest first on ties.
pub(super) fn rank_text(hits: Vec<Hit>, keywords: &[String]) -> Vec<(Hit, f64)> {
    let n = hits.len();
    // Each text is tokenised once: keyword frequencies and length.
    let counts: Vec<(Vec<usize>, usize)> = hits
        .iter()
        .map(|h| {
            let mut tf = vec![0; keywords.len()];
            let mut len = 0;
            for t in text::terms(&h.text) {
                len += 1;
                if let Some(i) = keywords.iter().position(|k| *k == t) {
                    tf[i] += 1;
                }
            }
            (tf, len)
        })
        .collect();
    let df: Vec<usize> = (0..keywords.len())
        .map(|i| counts.iter().filter(|(tf, _)| tf[i] > 0).count())
        .collect();
    let mut scored: Vec<(Hit, f64)> = hits
        .into_iter()
        .zip(&counts)
        .map(|(h, (tf, len))| (h, text::bm25(tf, *len, &df, n)))
        .collect();
    scored.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.0.at.cmp(&a.0.at))
            .then(b.0.id.cmp(&a.0.id))
    });
    scored
}

pub(super) fn item(h: Hit, score: f64, sources: &[Source]) -> Item {
    let mut sources = sources.to_vec();
    sources.sort();
    Item {
        id: h.id,
        kind: h.kind,
        text: h.text,
        score,
        sources,
        at: from_micros(h.at),
    }
}

const CAUSE_CHAIN: &str = "WITH RECURSIVE chain(id, n) AS (SELECT CAST($3 AS TEXT), 0 \
    UNION ALL SELECT e.cause_id, c.n + 1 FROM chain c JOIN episodes e ON e.tenant = $1 AND e.id = c.id \
    WHERE e.cause_id IS NOT NULL AND c.n < 64) \
    SELECT e.id, e.employee_id, e.kind, e.event_id, e.cause_id, e.channel, e.summary, e.payload, e.at \
    FROM chain c JOIN episodes e ON e.tenant = $1 AND e.id = c.id WHERE e.employee_id = $2 ORDER BY c.n";

impl Store {
    /// "Why did I do this?": the episode and the chain of what caused it, from the
    /// episode back to the event that started it. Empty when the employee has no such
    /// episode.
    pub async fn cause_chain(
        &self,
        tenant: &TenantId,
        employee: EmployeeId,
        episode: crate::model::EpisodeId,
    ) -> Result<Vec<crate::model::Episode>, StoreError> {
        let rows: Vec<crate::store::rows::EpisodeRow> = with_pool!(self, read, |pool| {
            sqlx::query_as(CAUSE_CHAIN)
                .bind(tenant.as_str())
                .bind(employee.to_string())
                .bind(episode.to_string())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(|r| r.into_episode(tenant)).collect()
    }
}
